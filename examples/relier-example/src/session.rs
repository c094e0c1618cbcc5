//! Who is signed in, and the CSRF checks of every form.
//!
//! There is one session: relier's. A provider login or a password sign-in
//! ([`relier_gateway::Gateway::start_local_session`]) starts it; the signed-in account is its
//! application data ([`SignedIn`], sealed in relier's store), put there by the login hook
//! ([`crate::hook`]), by the password sign-in, or by the first-login page
//! ([`relier_gateway::Gateway::set_app_data`]). A relier session without it is a provider
//! login whose identity no account has yet (the first-login page's case). Signing out is
//! relier's `POST /auth/logout`.
//!
//! Every state-changing POST goes through [`Posted`] (a signed-in account's forms: 401
//! without one) or [`SignInForm`] (the forms a visitor may send): refused from a foreign
//! `Origin` (or a cross-site `Sec-Fetch-Site`), and without the right CSRF token in the
//! `csrf_token` form field or the `X-CSRF-Token` header — the relier session's token when the
//! request has a session, else a visitor's signed double-submit token ([`crate::csrf`]), so
//! that an anonymous page view writes nothing.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, OptionalFromRequestParts, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use relier_gateway::embed::{AppSlot, Identity};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use crate::App;
use crate::csrf::{CsrfKey, TOKEN_TTL};
use crate::db::AccountId;
use crate::error::AppError;
use crate::pages;

/// Largest form body accepted.
const MAX_FORM: usize = 16 * 1024;

/// What the application keeps on relier's session: the signed-in account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    /// The local account.
    pub account: AccountId,
}

impl SignedIn {
    /// The session data that signs `account` in.
    ///
    /// # Errors
    /// [`AppError::AppData`] (not for an account id: far below the size cap).
    pub fn slot(account: AccountId) -> Result<AppSlot, AppError> {
        Ok(AppSlot::with(&SignedIn { account })?)
    }
}

/// The account the relier session `who` is signed in to, if any. Data that does not read as
/// [`SignedIn`] (another version's) counts as none.
pub fn account_of(who: &Identity) -> Option<AccountId> {
    match who.app_data::<SignedIn>() {
        Ok(s) => s.map(|s| s.account),
        Err(e) => {
            tracing::warn!(error = %e, "session data ignored");
            None
        }
    }
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

/// The CSRF tokens of visitors without a session: signed, in a cookie and in the forms.
#[derive(Debug, Clone)]
pub struct Visitors {
    secure: bool,
    csrf: CsrfKey,
    cookie: &'static str,
}

impl Visitors {
    /// `secure` for an https public URL; `csrf` signs the tokens.
    pub fn new(secure: bool, csrf: CsrfKey) -> Self {
        let cookie = if secure {
            "__Host-example-csrf"
        } else {
            "example_csrf"
        };
        Visitors {
            secure,
            csrf,
            cookie,
        }
    }

    /// The CSRF token for the forms of a visitor without a session: the one in the request's
    /// cookie while it is valid, else a new one with the `Set-Cookie` header that stores it.
    /// Nothing is written to any database.
    ///
    /// # Errors
    /// [`AppError::Random`], [`AppError::Header`].
    pub fn csrf(&self, headers: &HeaderMap) -> Result<(String, Option<HeaderValue>), AppError> {
        if let Some(t) = cookie(headers, self.cookie).filter(|t| self.csrf.valid(t)) {
            return Ok((t.to_owned(), None));
        }
        let token = self.csrf.mint()?;
        let secure = if self.secure { "; Secure" } else { "" };
        let set = HeaderValue::from_str(&format!(
            "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            self.cookie,
            TOKEN_TTL.as_secs()
        ))
        .map_err(|_| AppError::Header)?;
        Ok((token, Some(set)))
    }

    /// Whether `sent` is a visitor's valid token and equals the one in its cookie (double
    /// submit; compared in constant time).
    fn token_ok(&self, headers: &HeaderMap, sent: &str) -> bool {
        let Some(stored) = cookie(headers, self.cookie) else {
            return false;
        };
        !sent.is_empty()
            && bool::from(sent.as_bytes().ct_eq(stored.as_bytes()))
            && self.csrf.valid(sent)
    }
}

/// A state-changing POST of a signed-in account that passed the origin and CSRF checks.
#[derive(Debug)]
pub struct Posted {
    /// The signed-in account.
    pub account: AccountId,
    fields: Vec<(String, String)>,
}

impl Posted {
    /// A form field (the first of that name).
    pub fn field(&self, name: &str) -> Option<&str> {
        find(&self.fields, name)
    }
}

fn refused(message: &str) -> Response {
    pages::message(StatusCode::FORBIDDEN, "Request refused", message)
}

fn not_signed_in() -> Response {
    pages::message(StatusCode::UNAUTHORIZED, "Not signed in", "Sign in first.")
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

/// A checked POST: its relier session (if any), headers, form fields and the CSRF token it
/// carried.
struct Checked {
    who: Option<Identity>,
    headers: HeaderMap,
    fields: Vec<(String, String)>,
    token: String,
}

/// Refuses a cross-origin request, reads the request's relier session and form, and checks
/// the CSRF token: the session's when there is one (then only that one), else — when
/// `visitors` — a visitor's signed double-submit token.
async fn check(req: Request<Body>, app: &Arc<App>, visitors: bool) -> Result<Checked, Response> {
    let (mut parts, body) = req.into_parts();
    if cross_origin(&parts.headers, &app.origin) {
        return Err(refused("Cross-origin requests are refused."));
    }
    let who = <Identity as OptionalFromRequestParts<Arc<App>>>::from_request_parts(&mut parts, app)
        .await?;
    let body = axum::body::to_bytes(body, MAX_FORM)
        .await
        .map_err(|_| refused("The form is too large."))?;
    let fields = form_fields(&parts.headers, &body);
    let sent = find(&fields, "csrf_token")
        .or_else(|| {
            parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
        })
        .unwrap_or_default()
        .to_owned();
    let ok = match &who {
        Some(w) => !sent.is_empty() && bool::from(sent.as_bytes().ct_eq(w.csrf_token().as_bytes())),
        None if visitors => app.visitors.token_ok(&parts.headers, &sent),
        // Nothing a forged request could change: say so.
        None => return Err(not_signed_in()),
    };
    if !ok {
        return Err(refused(
            "The form's security token is missing or stale. Reload the page and try again.",
        ));
    }
    Ok(Checked {
        who,
        headers: parts.headers,
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
        let account = c
            .who
            .as_ref()
            .and_then(account_of)
            .ok_or_else(not_signed_in)?;
        Ok(Posted {
            account,
            fields: c.fields,
        })
    }
}

/// A sign-in form's POST (sign up, sign in, first login), which a visitor without a session
/// may send: it passed the origin and CSRF checks.
#[derive(Debug)]
pub struct SignInForm {
    /// The request's relier session, if it has one.
    pub who: Option<Identity>,
    /// The request's headers (a new session ends the one they carry).
    pub headers: HeaderMap,
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
            who: c.who,
            headers: c.headers,
            csrf: c.token,
            fields: c.fields,
        })
    }
}

/// Adds `Set-Cookie` headers to a response.
pub fn with_cookies(
    mut resp: Response,
    cookies: impl IntoIterator<Item = HeaderValue>,
) -> Response {
    for c in cookies {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}
