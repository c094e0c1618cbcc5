//! Exchanged tokens (RFC 8693) per session: obtained once — one request however many of the
//! session's requests ask at the same time — and reused until shortly before they expire.
//! Keyed by the session id's SHA-256 like the session cache, bounded in memory.

use std::collections::HashMap;
use std::time::Instant;

use parking_lot::Mutex;
use relier_core::Secret;
use relier_core::token_exchange::TokenExchangeRequest;

use super::UpstreamTokenError;
use crate::cache::{Authed, RefreshLocks};
use crate::state::AppState;

/// Most exchanged tokens kept at once; beyond, expired ones are swept and, if none is, the new
/// token is used without being kept.
const MAX_ENTRIES: usize = 100_000;
/// An exchanged token is not handed out in its last this-many seconds (nor past half its
/// lifetime's end for shorter ones), so it does not expire on the way to the upstream.
const MARGIN_SECS: u64 = 30;
/// How long a token without `expires_in` (and a session token without a known expiry) is used.
const DEFAULT_LIFETIME_SECS: u64 = 60;

/// A token obtained by exchange.
#[derive(Clone)]
pub struct Exchanged {
    /// The token.
    pub token: Secret,
    /// `token_type` DPoP: bound to the session's key.
    pub bound: bool,
    /// Handed out until then (unix seconds).
    until: u64,
}

/// The exchanged tokens of the sessions, and their single-flight locks.
#[derive(Default)]
pub struct ExchangeCache {
    entries: Mutex<HashMap<String, Exchanged>>,
    locks: RefreshLocks,
}

impl std::fmt::Debug for ExchangeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExchangeCache")
            .field("entries", &self.entries.lock().len())
            .finish_non_exhaustive()
    }
}

impl ExchangeCache {
    fn get(&self, hash: &str, now: u64) -> Option<Exchanged> {
        self.entries
            .lock()
            .get(hash)
            .filter(|e| now < e.until)
            .cloned()
    }

    fn insert(&self, hash: &str, e: Exchanged, now: u64) {
        let mut entries = self.entries.lock();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(hash) {
            entries.retain(|_, e| now < e.until);
            if entries.len() >= MAX_ENTRIES {
                return;
            }
        }
        entries.insert(hash.to_owned(), e);
    }

    /// Forgets a session's token (its session ended).
    pub fn remove(&self, hash: &str) {
        self.entries.lock().remove(hash);
    }
}

/// The session's exchanged token for `request`: cached, or obtained now at the provider with
/// the session's access token `subject` (and its DPoP key, when the session has one).
pub(super) async fn exchanged(
    state: &AppState,
    authed: &Authed,
    subject: &Secret,
    request: &TokenExchangeRequest,
    now: u64,
) -> Result<Exchanged, UpstreamTokenError> {
    let cache = &state.exchanged;
    if let Some(e) = cache.get(&authed.hash, now) {
        return Ok(e);
    }
    let lock = cache.locks.acquire(&authed.hash);
    let result = {
        let _guard = lock.lock().await;
        // Another request of the session exchanged while we waited.
        match cache.get(&authed.hash, now) {
            Some(e) => Ok(e),
            None => fetch(state, authed, subject, request, now).await,
        }
    };
    cache.locks.release(&authed.hash, &lock);
    result
}

async fn fetch(
    state: &AppState,
    authed: &Authed,
    subject: &Secret,
    request: &TokenExchangeRequest,
    now: u64,
) -> Result<Exchanged, UpstreamTokenError> {
    let rec = &authed.session.rec;
    let unavailable = || UpstreamTokenError::ProviderUnavailable {
        provider: rec.provider.clone(),
    };
    let rp = state
        .providers
        .get(&rec.provider)
        .ok_or_else(unavailable)?
        .rp_for(rec.dpop_key.as_ref())
        .ok_or_else(unavailable)?;
    let started = Instant::now();
    let result = rp.exchange_token(subject, request).await;
    state.metrics.token_endpoint(started.elapsed());
    let exchanged = result.map_err(|source| UpstreamTokenError::Exchange {
        provider: rec.provider.clone(),
        source,
    })?;
    let tokens = exchanged.tokens;
    let lifetime = tokens.expires_in.unwrap_or_else(|| {
        rec.access_expires_at
            .map_or(DEFAULT_LIFETIME_SECS, |exp| exp.saturating_sub(now))
    });
    let until = now.saturating_add(lifetime.saturating_sub(MARGIN_SECS.min(lifetime / 2)));
    let e = Exchanged {
        token: tokens.access_token,
        bound: tokens.token_type.eq_ignore_ascii_case("DPoP"),
        until,
    };
    tracing::debug!(provider = %rec.provider, audience = request.audience(), lifetime, "access token exchanged for the upstream");
    if until > now {
        state.exchanged.insert(&authed.hash, e.clone(), now);
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn entry(until: u64) -> Exchanged {
        Exchanged {
            token: Secret::new("t"),
            bound: false,
            until,
        }
    }

    #[test]
    fn tokens_are_handed_out_until_their_end_and_memory_is_bounded() {
        let c = ExchangeCache::default();
        c.insert("a", entry(100), 10);
        assert!(c.get("a", 99).is_some());
        assert!(c.get("a", 100).is_none(), "never at or past its end");
        c.remove("a");
        assert!(c.get("a", 10).is_none());
        for i in 0..MAX_ENTRIES {
            c.insert(&i.to_string(), entry(50), 10);
        }
        c.insert("late", entry(100), 10);
        assert!(c.get("late", 10).is_none(), "full of live tokens: not kept");
        // Once the others expired they are swept to make room.
        c.insert("later", entry(100), 60);
        assert!(c.get("later", 60).is_some());
        assert_eq!(c.entries.lock().len(), 1);
    }
}
