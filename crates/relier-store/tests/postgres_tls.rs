//! A remote PostgreSQL store (issue 20 §3): without `sslmode` in its URL it is `verify-full`,
//! so a server without a certificate valid for the host is refused before the password is
//! sent; `prefer` and `require` only when written; passwords never in a message.
//!
//! "Remote" is read from the host's spelling. The servers here listen on 127.0.0.1 and the
//! URLs name them `0.0.0.0`: the unspecified address, not loopback by its spelling (so the
//! store takes it as remote), which Linux and macOS deliver to this host. Two kinds of server:
//! a fake one that answers the TLS request and, like a man in the middle, asks for the password
//! in clear text (PostgreSQL protocol: SSLRequest, StartupMessage,
//! AuthenticationCleartextPassword, PasswordMessage); and the test PostgreSQL server (see
//! `common`), whose certificate no trusted root signed (or which has no TLS at all).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::TestDb;
use relier_jose::Algorithm;
use relier_store::{
    MasterKey, MasterKeySource, StoreError, StoreUrl, TransportWarning, UnixTime, transport_warning,
};
use relier_tests::oidc_provider::TestCa;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{
    self,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject as _},
};

const PASSWORD: &str = "Pw-0f-the-st0re";
/// Not loopback by its spelling; connects to this host (see the module docs).
const REMOTE: &str = "0.0.0.0";
/// SSLRequest: Int32(8), Int32(80877103).
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
/// A guard against a test hanging on a server that never answers (not a timing assertion).
const GUARD: Duration = Duration::from_secs(30);

fn master_key() -> MasterKeySource {
    MasterKeySource::Key(MasterKey::from_bytes([0xa5; 32]))
}

/// What a fake server saw on one connection.
#[derive(Debug, Default)]
struct Seen {
    ssl_request: bool,
    /// A TLS handshake completed.
    tls: bool,
    /// The StartupMessage's body.
    startup: Option<Vec<u8>>,
    /// The PasswordMessage's body.
    password: Option<Vec<u8>>,
}

/// A fake PostgreSQL server on 127.0.0.1: answers the SSLRequest with `N` (no TLS) or with `S`
/// and a TLS handshake, then reads the StartupMessage and asks for the password in clear
/// text. Reports what it saw on each connection.
async fn fake_server(tls: Option<TlsAcceptor>) -> (u16, mpsc::UnboundedReceiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (tx, tls) = (tx.clone(), tls.clone());
            tokio::spawn(async move {
                let mut seen = Seen::default();
                let mut first = [0u8; 8];
                if socket.read_exact(&mut first).await.is_ok() && first == SSL_REQUEST {
                    seen.ssl_request = true;
                    match tls {
                        None => {
                            if socket.write_all(b"N").await.is_ok() {
                                ask_password(&mut socket, &mut seen).await;
                            }
                        }
                        Some(acceptor) => {
                            if socket.write_all(b"S").await.is_ok()
                                && let Ok(mut stream) = acceptor.accept(socket).await
                            {
                                seen.tls = true;
                                ask_password(&mut stream, &mut seen).await;
                            }
                        }
                    }
                }
                let _ = tx.send(seen);
            });
        }
    });
    (port, rx)
}

/// Reads the StartupMessage, answers AuthenticationCleartextPassword (`R`, Int32(8),
/// Int32(3)) and reads the PasswordMessage (`p`).
async fn ask_password<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, seen: &mut Seen) {
    let Some(startup) = read_body(stream).await else {
        return;
    };
    seen.startup = Some(startup);
    if stream
        .write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3])
        .await
        .is_err()
        || stream.flush().await.is_err()
    {
        return;
    }
    let mut tag = [0u8; 1];
    if stream.read_exact(&mut tag).await.is_ok() && tag == *b"p" {
        seen.password = read_body(stream).await;
    }
}

/// An Int32 length (itself included) and that many bytes.
async fn read_body<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Vec<u8>> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).await.ok()?;
    let len = usize::try_from(u32::from_be_bytes(len)).ok()?;
    let mut body = vec![0u8; len.checked_sub(4).filter(|n| *n < 64 * 1024)?];
    stream.read_exact(&mut body).await.ok()?;
    Some(body)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(GUARD, rx.recv())
        .await
        .expect("the fake server saw no connection")
        .unwrap()
}

/// A TLS server presenting a certificate for `names` issued by `ca`.
fn acceptor(ca: &TestCa, names: &[&str]) -> TlsAcceptor {
    let (cert, key) = ca.server_cert_for(names).unwrap();
    let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

/// Opens `raw`, which must fail with a database error; returns the message, checked to name
/// the store without its password.
async fn refused(raw: &str) -> String {
    refused_hiding(raw, PASSWORD).await
}

async fn refused_hiding(raw: &str, secret: &str) -> String {
    let url = StoreUrl::parse(raw).unwrap();
    let err = match relier_store::open(&url, master_key()).await {
        Ok(_) => panic!("{url} opened"),
        Err(e) => e,
    };
    assert!(matches!(err, StoreError::Database { .. }), "{err:?}");
    let message = err.to_string();
    for shown in [message.clone(), format!("{err:?}"), format!("{url:?}")] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(message.contains(&url.to_string()), "{message}");
    message
}

fn fake_url(port: u16, query: &str) -> String {
    format!("postgres://rp:{PASSWORD}@{REMOTE}:{port}/relier?connect_timeout=5{query}")
}

/// No `sslmode`: a server that declines TLS is refused before the StartupMessage, so a man in
/// the middle gets nothing; with `sslmode=prefer` written, the same server gets the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_sslmode_a_remote_server_without_tls_never_sees_the_password() {
    let (port, mut seen) = fake_server(None).await;
    let message = refused(&fake_url(port, "")).await;
    assert!(message.contains("does not support TLS"), "{message}");
    assert!(message.contains(&format!("rp:***@{REMOTE}")), "{message}");
    let s = next(&mut seen).await;
    assert!(s.ssl_request, "{s:?}");
    assert!(s.startup.is_none() && s.password.is_none(), "{s:?}");

    // The default is what changed: `prefer`, written, falls back to clear text.
    let raw = fake_url(port, "&sslmode=prefer");
    assert_eq!(
        transport_warning(&StoreUrl::parse(&raw).unwrap()),
        Some(TransportWarning::MayFallBackToClearText)
    );
    refused(&raw).await;
    let s = next(&mut seen).await;
    let startup = s
        .startup
        .expect("prefer sends the StartupMessage in clear text");
    assert!(
        startup.windows(8).any(|w| w == b"user\0rp\0"),
        "{startup:?}"
    );
    assert_eq!(
        s.password.as_deref(),
        Some(format!("{PASSWORD}\0").as_bytes()),
        "prefer gives a server that declines TLS the password"
    );
}

/// No `sslmode`: the certificate must chain to a trusted root (`sslrootcert`, else the
/// Mozilla roots) and be valid for the host; `require`, written, accepts any certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_sslmode_a_remote_certificate_must_be_trusted_and_for_the_host() {
    let ca = TestCa::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).unwrap();
    let root = format!("&sslrootcert={}", ca_file.display());

    // Issued for the host by a CA the client does not trust: refused in the handshake.
    let (port, mut seen) = fake_server(Some(acceptor(&ca, &[REMOTE]))).await;
    let message = refused(&fake_url(port, "")).await;
    assert!(message.contains("invalid peer certificate"), "{message}");
    let s = next(&mut seen).await;
    assert!(s.ssl_request && !s.tls && s.startup.is_none(), "{s:?}");

    // The same server with its CA as sslrootcert: verified, the login goes ahead over TLS
    // (the fake server then hangs up).
    let message = refused(&fake_url(port, &root)).await;
    assert!(!message.contains("certificate"), "{message}");
    let s = next(&mut seen).await;
    assert!(s.tls && s.password.is_some(), "{s:?}");

    // `require`, written: encrypted to whoever answers, with a warning.
    let raw = fake_url(port, "&sslmode=require");
    assert_eq!(
        transport_warning(&StoreUrl::parse(&raw).unwrap()),
        Some(TransportWarning::IdentityNotChecked)
    );
    refused(&raw).await;
    let s = next(&mut seen).await;
    assert!(s.tls && s.password.is_some(), "{s:?}");

    // A trusted certificate for another host: refused.
    let (port, mut seen) = fake_server(Some(acceptor(&ca, &["db.example"]))).await;
    let message = refused(&fake_url(port, &root)).await;
    assert!(message.contains("invalid peer certificate"), "{message}");
    let s = next(&mut seen).await;
    assert!(!s.tls && s.startup.is_none(), "{s:?}");
}

/// The test PostgreSQL server named as a remote host: refused without `sslmode` (its
/// certificate is self-signed, or it has no TLS), opened with `sslmode=prefer` written; the
/// password (userinfo or `?password=`) is in no message.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_test_server_named_as_a_remote_host_needs_sslmode_written() {
    let db = TestDb::postgres().await;
    let mut url = url::Url::parse(db.pg_url().unwrap()).unwrap();
    let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    assert!(
        local,
        "RELIER_TEST_PG_URL names a local server for this test"
    );
    url.set_host(Some(REMOTE)).unwrap();
    if url.password().is_none() {
        // The test server trusts local connections: any password does.
        url.set_password(Some(PASSWORD)).unwrap();
    }
    let secret = url.password().unwrap().to_owned();
    url.query_pairs_mut().append_pair("connect_timeout", "5");
    let mut in_query = url.clone();
    in_query.set_password(None).unwrap();
    in_query.query_pairs_mut().append_pair("password", &secret);
    for raw in [&url, &in_query] {
        let message = refused_hiding(raw.as_str(), &secret).await;
        assert!(
            message.contains("invalid peer certificate")
                || message.contains("does not support TLS"),
            "{message}"
        );
    }
    url.query_pairs_mut().append_pair("sslmode", "prefer");
    let prefer = StoreUrl::parse(url.as_str()).unwrap();
    let (store, _) = relier_store::open(&prefer, master_key()).await.unwrap();
    store
        .generate_key(Algorithm::ES256.into(), None, UnixTime(1_700_000_000))
        .await
        .unwrap();
    let shown = format!("{prefer} {prefer:?} {store:?} {}", store.url());
    assert!(!shown.contains(&secret), "{shown}");
    store.close().await;
}
