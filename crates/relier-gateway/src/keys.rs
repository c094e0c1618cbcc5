//! The RP's signing and encryption keys: bootstrap on first start, scheduled rotation (publish → activate →
//! retire) with the store's `rotate_keys` / `advance_keys`, and handing every private_key_jwt
//! provider the active key and the published keys that follow it — which the provider switches
//! to by itself when their time comes (`providers/store_key.rs`), so nothing has to be called
//! before a token endpoint call. The background task also purges expired rows and refreshes
//! the session gauge.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use relier_jose::Algorithm;
use relier_jose::jwe::KeyManagementAlg;
use relier_store::{KeyInfo, KeyState, Store, StoreError, UnixTime};

use crate::config::KeysConfig;
use crate::error::GatewayError;
use crate::metrics::Metrics;
use crate::providers::Providers;

/// The encryption key generated at start when the store has none: RSA-OAEP-256, which OPs
/// support most widely (OIDC Registration §2's default, RSA1_5, is refused — RFC 8725 §3.2;
/// `relier keys generate --use enc` makes the same).
pub(crate) const DEFAULT_ENC_ALG: KeyManagementAlg = KeyManagementAlg::RsaOaep256;

/// The encryption key algorithms to generate at start: each one needed and not active, or
/// [`DEFAULT_ENC_ALG`] when no encryption key is active and none is needed.
fn wanted_enc(needed: &[KeyManagementAlg], active: &[KeyManagementAlg]) -> Vec<KeyManagementAlg> {
    let mut wanted: Vec<KeyManagementAlg> = Vec::new();
    for alg in needed {
        if !alg.is_symmetric() && !active.contains(alg) && !wanted.contains(alg) {
            wanted.push(*alg);
        }
    }
    if active.is_empty() && wanted.is_empty() {
        wanted.push(DEFAULT_ENC_ALG);
    }
    wanted
}

/// Rotation, key transitions and provider key refresh.
pub struct KeyManager {
    store: Arc<dyn Store>,
    providers: Arc<Providers>,
    rotation: Option<u64>,
    propagation: u64,
    lock: tokio::sync::Mutex<()>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for KeyManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyManager")
            .field("rotation", &self.rotation)
            .field("propagation", &self.propagation)
            .finish_non_exhaustive()
    }
}

impl KeyManager {
    /// First start: applies due transitions and generates a key (`keys.alg`, ES256 by default)
    /// when the store has no active key at all, plus one for each algorithm a private_key_jwt
    /// provider needs, and an encryption key for each key-management algorithm a provider's ID
    /// tokens are encrypted with — and one of [`DEFAULT_ENC_ALG`] when the store has no active
    /// encryption key at all, so that the JWKS carries one before any client is registered
    /// against it (OIDC Registration §2: the OP encrypts to a `use: enc` key of the RP's JWKS).
    pub async fn bootstrap(
        store: &dyn Store,
        cfg: &KeysConfig,
        needed: &[Algorithm],
        needed_enc: &[KeyManagementAlg],
        now: u64,
    ) -> Result<(), GatewayError> {
        let default: Algorithm = cfg.alg.parse().map_err(|_| {
            GatewayError::config(format!("keys.alg: unknown algorithm {:?}", cfg.alg))
        })?;
        if default.is_hmac() || default == Algorithm::None {
            return Err(GatewayError::config(format!(
                "keys.alg {default} cannot sign client assertions: use ES256, EdDSA, PS256, RS256…"
            )));
        }
        store.advance_keys(UnixTime(now)).await?;
        let active = store.active_algs().await?;
        let mut wanted: Vec<Algorithm> = needed.to_vec();
        if active.is_empty() && !wanted.contains(&default) {
            wanted.push(default);
        }
        for alg in wanted {
            if !active.contains(&alg) {
                let info = store.generate_key(alg.into(), None, UnixTime(now)).await?;
                tracing::info!(kid = %info.kid, alg = %alg, "generated the RP signing key");
            }
        }
        let active_enc = store.active_enc_algs().await?;
        for alg in wanted_enc(needed_enc, &active_enc) {
            let info = store.generate_key(alg.into(), None, UnixTime(now)).await?;
            tracing::info!(kid = %info.kid, alg = %alg, "generated the RP encryption key");
        }
        Ok(())
    }

    /// A manager for the built providers. `propagation`: how long a rotated key is published
    /// before it is used ([`crate::Config::key_propagation`]: 1 day with `[federation]`).
    pub fn new(
        store: Arc<dyn Store>,
        providers: Arc<Providers>,
        cfg: &KeysConfig,
        propagation: std::time::Duration,
        metrics: Arc<Metrics>,
    ) -> Self {
        KeyManager {
            store,
            providers,
            rotation: cfg.rotation_interval.map(|d| d.as_secs().max(1)),
            propagation: propagation.as_secs(),
            lock: tokio::sync::Mutex::new(()),
            metrics,
        }
    }

    /// One scheduler step: due transitions, a rotation if one is due, provider keys (the
    /// active one and the pending ones, which providers switch to at their activation time
    /// without waiting for a step).
    pub async fn tick(&self, now: u64) -> Result<(), StoreError> {
        let _g = self.lock.lock().await;
        for c in self.store.advance_keys(UnixTime(now)).await? {
            tracing::info!(kid = %c.kid, alg = %c.alg, from = %c.from, to = %c.to, "RP key transition");
        }
        let mut keys = self.store.list_keys().await?;
        if let Some(interval) = self.rotation {
            // Decided and applied under the store's key lock: of instances sharing the store,
            // one rotates each due algorithm.
            let rotated = self
                .store
                .rotate_due_keys(interval, self.propagation, UnixTime(now))
                .await?;
            for k in &rotated {
                self.metrics.key_rotations.fetch_add(1, Ordering::Relaxed);
                tracing::info!(kid = %k.kid, alg = %k.alg, activates_at = ?k.activates_at, "RP key rotation: new key published");
            }
            if !rotated.is_empty() {
                keys = self.store.list_keys().await?;
            }
        }
        self.sync_providers(&keys).await
    }

    async fn sync_providers(&self, keys: &[KeyInfo]) -> Result<(), StoreError> {
        self.sync_decryption_keys(keys).await?;
        for p in self.providers.all() {
            let Some(alg) = p.store_key_alg() else {
                continue;
            };
            let active = keys
                .iter()
                .find(|k| k.alg == alg && k.state == KeyState::Active)
                .map(|k| k.kid.clone());
            if active.is_some()
                && active != p.current_kid()
                && let Some(key) = self.store.signing_key(alg).await?
                && let Err(e) = p.install_key(&key)
            {
                tracing::error!(provider = %p.name, error = %e, "cannot use the new active key");
            }
            let mut pending: Vec<(String, u64)> = keys
                .iter()
                .filter(|k| k.alg == alg && k.state == KeyState::Next)
                .map(|k| (k.kid.clone(), k.activates_at.unwrap_or(0)))
                .collect();
            pending.sort_unstable();
            if pending != p.pending_keys() {
                let keys = self.store.pending_signing_keys(alg).await?;
                if let Err(e) = p.hold_pending_keys(keys) {
                    tracing::error!(provider = %p.name, error = %e, "cannot use a published key");
                }
            }
        }
        Ok(())
    }

    /// Providers whose responses are encrypted to the store's keys decrypt with every stored
    /// key of the algorithm (a new one after a rotation; a retired one until it is removed).
    async fn sync_decryption_keys(&self, keys: &[KeyInfo]) -> Result<(), StoreError> {
        for p in self.providers.all() {
            let algs = p.store_enc_algs();
            if algs.is_empty() {
                continue;
            }
            let mut stored: Vec<String> = keys
                .iter()
                .filter(|k| algs.iter().any(|(_, alg)| k.alg == *alg))
                .map(|k| k.kid.clone())
                .collect();
            stored.sort_unstable();
            stored.dedup();
            if stored == p.current_enc_kids() {
                continue;
            }
            let mut sets = Vec::with_capacity(algs.len());
            for (which, alg) in algs {
                sets.push((which, self.store.decryption_keys(alg).await?));
            }
            p.install_decryption_keys(sets, stored);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encryption_key_is_wanted_when_none_is_active() {
        use KeyManagementAlg::{EcdhEs, RsaOaep256};
        assert_eq!(wanted_enc(&[], &[]), [DEFAULT_ENC_ALG]);
        assert_eq!(wanted_enc(&[EcdhEs], &[]), [EcdhEs]);
        assert_eq!(wanted_enc(&[EcdhEs, EcdhEs], &[RsaOaep256]), [EcdhEs]);
        assert!(wanted_enc(&[], &[EcdhEs]).is_empty());
        assert!(wanted_enc(&[EcdhEs], &[EcdhEs]).is_empty());
        assert_eq!(wanted_enc(&[KeyManagementAlg::Dir], &[]), [DEFAULT_ENC_ALG]);
    }
}
