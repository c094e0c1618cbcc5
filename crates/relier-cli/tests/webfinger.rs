//! `relier discover --webfinger` and `relier login --webfinger` end to end (OIDC Discovery 1.0
//! §2): a WebFinger server on loopback names the test OP, served over https from its TLS listener
//! and trusted with `--ca-file`; an http issuer href — even naming a working loopback OP — is
//! refused by both commands.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{SECRET, assert_logged_in, client, free_port, login_cmd_with, relier, write};
use relier_tests::oidc_provider::{Browser, OpConfig, TestOp};
use relier_tests::webfinger::WebFingerServer;
use serde_json::{Value, json};

#[tokio::test]
async fn discover_and_login_by_webfinger_at_an_https_op() {
    let dir = tempfile::tempdir().unwrap();
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let op = TestOp::start_with(
        OpConfig {
            clients: vec![client("wf-cli", "client_secret_basic", &redirect)],
            tls: true,
            ..Default::default()
        },
        json!({"https_issuer": true}),
    )
    .await
    .unwrap();
    assert!(op.issuer.starts_with("https://"), "{}", op.issuer);
    let ca = write(&dir, "ca.pem", &op.ca.ca_pem);
    let wf = WebFingerServer::start(&op.issuer).await.unwrap();
    let resource = format!("acct:alice@{}", wf.host);

    let out = relier()
        .args([
            "discover",
            "--webfinger",
            &resource,
            "--json",
            "--ca-file",
            &ca,
        ])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["issuer"], op.issuer.as_str());
    assert!(
        stderr.contains(&format!("webfinger: {resource} → issuer {}", op.issuer)),
        "{stderr}"
    );

    let mut cmd = relier();
    cmd.args(["login", "--webfinger", &resource, "--client-id", "wf-cli"])
        .args(["--client-secret-env", "WF_SECRET", "--ca-file", &ca])
        .args(["--auth-method", "client_secret_basic"])
        .args(["--no-browser", "--json", "--timeout", "60"])
        .args(["--redirect-uri", &redirect])
        .env("WF_SECRET", SECRET);
    let browser = Browser::trusting(Some(&op.ca.ca_pem)).unwrap();
    let run = login_cmd_with(cmd, &redirect, &browser).await;
    let out = assert_logged_in(&run, "client_secret_basic");
    assert_eq!(out["id_token_claims"]["iss"], op.issuer.as_str());
    assert_eq!(wf.queries().len(), 2, "one lookup per command");
}

#[tokio::test]
async fn http_issuer_href_is_refused_by_discover_and_login() {
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let op = TestOp::start(OpConfig {
        clients: vec![client("wf-cli", "client_secret_basic", &redirect)],
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(op.issuer.starts_with("http://127.0.0.1:"), "{}", op.issuer);
    let wf = WebFingerServer::start(&op.issuer).await.unwrap();
    let resource = format!("acct:alice@{}", wf.host);
    let want = format!("webfinger: the issuer href {} must be https", op.issuer);

    let out = relier()
        .args(["discover", "--webfinger", &resource])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&want), "{stderr}");

    let out = relier()
        .args(["login", "--webfinger", &resource, "--client-id", "wf-cli"])
        .args(["--client-secret-env", "WF_SECRET", "--no-browser"])
        .args(["--redirect-uri", &redirect])
        .env("WF_SECRET", SECRET)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&want), "{stderr}");
    assert!(!stderr.contains("/auth?"), "no authorization URL: {stderr}");
}
