//! The OP's signing keys: fetched on first use, refetched when a day old or when a token
//! names a key the set lacks (OIDC Core §10.1.1), as often as the [`RefetchGate`] allows. The
//! OP's encryption keys (request objects, OIDC Core §6.1) from the same set are refetched once
//! it is older than the response's cache lifetime (`Cache-Control: max-age`, default 60 s):
//! nothing tells the RP that the OP rotated the key it encrypts to.
//!
//! One fetch at a time (single flight): a caller whose key is missing waits for the fetch under
//! way, and when that fetch began after the caller checked its token, takes its answer instead
//! of fetching again — a hundred logins with a new `kid` cost one fetch. Reading the keys never
//! waits for a fetch unless they are stale.
//!
//! The keys come from one of two sources, chosen when the relying party is built: the OP's
//! `jwks_uri` (plain), or — for an OP in a federation — its `signed_jwks_uri`, verified with
//! the entity keys pinned from its entity statement ([`SignedJwksSource`]); the unsigned
//! `jwks_uri` is then never consulted. A signed set that fails a check is refused (the check
//! named) and the last good set is kept.

use std::sync::{Arc, Mutex, PoisonError};

use relier_core::UnixTime;
use relier_core::federation::trust::SignedJwksSource;
use relier_core::jwks::{self, KeySet, KeySource, MissingKey, RefetchGate};
use tokio::sync::MutexGuard;
use tracing::Instrument as _;

use super::RelyingParty;
use crate::Error;

/// JWKS older than this is refetched before use, so keys the OP withdrew stop verifying.
const JWKS_MAX_AGE_SECS: u64 = 24 * 3600;

/// The OP's keys as last fetched, shared by the relying parties of one client.
pub(super) struct JwksCache {
    /// The keys and the fetch counters: locked only to read or replace them, never across an
    /// await.
    current: Mutex<Current>,
    /// Held across a fetch (one at a time), with the refetch policy it applies.
    fetching: tokio::sync::Mutex<RefetchGate>,
    /// `Some`: the keys come only from this signed set, never from `jwks_uri`.
    signed: Option<SignedJwksSource>,
}

#[derive(Clone)]
struct Current {
    keys: Arc<KeySet>,
    fetched_at: Option<UnixTime>,
    /// RFC 9111 §5.2.2: the last response's cache lifetime, seconds.
    lifetime: u64,
    /// Fetches begun so far; each is numbered by this count when it begins.
    begun: u64,
    /// The number of the fetch `keys` came from (0: none yet).
    from_fetch: u64,
}

/// What a caller checked a token against: the keys, and how many fetches had begun when it
/// looked at them (a fetch numbered higher began afterwards).
struct Seen {
    keys: Arc<KeySet>,
    begun: u64,
}

impl JwksCache {
    /// Nothing fetched yet; refetches limited by `gate`; keys from `signed` when given, else
    /// from the OP's `jwks_uri`.
    pub(super) fn new(gate: RefetchGate, signed: Option<SignedJwksSource>) -> Self {
        Self {
            current: Mutex::new(Current {
                keys: Arc::new(KeySet::empty()),
                fetched_at: None,
                lifetime: jwks::DEFAULT_CACHE_LIFETIME_SECS,
                begun: 0,
                from_fetch: 0,
            }),
            fetching: tokio::sync::Mutex::new(gate),
            signed,
        }
    }

    fn with_current<T>(&self, f: impl FnOnce(&mut Current) -> T) -> T {
        // Nothing that can panic runs under this lock; a poisoned one still holds whole keys.
        f(&mut self.current.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn current(&self) -> Current {
        self.with_current(|c| c.clone())
    }
}

impl RelyingParty {
    /// Run `check` against the OP's keys. When it fails for a key the set lacks (`missing`: the
    /// OP rotated, OIDC Core §10.1.1), fetch the JWKS again — as often as the [`RefetchGate`]
    /// allows for a token from `source` — and run it once more: the one place that policy lives.
    pub(super) async fn with_op_keys<T, E>(
        &self,
        source: KeySource,
        check: impl Fn(&KeySet) -> Result<T, E>,
        missing: impl Fn(&E) -> Option<MissingKey>,
    ) -> Result<T, Error>
    where
        Error: From<E>,
    {
        let seen = self.seen_keys(false).await?;
        let e = match check(&seen.keys) {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let Some(key) = missing(&e) else {
            return Err(e.into());
        };
        match self.refetch_keys(&seen, source, &key).await? {
            Some(fresh) => Ok(check(&fresh)?),
            None => Err(e.into()),
        }
    }

    /// Whether the OP's keys have been fetched (and, for a signed set, verified) at least once:
    /// the gateway's readiness. A later failed refetch keeps the last good set, so this stays
    /// true.
    pub fn op_keys_loaded(&self) -> bool {
        self.jwks.current().from_fetch > 0
    }

    /// Current OP keys, fetched on first use and when older than a day (`force`: now).
    pub async fn keys(&self, force: bool) -> Result<Arc<KeySet>, Error> {
        Ok(self.seen_keys(force).await?.keys)
    }

    /// The OP's keys to encrypt to: fetched again once older than the last JWKS response's
    /// cache lifetime (RFC 9111 §5.2.2 `max-age`, default 60 s), so a rotated OP encryption
    /// key is used without a failed login first.
    pub(super) async fn encryption_keys(&self) -> Result<Arc<KeySet>, Error> {
        let looked = self.jwks.current();
        let fresh = looked
            .fetched_at
            .is_some_and(|t| self.now().0.saturating_sub(t.0) < looked.lifetime);
        Ok(self.seen_keys(!fresh).await?.keys)
    }

    async fn seen_keys(&self, force: bool) -> Result<Seen, Error> {
        let looked = self.jwks.current();
        let stale = looked
            .fetched_at
            .is_none_or(|t| self.now().0.saturating_sub(t.0) > JWKS_MAX_AGE_SECS);
        if !stale && !force {
            return Ok(Seen {
                keys: looked.keys,
                begun: looked.begun,
            });
        }
        let one = self.jwks.fetching.lock().await;
        let after = self.jwks.current();
        if after.from_fetch > looked.begun {
            // Another caller's fetch began after this one looked, and has answered.
            return Ok(Seen {
                keys: after.keys,
                begun: after.begun,
            });
        }
        match self.fetch(&one).await {
            // A signed set that fails a check while a good one is held: keep the good one
            // (the failed check is logged), checked again on the next refetch.
            Err(Error::Jwks(e @ jwks::JwksError::Untrusted(_))) if after.from_fetch > 0 => {
                tracing::warn!(issuer = %self.metadata.issuer, error = %e, "signed JWKS refused; keeping the last good set");
                self.jwks.with_current(|c| c.fetched_at = Some(self.now()));
                Ok(Seen {
                    keys: after.keys,
                    begun: self.jwks.current().begun,
                })
            }
            other => other,
        }
    }

    /// Keys to check a token again with, after it named `missing`: those of a fetch that began
    /// after the token was checked (however it was limited: its answer is the OP's current
    /// set), else of one refetch if the gate allows for `source`; else any keys newer than the
    /// ones checked. `None` when there is nothing new to check against.
    async fn refetch_keys(
        &self,
        seen: &Seen,
        source: KeySource,
        missing: &MissingKey,
    ) -> Result<Option<Arc<KeySet>>, Error> {
        let mut gate = self.jwks.fetching.lock().await;
        let current = self.jwks.current();
        if current.from_fetch > seen.begun {
            return Ok(Some(current.keys));
        }
        if gate.try_acquire(self.now(), source, missing) {
            tracing::info!(issuer = %self.metadata.issuer, kid = ?missing.kid, "unknown signing key; refetching JWKS");
            return Ok(Some(self.fetch(&gate).await?.keys));
        }
        tracing::warn!(issuer = %self.metadata.issuer, "unknown signing key; JWKS refetch rate-limited");
        Ok((!Arc::ptr_eq(&current.keys, &seen.keys)).then_some(current.keys))
    }

    /// Fetch the JWKS; `_one` proves the caller holds the fetching lock.
    async fn fetch(&self, one: &MutexGuard<'_, RefetchGate>) -> Result<Seen, Error> {
        let span = tracing::info_span!("op_jwks_fetch", issuer = %self.metadata.issuer);
        self.fetch_keys(one).instrument(span).await
    }

    async fn fetch_keys(&self, _one: &MutexGuard<'_, RefetchGate>) -> Result<Seen, Error> {
        let number = self.jwks.with_current(|c| {
            c.begun += 1;
            c.begun
        });
        let keys = match (&self.jwks.signed, &self.metadata.jwks_uri) {
            (Some(signed), _) => {
                let resp = self.http.send(signed.request()).await?;
                let lifetime = jwks::cache_lifetime(&resp);
                let keys = signed.key_set(&resp, self.now()).inspect_err(|e| {
                    tracing::warn!(issuer = %self.metadata.issuer, uri = %signed.uri, error = %e, "signed JWKS refused");
                })?;
                Some((Arc::new(keys), lifetime))
            }
            (None, Some(uri)) => {
                let resp = self.http.send(KeySet::request(uri)).await?;
                let lifetime = jwks::cache_lifetime(&resp);
                Some((Arc::new(KeySet::from_response(uri, &resp)?), lifetime))
            }
            // An OP using only HS* ID tokens may publish no JWKS.
            (None, None) => None,
        };
        let now = self.now();
        Ok(self.jwks.with_current(|c| {
            if let Some((k, lifetime)) = keys {
                c.keys = k;
                c.lifetime = lifetime;
            }
            c.fetched_at = Some(now);
            c.from_fetch = number;
            Seen {
                keys: c.keys.clone(),
                begun: c.begun,
            }
        }))
    }
}
