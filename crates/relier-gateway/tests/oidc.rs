//! The gateway in front of the real test OP (panva's oidc-provider, `tests/op`): browserless
//! logins for a client_secret provider and a private_key_jwt provider registered with the
//! gateway's own `jwks_uri`, forward auth, the reverse proxy, RP-initiated and back-channel
//! logout, sessions across a restart, single-flight refresh, automatic RP key rotation
//! while logins continue, ID tokens encrypted to the gateway's own encryption key, and
//! DPoP-bound sessions.
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

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::op_login::{check, login, metric, metrics, session_json};
use common::{Running, browser, echo_upstream, location};
use relier_store::{KeyState, KeyUse, MasterKeySource, StoreUrl};
use relier_tests::oidc_provider::{Browser, Callback, OpConfig, TestOp};
use serde_json::{Value, json};
use tokio::net::TcpListener;

const SECRET: &str = "gateway-test-client-secret-0123456789abcdef";

fn secret_client(base: &str, backchannel_logout_uri: Option<&str>) -> Value {
    let bcl = backchannel_logout_uri.map_or_else(
        || format!("{base}/auth/backchannel-logout/local"),
        str::to_owned,
    );
    json!({
        "client_id": "rp-gw",
        "client_secret": SECRET,
        "redirect_uris": [format!("{base}/auth/callback/local")],
        "post_logout_redirect_uris": [format!("{base}/auth/logged-out")],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        "backchannel_logout_uri": bcl,
        "backchannel_logout_session_required": true,
    })
}

fn pkjwt_client(base: &str) -> Value {
    json!({
        "client_id": "rp-gw-pkjwt",
        "redirect_uris": [format!("{base}/auth/callback/pkjwt")],
        "post_logout_redirect_uris": [format!("{base}/auth/logged-out")],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "ES256",
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
    })
}

struct World {
    op: TestOp,
    gw: Option<Running>,
    base: String,
    toml: String,
    db: PathBuf,
    _dir: tempfile::TempDir,
}

/// An OP, a gateway on a real port with providers `local` (client_secret_basic, query) and
/// `pkjwt` (private_key_jwt with the store key, form_post), and the pkjwt client registered
/// at the OP with the gateway's jwks_uri once the gateway listens.
async fn world(extra: &str, op_extra: Value) -> World {
    world_with(extra, op_extra, None).await
}

async fn world_with(extra: &str, op_extra: Value, bcl_uri: Option<&str>) -> World {
    world_full(extra, op_extra, bcl_uri, "").await
}

/// [`world_with`], plus `more_providers` (TOML after the two providers; `{ISSUER}` is the OP's
/// issuer).
async fn world_full(
    extra: &str,
    op_extra: Value,
    bcl_uri: Option<&str>,
    more_providers: &str,
) -> World {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let op = TestOp::start_with(
        OpConfig {
            clients: vec![secret_client(&base, bcl_uri)],
            ..Default::default()
        },
        op_extra,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gateway.db");
    let toml = format!(
        r#"
public_url = "{base}"
metrics = true
store = "sqlite://{db}"
{extra}

[[providers]]
name = "local"
display_name = "Local OP"
issuer = "{iss}"
client_id = "rp-gw"
client_secret = "{SECRET}"

[[providers]]
name = "pkjwt"
issuer = "{iss}"
client_id = "rp-gw-pkjwt"
use_store_key = true
response_mode = "form_post"
{more}
"#,
        db = db.display(),
        iss = op.issuer,
        more = more_providers.replace("{ISSUER}", &op.issuer),
    );
    let gw = Running::start(listener, &toml).await;
    op.add_client(pkjwt_client(&base)).await.unwrap();
    World {
        op,
        gw: Some(gw),
        base,
        toml,
        db,
        _dir: dir,
    }
}

async fn discovery(op: &TestOp) -> Value {
    reqwest::get(op.discovery_url())
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_forward_auth_proxy_and_rp_initiated_logout() {
    let (up, _task) = echo_upstream().await;
    let w = world(&format!("[upstream]\nurl = \"http://{up}\""), Value::Null).await;
    let base = &w.base;
    let gw = browser();
    let op = Browser::new().unwrap();

    assert_eq!(check(base, &gw).await.status(), 401);
    assert_eq!(login(base, &gw, &op, "local").await, "/home?x=1");
    let r = check(base, &gw).await;
    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(h["x-relier-provider"], "local");
    assert_eq!(h["x-relier-issuer"], w.op.issuer.as_str());
    assert_eq!(h["x-relier-subject"], "alice");
    assert_eq!(h["x-relier-email"], "alice@example.com");
    assert_eq!(h["x-relier-name"], "Alice Liddell");

    // reverse proxy: identity headers added, spoofed ones gone
    let v: Value = gw
        .get(format!("{base}/whoami?q=1"))
        .header("x-relier-subject", "mallory")
        .header("x-relier-role", "admin")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert_eq!(v["uri"], "/whoami?q=1");
    assert_eq!(v["headers"]["x-relier-subject"], json!(["alice"]));
    assert!(v["headers"].get("x-relier-role").is_none());
    assert!(
        v["headers"].get("cookie").is_none(),
        "session cookie stripped"
    );

    // RP-initiated logout: session gone, then the OP's end_session with id_token_hint
    let r = gw
        .post(format!("{base}/auth/logout"))
        .header("origin", base.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let end = url::Url::parse(&location(r.headers())).unwrap();
    let md = discovery(&w.op).await;
    assert!(
        end.as_str()
            .starts_with(md["end_session_endpoint"].as_str().unwrap())
    );
    let q: std::collections::HashMap<_, _> = end.query_pairs().into_owned().collect();
    assert!(q["id_token_hint"].split('.').count() == 3);
    assert_eq!(
        q["post_logout_redirect_uri"],
        format!("{base}/auth/logged-out")
    );
    assert_eq!(check(base, &gw).await.status(), 401);
    // the OP accepts it and comes back to the logged-out page
    let back = op
        .browse(end.as_str(), &format!("{base}/auth/logged-out"))
        .await
        .unwrap();
    assert!(matches!(back, Callback::Query(_)));

    // private_key_jwt with the gateway's own key, form_post response mode
    let op2 = Browser::new().unwrap();
    assert_eq!(login(base, &gw, &op2, "pkjwt").await, "/home?x=1");
    let r = check(base, &gw).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-relier-provider"], "pkjwt");
    let m = metrics(base).await;
    assert_eq!(
        metric(
            &m,
            "relier_logins_total{provider=\"pkjwt\",outcome=\"success\"}"
        ),
        1
    );
    assert!(metric(&m, "relier_token_endpoint_seconds_count") >= 2);
}

/// The user logs out at the OP itself (RP-initiated logout of client rp-gw, played by `op`),
/// which sends its back-channel logout tokens before redirecting to the gateway.
async fn logout_at_the_op(test_op: &TestOp, base: &str, op: &Browser) {
    let md = discovery(test_op).await;
    let mut end = url::Url::parse(md["end_session_endpoint"].as_str().unwrap()).unwrap();
    end.query_pairs_mut()
        .append_pair("client_id", "rp-gw")
        .append_pair(
            "post_logout_redirect_uri",
            &format!("{base}/auth/logged-out"),
        );
    op.browse(end.as_str(), &format!("{base}/auth/logged-out"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backchannel_logout_from_the_op_ends_the_session() {
    let w = world("", Value::Null).await;
    let base = &w.base;
    let gw = browser();
    let op = Browser::new().unwrap();
    login(base, &gw, &op, "local").await;
    assert_eq!(check(base, &gw).await.status(), 200);
    // The user logs out at the OP (not through the gateway): the OP posts a logout token to
    // the gateway's backchannel_logout_uri before redirecting.
    logout_at_the_op(&w.op, base, &op).await;
    assert_eq!(
        check(base, &gw).await.status(),
        401,
        "{}",
        w.op.stderr_log()
    );
    let m = metrics(base).await;
    assert_eq!(
        metric(&m, "relier_backchannel_logouts_total{outcome=\"success\"}"),
        1
    );
}

/// `oidcc-client-test-rp-backchannel-rpinitlogout`: the user logs out through the gateway
/// (RP-Initiated Logout to the OP's end_session_endpoint); the OP posts a logout token to the
/// gateway's backchannel_logout_uri, which accepts it (Back-Channel Logout 1.0 §2.8: 200), and
/// comes back to the post_logout_redirect_uri; the session is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidcc_client_test_rp_backchannel_rpinitlogout() {
    let w = world("", Value::Null).await;
    let base = &w.base;
    let gw = browser();
    let op = Browser::new().unwrap();
    login(base, &gw, &op, "local").await;
    assert_eq!(check(base, &gw).await.status(), 200);
    let r = gw
        .post(format!("{base}/auth/logout"))
        .header("origin", base.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let end = location(r.headers());
    let md = discovery(&w.op).await;
    assert!(
        end.starts_with(md["end_session_endpoint"].as_str().unwrap()),
        "{end}"
    );
    let back = op
        .browse(&end, &format!("{base}/auth/logged-out"))
        .await
        .unwrap();
    assert!(matches!(back, Callback::Query(_)), "{back:?}");
    let m = metrics(base).await;
    assert_eq!(
        metric(&m, "relier_backchannel_logouts_total{outcome=\"success\"}"),
        1,
        "{}",
        w.op.stderr_log()
    );
    assert_eq!(
        metric(&m, "relier_backchannel_logouts_total{outcome=\"invalid\"}"),
        0
    );
    assert_eq!(check(base, &gw).await.status(), 401);
}

/// Between the OP and the gateway: records each back-channel logout body, forwards it.
async fn recording_relay(
    target: std::sync::Arc<std::sync::Mutex<String>>,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/bcl",
        axum::routing::post(move |body: String| {
            let target = target.lock().unwrap().clone();
            seen.lock().unwrap().push(body.clone());
            async move {
                let r = reqwest::Client::new()
                    .post(target)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                axum::http::StatusCode::from_u16(r.status().as_u16()).unwrap()
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/bcl")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backchannel_logout_tokens_cannot_be_replayed() {
    let target = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let relay = recording_relay(target.clone(), seen.clone()).await;
    let w = world_with("", Value::Null, Some(&relay)).await;
    let base = &w.base;
    *target.lock().unwrap() = format!("{base}/auth/backchannel-logout/local");
    let gw = browser();
    let op = Browser::new().unwrap();
    login(base, &gw, &op, "local").await;
    logout_at_the_op(&w.op, base, &op).await;
    assert_eq!(check(base, &gw).await.status(), 401);
    let body = seen
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("a logout token");
    assert!(body.starts_with("logout_token="));
    // the same token again: refused (jti replay guard)
    let r = reqwest::Client::new()
        .post(format!("{base}/auth/backchannel-logout/local"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.text().await.unwrap(), "{\"error\":\"invalid_request\"}");
    // at another provider's endpoint it fails validation (aud/alg), not only the jti check
    let r = reqwest::Client::new()
        .post(format!("{base}/auth/backchannel-logout/pkjwt"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let m = metrics(base).await;
    assert_eq!(
        metric(&m, "relier_backchannel_logouts_total{outcome=\"success\"}"),
        1
    );
    assert_eq!(
        metric(&m, "relier_backchannel_logouts_total{outcome=\"replay\"}"),
        1
    );
    assert_eq!(
        metric(&m, "relier_backchannel_logouts_total{outcome=\"invalid\"}"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_a_restart() {
    let mut w = world("", Value::Null).await;
    let gw = browser();
    let op = Browser::new().unwrap();
    login(&w.base, &gw, &op, "local").await;
    assert_eq!(check(&w.base, &gw).await.status(), 200);
    let running = w.gw.take().unwrap();
    let addr = running.addr;
    running.stop().await;
    let listener = TcpListener::bind(addr).await.unwrap();
    let again = Running::start(listener, &w.toml).await;
    let r = check(&w.base, &gw).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-relier-subject"], "alice");
    again.stop().await;
}

/// An OP that requires pushed authorization requests (RFC 9126): the gateway pushes them by
/// itself, authenticated with each provider's method (client_secret_basic and the store key).
#[tokio::test]
async fn an_op_that_requires_par_gets_pushed_requests() {
    let w = world("", json!({ "require_par": true })).await;
    for provider in ["local", "pkjwt"] {
        let gw = browser();
        let op = Browser::new().unwrap();
        let r = gw
            .get(format!("{}/auth/login/{provider}", w.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
        let to = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        let names: Vec<String> = to.query_pairs().map(|(k, _)| k.into_owned()).collect();
        assert_eq!(names, ["client_id", "request_uri"], "{to}");
        login(&w.base, &gw, &op, provider).await;
        let c = check(&w.base, &gw).await;
        assert_eq!(c.status(), 200, "{provider}");
        assert_eq!(c.headers()["x-relier-subject"], "alice");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_on_an_expiring_session_refresh_once() {
    // Access tokens live 3600 s at the test OP: with refresh_before 3595 s a session is
    // "expiring" 5 s after login, and fresh again (for 5 s) right after a refresh. Refresh
    // tokens rotate, so a second use of the same one would fail and end the session.
    let w = world(
        "[session]\nrefresh_before = \"3595s\"",
        json!({"rotate_refresh_token": true}),
    )
    .await;
    let base = w.base.clone();
    let gw = browser();
    let op = Browser::new().unwrap();
    login(&base, &gw, &op, "local").await;
    let before = session_json(&base, &gw).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let gw = gw.clone();
            let base = base.clone();
            tokio::spawn(async move { check(&base, &gw).await.status().as_u16() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let m = metrics(&base).await;
    assert_eq!(
        metric(&m, "relier_token_refreshes_total{outcome=\"success\"}"),
        1,
        "{m}"
    );
    assert_eq!(
        metric(&m, "relier_token_refreshes_total{outcome=\"failure\"}"),
        0
    );
    let after = session_json(&base, &gw).await;
    assert!(
        after["access_token_expires_at"].as_u64().unwrap()
            > before["access_token_expires_at"].as_u64().unwrap()
    );
    // the rotated refresh token was stored: the next refresh works too
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(check(&base, &gw).await.status(), 200);
    let m = metrics(&base).await;
    assert_eq!(
        metric(&m, "relier_token_refreshes_total{outcome=\"success\"}"),
        2
    );
}

/// Scheduled rotation every 2 s with a 61 s propagation delay (the test OP caches a client's
/// JWKS for at least 60 s): a new key is published long before it signs, so no login fails
/// while keys rotate. Runs until the first rotated key has become active and signed logins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_key_rotation_while_logging_in_has_no_failures() {
    let w = world(
        "[keys]\nrotation_interval = \"2s\"\npropagation = \"61s\"\ncheck_interval = \"1s\"",
        Value::Null,
    )
    .await;
    let base = &w.base;
    let (store, _) = relier_store::open(&StoreUrl::sqlite(&w.db), MasterKeySource::BesideDatabase)
        .await
        .unwrap();
    let first = store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.state == KeyState::Active && k.key_use() == KeyUse::Sig)
        .unwrap()
        .kid;
    let started = Instant::now();
    let mut logins = 0;
    let mut after_switch = 0;
    let mut saw_two_published = false;
    while after_switch < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(150),
            "no key switch within 150 s"
        );
        let gw = browser();
        let op = Browser::new().unwrap();
        assert_eq!(login(base, &gw, &op, "pkjwt").await, "/home?x=1");
        assert_eq!(check(base, &gw).await.status(), 200);
        logins += 1;
        let keys = store.list_keys().await.unwrap();
        let active = keys
            .iter()
            .find(|k| k.state == KeyState::Active && k.key_use() == KeyUse::Sig)
            .unwrap()
            .kid
            .clone();
        if active != first {
            after_switch += 1;
        }
        let jwks: Value = reqwest::get(format!("{base}/.well-known/jwks.json"))
            .await
            .unwrap()
            .text()
            .await
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap();
        let signing = jwks["keys"].as_array().unwrap().iter();
        saw_two_published |= signing.filter(|k| k["use"] == "sig").count() >= 2;
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    assert!(
        saw_two_published,
        "the next key is published before it signs"
    );
    assert!(logins >= 4);
    let keys = store.list_keys().await.unwrap();
    assert!(
        keys.iter()
            .any(|k| k.kid == first && k.state == KeyState::Retired),
        "{keys:?}"
    );
    assert!(metric(&metrics(base).await, "relier_key_rotations_total") >= 1);
    store.close().await;
}

/// A client registered at the OP with `id_token_encrypted_response_alg` RSA-OAEP-256, signed
/// then ECDH-ES-encrypted UserInfo, and the gateway's jwks_uri: the gateway generates its
/// encryption keys at start, publishes them, and decrypts the ID tokens of the login and of
/// every refresh, and UserInfo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_tokens_encrypted_to_the_gateway_key_at_login_and_refresh() {
    let w = world_full(
        "[session]\nrefresh_before = \"3595s\"",
        json!({"encryption": true}),
        None,
        r#"
[[providers]]
name = "enc"
issuer = "{ISSUER}"
client_id = "rp-gw-enc"
use_store_key = true
id_token_encrypted_response_alg = "RSA-OAEP-256"
id_token_encrypted_response_enc = "A256GCM"
userinfo = "always"
userinfo_encrypted_response_alg = "ECDH-ES"
userinfo_signed_response_alg = "RS256"
"#,
    )
    .await;
    let base = w.base.clone();
    let jwks: Value = serde_json::from_str(
        &reqwest::get(format!("{base}/.well-known/jwks.json"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let enc: Vec<&Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["use"] == "enc")
        .collect();
    let mut algs: Vec<&str> = enc.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    algs.sort_unstable();
    assert_eq!(algs, ["ECDH-ES", "RSA-OAEP-256"], "{jwks}");
    let mut client = pkjwt_client(&base);
    client["client_id"] = json!("rp-gw-enc");
    client["redirect_uris"] = json!([format!("{base}/auth/callback/enc")]);
    client["id_token_encrypted_response_alg"] = json!("RSA-OAEP-256");
    client["id_token_encrypted_response_enc"] = json!("A256GCM");
    client["userinfo_encrypted_response_alg"] = json!("ECDH-ES");
    client["userinfo_signed_response_alg"] = json!("RS256");
    w.op.add_client(client).await.unwrap();

    let gw = browser();
    let op = Browser::new().unwrap();
    assert_eq!(login(&base, &gw, &op, "enc").await, "/home?x=1");
    let session = session_json(&base, &gw).await;
    assert_eq!(session["sub"], "alice");
    assert_eq!(session["email"], "alice@example.com", "{session}");
    // Past refresh_before: the session refreshes, and the refreshed ID token is encrypted too.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(check(&base, &gw).await.status(), 200);
    let m = metrics(&base).await;
    assert_eq!(
        metric(&m, "relier_token_refreshes_total{outcome=\"success\"}"),
        1,
        "{m}"
    );
}

/// Providers configured with the registration's keys for signed request objects (RFC 9101)
/// and JARM: `jar` signs by value with the store key and gets query.jwt responses; `jarm-enc`
/// pushes its request objects (PAR) and gets encrypted form_post.jwt responses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_request_objects_and_jarm_responses() {
    let w = world_full(
        "",
        json!({"secured_authorization": true, "encryption": true}),
        None,
        r#"
[[providers]]
name = "jar"
issuer = "{ISSUER}"
client_id = "rp-gw-jar"
use_store_key = true
request_object_signing_alg = "ES256"
require_signed_request_object = true
authorization_signed_response_alg = "PS256"

[[providers]]
name = "jarm-enc"
issuer = "{ISSUER}"
client_id = "rp-gw-jarm-enc"
use_store_key = true
par = true
response_mode = "form_post"
require_signed_request_object = true
authorization_signed_response_alg = "ES256"
authorization_encrypted_response_alg = "ECDH-ES"
authorization_encrypted_response_enc = "A256GCM"
"#,
    )
    .await;
    let base = w.base.clone();
    for (id, extra) in [
        (
            "jar",
            json!({"request_object_signing_alg": "ES256", "require_signed_request_object": true,
                "authorization_signed_response_alg": "PS256"}),
        ),
        (
            "jarm-enc",
            json!({"require_signed_request_object": true,
                "authorization_signed_response_alg": "ES256",
                "authorization_encrypted_response_alg": "ECDH-ES",
                "authorization_encrypted_response_enc": "A256GCM"}),
        ),
    ] {
        let mut client = pkjwt_client(&base);
        client["client_id"] = json!(format!("rp-gw-{id}"));
        client["redirect_uris"] = json!([format!("{base}/auth/callback/{id}")]);
        for (k, v) in extra.as_object().unwrap() {
            client[k] = v.clone();
        }
        w.op.add_client(client).await.unwrap();
    }
    // By value: the parameters are inside the request object only.
    let gw = browser();
    let r = gw
        .get(format!("{base}/auth/login/jar"))
        .send()
        .await
        .unwrap();
    let auth = url::Url::parse(&location(r.headers())).unwrap();
    let names: Vec<String> = auth.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(
        names,
        ["response_type", "client_id", "scope", "request"],
        "{auth}"
    );
    for provider in ["jar", "jarm-enc"] {
        let gw = browser();
        let op = Browser::new().unwrap();
        assert_eq!(login(&base, &gw, &op, provider).await, "/home?x=1");
        assert_eq!(session_json(&base, &gw).await["sub"], "alice");
    }
}

/// The OP's view of an access token (RFC 7662), asked as the `rp-gw-dpop` client.
async fn introspect(op: &TestOp, token: &relier_core::Secret) -> Value {
    use relier_core::{ClientAuth, ClientId, IssuerUrl, Secret};
    let http = relier::HttpClient::new(&relier::HttpConfig::default()).unwrap();
    let md = relier::discover(&http, &IssuerUrl::new(op.issuer.clone()).unwrap())
        .await
        .unwrap();
    let auth =
        ClientAuth::client_secret_basic(ClientId::new("rp-gw-dpop").unwrap(), Secret::new(SECRET));
    let rp = relier::RelyingParty::builder(http, md, auth).build();
    Value::Object(rp.introspect(token, None).await.unwrap())
}

/// RFC 9449 with nonces required: the login binds the session to a fresh key (the code via
/// `dpop_jkt`, UserInfo with a proof), the key is kept sealed with the session, and the
/// session's refresh proves possession of that same key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpop_bound_sessions_refresh_with_their_own_key() {
    let w = world_full(
        "[session]\nrefresh_before = \"3595s\"",
        json!({"dpop": {"require_nonce": true}}),
        None,
        &format!(
            r#"
[[providers]]
name = "dpop"
issuer = "{{ISSUER}}"
client_id = "rp-gw-dpop"
client_secret = "{SECRET}"
dpop_bound_access_tokens = true
userinfo = "always"
par = true
"#
        ),
    )
    .await;
    let base = w.base.clone();
    let mut client = secret_client(&base, None);
    client["client_id"] = json!("rp-gw-dpop");
    client["redirect_uris"] = json!([format!("{base}/auth/callback/dpop")]);
    client["dpop_bound_access_tokens"] = json!(true);
    w.op.add_client(client).await.unwrap();

    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let gw = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let op = Browser::new().unwrap();
    assert_eq!(login(&base, &gw, &op, "dpop").await, "/home?x=1");
    assert_eq!(session_json(&base, &gw).await["email"], "alice@example.com");
    let cookies = reqwest::cookie::CookieStore::cookies(&*jar, &base.parse().unwrap()).unwrap();
    let id = cookies
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("relier_session="))
        .unwrap()
        .to_owned();
    let (store, _) = relier_store::open(&StoreUrl::sqlite(&w.db), MasterKeySource::BesideDatabase)
        .await
        .unwrap();
    let sid = relier_core::Secret::new(id);
    let now = relier_core::UnixTime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    );
    let rec = store.get_session(&sid, now).await.unwrap().unwrap();
    let key = relier_core::dpop::DpopKey::from_secret(rec.dpop_key.as_ref().unwrap()).unwrap();
    let intro = introspect(&w.op, rec.access_token.as_ref().unwrap()).await;
    assert_eq!(intro["cnf"]["jkt"], key.thumbprint(), "{intro}");

    // Past refresh_before: the refresh carries a proof of the session's key.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(check(&base, &gw).await.status(), 200);
    let m = metrics(&base).await;
    assert_eq!(
        metric(&m, "relier_token_refreshes_total{outcome=\"success\"}"),
        1,
        "{m}"
    );
    let after = store.get_session(&sid, now).await.unwrap().unwrap();
    assert_ne!(after.access_token, rec.access_token);
    assert_eq!(after.dpop_key, rec.dpop_key);
    let intro = introspect(&w.op, after.access_token.as_ref().unwrap()).await;
    assert_eq!(intro["cnf"]["jkt"], key.thumbprint(), "{intro}");
    // Logout deletes the session, its key with it, and revokes the refresh token.
    let r = gw
        .post(format!("{base}/auth/logout"))
        .header("origin", base.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(store.get_session(&sid, now).await.unwrap().is_none());
    let rt = after.refresh_token.clone().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while introspect(&w.op, &rt).await["active"] == true {
        assert!(
            Instant::now() < deadline,
            "the refresh token was not revoked"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Issue-level check of the bank/eID grade, all at once: a client registered with
/// private_key_jwt (the store key), required PAR, required signed request objects, JARM (signed
/// and encrypted, form_post.jwt), DPoP-bound tokens with nonces required, and ID token and
/// UserInfo encrypted to the gateway's published enc keys — logs in through the gateway, and
/// its session refreshes with the same DPoP key and decrypts the refreshed ID token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_grade_client_logs_in_with_every_feature_the_registration_asks_for() {
    bank_grade_login(false).await;
}

/// `fapi2-security-profile-final-client-test-happy-path`: the same client held to
/// `profile = "fapi2"` (ES256 ID tokens), against the OP's FAPI 2.0 Security Profile: the
/// gateway starts (the OP and the client meet the profile) and the login (PAR, signed request
/// object, JARM, DPoP) and refresh complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fapi2_security_profile_final_client_test_happy_path() {
    bank_grade_login(true).await;
}

async fn bank_grade_login(fapi2: bool) {
    let profile = if fapi2 {
        "profile = \"fapi2\"\nid_token_alg = \"ES256\"\n"
    } else {
        ""
    };
    let providers = format!(
        r#"
[[providers]]
name = "bank"
issuer = "{{ISSUER}}"
client_id = "rp-gw-bank"
use_store_key = true
par = true
response_mode = "form_post"
request_object_signing_alg = "ES256"
require_signed_request_object = true
authorization_signed_response_alg = "ES256"
authorization_encrypted_response_alg = "ECDH-ES"
authorization_encrypted_response_enc = "A256GCM"
dpop_bound_access_tokens = true
id_token_encrypted_response_alg = "RSA-OAEP-256"
id_token_encrypted_response_enc = "A256GCM"
userinfo = "always"
userinfo_encrypted_response_alg = "ECDH-ES"
userinfo_signed_response_alg = "RS256"
{profile}"#
    );
    let w = world_full(
        "[session]\nrefresh_before = \"3595s\"",
        json!({
            "secured_authorization": true,
            "encryption": true,
            "dpop": {"require_nonce": true},
            "fapi2": fapi2,
        }),
        None,
        &providers,
    )
    .await;
    let base = w.base.clone();
    let mut client = pkjwt_client(&base);
    client["client_id"] = json!("rp-gw-bank");
    if fapi2 {
        client["id_token_signed_response_alg"] = json!("ES256");
    }
    client["redirect_uris"] = json!([format!("{base}/auth/callback/bank")]);
    for (k, v) in json!({
        "require_pushed_authorization_requests": true,
        "request_object_signing_alg": "ES256",
        "require_signed_request_object": true,
        "authorization_signed_response_alg": "ES256",
        "authorization_encrypted_response_alg": "ECDH-ES",
        "authorization_encrypted_response_enc": "A256GCM",
        "dpop_bound_access_tokens": true,
        "id_token_encrypted_response_alg": "RSA-OAEP-256",
        "id_token_encrypted_response_enc": "A256GCM",
        "userinfo_encrypted_response_alg": "ECDH-ES",
        "userinfo_signed_response_alg": "RS256",
    })
    .as_object()
    .unwrap()
    {
        client[k] = v.clone();
    }
    w.op.add_client(client).await.unwrap();

    // The authorization request is pushed: the browser's URL carries only client_id and
    // request_uri.
    let gw = browser();
    let r = gw
        .get(format!("{base}/auth/login/bank"))
        .send()
        .await
        .unwrap();
    let auth = url::Url::parse(&location(r.headers())).unwrap();
    let mut names: Vec<String> = auth.query_pairs().map(|(k, _)| k.into_owned()).collect();
    names.sort_unstable();
    assert_eq!(names, ["client_id", "request_uri"], "{auth}");

    let gw = browser();
    let op = Browser::new().unwrap();
    assert_eq!(login(&base, &gw, &op, "bank").await, "/home?x=1");
    let session = session_json(&base, &gw).await;
    assert_eq!(session["sub"], "alice");
    // From the encrypted, signed UserInfo (asked with a DPoP proof).
    assert_eq!(session["email"], "alice@example.com", "{session}");
    // Past refresh_before: the refresh proves possession of the session's key, and the
    // refreshed ID token is decrypted.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(check(&base, &gw).await.status(), 200);
    let m = metrics(&base).await;
    assert_eq!(
        metric(&m, "relier_token_refreshes_total{outcome=\"success\"}"),
        1,
        "{m}"
    );
}
