//! The OP's signing keys: fetched on first use, refetched when a day old or when a token
//! names a key the set lacks (OIDC Core §10.1.1), as often as the [`RefetchGate`] allows.

use std::sync::Arc;

use relier_core::UnixTime;
use relier_core::jwks::{KeySet, KeySource, RefetchGate};

use super::RelyingParty;
use crate::Error;

/// JWKS older than this is refetched before use, so keys the OP withdrew stop verifying.
const JWKS_MAX_AGE_SECS: u64 = 24 * 3600;

/// The OP's keys as last fetched, shared by the relying parties of one client.
pub(super) struct JwksCache {
    keys: Arc<KeySet>,
    fetched_at: Option<UnixTime>,
    gate: RefetchGate,
}

impl JwksCache {
    /// Nothing fetched yet; refetches limited by `gate`.
    pub(super) fn new(gate: RefetchGate) -> Self {
        Self {
            keys: Arc::new(KeySet::empty()),
            fetched_at: None,
            gate,
        }
    }
}

impl RelyingParty {
    /// Run `check` against the OP's keys. When it fails because the signing key is unknown (the
    /// OP rotated, OIDC Core §10.1.1), fetch the JWKS again — as often as the [`RefetchGate`]
    /// allows for a token from `source` — and run it once more: the one place that policy lives.
    pub(super) async fn with_op_keys<T, E>(
        &self,
        source: KeySource,
        check: impl Fn(&KeySet) -> Result<T, E>,
        refetchable: impl Fn(&E) -> bool,
    ) -> Result<T, Error>
    where
        Error: From<E>,
    {
        let keys = self.keys(false).await?;
        match check(&keys) {
            Err(e) if refetchable(&e) => match self.refetch_keys(&keys, source).await? {
                Some(fresh) => Ok(check(&fresh)?),
                None => Err(e.into()),
            },
            other => Ok(other?),
        }
    }

    /// Current OP keys, fetched on first use and when older than a day.
    pub async fn keys(&self, force: bool) -> Result<Arc<KeySet>, Error> {
        let mut cache = self.jwks.lock().await;
        let now = self.now();
        let stale = cache
            .fetched_at
            .is_none_or(|t| now.0.saturating_sub(t.0) > JWKS_MAX_AGE_SECS);
        if stale || force {
            self.fetch_into(&mut cache, now).await?;
        }
        Ok(cache.keys.clone())
    }

    /// Keys newer than `seen`: the ones another task fetched in the meantime (concurrent
    /// refetches coalesce under the lock), else one refetch if the gate allows for `source`;
    /// `None` when rate-limited.
    async fn refetch_keys(
        &self,
        seen: &Arc<KeySet>,
        source: KeySource,
    ) -> Result<Option<Arc<KeySet>>, Error> {
        let mut cache = self.jwks.lock().await;
        if !Arc::ptr_eq(&cache.keys, seen) {
            return Ok(Some(cache.keys.clone()));
        }
        let now = self.now();
        if !cache.gate.try_acquire(now, source) {
            tracing::warn!(issuer = %self.metadata.issuer, "unknown signing key; JWKS refetch rate-limited");
            return Ok(None);
        }
        tracing::info!(issuer = %self.metadata.issuer, "unknown signing key; refetching JWKS");
        self.fetch_into(&mut cache, now).await?;
        Ok(Some(cache.keys.clone()))
    }

    async fn fetch_into(&self, cache: &mut JwksCache, now: UnixTime) -> Result<(), Error> {
        let Some(uri) = &self.metadata.jwks_uri else {
            // An OP using only HS* ID tokens may publish no JWKS.
            cache.fetched_at = Some(now);
            return Ok(());
        };
        let resp = self.http.send(KeySet::request(uri)).await?;
        cache.keys = Arc::new(KeySet::from_response(uri, &resp)?);
        cache.fetched_at = Some(now);
        Ok(())
    }
}
