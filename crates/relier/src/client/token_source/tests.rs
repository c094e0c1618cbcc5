#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use relier_core::UnixTime;
use relier_core::http::HttpResponse;

use super::*;

/// A clock the test moves.
#[derive(Debug, Default)]
struct FakeClock(AtomicU64);

impl FakeClock {
    fn set(&self, t: u64) {
        self.0.store(t, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> UnixTime {
        UnixTime(self.0.load(Ordering::SeqCst))
    }
}

/// A token endpoint stand-in that counts requests, answers `at-<n>` with `expires_in`, and
/// yields to the scheduler while "on the network" so that concurrent callers pile up.
#[derive(Debug)]
struct CountingOp {
    calls: AtomicUsize,
    expires_in: Option<u64>,
    fail: bool,
}

impl CountingOp {
    fn new(expires_in: Option<u64>) -> Self {
        Self {
            calls: AtomicUsize::new(0),
            expires_in,
            fail: false,
        }
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl FetchToken for Arc<CountingOp> {
    fn fetch_token(&self) -> impl Future<Output = Result<TokenResponse, Error>> + Send {
        let op = Arc::clone(self);
        async move {
            let n = op.calls.fetch_add(1, Ordering::SeqCst) + 1;
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            let resp = if op.fail {
                HttpResponse {
                    status: 400,
                    content_type: Some("application/json".into()),
                    www_authenticate: None,
                    cache_control: None,
                    body: br#"{"error":"invalid_client"}"#.to_vec(),
                }
            } else {
                let mut body =
                    serde_json::json!({"access_token": format!("at-{n}"), "token_type": "Bearer"});
                if let Some(e) = op.expires_in {
                    body["expires_in"] = e.into();
                }
                HttpResponse {
                    status: 200,
                    content_type: Some("application/json".into()),
                    www_authenticate: None,
                    cache_control: None,
                    body: body.to_string().into_bytes(),
                }
            };
            Ok(TokenResponse::from_response(&resp)?)
        }
    }
}

fn source(op: &Arc<CountingOp>, clock: &Arc<FakeClock>) -> TokenSource<Arc<CountingOp>> {
    let c: Arc<dyn Clock> = clock.clone();
    TokenSource::new(Arc::clone(op), c)
}

#[tokio::test]
async fn caches_until_the_margin_then_renews() {
    let op = Arc::new(CountingOp::new(Some(600)));
    let clock = Arc::new(FakeClock::default());
    clock.set(1000);
    let src = source(&op, &clock).renew_margin(30);
    assert_eq!(src.token().await.unwrap().access_token.expose(), "at-1");
    clock.set(1569);
    assert_eq!(src.token().await.unwrap().access_token.expose(), "at-1");
    assert_eq!(op.calls(), 1);
    // 30 s before expiry: renewed.
    clock.set(1570);
    assert_eq!(src.token().await.unwrap().access_token.expose(), "at-2");
    assert_eq!(op.calls(), 2);
    src.invalidate().await;
    assert_eq!(src.token().await.unwrap().access_token.expose(), "at-3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn single_flight_for_many_concurrent_callers() {
    let op = Arc::new(CountingOp::new(Some(3600)));
    let clock = Arc::new(FakeClock::default());
    clock.set(1000);
    let src = Arc::new(source(&op, &clock));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let src = Arc::clone(&src);
            tokio::spawn(async move { src.token().await.unwrap() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().access_token.expose(), "at-1");
    }
    assert_eq!(op.calls(), 1, "one token request for 64 callers");
    // Expired for all of them at once: again one request.
    clock.set(5000);
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let src = Arc::clone(&src);
            tokio::spawn(async move { src.token().await.unwrap() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().access_token.expose(), "at-2");
    }
    assert_eq!(op.calls(), 2);
}

#[tokio::test]
async fn never_hands_out_an_expired_token() {
    // A lifetime shorter than the margin is handed out once, then renewed on every call.
    let op = Arc::new(CountingOp::new(Some(10)));
    let clock = Arc::new(FakeClock::default());
    clock.set(1000);
    let src = source(&op, &clock).renew_margin(60);
    assert_eq!(src.token().await.unwrap().access_token.expose(), "at-1");
    assert_eq!(src.token().await.unwrap().access_token.expose(), "at-2");
    // expires_in 0: expired on arrival, refused.
    let op = Arc::new(CountingOp::new(Some(0)));
    let src = source(&op, &clock);
    let err = src.token().await.unwrap_err();
    assert!(err.to_string().contains("already expired"), "{err}");
    // No expires_in: the default lifetime.
    let op = Arc::new(CountingOp::new(None));
    let src = source(&op, &clock).renew_margin(0).default_lifetime(100);
    src.token().await.unwrap();
    clock.set(1099);
    src.token().await.unwrap();
    assert_eq!(op.calls(), 1);
    clock.set(1100);
    src.token().await.unwrap();
    assert_eq!(op.calls(), 2);
}

#[tokio::test]
async fn a_failed_request_is_not_cached() {
    let mut failing = CountingOp::new(Some(600));
    failing.fail = true;
    let op = Arc::new(failing);
    let clock = Arc::new(FakeClock::default());
    let src = source(&op, &clock);
    let err = src.token().await.unwrap_err();
    assert!(err.to_string().contains("invalid_client"), "{err}");
    assert!(src.token().await.is_err());
    assert_eq!(op.calls(), 2);
}
