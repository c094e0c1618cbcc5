//! The one "require a session" path: forward auth (`/auth/check`), the reverse proxy and the
//! embedding API's `Identity` extractor all ask here, and get either the signed-in session or
//! the answer for a request without one (a redirect to the login page for a browser navigation
//! when the caller wants it, else 401; 503 when the store fails).

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use super::{is_navigation, json_error, login_redirect};
use crate::metrics::CheckResult;
use crate::session::{Authed, authenticate};
use crate::state::AppState;

/// What to answer a request without a session.
#[derive(Debug, Clone, Copy)]
pub enum WhenMissing<'a> {
    /// 401 `{"error":"unauthenticated"}`.
    Unauthorized,
    /// Browser navigations (by `method` and the headers) go to the login page with
    /// `return_to`; other requests get 401.
    LoginPage {
        /// The request's (or, for forward auth, the original request's) method.
        method: &'a Method,
        /// Where to come back to after the login (sanitised by the login page).
        return_to: &'a str,
        /// Make `Location` absolute to `public_url` (the answer is relayed by another origin's
        /// proxy).
        absolute: bool,
    },
}

/// The request's session, or the response to send instead; `count` records the outcome.
pub async fn require_session(
    state: &AppState,
    headers: &HeaderMap,
    missing: WhenMissing<'_>,
    count: impl Fn(CheckResult),
) -> Result<Authed, Response> {
    match authenticate(state, headers).await {
        Ok(Some(a)) => {
            count(CheckResult::Ok);
            Ok(a)
        }
        Ok(None) => {
            count(CheckResult::Unauthorized);
            Err(unauthenticated(state, headers, missing))
        }
        Err(e) => {
            count(CheckResult::Error);
            tracing::error!(error = ?e.to_string(), "session lookup failed");
            Err(json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
            ))
        }
    }
}

fn unauthenticated(state: &AppState, headers: &HeaderMap, missing: WhenMissing<'_>) -> Response {
    let WhenMissing::LoginPage {
        method,
        return_to,
        absolute,
    } = missing
    else {
        return json_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    };
    if !is_navigation(method, headers) {
        return json_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    let mut resp = login_redirect(return_to);
    if absolute
        && let Some(loc) = resp.headers().get(header::LOCATION).cloned()
        && let Ok(loc) = loc.to_str()
        && let Ok(abs) = HeaderValue::from_str(&format!("{}{loc}", state.settings.base))
    {
        resp.headers_mut().insert(header::LOCATION, abs);
    }
    resp
}
