//! `GET /auth/request/{id}`: a request object by reference (OIDC Core §6.2, RFC 9101 §5.2),
//! served once to the OP that fetches it, until its `exp`; then, and for an unknown id, 404.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use relier_core::UnixTime;
use relier_core::request_object::CONTENT_TYPE;

use crate::clock;
use crate::state::AppState;

/// `GET /auth/request/{id}`.
pub async fn serve(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let now = UnixTime(clock::now());
    let Some(object) = state
        .providers
        .request_objects()
        .and_then(|r| r.take(&id, now))
    else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mut resp = (StatusCode::OK, object).into_response();
    let h = resp.headers_mut();
    // RFC 9101 §5.2 / §10.2: the request object's media type.
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}
