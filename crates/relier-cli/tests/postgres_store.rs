//! `--store postgres://…` end to end: the real binary, two processes (as two instances) on one
//! PostgreSQL database of the test's own ([`relier_tests::pg`]: `RELIER_TEST_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`). Without a reachable server it fails, saying how to
//! point it at one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{relier, run_cmd};
use relier_tests::pg::PgDatabase;

#[tokio::test]
async fn keys_on_a_postgres_store_are_shared_between_processes() {
    let db = PgDatabase::create().await;
    let store = db.url().to_owned();
    let key = relier::jose::b64::encode(&[7u8; 32]);
    let dir = tempfile::tempdir().unwrap();
    let cmd = |line: &str, master_key: Option<&str>| {
        let mut c = relier();
        c.args(line.split_whitespace()).current_dir(dir.path());
        c.env("RELIER_STORE", &store);
        if let Some(k) = master_key {
            c.env("RELIER_MASTER_KEY", k);
        }
        c
    };

    // Without a master key: refused, saying what to set.
    let run = run_cmd(cmd("keys list", None), "").await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("RELIER_MASTER_KEY"), "{}", run.stderr);

    let generated = run_cmd(cmd("keys generate --alg ES256 --json", Some(&key)), "")
        .await
        .ok()
        .json();
    let kid = generated["kid"].as_str().unwrap().to_owned();
    // Another process (as another instance) sees the key, and publishes it.
    let listed = run_cmd(cmd("keys list --json", Some(&key)), "")
        .await
        .ok()
        .json();
    assert_eq!(listed[0]["kid"], kid.as_str());
    let jwks = run_cmd(cmd("keys jwks", Some(&key)), "").await.ok().json();
    assert_eq!(jwks["keys"][0]["kid"], kid.as_str());
    // Nothing was written beside the working directory: no database file, no key file.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // Another master key is refused, naming the store without a password.
    let other = relier::jose::b64::encode(&[8u8; 32]);
    let run = run_cmd(cmd("keys list", Some(&other)), "").await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("wrong master key"), "{}", run.stderr);
}

/// Issue 20 §3 through the CLI: the test server named as a remote host (`0.0.0.0`, not
/// loopback by its spelling, reaches this host): refused without `sslmode`; with
/// `sslmode=require` written it opens and warns that the server's identity is not checked; the
/// password is in neither message.
#[tokio::test]
async fn a_remote_postgres_store_without_sslmode_is_refused_and_require_warns() {
    const PASSWORD: &str = "Pw-0f-the-st0re";
    let db = PgDatabase::create().await;
    let mut url = url::Url::parse(db.url()).unwrap();
    url.set_host(Some("0.0.0.0")).unwrap();
    if url.password().is_none() {
        // The test server trusts local connections: any password does.
        url.set_password(Some(PASSWORD)).unwrap();
    }
    let secret = url.password().unwrap().to_owned();
    url.query_pairs_mut().append_pair("connect_timeout", "5");
    let key = relier::jose::b64::encode(&[7u8; 32]);
    let run_with = |store: String| {
        let mut c = relier();
        c.args(["keys", "list"])
            .env("RELIER_STORE", store)
            .env("RELIER_MASTER_KEY", &key);
        run_cmd(c, "")
    };
    let run = run_with(url.to_string()).await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("invalid peer certificate")
            || run.stderr.contains("does not support TLS"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(&secret), "{}", run.stderr);
    url.query_pairs_mut().append_pair("sslmode", "require");
    let run = run_with(url.to_string()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("does not check the server's identity"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(&secret), "{}", run.stderr);
}
