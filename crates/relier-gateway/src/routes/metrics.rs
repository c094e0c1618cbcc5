//! `GET /metrics`: Prometheus text format.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// `GET /metrics`.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let entries = u64::try_from(state.sessions.len()).unwrap_or(u64::MAX);
    state
        .metrics
        .cache_entries
        .store(entries, Ordering::Relaxed);
    let waiting = u64::try_from(state.touches.pending()).unwrap_or(u64::MAX);
    state
        .metrics
        .touches_pending
        .store(waiting, Ordering::Relaxed);
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        state.metrics.render(),
    )
        .into_response()
}
