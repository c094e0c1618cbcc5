//! The gateway as a resource server (`[[api]]`): requests under an API prefix authenticate with
//! their `Authorization` header — a JWT access token (RFC 9068) or, with `introspect = true`,
//! an opaque one (RFC 7662) — and are never redirected to a login page. Refusals answer as
//! RFC 6750 §3 says. A validated token is cached by its SHA-256 until its `exp` (bounded), so a
//! repeated request costs one hash and one lock.

mod cache;
mod challenge;
mod dpop;
mod replay;
mod token;

use std::sync::Arc;

use axum::http::{HeaderName, HeaderValue};

use crate::access::Prefix;
use crate::config::Config;
use crate::error::GatewayError;
use crate::paths;

pub use cache::TokenCache;
pub use challenge::Challenge;
pub use dpop::DpopState;
pub use token::authenticate;

/// One `[[api]]` entry, checked.
#[derive(Debug, Clone)]
pub struct ApiRule {
    /// The prefix, matched like `[[access]]` prefixes.
    pub prefix: Prefix,
    /// Names of the providers whose tokens are accepted.
    pub providers: Vec<String>,
    /// The audience the tokens must carry.
    pub audience: String,
    /// Required scopes, all of them.
    pub scopes: Vec<String>,
    /// Opaque tokens by introspection.
    pub introspect: bool,
    /// A browser session counts as well.
    pub sessions: bool,
    /// Issue `DPoP-Nonce` values.
    pub dpop_nonce: bool,
}

/// Every `[[api]]` entry.
#[derive(Debug, Clone, Default)]
pub struct ApiRules {
    rules: Vec<ApiRule>,
    lenient: bool,
}

impl ApiRules {
    /// From the configuration: prefixes canonical, providers configured, an audience set.
    pub fn from_config(config: &Config) -> Result<ApiRules, GatewayError> {
        let bad = |m: String| GatewayError::config(m);
        let mut rules = Vec::with_capacity(config.api.len());
        for api in &config.api {
            let prefix = Prefix::parse(&api.path).ok_or_else(|| {
                bad(format!(
                    "api.path: {:?} must be a path starting with / (without dot segments, \
                     backslashes, double encoding or control characters)",
                    api.path
                ))
            })?;
            if api.providers.is_empty() {
                return Err(bad(format!("api {:?}: providers is empty", api.path)));
            }
            for name in &api.providers {
                if !config.providers.iter().any(|p| &p.name == name) {
                    return Err(bad(format!(
                        "api {:?}: unknown provider {name:?} (not in [[providers]])",
                        api.path
                    )));
                }
            }
            if api.audience.is_empty() {
                return Err(bad(format!("api {:?}: audience is empty", api.path)));
            }
            if let Some(s) = api.scopes.iter().find(|s| !is_scope_token(s)) {
                return Err(bad(format!(
                    "api {:?}: scope {s:?} is not a scope token",
                    api.path
                )));
            }
            rules.push(ApiRule {
                prefix,
                providers: api.providers.clone(),
                audience: api.audience.clone(),
                scopes: api.scopes.clone(),
                introspect: api.introspect,
                sessions: api.sessions,
                dpop_nonce: api.dpop_nonce,
            });
        }
        Ok(ApiRules {
            rules,
            lenient: config.allow_non_canonical_paths,
        })
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rule for a request target (path with optional query): the first whose prefix holds
    /// any reading the upstream may make of the path ([`paths::readings`]), with its index.
    pub fn find(&self, target: &str) -> Option<(usize, &ApiRule)> {
        if self.rules.is_empty() {
            return None;
        }
        let path = paths::path_of(target);
        let lenient = self.lenient || paths::check_canonical(path).is_err();
        let readings = paths::readings(path, lenient);
        self.rules
            .iter()
            .enumerate()
            .find(|(_, r)| readings.iter().any(|s| r.prefix.matches(s)))
    }
}

/// RFC 6749 §3.3 scope-token: `%x21 / %x23-5B / %x5D-7E`, at least one.
fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// How a request on an API path was authenticated (`X-Relier-Auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// A browser session cookie.
    Session,
    /// `Authorization: Bearer`.
    Bearer,
    /// `Authorization: DPoP` with a verified proof.
    Dpop,
}

impl AuthKind {
    /// The `X-Relier-Auth` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthKind::Session => "session",
            AuthKind::Bearer => "bearer",
            AuthKind::Dpop => "dpop",
        }
    }
}

/// A token that passed, as the upstream is told about it.
#[derive(Debug)]
pub struct TokenPrincipal {
    /// The provider whose token it is.
    pub provider: String,
    /// Its issuer (`iss`).
    pub issuer: String,
    /// Its subject (`sub`): the user, or for client_credentials usually the client.
    pub subject: String,
    /// The client it was issued to (`client_id`; empty when introspection left it out).
    pub client_id: String,
    /// Bearer or DPoP.
    pub kind: AuthKind,
    /// Identity headers, computed once per token.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Expiry (unix seconds).
    pub exp: u64,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// `cnf.jkt`, for a DPoP-bound token.
    pub jkt: Option<String>,
    /// The key of this token's DPoP proofs, parsed once.
    pub proof_key: relier_core::dpop::verify::ProofKeyCache,
}

/// What admitted a request: a session, or an access token.
#[derive(Debug)]
pub enum Admitted {
    /// A browser session; `api` when on an `[[api]]` path (`X-Relier-Auth: session` is added).
    Session {
        /// The session.
        authed: crate::cache::Authed,
        /// On an `[[api]]` path.
        api: bool,
    },
    /// An access token on an `[[api]]` path (its headers carry `X-Relier-Auth`).
    Token(Arc<TokenPrincipal>),
}

/// `X-Relier-Auth: session`.
static AUTH_SESSION: (HeaderName, HeaderValue) = (
    HeaderName::from_static(crate::identity::H_AUTH),
    HeaderValue::from_static(AuthKind::Session.as_str()),
);

impl Admitted {
    /// The identity headers for the upstream.
    pub fn headers(&self) -> impl Iterator<Item = &(HeaderName, HeaderValue)> + Clone {
        let (own, extra) = match self {
            Admitted::Session { authed, api } => {
                // A local session's headers say `local` already.
                let local = authed.session.rec.provider == crate::embed::LOCAL_PROVIDER;
                (
                    &authed.session.headers,
                    (*api && !local).then_some(&AUTH_SESSION),
                )
            }
            Admitted::Token(t) => (&t.headers, None),
        };
        own.iter().chain(extra)
    }
}

#[cfg(test)]
mod tests;
