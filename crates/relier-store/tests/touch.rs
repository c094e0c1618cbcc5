//! Sliding expiry of many sessions in one call, on both backends: live sessions get the new
//! `last_seen_at` and idle expiry (capped by the absolute one); expired and unknown ones are
//! left alone.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::TestDb;
use common::rows::{ABSOLUTE, IDLE, NOW, open, session};
use relier_core::Secret;
use relier_store::{SessionTouch, UnixTime, session_id_hash};

async fn many_sessions_are_touched_at_once(db: TestDb) {
    let store = open(db.url()).await;
    // More than one statement's worth.
    let ids: Vec<Secret> = (0..450).map(|i| Secret::new(format!("t{i}"))).collect();
    for (i, id) in ids.iter().enumerate() {
        store
            .create_session(id, &session("op", &format!("u{i}"), None))
            .await
            .unwrap();
    }
    let later = NOW + 100;
    let mut touches: Vec<SessionTouch> = ids
        .iter()
        .map(|id| SessionTouch {
            id_hash: session_id_hash(id),
            now: UnixTime(later),
            idle_expires_at: later + IDLE,
        })
        .collect();
    // Past the absolute expiry: capped.
    touches[0].idle_expires_at = NOW + ABSOLUTE + 1000;
    touches.push(SessionTouch {
        id_hash: "unknown".into(),
        now: UnixTime(later),
        idle_expires_at: later + IDLE,
    });
    store.touch_sessions(&touches).await.unwrap();

    let first = store
        .get_session(&ids[0], UnixTime(later))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.last_seen_at, later);
    assert_eq!(first.idle_expires_at, NOW + ABSOLUTE);
    for id in [&ids[1], &ids[449]] {
        let s = store
            .get_session(id, UnixTime(later))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((s.last_seen_at, s.idle_expires_at), (later, later + IDLE));
    }

    // An expired session is not resurrected.
    let dead = NOW + IDLE + 500;
    store
        .touch_sessions(&[SessionTouch {
            id_hash: session_id_hash(&ids[2]),
            now: UnixTime(dead),
            idle_expires_at: dead + IDLE,
        }])
        .await
        .unwrap();
    assert!(
        store
            .get_session(&ids[2], UnixTime(dead))
            .await
            .unwrap()
            .is_none()
    );
    store.touch_sessions(&[]).await.unwrap();
    store.close().await;
}

both_backends!(many_sessions_are_touched_at_once);
