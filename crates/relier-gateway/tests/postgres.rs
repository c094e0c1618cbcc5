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

use axum::http::StatusCode;
use common::bad_env::{Setup, another_instance, build_with, logged_in};
use common::text;
use relier_tests::pg::PgDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_sessions_and_keys_through_postgres() {
    let db = PgDatabase::create().await;
    let key_dir = tempfile::tempdir().unwrap();
    let key_file = key_dir.path().join("master.key");
    std::fs::write(&key_file, relier::jose::b64::encode(&[9u8; 32])).unwrap();
    let extra = format!("master_key_file = \"{}\"", key_file.display());
    let setup = Setup {
        extra: &extra,
        store: Some(db.url()),
        ..Setup::default()
    };
    let mut a = build_with(setup, |b| b, |gw| gw.router()).await;
    let mut b = another_instance(&a, setup).await;

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
