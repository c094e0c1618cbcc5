//! `Gateway::reload` (issue 24 §4): a new configuration swapped in while the gateway serves. A
//! change only a restart applies, or a provider that cannot be set up, leaves the old
//! configuration in force; a provider removed takes no new login and its sessions end at their
//! next refresh; a provider added whose OP cannot be reached waits and is retried as at the
//! start; `relier_config_reloads_total` counts each outcome.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::bad_env::{PUBLIC, env_with, logged_in};
use common::{OneShot, loc, text};
use relier_gateway::{Config, ReloadError};
use relier_tests::bad_op::{BadOp, CLIENT_ID};

/// The test OP's access tokens live 3600 s: a session is due for a refresh 5 s after its
/// login.
const REFRESH_SOON: &str = "[session]\nrefresh_before = \"3595s\"\n";
const DUE: Duration = Duration::from_secs(6);

/// The configuration of `e`'s store with `top` at the top and `providers` (name, issuer).
fn config(dir: &std::path::Path, top: &str, providers: &[(&str, &str)]) -> Config {
    let mut toml = format!(
        "{top}\npublic_url = \"{PUBLIC}\"\nstore = \"sqlite://{}\"\n{REFRESH_SOON}",
        dir.join("g.db").display()
    );
    for (name, issuer) in providers {
        toml.push_str(&format!(
            "[[providers]]\nname = \"{name}\"\nissuer = \"{issuer}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"s3cret-s3cret\"\n"
        ));
    }
    Config::from_toml(&toml).unwrap()
}

/// A loopback address nothing listens on (yet).
fn closed_port() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

async fn metrics(ops: &mut OneShot) -> String {
    text(ops.get("/metrics").await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_swaps_providers_and_keeps_the_old_configuration_when_refused() {
    let mut e = env_with(REFRESH_SOON, false).await;
    let mut ops = OneShot::new(e.gw.operations_router());
    logged_in(&mut e).await;
    let due = tokio::time::Instant::now() + DUE;
    assert_eq!(e.app.get("/auth/check").await.status(), StatusCode::OK);
    let dir = e._dir.path().to_path_buf();
    let bad = e.op.issuer().to_owned();

    // A change of `listen` needs a restart: nothing of that file applies.
    let other = BadOp::start().await.unwrap();
    let moved = config(
        &dir,
        "listen = \"127.0.0.1:1\"",
        &[("bad", &bad), ("other", other.issuer())],
    );
    match e.gw.reload(moved).await {
        Err(ReloadError::RestartRequired(keys)) => assert_eq!(keys, ["listen"]),
        other => panic!("expected restart required, got {other:?}"),
    }
    assert_eq!(
        e.app.get("/auth/login/other").await.status(),
        StatusCode::NOT_FOUND,
        "the provider of the refused file is not there"
    );

    // A provider that cannot be set up: refused, the old configuration stays.
    let broken = config(&dir, "", &[("bad", &bad), ("not a name", other.issuer())]);
    let err = e.gw.reload(broken).await.unwrap_err();
    assert!(matches!(err, ReloadError::Build(_)), "{err:?}");
    assert!(err.to_string().contains("not a name"), "{err}");
    assert_eq!(e.app.get("/auth/check").await.status(), StatusCode::OK);
    assert_eq!(
        e.app.get("/auth/login/bad").await.status(),
        StatusCode::FOUND
    );

    // "bad" removed, "other" added, "later" added whose OP is not up yet.
    let later_addr = closed_port();
    let later_issuer = format!("http://{later_addr}");
    let next = config(
        &dir,
        "",
        &[("other", other.issuer()), ("later", &later_issuer)],
    );
    e.gw.reload(next).await.unwrap();
    let r = e.app.get("/auth/login/other").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert!(loc(&r).starts_with(other.issuer()), "{}", loc(&r));
    assert_eq!(
        e.app.get("/auth/login/bad").await.status(),
        StatusCode::NOT_FOUND,
        "a removed provider takes no new login"
    );
    // The removed provider's session lives on until its next refresh, and ends there.
    assert_eq!(e.app.get("/auth/check").await.status(), StatusCode::OK);
    tokio::time::sleep_until(due).await;
    assert_eq!(
        e.app.get("/auth/check").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = ops.get("/readyz").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(text(r).await.contains("later"));
    let m = metrics(&mut ops).await;
    for line in [
        "relier_config_reloads_total{result=\"ok\"} 1",
        "relier_config_reloads_total{result=\"error\"} 1",
        "relier_config_reloads_total{result=\"restart_required\"} 1",
    ] {
        assert!(m.lines().any(|l| l == line), "{line} in {m}");
    }

    // The new configuration's retry finds the OP once it is up.
    let _later_op = BadOp::start_on(tokio::net::TcpListener::bind(later_addr).await.unwrap())
        .await
        .unwrap();
    let mut ready = false;
    for _ in 0..100 {
        if ops.get("/readyz").await.status() == StatusCode::OK {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the waiting provider became ready");
    assert_eq!(
        e.app.get("/auth/login/later").await.status(),
        StatusCode::FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_whose_op_is_unreachable_at_a_reload_waits_and_keeps_its_sessions() {
    let mut e = env_with(REFRESH_SOON, false).await;
    logged_in(&mut e).await;
    let due = tokio::time::Instant::now() + DUE;
    let dir = e._dir.path().to_path_buf();
    let unreachable = format!("http://{}", closed_port());
    e.gw.reload(config(&dir, "", &[("bad", &unreachable)]))
        .await
        .unwrap();
    assert_eq!(
        e.app.get("/auth/login/bad").await.status(),
        StatusCode::BAD_GATEWAY,
        "unavailable, not unknown"
    );
    // Its session is due for a refresh: postponed while the provider waits, not ended.
    tokio::time::sleep_until(due).await;
    assert_eq!(e.app.get("/auth/check").await.status(), StatusCode::OK);
}
