//! The embedding API: an application mounts relier's login routes into its own router, reads
//! the signed-in identity with the `Identity` extractor, and decides about each login in a
//! `LoginHook` (here: a toy account-linking table).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use common::bad_env::{Env, Setup, build_with, login, req};
use common::{loc, text};
use relier_gateway::embed::{CompletedLogin, Identity, LoginDecision, LoginHook};

/// Links (issuer, sub) to a local account name; refuses identities on a block list.
#[derive(Clone, Default)]
struct Accounts {
    links: Arc<Mutex<HashMap<(String, String), String>>>,
    blocked: Arc<Mutex<Vec<String>>>,
    seen: Arc<Mutex<Vec<String>>>,
}

#[async_trait::async_trait]
impl LoginHook for Accounts {
    async fn on_login(&self, l: &CompletedLogin<'_>, request: &HeaderMap) -> LoginDecision {
        let app_cookie = request
            .get(header::COOKIE)
            .and_then(|c| c.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        self.seen.lock().unwrap().push(format!(
            "{} {} {} {app_cookie}",
            l.provider, l.subject, l.return_to
        ));
        if self.blocked.lock().unwrap().iter().any(|b| b == l.subject) {
            return LoginDecision::Respond(
                (StatusCode::CONFLICT, "linked to another account").into_response(),
            );
        }
        let key = (l.issuer.to_owned(), l.subject.to_owned());
        match self.links.lock().unwrap().get(&key) {
            Some(account) => {
                let mut headers = HeaderMap::new();
                headers.append(
                    header::SET_COOKIE,
                    HeaderValue::from_str(&format!("app_user={account}; Path=/; HttpOnly"))
                        .unwrap(),
                );
                LoginDecision::Accept {
                    redirect_to: Some("/home".into()),
                    headers,
                }
            }
            None => LoginDecision::Accept {
                redirect_to: Some("/welcome".into()),
                headers: HeaderMap::new(),
            },
        }
    }
}

async fn me(who: Identity) -> String {
    format!(
        "{} {} {} {:?} {:?}",
        who.provider(),
        who.issuer(),
        who.subject(),
        who.verified_email(),
        who.name()
    )
}

async fn maybe(who: Option<Identity>) -> String {
    who.map_or_else(|| "anonymous".to_owned(), |w| w.subject().to_owned())
}

async fn embedded(accounts: Accounts) -> Env {
    build_with(
        Setup::default(),
        |b| b.on_login(accounts),
        |gw| {
            Router::new()
                .route("/me", get(me))
                .route("/maybe", get(maybe))
                .merge(gw.login_router())
                .layer(gw.layer())
        },
    )
    .await
}

#[tokio::test]
async fn the_app_mounts_the_login_routes_and_reads_the_identity() {
    let accounts = Accounts::default();
    let mut e = embedded(accounts.clone()).await;
    // Without a session: browsers go to the chooser with return_to, others get 401;
    // Option<Identity> is None.
    let r = e.app.navigate("/me?tab=1").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(loc(&r), "/auth/login?return_to=%2Fme%3Ftab%3D1");
    assert_eq!(e.app.get("/me").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(text(e.app.get("/maybe").await).await, "anonymous");
    // The gateway's other routes are not mounted.
    assert_eq!(
        e.app.get("/auth/check").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(e.app.get("/healthz").await.status(), StatusCode::NOT_FOUND);
    let jwks = e.app.get("/.well-known/jwks.json").await;
    assert_eq!(jwks.status(), StatusCode::OK);

    // First login: not linked → the hook sends the user to /welcome, a session exists.
    let r = login(&mut e, "/somewhere").await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    assert_eq!(loc(&r), "/welcome");
    let body = text(e.app.get("/me").await).await;
    assert!(
        body.starts_with(&format!(
            "bad {} alice Some(\"alice@example.com\")",
            e.op.issuer()
        )),
        "{body}"
    );
    assert_eq!(text(e.app.get("/maybe").await).await, "alice");
    let seen = accounts.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].starts_with("bad alice /somewhere"), "{seen:?}");

    // Linked: the hook's own cookie and redirect are sent with the session cookie.
    accounts
        .links
        .lock()
        .unwrap()
        .insert((e.op.issuer().to_owned(), "alice".into()), "bob".into());
    e.app.jar.insert("app_pref".into(), "dark".into());
    let r = login(&mut e, "/x").await;
    assert_eq!(loc(&r), "/home");
    let cookies: Vec<&str> = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("app_user=bob")),
        "{cookies:?}"
    );
    assert!(
        cookies.iter().any(|c| c.starts_with("relier_session=")),
        "{cookies:?}"
    );
    let seen = accounts.seen.lock().unwrap().clone();
    assert!(
        seen[1].contains("app_pref=dark"),
        "the hook sees the app's cookies: {seen:?}"
    );
}

#[tokio::test]
async fn the_hook_can_answer_without_a_session() {
    let accounts = Accounts::default();
    accounts.blocked.lock().unwrap().push("alice".into());
    let mut e = embedded(accounts).await;
    let r = login(&mut e, "/").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(text(r).await, "linked to another account");
    assert!(!e.app.jar.contains_key("relier_session"));
    assert_eq!(e.app.get("/me").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn end_session_signs_out_locally() {
    let mut e = embedded(Accounts::default()).await;
    let r = login(&mut e, "/").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let cookie = format!("relier_session={}", e.app.jar["relier_session"]);
    let mut h = HeaderMap::new();
    h.insert(header::COOKIE, cookie.parse().unwrap());
    let clear = e.gw.end_session(&h).await.unwrap().unwrap();
    assert!(clear.to_str().unwrap().contains("Max-Age=0"));
    let r = e
        .app
        .send(
            req("GET", "/me")
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        e.gw.providers(),
        vec![(
            "bad".to_owned(),
            "<script>alert(1)</script> Bad & Co".to_owned()
        )]
    );
}
