//! Reverse-proxy mode: authenticated requests are streamed to the upstream with the identity
//! headers; client-sent identity headers in any spelling ([`crate::identity`]), headers with
//! `_` in their names (unless allowed), the gateway's cookies and hop-by-hop headers never reach
//! it, and the forwarding headers are the gateway's own ([`crate::forwarding`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::uri::{Authority, PathAndQuery, Scheme};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls_platform_verifier::BuilderVerifierExt;
use url::Url;

use crate::api::Admitted;
use crate::config::UpstreamConfig;
use crate::cookies;
use crate::error::{GatewayError, PageError, Problem};
use crate::forwarding;
use crate::settings::Settings;
use crate::state::AppState;
use crate::upstream_token::{self, UpstreamToken};

mod local;
pub mod routes;

pub use local::UpstreamSlot;
pub use routes::{Choice, Routes};

/// Hop-by-hop headers (RFC 9110 §7.6.1) plus `proxy-connection`.
/// A `static`: a `const` array of header names would be built and dropped at every use.
static HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    HeaderName::from_static("proxy-connection"),
];

/// Idle keep-alive connections kept to the upstream.
const POOL_IDLE_PER_HOST: usize = 1024;

/// The HTTP(S) connector to the upstream: TCP_NODELAY, a connect timeout, rustls with the
/// platform's roots for `https://`.
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// The HTTP client to the upstreams: one pool shared by every route (keyed by the upstream's
/// authority).
pub type UpstreamClient = Client<Connector, Body>;

/// Builds the upstream client: TCP_NODELAY, a connect timeout, rustls with the platform's
/// roots for `https://`, idle connections kept for reuse.
pub fn client() -> Result<UpstreamClient, GatewayError> {
    let bad = |m: String| GatewayError::config(format!("upstream TLS: {m}"));
    // Upstream connections are kept alive and reused (at most POOL_IDLE_PER_HOST idle ones);
    // TCP_NODELAY: a request head and its body chunks go out as they are written.
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.enforce_http(false);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad(e.to_string()))?
    .with_platform_verifier()
    .map_err(|e| bad(e.to_string()))?
    .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(POOL_IDLE_PER_HOST)
        .pool_timer(TokioTimer::new())
        .build(connector))
}

/// What one upstream (the `[upstream]` table, or one `[[upstream]]` route) is told and how.
#[derive(Debug)]
pub struct Target<'a> {
    /// The configuration key, for messages (`upstream.url`, `upstream[2].url`).
    pub key: &'a str,
    /// The upstream's base URL.
    pub url: &'a str,
    /// Send the browser's `Host`.
    pub preserve_host: bool,
    /// Leading path segments removed before forwarding (`strip_prefix`).
    pub strip: usize,
    /// Origins a WebSocket handshake may come from (`public_url`'s first).
    pub websocket_origins: Vec<String>,
    /// The forwarding headers' public side.
    pub public_origin: forwarding::PublicOrigin,
    /// The upstream gets the user's access token.
    pub pass_access_token: bool,
}

/// One upstream. hyper's client sends the request target as the URI holds it, so the
/// upstream gets the client's path byte for byte (a URL parser would resolve dot segments,
/// read `\` as `/` and re-encode characters: [`crate::paths`] decides on the bytes sent).
#[derive(Debug)]
pub struct Proxy {
    client: UpstreamClient,
    /// The upstream's scheme and authority.
    origin: (Scheme, Authority),
    /// `url`'s path without its trailing `/` (empty for the root).
    prefix: String,
    /// The upstream URL, for messages.
    base: String,
    preserve_host: bool,
    /// Leading path segments removed (`strip_prefix`).
    strip: usize,
    websocket_origins: Vec<String>,
    public_origin: forwarding::PublicOrigin,
    /// `pass_access_token`.
    pub pass_access_token: bool,
}

impl Proxy {
    /// `target`, sent with `client`.
    pub fn new(target: Target<'_>, client: &UpstreamClient) -> Result<Self, GatewayError> {
        let raw = target.url;
        let bad = |m: &str| GatewayError::config(format!("{} {raw}: {m}", target.key));
        let url = Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(bad("must be an http:// or https:// URL"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("must not have a query or fragment"));
        }
        let origin = Uri::try_from(url.as_str())
            .ok()
            .and_then(|u| Some((u.scheme()?.clone(), u.authority()?.clone())))
            .ok_or_else(|| bad("not a URI"))?;
        Ok(Proxy {
            client: client.clone(),
            origin,
            prefix: url.path().trim_end_matches('/').to_owned(),
            base: url.as_str().trim_end_matches('/').to_owned(),
            preserve_host: target.preserve_host,
            strip: target.strip,
            websocket_origins: target.websocket_origins,
            public_origin: target.public_origin,
            pass_access_token: target.pass_access_token,
        })
    }

    /// From `[upstream]` (with `url`) and the settings: the one upstream of every request.
    pub fn single(
        cfg: &UpstreamConfig,
        settings: &Settings,
        client: &UpstreamClient,
    ) -> Result<Self, GatewayError> {
        let target = Target {
            key: "upstream.url",
            url: cfg.url.as_deref().unwrap_or_default(),
            preserve_host: cfg.preserve_host,
            strip: 0,
            websocket_origins: settings.websocket_origins.clone(),
            public_origin: settings.public_origin.clone(),
            pass_access_token: settings.upstream_token.pass,
        };
        Proxy::new(target, client)
    }

    /// Streams `req` to the upstream as `authed`'s user (no user: a `skip_auth` path without a
    /// session; the identity headers are then absent, client-sent ones stripped all the same),
    /// with `token` in `Authorization` when the upstream gets one ([`crate::upstream_token`]).
    pub async fn forward(
        &self,
        state: &AppState,
        req: Request,
        authed: Option<&Admitted>,
        token: Option<&UpstreamToken>,
        client: Option<SocketAddr>,
    ) -> Response {
        let settings = &state.settings;
        let (mut parts, body) = req.into_parts();
        // RFC 6455 §4.1: a WebSocket handshake is forwarded as an upgrade; once the upstream
        // answers 101, the two connections are spliced.
        let upgrade = if is_websocket_upgrade(&parts.headers) {
            parts.extensions.remove::<hyper::upgrade::OnUpgrade>()
        } else {
            None
        };
        let Some(uri) = self.upstream_uri(&parts.uri) else {
            return PageError::new(
                Problem::BadGateway,
                format!(
                    "upstream {}: no request target for {:?}",
                    self.base, parts.uri
                ),
            )
            .into_response();
        };
        if upgrade.is_some() && !self.origin_allowed(&parts.headers) {
            return PageError::new(
                Problem::Forbidden,
                format_args!(
                    "websocket handshake from origin {:?} refused",
                    parts.headers.get(header::ORIGIN)
                ),
            )
            .into_response();
        }
        let route = forwarding::route(&settings.trusted_proxies, client, &parts.headers);
        let mut headers = parts.headers;
        strip_request_headers(settings, &mut headers);
        if !self.preserve_host {
            headers.remove(header::HOST);
        }
        for (name, value) in authed.iter().flat_map(|a| a.headers()) {
            headers.insert(name.clone(), value.clone());
        }
        upstream_token::strip_client_credentials(self.pass_access_token, authed, &mut headers);
        if let Some(token) = token {
            // RFC 9449 §4.2 htu: the upstream request's URI without query and fragment.
            let htu = format!("{}://{}{}", self.origin.0, self.origin.1, uri.path());
            match token.headers(parts.method.as_str(), &htu, crate::clock::now()) {
                Ok(h) => headers.extend(h.into_iter().map(|(n, v)| (Some(n), v))),
                Err(e) => {
                    return PageError::new(Problem::BadGateway, format!("upstream token: {e}"))
                        .into_response();
                }
            }
        }
        self.public_origin.rewrite(&mut headers, &route);
        if settings.traces {
            crate::telemetry::inject_current(&mut headers);
        }
        if upgrade.is_some() {
            headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
            headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        }
        let mut upstream_req = Request::new(body);
        *upstream_req.method_mut() = parts.method;
        *upstream_req.headers_mut() = headers;
        // An HTTP/1 client's requests go on its own upstream connection, driven in its task
        // (see [`local`]); plain-http upstreams only (TLS and upgrades take the pool).
        if upgrade.is_none()
            && self.origin.0 == Scheme::HTTP
            && let Some(slot) = parts.extensions.get::<UpstreamSlot>()
        {
            return self.send_local(slot, upstream_req, &uri).await;
        }
        *upstream_req.uri_mut() = uri;
        match self.client.request(upstream_req).await {
            Ok(resp) if resp.status() == axum::http::StatusCode::SWITCHING_PROTOCOLS => {
                match upgrade {
                    Some(on_upgrade) => self.splice(resp, on_upgrade).await,
                    None => self.unrequested_switch(),
                }
            }
            Ok(resp) => relay(resp),
            Err(e) => PageError::new(Problem::BadGateway, format!("upstream {}: {e}", self.base))
                .into_response(),
        }
    }
}

/// The upstream's response for the client, hop-by-hop headers removed.
fn relay<B>(resp: axum::http::Response<B>) -> Response
where
    B: hyper::body::Body<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let (mut parts, body) = resp.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    Response::from_parts(parts, Body::new(body))
}

impl Proxy {
    /// `req` on the client connection's own upstream connection ([`local`]): origin-form
    /// target, `Host` the upstream's unless `preserve_host` kept the client's.
    async fn send_local(&self, slot: &UpstreamSlot, mut req: Request, uri: &Uri) -> Response {
        if (!self.preserve_host || !req.headers().contains_key(header::HOST))
            && let Ok(host) = HeaderValue::from_str(self.origin.1.as_str())
        {
            req.headers_mut().insert(header::HOST, host);
        }
        *req.uri_mut() = uri
            .path_and_query()
            .map_or_else(|| Uri::from_static("/"), |pq| Uri::from(pq.clone()));
        match local::send(slot, &self.origin.1, req).await {
            Ok(resp) if resp.status() == axum::http::StatusCode::SWITCHING_PROTOCOLS => {
                self.unrequested_switch()
            }
            Ok(resp) => relay(resp),
            Err(e) => PageError::new(Problem::BadGateway, format!("upstream {}: {e}", self.base))
                .into_response(),
        }
    }

    /// The upstream switched protocols without being asked to.
    fn unrequested_switch(&self) -> Response {
        PageError::new(
            Problem::BadGateway,
            format!("upstream {}: unrequested 101 response", self.base),
        )
        .into_response()
    }

    /// The upstream's absolute URI for a request: its origin, `url`'s path, then the client's
    /// path (less the route's prefix with `strip_prefix`) and query exactly as received.
    fn upstream_uri(&self, client: &Uri) -> Option<Uri> {
        let pq = match client.path_and_query() {
            // The client's bytes, shared, not parsed again.
            Some(pq) if self.prefix.is_empty() && self.strip == 0 => pq.clone(),
            pq => {
                let path = routes::strip_segments(pq.map_or("/", PathAndQuery::path), self.strip)?;
                let query = pq.and_then(PathAndQuery::query);
                let mut target = String::with_capacity(
                    self.prefix.len() + path.len() + 1 + query.map_or(0, str::len),
                );
                target.push_str(&self.prefix);
                target.push_str(path);
                if let Some(q) = query {
                    target.push('?');
                    target.push_str(q);
                }
                PathAndQuery::try_from(target).ok()?
            }
        };
        Uri::builder()
            .scheme(self.origin.0.clone())
            .authority(self.origin.1.clone())
            .path_and_query(pq)
            .build()
            .ok()
    }

    /// Answers the client's handshake with the upstream's 101 and copies bytes both ways
    /// until either side closes.
    async fn splice(
        &self,
        resp: axum::http::Response<Incoming>,
        on_upgrade: hyper::upgrade::OnUpgrade,
    ) -> Response {
        let mut answer = Response::new(Body::empty());
        *answer.status_mut() = resp.status();
        for (name, value) in resp.headers() {
            if !HOP_BY_HOP.contains(name) {
                answer.headers_mut().append(name.clone(), value.clone());
            }
        }
        answer
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        answer
            .headers_mut()
            .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        let mut upstream = match hyper::upgrade::on(resp).await {
            Ok(u) => hyper_util::rt::TokioIo::new(u),
            Err(e) => {
                return PageError::new(
                    Problem::BadGateway,
                    format!("upstream {}: websocket upgrade: {e}", self.base),
                )
                .into_response();
            }
        };
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(client) => {
                    let mut client = hyper_util::rt::TokioIo::new(client);
                    if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await
                    {
                        tracing::debug!(error = %e, "websocket connection ended");
                    }
                }
                Err(e) => tracing::debug!(error = %e, "client websocket upgrade failed"),
            }
        });
        answer
    }
}

/// RFC 6455 §4.1: `Connection` lists `upgrade` and `Upgrade` lists `websocket`.
fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    let lists = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    lists(header::CONNECTION, "upgrade") && lists(header::UPGRADE, "websocket")
}

/// Removes hop-by-hop headers, including those the `Connection` header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    strip_where(headers, |_| false);
}

/// Removes the hop-by-hop headers, those the `Connection` header names (RFC 9110 §7.6.1) and
/// those `also` picks: each name present is looked at once, each `Connection` token parsed
/// once (linear in the request's header bytes, however many tokens a client sends), instead of
/// a lookup in the map per listed name; nothing is allocated when nothing goes.
fn strip_where(headers: &mut HeaderMap, also: impl Fn(&HeaderName) -> bool) {
    let mut doomed: Vec<HeaderName> = headers
        .keys()
        .filter(|k| HOP_BY_HOP.contains(k) || also(k))
        .cloned()
        .collect();
    // RFC 9110 §7.6.1: every field named by a connection option goes (`close` too, should a
    // field of that name be present). A token naming a hop-by-hop header (already doomed if
    // present) is not looked up; the others are, each once.
    let listed = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| {
            !HOP_BY_HOP
                .iter()
                .any(|h| t.eq_ignore_ascii_case(h.as_str()))
        })
        .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
        .filter(|n| headers.contains_key(n))
        .collect::<Vec<_>>();
    doomed.extend(listed);
    for n in doomed {
        headers.remove(n);
    }
}

/// Everything the client must not be able to send upstream: hop-by-hop headers, headers a
/// framework reads as the path, anything that could pass for an identity header, underscored
/// names (unless allowed), the gateway's cookies.
pub fn strip_request_headers(settings: &Settings, headers: &mut HeaderMap) {
    // The upstream routes on the request line the gateway judged, never on a client-sent
    // path override.
    let underscores = settings.underscores_in_headers;
    strip_where(headers, |k| {
        crate::original_uri::PATH_OVERRIDES.contains(&k.as_str())
            || settings.identity.is_stripped(k, underscores)
    });
    cookies::strip(
        headers,
        &[settings.cookie_name],
        settings.login_cookie_prefix,
    );
}

impl Proxy {
    /// RFC 6455 §10.2: the server checks `Origin` to refuse handshakes a page of another site
    /// started (the browser sends the session cookie with them). No `Origin` is refused too:
    /// every browser sends one, so only a non-browser client can omit it, and it can send one.
    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|o| {
                self.websocket_origins
                    .iter()
                    .any(|allowed| allowed.eq_ignore_ascii_case(o))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_and_connection_named_headers_go() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, x-secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert(header::TE, HeaderValue::from_static("trailers"));
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key(header::ACCEPT));
    }

    #[test]
    fn a_field_named_by_any_connection_option_goes_close_and_keep_alive_included() {
        let mut h = HeaderMap::new();
        h.append(header::CONNECTION, HeaderValue::from_static("Close"));
        h.append(
            header::CONNECTION,
            HeaderValue::from_static("KEEP-ALIVE, x-b"),
        );
        h.insert("close", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("x-b", HeaderValue::from_static("1"));
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        strip_hop_by_hop(&mut h);
        assert_eq!(
            h.keys().map(HeaderName::as_str).collect::<Vec<_>>(),
            ["accept"]
        );
    }

    #[test]
    fn a_connection_header_of_many_tokens_is_read_once_per_token() {
        let mut tokens = vec!["x-a"; 10_000];
        tokens.push("X-Secret");
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_str(&tokens.join(", ")).unwrap(),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        strip_hop_by_hop(&mut h);
        assert_eq!(
            h.keys().map(HeaderName::as_str).collect::<Vec<_>>(),
            ["accept"]
        );
    }

    #[test]
    fn every_listed_hop_by_hop_header_goes_whatever_its_case_on_the_wire() {
        let mut h: HeaderMap = [
            ("Connection", "Keep-Alive, X-Hop"),
            ("Keep-Alive", "timeout=5"),
            ("Proxy-Authorization", "Basic eA=="),
            ("Proxy-Authenticate", "Basic"),
            ("TE", "trailers"),
            ("Trailer", "x-t"),
            ("Transfer-Encoding", "chunked"),
            ("Upgrade", "h2c"),
            ("Proxy-Connection", "keep-alive"),
            ("X-Hop", "1"),
            ("X-Kept", "1"),
        ]
        .into_iter()
        .map(|(n, v)| {
            let name = HeaderName::from_bytes(n.as_bytes()).unwrap();
            (name, HeaderValue::from_static(v))
        })
        .collect();
        strip_hop_by_hop(&mut h);
        assert_eq!(
            h.keys().map(HeaderName::as_str).collect::<Vec<_>>(),
            ["x-kept"]
        );
    }
}
