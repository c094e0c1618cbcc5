//! Compact JWE (RFC 7516 §7.1): `jwe::decrypt_compact` with the fixed decryption keys and the
//! fixed client secret, for every pinned (alg, enc) pair; `compact_kind`.
//!
//! Invariants: a token is decrypted only when it has five parts, its header "alg" and "enc"
//! are the pinned ones and it has no "zip"; a header naming another "alg" or "enc" is refused
//! with the matching mismatch error (before any cryptography); the plaintext is never longer
//! than the ciphertext; a nested JWT's plaintext parses (or not) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_fuzz::JWE_KEYS;
use relier_jose::jwe::{
    self, CompactKind, ContentEncAlg, JweExpectation, KeyManagementAlg, decrypt_compact,
};
use relier_jose::{JoseError, b64};

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let kind = jwe::compact_kind(token);
    assert_eq!(jwe::is_compact_jwe(token), kind == Some(CompactKind::Jwe));
    let header = token
        .split('.')
        .next()
        .and_then(|h| b64::decode(h).ok())
        .and_then(|h| serde_json::from_slice::<serde_json::Value>(&h).ok());
    let member = |name: &str| {
        header
            .as_ref()
            .and_then(|h| h.get(name))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let (header_alg, header_enc) = (member("alg"), member("enc"));

    for alg in KeyManagementAlg::ALL {
        for enc in ContentEncAlg::ALL {
            let expect = JweExpectation::new(alg, enc);
            match decrypt_compact(token, &expect, &JWE_KEYS) {
                Ok(out) => {
                    assert_eq!(kind, Some(CompactKind::Jwe));
                    assert_eq!(header_alg.as_deref(), Some(alg.as_str()));
                    assert_eq!(header_enc.as_deref(), Some(enc.as_str()));
                    assert!(header.as_ref().is_some_and(|h| h.get("zip").is_none()));
                    let ciphertext_len = token
                        .split('.')
                        .nth(3)
                        .and_then(|c| b64::decode(c).ok())
                        .map_or(0, |c| c.len());
                    assert!(out.plaintext().len() <= ciphertext_len);
                    let _ = format!("{out:?}");
                    if out.is_nested_jwt() {
                        let _ = out.nested_jws().map(|jws| jws.header().alg.clone());
                    }
                }
                Err(JoseError::JweAlgorithmMismatch { .. }) => {
                    assert_ne!(header_alg.as_deref(), Some(alg.as_str()));
                }
                Err(JoseError::JweEncryptionMismatch { .. }) => {
                    assert_eq!(header_alg.as_deref(), Some(alg.as_str()));
                    assert_ne!(header_enc.as_deref(), Some(enc.as_str()));
                }
                Err(_) => {}
            }
        }
    }
});
