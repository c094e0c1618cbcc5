//! `[upstream] pass_access_token` against the test OP (`tests/op`, with its RFC 8693 token
//! exchange grant): the upstream gets the user's access token, or — with the provider's
//! `exchange_audience` — one exchanged for that audience, obtained once per session and reused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::op_login::login;
use common::{Running, browser, echo_upstream};
use relier_tests::oidc_provider::{Browser, OpConfig, TestOp};
use serde_json::{Value, json};
use tokio::net::TcpListener;

const SECRET: &str = "gateway-test-client-secret-0123456789abcdef";
const ORDERS: &str = "https://orders.internal";
const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

struct World {
    op: TestOp,
    base: String,
    _gw: Running,
    _dir: tempfile::TempDir,
}

/// The test OP with token exchange, and a gateway in proxy mode in front of an echo upstream
/// with `pass_access_token` and the provider's table ending in `provider_extra`.
async fn world(provider_extra: &str) -> World {
    world_with(
        &["authorization_code", "refresh_token", EXCHANGE],
        provider_extra,
    )
    .await
}

/// [`world`] with the client allowed `grants` at the OP.
async fn world_with(grants: &[&str], provider_extra: &str) -> World {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let client = json!({
        "client_id": "rp-gw",
        "client_secret": SECRET,
        "redirect_uris": [format!("{base}/auth/callback/local")],
        "grant_types": grants,
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
    });
    let op = TestOp::start_with(
        OpConfig {
            clients: vec![client],
            ..Default::default()
        },
        json!({"token_exchange": true}),
    )
    .await
    .unwrap();
    let (up, _) = echo_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        r#"
public_url = "{base}"
store = "sqlite://{db}"

[upstream]
url = "http://{up}"
pass_access_token = true

[[providers]]
name = "local"
issuer = "{iss}"
client_id = "rp-gw"
client_secret = "{SECRET}"
{provider_extra}
"#,
        db = dir.path().join("g.db").display(),
        iss = op.issuer,
    );
    let gw = Running::start(listener, &toml).await;
    World {
        op,
        base,
        _gw: gw,
        _dir: dir,
    }
}

/// The bearer token the upstream received for `GET /app`.
async fn upstream_token(base: &str, gw: &reqwest::Client) -> String {
    let r = gw.get(format!("{base}/app")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let seen: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    let auth = seen["headers"]["authorization"][0].as_str().unwrap();
    auth.strip_prefix("Bearer ").unwrap().to_owned()
}

/// RFC 7662 introspection at the test OP, as the gateway's client.
async fn introspect(op: &TestOp, token: &str) -> Value {
    let body = reqwest::Client::new()
        .post(format!("{}/token/introspection", op.issuer))
        .basic_auth("rp-gw", Some(SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(common::form(&[("token", token)]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstream_gets_the_users_access_token() {
    let w = world("").await;
    let gw = browser();
    login(&w.base, &gw, &Browser::new().unwrap(), "local").await;
    let t = upstream_token(&w.base, &gw).await;
    let i = introspect(&w.op, &t).await;
    assert_eq!(i["active"], true, "{i}");
    assert_eq!(i["sub"], "alice");
    assert_eq!(i["client_id"], "rp-gw");
    assert_ne!(i["aud"], ORDERS, "{i}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstream_gets_a_token_exchanged_for_its_audience_once_per_session() {
    let w = world(&format!("exchange_audience = \"{ORDERS}\"")).await;
    let gw = browser();
    login(&w.base, &gw, &Browser::new().unwrap(), "local").await;
    let t = upstream_token(&w.base, &gw).await;
    let i = introspect(&w.op, &t).await;
    assert_eq!(i["active"], true, "{i}");
    assert_eq!(i["aud"], ORDERS, "{i}");
    assert_eq!(i["sub"], "alice");
    assert_eq!(i["client_id"], "rp-gw");
    // Cached for the session: the same token again, no second exchange.
    assert_eq!(upstream_token(&w.base, &gw).await, t);
    // Another session gets its own.
    let other = browser();
    login(&w.base, &other, &Browser::new().unwrap(), "local").await;
    assert_ne!(upstream_token(&w.base, &other).await, t);
}

/// A client the OP does not allow the grant (`unauthorized_client`): 502, no token forwarded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exchange_the_op_refuses_forwards_nothing() {
    let w = world_with(
        &["authorization_code", "refresh_token"],
        &format!("exchange_audience = \"{ORDERS}\""),
    )
    .await;
    let gw = browser();
    login(&w.base, &gw, &Browser::new().unwrap(), "local").await;
    let r = gw.get(format!("{}/app", w.base)).send().await.unwrap();
    assert_eq!(r.status(), 502);
}
