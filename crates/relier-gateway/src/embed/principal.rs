//! [`Principal`]: who a request is — a browser session's [`Identity`], or on an `[[api]]` path
//! an access token ([`AccessToken`]) — decided exactly as `/auth/check` decides it
//! (`routes::require::admit`: `skip_auth`, `[[access]]`, `[[api]]`).

use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap, Method, StatusCode};
use axum::response::Response;

use super::{Identity, handle, layer_missing};
use crate::api::{Admitted, AuthKind, TokenPrincipal};
use crate::routes::require::{WhenMissing, admit};
use crate::state::AppState;

/// Who made a request: a signed-in browser, or the bearer of an access token on an `[[api]]`
/// path. As an extractor it admits the request like `/auth/check` does — a browser navigation
/// without a session is sent to the login page, anything else gets 401 (RFC 6750 §3 on an API
/// path), a user outside an `[[access]]` rule 403. Behind [`super::RequireLogin`] it is read
/// from what the layer already decided.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Principal {
    /// A relier session (cookie).
    Session(Identity),
    /// An access token (`Authorization: Bearer` or `DPoP`) on an `[[api]]` path.
    Token(AccessToken),
}

/// An access token that passed every check of its `[[api]]` rule.
#[derive(Debug, Clone)]
pub struct AccessToken(Arc<TokenPrincipal>);

impl AccessToken {
    /// The provider whose token it is.
    pub fn provider(&self) -> &str {
        &self.0.provider
    }

    /// The token's issuer (`iss`).
    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// The token's subject (`sub`): the user, or for a client_credentials token usually the
    /// client itself (RFC 9068 §2.2).
    pub fn subject(&self) -> &str {
        &self.0.subject
    }

    /// The client the token was issued to (`client_id`); empty when an introspection response
    /// left it out.
    pub fn client_id(&self) -> &str {
        &self.0.client_id
    }

    /// The granted scopes.
    pub fn scopes(&self) -> &[String] {
        &self.0.scopes
    }

    /// Whether it came with a verified DPoP proof (RFC 9449) rather than as a bearer token.
    pub fn is_dpop(&self) -> bool {
        self.0.kind == AuthKind::Dpop
    }

    /// Expiry, seconds since the epoch.
    pub fn expires_at(&self) -> u64 {
        self.0.exp
    }
}

impl Principal {
    pub(crate) fn of(admitted: Admitted) -> Self {
        match admitted {
            Admitted::Session { authed, .. } => Principal::Session(Identity::of(&authed)),
            Admitted::Token(t) => Principal::Token(AccessToken(t)),
        }
    }

    /// The subject: the session's `sub` at its issuer, or the token's.
    pub fn subject(&self) -> &str {
        match self {
            Principal::Session(i) => i.subject(),
            Principal::Token(t) => t.subject(),
        }
    }

    /// The issuer the subject belongs to.
    pub fn issuer(&self) -> &str {
        match self {
            Principal::Session(i) => i.issuer(),
            Principal::Token(t) => t.issuer(),
        }
    }

    /// The session's identity, when it is a session.
    pub fn identity(&self) -> Option<&Identity> {
        match self {
            Principal::Session(i) => Some(i),
            Principal::Token(_) => None,
        }
    }

    /// The access token, when it is one.
    pub fn token(&self) -> Option<&AccessToken> {
        match self {
            Principal::Token(t) => Some(t),
            Principal::Session(_) => None,
        }
    }

    /// Whether a token grants every scope in `required`. A session carries no scopes of
    /// its own: `false` unless `required` is empty (see [`super::RequireScope::or_session`]).
    pub fn has_scopes<S: AsRef<str>>(&self, required: &[S]) -> bool {
        match self {
            Principal::Token(t) => required
                .iter()
                .all(|r| t.scopes().iter().any(|s| s == r.as_ref())),
            Principal::Session(_) => required.is_empty(),
        }
    }
}

/// Admits `method` + `target` with `headers` as `/auth/check` would: `Ok(None)` for a
/// `skip_auth` path without a session. `extensions` may carry the peer address
/// (`ConnectInfo`): from a trusted proxy, the DPoP `htu` origin comes from its forwarding
/// headers.
pub(crate) async fn admit_request(
    state: &AppState,
    headers: &HeaderMap,
    (method, target): (&Method, &str),
    extensions: &Extensions,
) -> Result<Option<Principal>, Response> {
    let missing = WhenMissing::LoginPage {
        method,
        return_to: target,
        absolute: false,
    };
    let trusted = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|c| {
            state
                .settings
                .trusted_proxies
                .contains(crate::forwarding::canonical(c.0.ip()))
        });
    let origin = crate::forwarding::request_origin(&state.settings.base, trusted, headers);
    Ok(admit(
        state,
        &state.settings.path_rules,
        headers,
        (method, &origin, target),
        missing,
        |_| {},
    )
    .await?
    .map(Principal::of))
}

fn target(parts: &Parts) -> &str {
    parts.uri.path_and_query().map_or("/", |p| p.as_str())
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(p.clone());
        }
        let state = handle(parts).ok_or_else(layer_missing)?;
        admit_request(
            &state,
            &parts.headers,
            (&parts.method, target(parts)),
            &parts.extensions,
        )
        .await?
        .ok_or_else(|| crate::routes::json_error(StatusCode::UNAUTHORIZED, "unauthenticated"))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Principal {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Response> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(Some(p.clone()));
        }
        let state = handle(parts).ok_or_else(layer_missing)?;
        match admit_request(
            &state,
            &parts.headers,
            (&parts.method, target(parts)),
            &parts.extensions,
        )
        .await
        {
            Ok(p) => Ok(p),
            Err(resp) if resp.status() == StatusCode::UNAUTHORIZED => Ok(None),
            Err(resp) if resp.status() == StatusCode::FOUND => Ok(None),
            Err(resp) => Err(resp),
        }
    }
}
