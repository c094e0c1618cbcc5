//! What instances sharing one store rely on, on both backends: every logout leaves a trace the
//! others poll to drop the session from their caches, and the shared login rate limit hands out
//! each token once however many instances ask at the same moment.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::TestDb;
use common::rows::{open, session};
use relier_core::Secret;
use relier_store::{LoginAllowance, LoginRate, Store, session_id_hash};

const RECENT: Duration = Duration::from_secs(60);

async fn ended_sessions_are_seen_by_every_handle(db: TestDb) {
    let (a, b) = (open(db.url()).await, open(db.url()).await);
    assert!(b.recently_ended_sessions(RECENT).await.unwrap().is_empty());
    let ids = ["e1", "e2", "e3", "e4"].map(Secret::new);
    for (id, sub) in ids.iter().zip(["alice", "bob", "bob", "carol"]) {
        a.create_session(id, &session("op", sub, Some(&format!("sid-{sub}"))))
            .await
            .unwrap();
    }

    // RP-initiated logout on one handle, back-channel logout (by sub) on it too.
    assert!(a.delete_session(&ids[0]).await.unwrap());
    assert!(!a.delete_session(&ids[0]).await.unwrap(), "already gone");
    let by_sub = a
        .delete_sessions_for("op", None, Some("bob"))
        .await
        .unwrap();
    assert_eq!(by_sub.len(), 2);

    // The other handle (another instance) sees all three, and only them.
    let mut seen = b.recently_ended_sessions(RECENT).await.unwrap();
    seen.sort();
    let mut want: Vec<String> = ids[..3].iter().map(session_id_hash).collect();
    want.sort();
    assert_eq!(seen, want);

    // A session that merely expires is not a logout; purging keeps recent ends.
    b.purge_expired(relier_store::UnixTime(0)).await.unwrap();
    assert_eq!(b.recently_ended_sessions(RECENT).await.unwrap().len(), 3);
    // The window is the database's clock: nothing ended in the future.
    assert!(
        b.recently_ended_sessions(Duration::ZERO)
            .await
            .unwrap()
            .len()
            <= 3
    );
    a.close().await;
    b.close().await;
}

async fn shared_login_limit_hands_out_each_token_once(db: TestDb) {
    let handles: Vec<Arc<dyn Store>> = vec![
        Arc::from(open(db.url()).await),
        Arc::from(open(db.url()).await),
        Arc::from(open(db.url()).await),
    ];
    // 1 per minute: nothing refills during the test.
    let rate = LoginRate {
        per_minute: 1,
        burst: 5,
    };
    let mut tasks = Vec::new();
    for i in 0..24 {
        let store = handles[i % handles.len()].clone();
        tasks.push(tokio::spawn(async move {
            store.take_login_token("192.0.2.7", rate).await.unwrap()
        }));
    }
    let mut granted = 0;
    for t in tasks {
        match t.await.unwrap() {
            LoginAllowance::Granted => granted += 1,
            LoginAllowance::Wait(d) => {
                assert!(
                    d >= Duration::from_secs(1) && d <= Duration::from_secs(60),
                    "{d:?}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(granted, 5, "three instances, one bucket of five");

    // Another client has its own bucket.
    assert_eq!(
        handles[0]
            .take_login_token("192.0.2.8", rate)
            .await
            .unwrap(),
        LoginAllowance::Granted
    );
    // A fast rate refills: at 600 000 per minute (10 per ms) the bucket is full again at once.
    let fast = LoginRate {
        per_minute: 600_000,
        burst: 1,
    };
    for _ in 0..3 {
        assert_eq!(
            handles[1]
                .take_login_token("192.0.2.9", fast)
                .await
                .unwrap(),
            LoginAllowance::Granted
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for h in handles {
        h.close().await;
    }
}

both_backends!(
    ended_sessions_are_seen_by_every_handle,
    shared_login_limit_hands_out_each_token_once,
);
