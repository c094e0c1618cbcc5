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
//! The original URI comes from one header, `original_uri_header` (default `X-Forwarded-Uri`),
//! and only from a trusted proxy; see [`crate::original_uri`] for what is refused.
//!
//! With `?redirect=1`, an unauthenticated browser navigation gets a 302 to the login page with
//! `return_to` taken from the original URI — for proxies that hand the auth response to the
//! client as is.

use std::sync::Arc;

use axum::body::Body;
use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use tracing::Instrument as _;

use super::require::{WhenMissing, admit};
use super::{json_error, param};
use crate::api::Admitted;
use crate::forwarding;
use crate::metrics::CheckResult;
use crate::original_uri::UriRefusal;
use crate::settings::Settings;
use crate::state::AppState;
use crate::upstream_token::{self, UpstreamTokenError};

/// `GET /auth/check` (any method).
pub async fn check(
    State(state): State<Arc<AppState>>,
    method: Method,
    RawQuery(q): RawQuery,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Response {
    let span =
        crate::telemetry::hot_span(state.settings.traces, || tracing::info_span!("auth_check"));
    decide(state, method, q, peer, headers)
        .instrument(span)
        .await
}

async fn decide(
    state: Arc<AppState>,
    method: Method,
    q: Option<String>,
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
    // The original request's URI, from one header and a trusted proxy only: it decides
    // skip_auth and [[access]], and where the login returns to.
    let peer = peer.map(|Extension(ConnectInfo(addr))| addr);
    let trusted = peer.is_some_and(|p| {
        state
            .settings
            .trusted_proxies
            .contains(forwarding::canonical(p.ip()))
    });
    let target = match state.settings.original_uri.target(&headers, trusted) {
        Ok(t) => t,
        Err(refusal) => return refuse(&state, refusal, peer),
    };
    let origin = forwarding::request_origin(&state.settings.base, trusted, &headers);
    let cross_host = cross_host_return(&state.settings, &origin, target);
    let missing = if wants_redirect {
        // The proxy answers on the application's origin: the Location is absolute to the
        // gateway's public URL.
        WhenMissing::LoginPage {
            method: &forwarded_method,
            return_to: cross_host.as_deref().unwrap_or(target),
            absolute: true,
        }
    } else {
        WhenMissing::Unauthorized
    };
    let line = (&forwarded_method, origin.as_ref(), target);
    match admit(
        &state,
        &state.settings.path_rules,
        &headers,
        line,
        missing,
        |r| state.metrics.check(r),
    )
    .await
    {
        Ok(a) => {
            let token = match upstream_headers(&state, a.as_ref(), line).await {
                Ok(t) => t,
                Err(resp) => return resp,
            };
            let mut resp = Response::new(Body::empty());
            let h = resp.headers_mut();
            let identity = a.iter().flat_map(|a| a.headers());
            h.reserve(identity.clone().count() + 1 + token.len());
            for (name, value) in identity {
                h.insert(name.clone(), value.clone());
            }
            h.extend(token.into_iter().map(|(n, v)| (Some(n), v)));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(resp) => resp,
    }
}

/// Under `cookie_domain`, a login asked for by another host under the domain returns to it:
/// `{origin}{original URI}`, where `origin` is what [`forwarding::request_origin`] believed (one
/// well-formed `X-Forwarded-Host` from a trusted proxy — a repeated or malformed one is not
/// believed, the same rule as the DPoP `htu`), checked as every absolute `return_to` is (https,
/// a host under the domain).
fn cross_host_return(settings: &Settings, origin: &str, target: &str) -> Option<String> {
    let domain = settings.cookie_domain.as_ref()?;
    if origin == settings.base {
        return None;
    }
    domain.absolute_target(
        &format!("{origin}{target}"),
        crate::return_to::MAX_RETURN_TO,
    )
}

/// With `pass_access_token`: `Authorization` (and `DPoP`, with a proof for the original
/// request) for the front proxy to set on the request it forwards (nginx:
/// `auth_request_set $relier_authorization $upstream_http_authorization;`).
async fn upstream_headers(
    state: &AppState,
    admitted: Option<&Admitted>,
    (method, origin, target): (&Method, &str, &str),
) -> Result<Vec<(HeaderName, HeaderValue)>, Response> {
    let failed = |e: UpstreamTokenError| {
        tracing::warn!(error = %e, "forward auth: no access token for the upstream");
        json_error(StatusCode::BAD_GATEWAY, "upstream_token_unavailable")
    };
    let Some(token) =
        upstream_token::for_request(state, state.settings.upstream_token.pass, admitted)
            .await
            .map_err(failed)?
    else {
        return Ok(Vec::new());
    };
    let htu = format!("{origin}{}", crate::paths::path_of(target));
    token
        .headers(method.as_str(), &htu, crate::clock::now())
        .map_err(failed)
}

/// 400 (403 for an untrusted peer) with the refusal's code; logged (an untrusted peer once a
/// minute).
fn refuse(state: &AppState, refusal: UriRefusal, peer: Option<SocketAddr>) -> Response {
    state.metrics.check(CheckResult::Refused);
    let status = match refusal {
        UriRefusal::UntrustedProxy => {
            let ip = peer.map(|p| forwarding::canonical(p.ip()));
            let now = std::time::Instant::now();
            if ip.is_none_or(|ip| state.untrusted_peers.should_log(ip, now)) {
                tracing::warn!(
                    peer = ?ip,
                    "forward auth from a peer outside trusted_proxies while path rules exist: refused (add the front proxy to trusted_proxies)"
                );
            }
            StatusCode::FORBIDDEN
        }
        UriRefusal::NonCanonical(why) => {
            tracing::info!(reason = why.as_str(), "forward auth: original URI refused");
            StatusCode::BAD_REQUEST
        }
        other => {
            tracing::warn!(
                code = other.code(),
                "forward auth: the original URI header is missing or ambiguous; refused"
            );
            StatusCode::BAD_REQUEST
        }
    };
    json_error(status, refusal.code())
}
