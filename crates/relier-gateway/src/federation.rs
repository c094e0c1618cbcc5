//! The RP as a federation entity (`[federation]`): its entity statement and its signed JWK
//! set (OpenID Federation 1.0 §3, §5.2.1; the FTN brokers' contract, OP ISB README §13, §14),
//! signed with the store's active entity key. The publisher keeps the signed documents and
//! signs again only when the published keys change or half a document's lifetime has passed;
//! [`sign_from_config`] is `relier federation statement` / `jwks`.

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use relier_core::federation::publish::{
    self, EntityId, RelyingPartyMetadata, entity_statement_claims, signed_jwks_claims,
};
use relier_jose::SigningKey;
use relier_store::{KeyInfo, KeyState, KeyStore, KeyUse, Store, UnixTime, lifecycle};
use tokio::sync::Mutex;

use crate::config::Config;
use crate::error::GatewayError;

/// The two documents an entity publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Document {
    /// The entity statement (`/.well-known/openid-federation`).
    Statement,
    /// The signed JWK set (`/.well-known/signed-jwks`).
    SignedJwks,
}

/// What the statement and the signed JWK set are built from: `[federation]` and the provider
/// the statement describes, derived once.
#[derive(Debug, Clone)]
pub struct Federation {
    entity_id: EntityId,
    statement_lifetime: u64,
    jwks_lifetime: u64,
    rp: RelyingPartyMetadata,
}

impl Federation {
    /// From `config` (presets expanded); `None` without `[federation]`.
    ///
    /// # Errors
    /// [`GatewayError::Config`] (entity id, lifetimes), the provider's configuration errors.
    pub async fn from_config(
        config: &Config,
        store: &dyn Store,
    ) -> Result<Option<Federation>, GatewayError> {
        let Some(f) = &config.federation else {
            return Ok(None);
        };
        f.check()?;
        let rp =
            crate::providers::relying_party_metadata(config, store, f.organization_name.clone())
                .await?;
        Ok(Some(Federation {
            entity_id: f.entity_id(&config.public_url)?,
            statement_lifetime: f.statement_lifetime.as_secs(),
            jwks_lifetime: f.jwks_lifetime.as_secs(),
            rp,
        }))
    }

    /// The entity id.
    pub fn entity_id(&self) -> &EntityId {
        &self.entity_id
    }

    fn lifetime(&self, doc: Document) -> u64 {
        match doc {
            Document::Statement => self.statement_lifetime,
            Document::SignedJwks => self.jwks_lifetime,
        }
    }

    /// Signs `doc` at `now` with the store's active entity key.
    ///
    /// # Errors
    /// [`GatewayError::NoEntityKey`], [`GatewayError::Store`], [`GatewayError::Federation`].
    pub async fn sign(
        &self,
        store: &dyn KeyStore,
        doc: Document,
        now: u64,
    ) -> Result<String, GatewayError> {
        let key: SigningKey = store
            .entity_signing_key()
            .await?
            .ok_or(GatewayError::NoEntityKey)?;
        let lifetime = self.lifetime(doc);
        let rng = SystemRandom::new();
        let token = match doc {
            Document::Statement => {
                let keys = store.entity_jwks(UnixTime(now)).await?;
                let claims = entity_statement_claims(
                    &self.entity_id,
                    UnixTime(now),
                    lifetime,
                    &keys,
                    &self.rp,
                )?;
                publish::sign_entity_statement(&claims, &key, &rng)?
            }
            Document::SignedJwks => {
                let keys = store.jwks(UnixTime(now)).await?;
                let claims = signed_jwks_claims(&self.entity_id, UnixTime(now), lifetime, &keys)?;
                publish::sign_signed_jwks(&claims, &key, &rng)?
            }
        };
        Ok(token)
    }
}

/// One signed document and what it was signed from.
#[derive(Debug)]
struct Cached {
    token: Arc<str>,
    iat: u64,
    keys: String,
}

/// The signed documents of a running gateway, signed again when the published keys change
/// (a rotated key published, a retired one dropped, another entity key active) or half a
/// document's lifetime has passed — never per request.
#[derive(Debug)]
pub(crate) struct Publisher {
    federation: Federation,
    statement: Mutex<Option<Cached>>,
    jwks: Mutex<Option<Cached>>,
}

impl Publisher {
    pub(crate) fn new(federation: Federation) -> Self {
        Publisher {
            federation,
            statement: Mutex::new(None),
            jwks: Mutex::new(None),
        }
    }

    /// `doc`, from the cache while the keys it publishes are the same and it is in the first
    /// half of its lifetime.
    ///
    /// # Errors
    /// As [`Federation::sign`].
    pub(crate) async fn get(
        &self,
        store: &dyn KeyStore,
        doc: Document,
        now: u64,
    ) -> Result<Arc<str>, GatewayError> {
        let keys = published_keys(&store.list_keys().await?, now);
        let slot = match doc {
            Document::Statement => &self.statement,
            Document::SignedJwks => &self.jwks,
        };
        let mut cached = slot.lock().await;
        let half = self.federation.lifetime(doc) / 2;
        if let Some(c) = cached.as_ref()
            && c.keys == keys
            && now < c.iat.saturating_add(half)
            && now >= c.iat
        {
            return Ok(c.token.clone());
        }
        let token: Arc<str> = self.federation.sign(store, doc, now).await?.into();
        *cached = Some(Cached {
            token: token.clone(),
            iat: now,
            keys,
        });
        Ok(token)
    }
}

/// What the documents depend on: every published key (use, kid, state) and the active entity
/// key, at `now`.
fn published_keys(keys: &[KeyInfo], now: u64) -> String {
    let mut out: Vec<String> = keys
        .iter()
        .filter(|k| lifecycle::is_published(k, now))
        .map(|k| format!("{}:{}:{}", k.key_use(), k.kid, k.state))
        .collect();
    out.sort_unstable();
    if let Some(active) = keys
        .iter()
        .find(|k| k.key_use() == KeyUse::Entity && k.state == KeyState::Active)
    {
        out.push(format!("signer:{}", active.kid));
    }
    out.join(",")
}

/// `relier federation statement` / `jwks`: `doc` for the configuration `config` (its
/// `[federation]`, its first provider, its store), signed at `now`.
///
/// # Errors
/// [`GatewayError::Config`] without `[federation]`; as [`Federation::from_config`] and
/// [`Federation::sign`]; opening the store.
pub async fn sign_from_config(
    config: Config,
    doc: Document,
    now: u64,
) -> Result<String, GatewayError> {
    let config = crate::presets::expand(config)?;
    let store = crate::state::open_store(&config).await?;
    let result = async {
        let federation = Federation::from_config(&config, store.as_ref())
            .await?
            .ok_or_else(|| {
                GatewayError::config("no [federation] table: add one (see examples/relier.toml)")
            })?;
        store.advance_keys(UnixTime(now)).await?;
        federation.sign(store.as_ref(), doc, now).await
    }
    .await;
    store.close().await;
    result
}

#[cfg(test)]
#[path = "federation_tests.rs"]
mod tests;
