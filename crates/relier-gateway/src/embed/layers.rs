//! Tower layers that enforce what [`super::Principal`] decides: [`RequireLogin`] admits a
//! request (session or, on an `[[api]]` path, access token) before the application's handler
//! runs, and [`RequireScope`] asks the admitted token for scopes.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::principal::admit_request;
use super::{Principal, RelierHandle};
use crate::api::Challenge;
use crate::reload::Live;

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

/// Admits every request through it as `/auth/check` would (`skip_auth`, `[[access]]`,
/// `[[api]]`): without a session a browser navigation is sent to the login page and anything
/// else gets 401; on an `[[api]]` path the access token is checked (RFC 6750 §3 refusals). The
/// handler then finds the [`Principal`] in the request's extensions (and the
/// [`super::Identity`] / [`Principal`] extractors read it from there). A `skip_auth` path
/// passes without a principal. Made by [`crate::Gateway::require_login`].
#[derive(Clone)]
pub struct RequireLogin {
    live: Live,
}

impl RequireLogin {
    pub(crate) fn new(live: Live) -> Self {
        RequireLogin { live }
    }
}

impl std::fmt::Debug for RequireLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequireLogin").finish_non_exhaustive()
    }
}

impl<S> Layer<S> for RequireLogin {
    type Service = RequireLoginService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireLoginService {
            inner,
            live: self.live.clone(),
        }
    }
}

/// The service [`RequireLogin`] wraps around the application's.
#[derive(Clone)]
pub struct RequireLoginService<S> {
    inner: S,
    live: Live,
}

impl<S> std::fmt::Debug for RequireLoginService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequireLoginService")
            .finish_non_exhaustive()
    }
}

impl<S> Service<Request<Body>> for RequireLoginService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> BoxFuture {
        // The service that was polled ready handles this request; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        // The configuration in force, once for the whole request.
        let state = self.live.current();
        let live = self.live.clone();
        Box::pin(async move {
            let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
            let admitted = admit_request(
                &state,
                req.headers(),
                (req.method(), target),
                req.extensions(),
            )
            .await;
            match admitted {
                Ok(principal) => {
                    let ext = req.extensions_mut();
                    ext.insert(RelierHandle(live));
                    if let Some(p) = principal {
                        ext.insert(p);
                    }
                    inner.call(req).await
                }
                Err(refusal) => Ok(refusal),
            }
        })
    }
}

/// Requires scopes of the access token [`RequireLogin`] admitted (put it inside that layer):
/// a token without every one of them gets 403 `insufficient_scope` with the scopes named
/// (RFC 6750 §3.1). A browser session carries no scopes and is refused too, unless
/// [`RequireScope::or_session`] (an SPA on the same origin). Without an admitted principal
/// (no [`RequireLogin`] outside, or a `skip_auth` path) the request gets 401.
#[derive(Debug, Clone)]
pub struct RequireScope {
    scopes: Arc<[String]>,
    sessions: bool,
}

impl RequireScope {
    /// Every one of `scopes` is required.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(scopes: I) -> Self {
        RequireScope {
            scopes: scopes.into_iter().map(Into::into).collect(),
            sessions: false,
        }
    }

    /// A browser session passes as well.
    #[must_use]
    pub fn or_session(mut self) -> Self {
        self.sessions = true;
        self
    }

    fn refusal(&self, principal: Option<&Principal>) -> Option<Response> {
        match principal {
            None => Some(crate::routes::json_error(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
            )),
            Some(Principal::Session(_)) if self.sessions => None,
            Some(p) if p.has_scopes(&self.scopes) => None,
            Some(_) => Some(
                Challenge::InsufficientScope {
                    scope: self.scopes.join(" "),
                }
                .response(),
            ),
        }
    }
}

impl<S> Layer<S> for RequireScope {
    type Service = RequireScopeService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireScopeService {
            inner,
            rule: self.clone(),
        }
    }
}

/// The service [`RequireScope`] wraps around the application's.
#[derive(Debug, Clone)]
pub struct RequireScopeService<S> {
    inner: S,
    rule: RequireScope,
}

impl<S> Service<Request<Body>> for RequireScopeService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> BoxFuture {
        if let Some(refusal) = self.rule.refusal(req.extensions().get::<Principal>()) {
            return Box::pin(async move { Ok(refusal.into_response()) });
        }
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move { inner.call(req).await })
    }
}
