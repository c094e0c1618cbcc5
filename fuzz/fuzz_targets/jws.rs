//! Compact JWS (RFC 7515 §7.1): `UnverifiedJws::parse`, then `verify` for every `Algorithm`
//! with the fixed key meant for it, and with every other fixed key.
//!
//! Invariants: parsing is strict (each part is the canonical base64url of what was decoded, and
//! the signing input is the first two parts as received); `verify` succeeds only when the header
//! "alg" is the pinned algorithm, the algorithm is not "none", the key fits it, and then
//! returns the payload; `dangerous_accept_unsigned` succeeds only for "none" and an empty
//! signature.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_fuzz::KEYS;
use relier_jose::jws::{UnverifiedJws, check_crit};
use relier_jose::{Algorithm, JoseError, b64};

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(jws) = UnverifiedJws::parse(token) else {
        return;
    };
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        panic!("parse accepted a token without exactly three parts");
    };
    assert_eq!(b64::encode(jws.unverified_payload()), p);
    assert_eq!(b64::encode(jws.signature()), s);
    assert_eq!(jws.signing_input(), format!("{h}.{p}").as_bytes());
    let _ = format!("{jws:?}");
    let _ = check_crit(jws.header(), &[]);
    let _ = check_crit(jws.header(), &["b64", "exp"]);
    assert_eq!(jws.header_alg(), jws.header().alg);

    match jws.dangerous_accept_unsigned() {
        Ok(payload) => {
            assert_eq!(jws.header_alg(), "none");
            assert!(jws.signature().is_empty());
            assert_eq!(payload, jws.unverified_payload());
        }
        Err(_) => assert!(jws.header_alg() != "none" || !jws.signature().is_empty()),
    }

    let keys = &*KEYS;
    for alg in Algorithm::ALL {
        if let Some(key) = keys.for_alg(alg) {
            check(&jws, alg, key);
        }
        if jws.header_alg() == alg.as_str() {
            // Every other key must refuse, or verify only if it also fits (HS256 has two).
            for key in keys.all() {
                check(&jws, alg, key);
            }
        } else if alg != Algorithm::None {
            // A header naming another algorithm is refused before any cryptography.
            assert!(matches!(
                jws.verify(alg, &keys.rsa),
                Err(JoseError::AlgorithmMismatch { .. })
            ));
        }
    }
});

fn check(jws: &UnverifiedJws, alg: Algorithm, key: &relier_jose::VerifyingKey) {
    match jws.verify(alg, key) {
        Ok(payload) => {
            assert_ne!(alg, Algorithm::None, "alg none verified");
            assert_eq!(jws.header_alg(), alg.as_str());
            assert!(key.is_compatible(alg));
            assert_eq!(payload, jws.unverified_payload());
            // Flipping one signature bit must break it.
            let mut sig = jws.signature().to_vec();
            if let Some(b) = sig.first_mut() {
                *b ^= 1;
            }
            assert!(key.verify(alg, jws.signing_input(), &sig).is_err());
        }
        Err(JoseError::AlgorithmNoneRefused) => assert_eq!(alg, Algorithm::None),
        Err(_) => {}
    }
}
