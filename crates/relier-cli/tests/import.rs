//! `relier providers import`: a registration's own `require_pushed_authorization_requests`
//! (RFC 9126 §6) makes `relier login` push its requests without `--par`, and a registration
//! relier could never use is refused at import, naming the member, with nothing stored.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{login_cmd, registration_op, run_cmd, store_cmd as cmd, store_ok as ok};
use serde_json::{Value, json};

use common::register_at as register;

/// The OP does not require PAR of every client, this client registered that it must push:
/// the OP refuses its unpushed requests, and the imported provider logs in, pushed, with no
/// `--par`.
#[tokio::test]
async fn an_imported_registration_requiring_par_pushes_without_a_flag() {
    let (dir, redirect, op) = registration_op(json!({})).await;
    let response = register(
        &op.issuer,
        &json!({
            "redirect_uris": [redirect],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
            "application_type": "native",
            "require_pushed_authorization_requests": true,
        }),
    )
    .await;
    let registered: Value = serde_json::from_str(&response).unwrap();
    assert_eq!(
        registered["require_pushed_authorization_requests"], true,
        "{registered}"
    );
    let file = common::write(&dir, "registration.json", &response);
    ok(
        &dir,
        &format!(
            "providers import par --issuer {} --registration-response {file}",
            op.issuer
        ),
    )
    .await;
    let line = "login --provider par --no-browser --json --timeout 60";
    let run = login_cmd(cmd(&dir, line), &redirect).await;
    assert_eq!(run.code, 0, "relier login failed: {}", run.stderr);
    let url = run.authorization_url();
    // RFC 9126 §4: the browser carries only client_id and the pushed request's request_uri.
    assert!(url.contains("request_uri=urn"), "{url}");
    assert!(!url.contains("redirect_uri="), "{url}");
    assert_eq!(run.json()["id_token_claims"]["sub"], "alice");
}

/// Registrations relier can never use: each is refused at import naming the member, and the
/// store stays empty.
#[tokio::test]
async fn unusable_registrations_are_refused_at_import_naming_the_member() {
    let (dir, redirect, op) = registration_op(json!({})).await;
    let base = json!({
        "client_id": "imported",
        "client_secret": "a-secret-value-of-the-op",
        "client_secret_expires_at": 0,
        "redirect_uris": [redirect],
        "token_endpoint_auth_method": "client_secret_basic",
    });
    let cases = [
        // RFC 8725 §3.2: RSA1_5 is not implemented.
        (
            json!({"id_token_encrypted_response_alg": "RSA1_5"}),
            "id_token_encrypted_response_alg",
        ),
        (
            json!({"userinfo_encrypted_response_alg": "RSA-OAEP-256",
                   "userinfo_encrypted_response_enc": "A128CTR"}),
            "userinfo_encrypted_response_alg",
        ),
        (
            json!({"token_endpoint_auth_method": "client_secret_magic"}),
            "token_endpoint_auth_method",
        ),
        (
            json!({"token_endpoint_auth_method": "private_key_jwt",
                   "token_endpoint_auth_signing_alg": "HS256"}),
            "token_endpoint_auth_signing_alg",
        ),
        (
            json!({"authorization_signed_response_alg": "none"}),
            "authorization_signed_response_alg",
        ),
        (
            json!({"require_pushed_authorization_requests": "yes"}),
            "require_pushed_authorization_requests",
        ),
        (
            json!({"dpop_bound_access_tokens": 1}),
            "dpop_bound_access_tokens",
        ),
        // OIDC Core §10.2: symmetric key management is derived from the client secret, and
        // this registration has none.
        (
            json!({"id_token_encrypted_response_alg": "dir", "client_secret": null}),
            "id_token_encrypted_response_alg",
        ),
    ];
    for (i, (members, named)) in cases.into_iter().enumerate() {
        let mut response = base.clone();
        for (k, v) in members.as_object().unwrap() {
            match v {
                Value::Null => response.as_object_mut().unwrap().remove(k),
                v => response
                    .as_object_mut()
                    .unwrap()
                    .insert(k.clone(), v.clone()),
            };
        }
        let file = common::write(&dir, &format!("r{i}.json"), &response.to_string());
        let run = run_cmd(
            cmd(
                &dir,
                &format!(
                    "providers import bad{i} --issuer {} --registration-response {file}",
                    op.issuer
                ),
            ),
            "",
        )
        .await;
        assert_ne!(run.code, 0, "{response} was imported");
        assert!(run.stderr.contains(named), "{named}: {}", run.stderr);
        assert!(!run.stderr.contains("a-secret-value"), "{}", run.stderr);
    }
    let list = ok(&dir, "providers list --json").await.json();
    assert_eq!(list, json!([]));
    // The same registration without the unusable member imports.
    let file = common::write(&dir, "good.json", &base.to_string());
    ok(
        &dir,
        &format!(
            "providers import good --issuer {} --registration-response {file}",
            op.issuer
        ),
    )
    .await;
}
