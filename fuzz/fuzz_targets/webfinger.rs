//! WebFinger issuer discovery (OIDC Discovery 1.0 §2): `WebFingerQuery::new` on the input as
//! user input, `issuer_from_jrd` and `issuer_from_response` on it as a JRD body.
//!
//! Invariants: an accepted identifier normalises to itself again (same resource and host), has
//! no fragment, and its lookup URL is `https://` (or `http://` on loopback) at
//! `/.well-known/webfinger` carrying exactly the resource and the issuer rel; an accepted JRD
//! names an https issuer, and `issuer_from_response` agrees with `issuer_from_jrd`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_core::discovery::webfinger::{
    ISSUER_REL, MAX_JRD_BYTES, WebFingerQuery, issuer_from_jrd,
};
use relier_core::http::HttpResponse;

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = std::str::from_utf8(data)
        && let Ok(q) = WebFingerQuery::new(input)
    {
        assert!(!q.resource().contains('#'));
        assert!(!q.host().is_empty());
        let again = match WebFingerQuery::new(q.resource()) {
            Ok(a) => a,
            Err(e) => panic!("normalised resource {:?} is refused: {e}", q.resource()),
        };
        assert_eq!(again.resource(), q.resource());
        assert_eq!(again.host(), q.host());
        let Ok(url) = url::Url::parse(q.url()) else {
            panic!("lookup URL does not parse: {}", q.url());
        };
        assert!(matches!(url.scheme(), "https" | "http"));
        assert_eq!(url.path(), "/.well-known/webfinger");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            vec![
                ("resource".to_owned(), q.resource().to_owned()),
                ("rel".to_owned(), ISSUER_REL.to_owned()),
            ]
        );
    }

    let direct = issuer_from_jrd(data);
    if let Ok(issuer) = &direct {
        assert!(data.len() <= MAX_JRD_BYTES);
        assert!(issuer.as_str().starts_with("https://"));
    }
    let Ok(q) = WebFingerQuery::new("acct:alice@op.example") else {
        panic!("fixed identifier refused");
    };
    let resp = HttpResponse {
        status: 200,
        content_type: Some("application/jrd+json".into()),
        www_authenticate: None,
        cache_control: None,
        body: data.to_vec(),
    };
    assert_eq!(q.issuer_from_response(&resp).ok(), direct.ok());
});
