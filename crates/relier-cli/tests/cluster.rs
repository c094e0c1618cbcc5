//! Two `relier serve` processes on one fresh PostgreSQL database, started at the same moment
//! behind one load balancer, in front of the misbehaving OP (behaving here): both publish the
//! same RP JWKS; a login started on one completes on the other; a logout on one ends the session
//! on the other within 1 s; after one is killed with SIGKILL, a login it started completes on the
//! survivor and every session goes on working through the load balancer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use common::{free_port, relier};
use relier_tests::bad_op::{BadOp, CLIENT_ID};
use relier_tests::balancer::Balancer;
use relier_tests::pg::PgDatabase;
use reqwest::StatusCode;
use tokio::process::Child;

struct Instance {
    addr: SocketAddr,
    child: Child,
}

impl Instance {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

fn config(dir: &std::path::Path, db: &str, public: &str, listen: SocketAddr, op: &BadOp) -> String {
    let path = dir.join(format!("relier-{}.toml", listen.port()));
    let toml = format!(
        r#"
listen = "{listen}"
public_url = "{public}"
store = "{db}"
master_key_file = "{key}"

[[providers]]
name = "bad"
issuer = "{iss}"
client_id = "{CLIENT_ID}"
client_secret = "s3cret-s3cret"
"#,
        key = dir.join("master.key").display(),
        iss = op.issuer(),
    );
    std::fs::write(&path, toml).unwrap();
    path.display().to_string()
}

fn start(config: &str, addr: SocketAddr, log: &std::path::Path) -> Instance {
    let log = std::fs::File::create(log).unwrap();
    let child = relier()
        .args(["serve", "--config", config])
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    Instance { addr, child }
}

async fn wait_healthy(client: &reqwest::Client, i: &Instance, logs: &std::path::Path) {
    for _ in 0..300 {
        if let Ok(r) = client.get(i.url("/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{} did not start: {}",
        i.addr,
        std::fs::read_to_string(logs).unwrap_or_default()
    );
}

/// A browser: one cookie jar for 127.0.0.1 (cookies ignore the port, so the jar is shared by
/// the instances and the load balancer, as behind one host name), no redirects followed, a
/// new connection per request (so the balancer spreads requests, not just connections).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// Starts a login at `start` (an instance or the balancer); returns the OP's redirect back to
/// the public URL's callback, as a path and query.
async fn start_login(client: &reqwest::Client, start: &str) -> String {
    let r = client
        .get(format!("{start}/auth/login/bad"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let r = client.get(location(&r)).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let cb = url::Url::parse(&location(&r)).unwrap();
    assert_eq!(cb.path(), "/auth/callback/bad");
    format!("{}?{}", cb.path(), cb.query().unwrap())
}

async fn finish_login(client: &reqwest::Client, base: &str, callback: &str) {
    let r = client
        .get(format!("{base}{callback}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND, "{}", r.text().await.unwrap());
}

async fn check(client: &reqwest::Client, base: &str) -> StatusCode {
    client
        .get(format!("{base}/auth/check"))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_behind_a_balancer_share_logins_logouts_and_survive_sigkill() {
    let op = BadOp::start().await.unwrap();
    let db = PgDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("master.key"),
        relier::jose::b64::encode(&[7u8; 32]),
    )
    .unwrap();
    let addrs: Vec<SocketAddr> = (0..2)
        .map(|_| SocketAddr::from(([127, 0, 0, 1], free_port())))
        .collect();
    let lb = Balancer::start(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        addrs.clone(),
    );
    let public = format!("http://{}", lb.addr());
    let logs: Vec<_> = (0..2)
        .map(|i| dir.path().join(format!("{i}.log")))
        .collect();
    // Started at the same moment on the empty database: one migrates, one generates the RP key.
    let mut instances: Vec<Instance> = addrs
        .iter()
        .zip(&logs)
        .map(|(addr, log)| {
            start(
                &config(dir.path(), db.url(), &public, *addr, &op),
                *addr,
                log,
            )
        })
        .collect();
    let client = browser();
    for (i, log) in instances.iter().zip(&logs) {
        wait_healthy(&client, i, log).await;
    }
    let (a, b) = (instances[0].url(""), instances[1].url(""));

    // The same RP JWKS from both.
    let jwks = async |base: &str| {
        client
            .get(format!("{base}/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let jwks_a = jwks(&a).await;
    assert!(jwks_a.contains("\"kid\""), "{jwks_a}");
    assert_eq!(jwks_a, jwks(&b).await);

    // A login started on A completes through a callback on B; the session is valid on both.
    let callback = start_login(&client, &a).await;
    finish_login(&client, &b, &callback).await;
    assert_eq!(check(&client, &b).await, StatusCode::OK);
    assert_eq!(check(&client, &a).await, StatusCode::OK);

    // A logout on A ends the session on B (which has it cached) within 1 s.
    let r = client
        .post(format!("{a}/auth/logout"))
        .header("origin", &public)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(check(&client, &b).await, StatusCode::UNAUTHORIZED);
    assert_eq!(check(&client, &a).await, StatusCode::UNAUTHORIZED);

    // Through the balancer: log in again (spread over both instances).
    let callback = start_login(&client, &public).await;
    finish_login(&client, &public, &callback).await;
    for _ in 0..4 {
        assert_eq!(check(&client, &public).await, StatusCode::OK);
    }
    assert!(lb.served().iter().all(|n| *n > 0), "{:?}", lb.served());

    // A login started on A; A is killed (SIGKILL) before the callback: the login state was
    // committed, so the callback completes on B through the balancer.
    let callback = start_login(&client, &a).await;
    instances[0].child.start_kill().unwrap();
    instances[0].child.wait().await.unwrap();
    finish_login(&client, &public, &callback).await;
    for _ in 0..4 {
        assert_eq!(check(&client, &public).await, StatusCode::OK);
    }
    assert!(
        client.get(format!("{a}/healthz")).send().await.is_err(),
        "A is gone"
    );
    assert_eq!(check(&client, &b).await, StatusCode::OK);
    drop(instances);
}
