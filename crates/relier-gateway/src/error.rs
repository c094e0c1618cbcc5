//! Errors: [`GatewayError`] for start-up, [`PageError`] for what a browser sees — a clear page
//! with a correlation id; the details go to the log under the same id, never to the page.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::templates;

/// Why the gateway could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The configuration is invalid.
    #[error("configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    /// The configuration file cannot be read.
    #[error("configuration file {}: {source}", path.display())]
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The store.
    #[error("store: {0}")]
    Store(#[from] relier_store::StoreError),
    /// A provider could not be set up (discovery, credentials).
    #[error("provider {provider}: {reason}")]
    Provider {
        /// The provider's name.
        provider: String,
        /// What went wrong.
        reason: String,
    },
    /// `[federation]` without an active entity key in the store.
    #[error(
        "federation: no active entity key in the store: create one with `relier keys generate \
         --use entity` (or bring one with `relier keys import --use entity --file KEY.pem`)"
    )]
    NoEntityKey,
    /// The entity statement or the signed JWK set could not be built.
    #[error("federation: {0}")]
    Federation(#[from] relier_core::federation::publish::PublishError),
    /// The listen address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl GatewayError {
    /// A configuration value (or values together) the gateway cannot use.
    pub(crate) fn config(message: impl Into<String>) -> Self {
        GatewayError::Config(crate::config::ConfigError::Invalid(message.into()))
    }

    pub(crate) fn provider(provider: &str, reason: impl std::fmt::Display) -> Self {
        GatewayError::Provider {
            provider: provider.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// What the user is told (a fixed set of messages: nothing from an error's text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Unknown provider in the URL.
    UnknownProvider,
    /// The login state is unknown, expired or used.
    LoginExpired,
    /// The OP answered the authorization request with an error (e.g. the user declined).
    Denied,
    /// The callback or token response failed a check.
    LoginFailed,
    /// The OP could not be reached.
    ProviderUnavailable,
    /// The store or another internal part failed.
    Internal,
    /// The upstream application could not be reached.
    BadGateway,
    /// A logout request failed the CSRF check.
    Forbidden,
    /// Too many login starts from one client address.
    TooManyRequests,
    /// Signed in (or just authenticated by the OP) but not allowed in by the access rules.
    AccessDenied,
    /// A third-party-initiated login (OIDC Core §4) named another issuer or a target off
    /// this site.
    BadLoginRequest,
}

impl Problem {
    fn status(self) -> StatusCode {
        match self {
            Problem::UnknownProvider => StatusCode::NOT_FOUND,
            Problem::LoginExpired
            | Problem::LoginFailed
            | Problem::Denied
            | Problem::BadLoginRequest => StatusCode::BAD_REQUEST,
            Problem::ProviderUnavailable | Problem::BadGateway => StatusCode::BAD_GATEWAY,
            Problem::Internal => StatusCode::SERVICE_UNAVAILABLE,
            Problem::Forbidden | Problem::AccessDenied => StatusCode::FORBIDDEN,
            Problem::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn text(self) -> (&'static str, &'static str) {
        match self {
            Problem::UnknownProvider => (
                "Unknown sign-in provider",
                "This sign-in option does not exist. Please choose one from the list.",
            ),
            Problem::LoginExpired => (
                "Your sign-in attempt expired",
                "The sign-in took too long, was already completed, or was started in another \
                 browser. Please start again.",
            ),
            Problem::Denied => (
                "Sign-in was not completed",
                "The sign-in was cancelled or refused by the provider.",
            ),
            Problem::LoginFailed => (
                "Sign-in failed",
                "The response from the sign-in provider could not be verified.",
            ),
            Problem::ProviderUnavailable => (
                "Sign-in provider unavailable",
                "The sign-in provider could not be reached. Please try again in a moment.",
            ),
            Problem::Internal => (
                "Something went wrong",
                "The sign-in service is temporarily unavailable. Please try again in a moment.",
            ),
            Problem::BadGateway => (
                "Application unavailable",
                "The application behind this sign-in could not be reached.",
            ),
            Problem::Forbidden => (
                "Request refused",
                "This request did not come from this site and was refused.",
            ),
            Problem::AccessDenied => (
                "Access refused",
                "Your account is not allowed to use this application. If you think it should \
                 be, ask the people who run it.",
            ),
            Problem::BadLoginRequest => (
                "Sign-in request refused",
                "The link that started this sign-in names another provider or leads off this \
                 site.",
            ),
            Problem::TooManyRequests => (
                "Too many sign-in attempts",
                "Too many sign-ins were started from your network. Please wait a moment and \
                 try again.",
            ),
        }
    }
}

/// An error page: logged with its details and a random correlation id; the page shows only
/// the fixed message and the id.
#[derive(Debug)]
pub struct PageError {
    problem: Problem,
    detail: String,
}

impl PageError {
    /// An error with details for the log.
    pub fn new(problem: Problem, detail: impl std::fmt::Display) -> Self {
        PageError {
            problem,
            detail: detail.to_string(),
        }
    }
}

impl From<relier_store::StoreError> for PageError {
    fn from(e: relier_store::StoreError) -> Self {
        PageError::new(Problem::Internal, format!("store: {e}"))
    }
}

/// A random id for a log line and the page that refers to it.
pub fn correlation_id() -> String {
    crate::random::random_token(9)
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let id = correlation_id();
        let status = self.problem.status();
        if status.is_server_error() {
            tracing::error!(correlation_id = %id, problem = ?self.problem, detail = ?self.detail, "request failed");
        } else {
            tracing::warn!(correlation_id = %id, problem = ?self.problem, detail = ?self.detail, "request refused");
        }
        let (title, message) = self.problem.text();
        let mut resp =
            templates::page_response(status, &templates::error_page(title, message, &id));
        if let Ok(v) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert("x-correlation-id", v);
        }
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}
