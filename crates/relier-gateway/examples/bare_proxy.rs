#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark baseline, not library code"
)]
//! The raw baseline of the reverse-proxy benchmark: hyper alone relaying HTTP/1 requests to
//! one upstream, with nothing of relier in between — no session, no access rule, no header
//! rewriting, no routing, no metrics, no logging. What is left is the floor any hyper-based
//! proxy pays on the machine: accepting, parsing and writing both HTTP/1 exchanges, and the
//! loopback TCP of both sockets.
//!
//! It is built the way relier's proxy is (`crates/relier-gateway/src/proxy/local.rs`): each
//! client connection keeps one keep-alive upstream connection of its own, polled in the same
//! task as the client connection (no hand-off to a connection task), `TCP_NODELAY` on both
//! sockets, mimalloc as relier's binary, tokio's multi-threaded runtime with its defaults.
//!
//! ```sh
//! cargo build --release -p relier-gateway --example bare_proxy
//! target/release/examples/bare_proxy LISTEN_ADDR UPSTREAM_ADDR   # e.g. 127.0.0.1:9000 127.0.0.1:8080
//! ```
//!
//! Used by `bench/check/proxy.mjs` (target `hyper`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::client::conn::http1 as client;
use hyper::server::conn::http1 as server;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Body = http_body_util::Either<Incoming, http_body_util::Empty<hyper::body::Bytes>>;

fn bad_gateway() -> Response<Body> {
    let mut resp = Response::new(Body::Right(http_body_util::Empty::new()));
    *resp.status_mut() = StatusCode::BAD_GATEWAY;
    resp
}

/// Serves one client connection, relaying each request on its own upstream connection.
async fn serve(client_tcp: TcpStream, upstream: SocketAddr) -> Result<(), String> {
    client_tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let up_tcp = TcpStream::connect(upstream)
        .await
        .map_err(|e| e.to_string())?;
    up_tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, up_conn) = client::handshake(TokioIo::new(up_tcp))
        .await
        .map_err(|e| e.to_string())?;
    // HTTP/1 serves one request at a time: the lock is never contended.
    let sender = Arc::new(Mutex::new(sender));
    let service = service_fn(move |req: Request<Incoming>| {
        let sender = Arc::clone(&sender);
        async move {
            let mut sender = sender.lock().await;
            let resp = match sender.send_request(req).await {
                Ok(resp) => resp.map(Body::Left),
                Err(_) => bad_gateway(),
            };
            Ok::<_, Infallible>(resp)
        }
    });
    let client_conn = server::Builder::new().serve_connection(TokioIo::new(client_tcp), service);
    // Both connections are polled by this one task.
    tokio::select! {
        r = client_conn => r.map_err(|e| e.to_string()),
        r = up_conn => r.map_err(|e| e.to_string()),
    }
}

/// Accepts and serves connections on `listener` until the process ends.
async fn accept_loop(listener: TcpListener, upstream: SocketAddr) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            if let Err(e) = serve(tcp, upstream).await {
                eprintln!("bare_proxy: {e}");
            }
        });
    }
}

/// A listening socket on `addr`; with `reuse_port`, one of several on the same address (the
/// kernel spreads new connections over them).
fn listen(addr: SocketAddr, reuse_port: bool) -> std::io::Result<TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(reuse_port)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

fn fail(msg: &str) -> ! {
    eprintln!("bare_proxy: {msg}");
    std::process::exit(2);
}

/// `BARE_PROXY_RUNTIME=per-core`: one single-threaded runtime per CPU, each accepting on a
/// listener of its own (`SO_REUSEPORT`), so that a connection never leaves the thread that
/// accepted it; otherwise (the default, as `relier serve`) tokio's multi-threaded runtime.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(listen_addr), Some(upstream)) = (args.first(), args.get(1)) else {
        fail("usage: bare_proxy LISTEN_ADDR UPSTREAM_ADDR");
    };
    let (Ok(listen_addr), Ok(upstream)) = (
        listen_addr.parse::<SocketAddr>(),
        upstream.parse::<SocketAddr>(),
    ) else {
        fail("LISTEN_ADDR and UPSTREAM_ADDR are ip:port");
    };
    let per_core = std::env::var("BARE_PROXY_RUNTIME").is_ok_and(|v| v == "per-core");
    let threads = if per_core {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        1
    };
    let mut handles = Vec::new();
    for _ in 0..threads {
        let runtime = if per_core {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
        };
        let runtime = runtime.unwrap_or_else(|e| fail(&format!("runtime: {e}")));
        let listener = {
            let _guard = runtime.enter();
            listen(listen_addr, per_core)
                .unwrap_or_else(|e| fail(&format!("bind {listen_addr}: {e}")))
        };
        handles.push(std::thread::spawn(move || {
            runtime.block_on(accept_loop(listener, upstream));
        }));
    }
    // The first line, read by the benchmark driver.
    println!("{{\"url\":\"http://{listen_addr}\",\"upstream\":\"{upstream}\"}}");
    for handle in handles {
        let _ = handle.join();
    }
}
