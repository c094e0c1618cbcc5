//! Sessions on the hot path: the cookie, a sharded in-memory cache keyed by the id's SHA-256
//! (so memory holds no usable cookie either) with precomputed identity headers, a short TTL
//! before re-validating against the store, sliding idle expiry written at most once per
//! `touch_interval`, and token refresh with a single flight per session ([`refresh`]).

mod refresh;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine as _;
use parking_lot::RwLock;
use relier_core::Secret;
use relier_store::{SessionRecord, StoreError, UnixTime, session_id_hash};

pub use refresh::RefreshLocks;

use crate::clock;
use crate::cookies;
use crate::state::{AppState, Settings};

/// Session ids are 32 random bytes, base64url without padding (43 characters).
pub const ID_BYTES: usize = 32;
const ID_LEN: usize = 43;
const SHARDS: usize = 16;

/// `n` random bytes, base64url; `None` if the system random source fails.
pub fn try_random_token(n: usize) -> Option<String> {
    let mut buf = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut buf).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&buf))
}

/// `n` random bytes, base64url (for correlation ids: falls back to the clock).
pub fn random_token(n: usize) -> String {
    try_random_token(n).unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("t{nanos:x}")
    })
}

/// A session as the hot path needs it.
#[derive(Debug)]
pub struct CachedSession {
    /// The stored record (tokens included).
    pub rec: SessionRecord,
    /// Identity headers, computed once.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    validated_at: Instant,
    last_touch: AtomicU64,
    idle_expires_at: AtomicU64,
    retry_refresh_after: AtomicU64,
}

impl CachedSession {
    /// Builds the entry for `rec`, carrying the sliding expiry of the entry it replaces.
    pub fn new(settings: &Settings, rec: SessionRecord, prev: Option<&CachedSession>) -> Self {
        let headers = settings.identity.for_session(&rec);
        let (mut touch, mut idle, mut retry) = (rec.last_seen_at, rec.idle_expires_at, 0);
        if let Some(p) = prev {
            touch = touch.max(p.last_touch.load(Ordering::Relaxed));
            idle = idle.max(p.idle_expires_at.load(Ordering::Relaxed));
            retry = p.retry_refresh_after.load(Ordering::Relaxed);
        }
        idle = idle.min(rec.absolute_expires_at);
        CachedSession {
            headers,
            validated_at: Instant::now(),
            last_touch: AtomicU64::new(touch),
            idle_expires_at: AtomicU64::new(idle),
            retry_refresh_after: AtomicU64::new(retry),
            rec,
        }
    }

    /// When the session ends if unused (idle, capped by absolute).
    pub fn expires_at(&self) -> u64 {
        self.idle_expires_at
            .load(Ordering::Relaxed)
            .min(self.rec.absolute_expires_at)
    }

    /// Whether it has ended at `now`.
    pub fn expired(&self, now: u64) -> bool {
        now >= self.expires_at()
    }

    /// Whether its access token should be refreshed now.
    pub fn needs_refresh(&self, now: u64, before: u64) -> bool {
        self.rec.refresh_token.is_some()
            && self
                .rec
                .access_expires_at
                .is_some_and(|t| t <= now.saturating_add(before))
            && now >= self.retry_refresh_after.load(Ordering::Relaxed)
    }

    fn fresh(&self, ttl: Duration) -> bool {
        self.validated_at.elapsed() < ttl
    }
}

type Shard = RwLock<HashMap<String, Arc<CachedSession>>>;

/// Bounded, sharded cache: id hash → session.
#[derive(Debug)]
pub struct SessionCache {
    shards: Vec<Shard>,
    cap_per_shard: usize,
    ttl: Duration,
}

impl SessionCache {
    /// `capacity` entries at most; entries older than `ttl` are re-read from the store.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        SessionCache {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            cap_per_shard: capacity.div_ceil(SHARDS).max(1),
            ttl,
        }
    }

    fn shard(&self, hash: &str) -> Option<&Shard> {
        let idx = hash
            .get(..2)
            .and_then(|h| usize::from_str_radix(h, 16).ok())
            .unwrap_or(0);
        self.shards.get(idx % SHARDS)
    }

    /// The entry, however old.
    pub fn get(&self, hash: &str) -> Option<Arc<CachedSession>> {
        self.shard(hash)?.read().get(hash).cloned()
    }

    /// Inserts (evicting stale entries, then an arbitrary one, when the shard is full).
    pub fn insert(&self, hash: String, entry: Arc<CachedSession>) {
        let Some(shard) = self.shard(&hash) else {
            return;
        };
        let mut map = shard.write();
        if map.len() >= self.cap_per_shard && !map.contains_key(&hash) {
            let ttl = self.ttl;
            map.retain(|_, v| v.fresh(ttl));
            if map.len() >= self.cap_per_shard
                && let Some(k) = map.keys().next().cloned()
            {
                map.remove(&k);
            }
        }
        map.insert(hash, entry);
    }

    /// Drops an entry (logout, back-channel logout, expiry).
    pub fn remove(&self, hash: &str) {
        if let Some(shard) = self.shard(hash) {
            shard.write().remove(hash);
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.read().len()).sum()
    }
}

/// An authenticated request.
#[derive(Debug)]
pub struct Authed {
    /// The session id (from the cookie).
    pub id: Secret,
    /// Its hash (cache and store key).
    pub hash: String,
    /// The session.
    pub session: Arc<CachedSession>,
}

/// The session id in the request's cookie, if well-formed.
pub fn session_cookie(settings: &Settings, headers: &HeaderMap) -> Option<Secret> {
    let v = cookies::get(headers, settings.cookie_name)?;
    (v.len() == ID_LEN
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then(|| Secret::new(v))
}

/// The request's session: cache (fresh) → store → touch → refresh if due. `Ok(None)` when
/// there is no live session; `Err` only when the store fails.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Authed>, StoreError> {
    let Some(id) = session_cookie(&state.settings, headers) else {
        return Ok(None);
    };
    let hash = session_id_hash(&id);
    let now = clock::now();
    let cached = state.sessions.get(&hash);
    let entry = match cached {
        Some(e) if e.fresh(state.sessions.ttl) => e,
        prev => match state.store.get_session(&id, UnixTime(now)).await? {
            None => {
                state.sessions.remove(&hash);
                return Ok(None);
            }
            Some(rec) => {
                let e = Arc::new(CachedSession::new(&state.settings, rec, prev.as_deref()));
                state.sessions.insert(hash.clone(), e.clone());
                e
            }
        },
    };
    if entry.expired(now) {
        state.sessions.remove(&hash);
        return Ok(None);
    }
    touch(state, &id, &entry, now);
    let session = if entry.needs_refresh(now, state.settings.refresh_before) {
        match refresh::refresh(state, &id, &hash, entry).await? {
            Some(e) => e,
            None => return Ok(None),
        }
    } else {
        entry
    };
    Ok(Some(Authed { id, hash, session }))
}

/// The request's session straight from the store (no cache, no touch, no refresh): for
/// logout, where the store is authoritative.
pub async fn peek(state: &AppState, headers: &HeaderMap) -> Result<Option<Authed>, StoreError> {
    let Some(id) = session_cookie(&state.settings, headers) else {
        return Ok(None);
    };
    let hash = session_id_hash(&id);
    match state.store.get_session(&id, UnixTime(clock::now())).await? {
        None => {
            state.sessions.remove(&hash);
            Ok(None)
        }
        Some(rec) => Ok(Some(Authed {
            session: Arc::new(CachedSession::new(&state.settings, rec, None)),
            id,
            hash,
        })),
    }
}

/// Sliding expiry: at most once per `touch_interval` per session, in the background.
fn touch(state: &AppState, id: &Secret, e: &CachedSession, now: u64) {
    let last = e.last_touch.load(Ordering::Relaxed);
    if now < last.saturating_add(state.settings.touch_interval) {
        return;
    }
    if e.last_touch
        .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    let idle = now
        .saturating_add(state.settings.idle_timeout)
        .min(e.rec.absolute_expires_at);
    e.idle_expires_at.fetch_max(idle, Ordering::Relaxed);
    let store = state.store.clone();
    let id = id.clone();
    tokio::spawn(async move {
        if let Err(err) = store.touch_session(&id, UnixTime(now), idle).await {
            tracing::warn!(error = %err, "could not extend a session's idle expiry");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_sized() {
        let a = try_random_token(ID_BYTES).unwrap();
        assert_eq!(a.len(), ID_LEN);
        assert_ne!(a, try_random_token(ID_BYTES).unwrap());
    }
}
