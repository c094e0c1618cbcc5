//! Front-channel logout (OpenID Connect Front-Channel Logout 1.0) at
//! `GET /auth/frontchannel-logout/{provider}` through `Router::oneshot`, against the in-process
//! misbehaving OP (`relier_tests::bad_op`) minting ID tokens with a `sid`: by `iss` + `sid`
//! from the store (no cookie, another instance), a foreign `iss`, an unknown `sid`, the page's
//! framing and caching headers, and the cookie-only variant.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use axum::body::Body;
use axum::http::{Response, StatusCode, header};
use common::bad_env::{Env, Setup, another_instance, env, logged_in, op_callback, req};
use common::{OneShot, form, loc, text};
use relier_tests::bad_op::{CLIENT_ID, Misbehavior};
use serde_json::json;

const SID: &str = "08a5019c-17e1-4977-8f42-65a12843ea02";

/// A gateway in front of the bad OP whose ID tokens carry `sid` [`SID`], logged in.
async fn logged_in_with_sid() -> Env {
    let mut e = env().await;
    e.op.set(Misbehavior {
        claims: vec![("sid".to_owned(), Some(json!(SID)))],
        ..Misbehavior::default()
    });
    logged_in(&mut e).await;
    assert_eq!(e.app.get("/auth/check").await.status(), StatusCode::OK);
    e
}

/// `GET /auth/frontchannel-logout/bad` with `pairs` as the query and no cookie.
async fn frontchannel(app: &mut OneShot, pairs: &[(&str, &str)]) -> Response<Body> {
    let uri = format!("/auth/frontchannel-logout/bad?{}", form(pairs));
    app.send(
        req("GET", &uri)
            .header(header::COOKIE, "unrelated=1")
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// The session of `jar` as seen by a fresh instance on the same store (no cache).
async fn status_elsewhere(e: &Env, jar: &OneShot) -> StatusCode {
    let mut c = another_instance(e, Setup::default()).await;
    c.jar = jar.jar.clone();
    c.get("/auth/check").await.status()
}

/// The page the OP frames: 200 HTML, framable by the OP's origin only, never cached.
async fn assert_framable_page(r: Response<Body>, op_origin: &str) {
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.ends_with(&format!("; frame-ancestors {op_origin}")),
        "{csp}"
    );
    assert!(!h.contains_key(header::X_FRAME_OPTIONS));
    let cache = h[header::CACHE_CONTROL].to_str().unwrap();
    assert!(cache.split(", ").any(|d| d == "no-store"), "{cache}");
    assert_eq!(h[header::PRAGMA], "no-cache");
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(text(r).await.contains("You are signed out"));
}

/// The gateway's `relier_frontchannel_logouts_total{outcome="…"}`.
async fn counted(e: &Env, outcome: &str) -> u64 {
    let m = text(OneShot::new(e.gw.operations_router()).get("/metrics").await).await;
    let prefix = format!("relier_frontchannel_logouts_total{{outcome=\"{outcome}\"}} ");
    m.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map_or(0, |n| n.parse().unwrap())
}

/// The OP's origin: its issuer without the path.
fn origin_of(issuer: &str) -> String {
    url::Url::parse(issuer)
        .unwrap()
        .origin()
        .ascii_serialization()
}

/// `oidcc-client-test-rp-frontchannel-rpinitlogout`: the OP renders the RP's
/// `frontchannel_logout_uri` with `iss` and `sid` in an iframe (no cookie reaches it); the
/// session with that sid ends in the store — on another instance than the one logged into, and
/// seen ended by a third — and the answer is a page only the OP may frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidcc_client_test_rp_frontchannel_rpinitlogout() {
    let e = logged_in_with_sid().await;
    let iss = e.op.issuer().to_owned();
    assert_eq!(status_elsewhere(&e, &e.app).await, StatusCode::OK);
    let mut b = another_instance(&e, Setup::default()).await;
    let r = frontchannel(&mut b, &[("iss", &iss), ("sid", SID)]).await;
    assert_framable_page(r, &origin_of(&iss)).await;
    assert!(iss.starts_with("http://127.0.0.1:"), "{iss}");
    assert_eq!(status_elsewhere(&e, &e.app).await, StatusCode::UNAUTHORIZED);
}

/// `oidcc-client-test-rp-frontchannel-opinitlogout`: two browsers log in at the OP, each with
/// its own OP session (`sid`); the OP then initiates logout of the first by loading the RP's
/// `frontchannel_logout_uri` with `iss` and `sid` (no cookie reaches it). A wrong `iss` and an
/// unknown `sid` end nothing; the right pair ends the first browser's session only, here and on
/// another instance, and the page can be framed by the OP only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidcc_client_test_rp_frontchannel_opinitlogout() {
    let mut e = logged_in_with_sid().await;
    let iss = e.op.issuer().to_owned();
    let first = e.app.jar.clone();
    e.op.set(Misbehavior {
        claims: vec![("sid".to_owned(), Some(json!("another-op-session")))],
        ..Misbehavior::default()
    });
    e.app.jar.clear();
    logged_in(&mut e).await;
    let second = e.app.jar.clone();
    assert_ne!(first, second);
    let mut op_frame = OneShot::new(e.app.router.clone());

    // a wrong issuer: refused, nothing ended
    let r = frontchannel(
        &mut op_frame,
        &[("iss", "https://evil.example"), ("sid", SID)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // an OP session that never logged in here: the page, nothing ended
    let r = frontchannel(&mut op_frame, &[("iss", &iss), ("sid", "unknown-sid")]).await;
    assert_framable_page(r, &origin_of(&iss)).await;
    for jar in [&first, &second] {
        e.app.jar = jar.clone();
        assert_eq!(e.app.get("/auth/check").await.status(), StatusCode::OK);
    }

    // the OP-initiated logout of the first OP session
    let r = frontchannel(&mut op_frame, &[("iss", &iss), ("sid", SID)]).await;
    assert_framable_page(r, &origin_of(&iss)).await;
    e.app.jar = first;
    assert_eq!(
        e.app.get("/auth/check").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(status_elsewhere(&e, &e.app).await, StatusCode::UNAUTHORIZED);
    e.app.jar = second;
    assert_eq!(e.app.get("/auth/check").await.status(), StatusCode::OK);
    assert_eq!(status_elsewhere(&e, &e.app).await, StatusCode::OK);
    assert_eq!(counted(&e, "invalid").await, 1);
}

/// §3: the RP verifies `iss`; another issuer (even a near one) is refused with 400 and ends
/// nothing; so is only one of `iss` and `sid`, and an unknown provider.
#[tokio::test]
async fn a_foreign_issuer_is_refused_and_ends_nothing() {
    let mut e = logged_in_with_sid().await;
    let iss = e.op.issuer().to_owned();
    let trimmed = iss.trim_end_matches('/').to_owned();
    let jar = e.app.jar.clone();
    let mut bare = OneShot::new(e.app.router.clone());
    for other in [
        "https://evil.example".to_owned(),
        format!("{trimmed}/"),
        format!("{trimmed}/x"),
        String::new(),
    ] {
        if other == iss {
            continue;
        }
        let r = frontchannel(&mut bare, &[("iss", &other), ("sid", SID)]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{other}");
        assert!(!r.headers().contains_key(header::CONTENT_SECURITY_POLICY));
    }
    for half in [&[("iss", iss.as_str())][..], &[("sid", SID)]] {
        let r = frontchannel(&mut bare, half).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{half:?}");
    }
    let r = bare
        .get(&format!(
            "/auth/frontchannel-logout/nope?{}",
            form(&[("iss", &iss), ("sid", SID)])
        ))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(counted(&e, "invalid").await, 7);
    assert_eq!(counted(&e, "success").await, 0);
    e.app.jar = jar;
    assert_eq!(e.app.get("/auth/check").await.status(), StatusCode::OK);
    assert_eq!(status_elsewhere(&e, &e.app).await, StatusCode::OK);
}

/// An unknown `sid` (the OP's session that never logged in here) gets the page and ends
/// nothing — from the standalone gateway and from the login routes an application embeds.
#[tokio::test]
async fn an_unknown_sid_ends_nothing() {
    let mut e = logged_in_with_sid().await;
    let iss = e.op.issuer().to_owned();
    let mut bare = OneShot::new(e.app.router.clone());
    let r = frontchannel(&mut bare, &[("iss", &iss), ("sid", "another-sid")]).await;
    assert_framable_page(r, &origin_of(&iss)).await;
    assert_eq!(counted(&e, "success").await, 1);
    // an application that embeds the gateway serves it too
    let mut embedded = OneShot::new(e.gw.login_router());
    let r = frontchannel(&mut embedded, &[("iss", &iss), ("sid", "another-sid")]).await;
    assert_framable_page(r, &origin_of(&iss)).await;
    assert_eq!(e.app.get("/auth/check").await.status(), StatusCode::OK);
    assert_eq!(status_elsewhere(&e, &e.app).await, StatusCode::OK);
}

/// Without `iss` and `sid` (§2: an RP may log out by its own cookie): the browser's own
/// session ends, another browser's session of the same provider and sid lives on.
#[tokio::test]
async fn without_iss_and_sid_the_browsers_own_session_ends() {
    let mut e = logged_in_with_sid().await;
    let iss = e.op.issuer().to_owned();
    let first = e.app.jar.clone();
    e.app.jar.clear();
    logged_in(&mut e).await;
    let second = e.app.jar.clone();
    assert_ne!(first, second);
    // no cookie: nothing ended
    let mut bare = OneShot::new(e.app.router.clone());
    let r = bare.get("/auth/frontchannel-logout/bad").await;
    assert_framable_page(r, &origin_of(&iss)).await;
    // the first browser's cookie: its session ends
    e.app.jar = first.clone();
    let r = e.app.get("/auth/frontchannel-logout/bad").await;
    assert_framable_page(r, &origin_of(&iss)).await;
    e.app.jar = first;
    assert_eq!(
        e.app.get("/auth/check").await.status(),
        StatusCode::UNAUTHORIZED
    );
    e.app.jar = second;
    assert_eq!(e.app.get("/auth/check").await.status(), StatusCode::OK);
}

/// Each OP speaks for its own provider only: with a second provider `other` at the same OP
/// (same `sid`), a front-channel logout for `bad` — by `iss` + `sid` or by cookie — leaves the
/// session of `other` alone, and one for `other` ends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_named_providers_sessions_end() {
    let e = logged_in_with_sid().await;
    let iss = e.op.issuer().to_owned();
    let tail = format!(
        "\n[[providers]]\nname = \"other\"\nissuer = \"{iss}\"\n\
         client_id = \"{CLIENT_ID}\"\nclient_secret = \"s3cret-s3cret\"\n"
    );
    let setup = Setup {
        tail: &tail,
        ..Setup::default()
    };
    let mut two = another_instance(&e, setup).await;
    let r = two.get("/auth/login/other").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let cb = op_callback(&loc(&r)).await;
    assert_eq!(cb.path(), "/auth/callback/other");
    let r = two
        .get(&format!("{}?{}", cb.path(), cb.query().unwrap()))
        .await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    assert_eq!(two.get("/auth/check").await.status(), StatusCode::OK);

    // by cookie, for the other provider: nothing ended
    let r = two.get("/auth/frontchannel-logout/bad").await;
    assert_eq!(r.status(), StatusCode::OK);
    // by iss + sid for `bad`: only the session at `bad` ends
    let r = frontchannel(&mut two, &[("iss", &iss), ("sid", SID)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(status_elsewhere(&e, &e.app).await, StatusCode::UNAUTHORIZED);
    let other_jar = two.jar.clone();
    let other_elsewhere = async || {
        let mut fresh = another_instance(&e, setup).await;
        fresh.jar = other_jar.clone();
        fresh.get("/auth/check").await.status()
    };
    assert_eq!(other_elsewhere().await, StatusCode::OK);
    // by cookie for `other`: it ends
    let r = two.get("/auth/frontchannel-logout/other").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(other_elsewhere().await, StatusCode::UNAUTHORIZED);
}
