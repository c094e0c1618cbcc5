//! Sender-constrained tokens of a provider: DPoP (RFC 9449, `dpop_bound_access_tokens`) and
//! certificate-bound tokens (RFC 8705 §3, `tls_client_certificate_bound_access_tokens`), from an
//! inline provider's keys of those names or a registry provider's registration.
//!
//! With DPoP every login gets its own key, generated when it starts and kept (sealed) with the
//! login state and then the session; the session's refreshes, UserInfo and revocation prove
//! possession of that key, and the key is deleted with the session.

use std::sync::Arc;

use relier::RelyingParty;
use relier_core::dpop::DpopKey;
use relier_core::{PendingLogin, Secret};
use url::Url;

use super::{Protocol, Provider};

/// A login about to start: where to send the browser, what to keep until the callback.
#[derive(Debug)]
pub struct LoginStart {
    /// The authorization URL.
    pub url: Url,
    /// State, nonce, PKCE verifier.
    pub pending: PendingLogin,
    /// The login's DPoP key (`alg:base64url(PKCS#8)`), to keep with the login state.
    pub dpop_key: Option<Secret>,
}

impl Provider {
    /// Whether this provider's tokens are DPoP-bound.
    pub fn uses_dpop(&self) -> bool {
        matches!(&self.protocol, Protocol::Oidc(o) if o.tpl.spec.binding().dpop)
    }

    /// Start a login: with DPoP, a new key whose thumbprint goes in the authorization request
    /// (`dpop_jkt`, RFC 9449 §10) and whose proof goes on the pushed request.
    ///
    /// # Errors
    /// The key or the request cannot be made, or a pushed authorization request failed.
    #[cfg(test)]
    pub async fn start_login(&self) -> Result<LoginStart, relier::Error> {
        self.start_login_hinted(None, None).await
    }

    /// [`Self::start_login`] with a `login_hint` (OIDC Core §3.1.2.1) and the identity provider
    /// chosen on the embedded chooser (`ftn_idp_id`) in the request.
    ///
    /// # Errors
    /// As [`Self::start_login`].
    pub async fn start_login_hinted(
        &self,
        login_hint: Option<&str>,
        ftn_idp_id: Option<&str>,
    ) -> Result<LoginStart, relier::Error> {
        let params = self.params_hinted(login_hint, ftn_idp_id);
        let Some(rp) = self.rp().filter(|_| self.uses_dpop()) else {
            let (url, pending) = self.login_url_with(&params).await?;
            return Ok(LoginStart {
                url,
                pending,
                dpop_key: None,
            });
        };
        let key = rp.new_dpop_key()?;
        let dpop_key = Some(key.to_secret()?);
        let (url, pending) = rp.with_dpop_key(key).login_url(&params).await?;
        Ok(LoginStart {
            url,
            pending,
            dpop_key,
        })
    }

    /// The relying party bound to a login's or session's DPoP key (`stored`), or the plain one
    /// without DPoP or without a key (a session from before DPoP was registered). A stored key
    /// that does not read back is logged and `None` returned: the session cannot prove
    /// possession of its tokens any more.
    pub fn rp_for(&self, stored: Option<&Secret>) -> Option<Arc<RelyingParty>> {
        let rp = self.rp()?;
        let Some(stored) = stored.filter(|_| self.uses_dpop()) else {
            return Some(rp);
        };
        match DpopKey::from_secret(stored) {
            Ok(key) => Some(Arc::new(rp.with_dpop_key(key))),
            Err(e) => {
                tracing::error!(provider = %self.name, error = %e, "the session's DPoP key cannot be read");
                None
            }
        }
    }
}
