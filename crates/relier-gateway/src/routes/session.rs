//! `GET /auth/session`: the current identity as JSON (with the CSRF token for logout), or 401.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{json_error, no_store};
use crate::identity;
use crate::session::authenticate;
use crate::state::AppState;

/// `GET /auth/session`.
pub async fn current(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers).await {
        Ok(Some(a)) => {
            let r = &a.session.rec;
            let body = json!({
                "provider": r.provider,
                "iss": r.iss,
                "sub": r.sub,
                "sid": r.sid,
                "email": r.email,
                "email_verified": identity::email_verified(&r.claims),
                "name": r.name,
                "claims": r.claims,
                "created_at": r.created_at,
                "expires_at": a.session.expires_at(),
                "absolute_expires_at": r.absolute_expires_at,
                "access_token_expires_at": r.access_expires_at,
                "csrf_token": r.csrf_token.expose(),
            });
            no_store(
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    body.to_string(),
                )
                    .into_response(),
            )
        }
        Ok(None) => json_error(StatusCode::UNAUTHORIZED, "unauthenticated"),
        Err(e) => {
            tracing::error!(error = %e, "session lookup failed");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
        }
    }
}
