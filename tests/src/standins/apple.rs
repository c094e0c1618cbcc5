//! A Sign in with Apple stand-in, with Apple's documented quirks (Apple developer
//! documentation, "Generate and validate tokens", "Incorporating Sign in with Apple into other
//! platforms"):
//! - discovery at the issuer, without a `userinfo_endpoint` (Apple has none), and
//!   `client_secret_post` as the only client authentication;
//! - the client secret is an ES256 JWT signed with the developer's `.p8` key: the token
//!   endpoint verifies its signature with the key's public half, `kid` = the key id, `iss` = the
//!   team id, `sub` = the client id (Services ID), `aud` = `https://appleid.apple.com`, `exp`
//!   in the future and at most 15777000 s after `iat`; anything else is `invalid_client`;
//! - with the `name` or `email` scope only `response_mode=form_post` is accepted, and the
//!   answer is an auto-submitting HTML form posting `code`, `state` and — on the first
//!   authorization only — `user` (JSON with the name) to the redirect URI;
//! - `email_verified` and `is_private_email` are the strings `"true"`/`"false"` in the ID token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use relier_jose::jws::UnverifiedJws;
use relier_jose::{Algorithm, SigningKey, VerifyingKey};
use serde_json::{Value, json};

use super::{now, sign};

/// The Services ID.
pub const CLIENT_ID: &str = "com.example.relier.web";
/// The developer team id.
pub const TEAM_ID: &str = "TEAM123456";
/// The id of the Sign in with Apple key.
pub const KEY_ID: &str = "KEY1234567";
/// The user's name the first authorization carries.
pub const FIRST_NAME: &str = "Ada";
/// See [`FIRST_NAME`].
pub const LAST_NAME: &str = "Lovelace";
/// The pairwise subject.
pub const SUB: &str = "001234.0123456789abcdef0123456789abcdef.1234";
const AUDIENCE: &str = "https://appleid.apple.com";
const MAX_SECRET_LIFETIME: u64 = 15_777_000;

/// What the next ID token says.
#[derive(Debug, Clone)]
pub struct Knobs {
    /// `email`.
    pub email: String,
    /// `email_verified`, a string as Apple sends it.
    pub email_verified: String,
    /// `is_private_email`, a string as Apple sends it.
    pub is_private_email: String,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            email: "ada@privaterelay.appleid.com".into(),
            email_verified: "true".into(),
            is_private_email: "true".into(),
        }
    }
}

struct Inner {
    base: String,
    /// Signs ID tokens.
    key: SigningKey,
    /// The public half of the developer's `.p8` key.
    client_key: VerifyingKey,
    knobs: Mutex<Knobs>,
    /// code → (nonce, redirect_uri).
    codes: Mutex<HashMap<String, (Option<String>, String)>>,
    /// Whether the user has authorized the client before (no `user` field then).
    authorized_before: Mutex<bool>,
    complaints: Mutex<Vec<String>>,
}

/// A running Sign in with Apple stand-in.
pub struct Apple {
    inner: Arc<Inner>,
    p8: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Apple {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Apple {
    /// Starts on 127.0.0.1:0, with a new developer key (see [`Apple::p8`]).
    pub async fn start() -> anyhow::Result<Apple> {
        let key = SigningKey::generate(Algorithm::RS256, None)?.with_kid("apple-1");
        let client = SigningKey::generate(Algorithm::ES256, None)?;
        let p8 = client.to_pkcs8_pem()?.to_string();
        let client_key = client.verifying_key()?;
        let (inner, task) = super::start(
            |base| Inner {
                base,
                key,
                client_key,
                knobs: Mutex::default(),
                codes: Mutex::default(),
                authorized_before: Mutex::default(),
                complaints: Mutex::default(),
            },
            Router::new()
                .route("/.well-known/openid-configuration", get(discovery))
                .route("/auth/keys", get(jwks))
                .route("/auth/authorize", get(authorize))
                .route("/auth/token", post(token)),
        )
        .await?;
        Ok(Apple { inner, p8, task })
    }

    /// The issuer.
    pub fn issuer(&self) -> &str {
        &self.inner.base
    }

    /// The developer's private key as Apple hands it out (`AuthKey_<KEY_ID>.p8`: PKCS#8 PEM).
    pub fn p8(&self) -> &str {
        &self.p8
    }

    /// Changes the next ID tokens.
    pub fn set(&self, k: Knobs) {
        *self.inner.knobs.lock().unwrap() = k;
    }

    /// Requests Apple would have refused (a bad client secret, a query response with scopes…).
    pub fn complaints(&self) -> Vec<String> {
        self.inner.complaints.lock().unwrap().clone()
    }
}

fn complain(s: &Inner, what: impl Into<String>) {
    s.complaints.lock().unwrap().push(what.into());
}

async fn discovery(State(s): State<Arc<Inner>>) -> Json<Value> {
    let b = &s.base;
    Json(json!({
        "issuer": b,
        "authorization_endpoint": format!("{b}/auth/authorize"),
        "token_endpoint": format!("{b}/auth/token"),
        "revocation_endpoint": format!("{b}/auth/revoke"),
        "jwks_uri": format!("{b}/auth/keys"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "name"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "claims_supported": ["aud", "email", "email_verified", "exp", "iat", "is_private_email", "iss", "nonce", "nonce_supported", "real_user_status", "sub", "transfer_sub"],
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
        return (StatusCode::BAD_REQUEST, "invalid_client").into_response();
    };
    let asks_user_data = q
        .get("scope")
        .is_some_and(|sc| sc.split(' ').any(|x| x == "name" || x == "email"));
    let form_post = q.get("response_mode").map(String::as_str) == Some("form_post");
    if asks_user_data && !form_post {
        complain(&s, "scope name/email without response_mode=form_post");
        return (StatusCode::BAD_REQUEST, "invalid_request: response_mode must be form_post when name or email scope is requested").into_response();
    }
    let code = {
        let mut codes = s.codes.lock().unwrap();
        let code = format!("apple-code-{}", codes.len());
        codes.insert(code.clone(), (q.get("nonce").cloned(), redirect.clone()));
        code
    };
    let mut fields = vec![("code".to_owned(), code)];
    if let Some(st) = q.get("state") {
        fields.push(("state".into(), st.clone()));
    }
    let first = !std::mem::replace(&mut *s.authorized_before.lock().unwrap(), true);
    if first && asks_user_data {
        let email = s.knobs.lock().unwrap().email.clone();
        let user =
            json!({"name": {"firstName": FIRST_NAME, "lastName": LAST_NAME}, "email": email});
        fields.push(("user".into(), user.to_string()));
    }
    Html(auto_post_form(redirect, &fields)).into_response()
}

/// The page Apple answers a form_post login with: a form the browser submits at once.
fn auto_post_form(action: &str, fields: &[(String, String)]) -> String {
    let inputs: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                escape(k),
                escape(v)
            )
        })
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><body onload=\"document.forms[0].submit()\">\n<form method=\"post\" action=\"{}\">\n{inputs}</form>\n</body></html>\n",
        escape(action)
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Apple, "Creating a client secret": the checks its token endpoint makes of the JWT.
fn client_secret_refusal(s: &Inner, secret: &str) -> Option<String> {
    let Ok(jws) = UnverifiedJws::parse(secret) else {
        return Some("client_secret is not a JWS".into());
    };
    if jws.header().kid.as_deref() != Some(KEY_ID) {
        return Some(format!("client secret kid {:?}", jws.header().kid));
    }
    let Ok(payload) = jws.verify(Algorithm::ES256, &s.client_key) else {
        return Some("client secret: not an ES256 signature of the developer key".into());
    };
    let Ok(c) = serde_json::from_slice::<Value>(payload) else {
        return Some("client secret claims are not JSON".into());
    };
    let now = now();
    let (iat, exp) = (c["iat"].as_u64(), c["exp"].as_u64());
    let problem = if c["iss"] != TEAM_ID {
        "iss is not the team id"
    } else if c["sub"] != CLIENT_ID {
        "sub is not the client id"
    } else if c["aud"] != AUDIENCE {
        "aud is not https://appleid.apple.com"
    } else if exp.is_none_or(|e| e <= now) {
        "exp is not in the future"
    } else if !matches!((iat, exp), (Some(i), Some(e)) if i <= now + 60 && e.saturating_sub(i) <= MAX_SECRET_LIFETIME)
    {
        "iat in the future, or exp more than 15777000 s after iat"
    } else {
        return None;
    };
    Some(format!("client secret: {problem}"))
}

async fn token(State(s): State<Arc<Inner>>, body: String) -> Response {
    let f: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let fail = |e: &str| (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))).into_response();
    if f.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        complain(&s, "token request without the client id");
        return fail("invalid_client");
    }
    if let Some(why) = f
        .get("client_secret")
        .map_or(Some("no client_secret".into()), |c| {
            client_secret_refusal(&s, c)
        })
    {
        complain(&s, why);
        return fail("invalid_client");
    }
    if f.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return fail("unsupported_grant_type");
    }
    let Some((nonce, redirect)) = f
        .get("code")
        .and_then(|c| s.codes.lock().unwrap().remove(c))
    else {
        return fail("invalid_grant");
    };
    if f.get("redirect_uri") != Some(&redirect) {
        return fail("invalid_grant");
    }
    let k = s.knobs.lock().unwrap().clone();
    let now = now();
    let mut claims = json!({
        "iss": s.base,
        "aud": CLIENT_ID,
        "exp": now + 600,
        "iat": now,
        "sub": SUB,
        "email": k.email,
        "email_verified": k.email_verified,
        "is_private_email": k.is_private_email,
        "auth_time": now,
        "nonce_supported": true,
        "real_user_status": 2,
    });
    if let Some(n) = nonce {
        claims["nonce"] = Value::String(n);
    }
    let idt = sign(&s.key, &claims, None);
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "access_token": "apple-access-token",
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": "apple-refresh-token",
            "id_token": idt,
        })),
    )
        .into_response()
}
