//! Sliding expiry, written in batches: a request that extends its session's idle expiry (at
//! most once per `touch_interval` per session) only records it here; the background task
//! writes what has gathered every [`TOUCH_FLUSH_INTERVAL`] in one statement per 200 sessions
//! ([`relier_store::SessionStore::touch_sessions`]), and once more on shutdown. With many
//! active sessions this turns a write per session per interval into a few writes a second, off
//! the request path, so the store's connections stay free for the reads of sessions that miss
//! the cache.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use relier_store::{SessionStore, SessionTouch};

/// How often gathered touches are written.
pub const TOUCH_FLUSH_INTERVAL: Duration = Duration::from_millis(500);

/// Most sessions waiting for their touch; beyond it a touch is dropped (the session then
/// expires on its previous idle expiry unless touched again).
const MAX_PENDING: usize = 200_000;

/// Touches waiting to be written, one per session (the latest).
#[derive(Debug, Default)]
pub struct Touches {
    pending: Mutex<HashMap<String, SessionTouch>>,
}

impl Touches {
    /// Records a touch (replacing an earlier one of the same session).
    pub fn push(&self, touch: SessionTouch) {
        let mut pending = self.pending.lock();
        if pending.len() >= MAX_PENDING && !pending.contains_key(&touch.id_hash) {
            return;
        }
        pending.insert(touch.id_hash.clone(), touch);
    }

    /// Writes every pending touch.
    pub async fn flush(&self, store: &dyn SessionStore) {
        let batch: Vec<SessionTouch> = {
            let mut pending = self.pending.lock();
            pending.drain().map(|(_, t)| t).collect()
        };
        if batch.is_empty() {
            return;
        }
        if let Err(e) = store.touch_sessions(&batch).await {
            tracing::warn!(error = %e, sessions = batch.len(), "could not extend sessions' idle expiry");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relier_store::UnixTime;

    #[test]
    fn the_latest_touch_of_a_session_wins() {
        let t = Touches::default();
        for now in [10, 30, 20] {
            t.push(SessionTouch {
                id_hash: "h".into(),
                now: UnixTime(now),
                idle_expires_at: now + 100,
            });
        }
        let pending = t.pending.lock();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending["h"].now, UnixTime(20));
    }
}
