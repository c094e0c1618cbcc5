//! The PostgreSQL session read on connections of its own (relier-store `pg_lanes`): it
//! survives the server ending those connections, reads cancelled half-way leave nothing behind
//! for the next one, and many concurrent reads share the few connections.

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
use common::rows::{NOW, open, session};
use relier_core::Secret;
use relier_store::{StoreUrl, UnixTime};

/// Ends every other connection to the test database, as a restart or a failover would.
async fn terminate_store_connections(db: &TestDb) -> u64 {
    db.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
        &[],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_read_survives_the_server_ending_its_connections() {
    let db = TestDb::postgres().await;
    let store = open(db.url()).await;
    let id = Secret::new("sess-1");
    store
        .create_session(&id, &session("op", "alice", None))
        .await
        .unwrap();
    for round in 0..3 {
        assert!(
            store
                .get_session(&id, UnixTime(NOW))
                .await
                .unwrap()
                .is_some(),
            "round {round}"
        );
        assert!(terminate_store_connections(&db).await >= 1);
        // The next read finds its connection gone, reconnects once and answers.
        let found = store.get_session(&id, UnixTime(NOW)).await.unwrap();
        assert_eq!(found.unwrap().sub, "alice", "round {round}");
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_cancelled_half_way_do_not_disturb_the_next_read() {
    let db = TestDb::postgres().await;
    let store = open(db.url()).await;
    let alice = Secret::new("sess-a");
    let bob = Secret::new("sess-b");
    store
        .create_session(&alice, &session("op", "alice", None))
        .await
        .unwrap();
    store
        .create_session(&bob, &session("op", "bob", None))
        .await
        .unwrap();
    for i in 0..200u64 {
        // Dropped after a few microseconds: often after the statement went out and before its
        // answer came back.
        let _ = tokio::time::timeout(
            Duration::from_micros(i % 40),
            store.get_session(&alice, UnixTime(NOW)),
        )
        .await;
        let found = store.get_session(&bob, UnixTime(NOW)).await.unwrap();
        assert_eq!(found.unwrap().sub, "bob", "read {i} got another row");
    }
    store.close().await;
}

/// A store on `db` with `max_connections=2` (one read connection, one pooled session
/// connection) holding sessions `s0`…`s{n-1}` of users `u0`…`u{n-1}`.
async fn store_with_sessions(db: &TestDb, n: usize) -> Arc<dyn relier_store::Store> {
    let base = db.pg_url().unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = StoreUrl::parse(&format!("{base}{sep}max_connections=2")).unwrap();
    let store: Arc<dyn relier_store::Store> = open(&url).await.into();
    for i in 0..n {
        store
            .create_session(
                &Secret::new(format!("s{i}")),
                &session("op", &format!("u{i}"), None),
            )
            .await
            .unwrap();
    }
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_reads_share_few_connections() {
    let db = TestDb::postgres().await;
    let store = store_with_sessions(&db, 20).await;
    let reads = (0..200).map(|n| {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let i = n % 20;
            let found = store
                .get_session(&Secret::new(format!("s{i}")), UnixTime(NOW))
                .await
                .unwrap();
            assert_eq!(found.unwrap().sub, format!("u{i}"));
        })
    });
    for r in reads.collect::<Vec<_>>() {
        r.await.unwrap();
    }
    // One read connection and one pooled connection for the sessions, at most two for keys
    // and the registry (crate docs of `relier_store::postgres`): no more than four in all.
    let open_conns = db
        .count(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await;
    assert!(open_conns <= 4, "{open_conns} connections");
    store.close().await;
}

/// Bursts of reads queued behind one read connection: each gets its own row, judged at its own
/// `now` (a read at or after the idle expiry sees nothing, the others the row), and a session
/// read by several at once reaches each of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_reads_each_get_their_own_answer_at_their_own_time() {
    let db = TestDb::postgres().await;
    // One read connection: every read but the first of a burst waits for it.
    let store = store_with_sessions(&db, 10).await;
    let expiry = NOW + common::rows::IDLE;
    for round in 0..20u64 {
        let reads = (0..60u64).map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                // Sessions s0…s9, s0 and s1 by many readers at once; a missing one; and
                // reads at or after the idle expiry, which see nothing.
                let i = n % 12;
                let late = (n + round) % 5 == 0;
                let now = if late { expiry + (n % 2) } else { NOW + n };
                let found = store
                    .get_session(&Secret::new(format!("s{i}")), UnixTime(now))
                    .await
                    .unwrap();
                match (i, late) {
                    (10 | 11, _) | (_, true) => {
                        assert!(found.is_none(), "s{i} at {now}: {found:?}");
                    }
                    _ => assert_eq!(found.unwrap().sub, format!("u{i}"), "s{i} at {now}"),
                }
            })
        });
        for r in reads.collect::<Vec<_>>() {
            r.await.unwrap();
        }
    }
    store.close().await;
}
