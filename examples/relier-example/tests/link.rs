//! The link intent is bound to the login `POST /link/{provider}` starts: it travels in relier's
//! login state, so no other login triggers it, another browser cannot complete it, and a
//! `form_post` callback (Sign in with Apple: a cross-site POST without the `SameSite=Lax`
//! session cookie) links too, and the new session it starts stays signed in to the account.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Browser, Env, PUBLIC_HTTPS, loc};

const PW: &str = "correct horse battery";

#[tokio::test]
async fn a_login_started_elsewhere_does_not_trigger_a_pending_link() {
    let mut e = Env::new().await;
    let iss = e.op.issuer().to_owned();
    e.signup("carol", PW).await;
    let to_op = e.post_action("/link/bad").await;
    assert_eq!(to_op.status(), StatusCode::FOUND);
    // While the link's login is pending, a login started at /auth/login/bad is an ordinary
    // one: the identity is not linked, so it is a first login (its session replaces carol's:
    // one session per browser).
    assert_eq!(loc(&e.provider_login().await), "/first-login");
    assert_eq!(e.me().await.0, StatusCode::UNAUTHORIZED);
    // The login /link started links when it comes back, and its session is carol's again.
    let r = e.callback(&to_op).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(loc(&r), "/");
    assert_eq!(e.me().await.1["username"], "carol");
    assert_eq!(e.identities().await, [format!("bad {iss} alice")]);
}

#[tokio::test]
async fn another_browser_cannot_complete_a_link_login() {
    let mut e = Env::new().await;
    e.signup("erin", PW).await;
    let to_op = e.post_action("/link/bad").await;
    // The OP's answer reaches a browser that did not start the login (e.g. a link sent to a
    // victim): refused before the hook, nothing linked.
    let cb = e.op_answer(&to_op).await;
    let mut other = Browser::new(e.app.router());
    let r = other
        .send(
            Request::get(format!("{}?{}", cb.path(), cb.query().unwrap()))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(e.identities().await.is_empty());
}

#[tokio::test]
async fn a_form_post_callback_links() {
    let mut e = Env::at(PUBLIC_HTTPS).await;
    let iss = e.op.issuer().to_owned();
    e.signup("frank", PW).await;
    assert!(e.b.jar.contains_key("__Host-relier"));
    assert!(!e.b.same_site_none.contains("__Host-relier"));
    let to_op = e.post_action("/link/bad").await;
    assert_eq!(to_op.status(), StatusCode::FOUND);
    // The POST carries relier's binding cookie (SameSite=None), not the session's.
    let r = e.callback_form_post(&to_op).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(loc(&r), "/");
    assert_eq!(e.me().await.1["username"], "frank");
    assert_eq!(e.identities().await, [format!("bad {iss} alice")]);
}
