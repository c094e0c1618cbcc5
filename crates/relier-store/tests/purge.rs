//! The purge of expired sessions, on both backends: more than one batch's worth of expired
//! sessions all go in one purge (each batch its own statement), the live ones stay, and the
//! session count sees only live ones.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::TestDb;
use common::rows::{NOW, open, session};
use relier_core::Secret;
use relier_store::UnixTime;

/// More than two purge batches (1 000 rows each).
const EXPIRED: usize = 2_300;

async fn expired_sessions_beyond_one_batch_are_all_purged(db: TestDb) {
    let store = open(db.url()).await;
    for i in 0..EXPIRED {
        let mut rec = session("op", &format!("old{i}"), None);
        rec.idle_expires_at = NOW + 100 + (i as u64 % 7);
        store
            .create_session(&Secret::new(format!("old{i}")), &rec)
            .await
            .unwrap();
    }
    for i in 0..5 {
        store
            .create_session(
                &Secret::new(format!("live{i}")),
                &session("op", &format!("u{i}"), None),
            )
            .await
            .unwrap();
    }
    let later = UnixTime(NOW + 200);
    assert_eq!(store.count_sessions(later).await.unwrap(), 5);
    let purged = store.purge_expired(later).await.unwrap();
    assert!(purged >= EXPIRED as u64, "{purged}");
    assert_eq!(db.count("SELECT COUNT(*) FROM sessions").await, 5);
    assert_eq!(store.purge_expired(later).await.unwrap(), 0);
    assert!(
        store
            .get_session(&Secret::new("live4"), later)
            .await
            .unwrap()
            .is_some()
    );
    store.close().await;
}

both_backends!(expired_sessions_beyond_one_batch_are_all_purged);
