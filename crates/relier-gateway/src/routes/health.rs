//! `GET /healthz`: 200 "ok", or 503 when the store does not answer.
//! `GET /readyz`: 200 when the store answers and every provider is ready (its OP's metadata
//! discovered and its signing keys loaded); else 503 with a JSON body naming what is not ready.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Whether the store answers within 2 s (failures logged).
async fn store_answers(state: &AppState) -> bool {
    let probe = tokio::time::timeout(Duration::from_secs(2), state.store.active_algs()).await;
    match probe {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health: store failed");
            false
        }
        Err(_) => {
            tracing::error!("health: store timed out");
            false
        }
    }
}

/// `GET /readyz`: `{"ready": true}`, or 503 with
/// `{"ready": false, "store": "unavailable", "providers": ["name", …]}` (each key present only
/// when that part is not ready; why a provider is not ready is in the log, not on this public
/// route).
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let store = store_answers(&state).await;
    let waiting = state.providers.not_ready();
    let ready = store && waiting.is_empty();
    let mut body = serde_json::Map::new();
    body.insert("ready".into(), ready.into());
    if !store {
        body.insert("store".into(), "unavailable".into());
    }
    if !waiting.is_empty() {
        body.insert("providers".into(), waiting.into());
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        serde_json::Value::Object(body).to_string(),
    )
        .into_response()
}

/// `GET /healthz`.
pub async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let (status, text) = if store_answers(&state).await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n")
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response()
}
