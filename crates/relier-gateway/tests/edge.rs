//! The HTTP edge as an attacker meets it: the README's nginx `auth_request` block, unchanged, in
//! front of `/auth/check` and an upstream that records every request reaching it; and the same
//! vectors in reverse-proxy mode. No vector reaches a protected upstream path — anonymously or
//! signed in without the group — while the paths a browser sends still work.
//!
//! nginx comes from Debian's `nginx-light` (`./scripts/test` installs it when missing).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use common::bad_env::{Env, env_upstream, env_with, login, req};
use common::nginx::Nginx;
use relier_tests::bad_op::Misbehavior;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const RULES: &str = "skip_auth = [\"/public/\"]\n\
[[access]]\npath = \"/admin\"\ngroups = [\"admins\"]\n";

/// Anonymous requests that the review got past `skip_auth` into `/admin` (raw request targets,
/// extra request headers).
const ANONYMOUS: &[(&str, &str)] = &[
    ("/admin/secret", "X-Forwarded-Uri: /public/x\r\n"),
    ("/admin/secret", "X-Original-URI: /public/x\r\n"),
    (
        "/admin/secret",
        "X-Forwarded-Uri: /public/x\r\nX-Original-URI: /public/x\r\n",
    ),
    ("/admin/..%2fpublic/x", ""),
    ("/admin/..%2Fpublic/x", ""),
    ("/admin/..;/public/x", ""),
    ("/admin/%252e%252e/public/x", ""),
    ("/admin/x/..%2f..%2fpublic/x", ""),
    ("/admin/%2e%2e/public/x", ""),
    ("/admin/%2E%2e/public/x", ""),
    ("/admin/.%2e/public/x", ""),
    ("/admin\\..\\public\\x", ""),
    ("/admin%5c..%5cpublic%5cx", ""),
    ("/admin/users/..%2f..%2fpublic%2fx", ""),
    ("/admin/%00/../public/x", ""),
    ("/admin/%c0%ae%c0%ae/public/x", ""),
    ("/admin/x", ""),
];

/// Public paths with a header that IIS, Symfony or Laminas take as the path instead: refused on
/// `/auth/check` (nginx copies the client's headers into the subrequest), stripped in proxy mode.
const PATH_OVERRIDES: &[(&str, &str)] = &[
    ("/public/x", "X-Original-URL: /admin/secret\r\n"),
    ("/public/x", "X-Rewrite-URL: /admin/secret\r\n"),
    ("/public/x", "X-Forwarded-Path: /admin/secret\r\n"),
];

/// Requests that a signed-in user outside the `/admin` rule got into the admin handler of a
/// case-insensitive upstream.
const SIGNED_IN: &[(&str, &str)] = &[
    ("/admin/secret", "X-Forwarded-Uri: /\r\n"),
    ("/admin/secret", "X-Original-URI: /\r\n"),
    ("/ADMIN/secret", ""),
    ("/Admin/Secret", ""),
    ("/admin./x", ""),
    ("/admin%20/x", ""),
    ("/admin%2e/x", ""),
    ("/admin;x=1/y", ""),
    ("/%61dmin/x", ""),
    ("//admin/x", ""),
    ("/admin%2fx", ""),
    ("/public/../admin/x", ""),
    ("/public/%2e%2e/admin/x", ""),
    ("/public%2f..%2fadmin", ""),
];

/// Paths a browser sends, which must still reach the upstream (anonymous: under `/public/`;
/// signed in: anything outside `/admin`).
const FINE_ANONYMOUS: &[&str] = &["/public/x", "/public/a%20b.css?v=1", "/PUBLIC/x"];
const FINE_SIGNED_IN: &[&str] = &["/app", "/reports/2026?q=../x", "/administrator"];

/// Every request target the upstream saw.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

async fn recording_upstream() -> (SocketAddr, Seen) {
    let seen = Seen::default();
    let s = seen.clone();
    let app = Router::new().fallback(move |req: Request| {
        let s = s.clone();
        async move {
            s.0.lock().unwrap().push(req.uri().to_string());
            "upstream"
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

/// One raw HTTP/1.1 request (the target exactly as given); the status code.
async fn raw(addr: SocketAddr, target: &str, extra: &str, cookie: Option<&str>) -> u16 {
    raw_response(addr, target, extra, cookie).await.0
}

/// One raw HTTP/1.1 request; the status code and the whole response as text.
async fn raw_response(
    addr: SocketAddr,
    target: &str,
    extra: &str,
    cookie: Option<&str>,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let cookie = cookie.map_or(String::new(), |c| format!("Cookie: relier_session={c}\r\n"));
    let head = format!(
        "GET {target} HTTP/1.1\r\nHost: app.test\r\nAccept: application/json\r\n{cookie}{extra}Connection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("response within 10 s")
        .unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text:?}"));
    (status, text)
}

/// A gateway with [`RULES`] and a session cookie of a user in group `users` (not `admins`).
async fn signed_in_env(upstream: bool) -> (Env, String) {
    let mut e = if upstream {
        env_upstream(RULES, "").await
    } else {
        env_with(RULES, false).await
    };
    e.op.set(Misbehavior {
        claims: [("groups".to_owned(), Some(json!(["users"])))].into(),
        ..Misbehavior::default()
    });
    assert_eq!(login(&mut e, "/").await.status(), StatusCode::FOUND);
    let cookie = e.app.jar["relier_session"].clone();
    (e, cookie)
}

fn readme_block() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("```nginx\n")
        .expect("the README has an nginx block")
        + 9;
    let len = readme[start..].find("```").unwrap();
    readme[start..start + len].to_owned()
}

/// nginx with the README's `auth_request` server block.
async fn nginx(gateway: SocketAddr, upstream: SocketAddr) -> (Nginx, SocketAddr) {
    let port = common::nginx::free_port();
    let server = readme_block()
        .replace("listen 443 ssl;", &format!("listen 127.0.0.1:{port};"))
        .replace("127.0.0.1:8088", &gateway.to_string())
        .replace("127.0.0.1:3000", &upstream.to_string());
    common::nginx::start(port, &server).await
}

/// Sends every vector and checks what reached the upstream.
async fn attack(front: SocketAddr, seen: &Seen, cookie: &str) {
    for (target, extra) in ANONYMOUS.iter().chain(PATH_OVERRIDES) {
        let status = raw(front, target, extra, None).await;
        assert_ne!(status, 200, "anonymous {target} {extra:?}");
        assert_eq!(
            seen.take(),
            Vec::<String>::new(),
            "anonymous {target} {extra:?}"
        );
    }
    for (target, extra) in SIGNED_IN {
        let status = raw(front, target, extra, Some(cookie)).await;
        assert_ne!(status, 200, "signed in {target} {extra:?}");
        assert_eq!(
            seen.take(),
            Vec::<String>::new(),
            "signed in {target} {extra:?}"
        );
    }
    for target in FINE_ANONYMOUS {
        assert_eq!(raw(front, target, "", None).await, 200, "{target}");
        assert_eq!(seen.take(), vec![(*target).to_owned()], "{target}");
    }
    for target in FINE_SIGNED_IN {
        assert_eq!(raw(front, target, "", Some(cookie)).await, 200, "{target}");
        assert_eq!(seen.take(), vec![(*target).to_owned()], "{target}");
    }
}

#[tokio::test]
async fn nginx_forward_auth_lets_no_vector_reach_the_upstream() {
    let (e, cookie) = signed_in_env(false).await;
    let gateway = common::serve(e.gw.router()).await;
    let (upstream, seen) = recording_upstream().await;
    let (_nginx, front) = nginx(gateway, upstream).await;
    attack(front, &seen, &cookie).await;
}

#[tokio::test]
async fn proxy_mode_lets_no_vector_reach_the_upstream() {
    let (e, cookie) = signed_in_env(true).await;
    let gateway = common::serve(e.gw.router()).await;
    // The echo upstream answers with the URI it saw; the gateway's own answers do not have one.
    for (target, extra) in ANONYMOUS.iter().chain(SIGNED_IN) {
        for c in [None, Some(cookie.as_str())] {
            let status = raw(gateway, target, extra, c).await;
            assert_ne!(status, 200, "{target} {extra:?} {c:?}");
        }
    }
    for target in FINE_ANONYMOUS {
        assert_eq!(raw(gateway, target, "", None).await, 200, "{target}");
    }
    // A path override reaches the (echoing) upstream without the header.
    for (target, extra) in PATH_OVERRIDES {
        let (status, body) = raw_response(gateway, target, extra, None).await;
        assert_eq!(status, 200, "{target} {extra:?}");
        let name = extra.split(':').next().unwrap().to_ascii_lowercase();
        assert!(
            !body.to_ascii_lowercase().contains(&name),
            "{extra:?} reached the upstream: {body}"
        );
    }
    for target in FINE_SIGNED_IN {
        assert_eq!(
            raw(gateway, target, "", Some(&cookie)).await,
            200,
            "{target}"
        );
    }
}

#[tokio::test]
async fn the_upstream_receives_the_path_as_the_client_sent_it() {
    let mut e = env_upstream("", "").await;
    common::bad_env::logged_in(&mut e).await;
    for target in [
        "/a%2fb;c=d/%41%20x?q=%2e%2e&r=..",
        "/ADMIN./x",
        "/caf%C3%A9",
        "/p%25",
    ] {
        let r = e
            .app
            .send(req("GET", target).body(Body::empty()).unwrap())
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{target}");
        let v: serde_json::Value = serde_json::from_str(&common::text(r).await).unwrap();
        assert_eq!(v["uri"], target);
    }
    // Let through with allow_non_canonical_paths, such paths still reach the upstream as sent:
    // no URL parser resolves their dot segments on the way.
    let mut e = env_upstream("allow_non_canonical_paths = true", "").await;
    common::bad_env::logged_in(&mut e).await;
    for target in ["/a/../b", "/a/%2e%2e/b?x=1", "/a/./b", "/a{b}"] {
        let r = e
            .app
            .send(req("GET", target).body(Body::empty()).unwrap())
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{target}");
        let v: serde_json::Value = serde_json::from_str(&common::text(r).await).unwrap();
        assert_eq!(v["uri"], target);
    }
}
