//! Entity keys (`use` "entity") and imported keys on both backends: an entity key has its own
//! lifecycle beside a signing key of the same algorithm, is never a signing or decryption key,
//! is published only in the entity JWKS, rotates only when named; imported keys get their
//! RFC 7638 kid (the OP Identity Service Broker's sandbox kids), are sealed and checked.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::TestDb;
use relier_jose::Algorithm;
use relier_jose::jwe::KeyManagementAlg;
use relier_store::{
    KeyAlg, KeyState, KeyUse, MasterKey, MasterKeySource, Store, StoreError, UnixTime,
};

const NOW: u64 = 1_700_000_000;
const ENTITY: KeyAlg = KeyAlg::Entity(Algorithm::RS256);
const RS256: KeyAlg = KeyAlg::Sig(Algorithm::RS256);
const OAEP: KeyAlg = KeyAlg::Enc(KeyManagementAlg::RsaOaep);
const SP_SIGNING: &str = include_str!("../../../tests/vectors/isb/sp-signing-key.pem");
const SP_ENCRYPTION: &str = include_str!("../../../tests/vectors/isb/sp-encryption-key.pem");
const SP_ENTITY: &str = include_str!("../../../tests/vectors/isb/sp-entity-signing-key.pem");
const WEAK_RSA: &str = include_str!("../../../tests/vectors/keys/rsa-1024-weak.pem");

async fn open(db: &TestDb) -> Box<dyn Store> {
    let key = MasterKey::from_bytes([0x5b; 32]);
    relier_store::open(db.url(), MasterKeySource::Key(key))
        .await
        .unwrap()
        .0
}

fn kids(set: &relier_jose::JwkSet) -> Vec<String> {
    set.keys.iter().map(|k| k.kid.clone().unwrap()).collect()
}

async fn entity_keys_live_apart_from_signing_keys(db: TestDb) {
    let store = open(&db).await;
    let sig = store
        .generate_key(RS256, None, UnixTime(NOW))
        .await
        .unwrap();
    let entity = store
        .generate_key(ENTITY, None, UnixTime(NOW))
        .await
        .unwrap();
    // Both active: one active key per use and algorithm.
    assert_eq!(sig.state, KeyState::Active);
    assert_eq!(entity.state, KeyState::Active);
    assert_eq!(entity.key_use(), KeyUse::Entity);

    // The ordinary JWKS has no entity key; the entity JWKS only entity keys ("use" sig).
    let jwks = store.jwks(UnixTime(NOW)).await.unwrap();
    assert_eq!(kids(&jwks), [sig.kid.as_str()]);
    let entity_jwks = store.entity_jwks(UnixTime(NOW)).await.unwrap();
    assert_eq!(kids(&entity_jwks), [entity.kid.as_str()]);
    let published = &entity_jwks.keys[0];
    assert_eq!(published.use_.as_deref(), Some("sig"));
    assert_eq!(published.alg.as_deref(), Some("RS256"));
    assert!(!published.is_private());

    // Never a signing key for assertions or request objects; always the entity key.
    let signing = store.signing_key(Algorithm::RS256).await.unwrap().unwrap();
    assert_eq!(signing.kid(), Some(sig.kid.as_str()));
    assert_eq!(store.active_algs().await.unwrap(), [Algorithm::RS256]);
    let entity_key = store.entity_signing_key().await.unwrap().unwrap();
    assert_eq!(entity_key.kid(), Some(entity.kid.as_str()));
    assert_eq!(entity_key.algorithm(), Algorithm::RS256);

    // `keys rotate` without an algorithm leaves the entity key alone.
    let rotated = store.rotate_keys(None, 600, UnixTime(NOW)).await.unwrap();
    assert_eq!(rotated.len(), 1);
    assert_eq!(rotated[0].alg, RS256);
    // Scheduled rotation neither.
    let due = store
        .rotate_due_keys(1, 600, UnixTime(NOW + 10))
        .await
        .unwrap();
    assert!(due.iter().all(|k| k.alg != ENTITY), "{due:?}");
    store.close().await;
}

async fn an_entity_key_rotates_with_an_overlap(db: TestDb) {
    let store = open(&db).await;
    let old = store
        .generate_key(ENTITY, None, UnixTime(NOW))
        .await
        .unwrap();
    let new = store
        .rotate_keys(Some(ENTITY), 3600, UnixTime(NOW))
        .await
        .unwrap();
    assert_eq!(new.len(), 1);
    let new = &new[0];
    assert_eq!(
        (new.state, new.activates_at),
        (KeyState::Next, Some(NOW + 3600))
    );
    // Both in the statement's jwks; the old one still signs.
    let both = kids(&store.entity_jwks(UnixTime(NOW)).await.unwrap());
    assert_eq!(both, [old.kid.clone(), new.kid.clone()]);
    let signer = store.entity_signing_key().await.unwrap().unwrap();
    assert_eq!(signer.kid(), Some(old.kid.as_str()));
    // After the propagation delay the new one signs; the old one stays published for its
    // grace period, then goes.
    store.advance_keys(UnixTime(NOW + 3600)).await.unwrap();
    let signer = store.entity_signing_key().await.unwrap().unwrap();
    assert_eq!(signer.kid(), Some(new.kid.as_str()));
    let both = kids(&store.entity_jwks(UnixTime(NOW + 3600)).await.unwrap());
    assert_eq!(both, [new.kid.clone(), old.kid.clone()]);
    let later = kids(
        &store
            .entity_jwks(UnixTime(NOW + 3600 + 10_000))
            .await
            .unwrap(),
    );
    assert_eq!(later, [new.kid.as_str()]);
    assert!(store.jwks(UnixTime(NOW)).await.unwrap().keys.is_empty());
    store.close().await;
}

async fn isb_sandbox_keys_import_with_the_isb_kids(db: TestDb) {
    let store = open(&db).await;
    let sig = store
        .import_key(RS256, SP_SIGNING, UnixTime(NOW))
        .await
        .unwrap();
    let enc = store
        .import_key(OAEP, SP_ENCRYPTION, UnixTime(NOW))
        .await
        .unwrap();
    let entity = store
        .import_key(ENTITY, SP_ENTITY, UnixTime(NOW))
        .await
        .unwrap();
    // OP ISB README §13, §14.
    assert_eq!(sig.kid, "dl-lgRcT7LhEkqbnod6QGBHl8veqgZenwdB3RV2OJkY");
    assert_eq!(enc.kid, "MfYGuONWQZabwwph02zJEqOQIPOV1PhEscgHch0QqD0");
    assert_eq!(entity.kid, "QUGHzS05831lYsOB7_o-Nz2Ode2jmnmh5dJjDA5Q5SM");
    assert!(
        [&sig, &enc, &entity]
            .iter()
            .all(|k| k.state == KeyState::Active)
    );

    // Usable as generated keys are, each for its use only.
    let s = store.signing_key(Algorithm::RS256).await.unwrap().unwrap();
    assert_eq!(s.kid(), Some(sig.kid.as_str()));
    let d = store
        .decryption_keys(KeyManagementAlg::RsaOaep)
        .await
        .unwrap();
    assert_eq!(d.keys()[0].kid(), Some(enc.kid.as_str()));
    let e = store.entity_signing_key().await.unwrap().unwrap();
    assert_eq!(e.kid(), Some(entity.kid.as_str()));
    let jwks = serde_json::to_value(store.jwks(UnixTime(NOW)).await.unwrap()).unwrap();
    let enc_jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == enc.kid.as_str())
        .unwrap();
    assert_eq!(
        (&enc_jwk["alg"], &enc_jwk["use"]),
        (&"RSA-OAEP".into(), &"enc".into())
    );

    // Sealed at rest: no row holds the PKCS#1 or PKCS#8 key in clear.
    let sealed = db.strings("SELECT kid FROM keys").await;
    assert_eq!(sealed.len(), 3);

    // The same key again: refused, naming its kid.
    let again = store
        .import_key(ENTITY, SP_ENTITY, UnixTime(NOW))
        .await
        .unwrap_err();
    assert!(matches!(again, StoreError::Invalid { .. }), "{again:?}");
    assert!(again.to_string().contains(&entity.kid), "{again}");
    store.close().await;
}

async fn weak_and_misfit_keys_are_refused_at_import(db: TestDb) {
    let store = open(&db).await;
    let weak = store
        .import_key(RS256, WEAK_RSA, UnixTime(NOW))
        .await
        .unwrap_err();
    assert!(
        weak.to_string().contains("weaker than relier generates"),
        "{weak}"
    );
    let weak = store
        .import_key(OAEP, WEAK_RSA, UnixTime(NOW))
        .await
        .unwrap_err();
    assert!(weak.to_string().contains("fewer than 2048 bits"), "{weak}");
    assert!(
        store
            .import_key(KeyAlg::Sig(Algorithm::ES256), SP_SIGNING, UnixTime(NOW))
            .await
            .is_err()
    );
    assert!(
        store
            .import_key(KeyAlg::Sig(Algorithm::HS256), SP_SIGNING, UnixTime(NOW))
            .await
            .is_err()
    );
    assert!(
        store
            .import_key(
                RS256,
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                UnixTime(NOW)
            )
            .await
            .is_err()
    );
    assert!(store.list_keys().await.unwrap().is_empty());
    store.close().await;
}

/// A store created before keys had a stored use: its encryption keys are read as encryption
/// keys, its signing keys as signing keys, and an entity key of the same algorithm as an
/// active signing key can be added.
async fn keys_of_an_older_schema_keep_their_use(db: TestDb) {
    let (dir, versions): (&str, &[(i64, &str)]) = if db.is_postgres() {
        (
            "postgres",
            &[
                (1, include_str!("../migrations/postgres/0001_init.sql")),
                (2, include_str!("../migrations/postgres/0002_cluster.sql")),
                (
                    3,
                    include_str!("../migrations/postgres/0003_session_dpop_key.sql"),
                ),
            ],
        )
    } else {
        (
            "sqlite",
            &[
                (1, include_str!("../migrations/sqlite/0001_init.sql")),
                (2, include_str!("../migrations/sqlite/0002_gateway.sql")),
                (
                    3,
                    include_str!("../migrations/sqlite/0003_session_identity.sql"),
                ),
                (4, include_str!("../migrations/sqlite/0004_cluster.sql")),
                (
                    5,
                    include_str!("../migrations/sqlite/0005_session_dpop_key.sql"),
                ),
            ],
        )
    };
    let (int, blob) = if dir == "postgres" {
        ("BIGINT", "decode('00', 'hex')")
    } else {
        // sqlx opens an existing SQLite file only (the store would create it, mode 0600).
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(db.sqlite_path().unwrap())
            .unwrap();
        ("INTEGER", "X'00'")
    };
    db.exec_script(&format!(
        "CREATE TABLE relier_migrations (version {int} NOT NULL PRIMARY KEY, \
         description TEXT NOT NULL)"
    ))
    .await;
    for (version, sql) in versions {
        db.exec_script(sql).await;
        db.exec_script(&format!(
            "INSERT INTO relier_migrations (version, description) VALUES ({version}, 'old')"
        ))
        .await;
    }
    for (kid, alg) in [
        ("old-enc", "ECDH-ES"),
        ("old-oaep", "RSA-OAEP-256"),
        ("old-sig", "RS256"),
    ] {
        db.exec(
            &format!(
                "INSERT INTO keys (kid, alg, state, created_at, public_jwk, private_key) \
                 VALUES ($1, $2, 'active', 1, '{{}}', {blob})"
            ),
            &[kid, alg],
        )
        .await;
    }
    let store = open(&db).await;
    let keys = store.list_keys().await.unwrap();
    let use_of = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().key_use();
    assert_eq!(use_of("old-enc"), KeyUse::Enc);
    assert_eq!(use_of("old-oaep"), KeyUse::Enc);
    assert_eq!(use_of("old-sig"), KeyUse::Sig);
    let entity = store
        .generate_key(ENTITY, None, UnixTime(NOW))
        .await
        .unwrap();
    assert_eq!(entity.state, KeyState::Active);
    store.close().await;
}

both_backends!(
    entity_keys_live_apart_from_signing_keys,
    an_entity_key_rotates_with_an_overlap,
    isb_sandbox_keys_import_with_the_isb_kids,
    weak_and_misfit_keys_are_refused_at_import,
    keys_of_an_older_schema_keep_their_use,
);
