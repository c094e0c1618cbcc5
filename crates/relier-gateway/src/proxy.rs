//! Reverse-proxy mode: authenticated requests are streamed to the upstream with the identity
//! headers; client-sent identity headers in any spelling ([`crate::identity`]), headers with
//! `_` in their names (unless allowed), the gateway's cookies and hop-by-hop headers never reach
//! it, and the forwarding headers are the gateway's own ([`crate::forwarding`]).

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use url::Url;

use crate::cache::Authed;
use crate::config::UpstreamConfig;
use crate::cookies;
use crate::error::{GatewayError, PageError, Problem};
use crate::forwarding;
use crate::settings::Settings;

/// Hop-by-hop headers (RFC 9110 §7.6.1) plus `proxy-connection`.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-connection",
];

/// Idle keep-alive connections kept to the upstream.
const POOL_IDLE_PER_HOST: usize = 1024;

/// The upstream client.
#[derive(Debug)]
pub struct Proxy {
    client: reqwest::Client,
    base: String,
    preserve_host: bool,
}

impl Proxy {
    /// From `[upstream]`.
    pub fn new(cfg: &UpstreamConfig) -> Result<Self, GatewayError> {
        let bad = |m: &str| GatewayError::Config(format!("upstream.url {}: {m}", cfg.url));
        let url = Url::parse(&cfg.url).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(bad("must be an http:// or https:// URL"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("must not have a query or fragment"));
        }
        // Upstream connections are kept alive and reused (at most POOL_IDLE_PER_HOST idle ones);
        // TCP_NODELAY: a request head and its body chunks go out as they are written.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(POOL_IDLE_PER_HOST)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| bad(&e.to_string()))?;
        Ok(Proxy {
            client,
            base: url.as_str().trim_end_matches('/').to_owned(),
            preserve_host: cfg.preserve_host,
        })
    }

    /// Streams `req` to the upstream as `authed`'s user (no user: a `skip_auth` path without a
    /// session; the identity headers are then absent, client-sent ones stripped all the same).
    pub async fn forward(
        &self,
        settings: &Settings,
        req: Request,
        authed: Option<&Authed>,
        client: Option<SocketAddr>,
    ) -> Response {
        let (mut parts, body) = req.into_parts();
        // RFC 6455 §4.1: a WebSocket handshake is forwarded as an upgrade; once the upstream
        // answers 101, the two connections are spliced.
        let upgrade = if is_websocket_upgrade(&parts.headers) {
            parts.extensions.remove::<hyper::upgrade::OnUpgrade>()
        } else {
            None
        };
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        if upgrade.is_some() && !origin_allowed(settings, &parts.headers) {
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
        let has_body = headers.contains_key(header::TRANSFER_ENCODING)
            || headers
                .get(header::CONTENT_LENGTH)
                .is_some_and(|v| v.as_bytes() != b"0");
        strip_request_headers(settings, &mut headers);
        if !self.preserve_host {
            headers.remove(header::HOST);
        }
        for (name, value) in authed.iter().flat_map(|a| &a.session.headers) {
            headers.insert(name.clone(), value.clone());
        }
        settings.public_origin.rewrite(&mut headers, &route);
        if upgrade.is_some() {
            headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
            headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        }
        let mut rb = self
            .client
            .request(parts.method, format!("{}{path}", self.base))
            .headers(headers);
        if has_body {
            rb = rb.body(reqwest::Body::wrap_stream(body.into_data_stream()));
        }
        match rb.send().await {
            Ok(resp) if resp.status() == axum::http::StatusCode::SWITCHING_PROTOCOLS => {
                match upgrade {
                    Some(on_upgrade) => self.splice(resp, on_upgrade).await,
                    // The upstream switched protocols without being asked to.
                    None => PageError::new(
                        Problem::BadGateway,
                        format!("upstream {}: unrequested 101 response", self.base),
                    )
                    .into_response(),
                }
            }
            Ok(resp) => {
                let resp: axum::http::Response<reqwest::Body> = resp.into();
                let (mut parts, body) = resp.into_parts();
                strip_hop_by_hop(&mut parts.headers);
                Response::from_parts(parts, Body::new(body))
            }
            Err(e) => PageError::new(Problem::BadGateway, format!("upstream {}: {e}", self.base))
                .into_response(),
        }
    }
}

impl Proxy {
    /// Answers the client's handshake with the upstream's 101 and copies bytes both ways
    /// until either side closes.
    async fn splice(
        &self,
        resp: reqwest::Response,
        on_upgrade: hyper::upgrade::OnUpgrade,
    ) -> Response {
        let mut answer = Response::new(Body::empty());
        *answer.status_mut() = resp.status();
        for (name, value) in resp.headers() {
            if !HOP_BY_HOP.contains(&name.as_str()) {
                answer.headers_mut().append(name.clone(), value.clone());
            }
        }
        answer
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        answer
            .headers_mut()
            .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        let mut upstream = match resp.upgrade().await {
            Ok(u) => u,
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
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for n in named {
        headers.remove(n);
    }
    for n in HOP_BY_HOP {
        headers.remove(n);
    }
}

/// Everything the client must not be able to send upstream: hop-by-hop headers, anything that
/// could pass for an identity header, underscored names (unless allowed), the gateway's
/// cookies.
pub fn strip_request_headers(settings: &Settings, headers: &mut HeaderMap) {
    strip_hop_by_hop(headers);
    settings
        .identity
        .strip_client_sent(headers, settings.underscores_in_headers);
    cookies::strip(
        headers,
        &[settings.cookie_name],
        settings.login_cookie_prefix,
    );
}

/// RFC 6455 §10.2: the server checks `Origin` to refuse handshakes a page of another site
/// started (the browser sends the session cookie with them). No `Origin` is refused too: every
/// browser sends one, so only a non-browser client can omit it, and it can send one.
fn origin_allowed(settings: &Settings, headers: &HeaderMap) -> bool {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|o| {
            settings
                .websocket_origins
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(o))
        })
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
}
