//! Token, introspection, revocation and PAR endpoint responses (RFC 6749 §5.1–5.2, RFC 7662
//! §2.2, RFC 7009 §2.2, RFC 9126 §2.2): `TokenResponse::from_response`,
//! `introspection::parse_introspection` and `par::parse_response` on a 200 and on a 400 answer
//! with the fuzzed body.
//!
//! Invariants: an error status never parses as success; an accepted token response has a
//! non-empty access token; an accepted introspection response has a boolean `active`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_core::http::HttpResponse;
use relier_core::introspection::{parse_introspection, parse_revocation};
use relier_core::token::error_from_response;
use relier_core::{TokenError, TokenResponse};

fuzz_target!(|data: &[u8]| {
    for status in [200u16, 400] {
        let resp = HttpResponse {
            status,
            content_type: Some("application/json".into()),
            www_authenticate: None,
            cache_control: None,
            body: data.to_vec(),
        };
        match TokenResponse::from_response(&resp) {
            Ok(t) => {
                assert!(resp.is_success());
                assert!(!t.access_token.is_empty());
                let _ = format!("{t:?}");
            }
            Err(e) => {
                if !resp.is_success() {
                    assert!(matches!(
                        e,
                        TokenError::OAuth { .. } | TokenError::Status { .. }
                    ));
                }
                let _ = e.to_string();
            }
        }
        match parse_introspection(&resp) {
            Ok(m) => {
                assert!(resp.is_success());
                assert!(m.get("active").is_some_and(serde_json::Value::is_boolean));
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
        assert_eq!(parse_revocation(&resp).is_ok(), status == 200);
        // RFC 9126 §2.2: a pushed request's answer: a non-empty request_uri and expires_in > 0.
        if let Ok(p) = relier_core::par::parse_response(&resp) {
            assert!(resp.is_success());
            assert!(!p.request_uri.is_empty());
            assert!(p.request_uri.len() <= relier_core::par::MAX_REQUEST_URI_BYTES);
            assert!(p.expires_in > 0);
        }
        let _ = error_from_response("token", &resp).to_string();
    }
});
