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

use common::{login_cmd, registration_op, run_cmd, store_cmd as cmd, store_ok as ok};
use serde_json::json;

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
    let (dir, redirect, op) = registration_op(json!({"dpop": {"require_nonce": true}})).await;
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
    let metadata = json!({
        "redirect_uris": [redirect],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        "application_type": "native",
        "dpop_bound_access_tokens": true,
    });
    let response = common::register_at(&op.issuer, &metadata).await;
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
    let (dir, redirect, op) = registration_op(json!({
        "dpop": {"require_nonce": true},
        "secured_authorization": true,
        "encryption": true,
        "require_par": true,
        "fapi2": fapi2,
    }))
    .await;
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

/// `relier token refresh` with the token on stdin, in the store of `dir`.
async fn refresh(dir: &tempfile::TempDir, line: &str, token: &str) -> common::Run {
    run_cmd(cmd(dir, &format!("token refresh --json {line}")), token).await
}

/// `relier login --dpop-key-file` keeps the login's DPoP key (PKCS#8 PEM, mode 0600); `relier
/// token refresh --dpop-key-file` proves possession of it. A public client's refresh token is
/// bound to that key (RFC 9449 §5): with another key the OP refuses the refresh, and without
/// the file relier refuses it, naming the flag.
#[tokio::test]
async fn a_public_clients_refresh_token_refreshes_with_the_logins_key_file() {
    let (dir, redirect, op) = registration_op(json!({"dpop": {"require_nonce": true}})).await;
    ok(
        &dir,
        &format!(
            "providers register pub --issuer {} --redirect-uri {redirect} --auth-method none --dpop",
            op.issuer
        ),
    )
    .await;
    let key_file = dir.path().join("dpop.pem");
    let key_path = key_file.to_str().unwrap();
    let line = format!(
        "login --provider pub --no-browser --json --timeout 60 --prompt consent --dpop-key-file {key_path}"
    );
    let mut login = cmd(&dir, &line);
    login.args(["--scope", "openid email offline_access"]);
    let run = login_cmd(login, &redirect).await;
    assert_eq!(run.code, 0, "relier login failed: {}", run.stderr);
    let out = run.json();
    assert_eq!(out["token_type"], "DPoP", "{out}");
    let rt = out["refresh_token"].as_str().expect("a refresh token");
    let pem = std::fs::read_to_string(&key_file).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let with_key = format!("--provider pub --dpop-key-file {key_path}");
    let run = refresh(&dir, &with_key, rt).await;
    assert_eq!(run.code, 0, "refresh failed: {}", run.stderr);
    let refreshed = run.json();
    assert_eq!(refreshed["token_type"], "DPoP", "{refreshed}");
    // A sender-constrained refresh token is not rotated; if it were, the new one is used.
    let rt = refreshed["refresh_token"].as_str().unwrap_or(rt).to_owned();

    // Without the file: refused before any request, naming the flag.
    let run = refresh(&dir, "--provider pub", &rt).await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("pass --dpop-key-file"),
        "{}",
        run.stderr
    );
    // With another key: the OP refuses (RFC 9449 §5, the refresh token is bound to the key).
    let other = relier::core::dpop::DpopKey::generate(relier::jose::Algorithm::ES256).unwrap();
    let other_file = common::write(&dir, "other.pem", &other.to_pkcs8_pem().unwrap());
    let run = refresh(
        &dir,
        &format!("--provider pub --dpop-key-file {other_file}"),
        &rt,
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("invalid_grant"), "{}", run.stderr);
    // The login's key still refreshes, and a second login reuses the file's key.
    let run = refresh(&dir, &with_key, &rt).await;
    assert_eq!(run.code, 0, "refresh failed: {}", run.stderr);
    let line =
        format!("login --provider pub --no-browser --json --timeout 60 --dpop-key-file {key_path}");
    let run = login_cmd(cmd(&dir, &line), &redirect).await;
    assert_eq!(run.code, 0, "relier login failed: {}", run.stderr);
    assert!(run.stderr.contains("reusing the key"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), pem);
    // Revocation proves the same key; the refresh token is then gone.
    let line = format!(
        "token revoke --provider pub --token-type-hint refresh_token --dpop-key-file {key_path}"
    );
    let run = run_cmd(cmd(&dir, &line), &rt).await;
    assert_eq!(run.code, 0, "revoke failed: {}", run.stderr);
    let run = refresh(&dir, &with_key, &rt).await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("invalid_grant"), "{}", run.stderr);
}
