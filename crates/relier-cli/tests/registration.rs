//! `relier providers register` against the misbehaving OP: `--contact` reaches the OP as
//! `contacts` (OIDC DCR §2), the logout URIs (a gateway's own, or `--post-logout-redirect-uri` /
//! `--backchannel-logout-uri`) as `post_logout_redirect_uris` / `backchannel_logout_uri`, and a refused registration says why — the OP's `error` /
//! `error_description`, also when the OP wraps its JSON in HTML (as the OpenID Foundation
//! suite's OP does), else the status and the start of the body, control characters escaped.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{Run, free_port, run_cmd, store_cmd};
use relier_tests::bad_op::{BadOp, Misbehavior};
use serde_json::json;

/// `providers register NAME` at the bad OP, with `extra` flags.
async fn register(op: &BadOp, dir: &tempfile::TempDir, name: &str, extra: &str) -> Run {
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let line = format!(
        "providers register {name} --issuer {} --redirect-uri {redirect} --auth-method client_secret_basic {extra}",
        op.issuer()
    );
    run_cmd(store_cmd(dir, &line), "").await
}

/// The last stderr line of a failed run: the one error line.
fn error_line(run: &Run) -> &str {
    assert_ne!(run.code, 0, "stdout: {}", run.stdout);
    let last = run.stderr.trim().lines().last().unwrap();
    assert!(last.starts_with("relier: error: "), "{}", run.stderr);
    last
}

#[tokio::test]
async fn contacts_reach_the_op() {
    let op = BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    register(
        &op,
        &dir,
        "with-contacts",
        "--contact ops@rp.example --contact security@rp.example",
    )
    .await
    .ok();
    register(&op, &dir, "without", "").await.ok();
    let sent = op.registrations();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0]["contacts"],
        json!(["ops@rp.example", "security@rp.example"])
    );
    assert!(sent[1].get("contacts").is_none(), "{}", sent[1]);
}

/// A gateway's registration (`{public_url}/auth/callback/{name}`) carries the gateway's logout
/// endpoints; the flags give them for any other client, and win.
#[tokio::test]
async fn logout_uris_reach_the_op() {
    let op = BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gateway = format!(
        "providers register gw --issuer {} --redirect-uri http://127.0.0.1:8088/auth/callback/gw --auth-method client_secret_basic",
        op.issuer()
    );
    run_cmd(store_cmd(&dir, &gateway), "").await.ok();
    register(
        &op,
        &dir,
        "app",
        "--post-logout-redirect-uri https://app.example/bye --post-logout-redirect-uri http://127.0.0.1:9/bye \
         --backchannel-logout-uri https://app.example/bcl",
    )
    .await
    .ok();
    register(&op, &dir, "plain", "").await.ok();
    let bad = register(
        &op,
        &dir,
        "bad",
        "--backchannel-logout-uri http://app.example/bcl",
    )
    .await;
    assert!(
        error_line(&bad).contains("http://app.example/bcl"),
        "{}",
        bad.stderr
    );
    let sent = op.registrations();
    assert_eq!(sent.len(), 3);
    assert_eq!(
        sent[0]["post_logout_redirect_uris"],
        json!(["http://127.0.0.1:8088/auth/logged-out"])
    );
    assert_eq!(
        sent[0]["backchannel_logout_uri"],
        "http://127.0.0.1:8088/auth/backchannel-logout/gw"
    );
    assert_eq!(sent[0]["backchannel_logout_session_required"], true);
    assert_eq!(
        sent[0]["frontchannel_logout_uri"],
        "http://127.0.0.1:8088/auth/frontchannel-logout/gw"
    );
    assert_eq!(
        sent[1]["post_logout_redirect_uris"],
        json!(["https://app.example/bye", "http://127.0.0.1:9/bye"])
    );
    assert_eq!(sent[1]["backchannel_logout_uri"], "https://app.example/bcl");
    for member in ["post_logout_redirect_uris", "backchannel_logout_uri"] {
        assert!(sent[2].get(member).is_none(), "{}", sent[2]);
    }
}

async fn refused(answer: (u16, &'static str, String)) -> String {
    let op = BadOp::start().await.unwrap();
    op.set(Misbehavior {
        registration_answer: Some(answer),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let run = register(&op, &dir, "refused", "").await;
    assert_eq!(op.registrations().len(), 1);
    error_line(&run).to_owned()
}

#[tokio::test]
async fn a_json_error_is_shown() {
    let line = refused((
        400,
        "application/json",
        json!({"error": "invalid_client_metadata", "error_description": "contacts is required"})
            .to_string(),
    ))
    .await;
    assert!(
        line.contains("the OP refused: invalid_client_metadata: contacts is required"),
        "{line}"
    );
}

#[tokio::test]
async fn a_json_error_wrapped_in_html_is_shown() {
    let page = r#"<!DOCTYPE html>
<html><head><title>Error</title><style>pre { color: red; }</style></head>
<body><h1>Registration failed</h1>
<pre>{"error":"invalid_client_metadata","error_description":"contacts is required"}</pre>
</body></html>"#;
    let line = refused((400, "text/html", page.to_owned())).await;
    assert!(
        line.contains("the OP refused: invalid_client_metadata: contacts is required"),
        "{line}"
    );
    assert!(!line.contains("<html>"), "{line}");
}

#[tokio::test]
async fn a_plain_text_error_shows_status_and_escaped_body() {
    let body = format!(
        "upstream \u{1b}[2Jfailure\r\nrelier: error: forged\n{}END",
        "x".repeat(300)
    );
    let line = refused((502, "text/plain", body)).await;
    assert!(
        line.contains(
            r"registration: HTTP 502: upstream \u{1b}[2Jfailure\r\nrelier: error: forged\nxxx"
        ),
        "{line}"
    );
    // The first 200 characters of the body only.
    assert!(!line.contains("END"), "{line}");
    assert!(line.contains("x…"), "{line}");
}
