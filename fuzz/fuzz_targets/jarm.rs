//! JARM responses (JWT Secured Authorization Response Mode §2.4): `CallbackParams::parse`, then
//! `JarmValidator::open` with the fixed key set (one validator per signing algorithm, and one
//! that decrypts RSA-OAEP-256 / A256GCM first), then the inner parameters' `validate` against
//! a fixed pending login.
//!
//! Invariants on success: the JWT's iss is the issuer, its aud contains the client_id, its exp
//! is not past (with the skew); the inner parameters carry the iss and never a `response`; a
//! code that passes the callback checks came with the state sent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_core::authorize::CallbackParams;
use relier_core::encryption::{ContentEncAlg, Decryptor, KeyManagementAlg, ResponseEncryption};
use relier_core::jarm::JarmValidator;
use relier_core::{Algorithm, Secret, UnixTime};
use relier_fuzz::{CLIENT_SECRET, ISSUER, JWE_KEYS, KEYS, NOW, client_id, issuer, pending_login};

const SIGNED: [Algorithm; 5] = [
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::HS256,
];

fuzz_target!(|data: &[u8]| {
    let Ok(params) = CallbackParams::parse(data) else {
        return;
    };
    let secret = Secret::new(CLIENT_SECRET);
    let encrypted = ResponseEncryption::new(KeyManagementAlg::RsaOaep256, ContentEncAlg::A256Gcm);
    let mut validators: Vec<JarmValidator> = SIGNED
        .iter()
        .map(|alg| JarmValidator::new(issuer(), client_id(), *alg).with_client_secret(&secret))
        .collect();
    validators.push(
        JarmValidator::new(issuer(), client_id(), Algorithm::PS256)
            .with_decryption(Decryptor::new(encrypted, JWE_KEYS.clone())),
    );
    for v in validators {
        let Ok(inner) = v.open(&params, &KEYS.set, UnixTime(NOW)) else {
            continue;
        };
        assert!(params.response().is_some(), "opened without a response");
        assert_eq!(inner.iss(), Some(ISSUER));
        assert!(inner.response().is_none());
        let _ = format!("{inner:?}");
        // Opening an opened response returns it as it is.
        let again = v.open(&inner, &KEYS.set, UnixTime(NOW));
        assert!(again.is_ok());
        if inner
            .clone()
            .validate(&pending_login(), &issuer(), true)
            .is_ok()
        {
            assert_eq!(inner.state(), Some(relier_fuzz::STATE));
        }
    }
});
