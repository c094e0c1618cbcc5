//! `relier providers register --dpop` and `relier providers import` of a registration with
//! `dpop_bound_access_tokens`, then `relier login --provider`: one fresh DPoP key per login, the
//! code, the token request and UserInfo bound to it (RFC 9449), against oidc-provider with
//! nonces required.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{Run, free_port, login_cmd, relier, run_cmd};
use relier_tests::oidc_provider::{OpConfig, TestOp};
use serde_json::{Value, json};

/// `relier --store <tmp> LINE` with the test's master key.
fn cmd(dir: &tempfile::TempDir, line: &str) -> tokio::process::Command {
    let mut c = relier();
    c.arg("--store")
        .arg(format!(
            "sqlite://{}",
            dir.path().join("relier.db").display()
        ))
        .args(line.split_whitespace())
        .env("RELIER_MASTER_KEY", relier::jose::b64::encode(&[9u8; 32]))
        .current_dir(dir.path());
    c
}

async fn ok(dir: &tempfile::TempDir, line: &str) -> Run {
    run_cmd(cmd(dir, line), "").await.ok()
}

/// A login whose tokens are DPoP-bound: token_type DPoP, UserInfo answered.
async fn assert_dpop_login(dir: &tempfile::TempDir, provider: &str, redirect: &str) {
    let line = format!("login --provider {provider} --no-browser --json --timeout 60");
    let run = login_cmd(cmd(dir, &line), redirect).await;
    assert_eq!(run.code, 0, "relier login failed: {}", run.stderr);
    let out = run.json();
    assert_eq!(out["token_type"], "DPoP", "{out}");
    assert_eq!(out["id_token_claims"]["sub"], "alice");
    assert_eq!(out["userinfo"]["email"], "alice@example.com");
}

#[tokio::test]
async fn registered_and_imported_dpop_providers_log_in_with_bound_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let op = TestOp::start_with(
        OpConfig {
            registration: Some(None),
            ..Default::default()
        },
        json!({"dpop": {"require_nonce": true}}),
    )
    .await
    .unwrap();
    ok(
        &dir,
        &format!(
            "providers register reg --issuer {} --redirect-uri {redirect} --dpop",
            op.issuer
        ),
    )
    .await;
    let remote = ok(&dir, "providers show reg --remote").await.json();
    assert_eq!(remote["dpop_bound_access_tokens"], true, "{remote}");
    assert_dpop_login(&dir, "reg", &redirect).await;

    // A registration made elsewhere, imported: its dpop_bound_access_tokens drives the login.
    let http = reqwest::Client::new();
    let disc: Value = serde_json::from_str(
        &http
            .get(format!("{}/.well-known/openid-configuration", op.issuer))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let metadata = json!({
        "redirect_uris": [redirect],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        "application_type": "native",
        "dpop_bound_access_tokens": true,
    });
    let resp = http
        .post(disc["registration_endpoint"].as_str().unwrap())
        .header("content-type", "application/json")
        .body(metadata.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let response = resp.text().await.unwrap();
    let file = common::write(&dir, "registration.json", &response);
    ok(
        &dir,
        &format!(
            "providers import imp --issuer {} --registration-response {file}",
            op.issuer
        ),
    )
    .await;
    assert_dpop_login(&dir, "imp", &redirect).await;
}

/// Issue-level check through the CLI: one registration asks for everything at once —
/// private_key_jwt with the store key, signed request objects, JARM, DPoP-bound tokens, ID token
/// and UserInfo encrypted to the store's enc key, signed UserInfo — at an OP that requires PAR
/// of every client and DPoP nonces; `relier login` then completes with every piece in play.
#[tokio::test]
async fn a_bank_grade_registration_logs_in_with_every_feature_it_asked_for() {
    bank_grade_login(false).await;
}

/// The same, with ES256 ID tokens, held to `--profile fapi2` against the OP's FAPI 2.0
/// Security Profile.
#[tokio::test]
async fn a_bank_grade_registration_logs_in_under_fapi2_at_a_fapi2_op() {
    bank_grade_login(true).await;
}

async fn bank_grade_login(fapi2: bool) {
    let dir = tempfile::tempdir().unwrap();
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let op = TestOp::start_with(
        OpConfig {
            registration: Some(None),
            ..Default::default()
        },
        json!({
            "dpop": {"require_nonce": true},
            "secured_authorization": true,
            "encryption": true,
            "require_par": true,
            "fapi2": fapi2,
        }),
    )
    .await
    .unwrap();
    ok(
        &dir,
        &format!(
            "providers register bank --issuer {} --redirect-uri {redirect} \
             --auth-method private_key_jwt --signed-requests --jarm --dpop \
             --encrypt-id-token RSA-OAEP-256/A256GCM --encrypt-userinfo ECDH-ES \
             --signed-userinfo RS256{}",
            op.issuer,
            if fapi2 { " --id-token-alg ES256" } else { "" }
        ),
    )
    .await;
    let remote = ok(&dir, "providers show bank --remote").await.json();
    for (member, value) in [
        ("token_endpoint_auth_method", json!("private_key_jwt")),
        ("require_signed_request_object", json!(true)),
        ("dpop_bound_access_tokens", json!(true)),
        ("id_token_encrypted_response_alg", json!("RSA-OAEP-256")),
        ("userinfo_encrypted_response_alg", json!("ECDH-ES")),
    ] {
        assert_eq!(remote[member], value, "{member}: {remote}");
    }
    assert!(
        remote["authorization_signed_response_alg"].is_string(),
        "{remote}"
    );
    let provider = if fapi2 {
        "bank --profile fapi2"
    } else {
        "bank"
    };
    assert_dpop_login(&dir, provider, &redirect).await;
}
