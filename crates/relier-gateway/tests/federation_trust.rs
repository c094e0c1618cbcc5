//! A provider trusted as in an OpenID Federation (the Finnish Trust Network, issue §4): the
//! broker's entity statement — self-signed, stored as received — gives the OP's metadata (no
//! discovery) and pins its entity keys; the ID token keys then come only from the signed JWK
//! set at its `signed_jwks_uri`, verified with those keys. A stand-in serves that signed set
//! and, at the statement's unsigned `jwks_uri`, another key under the same kid, counting the
//! requests to each: the login succeeds with zero requests to `jwks_uri` (nor to the OP's own
//! JWKS). A set signed by an unpinned key, and a provider with both `entity_statement` and
//! `jwks_uri`, are refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use aws_lc_rs::rand::SystemRandom;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use common::bad_env::{PUBLIC, op_callback};
use common::{OneShot, loc, text};
use relier_gateway::{Config, Gateway};
use relier_jose::{Algorithm, SigningKey, jws};
use relier_tests::bad_op::{BadOp, CLIENT_ID};
use serde_json::{Value, json};

/// The broker's stand-in federation endpoints.
struct Broker {
    entity: SigningKey,
    rogue: SigningKey,
    /// The OP's real signing keys (its JWKS), published only signed.
    op_keys: Value,
    /// Sign the set with `rogue` (a key the RP never pinned) instead.
    sign_with_rogue: AtomicBool,
    signed_calls: AtomicUsize,
    unsigned_calls: AtomicUsize,
    entity_id: String,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn rsa(kid: &str) -> SigningKey {
    SigningKey::generate(Algorithm::RS256, None)
        .unwrap()
        .with_kid(kid)
}

fn sign(key: &SigningKey, typ: &str, claims: &Value) -> String {
    let header = jws::Header {
        typ: Some(typ.to_owned()),
        ..jws::Header::default()
    };
    jws::sign_compact(
        &header,
        claims.to_string().as_bytes(),
        key,
        &SystemRandom::new(),
    )
    .unwrap()
}

/// `GET /signed-jwks`: the OP's keys signed with the entity key, `typ: JWS` as the ISB sends.
async fn signed_jwks(State(b): State<Arc<Broker>>) -> impl IntoResponse {
    b.signed_calls.fetch_add(1, Ordering::SeqCst);
    let mut claims = b.op_keys.clone();
    claims["iss"] = json!(b.entity_id);
    claims["sub"] = json!(b.entity_id);
    claims["iat"] = json!(now());
    claims["exp"] = json!(now() + 3600);
    let key = if b.sign_with_rogue.load(Ordering::SeqCst) {
        &b.rogue
    } else {
        &b.entity
    };
    (
        [(header::CONTENT_TYPE, "application/jwk-set+jwt")],
        sign(key, "JWS", &claims),
    )
}

/// `GET /jwks`: the unsigned set — another key under the OP's kid. Never to be asked for.
async fn unsigned_jwks(State(b): State<Arc<Broker>>) -> impl IntoResponse {
    b.unsigned_calls.fetch_add(1, Ordering::SeqCst);
    let decoy = rsa("rsa-1").public_jwk().unwrap();
    axum::Json(json!({ "keys": [decoy] }))
}

struct Env {
    op: BadOp,
    broker: Arc<Broker>,
    dir: tempfile::TempDir,
    statement: String,
}

/// The OP, the broker stand-in, and the broker's entity statement (its metadata the OP's
/// discovery document, with the stand-in's `jwks_uri` and `signed_jwks_uri`).
async fn env() -> Env {
    env_for(None).await
}

/// As [`env`]; the signed set's `iss` is the OP's issuer when `op_is_entity` (a broker with
/// discovery and entity keys), else the stand-in's URL.
async fn env_for(op_is_entity: Option<()>) -> Env {
    let op = BadOp::start().await.unwrap();
    let http = reqwest::Client::new();
    let discovery: Value = http
        .get(format!("{}/.well-known/openid-configuration", op.issuer()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    let op_keys: Value = http
        .get(format!("{}/jwks", op.issuer()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Known by its RFC 7638 thumbprint, as a PEM entity key is (and as the ISB names its own).
    let entity = rsa("-");
    let entity = entity.clone().with_kid(entity.thumbprint_sha256().unwrap());
    let broker = Arc::new(Broker {
        entity: entity.clone(),
        rogue: rsa("entity-rogue"),
        op_keys,
        sign_with_rogue: AtomicBool::new(false),
        signed_calls: AtomicUsize::new(0),
        unsigned_calls: AtomicUsize::new(0),
        entity_id: match op_is_entity {
            Some(()) => op.issuer().to_owned(),
            None => base.clone(),
        },
    });
    let app = Router::new()
        .route("/signed-jwks", get(signed_jwks))
        .route("/jwks", get(unsigned_jwks))
        .with_state(broker.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let mut metadata = discovery;
    metadata["jwks_uri"] = json!(format!("{base}/jwks"));
    metadata["signed_jwks_uri"] = json!(format!("{base}/signed-jwks"));
    let statement = sign(
        &entity,
        "entity-statement+jwt",
        &json!({
            "iss": base, "sub": base, "iat": now(), "exp": now() + 365 * 86_400,
            "jwks": {"keys": [entity.public_jwk().unwrap()]},
            "metadata": {"openid_provider": metadata},
        }),
    );
    Env {
        op,
        broker,
        dir: tempfile::tempdir().unwrap(),
        statement,
    }
}

impl Env {
    /// The configuration with the provider's `tail` (the statement file is `st.jwt`).
    fn toml(&self, tail: &str) -> String {
        std::fs::write(self.dir.path().join("st.jwt"), &self.statement).unwrap();
        format!(
            r#"
public_url = "{PUBLIC}"
store = "sqlite://{db}"

[[providers]]
name = "bad"
client_id = "{CLIENT_ID}"
client_secret = "s3cret-s3cret"
entity_statement = "{st}"
{tail}
"#,
            db = self.dir.path().join("g.db").display(),
            st = self.dir.path().join("st.jwt").display(),
        )
    }

    async fn gateway(&self, tail: &str) -> OneShot {
        let gw = Gateway::build(Config::from_toml(&self.toml(tail)).unwrap())
            .await
            .unwrap();
        OneShot::new(gw.router())
    }
}

/// A full login through the OP; the callback response.
async fn login(app: &mut OneShot) -> axum::http::Response<axum::body::Body> {
    let r = app.get("/auth/login/bad?return_to=%2Fapp").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let cb = op_callback(&loc(&r)).await;
    app.get(&format!("{}?{}", cb.path(), cb.query().unwrap()))
        .await
}

#[tokio::test]
async fn id_token_keys_come_only_from_the_signed_jwks() {
    let e = env().await;
    let op_jwks_before = e.op.jwks_calls();
    let mut app = e.gateway("").await;
    let r = login(&mut app).await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    assert!(app.jar.contains_key("relier_session"));
    assert!(e.broker.signed_calls.load(Ordering::SeqCst) >= 1);
    // The unsigned jwks_uri (serving a decoy under the same kid) was never asked for, nor was
    // the OP's own JWKS, nor its discovery document (the statement's metadata is used).
    assert_eq!(e.broker.unsigned_calls.load(Ordering::SeqCst), 0);
    assert_eq!(e.op.jwks_calls(), op_jwks_before);
}

#[tokio::test]
async fn a_signed_jwks_by_an_unpinned_key_is_refused() {
    let e = env().await;
    e.broker.sign_with_rogue.store(true, Ordering::SeqCst);
    let mut app = e.gateway("").await;
    let r = login(&mut app).await;
    assert_ne!(r.status(), StatusCode::FOUND);
    assert!(!app.jar.contains_key("relier_session"));
    assert!(e.broker.signed_calls.load(Ordering::SeqCst) >= 1);
    assert_eq!(e.broker.unsigned_calls.load(Ordering::SeqCst), 0);
    // No verified key set: not ready.
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["providers"], json!(["bad"]), "{body}");
}

#[tokio::test]
async fn entity_statement_with_jwks_uri_or_entity_keys_does_not_start() {
    let e = env().await;
    for (tail, other) in [
        ("jwks_uri = \"https://op.example/jwks\"", "jwks_uri"),
        ("entity_keys = \"keys.pem\"", "entity_keys"),
        (
            "signed_jwks_uri = \"https://op.example/signed\"",
            "signed_jwks_uri",
        ),
    ] {
        let err = match Gateway::build(Config::from_toml(&e.toml(tail)).unwrap()).await {
            Ok(_) => panic!("{tail}: started"),
            Err(err) => err.to_string(),
        };
        assert!(
            err.contains("entity_statement") && err.contains(other),
            "{tail}: {err}"
        );
    }
}

#[tokio::test]
async fn an_expired_or_tampered_statement_does_not_start() {
    let mut e = env().await;
    let claims = |exp: u64| {
        json!({
            "iss": e.broker.entity_id, "sub": e.broker.entity_id, "iat": exp - 100, "exp": exp,
            "jwks": {"keys": [e.broker.entity.public_jwk().unwrap()]},
            "metadata": {"openid_provider": {"issuer": e.op.issuer()}},
        })
    };
    let expired = sign(
        &e.broker.entity,
        "entity-statement+jwt",
        &claims(now() - 3600),
    );
    let tampered = {
        let good = e.statement.clone();
        let mut parts: Vec<&str> = good.split('.').collect();
        let other = sign(
            &e.broker.entity,
            "entity-statement+jwt",
            &claims(now() + 3600),
        );
        let payload = other.split('.').nth(1).unwrap().to_owned();
        parts[1] = &payload;
        parts.join(".")
    };
    for (statement, check) in [(expired, "expired"), (tampered, "bad signature")] {
        e.statement = statement;
        let err = match Gateway::build(Config::from_toml(&e.toml("")).unwrap()).await {
            Ok(_) => panic!("{check}: started"),
            Err(err) => err.to_string(),
        };
        assert!(err.contains(check), "{check}: {err}");
    }
}

/// The entity key's public half as an SPKI PEM file.
fn entity_pem(key: &SigningKey) -> String {
    use aws_lc_rs::encoding::AsDer;
    let jwk = key.public_jwk().unwrap();
    let n = relier_jose::b64::decode(jwk.n.as_deref().unwrap()).unwrap();
    let e = relier_jose::b64::decode(jwk.e.as_deref().unwrap()).unwrap();
    let public: aws_lc_rs::rsa::PublicEncryptingKey = aws_lc_rs::rsa::PublicKeyComponents { n, e }
        .try_into()
        .unwrap();
    let der = public.as_der().unwrap();
    let b64 = base64_std(der.as_ref());
    format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n")
}

fn base64_std(bytes: &[u8]) -> String {
    // Standard base64 with padding (RFC 4648 §4), from the base64url encoder.
    let mut s = relier_jose::b64::encode(bytes)
        .replace('-', "+")
        .replace('_', "/");
    while !s.len().is_multiple_of(4) {
        s.push('=');
    }
    s
}

#[tokio::test]
async fn entity_keys_with_discovery_take_keys_only_from_the_signed_jwks() {
    let e = env_for(Some(())).await;
    std::fs::write(e.dir.path().join("keys.pem"), entity_pem(&e.broker.entity)).unwrap();
    let signed = format!("{}/signed-jwks", url_base(&e));
    let toml = format!(
        r#"
public_url = "{PUBLIC}"
store = "sqlite://{db}"

[[providers]]
name = "bad"
issuer = "{iss}"
client_id = "{CLIENT_ID}"
client_secret = "s3cret-s3cret"
entity_keys = "{pem}"
signed_jwks_uri = "{signed}"
"#,
        db = e.dir.path().join("g.db").display(),
        iss = e.op.issuer(),
        pem = e.dir.path().join("keys.pem").display(),
    );
    let op_jwks_before = e.op.jwks_calls();
    let gw = Gateway::build(Config::from_toml(&toml).unwrap())
        .await
        .unwrap();
    let mut app = OneShot::new(gw.router());
    let r = login(&mut app).await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    assert!(e.broker.signed_calls.load(Ordering::SeqCst) >= 1);
    // The discovered jwks_uri (the OP's own) was never asked for.
    assert_eq!(e.op.jwks_calls(), op_jwks_before);
    // Without signed_jwks_uri the provider does not start.
    let without = toml.replace("signed_jwks_uri", "# signed_jwks_uri");
    let err = match Gateway::build(Config::from_toml(&without).unwrap()).await {
        Ok(_) => panic!("started without signed_jwks_uri"),
        Err(err) => err.to_string(),
    };
    assert!(err.contains("entity_keys needs signed_jwks_uri"), "{err}");
}

/// The stand-in's base URL (from the statement's signed_jwks_uri).
fn url_base(e: &Env) -> String {
    let payload = e.statement.split('.').nth(1).unwrap();
    let claims: Value =
        serde_json::from_slice(&relier_jose::b64::decode(payload).unwrap()).unwrap();
    claims["metadata"]["openid_provider"]["signed_jwks_uri"]
        .as_str()
        .unwrap()
        .trim_end_matches("/signed-jwks")
        .to_owned()
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_statement_expiring_within_30_days_starts_with_a_warning() {
    let mut e = env().await;
    let payload = e.statement.split('.').nth(1).unwrap();
    let mut claims: Value =
        serde_json::from_slice(&relier_jose::b64::decode(payload).unwrap()).unwrap();
    // 11 whole days and 23 hours: 11 however long the start takes.
    claims["exp"] = json!(now() + 12 * 86_400 - 3_600);
    e.statement = sign(&e.broker.entity, "entity-statement+jwt", &claims);
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut app = e.gateway("").await;
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let warning = logs
        .lines()
        .find(|l| l.contains("WARN") && l.contains("entity statement expires within 30 days"))
        .unwrap_or_else(|| panic!("no warning in {logs}"));
    assert!(
        warning.contains("provider=bad") && warning.contains("days_left=11"),
        "{warning}"
    );
    let r = login(&mut app).await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
}
