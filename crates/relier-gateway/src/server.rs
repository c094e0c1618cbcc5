//! The gateway's HTTP server (HTTP/1.1 and h2c, WebSocket upgrades): an accept loop over
//! hyper's connection builder that holds slow or hostile clients to `[limits]`.
//!
//! - `header_read_timeout`: a connection that has not sent a whole request head this long
//!   after it was accepted, or after the first byte of its next request, is closed (slowloris:
//!   many connections each trickling a request head that never ends).
//! - `idle_timeout`: a connection with no request in flight this long is closed.
//! - `max_connections`: a permit per open connection, held as long as its socket (WebSocket
//!   connections keep theirs); a connection accepted without one is closed at once and counted
//!   in `relier_connections_refused_total`.
//! - `max_header_bytes` / `max_headers`: hyper answers a larger request head with 431
//!   (RFC 6585 §5).
//!
//! hyper's own HTTP/1 `header_read_timeout` is not used: it also runs while a keep-alive
//! connection waits for its next request, so it would be the idle timeout as well.
//!
//! Every accepted socket gets `TCP_NODELAY`: hyper writes a response as it is produced (the
//! head, then body chunks as the upstream sends them), and Nagle's algorithm would hold a small
//! segment back until the client's delayed ACK.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, Version};
use hyper::body::{Bytes, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::config::LimitsConfig;
use crate::error::GatewayError;
use crate::metrics::Metrics;
use crate::routes;

/// hyper's HTTP/1 read buffer cannot be smaller (`MINIMUM_MAX_BUFFER_SIZE`).
const MIN_HEADER_BYTES: usize = 8192;
/// hyper's default header count: kept on the stack; any other count is allocated per request.
const HYPER_MAX_HEADERS: usize = 100;

/// `[limits]` of the listeners, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    header_read_timeout: Duration,
    idle_timeout: Duration,
    max_connections: usize,
    max_header_bytes: usize,
    max_headers: usize,
}

impl ServerLimits {
    /// From `[limits]`.
    ///
    /// # Errors
    /// [`GatewayError::Config`] for a zero timeout or count, or `max_header_bytes` out of
    /// 8192 ..= 4 GiB.
    pub fn new(cfg: &LimitsConfig) -> Result<Self, GatewayError> {
        let bad = |m: &str| Err(GatewayError::config(format!("[limits] {m}")));
        if cfg.header_read_timeout.is_zero() || cfg.idle_timeout.is_zero() {
            return bad("header_read_timeout and idle_timeout must be longer than zero");
        }
        if cfg.max_connections == 0 || cfg.max_connections > Semaphore::MAX_PERMITS {
            return bad("max_connections must be at least 1");
        }
        if cfg.max_header_bytes < MIN_HEADER_BYTES || u32::try_from(cfg.max_header_bytes).is_err() {
            return bad("max_header_bytes must be between 8192 and 4294967295");
        }
        if cfg.max_headers == 0 {
            return bad("max_headers must be at least 1");
        }
        Ok(ServerLimits {
            header_read_timeout: cfg.header_read_timeout,
            idle_timeout: cfg.idle_timeout,
            max_connections: cfg.max_connections,
            max_header_bytes: cfg.max_header_bytes,
            max_headers: cfg.max_headers,
        })
    }

    fn builder(&self) -> auto::Builder<TokioExecutor> {
        let mut b = auto::Builder::new(TokioExecutor::new());
        b.http1()
            .header_read_timeout(None)
            .max_buf_size(self.max_header_bytes);
        if self.max_headers != HYPER_MAX_HEADERS {
            b.http1().max_headers(self.max_headers);
        }
        b.http2()
            .max_header_list_size(u32::try_from(self.max_header_bytes).unwrap_or(u32::MAX));
        b
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, lets each
/// connection finish its requests and waits for them to close.
pub async fn serve(
    listener: TcpListener,
    app: App,
    limits: ServerLimits,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    let builder = Arc::new(limits.builder());
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // EMFILE and the like: wait for descriptors to be freed.
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        let Some(socket) = admit(tcp, &permits, &metrics) else {
            tracing::debug!(%peer, "max_connections open: connection closed");
            continue;
        };
        connections.spawn(connection(
            builder.clone(),
            socket,
            peer,
            app.clone(),
            limits,
            stopping.clone(),
        ));
    }
    drop(listener);
    let _ = stop.send(true);
    while connections.join_next().await.is_some() {}
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// What the accept loop does with every accepted socket: takes a connection permit (none left:
/// `None`, and the socket is closed as it drops) and sets `TCP_NODELAY`.
fn admit(tcp: TcpStream, permits: &Arc<Semaphore>, metrics: &Arc<Metrics>) -> Option<Socket> {
    let Ok(permit) = permits.clone().try_acquire_owned() else {
        metrics.connections_refused.fetch_add(1, Ordering::Relaxed);
        return None;
    };
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "TCP_NODELAY not set");
    }
    metrics.connections_open.fetch_add(1, Ordering::Relaxed);
    Some(Socket {
        tcp,
        activity: Arc::new(Activity::new()),
        _open: Open {
            _permit: permit,
            metrics: metrics.clone(),
        },
    })
}

/// Serves one connection, closing it at its deadline ([`Activity::deadline`]).
async fn connection(
    builder: Arc<auto::Builder<TokioExecutor>>,
    socket: Socket,
    peer: SocketAddr,
    app: App,
    limits: ServerLimits,
    mut stop: watch::Receiver<bool>,
) {
    let activity = socket.activity.clone();
    let service = Handler {
        app,
        peer,
        activity: activity.clone(),
        upstream: crate::proxy::UpstreamSlot::default(),
    };
    let mut conn = pin!(builder.serve_connection_with_upgrades(TokioIo::new(socket), service));
    // The timer is never later than the connection's deadline, and a request starting or
    // ending does not touch it (no wake-up, no timer reset per request): it fires at most one
    // `step` after it was set, and then looks at the deadline again. A deadline set meanwhile
    // is never earlier than that: a head started at `t` ends by `t + header_read_timeout`, an
    // idle phase started at `t` by `t + idle_timeout`, both at least `t + step`.
    let step = limits.header_read_timeout.min(limits.idle_timeout);
    let mut timer = pin!(tokio::time::sleep_until(next_check(
        &activity, &limits, step
    )));
    let mut stopping = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = timer.as_mut() => {
                if let Some((at, why)) = activity.deadline(&limits)
                    && at <= Instant::now()
                {
                    tracing::debug!(%peer, "{why}: connection closed");
                    return;
                }
                timer.as_mut().reset(next_check(&activity, &limits, step));
            }
            Ok(()) = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// When the connection loop looks at `activity` again: its deadline, or one `step` from now if
/// that comes first (or if a request is in flight).
fn next_check(activity: &Activity, limits: &ServerLimits, step: Duration) -> Instant {
    let soon = Instant::now() + step;
    activity
        .deadline(limits)
        .map_or(soon, |(at, _)| at.min(soon))
}

/// Why a connection is closed.
#[derive(Debug, Clone, Copy)]
enum Expiry {
    Head,
    Idle,
}

impl std::fmt::Display for Expiry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Expiry::Head => "no whole request head within header_read_timeout",
            Expiry::Idle => "no request within idle_timeout",
        })
    }
}

/// `Activity::phase`'s low bit: waiting for the rest of a request head.
const HEAD: u64 = 0;
/// `Activity::phase`'s low bit: no request in flight, nothing read since the last one.
const IDLE: u64 = 1;

/// What a connection is doing, for its deadline: shared by its socket (bytes read), its
/// service (requests started) and its responses' bodies (requests ended).
#[derive(Debug)]
struct Activity {
    epoch: Instant,
    /// Requests whose response has not been sent in full.
    in_flight: AtomicUsize,
    /// `ms << 1 | HEAD or IDLE`: since when (milliseconds after `epoch`) the connection waits
    /// for a request head, or idles. A new connection waits for a head.
    phase: AtomicU64,
    /// HTTP/2: bytes between requests are frames (PING, WINDOW_UPDATE), not the start of a
    /// request head, so only the idle timeout applies after the first request.
    multiplexed: AtomicBool,
}

impl Activity {
    fn new() -> Self {
        Activity {
            epoch: Instant::now(),
            in_flight: AtomicUsize::new(0),
            phase: AtomicU64::new(HEAD),
            multiplexed: AtomicBool::new(false),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX >> 1) << 1
    }

    /// Bytes arrived: on an idle HTTP/1 connection they start a request head.
    fn read(&self) {
        let phase = self.phase.load(Ordering::Acquire);
        if phase & 1 == IDLE
            && self.in_flight.load(Ordering::Acquire) == 0
            && !self.multiplexed.load(Ordering::Relaxed)
        {
            // Lost to a concurrent change: that one's phase stands.
            let _ = self.phase.compare_exchange(
                phase,
                self.now() | HEAD,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
    }

    /// A request head arrived; the request ends when the guard drops.
    fn start(self: &Arc<Self>, version: Version) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        if version == Version::HTTP_2 {
            self.multiplexed.store(true, Ordering::Relaxed);
        }
        InFlight(self.clone())
    }

    /// When the connection is to be closed and why; `None` while a request is in flight.
    fn deadline(&self, limits: &ServerLimits) -> Option<(Instant, Expiry)> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let phase = self.phase.load(Ordering::Acquire);
        let since = self.epoch + Duration::from_millis(phase >> 1);
        Some(if phase & 1 == HEAD {
            (since + limits.header_read_timeout, Expiry::Head)
        } else {
            (since + limits.idle_timeout, Expiry::Idle)
        })
    }
}

/// One request in flight, until its response has been sent (or dropped).
#[derive(Debug)]
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        // Idle from now, set before the count drops so that a count of zero never meets the
        // head phase of the request that just ended.
        self.0.phase.store(self.0.now() | IDLE, Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An accepted socket: reports reads to its [`Activity`], holds its connection permit.
#[derive(Debug)]
struct Socket {
    tcp: TcpStream,
    activity: Arc<Activity>,
    _open: Open,
}

/// A connection permit, counted in `relier_connections_open`.
#[derive(Debug)]
struct Open {
    _permit: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.metrics
            .connections_open
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.tcp).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// What a server answers requests with: a router and, for the standalone gateway's router,
/// the reverse proxy taken directly for the requests no route of it can take
/// ([`routes::Direct`]).
#[derive(Debug, Clone)]
pub struct App {
    router: Router,
    direct: Option<routes::Direct>,
}

impl App {
    /// The router.
    pub fn router(&self) -> &Router {
        &self.router
    }
}

impl From<(Router, Option<routes::Direct>)> for App {
    /// A router and, for the requests it would give its fallback, `direct`
    /// ([`routes::router`]).
    fn from((router, direct): (Router, Option<routes::Direct>)) -> App {
        App { router, direct }
    }
}

impl From<Router> for App {
    fn from(router: Router) -> App {
        App {
            router,
            direct: None,
        }
    }
}

/// The app as a hyper service: the peer address as `ConnectInfo`, each request counted in
/// flight until its response body is done.
#[derive(Debug, Clone)]
struct Handler {
    app: App,
    peer: SocketAddr,
    activity: Arc<Activity>,
    /// This connection's own upstream connection (proxy mode, HTTP/1 only).
    upstream: crate::proxy::UpstreamSlot,
}

impl hyper::service::Service<Request<Incoming>> for Handler {
    type Response = Response<Tracked>;
    type Error = Infallible;
    type Future = Handled;

    fn call(&self, mut req: Request<Incoming>) -> Handled {
        let guard = self.activity.start(req.version());
        req.extensions_mut().insert(ConnectInfo(self.peer));
        // HTTP/1 serves a connection's requests one at a time: they can share one upstream
        // connection. (HTTP/2 multiplexes; its requests take the pool.)
        if req.version() <= axum::http::Version::HTTP_11 {
            req.extensions_mut().insert(self.upstream.clone());
        }
        let response = match &self.app.direct {
            Some(direct) if direct.takes(req.uri().path()) => Answer::Direct(direct.call(req)),
            _ => Answer::Routed(self.route(req)),
        };
        Handled {
            response,
            guard: Some(guard),
        }
    }
}

impl Handler {
    fn route(&self, req: Request<Incoming>) -> axum::routing::future::RouteFuture<Infallible> {
        let mut router = self.app.router.clone();
        tower_service::Service::call(&mut router, req)
    }
}

/// A request's answer in the making.
#[allow(
    clippy::large_enum_variant,
    reason = "the router's future was held inline before; boxing it would allocate per request"
)]
enum Answer {
    Routed(axum::routing::future::RouteFuture<Infallible>),
    Direct(routes::DirectFuture),
}

/// The app's answer, its body carrying the request's [`InFlight`].
struct Handled {
    response: Answer,
    guard: Option<InFlight>,
}

impl Future for Handled {
    type Output = Result<Response<Tracked>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let response = match &mut this.response {
            Answer::Routed(routed) => match Pin::new(routed).poll(cx) {
                Poll::Ready(Ok(response)) => response,
                Poll::Pending => return Poll::Pending,
            },
            Answer::Direct(direct) => match direct.as_mut().poll(cx) {
                Poll::Ready(response) => response,
                Poll::Pending => return Poll::Pending,
            },
        };
        let guard = this.guard.take();
        Poll::Ready(Ok(response.map(|body| Tracked {
            body,
            _guard: guard,
        })))
    }
}

/// A response body that ends its request's [`InFlight`] when hyper drops it (sent or not).
#[derive(Debug)]
struct Tracked {
    body: axum::body::Body,
    _guard: Option<InFlight>,
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_admitted_socket_has_nodelay_and_a_permit() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let permits = Arc::new(Semaphore::new(1));
        let metrics = Arc::new(Metrics::default());
        let _c1 = TcpStream::connect(addr).await.unwrap();
        let (tcp, _) = listener.accept().await.unwrap();
        assert!(!tcp.nodelay().unwrap(), "the kernel default");
        let socket = admit(tcp, &permits, &metrics).unwrap();
        assert!(socket.tcp.nodelay().unwrap());
        assert_eq!(metrics.connections_open.load(Ordering::Relaxed), 1);
        let _c2 = TcpStream::connect(addr).await.unwrap();
        let (tcp, _) = listener.accept().await.unwrap();
        assert!(admit(tcp, &permits, &metrics).is_none());
        assert_eq!(metrics.connections_refused.load(Ordering::Relaxed), 1);
        drop(socket);
        assert_eq!(metrics.connections_open.load(Ordering::Relaxed), 0);
        let _c3 = TcpStream::connect(addr).await.unwrap();
        let (tcp, _) = listener.accept().await.unwrap();
        assert!(
            admit(tcp, &permits, &metrics).is_some(),
            "the permit came back"
        );
    }

    fn limits() -> ServerLimits {
        ServerLimits::new(&LimitsConfig::default()).unwrap()
    }

    /// `deadline`'s instant is `at` plus `limit`, give or take the millisecond it is kept in.
    fn about(deadline: Instant, before: Instant, limit: Duration) -> bool {
        deadline + Duration::from_millis(1) >= before + limit && deadline <= Instant::now() + limit
    }

    #[tokio::test]
    async fn a_head_then_idle_then_a_head_again() {
        let l = limits();
        let before = Instant::now();
        let a = Arc::new(Activity::new());
        let (at, why) = a.deadline(&l).unwrap();
        assert!(matches!(why, Expiry::Head), "from the accept");
        assert!(about(at, before, l.header_read_timeout));
        let request = a.start(Version::HTTP_11);
        assert!(
            a.deadline(&l).is_none(),
            "no deadline while a request is in flight"
        );
        a.read();
        assert!(a.deadline(&l).is_none(), "its body is being read");
        tokio::time::sleep(Duration::from_millis(20)).await;
        let before = Instant::now();
        drop(request);
        let (at, why) = a.deadline(&l).unwrap();
        assert!(matches!(why, Expiry::Idle));
        assert!(about(at, before, l.idle_timeout));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let before = Instant::now();
        a.read();
        let (at, why) = a.deadline(&l).unwrap();
        assert!(
            matches!(why, Expiry::Head),
            "from the next request's first byte"
        );
        assert!(about(at, before, l.header_read_timeout));
    }

    #[tokio::test]
    async fn http2_frames_between_requests_do_not_start_a_head() {
        let l = limits();
        let a = Arc::new(Activity::new());
        drop(a.start(Version::HTTP_2));
        a.read();
        assert!(matches!(a.deadline(&l), Some((_, Expiry::Idle))));
    }

    #[test]
    fn limits_are_checked() {
        let ok = LimitsConfig::default();
        assert!(ServerLimits::new(&ok).is_ok());
        for bad in [
            LimitsConfig {
                max_header_bytes: 8191,
                ..ok.clone()
            },
            LimitsConfig {
                max_connections: 0,
                ..ok.clone()
            },
            LimitsConfig {
                max_headers: 0,
                ..ok.clone()
            },
            LimitsConfig {
                header_read_timeout: Duration::ZERO,
                ..ok.clone()
            },
        ] {
            assert!(ServerLimits::new(&bad).is_err());
        }
    }
}
