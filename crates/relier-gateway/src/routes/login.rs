//! `GET /auth/login` (the chooser) and `GET /auth/login/{provider}` (the redirect to the OP,
//! with state, nonce and PKCE S256 kept server-side in the store).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use aws_lc_rs::digest;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use relier_core::Secret;
use relier_store::LoginState;
use tracing::Instrument as _;

use super::{initiate, redirect};
use crate::clock;
use crate::cookies;
use crate::error::{PageError, Problem};
use crate::forwarding;
use crate::random::try_random_token;
use crate::return_to::{self, sanitize_for};
use crate::settings::Settings;
use crate::state::AppState;
use crate::templates::{self, Choice};

/// `GET /auth/login?return_to=/path`.
pub async fn chooser(State(state): State<Arc<AppState>>, RawQuery(q): RawQuery) -> Response {
    let raw = q.unwrap_or_default();
    let return_to = sanitize_for(&state.settings, return_to::from_query(&raw).as_deref());
    let embedded = embedded_uis(&state).await;
    let choices: Vec<Choice<'_>> = state
        .providers
        .listed()
        .map(|p| Choice {
            name: p.name,
            display_name: p.display_name,
            brand: p.brand,
            ready: p.ready,
            embedded: embedded.iter().find(|(n, _)| n == p.name).map(|(_, ui)| ui),
        })
        .collect();
    let html = templates::chooser(&state.settings.title, &choices, &return_to);
    let origins: Vec<String> = embedded
        .iter()
        .flat_map(|(_, ui)| templates::logo_origins(ui))
        .collect();
    if origins.is_empty() {
        templates::page_response(StatusCode::OK, &html)
    } else {
        templates::page_response_with_images(StatusCode::OK, &html, &origins)
    }
}

/// The embedded choosers of the ready `preset = "ftn"` providers with `embedded_ui = true`,
/// by provider name. One the broker does not answer for is left out: its provider's plain
/// button leads to the broker's own chooser.
async fn embedded_uis(state: &AppState) -> Vec<(String, relier_core::ftn::EmbeddedUi)> {
    let mut out = Vec::new();
    for p in state.providers.all() {
        match p.embedded_ui().await {
            Some(Ok(ui)) => out.push((p.name.clone(), ui)),
            Some(Err(e)) => {
                tracing::warn!(provider = %p.name, error = %e, "the broker's identity providers could not be had: the chooser shows one button for its own chooser");
            }
            None => {}
        }
    }
    out
}

/// A provider to log in with: ready, else unavailable (its OP not reached yet) or unknown.
fn ready_provider<'a>(
    state: &'a AppState,
    name: &str,
) -> Result<&'a Arc<crate::providers::Provider>, PageError> {
    state.providers.get(name).ok_or_else(|| {
        if state.providers.is_waiting(name) {
            PageError::new(
                Problem::ProviderUnavailable,
                format!("provider {name:?} is not ready: its OP has not been reached"),
            )
        } else {
            PageError::new(Problem::UnknownProvider, format!("no provider {name:?}"))
        }
    })
}

/// The login-binding cookie's name for a `state` (its value is random, kept in the login
/// state: see [`begin`]).
pub fn binding_cookie(settings: &Settings, state: &str) -> String {
    let d = digest::digest(&digest::SHA256, state.as_bytes());
    let hex: String = d
        .as_ref()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{}{hex}", settings.login_cookie_prefix)
}

/// SameSite of the login-binding cookie: `None` on https (a `form_post` callback is a
/// cross-site POST, e.g. Sign in with Apple), `Lax` on http (loopback only).
pub fn binding_same_site(settings: &Settings) -> &'static str {
    if settings.secure { "None" } else { "Lax" }
}

/// `GET /auth/login/{provider}?return_to=/path`, also the provider's `initiate_login_uri`
/// (OIDC Core §4: `iss`, `login_hint`, `target_link_uri`; see [`super::initiate`]).
pub async fn start(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    initiate(&state, &name, &q.unwrap_or_default(), peer, &headers).await
}

/// `POST /auth/login/{provider}` (form): a third-party-initiated login by POST (OIDC Core §4
/// allows either method). Needs no CSRF check: like the GET, it only starts a login, which
/// the user completes at the OP.
pub async fn start_form(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let raw = String::from_utf8_lossy(&body);
    initiate(&state, &name, &raw, peer, &headers).await
}

/// The login rate limit, then the initiation's parameters (`raw`, form-encoded), then
/// [`begin_hinted`].
async fn initiate(
    state: &AppState,
    name: &str,
    raw: &str,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
) -> Result<Response, PageError> {
    if let Some(limited) = rate_limited(state, peer, headers).await {
        return Ok(limited);
    }
    let provider = ready_provider(state, name)?;
    let init = initiate::read(raw, &state.settings, provider)?;
    begin_hinted(
        state,
        name,
        init.return_to,
        None,
        init.login_hint.as_deref(),
        init.ftn_idp_id.as_deref(),
    )
    .await
}

/// The 429 answer when the client is over the login rate limit.
async fn rate_limited(
    state: &AppState,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
) -> Option<Response> {
    let limiter = state.login_limiter.as_ref()?;
    let peer = peer.map(|Extension(ConnectInfo(addr))| addr);
    let client = forwarding::route(&state.settings.trusted_proxies, peer, headers).client();
    let wait = limiter
        .admit(client, Instant::now(), state.store.as_ref())
        .await
        .err()?;
    state.metrics.login_rate_limited();
    let mut resp = PageError::new(
        Problem::TooManyRequests,
        format!("login rate limit for {client}"),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Some(resp)
}

/// Random bytes of a login-binding cookie's value (256 bits).
const BINDING_BYTES: usize = 32;

/// Starts a login at provider `name` that returns to `return_to` (a sanitised local path),
/// with the application's `app_state` if any: the login state goes to the store under its
/// `state`, and the browser is sent (302) to the OP with the login-binding cookie. A login
/// that carries `app_state` is always bound to the browser, whatever `bind_login` says: the
/// application acts on it for whoever completes it.
pub(crate) async fn begin(
    state: &AppState,
    name: &str,
    return_to: String,
    app_state: Option<Secret>,
) -> Result<Response, PageError> {
    begin_hinted(state, name, return_to, app_state, None, None).await
}

/// [`begin`] with a `login_hint` for the OP (OIDC Core §3.1.2.1) and an FTN broker's
/// `ftn_idp_id`.
async fn begin_hinted(
    state: &AppState,
    name: &str,
    return_to: String,
    app_state: Option<Secret>,
    login_hint: Option<&str>,
    ftn_idp_id: Option<&str>,
) -> Result<Response, PageError> {
    let provider = ready_provider(state, name)?;
    // RFC 9126: pushed first when the provider asks for PAR or the OP requires it.
    let start = provider
        .start_login_hinted(login_hint, ftn_idp_id)
        .instrument(tracing::info_span!("authorization_start", relier.provider = %name))
        .await
        .map_err(|e| match e {
            relier::Error::Http { .. } | relier::Error::Token(_) => PageError::new(
                Problem::ProviderUnavailable,
                format!("pushed authorization request: {e}"),
            ),
            e => PageError::new(Problem::Internal, format!("authorization request: {e}")),
        })?;
    let now = clock::now();
    let s = &state.settings;
    let binding = if s.bind_login || app_state.is_some() {
        let value = try_random_token(BINDING_BYTES)
            .ok_or_else(|| PageError::new(Problem::Internal, "random source failed"))?;
        Some(Secret::new(value))
    } else {
        None
    };
    let (url, pending) = (start.url, start.pending);
    let login = LoginState {
        provider: name.to_owned(),
        pending,
        dpop_key: start.dpop_key,
        return_to,
        binding,
        app_state,
        created_at: now,
        expires_at: now.saturating_add(s.login_timeout),
    };
    let key = login.pending.state.expose().to_owned();
    state.store.put_login_state(&key, &login).await?;
    let mut resp = redirect(StatusCode::FOUND, url.as_str());
    resp.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Some(value) = &login.binding
        && let Some(c) = cookies::set(
            &binding_cookie(s, &key),
            value.expose(),
            Some(s.login_timeout),
            s.secure,
            binding_same_site(s),
        )
    {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    tracing::debug!(provider = ?name, app_state = login.app_state.is_some(), "login started");
    Ok(resp)
}

/// `GET /auth/assets/relier.css`.
pub async fn base_css() -> Response {
    css([templates::BASE_CSS, templates::BRAND_CSS].concat())
}

/// `GET /auth/assets/theme.css` (empty without `theme_css`).
pub async fn theme_css(State(state): State<Arc<AppState>>) -> Response {
    css(state.settings.theme_css.clone().unwrap_or_default())
}

fn css(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}
