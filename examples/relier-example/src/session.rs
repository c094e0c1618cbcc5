//! The application's own sessions and CSRF protection.
//!
//! A session is a random id (256 bits) in an `HttpOnly; SameSite=Lax` cookie (`__Host-example`
//! and `Secure` on https); the server keeps only its SHA-256 with the CSRF token and the
//! signed-in account (a link intent travels in relier's login state, see [`crate::hook`]). Only
//! signing in creates a session (always a new one: no fixation); a visitor without one gets a
//! signed double-submit CSRF token ([`crate::csrf`]) in a cookie and in the forms, so that an
//! anonymous page view writes nothing.
//!
//! Every state-changing POST goes through [`Posted`] (a session's own forms: 401 without a
//! session) or [`SignInForm`] (the forms a visitor without a session may send): refused from a foreign `Origin` (or a
//! cross-site `Sec-Fetch-Site`), and without the right CSRF token in the `csrf_token` form
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
use crate::csrf::{CsrfKey, TOKEN_TTL};
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
    csrf: CsrfKey,
    csrf_cookie: &'static str,
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
    /// Sessions in `db`; `secure` for an https public URL; `csrf` signs the tokens of
    /// visitors without a session.
    pub fn new(db: Db, secure: bool, csrf: CsrfKey) -> Self {
        let (cookie_name, csrf_cookie) = if secure {
            ("__Host-example", "__Host-example-csrf")
        } else {
            ("example_session", "example_csrf")
        };
        Sessions {
            db,
            cookie_name,
            secure,
            csrf,
            csrf_cookie,
        }
    }

    /// The CSRF token for the forms of a visitor without a session: the one in the request's
    /// cookie while it is valid, else a new one with the `Set-Cookie` header that stores it.
    /// Nothing is written to the database.
    ///
    /// # Errors
    /// [`AppError::Random`], [`AppError::Header`].
    pub fn visitor_csrf(
        &self,
        headers: &HeaderMap,
    ) -> Result<(String, Option<HeaderValue>), AppError> {
        if let Some(t) = cookie(headers, self.csrf_cookie).filter(|t| self.csrf.valid(t)) {
            return Ok((t.to_owned(), None));
        }
        let token = self.csrf.mint()?;
        let set = self.named_cookie(self.csrf_cookie, &token, TOKEN_TTL.as_secs())?;
        Ok((token, Some(set)))
    }

    /// Whether `sent` is a visitor's valid token and equals the one in its cookie (double
    /// submit; compared in constant time).
    fn visitor_token_ok(&self, headers: &HeaderMap, sent: &str) -> bool {
        let Some(stored) = cookie(headers, self.csrf_cookie) else {
            return false;
        };
        !sent.is_empty()
            && bool::from(sent.as_bytes().ct_eq(stored.as_bytes()))
            && self.csrf.valid(sent)
    }

    /// The request's live signed-in session, if any (a row without an account, left by an
    /// older version that stored sessions for visitors, is ignored until it expires).
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
            .filter(|row| row.account.is_some())
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
        self.named_cookie(self.cookie_name, value, max_age)
    }

    fn named_cookie(&self, name: &str, value: &str, max_age: u64) -> Result<HeaderValue, AppError> {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
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
        find(&self.fields, name)
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

/// A checked POST: its session (if any), its form fields and the CSRF token it carried.
struct Checked {
    session: Option<Current>,
    fields: Vec<(String, String)>,
    token: String,
}

/// Refuses a cross-origin request, reads the form and the request's session, and checks the
/// CSRF token: the session's when there is one (then only that one), else — when `visitors`
/// — a visitor's signed double-submit token.
async fn check(req: Request<Body>, app: &App, visitors: bool) -> Result<Checked, Response> {
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
        .map_err(IntoResponse::into_response)?;
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
        .unwrap_or_default()
        .to_owned();
    let ok = match &session {
        Some(s) => {
            !sent.is_empty() && bool::from(sent.as_bytes().ct_eq(s.row.csrf_token.as_bytes()))
        }
        None if visitors => app.sessions.visitor_token_ok(&parts.headers, &sent),
        // Nothing a forged request could change: say so.
        None => {
            return Err(pages::message(
                StatusCode::UNAUTHORIZED,
                "Not signed in",
                "Sign in first.",
            ));
        }
    };
    if !ok {
        return Err(refused(
            "The form's security token is missing or stale. Reload the page and try again.",
        ));
    }
    Ok(Checked {
        session,
        fields,
        token: sent,
    })
}

fn find<'f>(fields: &'f [(String, String)], name: &str) -> Option<&'f str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

impl FromRequest<Arc<App>> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request<Body>, app: &Arc<App>) -> Result<Self, Response> {
        let c = check(req, app, false).await?;
        let session = c
            .session
            .ok_or_else(|| refused("Your session has expired."))?;
        Ok(Posted {
            session,
            fields: c.fields,
        })
    }
}

/// A sign-in form's POST (sign up, sign in, first login), which a visitor without a session
/// may send: it passed the origin and CSRF checks.
#[derive(Debug)]
pub struct SignInForm {
    /// The request's session, if it has one.
    pub session: Option<Current>,
    /// The CSRF token it carried: the one to put in a page shown in response.
    pub csrf: String,
    fields: Vec<(String, String)>,
}

impl SignInForm {
    /// A form field (the first of that name).
    pub fn field(&self, name: &str) -> Option<&str> {
        find(&self.fields, name)
    }
}

impl FromRequest<Arc<App>> for SignInForm {
    type Rejection = Response;

    async fn from_request(req: Request<Body>, app: &Arc<App>) -> Result<Self, Response> {
        let c = check(req, app, true).await?;
        Ok(SignInForm {
            session: c.session,
            csrf: c.token,
            fields: c.fields,
        })
    }
}
