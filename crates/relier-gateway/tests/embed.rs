//! The embedding API: an application mounts relier's login routes into its own router, reads
//! the signed-in identity with the `Identity` extractor, and decides about each login in a
//! `LoginHook` (here: a toy account-linking table that keeps the account in the session's
//! `AppSlot`); the hook's redirect targets are checked like `return_to`; a login the
//! application starts carries its `app_state` back to the hook.

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
use common::bad_env::{Env, PUBLIC, Setup, build_with, login, op_callback, req};
use common::{form, loc, text};
use relier_gateway::embed::{
    AppSlot, CompletedLogin, Identity, LoginAppState, LoginAppStateError, LoginDecision, LoginHook,
};

/// Links (issuer, sub) to a local account name; refuses identities on a block list.
#[derive(Clone, Default)]
struct Accounts {
    links: Arc<Mutex<HashMap<(String, String), String>>>,
    blocked: Arc<Mutex<Vec<String>>>,
    seen: Arc<Mutex<Vec<String>>>,
}

#[async_trait::async_trait]
impl LoginHook for Accounts {
    async fn on_login(&self, l: CompletedLogin<'_>, slot: &mut AppSlot) -> LoginDecision {
        assert!(slot.is_empty(), "a new login's slot starts empty");
        self.seen
            .lock()
            .unwrap()
            .push(format!("{} {} {}", l.provider, l.subject, l.return_to));
        if self.blocked.lock().unwrap().iter().any(|b| b == l.subject) {
            return LoginDecision::Respond(
                (StatusCode::CONFLICT, "linked to another account").into_response(),
            );
        }
        let key = (l.issuer.to_owned(), l.subject.to_owned());
        match self.links.lock().unwrap().get(&key) {
            Some(account) => {
                slot.set(&Account {
                    name: account.clone(),
                })
                .unwrap();
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

/// What the toy application keeps on relier's session.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Account {
    name: String,
}

async fn account(who: Identity) -> String {
    match who.app_data::<Account>().unwrap() {
        Some(a) => format!("account {}", a.name),
        None => "no account".to_owned(),
    }
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
                .route("/account", get(account))
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
    assert_eq!(text(e.app.get("/account").await).await, "no account");
    let seen = accounts.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].starts_with("bad alice /somewhere"), "{seen:?}");

    // Linked: the hook's slot is stored with the new session; its headers and redirect are
    // sent with the session cookie.
    accounts
        .links
        .lock()
        .unwrap()
        .insert((e.op.issuer().to_owned(), "alice".into()), "bob".into());
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
    assert_eq!(text(e.app.get("/account").await).await, "account bob");
    assert_eq!(accounts.seen.lock().unwrap().len(), 2);
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

/// Sends every login to `target` and records each login's `app_state`.
#[derive(Clone, Default)]
struct Redirecting {
    target: Arc<Mutex<Option<String>>>,
    app_states: Arc<Mutex<Vec<Option<String>>>>,
}

#[async_trait::async_trait]
impl LoginHook for Redirecting {
    async fn on_login(&self, l: CompletedLogin<'_>, _: &mut AppSlot) -> LoginDecision {
        self.app_states
            .lock()
            .unwrap()
            .push(l.app_state.map(str::to_owned));
        LoginDecision::Accept {
            redirect_to: self.target.lock().unwrap().clone(),
            headers: HeaderMap::new(),
        }
    }
}

async fn redirecting(hook: Redirecting, extra: &str) -> Env {
    let setup = Setup {
        extra,
        ..Setup::default()
    };
    build_with(
        setup,
        |b| b.on_login(hook),
        |gw| Router::new().merge(gw.login_router()).layer(gw.layer()),
    )
    .await
}

#[tokio::test]
async fn the_hooks_redirect_to_is_checked_like_return_to() {
    let hook = Redirecting::default();
    let mut e = redirecting(hook.clone(), "").await;
    for (target, expected) in [
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/%09/evil.example", "/"),
        ("/%0d%0aSet-Cookie:x=1", "/"),
        ("https://evil.example/", "/"),
        ("HTTPS:evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/\tx", "/"),
        ("/x\r\nLocation: //evil.example", "/"),
        ("evil.example", "/"),
        ("", "/"),
        ("/account?tab=links#top", "/account?tab=links#top"),
    ] {
        *hook.target.lock().unwrap() = Some(target.to_owned());
        let r = login(&mut e, "/from-return-to").await;
        assert_eq!(r.status(), StatusCode::FOUND, "{target:?}");
        assert_eq!(loc(&r), expected, "{target:?}");
    }
    *hook.target.lock().unwrap() = None;
    assert_eq!(
        loc(&login(&mut e, "/from-return-to").await),
        "/from-return-to"
    );
}

/// The callback of the login `start` (a response of `Gateway::start_login`) answered by the OP,
/// as the browser sends it: query (GET) or `form_post` (a cross-site POST carrying only the
/// jar's cookies, i.e. relier's binding cookie, none of the application's).
async fn complete(
    e: &mut Env,
    start: &axum::http::Response<Body>,
    posted: bool,
) -> axum::http::Response<Body> {
    assert_eq!(start.status(), StatusCode::FOUND);
    e.app.store_cookies(start.headers());
    let cb = op_callback(&loc(start)).await;
    assert!(
        cb.as_str()
            .starts_with(&format!("{PUBLIC}/auth/callback/bad?"))
    );
    let r = if posted {
        req("POST", cb.path())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, "null")
            .body(Body::from(cb.query().unwrap().to_owned()))
    } else {
        req("GET", &format!("{}?{}", cb.path(), cb.query().unwrap())).body(Body::empty())
    };
    e.app.send(r.unwrap()).await
}

#[tokio::test]
async fn app_state_comes_back_with_the_login_the_application_started_only() {
    let hook = Redirecting::default();
    let mut e = redirecting(hook.clone(), "").await;
    let intent = || Some(LoginAppState::new("link:42").unwrap());

    // Started by the application (return_to checked like the query's): the hook gets it.
    let start = e.gw.start_login("bad", "//evil.example", intent()).await;
    let r = complete(&mut e, &start, false).await;
    assert_eq!(loc(&r), "/");
    // Under form_post too: it travels in relier's login state, not in a cookie.
    let start = e.gw.start_login("bad", "/linked", intent()).await;
    let r = complete(&mut e, &start, true).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(loc(&r), "/linked");
    // A login started at /auth/login/bad — even while one the application started is pending
    // — carries none; the pending one still carries its own.
    let pending = e.gw.start_login("bad", "/", intent()).await;
    assert_eq!(login(&mut e, "/").await.status(), StatusCode::FOUND);
    assert_eq!(
        complete(&mut e, &pending, false).await.status(),
        StatusCode::FOUND
    );
    assert_eq!(
        *hook.app_states.lock().unwrap(),
        [
            Some("link:42".into()),
            Some("link:42".into()),
            None,
            Some("link:42".into())
        ]
    );

    // Unknown provider: the login routes' own error page.
    let r = e.gw.start_login("nope", "/", intent()).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Size-capped.
    assert!(LoginAppState::new("x".repeat(LoginAppState::MAX_LEN)).is_ok());
    assert_eq!(
        LoginAppState::new("x".repeat(LoginAppState::MAX_LEN + 1)).unwrap_err(),
        LoginAppStateError::TooLong {
            len: LoginAppState::MAX_LEN + 1,
            max: LoginAppState::MAX_LEN
        }
    );
    assert!(!format!("{:?}", intent()).contains("link:42"));
}

#[tokio::test]
async fn a_login_with_app_state_is_bound_to_its_browser_even_without_bind_login() {
    let hook = Redirecting::default();
    let mut e = redirecting(hook.clone(), "[session]\nbind_login = false").await;
    // Without app_state and bind_login = false: no binding cookie, any browser completes it.
    let r = e
        .app
        .get(&format!("/auth/login/bad?{}", form(&[("return_to", "/")])))
        .await;
    assert!(r.headers().get(header::SET_COOKIE).is_none());
    e.app.jar.clear();
    assert_eq!(
        complete(&mut e, &r, false).await.status(),
        StatusCode::FOUND
    );
    // With app_state: the cookie is set, and another browser (here: without it) is refused
    // before the hook hears of it — someone else's link intent cannot be completed.
    let start =
        e.gw.start_login("bad", "/", Some(LoginAppState::new("link:42").unwrap()))
            .await;
    let set = start.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with("relier_login_"), "{set}");
    let cb = op_callback(&loc(&start)).await;
    e.app.jar.clear();
    let r = e
        .app
        .get(&format!("{}?{}", cb.path(), cb.query().unwrap()))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(*hook.app_states.lock().unwrap(), [None]);
}
