//! Shared test helpers: an in-process gateway on a real port, a browser for the gateway (cookie
//! jar, no redirects), a tiny cookie jar for `Router::oneshot`, an echoing upstream.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_debug_implementations,
    dead_code,
    reason = "test support code"
)]

pub mod bad_env;
pub mod nginx;
pub mod op_login;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, header};
use relier_gateway::{Config, Gateway, GatewayError};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::ServiceExt as _;

/// A gateway serving on a real port.
pub struct Running {
    pub base: String,
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), GatewayError>>>,
}

impl Running {
    /// Builds the gateway from `toml` and serves it on `listener`.
    pub async fn start(listener: TcpListener, toml: &str) -> Running {
        let addr = listener.local_addr().unwrap();
        let gw = Gateway::build(Config::from_toml(toml).unwrap())
            .await
            .unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(gw.serve(listener, async move {
            let _ = rx.await;
        }));
        Running {
            base: format!("http://{addr}"),
            addr,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Graceful stop (drains, closes the store).
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .expect("gateway stops")
                .unwrap()
                .unwrap();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

pub use relier_tests::web::browser;

/// `Location` of a response.
pub fn location(h: &reqwest::header::HeaderMap) -> String {
    h.get(reqwest::header::LOCATION)
        .expect("Location")
        .to_str()
        .unwrap()
        .to_owned()
}

/// A form body.
pub fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Drives a `Router` with `oneshot`, keeping cookies like a browser would.
pub struct OneShot {
    pub router: Router,
    pub jar: BTreeMap<String, String>,
}

impl OneShot {
    pub fn new(router: Router) -> Self {
        OneShot {
            router,
            jar: BTreeMap::new(),
        }
    }

    /// Sends `req` (the jar's cookies added unless the request has a Cookie header).
    pub async fn send(&mut self, mut req: Request<Body>) -> Response<Body> {
        if !req.headers().contains_key(header::COOKIE) && !self.jar.is_empty() {
            let c: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req.headers_mut()
                .insert(header::COOKIE, c.join("; ").parse().unwrap());
        }
        let resp = self.router.clone().oneshot(req).await.unwrap();
        self.store_cookies(resp.headers());
        resp
    }

    pub fn store_cookies(&mut self, h: &HeaderMap) {
        for sc in h.get_all(header::SET_COOKIE) {
            let sc = sc.to_str().unwrap();
            let first = sc.split(';').next().unwrap();
            let (k, v) = first.split_once('=').unwrap();
            if sc.contains("Max-Age=0") {
                self.jar.remove(k);
            } else {
                self.jar.insert(k.to_owned(), v.to_owned());
            }
        }
    }

    /// A browser navigation (`Accept: text/html`) to `uri`.
    pub async fn navigate(&mut self, uri: &str) -> Response<Body> {
        self.send(
            Request::get(uri)
                .header(header::ACCEPT, "text/html,application/xhtml+xml")
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn get(&mut self, uri: &str) -> Response<Body> {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }
}

/// Serves `router` on an ephemeral loopback port (with the peer address as `ConnectInfo`).
pub async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

pub use relier_tests::responses::{loc, text};

pub use relier_tests::echo::ws_echo;

/// An upstream that answers every request with JSON: method, path+query, headers, body
/// ([`relier_tests::echo`]), and a WebSocket at `/ws`.
pub async fn echo_upstream() -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/ws", axum::routing::get(ws_echo))
        .fallback(relier_tests::echo::echo);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, task)
}
