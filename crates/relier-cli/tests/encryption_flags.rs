//! `relier login --issuer … --encrypt-id-token ALG[/ENC] --encrypt-userinfo ALG[/ENC]`: a
//! client registered by hand with encrypted responses (OIDC Registration §2) logs in from the
//! command line — RSA-OAEP*/ECDH-ES* with the store's encryption keys, `dir` with the client
//! secret (OIDC Core §10.2) — and an unencrypted response where the flag expects one is
//! refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{
    SECRET, assert_logged_in, client, login_cmd, registration_op, store_cmd, store_ok,
    with_metadata,
};
use serde_json::json;

/// `relier login LINE --redirect-uri REDIRECT` on the test's store, with the client secret.
async fn login(dir: &tempfile::TempDir, line: &str, redirect: &str) -> common::Run {
    let line = format!(
        "login {line} --client-secret-env SECRET --auth-method client_secret_basic \
         --redirect-uri {redirect} --no-browser --json --timeout 60"
    );
    let mut cmd = store_cmd(dir, &line);
    cmd.env("SECRET", SECRET);
    login_cmd(cmd, redirect).await
}

#[tokio::test]
async fn encrypted_responses_of_a_client_given_on_the_command_line() {
    let (dir, redirect, op) = registration_op(json!({"encryption": true})).await;
    let iss = &op.issuer;
    store_ok(&dir, "keys generate --use enc --alg RSA-OAEP-256").await;
    store_ok(&dir, "keys generate --use enc --alg ECDH-ES").await;
    let jwks = store_ok(&dir, "keys jwks").await.json();
    op.add_client(with_metadata(
        client("enc-cli", "client_secret_basic", &redirect),
        json!({
            "id_token_encrypted_response_alg": "RSA-OAEP-256",
            "id_token_encrypted_response_enc": "A256GCM",
            "userinfo_encrypted_response_alg": "ECDH-ES",
            "userinfo_encrypted_response_enc": "A128GCM",
            // oidc-provider encrypts UserInfo only signed first (a nested JWT).
            "userinfo_signed_response_alg": "RS256",
            "jwks": jwks,
        }),
    ))
    .await
    .unwrap();

    let flags = "--encrypt-id-token RSA-OAEP-256/A256GCM --encrypt-userinfo ECDH-ES/A128GCM \
                 --userinfo-signed-alg RS256";
    let run = login(
        &dir,
        &format!("--issuer {iss} --client-id enc-cli {flags}"),
        &redirect,
    )
    .await;
    let out = assert_logged_in(&run, "client_secret_basic");
    // The printed ID token is the decrypted, signed one.
    assert_eq!(out["id_token"].as_str().unwrap().split('.').count(), 3);

    // Without the flags the encrypted ID token is not taken for a signed one.
    let run = login(
        &dir,
        &format!("--issuer {iss} --client-id enc-cli --userinfo-signed-alg RS256"),
        &redirect,
    )
    .await;
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("encrypted token (JWE), but no encryption is registered"),
        "{}",
        run.stderr
    );

    // A flag for a client whose responses arrive unencrypted: refused (an unencrypted token
    // where encryption was registered is an error, OIDC Core §10.2).
    op.add_client(client("plain-cli", "client_secret_basic", &redirect))
        .await
        .unwrap();
    let run = login(
        &dir,
        &format!("--issuer {iss} --client-id plain-cli --encrypt-id-token RSA-OAEP-256"),
        &redirect,
    )
    .await;
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "expected an encrypted response (JWE, registered RSA-OAEP-256/A128CBC-HS256)"
        ),
        "{}",
        run.stderr
    );

    // dir: the content key is derived from the client secret, no store key involved.
    op.add_client(with_metadata(
        client("dir-cli", "client_secret_basic", &redirect),
        json!({
            "id_token_encrypted_response_alg": "dir",
            "id_token_encrypted_response_enc": "A128CBC-HS256",
        }),
    ))
    .await
    .unwrap();
    let run = login(
        &dir,
        &format!("--issuer {iss} --client-id dir-cli --encrypt-id-token dir/A128CBC-HS256"),
        &redirect,
    )
    .await;
    assert_logged_in(&run, "client_secret_basic");
}

#[tokio::test]
async fn encryption_flags_are_checked_before_the_login_starts() {
    let (dir, redirect, op) = registration_op(json!({"encryption": true})).await;
    let iss = &op.issuer;
    // No encryption key in the store: the fix is named, no browser is asked for.
    let run = login(
        &dir,
        &format!("--issuer {iss} --client-id c --encrypt-userinfo ECDH-ES"),
        &redirect,
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("relier keys generate --use enc --alg ECDH-ES"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("open this URL"), "{}", run.stderr);
    // dir without a client secret.
    let line = format!(
        "login --issuer {iss} --client-id c --encrypt-id-token dir --no-browser --json --timeout 5"
    );
    let run = login_cmd(store_cmd(&dir, &line), &redirect).await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("client secret"), "{}", run.stderr);
    // The registration says it for a stored provider.
    let run = login_cmd(
        store_cmd(
            &dir,
            "login --provider p --encrypt-id-token RSA-OAEP-256 --no-browser",
        ),
        &redirect,
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
}
