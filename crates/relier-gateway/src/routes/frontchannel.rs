//! `GET /auth/frontchannel-logout/{provider}`: OpenID Connect Front-Channel Logout 1.0 §2–§4.
//!
//! The OP renders this URL in an iframe when the user logs out there. With `iss` and `sid`
//! (the OP sends them when the client registered `frontchannel_logout_session_required`) the
//! sessions of that provider with that `sid` end — found in the store, so no cookie is needed
//! and every instance on the store sees them ended. Without both, the session of the
//! browser's own cookie ends if it is one of that provider's (§2 allows it; a browser that
//! blocks third-party cookies — or a `SameSite=Lax` cookie in a cross-site frame — sends none,
//! which is why `iss` + `sid` is preferred).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use url::Url;

use super::backchannel::end_sessions;
use super::{json_error, param};
use crate::session::peek;
use crate::state::AppState;
use crate::templates;

fn refused(state: &AppState, outcome: &'static str, status: StatusCode) -> Response {
    state.metrics.frontchannel(outcome);
    let code = if status == StatusCode::BAD_REQUEST {
        "invalid_request"
    } else {
        "server_error"
    };
    json_error(status, code)
}

/// Ends the sessions the request names (by `iss` + `sid`, or by the browser's cookie) and
/// answers the page the OP frames. 400 for an unknown or non-OpenID-Connect provider, for
/// only one of `iss` and `sid`, and for an `iss` other than the provider's issuer (§3: "the
/// RP MUST verify" it; nothing is ended). An unknown `sid` ends nothing and still gets the
/// page.
pub async fn logout(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let Some(issuer) = state.providers.get(&name).and_then(|p| p.issuer()) else {
        tracing::warn!(provider = ?name, "front-channel logout for an unknown or non-OpenID Connect provider");
        return refused(&state, "invalid", StatusCode::BAD_REQUEST);
    };
    let q = q.unwrap_or_default();
    let iss = param(q.as_bytes(), "iss");
    let sid = param(q.as_bytes(), "sid");
    let ended = match (iss, sid) {
        (Some(iss), Some(sid)) => {
            // §3: "If the iss and sid parameters are received, the RP MUST verify that they
            // match the iss and sid Claims of the ID Token" — the issuer exactly (OIDC Core §3.1.3.7).
            if iss != issuer {
                tracing::warn!(provider = ?name, iss = ?iss, "front-channel logout: iss is not the provider's issuer");
                return refused(&state, "invalid", StatusCode::BAD_REQUEST);
            }
            end_sessions(&state, &name, Some(&sid), None).await
        }
        (None, None) => by_cookie(&state, &name, &headers).await,
        _ => {
            tracing::warn!(provider = ?name, "front-channel logout: iss and sid must come together");
            return refused(&state, "invalid", StatusCode::BAD_REQUEST);
        }
    };
    match ended {
        Ok(n) => {
            state.metrics.frontchannel("success");
            tracing::info!(provider = ?name, sessions = n, "front-channel logout");
            let origin = Url::parse(&issuer)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_default();
            templates::frontchannel_logout_response(&origin)
        }
        Err(e) => {
            tracing::error!(provider = ?name, error = %e, "front-channel logout: ending sessions failed");
            refused(&state, "error", StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// Ends the session of the request's cookie if it is one of `provider`'s (a session of
/// another provider lives on: the OP that frames this page only speaks for its own). The
/// number of sessions ended (0 or 1).
async fn by_cookie(
    state: &Arc<AppState>,
    provider: &str,
    headers: &HeaderMap,
) -> Result<usize, relier_store::StoreError> {
    let Some(a) = peek(state, headers).await? else {
        return Ok(0);
    };
    if a.session.rec.provider != provider {
        return Ok(0);
    }
    // The refresh token's revocation runs on in its own task.
    drop(super::logout::end(state, &a).await?);
    Ok(1)
}
