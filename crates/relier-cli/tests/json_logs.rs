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

use common::gateway::{CLIENT_SECRET, log_in, serve};
use common::relier;
use relier_tests::bad_op::BadOp;
use relier_tests::web::browser;
use serde_json::{Map, Value};

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
