use relier_core::AuthMethod;
use relier_core::encryption::ResponseEncryption;
use relier_jose::jwe::{ContentEncAlg, KeyManagementAlg};
use serde_json::json;

use super::*;

fn stored(reg: &Value) -> StoredRegistration {
    StoredRegistration::from_metadata(reg.as_object().unwrap()).unwrap()
}

fn record(reg: &Value) -> ProviderRecord {
    let mut r = ProviderRecord::new("op", "https://op", "c", AuthMethod::PrivateKeyJwt);
    r.registration = Some(stored(reg));
    r
}

fn rich() -> Value {
    json!({
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "PS256",
        "id_token_signed_response_alg": "ES256",
        "id_token_encrypted_response_alg": "RSA-OAEP-256",
        "id_token_encrypted_response_enc": "A256GCM",
        "userinfo_encrypted_response_alg": "ECDH-ES",
        "userinfo_signed_response_alg": "ES256",
        "request_object_signing_alg": "PS256",
        "require_signed_request_object": true,
        "request_object_encryption_alg": "RSA-OAEP",
        "authorization_signed_response_alg": "ES256",
        "authorization_encrypted_response_alg": "ECDH-ES+A128KW",
        "require_pushed_authorization_requests": true,
        "dpop_bound_access_tokens": true,
        "tls_client_certificate_bound_access_tokens": true,
        "redirect_uris": ["https://rp.example/cb", "https://rp.example/cb2"],
        "client_secret_expires_at": 1_900_000_000u64,
    })
}

#[test]
fn id_token_alg_none_needs_the_registration_to_agree() {
    let mut r = ProviderRecord::new("op", "https://op.example.com", "rp", AuthMethod::None);
    r.id_token_alg = Some(Algorithm::None);
    assert_eq!(r.pinned_id_token_alg().unwrap(), Some(Algorithm::None));
    r.registration = Some(stored(&json!({"id_token_signed_response_alg": "none"})));
    assert_eq!(r.pinned_id_token_alg().unwrap(), Some(Algorithm::None));
    assert_eq!(
        r.registered().unwrap().id_token_signed_alg,
        Some(Algorithm::None)
    );
    r.registration = Some(stored(&json!({"id_token_signed_response_alg": "RS256"})));
    assert!(r.pinned_id_token_alg().is_err());
    assert!(r.registered().is_err());
    r.registration = Some(stored(&json!({})));
    assert!(r.pinned_id_token_alg().is_err());
    r.id_token_alg = Some(Algorithm::RS256);
    r.registration = Some(stored(&json!({"id_token_signed_response_alg": "none"})));
    assert!(r.pinned_id_token_alg().is_err());
    r.registration = Some(stored(&json!({"id_token_signed_response_alg": "RS256"})));
    assert_eq!(r.pinned_id_token_alg().unwrap(), Some(Algorithm::RS256));
}

#[test]
fn the_registration_decides_and_the_record_columns_fill_in() {
    let r = record(&rich());
    let reg = r.registered().unwrap();
    assert_eq!(
        reg.id_token_encryption,
        Some(ResponseEncryption::new(
            KeyManagementAlg::RsaOaep256,
            ContentEncAlg::A256Gcm
        ))
    );
    assert_eq!(
        reg.userinfo_encryption.map(|e| e.enc),
        Some(ContentEncAlg::A128CbcHs256)
    );
    assert_eq!(reg.userinfo_signed_alg, Some(Algorithm::ES256));
    assert_eq!(
        (reg.request_objects.alg, reg.request_objects.required),
        (Some(Algorithm::PS256), true)
    );
    assert_eq!(reg.jarm.map(|j| j.alg), Some(Algorithm::ES256));
    assert!(reg.requires_par && reg.binding.dpop);
    // The method, assertion algorithm and redirect URIs are the record's columns (a
    // hand-added provider has no registration response).
    assert_eq!(reg.auth_method, AuthMethod::PrivateKeyJwt);
    assert_eq!(reg.auth_signing_alg, None);
    assert!(reg.redirect_uris.is_empty());
    let plain = ProviderRecord::new("op", "https://op", "c", AuthMethod::None).registered();
    let plain = plain.unwrap();
    assert_eq!(plain.auth_method, AuthMethod::None);
    assert_eq!(plain.id_token_encryption, None);
    assert!(!plain.requires_par);
}

#[test]
fn the_encoding_round_trips_every_member() {
    let reg = Registration::from_metadata(rich().as_object().unwrap())
        .unwrap()
        .with_subject_claim(Some("personal_identity_code".into()));
    let text = encoding::encode(&reg).unwrap();
    assert!(text.starts_with(r#"{"v":1,"#), "{text}");
    assert_eq!(encoding::decode("op", &text).unwrap(), reg);
    let plain = Registration::default();
    let text = encoding::encode(&plain).unwrap();
    assert_eq!(encoding::decode("op", &text).unwrap(), plain);
    let s = StoredRegistration::new(reg.clone(), Some(0));
    assert_eq!(s.to_json()["subject_claim"], "personal_identity_code");
    assert_eq!(s.to_json()["id_token_encryption"]["alg"], "RSA-OAEP-256");
    assert_eq!(secret_expiry(Some(&s)), None);
    assert_eq!(secret_expiry(Some(&stored(&rich()))), Some(1_900_000_000));
}

#[test]
fn a_stored_encoding_is_read_only_as_its_layout() {
    let text = encoding::encode(&Registration::default()).unwrap();
    let newer = text.replacen(r#""v":1"#, r#""v":2"#, 1);
    let e = encoding::decode("op", &newer).unwrap_err();
    assert!(matches!(e, StoreError::Unsupported { .. }), "{e:?}");
    assert!(e.to_string().contains("provider op"), "{e}");
    let extra = text.replacen('{', r#"{"jwks_uri":"https://x","#, 1);
    let e = encoding::decode("op", &extra).unwrap_err();
    assert!(matches!(e, StoreError::Database { .. }), "{e:?}");
    let bad_alg = text.replacen(
        r#""auth_method":"client_secret_basic""#,
        r#""auth_method":"magic""#,
        1,
    );
    assert_ne!(bad_alg, text);
    let e = encoding::decode("op", &bad_alg).unwrap_err();
    assert!(matches!(e, StoreError::Database { .. }), "{e:?}");
    assert!(!e.to_string().contains("magic"), "{e}");
}

#[test]
fn an_unusable_member_is_named() {
    for (reg, member) in [
        (
            json!({"id_token_encrypted_response_alg": "RSA1_5"}),
            "id_token_encrypted_response_alg",
        ),
        (
            json!({"userinfo_signed_response_alg": "none"}),
            "userinfo_signed_response_alg",
        ),
        (
            json!({"tls_client_certificate_bound_access_tokens": 1}),
            "tls_client_certificate_bound_access_tokens",
        ),
        (
            json!({"require_pushed_authorization_requests": "yes"}),
            "require_pushed_authorization_requests",
        ),
        (
            json!({"request_object_signing_alg": "HS256"}),
            "request_object_signing_alg",
        ),
    ] {
        let e = StoredRegistration::from_metadata(reg.as_object().unwrap()).unwrap_err();
        assert_eq!(e.member(), member);
        // Stored by an earlier version: kept, and reading it names the provider and member.
        let mut r = ProviderRecord::new("legacy-op", "https://op", "c", AuthMethod::None);
        r.registration = StoredRegistration::from_stored_response(&reg.to_string());
        let stored = r.registration.clone().unwrap();
        assert!(stored.registration().is_none());
        assert_eq!(stored.stored().unwrap(), (None, Some(reg.to_string())));
        let e = r.registered().unwrap_err();
        assert!(
            matches!(&e, StoreError::UnusableRegistration { provider, member: m, .. }
                if provider == "legacy-op" && m == member),
            "{e:?}"
        );
        let text = e.to_string();
        assert!(
            text.contains("legacy-op") && text.contains(member),
            "{text}"
        );
        assert_eq!(stored.to_json()["unconverted"]["member"], member);
    }
}

#[test]
fn stored_responses_convert() {
    let converted = StoredRegistration::from_stored_response(&rich().to_string()).unwrap();
    assert_eq!(converted, stored(&rich()));
    assert_eq!(converted.client_secret_expires_at(), Some(1_900_000_000));
    // Not an object: decided nothing, as before.
    assert_eq!(StoredRegistration::from_stored_response("null"), None);
    assert_eq!(StoredRegistration::from_stored_response("[1]"), None);
    let broken = StoredRegistration::from_stored_response("{oops").unwrap();
    assert!(broken.registration().is_none());
    assert_eq!(broken.to_json()["unconverted"]["member"], "registration");
}
