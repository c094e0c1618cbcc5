//! Private key loading: `SigningKey::from_pkcs8_pem(str, None)`, `from_jwk_json(str, None)` and
//! `from_pkcs8_der(bytes, None)`.
//!
//! Invariants on success: the key's algorithm fits its type; it signs, and its verifying key
//! verifies that signature for that algorithm only; its public JWK never holds a private
//! member and parses back to a verifying key; PKCS#8 export re-imports to the same key.
#![no_main]

use aws_lc_rs::rand::SystemRandom;
use libfuzzer_sys::fuzz_target;
use relier_jose::{Algorithm, JoseError, SigningKey, VerifyingKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = SigningKey::from_pkcs8_der(data, None) {
        check(&key);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = SigningKey::from_pkcs8_pem(text, None) {
        check(&key);
    }
    if let Ok(key) = SigningKey::from_jwk_json(text, None) {
        check(&key);
    }
});

fn check(key: &SigningKey) {
    let alg = key.algorithm();
    assert_ne!(alg, Algorithm::None);
    let _ = format!("{key:?}");
    let input = b"eyJhbGciOiJub25lIn0.e30";
    let sig = match key.sign(input, &SystemRandom::new()) {
        Ok(s) => s,
        Err(e) => panic!("accepted key cannot sign: {e}"),
    };
    let verifier = match key.verifying_key() {
        Ok(v) => v,
        Err(e) => panic!("accepted key has no verifying key: {e}"),
    };
    assert!(
        verifier.verify(alg, input, &sig).is_ok(),
        "own signature does not verify"
    );
    for other in Algorithm::ALL {
        if other != alg {
            assert!(verifier.verify(other, input, &sig).is_err());
        }
    }
    match key.public_jwk() {
        Ok(jwk) => {
            assert!(!jwk.is_private());
            let _ = key.thumbprint_sha256();
            let public = match VerifyingKey::from_jwk(&jwk) {
                Ok(v) => v,
                Err(e) => panic!("public JWK of an accepted key is refused: {e}"),
            };
            assert!(public.verify(alg, input, &sig).is_ok());
        }
        Err(JoseError::SymmetricKey) => assert!(alg.is_hmac()),
        Err(e) => panic!("public_jwk failed: {e}"),
    }
    match key.to_pkcs8_der() {
        Ok(der) => {
            let back = match SigningKey::from_pkcs8_der(&der, Some(alg)) {
                Ok(k) => k,
                Err(e) => panic!("exported PKCS#8 is refused: {e}"),
            };
            assert_eq!(back.thumbprint_sha256().ok(), key.thumbprint_sha256().ok());
            let pem = match key.to_pkcs8_pem() {
                Ok(p) => p,
                Err(e) => panic!("PEM export failed: {e}"),
            };
            match SigningKey::from_pkcs8_pem(&pem, Some(alg)) {
                Ok(k) => assert_eq!(k.thumbprint_sha256().ok(), key.thumbprint_sha256().ok()),
                Err(e) => panic!("exported PEM is refused: {e}"),
            }
        }
        Err(JoseError::SymmetricKey) => assert!(alg.is_hmac()),
        Err(e) => panic!("to_pkcs8_der failed: {e}"),
    }
}
