//! A relying party whose OP's keys come from a signed JWK set (OpenID Federation 1.0 §5.2.1;
//! the FTN profile): the set at the stand-in's `signed_jwks_uri` republishes the misbehaving
//! OP's current keys, signed with the broker's entity key. An OP key rotation is followed
//! through the signed set by the usual refetch on an unknown `kid`; a set signed by an
//! unpinned key, for another issuer or expired is refused with the check named, and the last
//! good set is kept. The OP's own `jwks_uri` is never fetched by the relying party.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use relier::core::authorize::CallbackParams;
use relier::core::federation::trust::{EntityKeys, SignedJwksSource};
use relier::core::{AuthorizationParams, ClientAuth, ClientId, IssuerUrl, RedirectUrl, Secret};
use relier::jose::{Algorithm, SigningKey, jws};
use relier::{Error, HttpClient, RelyingParty};
use relier_tests::bad_op::{BadOp, CLIENT_ID};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:1/callback";
const ENTITY_ID: &str = "https://broker.example";

/// How the stand-in signs the next set.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Good,
    Rogue,
    OtherIssuer,
    Expired,
}

struct Broker {
    op_jwks: String,
    entity: SigningKey,
    rogue: SigningKey,
    mode: Mutex<Mode>,
    calls: AtomicUsize,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `GET /signed-jwks`: the OP's current JWKS, signed.
async fn signed(State(b): State<Arc<Broker>>) -> impl IntoResponse {
    b.calls.fetch_add(1, Ordering::SeqCst);
    let mut claims: Value = reqwest::get(&b.op_jwks)
        .await
        .unwrap()
        .bytes()
        .await
        .map(|body| serde_json::from_slice(&body).unwrap())
        .unwrap();
    let mode = *b.mode.lock().unwrap();
    let iss = if mode == Mode::OtherIssuer {
        "https://other.example"
    } else {
        ENTITY_ID
    };
    let exp = if mode == Mode::Expired {
        now() - 3600
    } else {
        now() + 3600
    };
    claims["iss"] = json!(iss);
    claims["iat"] = json!(now() - 7200);
    claims["exp"] = json!(exp);
    let key = if mode == Mode::Rogue {
        &b.rogue
    } else {
        &b.entity
    };
    let header = jws::Header {
        typ: Some("JWS".into()),
        ..jws::Header::default()
    };
    let token = jws::sign_compact(
        &header,
        claims.to_string().as_bytes(),
        key,
        &SystemRandom::new(),
    )
    .unwrap();
    ([(header::CONTENT_TYPE, "application/jwk-set+jwt")], token)
}

struct Env {
    op: BadOp,
    broker: Arc<Broker>,
    rp: RelyingParty,
}

impl Env {
    /// The OP's JWKS requests that did not come from the stand-in.
    fn rp_jwks_calls(&self) -> usize {
        self.op.jwks_calls() - self.broker.calls.load(Ordering::SeqCst)
    }

    fn set(&self, mode: Mode) {
        *self.broker.mode.lock().unwrap() = mode;
    }
}

async fn env() -> Env {
    let op = BadOp::start().await.unwrap();
    let entity = SigningKey::generate(Algorithm::RS256, None)
        .unwrap()
        .with_kid("entity-1");
    let broker = Arc::new(Broker {
        op_jwks: format!("{}/jwks", op.issuer()),
        entity: entity.clone(),
        rogue: SigningKey::generate(Algorithm::RS256, None)
            .unwrap()
            .with_kid("entity-rogue"),
        mode: Mutex::new(Mode::Good),
        calls: AtomicUsize::new(0),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/signed-jwks", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/signed-jwks", axum::routing::get(signed))
        .with_state(broker.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let http = HttpClient::new(&Default::default()).unwrap();
    let md = relier::discover(&http, &IssuerUrl::new(op.issuer()).unwrap())
        .await
        .unwrap();
    let auth =
        ClientAuth::client_secret_basic(ClientId::new(CLIENT_ID).unwrap(), Secret::new("s3cret"));
    let source = SignedJwksSource {
        uri,
        entity_id: ENTITY_ID.into(),
        keys: EntityKeys::from_jwks("test", &[entity.public_jwk().unwrap()]).unwrap(),
    };
    let rp = RelyingParty::builder(http, md, auth)
        .redirect_uri(RedirectUrl::new(REDIRECT).unwrap())
        .jwks_refetch_interval(0)
        .signed_jwks(source)
        .build();
    Env { op, broker, rp }
}

/// Authorization request → the OP's immediate redirect → callback → token.
async fn code_flow(rp: &RelyingParty) -> Result<relier::Login, Error> {
    let (url, pending) = rp.authorization_url(&AuthorizationParams::default())?;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = browser.get(url.as_str()).send().await.unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let callback = CallbackParams::from_url(&url::Url::parse(&location).unwrap())?;
    rp.complete_login(callback, &pending).await
}

#[tokio::test]
async fn a_rotation_is_followed_through_the_signed_set() {
    let e = env().await;
    code_flow(&e.rp).await.unwrap();
    assert_eq!(e.broker.calls.load(Ordering::SeqCst), 1);
    let kid = e.op.rotate_key().unwrap();
    let done = code_flow(&e.rp).await.unwrap();
    let raw = done.id_token.raw().expose();
    let header = raw.split('.').next().unwrap();
    let header: Value =
        serde_json::from_slice(&relier::jose::b64::decode(header).unwrap()).unwrap();
    assert_eq!(header["kid"], json!(kid));
    // One refetch for the unknown kid, through the signed set only.
    assert_eq!(e.broker.calls.load(Ordering::SeqCst), 2);
    assert_eq!(e.rp_jwks_calls(), 0);
}

#[tokio::test]
async fn a_bad_set_is_refused_naming_the_check_and_the_last_good_one_kept() {
    let e = env().await;
    code_flow(&e.rp).await.unwrap();
    for (mode, check) in [
        (
            Mode::Rogue,
            "signed by an unknown entity key, kid \"entity-rogue\"",
        ),
        (Mode::OtherIssuer, "iss mismatch"),
        (Mode::Expired, "expired"),
    ] {
        e.set(mode);
        let kid = e.op.rotate_key().unwrap();
        let err = code_flow(&e.rp).await.unwrap_err().to_string();
        assert!(err.contains(check), "{check}: {err}");
        // The last good set is still the one in use: it has the first key, not the new one.
        let keys = e.rp.keys(false).await.unwrap();
        assert!(keys.select(Some("rsa-1"), Algorithm::RS256).is_ok());
        assert!(keys.select(Some(&kid), Algorithm::RS256).is_err());
    }
    assert_eq!(e.rp_jwks_calls(), 0);
}

#[tokio::test]
async fn a_first_set_that_fails_a_check_refuses_the_login() {
    for (mode, check) in [
        (Mode::Rogue, "unknown entity key"),
        (Mode::Expired, "expired"),
    ] {
        let e = env().await;
        e.set(mode);
        let err = code_flow(&e.rp).await.unwrap_err().to_string();
        assert!(err.contains(check), "{check}: {err}");
        assert_eq!(e.rp_jwks_calls(), 0);
    }
}
