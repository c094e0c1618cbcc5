//! A claims provider for aggregated and distributed claims (OIDC Core §5.6.2): an issuer of
//! its own (discovery and JWKS, its key ES256) that signs claims JWTs for an OP to aggregate,
//! and a distributed claims endpoint (`/claims`) that wants its own access token and answers
//! as the knobs say — JSON, a signed JWT, a body too large, or too late.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use relier_jose::{Algorithm, SigningKey};
use serde_json::{Value, json};

use super::sign;

/// The access token `/claims` wants.
pub const ACCESS_TOKEN: &str = "distributed-claims-token";

/// How `/claims` answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// These claims as JSON.
    Json(Value),
    /// These claims as a JWT signed by this issuer (`application/jwt`).
    Jwt(Value),
    /// A JSON body of this many bytes.
    Large(usize),
    /// The claims as JSON, after this long.
    Slow(Duration, Value),
}

struct Inner {
    base: String,
    key: SigningKey,
    /// `id_token_signing_alg_values_supported`.
    algs: Mutex<Vec<String>>,
    answer: Mutex<Answer>,
    /// The `Authorization` header of each request to `/claims`.
    seen: Mutex<Vec<Option<String>>>,
}

/// A running claims provider.
pub struct ClaimsProvider {
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ClaimsProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ClaimsProvider {
    /// Starts on 127.0.0.1:0, publishing ES256.
    pub async fn start() -> anyhow::Result<ClaimsProvider> {
        let key = SigningKey::generate(Algorithm::ES256, None)?.with_kid("claims-1");
        let (inner, task) = super::start(
            |base| Inner {
                base,
                key,
                algs: Mutex::new(vec!["ES256".into()]),
                answer: Mutex::new(Answer::Json(json!({}))),
                seen: Mutex::default(),
            },
            Router::new()
                .route("/.well-known/openid-configuration", get(discovery))
                .route("/jwks", get(jwks))
                .route("/claims", get(claims)),
        )
        .await?;
        Ok(ClaimsProvider { inner, task })
    }

    /// The issuer.
    pub fn issuer(&self) -> &str {
        &self.inner.base
    }

    /// The distributed claims endpoint.
    pub fn endpoint(&self) -> String {
        format!("{}/claims", self.inner.base)
    }

    /// Sets `id_token_signing_alg_values_supported`.
    pub fn publish_algs(&self, algs: &[&str]) {
        *self.inner.algs.lock().unwrap() = algs.iter().map(|a| (*a).to_owned()).collect();
    }

    /// How `/claims` answers from now on.
    pub fn answer(&self, a: Answer) {
        *self.inner.answer.lock().unwrap() = a;
    }

    /// `claims` with this issuer's `iss`, signed with its key.
    pub fn jwt(&self, claims: &Value) -> String {
        sign(&self.inner.key, &self.with_iss(claims), None)
    }

    /// `claims` with this issuer's `iss`, signed with a key it does not publish.
    pub fn jwt_with_another_key(&self, claims: &Value) -> String {
        let other = SigningKey::generate(Algorithm::ES256, None)
            .unwrap()
            .with_kid("claims-1");
        sign(&other, &self.with_iss(claims), None)
    }

    /// `claims` with this issuer's `iss`, unsigned (`alg: none`).
    pub fn unsigned_jwt(&self, claims: &Value) -> String {
        format!(
            "{}.{}.",
            relier_jose::b64::encode(br#"{"alg":"none","typ":"JWT"}"#),
            relier_jose::b64::encode(self.with_iss(claims).to_string().as_bytes())
        )
    }

    /// The `Authorization` headers `/claims` saw.
    pub fn seen(&self) -> Vec<Option<String>> {
        self.inner.seen.lock().unwrap().clone()
    }

    fn with_iss(&self, claims: &Value) -> Value {
        let mut c = claims.clone();
        c["iss"] = json!(self.inner.base);
        c
    }
}

async fn discovery(State(s): State<Arc<Inner>>) -> Json<Value> {
    let b = &s.base;
    Json(json!({
        "issuer": b,
        "authorization_endpoint": format!("{b}/authorize"),
        "jwks_uri": format!("{b}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": *s.algs.lock().unwrap(),
    }))
}

async fn jwks(State(s): State<Arc<Inner>>) -> Json<Value> {
    Json(json!({ "keys": [s.key.public_jwk().unwrap()] }))
}

async fn claims(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    s.seen.lock().unwrap().push(auth.clone());
    if auth.as_deref() != Some(&format!("Bearer {ACCESS_TOKEN}")) {
        return (StatusCode::UNAUTHORIZED, "invalid_token").into_response();
    }
    let answer = s.answer.lock().unwrap().clone();
    match answer {
        Answer::Json(v) => Json(v).into_response(),
        Answer::Jwt(v) => {
            let mut c = v;
            c["iss"] = json!(s.base);
            (
                [(header::CONTENT_TYPE, "application/jwt")],
                sign(&s.key, &c, None),
            )
                .into_response()
        }
        Answer::Large(n) => (
            [(header::CONTENT_TYPE, "application/json")],
            format!("{{\"pad\":\"{}\"}}", "x".repeat(n)),
        )
            .into_response(),
        Answer::Slow(d, v) => {
            tokio::time::sleep(d).await;
            Json(v).into_response()
        }
    }
}
