//! RP-initiated logout `state` (OpenID Connect RP-Initiated Logout 1.0 §2, §3) against the
//! real test OP (panva's oidc-provider, `tests/op`): sent with the end_session request, echoed
//! by the OP to `/auth/logged-out`, checked there once — on any instance on the store.
//!
//! Needs node and `npm ci --prefix tests/op`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::collections::HashMap;

use common::op_login::login;
use common::{Running, browser, location};
use relier_tests::oidc_provider::{Browser, Callback, OpConfig, TestOp};
use serde_json::{Value, json};
use tokio::net::TcpListener;

const SECRET: &str = "gateway-logout-test-secret-0123456789abcdef";

/// The test OP with client `rp-gw` and two gateway instances on one store (`public_url` the
/// first's), provider `local`.
struct World {
    op: TestOp,
    a: Running,
    b: Running,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let la = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let lb = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", la.local_addr().unwrap());
    let op = TestOp::start_with(
        OpConfig {
            clients: vec![json!({
                "client_id": "rp-gw",
                "client_secret": SECRET,
                "redirect_uris": [format!("{base}/auth/callback/local")],
                "post_logout_redirect_uris": [format!("{base}/auth/logged-out")],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic",
            })],
            ..Default::default()
        },
        Value::Null,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        r#"
public_url = "{base}"
store = "sqlite://{db}"

[[providers]]
name = "local"
issuer = "{iss}"
client_id = "rp-gw"
client_secret = "{SECRET}"
"#,
        db = dir.path().join("gateway.db").display(),
        iss = op.issuer,
    );
    let a = Running::start(la, &toml).await;
    let b = Running::start(lb, &toml).await;
    World {
        op,
        a,
        b,
        _dir: dir,
    }
}

/// Logs in at instance `a`, then logs out there with `return_to`; the end_session URL's
/// query.
async fn login_then_logout(
    w: &World,
    gw: &reqwest::Client,
    op: &Browser,
    return_to: &str,
) -> (url::Url, HashMap<String, String>) {
    let base = &w.a.base;
    assert_eq!(login(base, gw, op, "local").await, "/home?x=1");
    let r = gw
        .post(format!("{base}/auth/logout"))
        .header("origin", base.as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("return_to={}", urlencode(return_to)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let end = url::Url::parse(&location(r.headers())).unwrap();
    let q = end.query_pairs().into_owned().collect();
    (end, q)
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `GET /auth/logged-out?…` at `base`: (status, Location).
async fn logged_out(gw: &reqwest::Client, base: &str, query: &str) -> (u16, Option<String>) {
    let r = gw
        .get(format!("{base}/auth/logged-out?{query}"))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let loc = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    if status == 200 {
        assert!(r.text().await.unwrap().contains("signed out"));
    }
    (status, loc)
}

/// `oidcc-client-test-rp-init-logout`: the end_session request carries `state` (≥ 128 bits),
/// the OP echoes it to the post_logout_redirect_uri, the gateway checks it — on another
/// instance on the same store — and goes where the logout asked; a replay is refused (the
/// logged-out page, no redirect). A logout state is no login state: the callback refuses it
/// without using it up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidcc_client_test_rp_init_logout() {
    let w = world().await;
    let gw = browser();
    let op = Browser::new().unwrap();
    let (end, q) = login_then_logout(&w, &gw, &op, "/bye?x=1").await;
    let state = q["state"].clone();
    // 32 random bytes, base64url without padding
    assert_eq!(state.len(), 43, "{state}");
    assert_eq!(
        q["post_logout_redirect_uri"],
        format!("{}/auth/logged-out", w.a.base)
    );
    let back = match op
        .browse(end.as_str(), &format!("{}/auth/logged-out", w.a.base))
        .await
        .unwrap()
    {
        Callback::Query(u) => u,
        other => panic!("{other:?}"),
    };
    let echoed: HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(echoed["state"], state, "the OP echoes the state");
    let query = back.query().unwrap();
    // the callback does not take (or use up) a logout state
    let r = gw
        .get(format!(
            "{}/auth/callback/local?code=x&state=logout%3A{state}&iss={}",
            w.a.base,
            urlencode(&w.op.issuer)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // checked on the other instance: the redirect the logout asked for
    assert_eq!(
        logged_out(&gw, &w.b.base, query).await,
        (303, Some("/bye?x=1".to_owned()))
    );
    // replayed (on either instance): the page, no redirect
    assert_eq!(logged_out(&gw, &w.a.base, query).await, (200, None));
    assert_eq!(logged_out(&gw, &w.b.base, query).await, (200, None));
}

/// Logs in and out at instance `a` with `return_to` /after-logout, lets the OP end its session
/// and come back; each of `others` (a query the OP might come back with) then shows the
/// logged-out page without a redirect, and the real state still redirects, once.
async fn foreign_states_are_ignored(
    w: &World,
    gw: &reqwest::Client,
    op: &Browser,
    others: &[&str],
) {
    let (end, q) = login_then_logout(w, gw, op, "/after-logout").await;
    op.browse(end.as_str(), &format!("{}/auth/logged-out", w.a.base))
        .await
        .unwrap();
    let base = &w.a.base;
    for other in others {
        assert_eq!(logged_out(gw, base, other).await, (200, None), "{other}");
    }
    let own = format!("state={}", urlencode(&q["state"]));
    assert_eq!(
        logged_out(gw, base, &own).await,
        (303, Some("/after-logout".to_owned()))
    );
    assert_eq!(logged_out(gw, base, &own).await, (200, None));
}

/// `oidcc-client-test-rp-init-logout-no-state`: the OP comes back without a state (or an empty
/// one): ignored for the redirect (the logged-out page), and the real state stays usable once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidcc_client_test_rp_init_logout_no_state() {
    let w = world().await;
    foreign_states_are_ignored(
        &w,
        &browser(),
        &Browser::new().unwrap(),
        &["", "state=", "x=1"],
    )
    .await;
}

/// `oidcc-client-test-rp-init-logout-other-state`: the OP comes back with a state the gateway
/// did not send: ignored for the redirect (the logged-out page), and the real state stays usable
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidcc_client_test_rp_init_logout_other_state() {
    let w = world().await;
    let gw = browser();
    let op = Browser::new().unwrap();
    foreign_states_are_ignored(&w, &gw, &op, &["state=somebody-elses-state"]).await;
    let base = &w.a.base;
    // a logout without return_to: the state checks out, the page is the destination
    let (end, q) = login_then_logout(&w, &gw, &op, "").await;
    op.browse(end.as_str(), &format!("{base}/auth/logged-out"))
        .await
        .unwrap();
    let own = format!("state={}", urlencode(&q["state"]));
    assert_eq!(logged_out(&gw, base, &own).await, (200, None));
}
