use relier_jose::jwe::{ContentEncAlg, KeyManagementAlg};
use serde_json::json;

use super::*;
use crate::federation::publish::{EntityId, RelyingPartyMetadata};
use crate::http::HttpResponse;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn response(body: &Value) -> RegistrationResponse {
    crate::registration::parse_response(&HttpResponse {
        status: 201,
        content_type: Some("application/json".into()),
        www_authenticate: None,
        cache_control: None,
        body: body.to_string().into_bytes(),
    })
    .unwrap()
}

#[test]
fn nothing_registered_is_the_defaults() {
    let r = Registration::from_metadata(&Map::new()).unwrap();
    assert_eq!(r, Registration::default());
    assert_eq!(r.auth_method, AuthMethod::ClientSecretBasic);
    assert!(!r.requires_par);
    assert_eq!(r.needs_client_secret(), None);
}

/// The same metadata from a registration response and from an entity statement's
/// `metadata.openid_relying_party` gives the same registration.
#[test]
fn the_same_metadata_gives_the_same_registration_from_each_source() {
    let stated = RelyingPartyMetadata {
        redirect_uris: vec!["https://rp.example/auth/callback/op".into()],
        id_token_signed_response_alg: Algorithm::PS256,
        id_token_encryption: Some(ResponseEncryption::new(
            KeyManagementAlg::RsaOaep256,
            ContentEncAlg::A256Gcm,
        )),
        userinfo_encryption: Some(ResponseEncryption::new(
            KeyManagementAlg::EcdhEs,
            ContentEncAlg::A128CbcHs256,
        )),
        request_object_signing_alg: Some(Algorithm::ES256),
        token_endpoint_auth_method: AuthMethod::PrivateKeyJwt,
        token_endpoint_auth_signing_alg: Some(Algorithm::ES256),
        organization_name: Some("RP".into()),
    };
    let entity = EntityId::new("https://rp.example").unwrap();
    let rp = stated.to_json(&entity);
    let from_statement = Registration::from_entity_metadata(&EntityMetadata {
        openid_relying_party: Some(rp.clone()),
        openid_provider: None,
    })
    .unwrap()
    .unwrap();
    let mut body = Value::Object(rp);
    body["client_id"] = json!("rp-1");
    body["client_secret"] = json!("not-a-member-that-decides");
    let from_response = Registration::from_response(&response(&body)).unwrap();
    assert_eq!(from_statement, from_response);
    assert_eq!(from_response.auth_method, AuthMethod::PrivateKeyJwt);
    assert_eq!(from_response.auth_signing_alg, Some(Algorithm::ES256));
    assert_eq!(from_response.id_token_signed_alg, Some(Algorithm::PS256));
    assert_eq!(
        from_response.id_token_encryption,
        stated.id_token_encryption
    );
    assert_eq!(
        from_response.userinfo_encryption,
        stated.userinfo_encryption
    );
    assert_eq!(from_response.request_objects.alg, Some(Algorithm::ES256));
    assert_eq!(from_response.redirect_uris, stated.redirect_uris);
    assert_eq!(
        Registration::from_entity_metadata(&EntityMetadata::default()).unwrap(),
        None
    );
}

#[test]
fn every_member_that_decides_is_read() {
    let r = Registration::from_metadata(&obj(json!({
        "token_endpoint_auth_method": "client_secret_jwt",
        "token_endpoint_auth_signing_alg": "HS512",
        "id_token_signed_response_alg": "none",
        "userinfo_signed_response_alg": "ES256",
        "authorization_signed_response_alg": "PS256",
        "authorization_encrypted_response_alg": "A128KW",
        "request_object_signing_alg": "EdDSA",
        "require_signed_request_object": true,
        "require_pushed_authorization_requests": true,
        "dpop_bound_access_tokens": true,
        "tls_client_certificate_bound_access_tokens": false,
        "redirect_uris": ["http://127.0.0.1/cb"],
        "client_name": "ignored",
    })))
    .unwrap();
    assert_eq!(r.auth_method, AuthMethod::ClientSecretJwt);
    assert_eq!(r.auth_signing_alg, Some(Algorithm::HS512));
    assert_eq!(r.id_token_signed_alg, Some(Algorithm::None));
    assert_eq!(r.userinfo_signed_alg, Some(Algorithm::ES256));
    assert_eq!(r.jarm.map(|j| j.alg), Some(Algorithm::PS256));
    assert_eq!(
        (r.request_objects.alg, r.request_objects.required),
        (Some(Algorithm::EdDSA), true)
    );
    assert!(r.requires_par && r.binding.dpop && !r.binding.certificate);
    assert_eq!(r.redirect_uris, ["http://127.0.0.1/cb"]);
    assert_eq!(
        r.needs_client_secret(),
        Some("authorization_encrypted_response_alg")
    );
    let r = r.with_subject_claim(Some("personal_identity_code".into()));
    assert_eq!(r.subject_claim.as_deref(), Some("personal_identity_code"));
}

#[test]
fn unusable_members_are_named() {
    for (metadata, member) in [
        (
            json!({"id_token_encrypted_response_alg": "RSA1_5"}),
            "id_token_encrypted_response_alg",
        ),
        (
            json!({"id_token_encrypted_response_alg": "RSA-OAEP", "id_token_encrypted_response_enc": "A128CTR"}),
            "id_token_encrypted_response_enc",
        ),
        (
            json!({"userinfo_encrypted_response_enc": "A128GCM"}),
            "userinfo_encrypted_response_enc",
        ),
        (
            json!({"token_endpoint_auth_method": "client_secret_magic"}),
            "token_endpoint_auth_method",
        ),
        (
            json!({"token_endpoint_auth_method": "private_key_jwt", "token_endpoint_auth_signing_alg": "HS256"}),
            "token_endpoint_auth_signing_alg",
        ),
        (
            json!({"token_endpoint_auth_method": "client_secret_jwt", "token_endpoint_auth_signing_alg": "RS256"}),
            "token_endpoint_auth_signing_alg",
        ),
        (
            json!({"id_token_signed_response_alg": "XS256"}),
            "id_token_signed_response_alg",
        ),
        (
            json!({"userinfo_signed_response_alg": "none"}),
            "userinfo_signed_response_alg",
        ),
        (
            json!({"request_object_signing_alg": "HS256"}),
            "request_object_signing_alg",
        ),
        (
            json!({"request_object_encryption_alg": "dir"}),
            "request_object_encryption_alg",
        ),
        (
            json!({"authorization_signed_response_alg": "none"}),
            "authorization_signed_response_alg",
        ),
        (
            json!({"require_pushed_authorization_requests": "yes"}),
            "require_pushed_authorization_requests",
        ),
        (
            json!({"dpop_bound_access_tokens": 1}),
            "dpop_bound_access_tokens",
        ),
        (json!({"redirect_uris": "http://x"}), "redirect_uris"),
    ] {
        let e = Registration::from_metadata(&obj(metadata.clone())).unwrap_err();
        assert_eq!(e.member(), member, "{metadata}: {e}");
        assert!(e.to_string().contains(member), "{e}");
    }
}
