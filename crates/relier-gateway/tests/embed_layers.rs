//! The embedding API's enforcement: `Gateway::require_login` (a tower layer admitting every
//! request as `/auth/check` does), the `Principal` extractor (a session's identity or an
//! `[[api]]` access token) and `RequireScope` (RFC 6750 §3.1 `insufficient_scope`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::routing::get;
use common::bad_env::{Env, Setup, build_with, logged_in, req};
use common::text;
use relier_gateway::embed::{Identity, Principal, RequireScope};
use serde_json::json;

const AUD: &str = "https://app.example.com/api";

async fn who(p: Principal) -> String {
    match &p {
        Principal::Session(i) => format!("session {} {}", i.provider(), i.subject()),
        Principal::Token(t) => format!(
            "token {} {} {} dpop={} scopes={}",
            t.provider(),
            t.subject(),
            t.client_id(),
            t.is_dpop(),
            t.scopes().join(",")
        ),
        _ => "other".to_owned(),
    }
}

async fn env() -> Env {
    let extra = format!(
        "skip_auth = [\"/public/\"]\n\
         [[api]]\npath = \"/api/\"\nproviders = [\"bad\"]\naudience = \"{AUD}\"\n"
    );
    let setup = Setup {
        extra: &extra,
        ..Setup::default()
    };
    build_with(
        setup,
        |b| b,
        |gw| {
            let protected = Router::new()
                .route("/me", get(who))
                .route(
                    "/identity",
                    get(|i: Identity| async move { i.subject().to_owned() }),
                )
                .route(
                    "/public/x",
                    get(|p: Option<Principal>| async move { format!("{}", p.is_some()) }),
                )
                .route(
                    "/api/orders",
                    get(who).layer(RequireScope::new(["orders:read"])),
                )
                .route(
                    "/api/admin",
                    get(who).layer(RequireScope::new(["orders:read", "orders:admin"])),
                )
                .route(
                    "/api/spa",
                    get(who).layer(RequireScope::new(["orders:read"]).or_session()),
                )
                .route_layer(gw.require_login());
            protected.merge(gw.login_router())
        },
    )
    .await
}

fn token(e: &Env, scope: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let c = json!({
        "iss": e.op.issuer(), "aud": AUD, "sub": "svc", "client_id": "svc-client",
        "iat": now, "exp": now + 300, "scope": scope, "jti": "j"
    });
    e.op.sign_jwt(Some("at+jwt"), &c, false)
}

async fn get_with(e: &mut Env, uri: &str, auth: Option<&str>) -> (StatusCode, String, String) {
    let mut b = req("GET", uri);
    if let Some(t) = auth {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let r = e.app.send(b.body(Body::empty()).unwrap()).await;
    let challenge = r
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.status(), challenge, text(r).await)
}

#[tokio::test]
async fn require_login_sends_browsers_to_the_login_page_and_others_401() {
    let mut e = env().await;
    let r = e.app.navigate("/me?x=1").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(common::loc(&r), "/auth/login?return_to=%2Fme%3Fx%3D1");
    let (status, _, _) = get_with(&mut e, "/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // skip_auth: passes without a principal.
    let (status, _, body) = get_with(&mut e, "/public/x", None).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "false"));
    logged_in(&mut e).await;
    let (status, _, body) = get_with(&mut e, "/me", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.starts_with("session bad "), "{body}");
    let (status, _, sub) = get_with(&mut e, "/identity", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.ends_with(&sub), "{body} / {sub}");
    let (_, _, body) = get_with(&mut e, "/public/x", None).await;
    assert_eq!(body, "true");
}

#[tokio::test]
async fn tokens_on_api_paths_need_their_scopes() {
    let mut e = env().await;
    let t = token(&e, "orders:read");
    let (status, _, body) = get_with(&mut e, "/api/orders", Some(&t)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        "token bad svc svc-client dpop=false scopes=orders:read"
    );
    let (status, challenge, _) = get_with(&mut e, "/api/admin", Some(&t)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.contains("scope=\"orders:read orders:admin\""),
        "{challenge}"
    );
    // No token: 401 with a bare Bearer challenge (RFC 6750 §3.1), never a redirect.
    let r = e.app.navigate("/api/orders").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A token for another audience is refused by the [[api]] rule before any scope check.
    let (status, challenge, _) = get_with(&mut e, "/api/orders", Some("not-a-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("invalid_token"), "{challenge}");
}

#[tokio::test]
async fn a_session_on_an_api_path_passes_scope_checks_only_when_allowed() {
    let mut e = env().await;
    logged_in(&mut e).await;
    let (status, challenge, _) = get_with(&mut e, "/api/orders", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    let (status, _, body) = get_with(&mut e, "/api/spa", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.starts_with("session bad "), "{body}");
}
