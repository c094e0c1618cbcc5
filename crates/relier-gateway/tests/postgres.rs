//! Two gateway instances on one PostgreSQL store (`store = "postgres://…"`), in front of the
//! in-process misbehaving OP: a session made on one is honoured by the other, and both publish
//! the same RP JWKS. The database is the test's own ([`relier_tests::pg`]).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use common::bad_env::{Env, PUBLIC, Setup, another_instance, build_with, logged_in, req};
use common::{OneShot, text};
use relier_tests::pg::PgDatabase;

/// Two instances on a fresh database, the first one's store and key beside `extra`.
async fn two_instances(db: &PgDatabase, extra: &str) -> (Env, OneShot, tempfile::TempDir) {
    let key_dir = tempfile::tempdir().unwrap();
    let key_file = key_dir.path().join("master.key");
    std::fs::write(&key_file, relier::jose::b64::encode(&[9u8; 32])).unwrap();
    let extra = format!("master_key_file = \"{}\"\n{extra}", key_file.display());
    let setup = Setup {
        extra: &extra,
        store: Some(db.url()),
        ..Setup::default()
    };
    let a = build_with(setup, |b| b, |gw| gw.router()).await;
    let b = another_instance(&a, setup).await;
    (a, b, key_dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_sessions_and_keys_through_postgres() {
    let db = PgDatabase::create().await;
    let (mut a, mut b, _key) = two_instances(&db, "").await;

    logged_in(&mut a).await;
    b.jar = a.app.jar.clone();
    let r = b.get("/auth/check").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-relier-subject"], "alice");

    let jwks_a = text(a.app.get("/.well-known/jwks.json").await).await;
    let jwks_b = text(b.get("/.well-known/jwks.json").await).await;
    assert!(jwks_a.contains("\"kid\""), "{jwks_a}");
    assert_eq!(jwks_a, jwks_b);
}

/// The session is cached on the other instance (a 5 s cache TTL by default); a logout on the
/// first still ends it there within 1 s: the other instance reads the store's list of ended
/// sessions four times a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_on_one_instance_ends_the_session_on_the_other_within_a_second() {
    let db = PgDatabase::create().await;
    let (mut a, mut b, _key) = two_instances(&db, "").await;
    logged_in(&mut a).await;
    b.jar = a.app.jar.clone();
    assert_eq!(b.get("/auth/check").await.status(), StatusCode::OK);
    assert_eq!(
        b.get("/auth/check").await.status(),
        StatusCode::OK,
        "cached"
    );

    let r = a
        .app
        .send(
            req("POST", "/auth/logout")
                .header("origin", PUBLIC)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(a.app.get("/auth/check").await.status(), 401);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(b.get("/auth/check").await.status(), 401);
}

/// `[limits] shared_login_limit = true`: the login buckets are in the store, so two
/// instances allow the burst once between them, not once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_login_limit_counts_across_instances() {
    let db = PgDatabase::create().await;
    let limits = "[limits]\nlogin_per_minute = 1\nlogin_burst = 3\nshared_login_limit = true";
    let (mut a, mut b, _key) = two_instances(&db, limits).await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let app = if i % 2 == 0 { &mut a.app } else { &mut b };
        statuses.push(app.get("/auth/login/bad").await.status());
    }
    let started = statuses.iter().filter(|s| **s == StatusCode::FOUND).count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((started, limited), (3, 3), "{statuses:?}");
}
