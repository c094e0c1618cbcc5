//! The example application under load and abuse, on a real port (the TCP peer is 127.0.0.1,
//! one of relier's default trusted proxies, so `X-Forwarded-For` names each test client):
//! 200 concurrent password logins never run more Argon2 computations at once than the cap,
//! guessing gets 429 with `Retry-After` per account and per address, anonymous page views
//! write nothing, and the database file is private.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use relier_example::App;
use relier_example::attempts::{Attempts, Backoff};
use relier_example::password::{Hasher, QUEUE_PER_CORE};
use relier_gateway::Config;
use relier_tests::bad_op::{BadOp, CLIENT_ID};
use reqwest::StatusCode;

const PW: &str = "correct horse battery";

struct Served {
    app: Arc<App>,
    base: String,
    dir: tempfile::TempDir,
    http: reqwest::Client,
    _op: BadOp,
}

async fn serve(hasher: Hasher, attempts: Attempts) -> Served {
    let op = BadOp::start().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "public_url = \"{base}\"\nstore = \"sqlite://{db}\"\n\n[[providers]]\nname = \"bad\"\n\
         issuer = \"{iss}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"s3cret-s3cret\"\n",
        db = dir.path().join("relier.db").display(),
        iss = op.issuer(),
    );
    let config = Config::from_toml(&toml).unwrap();
    let db = relier_example::default_db_path(&config).unwrap();
    let app = App::build_with(config, &db, hasher, attempts)
        .await
        .unwrap();
    let service = app
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    Served {
        app,
        base,
        dir,
        http,
        _op: op,
    }
}

impl Served {
    /// A visitor's CSRF token from `GET /`: the cookie's value, equal to the form's.
    async fn visitor_token(&self) -> String {
        let r = self.http.get(&self.base).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        let cookie = set
            .split(';')
            .next()
            .unwrap()
            .strip_prefix("example_csrf=")
            .unwrap()
            .to_owned();
        let page = r.text().await.unwrap();
        let marker = "name=\"csrf_token\" value=\"";
        let start = page.find(marker).unwrap() + marker.len();
        let end = page[start..].find('"').unwrap();
        assert_eq!(page[start..start + end], cookie);
        cookie
    }

    /// `POST /login` from client address `from` with the visitor token `token`.
    async fn login(&self, token: &str, from: &str, user: &str, pw: &str) -> reqwest::Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("username", user), ("password", pw), ("csrf_token", token)])
            .finish();
        self.http
            .post(format!("{}/login", self.base))
            .header("cookie", format!("example_csrf={token}"))
            .header("x-forwarded-for", from)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Rows of relier's sessions table: the application has no sessions of its own.
    async fn session_rows(&self) -> i64 {
        let url = format!(
            "sqlite://{}?mode=ro",
            self.dir.path().join("relier.db").display()
        );
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let n = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    }
}

/// `VmHWM` (peak resident set) of this process, from /proc/self/status.
fn peak_rss() -> String {
    proc_status("VmHWM:")
}

fn proc_status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .map(|l| l.trim_start_matches(field).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_concurrent_logins_never_run_more_argon2_at_once_than_cores() {
    let s = serve(Hasher::default(), Attempts::default()).await;
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(s.app.hasher.limit(), cores);
    let hash = s.app.hasher.hash(PW.into()).await.unwrap();
    for i in 0..200 {
        s.app
            .db
            .create_account(&format!("user{i}"), Some(&hash))
            .await
            .unwrap();
    }
    let token = s.visitor_token().await;
    let before = peak_rss();
    let s = Arc::new(s);
    let mut logins = tokio::task::JoinSet::new();
    for i in 0..200u32 {
        let (s, token) = (s.clone(), token.clone());
        logins.spawn(async move {
            // Every login from its own address: only the Argon2 cap stands in the way.
            let from = format!("198.51.{}.{}", i / 200, i % 200 + 1);
            let r = s.login(&token, &from, &format!("user{i}"), PW).await;
            let status = r.status();
            if status == StatusCode::SERVICE_UNAVAILABLE {
                assert!(retry_after(&r) >= 1);
            }
            status
        });
    }
    let statuses = logins.join_all().await;
    let signed_in = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    let busy = statuses
        .iter()
        .filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    assert_eq!(signed_in + busy, 200, "{statuses:?}");
    if cores * QUEUE_PER_CORE >= 200 {
        assert_eq!(busy, 0, "the queue holds them all");
    }
    let high_water = s.app.hasher.high_water();
    assert!(
        (1..=cores).contains(&high_water),
        "{high_water} Argon2 computations ran at once; the cap is {cores}"
    );
    assert_eq!(s.app.hasher.waiting(), 0);
    eprintln!(
        "200 concurrent logins: {signed_in} signed in, {busy} busy; Argon2 high-water mark \
         {high_water} (cap {cores}); VmHWM {before} before, {} after; threads {}",
        peak_rss(),
        proc_status("Threads:")
    );
}

/// Backoffs whose first wait (a minute) outlasts the test, so that no step depends on timing.
fn slow_backoffs() -> Attempts {
    let minute = Duration::from_secs(60);
    Attempts::new(
        Backoff {
            free: 5,
            base: minute,
            ..Backoff::ACCOUNT
        },
        Backoff {
            free: 8,
            base: minute,
            ..Backoff::CLIENT
        },
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn guessing_gets_429_per_account_and_per_address_and_a_success_starts_over() {
    let s = serve(Hasher::default(), slow_backoffs()).await;
    let hash = s.app.hasher.hash(PW.into()).await.unwrap();
    for name in ["carol", "frank"] {
        s.app.db.create_account(name, Some(&hash)).await.unwrap();
    }
    let t = s.visitor_token().await;
    let a = "198.51.100.1";
    for _ in 0..5 {
        let r = s.login(&t, a, "carol", "guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // The sixth guess at carol is refused before any Argon2 work, from any address, even with
    // the right password.
    let computed = s.app.hasher.computations();
    let r = s.login(&t, a, "Carol", "guess").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=60).contains(&retry_after(&r)), "{:?}", r.headers());
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Too many sign-in attempts")
    );
    let r = s.login(&t, "198.51.100.2", "carol", PW).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(s.app.hasher.computations(), computed);

    // The same address guessing other names (unknown ones too): refused after 8 in all.
    for name in ["dave", "nobody", "erin"] {
        let r = s.login(&t, a, name, "guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{name}");
    }
    let r = s.login(&t, a, "zed", "guess").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=60).contains(&retry_after(&r)));
    // Another address is not affected.
    let r = s.login(&t, "198.51.100.3", "zed", "guess").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // A successful login clears the account's count (each try from its own address).
    let mut from = (10..).map(|i| format!("203.0.113.{i}"));
    for _ in 0..4 {
        let r = s.login(&t, &from.next().unwrap(), "frank", "guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = s.login(&t, &from.next().unwrap(), "frank", PW).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for _ in 0..5 {
        let r = s.login(&t, &from.next().unwrap(), "frank", "guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = s.login(&t, &from.next().unwrap(), "frank", PW).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_argon2_queue_answers_503_with_retry_after() {
    // No waiting room at all: with the only core busy, a login is turned away.
    let s = serve(Hasher::new(1, 0), Attempts::default()).await;
    let t = s.visitor_token().await;
    let s = Arc::new(s);
    let mut logins = tokio::task::JoinSet::new();
    for i in 0..20u32 {
        let (s, t) = (s.clone(), t.clone());
        logins.spawn(async move {
            let r = s
                .login(&t, &format!("192.0.2.{i}"), &format!("nobody{i}"), PW)
                .await;
            let busy_retry =
                (r.status() == StatusCode::SERVICE_UNAVAILABLE).then(|| retry_after(&r));
            (r.status(), busy_retry)
        });
    }
    for (status, retry) in logins.join_all().await {
        match status {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::SERVICE_UNAVAILABLE => assert!(retry.unwrap() >= 1),
            other => panic!("{other}"),
        }
    }
    assert_eq!(s.app.hasher.high_water(), 1);
}

#[tokio::test]
async fn anonymous_page_views_write_nothing() {
    let s = serve(Hasher::default(), Attempts::default()).await;
    for _ in 0..100 {
        // A fresh visitor each time (no cookie): a token in a cookie, no row.
        let r = s.http.get(&s.base).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let set = r.headers()["set-cookie"].to_str().unwrap();
        assert!(set.starts_with("example_csrf="), "{set}");
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
    }
    assert_eq!(s.session_rows().await, 0);
    // A returning visitor keeps its token (no new cookie).
    let t = s.visitor_token().await;
    let r = s
        .http
        .get(&s.base)
        .header("cookie", format!("example_csrf={t}"))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("set-cookie").is_none());
    assert!(r.text().await.unwrap().contains(&t));
    // The token signs a visitor up (and only then a row is written); a token the server did
    // not mint, even with a matching cookie, does not.
    let body = |token: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("username", "vera"),
                ("password", PW),
                ("csrf_token", token),
            ])
            .finish()
    };
    let forged = "A".repeat(t.len());
    let signup = |token: String| {
        s.http
            .post(format!("{}/signup", s.base))
            .header("cookie", format!("example_csrf={token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body(&token))
            .send()
    };
    assert_eq!(
        signup(forged).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(s.session_rows().await, 0);
    assert_eq!(signup(t).await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(s.session_rows().await, 1);
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_file_is_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let s = serve(Hasher::default(), Attempts::default()).await;
    let db = s.dir.path().join("relier-example.db");
    for suffix in ["", "-wal", "-shm"] {
        let path = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
}
