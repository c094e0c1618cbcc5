//! `relier providers register --jarm --encrypt-jarm ALG/ENC`: the registration asks for
//! encrypted JARM responses (`authorization_encrypted_response_alg`/`_enc`, JARM §3), the
//! store's encryption key goes to the OP with the signing keys, and `relier login` decrypts the
//! response JWT before it checks it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{assert_logged_in, login_cmd, registration_op, run_cmd, store_cmd, store_ok};
use serde_json::json;

#[tokio::test]
async fn encrypted_jarm_registered_then_login() {
    let (dir, redirect, op) =
        registration_op(json!({"secured_authorization": true, "encryption": true})).await;
    let register = format!(
        "providers register ejarm --issuer {} --redirect-uri {redirect} --auth-method private_key_jwt",
        op.issuer
    );
    // --encrypt-jarm encrypts the JARM response: without --jarm there is none.
    let run = run_cmd(
        store_cmd(&dir, &format!("{register} --encrypt-jarm ECDH-ES")),
        "",
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("--jarm"), "{}", run.stderr);

    // No encryption key yet: register generates one and sends it with the signing key.
    let run = store_ok(
        &dir,
        &format!("{register} --jarm ES256 --encrypt-jarm ECDH-ES/A256GCM"),
    )
    .await;
    assert!(
        run.stderr.contains("no active ECDH-ES encryption key"),
        "{}",
        run.stderr
    );
    let remote = store_ok(&dir, "providers show ejarm --remote").await.json();
    for (member, value) in [
        ("authorization_signed_response_alg", "ES256"),
        ("authorization_encrypted_response_alg", "ECDH-ES"),
        ("authorization_encrypted_response_enc", "A256GCM"),
    ] {
        assert_eq!(remote[member], value, "{member}: {remote}");
    }
    let enc_keys = remote["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["use"] == "enc")
        .count();
    assert_eq!(enc_keys, 1, "{remote}");

    let line = "login --provider ejarm --no-browser --json --timeout 60";
    let run = login_cmd(store_cmd(&dir, line), &redirect).await;
    assert_logged_in(&run, "private_key_jwt");
    let url = run.authorization_url();
    assert!(url.contains("response_mode=jwt"), "{url}");

    // Without the store's enc key the login is refused before it starts, naming the fix.
    let keys = store_ok(&dir, "keys list --json").await.json();
    for k in keys.as_array().unwrap() {
        if k["use"] == "enc" {
            let kid = k["kid"].as_str().unwrap();
            store_ok(&dir, &format!("keys remove {kid} --force")).await;
        }
    }
    let run = login_cmd(store_cmd(&dir, line), &redirect).await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("relier keys generate --use enc --alg ECDH-ES"),
        "{}",
        run.stderr
    );
}
