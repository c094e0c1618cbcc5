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
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use super::{is_navigation, json_error, login_redirect, param};
use crate::metrics::CheckResult;
use crate::session::authenticate;
use crate::state::AppState;

/// `GET /auth/check` (any method).
pub async fn check(
    State(state): State<Arc<AppState>>,
    method: Method,
    RawQuery(q): RawQuery,
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
    match authenticate(&state, &headers).await {
        Ok(Some(a)) => {
            state.metrics.check(CheckResult::Ok);
            let mut resp = Response::new(Body::empty());
            let h = resp.headers_mut();
            h.reserve(a.session.headers.len() + 1);
            for (name, value) in &a.session.headers {
                h.insert(name.clone(), value.clone());
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Ok(None) => {
            state.metrics.check(CheckResult::Unauthorized);
            let wants_redirect = q
                .as_deref()
                .and_then(|q| param(q.as_bytes(), "redirect"))
                .is_some_and(|v| v == "1" || v == "true");
            let forwarded_method = headers
                .get("x-forwarded-method")
                .and_then(|v| v.to_str().ok())
                .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
                .unwrap_or(method);
            if wants_redirect && is_navigation(&forwarded_method, &headers) {
                let target = headers
                    .get("x-forwarded-uri")
                    .or_else(|| headers.get("x-original-uri"))
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("/");
                let mut resp = login_redirect(target);
                // The proxy answers on the application's origin: make the Location absolute
                // to the gateway's public URL.
                if let Some(loc) = resp.headers().get(header::LOCATION).cloned()
                    && let Ok(abs) = HeaderValue::from_str(&format!(
                        "{}{}",
                        state.settings.base,
                        loc.to_str().unwrap_or("/auth/login")
                    ))
                {
                    resp.headers_mut().insert(header::LOCATION, abs);
                }
                return resp;
            }
            json_error(StatusCode::UNAUTHORIZED, "unauthenticated")
        }
        Err(e) => {
            state.metrics.check(CheckResult::Error);
            tracing::error!(error = ?e.to_string(), "session lookup failed");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
        }
    }
}
