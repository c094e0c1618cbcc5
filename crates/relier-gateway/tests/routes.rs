//! The gateway's routes through `Router::oneshot`, against the in-process misbehaving OP
//! (`relier_tests::bad_op`): chooser escaping, return_to validation, the login flow and its
//! error pages, forward auth, the reverse proxy's header stripping, logout CSRF, back-channel
//! input checks, health, metrics, JWKS.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use axum::body::Body;
use axum::http::{StatusCode, header};
use common::bad_env::{PUBLIC, build_with_tail, env, env_with, logged_in, login, op_callback, req};
use common::{loc, text};
use relier_gateway::{Config, Gateway};
use relier_tests::bad_op::{Jarm, Misbehavior};
use serde_json::Value;

#[tokio::test]
async fn chooser_escapes_names_is_accessible_and_carries_return_to() {
    let mut e = env().await;
    let r = e.app.get("/auth/login?return_to=%2Fapp%3Fa%3D1").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    assert!(
        r.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = text(r).await;
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; Bad &amp; Co"));
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("href=\"/auth/login/bad?return_to=%2Fapp%3Fa%3D1\""));
    assert!(html.contains("/auth/assets/theme.css"));
    let css = text(e.app.get("/auth/assets/relier.css").await).await;
    assert!(css.contains(":focus-visible"));
    // an open-redirect attempt never reaches the page
    let html = text(
        e.app
            .get("/auth/login?return_to=https%3A%2F%2Fevil.example")
            .await,
    )
    .await;
    assert!(html.contains("return_to=%2F\""), "{html}");
}

#[tokio::test]
async fn return_to_open_redirect_attempts_end_at_root() {
    let mut e = env().await;
    for (input, expected) in [
        ("https://evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),
        ("/ok?x=1#f", "/ok?x=1#f"),
    ] {
        let r = login(&mut e, input).await;
        assert_eq!(r.status(), StatusCode::FOUND, "{input}");
        assert_eq!(loc(&r), expected, "{input}");
    }
    // nginx cannot URL-encode: `return 302 /auth/login?return_to=$request_uri;`
    for (raw, expected) in [("/a?b=1&c=2", "/a?b=1&c=2"), ("//evil.example/?x", "/")] {
        let r = e.app.get(&format!("/auth/login/bad?return_to={raw}")).await;
        let cb = op_callback(&loc(&r)).await;
        let r = e
            .app
            .get(&format!("{}?{}", cb.path(), cb.query().unwrap()))
            .await;
        assert_eq!(loc(&r), expected, "{raw}");
    }
}

#[tokio::test]
async fn check_is_401_without_a_session_and_200_with_headers() {
    let mut e = env().await;
    let r = e.app.get("/auth/check").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = e
        .app
        .send(
            req("GET", "/auth/check")
                .header(header::COOKIE, format!("relier_session={}", "A".repeat(43)))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    logged_in(&mut e).await;
    assert!(e.app.jar.contains_key("relier_session"));
    assert!(!e.app.jar.keys().any(|k| k.starts_with("relier_login_")));
    let r = e.app.get("/auth/check").await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    assert_eq!(h["x-relier-provider"], "bad");
    assert_eq!(h["x-relier-subject"], "alice");
    assert_eq!(h["x-relier-issuer"], e.op.issuer());
    assert_eq!(h["x-relier-email"], "alice@example.com");
    assert!(h.get("x-relier-groups").is_none());
    // redirect mode for Traefik / Caddy: X-Forwarded-Uri believed from the trusted proxy only
    for (peer, want) in [
        ("127.0.0.1:9", "%2Fdeep%2Flink%3Fq%3D1"),
        ("192.0.2.1:9", "%2F"),
    ] {
        let mut r = req("GET", "/auth/check?redirect=1")
            .header(header::COOKIE, "other=1")
            .header(header::ACCEPT, "text/html")
            .header("x-forwarded-uri", "/deep/link?q=1")
            .body(Body::empty())
            .unwrap();
        r.extensions_mut().insert(axum::extract::ConnectInfo(
            peer.parse::<std::net::SocketAddr>().unwrap(),
        ));
        let r = e.app.send(r).await;
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(loc(&r), format!("{PUBLIC}/auth/login?return_to={want}"));
    }
    let s: Value = serde_json::from_str(&text(e.app.get("/auth/session").await).await).unwrap();
    assert_eq!(s["provider"], "bad");
    assert_eq!(s["sub"], "alice");
    assert_eq!(s["email"], "alice@example.com");
    assert!(s["expires_at"].as_u64().unwrap() > 0);
    assert_eq!(s["csrf_token"].as_str().unwrap().len(), 43);
    assert!(s.get("name").is_some());
}

#[tokio::test]
async fn callback_errors_render_a_page_with_a_correlation_id_only() {
    let mut e = env_with("metrics = true", false).await;
    // OP error
    e.op.set(Misbehavior {
        callback_error: Some(("access_denied".into(), "secret-internal-detail".into())),
        ..Default::default()
    });
    let r = login(&mut e, "/").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().contains_key("x-correlation-id"));
    let html = text(r).await;
    assert!(html.contains("Reference:"));
    assert!(!html.contains("secret-internal-detail") && !html.contains("access_denied"));
    // RFC 9207 mix-up
    e.op.set(Misbehavior {
        callback_iss: Some("https://evil.example".into()),
        ..Default::default()
    });
    let r = login(&mut e, "/").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(!text(r).await.contains("evil.example"));
    assert_eq!(
        e.op.token_calls(),
        0,
        "no code exchange after a failed check"
    );
    e.op.set(Misbehavior::default());
    // unknown state
    let r = e.app.get("/auth/callback/bad?code=x&state=nope").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(text(r).await.contains("expired"));
    // callback in a browser that did not start the login (login CSRF)
    let r = e.app.get("/auth/login/bad").await;
    let cb = op_callback(&loc(&r)).await;
    e.app.jar.clear();
    let r = e
        .app
        .get(&format!("{}?{}", cb.path(), cb.query().unwrap()))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(!e.app.jar.contains_key("relier_session"));
    // unknown provider
    assert_eq!(
        e.app.get("/auth/login/nope").await.status(),
        StatusCode::NOT_FOUND
    );
    let m = text(e.app.get("/metrics").await).await;
    assert!(
        m.contains("relier_logins_total{provider=\"bad\",outcome=\"denied\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("relier_logins_total{provider=\"bad\",outcome=\"expired\"} 2"),
        "{m}"
    );
}

/// OIDC Core §3.1.2.1 / §3.1.3.7 (13): a provider's `max_age` goes with every login, and the
/// ID token must then carry an auth_time no older than that.
#[tokio::test]
async fn provider_max_age_is_sent_and_auth_time_required() {
    let mut e = common::bad_env::build_with_tail("max_age = \"5m\"").await;
    let r = e.app.get("/auth/login/bad").await;
    let auth = url::Url::parse(&loc(&r)).unwrap();
    assert!(
        auth.query_pairs()
            .any(|(k, v)| k == "max_age" && v == "300"),
        "{auth}"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for auth_time in [None, Some(serde_json::json!(now - 3600))] {
        e.op.set(Misbehavior {
            claims: vec![("auth_time".into(), auth_time.clone())],
            ..Default::default()
        });
        let r = login(&mut e, "/app").await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{auth_time:?}");
        assert!(!e.app.jar.contains_key("relier_session"), "{auth_time:?}");
    }
    e.op.set(Misbehavior::default());
    logged_in(&mut e).await;
    assert!(e.app.jar.contains_key("relier_session"));
}

/// JARM registered (`authorization_signed_response_alg`): the gateway asks for
/// `response_mode=jwt`, signs in with a valid JARM response, and refuses a broken or a plain one
/// before the token endpoint, with no session.
#[tokio::test]
async fn jarm_responses_are_checked_before_the_state() {
    let mut e = build_with_tail("authorization_signed_response_alg = \"ES256\"").await;
    let r = e.app.get("/auth/login/bad").await;
    let auth = url::Url::parse(&loc(&r)).unwrap();
    assert!(
        auth.query_pairs()
            .any(|(k, v)| k == "response_mode" && v == "jwt"),
        "{auth}"
    );
    for jarm in [Jarm::Plain, Jarm::WrongIss, Jarm::BadSignature] {
        e.op.set(Misbehavior {
            jarm: Some(jarm),
            ..Default::default()
        });
        let r = login(&mut e, "/app").await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{jarm:?}");
        assert!(!e.app.jar.contains_key("relier_session"), "{jarm:?}");
        assert_eq!(e.op.token_calls(), 0, "{jarm:?}");
    }
    e.op.set(Misbehavior {
        jarm: Some(Jarm::Normal),
        ..Default::default()
    });
    logged_in(&mut e).await;
    assert_eq!(e.op.token_calls(), 1);
}

#[tokio::test]
async fn form_post_callbacks_are_accepted() {
    let mut e = env().await;
    let r = e.app.get("/auth/login/bad?return_to=%2Fposted").await;
    let cb = op_callback(&loc(&r)).await;
    let r = e
        .app
        .send(
            req("POST", cb.path())
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(cb.query().unwrap().to_owned()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(loc(&r), "/posted");
    assert_eq!(e.app.get("/auth/check").await.status(), 200);
}

#[tokio::test]
async fn proxy_strips_spoofed_identity_headers_and_the_session_cookie() {
    let mut e = env_with("", true).await;
    // unauthenticated: browsers go to the chooser, others get 401
    let r = e.app.navigate("/app/page?x=1").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(loc(&r), "/auth/login?return_to=%2Fapp%2Fpage%3Fx%3D1");
    let r = e.app.get("/api/data").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // unknown /auth/ paths are not proxied
    assert_eq!(
        e.app.get("/auth/nope").await.status(),
        StatusCode::NOT_FOUND
    );
    logged_in(&mut e).await;
    let session = e.app.jar["relier_session"].clone();
    let r = e
        .app
        .send(
            req("POST", "/api/echo?y=2")
                .header(header::COOKIE, format!("app=1; relier_session={session}"))
                .header("X-Relier-Subject", "mallory")
                .header("x-relier-admin", "yes")
                .header("X-Relier-Groups", "admins")
                .header("X-Forwarded-User", "mallory")
                .header(header::CONTENT_TYPE, "text/plain")
                .header(header::CONTENT_LENGTH, "5")
                .body(Body::from("hello"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = serde_json::from_str(&text(r).await).unwrap();
    let h = &v["headers"];
    assert_eq!(v["method"], "POST");
    assert_eq!(v["uri"], "/api/echo?y=2");
    assert_eq!(v["body"], "hello");
    assert_eq!(h["x-relier-subject"], serde_json::json!(["alice"]));
    assert_eq!(h["x-relier-provider"], serde_json::json!(["bad"]));
    assert!(h.get("x-relier-admin").is_none(), "{h}");
    assert!(h.get("x-relier-groups").is_none(), "{h}");
    assert!(h.get("x-forwarded-user").is_none(), "{h}");
    assert_eq!(h["cookie"], serde_json::json!(["app=1"]));
    assert_eq!(h["x-forwarded-proto"], serde_json::json!(["http"]));
}

#[tokio::test]
async fn logout_is_csrf_protected() {
    let mut e = env().await;
    logged_in(&mut e).await;
    let post = |origin: Option<&str>, body: &str| {
        let mut b = req("POST", "/auth/logout")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        b.body(Body::from(body.to_owned())).unwrap()
    };
    // cross-site form post: refused, session kept
    let r = e.app.send(post(Some("https://evil.example"), "")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(e.app.get("/auth/check").await.status(), 200);
    // no Origin, no Referer, no token: refused
    let r = e.app.send(post(None, "")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // cross-site Referer: refused; wrong token: refused
    let r = e
        .app
        .send(
            req("POST", "/auth/logout")
                .header(header::REFERER, "https://evil.example/page")
                .body(Body::from("csrf_token=wrong"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(e.app.get("/auth/check").await.status(), 200);
    // the session's token works cross-site (e.g. an SPA on another origin)
    let s: Value = serde_json::from_str(&text(e.app.get("/auth/session").await).await).unwrap();
    let token = s["csrf_token"].as_str().unwrap().to_owned();
    let r = e
        .app
        .send(
            req("POST", "/auth/logout")
                .header("x-csrf-token", &token)
                .header(header::ORIGIN, "null")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        loc(&r),
        "/auth/logged-out",
        "the bad OP has no end_session_endpoint"
    );
    assert!(!e.app.jar.contains_key("relier_session"), "cookie expired");
    assert_eq!(e.app.get("/auth/check").await.status(), 401);
    // same-origin form post ends a session
    logged_in(&mut e).await;
    let session = e.app.jar["relier_session"].clone();
    let r = e.app.send(post(Some(PUBLIC), "")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = e
        .app
        .send(
            req("GET", "/auth/check")
                .header(header::COOKIE, format!("relier_session={session}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), 401, "the old cookie is dead");
    let html = text(e.app.get("/auth/logged-out").await).await;
    assert!(html.contains("signed out"));
}

#[tokio::test]
async fn backchannel_logout_refuses_bad_input() {
    let mut e = env().await;
    for (path, body) in [
        ("/auth/backchannel-logout/bad", "logout_token=not.a.jwt"),
        ("/auth/backchannel-logout/bad", "nothing=1"),
        (
            "/auth/backchannel-logout/bad",
            "logout_token=a&logout_token=b",
        ),
        ("/auth/backchannel-logout/nope", "logout_token=a.b.c"),
    ] {
        let r = e
            .app
            .send(
                req("POST", path)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path} {body}");
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(text(r).await, "{\"error\":\"invalid_request\"}");
    }
}

#[tokio::test]
async fn healthz_metrics_and_jwks() {
    let mut e = env_with("metrics = true", false).await;
    let r = e.app.get("/healthz").await;
    assert_eq!(r.status(), 200);
    assert_eq!(text(r).await, "ok");
    logged_in(&mut e).await;
    e.app.get("/auth/check").await;
    let r = e.app.get("/metrics").await;
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let m = text(r).await;
    for line in [
        "# TYPE relier_logins_total counter",
        "relier_logins_total{provider=\"bad\",outcome=\"success\"} 1",
        "# TYPE relier_token_endpoint_seconds histogram",
        "relier_token_endpoint_seconds_bucket{le=\"+Inf\"} 1",
        "relier_token_endpoint_seconds_count 1",
        "# TYPE relier_sessions gauge",
        "relier_check_requests_total{result=\"ok\"} 1",
    ] {
        assert!(m.lines().any(|l| l == line), "missing {line:?} in\n{m}");
    }
    for l in m.lines().filter(|l| !l.starts_with('#')) {
        let (_, v) = l.rsplit_once(' ').unwrap();
        assert!(v.parse::<f64>().is_ok(), "{l}");
    }
    let r = e.app.get("/.well-known/jwks.json").await;
    assert_eq!(
        r.headers()[header::CONTENT_TYPE],
        "application/jwk-set+json"
    );
    assert!(
        r.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    let v: Value = serde_json::from_str(&text(r).await).unwrap();
    let keys = v["keys"].as_array().unwrap();
    // First start: the ES256 signing key, and an encryption key although no provider needs one
    // yet, so that a client registered against this JWKS can ask for encrypted responses.
    let mut published: Vec<(&str, &str)> = keys
        .iter()
        .map(|k| (k["use"].as_str().unwrap(), k["alg"].as_str().unwrap()))
        .collect();
    published.sort_unstable();
    assert_eq!(
        published,
        [("enc", "RSA-OAEP-256"), ("sig", "ES256")],
        "{v}"
    );
    for k in keys {
        assert!(k["kid"].is_string());
        for private in ["d", "p", "q", "dp", "dq", "qi", "k", "oth"] {
            assert!(k.get(private).is_none(), "{private} in {k}");
        }
    }
    // store unreachable: 503 (the router outlives the closed store here)
    e.gw.shutdown().await;
    let r = e.app.get("/healthz").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    // without a cached session, a check fails closed
    let r = e
        .app
        .send(
            req("GET", "/auth/check")
                .header(header::COOKIE, format!("relier_session={}", "B".repeat(43)))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn configuration_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let build = |extra: String| async move {
        Gateway::build(Config::from_toml(&extra).unwrap())
            .await
            .unwrap_err()
            .to_string()
    };
    let e = build(format!(
        "public_url = \"http://gateway.example\"\nstore = \"sqlite://{}\"",
        db.display()
    ))
    .await;
    assert!(e.contains("https"), "{e}");
    let e = build(format!(
        "public_url = \"https://gateway.example/app\"\nstore = \"sqlite://{}\"",
        db.display()
    ))
    .await;
    assert!(e.contains("without path"), "{e}");
    let e = build(format!(
        "public_url = \"{PUBLIC}\"\nstore = \"sqlite://{}\"\n[[providers]]\nname = \"bank\"",
        db.display()
    ))
    .await;
    assert!(
        e.contains("provider bank") && e.contains("not in the store"),
        "{e}"
    );
    // A provider whose OP cannot be reached does not stop the start: it waits (readiness.rs).
    let e = build(format!(
        "public_url = \"{PUBLIC}\"\nstore = \"sqlite://{}\"\n[headers]\nCookie = \"sub\"",
        db.display()
    ))
    .await;
    assert!(e.contains("reserved"), "{e}");
}

#[tokio::test]
async fn login_starts_are_rate_limited_per_client() {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    let mut e = env_with(
        "metrics = true\n[limits]\nlogin_per_minute = 1\nlogin_burst = 2\n",
        false,
    )
    .await;
    let from = |peer: &str, xff: Option<&str>| {
        let mut r = req("GET", "/auth/login/bad?return_to=/app");
        if let Some(x) = xff {
            r = r.header("x-forwarded-for", x);
        }
        let mut r = r.body(Body::empty()).unwrap();
        r.extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        r
    };
    for _ in 0..2 {
        let r = e.app.send(from("192.0.2.1:1000", None)).await;
        assert_eq!(r.status(), StatusCode::FOUND);
    }
    let r = e.app.send(from("192.0.2.1:1001", None)).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(r.headers().contains_key("x-correlation-id"));
    let page = text(r).await;
    assert!(page.contains("Too many sign-in attempts"), "{page}");
    assert!(
        !page.contains("192.0.2.1"),
        "the page must not echo details"
    );
    // A spoofed X-Forwarded-For from an untrusted peer changes nothing.
    let r = e
        .app
        .send(from("192.0.2.1:1002", Some("203.0.113.5")))
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another client, and a client behind the trusted (loopback) proxy, are not affected.
    let r = e.app.send(from("192.0.2.2:1000", None)).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let r = e
        .app
        .send(from("127.0.0.1:1000", Some("198.51.100.7")))
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let metrics = text(e.app.get("/metrics").await).await;
    assert!(
        metrics.contains("relier_login_rate_limited_total 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn proxy_carries_websockets_for_signed_in_users() {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest as _};
    let mut e = env_with("", true).await;
    logged_in(&mut e).await;
    let cookie: Vec<String> = e.app.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let addr = common::serve(e.gw.router()).await;
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut()
        .insert("cookie", cookie.join("; ").parse().unwrap());
    // A client-sent identity header is replaced, on the handshake too.
    req.headers_mut()
        .insert("x-relier-subject", "mallory".parse().unwrap());
    req.headers_mut().insert("origin", PUBLIC.parse().unwrap());
    let (mut ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(resp.status(), 101);
    for text in ["hello", "again"] {
        ws.send(Message::text(text)).await.unwrap();
        let got = ws.next().await.unwrap().unwrap();
        assert_eq!(got.into_text().unwrap().as_str(), format!("alice: {text}"));
    }
    ws.close(None).await.unwrap();
    // Without a session the handshake is refused before it reaches the upstream.
    match tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await {
        Err(tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!("expected 401, got {other:?}"),
    }
}

/// `userinfo = "auto"` (default): UserInfo is asked only when the ID token lacks a claim the
/// gateway uses (here: a display name for the default `profile` scope, and `groups` and
/// `preferred_username` for the test's `[headers]`, none of which the misbehaving OP's ID token
/// carries unless told); `never` never asks.
fn every_claim_in_use() -> Vec<(String, Option<Value>)> {
    vec![
        ("name".into(), Some(serde_json::json!("Alice Liddell"))),
        ("groups".into(), Some(serde_json::json!(["staff"]))),
        (
            "preferred_username".into(),
            Some(serde_json::json!("alice")),
        ),
    ]
}

#[tokio::test]
async fn userinfo_is_asked_only_when_the_id_token_lacks_a_claim_in_use() {
    let mut e = env().await;
    logged_in(&mut e).await;
    assert_eq!(e.op.userinfo_calls(), 1, "no name in the ID token");
    e.op.set(Misbehavior {
        claims: vec![
            ("name".into(), Some(serde_json::json!("Alice Liddell"))),
            ("groups".into(), Some(serde_json::json!(["staff"]))),
        ],
        ..Misbehavior::default()
    });
    logged_in(&mut e).await;
    assert_eq!(
        e.op.userinfo_calls(),
        2,
        "preferred_username ([headers]) is missing"
    );
    e.op.set(Misbehavior {
        claims: every_claim_in_use(),
        ..Misbehavior::default()
    });
    logged_in(&mut e).await;
    assert_eq!(
        e.op.userinfo_calls(),
        2,
        "every claim in use is in the ID token"
    );
    let s: Value = serde_json::from_str(&text(e.app.get("/auth/session").await).await).unwrap();
    assert_eq!(s["name"], "Alice Liddell", "{s}");

    let mut never = build_with_tail("userinfo = \"never\"").await;
    logged_in(&mut never).await;
    assert_eq!(never.op.userinfo_calls(), 0);
    let mut always = build_with_tail("userinfo = \"always\"").await;
    always.op.set(Misbehavior {
        claims: every_claim_in_use(),
        ..Misbehavior::default()
    });
    logged_in(&mut always).await;
    assert_eq!(always.op.userinfo_calls(), 1);
}

/// `userinfo_token_method`: the access token reaches UserInfo in the `Authorization` header
/// (RFC 6750 §2.1, the default) or, with `body`, as the form body of a POST (§2.2).
#[tokio::test]
async fn userinfo_gets_the_token_in_the_header_or_the_body() {
    let mut header = env().await;
    logged_in(&mut header).await;
    let seen = header.op.userinfo_requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some("Bearer at-from-bad-op")
    );
    assert_eq!(seen[0].body_token, None);

    let mut body = build_with_tail("userinfo_token_method = \"body\"").await;
    logged_in(&mut body).await;
    let seen = body.op.userinfo_requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].authorization, None);
    assert_eq!(
        seen[0].content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen[0].body_token.as_deref(), Some("at-from-bad-op"));
    let s: Value = serde_json::from_str(&text(body.app.get("/auth/session").await).await).unwrap();
    assert_eq!(s["email"], "alice@example.com", "{s}");
}
