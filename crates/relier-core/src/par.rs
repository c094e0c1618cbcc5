//! Pushed Authorization Requests (RFC 9126): the authorization request's parameters go to the
//! OP in a client-authenticated POST instead of through the browser; the browser only carries
//! `client_id` and the `request_uri` the OP returned. The parameters cannot be read or altered
//! on the way, and the OP knows the client is genuine before the user sees a login page (FAPI 2.0
//! requires it).
//!
//! Sans-I/O: [`pushed_request`] builds the form (the driver adds client authentication, as at
//! the token endpoint), [`parse_response`] reads the answer, [`authorization_url`] builds the
//! URL for the browser.

use aws_lc_rs::rand::SecureRandom;
use serde::Deserialize;
use url::Url;

use crate::authorize::{self, AuthorizationParams, AuthorizeError, PendingLogin};
use crate::client_auth::ClientAuth;
use crate::discovery::ProviderMetadata;
use crate::http::{Form, HttpResponse};
use crate::token::{TokenError, error_from_response, parse_json};
use crate::types::{ClientId, RedirectUrl};

const ENDPOINT: &str = "pushed_authorization_request";

/// Longest `request_uri` accepted (it goes into a URL the browser follows).
pub const MAX_REQUEST_URI_BYTES: usize = 2048;

/// RFC 9126 §2.1: the authorization request parameters as a form body, for `auth` to
/// authenticate ([`ClientAuth::request`]). `client_id` appears exactly once: here only when
/// `auth` does not put it in the body itself ([`ClientAuth::puts_client_id_in_body`]).
pub fn pushed_request(
    auth: &ClientAuth,
    redirect_uri: &RedirectUrl,
    params: &AuthorizationParams,
    rng: &dyn SecureRandom,
) -> Result<(Form, PendingLogin), AuthorizeError> {
    let (pairs, pending) =
        authorize::request_parameters(auth.client_id(), redirect_uri, params, rng)?;
    let auth_adds_client_id = auth.puts_client_id_in_body();
    let mut form = Form::new();
    for (k, v) in &pairs {
        if k != "client_id" || !auth_adds_client_id {
            form.push(k, v);
        }
    }
    Ok((form, pending))
}

/// RFC 9126 §2.2: what the OP answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRequest {
    /// The reference to the pushed request, for the authorization URL.
    pub request_uri: String,
    /// How long it is valid, in seconds.
    pub expires_in: u64,
}

#[derive(Deserialize)]
struct Body {
    request_uri: Option<String>,
    #[serde(default, deserialize_with = "crate::token::lenient_u64")]
    expires_in: Option<u64>,
}

/// RFC 9126 §2.2–2.3: `201 Created` with `request_uri` and a positive `expires_in`; an error
/// response is surfaced with its `error` and `error_description`.
pub fn parse_response(resp: &HttpResponse) -> Result<PushedRequest, TokenError> {
    if !resp.is_success() {
        return Err(error_from_response(ENDPOINT, resp));
    }
    // §2.2: "the authorization server MUST return ... HTTP status code 201". Some servers
    // answer 200; the body is what matters.
    let b: Body = parse_json(ENDPOINT, resp)?;
    let invalid = |reason: &str| TokenError::InvalidResponse {
        endpoint: ENDPOINT,
        reason: reason.to_owned(),
    };
    let request_uri = b
        .request_uri
        .filter(|u| !u.is_empty())
        .ok_or_else(|| invalid("request_uri is missing (RFC 9126 §2.2)"))?;
    if request_uri.len() > MAX_REQUEST_URI_BYTES {
        return Err(invalid("request_uri is too long"));
    }
    let expires_in = b.expires_in.filter(|&e| e > 0).ok_or_else(|| {
        invalid("expires_in is missing or not a positive integer (RFC 9126 §2.2)")
    })?;
    Ok(PushedRequest {
        request_uri,
        expires_in,
    })
}

/// RFC 9126 §4: the authorization URL carries only `client_id` and `request_uri`.
pub fn authorization_url(
    metadata: &ProviderMetadata,
    client_id: &ClientId,
    pushed: &PushedRequest,
) -> Result<Url, AuthorizeError> {
    let mut url =
        Url::parse(&metadata.authorization_endpoint).map_err(|_| AuthorizeError::BadEndpoint)?;
    url.query_pairs_mut()
        .append_pair("client_id", client_id.as_str())
        .append_pair("request_uri", &pushed.request_uri);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{IssuerUrl, UnixTime};
    use aws_lc_rs::rand::SystemRandom;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::json(status, body)
    }

    fn pairs_of(body: &[u8]) -> Vec<(String, String)> {
        url::form_urlencoded::parse(body).into_owned().collect()
    }

    #[test]
    fn form_has_the_request_and_pkce_and_client_id_once() {
        let params = AuthorizationParams {
            scopes: vec!["email".into()],
            max_age: Some(60),
            ..Default::default()
        };
        let rng = SystemRandom::new();
        let redirect = RedirectUrl::new("http://127.0.0.1:9/cb").unwrap();
        let iss = IssuerUrl::new("https://op.example.com").unwrap();
        let cid = || ClientId::new("rp").unwrap();
        let secret = || crate::Secret::new("s3cret-s3cret-s3cret-s3cret-s3cret");
        for auth in [
            ClientAuth::client_secret_basic(cid(), secret()),
            ClientAuth::client_secret_post(cid(), secret()),
            ClientAuth::none(cid()),
            ClientAuth::tls_client_auth(cid()),
        ] {
            let (form, _) = pushed_request(&auth, &redirect, &params, &rng).unwrap();
            let req = auth
                .request(&iss, "https://op.example.com/par", form, UnixTime(1), &rng)
                .unwrap();
            let n = pairs_of(&req.body)
                .iter()
                .filter(|(k, _)| k == "client_id")
                .count();
            assert_eq!(n, 1, "{}", auth.method());
        }
        let (form, pending) =
            pushed_request(&ClientAuth::none(cid()), &redirect, &params, &rng).unwrap();
        let pairs = pairs_of(form.encode().as_bytes());
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(get("scope"), Some("openid email"));
        assert_eq!(get("state"), Some(pending.state.expose()));
        assert_eq!(get("nonce"), Some(pending.nonce.expose()));
        assert_eq!(
            get("code_challenge"),
            Some(pending.pkce_verifier.s256_challenge().as_str())
        );
        assert_eq!(get("code_challenge_method"), Some("S256"));
        assert_eq!(get("max_age"), Some("60"));
        // A caller cannot smuggle its own request_uri or request object in.
        let bad = AuthorizationParams {
            extra: vec![("request_uri".into(), "urn:x".into())],
            ..Default::default()
        };
        assert!(matches!(
            pushed_request(&ClientAuth::none(cid()), &redirect, &bad, &rng),
            Err(AuthorizeError::ReservedParameter(_))
        ));
    }

    #[test]
    fn responses() {
        let ok = parse_response(&resp(
            201,
            r#"{"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":60}"#,
        ))
        .unwrap();
        assert_eq!(ok.request_uri, "urn:ietf:params:oauth:request_uri:abc");
        assert_eq!(ok.expires_in, 60);
        // expires_in as a string is tolerated, like at the token endpoint.
        assert!(parse_response(&resp(201, r#"{"request_uri":"urn:x","expires_in":"90"}"#)).is_ok());
        for bad in [
            r#"{"expires_in":60}"#,
            r#"{"request_uri":"","expires_in":60}"#,
            r#"{"request_uri":"urn:x"}"#,
            r#"{"request_uri":"urn:x","expires_in":0}"#,
            r#"["urn:x"]"#,
        ] {
            assert!(
                matches!(
                    parse_response(&resp(201, bad)),
                    Err(TokenError::InvalidResponse { .. })
                ),
                "{bad}"
            );
        }
        let long = format!(
            r#"{{"request_uri":"{}","expires_in":60}}"#,
            "u".repeat(3000)
        );
        assert!(parse_response(&resp(201, &long)).is_err());
        let err = parse_response(&resp(
            400,
            r#"{"error":"invalid_request","error_description":"redirect_uri not registered"}"#,
        ))
        .unwrap_err();
        assert!(
            matches!(&err, TokenError::OAuth { error, status: 400, .. } if error == "invalid_request")
        );
        assert!(
            err.to_string().contains("pushed_authorization_request"),
            "{err}"
        );
    }

    #[test]
    fn url_carries_only_client_id_and_request_uri() {
        let doc = serde_json::json!({
            "issuer": "https://op.example.com",
            "authorization_endpoint": "https://op.example.com/auth?tenant=a",
            "token_endpoint": "https://op.example.com/token",
            "jwks_uri": "https://op.example.com/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        });
        let iss = IssuerUrl::new("https://op.example.com").unwrap();
        let md = ProviderMetadata::from_json(&iss, doc.to_string().as_bytes()).unwrap();
        let url = authorization_url(
            &md,
            &ClientId::new("rp").unwrap(),
            &PushedRequest {
                request_uri: "urn:ietf:params:oauth:request_uri:a&b".into(),
                expires_in: 60,
            },
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://op.example.com/auth?tenant=a&client_id=rp&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aa%26b"
        );
    }
}
