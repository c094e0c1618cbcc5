//! The application's own sessions and CSRF protection.
//!
//! A session is a random id (256 bits) in an `HttpOnly; SameSite=Lax` cookie (`__Host-example`
//! and `Secure` on https); the server keeps only its SHA-256 with the CSRF token and the
//! signed-in account (a link intent travels in relier's login state, see [`crate::hook`]). The sign-in page gets a *pre-session* (no account) so its
//! forms carry a CSRF token too; signing in always starts a new session (no fixation).
//!
//! Every state-changing POST goes through [`Posted`]: refused from a foreign `Origin` (or a
//! cross-site `Sec-Fetch-Site`), and without the session's CSRF token in the `csrf_token` form
//! field or the `X-CSRF-Token` header.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq as _;

use crate::App;
use crate::db::{AccountId, Db, SessionRow};
use crate::error::AppError;
use crate::pages;

/// How long a signed-in session lives.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// How long a pre-session (sign-in page, no account) lives.
pub const PRE_SESSION_TTL: Duration = Duration::from_secs(3600);
/// Largest form body accepted.
const MAX_FORM: usize = 16 * 1024;

/// The request's session.
#[derive(Debug, Clone)]
pub struct Current {
    /// SHA-256 of the session id (the row's key).
    pub id_hash: String,
    /// The stored row.
    pub row: SessionRow,
}

/// Creates, reads and ends sessions.
#[derive(Debug, Clone)]
pub struct Sessions {
    db: Db,
    cookie_name: &'static str,
    secure: bool,
}

fn random_token() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| AppError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn id_hash(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        id.as_bytes(),
    ))
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl Sessions {
    /// Sessions in `db`; `secure` for an https public URL.
    pub fn new(db: Db, secure: bool) -> Self {
        let cookie_name = if secure {
            "__Host-example"
        } else {
            "example_session"
        };
        Sessions {
            db,
            cookie_name,
            secure,
        }
    }

    /// The request's live session, if any.
    ///
    /// # Errors
    /// [`AppError::Db`].
    pub async fn current(&self, headers: &HeaderMap) -> Result<Option<Current>, AppError> {
        let Some(id) = cookie(headers, self.cookie_name).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let id_hash = id_hash(id);
        Ok(self
            .db
            .session(&id_hash)
            .await?
            .map(|row| Current { id_hash, row }))
    }

    /// Starts a new session (for `account`, or a pre-session), ending `replacing`: returns it
    /// with the `Set-Cookie` header to send.
    ///
    /// # Errors
    /// [`AppError::Db`], [`AppError::Random`].
    pub async fn start(
        &self,
        account: Option<AccountId>,
        replacing: Option<&Current>,
    ) -> Result<(Current, HeaderValue), AppError> {
        if let Some(old) = replacing {
            self.db.delete_session(&old.id_hash).await?;
        }
        let id = random_token()?;
        let csrf = random_token()?;
        let ttl = if account.is_some() {
            SESSION_TTL
        } else {
            PRE_SESSION_TTL
        };
        let hash = id_hash(&id);
        self.db.create_session(&hash, &csrf, account, ttl).await?;
        let cookie = self.cookie_header(&id, ttl.as_secs())?;
        let row = SessionRow {
            csrf_token: csrf,
            account,
        };
        Ok((Current { id_hash: hash, row }, cookie))
    }

    /// Ends `current`; returns the `Set-Cookie` header that clears the cookie.
    ///
    /// # Errors
    /// [`AppError::Db`].
    pub async fn end(&self, current: &Current) -> Result<HeaderValue, AppError> {
        self.db.delete_session(&current.id_hash).await?;
        self.cookie_header("", 0)
    }

    fn cookie_header(&self, value: &str, max_age: u64) -> Result<HeaderValue, AppError> {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            self.cookie_name
        ))
        .map_err(|_| AppError::Header)
    }
}

/// A state-changing POST that passed the origin and CSRF checks: its session and form fields.
#[derive(Debug)]
pub struct Posted {
    /// The session the CSRF token belongs to.
    pub session: Current,
    fields: Vec<(String, String)>,
}

impl Posted {
    /// A form field (the first of that name).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The signed-in account, if any.
    pub fn account(&self) -> Option<AccountId> {
        self.session.row.account
    }
}

fn refused(message: &str) -> Response {
    pages::message(StatusCode::FORBIDDEN, "Request refused", message)
}

/// Whether the request comes from another site: a foreign `Origin` (or `null`), or
/// `Sec-Fetch-Site: cross-site`.
fn cross_origin(headers: &HeaderMap, origin: &str) -> bool {
    let foreign_origin = headers
        .get(header::ORIGIN)
        .is_some_and(|o| o.as_bytes() != origin.as_bytes());
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|s| s.as_bytes() == b"cross-site");
    foreign_origin || cross_site
}

fn form_fields(headers: &HeaderMap, body: &[u8]) -> Vec<(String, String)> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Vec::new();
    }
    url::form_urlencoded::parse(body).into_owned().collect()
}

impl FromRequest<Arc<App>> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request<Body>, app: &Arc<App>) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        if cross_origin(&parts.headers, &app.origin) {
            return Err(refused("Cross-origin requests are refused."));
        }
        let body = axum::body::to_bytes(body, MAX_FORM)
            .await
            .map_err(|_| refused("The form is too large."))?;
        let fields = form_fields(&parts.headers, &body);
        let session = app
            .sessions
            .current(&parts.headers)
            .await
            .map_err(IntoResponse::into_response)?
            .ok_or_else(|| refused("Your session has expired. Reload the page and try again."))?;
        let sent = fields
            .iter()
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.as_str())
            .or_else(|| {
                parts
                    .headers
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok())
            })
            .unwrap_or_default();
        let expected = session.row.csrf_token.as_bytes();
        if sent.is_empty() || !bool::from(sent.as_bytes().ct_eq(expected)) {
            return Err(refused(
                "The form's security token is missing or stale. Reload the page and try again.",
            ));
        }
        Ok(Posted { session, fields })
    }
}
