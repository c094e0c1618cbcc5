//! A GitHub stand-in (github.com's behaviour at an Enterprise Server layout: `/login/oauth/*`,
//! API at `/api/v3`), with GitHub's documented quirks:
//! - the token endpoint answers form-encoded unless the request sends
//!   `Accept: application/json`, and reports errors as HTTP 200 with an `error` member;
//! - the API answers 403 to a request without `User-Agent`;
//! - PKCE S256 is verified when the authorization request carried a challenge.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

/// The OAuth App's client id.
pub const CLIENT_ID: &str = "Iv1.standin";
/// Its client secret.
pub const CLIENT_SECRET: &str = "github-standin-secret";
const ACCESS_TOKEN: &str = "gho_standin";

/// What the stand-in answers.
#[derive(Debug, Clone)]
pub struct Knobs {
    /// `GET /user`.
    pub user: Value,
    /// `GET /user/emails`.
    pub emails: Value,
    /// The token endpoint answers HTTP 200 with this `error`.
    pub token_error: Option<String>,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            user: json!({"id": 583231, "login": "octocat", "name": "The Octocat", "email": null}),
            emails: json!([
                {"email": "old@example.com", "primary": false, "verified": true, "visibility": null},
                {"email": "octocat@example.com", "primary": true, "verified": true, "visibility": "private"},
            ]),
            token_error: None,
        }
    }
}

#[derive(Default)]
struct Inner {
    knobs: Mutex<Knobs>,
    /// code → (PKCE challenge, redirect_uri).
    codes: Mutex<HashMap<String, (Option<String>, String)>>,
    /// What went wrong on the RP's side (a request GitHub would refuse), for assertions.
    complaints: Mutex<Vec<String>>,
}

/// A running GitHub stand-in.
pub struct GitHub {
    url: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for GitHub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl GitHub {
    /// Starts on 127.0.0.1:0.
    pub async fn start() -> anyhow::Result<GitHub> {
        let inner = Arc::new(Inner::default());
        let state = inner.clone();
        let (addr, task) = super::serve(|_| {
            Router::new()
                .route("/login/oauth/authorize", get(authorize))
                .route("/login/oauth/access_token", post(token))
                .route("/api/v3/user", get(user))
                .route("/api/v3/user/emails", get(emails))
                .with_state(state)
        })
        .await?;
        Ok(GitHub {
            url: format!("http://{addr}"),
            inner,
            task,
        })
    }

    /// The `github_url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Changes the answers.
    pub fn set(&self, k: Knobs) {
        *self.inner.knobs.lock().unwrap() = k;
    }

    /// Requests GitHub would have refused (missing User-Agent, PKCE mismatch, …).
    pub fn complaints(&self) -> Vec<String> {
        self.inner.complaints.lock().unwrap().clone()
    }
}

fn complain(s: &Inner, what: &str) {
    s.complaints.lock().unwrap().push(what.to_owned());
}

async fn authorize(
    State(s): State<Arc<Inner>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return (StatusCode::NOT_FOUND, "unknown client_id").into_response();
    }
    let Some(redirect) = q.get("redirect_uri") else {
        return (StatusCode::BAD_REQUEST, "redirect_uri missing").into_response();
    };
    if q.contains_key("nonce") {
        complain(&s, "nonce sent to an OAuth 2.0 server");
    }
    let challenge = match (q.get("code_challenge"), q.get("code_challenge_method")) {
        (Some(c), Some(m)) if m == "S256" => Some(c.clone()),
        (None, None) => None,
        _ => return (StatusCode::BAD_REQUEST, "bad PKCE parameters").into_response(),
    };
    let code = format!("gh-code-{}", s.codes.lock().unwrap().len());
    s.codes
        .lock()
        .unwrap()
        .insert(code.clone(), (challenge, redirect.clone()));
    let mut url = url::Url::parse(redirect).unwrap();
    url.query_pairs_mut().append_pair("code", &code);
    if let Some(st) = q.get("state") {
        url.query_pairs_mut().append_pair("state", st);
    }
    Redirect::to(url.as_str()).into_response()
}

/// Form-encoded unless JSON is asked for; errors as HTTP 200.
fn answer(json_wanted: bool, members: &[(&str, &str)]) -> Response {
    if json_wanted {
        let obj: serde_json::Map<String, Value> = members
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect();
        Json(Value::Object(obj)).into_response()
    } else {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(members)
            .finish();
        (
            [(
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
            body,
        )
            .into_response()
    }
}

async fn token(State(s): State<Arc<Inner>>, headers: HeaderMap, body: String) -> Response {
    let json_wanted = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    if !json_wanted {
        complain(&s, "token request without Accept: application/json");
    }
    let f: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let fail = |e: &str| answer(json_wanted, &[("error", e), ("error_description", e)]);
    if let Some(e) = s.knobs.lock().unwrap().token_error.clone() {
        return fail(&e);
    }
    if f.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || f.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return fail("incorrect_client_credentials");
    }
    let Some((challenge, redirect)) = f
        .get("code")
        .and_then(|c| s.codes.lock().unwrap().remove(c))
    else {
        return fail("bad_verification_code");
    };
    if f.get("redirect_uri") != Some(&redirect) {
        return fail("redirect_uri_mismatch");
    }
    if let Some(ch) = challenge {
        let ok = f
            .get("code_verifier")
            .is_some_and(|v| super::pkce_ok(v, &ch));
        if !ok {
            complain(&s, "PKCE verification failed");
            return fail("bad_verification_code");
        }
    }
    answer(
        json_wanted,
        &[
            ("access_token", ACCESS_TOKEN),
            ("scope", "read:user,user:email"),
            ("token_type", "bearer"),
        ],
    )
}

/// `None` when GitHub would answer the request; else its refusal.
fn api_refusal(s: &Inner, headers: &HeaderMap) -> Option<Response> {
    if !headers.contains_key(header::USER_AGENT) {
        complain(s, "API request without User-Agent");
        return Some((
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).",
        )
            .into_response());
    }
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {ACCESS_TOKEN}")) {
        return Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"message": "Bad credentials"})),
            )
                .into_response(),
        );
    }
    None
}

async fn user(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if let Some(r) = api_refusal(&s, &headers) {
        return r;
    }
    Json(s.knobs.lock().unwrap().user.clone()).into_response()
}

async fn emails(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if let Some(r) = api_refusal(&s, &headers) {
        return r;
    }
    Json(s.knobs.lock().unwrap().emails.clone()).into_response()
}
