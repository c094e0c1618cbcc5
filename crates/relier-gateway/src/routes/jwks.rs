//! `GET /.well-known/jwks.json`: the RP's public keys (active, next, retired within grace),
//! usable as `jwks_uri` in a client registration. Never a private member.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::json_error;
use crate::clock;
use crate::state::AppState;
use relier_store::UnixTime;

/// `GET /.well-known/jwks.json`.
pub async fn jwks(State(state): State<Arc<AppState>>) -> Response {
    let set = match state.store.jwks(UnixTime(clock::now())).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "JWKS: store failed");
            return json_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable");
        }
    };
    let body = match serde_json::to_string(&set) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "JWKS: serialization failed");
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
        }
    };
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    if let Ok(v) =
        HeaderValue::from_str(&format!("public, max-age={}", state.settings.jwks_max_age))
    {
        h.insert(header::CACHE_CONTROL, v);
    }
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}
