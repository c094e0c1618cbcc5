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

// ---- FAPI 2.0 client modules on the ID token (FAPI 2.0 Security Profile §5.5, OIDC Core
// §3.1.3.7): the client registered PS256, the only algorithms a FAPI 2.0 client takes being
// PS256, ES256 and EdDSA. ----

/// A PS256 ID token from the OP, its claims changed by `change`, validated by a client that
/// registered PS256 and sent the nonce.
fn fapi2_validate(
    change: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> Result<VerifiedIdToken, IdTokenError> {
    let (key, keys, validator) = op_and_rp(Algorithm::PS256);
    let mut claims = json!({
        "iss": ISSUER, "sub": "alice", "aud": "rp", "exp": NOW + 300, "iat": NOW,
        "nonce": "n-0S6_WzA2Mj",
    });
    if let Some(c) = claims.as_object_mut() {
        change(c);
    }
    let token = jws::sign_compact(
        &jws::Header::default(),
        claims.to_string().as_bytes(),
        &key,
        &SystemRandom::new(),
    )
    .unwrap();
    validate(&validator, &keys, &token)
}

/// The unchanged FAPI 2.0 token passes: each refusal below is its change's alone.
#[test]
fn fapi2_security_profile_final_client_test_valid_aud_as_array() {
    assert_eq!(fapi2_validate(|_| {}).unwrap().claims().sub, "alice");
    // OIDC Core §2: aud may be an array holding the client id.
    let verified = fapi2_validate(|c| {
        c.insert("aud".into(), json!(["rp"]));
    })
    .unwrap();
    assert_eq!(verified.alg(), Algorithm::PS256);
}

#[test]
fn fapi2_security_profile_final_client_test_invalid_iss() {
    let err = fapi2_validate(|c| {
        c.insert("iss".into(), json!("https://evil.example"));
    })
    .unwrap_err();
    assert!(matches!(err, IdTokenError::IssuerMismatch { .. }), "{err}");
}

#[test]
fn fapi2_security_profile_final_client_test_invalid_missing_iss() {
    let err = fapi2_validate(|c| {
        c.remove("iss");
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "id_token: required claim iss is missing");
}

#[test]
fn fapi2_security_profile_final_client_test_invalid_aud() {
    let err = fapi2_validate(|c| {
        c.insert("aud".into(), json!("another-client"));
    })
    .unwrap_err();
    assert!(
        err.to_string().starts_with("id_token: aud mismatch"),
        "{err}"
    );
}

/// OIDC Core §3.1.3.7 (3): an audience the client does not trust, beside the client id.
#[test]
fn fapi2_security_profile_final_client_test_invalid_secondary_aud() {
    let err = fapi2_validate(|c| {
        c.insert("aud".into(), json!(["rp", "https://untrusted.example"]));
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "id_token: untrusted audience https://untrusted.example"
    );
}

#[test]
fn fapi2_security_profile_final_client_test_invalid_missing_aud() {
    let err = fapi2_validate(|c| {
        c.remove("aud");
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "id_token: required claim aud is missing");
}

#[test]
fn fapi2_security_profile_final_client_test_invalid_expired_exp() {
    let err = fapi2_validate(|c| {
        c.insert("exp".into(), json!(NOW - 3600));
    })
    .unwrap_err();
    assert!(err.to_string().starts_with("id_token: expired at"), "{err}");
}

#[test]
fn fapi2_security_profile_final_client_test_invalid_missing_exp() {
    let err = fapi2_validate(|c| {
        c.remove("exp");
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "id_token: required claim exp is missing");
}

#[test]
fn fapi2_security_profile_final_client_test_invalid_nonce() {
    let err = fapi2_validate(|c| {
        c.insert("nonce".into(), json!("not-the-nonce"));
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "id_token: nonce mismatch");
}

/// OIDC Core §3.1.3.7 (11): the client sent a nonce, so the ID token must carry it.
#[test]
fn fapi2_security_profile_final_client_test_invalid_missing_nonce() {
    let err = fapi2_validate(|c| {
        c.remove("nonce");
    })
    .unwrap_err();
    assert!(matches!(err, IdTokenError::MissingNonce), "{err}");
}

/// An unsigned (`alg: none`) ID token, for a client that registered PS256.
#[test]
fn fapi2_security_profile_final_client_test_invalid_null_alg() {
    let (_, keys, validator) = op_and_rp(Algorithm::PS256);
    let claims = json!({
        "iss": ISSUER, "sub": "alice", "aud": "rp", "exp": NOW + 300, "iat": NOW,
        "nonce": "n-0S6_WzA2Mj",
    });
    let token = format!(
        "{}.{}.",
        b64::encode(br#"{"alg":"none"}"#),
        b64::encode(claims.to_string().as_bytes())
    );
    let err = validate(&validator, &keys, &token).unwrap_err();
    assert!(
        matches!(err, IdTokenError::Jwt(JwtError::Unsigned)),
        "{err}"
    );
}

/// Signed with another algorithm (RS256, by a key the OP publishes) than the registered PS256:
/// OIDC Core §3.1.3.7 (7).
#[test]
fn fapi2_security_profile_final_client_test_invalid_alternate_alg() {
    let (_, _, validator) = op_and_rp(Algorithm::PS256);
    let (rs, rs_keys, _) = op_and_rp(Algorithm::RS256);
    let token = signed_id_token(&rs);
    let err = validate(&validator, &rs_keys, &token).unwrap_err();
    assert!(
        matches!(err, IdTokenError::Jwt(JwtError::AlgorithmMismatch { .. })),
        "{err}"
    );
}
