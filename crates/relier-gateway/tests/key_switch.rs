//! A published RP key whose activation time passes between two logins signs the second
//! login's client assertion, with no key maintenance step in between: the provider switches
//! by itself (no token endpoint caller brings keys up to date). Against the real test OP
//! (panva's oidc-provider, `tests/op`), whose client knows only the new key — so the first
//! login, still signed with the old key, is refused, and the second one succeeds only if it is
//! signed with the new key.
//!
//! Needs node and `npm ci --prefix tests/op`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::op_login::login;
use common::{Running, browser, location};
use relier_jose::Algorithm;
use relier_store::{KeyAlg, KeyState, MasterKeySource, StoreUrl, UnixTime};
use relier_tests::oidc_provider::{Browser, Callback, OpConfig, TestOp};
use serde_json::json;
use tokio::net::TcpListener;

/// How long after its publication (just before the gateway's start; the OP is already up)
/// the new key becomes active: long enough for the start and a first login on a busy machine.
const ACTIVATES_IN: u64 = 20;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A login whose callback must fail (the OP refuses the client assertion): the callback's
/// status.
async fn refused_login(base: &str, gw: &reqwest::Client, op: &Browser) -> u16 {
    let r = gw
        .get(format!("{base}/auth/login/pkjwt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let cb = op
        .browse(&location(r.headers()), &format!("{base}/auth/callback/"))
        .await
        .unwrap();
    let Callback::Query(url) = cb else {
        panic!("a query callback")
    };
    gw.get(url).send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_key_signs_the_first_login_after_its_activation_time() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gateway.db");

    // The OP first: its start (retried on a busy machine) must not eat into the window
    // between the new key's publication and its activation.
    let op = TestOp::start_with(OpConfig::default(), serde_json::Value::Null)
        .await
        .unwrap();

    // The store before the gateway's start: an active ES256 key and a published one that
    // follows it.
    let (store, _) = relier_store::open(&StoreUrl::sqlite(&db), MasterKeySource::BesideDatabase)
        .await
        .unwrap();
    let first = store
        .generate_key(KeyAlg::Sig(Algorithm::ES256), None, UnixTime(now()))
        .await
        .unwrap();
    let next = store
        .rotate_keys(
            Some(KeyAlg::Sig(Algorithm::ES256)),
            ACTIVATES_IN,
            UnixTime(now()),
        )
        .await
        .unwrap()
        .remove(0);
    let activates_at = next.activates_at.unwrap();
    let jwks = store.jwks(UnixTime(now())).await.unwrap();
    let new_key = serde_json::to_value(jwks.find(&next.kid).next().unwrap()).unwrap();
    store.close().await;

    // The OP's client has only the new key.
    op.add_client(json!({
        "client_id": "rp-next",
        "redirect_uris": [format!("{base}/auth/callback/pkjwt")],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "ES256",
        "jwks": {"keys": [new_key]},
    }))
    .await
    .unwrap();
    // No maintenance step after the start's (`check_interval`).
    let toml = format!(
        r#"
public_url = "{base}"
store = "sqlite://{db}"

[keys]
check_interval = "1h"

[[providers]]
name = "pkjwt"
issuer = "{iss}"
client_id = "rp-next"
use_store_key = true
"#,
        db = db.display(),
        iss = op.issuer,
    );
    let gw = Running::start(listener, &toml).await;

    // Before the activation time: signed with the old key, which the OP does not know.
    let status = refused_login(&base, &browser(), &Browser::new().unwrap()).await;
    assert!(
        now() < activates_at,
        "the first login ended after the activation time: raise ACTIVATES_IN"
    );
    assert_ne!(status, 302, "a login signed with the old key is refused");

    while now() < activates_at {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // From the activation time: the new key, without any step in between.
    let to = login(&base, &browser(), &Browser::new().unwrap(), "pkjwt").await;
    assert_eq!(to, "/home?x=1");

    let (store, _) = relier_store::open(&StoreUrl::sqlite(&db), MasterKeySource::BesideDatabase)
        .await
        .unwrap();
    let keys = store.list_keys().await.unwrap();
    let state = |kid: &str| keys.iter().find(|k| k.kid == kid).map(|k| k.state);
    assert_eq!(state(&next.kid), Some(KeyState::Next), "no step ran");
    assert_eq!(state(&first.kid), Some(KeyState::Active));
    store.close().await;
    gw.stop().await;
}
