use relier_core::AuthMethod;
use relier_core::federation::EntityMetadata;
use relier_core::http::HttpResponse;
use relier_core::registration::parse_response;
use serde_json::{Map, Value};

use super::*;
use crate::config::Config;

const REDIRECT: &str = "https://rp.example/auth/callback/p";

/// The table's registration with the client authentication `method` and [`REDIRECT`], as
/// an inline provider's spec states it.
fn configured(
    p: &ProviderConfig,
    method: AuthMethod,
    redirect: &str,
) -> Result<Registration, GatewayError> {
    p.settings
        .registration(Some(method), Some(redirect))
        .map_err(|e| GatewayError::provider(&p.name, e))
}

/// The first provider of `[[providers]]` `table` (presets expanded).
fn provider(table: &str) -> ProviderConfig {
    let c = Config::from_toml(&format!(
        "public_url = \"https://rp.example\"\n[[providers]]\nname = \"p\"\n{table}"
    ))
    .unwrap();
    crate::presets::expand(c)
        .unwrap()
        .providers
        .into_iter()
        .next()
        .unwrap()
}

/// The FTN contract's metadata, as the members a registration response, an entity statement
/// and a `[[providers]]` table state it.
fn ftn_metadata() -> Map<String, Value> {
    serde_json::json!({
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "RS256",
        "id_token_signed_response_alg": "RS256",
        "id_token_encrypted_response_alg": "RSA-OAEP",
        "id_token_encrypted_response_enc": "A128CBC-HS256",
        "request_object_signing_alg": "RS256",
        "require_signed_request_object": true,
        "redirect_uris": [REDIRECT],
    })
    .as_object()
    .cloned()
    .unwrap()
}

/// Issue 21 §1: a registration response (register / import), an entity statement's
/// `metadata.openid_relying_party`, a `[[providers]]` table and a preset give the same
/// registration for the same metadata.
#[test]
fn the_four_sources_give_the_same_registration() {
    let subject = Some("personal_identity_code".to_owned());
    // A registration response (what `providers register` and `import` read).
    let mut body = Value::Object(ftn_metadata());
    body["client_id"] = "saippuakauppias".into();
    let response = parse_response(&HttpResponse {
        status: 201,
        content_type: Some("application/json".into()),
        www_authenticate: None,
        cache_control: None,
        body: body.to_string().into_bytes(),
    })
    .unwrap();
    let from_response = Registration::from_response(&response)
        .unwrap()
        .with_subject_claim(subject.clone());
    // An entity statement's metadata.openid_relying_party.
    let from_statement = Registration::from_entity_metadata(&EntityMetadata {
        openid_relying_party: Some(ftn_metadata()),
        openid_provider: None,
    })
    .unwrap()
    .unwrap()
    .with_subject_claim(subject.clone());
    // A [[providers]] table stating the same keys by hand.
    let table = provider(
        "issuer = \"https://op.example\"\nclient_id = \"saippuakauppias\"\n\
         auth_method = \"private_key_jwt\"\nsigning_alg = \"RS256\"\nuse_store_key = true\n\
         id_token_alg = \"RS256\"\nid_token_encrypted_response_alg = \"RSA-OAEP\"\n\
         request_object_signing_alg = \"RS256\"\nrequire_signed_request_object = true",
    );
    let from_table = configured(&table, AuthMethod::PrivateKeyJwt, REDIRECT)
        .unwrap()
        .with_subject_claim(subject.clone());
    // The preset, which states them itself.
    let preset = provider(
        "preset = \"ftn\"\nentity_statement = \"isb.jwt\"\nclient_id = \"saippuakauppias\"\n\
         ftn_spname = \"Soap for the people\"",
    );
    let from_preset = configured(&preset, AuthMethod::PrivateKeyJwt, REDIRECT).unwrap();
    assert_eq!(from_preset.subject_claim, subject);
    assert_eq!(from_response, from_statement);
    assert_eq!(from_response, from_table);
    assert_eq!(from_response, from_preset);
    assert!(from_preset.request_objects.required);
    assert_eq!(from_preset.redirect_uris, [REDIRECT]);
}

/// A table key relier cannot use is refused, naming it (the keys are the members' names).
#[test]
fn an_unusable_key_is_named() {
    let p = provider(
        "issuer = \"https://op.example\"\nclient_id = \"c\"\n\
         id_token_encrypted_response_alg = \"RSA1_5\"",
    );
    let e = configured(&p, AuthMethod::ClientSecretBasic, REDIRECT)
        .unwrap_err()
        .to_string();
    assert!(e.contains("id_token_encrypted_response_alg"), "{e}");
    let p = provider("issuer = \"https://op.example\"\nclient_id = \"c\"\npar = true");
    let reg = configured(&p, AuthMethod::ClientSecretBasic, REDIRECT).unwrap();
    assert!(reg.requires_par);
    // Keys named otherwise than their members are named as the table names them.
    let p = provider("issuer = \"https://op.example\"\nclient_id = \"c\"\nsigning_alg = \"HS256\"");
    let e = configured(&p, AuthMethod::PrivateKeyJwt, REDIRECT)
        .unwrap_err()
        .to_string();
    assert!(e.contains("signing_alg: HS256: private_key_jwt"), "{e}");
    assert!(!e.contains("token_endpoint_auth_signing_alg"), "{e}");
}
