//! The user's access token for the upstream (`[upstream] pass_access_token = true`).
//!
//! A request admitted by a browser session reaches the upstream with
//! `Authorization: Bearer <the session's access token>` — refreshed before it expires, as every
//! session is ([`crate::session`]) — or, for a provider with `exchange_audience`, a token
//! obtained for that audience by OAuth 2.0 Token Exchange (RFC 8693) with the session's token as
//! the subject, cached per session until its expiry ([`exchange`]). A DPoP-bound token goes as
//! `Authorization: DPoP <token>` (RFC 9449 §7.1: a bound token is never presented as Bearer)
//! with a fresh proof for the upstream request's method and URL.
//!
//! The client's own `Authorization` (and `DPoP`) header never reaches the upstream while
//! `pass_access_token` is on, nor on an `[[api]]` path whose token the gateway consumed (the
//! token was issued for the gateway's API audience; the upstream gets the identity headers).
//! Elsewhere, with `pass_access_token` off, it passes as it always did (an application's own
//! scheme, e.g. Basic for a legacy API behind the gateway).
//!
//! In forward-auth mode (`/auth/check`) the same headers are in the 200 answer, for the front
//! proxy to set on the request it forwards (nginx: `auth_request_set`).

mod exchange;

use std::collections::HashMap;

use aws_lc_rs::rand::SystemRandom;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use relier_core::dpop::{DpopError, DpopKey, ProofTarget};
use relier_core::token_exchange::TokenExchangeRequest;
use relier_core::{Secret, UnixTime};

use crate::api::Admitted;
use crate::cache::Authed;
use crate::clock;
use crate::config::Config;
use crate::error::GatewayError;
use crate::state::AppState;

pub use exchange::ExchangeCache;

/// The `DPoP` header.
pub static DPOP: HeaderName = HeaderName::from_static("dpop");

/// `[upstream] pass_access_token` and the providers' `exchange_audience`, checked.
#[derive(Debug, Default)]
pub struct UpstreamTokenSettings {
    /// `[upstream] pass_access_token`: pass the session's (or an exchanged) access token to the
    /// one upstream, and in `/auth/check`'s answers. (`[[upstream]]` routes each have their
    /// own; `/auth/check` then never hands out the token.)
    pub pass: bool,
    /// Provider name → the token exchange its sessions' tokens go through.
    exchange: HashMap<String, TokenExchangeRequest>,
}

impl UpstreamTokenSettings {
    /// From `[upstream]` and `[[providers]]`: `exchange_audience` is a printable audience, only
    /// for an OpenID Connect provider, and only with `pass_access_token = true` (where it has
    /// an effect).
    pub fn from_config(config: &Config) -> Result<Self, GatewayError> {
        let single = config
            .upstream
            .as_ref()
            .and_then(crate::config::Upstreams::single);
        let pass = single.is_some_and(|u| u.pass_access_token);
        let any = config
            .upstream
            .as_ref()
            .is_some_and(crate::config::Upstreams::any_pass_access_token);
        let mut exchange = HashMap::new();
        for p in &config.providers {
            let Some(aud) = &p.policy.exchange_audience else {
                continue;
            };
            if !any {
                return Err(GatewayError::provider(
                    &p.name,
                    "exchange_audience needs [upstream] pass_access_token = true, or on an \
                     [[upstream]] route (the exchanged token is what the upstream gets)",
                ));
            }
            if p.preset() == Some(crate::presets::Preset::GitHub) {
                return Err(GatewayError::provider(
                    &p.name,
                    "exchange_audience: GitHub has no token exchange (RFC 8693)",
                ));
            }
            let req = TokenExchangeRequest::new(aud.as_str())
                .map_err(|e| GatewayError::provider(&p.name, e))?;
            exchange.insert(p.name.clone(), req);
        }
        Ok(Self { pass, exchange })
    }
}

/// A token to present to the upstream, and the key it is bound to (DPoP).
pub struct UpstreamToken {
    token: Secret,
    dpop: Option<DpopKey>,
}

impl std::fmt::Debug for UpstreamToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamToken")
            .field("dpop", &self.dpop)
            .finish_non_exhaustive()
    }
}

/// Why no token could be had for the upstream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamTokenError {
    /// The token exchange at the provider failed.
    #[error("token exchange at provider {provider:?}: {source}")]
    Exchange {
        /// The provider.
        provider: String,
        /// What failed.
        source: relier::Error,
    },
    /// The provider is not ready (still discovering) or cannot exchange tokens.
    #[error("token exchange: provider {provider:?} is not available")]
    ProviderUnavailable {
        /// The provider.
        provider: String,
    },
    /// The session's DPoP key does not read back, or a proof could not be signed.
    #[error("DPoP proof for the upstream: {0}")]
    Dpop(#[from] DpopError),
    /// A token that cannot be a header value.
    #[error("the access token cannot be sent in a header")]
    NotAHeaderValue,
}

impl UpstreamToken {
    /// `Authorization` (and, bound, `DPoP`) for a request with `method` to `url` at `now`.
    ///
    /// # Errors
    /// A proof that cannot be signed, a token that is not a header value.
    pub fn headers(
        &self,
        method: &str,
        url: &str,
        now: u64,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, UpstreamTokenError> {
        let value = |s: String| {
            let mut v =
                HeaderValue::try_from(s).map_err(|_| UpstreamTokenError::NotAHeaderValue)?;
            v.set_sensitive(true);
            Ok::<_, UpstreamTokenError>(v)
        };
        let Some(key) = &self.dpop else {
            let auth = value(format!("Bearer {}", self.token.expose()))?;
            return Ok(vec![(header::AUTHORIZATION, auth)]);
        };
        // RFC 9449 §7.1: the DPoP scheme and a proof with `ath` for this request.
        let target = ProofTarget {
            method: relier_core::http::Method::Get,
            url,
            now: UnixTime(now),
            nonce: None,
            access_token: Some(&self.token),
        };
        let proof = key.proof_with_method(method, &target, &SystemRandom::new())?;
        Ok(vec![
            (
                header::AUTHORIZATION,
                value(format!("DPoP {}", self.token.expose()))?,
            ),
            (DPOP.clone(), value(proof)?),
        ])
    }
}

/// Removes the client's own credentials when the upstream must not see them: always with
/// `pass_access_token` (`pass`), and on an `[[api]]` path whose token the gateway consumed.
pub fn strip_client_credentials(pass: bool, authed: Option<&Admitted>, h: &mut HeaderMap) {
    let consumed = matches!(authed, Some(Admitted::Token(_)));
    if pass || consumed {
        h.remove(header::AUTHORIZATION);
        h.remove(&DPOP);
    }
}

/// The token the upstream gets for `authed`: `None` when `pass_access_token` (`pass`) is off, for a
/// request without a session (a `skip_auth` path, an `[[api]]` token), or a session without a
/// live access token.
///
/// # Errors
/// The token exchange failed, or the session's DPoP key does not read back.
pub async fn for_request(
    state: &AppState,
    pass: bool,
    authed: Option<&Admitted>,
) -> Result<Option<UpstreamToken>, UpstreamTokenError> {
    if !pass {
        return Ok(None);
    }
    let Some(Admitted::Session { authed, .. }) = authed else {
        return Ok(None);
    };
    for_session(state, authed).await
}

async fn for_session(
    state: &AppState,
    authed: &Authed,
) -> Result<Option<UpstreamToken>, UpstreamTokenError> {
    let rec = &authed.session.rec;
    let now = clock::now();
    let Some(token) = rec.access_token.as_ref().filter(|t| !t.is_empty()) else {
        tracing::debug!(provider = %rec.provider, "pass_access_token: the session has no access token");
        return Ok(None);
    };
    // Refreshed before this point when it could be ([`crate::session::authenticate`]); an
    // expired token is not handed on.
    if rec.access_expires_at.is_some_and(|exp| exp <= now) {
        tracing::debug!(provider = %rec.provider, "pass_access_token: the session's access token has expired");
        return Ok(None);
    }
    let provider = state.providers.get(&rec.provider);
    let dpop = if provider.is_some_and(|p| p.uses_dpop()) {
        authed.session.dpop_key()?.cloned()
    } else {
        None
    };
    let Some(request) = state.settings.upstream_token.exchange.get(&rec.provider) else {
        return Ok(Some(UpstreamToken {
            token: token.clone(),
            dpop,
        }));
    };
    let exchanged = exchange::exchanged(state, authed, token, request, now).await?;
    Ok(Some(UpstreamToken {
        token: exchanged.token,
        dpop: if exchanged.bound { dpop } else { None },
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use relier_core::Algorithm;
    use relier_core::dpop::verify::{ProofExpectations, verify_proof};

    #[test]
    fn a_bearer_token_goes_alone_a_bound_one_with_a_proof_for_the_request() {
        let t = UpstreamToken {
            token: Secret::new("at-1"),
            dpop: None,
        };
        let h = t.headers("PATCH", "http://up/x", 1_000).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].1, "Bearer at-1");
        let key = DpopKey::generate(Algorithm::ES256).unwrap();
        let t = UpstreamToken {
            token: Secret::new("at-2"),
            dpop: Some(key.clone()),
        };
        let h = t.headers("PATCH", "http://up/x", 1_000).unwrap();
        assert_eq!(h[0].1, "DPoP at-2");
        let proof = h[1].1.to_str().unwrap();
        let expect = ProofExpectations {
            htm: "PATCH",
            htu: "http://up/x",
            access_token: "at-2",
            jkt: key.thumbprint(),
            nonce: None,
            window: 60,
            now: UnixTime(1_000),
        };
        verify_proof(proof, &expect).unwrap();
        let wrong_method = ProofExpectations {
            htm: "GET",
            ..expect
        };
        assert!(verify_proof(proof, &wrong_method).is_err());
    }
}
