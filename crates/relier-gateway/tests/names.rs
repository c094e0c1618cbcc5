//! Names from the OP reach no header, page, hook or application with a bidi override, a line
//! separator, a zero-width or a control character in them; an identifier that holds one (here
//! `preferred_username`, mapped to `X-Forwarded-User`) is not handed on rather than rewritten.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use common::bad_env::{Env, Setup, build_with, env, logged_in};
use common::text;
use relier_gateway::embed::{AppSlot, CompletedLogin, Identity, LoginDecision, LoginHook};
use relier_tests::bad_op::Misbehavior;
use serde_json::{Value, json};

/// "Mallory" + RLO + "nimda" shows as "Malloryadmin"; U+2028 ends a log line; U+200B hides;
/// CSI (C1), DEL and a tab are control characters.
const DIRTY_NAME: &str = "Mallory\u{202E}nimda\u{2028}\u{200B}\u{9B}\u{7F}\tX";
const CLEAN_NAME: &str = "MallorynimdaX";

fn dirty_claims() -> Misbehavior {
    Misbehavior {
        claims: vec![
            ("name".into(), Some(json!(DIRTY_NAME))),
            ("given_name".into(), Some(json!("\u{2067}Mallory\u{2069}"))),
            ("preferred_username".into(), Some(json!("admin\u{200B}"))),
            ("groups".into(), Some(json!(["staff"]))),
        ],
        ..Misbehavior::default()
    }
}

#[tokio::test]
async fn a_name_with_bidi_and_line_separators_reaches_headers_clean() {
    let mut e = env().await;
    e.op.set(dirty_claims());
    logged_in(&mut e).await;
    let r = e.app.get("/auth/check").await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    assert_eq!(h["x-relier-name"], CLEAN_NAME);
    assert_eq!(h["x-relier-subject"], "alice");
    assert_eq!(h["x-relier-groups"], "staff");
    // `admin` + ZWSP must not become `admin`: not handed on at all.
    assert!(h.get("x-forwarded-user").is_none(), "{h:?}");

    let s: Value = serde_json::from_str(&text(e.app.get("/auth/session").await).await).unwrap();
    assert_eq!(s["name"], CLEAN_NAME, "{s}");
    assert_eq!(s["claims"]["name"], CLEAN_NAME, "{s}");
    assert_eq!(s["claims"]["given_name"], "Mallory", "{s}");
    assert_eq!(s["claims"]["preferred_username"], "admin\u{200B}", "{s}");
}

/// Records the names the login hook was given.
#[derive(Clone, Default)]
struct Names(Arc<Mutex<Vec<String>>>);

#[async_trait::async_trait]
impl LoginHook for Names {
    async fn on_login(&self, l: CompletedLogin<'_>, _: &mut AppSlot) -> LoginDecision {
        let mut seen = self.0.lock().unwrap();
        seen.push(l.name.unwrap_or_default().to_owned());
        seen.push(l.claims["name"].as_str().unwrap_or_default().to_owned());
        LoginDecision::Accept {
            redirect_to: None,
            headers: HeaderMap::new(),
        }
    }
}

async fn me(who: Identity) -> String {
    who.name().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_login_hook_and_the_embedding_app_see_the_clean_name() {
    let names = Names::default();
    let hook = names.clone();
    let mut e: Env = build_with(
        Setup::default(),
        |b| b.on_login(hook),
        |gw| {
            Router::new()
                .route("/me", get(me))
                .merge(gw.login_router())
                .layer(gw.layer())
        },
    )
    .await;
    e.op.set(dirty_claims());
    logged_in(&mut e).await;
    assert_eq!(*names.0.lock().unwrap(), [CLEAN_NAME, CLEAN_NAME]);
    assert_eq!(text(e.app.get("/me").await).await, CLEAN_NAME);
}
