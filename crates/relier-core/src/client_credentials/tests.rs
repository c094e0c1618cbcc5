use serde_json::json;

use super::*;
use crate::http::HttpResponse;

fn tokens(expires_in: Option<u64>) -> TokenResponse {
    let body = match expires_in {
        Some(e) => json!({"access_token": "at", "token_type": "Bearer", "expires_in": e}),
        None => json!({"access_token": "at", "token_type": "Bearer"}),
    };
    TokenResponse::from_response(&HttpResponse::json(200, &body.to_string())).unwrap()
}

/// RFC 6749 §4.4.2 example, with RFC 8707 §2's repeated `resource` and RFC 9396 §2.
#[test]
fn form_carries_scope_resources_and_details() {
    let mut req = ClientCredentialsRequest::new(
        vec!["orders:read".into(), "orders:write".into()],
        vec![
            ResourceIndicator::new("https://api.example.com/orders").unwrap(),
            ResourceIndicator::new("https://cal.example.com/").unwrap(),
        ],
    );
    req.authorization_details =
        Some(AuthorizationDetails::new(json!([{"type": "payment_initiation"}])).unwrap());
    let f = req.form().unwrap().encode();
    assert_eq!(
        f,
        "grant_type=client_credentials&scope=orders%3Aread+orders%3Awrite\
         &resource=https%3A%2F%2Fapi.example.com%2Forders&resource=https%3A%2F%2Fcal.example.com%2F\
         &authorization_details=%5B%7B%22type%22%3A%22payment_initiation%22%7D%5D"
    );
    let bare = ClientCredentialsRequest::default().form().unwrap().encode();
    assert_eq!(bare, "grant_type=client_credentials");
}

#[test]
fn refusals() {
    // RFC 8707 §2: absolute, no fragment.
    assert!(ResourceIndicator::new("/relative").is_err());
    assert!(matches!(
        ResourceIndicator::new("https://api.example.com/#frag"),
        Err(InvalidValue::ForbiddenPart { .. })
    ));
    // RFC 9396 §2: an array of objects with a string type.
    assert!(AuthorizationDetails::new(json!({"type": "x"})).is_err());
    assert!(AuthorizationDetails::new(json!([{"kind": "x"}])).is_err());
    assert!(AuthorizationDetails::new(json!([{"type": 1}])).is_err());
    // RFC 6749 §3.3: no space, quote or backslash inside a scope token.
    for bad in ["", "a b", "a\"b", "a\\b", "é"] {
        let req = ClientCredentialsRequest::new(vec!["ok".into(), bad.into()], vec![]);
        assert_eq!(
            req.form().unwrap_err(),
            ClientCredentialsError::InvalidScope { index: 1 },
            "{bad:?}"
        );
    }
    let many = vec![ResourceIndicator::new("https://a.example/").unwrap(); MAX_RESOURCES + 1];
    assert!(matches!(
        ClientCredentialsRequest::new(vec![], many).form(),
        Err(ClientCredentialsError::TooManyResources { .. })
    ));
}

#[test]
fn freshness_counts_the_margin_and_never_reaches_expiry() {
    let t = CachedToken {
        tokens: tokens(Some(600)),
        obtained_at: UnixTime(1000),
    };
    assert_eq!(t.expires_at(), Some(UnixTime(1600)));
    assert!(t.is_fresh(UnixTime(1000), 60, 300));
    assert!(t.is_fresh(UnixTime(1539), 60, 300));
    assert!(!t.is_fresh(UnixTime(1540), 60, 300));
    // A margin of zero still never hands out the token at its expiry second.
    assert!(t.is_fresh(UnixTime(1599), 0, 300));
    assert!(!t.is_fresh(UnixTime(1600), 0, 300));
    assert!(!t.is_fresh(UnixTime(u64::MAX), 0, 300));
    // Without expires_in: the default lifetime.
    let t = CachedToken {
        tokens: tokens(None),
        obtained_at: UnixTime(1000),
    };
    assert_eq!(t.expires_at(), None);
    assert!(t.is_fresh(UnixTime(1239), 60, 300));
    assert!(!t.is_fresh(UnixTime(1240), 60, 300));
}
