//! [`TokenSource`]: a client credentials token (RFC 6749 §4.4) kept for its lifetime and
//! renewed before `expires_in` runs out. One request at a time: callers that find no fresh
//! token wait on the one request in flight and share its answer (single flight). A token is
//! never handed out at or after its expiry; when to renew is
//! [`relier_core::client_credentials::CachedToken::is_fresh`].

use std::future::Future;
use std::sync::Arc;

use relier_core::TokenResponse;
use relier_core::client_credentials::{CachedToken, ClientCredentialsRequest};
use relier_core::token::TokenError;
use tokio::sync::Mutex;

use super::RelyingParty;
use super::clock::Clock;
use crate::Error;

/// Seconds before `expires_in` runs out at which a token is renewed (default).
pub const DEFAULT_RENEW_MARGIN: u64 = 60;
/// How long a token without `expires_in` is used (seconds).
pub const DEFAULT_LIFETIME: u64 = 300;

/// Where a [`TokenSource`] gets a new token: [`RelyingParty::client_credentials`] in use, a
/// stand-in in tests.
pub trait FetchToken: Send + Sync {
    /// One token request.
    fn fetch_token(&self) -> impl Future<Output = Result<TokenResponse, Error>> + Send;
}

/// The client credentials grant of a relying party, with fixed parameters.
#[derive(Debug)]
pub struct ClientCredentialsGrant {
    rp: Arc<RelyingParty>,
    request: ClientCredentialsRequest,
}

impl FetchToken for ClientCredentialsGrant {
    fn fetch_token(&self) -> impl Future<Output = Result<TokenResponse, Error>> + Send {
        self.rp.client_credentials_request(&self.request)
    }
}

/// A cached token, renewed before it expires; see the module documentation.
#[derive(Debug)]
pub struct TokenSource<F> {
    fetcher: F,
    clock: Arc<dyn Clock>,
    margin: u64,
    default_lifetime: u64,
    cached: Mutex<Option<CachedToken>>,
}

impl TokenSource<ClientCredentialsGrant> {
    /// Tokens from `rp`'s client credentials grant with `request`, on `rp`'s clock.
    pub fn client_credentials(rp: Arc<RelyingParty>, request: ClientCredentialsRequest) -> Self {
        let clock = Arc::clone(&rp.clock);
        Self::new(ClientCredentialsGrant { rp, request }, clock)
    }
}

impl<F: FetchToken> TokenSource<F> {
    /// Tokens from `fetcher`, timed by `clock`; renewed a minute before they expire (see
    /// [`Self::renew_margin`]).
    pub fn new(fetcher: F, clock: Arc<dyn Clock>) -> Self {
        Self {
            fetcher,
            clock,
            margin: DEFAULT_RENEW_MARGIN,
            default_lifetime: DEFAULT_LIFETIME,
            cached: Mutex::new(None),
        }
    }

    /// Renew `secs` seconds before `expires_in` runs out.
    #[must_use]
    pub fn renew_margin(mut self, secs: u64) -> Self {
        self.margin = secs;
        self
    }

    /// Use a token without `expires_in` for `secs` seconds.
    #[must_use]
    pub fn default_lifetime(mut self, secs: u64) -> Self {
        self.default_lifetime = secs;
        self
    }

    /// A token that has not expired: the cached one while it is more than the margin from its
    /// expiry, else a new one (one request, whatever the number of callers waiting).
    ///
    /// # Errors
    /// The token request failed, or the new token had already expired when it arrived.
    pub async fn token(&self) -> Result<TokenResponse, Error> {
        let mut slot = self.cached.lock().await;
        if let Some(c) = slot.as_ref()
            && c.is_fresh(self.clock.now(), self.margin, self.default_lifetime)
        {
            return Ok(c.tokens.clone());
        }
        *slot = None;
        // The lifetime counts from before the request: the OP started it no earlier.
        let obtained_at = self.clock.now();
        let tokens = self.fetcher.fetch_token().await?;
        let fresh = CachedToken {
            tokens,
            obtained_at,
        };
        // A lifetime shorter than the margin: handed out (it has not expired) and renewed on the
        // next call.
        if !fresh.is_fresh(self.clock.now(), 0, self.default_lifetime) {
            return Err(TokenError::InvalidResponse {
                endpoint: "token",
                reason: "the new access token had already expired (expires_in)".into(),
            }
            .into());
        }
        let tokens = fresh.tokens.clone();
        *slot = Some(fresh);
        Ok(tokens)
    }

    /// Forget the cached token (e.g. after a resource server refused it): the next
    /// [`Self::token`] asks for a new one.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}

#[cfg(test)]
mod tests;
