//! `POST /auth/backchannel-logout/{provider}`: OpenID Connect Back-Channel Logout 1.0 §2.5–2.8.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use relier_core::id_token::DEFAULT_CLOCK_SKEW_SECS;
use relier_core::logout::MAX_LOGOUT_TOKEN_AGE_SECS;
use relier_store::StoreError;

use super::{json_error, no_store};
use crate::clock;
use crate::state::AppState;

fn invalid(state: &AppState, outcome: &'static str) -> Response {
    state.metrics.backchannel(outcome);
    json_error(StatusCode::BAD_REQUEST, "invalid_request")
}

/// Validates the `logout_token` (signature, iss, aud, iat, events, no nonce, sid or sub),
/// refuses a replayed `jti`, deletes the matching sessions and drops them from the cache.
pub async fn logout(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(provider) = state.providers.get(&name).cloned() else {
        tracing::warn!(provider = ?name, "back-channel logout for an unknown provider");
        return invalid(&state, "invalid");
    };
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let tokens: Vec<String> = url::form_urlencoded::parse(&body)
        .filter(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .collect();
    let [token] = tokens.as_slice() else {
        tracing::warn!(provider = ?name, count = tokens.len(), "back-channel logout: expected exactly one logout_token");
        return invalid(&state, "invalid");
    };
    if !form {
        tracing::warn!(provider = ?name, "back-channel logout: not a form post");
        return invalid(&state, "invalid");
    }
    let Some(rp) = provider.rp() else {
        tracing::warn!(provider = ?name, "back-channel logout: the provider is not an OpenID Connect provider");
        return invalid(&state, "invalid");
    };
    let req = match rp.validate_logout_token(token).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(provider = ?name, error = ?e.to_string(), "back-channel logout: invalid logout token");
            return invalid(&state, "invalid");
        }
    };
    let now = clock::now();
    // Tokens are accepted until iat + max age (iat may be up to the skew ahead): remember the
    // jti at least that long.
    let remember_until = now
        .saturating_add(MAX_LOGOUT_TOKEN_AGE_SECS)
        .saturating_add(2 * DEFAULT_CLOCK_SKEW_SECS);
    match state
        .store
        .remember_logout_jti(&name, &req.jti, remember_until)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(provider = ?name, "back-channel logout: replayed jti");
            return invalid(&state, "replay");
        }
        Err(e) => {
            tracing::error!(provider = ?name, error = %e, "back-channel logout: store failed");
            return invalid(&state, "error");
        }
    }
    match end_sessions(&state, &name, req.sid.as_deref(), req.sub.as_deref()).await {
        Ok(n) => {
            state.metrics.backchannel("success");
            tracing::info!(provider = ?name, sessions = n, sid = ?req.sid, sub = ?req.sub, "back-channel logout");
            let mut resp = no_store(StatusCode::OK.into_response());
            resp.headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            resp
        }
        Err(e) => {
            tracing::error!(provider = ?name, error = %e, "back-channel logout: deleting sessions failed");
            invalid(&state, "error")
        }
    }
}

/// Ends every session of `provider` with that `sid` and / or `sub` (at least one given) in the
/// store — so every instance on it sees them ended — and drops them from this instance's
/// cache: for back-channel logout and front-channel logout by (`iss`, `sid`). The number of
/// sessions ended.
///
/// # Errors
/// The store failed to delete them.
pub(super) async fn end_sessions(
    state: &AppState,
    provider: &str,
    sid: Option<&str>,
    sub: Option<&str>,
) -> Result<usize, StoreError> {
    let hashes = state.store.delete_sessions_for(provider, sid, sub).await?;
    for h in &hashes {
        state.sessions.remove(h);
    }
    Ok(hashes.len())
}
