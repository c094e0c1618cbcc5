//! The HTTP surface: `/auth/*`, `/.well-known/jwks.json` (with `[federation]` also
//! `/.well-known/openid-federation` and `/.well-known/signed-jwks`), `/healthz`, `/metrics`, and — in
//! reverse-proxy mode — everything else.

mod backchannel;
mod callback;
mod check;
mod federation;
mod frontchannel;
mod health;
mod initiate;
mod jwks;
pub(crate) mod login;
pub(crate) mod logout;
mod metrics;
mod request_object;
pub(crate) mod require;
mod session;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};

use tracing::Instrument as _;

use crate::error::{PageError, Problem};
use crate::metrics::CheckResult;
use crate::proxy::Choice;
use crate::reload::Live;
use crate::state::AppState;
use require::{WhenMissing, admit};

/// Largest callback / logout / back-channel request body.
const SMALL_BODY: usize = 64 * 1024;

/// The standalone gateway's router: the login routes, forward auth, health, (optionally)
/// metrics, and the reverse proxy as the fallback — and, unless `[telemetry]` puts a layer
/// around every request, [`Direct`] for the server to take that fallback without the router.
///
/// The route table follows the configuration it is built with; what changes it (`metrics`,
/// `[telemetry]`, `[federation]` on or off) needs a restart ([`crate::state::Fixed`]). Every
/// route lives where [`routed`] says.
pub fn router(live: Live) -> (Router, Option<Direct>) {
    let state = live.current();
    let mut r = login_routes()
        .merge(federation::routes(&state))
        .route("/auth/check", any(check::check))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    if state.settings.metrics {
        r = r.route("/metrics", get(metrics::metrics));
    }
    let r = r
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(SMALL_BODY));
    if state.settings.traces {
        let traced = r.layer(axum::middleware::from_fn_with_state(
            live.clone(),
            crate::telemetry::request_span,
        ));
        (traced.with_state(live), None)
    } else {
        let direct = Direct { live: live.clone() };
        (r.with_state(live), Some(direct))
    }
}

/// The login routes an application mounts when it embeds relier: chooser, login start,
/// callback, session JSON, logout, back- and front-channel logout, assets and the RP's JWKS.
pub fn embedded_router(live: Live) -> Router {
    login_routes()
        .merge(federation::routes(&live.current()))
        .layer(DefaultBodyLimit::max(SMALL_BODY))
        .with_state(live)
}

fn login_routes() -> Router<Live> {
    Router::new()
        .route("/auth/login", get(login::chooser))
        .route(
            "/auth/login/{provider}",
            get(login::start).post(login::start_form),
        )
        .route(
            "/auth/callback/{provider}",
            get(callback::query).post(callback::form_post),
        )
        .route("/auth/request/{id}", get(request_object::serve))
        .route("/auth/session", get(session::current))
        .route("/auth/logout", get(logout::confirm).post(logout::logout))
        .route("/auth/logged-out", get(logout::logged_out))
        .route(
            "/auth/backchannel-logout/{provider}",
            post(backchannel::logout),
        )
        .route(
            "/auth/frontchannel-logout/{provider}",
            get(frontchannel::logout),
        )
        .route("/auth/assets/relier.css", get(login::base_css))
        .route("/auth/assets/theme.css", get(login::theme_css))
        .route("/.well-known/jwks.json", get(jwks::jwks))
}

/// The operations router for `metrics_listen`: `/metrics`, `/healthz` and `/readyz`, nothing
/// else.
pub fn operations_router(live: Live) -> Router {
    Router::new()
        .route("/metrics", get(metrics::metrics))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(live)
}

/// `{"error": code}` with `Cache-Control: no-store`.
pub(crate) fn json_error(status: StatusCode, code: &str) -> Response {
    no_store(
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            format!("{{\"error\":\"{code}\"}}"),
        )
            .into_response(),
    )
}

/// Adds `Cache-Control: no-store`.
pub(crate) fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A redirect with `Location` as given (relative or absolute).
pub(crate) fn redirect(status: StatusCode, location: &str) -> Response {
    let mut resp = status.into_response();
    match HeaderValue::from_str(location) {
        Ok(v) => {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        Err(_) => {
            resp.headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static("/"));
        }
    }
    no_store(resp)
}

/// The first value of `name` in a query string or form body.
pub(crate) fn param(raw: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(raw)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A top-level browser navigation (gets a redirect to the login page instead of a 401).
pub(crate) fn is_navigation(method: &Method, headers: &HeaderMap) -> bool {
    if method != Method::GET && method != Method::HEAD {
        return false;
    }
    let accept_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let navigate = headers
        .get("sec-fetch-mode")
        .is_some_and(|v| v.as_bytes() == b"navigate");
    accept_html || navigate
}

/// `/auth/login?return_to=…` for a path + query.
pub(crate) fn login_redirect(return_to: &str) -> Response {
    let q: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    redirect(StatusCode::FOUND, &format!("/auth/login?return_to={q}"))
}

/// Reverse proxy (with `[upstream]` or `[[upstream]]` routes) or 404.
async fn fallback(State(state): State<Arc<AppState>>, req: Request) -> Response {
    proxy(state, req).await
}

/// Whether the standalone router may have a route for `path`: every route it has lives under
/// `/auth/`, under `/.well-known/`, or is `/healthz`, `/readyz` or `/metrics`. Any other path
/// goes to its fallback, the reverse proxy.
fn routed(path: &str) -> bool {
    path == "/auth"
        || path.starts_with("/auth/")
        || path.starts_with("/.well-known/")
        || matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// The standalone router's fallback taken without the router: for a request no route can
/// take, the server ([`crate::server`]) calls the reverse proxy directly — the same function
/// the router's fallback calls — instead of a route lookup and the router's boxed layers on
/// every proxied request. Not with `[telemetry]` (its request span is a layer of the router).
#[derive(Debug, Clone)]
pub struct Direct {
    live: Live,
}

/// The reverse proxy's answer to one request taken by [`Direct`].
pub(crate) type DirectFuture = std::pin::Pin<Box<dyn Future<Output = Response> + Send>>;

impl Direct {
    /// Whether the router would give a request for `path` to its fallback.
    pub(crate) fn takes(&self, path: &str) -> bool {
        !routed(path)
    }

    /// The reverse proxy's answer to `req`, one that [`Direct::takes`].
    pub(crate) fn call<B>(&self, req: axum::http::Request<B>) -> DirectFuture
    where
        B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
    {
        Box::pin(proxy(self.live.current(), req.map(Body::new)))
    }
}

/// Reverse proxy (with `[upstream]` or `[[upstream]]` routes) or 404: the router's fallback
/// and [`Direct`].
async fn proxy(state: Arc<AppState>, req: Request) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "not found\n").into_response();
    let Some(routes) = &state.proxy else {
        return not_found();
    };
    if req.uri().path().starts_with("/auth/") || req.uri().path() == "/auth" {
        return not_found();
    }
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let lenient = state.settings.path_rules.lenient;
    if !lenient && let Err(why) = crate::paths::check_canonical(req.uri().path()) {
        state.metrics.proxy(CheckResult::Refused);
        tracing::info!(reason = why.as_str(), "proxy: request path refused");
        return json_error(StatusCode::BAD_REQUEST, "non_canonical_path");
    }
    let route = match routes.choose(req.uri(), req.headers(), lenient) {
        Choice::Route(r) => r,
        // No upstream is contacted for a request no route takes.
        Choice::NotFound => return not_found(),
        refused @ (Choice::AmbiguousRoute | Choice::AmbiguousHost) => {
            state.metrics.proxy(CheckResult::Refused);
            let code = if matches!(refused, Choice::AmbiguousHost) {
                "ambiguous_host"
            } else {
                "ambiguous_route"
            };
            tracing::info!(reason = code, "proxy: request refused");
            return json_error(StatusCode::BAD_REQUEST, code);
        }
    };
    // A route on another host under cookie_domain: the login runs on public_url's host and
    // comes back here.
    let cross_host = route.login_host.as_ref().and_then(|host| {
        let domain = state.settings.cookie_domain.as_ref()?;
        domain.absolute_target(
            &format!("https://{host}{target}"),
            crate::return_to::MAX_RETURN_TO,
        )
    });
    let missing = WhenMissing::LoginPage {
        method: req.method(),
        return_to: cross_host.as_deref().unwrap_or(target),
        absolute: cross_host.is_some(),
    };
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let trusted = client.is_some_and(|p| {
        state
            .settings
            .trusted_proxies
            .contains(crate::forwarding::canonical(p.ip()))
    });
    let origin = crate::forwarding::request_origin(&state.settings.base, trusted, req.headers());
    let line = (req.method(), origin.as_ref(), target);
    let proxy = &route.proxy;
    match admit(&state, &route.rules, req.headers(), line, missing, |r| {
        state.metrics.proxy(r)
    })
    .await
    {
        Err(resp) => resp,
        Ok(authed) => {
            let pass = proxy.pass_access_token;
            let token =
                match crate::upstream_token::for_request(&state, pass, authed.as_ref()).await {
                    Ok(t) => t,
                    Err(e) => {
                        tracing::warn!(error = %e, "proxy: no access token for the upstream");
                        return PageError::new(Problem::BadGateway, format!("{e}")).into_response();
                    }
                };
            let span = crate::telemetry::hot_span(state.settings.traces, || {
                tracing::info_span!("proxy", otel.kind = "client")
            });
            proxy
                .forward(&state, req, authed.as_ref(), token.as_ref(), client)
                .instrument(span)
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first argument of every `.route(` call in `source`: a path literal, or the name of
    /// the constant that holds it.
    fn route_paths(source: &str) -> Vec<String> {
        source
            .split(".route(")
            .skip(1)
            .map(|rest| {
                let rest = rest.trim_start();
                match rest.strip_prefix('"') {
                    Some(lit) => lit.split('"').next().unwrap().to_owned(),
                    None => rest.split([',', ')']).next().unwrap().trim().to_owned(),
                }
            })
            .collect()
    }

    /// [`Direct`] takes only what the router cannot route: every route of the standalone
    /// router (its login routes, federation's, forward auth, health, metrics) is under
    /// [`routed`]. A route added elsewhere fails here before it can be shadowed.
    #[test]
    fn every_route_of_the_router_is_routed() {
        let mut paths = route_paths(include_str!("mod.rs"));
        paths.retain(|p| !p.is_empty() && !p.contains(' '));
        assert!(paths.len() >= 18, "{paths:?}");
        for p in route_paths(include_str!("federation.rs")) {
            paths.push(match p.as_str() {
                "WELL_KNOWN_FEDERATION" => relier_core::federation::WELL_KNOWN_FEDERATION.into(),
                "WELL_KNOWN_SIGNED_JWKS" => relier_core::federation::WELL_KNOWN_SIGNED_JWKS.into(),
                other => panic!("a federation route at {other}: add it here"),
            });
        }
        for p in &paths {
            let concrete = p.replace("{provider}", "local").replace("{id}", "x");
            assert!(routed(&concrete), "{p} would be taken by the proxy");
        }
    }

    #[test]
    fn everything_else_goes_to_the_proxy() {
        for p in [
            "/",
            "/app",
            "/authx",
            "/Auth/check",
            "/healthz/",
            "/metrics2",
            "/well-known/x",
        ] {
            assert!(!routed(p), "{p}");
        }
        for p in ["/auth", "/auth/", "/auth/check", "/.well-known/other"] {
            assert!(routed(p), "{p}");
        }
    }
}
