//! One provider of a configuration built as `relier serve` builds it, for a login that is not
//! the gateway's (`relier login --preset ftn`): the store keys it needs made as at a first
//! start, the provider assembled as the gateway assembles it (its entity statement, signed JWK set,
//! request objects, client assertions and ID token decryption included), and with
//! `[federation]` the signed JWK set its OP fetches signed once.

use std::sync::Arc;

use relier::RelyingParty;
use relier_store::{Store, UnixTime};
use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::GatewayError;
use crate::federation::{Document, Federation};
use crate::providers::{LoginStart, Provider};

/// A provider ready for one login.
#[derive(Debug)]
pub struct StandaloneLogin {
    provider: Arc<Provider>,
    signed_jwks: Option<String>,
}

impl StandaloneLogin {
    /// The provider `name` of `config` (presets expanded) on `store`.
    ///
    /// # Errors
    /// The configuration's, the store's, the provider's (its OP unreachable, its entity
    /// statement refused); [`GatewayError::NoEntityKey`] with `[federation]` and no entity key.
    pub async fn build(
        config: &Config,
        name: &str,
        store: &dyn Store,
    ) -> Result<StandaloneLogin, GatewayError> {
        let now = crate::clock::now();
        let algs = crate::providers::needed_store_algs(config, store).await?;
        let enc_algs = crate::providers::needed_enc_algs(config, store).await?;
        crate::keys::KeyManager::bootstrap(store, &config.keys, &algs, &enc_algs, now).await?;
        store.advance_keys(UnixTime(now)).await?;
        let providers = crate::providers::build_all(config, store).await?;
        let provider = providers.get(name).cloned().ok_or_else(|| {
            GatewayError::config(format!(
                "provider {name}: not ready (its OP did not answer)"
            ))
        })?;
        let signed_jwks = match Federation::from_config(config, store).await? {
            Some(f) => Some(f.sign(store, Document::SignedJwks, now).await?),
            None => None,
        };
        Ok(StandaloneLogin {
            provider,
            signed_jwks,
        })
    }

    /// The signed JWK set to serve at `/.well-known/signed-jwks` (with `[federation]`).
    pub fn signed_jwks(&self) -> Option<&str> {
        self.signed_jwks.as_deref()
    }

    /// Starts a login: the authorization URL and what the callback needs.
    ///
    /// # Errors
    /// The request (object) cannot be made.
    pub async fn start(&self) -> Result<LoginStart, relier::Error> {
        self.provider.start_login_hinted(None, None).await
    }

    /// The relying party that completes the login `start` began.
    pub fn relying_party(&self, start: &LoginStart) -> Option<Arc<RelyingParty>> {
        self.provider.rp_for(start.dpop_key.as_ref())
    }

    /// The user's stable identifier, as the gateway keys sessions on it: `sub`, or the
    /// provider's subject claim from `claims` (`preset = "ftn"`: the personal identity code).
    ///
    /// # Errors
    /// The name of the subject claim that neither `sub` nor `claims` supplies.
    pub fn subject(&self, sub: &str, claims: &Map<String, Value>) -> Result<String, &'static str> {
        self.provider.subject(sub, claims)
    }
}
