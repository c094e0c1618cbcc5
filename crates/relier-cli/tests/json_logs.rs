//! `relier serve` with `log_format = "json"` (or `RELIER_LOG_FORMAT=json`): every stderr line is
//! one JSON object with `timestamp` (RFC 3339, UTC), `level`, `target`, `message` and the
//! event's fields at the top level; an error page's correlation id is a field of its line; no
//! client secret, authorization code, token, session cookie or e-mail address reaches the log,
//! and a value from the request cannot start a line of its own.

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
use reqwest::StatusCode;
use serde_json::{Map, Value};

const CLIENT_SECRET: &str = "s3cret-s3cret-never-logged";

struct Served {
    addr: SocketAddr,
    child: tokio::process::Child,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Served {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the process and returns its stderr.
    async fn stop(mut self) -> String {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
        std::fs::read_to_string(&self.log).unwrap()
    }
}

/// `relier serve` in front of `op`, with `extra` at the top of its file and `env` set.
async fn serve(op: &BadOp, extra: &str, env: &[(&str, &str)]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let config = dir.path().join("relier.toml");
    std::fs::write(
        &config,
        format!(
            r#"{extra}
listen = "{addr}"
public_url = "http://{addr}"
store = "sqlite://{db}"

[[providers]]
name = "bad"
issuer = "{iss}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
"#,
            db = dir.path().join("g.db").display(),
            iss = op.issuer(),
        ),
    )
    .unwrap();
    let log = dir.path().join("stderr.log");
    let mut cmd = relier();
    cmd.args(["serve", "--config"])
        .arg(&config)
        .env(
            "RUST_LOG",
            "info,relier=trace,relier_gateway=trace,relier_core=trace,relier_store=debug",
        )
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let served = Served {
        addr,
        child: cmd.spawn().unwrap(),
        log,
        _dir: dir,
    };
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..300 {
        if let Ok(r) = http.get(served.url("/healthz")).send().await
            && r.status().is_success()
        {
            return served;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "relier serve did not start: {}",
        std::fs::read_to_string(&served.log).unwrap_or_default()
    );
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// What a login through the gateway puts on the wire that must never be logged.
struct LoginSecrets {
    code: String,
    state: String,
    session_cookie: String,
}

async fn log_in(client: &reqwest::Client, s: &Served) -> LoginSecrets {
    let r = client.get(s.url("/auth/login/bad")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let r = client.get(location(&r)).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let callback = url::Url::parse(&location(&r)).unwrap();
    let param = |name: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    let (code, state) = (param("code"), param("state"));
    let r = client.get(callback.as_str()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let session_cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("relier_session="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    assert!(session_cookie.len() > 16, "{session_cookie}");
    let r = client.get(s.url("/auth/check")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-relier-email"], "alice@example.com");
    LoginSecrets {
        code,
        state,
        session_cookie,
    }
}

/// Every line of `log` as a JSON object (panics, naming the line, on any other line).
fn json_lines(log: &str) -> Vec<Map<String, Value>> {
    assert!(!log.trim().is_empty(), "nothing was logged");
    log.lines()
        .map(|line| match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(o)) => o,
            other => panic!("not a JSON object ({other:?}): {line}\n\n{log}"),
        })
        .collect()
}

/// `2026-12-06T21:23:52.123456Z`: RFC 3339 §5.6 `date-time`, in UTC.
fn is_rfc3339_utc(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && t.ends_with('Z')
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_json_lines_with_top_level_fields_and_no_secrets() {
    let op = BadOp::start().await.unwrap();
    let s = serve(&op, "log_format = \"json\"", &[]).await;
    let client = browser();
    let secrets = log_in(&client, &s).await;

    // An error page: its correlation id is a field of the line that explains it.
    let r = client
        .get(s.url("/auth/callback/bad?code=not-a-code&state=not-a-state"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let correlation_id = r.headers()["x-correlation-id"].to_str().unwrap().to_owned();
    assert!(r.text().await.unwrap().contains(&correlation_id));

    // A value from the request that looks like a log line of its own.
    let forged = "%0A%7B%22level%22%3A%22INFO%22%2C%22message%22%3A%22FORGED%22%7D";
    let r = client
        .get(s.url(&format!("/auth/login/x{forged}")))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());

    let addr = s.addr;
    let log = s.stop().await;
    let lines = json_lines(&log);
    for l in &lines {
        for key in ["timestamp", "level", "target"] {
            assert!(l[key].is_string(), "no {key}: {l:?}");
        }
        assert!(
            is_rfc3339_utc(l["timestamp"].as_str().unwrap()),
            "{:?}",
            l["timestamp"]
        );
        assert!(
            !l.contains_key("fields"),
            "fields are at the top level: {l:?}"
        );
    }
    let listening = lines
        .iter()
        .find(|l| l.get("message") == Some(&Value::from("relier gateway listening")))
        .unwrap_or_else(|| panic!("no start line:\n{log}"));
    assert_eq!(listening["level"], "INFO");
    assert_eq!(listening["public_url"], format!("http://{addr}/").as_str());
    let refused = lines
        .iter()
        .find(|l| l.get("correlation_id") == Some(&Value::from(correlation_id.as_str())))
        .unwrap_or_else(|| panic!("no line with correlation_id {correlation_id}:\n{log}"));
    assert!(refused["message"].is_string(), "{refused:?}");
    assert!(refused["problem"].is_string(), "{refused:?}");
    assert!(
        log.contains("FORGED"),
        "the value is logged, inside a string"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.get("message") == Some(&Value::from("FORGED"))),
        "a forged line:\n{log}"
    );

    for secret in [
        CLIENT_SECRET,
        secrets.code.as_str(),
        secrets.state.as_str(),
        secrets.session_cookie.as_str(),
        "at-from-bad-op",
        "rt-from-bad-op",
        "alice@example.com",
        // Any JWT (the ID token, a client assertion).
        "eyJ",
    ] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relier_log_format_json_wins_over_the_file() {
    let op = BadOp::start().await.unwrap();
    let s = serve(
        &op,
        "log_format = \"text\"",
        &[("RELIER_LOG_FORMAT", "json")],
    )
    .await;
    let log = s.stop().await;
    let lines = json_lines(&log);
    assert!(
        lines
            .iter()
            .any(|l| l.get("message") == Some(&Value::from("provider ready"))
                && l.get("provider") == Some(&Value::from("bad"))),
        "{log}"
    );
}

#[tokio::test]
async fn an_unknown_log_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relier.toml");
    std::fs::write(
        &config,
        "public_url = \"http://127.0.0.1:1\"\nlog_format = \"xml\"\n",
    )
    .unwrap();
    let out = relier()
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("log_format"), "{stderr}");
    std::fs::write(&config, "public_url = \"http://127.0.0.1:1\"\n").unwrap();
    let out = relier()
        .args(["serve", "--config"])
        .arg(&config)
        .env("RELIER_LOG_FORMAT", "yaml")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("RELIER_LOG_FORMAT"), "{stderr}");
}
