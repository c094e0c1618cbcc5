//! GitHub as a login provider. GitHub is an OAuth 2.0 authorization server, **not** an OpenID
//! Connect provider: there is no discovery document, no ID token and no UserInfo endpoint. The
//! identity comes from the REST API (`GET /user`, `GET /user/emails`) called with the access
//! token. This module builds those requests and consumes their responses as values; the
//! `relier` crate drives them over HTTP.
//!
//! GitHub's quirks, each handled here:
//! - The token endpoint answers `application/x-www-form-urlencoded` unless the request asks
//!   for JSON with `Accept: application/json`, and reports errors as **HTTP 200** with an
//!   `error` member
//!   (<https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#2-users-are-redirected-back-to-your-site-by-github>,
//!   <https://docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors>).
//! - The REST API refuses requests without a `User-Agent`
//!   (<https://docs.github.com/en/rest/using-the-rest-api/getting-started-with-the-rest-api#user-agent>).
//! - A login can be renamed, and the old one registered by someone else: the subject is the
//!   numeric user id, never the login
//!   (<https://docs.github.com/en/rest/users/users#get-the-authenticated-user>).
//! - The e-mail is the primary address only if GitHub marked it verified
//!   (<https://docs.github.com/en/rest/users/emails#list-email-addresses-for-the-authenticated-user>).
//! - GitHub Enterprise Server serves `{url}/login/oauth/*` and its API at `{url}/api/v3`
//!   (<https://docs.github.com/en/enterprise-server@latest/rest/quickstart>).

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::http::{HttpRequest, HttpResponse, MAX_BODY_BYTES};
use crate::secret::Secret;
use crate::token::{TokenError, TokenResponse};
use crate::types::{InvalidValue, IssuerUrl, parse_secure_url};

/// github.com.
pub const GITHUB_COM: &str = "https://github.com";
/// github.com's API (Enterprise Server: `{github_url}/api/v3`).
pub const GITHUB_COM_API: &str = "https://api.github.com";
/// The REST API version requested (`X-GitHub-Api-Version`).
pub const API_VERSION: &str = "2022-11-28";
/// The scopes a login needs: the profile (read-only) and the e-mail addresses.
pub const DEFAULT_SCOPES: [&str; 2] = ["read:user", "user:email"];
const USER_AGENT: &str = concat!("relier/", env!("CARGO_PKG_VERSION"));

/// Why a GitHub API answer was refused. Messages never carry tokens.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitHubError {
    /// The API answered with a non-2xx status.
    #[error("github: {endpoint} answered HTTP {status}{}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        /// `/user` or `/user/emails`.
        endpoint: &'static str,
        /// HTTP status.
        status: u16,
        /// GitHub's `message`, if any.
        message: Option<String>,
    },
    /// The body is not what the API documents.
    #[error("github: {endpoint}: invalid response: {reason}")]
    InvalidResponse {
        /// `/user` or `/user/emails`.
        endpoint: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Where a GitHub (github.com or Enterprise Server) lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubEndpoints {
    /// The identity's issuer: `github_url` as configured, without a trailing `/`.
    pub issuer: IssuerUrl,
    /// `{github_url}/login/oauth/authorize`.
    pub authorization: String,
    /// `{github_url}/login/oauth/access_token`.
    pub token: String,
    /// `https://api.github.com` for github.com, else `{github_url}/api/v3`.
    pub api: String,
}

impl GitHubEndpoints {
    /// The endpoints of the GitHub at `github_url` (https, or http on loopback).
    ///
    /// # Errors
    /// `github_url` is not an acceptable URL.
    pub fn new(github_url: &str) -> Result<Self, InvalidValue> {
        let base = github_url.trim_end_matches('/');
        parse_secure_url("github_url", base)?;
        let api = if base == GITHUB_COM {
            GITHUB_COM_API.to_owned()
        } else {
            format!("{base}/api/v3")
        };
        Ok(Self {
            issuer: IssuerUrl::new(base)?,
            authorization: format!("{base}/login/oauth/authorize"),
            token: format!("{base}/login/oauth/access_token"),
            api,
        })
    }

    /// `GET /user` with the access token.
    pub fn user_request(&self, access_token: &Secret) -> HttpRequest {
        api_get(format!("{}/user", self.api), access_token)
    }

    /// `GET /user/emails` with the access token (scope `user:email`).
    pub fn emails_request(&self, access_token: &Secret) -> HttpRequest {
        api_get(format!("{}/user/emails", self.api), access_token)
    }
}

fn api_get(url: String, access_token: &Secret) -> HttpRequest {
    let mut req = HttpRequest::get(url, "application/vnd.github+json");
    req.headers.extend([
        (
            "authorization".to_owned(),
            format!("Bearer {}", access_token.expose()),
        ),
        ("user-agent".to_owned(), USER_AGENT.to_owned()),
        ("x-github-api-version".to_owned(), API_VERSION.to_owned()),
    ]);
    req
}

/// Makes a token request ask for JSON (GitHub answers form-encoded otherwise).
pub fn accept_json(req: &mut HttpRequest) {
    req.headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case("accept"));
    req.headers
        .push(("accept".to_owned(), "application/json".to_owned()));
}

/// Parses GitHub's token response: an `error` member is an error even with HTTP 200.
///
/// # Errors
/// [`TokenError::OAuth`] for an `error` member at any status; what
/// [`TokenResponse::from_response`] refuses otherwise, including a form-encoded body (the
/// request did not ask for JSON).
pub fn parse_token_response(resp: &HttpResponse) -> Result<TokenResponse, TokenError> {
    if resp.media_type().as_deref() == Some("application/x-www-form-urlencoded") {
        return Err(TokenError::InvalidResponse {
            endpoint: "token",
            reason: "form-encoded answer: the request must send Accept: application/json".into(),
        });
    }
    if resp.is_success()
        && let Ok(e) = serde_json::from_slice::<crate::token::OAuthErrorBody>(&resp.body)
    {
        return Err(TokenError::OAuth {
            endpoint: "token",
            status: resp.status,
            error: e.error,
            description: e.error_description,
        });
    }
    TokenResponse::from_response(resp)
}

/// The authenticated user (`GET /user`), the members relier uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubUser {
    /// The numeric id: stable for the account's life.
    pub id: u64,
    /// The login (can be renamed).
    pub login: String,
    /// The profile name, if set.
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct RawUser {
    id: Option<Value>,
    login: Option<Value>,
    name: Option<Value>,
}

#[derive(Deserialize)]
struct RawEmail {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

fn json_body<T: serde::de::DeserializeOwned>(
    endpoint: &'static str,
    resp: &HttpResponse,
) -> Result<T, GitHubError> {
    if !resp.is_success() {
        let message = serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned));
        return Err(GitHubError::Status {
            endpoint,
            status: resp.status,
            message,
        });
    }
    let invalid = |reason: String| GitHubError::InvalidResponse { endpoint, reason };
    if resp.body.len() > MAX_BODY_BYTES {
        return Err(invalid(format!("body larger than {MAX_BODY_BYTES} bytes")));
    }
    serde_json::from_slice(&resp.body).map_err(|e| invalid(e.to_string()))
}

impl GitHubUser {
    /// Parses `GET /user`.
    ///
    /// # Errors
    /// Non-2xx, or `id` not a non-negative integer, or `login` not a non-empty string.
    pub fn from_response(resp: &HttpResponse) -> Result<Self, GitHubError> {
        const EP: &str = "/user";
        let raw: RawUser = json_body(EP, resp)?;
        let invalid = |reason: &str| GitHubError::InvalidResponse {
            endpoint: EP,
            reason: reason.to_owned(),
        };
        let id = raw
            .id
            .as_ref()
            .and_then(Value::as_u64)
            .ok_or_else(|| invalid("id is missing or not a non-negative integer"))?;
        let login = match raw.login {
            Some(Value::String(s)) if !s.is_empty() => s,
            _ => return Err(invalid("login is missing or not a string")),
        };
        let name = match raw.name {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        Ok(Self { id, login, name })
    }
}

/// The primary address of `GET /user/emails` if it is verified; `None` otherwise (an
/// unverified address is anyone's claim, and a secondary one is not the user's choice).
///
/// # Errors
/// Non-2xx (e.g. the token lacks the `user:email` scope) or not the documented array.
pub fn primary_verified_email(resp: &HttpResponse) -> Result<Option<String>, GitHubError> {
    let emails: Vec<RawEmail> = json_body("/user/emails", resp)?;
    Ok(emails
        .into_iter()
        .find(|e| e.primary && e.verified)
        .map(|e| e.email))
}

/// A GitHub login's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubIdentity {
    /// `github_url`.
    pub issuer: String,
    /// The user.
    pub user: GitHubUser,
    /// The primary verified address, if any.
    pub email: Option<String>,
}

impl GitHubIdentity {
    /// The subject: the numeric user id as a string (never the login).
    pub fn sub(&self) -> String {
        self.user.id.to_string()
    }

    /// OIDC-shaped claims: `iss`, `sub` (the id), `preferred_username` (the login), `name`,
    /// and `email` with `email_verified: true` only for the primary verified address.
    pub fn claims(&self) -> Map<String, Value> {
        let mut c = Map::new();
        c.insert("iss".into(), Value::String(self.issuer.clone()));
        c.insert("sub".into(), Value::String(self.sub()));
        c.insert(
            "preferred_username".into(),
            Value::String(self.user.login.clone()),
        );
        if let Some(n) = &self.user.name {
            c.insert("name".into(), Value::String(n.clone()));
        }
        if let Some(e) = &self.email {
            c.insert("email".into(), Value::String(e.clone()));
            c.insert("email_verified".into(), Value::Bool(true));
        }
        c
    }
}

#[cfg(test)]
mod tests;
