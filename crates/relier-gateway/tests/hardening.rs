//! The gateway as an attacker with a valid session sees it: identity headers smuggled in other
//! spellings, forged forwarding headers, unverified e-mail addresses, forged log lines, metrics
//! on the public port, cross-site WebSocket handshakes, a forged login-binding cookie.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, Request, StatusCode, header};
use common::bad_env::{Env, PUBLIC, env, env_upstream, env_with, logged_in, op_callback, req};
use common::{loc, text};
use relier_tests::bad_op::Misbehavior;
use serde_json::{Value, json};

/// Sends a proxied request as the signed-in user from `peer` with `extra` headers; returns the
/// headers the upstream received.
async fn upstream_headers(e: &mut Env, peer: &str, extra: &[(&str, &str)]) -> Value {
    let session = e.app.jar["relier_session"].clone();
    let mut r = req("GET", "/api/echo").header(header::COOKIE, format!("relier_session={session}"));
    for (k, v) in extra {
        r = r.header(HeaderName::from_bytes(k.as_bytes()).unwrap(), *v);
    }
    let mut r = r.body(Body::empty()).unwrap();
    r.extensions_mut()
        .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    let resp = e.app.send(r).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = serde_json::from_str(&text(resp).await).unwrap();
    v["headers"].clone()
}

const SPOOFS: [(&str, &str); 6] = [
    ("x_relier_subject", "mallory"),
    ("X_Relier_Email", "admin@example.com"),
    ("x-relier_groups", "admins"),
    ("x_forwarded_user", "root"),
    ("X-Forwarded-User", "root"),
    ("x_relier_anything", "1"),
];

#[tokio::test]
async fn proxy_strips_identity_headers_in_every_spelling_and_underscored_names() {
    let mut e = env_with("", true).await;
    logged_in(&mut e).await;
    let mut extra = SPOOFS.to_vec();
    extra.push(("x_app_feature", "on"));
    let h = upstream_headers(&mut e, "192.0.2.1:1000", &extra).await;
    let names: Vec<&String> = h.as_object().unwrap().keys().collect();
    for n in &names {
        assert!(!n.contains('_'), "{n} reached the upstream: {h}");
    }
    assert_eq!(h["x-relier-subject"], json!(["alice"]));
    assert!(h.get("x-forwarded-user").is_none(), "{h}");
    assert!(h.get("x-relier-groups").is_none(), "{h}");
}

#[tokio::test]
async fn underscored_headers_pass_when_allowed_but_identity_aliases_never_do() {
    let mut e = env_with("underscores_in_headers = true", true).await;
    logged_in(&mut e).await;
    let mut extra = SPOOFS.to_vec();
    extra.push(("x_app_feature", "on"));
    let h = upstream_headers(&mut e, "192.0.2.1:1000", &extra).await;
    assert_eq!(h["x_app_feature"], json!(["on"]));
    for (spoof, _) in SPOOFS {
        assert!(h.get(spoof.to_ascii_lowercase()).is_none(), "{spoof}: {h}");
    }
    assert_eq!(h["x-relier-subject"], json!(["alice"]));
}

#[tokio::test]
async fn check_refuses_requests_carrying_identity_headers() {
    let mut e = env().await;
    logged_in(&mut e).await;
    assert_eq!(e.app.get("/auth/check").await.status(), StatusCode::OK);
    for (spoof, value) in SPOOFS {
        let r = e
            .app
            .send(
                req("GET", "/auth/check")
                    .header(HeaderName::from_bytes(spoof.as_bytes()).unwrap(), value)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{spoof}");
        assert!(r.headers().get("x-relier-subject").is_none());
        assert_eq!(
            text(r).await,
            "{\"error\":\"identity_header_in_request\"}",
            "{spoof}"
        );
    }
    let ops = common::OneShot::new(e.gw.operations_router())
        .get("/metrics")
        .await;
    let m = text(ops).await;
    assert!(
        m.contains("relier_check_requests_total{result=\"refused\"} 6"),
        "{m}"
    );
}

#[tokio::test]
async fn proxy_writes_the_forwarding_headers_itself() {
    let mut e = env_with("trusted_proxies = [\"10.0.0.0/8\"]", true).await;
    logged_in(&mut e).await;
    let forged = [
        ("Forwarded", "for=1.2.3.4;host=evil.example;proto=https"),
        ("X-Forwarded-For", "1.2.3.4"),
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Port", "443"),
        ("X-Forwarded-Prefix", "/admin"),
        ("X-Real-IP", "1.2.3.4"),
    ];
    // From an untrusted peer: nothing of the client's is believed.
    let h = upstream_headers(&mut e, "192.0.2.1:1000", &forged).await;
    assert_eq!(h["x-forwarded-for"], json!(["192.0.2.1"]));
    assert_eq!(h["x-real-ip"], json!(["192.0.2.1"]));
    assert_eq!(h["x-forwarded-host"], json!(["127.0.0.1:8088"]));
    assert_eq!(h["x-forwarded-proto"], json!(["http"]));
    assert_eq!(h["x-forwarded-port"], json!(["8088"]));
    assert!(h.get("x-forwarded-prefix").is_none(), "{h}");
    assert_eq!(
        h["forwarded"],
        json!(["for=192.0.2.1;host=\"127.0.0.1:8088\";proto=http"])
    );
    // Behind a trusted proxy: the right-most untrusted address is the client; what the client
    // wrote left of it is dropped.
    let h = upstream_headers(
        &mut e,
        "10.0.0.3:1000",
        &[("X-Forwarded-For", "1.2.3.4, 198.51.100.7, 10.0.0.2")],
    )
    .await;
    assert_eq!(
        h["x-forwarded-for"],
        json!(["198.51.100.7, 10.0.0.2, 10.0.0.3"])
    );
    assert_eq!(h["x-real-ip"], json!(["198.51.100.7"]));
}

#[tokio::test]
async fn rotating_x_forwarded_for_buys_no_fresh_login_buckets() {
    let mut e = env_with(
        "metrics = true\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]\n[limits]\nlogin_per_minute = 1\nlogin_burst = 2\n",
        false,
    )
    .await;
    let via_proxy = |xff: String| {
        let mut r = req("GET", "/auth/login/bad?return_to=/app")
            .header("x-forwarded-for", xff)
            .body(Body::empty())
            .unwrap();
        r.extensions_mut()
            .insert(ConnectInfo("127.0.0.1:9".parse::<SocketAddr>().unwrap()));
        r
    };
    // Two trusted hops: the edge proxy (10.0.0.2) appended the address it saw (198.51.100.7),
    // the local one (127.0.0.1) appended 10.0.0.2; the attacker rotates the part it controls.
    let mut statuses = Vec::new();
    for i in 0..5 {
        let r = e
            .app
            .send(via_proxy(format!("203.0.113.{i}, 198.51.100.7, 10.0.0.2")))
            .await;
        statuses.push(r.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::FOUND,
            StatusCode::FOUND,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // Another client behind the same proxies has its own bucket.
    let r = e.app.send(via_proxy("198.51.100.8, 10.0.0.2".into())).await;
    assert_eq!(r.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn an_unverified_email_is_recorded_but_never_handed_on() {
    let mut e = env_with("", true).await;
    e.op.set(Misbehavior {
        claims: vec![("email_verified".into(), Some(json!(false)))],
        ..Misbehavior::default()
    });
    logged_in(&mut e).await;
    let r = e.app.get("/auth/check").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-relier-subject"], "alice");
    assert!(r.headers().get("x-relier-email").is_none());
    let h = upstream_headers(&mut e, "192.0.2.1:1", &[]).await;
    assert!(h.get("x-relier-email").is_none(), "{h}");
    let s: Value = serde_json::from_str(&text(e.app.get("/auth/session").await).await).unwrap();
    assert_eq!(s["email"], "alice@example.com");
    assert_eq!(s["email_verified"], false);
}

#[tokio::test]
async fn a_verified_email_is_handed_on() {
    let mut e = env().await;
    logged_in(&mut e).await;
    let r = e.app.get("/auth/check").await;
    assert_eq!(r.headers()["x-relier-email"], "alice@example.com");
    let s: Value = serde_json::from_str(&text(e.app.get("/auth/session").await).await).unwrap();
    assert_eq!(s["email_verified"], true);
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn request_controlled_values_cannot_forge_log_lines() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut e = env().await;
    let fake = "FAKE 2026-12-03T00:00:00Z INFO login completed sub=admin";
    let enc: String = url::form_urlencoded::byte_serialize(fake.as_bytes()).collect();
    let nl = "%0A";
    for (method, uri) in [
        ("POST", format!("/auth/backchannel-logout/x{nl}{enc}")),
        ("GET", format!("/auth/frontchannel-logout/x{nl}{enc}")),
        (
            "GET",
            format!("/auth/frontchannel-logout/bad?iss=x{nl}{enc}&sid=s"),
        ),
        ("GET", format!("/auth/login/x{nl}{enc}")),
        ("GET", format!("/auth/callback/x{nl}{enc}?code=c&state=s")),
        (
            "GET",
            format!("/auth/callback/bad?error=access_denied&error_description=no{nl}{enc}&state=s"),
        ),
    ] {
        let r = e
            .app
            .send(
                Request::builder()
                    .method(method)
                    .uri(&uri)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(format!("logout_token=a{nl}{enc}")))
                    .unwrap(),
            )
            .await;
        assert!(r.status().is_client_error(), "{uri}: {}", r.status());
    }
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("FAKE"),
        "the values are logged, escaped:\n{log}"
    );
    for line in log.lines() {
        assert!(!line.starts_with("FAKE"), "forged line:\n{log}");
    }
}

#[tokio::test]
async fn metrics_are_off_the_public_listener_by_default() {
    let mut e = env().await;
    assert_eq!(e.app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
    let health = e.app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(text(health).await, "ok");
    let mut ops = common::OneShot::new(e.gw.operations_router());
    let r = ops.get("/metrics").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(text(r).await.contains("# TYPE relier_sessions gauge"));
    assert_eq!(ops.get("/auth/login").await.status(), StatusCode::NOT_FOUND);
    let mut e = env_with("metrics = true", false).await;
    assert_eq!(e.app.get("/metrics").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_listen_serves_metrics_on_its_own_address() {
    let op = relier_tests::bad_op::BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ops_addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let toml = format!(
        "public_url = \"{PUBLIC}\"\nstore = \"sqlite://{}\"\nmetrics_listen = \"{ops_addr}\"\n\
         [[providers]]\nname = \"bad\"\nissuer = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"s3cret-s3cret\"\n",
        dir.path().join("g.db").display(),
        op.issuer(),
        relier_tests::bad_op::CLIENT_ID,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gw = common::Running::start(listener, &toml).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let public = http
        .get(format!("{}/metrics", gw.base))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
    let ops = http
        .get(format!("http://{ops_addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(ops.status(), 200);
    assert!(ops.text().await.unwrap().contains("relier_sessions"));
    gw.stop().await;
    assert!(
        std::net::TcpStream::connect(ops_addr).is_err(),
        "the metrics listener stops with the gateway"
    );
}

#[tokio::test]
async fn websocket_handshakes_from_foreign_origins_are_refused() {
    use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest as _};
    let mut e = env_upstream("", "websocket_origins = [\"https://app.example.com\"]").await;
    logged_in(&mut e).await;
    let cookie: Vec<String> = e.app.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let addr = common::serve(e.gw.router()).await;
    let handshake = |origin: Option<&str>| {
        let mut r = format!("ws://{addr}/ws").into_client_request().unwrap();
        r.headers_mut()
            .insert("cookie", cookie.join("; ").parse().unwrap());
        if let Some(o) = origin {
            r.headers_mut().insert("origin", o.parse().unwrap());
        }
        r
    };
    for ok in [PUBLIC, "https://app.example.com"] {
        let (mut ws, resp) = tokio_tungstenite::connect_async(handshake(Some(ok)))
            .await
            .unwrap();
        assert_eq!(resp.status(), 101, "{ok}");
        ws.close(None).await.unwrap();
    }
    for bad in [
        Some("https://evil.example"),
        Some("http://127.0.0.1:8088.evil.example"),
        Some("null"),
        None,
    ] {
        match tokio_tungstenite::connect_async(handshake(bad)).await {
            Err(tungstenite::Error::Http(r)) => assert_eq!(r.status(), 403, "{bad:?}"),
            other => panic!("{bad:?}: expected 403, got {other:?}"),
        }
    }
}

/// The login's state name (from the OP's authorization URL) and its binding cookie's name and
/// value, as the browser got them from `/auth/login/bad`.
async fn started_login(e: &mut Env) -> (url::Url, String, String) {
    let before: Vec<String> = e.app.jar.keys().cloned().collect();
    let r = e.app.get("/auth/login/bad").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let (name, value) = e
        .app
        .jar
        .iter()
        .find(|(k, _)| k.starts_with("relier_login_") && !before.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .expect("a binding cookie");
    (op_callback(&loc(&r)).await, name, value)
}

async fn callback_with_cookie(e: &mut Env, cb: &url::Url, cookie: &str) -> StatusCode {
    let r = e
        .app
        .send(
            req("GET", &format!("{}?{}", cb.path(), cb.query().unwrap()))
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    r.status()
}

#[tokio::test]
async fn the_login_binding_cookie_must_carry_the_logins_random_value() {
    let mut e = env().await;
    let (cb, name, value) = started_login(&mut e).await;
    // 256 random bits, base64url: not a presence flag, and another login gets another value.
    assert_eq!(value.len(), 43, "{value}");
    assert!(
        value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let (_, name2, value2) = started_login(&mut e).await;
    assert_ne!(name, name2);
    assert_ne!(value, value2);

    // The right name with a wrong value (the old flag, another login's value, one character
    // off) is refused like a missing cookie, and the state is used up.
    let mut off = value.clone().into_bytes();
    off[0] = if off[0] == b'A' { b'B' } else { b'A' };
    let off = String::from_utf8(off).unwrap();
    for wrong in ["1", value2.as_str(), off.as_str(), ""] {
        let (cb, name, _) = started_login(&mut e).await;
        assert_eq!(
            callback_with_cookie(&mut e, &cb, &format!("{name}={wrong}")).await,
            StatusCode::BAD_REQUEST,
            "{wrong:?}"
        );
    }
    assert_eq!(
        callback_with_cookie(&mut e, &cb, "other=1").await,
        StatusCode::BAD_REQUEST,
        "missing"
    );
    assert_eq!(
        callback_with_cookie(&mut e, &cb, &format!("{name}={value}")).await,
        StatusCode::BAD_REQUEST,
        "a refused callback used the state up"
    );
    // The right value completes the login and clears the cookie.
    let (cb, name, value) = started_login(&mut e).await;
    let r = e
        .app
        .send(
            req("GET", &format!("{}?{}", cb.path(), cb.query().unwrap()))
                .header(header::COOKIE, format!("{name}={value}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(loc(&r), "/");
    let cleared = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|c| c.to_str().unwrap().starts_with(&format!("{name}=;")));
    assert!(cleared, "{:?}", r.headers());
    assert_eq!(e.app.get("/auth/check").await.status(), StatusCode::OK);
}
