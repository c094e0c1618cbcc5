//! The gateway's listeners under slow or hostile clients (`[limits]`): slowloris connections
//! closed at `header_read_timeout` while checks keep answering, `max_connections`, the idle
//! timeout of keep-alive connections, request heads over `max_header_bytes` / `max_headers`;
//! upstream connections reused across requests in reverse-proxy mode, and response heads that
//! never wait for a late body.
//!
//! Every wait here is a bound on a closure or an answer that would otherwise never come, not
//! a latency measurement.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use relier_tests::bad_op::{BadOp, CLIENT_ID};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout};

/// Far longer than any limit the tests set: what a closure or an answer must come within.
const BOUND: Duration = Duration::from_secs(30);

/// A gateway on a real port in front of the in-process OP.
struct Gw {
    run: common::Running,
    _op: BadOp,
    _dir: tempfile::TempDir,
}

impl Gw {
    /// `top`: top-level keys; `limits`: keys of `[limits]`; `upstream`: proxy mode to it.
    async fn start(top: &str, limits: &str, upstream: Option<SocketAddr>) -> Gw {
        let op = BadOp::start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let upstream = upstream.map_or_else(String::new, |a| {
            format!("[upstream]\nurl = \"http://{a}\"\n")
        });
        let toml = format!(
            "public_url = \"http://127.0.0.1:8088\"\nstore = \"sqlite://{db}\"\n{top}\n\
             [limits]\n{limits}\n{upstream}\n\
             [[providers]]\nname = \"bad\"\nissuer = \"{iss}\"\nclient_id = \"{CLIENT_ID}\"\n\
             client_secret = \"s3cret-s3cret\"\n",
            db = dir.path().join("g.db").display(),
            iss = op.issuer(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let run = common::Running::start(listener, &toml).await;
        Gw {
            run,
            _op: op,
            _dir: dir,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.run.addr
    }
}

/// An unused loopback address (for `metrics_listen`).
fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Connects, retrying while the listener is not bound yet.
async fn connect(addr: SocketAddr) -> TcpStream {
    for _ in 0..100 {
        if let Ok(s) = TcpStream::connect(addr).await {
            return s;
        }
        sleep(Duration::from_millis(50)).await;
    }
    panic!("cannot connect to {addr}");
}

/// Reads until the peer closes (end of stream or reset); `false` if it sent data first or
/// did not close within `BOUND`.
async fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 256];
    matches!(timeout(BOUND, s.read(&mut buf)).await, Ok(Ok(0) | Err(_)))
}

/// Sends `GET path` with `extra` header lines on `s` and reads the response: its status, or
/// `None` when the connection closes first.
async fn roundtrip(s: &mut TcpStream, path: &str, extra: &str) -> Option<u16> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = timeout(BOUND, s.read(&mut buf)).await.ok()?.ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&got[..head_end]).to_ascii_lowercase();
    let status: u16 = head[9..12].parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    while got.len() < head_end + length {
        let n = timeout(BOUND, s.read(&mut buf)).await.ok()?.ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
    }
    Some(status)
}

/// A slowloris client: an unfinished request head, then one more byte of it every 300 ms
/// until the server closes the connection. `ready` is told once the head has been sent.
async fn slowloris(addr: SocketAddr, ready: tokio::sync::mpsc::Sender<()>) {
    let mut s = connect(addr).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    let _ = ready.send(()).await;
    let mut buf = [0u8; 256];
    loop {
        tokio::select! {
            r = s.read(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(_) => panic!("the server answered an unfinished request head"),
            },
            () = sleep(Duration::from_millis(300)) => {
                if s.write_all(b"a").await.is_err() {
                    return;
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_connections_are_closed_while_checks_keep_answering() {
    let ops = free_addr();
    let gw = Gw::start(
        &format!("metrics_listen = \"{ops}\""),
        "header_read_timeout = \"1s\"",
        None,
    )
    .await;
    let (ready, mut connected) = tokio::sync::mpsc::channel(400);
    let mut attackers = JoinSet::new();
    for i in 0..400 {
        // One in twenty on the operations listener, which has the same protection.
        let addr = if i % 20 == 0 { ops } else { gw.addr() };
        attackers.spawn(slowloris(addr, ready.clone()));
    }
    for _ in 0..400 {
        connected.recv().await.unwrap();
    }
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..5 {
        let r = http
            .get(format!("{}/auth/check", gw.run.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "a check answers during the attack");
    }
    let all_closed = timeout(BOUND, async {
        while let Some(done) = attackers.join_next().await {
            done.unwrap();
        }
    })
    .await;
    assert!(all_closed.is_ok(), "every slowloris connection is closed");
    let r = http
        .get(format!("{}/auth/check", gw.run.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    gw.run.stop().await;
}

#[tokio::test]
async fn connections_beyond_max_connections_are_closed_at_once() {
    let gw = Gw::start(
        "",
        "max_connections = 5\nheader_read_timeout = \"60s\"\nidle_timeout = \"60s\"",
        None,
    )
    .await;
    let mut open = Vec::new();
    for _ in 0..5 {
        let mut s = connect(gw.addr()).await;
        assert_eq!(roundtrip(&mut s, "/healthz", "").await, Some(200));
        open.push(s);
    }
    // Neither timeout can close it this soon: only the refusal does.
    let mut sixth = connect(gw.addr()).await;
    assert!(closed_by_server(&mut sixth).await, "the sixth is refused");
    for s in &mut open {
        assert_eq!(
            roundtrip(s, "/healthz", "").await,
            Some(200),
            "the five stay"
        );
    }
    drop(open.pop());
    let mut served = false;
    for _ in 0..100 {
        let mut s = connect(gw.addr()).await;
        if roundtrip(&mut s, "/healthz", "").await == Some(200) {
            served = true;
            break;
        }
        // The gateway may not have seen the closed connection yet.
        sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "a closed connection frees its place");
    drop(open);
    gw.run.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_at_idle_timeout() {
    let gw = Gw::start(
        "",
        "idle_timeout = \"1s\"\nheader_read_timeout = \"60s\"",
        None,
    )
    .await;
    let mut s = connect(gw.addr()).await;
    assert_eq!(roundtrip(&mut s, "/healthz", "").await, Some(200));
    assert!(closed_by_server(&mut s).await);
    gw.run.stop().await;
}

#[tokio::test]
async fn a_keep_alive_connection_may_idle_longer_than_header_read_timeout() {
    let gw = Gw::start(
        "",
        "header_read_timeout = \"1s\"\nidle_timeout = \"60s\"",
        None,
    )
    .await;
    let mut s = connect(gw.addr()).await;
    assert_eq!(roundtrip(&mut s, "/healthz", "").await, Some(200));
    sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        roundtrip(&mut s, "/healthz", "").await,
        Some(200),
        "the header timeout runs from the next request's first byte, not from the last answer"
    );
    gw.run.stop().await;
}

/// A head that starts on a connection idle for longer than `header_read_timeout`, then
/// stalls, is closed `header_read_timeout` after its first byte — not at `idle_timeout` (the
/// connection's timer was armed while it idled, before the head began).
#[tokio::test]
async fn a_head_stalled_after_an_idle_spell_is_closed_at_header_read_timeout() {
    let gw = Gw::start(
        "",
        "header_read_timeout = \"1s\"\nidle_timeout = \"120s\"",
        None,
    )
    .await;
    let mut s = connect(gw.addr()).await;
    assert_eq!(roundtrip(&mut s, "/healthz", "").await, Some(200));
    sleep(Duration::from_millis(1500)).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    assert!(closed_by_server(&mut s).await, "closed within {BOUND:?}");
    // Far below idle_timeout (120 s) and BOUND (30 s): the header timeout closed it.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    gw.run.stop().await;
}

#[tokio::test]
async fn request_heads_over_the_limits_get_431() {
    let gw = Gw::start("", "max_headers = 10\nmax_header_bytes = 8192", None).await;
    let nine: String = (0..9).map(|i| format!("X-H{i}: v\r\n")).collect();
    let mut s = connect(gw.addr()).await;
    assert_eq!(
        roundtrip(&mut s, "/healthz", &nine).await,
        Some(200),
        "ten headers with Host"
    );
    let twenty: String = (0..20).map(|i| format!("X-H{i}: v\r\n")).collect();
    let mut s = connect(gw.addr()).await;
    assert_eq!(roundtrip(&mut s, "/healthz", &twenty).await, Some(431));
    let big = format!("X-Big: {}\r\n", "a".repeat(9000));
    let mut s = connect(gw.addr()).await;
    assert_eq!(roundtrip(&mut s, "/healthz", &big).await, Some(431));
    gw.run.stop().await;
}

#[tokio::test]
async fn bad_limits_are_refused_at_start() {
    let op = BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "public_url = \"http://127.0.0.1:8088\"\nstore = \"sqlite://{db}\"\n\
         [limits]\nmax_header_bytes = 1024\n\
         [[providers]]\nname = \"bad\"\nissuer = \"{iss}\"\nclient_id = \"{CLIENT_ID}\"\n\
         client_secret = \"s3cret-s3cret\"\n",
        db = dir.path().join("g.db").display(),
        iss = op.issuer(),
    );
    let err = relier_gateway::Gateway::build(relier_gateway::Config::from_toml(&toml).unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("max_header_bytes"), "{err}");
}

#[tokio::test]
async fn the_proxy_reuses_one_upstream_connection_for_sequential_requests() {
    let accepted = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    let counted = accepted.clone();
    let listener = axum::serve::ListenerExt::tap_io(listener, move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
    });
    let app = axum::Router::new().fallback(|| async { "upstream" });
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let gw = Gw::start("skip_auth = [\"/public/\"]", "", Some(upstream)).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for i in 0..3 {
        let r = http
            .get(format!("{}/public/{i}", gw.run.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "upstream");
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "three requests, one upstream connection"
    );
    gw.run.stop().await;
    server.abort();
}

#[tokio::test]
async fn h2c_and_http1_are_both_served() {
    let gw = Gw::start("", "", None).await;
    let h2 = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    for _ in 0..3 {
        let r = h2
            .get(format!("{}/healthz", gw.run.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.version(), reqwest::Version::HTTP_2);
        assert_eq!(r.status(), 200);
    }
    let mut s = connect(gw.addr()).await;
    assert_eq!(roundtrip(&mut s, "/healthz", "").await, Some(200));
    gw.run.stop().await;
}

/// A raw upstream for one request: answers `head`, waits for `release`, then sends `body`.
async fn split_upstream(
    head: &'static str,
    body: &'static str,
    release: tokio::sync::oneshot::Receiver<()>,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        s.write_all(head.as_bytes()).await.unwrap();
        let _ = release.await;
        s.write_all(body.as_bytes()).await.unwrap();
        // Keep the connection open until the gateway is done with it.
        let _ = s.read(&mut buf).await;
    });
    addr
}

#[tokio::test]
async fn a_streamed_head_reaches_the_client_before_a_late_body() {
    // A head is passed on as soon as it comes, never held for the body: the upstream sends
    // its body only once the client has the head, so holding it would leave both waiting
    // until BOUND.
    let (release, released) = tokio::sync::oneshot::channel();
    let upstream = split_upstream(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
        "6\r\nhello\n\r\n0\r\n\r\n",
        released,
    )
    .await;
    let gw = Gw::start("skip_auth = [\"/public/\"]", "", Some(upstream)).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = timeout(
        BOUND,
        http.get(format!("{}/public/events", gw.run.base)).send(),
    )
    .await
    .expect("the head came while the upstream held its body")
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    release.send(()).unwrap();
    assert_eq!(timeout(BOUND, r.text()).await.unwrap().unwrap(), "hello\n");
    gw.run.stop().await;
}

#[tokio::test]
async fn a_body_written_after_its_head_arrives_whole() {
    for (head, body) in [
        ("HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n", "hello\n"),
        (
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
            "3\r\nhel\r\n3\r\nlo\n\r\n0\r\n\r\n",
        ),
    ] {
        let (release, released) = tokio::sync::oneshot::channel();
        let upstream = split_upstream(head, body, released).await;
        // Released at once: the body follows its head in a separate write, as from an app
        // that flushes its headers first.
        release.send(()).unwrap();
        let gw = Gw::start("skip_auth = [\"/public/\"]", "", Some(upstream)).await;
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let r = http
            .get(format!("{}/public/x", gw.run.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "hello\n", "{head:?}");
        gw.run.stop().await;
    }
}
