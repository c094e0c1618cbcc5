//! Access tokens at the gateway (RFC 9068, RFC 7662): `validate_access_token` on the input as a
//! JWT, `from_introspection` on it as an introspection response.
//!
//! Invariants: with no keys a JWT is never accepted; an accepted introspection response is
//! active, names the expected issuer, carries the expected audience and has not expired.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_core::access_token::{
    AccessTokenExpectations, from_introspection, validate_access_token,
};
use relier_core::{Algorithm, IssuerUrl, KeySet, UnixTime};

const NOW: u64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(issuer) = IssuerUrl::new("https://op.example.com") else {
        return;
    };
    let expect = AccessTokenExpectations {
        issuer: &issuer,
        audience: "https://api.example.com",
        alg: Algorithm::RS256,
        skew: 60,
    };
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert!(validate_access_token(text, &KeySet::empty(), &expect, UnixTime(NOW)).is_err());
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(text) {
        if let Ok(t) = from_introspection(map.clone(), &expect, UnixTime(NOW)) {
            assert_eq!(map.get("active"), Some(&serde_json::Value::Bool(true)));
            assert_eq!(t.iss, "https://op.example.com");
            assert!(t.aud.iter().any(|a| a == "https://api.example.com"));
            assert!(t.exp.saturating_add(60) > NOW);
        }
    }
});
