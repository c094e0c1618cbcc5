//! The application's errors.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::pages;

/// What can go wrong inside the application (never the user's fault; those are pages).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The application's database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// relier failed (configuration, store, a provider).
    #[error(transparent)]
    Relier(#[from] relier_gateway::GatewayError),
    /// The store URL is not an SQLite file and no `--db` was given.
    #[error("{0}")]
    Config(String),
    /// The system's random source failed.
    #[error("the random source failed")]
    Random,
    /// A header value could not be built.
    #[error("invalid header value")]
    Header,
    /// Password hashing failed.
    #[error("password hashing: {0}")]
    Password(String),
    /// Too many password checks are waiting for a core already.
    #[error("too many password checks at once")]
    Busy,
    /// A login's `app_state` was refused by relier.
    #[error(transparent)]
    AppState(#[from] relier_gateway::embed::LoginAppStateError),
    /// The session's application data was refused by relier.
    #[error(transparent)]
    AppData(#[from] relier_gateway::embed::AppDataError),
    /// relier could not start or change the session.
    #[error(transparent)]
    Session(#[from] relier_gateway::embed::SessionError),
}

/// How long a client turned away with 503 is asked to wait, in seconds.
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Busy = self {
            tracing::warn!("password checks queue full: 503");
            let mut resp = pages::message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                "The server is busy. Please try again in a moment.",
            );
            // RFC 9110 §10.2.3: Retry-After on a 503 (§15.6.4).
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(BUSY_RETRY_AFTER_SECS),
            );
            return resp;
        }
        tracing::error!(error = %self, "request failed");
        pages::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The server could not complete the request. Please try again.",
        )
    }
}
