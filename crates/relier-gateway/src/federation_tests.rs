use std::sync::Arc;

use relier_jose::{Algorithm, Jwk};
use relier_store::{KeyAlg, MasterKeySource, StoreUrl};
use relier_tests::signed::{public_kids as kids, verify_rs256 as verify};
use serde_json::json;

use super::*;
use crate::keys::KeyManager;

const T0: u64 = 1_800_000_000;
const ENTITY: KeyAlg = KeyAlg::Entity(Algorithm::RS256);

struct Fixture {
    store: Arc<dyn Store>,
    dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = StoreUrl::parse(&format!("sqlite://{}", dir.path().join("g.db").display())).unwrap();
    let (store, _) = relier_store::open(&url, MasterKeySource::BesideDatabase)
        .await
        .unwrap();
    Fixture {
        store: Arc::from(store),
        dir,
    }
}

/// An FTN-like provider (its OP unreachable: nothing here talks to it) and `extra` on top.
fn config(f: &Fixture, extra: &str) -> Config {
    let toml = format!(
        r#"
public_url = "https://rp.example/"
store = "sqlite://{db}"
{extra}

[[providers]]
name = "ftn"
issuer = "http://127.0.0.1:1"
client_id = "saippuakauppias"
use_store_key = true
signing_alg = "RS256"
id_token_alg = "RS256"
id_token_encrypted_response_alg = "RSA-OAEP"
id_token_encrypted_response_enc = "A128CBC-HS256"
request_object_signing_alg = "RS256"
"#,
        db = f.dir.path().join("g.db").display()
    );
    Config::from_toml(&toml).unwrap()
}

async fn entity_jwk(store: &dyn Store) -> Jwk {
    store.entity_jwks(UnixTime(T0)).await.unwrap().keys[0].clone()
}

#[test]
fn propagation_defaults_to_a_day_with_federation() {
    let base = "public_url = \"https://rp.example\"\n";
    let plain = Config::from_toml(base).unwrap();
    assert_eq!(plain.key_propagation().as_secs(), 3600);
    let fed = Config::from_toml(&format!("{base}[federation]\n")).unwrap();
    assert_eq!(fed.key_propagation().as_secs(), 86_400);
    let f = fed.federation.as_ref().unwrap();
    assert_eq!(f.statement_lifetime.as_secs(), 365 * 86_400);
    assert_eq!(f.jwks_lifetime.as_secs(), 86_400);
    assert_eq!(
        f.entity_id("https://rp.example/").unwrap().as_str(),
        "https://rp.example"
    );
    let explicit = Config::from_toml(&format!(
        "{base}[keys]\npropagation = \"2h\"\n[federation]\n"
    ))
    .unwrap();
    assert_eq!(explicit.key_propagation().as_secs(), 7200);
    let tuned = Config::from_toml(&format!(
        "{base}[federation]\nentity_id = \"https://id.example/rp/\"\nstatement_lifetime = \"30d\"\njwks_lifetime = \"12h\"\norganization_name = \"Example Oy\"\n"
    ))
    .unwrap();
    let f = tuned.federation.unwrap();
    assert_eq!(f.entity_id("x").unwrap().as_str(), "https://id.example/rp");
    assert_eq!(f.jwks_lifetime.as_secs(), 12 * 3600);
    // Typed: unknown keys and bad durations are refused.
    assert!(Config::from_toml(&format!("{base}[federation]\nentityid = \"x\"\n")).is_err());
    assert!(Config::from_toml(&format!("{base}[federation]\njwks_lifetime = \"1x\"\n")).is_err());
}

#[tokio::test]
async fn the_statement_states_what_the_provider_does_and_verifies_with_the_entity_key() {
    let f = fixture().await;
    let config = config(&f, "[federation]\norganization_name = \"Example Oy\"");
    let federation = Federation::from_config(&config, f.store.as_ref())
        .await
        .unwrap()
        .unwrap();
    let missing = federation
        .sign(f.store.as_ref(), Document::Statement, T0)
        .await
        .unwrap_err();
    assert!(matches!(missing, GatewayError::NoEntityKey), "{missing}");
    assert!(
        missing
            .to_string()
            .contains("relier keys generate --use entity"),
        "{missing}"
    );

    let entity = f
        .store
        .generate_key(ENTITY, None, UnixTime(T0))
        .await
        .unwrap();
    let token = federation
        .sign(f.store.as_ref(), Document::Statement, T0)
        .await
        .unwrap();
    let (payload, h) = verify(&token, &entity_jwk(f.store.as_ref()).await);
    assert_eq!(h.typ.as_deref(), Some("entity-statement+jwt"));
    assert_eq!(h.kid.as_deref(), Some(entity.kid.as_str()));
    assert_eq!(payload["iss"], "https://rp.example");
    assert_eq!(payload["sub"], "https://rp.example");
    assert_eq!(payload["iat"], T0);
    assert_eq!(payload["exp"], T0 + 365 * 86_400);
    assert_eq!(kids(&payload["jwks"]["keys"]), [entity.kid.as_str()]);
    assert_eq!(
        payload["metadata"]["openid_relying_party"],
        json!({
            "redirect_uris": ["https://rp.example/auth/callback/ftn"],
            "application_type": "web",
            "id_token_signed_response_alg": "RS256",
            "id_token_encrypted_response_alg": "RSA-OAEP",
            "id_token_encrypted_response_enc": "A128CBC-HS256",
            "request_object_signing_alg": "RS256",
            "token_endpoint_auth_method": "private_key_jwt",
            "token_endpoint_auth_signing_alg": "RS256",
            "client_registration_types": [],
            "organization_name": "Example Oy",
            "signed_jwks_uri": "https://rp.example/.well-known/signed-jwks"
        })
    );
}

/// `[keys] propagation` defaults to a day with `[federation]`: a rotated signing key is in
/// the signed JWK set at once and signs only a day later.
#[tokio::test]
async fn a_rotated_key_is_published_a_day_before_it_signs() {
    let f = fixture().await;
    let config = config(&f, "[keys]\nrotation_interval = \"1h\"\n[federation]\n");
    f.store
        .generate_key(ENTITY, None, UnixTime(T0))
        .await
        .unwrap();
    KeyManager::bootstrap(f.store.as_ref(), &config.keys, &[Algorithm::RS256], &[], T0)
        .await
        .unwrap();
    let old = f
        .store
        .signing_key(Algorithm::RS256)
        .await
        .unwrap()
        .unwrap();
    let old = old.kid().unwrap().to_owned();
    let providers = Arc::new(
        crate::providers::build_all(&config, f.store.as_ref())
            .await
            .unwrap(),
    );
    let manager = KeyManager::new(
        f.store.clone(),
        providers,
        &config.keys,
        config.key_propagation(),
        Arc::new(crate::metrics::Metrics::default()),
    );
    let rotated_at = T0 + 3600;
    manager.tick(rotated_at).await.unwrap();
    let next = f
        .store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.state == KeyState::Next && k.alg == KeyAlg::Sig(Algorithm::RS256))
        .unwrap();
    assert_eq!(next.activates_at, Some(rotated_at + 86_400));

    let federation = Federation::from_config(&config, f.store.as_ref())
        .await
        .unwrap()
        .unwrap();
    let publisher = Publisher::new(federation);
    let jwks = publisher
        .get(f.store.as_ref(), Document::SignedJwks, rotated_at)
        .await
        .unwrap();
    let (payload, h) = verify(&jwks, &entity_jwk(f.store.as_ref()).await);
    assert_eq!(h.typ.as_deref(), Some("jwk-set+jwt"));
    assert_eq!(payload["exp"], rotated_at + 86_400);
    let published = kids(&payload["keys"]);
    assert!(
        published.contains(&old) && published.contains(&next.kid),
        "{published:?}"
    );

    // Published, not used, until the day has passed.
    manager.tick(rotated_at + 86_399).await.unwrap();
    let signing = f
        .store
        .signing_key(Algorithm::RS256)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(signing.kid(), Some(old.as_str()));
    manager.tick(rotated_at + 86_400).await.unwrap();
    let signing = f
        .store
        .signing_key(Algorithm::RS256)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(signing.kid(), Some(next.kid.as_str()));
}

#[tokio::test]
async fn signed_documents_are_cached_and_signed_again_when_keys_change_or_age() {
    let f = fixture().await;
    let config = config(&f, "[federation]\njwks_lifetime = \"1h\"\n");
    f.store
        .generate_key(ENTITY, None, UnixTime(T0))
        .await
        .unwrap();
    f.store
        .generate_key(KeyAlg::Sig(Algorithm::RS256), None, UnixTime(T0))
        .await
        .unwrap();
    let federation = Federation::from_config(&config, f.store.as_ref())
        .await
        .unwrap()
        .unwrap();
    let publisher = Publisher::new(federation);
    let get = |now: u64| publisher.get(f.store.as_ref(), Document::SignedJwks, now);
    let first = get(T0).await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &get(T0 + 60).await.unwrap()),
        "not signed per request"
    );
    // Half the lifetime: signed again.
    let aged = get(T0 + 1800).await.unwrap();
    assert!(!Arc::ptr_eq(&first, &aged));
    // A key published: signed again, with it.
    let new = f
        .store
        .rotate_keys(
            Some(KeyAlg::Sig(Algorithm::RS256)),
            86_400,
            UnixTime(T0 + 1801),
        )
        .await
        .unwrap();
    let changed = get(T0 + 1801).await.unwrap();
    assert!(!Arc::ptr_eq(&aged, &changed));
    let (payload, _) = verify(&changed, &entity_jwk(f.store.as_ref()).await);
    assert!(kids(&payload["keys"]).contains(&new[0].kid));
    // Entity keys are never in the signed JWK set.
    let entity = entity_jwk(f.store.as_ref()).await.kid.unwrap();
    assert!(!kids(&payload["keys"]).contains(&entity));
}
