//! Several instances on one PostgreSQL database: concurrent first start on an empty database,
//! the master key race, the single-flight session refresh and key transitions applied once
//! across instances; TLS to the database. Each test has a database of its own (see
//! `common`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::sync::Arc;

use common::TestDb;
use relier_core::{AuthMethod, Nonce, PendingLogin, PkceVerifier, RedirectUrl, Secret, State};
use relier_jose::Algorithm;
use relier_store::{
    KeyState, LoginState, MasterKey, MasterKeySource, ProviderRecord, SessionRecord, Store,
    StoreError, StoreUrl, UnixTime,
};
use serde_json::json;

const NOW: u64 = 1_700_000_000;
const INSTANCES: usize = 8;

fn key_a() -> MasterKey {
    MasterKey::from_bytes([0xa5; 32])
}

async fn open(url: &StoreUrl) -> Box<dyn Store> {
    relier_store::open(url, MasterKeySource::Key(key_a()))
        .await
        .unwrap()
        .0
}

fn provider(name: &str, secret: &str) -> ProviderRecord {
    let mut r = ProviderRecord::new(
        name,
        "https://op.example",
        format!("client-{name}"),
        AuthMethod::ClientSecretBasic,
    );
    r.client_secret = Some(Secret::new(secret));
    r
}

fn session() -> SessionRecord {
    SessionRecord {
        provider: "op".into(),
        iss: "https://op.example".into(),
        sub: "alice".into(),
        sid: Some("sid-1".into()),
        email: None,
        name: None,
        claims: json!({}),
        access_token: Some(Secret::new("at-0")),
        refresh_token: Some(Secret::new("rt-0")),
        id_token: None,
        dpop_key: Some(Secret::new("ES256:dpop-0")),
        access_expires_at: Some(NOW + 60),
        csrf_token: Secret::new("csrf"),
        created_at: NOW,
        last_seen_at: NOW,
        idle_expires_at: NOW + 3600,
        absolute_expires_at: NOW + 86_400,
        version: 0,
        app_data: None,
    }
}

/// Instances starting at the same moment on an empty database: one migrates (advisory lock),
/// one writes the master-key check, all then work on the same keys and providers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_starts_on_an_empty_database() {
    let db = TestDb::postgres().await;
    let barrier = Arc::new(tokio::sync::Barrier::new(INSTANCES));
    let mut tasks = Vec::new();
    for i in 0..INSTANCES {
        let url = db.url().clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let store = open(&url).await;
            let alg = if i % 2 == 0 {
                Algorithm::ES256
            } else {
                Algorithm::EdDSA
            };
            let now = NOW + i as u64;
            store.advance_keys(UnixTime(now)).await.unwrap();
            store
                .generate_key(alg.into(), None, UnixTime(now))
                .await
                .unwrap();
            let name = format!("op{i}");
            store
                .put_provider(&provider(&name, &format!("s-{i}")), false, UnixTime(now))
                .await
                .unwrap();
            store
                .put_provider(
                    &provider("shared", &format!("shared-{i}")),
                    true,
                    UnixTime(now),
                )
                .await
                .unwrap();
            store.advance_keys(UnixTime(now + 1)).await.unwrap();
            assert!(store.signing_key(alg).await.unwrap().is_some());
            store.close().await;
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM relier_migrations").await, 7);
    assert_eq!(db.count("SELECT COUNT(*) FROM meta").await, 1);
    let store = open(db.url()).await;
    let keys = store.list_keys().await.unwrap();
    assert_eq!(keys.len(), INSTANCES);
    for alg in [Algorithm::ES256, Algorithm::EdDSA] {
        let active = keys
            .iter()
            .filter(|k| k.alg == alg && k.state == KeyState::Active)
            .count();
        assert_eq!(active, 1, "{alg}");
    }
    assert_eq!(store.list_providers().await.unwrap().len(), INSTANCES + 1);
    let p = store.get_provider("op3").await.unwrap().unwrap();
    assert_eq!(p.client_secret.unwrap().expose(), "s-3");
    // Every instance publishes the same JWKS.
    let other = open(db.url()).await;
    assert_eq!(
        serde_json::to_value(store.jwks(UnixTime(NOW + 100)).await.unwrap()).unwrap(),
        serde_json::to_value(other.jwks(UnixTime(NOW + 100)).await.unwrap()).unwrap()
    );
    other.close().await;
    store.close().await;
}

/// Instances initializing an empty store with different master keys: the first check value
/// written wins; the others are told they have the wrong key.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_starts_with_different_master_keys_agree_on_one() {
    let db = TestDb::postgres().await;
    let barrier = Arc::new(tokio::sync::Barrier::new(4));
    let mut tasks = Vec::new();
    for i in 0u8..4 {
        let url = db.url().clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let key = MasterKey::from_bytes([i % 2; 32]);
            match relier_store::open(&url, MasterKeySource::Key(key)).await {
                Ok((store, _)) => {
                    store.close().await;
                    Some(i % 2)
                }
                Err(StoreError::WrongMasterKey { .. }) => None,
                Err(other) => panic!("unexpected {other:?}"),
            }
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        winners.extend(task.await.unwrap());
    }
    assert!(!winners.is_empty());
    assert!(winners.iter().all(|w| *w == winners[0]), "{winners:?}");
}

/// Two instances refreshing one session at once with the same expected version: exactly one
/// spends the refresh token; the other re-reads and uses the winner's tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_refresh_is_single_flight_across_instances() {
    let db = TestDb::postgres().await;
    let stores: Vec<Arc<dyn Store>> = vec![
        Arc::from(open(db.url()).await),
        Arc::from(open(db.url()).await),
    ];
    let id = Secret::new("session-1");
    stores[0].create_session(&id, &session()).await.unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(INSTANCES));
    let mut tasks = Vec::new();
    for i in 0..INSTANCES {
        let store = stores[i % 2].clone();
        let barrier = barrier.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let won = store
                .update_session_tokens(
                    &id,
                    0,
                    Some(&Secret::new(format!("at-{i}"))),
                    Some(&Secret::new(format!("rt-{i}"))),
                    None,
                    Some(NOW + 3600),
                )
                .await
                .unwrap();
            won.then_some(i)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        winners.extend(task.await.unwrap());
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let winner = winners[0];
    for store in &stores {
        let got = store
            .get_session(&id, UnixTime(NOW))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.version, 1);
        let rt = format!("rt-{winner}");
        assert_eq!(
            got.refresh_token.as_ref().map(Secret::expose),
            Some(rt.as_str())
        );
    }
    for store in &stores {
        store.close().await;
    }
}

/// Instances advancing the key lifecycle at the same moment: each transition is applied
/// once (key lock), nobody fails, one key is active.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn key_transitions_are_applied_once_across_instances() {
    let db = TestDb::postgres().await;
    let store = open(db.url()).await;
    let first = store
        .generate_key(Algorithm::ES256.into(), None, UnixTime(NOW))
        .await
        .unwrap();
    let second = store
        .rotate_keys(Some(Algorithm::ES256.into()), 10, UnixTime(NOW))
        .await
        .unwrap();
    store.close().await;
    let barrier = Arc::new(tokio::sync::Barrier::new(INSTANCES));
    let mut tasks = Vec::new();
    for _ in 0..INSTANCES {
        let url = db.url().clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let store = open(&url).await;
            barrier.wait().await;
            let changes = store.advance_keys(UnixTime(NOW + 20)).await.unwrap();
            store.close().await;
            changes.len()
        }));
    }
    let mut changes = 0;
    for task in tasks {
        changes += task.await.unwrap();
    }
    assert_eq!(changes, 2, "one activation and one retirement, once");
    let store = open(db.url()).await;
    let keys = store.list_keys().await.unwrap();
    let state = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().state;
    assert_eq!(state(&first.kid), KeyState::Retired);
    assert_eq!(state(&second[0].kid), KeyState::Active);
    store.close().await;
}

/// `sslmode` is honoured: `require` encrypts (the test server has TLS on), `verify-full`
/// refuses a certificate no trusted root signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tls_to_the_database_follows_sslmode() {
    let db = TestDb::postgres().await;
    let raw = db.pg_url().unwrap();
    let require = StoreUrl::parse(&format!("{raw}?sslmode=require&max_connections=2")).unwrap();
    let store = open(&require).await;
    store
        .generate_key(Algorithm::ES256.into(), None, UnixTime(NOW))
        .await
        .unwrap();
    store.close().await;
    let verify = StoreUrl::parse(&format!("{raw}?sslmode=verify-full&connect_timeout=5")).unwrap();
    match relier_store::open(&verify, MasterKeySource::Key(key_a())).await {
        Err(StoreError::Database { reason }) => assert!(!reason.is_empty()),
        Ok(_) => panic!("verify-full accepted an untrusted server certificate"),
        Err(other) => panic!("unexpected {other:?}"),
    }
}

/// Scheduled rotation from every instance at the same moment: one new key per due algorithm.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scheduled_rotation_happens_once_across_instances() {
    let db = TestDb::postgres().await;
    let store = open(db.url()).await;
    store
        .generate_key(Algorithm::ES256.into(), None, UnixTime(NOW))
        .await
        .unwrap();
    store
        .generate_key(Algorithm::EdDSA.into(), None, UnixTime(NOW))
        .await
        .unwrap();
    store.close().await;
    let barrier = Arc::new(tokio::sync::Barrier::new(INSTANCES));
    let mut tasks = Vec::new();
    for _ in 0..INSTANCES {
        let url = db.url().clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let store = open(&url).await;
            barrier.wait().await;
            let rotated = store
                .rotate_due_keys(100, 60, UnixTime(NOW + 100))
                .await
                .unwrap();
            store.close().await;
            rotated.len()
        }));
    }
    let mut rotated = 0;
    for task in tasks {
        rotated += task.await.unwrap();
    }
    assert_eq!(rotated, 2, "one new key per algorithm");
    let store = open(db.url()).await;
    let next = store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .filter(|k| k.state == KeyState::Next)
        .count();
    assert_eq!(next, 2);
    // Not due again while a next key is pending.
    assert!(
        store
            .rotate_due_keys(100, 60, UnixTime(NOW + 500))
            .await
            .unwrap()
            .is_empty()
    );
    store.close().await;
}

/// Every table as text, BYTEA values included (as PostgreSQL's hex).
async fn dump(db: &TestDb) -> String {
    let url = db.pg_url().unwrap();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap();
    let mut all = String::new();
    for table in [
        "meta",
        "keys",
        "providers",
        "login_states",
        "sessions",
        "logout_jtis",
    ] {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM {table} t"))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        all.push_str(&rows.join("\n"));
    }
    sqlx::Connection::close(conn).await.unwrap();
    all
}

/// Secrets are encrypted at rest on PostgreSQL too: none appears in any table, neither as
/// text nor as the hex of a BYTEA value.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_secret_is_stored_in_plaintext_on_postgres() {
    let db = TestDb::postgres().await;
    let store = open(db.url()).await;
    let key = store
        .generate_key(Algorithm::ES256.into(), None, UnixTime(NOW))
        .await
        .unwrap();
    let der = store
        .signing_key(Algorithm::ES256)
        .await
        .unwrap()
        .unwrap()
        .to_pkcs8_der()
        .unwrap();
    let mut p = provider("op", "client-secret-value-1");
    p.registration_access_token = Some(Secret::new("registration-token-value-2"));
    store.put_provider(&p, false, UnixTime(NOW)).await.unwrap();
    let state = LoginState {
        provider: "op".into(),
        pending: PendingLogin {
            state: State::from_stored("state-value-3").unwrap(),
            nonce: Nonce::from_stored("nonce-value-4").unwrap(),
            pkce_verifier: PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
                .unwrap(),
            redirect_uri: RedirectUrl::new("https://rp.example/callback").unwrap(),
            max_age: None,
        },
        return_to: "/app".into(),
        dpop_key: None,
        binding: Some(Secret::new("binding-value-10")),
        app_state: Some(Secret::new("app-state-value-11")),
        created_at: NOW,
        expires_at: NOW + 600,
    };
    store
        .put_login_state("state-value-3", &state)
        .await
        .unwrap();
    let mut rec = session();
    rec.email = Some("alice-mail@example.com".into());
    rec.access_token = Some(Secret::new("access-token-value-5"));
    rec.refresh_token = Some(Secret::new("refresh-token-value-6"));
    rec.id_token = Some(Secret::new("id-token-value-7"));
    rec.csrf_token = Secret::new("csrf-token-value-8");
    let session_id = Secret::new("session-id-value-9");
    store.create_session(&session_id, &rec).await.unwrap();
    store.close().await;

    let dump = dump(&db).await;
    assert!(dump.contains(&key.kid), "the dump holds the rows");
    assert!(dump.contains("\\x01"), "and the ciphertexts, as hex");
    let hex = |s: &[u8]| s.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert!(!dump.contains(&hex(&der)), "the private key in the clear");
    for secret in [
        "client-secret-value-1",
        "registration-token-value-2",
        "state-value-3",
        "nonce-value-4",
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        "alice-mail@example.com",
        "access-token-value-5",
        "refresh-token-value-6",
        "id-token-value-7",
        "csrf-token-value-8",
        "session-id-value-9",
        "binding-value-10",
        "app-state-value-11",
    ] {
        assert!(!dump.contains(secret), "{secret} in the clear");
        assert!(!dump.contains(&hex(secret.as_bytes())), "{secret} as hex");
    }
}
