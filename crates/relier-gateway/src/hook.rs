//! The application's say on each completed login ([`LoginHook`]), used by the callback and
//! re-exported by [`crate::embed`].

use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value};

use crate::embed::AppSlot;

/// A login at an OP that passed every check, before its session exists: what
/// [`LoginHook::on_login`] decides about. Never a local (password) sign-in: those start their
/// session with [`crate::Gateway::start_local_session`] and reach no hook.
#[derive(Debug)]
pub struct CompletedLogin<'a> {
    /// The provider's local name.
    pub provider: &'a str,
    /// The ID token's `iss`.
    pub issuer: &'a str,
    /// The ID token's `sub`.
    pub subject: &'a str,
    /// The `email` claim, if any (see `email_verified`).
    pub email: Option<&'a str>,
    /// Whether the OP says `email` is verified.
    pub email_verified: bool,
    /// A display name, if any.
    pub name: Option<&'a str>,
    /// The identity claims.
    pub claims: &'a Map<String, Value>,
    /// Where the login was going to return (already sanitised to a local path).
    pub return_to: &'a str,
    /// The value the application attached to this login when it started it with
    /// [`crate::Gateway::start_login`] (e.g. "link to account 42"); `None` for every other
    /// login, such as one started at `/auth/login/{provider}`. It comes from relier's login
    /// state (server-side, bound to the browser that started the login), so it needs no cookie
    /// and arrives with a cross-site `form_post` callback too.
    pub app_state: Option<&'a str>,
}

/// What the application decided about a login.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoginDecision {
    /// Create the relier session — with what the hook left in its [`AppSlot`] as the
    /// session's application data — and redirect (302) to `redirect_to` (default: the login's
    /// `return_to`), adding `headers`.
    Accept {
        /// Where to go instead of `return_to`: a path on this origin. It is checked like
        /// `return_to` ([`crate::sanitize_return_to`]); anything else — `//host`, `/\host`,
        /// an absolute URL, control characters, encoded or not — is replaced by `/`.
        redirect_to: Option<String>,
        /// Extra response headers.
        headers: HeaderMap,
    },
    /// No relier session: send this response instead (e.g. "this identity is linked to another
    /// account").
    Respond(Response),
}

impl LoginDecision {
    /// Accept, continue to `return_to`.
    pub fn accept() -> Self {
        LoginDecision::Accept {
            redirect_to: None,
            headers: HeaderMap::new(),
        }
    }
}

/// The application's say on every completed login, called after the ID token (and UserInfo)
/// passed every check and before the session is created. It gets the login as a value, not
/// the callback request: what the application needs to know about a login it started belongs
/// in `app_state` ([`crate::Gateway::start_login`]) — a cookie would not even arrive with a
/// cross-site `form_post` callback — and what it wants to keep for the session goes into
/// `slot` (e.g. the local account the identity is linked to), stored sealed with the new
/// session and read back with [`crate::embed::Identity::app_data`].
#[async_trait::async_trait]
pub trait LoginHook: Send + Sync + 'static {
    /// Decides what the login means for the application; on
    /// [`LoginDecision::Accept`], `slot` is stored with the new session.
    async fn on_login(&self, login: CompletedLogin<'_>, slot: &mut AppSlot) -> LoginDecision;
}

/// The default: every login is accepted as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAll;

#[async_trait::async_trait]
impl LoginHook for AcceptAll {
    async fn on_login(&self, _: CompletedLogin<'_>, _: &mut AppSlot) -> LoginDecision {
        LoginDecision::accept()
    }
}
