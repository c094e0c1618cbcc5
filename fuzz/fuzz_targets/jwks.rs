//! JWK Sets (RFC 7517 §5): `relier_core::KeySet::from_json`, `relier_jose::JwkSet::from_slice`
//! and `VerifyingKey::from_jwk` on every key, plus what the OP key selection does with them.
//!
//! Invariants: at most MAX_JWKS_KEYS keys; KeySet accepts exactly what JwkSet accepts (below the
//! body cap) and keeps at most as many keys; a parsed JWK serializes and parses back to the same
//! thumbprint; `to_public` never holds a private member.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_core::KeySet;
use relier_jose::{Algorithm, Jwk, JwkSet, MAX_JWKS_KEYS, VerifyingKey};

fuzz_target!(|data: &[u8]| {
    let core = KeySet::from_json(data);
    let jose = JwkSet::from_slice(data);
    assert_eq!(core.is_ok(), jose.is_ok(), "KeySet and JwkSet disagree");
    let Ok(set) = jose else {
        return;
    };
    assert!(set.keys.len() <= MAX_JWKS_KEYS);
    let mut usable = 0usize;
    for jwk in &set.keys {
        let _ = jwk.thumbprint_sha256();
        let _ = format!("{jwk:?}");
        let public = jwk.to_public();
        assert!(!public.is_private(), "to_public kept a private member");
        // Round trip: what was parsed serializes to a JWK that parses to the same key.
        if let Ok(text) = serde_json::to_string(jwk) {
            match Jwk::from_json(&text) {
                Ok(back) => {
                    assert_eq!(back.kty, jwk.kty);
                    assert_eq!(back.kid, jwk.kid);
                    assert_eq!(back.is_private(), jwk.is_private());
                    assert_eq!(back.thumbprint_sha256().ok(), jwk.thumbprint_sha256().ok());
                }
                // A JWK larger than MAX_JWK_BYTES on its own is fine inside a set.
                Err(relier_jose::JoseError::TooLarge { .. }) => {}
                Err(e) => panic!("re-serialized JWK is refused: {e}"),
            }
        }
        let Ok(key) = VerifyingKey::from_jwk(jwk) else {
            continue;
        };
        usable += 1;
        let _ = key.rsa_bits();
        let _ = key.key_type();
        for alg in Algorithm::ALL {
            let ok = key.is_compatible(alg);
            assert_eq!(ok, key.check_compatible(alg).is_ok());
            if ok {
                assert_ne!(alg, Algorithm::None);
                // An all-zero signature never verifies, whatever its length.
                assert!(key.verify(alg, b"a.b", &[0u8; 64]).is_err());
            }
        }
    }
    let keys = match core {
        Ok(k) => k,
        Err(e) => panic!("KeySet refused what JwkSet accepted: {e}"),
    };
    assert_eq!(keys.len(), usable);
    for alg in Algorithm::ALL {
        if let Ok(key) = keys.select(None, alg) {
            assert!(key.is_compatible(alg));
        }
        for kid in set.keys.iter().filter_map(|k| k.kid.as_deref()) {
            if let Ok(key) = keys.select(Some(kid), alg) {
                assert!(key.is_compatible(alg));
                assert_eq!(key.kid(), Some(kid));
            }
        }
    }
});
