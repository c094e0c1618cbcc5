//! The embedding application's data on a session: sealed at rest, bound to its row and
//! column, size-capped, replaced on a live session only, left alone by token updates.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use relier_core::Secret;
mod common;

use common::TestDb;
use common::rows::{ABSOLUTE, NOW, open, session};
use relier_store::{MAX_APP_DATA_LEN, StoreError, UnixTime, session_id_hash};

const APP_DATA: &str = r#"{"account":"acct-Hq7wE2rT9y"}"#;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn app_data_round_trips_sealed(db: TestDb) {
    let store = open(db.url()).await;
    let id = Secret::new("session-app-data");
    let mut rec = session("op", "erin", None);
    rec.app_data = Some(Secret::new(APP_DATA));
    store.create_session(&id, &rec).await.unwrap();
    let back = store
        .get_session(&id, UnixTime(NOW))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.app_data.as_ref().map(Secret::expose), Some(APP_DATA));

    // At rest: a ciphertext, not the JSON.
    let stored = db.blobs("SELECT app_data FROM sessions").await;
    let [Some(sealed)] = stored.as_slice() else {
        panic!("one sealed value expected: {stored:?}");
    };
    assert!(
        !contains(sealed, b"acct-Hq7wE2rT9y"),
        "app_data in the clear"
    );
    assert!(sealed.len() > APP_DATA.len(), "nonce and tag around it");

    // Replaced, then cleared; the version (the token CAS) is not disturbed.
    let next = Secret::new(r#"{"account":"acct-Zx8cV3bN1m"}"#);
    assert!(
        store
            .set_session_app_data(&id, Some(&next), UnixTime(NOW + 1))
            .await
            .unwrap()
    );
    let back = store
        .get_session(&id, UnixTime(NOW))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        back.app_data.as_ref().map(Secret::expose),
        Some(next.expose())
    );
    assert_eq!(back.version, 0);
    let stored = db.blobs("SELECT app_data FROM sessions").await;
    assert!(
        stored
            .iter()
            .flatten()
            .all(|b| !contains(b, b"acct-Zx8cV3bN1m"))
    );
    // A token refresh keeps the application's data.
    assert!(
        store
            .update_session_tokens(&id, 0, Some(&Secret::new("at-2")), None, None, None)
            .await
            .unwrap()
    );
    let back = store
        .get_session(&id, UnixTime(NOW))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        back.app_data.as_ref().map(Secret::expose),
        Some(next.expose())
    );
    assert!(
        store
            .set_session_app_data(&id, None, UnixTime(NOW + 2))
            .await
            .unwrap()
    );
    let back = store
        .get_session(&id, UnixTime(NOW))
        .await
        .unwrap()
        .unwrap();
    assert!(back.app_data.is_none());
    assert_eq!(db.blobs("SELECT app_data FROM sessions").await, vec![None]);
    store.close().await;
}

async fn app_data_is_capped_whole(db: TestDb) {
    let store = open(db.url()).await;
    let id = Secret::new("session-cap");
    let at_cap = format!("\"{}\"", "a".repeat(MAX_APP_DATA_LEN - 2));
    let over = format!("\"{}\"", "a".repeat(MAX_APP_DATA_LEN - 1));
    let mut rec = session("op", "frank", None);
    rec.app_data = Some(Secret::new(over.clone()));
    let err = store.create_session(&id, &rec).await.unwrap_err();
    assert!(
        matches!(err, StoreError::TooLarge { len, max, .. } if len == MAX_APP_DATA_LEN + 1 && max == MAX_APP_DATA_LEN),
        "{err:?}"
    );
    assert!(
        store
            .get_session(&id, UnixTime(NOW))
            .await
            .unwrap()
            .is_none()
    );

    rec.app_data = Some(Secret::new(at_cap.clone()));
    store.create_session(&id, &rec).await.unwrap();
    let err = store
        .set_session_app_data(&id, Some(&Secret::new(over)), UnixTime(NOW))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TooLarge { .. }), "{err:?}");
    assert!(!err.to_string().contains("aaaa"), "no value in the message");
    // Nothing was written: the value at the cap is still there, whole.
    let back = store
        .get_session(&id, UnixTime(NOW))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        back.app_data.as_ref().map(Secret::expose),
        Some(at_cap.as_str())
    );
    store.close().await;
}

async fn app_data_only_on_live_sessions_and_bound_to_its_row(db: TestDb) {
    let store = open(db.url()).await;
    let data = Secret::new(APP_DATA);
    // Absent.
    assert!(
        !store
            .set_session_app_data(&Secret::new("nobody"), Some(&data), UnixTime(NOW))
            .await
            .unwrap()
    );
    // Expired: not resurrected, not written.
    let old = Secret::new("session-old");
    store
        .create_session(&old, &session("op", "gina", None))
        .await
        .unwrap();
    assert!(
        !store
            .set_session_app_data(&old, Some(&data), UnixTime(NOW + ABSOLUTE))
            .await
            .unwrap()
    );
    assert_eq!(db.blobs("SELECT app_data FROM sessions").await, vec![None]);

    // Another session's sealed data copied into this row does not open.
    let victim = Secret::new("session-victim");
    let mut rec = session("op", "victim", None);
    rec.app_data = Some(data.clone());
    store.create_session(&victim, &rec).await.unwrap();
    db.exec(
        "UPDATE sessions SET app_data = (SELECT app_data FROM sessions WHERE id_hash = $1) \
         WHERE id_hash = $2",
        &[&session_id_hash(&victim), &session_id_hash(&old)],
    )
    .await;
    let err = store.get_session(&old, UnixTime(NOW)).await.unwrap_err();
    assert!(matches!(err, StoreError::Crypto { .. }), "{err:?}");
    store.close().await;
}

both_backends!(
    app_data_round_trips_sealed,
    app_data_is_capped_whole,
    app_data_only_on_live_sessions_and_bound_to_its_row,
);
