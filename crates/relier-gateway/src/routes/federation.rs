//! With `[federation]`: `GET /.well-known/openid-federation` (the RP's entity statement,
//! `application/entity-statement+jwt`, OpenID Federation 1.0 §9) and `GET
//! /.well-known/signed-jwks` (its signed JWK set, `application/jwk-set+jwt`, §5.2.1), both
//! signed with the active entity key and served from the publisher's cache. Without
//! `[federation]` neither route exists (404).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use relier_core::federation::{
    ENTITY_STATEMENT_CONTENT_TYPE, SIGNED_JWKS_CONTENT_TYPE, WELL_KNOWN_FEDERATION,
    WELL_KNOWN_SIGNED_JWKS,
};

use super::json_error;
use crate::clock;
use crate::federation::Document;
use crate::state::AppState;

/// The two routes, when `[federation]` is configured.
pub(super) fn routes(state: &AppState) -> Router<crate::reload::Live> {
    if state.federation.is_none() {
        return Router::new();
    }
    Router::new()
        .route(WELL_KNOWN_FEDERATION, get(statement))
        .route(WELL_KNOWN_SIGNED_JWKS, get(signed_jwks))
}

async fn statement(State(state): State<Arc<AppState>>) -> Response {
    serve(&state, Document::Statement, ENTITY_STATEMENT_CONTENT_TYPE).await
}

async fn signed_jwks(State(state): State<Arc<AppState>>) -> Response {
    serve(&state, Document::SignedJwks, SIGNED_JWKS_CONTENT_TYPE).await
}

async fn serve(state: &AppState, doc: Document, content_type: &'static str) -> Response {
    let Some(publisher) = &state.federation else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let token = match publisher.get(state.store.as_ref(), doc, clock::now()).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, document = ?doc, "federation: cannot sign");
            return json_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable");
        }
    };
    let mut resp = (StatusCode::OK, token.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) =
        HeaderValue::from_str(&format!("public, max-age={}", state.settings.jwks_max_age))
    {
        h.insert(header::CACHE_CONTROL, v);
    }
    resp
}
