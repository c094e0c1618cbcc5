//! `relier login --request-object by-reference` (OIDC Core §6.2, RFC 9101 §5.2): the
//! authorization URL carries a `request_uri` on the loopback listener, which the test OP
//! fetches once — signed RS256, or unsigned for `--request-object-signing-alg none` — and
//! `--encrypt-request-object` encrypts the request object to the OP's `use: enc` key, by value
//! and by reference (OIDC Core §6.1).
//!
//! Needs node and `npm ci --prefix tests/op`, and `cargo build -p relier-cli`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{assert_logged_in, asymmetric, client, free_port, login, write};
use relier_core::Algorithm;
use relier_jose::SigningKey;
use relier_tests::oidc_provider::{OpConfig, TestOp};
use serde_json::{Value, json};

fn query(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn names(url: &str) -> Vec<String> {
    query(url).into_iter().map(|(k, _)| k).collect()
}

fn param(url: &str, name: &str) -> String {
    query(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// The OP fetched `uri` exactly once, with the request object media type.
async fn fetched_once(op: &TestOp, uri: &str) {
    let fetches = op.request_uri_fetches().await.unwrap();
    let of: Vec<&Value> = fetches.iter().filter(|f| f["uri"] == uri).collect();
    assert_eq!(of.len(), 1, "{fetches:?}");
    assert_eq!(of[0]["status"], 200);
    assert_eq!(of[0]["content_type"], "application/oauth-authz-req+jwt");
}

/// An OP with request_uri emulation (plus `extra`), and an RS256 private_key_jwt client whose
/// key is returned as a PEM file.
async fn rs256_op(
    id: &str,
    redirect: &str,
    extra: Value,
    dir: &tempfile::TempDir,
) -> (TestOp, String) {
    let key = SigningKey::generate(Algorithm::RS256, None)
        .unwrap()
        .with_kid("rs-1");
    let mut op_extra = json!({"secured_authorization": true, "request_uri": true});
    for (k, v) in extra.as_object().unwrap() {
        op_extra[k] = v.clone();
    }
    let op = TestOp::start_with(
        OpConfig {
            clients: vec![asymmetric(
                id,
                "private_key_jwt",
                redirect,
                json!({"token_endpoint_auth_signing_alg": "RS256",
                    "request_object_signing_alg": "RS256",
                    "jwks": {"keys": [key.public_jwk().unwrap()]}}),
            )],
            ..Default::default()
        },
        op_extra,
    )
    .await
    .unwrap();
    let pem = write(dir, "rs.pem", &key.to_pkcs8_pem().unwrap());
    (op, pem)
}

#[tokio::test]
async fn oidcc_client_test_request_uri_signed_rs256_cli() {
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let dir = tempfile::tempdir().unwrap();
    let (op, pem) = rs256_op("rp-ref", &redirect, json!({}), &dir).await;
    let args = [
        "--issuer",
        op.issuer.as_str(),
        "--client-id",
        "rp-ref",
        "--private-key",
        pem.as_str(),
        "--key-id",
        "rs-1",
        "--request-object-signing-alg",
        "RS256",
        "--request-object",
        "by-reference",
    ];
    let run = login(&args, &[], &redirect).await;
    assert_logged_in(&run, "private_key_jwt");
    let url = run.authorization_url();
    // OIDC Core §6.2: request_uri plus the parameters required outside the object.
    assert_eq!(
        names(url),
        ["response_type", "client_id", "scope", "request_uri"],
        "{url}"
    );
    let uri = param(url, "request_uri");
    let id = uri
        .strip_prefix(&format!("http://127.0.0.1:{port}/request/"))
        .unwrap_or_else(|| panic!("{uri}"));
    assert_eq!(id.len(), 43);
    fetched_once(&op, &uri).await;
}

#[tokio::test]
async fn oidcc_client_test_request_uri_signed_none_cli() {
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let op = TestOp::start_with(
        OpConfig {
            clients: vec![client("rp-none", "client_secret_basic", &redirect)],
            ..Default::default()
        },
        json!({"secured_authorization": true, "request_uri": true,
            "unsigned_request_objects": ["rp-none"]}),
    )
    .await
    .unwrap();
    let args = [
        "--issuer",
        op.issuer.as_str(),
        "--client-id",
        "rp-none",
        "--client-secret-env",
        "RP_SECRET",
        "--auth-method",
        "client_secret_basic",
        "--request-object-signing-alg",
        "none",
        "--request-object",
        "by-reference",
    ];
    let run = login(&args, &[("RP_SECRET", common::SECRET)], &redirect).await;
    assert_logged_in(&run, "client_secret_basic");
    let uri = param(run.authorization_url(), "request_uri");
    fetched_once(&op, &uri).await;
}

#[tokio::test]
async fn encrypted_request_objects_by_value_and_by_reference_cli() {
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let dir = tempfile::tempdir().unwrap();
    let (op, pem) = rs256_op(
        "rp-enc",
        &redirect,
        json!({"request_object_encryption": true}),
        &dir,
    )
    .await;
    for how in ["by-value", "by-reference"] {
        let args = [
            "--issuer",
            op.issuer.as_str(),
            "--client-id",
            "rp-enc",
            "--private-key",
            pem.as_str(),
            "--key-id",
            "rs-1",
            "--request-object-signing-alg",
            "RS256",
            "--encrypt-request-object",
            "RSA-OAEP-256/A256GCM",
            "--request-object",
            how,
        ];
        let run = login(&args, &[], &redirect).await;
        assert_logged_in(&run, "private_key_jwt");
        let url = run.authorization_url();
        if how == "by-value" {
            let jwe = param(url, "request");
            assert_eq!(jwe.split('.').count(), 5, "{jwe}");
            let header: Value = serde_json::from_slice(
                &relier_jose::b64::decode(jwe.split('.').next().unwrap()).unwrap(),
            )
            .unwrap();
            assert_eq!(header["alg"], "RSA-OAEP-256");
            assert_eq!(header["enc"], "A256GCM");
            assert_eq!(header["cty"], "JWT");
        } else {
            fetched_once(&op, &param(url, "request_uri")).await;
        }
    }
}

#[tokio::test]
async fn by_reference_needs_request_objects() {
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let op = TestOp::start(OpConfig {
        clients: vec![client("rp-plain", "client_secret_basic", &redirect)],
        ..Default::default()
    })
    .await
    .unwrap();
    let out = common::relier()
        .args([
            "login",
            "--issuer",
            op.issuer.as_str(),
            "--client-id",
            "rp-plain",
        ])
        .args(["--client-secret-env", "RP_SECRET", "--no-browser"])
        .args([
            "--request-object",
            "by-reference",
            "--redirect-uri",
            &redirect,
        ])
        .env("RP_SECRET", common::SECRET)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--request-object by-reference"), "{stderr}");
}
