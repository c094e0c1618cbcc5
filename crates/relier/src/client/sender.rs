//! Sender-constrained tokens for [`RelyingParty`]: DPoP (RFC 9449) proofs with the per-server
//! nonce and its single retry, and certificate-bound tokens (RFC 8705 §3) sent through the mTLS
//! aliases with the client certificate. The rules are [`relier_core::dpop`] and
//! [`relier_core::certificate_binding`]; this module moves them over HTTP.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use relier_core::certificate_binding;
use relier_core::dpop::{self, DpopError, DpopKey, DpopNonce, NonceCache, Server};
use relier_core::http::{HttpRequest, HttpResponse, TlsIdentity};
use relier_core::id_token::VerifiedIdToken;
use relier_core::token::TokenResponse;
use relier_core::userinfo::TokenMethod;
use relier_core::{AuthorizationParams, Secret};

use super::{RelyingParty, RelyingPartyBuilder};
use crate::Error;

/// How this relying party's tokens are bound to it. Copies made by [`RelyingParty::share`]
/// share the nonce cache.
#[derive(Debug, Clone, Default)]
pub(super) struct Binding {
    /// RFC 9449: the key proofs are signed with.
    pub(super) dpop: Option<DpopKey>,
    /// RFC 9449 §8: each server's latest nonce.
    nonces: Arc<Mutex<NonceCache>>,
    /// RFC 8705 §3: `tls_client_certificate_bound_access_tokens` registered.
    certificate_bound: bool,
    /// RFC 6750 §2.1 / §2.2: how UserInfo gets the access token.
    pub(super) userinfo_token_method: TokenMethod,
}

impl RelyingPartyBuilder {
    /// Registered `dpop_bound_access_tokens` (RFC 9449 §5.2): every token request (code,
    /// refresh), pushed authorization request, UserInfo and revocation call carries a proof
    /// signed with `key`, authorization requests carry its `dpop_jkt` (§10), and a token
    /// response that is not `token_type` DPoP is refused (§5). Make the key with
    /// [`RelyingParty::new_dpop_key`] or [`DpopKey::generate`]; one key per login, kept for
    /// that login's refreshes ([`RelyingParty::with_dpop_key`]).
    pub fn dpop(mut self, key: DpopKey) -> Self {
        self.binding.dpop = Some(key);
        self
    }

    /// Registered `tls_client_certificate_bound_access_tokens` (RFC 8705 §3): token, refresh,
    /// PAR, UserInfo, introspection and revocation requests go to the `mtls_endpoint_aliases`
    /// with the client certificate (whatever the client authentication method), and a `cnf`
    /// `x5t#S256` in the token response or ID token must be that certificate's.
    pub fn certificate_bound_access_tokens(mut self, on: bool) -> Self {
        self.binding.certificate_bound = on;
        self
    }

    /// How UserInfo gets the access token: the `Authorization` header (RFC 6750 §2.1, the
    /// default) or the form body of a POST (§2.2). A DPoP-bound token only goes in the header
    /// (RFC 9449 §7.1): with a DPoP key, [`RelyingParty::userinfo`] refuses the body
    /// ([`relier_core::userinfo::UserInfoError::BodyWithDpop`]).
    pub fn userinfo_token_method(mut self, method: TokenMethod) -> Self {
        self.binding.userinfo_token_method = method;
        self
    }
}

impl RelyingParty {
    /// A new DPoP key for this OP: the algorithm is the first of ES256, EdDSA, PS256 the OP
    /// lists in `dpop_signing_alg_values_supported` (ES256 when it lists none).
    ///
    /// # Errors
    /// [`DpopError::NoCommonAlgorithm`], or key generation failed.
    pub fn new_dpop_key(&self) -> Result<DpopKey, Error> {
        Ok(DpopKey::generate(dpop::choose_alg(&self.metadata)?)?)
    }

    /// The same relying party with its tokens bound to `key` (a login's or a session's DPoP
    /// key). The JWKS and DPoP nonce caches are shared.
    #[must_use]
    pub fn with_dpop_key(&self, key: DpopKey) -> Self {
        let mut rp = self.share();
        rp.binding.dpop = Some(key);
        rp
    }

    /// The DPoP key in use, if any.
    pub fn dpop_key(&self) -> Option<&DpopKey> {
        self.binding.dpop.as_ref()
    }

    /// Whether requests present the client certificate at the mTLS aliases: for mTLS client
    /// authentication (RFC 8705 §2) or certificate-bound tokens (§3).
    pub(super) fn uses_mtls(&self) -> bool {
        self.auth.uses_mtls() || self.binding.certificate_bound
    }

    /// `params` with `dpop_jkt` when DPoP is on (RFC 9449 §10).
    pub(super) fn bound_params(&self, params: &AuthorizationParams) -> AuthorizationParams {
        match &self.binding.dpop {
            Some(key) => key.authorization_params(params),
            None => params.clone(),
        }
    }

    fn nonces(&self) -> MutexGuard<'_, NonceCache> {
        // The cache holds no invariant a panicking holder could break.
        self.binding
            .nonces
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Send what `build` makes (freshly each time: client assertions and proofs are single
    /// use), with the client certificate when tokens are certificate-bound, and with a DPoP
    /// proof when DPoP is on — `ath` for `access_token` at a resource. A nonce demand (RFC 9449
    /// §8, §9) is answered exactly once with the nonce the server sent; a second one is
    /// [`DpopError::NonceLoop`].
    pub(super) async fn send_bound(
        &self,
        server: Server,
        endpoint: &'static str,
        access_token: Option<&Secret>,
        build: impl Fn() -> Result<HttpRequest, Error>,
    ) -> Result<HttpResponse, Error> {
        let mut retried = false;
        loop {
            let mut req = build()?;
            if self.binding.certificate_bound {
                req.tls_identity = TlsIdentity::ClientCertificate;
            }
            let Some(key) = &self.binding.dpop else {
                return self.http.send(req).await;
            };
            let nonce = self.nonces().get(&req.url);
            let (now, n) = (self.now(), nonce.as_ref());
            match access_token {
                Some(at) => dpop::resource_request(&mut req, at, key, now, n, &self.rng)?,
                None => dpop::attach(&mut req, key, now, n, &self.rng)?,
            }
            let url = req.url.clone();
            let (resp, header) = self.http.send_reading(req, dpop::NONCE_HEADER).await?;
            // A malformed nonce is not remembered; it is an error only when one is demanded.
            let fresh = header.as_deref().map(DpopNonce::new);
            if let Some(Ok(f)) = &fresh {
                self.nonces().remember(&url, f.clone());
            }
            if !dpop::nonce_demanded(server, &resp) {
                return Ok(resp);
            }
            match fresh {
                _ if retried => return Err(DpopError::NonceLoop { endpoint }.into()),
                None => return Err(DpopError::NonceMissing { endpoint }.into()),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(_)) => {}
            }
            tracing::debug!(
                endpoint,
                "DPoP nonce demanded; retrying once with the server's nonce"
            );
            retried = true;
        }
    }

    /// The token response is bound as registered: `token_type` DPoP after a proof (RFC 9449
    /// §5); a `cnf` `x5t#S256` in the response names the client certificate (RFC 8705 §3.1).
    pub(super) fn check_binding(
        &self,
        resp: &HttpResponse,
        tokens: &TokenResponse,
    ) -> Result<(), Error> {
        if self.binding.dpop.is_some() {
            dpop::check_token_type(tokens)?;
        }
        if let Some(x5t) = self.bound_certificate() {
            certificate_binding::check_token_response(resp, x5t)?;
        }
        Ok(())
    }

    /// RFC 8705 §3.1: a `cnf` `x5t#S256` in the ID token names the client certificate.
    pub(super) fn check_id_token_binding(&self, id_token: &VerifiedIdToken) -> Result<(), Error> {
        if let Some(x5t) = self.bound_certificate() {
            certificate_binding::check_cnf("ID token", id_token.claims().all()?, x5t)?;
        }
        Ok(())
    }

    /// The client certificate's `x5t#S256`, when tokens are certificate-bound.
    fn bound_certificate(&self) -> Option<&str> {
        self.binding
            .certificate_bound
            .then(|| self.http.client_certificate_x5t_s256())
            .flatten()
    }
}
