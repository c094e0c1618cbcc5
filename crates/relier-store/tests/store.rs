//! Store tests on a temporary directory: round trips, the master key, secrets at rest,
//! concurrency between independent handles (as between processes), the public JWKS.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use relier_core::{AuthMethod, Secret};
use relier_jose::{Algorithm, JwkSet, SigningKey, b64, jws};
mod common;

use common::TestDb;
use relier_store::{
    JwksMode, KeyInfo, KeyPolicy, KeyState, MasterKey, MasterKeySource, ProviderRecord, Store,
    StoreError, StoreUrl, StoredRegistration, UnixTime, default_key_file,
};
use serde_json::json;

const NOW: u64 = 1_700_000_000;
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

fn db_url(dir: &Path) -> (StoreUrl, PathBuf) {
    let path = dir.join("relier.db");
    (StoreUrl::sqlite(&path), path)
}

fn key_a() -> MasterKey {
    MasterKey::from_bytes([0xa5; 32])
}

async fn open(url: &StoreUrl, key: &MasterKey) -> Box<dyn Store> {
    let (store, created) = relier_store::open(url, MasterKeySource::Key(key.clone()))
        .await
        .unwrap();
    assert!(created.is_none());
    store
}

fn provider(name: &str, secret: &str, token: &str) -> ProviderRecord {
    let mut r = ProviderRecord::new(
        name,
        "https://op.example",
        format!("client-{name}"),
        AuthMethod::ClientSecretBasic,
    );
    r.redirect_uris = vec!["http://127.0.0.1:8080/callback".into()];
    r.scopes = "openid email".into();
    r.id_token_alg = Some(Algorithm::ES256);
    r.signing_alg = Some(Algorithm::PS256);
    r.jwks_mode = Some(JwksMode::Uri);
    r.jwks_uri = Some("https://rp.example/jwks.json".into());
    r.tls_cert_path = Some("/etc/rp/cert.pem".into());
    r.tls_key_path = Some("/etc/rp/key.pem".into());
    r.registration_client_uri = Some(format!("https://op.example/register/{name}"));
    r.provider_metadata = Some(json!({"issuer": "https://op.example"}));
    let response = json!({
        "client_id": format!("client-{name}"),
        "token_endpoint_auth_method": "client_secret_basic",
        "userinfo_signed_response_alg": "ES256",
        "require_pushed_authorization_requests": true,
    });
    r.registration =
        Some(StoredRegistration::from_metadata(response.as_object().unwrap()).unwrap());
    r.client_secret = Some(Secret::new(secret));
    r.registration_access_token = Some(Secret::new(token));
    r
}

fn state_of(keys: &[KeyInfo], kid: &str) -> KeyState {
    keys.iter().find(|k| k.kid == kid).unwrap().state
}

fn assert_public_jwks(jwks: &JwkSet) {
    let value = serde_json::to_value(jwks).unwrap();
    for key in value["keys"].as_array().unwrap() {
        for member in PRIVATE_MEMBERS {
            assert!(
                key.get(member).is_none(),
                "private member {member} in {key}"
            );
        }
        assert_eq!(key["use"], "sig");
        assert!(key["kid"].is_string());
        assert!(key["alg"].is_string());
    }
}

// ---- keys ----

async fn key_lifecycle_round_trip(db: TestDb) {
    let url = db.url().clone();
    let store = open(&url, &key_a()).await;

    assert!(store.list_keys().await.unwrap().is_empty());
    assert!(store.signing_key(Algorithm::ES256).await.unwrap().is_none());

    let first = store
        .generate_key(Algorithm::ES256.into(), None, UnixTime(NOW))
        .await
        .unwrap();
    assert_eq!(first.state, KeyState::Active);
    assert_eq!(first.activates_at, None);
    assert_eq!(first.created_at, NOW);

    // The kid is the RFC 7638 thumbprint; the signing key decrypts and carries it.
    let signer = store.signing_key(Algorithm::ES256).await.unwrap().unwrap();
    assert_eq!(signer.kid(), Some(first.kid.as_str()));
    assert_eq!(signer.thumbprint_sha256().unwrap(), first.kid);
    assert_eq!(signer.algorithm(), Algorithm::ES256);

    // A token signed with it verifies against the published JWKS.
    let header = jws::Header {
        kid: Some(first.kid.clone()),
        ..jws::Header::default()
    };
    let token = jws::sign_compact(&header, b"{}", &signer, &SystemRandom::new()).unwrap();
    let jwks = store.jwks(UnixTime(NOW)).await.unwrap();
    let published = jwks.find(&first.kid).next().unwrap();
    let verifier = relier_jose::VerifyingKey::from_jwk(published).unwrap();
    let parsed = jws::UnverifiedJws::parse(&token).unwrap();
    assert_eq!(parsed.verify(Algorithm::ES256, &verifier).unwrap(), b"{}");

    // A second key for the same alg is next, activating now (at the next advance).
    let second = store
        .generate_key(Algorithm::ES256.into(), None, UnixTime(NOW + 10))
        .await
        .unwrap();
    assert_eq!(second.state, KeyState::Next);
    assert_eq!(second.activates_at, Some(NOW + 10));
    assert_eq!(store.jwks(UnixTime(NOW + 10)).await.unwrap().keys.len(), 2);
    // The pending key, decrypted, with its activation time; none for an algorithm without one.
    let pending = store.pending_signing_keys(Algorithm::ES256).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].0, NOW + 10);
    assert_eq!(pending[0].1.kid(), Some(second.kid.as_str()));
    assert_eq!(pending[0].1.thumbprint_sha256().unwrap(), second.kid);
    assert!(
        store
            .pending_signing_keys(Algorithm::RS256)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .advance_keys(UnixTime(NOW + 9))
            .await
            .unwrap()
            .is_empty()
    );

    let changes = store.advance_keys(UnixTime(NOW + 20)).await.unwrap();
    assert_eq!(changes.len(), 2);
    assert!(
        store
            .pending_signing_keys(Algorithm::ES256)
            .await
            .unwrap()
            .is_empty()
    );
    let keys = store.list_keys().await.unwrap();
    assert_eq!(state_of(&keys, &first.kid), KeyState::Retired);
    assert_eq!(state_of(&keys, &second.kid), KeyState::Active);
    let retired = keys.iter().find(|k| k.kid == first.kid).unwrap();
    assert_eq!(retired.retired_at, Some(NOW + 20));
    assert_eq!(retired.grace_until, Some(NOW + 20 + 60 + 3600));
    assert!(
        store
            .advance_keys(UnixTime(NOW + 20))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .signing_key(Algorithm::ES256)
            .await
            .unwrap()
            .unwrap()
            .kid(),
        Some(second.kid.as_str())
    );

    // The retired key is published until its grace period ends.
    let grace_end = NOW + 20 + 60 + 3600;
    assert_eq!(
        store
            .jwks(UnixTime(grace_end - 1))
            .await
            .unwrap()
            .keys
            .len(),
        2
    );
    assert_eq!(store.jwks(UnixTime(grace_end)).await.unwrap().keys.len(), 1);

    // Remove refuses keys in use.
    match store
        .remove_key(&second.kid, false, UnixTime(NOW + 30))
        .await
    {
        Err(StoreError::KeyInUse { kid, state, until }) => {
            assert_eq!(kid, second.kid);
            assert_eq!(state, KeyState::Active);
            assert_eq!(until, None);
        }
        other => panic!("expected KeyInUse, got {other:?}"),
    }
    match store
        .remove_key(&first.kid, false, UnixTime(grace_end - 1))
        .await
    {
        Err(e @ StoreError::KeyInUse { .. }) => {
            assert!(e.to_string().contains("grace period"), "{e}");
        }
        other => panic!("expected KeyInUse, got {other:?}"),
    }
    let removed = store
        .remove_key(&first.kid, false, UnixTime(grace_end))
        .await
        .unwrap();
    assert_eq!(removed.kid, first.kid);
    assert!(matches!(
        store
            .remove_key(&first.kid, false, UnixTime(grace_end))
            .await,
        Err(StoreError::NotFound { what: "key", .. })
    ));

    // Retire the active key: no signing key for that alg any more; forced removal works.
    let retired = store
        .retire_key(&second.kid, UnixTime(NOW + 40))
        .await
        .unwrap();
    assert_eq!(retired.state, KeyState::Retired);
    assert_eq!(retired.grace_until, Some(NOW + 40 + 60 + 3600));
    // Retiring again changes nothing.
    assert_eq!(
        store
            .retire_key(&second.kid, UnixTime(NOW + 50))
            .await
            .unwrap(),
        retired
    );
    assert!(store.signing_key(Algorithm::ES256).await.unwrap().is_none());
    assert!(store.active_algs().await.unwrap().is_empty());
    assert!(
        store
            .remove_key(&second.kid, false, UnixTime(NOW + 41))
            .await
            .is_err()
    );
    store
        .remove_key(&second.kid, true, UnixTime(NOW + 41))
        .await
        .unwrap();
    assert!(store.list_keys().await.unwrap().is_empty());
    assert!(matches!(
        store.retire_key("nope", UnixTime(NOW)).await,
        Err(StoreError::NotFound { .. })
    ));

    // HMAC is not an RP signing key.
    assert!(matches!(
        store
            .generate_key(Algorithm::HS256.into(), None, UnixTime(NOW))
            .await,
        Err(StoreError::Invalid { .. })
    ));
    store.close().await;
}

async fn rotate_publishes_first_and_keeps_rsa_size(db: TestDb) {
    let url = db.url().clone();
    let store = open(&url, &key_a()).await;

    // Nothing to rotate yet.
    assert!(
        store
            .rotate_keys(None, 3600, UnixTime(NOW))
            .await
            .unwrap()
            .is_empty()
    );

    let rsa = store
        .generate_key(Algorithm::PS256.into(), Some(3072), UnixTime(NOW))
        .await
        .unwrap();
    let ec = store
        .generate_key(Algorithm::EdDSA.into(), None, UnixTime(NOW))
        .await
        .unwrap();
    assert_eq!(
        store.active_algs().await.unwrap(),
        vec![Algorithm::EdDSA, Algorithm::PS256]
    );

    let rotated = store
        .rotate_keys(None, 3600, UnixTime(NOW + 100))
        .await
        .unwrap();
    assert_eq!(rotated.len(), 2);
    for k in &rotated {
        assert_eq!(k.state, KeyState::Next);
        assert_eq!(k.activates_at, Some(NOW + 100 + 3600));
    }
    // Published at once, but not used for signing before propagation.
    assert_eq!(store.jwks(UnixTime(NOW + 100)).await.unwrap().keys.len(), 4);
    assert!(
        store
            .advance_keys(UnixTime(NOW + 3699))
            .await
            .unwrap()
            .is_empty()
    );
    let signer = store.signing_key(Algorithm::PS256).await.unwrap().unwrap();
    assert_eq!(signer.kid(), Some(rsa.kid.as_str()));

    let changes = store.advance_keys(UnixTime(NOW + 3700)).await.unwrap();
    assert_eq!(changes.len(), 4);
    let keys = store.list_keys().await.unwrap();
    assert_eq!(state_of(&keys, &rsa.kid), KeyState::Retired);
    assert_eq!(state_of(&keys, &ec.kid), KeyState::Retired);
    let new_rsa = rotated.iter().find(|k| k.alg == Algorithm::PS256).unwrap();
    assert_eq!(state_of(&keys, &new_rsa.kid), KeyState::Active);

    // The new RSA key has the old key's size.
    let jwks = serde_json::to_value(store.jwks(UnixTime(NOW + 3700)).await.unwrap()).unwrap();
    let new_jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == new_rsa.kid.as_str())
        .unwrap();
    let n = b64::decode(new_jwk["n"].as_str().unwrap()).unwrap();
    assert_eq!(n.len() * 8, 3072);

    // Rotating a named alg without an active key creates an active key.
    let es = store
        .rotate_keys(Some(Algorithm::ES384.into()), 3600, UnixTime(NOW))
        .await
        .unwrap();
    assert_eq!(es.len(), 1);
    assert_eq!(es[0].state, KeyState::Active);
    store.close().await;
}

async fn jwks_is_never_private_for_any_key_type(db: TestDb) {
    let url = db.url().clone();
    let store = open(&url, &key_a()).await;
    let algs = [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
    ];
    for alg in algs {
        // One active, one next, one retired (within grace) per alg.
        let a = store
            .generate_key(alg.into(), None, UnixTime(NOW))
            .await
            .unwrap();
        store
            .generate_key(alg.into(), None, UnixTime(NOW))
            .await
            .unwrap();
        store.retire_key(&a.kid, UnixTime(NOW)).await.unwrap();
        store
            .generate_key(alg.into(), None, UnixTime(NOW))
            .await
            .unwrap();
    }
    let jwks = store.jwks(UnixTime(NOW)).await.unwrap();
    assert_eq!(jwks.keys.len(), algs.len() * 3);
    assert_public_jwks(&jwks);
    for alg in algs {
        let of_alg: Vec<_> = jwks
            .keys
            .iter()
            .filter(|k| k.alg.as_deref() == Some(alg.as_str()))
            .collect();
        assert_eq!(of_alg.len(), 3, "{alg}");
        for jwk in of_alg {
            assert!(!jwk.is_private());
            assert_eq!(jwk.thumbprint_sha256().unwrap(), jwk.kid.clone().unwrap());
        }
        // The active key signs and its public half is the published one.
        let signer = store.signing_key(alg).await.unwrap().unwrap();
        let kid = signer.kid().unwrap().to_owned();
        let published = jwks.find(&kid).next().unwrap();
        assert_eq!(
            serde_json::to_value(published).unwrap(),
            serde_json::to_value(signer.public_jwk().unwrap()).unwrap()
        );
    }
    // Active keys come first.
    let first = &jwks.keys[0];
    let keys = store.list_keys().await.unwrap();
    assert_eq!(
        state_of(&keys, first.kid.as_deref().unwrap()),
        KeyState::Active
    );
    store.close().await;
}

async fn grace_policy_is_configurable(db: TestDb) {
    let url = db.url().clone();
    let (store, _) = relier_store::open_with(
        &url,
        MasterKeySource::Key(key_a()),
        KeyPolicy { grace_secs: 0 },
    )
    .await
    .unwrap();
    let k = store
        .generate_key(Algorithm::ES256.into(), None, UnixTime(NOW))
        .await
        .unwrap();
    let r = store.retire_key(&k.kid, UnixTime(NOW)).await.unwrap();
    assert_eq!(r.grace_until, Some(NOW + 60));
    store.close().await;
}

async fn a_private_key_moved_to_another_row_does_not_decrypt(db: TestDb) {
    let url = db.url().clone();
    let store = open(&url, &key_a()).await;
    let a = store
        .generate_key(Algorithm::ES256.into(), None, UnixTime(NOW))
        .await
        .unwrap();
    let b = store
        .generate_key(Algorithm::ES384.into(), None, UnixTime(NOW))
        .await
        .unwrap();
    store.close().await;

    db.exec(
        "UPDATE keys SET private_key = (SELECT private_key FROM keys WHERE kid = $1) \
         WHERE kid = $2",
        &[&a.kid, &b.kid],
    )
    .await;

    let store = open(&url, &key_a()).await;
    assert!(store.signing_key(Algorithm::ES256).await.unwrap().is_some());
    match store.signing_key(Algorithm::ES384).await {
        Err(e @ StoreError::Crypto { .. }) => assert!(e.to_string().contains(&b.kid), "{e}"),
        other => panic!("expected a crypto error, got {other:?}"),
    }
    store.close().await;
}

// ---- providers ----

async fn provider_round_trip(db: TestDb) {
    let url = db.url().clone();
    let store = open(&url, &key_a()).await;
    assert!(store.get_provider("op").await.unwrap().is_none());

    let record = provider("op", "cs-value", "rat-value");
    let info = store
        .put_provider(&record, false, UnixTime(NOW))
        .await
        .unwrap();
    assert_eq!(info.created_at, NOW);
    assert_eq!(info.updated_at, NOW);

    let got = store.get_provider("op").await.unwrap().unwrap();
    assert_eq!(got.client_secret.as_ref().unwrap().expose(), "cs-value");
    assert_eq!(
        got.registration_access_token.as_ref().unwrap().expose(),
        "rat-value"
    );
    // The registration comes back typed, as it was put.
    let registered = got.registered().unwrap();
    assert!(registered.requires_par);
    assert_eq!(registered.userinfo_signed_alg, Some(Algorithm::ES256));
    let mut expected = record.clone();
    expected.created_at = NOW;
    expected.updated_at = NOW;
    assert_eq!(got, expected);

    // add without replace fails; replace keeps created_at.
    assert!(matches!(
        store.put_provider(&record, false, UnixTime(NOW + 1)).await,
        Err(StoreError::ProviderExists { name }) if name == "op"
    ));
    let mut changed = ProviderRecord::new("op", "https://op2.example", "c2", AuthMethod::None);
    changed.jwks_mode = None;
    let info = store
        .put_provider(&changed, true, UnixTime(NOW + 5))
        .await
        .unwrap();
    assert_eq!((info.created_at, info.updated_at), (NOW, NOW + 5));
    let got = store.get_provider("op").await.unwrap().unwrap();
    assert_eq!(got.issuer, "https://op2.example");
    assert_eq!(got.auth_method, AuthMethod::None);
    assert!(got.client_secret.is_none());
    assert!(got.registration_access_token.is_none());
    assert!(got.tls_cert_path.is_none());
    assert_eq!((got.created_at, got.updated_at), (NOW, NOW + 5));

    let mut another = provider("another", "s2", "t2");
    let typed = another.registered().unwrap();
    another.registration = Some(StoredRegistration::new(typed, Some(NOW + 86_400)));
    store
        .put_provider(&another, false, UnixTime(NOW))
        .await
        .unwrap();
    let list = store.list_providers().await.unwrap();
    assert_eq!(
        list.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["another", "op"]
    );
    // RFC 7591 §3.2.1 client_secret_expires_at, from the stored registration response.
    assert_eq!(list[0].client_secret_expires_at, Some(NOW + 86_400));
    assert_eq!(list[1].client_secret_expires_at, None);
    let listed = serde_json::to_string(&list).unwrap();
    assert!(!listed.contains("\"s2\"") && !listed.contains("\"t2\""));
    assert!(!listed.contains("\"client_secret\""));

    store.delete_provider("op").await.unwrap();
    assert!(matches!(
        store.delete_provider("op").await,
        Err(StoreError::NotFound {
            what: "provider",
            ..
        })
    ));
    assert!(matches!(
        store
            .put_provider(&provider("bad name", "s", "t"), false, UnixTime(NOW))
            .await,
        Err(StoreError::Invalid { .. })
    ));
    store.close().await;
}

// ---- master key ----

async fn wrong_master_key_names_the_store(db: TestDb) {
    let url = db.url().clone();
    let store = open(&url, &key_a()).await;
    store
        .generate_key(Algorithm::ES256.into(), None, UnixTime(NOW))
        .await
        .unwrap();
    store.close().await;

    let key_b = MasterKey::from_bytes([0x5a; 32]);
    let err = relier_store::open(&url, MasterKeySource::Key(key_b))
        .await
        .unwrap_err();
    match &err {
        StoreError::WrongMasterKey { store } => assert_eq!(store, &url.to_string()),
        other => panic!("expected WrongMasterKey, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("master key"), "{message}");
    assert!(message.contains(&url.to_string()), "{message}");

    // The right key still works (nothing was changed by the failed open).
    let store = open(&url, &key_a()).await;
    assert_eq!(store.list_keys().await.unwrap().len(), 1);
    store.close().await;

    // The same key given as RELIER_MASTER_KEY text (URL-safe, unpadded) works too.
    let text = b64::encode(&[0xa5; 32]);
    let source = MasterKeySource::from_inputs(Some(text), None);
    let (store, created) = relier_store::open(&url, source).await.unwrap();
    assert!(created.is_none());
    store.close().await;
}

#[tokio::test]
async fn key_file_beside_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let (url, path) = db_url(&dir.path().join("sub/dir"));
    let key_file = default_key_file(&path);

    let (store, created) = relier_store::open(&url, MasterKeySource::BesideDatabase)
        .await
        .unwrap();
    let created = created.expect("the key file is created on first use");
    assert_eq!(created.path, key_file);
    assert!(created.to_string().contains("back it up"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    store
        .generate_key(Algorithm::EdDSA.into(), None, UnixTime(NOW))
        .await
        .unwrap();
    store.close().await;

    // Reopening reads it and reports nothing.
    let (store, created) = relier_store::open(&url, MasterKeySource::BesideDatabase)
        .await
        .unwrap();
    assert!(created.is_none());
    assert!(store.signing_key(Algorithm::EdDSA).await.unwrap().is_some());
    store.close().await;

    // The same key through --master-key-file.
    let source = MasterKeySource::from_inputs(None, Some(key_file.clone()));
    let (store, _) = relier_store::open(&url, source).await.unwrap();
    store.close().await;

    // A lost key file is not silently replaced.
    let saved = std::fs::read(&key_file).unwrap();
    std::fs::remove_file(&key_file).unwrap();
    let err = relier_store::open(&url, MasterKeySource::BesideDatabase)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::MasterKey { .. }), "{err:?}");
    assert!(err.to_string().contains("missing"), "{err}");
    assert!(!key_file.exists());
    std::fs::write(&key_file, saved).unwrap();
    let (store, _) = relier_store::open(&url, MasterKeySource::BesideDatabase)
        .await
        .unwrap();
    store.close().await;
}

#[tokio::test]
async fn a_postgres_store_needs_the_master_key_given() {
    // Nothing to put a key file beside: refused before connecting, naming the way out.
    let url = StoreUrl::parse("postgres://rp:pw@localhost:1/relier").unwrap();
    let err = relier_store::open(&url, MasterKeySource::BesideDatabase)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::MasterKey { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("RELIER_MASTER_KEY"), "{message}");
    assert!(!message.contains("pw@"), "{message}");
    // An unreachable server is a database error naming the store, password redacted.
    let url = StoreUrl::parse("postgres://rp:pw@127.0.0.1:1/relier?connect_timeout=1").unwrap();
    let err = relier_store::open(&url, MasterKeySource::Key(key_a()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Database { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("postgres://rp:***@127.0.0.1:1/relier"),
        "{message}"
    );
    assert!(!message.contains("pw@"), "{message}");
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (url, path) = db_url(dir.path());
    open(&url, &key_a()).await.close().await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("INSERT INTO relier_migrations (version, description) VALUES (999, 'future')")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let err = relier_store::open(&url, MasterKeySource::Key(key_a()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unsupported { .. }), "{err:?}");
}

// ---- secrets at rest ----

/// Minimal DER reader: (tag, content, rest).
fn tlv(input: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = input[0];
    let (len, header) = match input[1] {
        n if n < 0x80 => (n as usize, 2),
        n => {
            let count = (n & 0x7f) as usize;
            let len = input[2..2 + count]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | *b as usize);
            (len, 2 + count)
        }
    };
    (tag, &input[header..header + len], &input[header + len..])
}

fn strip_zeros(mut bytes: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = bytes {
        bytes = rest;
    }
    bytes
}

/// The private values of a PKCS#8 key as they would appear in a private JWK (raw bytes).
fn private_values(der: &[u8]) -> Vec<Vec<u8>> {
    let (_, pkcs8, _) = tlv(der);
    let (_, _version, rest) = tlv(pkcs8);
    let (_, _alg_id, rest) = tlv(rest);
    let (_, private_key, _) = tlv(rest);
    match private_key[0] {
        // Ed25519: OCTET STRING seed.
        0x04 => vec![tlv(private_key).1.to_vec()],
        0x30 => {
            let (_, seq, _) = tlv(private_key);
            let (_, version, rest) = tlv(seq);
            if version == [0] {
                // RSAPrivateKey: version, n, e, d, p, q, dp, dq, qi.
                let mut values = Vec::new();
                let mut rest = rest;
                for i in 0..8 {
                    let (_, v, r) = tlv(rest);
                    rest = r;
                    if i >= 2 {
                        values.push(strip_zeros(v).to_vec());
                    }
                }
                values
            } else {
                // ECPrivateKey: version 1, OCTET STRING d.
                vec![tlv(rest).1.to_vec()]
            }
        }
        other => panic!("unexpected private key tag {other:#x}"),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn read_store_files(db: &Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .filter_map(|suffix| {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            std::fs::read(PathBuf::from(&name))
                .ok()
                .map(|bytes| (PathBuf::from(name).display().to_string(), bytes))
        })
        .collect()
}

fn assert_no_plaintext(files: &[(String, Vec<u8>)], needles: &[(String, Vec<u8>)]) {
    assert!(!files.is_empty());
    for (file, bytes) in files {
        for (what, needle) in needles {
            assert!(!contains(bytes, needle), "{what} in plaintext in {file}");
        }
    }
}

#[tokio::test]
async fn no_secret_is_stored_in_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let (url, path) = db_url(dir.path());
    let store = open(&url, &key_a()).await;

    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    let algs = [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];
    for alg in algs {
        let info = store
            .generate_key(alg.into(), None, UnixTime(NOW))
            .await
            .unwrap();
        let key: SigningKey = store.signing_key(alg).await.unwrap().unwrap();
        assert_eq!(key.kid(), Some(info.kid.as_str()));
        let der = key.to_pkcs8_der().unwrap();
        needles.push((format!("{alg} PKCS#8 DER"), der.to_vec()));
        // Any 24-byte window of the DER past its algorithm header.
        for (i, window) in der.windows(24).enumerate().skip(24).step_by(12) {
            needles.push((format!("{alg} DER bytes at {i}"), window.to_vec()));
        }
        let pem = key.to_pkcs8_pem().unwrap();
        for line in pem.lines().filter(|l| !l.starts_with("-----")) {
            needles.push((format!("{alg} PEM line"), line.as_bytes().to_vec()));
        }
        let values = private_values(&der);
        let expected = if alg.is_rsa() { 6 } else { 1 };
        assert_eq!(values.len(), expected, "{alg}");
        assert!(values.iter().all(|v| v.len() >= 32), "{alg}");
        for value in values {
            needles.push((format!("{alg} private value (raw)"), value.clone()));
            needles.push((
                format!("{alg} private JWK member (base64url)"),
                b64::encode(&value).into_bytes(),
            ));
        }
    }
    for i in 0..3 {
        let secret = format!("client-secret-{i}-Zq8vXw2Lr9");
        let token = format!("registration-access-token-{i}-Kp3mN7");
        store
            .put_provider(
                &provider(&format!("op{i}"), &secret, &token),
                false,
                UnixTime(NOW),
            )
            .await
            .unwrap();
        needles.push((format!("client secret {i}"), secret.into_bytes()));
        needles.push((format!("registration access token {i}"), token.into_bytes()));
    }
    // A replaced secret must not linger either.
    let mut replaced = provider("op0", "client-secret-new-Hh4", "rat-new-Jj5");
    replaced.client_secret = Some(Secret::new("client-secret-new-Hh4"));
    store
        .put_provider(&replaced, true, UnixTime(NOW + 1))
        .await
        .unwrap();
    needles.push((
        "replacing client secret".into(),
        b"client-secret-new-Hh4".to_vec(),
    ));
    needles.push(("replacing token".into(), b"rat-new-Jj5".to_vec()));
    // The login gateway: pending logins (state, nonce, PKCE verifier), session ids, OP tokens,
    // CSRF tokens; none may be at rest in the clear, not even the session id or the state
    // (the rows are keyed by their SHA-256).
    for i in 0..3 {
        let state = format!("state-{i}-Vb7nQ2xLp0Rt5yUi8oPa3sDf6gHj1kL4zXc9");
        let nonce = format!("nonce-{i}-Mn4bV8cX2zQw6eRt0yUi3oPa7sDf1gHj5kL9");
        let verifier = format!("verifier-{i}-Aq1sW2dE3fR4gT5hY6jU7kI8lO9pZxCvBnM");
        let return_to = format!("/private/return-{i}-Ee8rT4");
        let pending = relier_core::PendingLogin {
            state: relier_core::State::from_stored(state.clone()).unwrap(),
            nonce: relier_core::Nonce::from_stored(nonce.clone()).unwrap(),
            pkce_verifier: relier_core::PkceVerifier::new(verifier.clone()).unwrap(),
            redirect_uri: relier_core::RedirectUrl::new("https://rp.example/callback").unwrap(),
            max_age: None,
        };
        let login_dpop_key = format!("ES256:login-dpop-key-{i}-Mh7gF6dS5a");
        let binding = format!("binding-{i}-Qz8xW7cE6v");
        let app_state = format!("app-state-{i}-Jk5hG4fD3s");
        let record = relier_store::LoginState {
            provider: "op0".into(),
            pending,
            dpop_key: Some(Secret::new(login_dpop_key.clone())),
            binding: Some(Secret::new(binding.clone())),
            app_state: Some(Secret::new(app_state.clone())),
            return_to: return_to.clone(),
            created_at: NOW,
            expires_at: NOW + 600,
        };
        store.put_login_state(&state, &record).await.unwrap();
        needles.push((format!("login state {i}"), state.into_bytes()));
        needles.push((format!("nonce {i}"), nonce.into_bytes()));
        needles.push((format!("PKCE verifier {i}"), verifier.into_bytes()));
        needles.push((format!("login DPoP key {i}"), login_dpop_key.into_bytes()));
        needles.push((format!("login binding {i}"), binding.into_bytes()));
        needles.push((format!("login app_state {i}"), app_state.into_bytes()));
        needles.push((format!("return_to {i}"), return_to.into_bytes()));

        let session_id = format!("session-id-{i}-Tg5yH6uJ7iK8oL9pQ0wE1rT2");
        let access = format!("access-token-{i}-Rf4tG5yH6u");
        let refresh = format!("refresh-token-{i}-Ws2eD3rF4t");
        let id_token = format!("eyJhbGciOiJFUzI1NiJ9.id-token-{i}-Ol9kI8uJ7y");
        let csrf = format!("csrf-token-{i}-Pl0oK9iJ8u");
        let dpop_key = format!("ES256:dpop-key-{i}-Nb6vC5xZ4a");
        let app_data = format!(r#"{{"account":"app-data-{i}-Kj3hG4fD5s"}}"#);
        let subject = format!("subject-{i}-Hy7uJ8iK9o");
        let rec = relier_store::SessionRecord {
            provider: "op0".into(),
            iss: "https://op.example".into(),
            sub: subject.clone(),
            sid: Some(format!("sid-{i}")),
            email: None,
            name: None,
            claims: json!({"sub": subject}),
            access_token: Some(Secret::new(access.clone())),
            refresh_token: Some(Secret::new(refresh.clone())),
            id_token: Some(Secret::new(id_token.clone())),
            dpop_key: Some(Secret::new(dpop_key.clone())),
            access_expires_at: Some(NOW + 300),
            csrf_token: Secret::new(csrf.clone()),
            created_at: NOW,
            last_seen_at: NOW,
            idle_expires_at: NOW + 1800,
            absolute_expires_at: NOW + 86_400,
            version: 0,
            app_data: Some(Secret::new(app_data.clone())),
        };
        let sid = Secret::new(session_id.clone());
        store.create_session(&sid, &rec).await.unwrap();
        // Rotated tokens must not linger either.
        let new_access = format!("rotated-access-token-{i}-Zx1cV2bN3m");
        let new_refresh = format!("rotated-refresh-token-{i}-Qa1zW2sX3e");
        assert!(
            store
                .update_session_tokens(
                    &sid,
                    0,
                    Some(&Secret::new(new_access.clone())),
                    Some(&Secret::new(new_refresh.clone())),
                    None,
                    Some(NOW + 600),
                )
                .await
                .unwrap()
        );
        let back = store
            .get_session(&sid, UnixTime(NOW + 1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(back.csrf_token.expose(), csrf);
        assert_eq!(back.access_token.unwrap().expose(), new_access);
        assert_eq!(back.dpop_key.unwrap().expose(), dpop_key);
        assert_eq!(back.sub, subject);
        // The subject is personal data (a personal identity code, for the FTN): sealed, and
        // indexed by a keyed hash only.
        needles.push((format!("subject {i}"), subject.into_bytes()));
        needles.push((format!("DPoP key {i}"), dpop_key.into_bytes()));
        needles.push((format!("app data {i}"), app_data.into_bytes()));
        needles.push((format!("session id {i}"), session_id.into_bytes()));
        needles.push((format!("access token {i}"), access.into_bytes()));
        needles.push((format!("refresh token {i}"), refresh.into_bytes()));
        needles.push((format!("ID token {i}"), id_token.into_bytes()));
        needles.push((format!("CSRF token {i}"), csrf.into_bytes()));
        needles.push((format!("rotated access token {i}"), new_access.into_bytes()));
        needles.push((
            format!("rotated refresh token {i}"),
            new_refresh.into_bytes(),
        ));
    }
    let master_text = key_a().to_base64();
    needles.push(("master key (raw)".into(), [0xa5; 32].to_vec()));
    needles.push((
        "master key (base64)".into(),
        master_text.as_bytes().to_vec(),
    ));

    // While open (database + WAL as they are), and after close (checkpointed).
    assert_no_plaintext(&read_store_files(&path), &needles);
    store.close().await;
    let files = read_store_files(&path);
    assert_no_plaintext(&files, &needles);
    // The sanity check of the check itself: public data is there in the clear.
    let db = &files[0].1;
    assert!(contains(db, b"https://op.example"));
    assert!(contains(db, b"\"kty\""));
    assert!(contains(db, b"sid-1"));
    assert!(contains(
        db,
        relier_store::session_id_hash(&Secret::new("session-id-1-Tg5yH6uJ7iK8oL9pQ0wE1rT2"))
            .as_bytes()
    ));
}

// ---- concurrency ----

/// Eight handles, each with its own pool (like eight CLI processes), open one fresh store at
/// once (racing to create the database, its schema and its key file) and write keys and
/// providers concurrently. All must succeed and the store must be consistent.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_handles_serialize_and_stay_consistent() {
    const WORKERS: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let (url, path) = db_url(dir.path());
    let barrier = Arc::new(tokio::sync::Barrier::new(WORKERS));

    let mut tasks = Vec::new();
    for i in 0..WORKERS {
        let url = url.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let (store, created) = relier_store::open(&url, MasterKeySource::BesideDatabase)
                .await
                .unwrap();
            let alg = if i % 2 == 0 {
                Algorithm::ES256
            } else {
                Algorithm::EdDSA
            };
            let now = NOW + i as u64;
            store.advance_keys(UnixTime(now)).await.unwrap();
            let key = store
                .generate_key(alg.into(), None, UnixTime(now))
                .await
                .unwrap();
            store
                .put_provider(
                    &provider(&format!("op{i}"), &format!("secret-{i}"), &format!("t-{i}")),
                    false,
                    UnixTime(now),
                )
                .await
                .unwrap();
            // Everyone also replaces one shared provider.
            store
                .put_provider(
                    &provider("shared", &format!("shared-{i}"), "t"),
                    true,
                    UnixTime(now),
                )
                .await
                .unwrap();
            store.advance_keys(UnixTime(now + 1)).await.unwrap();
            assert!(store.signing_key(alg).await.unwrap().is_some());
            store
                .rotate_keys(Some(alg.into()), 3600, UnixTime(now))
                .await
                .unwrap();
            store.list_keys().await.unwrap();
            store.jwks(UnixTime(now)).await.unwrap();
            store.close().await;
            (created.is_some(), key.kid)
        }));
    }
    let mut created = 0;
    let mut kids = Vec::new();
    for task in tasks {
        let (c, kid) = task.await.unwrap();
        created += usize::from(c);
        kids.push(kid);
    }
    assert_eq!(created, 1, "exactly one handle created the key file");

    let (store, created) = relier_store::open(&url, MasterKeySource::BesideDatabase)
        .await
        .unwrap();
    assert!(created.is_none());
    let keys = store.list_keys().await.unwrap();
    assert_eq!(keys.len(), WORKERS * 2);
    for kid in &kids {
        assert!(keys.iter().any(|k| &k.kid == kid));
    }
    for alg in [Algorithm::ES256, Algorithm::EdDSA] {
        let active = keys
            .iter()
            .filter(|k| k.alg == alg && k.state == KeyState::Active)
            .count();
        assert_eq!(active, 1, "{alg}");
        assert!(store.signing_key(alg).await.unwrap().is_some());
    }
    let providers = store.list_providers().await.unwrap();
    assert_eq!(providers.len(), WORKERS + 1);
    for i in 0..WORKERS {
        let p = store
            .get_provider(&format!("op{i}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.client_secret.unwrap().expose(), format!("secret-{i}"));
    }
    let shared = store.get_provider("shared").await.unwrap().unwrap();
    assert!(
        shared
            .client_secret
            .unwrap()
            .expose()
            .starts_with("shared-")
    );
    assert_public_jwks(&store.jwks(UnixTime(NOW)).await.unwrap());
    store.close().await;

    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let migrations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM relier_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(migrations, 9);
    pool.close().await;
    // One key file, no temporaries.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".key"))
        .collect();
    assert_eq!(names, ["relier.db.key"]);
}

/// Every asymmetric signing algorithm (RS*, PS*, ES256/384/512, EdDSA) gets a stored key
/// whose signatures verify with the public JWK the store publishes (RFC 7518 §3.1).
async fn every_signing_algorithm_signs_and_verifies(db: TestDb) {
    let url = db.url().clone();
    let store = open(&url, &key_a()).await;
    let rng = SystemRandom::new();
    for alg in Algorithm::ALL
        .into_iter()
        .filter(|a| a.is_rsa() || a.is_ecdsa() || *a == Algorithm::EdDSA)
    {
        let info = store
            .generate_key(alg.into(), None, UnixTime(NOW))
            .await
            .unwrap();
        assert_eq!(info.alg, alg);
        let key = store.signing_key(alg).await.unwrap().unwrap();
        assert_eq!(key.algorithm(), alg);
        let token = jws::sign_compact(&jws::Header::default(), b"{}", &key, &rng).unwrap();
        let jwks = store.jwks(UnixTime(NOW)).await.unwrap();
        let public = jwks
            .keys
            .iter()
            .find(|k| k.kid.as_deref() == Some(&info.kid))
            .unwrap();
        assert_eq!(public.alg.as_deref(), Some(alg.as_str()));
        let verifier = relier_jose::VerifyingKey::from_jwk(public).unwrap();
        let parsed = jws::UnverifiedJws::parse(&token).unwrap();
        assert_eq!(parsed.verify(alg, &verifier).unwrap(), b"{}", "{alg}");
    }
    for refused in [Algorithm::HS256, Algorithm::None] {
        assert!(
            store
                .generate_key(refused.into(), None, UnixTime(NOW))
                .await
                .is_err()
        );
    }
}

both_backends!(
    every_signing_algorithm_signs_and_verifies,
    a_private_key_moved_to_another_row_does_not_decrypt,
    key_lifecycle_round_trip,
    rotate_publishes_first_and_keeps_rsa_size,
    jwks_is_never_private_for_any_key_type,
    grace_policy_is_configurable,
    provider_round_trip,
    wrong_master_key_names_the_store,
);
