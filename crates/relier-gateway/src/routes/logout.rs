//! `POST /auth/logout` (CSRF-protected RP-initiated logout), `GET /auth/logout` (a confirmation
//! form) and `GET /auth/logged-out`.

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use relier_core::PendingLogin;
use relier_core::introspection::TokenTypeHint;
use relier_core::types::{Nonce, PkceVerifier, RedirectUrl};
use relier_store::{LoginState, StoreError, UnixTime};
use tracing::Instrument as _;
use url::Url;

use super::{param, redirect};
use crate::cache::Authed;
use crate::clock;
use crate::cookies;
use crate::error::{PageError, Problem};
use crate::return_to::sanitize_for;
use crate::session::peek;
use crate::settings::Settings;
use crate::state::AppState;
use crate::templates;

/// `Origin` (or, without it, `Referer`) is the gateway's own origin.
pub fn same_origin(settings: &Settings, headers: &HeaderMap) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        // Under cookie_domain the session is shared by every host under the domain, and so
        // is logging out of it.
        return origin.as_bytes() == settings.origin.as_bytes()
            || settings
                .cookie_domain
                .as_ref()
                .zip(origin.to_str().ok())
                .is_some_and(|(d, o)| d.covers_origin(o));
    }
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| Url::parse(r).ok())
        .is_some_and(|u| u.origin().ascii_serialization() == settings.origin)
}

fn expire_cookie(settings: &Settings, mut resp: Response) -> Response {
    if let Some(c) = cookies::expire_session(settings) {
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
    end_session(state, headers, body)
        .instrument(tracing::info_span!("logout"))
        .await
}

async fn end_session(
    state: Arc<AppState>,
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
    tracing::info!(provider = %rec.provider, sub = %state.settings.logged_subject(&rec.provider, &rec.sub), "logout");
    let return_to = param(&body, "return_to")
        .filter(|r| !r.is_empty())
        .map(|r| sanitize_for(s, Some(&r)));
    let provider = state.providers.get(&rec.provider).cloned();
    let Some(rp) = provider
        .as_ref()
        .and_then(|p| p.rp())
        .filter(|rp| rp.metadata().end_session_endpoint.is_some())
    else {
        let location = return_to.as_deref().unwrap_or("/auth/logged-out");
        return Ok(expire_cookie(s, redirect(StatusCode::SEE_OTHER, location)));
    };
    let back = format!("{}/auth/logged-out", s.base);
    let logout_state = remember(&state, &rec.provider, &back, return_to).await;
    let location = rp
        .end_session_url(rec.id_token.as_ref(), Some(&back), logout_state.as_deref())
        .map_or_else(|| "/auth/logged-out".to_owned(), String::from);
    Ok(expire_cookie(s, redirect(StatusCode::SEE_OTHER, &location)))
}

/// Where logout states live in the login-state storage: `logout:` then the state, a key no
/// login state has (those are bare base64url).
pub(crate) const LOGOUT_STATE_PREFIX: &str = "logout:";

/// Stores a new logout `state` (RP-Initiated Logout 1.0 §2: "opaque value used by the RP to
/// maintain state between the logout request and the callback") with where the logout returns
/// to, single use and for at most `login_timeout`, in the store so that any instance on it
/// can check it. The record is a [`LoginState`] under [`LOGOUT_STATE_PREFIX`]: `pending`
/// holds the 256-bit random state and the `post_logout_redirect_uri` (its nonce and PKCE
/// verifier are random and unused), `return_to` the sanitised local path or `""`. `None` (the
/// logout goes on without a state, logged) if the random source or the store fails.
async fn remember(
    state: &AppState,
    provider: &str,
    post_logout_redirect_uri: &str,
    return_to: Option<String>,
) -> Option<String> {
    let rng = SystemRandom::new();
    let pending = (|| {
        Some(PendingLogin {
            state: relier_core::State::generate(&rng).ok()?,
            nonce: Nonce::generate(&rng).ok()?,
            pkce_verifier: PkceVerifier::generate(&rng).ok()?,
            redirect_uri: RedirectUrl::new(post_logout_redirect_uri).ok()?,
            max_age: None,
        })
    })();
    let Some(pending) = pending else {
        tracing::error!("logout state: random source failed; logout without state");
        return None;
    };
    let now = clock::now();
    let record = LoginState {
        provider: provider.to_owned(),
        pending,
        return_to: return_to.unwrap_or_default(),
        dpop_key: None,
        binding: None,
        app_state: None,
        created_at: now,
        expires_at: now.saturating_add(state.settings.login_timeout),
    };
    let value = record.pending.state.expose().to_owned();
    let key = format!("{LOGOUT_STATE_PREFIX}{value}");
    match state.store.put_login_state(&key, &record).await {
        Ok(()) => Some(value),
        Err(e) => {
            tracing::error!(error = %e, "logout state not stored; logout without state");
            None
        }
    }
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
    state.exchanged.remove(&a.hash);
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
    let dpop_key = rec.dpop_key.clone();
    Ok(Some(tokio::spawn(async move {
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

/// `GET /auth/logged-out`: where the OP sends the browser back after RP-initiated logout.
/// With the `state` of a logout this gateway started (taken from the store: once only) it
/// redirects to where that logout asked to return (`return_to`), if anywhere; otherwise — no
/// state, a foreign, expired or replayed one — it shows the logged-out page and logs why
/// (RP-Initiated Logout 1.0 §3: the state only matters to the RP, and nothing about the
/// redirect is taken from a request the gateway cannot tie to its own logout).
pub async fn logged_out(State(state): State<Arc<AppState>>, RawQuery(q): RawQuery) -> Response {
    let page = || templates::page_response(StatusCode::OK, &templates::logged_out());
    let Some(st) = q.and_then(|q| param(q.as_bytes(), "state")) else {
        tracing::info!("logged-out page without a logout state");
        return page();
    };
    let key = format!("{LOGOUT_STATE_PREFIX}{st}");
    match state
        .store
        .take_login_state(&key, UnixTime(clock::now()))
        .await
    {
        Ok(Some(rec)) if rec.pending.state.matches(&st) => {
            tracing::debug!(provider = %rec.provider, "logout state checked");
            if rec.return_to.is_empty() {
                page()
            } else {
                redirect(StatusCode::SEE_OTHER, &rec.return_to)
            }
        }
        Ok(_) => {
            tracing::warn!("logged-out: unknown, expired or already used logout state ignored");
            page()
        }
        Err(e) => {
            tracing::warn!(error = %e, "logged-out: logout state not readable; ignored");
            page()
        }
    }
}
