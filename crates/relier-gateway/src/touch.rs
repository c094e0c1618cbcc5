//! Sliding expiry, written in the background and paced. A request that extends its session's
//! idle expiry (at most once per `touch_interval` per session) only records it here; the
//! background task writes what has gathered every [`TOUCH_FLUSH_INTERVAL`], once more on
//! shutdown, in one statement per 200 sessions ([`relier_store::SessionStore::touch_sessions`]).
//! The flushes are frequent and therefore small: on PostgreSQL a touch is a non-HOT update
//! (the idle expiry is indexed) of a random page, and a quarter second's worth written at once
//! held one of a small machine's cores for tens of milliseconds, which the reads of sessions
//! that miss the cache queued behind (docs/benchmarks.md, "PostgreSQL at one million
//! sessions": p99 4.4–6.6 ms with 250 ms flushes, 3.5–3.6 ms with 25 ms).
//!
//! Each write is a random page of the sessions table (and of its expiry index), ≈ 65 µs of
//! SQLite work per session on a store of a million sessions; a wave of first checks (a
//! restart, the morning's logins) would otherwise turn into seconds of writing that compete
//! with the reads of sessions that miss the cache. So the writes are paced:
//! - a touch is **urgent** once less than half the idle timeout (at least a minute) is left of
//!   the idle expiry the store holds; urgent touches are all written at the next flush;
//! - the others are written at most `[session] touch_writes_per_second` a second (a share
//!   of it per flush), the rest wait for a later flush.
//!
//! A session in use therefore never reaches the idle expiry in the store; under a wave of
//! touches its stored expiry may lag its last use by up to half the idle timeout (the
//! renewal rule of ASP.NET Core's sliding cookies), and catches up as the wave is written.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use parking_lot::Mutex;
use relier_store::{SessionStore, SessionTouch, UnixTime};

/// How often gathered touches are written.
pub const TOUCH_FLUSH_INTERVAL: Duration = Duration::from_millis(25);

/// Most sessions waiting for their touch; beyond it a new touch is refused (the caller tries
/// again at its next check) and the session keeps the idle expiry the store holds.
const MAX_PENDING: usize = 200_000;

/// The touches waiting, most urgent first. A flush takes what it writes from the front, so
/// neither it nor a request's push ever walks the whole queue under the lock; the index is
/// sized for [`MAX_PENDING`] up front, so a push never rehashes it either (pages of it that are
/// never used are never touched).
#[derive(Debug)]
struct Queue {
    /// `(urgent from, id hash)` → `(now, new idle expiry)` of the session's latest touch.
    by_urgency: BTreeMap<(u64, String), (UnixTime, u64)>,
    /// id hash → its key's urgency in `by_urgency`.
    urgency: HashMap<String, u64>,
    /// Relaxed touches the pace allows now, in thousandths: each flush adds
    /// `per_second × interval in ms` and writes the whole ones (so a pace that is not a
    /// multiple of the flush rate is kept exactly, not rounded per flush).
    credit_milli: u128,
}

/// Touches waiting to be written, one per session (the latest).
#[derive(Debug)]
pub struct Touches {
    queue: Mutex<Queue>,
    /// `per_second × TOUCH_FLUSH_INTERVAL` in milliseconds: the credit a flush adds.
    credit_per_flush: u128,
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            by_urgency: BTreeMap::new(),
            urgency: HashMap::with_capacity(MAX_PENDING),
            credit_milli: 0,
        }
    }
}

impl Default for Touches {
    fn default() -> Self {
        Self::new(1000)
    }
}

impl Touches {
    /// Writes at most `per_second` touches a second that are not urgent.
    #[must_use]
    pub fn new(per_second: u32) -> Self {
        Touches {
            queue: Mutex::default(),
            credit_per_flush: u128::from(per_second.max(1)) * TOUCH_FLUSH_INTERVAL.as_millis(),
        }
    }

    /// Touches waiting to be written.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.queue.lock().urgency.len()
    }

    /// Records a touch, replacing an earlier one of the same session; `stored_idle_expiry` is
    /// the idle expiry the store holds for the session (or a pending touch of it does) and
    /// `idle_timeout` the configured one, both in seconds. False when it was refused (too
    /// many waiting).
    pub fn push(&self, touch: SessionTouch, stored_idle_expiry: u64, idle_timeout: u64) -> bool {
        let mut urgent_at = stored_idle_expiry.saturating_sub((idle_timeout / 2).max(60));
        let value = (touch.now, touch.idle_expires_at);
        let mut q = self.queue.lock();
        let Queue {
            by_urgency,
            urgency,
            ..
        } = &mut *q;
        if let Some(at) = urgency.get_mut(&touch.id_hash) {
            // The store still holds what the first pending touch saw.
            let old = (*at, touch.id_hash);
            urgent_at = urgent_at.min(old.0);
            *at = urgent_at;
            by_urgency.remove(&old);
            by_urgency.insert((urgent_at, old.1), value);
            return true;
        }
        if urgency.len() >= MAX_PENDING {
            return false;
        }
        urgency.insert(touch.id_hash.clone(), urgent_at);
        by_urgency.insert((urgent_at, touch.id_hash), value);
        true
    }

    /// Writes the urgent touches and up to the flush's share of the others, most urgent
    /// first (every pending touch when `everything`, on shutdown).
    pub async fn flush(&self, store: &dyn SessionStore, now: u64, everything: bool) {
        let batch = self.take(now, everything);
        if batch.is_empty() {
            return;
        }
        if let Err(e) = store.touch_sessions(&batch).await {
            tracing::warn!(error = %e, sessions = batch.len(), "could not extend sessions' idle expiry");
        }
    }

    fn take(&self, now: u64, everything: bool) -> Vec<SessionTouch> {
        let mut q = self.queue.lock();
        // Unused pace is not saved up beyond one flush's (or one touch's) worth: an idle
        // queue must not turn into a burst later.
        let cap = self.credit_per_flush.max(1000);
        q.credit_milli = (q.credit_milli + self.credit_per_flush).min(cap);
        let whole = q.credit_milli / 1000;
        let mut relaxed = if everything {
            usize::MAX
        } else {
            usize::try_from(whole).unwrap_or(usize::MAX)
        };
        let allowed = relaxed;
        let mut batch = Vec::new();
        while let Some(entry) = q.by_urgency.first_entry() {
            if now < entry.key().0 {
                if relaxed == 0 {
                    break;
                }
                relaxed -= 1;
            }
            let ((_, id_hash), (touched, idle_expires_at)) = entry.remove_entry();
            q.urgency.remove(&id_hash);
            batch.push(SessionTouch {
                id_hash,
                now: touched,
                idle_expires_at,
            });
        }
        if !everything {
            let used = u128::try_from(allowed.saturating_sub(relaxed)).unwrap_or(u128::MAX);
            q.credit_milli = q.credit_milli.saturating_sub(used.saturating_mul(1000));
        }
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: u64 = 8 * 3600;

    fn touch(hash: &str, now: u64) -> SessionTouch {
        SessionTouch {
            id_hash: hash.into(),
            now: UnixTime(now),
            idle_expires_at: now + IDLE,
        }
    }

    #[test]
    fn the_latest_touch_of_a_session_wins_and_the_stored_expiry_is_the_first_seen() {
        let t = Touches::default();
        assert!(t.push(touch("h", 10), 10 + IDLE, IDLE));
        assert!(t.push(touch("h", 30), 30 + IDLE, IDLE));
        assert_eq!(t.pending(), 1);
        assert_eq!(t.queue.lock().urgency["h"], 10 + IDLE / 2);
        let written = t.take(u64::MAX, false);
        assert_eq!(written.len(), 1);
        assert_eq!(written[0].now, UnixTime(30));
    }

    #[test]
    fn urgent_touches_all_go_and_the_others_are_paced() {
        let t = Touches::new(80); // 2 per 25 ms flush
        assert_eq!(t.credit_per_flush, 2000);
        let now = 100_000;
        // Stored expiry far away: relaxed. Close (under half the idle timeout): urgent.
        for i in 0..5 {
            assert!(t.push(touch(&format!("relaxed{i}"), now), now + IDLE - 60, IDLE));
        }
        for i in 0..3 {
            assert!(t.push(touch(&format!("urgent{i}"), now), now + IDLE / 2 - 1, IDLE));
        }
        let first = t.take(now, false);
        assert_eq!(
            first
                .iter()
                .filter(|x| x.id_hash.starts_with("urgent"))
                .count(),
            3
        );
        assert_eq!(first.len(), 5);
        assert_eq!(t.take(now, false).len(), 2);
        // Time passes: what is left turns urgent and goes at once.
        assert_eq!(t.pending(), 1);
        assert_eq!(t.take(now + IDLE / 2, false).len(), 1);
        assert_eq!(t.pending(), 0);
    }

    #[test]
    fn a_pace_below_the_flush_rate_is_kept_exactly_and_not_saved_up() {
        // 10 a second at 40 flushes a second: one touch every fourth flush.
        let t = Touches::new(10);
        for i in 0..20 {
            assert!(t.push(touch(&format!("s{i}"), 0), IDLE, IDLE));
        }
        let written: Vec<usize> = (0..8).map(|_| t.take(0, false).len()).collect();
        assert_eq!(written, [0, 0, 0, 1, 0, 0, 0, 1]);
        // An empty queue for a while does not let a burst through afterwards.
        let idle = Touches::new(1000);
        for _ in 0..100 {
            assert!(idle.take(0, false).is_empty());
        }
        for i in 0..100 {
            assert!(idle.push(touch(&format!("s{i}"), 0), IDLE, IDLE));
        }
        assert_eq!(idle.take(0, false).len(), 25);
    }

    #[test]
    fn a_short_idle_timeout_is_urgent_a_minute_before_the_stored_expiry() {
        let t = Touches::new(4);
        assert!(t.push(touch("h", 0), 100, 100));
        assert_eq!(t.queue.lock().urgency["h"], 40);
    }

    #[test]
    fn shutdown_writes_everything_and_a_full_queue_refuses() {
        let t = Touches::new(4);
        for i in 0..10 {
            assert!(t.push(touch(&format!("s{i}"), 0), IDLE, IDLE));
        }
        assert_eq!(t.take(0, true).len(), 10);
        let full = Touches::new(4);
        for i in 0..MAX_PENDING {
            assert!(full.push(touch(&format!("s{i}"), 0), IDLE, IDLE));
        }
        assert!(!full.push(touch("new", 0), IDLE, IDLE));
        // A session already waiting is still updated.
        assert!(full.push(touch("s1", 5), IDLE, IDLE));
    }
}
