use relier_core::profile::Profile;
use relier_core::userinfo::UserInfoError;
use relier_core::{IssuerUrl, Secret};
use relier_jose::SigningKey;

use super::*;

fn md(extra: serde_json::Value) -> ProviderMetadata {
    let mut doc = serde_json::json!({
        "issuer": "https://op.example.com",
        "authorization_endpoint": "https://op.example.com/a",
        "token_endpoint": "https://op.example.com/t",
        "pushed_authorization_request_endpoint": "https://op.example.com/par",
        "jwks_uri": "https://op.example.com/jwks",
    });
    if let (Some(d), Some(e)) = (doc.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    let iss = IssuerUrl::new("https://op.example.com").unwrap();
    ProviderMetadata::from_json(&iss, doc.to_string().as_bytes()).unwrap()
}

fn registration(members: serde_json::Value) -> Registration {
    Registration::from_metadata(members.as_object().unwrap()).unwrap()
}

fn secret() -> ClientCredentials {
    ClientCredentials {
        secret: Some(Secret::new("s".repeat(32))),
        ..Default::default()
    }
}

fn spec(reg: Registration) -> ProviderSpec {
    ProviderSpec::new(ClientId::new("rp").unwrap(), reg)
}

fn build(spec: &ProviderSpec, creds: &ClientCredentials) -> Result<RelyingParty, Error> {
    let metadata = md(serde_json::json!({}));
    let auth = spec.client_auth(creds, &metadata)?.auth;
    let http = HttpClient::new(&Default::default()).unwrap();
    spec.relying_party(http, metadata, creds, auth, &ResponseKeys::default())
}

#[test]
fn unsigned_id_tokens_only_when_registered_and_never_under_a_profile() {
    let default = spec(Registration::default());
    assert_eq!(
        default.id_token_alg().unwrap(),
        IdTokenAlg::Signed(Algorithm::RS256)
    );
    let mut unsigned = spec(registration(
        serde_json::json!({"id_token_signed_response_alg": "none"}),
    ));
    assert!(unsigned.id_token_alg().unwrap().is_unsigned());
    assert!(build(&unsigned, &secret()).is_ok());
    unsigned.profile = Some(Profile::Fapi2);
    assert!(matches!(
        unsigned.id_token_alg(),
        Err(ProviderError::UnsignedUnderProfile {
            profile: Profile::Fapi2
        })
    ));
    let e = build(&unsigned, &secret()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Provider(ProviderError::UnsignedUnderProfile { .. })
        ),
        "{e}"
    );
}

#[test]
fn hmac_id_tokens_and_userinfo_need_the_client_secret() {
    for members in [
        serde_json::json!({"token_endpoint_auth_method": "none", "id_token_signed_response_alg": "HS256"}),
        serde_json::json!({"token_endpoint_auth_method": "none", "userinfo_signed_response_alg": "HS384"}),
    ] {
        let s = spec(registration(members.clone()));
        let e = build(&s, &ClientCredentials::default()).unwrap_err();
        assert!(
            matches!(e, Error::Provider(ProviderError::HmacNeedsSecret)),
            "{members}: {e}"
        );
        assert!(build(&s, &secret()).is_ok(), "{members}");
    }
}

#[test]
fn the_binding_is_the_registered_one_plus_the_one_asked_for() {
    let mut s = spec(registration(
        serde_json::json!({"dpop_bound_access_tokens": true}),
    ));
    assert_eq!(
        s.binding(),
        TokenBinding {
            dpop: true,
            certificate: false
        }
    );
    s.binding.certificate = true;
    assert_eq!(
        s.binding(),
        TokenBinding {
            dpop: true,
            certificate: true
        }
    );
    let mut asked = spec(Registration::default());
    asked.binding.dpop = true;
    assert!(asked.binding().dpop);
}

#[test]
fn a_dpop_bound_token_never_goes_in_the_body() {
    let mut registered = spec(registration(
        serde_json::json!({"dpop_bound_access_tokens": true}),
    ));
    registered.userinfo_token_method = TokenMethod::Body;
    let e = build(&registered, &secret()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Provider(ProviderError::TokenMethod(UserInfoError::BodyWithDpop))
        ),
        "{e}"
    );
    let mut asked = spec(Registration::default());
    asked.userinfo_token_method = TokenMethod::Body;
    assert!(build(&asked, &secret()).is_ok());
    asked.binding.dpop = true;
    assert!(build(&asked, &secret()).is_err());
}

#[test]
fn par_when_the_registration_requires_it_or_when_asked() {
    let plain = build(&spec(Registration::default()), &secret()).unwrap();
    assert!(!plain.uses_par());
    let registered = spec(registration(
        serde_json::json!({"require_pushed_authorization_requests": true}),
    ));
    assert!(build(&registered, &secret()).unwrap().uses_par());
    let mut asked = spec(Registration::default());
    asked.par = true;
    assert!(build(&asked, &secret()).unwrap().uses_par());
}

#[test]
fn request_objects_are_signed_with_the_clients_key() {
    let members = serde_json::json!({
        "token_endpoint_auth_method": "private_key_jwt",
        "request_object_signing_alg": "ES256",
    });
    let s = spec(registration(members));
    let e = build(&s, &secret()).unwrap_err();
    assert!(matches!(e, Error::Credentials(_)), "{e}");
    let key = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let creds = ClientCredentials {
        key: Some(key),
        ..Default::default()
    };
    let rp = build(&s, &creds).unwrap();
    assert!(rp.uses_request_objects());
    // Without a key for them (the client authenticates with a secret), refused at build.
    let mut by_secret = s.clone();
    by_secret.client.method = Some(relier_core::AuthMethod::ClientSecretBasic);
    let e = build(&by_secret, &secret()).unwrap_err();
    assert!(matches!(e, Error::RequestObject(_)), "{e}");
}

#[test]
fn response_keys_name_their_kids_once() {
    let mut keys = ResponseKeys::default();
    assert!(keys.key_ids().is_empty());
    keys.set(EncryptedResponse::IdToken, DecryptionKeys::new());
    assert!(keys.get(EncryptedResponse::IdToken).is_some());
    assert!(keys.get(EncryptedResponse::UserInfo).is_none());
    assert!(keys.get(EncryptedResponse::RequestObject).is_none());
}

#[test]
fn the_client_keys_are_named_as_the_table_names_them() {
    let mut s = ProviderSettings {
        par: true,
        scopes: Some(vec!["openid".into()]),
        ..Default::default()
    };
    assert!(
        s.client_keys().is_empty(),
        "PAR and scopes are no client keys"
    );
    s.id_token_alg = Some("RS256".into());
    s.client_id = Some("c".into());
    s.dpop_bound_access_tokens = true;
    assert_eq!(
        s.client_keys(),
        ["client_id", "dpop_bound_access_tokens", "id_token_alg"]
    );
}

#[test]
fn settings_state_a_registration_naming_their_keys() {
    let s = ProviderSettings {
        signing_alg: Some("HS256".into()),
        ..Default::default()
    };
    let e = s
        .registration(Some(relier_core::AuthMethod::PrivateKeyJwt), None)
        .unwrap_err();
    assert_eq!(e.key, "signing_alg");
    let s = ProviderSettings {
        assertion_audience: Some("everyone".into()),
        ..Default::default()
    };
    let e = s.spec(ClientId::new("c").unwrap(), None, None).unwrap_err();
    assert_eq!(e.key, "assertion_audience");
    let s = ProviderSettings {
        par: true,
        assertion_audience: Some("endpoint".into()),
        ..Default::default()
    };
    let spec = s
        .spec(
            ClientId::new("c").unwrap(),
            None,
            Some("https://rp.example/cb"),
        )
        .unwrap();
    assert!(spec.registration.requires_par && spec.par);
    assert_eq!(spec.client.audience, AssertionAudience::Endpoint);
    assert_eq!(spec.registration.redirect_uris, ["https://rp.example/cb"]);
}
