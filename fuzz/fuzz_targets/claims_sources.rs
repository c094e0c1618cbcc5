//! Aggregated and distributed claims (OIDC Core §5.6.2): `sources` on the input as claims,
//! `aggregated_issuer` on it as an aggregated JWT, `distributed_response` on it as a claims
//! endpoint's body (JSON and JWT).
//!
//! Invariant: never panics; a source found names a claim of `_claim_names`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_core::claims_sources::{aggregated_issuer, distributed_response, sources};
use relier_core::http::HttpResponse;

fuzz_target!(|data: &[u8]| {
    if let Ok(serde_json::Value::Object(claims)) = serde_json::from_slice(data) {
        let (found, _dropped) = sources(&claims);
        if !found.is_empty() {
            assert!(claims.get("_claim_names").is_some_and(|n| n.is_object()));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = aggregated_issuer("src1", text);
    }
    for content_type in ["application/json", "application/jwt"] {
        let resp = HttpResponse {
            status: 200,
            content_type: Some(content_type.into()),
            www_authenticate: None,
            cache_control: None,
            body: data.to_vec(),
        };
        let _ = distributed_response("src1", &resp);
    }
});
