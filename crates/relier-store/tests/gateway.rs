//! The login gateway's part of the store: login states (single use, expiry), sessions (round
//! trip, sliding and absolute expiry, compare-and-swap token updates, back-channel logout),
//! the logout-token replay guard, persistence across reopening.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use relier_core::{Nonce, PendingLogin, PkceVerifier, RedirectUrl, Secret, State};
mod common;

use common::TestDb;
use common::rows::{ABSOLUTE, IDLE, NOW, open, session};
use relier_store::{
    LoginState, MasterKey, MasterKeySource, SessionRecord, Store, StoreError, StoreUrl, UnixTime,
    session_id_hash,
};
use serde_json::json;

fn db_url(dir: &Path) -> (StoreUrl, PathBuf) {
    let path = dir.join("relier.db");
    (StoreUrl::sqlite(&path), path)
}

async fn raw_pool(path: &Path) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
}

fn login_state(state: &str, expires_at: u64) -> LoginState {
    LoginState {
        provider: "op".into(),
        pending: PendingLogin {
            state: State::from_stored(state).unwrap(),
            nonce: Nonce::from_stored(format!("nonce-for-{state}")).unwrap(),
            pkce_verifier: PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
                .unwrap(),
            redirect_uri: RedirectUrl::new("https://rp.example/callback").unwrap(),
            max_age: Some(300),
        },
        return_to: "/app?tab=1".into(),
        dpop_key: Some(Secret::new(format!("ES256:dpop-for-{state}"))),
        binding: Some(Secret::new(format!("binding-for-{state}"))),
        app_state: Some(Secret::new(format!("link:42:{state}"))),
        created_at: NOW,
        expires_at,
    }
}

fn expose(s: Option<&Secret>) -> Option<&str> {
    s.map(Secret::expose)
}

fn assert_same_session(a: &SessionRecord, b: &SessionRecord) {
    assert_eq!(a.provider, b.provider);
    assert_eq!(a.iss, b.iss);
    assert_eq!(a.sub, b.sub);
    assert_eq!(a.sid, b.sid);
    assert_eq!(a.email, b.email);
    assert_eq!(a.name, b.name);
    assert_eq!(a.claims, b.claims);
    assert_eq!(
        expose(a.access_token.as_ref()),
        expose(b.access_token.as_ref())
    );
    assert_eq!(
        expose(a.refresh_token.as_ref()),
        expose(b.refresh_token.as_ref())
    );
    assert_eq!(expose(a.id_token.as_ref()), expose(b.id_token.as_ref()));
    assert_eq!(expose(a.dpop_key.as_ref()), expose(b.dpop_key.as_ref()));
    assert_eq!(a.access_expires_at, b.access_expires_at);
    assert_eq!(a.csrf_token.expose(), b.csrf_token.expose());
    assert_eq!(a.created_at, b.created_at);
    assert_eq!(a.last_seen_at, b.last_seen_at);
    assert_eq!(a.idle_expires_at, b.idle_expires_at);
    assert_eq!(a.absolute_expires_at, b.absolute_expires_at);
    assert_eq!(a.version, b.version);
}

// ---- login states ----

async fn login_state_round_trip_is_single_use(db: TestDb) {
    let url = db.url().clone();
    let store = open(&url).await;

    assert!(
        store
            .take_login_state("unknown", UnixTime(NOW))
            .await
            .unwrap()
            .is_none()
    );
    let rec = login_state("st-1", NOW + 600);
    store.put_login_state("st-1", &rec).await.unwrap();
    store
        .put_login_state("st-2", &login_state("st-2", NOW + 600))
        .await
        .unwrap();

    let got = store
        .take_login_state("st-1", UnixTime(NOW + 1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.provider, "op");
    assert_eq!(got.return_to, "/app?tab=1");
    assert_eq!(expose(got.dpop_key.as_ref()), Some("ES256:dpop-for-st-1"));
    assert_eq!(expose(got.binding.as_ref()), Some("binding-for-st-1"));
    assert_eq!(expose(got.app_state.as_ref()), Some("link:42:st-1"));
    assert_eq!(got.created_at, NOW);
    assert_eq!(got.expires_at, NOW + 600);
    assert!(got.pending.state.matches("st-1"));
    assert_eq!(got.pending.nonce.expose(), "nonce-for-st-1");
    assert_eq!(
        got.pending.pkce_verifier.expose(),
        rec.pending.pkce_verifier.expose()
    );
    assert_eq!(
        got.pending.redirect_uri.as_str(),
        "https://rp.example/callback"
    );
    assert_eq!(got.pending.max_age, Some(300));

    // Single use; the other state is untouched.
    assert!(
        store
            .take_login_state("st-1", UnixTime(NOW + 1))
            .await
            .unwrap()
            .is_none()
    );
    let other = store
        .take_login_state("st-2", UnixTime(NOW + 1))
        .await
        .unwrap()
        .unwrap();
    assert!(other.pending.state.matches("st-2"));
    store.close().await;
}

async fn expired_login_state_is_none_and_deleted(db: TestDb) {
    let url = db.url().clone();
    let store = open(&url).await;

    store
        .put_login_state("old", &login_state("old", NOW + 600))
        .await
        .unwrap();
    // now == expires_at is expired.
    assert!(
        store
            .take_login_state("old", UnixTime(NOW + 600))
            .await
            .unwrap()
            .is_none()
    );
    let n = db.count("SELECT COUNT(*) FROM login_states").await;
    assert_eq!(n, 0, "the expired state was deleted");

    // purge_expired removes expired states nobody took, and keeps live ones.
    store
        .put_login_state("a", &login_state("a", NOW + 10))
        .await
        .unwrap();
    store
        .put_login_state("b", &login_state("b", NOW + 20))
        .await
        .unwrap();
    assert_eq!(store.purge_expired(UnixTime(NOW + 10)).await.unwrap(), 1);
    assert!(
        store
            .take_login_state("a", UnixTime(NOW))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .take_login_state("b", UnixTime(NOW + 19))
            .await
            .unwrap()
            .is_some()
    );
    store.close().await;
}

async fn a_login_state_moved_to_another_row_does_not_decrypt(db: TestDb) {
    let url = db.url().clone();
    let store = open(&url).await;
    store
        .put_login_state("victim", &login_state("victim", NOW + 600))
        .await
        .unwrap();
    store
        .put_login_state("attacker", &login_state("attacker", NOW + 600))
        .await
        .unwrap();
    db.exec(
        "UPDATE login_states SET record = (SELECT record FROM login_states WHERE state_hash = $1) \
         WHERE state_hash = $2",
        &[
            &session_id_hash(&Secret::new("victim")),
            &session_id_hash(&Secret::new("attacker")),
        ],
    )
    .await;
    let err = store
        .take_login_state("attacker", UnixTime(NOW))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Crypto { .. }), "{err:?}");
    // Deleted all the same.
    assert!(
        store
            .take_login_state("attacker", UnixTime(NOW))
            .await
            .unwrap()
            .is_none()
    );
    store.close().await;
}

async fn concurrent_takes_of_one_state_yield_exactly_one(db: TestDb) {
    const TASKS: usize = 8;
    let url = db.url().clone();
    let store: Arc<Box<dyn Store>> = Arc::new(open(&url).await);
    // A second handle (its own pool, like another gateway process) takes part too.
    let other: Arc<Box<dyn Store>> = Arc::new(open(&url).await);

    for round in 0..5 {
        let state = format!("race-{round}");
        store
            .put_login_state(&state, &login_state(&state, NOW + 600))
            .await
            .unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
        let mut tasks = Vec::new();
        for i in 0..TASKS {
            let store = if i % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            let barrier = barrier.clone();
            let state = state.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                store
                    .take_login_state(&state, UnixTime(NOW + 1))
                    .await
                    .unwrap()
            }));
        }
        let mut winners = 0;
        for task in tasks {
            if let Some(rec) = task.await.unwrap() {
                assert!(rec.pending.state.matches(&state));
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "round {round}");
    }
    store.close().await;
    other.close().await;
}

// ---- sessions ----

async fn session_round_trip_touch_and_expiry(db: TestDb) {
    let url = db.url().clone();
    let store = open(&url).await;
    let id = Secret::new("session-1");
    let rec = session("op", "alice", Some("sid-1"));

    assert!(
        store
            .get_session(&id, UnixTime(NOW))
            .await
            .unwrap()
            .is_none()
    );
    store.create_session(&id, &rec).await.unwrap();
    assert_same_session(
        &store
            .get_session(&id, UnixTime(NOW))
            .await
            .unwrap()
            .unwrap(),
        &rec,
    );
    // A second session with the same id is refused.
    let err = store.create_session(&id, &rec).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    assert_eq!(store.count_sessions(UnixTime(NOW)).await.unwrap(), 1);

    // Idle expiry: expired at now == idle_expires_at.
    assert!(
        store
            .get_session(&id, UnixTime(NOW + IDLE - 1))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .get_session(&id, UnixTime(NOW + IDLE))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.count_sessions(UnixTime(NOW + IDLE)).await.unwrap(), 0);

    // Touching extends the idle expiry (and does not change the version)...
    store
        .touch_session(&id, UnixTime(NOW + 1000), NOW + 1000 + IDLE)
        .await
        .unwrap();
    let got = store
        .get_session(&id, UnixTime(NOW + IDLE))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.last_seen_at, NOW + 1000);
    assert_eq!(got.idle_expires_at, NOW + 1000 + IDLE);
    assert_eq!(got.version, 0);
    // ... never past the absolute expiry.
    store
        .touch_session(&id, UnixTime(NOW + 2000), NOW + ABSOLUTE + IDLE)
        .await
        .unwrap();
    let got = store
        .get_session(&id, UnixTime(NOW + ABSOLUTE - 1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.idle_expires_at, NOW + ABSOLUTE);
    assert!(
        store
            .get_session(&id, UnixTime(NOW + ABSOLUTE))
            .await
            .unwrap()
            .is_none()
    );

    // An expired session is not resurrected by a touch.
    let id2 = Secret::new("session-2");
    store
        .create_session(&id2, &session("op", "bob", None))
        .await
        .unwrap();
    store
        .touch_session(&id2, UnixTime(NOW + IDLE), NOW + 2 * IDLE)
        .await
        .unwrap();
    assert!(
        store
            .get_session(&id2, UnixTime(NOW + IDLE))
            .await
            .unwrap()
            .is_none()
    );
    // Touching an unknown session is not an error.
    store
        .touch_session(&Secret::new("nope"), UnixTime(NOW), NOW + IDLE)
        .await
        .unwrap();

    // idle_expires_at past the absolute expiry is stored clamped.
    let id3 = Secret::new("session-3");
    let mut rec3 = session("op", "carol", None);
    rec3.idle_expires_at = rec3.absolute_expires_at + 100;
    store.create_session(&id3, &rec3).await.unwrap();
    let got = store
        .get_session(&id3, UnixTime(NOW))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.idle_expires_at, rec3.absolute_expires_at);

    // Optional members absent.
    let id4 = Secret::new("session-4");
    let mut rec4 = session("op", "dave", None);
    rec4.email = None;
    rec4.name = None;
    rec4.access_token = None;
    rec4.refresh_token = None;
    rec4.id_token = None;
    rec4.access_expires_at = None;
    rec4.claims = json!({});
    store.create_session(&id4, &rec4).await.unwrap();
    assert_same_session(
        &store
            .get_session(&id4, UnixTime(NOW))
            .await
            .unwrap()
            .unwrap(),
        &rec4,
    );

    // Delete.
    assert!(store.delete_session(&id4).await.unwrap());
    assert!(!store.delete_session(&id4).await.unwrap());
    assert!(
        store
            .get_session(&id4, UnixTime(NOW))
            .await
            .unwrap()
            .is_none()
    );
    store.close().await;
}

async fn purge_and_count(db: TestDb) {
    let url = db.url().clone();
    let store = open(&url).await;
    let short = Secret::new("short");
    let long = Secret::new("long");
    let mut rec = session("op", "a", None);
    rec.idle_expires_at = NOW + 100;
    store.create_session(&short, &rec).await.unwrap();
    store
        .create_session(&long, &session("op", "b", None))
        .await
        .unwrap();
    store
        .remember_logout_jti("op", "j1", NOW + 100)
        .await
        .unwrap();
    store
        .remember_logout_jti("op", "j2", NOW + 500)
        .await
        .unwrap();
    store
        .put_login_state("s", &login_state("s", NOW + 100))
        .await
        .unwrap();

    assert_eq!(store.count_sessions(UnixTime(NOW)).await.unwrap(), 2);
    assert_eq!(store.count_sessions(UnixTime(NOW + 100)).await.unwrap(), 1);
    assert_eq!(store.purge_expired(UnixTime(NOW + 99)).await.unwrap(), 0);
    // One session, one jti, one login state.
    assert_eq!(store.purge_expired(UnixTime(NOW + 100)).await.unwrap(), 3);
    assert_eq!(store.purge_expired(UnixTime(NOW + 100)).await.unwrap(), 0);
    assert!(!store.delete_session(&short).await.unwrap());
    assert!(
        store
            .get_session(&long, UnixTime(NOW + 100))
            .await
            .unwrap()
            .is_some()
    );
    // The jti still remembered is still a replay.
    assert!(
        !store
            .remember_logout_jti("op", "j2", NOW + 500)
            .await
            .unwrap()
    );
    store.close().await;
}

async fn token_updates_are_compare_and_swap(db: TestDb) {
    let url = db.url().clone();
    let store: Arc<Box<dyn Store>> = Arc::new(open(&url).await);
    let id = Secret::new("session-cas");
    store
        .create_session(&id, &session("op", "alice", Some("sid")))
        .await
        .unwrap();

    // Two refreshes racing with the same expected version: exactly one wins.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let mut tasks = Vec::new();
    for i in 0..2 {
        let store = store.clone();
        let barrier = barrier.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let won = store
                .update_session_tokens(
                    &id,
                    0,
                    Some(&Secret::new(format!("at-new-{i}"))),
                    Some(&Secret::new(format!("rt-new-{i}"))),
                    None,
                    Some(NOW + 3600 + i),
                )
                .await
                .unwrap();
            (i, won)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (i, won) = task.await.unwrap();
        if won {
            winners.push(i);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let w = winners[0];
    let got = store
        .get_session(&id, UnixTime(NOW))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.version, 1);
    assert_eq!(
        expose(got.access_token.as_ref()),
        Some(format!("at-new-{w}").as_str())
    );
    assert_eq!(
        expose(got.refresh_token.as_ref()),
        Some(format!("rt-new-{w}").as_str())
    );
    // A token given as None keeps the stored one.
    assert_eq!(expose(got.id_token.as_ref()), Some("idt-alice"));
    assert_eq!(got.access_expires_at, Some(NOW + 3600 + w));

    // Sequentially: a stale version loses, the current one wins; access_expires_at is
    // written as given even when None.
    assert!(
        !store
            .update_session_tokens(&id, 0, Some(&Secret::new("stale")), None, None, None)
            .await
            .unwrap()
    );
    assert!(
        store
            .update_session_tokens(
                &id,
                1,
                Some(&Secret::new("at-3")),
                None,
                Some(&Secret::new("idt-3")),
                None
            )
            .await
            .unwrap()
    );
    let got = store
        .get_session(&id, UnixTime(NOW))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.version, 2);
    assert_eq!(expose(got.access_token.as_ref()), Some("at-3"));
    assert_eq!(
        expose(got.refresh_token.as_ref()),
        Some(format!("rt-new-{w}").as_str())
    );
    assert_eq!(expose(got.id_token.as_ref()), Some("idt-3"));
    assert_eq!(got.access_expires_at, None);
    // Untouched by the updates.
    assert_eq!(got.csrf_token.expose(), "csrf-alice");
    assert_eq!(got.idle_expires_at, NOW + IDLE);

    // An unknown session is not updated.
    assert!(
        !store
            .update_session_tokens(&Secret::new("nope"), 0, None, None, None, None)
            .await
            .unwrap()
    );
    store.close().await;
}

async fn back_channel_logout_by_sid_and_by_sub(db: TestDb) {
    let url = db.url().clone();
    let store = open(&url).await;
    let ids: Vec<(Secret, SessionRecord)> = vec![
        (Secret::new("s1"), session("op", "alice", Some("sid-a1"))),
        (Secret::new("s2"), session("op", "alice", Some("sid-a2"))),
        (Secret::new("s3"), session("op", "alice", None)),
        (Secret::new("s4"), session("op", "bob", Some("sid-b1"))),
        (Secret::new("s5"), session("other", "alice", Some("sid-a1"))),
        (Secret::new("s6"), session("op", "carol", Some("sid-c1"))),
    ];
    for (id, rec) in &ids {
        store.create_session(id, rec).await.unwrap();
    }
    let hash = |i: usize| session_id_hash(&ids[i].0);
    let live = async |store: &dyn Store, i: usize| {
        store
            .get_session(&ids[i].0, UnixTime(NOW))
            .await
            .unwrap()
            .is_some()
    };

    // Neither sid nor sub: refused, nothing deleted.
    let err = store
        .delete_sessions_for("op", None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    assert_eq!(store.count_sessions(UnixTime(NOW)).await.unwrap(), 6);

    // sid only: that session at that provider (not the other provider's same sid).
    let gone = store
        .delete_sessions_for("op", Some("sid-a1"), None)
        .await
        .unwrap();
    assert_eq!(gone, vec![hash(0)]);
    assert!(!live(&*store, 0).await && live(&*store, 4).await);

    // sid and sub must both match.
    let gone = store
        .delete_sessions_for("op", Some("sid-b1"), Some("alice"))
        .await
        .unwrap();
    assert!(gone.is_empty());
    let gone = store
        .delete_sessions_for("op", Some("sid-b1"), Some("bob"))
        .await
        .unwrap();
    assert_eq!(gone, vec![hash(3)]);

    // sub only: every session of the user at that provider, with or without sid.
    let mut gone = store
        .delete_sessions_for("op", None, Some("alice"))
        .await
        .unwrap();
    gone.sort();
    let mut want = vec![hash(1), hash(2)];
    want.sort();
    assert_eq!(gone, want);
    assert!(live(&*store, 4).await, "alice at the other provider stays");
    assert!(live(&*store, 5).await, "carol stays");
    assert!(
        store
            .delete_sessions_for("op", None, Some("alice"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.count_sessions(UnixTime(NOW)).await.unwrap(), 2);
    store.close().await;
}

async fn logout_jti_replay_guard(db: TestDb) {
    let url = db.url().clone();
    let store = open(&url).await;
    assert!(
        store
            .remember_logout_jti("op", "jti-1", NOW + 120)
            .await
            .unwrap()
    );
    assert!(
        !store
            .remember_logout_jti("op", "jti-1", NOW + 120)
            .await
            .unwrap()
    );
    // Per provider.
    assert!(
        store
            .remember_logout_jti("other", "jti-1", NOW + 120)
            .await
            .unwrap()
    );
    assert!(
        store
            .remember_logout_jti("op", "jti-2", NOW + 120)
            .await
            .unwrap()
    );
    // Remembered until purged at or after its expiry.
    store.purge_expired(UnixTime(NOW + 119)).await.unwrap();
    assert!(
        !store
            .remember_logout_jti("op", "jti-1", NOW + 120)
            .await
            .unwrap()
    );
    store.purge_expired(UnixTime(NOW + 120)).await.unwrap();
    assert!(
        store
            .remember_logout_jti("op", "jti-1", NOW + 240)
            .await
            .unwrap()
    );
    store.close().await;
}

async fn sessions_survive_closing_and_reopening(db: TestDb) {
    let url = db.url().clone();
    let id = Secret::new("persistent-session");
    let rec = session("op", "alice", Some("sid"));
    let store = open(&url).await;
    store.create_session(&id, &rec).await.unwrap();
    store
        .put_login_state("st", &login_state("st", NOW + 600))
        .await
        .unwrap();
    store
        .remember_logout_jti("op", "j", NOW + 600)
        .await
        .unwrap();
    store.close().await;

    let store = open(&url).await;
    assert_same_session(
        &store
            .get_session(&id, UnixTime(NOW))
            .await
            .unwrap()
            .unwrap(),
        &rec,
    );
    assert!(
        store
            .take_login_state("st", UnixTime(NOW))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        !store
            .remember_logout_jti("op", "j", NOW + 600)
            .await
            .unwrap()
    );
    store.close().await;

    // Another master key cannot open the store at all.
    let err = relier_store::open(&url, MasterKeySource::Key(MasterKey::from_bytes([1; 32])))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::WrongMasterKey { .. }), "{err:?}");
}

async fn session_secrets_are_bound_to_their_row_and_column(db: TestDb) {
    let url = db.url().clone();
    let store = open(&url).await;
    let victim = Secret::new("victim");
    let attacker = Secret::new("attacker");
    store
        .create_session(&victim, &session("op", "victim", None))
        .await
        .unwrap();
    store
        .create_session(&attacker, &session("op", "attacker", None))
        .await
        .unwrap();
    // The stored key is the SHA-256 of the id, never the id.
    let keys = db
        .strings("SELECT id_hash FROM sessions ORDER BY id_hash")
        .await;
    let mut want = vec![session_id_hash(&victim), session_id_hash(&attacker)];
    want.sort();
    assert_eq!(keys, want);
    assert!(keys.iter().all(|k| k.len() == 64));

    // The victim's refresh token copied into the attacker's row does not decrypt...
    db.exec(
        "UPDATE sessions SET refresh_token = (SELECT refresh_token FROM sessions \
         WHERE id_hash = $1) WHERE id_hash = $2",
        &[&session_id_hash(&victim), &session_id_hash(&attacker)],
    )
    .await;
    let err = store
        .get_session(&attacker, UnixTime(NOW))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Crypto { .. }), "{err:?}");
    let message = err.to_string();
    assert!(!message.contains("rt-victim"), "{message}");

    // ... nor does one of its own columns moved to another column.
    db.exec(
        "UPDATE sessions SET access_token = refresh_token WHERE id_hash = $1",
        &[&session_id_hash(&victim)],
    )
    .await;
    let err = store.get_session(&victim, UnixTime(NOW)).await.unwrap_err();
    assert!(matches!(err, StoreError::Crypto { .. }), "{err:?}");
    store.close().await;
}

#[tokio::test]
async fn session_personal_data_is_encrypted_and_old_rows_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let (url, path) = db_url(dir.path());
    let store = open(&url).await;
    let id = Secret::new("session-pii");
    let rec = session("op", "carol", None);
    store.create_session(&id, &rec).await.unwrap();
    let pool = raw_pool(&path).await;
    let (email, name, claims): (Option<String>, Option<String>, String) =
        sqlx::query_as("SELECT email, name, claims FROM sessions WHERE id_hash = $1")
            .bind(session_id_hash(&id))
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((email, name, claims.as_str()), (None, None, "{}"));
    let db = std::fs::read(&path).unwrap();
    let wal = std::fs::read(path.with_extension("db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(17).any(|w| w == b"carol@example.com"),
            "email in clear text"
        );
    }
    assert_same_session(
        &store
            .get_session(&id, UnixTime(NOW))
            .await
            .unwrap()
            .unwrap(),
        &rec,
    );

    // The identity moved to another row does not decrypt there.
    let other = Secret::new("session-other");
    store
        .create_session(&other, &session("op", "dave", None))
        .await
        .unwrap();
    sqlx::query(
        "UPDATE sessions SET identity = (SELECT identity FROM sessions WHERE id_hash = $1) \
         WHERE id_hash = $2",
    )
    .bind(session_id_hash(&id))
    .bind(session_id_hash(&other))
    .execute(&pool)
    .await
    .unwrap();
    let err = store.get_session(&other, UnixTime(NOW)).await.unwrap_err();
    assert!(matches!(err, StoreError::Crypto { .. }), "{err:?}");

    // A row written before the identity column existed (and before subjects were indexed by
    // keyed hash) is read from its clear-text columns.
    sqlx::query(
        "UPDATE sessions SET identity = NULL, sub = 'dave', subject_hash = NULL, \
         email = 'dave@example.com', name = 'User dave', \
         claims = '{\"sub\":\"dave\",\"groups\":[\"a\",\"b\"]}' WHERE id_hash = $1",
    )
    .bind(session_id_hash(&other))
    .execute(&pool)
    .await
    .unwrap();
    assert_same_session(
        &store
            .get_session(&other, UnixTime(NOW))
            .await
            .unwrap()
            .unwrap(),
        &session("op", "dave", None),
    );
    pool.close().await;
    store.close().await;
}

both_backends!(
    session_secrets_are_bound_to_their_row_and_column,
    expired_login_state_is_none_and_deleted,
    a_login_state_moved_to_another_row_does_not_decrypt,
    login_state_round_trip_is_single_use,
    concurrent_takes_of_one_state_yield_exactly_one,
    session_round_trip_touch_and_expiry,
    purge_and_count,
    token_updates_are_compare_and_swap,
    back_channel_logout_by_sid_and_by_sub,
    logout_jti_replay_guard,
    sessions_survive_closing_and_reopening,
);
