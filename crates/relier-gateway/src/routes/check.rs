//! `GET /auth/check`: forward auth for nginx `auth_request`, Traefik `forwardAuth` and Caddy
//! `forward_auth` — 200 with the identity headers, or 401. The hot path: a cached session costs
//! one SHA-256, one read lock and a few atomics; no store write.
//!
//! A request that carries a header which could pass for an identity header, in any spelling
//! (`X-Relier-Email`, `x_relier_email`, a `[headers]` name), is refused with 403: no browser
//! sends one, and a front proxy that forwards it to the application would hand the client's
//! value on wherever the answer lacks that header (Caddy's `copy_headers`, GHSA-7r4p-vjf4-gxv4)
//! or under an underscore alias (GHSA-f59h-q822-g45g).
//!
//! With `?redirect=1`, an unauthenticated browser navigation gets a 302 to the login page with
//! `return_to` taken from `X-Forwarded-Uri` (Traefik, Caddy) or `X-Original-URI` (nginx) — for
//! proxies that hand the auth response to the client as is.

use std::sync::Arc;

use axum::body::Body;
use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use super::require::{WhenMissing, admit};
use super::{json_error, param};
use crate::forwarding;
use crate::metrics::CheckResult;
use crate::state::AppState;

/// `GET /auth/check` (any method).
pub async fn check(
    State(state): State<Arc<AppState>>,
    method: Method,
    RawQuery(q): RawQuery,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Response {
    if let Some(name) = state.settings.identity.first_spoofed(&headers) {
        state.metrics.check(CheckResult::Refused);
        tracing::warn!(
            header = ?name.as_str(),
            "forward auth: the request carries an identity header; refused (strip client-sent X-Relier-* headers at the front proxy)"
        );
        return json_error(StatusCode::FORBIDDEN, "identity_header_in_request");
    }
    let wants_redirect = q
        .as_deref()
        .and_then(|q| param(q.as_bytes(), "redirect"))
        .is_some_and(|v| v == "1" || v == "true");
    let forwarded_method = headers
        .get("x-forwarded-method")
        .and_then(|v| v.to_str().ok())
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .unwrap_or(method);
    // The original request's URI, believed only from a trusted proxy: it decides skip_auth
    // and [[access]], and where the login returns to.
    let peer = peer.map(|Extension(ConnectInfo(addr))| addr);
    let trusted = peer.is_some_and(|p| {
        state
            .settings
            .trusted_proxies
            .contains(forwarding::canonical(p.ip()))
    });
    let target = headers
        .get("x-forwarded-uri")
        .or_else(|| headers.get("x-original-uri"))
        .filter(|_| trusted)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("/");
    let missing = if wants_redirect {
        // The proxy answers on the application's origin: the Location is absolute to the
        // gateway's public URL.
        WhenMissing::LoginPage {
            method: &forwarded_method,
            return_to: target,
            absolute: true,
        }
    } else {
        WhenMissing::Unauthorized
    };
    match admit(&state, &headers, target, missing, |r| {
        state.metrics.check(r)
    })
    .await
    {
        Ok(a) => {
            let mut resp = Response::new(Body::empty());
            let h = resp.headers_mut();
            let identity = a.iter().flat_map(|a| &a.session.headers);
            h.reserve(identity.clone().count() + 1);
            for (name, value) in identity {
                h.insert(name.clone(), value.clone());
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(resp) => resp,
    }
}
