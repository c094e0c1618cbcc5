//! UserInfo responses (OIDC Core §5.3.2): `userinfo::parse(&resp, "alice", &signed)` with the
//! fuzzed body served as `application/json` and as `application/jwt`, with signed responses
//! optional and required, under an RS256 policy with the fixed key set and under a policy that
//! dangerously accepts `alg: none` (so the claim checks of signed responses are reachable).
//!
//! Invariants on success: `sub` is exactly "alice"; a required signed response really came as
//! application/jwt; a signed response's iss/aud, when present, are the OP and this client.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_core::Algorithm;
use relier_core::http::HttpResponse;
use relier_core::id_token::{IdTokenAlg, IdTokenValidator};
use relier_core::userinfo::{SignedUserInfo, parse};
use relier_fuzz::{CLIENT_ID, EXPECTED_SUB, ISSUER, KEYS, client_id, issuer};
use serde_json::Value;

const CONTENT_TYPES: [Option<&str>; 5] = [
    Some("application/json"),
    Some("application/jwt"),
    Some("Application/JWT; charset=utf-8"),
    Some("text/plain"),
    None,
];

fuzz_target!(|data: &[u8]| {
    let issuer = issuer();
    let client_id = client_id();
    let rs256 = IdTokenValidator::new(issuer.clone(), client_id.clone()).with_alg(Algorithm::RS256);
    // A client that registered unsigned ID tokens: its UserInfo policy still never accepts
    // `alg: none`.
    let unsigned = IdTokenValidator::new(issuer.clone(), client_id.clone())
        .with_registered_alg(IdTokenAlg::registered(Algorithm::None));
    for validator in [&rs256, &unsigned] {
        for required in [false, true] {
            let signed = SignedUserInfo {
                keys: &KEYS.set,
                policy: validator.policy(),
                required,
                issuer: &issuer,
                client_id: &client_id,
                decryptor: None,
            };
            for content_type in CONTENT_TYPES {
                let resp = HttpResponse {
                    status: 200,
                    content_type: content_type.map(str::to_owned),
                    www_authenticate: None,
                    cache_control: None,
                    body: data.to_vec(),
                };
                let Ok(claims) = parse(&resp, EXPECTED_SUB, &signed) else {
                    continue;
                };
                assert_eq!(
                    claims.get("sub").and_then(Value::as_str),
                    Some(EXPECTED_SUB)
                );
                let is_jwt = resp.media_type().as_deref() == Some("application/jwt");
                if required {
                    assert!(
                        is_jwt,
                        "unsigned response accepted although signing is required"
                    );
                }
                if is_jwt {
                    if let Some(iss) = claims.get("iss") {
                        assert_eq!(iss.as_str(), Some(ISSUER));
                    }
                    match claims.get("aud") {
                        None => {}
                        Some(Value::String(a)) => assert_eq!(a, CLIENT_ID),
                        Some(Value::Array(a)) => {
                            assert!(a.iter().any(|v| v.as_str() == Some(CLIENT_ID)));
                        }
                        Some(other) => panic!("aud {other} accepted"),
                    }
                }
            }
        }
    }
    // A non-2xx answer is always an error.
    let resp = HttpResponse {
        status: 401,
        content_type: Some("application/json".into()),
        www_authenticate: Some("Bearer error=\"invalid_token\"".into()),
        cache_control: None,
        body: data.to_vec(),
    };
    let signed = SignedUserInfo {
        keys: &KEYS.set,
        policy: rs256.policy(),
        required: false,
        issuer: &issuer,
        client_id: &client_id,
        decryptor: None,
    };
    assert!(parse(&resp, EXPECTED_SUB, &signed).is_err());
});
