//! The session cache on the hot path: a sharded in-memory map keyed by the session id's
//! SHA-256 (so memory holds no usable cookie either) with precomputed identity headers, the
//! session cookie's format, and the per-session refresh locks. No I/O here: [`crate::session`]
//! reads the store and refreshes tokens.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use indexmap::IndexMap;
use parking_lot::{Mutex, RwLock};
use relier_core::Secret;
use relier_core::dpop::{DpopError, DpopKey};
use relier_store::SessionRecord;

use crate::cookies;
use crate::settings::Settings;

/// Session ids are 32 random bytes, base64url without padding (43 characters).
pub const ID_BYTES: usize = 32;
const ID_LEN: usize = 43;
const SHARDS: usize = 16;
/// A full shard is swept for stale entries on one insert in this many.
const SWEEP_EVERY: u64 = 64;

/// A session as the hot path needs it.
#[derive(Debug)]
pub struct CachedSession {
    /// The stored record (tokens included).
    pub rec: SessionRecord,
    /// Identity headers, computed once.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    validated_at: Instant,
    /// Last time the idle expiry was written (unix seconds).
    pub(crate) last_touch: AtomicU64,
    /// Sliding idle expiry (unix seconds).
    pub(crate) idle_expires_at: AtomicU64,
    /// No refresh before this after a transient failure (unix seconds).
    pub(crate) retry_refresh_after: AtomicU64,
    /// The session's DPoP key, read back from `rec.dpop_key` once per cache entry (a new
    /// record — a refresh, a new key — is a new entry).
    dpop_key: OnceLock<DpopKey>,
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
            dpop_key: OnceLock::new(),
            rec,
        }
    }

    /// The DPoP key the session's tokens are bound to, if it has one: unsealed and parsed on
    /// the first use of this entry, not on every proxied request.
    ///
    /// # Errors
    /// The stored key does not read back (not remembered: the next call tries again).
    pub fn dpop_key(&self) -> Result<Option<&DpopKey>, DpopError> {
        let Some(stored) = self.rec.dpop_key.as_ref() else {
            return Ok(None);
        };
        if let Some(k) = self.dpop_key.get() {
            return Ok(Some(k));
        }
        let key = DpopKey::from_secret(stored)?;
        Ok(Some(self.dpop_key.get_or_init(|| key)))
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

    /// Validated against the store less than `ttl` before `now`.
    pub(crate) fn fresh_at(&self, now: Instant, ttl: Duration) -> bool {
        now.saturating_duration_since(self.validated_at) < ttl
    }
}

/// A logout on any instance ends the session on every instance within this: a cached entry
/// older than this is trusted only while the feed of ended sessions
/// ([`SessionCache::apply_ended`]) has been read within this too.
pub const LOGOUT_PROPAGATION: Duration = Duration::from_secs(1);

/// How often the background task reads the store's feed of ended sessions.
pub const ENDED_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// How far back each read of the feed looks: covers several missed polls, and a session read
/// from the store just before its logout and cached just after a poll (the next poll drops
/// it again).
pub const ENDED_WINDOW: Duration = Duration::from_secs(5);

/// Ended sessions are remembered this long, so a store read that raced with the logout cannot
/// put the session back into the cache.
const ENDED_MEMORY: Duration = Duration::from_secs(10);

/// Most ended sessions remembered at once (beyond it the oldest go first; the cache then only
/// relies on the feed's next read).
const MAX_ENDED: usize = 100_000;

/// What the cache knows of sessions other instances ended.
#[derive(Debug)]
struct Ended {
    /// Id hash → when this instance learnt that it ended.
    recent: HashMap<String, Instant>,
    /// When the last successful read of the feed started.
    synced: Option<Instant>,
}

/// An `IndexMap`: a full shard evicts an entry at a random index in O(1). (Evicting "the
/// first key" of a `HashMap` walks past every slot emptied before it, a scan that grows with
/// each eviction.)
type Shard = RwLock<IndexMap<String, Arc<CachedSession>>>;

/// Bounded, sharded cache: id hash → session.
#[derive(Debug)]
pub struct SessionCache {
    shards: Vec<Shard>,
    cap_per_shard: usize,
    /// How long an entry is trusted before it is re-read from the store.
    pub(crate) ttl: Duration,
    ended: Mutex<Ended>,
    /// Inserts into a full shard so far (every [`SWEEP_EVERY`]th sweeps stale entries).
    full_inserts: AtomicU64,
}

impl SessionCache {
    /// `capacity` entries at most; entries older than `ttl` are re-read from the store.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        SessionCache {
            shards: (0..SHARDS).map(|_| RwLock::new(IndexMap::new())).collect(),
            cap_per_shard: capacity.div_ceil(SHARDS).max(1),
            ttl,
            ended: Mutex::new(Ended {
                recent: HashMap::new(),
                synced: None,
            }),
            full_inserts: AtomicU64::new(0),
        }
    }

    /// Whether `entry` may be used without reading the store again: validated less than the
    /// cache TTL ago, and either less than [`LOGOUT_PROPAGATION`] ago or with the feed of ended
    /// sessions read since (a logout elsewhere would have removed it).
    pub fn trusted(&self, entry: &CachedSession) -> bool {
        let age = entry.validated_at.elapsed();
        if age >= self.ttl {
            return false;
        }
        age < LOGOUT_PROPAGATION
            || self
                .ended
                .lock()
                .synced
                .is_some_and(|t| t.elapsed() < LOGOUT_PROPAGATION)
    }

    /// Whether the session `hash` was reported ended by the feed (a store read that raced
    /// with its logout may still have returned it).
    pub fn ended(&self, hash: &str) -> bool {
        self.ended.lock().recent.contains_key(hash)
    }

    /// Applies one read of the feed of ended sessions, started at `started`: drops them from
    /// the cache and remembers them for a while.
    pub fn apply_ended(&self, hashes: Vec<String>, started: Instant) {
        let now = Instant::now();
        let mut ended = self.ended.lock();
        ended
            .recent
            .retain(|_, at| now.saturating_duration_since(*at) < ENDED_MEMORY);
        for hash in hashes {
            self.remove(&hash);
            if ended.recent.len() < MAX_ENDED {
                ended.recent.entry(hash).or_insert(now);
            }
        }
        ended.synced = Some(ended.synced.map_or(started, |t| t.max(started)));
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
        if self.ended(&hash) {
            return;
        }
        let Some(shard) = self.shard(&hash) else {
            return;
        };
        let mut map = shard.write();
        if map.len() >= self.cap_per_shard && !map.contains_key(&hash) {
            // A full shard: now and then drop every stale entry (a scan of the shard), else
            // an arbitrary one, so that a stream of misses does not scan on every insert.
            let n = self.full_inserts.fetch_add(1, Ordering::Relaxed);
            if n.is_multiple_of(SWEEP_EVERY) {
                // One clock read for the sweep, not one per entry (under the shard's lock).
                let (now, ttl) = (Instant::now(), self.ttl);
                map.retain(|_, v| v.fresh_at(now, ttl));
            }
            if map.len() >= self.cap_per_shard {
                // A pseudo-random index from the insert count (Fibonacci hashing): no
                // entry is favoured, and nothing an attacker sends picks the victim.
                let spread = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
                let victim = usize::try_from(spread).unwrap_or(0) % map.len();
                map.swap_remove_index(victim);
            }
        }
        map.insert(hash, entry);
    }

    /// Drops an entry (logout, back-channel logout, expiry).
    pub fn remove(&self, hash: &str) {
        if let Some(shard) = self.shard(hash) {
            shard.write().swap_remove(hash);
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

/// Per-session refresh locks (entries removed when nobody holds or waits on them).
#[derive(Debug, Default)]
pub struct RefreshLocks {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl RefreshLocks {
    /// The lock of a session (created on first use).
    pub(crate) fn acquire(&self, hash: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.map.lock().entry(hash.to_owned()).or_default().clone()
    }

    /// Drops the lock when nobody else holds or waits on it.
    pub(crate) fn release(&self, hash: &str, lock: &Arc<tokio::sync::Mutex<()>>) {
        let mut map = self.map.lock();
        // Ours and the map's: nobody else waits.
        if map.get(hash).is_some_and(|l| Arc::ptr_eq(l, lock)) && Arc::strong_count(lock) <= 2 {
            map.remove(hash);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::try_random_token;

    #[test]
    fn tokens_are_random_and_sized() {
        let a = try_random_token(ID_BYTES).unwrap();
        assert_eq!(a.len(), ID_LEN);
        assert_ne!(a, try_random_token(ID_BYTES).unwrap());
    }
}
