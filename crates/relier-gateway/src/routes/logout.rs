//! `POST /auth/logout` (CSRF-protected RP-initiated logout), `GET /auth/logout` (a confirmation
//! form) and `GET /auth/logged-out`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use relier_core::introspection::TokenTypeHint;
use relier_store::StoreError;
use url::Url;

use super::{param, redirect};
use crate::cache::Authed;
use crate::cookies;
use crate::error::{PageError, Problem};
use crate::session::peek;
use crate::settings::Settings;
use crate::state::AppState;
use crate::templates;

/// `Origin` (or, without it, `Referer`) is the gateway's own origin.
pub fn same_origin(settings: &Settings, headers: &HeaderMap) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin.as_bytes() == settings.origin.as_bytes();
    }
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| Url::parse(r).ok())
        .is_some_and(|u| u.origin().ascii_serialization() == settings.origin)
}

fn expire_cookie(settings: &Settings, mut resp: Response) -> Response {
    if let Some(c) = cookies::expire(settings.cookie_name, settings.secure, "Lax") {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

/// `POST /auth/logout`: accepted only from the gateway's own origin or with the session's CSRF
/// token (`csrf_token` form field or `X-CSRF-Token` header). Ends the session, revokes the
/// refresh token, then 303 to the OP's end_session_endpoint (or to `/auth/logged-out`).
pub async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let s = &state.settings;
    let Some(a) = peek(&state, &headers).await? else {
        return Ok(expire_cookie(
            s,
            redirect(StatusCode::SEE_OTHER, "/auth/logged-out"),
        ));
    };
    let rec = &a.session.rec;
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| param(&body, "csrf_token"));
    let token_ok = token.is_some_and(|t| rec.csrf_token.ct_eq_str(&t));
    if !token_ok && !same_origin(s, &headers) {
        return Err(PageError::new(
            Problem::Forbidden,
            "logout refused: cross-site request without the session's CSRF token",
        ));
    }
    // In the background: the browser goes on to the OP's end_session_endpoint.
    drop(end(&state, &a).await?);
    tracing::info!(provider = %rec.provider, sub = ?rec.sub, "logout");
    let provider = state.providers.get(&rec.provider).cloned();
    let mut location = "/auth/logged-out".to_owned();
    if let Some(rp) = provider.as_ref().and_then(|p| p.rp()) {
        let back = format!("{}/auth/logged-out", s.base);
        if let Some(url) = rp.end_session_url(rec.id_token.as_ref(), Some(&back), None) {
            location = url.into();
        }
    }
    Ok(expire_cookie(s, redirect(StatusCode::SEE_OTHER, &location)))
}

/// Ends the session `a` (cache and store) and revokes its refresh token at the OP in a task of
/// its own (RFC 7009 §2), when it has one and the OP a revocation endpoint: for
/// `POST /auth/logout` and an embedding application's [`crate::Gateway::end_session`]. Returns
/// the revocation's task, if any.
///
/// # Errors
/// The store failed to delete the session.
pub(crate) async fn end(
    state: &Arc<AppState>,
    a: &Authed,
) -> Result<Option<tokio::task::JoinHandle<()>>, StoreError> {
    state.sessions.remove(&a.hash);
    state.store.delete_session(&a.id).await?;
    let rec = &a.session.rec;
    let Some(p) = state.providers.get(&rec.provider).cloned() else {
        return Ok(None);
    };
    let Some(rt) = rec.refresh_token.clone() else {
        return Ok(None);
    };
    if p.rp()
        .is_none_or(|rp| rp.metadata().revocation_endpoint.is_none())
    {
        return Ok(None);
    }
    let keys_due = p.store_key_alg().is_some();
    let st = state.clone();
    let dpop_key = rec.dpop_key.clone();
    Ok(Some(tokio::spawn(async move {
        if keys_due {
            st.keys.ensure_current(crate::clock::now()).await;
        }
        let Some(rp) = p.rp_for(dpop_key.as_ref()) else {
            return;
        };
        if let Err(e) = rp.revoke(&rt, Some(TokenTypeHint::RefreshToken)).await {
            tracing::warn!(provider = %p.name, error = ?e.to_string(), "refresh token revocation failed");
        }
    })))
}

/// `GET /auth/logout`: a confirmation page whose form carries the CSRF token.
pub async fn confirm(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    match peek(&state, &headers).await? {
        Some(a) => Ok(templates::page_response(
            StatusCode::OK,
            &templates::logout_confirm(a.session.rec.csrf_token.expose()),
        )),
        None => Ok(redirect(StatusCode::SEE_OTHER, "/auth/logged-out")),
    }
}

/// `GET /auth/logged-out`.
pub async fn logged_out() -> Response {
    templates::page_response(StatusCode::OK, &templates::logged_out()).into_response()
}
