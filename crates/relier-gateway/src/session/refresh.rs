//! Access-token refresh with a single flight per session: concurrent requests wait on one
//! per-session lock and reuse the first one's result, so a rotating refresh token is never
//! used twice by this instance; across instances the store's compare-and-swap on `version`
//! decides (the loser re-reads the winner's tokens).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use relier_core::{IdTokenClaims, Secret, TokenResponse, VerifiedIdToken};
use relier_store::{StoreError, UnixTime};
use tracing::Instrument as _;

use crate::cache::CachedSession;
use crate::clock;
use crate::state::AppState;

/// After a transient refresh failure (OP unreachable, 5xx), wait this long before trying again.
const RETRY_AFTER_SECS: u64 = 10;

/// Refreshes the session's tokens once, however many requests ask at the same time. Returns
/// the up-to-date session, or `None` if it ended (refresh refused by the OP, session gone).
pub async fn refresh(
    state: &AppState,
    id: &Secret,
    hash: &str,
    observed: Arc<CachedSession>,
) -> Result<Option<Arc<CachedSession>>, StoreError> {
    let lock = state.refresh_locks.acquire(hash);
    let result = {
        let _guard = lock.lock().await;
        refresh_locked(state, id, hash, observed)
            .instrument(tracing::info_span!("refresh"))
            .await
    };
    state.refresh_locks.release(hash, &lock);
    result
}

async fn refresh_locked(
    state: &AppState,
    id: &Secret,
    hash: &str,
    observed: Arc<CachedSession>,
) -> Result<Option<Arc<CachedSession>>, StoreError> {
    let now = clock::now();
    let before = state.settings.refresh_before;
    // Someone refreshed while we waited: use their result.
    if let Some(cur) = state.sessions.get(hash)
        && (cur.rec.version != observed.rec.version || !cur.needs_refresh(now, before))
    {
        return Ok(Some(cur));
    }
    // Another instance may have refreshed: the store has the last word.
    let Some(rec) = state.store.get_session(id, UnixTime(now)).await? else {
        state.sessions.remove(hash);
        return Ok(None);
    };
    let entry = Arc::new(CachedSession::new(&state.settings, rec, Some(&observed)));
    if !entry.needs_refresh(now, before) {
        state.sessions.insert(hash.to_owned(), entry.clone());
        return Ok(Some(entry));
    }
    let rec = &entry.rec;
    // A provider waiting for its OP (unreachable at the start or at a reload): as a transient
    // failure, the session stays and the refresh is tried again later.
    if state.providers.is_waiting(&rec.provider) {
        tracing::warn!(provider = %rec.provider, "refresh postponed: the provider waits for its OP");
        return Ok(Some(retry_later(state, hash, entry, now)));
    }
    let (Some(rt), Some(rp)) = (
        rec.refresh_token.clone(),
        state
            .providers
            .get(&rec.provider)
            .and_then(|p| p.rp_for(rec.dpop_key.as_ref())),
    ) else {
        tracing::warn!(provider = %rec.provider, "session of an unknown provider; ending it");
        end(state, id, hash).await?;
        return Ok(None);
    };
    let original = rec
        .id_token
        .as_ref()
        .and_then(|t| IdTokenClaims::of_validated_token(t.expose()).ok());
    let started = Instant::now();
    let result = rp.refresh(&rt, original.as_ref()).await;
    state.metrics.token_endpoint(started.elapsed());
    match result {
        Ok((tokens, id_token)) => {
            state.metrics.refresh(true);
            store_refreshed(state, id, hash, &entry, &tokens, id_token.as_ref(), now).await
        }
        Err(e) if is_transient(&e) => {
            state.metrics.refresh(false);
            tracing::warn!(provider = %rec.provider, error = ?e.to_string(), "refresh failed (transient); keeping the session and retrying later");
            Ok(Some(retry_later(state, hash, entry.clone(), now)))
        }
        Err(e) => {
            state.metrics.refresh(false);
            tracing::warn!(provider = %rec.provider, error = ?e.to_string(), "refresh refused; ending the session");
            end(state, id, hash).await?;
            Ok(None)
        }
    }
}

/// The session as it is, its refresh tried again after [`RETRY_AFTER_SECS`].
fn retry_later(
    state: &AppState,
    hash: &str,
    entry: Arc<CachedSession>,
    now: u64,
) -> Arc<CachedSession> {
    entry
        .retry_refresh_after
        .store(now.saturating_add(RETRY_AFTER_SECS), Ordering::Relaxed);
    state.sessions.insert(hash.to_owned(), entry.clone());
    entry
}

/// Stores the refreshed tokens if the session is still at the version they were refreshed
/// from (else takes the tokens the winning instance stored) and caches the result.
async fn store_refreshed(
    state: &AppState,
    id: &Secret,
    hash: &str,
    entry: &Arc<CachedSession>,
    tokens: &TokenResponse,
    id_token: Option<&VerifiedIdToken>,
    now: u64,
) -> Result<Option<Arc<CachedSession>>, StoreError> {
    let rec = &entry.rec;
    let exp = tokens.expires_in.map(|s| now.saturating_add(s));
    let raw_idt = id_token.map(|v| v.raw().clone());
    let swapped = state
        .store
        .update_session_tokens(
            id,
            rec.version,
            Some(&tokens.access_token),
            tokens.refresh_token.as_ref(),
            raw_idt.as_ref(),
            exp,
        )
        .await?;
    let new_rec = if swapped {
        let mut r = rec.clone();
        r.access_token = Some(tokens.access_token.clone());
        if let Some(t) = &tokens.refresh_token {
            r.refresh_token = Some(t.clone());
        }
        if let Some(t) = raw_idt {
            r.id_token = Some(t);
        }
        r.access_expires_at = exp;
        r.version = r.version.saturating_add(1);
        r
    } else {
        // Another instance won the race: take its tokens.
        match state.store.get_session(id, UnixTime(now)).await? {
            Some(r) => r,
            None => {
                state.sessions.remove(hash);
                return Ok(None);
            }
        }
    };
    tracing::debug!(provider = %rec.provider, "access token refreshed");
    let fresh = Arc::new(CachedSession::new(&state.settings, new_rec, Some(entry)));
    // Tokens that live shorter than refresh_before would be "expiring" right away: refresh
    // them at half their lifetime instead of on every request.
    let retry = match tokens.expires_in {
        Some(e) if e <= state.settings.refresh_before => now.saturating_add(e / 2),
        _ => 0,
    };
    fresh.retry_refresh_after.store(retry, Ordering::Relaxed);
    state.sessions.insert(hash.to_owned(), fresh.clone());
    Ok(Some(fresh))
}

async fn end(state: &AppState, id: &Secret, hash: &str) -> Result<(), StoreError> {
    state.sessions.remove(hash);
    state.store.delete_session(id).await?;
    Ok(())
}

/// OP unreachable or answering 5xx / `temporarily_unavailable`: not the user's fault.
fn is_transient(e: &relier::Error) -> bool {
    use relier_core::TokenError;
    match e {
        relier::Error::Http { .. } => true,
        relier::Error::Token(TokenError::Status { status, .. }) => *status >= 500,
        relier::Error::Token(TokenError::OAuth { status, error, .. }) => {
            *status >= 500 || error == "temporarily_unavailable" || error == "server_error"
        }
        _ => false,
    }
}
