//! JARM responses (JARM §2.1 claims, §2.2 signing and encryption, §2.4 validation) checked
//! before their parameters reach the callback checks.

use aws_lc_rs::rand::SystemRandom;
use relier_jose::jwe::encryptor::{Recipient, encrypt_compact};
use relier_jose::jwe::{ContentEncAlg, DecryptionKey, DecryptionKeys, KeyManagementAlg};
use relier_jose::{SigningKey, jws};
use serde_json::json;

use super::*;
use crate::authorize::{AuthorizationParams, PendingLogin, authorization_url};
use crate::discovery::ProviderMetadata;
use crate::types::RedirectUrl;

const NOW: u64 = 1_700_000_000;
const ISS: &str = "https://op.example.com";

struct Op {
    signer: SigningKey,
    keys: KeySet,
}

fn op(alg: Algorithm) -> Op {
    let signer = SigningKey::generate(alg, None).unwrap().with_kid("op-1");
    let keys = KeySet::from_keys(vec![signer.verifying_key().unwrap()]);
    Op { signer, keys }
}

fn issuer() -> IssuerUrl {
    IssuerUrl::new(ISS).unwrap()
}

fn validator(alg: Algorithm) -> JarmValidator {
    JarmValidator::new(issuer(), ClientId::new("rp").unwrap(), alg)
}

fn pending() -> PendingLogin {
    let md = ProviderMetadata::from_json(
        &issuer(),
        json!({"issuer": ISS, "authorization_endpoint": "https://op.example.com/auth"})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    authorization_url(
        &md,
        &ClientId::new("rp").unwrap(),
        &RedirectUrl::new("http://127.0.0.1:9/cb").unwrap(),
        &AuthorizationParams::default(),
        &SystemRandom::new(),
    )
    .unwrap()
    .1
}

fn sign(op: &Op, claims: &Value) -> String {
    jws::sign_compact(
        &jws::Header::default(),
        claims.to_string().as_bytes(),
        &op.signer,
        &SystemRandom::new(),
    )
    .unwrap()
}

/// JARM §2.1's example claims, for this test's state.
fn claims(state: &str) -> Value {
    json!({"iss": ISS, "aud": "rp", "exp": NOW + 600, "code": "PyyFaux2o7Q0YfXBU32jhw.5FXSQpvr8akv9CeRDSd0QA", "state": state})
}

fn callback(response: &str) -> CallbackParams {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response", response)
        .finish();
    CallbackParams::parse(body.as_bytes()).unwrap()
}

#[test]
fn a_valid_response_feeds_the_callback_checks() {
    for alg in [Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA] {
        let op = op(alg);
        let p = pending();
        let jwt = sign(&op, &claims(p.state.expose()));
        let inner = validator(alg)
            .open(&callback(&jwt), &op.keys, UnixTime(NOW))
            .unwrap();
        assert_eq!(inner.iss(), Some(ISS));
        let code = inner.validate(&p, &issuer(), true).unwrap();
        assert_eq!(
            code.expose(),
            "PyyFaux2o7Q0YfXBU32jhw.5FXSQpvr8akv9CeRDSd0QA"
        );
    }
}

#[test]
fn an_error_inside_is_the_ops_error_after_the_state_check() {
    let op = op(Algorithm::ES256);
    let p = pending();
    let jwt = sign(
        &op,
        &json!({"iss": ISS, "aud": ["rp", "other"], "exp": NOW + 60,
            "error": "access_denied", "state": p.state.expose()}),
    );
    let inner = validator(Algorithm::ES256)
        .open(&callback(&jwt), &op.keys, UnixTime(NOW))
        .unwrap();
    assert!(matches!(
        inner.validate(&p, &issuer(), false),
        Err(CallbackError::OpError { error, .. }) if error == "access_denied"
    ));
}

#[test]
fn parameters_outside_the_jwt_are_ignored() {
    let op = op(Algorithm::ES256);
    let p = pending();
    let jwt = sign(&op, &claims(p.state.expose()));
    let q = format!("code=evil&response={jwt}");
    let cb = CallbackParams::parse(q.as_bytes()).unwrap();
    let inner = validator(Algorithm::ES256)
        .open(&cb, &op.keys, UnixTime(NOW))
        .unwrap();
    assert_ne!(
        inner.validate(&p, &issuer(), true).unwrap().expose(),
        "evil"
    );
}

/// The OP's ES256 JARM response with `change` applied to the claims, opened by an RP that
/// registered ES256.
fn open_changed(change: impl FnOnce(&mut Map<String, Value>)) -> Result<CallbackParams, JarmError> {
    let op = op(Algorithm::ES256);
    let mut c = claims("s");
    change(c.as_object_mut().unwrap());
    assert!(open_changed_ok());
    validator(Algorithm::ES256).open(&callback(&sign(&op, &c)), &op.keys, UnixTime(NOW))
}

/// The unchanged response opens: what the tests below refuse is their change alone.
fn open_changed_ok() -> bool {
    let op = op(Algorithm::ES256);
    validator(Algorithm::ES256)
        .open(&callback(&sign(&op, &claims("s"))), &op.keys, UnixTime(NOW))
        .is_ok()
}

/// `fapi2-security-profile-final-client-test-ensure-jarm-without-iss-fails`: JARM §2.4 (1).
#[test]
fn fapi2_security_profile_final_client_test_ensure_jarm_without_iss_fails() {
    let err = open_changed(|c| {
        c.remove("iss");
    })
    .unwrap_err();
    assert!(matches!(err, JarmError::Claim { name: "iss", .. }), "{err}");
}

/// `fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-iss-fails`: JARM §2.4 (1).
#[test]
fn fapi2_security_profile_final_client_test_ensure_jarm_with_invalid_iss_fails() {
    let err = open_changed(|c| {
        c.insert("iss".into(), json!("https://evil.example"));
    })
    .unwrap_err();
    assert!(matches!(err, JarmError::IssMismatch { .. }), "{err}");
}

/// `fapi2-security-profile-final-client-test-ensure-jarm-without-aud-fails`: JARM §2.4 (2).
#[test]
fn fapi2_security_profile_final_client_test_ensure_jarm_without_aud_fails() {
    let err = open_changed(|c| {
        c.remove("aud");
    })
    .unwrap_err();
    assert!(matches!(err, JarmError::AudMismatch { .. }), "{err}");
}

/// `fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-aud-fails`: JARM §2.4 (2).
#[test]
fn fapi2_security_profile_final_client_test_ensure_jarm_with_invalid_aud_fails() {
    let err = open_changed(|c| {
        c.insert("aud".into(), json!("other"));
    })
    .unwrap_err();
    assert!(matches!(err, JarmError::AudMismatch { .. }), "{err}");
}

/// `fapi2-security-profile-final-client-test-ensure-jarm-without-exp-fails`: JARM §2.1, §2.4 (3).
#[test]
fn fapi2_security_profile_final_client_test_ensure_jarm_without_exp_fails() {
    let err = open_changed(|c| {
        c.remove("exp");
    })
    .unwrap_err();
    assert!(matches!(err, JarmError::Claim { name: "exp", .. }), "{err}");
}

/// `fapi2-security-profile-final-client-test-ensure-jarm-with-expired-exp-fails`: JARM §2.4 (3),
/// past the allowed clock skew (and just within it, accepted).
#[test]
fn fapi2_security_profile_final_client_test_ensure_jarm_with_expired_exp_fails() {
    let err = open_changed(|c| {
        c.insert("exp".into(), json!(NOW - 61));
    })
    .unwrap_err();
    assert!(matches!(err, JarmError::Expired { .. }), "{err}");
    assert!(
        open_changed(|c| {
            c.insert("exp".into(), json!(NOW - 59));
        })
        .is_ok()
    );
}

/// `fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-sig-fails`: JARM §2.4 (3):
/// signed by a key the OP never published (under its kid), or with a byte of the OP's own
/// signature flipped.
#[test]
fn fapi2_security_profile_final_client_test_ensure_jarm_with_invalid_sig_fails() {
    let op = op(Algorithm::ES256);
    let v = validator(Algorithm::ES256);
    let other = self::op(Algorithm::ES256);
    assert!(matches!(
        v.open(
            &callback(&sign(&other, &claims("s"))),
            &op.keys,
            UnixTime(NOW)
        ),
        Err(JarmError::Jwt(JwtError::InvalidSignature))
    ));
    let jwt = sign(&op, &claims("s"));
    let (input, sig) = jwt.rsplit_once('.').unwrap();
    let mut bytes = relier_jose::b64::decode(sig).unwrap();
    bytes[0] ^= 0x01;
    let flipped = format!("{input}.{}", relier_jose::b64::encode(&bytes));
    assert!(v.open(&callback(&jwt), &op.keys, UnixTime(NOW)).is_ok());
    assert!(matches!(
        v.open(&callback(&flipped), &op.keys, UnixTime(NOW)),
        Err(JarmError::Jwt(JwtError::InvalidSignature))
    ));
}

/// `fapi2-security-profile-final-client-test-ensure-jarm-signature-is-not-none`: an unsigned
/// JARM response is refused, even by a validator configured for `none` (JARM §2.2, FAPI 2.0
/// Message Signing §5.4).
#[test]
fn fapi2_security_profile_final_client_test_ensure_jarm_signature_is_not_none() {
    let op = op(Algorithm::ES256);
    let v = validator(Algorithm::ES256);
    let unsigned = format!(
        "{}.{}.",
        relier_jose::b64::encode(br#"{"alg":"none"}"#),
        relier_jose::b64::encode(claims("s").to_string().as_bytes())
    );
    assert!(matches!(
        v.open(&callback(&unsigned), &op.keys, UnixTime(NOW)),
        Err(JarmError::Jwt(JwtError::Unsigned))
    ));
    let none = JarmValidator::new(issuer(), ClientId::new("rp").unwrap(), Algorithm::None);
    assert!(matches!(
        none.open(&callback(&unsigned), &op.keys, UnixTime(NOW)),
        Err(JarmError::Jwt(JwtError::Unsigned))
    ));
}

#[test]
fn other_jarm_checks_refuse() {
    let op = op(Algorithm::ES256);
    let v = validator(Algorithm::ES256);
    assert!(matches!(
        open_changed(|c| {
            c.insert("code".into(), json!(1));
        }),
        Err(JarmError::Claim { name: "code", .. })
    ));
    // the registered alg only
    let ps = self::op(Algorithm::PS256);
    assert!(matches!(
        v.open(&callback(&sign(&ps, &claims("s"))), &ps.keys, UnixTime(NOW)),
        Err(JarmError::Jwt(JwtError::AlgorithmMismatch { .. }))
    ));
    // An unknown kid may mean rotation: refetchable.
    let other = self::op(Algorithm::ES256);
    let e = v
        .open(
            &callback(&sign(&other, &claims("s"))),
            &KeySet::empty(),
            UnixTime(NOW),
        )
        .unwrap_err();
    assert!(e.is_refetchable(), "{e}");
    // A plain response where JARM is registered.
    let plain = CallbackParams::parse(b"code=abc&state=s").unwrap();
    assert!(matches!(
        v.open(&plain, &op.keys, UnixTime(NOW)),
        Err(JarmError::NotJwt)
    ));
}

#[test]
fn encrypted_responses_are_decrypted_with_the_registered_algorithms() {
    let op = op(Algorithm::PS256);
    let rp = DecryptionKey::generate_rsa(2048)
        .unwrap()
        .with_kid("rp-enc");
    let expect = ResponseEncryption::new(KeyManagementAlg::RsaOaep256, ContentEncAlg::A256Gcm);
    let v = validator(Algorithm::PS256).with_decryption(Decryptor::new(
        expect,
        DecryptionKeys::new().with_key(rp.clone()).unwrap(),
    ));
    let p = pending();
    let signed = sign(&op, &claims(p.state.expose()));
    let jwe = encrypt_compact(
        expect.alg,
        expect.enc,
        Recipient::Key(&rp),
        &json!({"kid": "rp-enc", "cty": "JWT"})
            .as_object()
            .unwrap()
            .clone(),
        signed.as_bytes(),
    )
    .unwrap();
    let inner = v.open(&callback(&jwe), &op.keys, UnixTime(NOW)).unwrap();
    assert!(inner.validate(&p, &issuer(), true).is_ok());
    // Registered encryption: an unencrypted response is refused.
    assert!(matches!(
        v.open(&callback(&signed), &op.keys, UnixTime(NOW)),
        Err(JarmError::Decrypt(DecryptError::NotEncrypted { .. }))
    ));
    // Not registered: an encrypted one is refused.
    assert!(matches!(
        validator(Algorithm::PS256).open(&callback(&jwe), &op.keys, UnixTime(NOW)),
        Err(JarmError::Jwt(JwtError::Encrypted))
    ));
}

#[test]
fn the_registration_decides() {
    let rule = |v: Value| JarmRule::from_registration(v.as_object().unwrap());
    assert_eq!(rule(json!({})).unwrap(), None);
    assert_eq!(
        rule(json!({"authorization_signed_response_alg": "ES256"})).unwrap(),
        Some(JarmRule {
            alg: Algorithm::ES256,
            encryption: None
        })
    );
    // JARM §3: encryption alone implies RS256; enc defaults to A128CBC-HS256.
    assert_eq!(
        rule(json!({"authorization_encrypted_response_alg": "RSA-OAEP-256"})).unwrap(),
        Some(JarmRule {
            alg: Algorithm::RS256,
            encryption: Some(ResponseEncryption::new(
                KeyManagementAlg::RsaOaep256,
                ContentEncAlg::A128CbcHs256
            ))
        })
    );
    for bad in [
        json!({"authorization_signed_response_alg": "none"}),
        json!({"authorization_signed_response_alg": "XY"}),
        json!({"authorization_signed_response_alg": 3}),
        json!({"authorization_encrypted_response_enc": "A256GCM"}),
        json!({"authorization_encrypted_response_alg": "RSA1_5"}),
    ] {
        assert!(rule(bad.clone()).is_err(), "{bad}");
    }
}

#[test]
fn response_modes() {
    assert_eq!(response_mode(None), "jwt");
    assert_eq!(response_mode(Some("form_post")), "form_post.jwt");
    assert_eq!(response_mode(Some("query")), "query.jwt");
    assert_eq!(response_mode(Some("form_post.jwt")), "form_post.jwt");
    assert_eq!(response_mode(Some("jwt")), "jwt");
}
