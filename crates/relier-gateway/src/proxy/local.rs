//! Upstream connections driven by the client connection's own task.
//!
//! hyper's pooled client runs each upstream connection as a task of its own: every proxied
//! request then crosses tasks (and often worker threads) four times — the request to the
//! connection task, the response head back, each body frame back. Here an HTTP/1 client
//! connection keeps one upstream connection of its own in an [`UpstreamSlot`], and the request
//! future and then the response body poll that connection themselves, in the task that serves
//! the client: no hand-off, no wake-up of another thread. Between requests the connection
//! waits in the slot unpolled; before reuse it is polled once, so a connection the upstream
//! closed meanwhile is noticed and replaced. With several upstreams (`[[upstream]]` routes) the
//! slot keeps one connection per upstream authority the client connection has used (at most
//! one per route). HTTP/2 clients (several requests at once on one
//! connection), TLS upstreams and WebSocket upgrades keep using the pooled client.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::uri::Authority;
use axum::http::{Request, Response};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use tokio::net::TcpStream;

/// How long connecting to the upstream may take (as the pooled client's connector).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type Driver = Pin<Box<http1::Connection<TokioIo<TcpStream>, Body>>>;

/// One upstream connection: the request sender and the connection future that does its I/O.
struct Conn {
    sender: http1::SendRequest<Body>,
    driver: Driver,
    /// Set once the connection future has finished (closed or failed).
    done: bool,
}

impl Conn {
    async fn open(authority: &Authority) -> std::io::Result<Conn> {
        let port = authority.port_u16().unwrap_or(80);
        let tcp = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect((authority.host(), port)),
        )
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        // A request head and its body chunks go out as they are written.
        tcp.set_nodelay(true)?;
        let (sender, driver) = http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(std::io::Error::other)?;
        Ok(Conn {
            sender,
            driver: Box::pin(driver),
            done: false,
        })
    }

    /// Drives the connection's I/O as far as it goes now.
    fn drive(&mut self, cx: &mut Context<'_>) {
        if !self.done && self.driver.as_mut().poll(cx).is_ready() {
            self.done = true;
        }
    }

    /// Whether it can take another request.
    fn reusable(&self) -> bool {
        !self.done && !self.sender.is_closed()
    }
}

/// The upstream connections of one client connection, one per upstream authority (`Clone`:
/// shared by that connection's requests, which HTTP/1 serves one at a time).
#[derive(Clone, Default)]
pub struct UpstreamSlot(Arc<Mutex<Vec<(Authority, Conn)>>>);

impl std::fmt::Debug for UpstreamSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamSlot").finish_non_exhaustive()
    }
}

impl UpstreamSlot {
    /// The connection kept to `authority`, if the upstream has not closed it meanwhile.
    async fn take_live(&self, authority: &Authority) -> Option<Conn> {
        let mut conn = {
            let mut kept = self.0.lock();
            let at = kept.iter().position(|(a, _)| a == authority)?;
            kept.swap_remove(at).1
        };
        // One poll: reads the upstream's close (or a stray byte) if it came while idle.
        poll_fn(|cx| {
            conn.drive(cx);
            Poll::Ready(())
        })
        .await;
        conn.reusable().then_some(conn)
    }

    fn put(&self, authority: Authority, conn: Conn) {
        if conn.reusable() {
            let mut kept = self.0.lock();
            kept.retain(|(a, _)| *a != authority);
            kept.push((authority, conn));
        }
    }
}

/// Why a request could not be sent on a slot's connection.
#[derive(Debug)]
pub enum SendError {
    /// Connecting failed.
    Connect(std::io::Error),
    /// The upstream failed the exchange.
    Upstream(hyper::Error),
    /// A new connection closed before it could take the request.
    Closed,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Connect(e) => write!(f, "connect: {e}"),
            SendError::Upstream(e) => write!(f, "{e}"),
            SendError::Closed => f.write_str("connection closed before the request was sent"),
        }
    }
}

/// Sends `req` (origin-form target, `Host` set) on the slot's connection — a new one when it
/// has none or the kept one cannot be used — driving it in this task until the response head
/// arrives. The response body keeps driving it and gives it back to the slot at its end.
pub async fn send(
    slot: &UpstreamSlot,
    authority: &Authority,
    req: Request<Body>,
) -> Result<Response<LocalBody>, SendError> {
    let req = match slot.take_live(authority).await {
        Some(kept) => match exchange(kept, req).await {
            Ok(done) => return Ok(done.into_response(slot, authority)),
            // The kept connection closed before the request went out (the upstream's idle
            // close crossed it): the request is whole, a new connection takes it.
            Err(Failed::NotSent(req)) => *req,
            Err(Failed::Upstream(e)) => return Err(SendError::Upstream(e)),
        },
        None => req,
    };
    let fresh = Conn::open(authority).await.map_err(SendError::Connect)?;
    match exchange(fresh, req).await {
        Ok(done) => Ok(done.into_response(slot, authority)),
        Err(Failed::NotSent(_)) => Err(SendError::Closed),
        Err(Failed::Upstream(e)) => Err(SendError::Upstream(e)),
    }
}

/// A response head and the connection it came on.
struct Exchanged {
    resp: Response<Incoming>,
    conn: Conn,
}

impl Exchanged {
    fn into_response(self, slot: &UpstreamSlot, authority: &Authority) -> Response<LocalBody> {
        let conn = self.conn;
        self.resp.map(|body| LocalBody {
            body,
            conn: Some(conn),
            slot: (slot.clone(), authority.clone()),
        })
    }
}

enum Failed {
    /// The connection could not take the request; here it is back.
    NotSent(Box<Request<Body>>),
    Upstream(hyper::Error),
}

/// One request on `conn`, driving it in this task until the response head arrives.
async fn exchange(mut conn: Conn, req: Request<Body>) -> Result<Exchanged, Failed> {
    let ready = poll_fn(|cx| {
        conn.drive(cx);
        conn.sender.poll_ready(cx)
    })
    .await;
    if ready.is_err() {
        return Err(Failed::NotSent(Box::new(req)));
    }
    let mut response = std::pin::pin!(conn.sender.try_send_request(req));
    let resp = poll_fn(|cx| {
        conn.drive(cx);
        response.as_mut().poll(cx)
    })
    .await;
    match resp {
        Ok(resp) => Ok(Exchanged { resp, conn }),
        Err(mut e) => match e.take_message() {
            Some(req) => Err(Failed::NotSent(Box::new(req))),
            None => Err(Failed::Upstream(e.into_error())),
        },
    }
}

/// A response body read from a slot's connection, driving that connection as it is polled;
/// at its end the connection goes back to the slot (dropped early, it is closed: HTTP/1
/// cannot abandon a response half read).
pub struct LocalBody {
    body: Incoming,
    conn: Option<Conn>,
    /// Where the connection goes back to.
    slot: (UpstreamSlot, Authority),
}

impl std::fmt::Debug for LocalBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBody").finish_non_exhaustive()
    }
}

impl LocalBody {
    fn finish(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.slot.0.put(self.slot.1.clone(), conn);
        }
    }
}

impl hyper::body::Body for LocalBody {
    type Data = hyper::body::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if let Some(conn) = this.conn.as_mut() {
            conn.drive(cx);
        }
        let frame = Pin::new(&mut this.body).poll_frame(cx);
        match &frame {
            Poll::Ready(None) => this.finish(),
            Poll::Ready(Some(Ok(_))) if this.body.is_end_stream() => {
                // The connection has read the message's end: it can take the next request.
                if let Some(conn) = this.conn.as_mut() {
                    conn.drive(cx);
                }
                this.finish();
            }
            Poll::Ready(Some(Err(_))) => this.conn = None,
            _ => {}
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
