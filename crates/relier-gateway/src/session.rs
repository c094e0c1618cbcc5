//! The request's session: the cookie, the cache ([`crate::cache`]) with a short TTL before
//! re-validating against the store, sliding idle expiry written at most once per
//! `touch_interval`, and token refresh with a single flight per session ([`refresh`]).

mod refresh;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::http::HeaderMap;
use relier_core::Secret;
use relier_store::{SessionRecord, SessionTouch, StoreError, UnixTime, session_id_hash};

use crate::cache::{Authed, CachedSession, session_cookie};
use crate::clock;
use crate::state::AppState;

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
        Some(e) if state.sessions.trusted(&e) => e,
        prev => match state.store.get_session(&id, UnixTime(now)).await? {
            // Another instance ended it while we read (the feed said so).
            Some(_) if state.sessions.ended(&hash) => return Ok(None),
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
    touch(state, &hash, &entry, now);
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

/// Stores the new session `rec` under `id`, ending the request's previous session first (a new
/// login never continues an old session: no fixation, no orphan). For the callback and for
/// local sessions ([`crate::Gateway::start_local_session`]).
pub async fn replace(
    state: &AppState,
    headers: &HeaderMap,
    id: &Secret,
    rec: &SessionRecord,
) -> Result<(), StoreError> {
    if let Some(old) = session_cookie(&state.settings, headers) {
        state.sessions.remove(&session_id_hash(&old));
        if let Err(e) = state.store.delete_session(&old).await {
            tracing::warn!(error = %e, "could not delete the previous session");
        }
    }
    state.store.create_session(id, rec).await
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

/// Sliding expiry: at most once per `touch_interval` per session, written in the background
/// with the other sessions' ([`crate::touch`]).
fn touch(state: &AppState, hash: &str, e: &CachedSession, now: u64) {
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
    // What the store holds (or a touch still waiting to be written: the queue keeps the
    // first one's view).
    let stored = e.idle_expires_at.load(Ordering::Relaxed);
    let touch = SessionTouch {
        id_hash: hash.to_owned(),
        now: UnixTime(now),
        idle_expires_at: idle,
    };
    if state
        .touches
        .push(touch, stored, state.settings.idle_timeout)
    {
        e.idle_expires_at.fetch_max(idle, Ordering::Relaxed);
    } else {
        // Refused (too many waiting): the next check tries again.
        e.last_touch.store(last, Ordering::Relaxed);
    }
}
