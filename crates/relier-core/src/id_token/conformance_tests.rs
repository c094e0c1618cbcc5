//! The OpenID Foundation's bad-signature RP modules (`oidcc-client-test-invalid-sig-rs256`,
//! `…-es256`, `…-hs256`; PS256 and EdDSA likewise, which the suite has no module for): a
//! correctly signed ID token whose signature has one byte flipped and is re-encoded as valid
//! base64url (RFC 7515 §7.1) must be refused by the signature check (OIDC Core §3.1.3.7 (6), (8)),
//! not by a decoding or structure check — the case the suite's own OP never reaches, since it
//! breaks the base64 first.

use super::*;
use aws_lc_rs::rand::SystemRandom;
use relier_jose::{SigningKey, b64, jws};
use serde_json::json;

const NOW: u64 = 1_700_000_000;
const ISSUER: &str = "https://op.example.com";
const CLIENT_SECRET: &str = "a-client-secret-that-is-at-least-32-bytes";

/// The OP's signing key for `alg` and the validator of a client registered with it.
fn op_and_rp(alg: Algorithm) -> (SigningKey, KeySet, IdTokenValidator) {
    let validator = IdTokenValidator::new(
        IssuerUrl::new(ISSUER).unwrap(),
        ClientId::new("rp").unwrap(),
    )
    .with_alg(alg);
    if alg == Algorithm::HS256 {
        // OIDC Core §10.1: HS* ID tokens are MACed with the client secret.
        let secret = Secret::new(CLIENT_SECRET);
        let key = SigningKey::hmac(alg, secret.expose().as_bytes()).unwrap();
        return (
            key,
            KeySet::from_keys(vec![]),
            validator.with_client_secret(&secret),
        );
    }
    let key = SigningKey::generate(alg, None).unwrap().with_kid("k1");
    let keys = KeySet::from_keys(vec![key.verifying_key().unwrap()]);
    (key, keys, validator)
}

fn signed_id_token(key: &SigningKey) -> String {
    let claims = json!({
        "iss": ISSUER, "sub": "alice", "aud": "rp", "exp": NOW + 300, "iat": NOW,
        "nonce": "n-0S6_WzA2Mj",
    });
    jws::sign_compact(
        &jws::Header::default(),
        claims.to_string().as_bytes(),
        key,
        &SystemRandom::new(),
    )
    .unwrap()
}

/// `token` with byte `at` of its decoded signature XORed with 0x01, re-encoded as base64url.
fn flip_signature_byte(token: &str, at: usize) -> String {
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = b64::decode(signature).unwrap();
    bytes[at] ^= 0x01;
    let flipped = b64::encode(&bytes);
    // Still valid base64url of the same length: only the signature check can tell.
    assert_eq!(b64::decode(&flipped).unwrap().len(), bytes.len());
    assert_ne!(flipped, signature);
    format!("{signing_input}.{flipped}")
}

fn validate(
    validator: &IdTokenValidator,
    keys: &KeySet,
    token: &str,
) -> Result<VerifiedIdToken, IdTokenError> {
    let nonce = Nonce::from_stored("n-0S6_WzA2Mj").unwrap();
    let expect = Expectations {
        nonce: Some(&nonce),
        ..Default::default()
    };
    validator.validate(token, keys, &expect, UnixTime(NOW))
}

/// The untouched token passes; with its first, a middle or its last signature byte flipped, the
/// signature check refuses it.
fn refuses_a_byte_flipped_signature(alg: Algorithm) {
    let (key, keys, validator) = op_and_rp(alg);
    let token = signed_id_token(&key);
    let verified = validate(&validator, &keys, &token).unwrap();
    assert_eq!(verified.alg(), alg);
    assert_eq!(verified.claims().sub, "alice");

    let length = b64::decode(token.rsplit_once('.').unwrap().1)
        .unwrap()
        .len();
    for at in [0, length / 2, length - 1] {
        let err = validate(&validator, &keys, &flip_signature_byte(&token, at)).unwrap_err();
        assert!(
            matches!(err, IdTokenError::Jwt(JwtError::InvalidSignature)),
            "{alg:?}, byte {at} of {length}: {err}"
        );
        assert_eq!(err.to_string(), "id_token: signature verification failed");
    }
}

#[test]
fn oidcc_client_test_invalid_sig_rs256() {
    refuses_a_byte_flipped_signature(Algorithm::RS256);
}

#[test]
fn oidcc_client_test_invalid_sig_ps256() {
    refuses_a_byte_flipped_signature(Algorithm::PS256);
}

#[test]
fn oidcc_client_test_invalid_sig_es256() {
    refuses_a_byte_flipped_signature(Algorithm::ES256);
}

#[test]
fn oidcc_client_test_invalid_sig_eddsa() {
    refuses_a_byte_flipped_signature(Algorithm::EdDSA);
}

#[test]
fn oidcc_client_test_invalid_sig_hs256() {
    refuses_a_byte_flipped_signature(Algorithm::HS256);
}
