//! `/readyz`: 503 naming the provider whose OP has not been reached (the gateway starts all the
//! same, the other provider works, the waiting one's button says it is unavailable), then 200
//! once that OP starts on the port it was configured with — on the public listener and on
//! `metrics_listen`. `/healthz` stays liveness throughout.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::time::Duration;

use relier_tests::bad_op::{BadOp, CLIENT_ID, Misbehavior};
use serde_json::Value;

fn free_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

async fn get(http: &reqwest::Client, url: &str) -> (u16, String) {
    let r = http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_waits_for_a_provider_whose_op_starts_later() {
    let good = BadOp::start().await.unwrap();
    let later = free_addr();
    let ops_addr = free_addr();
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "public_url = \"http://127.0.0.1:8088\"\nstore = \"sqlite://{db}\"\nmetrics_listen = \"{ops_addr}\"\n\
         [[providers]]\nname = \"good\"\nissuer = \"{good}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"s3cret-s3cret\"\n\
         [[providers]]\nname = \"later\"\ndisplay_name = \"Later Corp\"\nissuer = \"http://{later}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"s3cret-s3cret\"\n",
        db = dir.path().join("g.db").display(),
        good = good.issuer(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gw = common::Running::start(listener, &toml).await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Not ready: the body names the provider; liveness is unaffected.
    for base in [gw.base.clone(), format!("http://{ops_addr}")] {
        let (status, body) = get(&http, &format!("{base}/readyz")).await;
        assert_eq!(status, 503, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["ready"], false);
        assert!(body.get("store").is_none(), "{body}");
        assert_eq!(body["providers"], serde_json::json!(["later"]), "{body}");
        assert_eq!(get(&http, &format!("{base}/healthz")).await.0, 200);
    }
    let (_, page) = get(&http, &format!("{}/auth/login", gw.base)).await;
    assert!(
        page.contains("Continue with Later Corp (unavailable)"),
        "{page}"
    );
    assert!(!page.contains("/auth/login/later"), "{page}");
    assert!(page.contains("/auth/login/good"), "{page}");
    let (status, _) = get(&http, &format!("{}/auth/login/later", gw.base)).await;
    assert_eq!(status, 502, "the provider is unavailable, not unknown");
    let (status, _) = get(&http, &format!("{}/auth/login/good", gw.base)).await;
    assert_eq!(status, 302, "the other provider works meanwhile");

    // The OP comes up where it was configured: the retry finds it.
    let op = BadOp::start_on(tokio::net::TcpListener::bind(later).await.unwrap())
        .await
        .unwrap();
    assert_eq!(op.issuer(), format!("http://{later}"));
    assert_eq!(readyz_until(&http, &gw.base, 200).await, "{\"ready\":true}");
    let (status, body) = get(&http, &format!("http://{ops_addr}/readyz")).await;
    assert_eq!((status, body.as_str()), (200, "{\"ready\":true}"));
    let (_, page) = get(&http, &format!("{}/auth/login", gw.base)).await;
    assert!(!page.contains("unavailable"), "{page}");
    let r = http
        .get(format!("{}/auth/login/later", gw.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let to = r.headers()["location"].to_str().unwrap();
    assert!(to.starts_with(&format!("http://{later}/")), "{to}");
    gw.stop().await;
}

/// `/readyz` until `status` (polling up to 60 s, past the 1 s → 2 s → 4 s … retries).
async fn readyz_until(http: &reqwest::Client, base: &str, status: u16) -> String {
    let mut body = String::new();
    for _ in 0..600 {
        let (s, b) = get(http, &format!("{base}/readyz")).await;
        body = b;
        if s == status {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/readyz never answered {status}: {body}");
}

/// A provider whose OP is discovered but whose JWKS cannot be had is not ready: its keys are
/// fetched right after the start and retried; once the OP serves them, ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_waits_for_the_op_signing_keys() {
    let op = BadOp::start().await.unwrap();
    op.set(Misbehavior {
        jwks_unavailable: true,
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "public_url = \"http://127.0.0.1:8088\"\nstore = \"sqlite://{db}\"\n\
         [[providers]]\nname = \"keys\"\nissuer = \"{iss}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"s3cret-s3cret\"\n",
        db = dir.path().join("g.db").display(),
        iss = op.issuer(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gw = common::Running::start(listener, &toml).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    // Tried at once after the start, and again after the first backoff: never loaded.
    while op.jwks_calls() < 2 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = get(&http, &format!("{}/readyz", gw.base)).await;
    assert_eq!(status, 503, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["providers"], serde_json::json!(["keys"]), "{body}");
    assert_eq!(get(&http, &format!("{}/healthz", gw.base)).await.0, 200);

    op.set(Misbehavior::default());
    assert_eq!(readyz_until(&http, &gw.base, 200).await, "{\"ready\":true}");
    // Loaded once: later probes do not fetch again.
    let calls = op.jwks_calls();
    assert_eq!(get(&http, &format!("{}/readyz", gw.base)).await.0, 200);
    assert_eq!(op.jwks_calls(), calls);
    gw.stop().await;
}

#[tokio::test]
async fn a_configuration_mistake_still_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "public_url = \"http://127.0.0.1:8088\"\nstore = \"sqlite://{}\"\n\
         [[providers]]\nname = \"a\"\nissuer = \"http://{}\"\nclient_id = \"c\"\nclient_secret = \"s3cret-s3cret\"\n\
         [[providers]]\nname = \"a\"\nissuer = \"http://{}\"\nclient_id = \"c\"\nclient_secret = \"s3cret-s3cret\"\n",
        dir.path().join("g.db").display(),
        free_addr(),
        free_addr(),
    );
    let e = relier_gateway::Gateway::build(relier_gateway::Config::from_toml(&toml).unwrap())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("configured twice"), "{e}");
}
