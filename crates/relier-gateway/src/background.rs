//! The gateway's background work, above everything it drives.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use relier_store::UnixTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cache::{ENDED_POLL_INTERVAL, ENDED_WINDOW};
use crate::clock;
use crate::reload::Live;
use crate::touch::TOUCH_FLUSH_INTERVAL;

/// The scheduler: every `check_interval` (with a little jitter so instances sharing a store
/// spread out): key tick, purge of expired rows, session gauge. Each round works with the
/// configuration in force then. (The retry of providers waiting for their OP belongs to the
/// configuration: [`Live`].)
pub fn spawn_background(live: &Live, mut stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let stop_ended = stop.clone();
    let (live_ended, live_sched) = (live.clone(), live.clone());
    let task = tokio::spawn(async move {
        loop {
            let interval = live_sched.current().settings.check_interval;
            let jitter = Duration::from_millis(u64::from(jitter_ms()) % 250);
            tokio::select! {
                _ = stop.changed() => break,
                () = tokio::time::sleep(interval + jitter) => {}
            }
            let state = live_sched.current();
            let now = clock::now();
            if let Err(e) = state.keys.tick(now).await {
                tracing::warn!(error = %e, "key maintenance failed");
            }
            match state.store.purge_expired(UnixTime(now)).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(
                    rows = n,
                    "purged expired sessions, login states and logout jtis"
                ),
                Err(e) => tracing::warn!(error = %e, "purge failed"),
            }
            if let Ok(n) = state.store.count_sessions(UnixTime(now)).await {
                state.metrics.sessions.store(n, Ordering::Relaxed);
            }
        }
    });
    let touches = spawn_touch_flusher(live_ended.clone(), stop_ended.clone());
    vec![task, spawn_ended_feed(live_ended, stop_ended), touches]
}

/// Writes the gathered sliding-expiry touches every [`TOUCH_FLUSH_INTERVAL`], and once more
/// when the gateway stops.
fn spawn_touch_flusher(live: Live, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let stopping = tokio::select! {
                _ = stop.changed() => true,
                () = tokio::time::sleep(TOUCH_FLUSH_INTERVAL) => false,
            };
            let state = live.current();
            state
                .touches
                .flush(state.store.as_ref(), crate::clock::now(), stopping)
                .await;
            if stopping {
                break;
            }
        }
    })
}

/// Reads the store's feed of ended sessions every [`ENDED_POLL_INTERVAL`] and drops them from
/// the session cache: a logout on another instance sharing the store ends the session here
/// within [`crate::cache::LOGOUT_PROPAGATION`]. While the feed cannot be read, cached
/// sessions are re-read from the store instead ([`crate::cache::SessionCache::trusted`]).
fn spawn_ended_feed(live: Live, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut failing = false;
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                () = tokio::time::sleep(ENDED_POLL_INTERVAL) => {}
            }
            let state = live.current();
            let started = Instant::now();
            match state.store.recently_ended_sessions(ENDED_WINDOW).await {
                Ok(hashes) => {
                    state.sessions.apply_ended(hashes, started);
                    if failing {
                        tracing::info!("reading ended sessions from the store works again");
                        failing = false;
                    }
                }
                Err(e) if !failing => {
                    tracing::warn!(
                        error = %e,
                        "cannot read ended sessions from the store: cached sessions are re-read from the store until it works again"
                    );
                    failing = true;
                }
                Err(_) => {}
            }
        }
    })
}

fn jitter_ms() -> u16 {
    let mut b = [0u8; 2];
    let _ = aws_lc_rs::rand::fill(&mut b);
    u16::from_le_bytes(b)
}
