//! relier inside a Rust web application: the same login routes, store, sessions, keys and
//! client authentication as `relier serve`, mounted into the application's own
//! [`axum::Router`], with an [`Identity`] extractor and a [`LoginHook`] where the application
//! decides what an external identity means for it (account linking).
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use relier_gateway::{Config, Gateway};
//! use relier_gateway::embed::Identity;
//!
//! async fn me(who: Identity) -> String {
//!     format!("{} at {}", who.subject(), who.issuer())
//! }
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let relier = Gateway::builder(Config::from_file("relier.toml")?).build().await?;
//! let app: Router = Router::new()
//!     .route("/me", get(me))
//!     .merge(relier.login_router())   // /auth/login[/{provider}], /auth/callback/{provider}, …
//!     .layer(relier.layer());         // what Identity reads
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! `Identity` rejects a request without a session with a redirect to the login page (browser
//! navigations) or 401 (anything else); `Option<Identity>` lets the handler decide.
//!
//! A login the application starts itself ([`crate::Gateway::start_login`]) may carry a
//! [`LoginAppState`]: kept in relier's login state and handed back to the [`LoginHook`] with
//! that login only (`CompletedLogin::app_state`) — e.g. "link this identity to account 42",
//! which then cannot be triggered by any other login and needs no cookie of the application's
//! (a `form_post` callback, Sign in with Apple, is a cross-site POST that `SameSite=Lax`
//! cookies do not reach).
//!
//! The application keeps its own data on relier's session — one session for everybody, no
//! second cookie: the hook puts it in an [`AppSlot`] (e.g. the local account an identity is
//! linked to), handlers read it with [`Identity::app_data`] and replace it with
//! [`crate::Gateway::set_app_data`]; it is stored sealed like the session's tokens. A user the
//! application signs in itself (a password) gets a relier session as well
//! ([`crate::Gateway::start_local_session`], a [`LocalLogin`]): same cookie, CSRF token,
//! expiry and `/auth/logout`, never taken for an OP login ([`Identity::is_local`]).
//!
//! ```no_run
//! use axum::http::HeaderMap;
//! use relier_gateway::Gateway;
//! use relier_gateway::embed::{AppSlot, CompletedLogin, Identity, LocalLogin, LoginDecision, LoginHook};
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Account { id: i64 }
//!
//! struct Linking;
//!
//! #[async_trait::async_trait]
//! impl LoginHook for Linking {
//!     async fn on_login(&self, login: CompletedLogin<'_>, slot: &mut AppSlot) -> LoginDecision {
//!         // Look (login.issuer, login.subject) up in the application's database…
//!         let _ = slot.set(&Account { id: 42 });
//!         LoginDecision::accept()
//!     }
//! }
//!
//! async fn home(who: Identity) -> String {
//!     match who.app_data::<Account>() {
//!         Ok(Some(a)) => format!("account {}", a.id),
//!         _ => "no account yet".to_owned(),
//!     }
//! }
//!
//! async fn password_ok(relier: &Gateway, request: &HeaderMap) -> Option<HeaderMap> {
//!     let slot = AppSlot::with(&Account { id: 42 }).ok()?;
//!     relier.start_local_session(request, LocalLogin::new("42"), slot).await.ok()
//! }
//! ```

mod app_data;
mod layers;
mod local;
mod principal;

use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use relier_core::Secret;
use serde_json::Value;

use crate::cache::Authed;
pub use crate::hook::{AcceptAll, CompletedLogin, LoginDecision, LoginHook};
use crate::identity;
use crate::names;
use crate::routes::require::{WhenMissing, require_session};
use crate::state::AppState;
pub(crate) use app_data::set_app_data;
pub use app_data::{AppDataError, AppSlot, SessionError};
pub use layers::{RequireLogin, RequireLoginService, RequireScope, RequireScopeService};
pub(crate) use local::start as start_local;
pub use local::{LOCAL_PROVIDER, LocalLogin};
pub use principal::{AccessToken, Principal};

/// What [`Identity`] reads from the request's extensions: added by
/// [`crate::Gateway::layer`].
#[derive(Clone)]
pub struct RelierHandle(pub(crate) crate::reload::Live);

impl RelierHandle {
    /// As [`crate::Gateway::set_app_data`], for a handler that reaches relier through its
    /// layer (`Extension<RelierHandle>`).
    ///
    /// # Errors
    /// As [`crate::Gateway::set_app_data`].
    pub async fn set_app_data(
        &self,
        request: &axum::http::HeaderMap,
        slot: AppSlot,
    ) -> Result<(), SessionError> {
        set_app_data(&self.0.current(), request, slot).await
    }
}

impl std::fmt::Debug for RelierHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RelierHandle").finish_non_exhaustive()
    }
}

/// The signed-in user's external identity: who the OP says they are.
#[derive(Debug, Clone)]
pub struct Identity {
    provider: String,
    issuer: String,
    subject: String,
    email: Option<String>,
    email_verified: bool,
    name: Option<String>,
    claims: Value,
    csrf_token: String,
    app_data: AppSlot,
}

impl Identity {
    fn of(a: &Authed) -> Self {
        let r = &a.session.rec;
        Identity {
            provider: r.provider.clone(),
            issuer: r.iss.clone(),
            subject: r.sub.clone(),
            email: r.email.clone(),
            email_verified: identity::email_verified(&r.claims),
            // Cleaned at login; again for a session stored before names were.
            name: r.name.as_deref().map(|n| names::clean_name(n).into_owned()),
            claims: r.claims.clone(),
            csrf_token: r.csrf_token.expose().to_owned(),
            app_data: AppSlot::from_stored(r.app_data.clone()),
        }
    }

    /// Whether the application signed this user in itself
    /// ([`crate::Gateway::start_local_session`]): then [`Self::provider`] is
    /// [`LOCAL_PROVIDER`], [`Self::issuer`] relier's public URL and [`Self::subject`] the
    /// application's own key — never an external identity to link to an account.
    pub fn is_local(&self) -> bool {
        self.provider == LOCAL_PROVIDER
    }

    /// The application's data on this session as a `T` ([`AppSlot::get`]); `Ok(None)` when
    /// it keeps none.
    ///
    /// # Errors
    /// [`AppDataError::Decode`] when the stored value is not a `T`.
    pub fn app_data<T: serde::de::DeserializeOwned>(&self) -> Result<Option<T>, AppDataError> {
        self.app_data.get()
    }

    /// The application's data on this session, as its slot (to change it and store it again
    /// with [`crate::Gateway::set_app_data`]).
    pub fn app_slot(&self) -> &AppSlot {
        &self.app_data
    }

    /// The local name of the provider the user signed in with.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The OP's issuer identifier (the ID token's `iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The user's identifier at that issuer (`sub`): with [`Self::issuer`], the only stable key
    /// of an external identity (OIDC Core §5.7).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The e-mail address, only when the OP says it is verified.
    pub fn verified_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_verified)
    }

    /// The e-mail address whether verified or not, with its flag — never a key to an account.
    pub fn email_claim(&self) -> Option<(&str, bool)> {
        self.email.as_deref().map(|e| (e, self.email_verified))
    }

    /// A display name, if the OP gave one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The identity claims (ID token and UserInfo, protocol claims removed).
    pub fn claims(&self) -> &Value {
        &self.claims
    }

    /// The relier session's CSRF token: the `csrf_token` field of a form posting to
    /// `/auth/logout`.
    pub fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// An opaque value (at most [`LoginAppState::MAX_LEN`] bytes) that the application attaches
/// to a login it starts with [`crate::Gateway::start_login`]. Stored encrypted with the login
/// state, never sent to the OP or the browser; `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginAppState(Secret);

impl LoginAppState {
    /// The largest value, in bytes (it is stored with every login that carries one).
    pub const MAX_LEN: usize = 1024;

    /// Wraps `value`.
    ///
    /// # Errors
    /// [`LoginAppStateError::TooLong`] beyond [`Self::MAX_LEN`] bytes.
    pub fn new(value: impl Into<String>) -> Result<Self, LoginAppStateError> {
        let value = value.into();
        if value.len() > Self::MAX_LEN {
            return Err(LoginAppStateError::TooLong {
                len: value.len(),
                max: Self::MAX_LEN,
            });
        }
        Ok(LoginAppState(Secret::new(value)))
    }

    pub(crate) fn into_secret(self) -> Secret {
        self.0
    }
}

impl std::fmt::Debug for LoginAppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginAppState([REDACTED])")
    }
}

/// Why a [`LoginAppState`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginAppStateError {
    /// Longer than [`LoginAppState::MAX_LEN`].
    #[error("app_state of {len} bytes: at most {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The largest length accepted.
        max: usize,
    },
}

fn handle(parts: &Parts) -> Option<Arc<AppState>> {
    parts
        .extensions
        .get::<RelierHandle>()
        .map(|h| h.0.current())
}

fn layer_missing() -> Response {
    tracing::error!("Identity used on a route without relier's layer (Gateway::layer)");
    (StatusCode::INTERNAL_SERVER_ERROR, "relier layer missing\n").into_response()
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        if let Some(Principal::Session(i)) = parts.extensions.get::<Principal>() {
            return Ok(i.clone());
        }
        let state = handle(parts).ok_or_else(layer_missing)?;
        let return_to = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let missing = WhenMissing::LoginPage {
            method: &parts.method,
            return_to,
            absolute: false,
        };
        let a = require_session(&state, &parts.headers, missing, |_| {}).await?;
        Ok(Identity::of(&a))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Identity {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Response> {
        if let Some(Principal::Session(i)) = parts.extensions.get::<Principal>() {
            return Ok(Some(i.clone()));
        }
        let state = handle(parts).ok_or_else(layer_missing)?;
        match require_session(&state, &parts.headers, WhenMissing::Unauthorized, |_| {}).await {
            Ok(a) => Ok(Some(Identity::of(&a))),
            Err(resp) if resp.status() == StatusCode::UNAUTHORIZED => Ok(None),
            Err(resp) => Err(resp),
        }
    }
}
