//! Who may enter: per-provider allow-lists at login (403 page, no session), `skip_auth` and
//! `[[access]]` on `/auth/check` and in proxy mode, path readings and refusals, the original URI
//! header, unverified e-mail.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Response, StatusCode, header};
use common::bad_env::{Env, env_upstream, env_with, login, req};
use common::text;
use relier_tests::bad_op::Misbehavior;
use serde_json::{Value, json};

fn claims(pairs: &[(&str, Value)]) -> Misbehavior {
    Misbehavior {
        claims: pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Some(v.clone())))
            .collect(),
        ..Misbehavior::default()
    }
}

/// The provider's allow-list keys go into its `[[providers]]` table.
async fn with_provider_keys(keys: &str) -> Env {
    common::bad_env::build_with_tail(keys).await
}

#[tokio::test]
async fn allowed_domains_count_only_verified_addresses() {
    let mut e = with_provider_keys("allowed_domains = [\"example.com\"]").await;
    e.op.set(claims(&[("email_verified", json!(false))]));
    let r = login(&mut e, "/").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers().contains_key("x-correlation-id"));
    let page = text(r).await;
    assert!(page.contains("Access refused"), "{page}");
    assert!(!page.contains("example.com"), "the reason stays in the log");
    assert!(!e.app.jar.contains_key("relier_session"));
    e.op.set(claims(&[("email", json!("alice@evil.com"))]));
    assert_eq!(login(&mut e, "/").await.status(), StatusCode::FORBIDDEN);
    e.op.set(Misbehavior::default());
    assert_eq!(login(&mut e, "/").await.status(), StatusCode::FOUND);
    assert!(e.app.jar.contains_key("relier_session"));
}

#[tokio::test]
async fn allowed_emails_groups_and_required_claims() {
    let mut e = with_provider_keys(
        "allowed_emails = [\"Alice@Example.com\"]\nallowed_groups = [\"staff\"]\n\
         [providers.require]\nacr = [\"urn:loa:2\", \"urn:loa:3\"]",
    )
    .await;
    let ok = [
        ("groups", json!(["users", "staff"])),
        ("acr", json!("urn:loa:2")),
    ];
    e.op.set(claims(&ok));
    assert_eq!(login(&mut e, "/").await.status(), StatusCode::FOUND);
    for bad in [
        [("groups", json!(["users"])), ("acr", json!("urn:loa:2"))],
        [("groups", json!(["staff"])), ("acr", json!("urn:loa:1"))],
        [
            ("groups", json!("staff")),
            ("email", json!("bob@example.com")),
        ],
    ] {
        e.app.jar.clear();
        e.op.set(claims(&bad));
        assert_eq!(
            login(&mut e, "/").await.status(),
            StatusCode::FORBIDDEN,
            "{bad:?}"
        );
    }
    let m = text(
        common::OneShot::new(e.gw.operations_router())
            .get("/metrics")
            .await,
    )
    .await;
    assert!(
        m.contains("relier_logins_total{provider=\"bad\",outcome=\"refused\"} 3"),
        "{m}"
    );
}

/// `/auth/check` for the original URI `uri`, from the trusted (loopback) proxy.
async fn check(e: &mut Env, uri: &str, with_session: bool) -> Response<Body> {
    let mut b = req("GET", "/auth/check").header("x-forwarded-uri", uri);
    if !with_session {
        b = b.header(header::COOKIE, "x=1");
    }
    let mut r = b.body(Body::empty()).unwrap();
    r.extensions_mut()
        .insert(ConnectInfo("127.0.0.1:9".parse::<SocketAddr>().unwrap()));
    e.app.send(r).await
}

const RULES: &str = "skip_auth = [\"/public/\", \"/health\"]\n\
[[access]]\npath = \"/admin\"\ngroups = [\"admins\"]\n\
[[access]]\npath = \"/finance\"\ndomains = [\"example.com\"]\n";

#[tokio::test]
async fn skip_auth_and_access_rules_on_forward_auth() {
    let mut e = env_with(RULES, false).await;
    // skip_auth: answered without a session; its escapes are not.
    assert_eq!(check(&mut e, "/public/app.css", false).await.status(), 200);
    assert_eq!(check(&mut e, "/health", false).await.status(), 200);
    for escape in [
        "/public/../admin",
        "/public/%2e%2e/admin",
        "/public%2F..%2Fadmin",
        "/public/..;/admin",
    ] {
        let r = check(&mut e, escape, false).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{escape}");
        assert_eq!(text(r).await, "{\"error\":\"non_canonical_path\"}");
    }
    for escape in [
        "/healthz",
        "/app",
        "/%70ublic/x",
        "/public%2fx",
        "//public/x",
    ] {
        assert_eq!(
            check(&mut e, escape, false).await.status(),
            StatusCode::UNAUTHORIZED,
            "{escape}"
        );
    }
    // Signed in without the group: /admin is refused, the rest is fine.
    e.op.set(claims(&[("groups", json!(["users"]))]));
    assert_eq!(login(&mut e, "/").await.status(), StatusCode::FOUND);
    assert_eq!(check(&mut e, "/app", true).await.status(), 200);
    assert_eq!(check(&mut e, "/finance/q", true).await.status(), 200);
    let r = check(&mut e, "/admin/users?x=1", true).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers().get("x-relier-subject").is_none());
    assert_eq!(text(r).await, "{\"error\":\"access_denied\"}");
    for path in [
        "/ADMIN/users",
        "/admin./x",
        "/admin%20/x",
        "/admin;x/y",
        "/admin%2fx",
    ] {
        assert_eq!(
            check(&mut e, path, true).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    // A skip_auth path with a session carries the identity.
    let r = check(&mut e, "/public/x", true).await;
    assert_eq!(r.headers()["x-relier-subject"], "alice");
    // An unverified address does not satisfy a domain rule.
    e.app.jar.clear();
    e.op.set(claims(&[("email_verified", json!("false"))]));
    assert_eq!(login(&mut e, "/").await.status(), StatusCode::FOUND);
    assert_eq!(
        check(&mut e, "/finance", true).await.status(),
        StatusCode::FORBIDDEN
    );
    // With the group, /admin is open.
    e.app.jar.clear();
    e.op.set(claims(&[("groups", json!(["admins"]))]));
    assert_eq!(login(&mut e, "/").await.status(), StatusCode::FOUND);
    assert_eq!(check(&mut e, "/admin", true).await.status(), 200);
    // The original URI from an untrusted peer is not believed, and with path rules the
    // request is refused rather than judged as "/".
    e.app.jar.clear();
    let mut r = req("GET", "/auth/check")
        .header("x-forwarded-uri", "/public/x")
        .body(Body::empty())
        .unwrap();
    r.extensions_mut()
        .insert(ConnectInfo("192.0.2.1:9".parse::<SocketAddr>().unwrap()));
    let r = e.app.send(r).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(text(r).await, "{\"error\":\"untrusted_proxy\"}");
    // Two original URIs that disagree: one came from the client.
    let r = check_with(
        &mut e,
        &[
            ("x-forwarded-uri", "/public/x"),
            ("x-original-uri", "/admin"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(text(r).await, "{\"error\":\"ambiguous_original_uri\"}");
    let r = check_with(&mut e, &[("x-original-uri", "/public/x")]).await;
    assert_eq!(text(r).await, "{\"error\":\"missing_original_uri\"}");
}

/// `/auth/check` from the trusted proxy with these headers and no session.
async fn check_with(e: &mut Env, headers: &[(&str, &str)]) -> Response<Body> {
    let mut b = req("GET", "/auth/check");
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    let mut r = b.body(Body::empty()).unwrap();
    r.extensions_mut()
        .insert(ConnectInfo("127.0.0.1:9".parse::<SocketAddr>().unwrap()));
    e.app.send(r).await
}

#[tokio::test]
async fn the_original_uri_header_is_configurable() {
    let mut e = env_with(
        &format!("original_uri_header = \"X-Original-URI\"\n{RULES}"),
        false,
    )
    .await;
    let r = check_with(&mut e, &[("x-original-uri", "/public/x")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = check_with(&mut e, &[("x-forwarded-uri", "/public/x")]).await;
    assert_eq!(text(r).await, "{\"error\":\"missing_original_uri\"}");
    // Without path rules an untrusted peer's headers are ignored and "/" is judged.
    let mut e = env_with("", false).await;
    let mut r = req("GET", "/auth/check")
        .header("x-forwarded-uri", "/public/x")
        .header(header::COOKIE, "x=1")
        .body(Body::empty())
        .unwrap();
    r.extensions_mut()
        .insert(ConnectInfo("192.0.2.1:9".parse::<SocketAddr>().unwrap()));
    assert_eq!(e.app.send(r).await.status(), StatusCode::UNAUTHORIZED);
    // allow_non_canonical_paths: the path is judged on its lenient readings instead.
    let mut e = env_with(&format!("allow_non_canonical_paths = true\n{RULES}"), false).await;
    let r = check_with(&mut e, &[("x-forwarded-uri", "/public/..%2fadmin")]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn skip_auth_and_access_rules_in_proxy_mode() {
    let mut e = env_upstream(RULES, "").await;
    let get = |uri: &str, html: bool| {
        let mut b = req("GET", uri);
        if html {
            b = b.header(header::ACCEPT, "text/html");
        }
        b.body(Body::empty()).unwrap()
    };
    // Public without a session, identity headers stripped all the same.
    let r = e
        .app
        .send(
            req("GET", "/public/a.js")
                .header("x-relier-subject", "mallory")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = serde_json::from_str(&text(r).await).unwrap();
    assert!(v["headers"].get("x-relier-subject").is_none(), "{v}");
    let r = e.app.send(get("/public/%2e%2e/admin", false)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(text(r).await, "{\"error\":\"non_canonical_path\"}");
    let r = e.app.send(get("/Public%2fa.js", false)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    e.op.set(claims(&[("groups", json!(["users"]))]));
    assert_eq!(login(&mut e, "/").await.status(), StatusCode::FOUND);
    assert_eq!(e.app.send(get("/app", false)).await.status(), 200);
    let r = e.app.send(get("/admin", true)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(text(r).await.contains("Access refused"));
    for path in ["/admin/x", "/ADMIN/x", "/admin./x", "/admin;a/x"] {
        let r = e.app.send(get(path, false)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
}

#[tokio::test]
async fn access_configuration_errors_are_clear() {
    for (tail, want) in [
        ("skip_auth = [\"public\"]", "skip_auth"),
        ("[[access]]\npath = \"/admin\"", "names no groups"),
        (
            "[[access]]\npath = \"admin\"\ngroups = [\"a\"]",
            "access.path",
        ),
    ] {
        let err = common::bad_env::try_build(tail).await.unwrap_err();
        assert!(err.to_string().contains(want), "{tail}: {err}");
    }
}
