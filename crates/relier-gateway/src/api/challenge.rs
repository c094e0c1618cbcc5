//! RFC 6750 §3 answers on `[[api]]` paths: 401 with `WWW-Authenticate: Bearer` (no `error`
//! when no token was sent, §3.1), `error="invalid_token"` for a token that failed, 400
//! `invalid_request` for a malformed request, 403 `insufficient_scope` with the scopes needed.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::routes::json_error;

/// Why a request on an API path was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Challenge {
    /// No credentials (RFC 6750 §3.1: no error code).
    NoToken,
    /// Several credentials, or an `Authorization` header that is not a token (§3.1
    /// `invalid_request`).
    InvalidRequest,
    /// Expired, revoked, malformed, for another audience or issuer (§3.1 `invalid_token`).
    InvalidToken,
    /// The token lacks a required scope (§3.1 `insufficient_scope`).
    InsufficientScope {
        /// The scopes the resource needs, space-separated.
        scope: String,
    },
    /// A DPoP-bound token failed, or the proof is not for it (RFC 9449 §7.1: `DPoP`
    /// `error="invalid_token"`).
    InvalidDpop,
    /// The DPoP proof failed its checks or was replayed (RFC 9449 §7.1 `invalid_dpop_proof`).
    InvalidDpopProof,
    /// The proof lacks the gateway's current nonce (RFC 9449 §9 `use_dpop_nonce`).
    UseDpopNonce {
        /// The nonce to use, sent in `DPoP-Nonce`.
        nonce: String,
    },
    /// The provider could not be asked (introspection failed): 503, no challenge.
    Unavailable,
}

impl Challenge {
    /// The response.
    pub fn response(&self) -> Response {
        let (status, code, value) = match self {
            Challenge::NoToken => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Bearer".to_owned(),
            ),
            Challenge::InvalidRequest => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Bearer error=\"invalid_request\"".to_owned(),
            ),
            Challenge::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "Bearer error=\"invalid_token\"".to_owned(),
            ),
            Challenge::InsufficientScope { scope } => (
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                // Scope tokens hold no `"` or `\` (RFC 6749 §3.3), checked at start.
                format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\""),
            ),
            Challenge::InvalidDpop => (
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                format!("DPoP error=\"invalid_token\", algs=\"{}\"", algs()),
            ),
            Challenge::InvalidDpopProof => (
                StatusCode::UNAUTHORIZED,
                "invalid_dpop_proof",
                format!("DPoP error=\"invalid_dpop_proof\", algs=\"{}\"", algs()),
            ),
            Challenge::UseDpopNonce { nonce } => {
                let mut resp = json_error(StatusCode::UNAUTHORIZED, "use_dpop_nonce");
                let value = format!("DPoP error=\"use_dpop_nonce\", algs=\"{}\"", algs());
                if let (Ok(v), Ok(n)) =
                    (HeaderValue::from_str(&value), HeaderValue::from_str(nonce))
                {
                    resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                    resp.headers_mut().insert("dpop-nonce", n);
                }
                return resp;
            }
            Challenge::Unavailable => {
                return json_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable");
            }
        };
        let mut resp = json_error(status, code);
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        resp
    }
}

/// The proof algorithms accepted, for `algs` (RFC 9449 §7.1).
fn algs() -> String {
    relier_core::dpop::verify::ACCEPTED_ALGS
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}
