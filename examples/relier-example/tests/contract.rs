//! The example application's HTTP contract, against the in-process misbehaving OP (a static
//! provider with client_secret): sign-up and password login, `/me`, CSRF and Origin checks,
//! linking and unlinking, linked logins, refused links, and first logins that are never
//! signed in to an existing account.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Env, PUBLIC, form_request, loc, text};

const PW: &str = "correct horse battery";

#[tokio::test]
async fn sign_in_page_signup_password_login_and_me() {
    let mut e = Env::new().await;
    let r = e.b.get("/").await;
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    // Under `no-referrer` browsers send `Origin: null` with form posts.
    assert_eq!(r.headers()[header::REFERRER_POLICY], "same-origin");
    let page = text(r).await;
    for needle in [
        "action=\"/login\"",
        "action=\"/signup\"",
        "name=\"username\"",
        "name=\"password\"",
        "type=\"hidden\" name=\"csrf_token\"",
        "href=\"/auth/login/bad\"",
        "Login with Bad &lt;OP&gt;",
    ] {
        assert!(page.contains(needle), "{needle} in {page}");
    }
    assert_eq!(e.me().await.0, StatusCode::UNAUTHORIZED);

    let r = e.signup("carol", PW).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(loc(&r), "/");
    let (s, me) = e.me().await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["username"], "carol");
    assert_eq!(me["identities"], serde_json::json!([]));
    assert!(me["csrf_token"].as_str().unwrap().len() >= 43);
    // One session, relier's (a local one): no cookie of the application's own but the
    // visitor's CSRF token; its CSRF token is relier's.
    let cookies: Vec<&String> = e.b.jar.keys().collect();
    assert_eq!(cookies, ["example_csrf", "relier_session"], "{cookies:?}");
    let s: serde_json::Value =
        serde_json::from_str(&text(e.b.get("/auth/session").await).await).unwrap();
    assert_eq!(s["provider"], relier_gateway::embed::LOCAL_PROVIDER);
    assert_eq!(s["csrf_token"], me["csrf_token"]);
    // A password sign-in is no external identity to link.
    assert_eq!(
        e.b.get("/first-login").await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(
        text(e.b.get("/").await)
            .await
            .contains("Signed in as carol")
    );
    // The name is taken (case-insensitively).
    e.logout().await;
    assert_eq!(e.signup("CAROL", PW).await.status(), StatusCode::CONFLICT);
    assert_eq!(
        e.signup("dan", "short").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(e.me().await.0, StatusCode::UNAUTHORIZED);

    // Wrong password and unknown user: the same 401 page, no session.
    let wrong = e.login("carol", "wrong password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = text(wrong).await;
    assert_eq!(e.me().await.0, StatusCode::UNAUTHORIZED);
    let unknown = e.login("nobody", "wrong password").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(text(unknown).await, wrong);
    assert_eq!(e.me().await.0, StatusCode::UNAUTHORIZED);

    let r = e.login("carol", PW).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(e.me().await.1["username"], "carol");
}

#[tokio::test]
async fn state_changing_posts_need_the_csrf_token_and_the_origin() {
    let mut e = Env::new().await;
    let t = e.b.csrf().await;
    let fields = [("username", "eve"), ("password", PW)];
    let r = e.b.post("/signup", &fields).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no token");
    let r =
        e.b.post("/signup", &[fields[0], fields[1], ("csrf_token", "forged")])
            .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "wrong token");
    let with_token = [fields[0], fields[1], ("csrf_token", t.as_str())];
    let r =
        e.b.send(form_request(
            "/signup",
            &with_token,
            Some("https://evil.example"),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "foreign Origin");
    let r =
        e.b.send(form_request("/signup", &with_token, Some("null")))
            .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "opaque Origin");
    assert_eq!(e.me().await.0, StatusCode::UNAUTHORIZED);
    // Without a session cookie, a token is worth nothing.
    let mut req = form_request("/signup", &with_token, Some(PUBLIC));
    req.headers_mut()
        .insert(header::COOKIE, "relier_session=guess".parse().unwrap());
    assert_eq!(e.b.send(req).await.status(), StatusCode::FORBIDDEN);

    // No Origin (some clients) but the token: accepted.
    let r = e.b.send(form_request("/signup", &with_token, None)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The signed-in session has a new token; the pre-session's is dead.
    let (_, me) = e.me().await;
    assert_ne!(me["csrf_token"], t.as_str());
    let r =
        e.b.send(
            Request::post("/auth/logout")
                .header("x-csrf-token", &t)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r =
        e.b.send(
            Request::post("/auth/logout")
                .header("x-csrf-token", me["csrf_token"].as_str().unwrap())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(e.me().await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn link_then_login_with_the_provider_lands_in_the_same_account_then_unlink() {
    let mut e = Env::new().await;
    let iss = e.op.issuer().to_owned();
    assert_eq!(
        e.post_action("/link/bad").await.status(),
        StatusCode::UNAUTHORIZED
    );
    e.signup("carol", PW).await;
    assert_eq!(
        e.post_action("/link/nope").await.status(),
        StatusCode::NOT_FOUND
    );
    let r = e.post_action("/link/bad").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert!(loc(&r).starts_with(&iss), "straight to the OP: {}", loc(&r));
    let r = e.callback(&r).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(loc(&r), "/");
    assert_eq!(e.identities().await, [format!("bad {iss} alice")]);
    let home = text(e.b.get("/").await).await;
    assert!(home.contains("action=\"/unlink/bad\""), "{home}");

    e.logout().await;
    assert!(
        !e.b.jar.contains_key("relier_session"),
        "logout ends the session"
    );
    let r = e.provider_login().await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(loc(&r), "/");
    assert_eq!(e.me().await.1["username"], "carol");

    let r = e.post_action("/unlink/bad").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(e.identities().await.is_empty());
    e.logout().await;
    // Unlinked: the next provider login is a first login again.
    let r = e.provider_login().await;
    assert_eq!(loc(&r), "/first-login");
    assert_eq!(e.me().await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_identity_linked_to_another_account_is_refused_and_nothing_changes() {
    let mut e = Env::new().await;
    let iss = e.op.issuer().to_owned();
    e.signup("first", PW).await;
    let r = e.post_action("/link/bad").await;
    e.callback(&r).await;
    e.logout().await;

    e.signup("second", PW).await;
    let r = e.post_action("/link/bad").await;
    let r = e.callback(&r).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(text(r).await.contains("already linked to another account"));
    // Still signed in as second, nothing linked; first keeps its identity.
    assert_eq!(e.me().await.1["username"], "second");
    assert!(e.identities().await.is_empty());
    // The intent was used up: a later login is an ordinary one (as first).
    e.logout().await;
    let r = e.provider_login().await;
    assert_eq!(loc(&r), "/");
    assert_eq!(e.me().await.1["username"], "first");
    assert_eq!(e.identities().await, [format!("bad {iss} alice")]);

    // An account can hold one identity per provider.
    e.op_user("zoe");
    let r = e.post_action("/link/bad").await;
    let r = e.callback(&r).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(e.identities().await, [format!("bad {iss} alice")]);
}

#[tokio::test]
async fn a_first_login_is_never_signed_in_to_an_existing_account() {
    let mut e = Env::new().await;
    let iss = e.op.issuer().to_owned();
    // A local "alice" exists; the OP's alice (alice@example.com, verified) is not linked.
    e.signup("alice", PW).await;
    e.logout().await;
    let r = e.provider_login().await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(loc(&r), "/first-login");
    assert_eq!(e.me().await.0, StatusCode::UNAUTHORIZED);
    let page = text(e.b.get("/first-login").await).await;
    assert!(page.contains("Create a new account"), "{page}");
    assert!(
        page.contains("Sign in with your password to link"),
        "{page}"
    );
    assert!(page.contains("action=\"/first-login/create\""), "{page}");
    assert!(page.contains("action=\"/first-login/link\""), "{page}");
    let t = common::hidden_csrf(&page);

    // Create a new account: linked at once.
    let r =
        e.b.post(
            "/first-login/create",
            &[("username", "alice"), ("csrf_token", &t)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "taken");
    let r =
        e.b.post(
            "/first-login/create",
            &[("username", "alice-op"), ("csrf_token", &t)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(e.me().await.1["username"], "alice-op");
    assert_eq!(e.identities().await, [format!("bad {iss} alice")]);
    // It has no password: its only identity cannot be unlinked.
    assert_eq!(
        e.post_action("/unlink/bad").await.status(),
        StatusCode::CONFLICT
    );
    e.logout().await;
    assert_eq!(e.provider_login().await.headers()[header::LOCATION], "/");
    assert_eq!(e.me().await.1["username"], "alice-op");
}

#[tokio::test]
async fn a_first_login_links_to_an_account_after_its_password() {
    let mut e = Env::new().await;
    let iss = e.op.issuer().to_owned();
    e.signup("dave", PW).await;
    e.logout().await;
    e.op_user("dave-at-op");
    assert_eq!(loc(&e.provider_login().await), "/first-login");
    let t = common::hidden_csrf(&text(e.b.get("/first-login").await).await);
    let wrong = [
        ("username", "dave"),
        ("password", "nope nope"),
        ("csrf_token", &t),
    ];
    let r = e.b.post("/first-login/link", &wrong).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(e.me().await.0, StatusCode::UNAUTHORIZED);
    let right = [("username", "dave"), ("password", PW), ("csrf_token", &t)];
    let r = e.b.post("/first-login/link", &right).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(e.me().await.1["username"], "dave");
    assert_eq!(e.identities().await, [format!("bad {iss} dave-at-op")]);
    // Without a provider login in progress there is nothing to link.
    e.logout().await;
    let t = e.b.csrf().await;
    let r =
        e.b.post(
            "/first-login/create",
            &[("username", "x"), ("csrf_token", &t)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        e.b.get("/first-login").await.status(),
        StatusCode::SEE_OTHER
    );
}
