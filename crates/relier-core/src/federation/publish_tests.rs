//! Vectors: the OP Identity Service Broker's sandbox SP keys and its README's example
//! statement (§13) and signed JWKS (§14).

use aws_lc_rs::rand::SystemRandom;
use relier_jose::jwe::{ContentEncAlg, KeyManagementAlg};
use relier_jose::jws::UnverifiedJws;
use relier_jose::{Algorithm, Jwk, JwkSet, SigningKey, VerifyingKey};
use serde_json::{Value, json};

use super::*;
use crate::encryption::ResponseEncryption;

const SP_ENTITY: &str = include_str!("../../../../tests/vectors/isb/sp-entity-signing-key.pem");
const SP_SIGNING: &str = include_str!("../../../../tests/vectors/isb/sp-signing-key.pem");
const ENTITY_KID: &str = "QUGHzS05831lYsOB7_o-Nz2Ode2jmnmh5dJjDA5Q5SM";
const SIG_KID: &str = "dl-lgRcT7LhEkqbnod6QGBHl8veqgZenwdB3RV2OJkY";
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

fn key(pem: &str) -> SigningKey {
    let key = SigningKey::from_pkcs8_pem(pem, Some(Algorithm::RS256)).unwrap();
    let kid = key.thumbprint_sha256().unwrap();
    key.with_kid(kid)
}

fn set(keys: &[&SigningKey]) -> JwkSet {
    JwkSet {
        keys: keys.iter().map(|k| k.public_jwk().unwrap()).collect(),
    }
}

/// The ISB README §13 example's metadata.
fn isb_rp() -> RelyingPartyMetadata {
    RelyingPartyMetadata {
        redirect_uris: vec!["https://paras-saippuakauppias.com/oauth/code".into()],
        id_token_signed_response_alg: Algorithm::RS256,
        id_token_encryption: Some(ResponseEncryption {
            alg: KeyManagementAlg::RsaOaep,
            enc: ContentEncAlg::A128CbcHs256,
        }),
        userinfo_encryption: None,
        request_object_signing_alg: Some(Algorithm::RS256),
        token_endpoint_auth_method: AuthMethod::PrivateKeyJwt,
        token_endpoint_auth_signing_alg: Some(Algorithm::RS256),
        organization_name: Some("Saippuakauppias".into()),
    }
}

/// Verifies `token` with `jwk` (RS256), returning the header's `typ`, `kid` and the payload.
fn verify(token: &str, jwk: &Jwk) -> (Option<String>, Option<String>, Value) {
    let jws = UnverifiedJws::parse(token).unwrap();
    let payload = jws
        .verify(Algorithm::RS256, &VerifyingKey::from_jwk(jwk).unwrap())
        .unwrap();
    let payload: Value = serde_json::from_slice(payload).unwrap();
    (jws.header().typ.clone(), jws.header().kid.clone(), payload)
}

fn assert_public(v: &Value) {
    for k in v["keys"].as_array().unwrap() {
        for m in PRIVATE_MEMBERS {
            assert!(k.get(m).is_none(), "{m} published: {k}");
        }
    }
}

#[test]
fn the_statement_verifies_with_its_own_entity_key_and_carries_the_isb_members() {
    let entity = key(SP_ENTITY);
    assert_eq!(entity.kid(), Some(ENTITY_KID));
    let id = EntityId::new("https://paras-saippuakauppias.com/").unwrap();
    // ISB README §13: iat 1675095869, exp 1990455869.
    let claims = entity_statement_claims(
        &id,
        UnixTime(1_675_095_869),
        1_990_455_869 - 1_675_095_869,
        &set(&[&entity]),
        &isb_rp(),
    )
    .unwrap();
    let token = sign_entity_statement(&claims, &entity, &SystemRandom::new()).unwrap();
    let (typ, kid, payload) = verify(&token, &entity.public_jwk().unwrap());
    assert_eq!(typ.as_deref(), Some("entity-statement+jwt"));
    assert_eq!(kid.as_deref(), Some(ENTITY_KID));
    assert_eq!(UnverifiedJws::parse(&token).unwrap().header_alg(), "RS256");
    assert_eq!(payload["iss"], "https://paras-saippuakauppias.com");
    assert_eq!(payload["sub"], payload["iss"]);
    assert_eq!(payload["iat"], 1_675_095_869);
    assert_eq!(payload["exp"], 1_990_455_869);
    assert_public(&payload["jwks"]);
    let published = &payload["jwks"]["keys"][0];
    assert_eq!(published["kid"], ENTITY_KID);
    // The ISB example's entity key modulus.
    assert!(
        published["n"]
            .as_str()
            .unwrap()
            .starts_with("wNIBGuvwCH6RmSGUySf-wi05VtQGQ6EJKKwD-JCraFMkj83O")
    );
    let expected = json!({
        "redirect_uris": ["https://paras-saippuakauppias.com/oauth/code"],
        "application_type": "web",
        "id_token_signed_response_alg": "RS256",
        "id_token_encrypted_response_alg": "RSA-OAEP",
        "id_token_encrypted_response_enc": "A128CBC-HS256",
        "request_object_signing_alg": "RS256",
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "RS256",
        "client_registration_types": [],
        "organization_name": "Saippuakauppias",
        "signed_jwks_uri": "https://paras-saippuakauppias.com/.well-known/signed-jwks"
    });
    assert_eq!(payload["metadata"]["openid_relying_party"], expected);
    assert!(payload["metadata"].get("openid_provider").is_none());
}

#[test]
fn the_signed_jwks_verifies_with_the_entity_key() {
    let entity = key(SP_ENTITY);
    let sig = key(SP_SIGNING);
    let id = EntityId::new("https://paras-saippuakauppias.com").unwrap();
    let claims = signed_jwks_claims(&id, UnixTime(1_675_096_256), 86_400, &set(&[&sig])).unwrap();
    let token = sign_signed_jwks(&claims, &entity, &SystemRandom::new()).unwrap();
    let (typ, kid, payload) = verify(&token, &entity.public_jwk().unwrap());
    assert_eq!(typ.as_deref(), Some("jwk-set+jwt"));
    assert_eq!(kid.as_deref(), Some(ENTITY_KID));
    assert_eq!(payload["iss"], "https://paras-saippuakauppias.com");
    assert_eq!(payload["sub"], payload["iss"]);
    assert_eq!(payload["iat"], 1_675_096_256);
    assert_eq!(payload["exp"], 1_675_096_256 + 86_400);
    assert_eq!(payload["keys"][0]["kid"], SIG_KID);
    assert_public(&payload);
    // Not verifiable with another key.
    let other = UnverifiedJws::parse(&token).unwrap();
    assert!(
        other
            .verify(
                Algorithm::RS256,
                &VerifyingKey::from_jwk(&sig.public_jwk().unwrap()).unwrap()
            )
            .is_err()
    );
}

#[test]
fn private_key_material_is_refused_not_published() {
    let entity = key(SP_ENTITY);
    let id = EntityId::new("https://rp.example").unwrap();
    let mut leaked = entity.public_jwk().unwrap();
    leaked.d = Some(String::from("AQAB").into());
    let bad = JwkSet { keys: vec![leaked] };
    assert!(matches!(
        signed_jwks_claims(&id, UnixTime(1), 1, &bad),
        Err(PublishError::PrivateKeyMaterial { .. })
    ));
    assert!(matches!(
        entity_statement_claims(&id, UnixTime(1), 1, &bad, &isb_rp()),
        Err(PublishError::PrivateKeyMaterial { .. })
    ));
    let oct = JwkSet {
        keys: vec![Jwk {
            kty: "oct".into(),
            ..Jwk::default()
        }],
    };
    assert!(matches!(
        signed_jwks_claims(&id, UnixTime(1), 1, &oct),
        Err(PublishError::PrivateKeyMaterial { .. })
    ));
    let many = JwkSet {
        keys: vec![entity.public_jwk().unwrap(); MAX_PUBLISHED_KEYS + 1],
    };
    assert!(matches!(
        signed_jwks_claims(&id, UnixTime(1), 1, &many),
        Err(PublishError::TooManyKeys { .. })
    ));
}

#[test]
fn the_statement_is_signed_only_by_one_of_its_own_entity_keys() {
    let entity = key(SP_ENTITY);
    let sig = key(SP_SIGNING);
    let id = EntityId::new("https://rp.example").unwrap();
    let claims = entity_statement_claims(&id, UnixTime(1), 1, &set(&[&sig]), &isb_rp()).unwrap();
    assert!(matches!(
        sign_entity_statement(&claims, &entity, &SystemRandom::new()),
        Err(PublishError::SignerNotPublished { kid: Some(k) }) if k == ENTITY_KID
    ));
    let hmac = SigningKey::hmac(Algorithm::HS256, &[7; 32]).unwrap();
    let jwks = signed_jwks_claims(&id, UnixTime(1), 1, &set(&[&sig])).unwrap();
    assert!(matches!(
        sign_signed_jwks(&jwks, &hmac, &SystemRandom::new()),
        Err(PublishError::SymmetricSigner { .. })
    ));
    assert!(matches!(
        signed_jwks_claims(&id, UnixTime(u64::MAX), 1, &set(&[&sig])),
        Err(PublishError::TimeOutOfRange { .. })
    ));
}

#[test]
fn entity_ids() {
    let id = EntityId::new("https://rp.example/").unwrap();
    assert_eq!(id.as_str(), "https://rp.example");
    assert_eq!(
        id.signed_jwks_uri(),
        "https://rp.example/.well-known/signed-jwks"
    );
    assert!(EntityId::new("http://127.0.0.1:8088").is_ok());
    for bad in [
        "http://rp.example",
        "https://rp.example/?a=b",
        "https://rp.example/#f",
        "rp.example",
    ] {
        assert!(
            matches!(EntityId::new(bad), Err(PublishError::EntityId { .. })),
            "{bad}"
        );
    }
}
