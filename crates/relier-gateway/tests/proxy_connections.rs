//! Reverse-proxy mode's upstream connections: an HTTP/1 client connection keeps one upstream
//! connection of its own, driven in its own task; one the upstream closed between requests is
//! replaced; request bodies stream through whole; an abandoned response does not spoil the
//! next request; HTTP/2 clients take the shared pool.

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
use tokio::time::timeout;

/// What an answer must come within (a bound, not a latency measurement).
const BOUND: Duration = Duration::from_secs(30);

async fn gateway(upstream: SocketAddr) -> (common::Running, BadOp, tempfile::TempDir) {
    let op = BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "public_url = \"http://127.0.0.1:8088\"\nstore = \"sqlite://{db}\"\n\
         skip_auth = [\"/public/\"]\n[upstream]\nurl = \"http://{upstream}\"\n\
         [[providers]]\nname = \"bad\"\nissuer = \"{iss}\"\nclient_id = \"{CLIENT_ID}\"\n\
         client_secret = \"s3cret-s3cret\"\n",
        db = dir.path().join("g.db").display(),
        iss = op.issuer(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    (common::Running::start(listener, &toml).await, op, dir)
}

/// Reads one request (head, then a `content-length` body) from `s`: (head, body length).
async fn read_request(s: &mut TcpStream) -> Option<(String, usize)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    while got.len() < end + len {
        let n = s.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
    }
    Some((head, len))
}

/// An upstream answering `{path} {body length} {host}`; with `close_after`, it closes each
/// connection after that many requests (without saying so: an idle keep-alive close).
async fn upstream(close_after: Option<usize>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut served = 0;
                while let Some((head, len)) = read_request(&mut s).await {
                    let path = head.split(' ').nth(1).unwrap_or("").to_owned();
                    let host = head
                        .lines()
                        .find_map(|l| l.strip_prefix("host:"))
                        .unwrap_or("")
                        .trim()
                        .to_owned();
                    let body = format!("{path} {len} {host}");
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if s.write_all(resp.as_bytes()).await.is_err() {
                        return;
                    }
                    served += 1;
                    if close_after == Some(served) {
                        return;
                    }
                }
            });
        }
    });
    (addr, accepted)
}

#[tokio::test]
async fn one_upstream_connection_per_client_connection_with_host_and_bodies() {
    let (up, accepted) = upstream(None).await;
    let (gw, _op, _dir) = gateway(up).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let body = vec![b'x'; 200_000];
    for i in 0..4 {
        let r = http
            .post(format!("{}/public/{i}?q=1", gw.base))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.text().await.unwrap(),
            format!("/public/{i}?q=1 200000 {up}"),
            "origin-form target, the whole body, Host = the upstream"
        );
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    // Another client connection gets an upstream connection of its own.
    let other = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = other
        .get(format!("{}/public/o", gw.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), format!("/public/o 0 {up}"));
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    gw.stop().await;
}

#[tokio::test]
async fn a_connection_the_upstream_closed_is_replaced() {
    let (up, accepted) = upstream(Some(1)).await;
    let (gw, _op, _dir) = gateway(up).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for i in 0..5 {
        let r = http
            .get(format!("{}/public/{i}", gw.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "request {i}");
        assert_eq!(r.text().await.unwrap(), format!("/public/{i} 0 {up}"));
        // The upstream's close reaches the gateway while the connection waits in its slot.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 5);
    gw.stop().await;
}

#[tokio::test]
async fn an_abandoned_response_does_not_spoil_the_next_request() {
    // A slow upstream body: the client gives up on the response half read.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                while let Some((head, _)) = read_request(&mut s).await {
                    if head.starts_with("get /public/slow") {
                        let _ = s
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhal")
                            .await;
                        tokio::time::sleep(BOUND).await;
                        return;
                    }
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await;
                }
            });
        }
    });
    let (gw, _op, _dir) = gateway(up).await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"GET /public/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = timeout(BOUND, s.read(&mut buf)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    drop(s);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = timeout(BOUND, http.get(format!("{}/public/fast", gw.base)).send())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "ok");
    gw.stop().await;
}

#[tokio::test]
async fn http2_clients_take_the_shared_pool() {
    let (up, accepted) = upstream(None).await;
    let (gw, _op, _dir) = gateway(up).await;
    let h2 = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let (a, b) = tokio::join!(
        h2.get(format!("{}/public/a", gw.base)).send(),
        h2.get(format!("{}/public/b", gw.base)).send()
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.version(), reqwest::Version::HTTP_2);
    assert_eq!(a.text().await.unwrap(), format!("/public/a 0 {up}"));
    assert_eq!(b.text().await.unwrap(), format!("/public/b 0 {up}"));
    assert!(accepted.load(Ordering::SeqCst) >= 1);
    gw.stop().await;
}
