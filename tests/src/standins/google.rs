//! A Google stand-in (<https://developers.google.com/identity/openid-connect/openid-connect>):
//! discovery at the issuer, a UserInfo endpoint, ID tokens whose `email_verified` is a JSON
//! boolean and which carry `hd` only for a Google Workspace account ("The domain associated
//! with the Google Workspace or Cloud organization of the user. Provided only if the user
//! belongs to a Google Cloud organization"). Knobs choose the e-mail and `hd`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use relier_jose::{Algorithm, SigningKey};
use serde_json::{Value, json};

use super::{now, sign};

/// The OAuth client id.
pub const CLIENT_ID: &str = "1234-standin.apps.googleusercontent.com";
/// Its client secret.
pub const CLIENT_SECRET: &str = "google-standin-secret";

/// Who the next login is.
#[derive(Debug, Clone)]
pub struct Knobs {
    /// `email`.
    pub email: String,
    /// `hd`: `None` for a consumer account.
    pub hd: Option<String>,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            email: "ada@example.com".into(),
            hd: Some("example.com".into()),
        }
    }
}

struct Inner {
    base: String,
    key: SigningKey,
    knobs: Mutex<Knobs>,
    nonce: Mutex<Option<String>>,
}

/// A running Google stand-in.
pub struct Google {
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Google {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Google {
    /// Starts on 127.0.0.1:0.
    pub async fn start() -> anyhow::Result<Google> {
        let key = SigningKey::generate(Algorithm::RS256, None)?.with_kid("google-1");
        let (inner, task) = super::start(
            |base| Inner {
                base,
                key,
                knobs: Mutex::default(),
                nonce: Mutex::default(),
            },
            Router::new()
                .route("/.well-known/openid-configuration", get(discovery))
                .route("/oauth2/v3/certs", get(jwks))
                .route("/o/oauth2/v2/auth", get(authorize))
                .route("/token", post(token))
                .route("/v1/userinfo", get(userinfo)),
        )
        .await?;
        Ok(Google { inner, task })
    }

    /// The issuer.
    pub fn issuer(&self) -> &str {
        &self.inner.base
    }

    /// Changes who logs in next.
    pub fn set(&self, k: Knobs) {
        *self.inner.knobs.lock().unwrap() = k;
    }
}

async fn discovery(State(s): State<Arc<Inner>>) -> Json<Value> {
    let b = &s.base;
    Json(json!({
        "issuer": b,
        "authorization_endpoint": format!("{b}/o/oauth2/v2/auth"),
        "token_endpoint": format!("{b}/token"),
        "userinfo_endpoint": format!("{b}/v1/userinfo"),
        "jwks_uri": format!("{b}/oauth2/v3/certs"),
        "response_types_supported": ["code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token", "none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "name", "picture", "sub"],
        "code_challenge_methods_supported": ["plain", "S256"],
    }))
}

async fn jwks(State(s): State<Arc<Inner>>) -> Json<Value> {
    Json(json!({ "keys": [s.key.public_jwk().unwrap()] }))
}

async fn authorize(
    State(s): State<Arc<Inner>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (Some(CLIENT_ID), Some(redirect)) = (
        q.get("client_id").map(String::as_str),
        q.get("redirect_uri"),
    ) else {
        return (StatusCode::BAD_REQUEST, "Error 401: invalid_client").into_response();
    };
    *s.nonce.lock().unwrap() = q.get("nonce").cloned();
    let mut url = url::Url::parse(redirect).unwrap();
    url.query_pairs_mut().append_pair("code", "google-code");
    if let Some(st) = q.get("state") {
        url.query_pairs_mut().append_pair("state", st);
    }
    Redirect::to(url.as_str()).into_response()
}

/// The identity claims of the next login.
fn identity(k: &Knobs) -> Value {
    let mut c = json!({
        "sub": "110169484474386276334",
        "email": k.email,
        "email_verified": true,
        "name": "Ada Lovelace",
    });
    if let Some(hd) = &k.hd {
        c["hd"] = json!(hd);
    }
    c
}

async fn token(State(s): State<Arc<Inner>>) -> Response {
    let now = now();
    let mut claims = identity(&s.knobs.lock().unwrap());
    for (k, v) in [
        ("iss", json!(s.base)),
        ("aud", json!(CLIENT_ID)),
        ("azp", json!(CLIENT_ID)),
        ("iat", json!(now)),
        ("exp", json!(now + 3600)),
        ("nonce", json!(s.nonce.lock().unwrap().clone())),
    ] {
        claims[k] = v;
    }
    Json(json!({
        "access_token": "ya29.standin",
        "expires_in": 3599,
        "scope": "openid https://www.googleapis.com/auth/userinfo.email",
        "token_type": "Bearer",
        "id_token": sign(&s.key, &claims, None),
    }))
    .into_response()
}

async fn userinfo(State(s): State<Arc<Inner>>) -> Json<Value> {
    Json(identity(&s.knobs.lock().unwrap()))
}
