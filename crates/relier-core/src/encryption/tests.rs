//! Encrypted ID tokens and UserInfo: the registration decides, the algorithms are pinned, the
//! nested JWS is validated as an unencrypted token is.

use aws_lc_rs::rand::SystemRandom;
use relier_jose::jwe::encryptor::{Recipient, encrypt_compact};
use relier_jose::{Algorithm, SigningKey, jws};
use serde_json::json;

use super::*;
use crate::http::HttpResponse;
use crate::id_token::{Expectations, IdTokenError, IdTokenValidator};
use crate::jwks::KeySet;
use crate::types::{ClientId, IssuerUrl, UnixTime};
use crate::userinfo::{self, SignedUserInfo, UserInfoError};

const NOW: u64 = 1_700_000_000;
const OAEP: ResponseEncryption =
    ResponseEncryption::new(KeyManagementAlg::RsaOaep256, ContentEncAlg::A256Gcm);

struct Op {
    signer: SigningKey,
    keys: KeySet,
}

fn op() -> Op {
    let signer = SigningKey::generate(Algorithm::ES256, None)
        .unwrap()
        .with_kid("op-1");
    let keys = KeySet::from_keys(vec![signer.verifying_key().unwrap()]);
    Op { signer, keys }
}

fn rp_key(kid: &str) -> DecryptionKey {
    DecryptionKey::generate_rsa(2048).unwrap().with_kid(kid)
}

fn signed(op: &Op, claims: &Value) -> String {
    jws::sign_compact(
        &jws::Header::default(),
        claims.to_string().as_bytes(),
        &op.signer,
        &SystemRandom::new(),
    )
    .unwrap()
}

fn encrypt(expect: ResponseEncryption, to: &DecryptionKey, header: Value, plain: &str) -> String {
    let Value::Object(extra) = header else {
        panic!("header must be an object")
    };
    encrypt_compact(
        expect.alg,
        expect.enc,
        Recipient::Key(to),
        &extra,
        plain.as_bytes(),
    )
    .unwrap()
}

fn id_claims() -> Value {
    json!({"iss": "https://op.example", "sub": "alice", "aud": "rp", "exp": NOW + 60, "iat": NOW})
}

fn validator(keys: &[DecryptionKey], expect: ResponseEncryption) -> IdTokenValidator {
    let mut set = DecryptionKeys::new();
    for k in keys {
        set.push(k.clone()).unwrap();
    }
    IdTokenValidator::new(
        IssuerUrl::new("https://op.example").unwrap(),
        ClientId::new("rp").unwrap(),
    )
    .with_alg(Algorithm::ES256)
    .with_decryption(Decryptor::new(expect, set))
}

fn validate(v: &IdTokenValidator, op: &Op, token: &str) -> Result<String, IdTokenError> {
    v.validate(token, &op.keys, &Expectations::default(), UnixTime(NOW))
        .map(|t| t.claims().sub.clone())
}

#[test]
fn registration_members_decide_and_enc_defaults() {
    let reg = |v: Value| v.as_object().unwrap().clone();
    let r = reg(json!({"id_token_encrypted_response_alg": "ECDH-ES"}));
    assert_eq!(
        ResponseEncryption::from_registration(&r, EncryptedResponse::IdToken).unwrap(),
        Some(ResponseEncryption::new(
            KeyManagementAlg::EcdhEs,
            ContentEncAlg::A128CbcHs256
        ))
    );
    assert_eq!(
        ResponseEncryption::from_registration(&r, EncryptedResponse::UserInfo).unwrap(),
        None
    );
    let r = reg(json!({"userinfo_encrypted_response_enc": "A256GCM"}));
    assert!(matches!(
        ResponseEncryption::from_registration(&r, EncryptedResponse::UserInfo),
        Err(EncryptionConfigError::EncWithoutAlg { .. })
    ));
    let r = reg(json!({"id_token_encrypted_response_alg": "RSA1_5"}));
    assert!(matches!(
        ResponseEncryption::from_registration(&r, EncryptedResponse::IdToken),
        Err(EncryptionConfigError::UnknownAlg { .. })
    ));
    assert_eq!(
        "RSA-OAEP-256/A256GCM"
            .parse::<ResponseEncryption>()
            .unwrap(),
        OAEP
    );
    assert_eq!(
        "ECDH-ES".parse::<ResponseEncryption>().unwrap().enc,
        DEFAULT_ENC
    );
    assert!("RSA-OAEP-256/A1GCM".parse::<ResponseEncryption>().is_err());
    assert_eq!(OAEP.to_string(), "RSA-OAEP-256/A256GCM");
}

#[test]
fn an_encrypted_id_token_is_decrypted_and_its_signature_checked() {
    let op = op();
    let key = rp_key("enc-1");
    let v = validator(std::slice::from_ref(&key), OAEP);
    let inner = signed(&op, &id_claims());
    let token = encrypt(OAEP, &key, json!({"kid": "enc-1", "cty": "JWT"}), &inner);
    let verified = v
        .validate(&token, &op.keys, &Expectations::default(), UnixTime(NOW))
        .unwrap();
    assert_eq!(verified.claims().sub, "alice");
    // id_token_hint wants the signed token.
    assert_eq!(verified.raw().expose(), inner);

    // The nested JWS is validated as usual: another signer, or a wrong audience, fails.
    let stranger = SigningKey::generate(Algorithm::ES256, None)
        .unwrap()
        .with_kid("op-1");
    let forged = jws::sign_compact(
        &jws::Header::default(),
        id_claims().to_string().as_bytes(),
        &stranger,
        &SystemRandom::new(),
    )
    .unwrap();
    let token = encrypt(OAEP, &key, json!({"kid": "enc-1"}), &forged);
    assert!(matches!(
        validate(&v, &op, &token),
        Err(IdTokenError::Jwt(crate::jwt::JwtError::InvalidSignature))
    ));
    let mut other_aud = id_claims();
    other_aud["aud"] = json!("someone-else");
    let token = encrypt(OAEP, &key, json!({}), &signed(&op, &other_aud));
    assert!(matches!(
        validate(&v, &op, &token),
        Err(IdTokenError::AudienceMismatch { .. })
    ));
}

#[test]
fn an_unencrypted_id_token_is_refused_when_encryption_is_registered() {
    let op = op();
    let v = validator(&[rp_key("enc-1")], OAEP);
    let err = validate(&v, &op, &signed(&op, &id_claims())).unwrap_err();
    assert!(matches!(
        err,
        IdTokenError::Decryption(DecryptError::NotEncrypted { expected }) if expected == OAEP
    ));
    assert!(err.to_string().contains("RSA-OAEP-256/A256GCM"), "{err}");
}

#[test]
fn algorithms_come_from_the_registration_not_the_header() {
    let op = op();
    let key = rp_key("enc-1");
    let v = validator(std::slice::from_ref(&key), OAEP);
    let inner = signed(&op, &id_claims());
    let other_alg = ResponseEncryption::new(KeyManagementAlg::RsaOaep, ContentEncAlg::A256Gcm);
    let token = encrypt(other_alg, &key, json!({}), &inner);
    assert!(matches!(
        validate(&v, &op, &token),
        Err(IdTokenError::Decryption(DecryptError::AlgorithmMismatch { got, .. })) if got == "RSA-OAEP"
    ));
    let other_enc = ResponseEncryption::new(KeyManagementAlg::RsaOaep256, ContentEncAlg::A128Gcm);
    let token = encrypt(other_enc, &key, json!({}), &inner);
    assert!(matches!(
        validate(&v, &op, &token),
        Err(IdTokenError::Decryption(DecryptError::EncryptionMismatch { got, .. })) if got == "A128GCM"
    ));
    let token = encrypt(OAEP, &key, json!({"zip": "DEF"}), &inner);
    assert!(matches!(
        validate(&v, &op, &token),
        Err(IdTokenError::Decryption(DecryptError::Compressed))
    ));
}

#[test]
fn keys_by_kid_and_retired_keys_without_one() {
    let op = op();
    let current = rp_key("new");
    let retired = rp_key("old");
    let v = validator(&[current.clone(), retired.clone()], OAEP);
    let inner = signed(&op, &id_claims());
    // To the retired key, with and without its kid: still decrypts.
    for header in [json!({"kid": "old"}), json!({})] {
        let token = encrypt(OAEP, &retired, header, &inner);
        assert_eq!(validate(&v, &op, &token).unwrap(), "alice");
    }
    // To a key the RP does not have (unknown, or removed from the store).
    let removed = rp_key("gone");
    let token = encrypt(OAEP, &removed, json!({"kid": "gone"}), &inner);
    let err = validate(&v, &op, &token).unwrap_err();
    assert!(
        matches!(&err, IdTokenError::Decryption(DecryptError::NoKey { kid: Some(k), .. }) if k == "gone"),
        "{err}"
    );
    let token = encrypt(OAEP, &removed, json!({}), &inner);
    assert!(matches!(
        validate(&v, &op, &token),
        Err(IdTokenError::Decryption(DecryptError::DecryptionFailed))
    ));
}

#[test]
fn symmetric_key_management_uses_the_client_secret() {
    let op = op();
    let secret = crate::secret::Secret::new("a-client-secret-of-some-length");
    let expect = ResponseEncryption::new(KeyManagementAlg::A256Kw, ContentEncAlg::A256Gcm);
    let v = IdTokenValidator::new(
        IssuerUrl::new("https://op.example").unwrap(),
        ClientId::new("rp").unwrap(),
    )
    .with_alg(Algorithm::ES256)
    .with_decryption(Decryptor::new(expect, DecryptionKeys::new()).with_client_secret(&secret));
    // OIDC Core §10.2: the KEK is the left 256 bits of SHA-256 of the secret.
    let kek =
        relier_jose::jwe::derive_key_from_client_secret(secret.expose().as_bytes(), 32).unwrap();
    let token = encrypt_compact(
        expect.alg,
        expect.enc,
        Recipient::Symmetric(&kek),
        &Map::new(),
        signed(&op, &id_claims()).as_bytes(),
    )
    .unwrap();
    assert_eq!(validate(&v, &op, &token).unwrap(), "alice");
}

fn jwt_response(body: &str) -> HttpResponse {
    HttpResponse {
        status: 200,
        content_type: Some("application/jwt".into()),
        www_authenticate: None,
        cache_control: None,
        body: body.as_bytes().to_vec(),
    }
}

fn userinfo_check(
    op: &Op,
    resp: &HttpResponse,
    decryptor: Option<&Decryptor>,
    required: bool,
) -> Result<Map<String, Value>, UserInfoError> {
    let issuer = IssuerUrl::new("https://op.example").unwrap();
    let client_id = ClientId::new("rp").unwrap();
    let signed = SignedUserInfo {
        keys: &op.keys,
        policy: crate::jwt::JwtPolicy {
            alg: Algorithm::ES256,
            hmac_key: None,
        },
        required,
        issuer: &issuer,
        client_id: &client_id,
        decryptor,
    };
    userinfo::parse(resp, "alice", &signed)
}

#[test]
fn userinfo_encrypted_signed_and_plain() {
    let op = op();
    let key = rp_key("enc-1");
    let d = Decryptor::new(OAEP, DecryptionKeys::new().with_key(key.clone()).unwrap());
    let claims =
        json!({"sub": "alice", "email": "a@example", "iss": "https://op.example", "aud": "rp"});

    // Encrypted only: the plaintext is the JSON object.
    let resp = jwt_response(&encrypt(OAEP, &key, json!({}), &claims.to_string()));
    let got = userinfo_check(&op, &resp, Some(&d), false).unwrap();
    assert_eq!(got["email"], "a@example");
    // Signed then encrypted.
    let nested = encrypt(OAEP, &key, json!({"cty": "JWT"}), &signed(&op, &claims));
    let got = userinfo_check(&op, &jwt_response(&nested), Some(&d), true).unwrap();
    assert_eq!(got["sub"], "alice");
    // Signed then encrypted, with a wrong aud inside.
    let mut bad = claims.clone();
    bad["aud"] = json!("other");
    let nested = encrypt(OAEP, &key, json!({}), &signed(&op, &bad));
    assert!(matches!(
        userinfo_check(&op, &jwt_response(&nested), Some(&d), true),
        Err(UserInfoError::AudienceMismatch { .. })
    ));
    // Encryption registered: plain JSON and a bare JWS are refused.
    let plain = HttpResponse::json(200, &claims.to_string());
    for resp in [plain, jwt_response(&signed(&op, &claims))] {
        assert!(matches!(
            userinfo_check(&op, &resp, Some(&d), false),
            Err(UserInfoError::Decryption(DecryptError::NotEncrypted { .. }))
        ));
    }
    // Signed only (no encryption): iss checked.
    let mut wrong_iss = claims.clone();
    wrong_iss["iss"] = json!("https://evil.example");
    assert!(matches!(
        userinfo_check(&op, &jwt_response(&signed(&op, &wrong_iss)), None, true),
        Err(UserInfoError::IssuerMismatch { .. })
    ));
}
