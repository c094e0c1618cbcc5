//! The embedding application's data on relier's session and local (password) sessions: the
//! data is sealed at rest, replaced by a handler and seen by the next request; a local session
//! has relier's cookie, CSRF token and logout, is never refreshed, never goes to an OP, and is
//! never taken for an OP login (`Identity::is_local`, `X-Relier-Provider: @local`,
//! `X-Relier-Auth: local`, `[[access]]` rules refuse it).

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
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Extension, Router};
use common::bad_env::{Env, PUBLIC, Setup, another_instance_with, build_with, logged_in, req};
use common::{OneShot, form, loc, text};
use relier_gateway::embed::{
    AppSlot, Identity, LOCAL_PROVIDER, LocalLogin, RelierHandle, SessionError,
};
use serde_json::Value;

/// What the toy application keeps on relier's session.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Account {
    name: String,
}

async fn me(who: Identity) -> String {
    let account = who.app_data::<Account>().unwrap().map(|a| a.name);
    format!(
        "{} {} {} local={} {:?} {:?} {account:?}",
        who.provider(),
        who.issuer(),
        who.subject(),
        who.is_local(),
        who.verified_email(),
        who.name(),
    )
}

/// Replaces the session's data: what a first-login page does once the account exists.
async fn rename(
    Extension(relier): Extension<RelierHandle>,
    axum::extract::Path(name): axum::extract::Path<String>,
    headers: HeaderMap,
) -> StatusCode {
    let slot = AppSlot::with(&Account { name }).unwrap();
    match relier.set_app_data(&headers, slot).await {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(SessionError::NoSession) => StatusCode::UNAUTHORIZED,
        Err(e) => panic!("{e}"),
    }
}

const RULES: &str = "[[access]]\npath = \"/admin\"\ngroups = [\"admins\"]\n\
[[access]]\npath = \"/mail\"\ndomains = [\"example.com\"]\n";

/// The toy application's routes in front of `gw`.
fn application(gw: &relier_gateway::Gateway) -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/rename/{name}", post(rename))
        .merge(gw.login_router())
        .layer(gw.layer())
}

async fn embedded() -> Env {
    embedded_with(RULES).await
}

async fn embedded_with(extra: &str) -> Env {
    let setup = Setup {
        extra,
        ..Setup::default()
    };
    build_with(setup, |b| b, application).await
}

fn cookie_header(jar: &OneShot) -> HeaderMap {
    let mut h = HeaderMap::new();
    let c: Vec<String> = jar.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if !c.is_empty() {
        h.insert(header::COOKIE, c.join("; ").parse().unwrap());
    }
    h
}

/// Starts a local session for `subject` in the browser `e.app`, as a password form would.
async fn local_sign_in(e: &mut Env, subject: &str, account: &str) {
    let request = cookie_header(&e.app);
    let slot = AppSlot::with(&Account {
        name: account.into(),
    })
    .unwrap();
    let login = LocalLogin::new(subject)
        .name("Alice\u{202E} Liddell")
        .email("alice@example.com");
    let set =
        e.gw.start_local_session(&request, login, slot)
            .await
            .unwrap();
    let cookie = set[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with("relier_session=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    e.app.store_cookies(&set);
}

fn store_bytes(e: &Env) -> Vec<u8> {
    let db = e._dir.path().join("g.db");
    let mut bytes = std::fs::read(&db).unwrap();
    bytes.extend(std::fs::read(db.with_extension("db-wal")).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn app_data_is_sealed_and_an_update_is_seen_by_the_next_request() {
    let mut e = embedded().await;
    logged_in(&mut e).await;
    let body = text(e.app.get("/me").await).await;
    assert!(body.ends_with(" None"), "an OP login without data: {body}");
    assert!(body.contains("local=false"), "{body}");

    let r = e
        .app
        .send(
            req("POST", "/rename/acct-Qw3eR5tY7u")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // The next request (same instance, the session cached before) sees it.
    let body = text(e.app.get("/me").await).await;
    assert!(body.ends_with("Some(\"acct-Qw3eR5tY7u\")"), "{body}");
    assert!(
        !contains(&store_bytes(&e), "acct-Qw3eR5tY7u"),
        "app data in the clear"
    );

    // Replaced again; the old value is gone.
    let r = e
        .app
        .send(req("POST", "/rename/second").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        text(e.app.get("/me").await)
            .await
            .ends_with("Some(\"second\")")
    );

    // Without a session: nothing to update.
    let r = e
        .app
        .send(
            req("POST", "/rename/x")
                .header(header::COOKIE, "x=1")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// Another instance on the same store, which cached the session before the update, sees
/// the new data once its cached copy is older than `[session] cache_ttl`.
#[tokio::test]
async fn another_instance_sees_an_update_within_the_cache_ttl() {
    const SHORT_TTL: &str = "[session]\ncache_ttl = \"1s\"\n";
    let mut a = embedded_with(SHORT_TTL).await;
    logged_in(&mut a).await;
    let setup = Setup {
        extra: SHORT_TTL,
        ..Setup::default()
    };
    let mut b = another_instance_with(&a, setup, application).await;
    b.jar = a.app.jar.clone();
    let body = text(b.get("/me").await).await;
    assert!(
        body.ends_with(" None"),
        "cached on the other instance: {body}"
    );

    let r = a
        .app
        .send(req("POST", "/rename/acct-2nd").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let mut seen = String::new();
    for _ in 0..100 {
        seen = text(b.get("/me").await).await;
        if seen.ends_with("Some(\"acct-2nd\")") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen.ends_with("Some(\"acct-2nd\")"), "{seen}");
}

#[tokio::test]
async fn a_local_session_signs_in_reads_and_logs_out_without_an_op() {
    let mut e = embedded().await;
    local_sign_in(&mut e, "42", "alice-acct").await;
    let body = text(e.app.get("/me").await).await;
    let expected = format!(
        "{LOCAL_PROVIDER} {PUBLIC} 42 local=true None Some(\"Alice Liddell\") Some(\"alice-acct\")"
    );
    assert_eq!(body, expected, "the address unverified, the name cleaned");
    assert!(
        !contains(&store_bytes(&e), "alice-acct"),
        "app data in the clear"
    );

    // The session JSON: no tokens, nothing to refresh.
    let s: Value = serde_json::from_str(&text(e.app.get("/auth/session").await).await).unwrap();
    assert_eq!(s["provider"], LOCAL_PROVIDER);
    assert_eq!(s["access_token_expires_at"], Value::Null);
    assert_eq!(s["email_verified"], false);
    let csrf = s["csrf_token"].as_str().unwrap().to_owned();

    // A new local sign-in ends the request's session (no fixation).
    let old = cookie_header(&e.app);
    local_sign_in(&mut e, "43", "bob-acct").await;
    let r = e
        .app
        .send(
            req("GET", "/me")
                .header(header::COOKIE, old[header::COOKIE].clone())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(text(e.app.get("/me").await).await.contains(" 43 "));

    // The old session's CSRF token is not this one's: a cross-site logout with it is refused.
    let r = e
        .app
        .send(
            req("POST", "/auth/logout")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, "https://evil.example")
                .body(Body::from(form(&[("csrf_token", &csrf)])))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // relier's logout with the session's token: to the return_to, never to an OP.
    let s: Value = serde_json::from_str(&text(e.app.get("/auth/session").await).await).unwrap();
    let csrf = s["csrf_token"].as_str().unwrap().to_owned();
    let r = e
        .app
        .send(
            req("POST", "/auth/logout")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form(&[
                    ("csrf_token", &csrf),
                    ("return_to", "/bye"),
                ])))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(loc(&r), "/bye");
    assert!(!e.app.jar.contains_key("relier_session"));
    assert_eq!(e.app.get("/me").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_op_login_replaces_a_local_session_and_bad_subjects_are_refused() {
    let mut e = embedded().await;
    local_sign_in(&mut e, "42", "alice-acct").await;
    let local = cookie_header(&e.app);
    logged_in(&mut e).await;
    let body = text(e.app.get("/me").await).await;
    assert!(
        body.starts_with("bad ") && body.ends_with(" None"),
        "{body}"
    );
    let r = e
        .app
        .send(
            req("GET", "/me")
                .header(header::COOKIE, local[header::COOKIE].clone())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "the local session ended"
    );

    // No back-channel logout names the local "provider": the session it ended is gone anyway,
    // and a new local one is untouched by a logout posted for it.
    local_sign_in(&mut e, "42", "alice-acct").await;
    for provider in ["%40local", "@local"] {
        let r = e
            .app
            .send(
                req("POST", &format!("/auth/backchannel-logout/{provider}"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(form(&[("logout_token", "x.y.z")])))
                    .unwrap(),
            )
            .await;
        assert!(r.status().is_client_error(), "{provider}: {}", r.status());
    }
    assert!(text(e.app.get("/me").await).await.contains("local=true"));

    for bad in ["", "a\u{0}b"] {
        let err =
            e.gw.start_local_session(&HeaderMap::new(), LocalLogin::new(bad), AppSlot::new())
                .await
                .unwrap_err();
        assert!(matches!(err, SessionError::InvalidLogin { .. }), "{err:?}");
    }
}

/// `/auth/check` (the full gateway's router) for `uri`, from the trusted proxy, with `cookies`.
async fn check(gw: &mut OneShot, uri: &str, cookies: &HeaderMap) -> axum::http::Response<Body> {
    let mut r = req("GET", "/auth/check")
        .header("x-forwarded-uri", uri)
        .header(header::COOKIE, cookies[header::COOKIE].clone())
        .body(Body::empty())
        .unwrap();
    r.extensions_mut()
        .insert(ConnectInfo("127.0.0.1:9".parse::<SocketAddr>().unwrap()));
    gw.send(r).await
}

#[tokio::test]
async fn forward_auth_says_local_and_access_rules_refuse_it() {
    let mut e = embedded().await;
    local_sign_in(&mut e, "42", "alice-acct").await;
    let cookies = cookie_header(&e.app);
    let mut gw = OneShot::new(e.gw.router());
    let r = check(&mut gw, "/app", &cookies).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    assert_eq!(h["x-relier-provider"], LOCAL_PROVIDER);
    assert_eq!(h["x-relier-auth"], "local");
    assert_eq!(h["x-relier-issuer"], PUBLIC);
    assert_eq!(h["x-relier-subject"], "42");
    assert!(
        h.get("x-relier-email").is_none(),
        "an unverified address is no identity"
    );
    assert!(h.get("x-relier-groups").is_none());
    // No verified address, no groups: rules that ask for them refuse a local session.
    for rule in ["/admin", "/mail"] {
        assert_eq!(
            check(&mut gw, rule, &cookies).await.status(),
            StatusCode::FORBIDDEN,
            "{rule}"
        );
    }
}
