//! The application's errors.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::pages;

/// What can go wrong inside the application (never the user's fault; those are pages).
#[derive(Debug, thiserror::Error)]
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
    /// A login's `app_state` was refused by relier.
    #[error(transparent)]
    AppState(#[from] relier_gateway::embed::LoginAppStateError),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "request failed");
        pages::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The server could not complete the request. Please try again.",
        )
    }
}
