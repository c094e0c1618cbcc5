//! The one "require a session" path: forward auth (`/auth/check`), the reverse proxy and the
//! embedding API's `Identity` extractor all ask here, and get either the signed-in session or
//! the answer for a request without one (a redirect to the login page for a browser navigation
//! when the caller wants it, else 401; 503 when the store fails). [`admit`] adds the per-path
//! rules (`skip_auth`, `[[access]]`) for forward auth and the proxy.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{is_navigation, json_error, login_redirect};
use crate::access::{PathDecision, PathRules, Policy};
use crate::api::{self, Admitted, ApiRule, Challenge};
use crate::cache::Authed;
use crate::error::{PageError, Problem};
use crate::metrics::CheckResult;
use crate::session::authenticate;
use crate::state::AppState;
use relier_store::StoreError;

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
        Err(e) => Err(store_failed(&e, count)),
    }
}

/// 503 when the store fails.
fn store_failed(e: &StoreError, count: impl Fn(CheckResult)) -> Response {
    count(CheckResult::Error);
    tracing::error!(error = ?e.to_string(), "session lookup failed");
    json_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
}

/// A request (`method` and `target`, path and query, as the client made it at `origin`, the
/// scheme and authority DPoP proofs name: [`crate::forwarding::request_origin`]): `Ok(None)` for a
/// `skip_auth` path without a session, `Ok(Some(_))` for a session that every matching
/// `[[access]]` rule admits, or on an `[[api]]` path an access token that passes
/// ([`admit_api`]), else the response to send (as [`require_session`], or 403 when a rule
/// refuses the user). `rules` are the top-level `skip_auth` and `[[access]]`, or an
/// `[[upstream]]` route's.
pub async fn admit(
    state: &AppState,
    rules: &PathRules,
    headers: &HeaderMap,
    (method, origin, target): (&Method, &str, &str),
    missing: WhenMissing<'_>,
    count: impl Fn(CheckResult),
) -> Result<Option<Admitted>, Response> {
    if let Some((index, rule)) = state.settings.api.find(target) {
        return admit_api(
            state,
            rules,
            headers,
            (index, rule),
            (method, origin, target),
            count,
        )
        .await
        .map(Some);
    }
    let session = |authed| Admitted::Session { authed, api: false };
    let policies = match rules.decide(target) {
        PathDecision::Public => {
            return match authenticate(state, headers).await {
                Ok(a) => {
                    count(CheckResult::Ok);
                    Ok(a.map(session))
                }
                Err(e) => Err(store_failed(&e, count)),
            };
        }
        PathDecision::Protected(policies) => policies,
    };
    // Counted as Ok only once the rules admit the user.
    let a = require_session(state, headers, missing, |r| {
        if r != CheckResult::Ok {
            count(r);
        }
    })
    .await?;
    if let Some(refusal) = check_policies(
        &state.settings,
        headers,
        target,
        missing,
        &a,
        &policies,
        &count,
    ) {
        return Err(refusal);
    }
    count(CheckResult::Ok);
    Ok(Some(session(a)))
}

/// An `[[api]]` path: the `Authorization` header's token, else (unless `sessions = false`) a
/// session; never a redirect. Refusals as RFC 6750 §3 ([`Challenge`]).
async fn admit_api(
    state: &AppState,
    rules: &PathRules,
    headers: &HeaderMap,
    (index, rule): (usize, &ApiRule),
    (method, origin, target): (&Method, &str, &str),
    count: impl Fn(CheckResult),
) -> Result<Admitted, Response> {
    let refuse = |c: Challenge| {
        count(match c {
            Challenge::Unavailable => CheckResult::Error,
            Challenge::InsufficientScope { .. } => CheckResult::Refused,
            _ => CheckResult::Unauthorized,
        });
        c.response()
    };
    match api::authenticate(state, (index, rule), headers, (method, origin, target)).await {
        Ok(Some(p)) => {
            count(CheckResult::Ok);
            return Ok(Admitted::Token(p));
        }
        Ok(None) => {}
        Err(c) => return Err(refuse(c)),
    }
    if !rule.sessions {
        return Err(refuse(Challenge::NoToken));
    }
    let a = match authenticate(state, headers).await {
        Ok(Some(a)) => a,
        Ok(None) => return Err(refuse(Challenge::NoToken)),
        Err(e) => return Err(store_failed(&e, count)),
    };
    // The [[access]] rules hold for a session here as everywhere.
    if let PathDecision::Protected(policies) = rules.decide(target)
        && let Some(refusal) = check_policies(
            &state.settings,
            headers,
            target,
            WhenMissing::Unauthorized,
            &a,
            &policies,
            &count,
        )
    {
        return Err(refusal);
    }
    count(CheckResult::Ok);
    Ok(Admitted::Session {
        authed: a,
        api: true,
    })
}

/// Every matching `[[access]]` policy must admit the session's user: else the refusal, 403
/// (the access denied page for a browser navigation).
fn check_policies(
    settings: &crate::settings::Settings,
    headers: &HeaderMap,
    target: &str,
    missing: WhenMissing<'_>,
    a: &Authed,
    policies: &[&Policy],
    count: &impl Fn(CheckResult),
) -> Option<Response> {
    for policy in policies {
        if let Err(refusal) = policy.check(&a.session.rec.claims) {
            count(CheckResult::Refused);
            let detail = format!(
                "access to {target:?} refused for {:?}: {refusal}",
                settings.logged_subject(&a.session.rec.provider, &a.session.rec.sub)
            );
            let method = match missing {
                WhenMissing::LoginPage { method, .. } => method,
                WhenMissing::Unauthorized => &Method::GET,
            };
            if is_navigation(method, headers) {
                return Some(PageError::new(Problem::AccessDenied, detail).into_response());
            }
            tracing::warn!(detail = ?detail, "request refused");
            return Some(json_error(StatusCode::FORBIDDEN, "access_denied"));
        }
    }
    None
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
