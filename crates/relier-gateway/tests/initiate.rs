//! Third-party-initiated login (OIDC Core §4) at `/auth/login/{provider}` through
//! `Router::oneshot`, against the in-process misbehaving OP (`relier_tests::bad_op`): `iss`,
//! `login_hint`, `target_link_uri`, GET and form POST, the login rate limit; and the
//! `/auth/logged-out` checks that need no OP end_session (the test OP's are in `rp_logout.rs`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Response, StatusCode, header};
use common::bad_env::{Env, PUBLIC, env, env_with, logged_in, op_callback, req};
use common::{form, loc, text};

/// The authorization request's query.
fn auth_query(r: &Response<Body>) -> HashMap<String, String> {
    url::Url::parse(&loc(r))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Completes the login the 302 `r` started; the callback's redirect target.
async fn complete(e: &mut Env, r: &Response<Body>) -> String {
    let cb = op_callback(&loc(r)).await;
    let r = e
        .app
        .get(&format!("{}?{}", cb.path(), cb.query().unwrap()))
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    loc(&r)
}

/// A form POST to `uri`.
async fn post_form(e: &mut Env, uri: &str, pairs: &[(&str, &str)]) -> Response<Body> {
    e.app
        .send(
            req("POST", uri)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form(pairs)))
                .unwrap(),
        )
        .await
}

/// A refused initiation: 400, the error page, no redirect to the OP, no login started (no
/// login-binding cookie, whose value is kept with the login state).
async fn assert_refused(r: Response<Body>) {
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(!r.headers().contains_key(header::LOCATION));
    assert!(!r.headers().contains_key(header::SET_COOKIE));
    let page = text(r).await;
    assert!(page.contains("Sign-in request refused"), "{page}");
}

/// `oidcc-client-test-3rd-party-init-login`: the OP sends the browser to the
/// `initiate_login_uri` with `iss`, `login_hint` and `target_link_uri`; the RP starts a login
/// at that issuer with the hint and lands on the target.
#[tokio::test]
async fn oidcc_client_test_3rd_party_init_login() {
    let mut e = env().await;
    let q = form(&[
        ("iss", e.op.issuer()),
        ("login_hint", "alice@example.com"),
        ("target_link_uri", &format!("{PUBLIC}/docs/a?x=1#frag")),
    ]);
    let r = e.app.get(&format!("/auth/login/bad?{q}")).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let auth = auth_query(&r);
    assert!(loc(&r).starts_with(e.op.issuer()), "{}", loc(&r));
    assert_eq!(auth["login_hint"], "alice@example.com");
    assert_eq!(auth["client_id"], relier_tests::bad_op::CLIENT_ID);
    assert_eq!(complete(&mut e, &r).await, "/docs/a?x=1");
    assert_eq!(e.app.get("/auth/check").await.status(), 200);
}

/// §4 allows the initiation by POST as well; `target_link_uri` wins over `return_to`.
#[tokio::test]
async fn third_party_login_by_form_post() {
    let mut e = env().await;
    let iss = e.op.issuer().to_owned();
    let r = post_form(
        &mut e,
        "/auth/login/bad",
        &[
            ("iss", iss.as_str()),
            ("login_hint", "bob"),
            ("return_to", "/elsewhere"),
            ("target_link_uri", "/wanted?y=2"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(auth_query(&r)["login_hint"], "bob");
    assert_eq!(complete(&mut e, &r).await, "/wanted?y=2");
    // without iss or target_link_uri, a POST is a plain login start with return_to
    let r = post_form(&mut e, "/auth/login/bad", &[("return_to", "/plain")]).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert!(!auth_query(&r).contains_key("login_hint"));
    assert_eq!(complete(&mut e, &r).await, "/plain");
}

/// An `iss` other than the provider's issuer, exactly (§4: "MUST verify the value of the
/// iss"), is refused before anything is stored or sent to the OP.
#[tokio::test]
async fn third_party_login_with_another_issuer_is_refused() {
    let mut e = env().await;
    let iss = e.op.issuer().to_owned();
    let trimmed = iss.trim_end_matches('/').to_owned();
    for other in [
        "https://evil.example".to_owned(),
        format!("{trimmed}/"),
        format!("{trimmed}/x"),
        iss.to_uppercase(),
        String::new(),
    ] {
        if other == iss {
            continue;
        }
        let q = form(&[("iss", other.as_str()), ("login_hint", "alice")]);
        assert_refused(e.app.get(&format!("/auth/login/bad?{q}")).await).await;
        let r = post_form(&mut e, "/auth/login/bad", &[("iss", other.as_str())]).await;
        assert_refused(r).await;
    }
    // an over-long or control-character login_hint is refused too
    for hint in ["a".repeat(600), "alice\nbob".to_owned()] {
        let q = form(&[("iss", iss.as_str()), ("login_hint", hint.as_str())]);
        assert_refused(e.app.get(&format!("/auth/login/bad?{q}")).await).await;
    }
}

/// `target_link_uri` off the gateway's origin is refused (§4: the RP "MUST verify the value
/// of the target_link_uri to prevent being used as an open redirector").
#[tokio::test]
async fn third_party_login_to_a_foreign_target_is_refused() {
    let mut e = env().await;
    let iss = e.op.issuer().to_owned();
    for target in [
        "https://evil.example/docs",
        "http://127.0.0.1:8089/docs",
        "https://127.0.0.1:8088/docs",
        "//evil.example/docs",
        "javascript:alert(1)",
        "/%09/evil.example",
    ] {
        let q = form(&[("iss", iss.as_str()), ("target_link_uri", target)]);
        assert_refused(e.app.get(&format!("/auth/login/bad?{q}")).await).await;
        let r = post_form(&mut e, "/auth/login/bad", &[("target_link_uri", target)]).await;
        assert_refused(r).await;
    }
}

/// The POST initiation counts against the login rate limit like the GET.
#[tokio::test]
async fn third_party_login_by_post_is_rate_limited() {
    let mut e = env_with("[limits]\nlogin_per_minute = 1\nlogin_burst = 1\n", false).await;
    let from_peer = |method: &str| {
        let mut r = req(method, "/auth/login/bad")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("return_to=%2Fapp"))
            .unwrap();
        r.extensions_mut().insert(ConnectInfo(
            "192.0.2.9:1000".parse::<std::net::SocketAddr>().unwrap(),
        ));
        r
    };
    assert_eq!(
        e.app.send(from_peer("POST")).await.status(),
        StatusCode::FOUND
    );
    let r = e.app.send(from_peer("POST")).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        e.app.send(from_peer("GET")).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// `oidcc-client-test-rp-init-logout-no-state` / `…-other-state`, the part without an OP: a
/// `/auth/logged-out` without a state or with one the gateway never issued shows the
/// logged-out page and redirects nowhere; a logout's `return_to` with no OP to visit is
/// followed directly, sanitised.
#[tokio::test]
async fn logged_out_without_or_with_a_foreign_state_shows_the_page() {
    let mut e = env().await;
    for uri in [
        "/auth/logged-out",
        "/auth/logged-out?state=",
        "/auth/logged-out?state=forged-state-value",
        "/auth/logged-out?state=logout%3Aforged",
    ] {
        let r = e.app.get(uri).await;
        assert_eq!(r.status(), StatusCode::OK, "{uri}");
        assert!(!r.headers().contains_key(header::LOCATION), "{uri}");
        assert!(text(r).await.contains("signed out"), "{uri}");
    }
    for (return_to, expected) in [("/bye?x=1", "/bye?x=1"), ("https://evil.example/", "/")] {
        logged_in(&mut e).await;
        let r = post_form(&mut e, "/auth/logout", &[("return_to", return_to)]).await;
        // no Origin: refused; with the gateway's own origin: accepted
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = e
            .app
            .send(
                req("POST", "/auth/logout")
                    .header(header::ORIGIN, PUBLIC)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(form(&[("return_to", return_to)])))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(loc(&r), expected, "the bad OP has no end_session_endpoint");
        assert_eq!(e.app.get("/auth/check").await.status(), 401);
    }
}
