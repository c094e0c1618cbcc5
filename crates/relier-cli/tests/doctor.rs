//! `relier doctor` and `relier login --profile fapi2` end to end: the real binary against the
//! real OP (oidc-provider) and against the misbehaving OP serving a weak configuration, and a
//! FAPI 2.0 login refused item by item.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{free_port, login, relier, run_cmd, write};
use relier::jose::{Algorithm, SigningKey};
use relier_tests::bad_op::{BadOp, CLIENT_ID as BAD_CLIENT, Misbehavior};
use relier_tests::oidc_provider::{OpConfig, TestOp};
use serde_json::{Map, Value, json};

async fn doctor(args: &[&str]) -> common::Run {
    let mut cmd = relier();
    cmd.arg("doctor").args(args);
    run_cmd(cmd, "").await
}

/// The findings of a `--json` report with `check`, as (grade, message).
fn findings(report: &Value, check: &str) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check)
        .map(|f| {
            (
                f["grade"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn grades(report: &Value, check: &str) -> Vec<String> {
    findings(report, check)
        .into_iter()
        .map(|(g, _)| g)
        .collect()
}

fn any_fail(report: &Value) -> bool {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["grade"] == "fail")
}

/// A weak configuration: implicit and hybrid, the password grant, `none` and RSA1_5, no PKCE
/// S256, and an RSA-1024 key in the JWKS.
fn weak() -> Misbehavior {
    let doc = json!({
        "response_types_supported": ["code", "id_token token", "code id_token"],
        "grant_types_supported": ["authorization_code", "password"],
        "code_challenge_methods_supported": ["plain"],
        "id_token_signing_alg_values_supported": ["RS256", "none"],
        "id_token_encryption_alg_values_supported": ["RSA1_5"],
    });
    Misbehavior {
        discovery: doc.as_object().unwrap().clone(),
        extra_jwks: vec![json!({
            "kty": "RSA", "kid": "legacy-1024", "use": "sig", "e": "AQAB",
            "n": relier::jose::b64::encode(&[0xc5; 128]),
        })],
        ..Default::default()
    }
}

#[tokio::test]
async fn doctor_grades_a_weak_op() {
    let op = BadOp::start().await.unwrap();
    op.set(weak());
    let run = doctor(&[op.issuer()]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("checks failed"), "{}", run.stderr);
    let text = &run.stdout;
    assert!(
        text.contains("FAIL  jwks_key")
            && text.contains("legacy-1024")
            && text.contains("RSA 1024 bits"),
        "{text}"
    );
    assert!(
        text.contains("FAIL  algorithms") && text.contains("[RFC 8725 §3.1]"),
        "{text}"
    );
    assert!(text.contains("RSA1_5"), "{text}");
    assert!(text.contains("FAIL  pkce"), "{text}");
    assert!(text.lines().last().unwrap().ends_with("fail"), "{text}");

    let run = doctor(&[op.issuer(), "--json"]).await;
    assert_eq!(run.code, 1);
    let r = run.json();
    assert_eq!(r["issuer"], op.issuer());
    assert_eq!(r["profile"], Value::Null);
    assert_eq!(grades(&r, "pkce"), ["fail"]);
    assert_eq!(grades(&r, "algorithms"), ["fail", "fail"]);
    assert_eq!(grades(&r, "response_types"), ["warn", "warn"]);
    let grants = findings(&r, "grant_types");
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].0, "warn");
    assert!(grants[0].1.contains("password"));
    // The loopback test OP's http endpoints warn; nothing else is wrong with them.
    assert!(grades(&r, "https").iter().all(|g| g == "warn"));
    // The bad OP only offers client secrets: recommend.rs picks client_secret_basic.
    let auth = findings(&r, "client_authentication");
    assert_eq!(auth[0].0, "warn");
    assert!(auth[0].1.contains("client_secret_basic"), "{auth:?}");
}

#[tokio::test]
async fn doctor_profile_turns_fapi_items_into_failures() {
    let op = BadOp::start().await.unwrap();
    // The default bad OP: a sound OIDC configuration, but no FAPI 2.0.
    let plain = doctor(&[op.issuer(), "--json"]).await;
    let r = plain.json();
    assert_eq!(plain.code, 0, "{r:#}");
    assert_eq!(grades(&r, "par"), ["warn"]);
    assert_eq!(grades(&r, "sender_constrained"), ["warn"]);
    assert_eq!(grades(&r, "iss_parameter"), ["pass"]);
    assert_eq!(grades(&r, "pkce"), ["pass"]);

    let fapi = doctor(&[op.issuer(), "--json", "--profile", "fapi2"]).await;
    assert_eq!(fapi.code, 1);
    let r = fapi.json();
    assert_eq!(r["profile"], "fapi2");
    assert_eq!(grades(&r, "par"), ["fail"]);
    assert_eq!(grades(&r, "sender_constrained"), ["fail"]);
    assert_eq!(grades(&r, "client_authentication"), ["fail"]);
    assert_eq!(grades(&r, "iss_parameter"), ["pass"]);

    let bad = doctor(&[op.issuer(), "--profile", "fapi1"]).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("fapi2"), "{}", bad.stderr);
}

#[tokio::test]
async fn doctor_against_the_real_op() {
    let op = TestOp::start(OpConfig::default()).await.unwrap();
    let run = doctor(&[&op.issuer, "--json"]).await;
    let r = run.json();
    assert_eq!(run.code != 0, any_fail(&r), "{r:#}");
    assert_eq!(grades(&r, "issuer"), ["pass"]);
    assert_eq!(grades(&r, "pkce"), ["pass"]);
    assert_eq!(grades(&r, "iss_parameter"), ["pass"]);
    // oidc-provider offers private_key_jwt: the recommendation says so.
    let auth = findings(&r, "client_authentication");
    assert_eq!(auth[0].0, "pass");
    assert!(auth[0].1.starts_with("private_key_jwt"), "{auth:?}");
    // Its keys are generated by the harness at full size.
    let keys = grades(&r, "jwks_key");
    assert!(!keys.is_empty());
    assert!(keys.iter().all(|g| g == "pass"), "{r:#}");
    let text = doctor(&[&op.issuer]).await;
    assert!(text.stdout.contains("PASS  pkce"), "{}", text.stdout);
}

/// A FAPI 2.0 configuration for the bad OP (whose token endpoint does not check the client).
fn fapi_ready() -> Map<String, Value> {
    json!({
        "pushed_authorization_request_endpoint": "PAR",
        "require_pushed_authorization_requests": true,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "PS256"],
        "id_token_signing_alg_values_supported": ["ES256", "PS256"],
        "dpop_signing_alg_values_supported": ["ES256"],
    })
    .as_object()
    .unwrap()
    .clone()
}

async fn fapi_login(op: &BadOp, dir: &tempfile::TempDir, extra: &[&str]) -> common::Run {
    let key = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let key_file = write(dir, "rp.pem", &key.to_pkcs8_pem().unwrap());
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let mut args = vec![
        "--issuer",
        op.issuer(),
        "--client-id",
        BAD_CLIENT,
        "--auth-method",
        "private_key_jwt",
        "--private-key",
        &key_file,
        "--id-token-alg",
        "ES256",
        "--profile",
        "fapi2",
    ];
    args.extend_from_slice(extra);
    login(&args, &[], &redirect).await
}

#[tokio::test]
async fn fapi2_login_is_refused_naming_each_item() {
    let op = BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = fapi_login(&op, &dir, &[]).await;
    assert_ne!(run.code, 0);
    for item in [
        "FAPI 2.0 Security Profile not met",
        "par: the OP publishes no pushed_authorization_request_endpoint",
        "client_authentication: the OP's token_endpoint_auth_methods_supported lacks private_key_jwt",
        "sender_constrained_tokens: set dpop_bound_access_tokens",
    ] {
        assert!(run.stderr.contains(item), "{item:?} not in {}", run.stderr);
    }
    assert!(run.page.is_none(), "no authorization URL is printed");
    assert_eq!(op.token_calls(), 0);

    // A FAPI-ready configuration, but an RSA-1024 key among the OP's keys.
    let mut m = weak();
    m.discovery = fapi_ready();
    m.discovery.insert(
        "pushed_authorization_request_endpoint".into(),
        format!("{}/par", op.issuer()).into(),
    );
    op.set(m);
    let run = fapi_login(&op, &dir, &["--dpop-bound-access-tokens"]).await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("op_keys: the OP's key legacy-1024 is RSA 1024 bits"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn fapi2_login_pushes_the_request() {
    let op = BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut discovery = fapi_ready();
    discovery.insert(
        "pushed_authorization_request_endpoint".into(),
        format!("{}/par", op.issuer()).into(),
    );
    op.set(Misbehavior {
        discovery,
        ..Default::default()
    });
    // Every item is met, so the login goes ahead, and the profile sends it to the PAR endpoint
    // (this OP has none: it answers 404) instead of the browser.
    let run = fapi_login(&op, &dir, &["--dpop-bound-access-tokens"]).await;
    assert_ne!(run.code, 0);
    assert!(!run.stderr.contains("not met"), "{}", run.stderr);
    assert!(
        run.stderr.contains("pushed_authorization_request"),
        "{}",
        run.stderr
    );
    assert!(run.page.is_none());
    assert_eq!(op.token_calls(), 0);
}

/// `fapi2-security-profile-final-client-test-discovery-issuer-mismatch`: under the FAPI 2.0
/// profile, with an OP otherwise ready for it, a discovery document whose `issuer` is not the
/// configured issuer is refused (OIDC Discovery 1.0 §4.3, RFC 8414 §3.3) and the login never
/// starts: no pushed request, no authorization URL, no keys fetched, no token request.
#[tokio::test]
async fn fapi2_security_profile_final_client_test_discovery_issuer_mismatch() {
    let op = BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut discovery = fapi_ready();
    discovery.insert(
        "pushed_authorization_request_endpoint".into(),
        format!("{}/par", op.issuer()).into(),
    );
    op.set(Misbehavior {
        discovery,
        discovery_issuer: Some(format!("{}/other", op.issuer())),
        ..Default::default()
    });
    let run = fapi_login(&op, &dir, &["--dpop-bound-access-tokens"]).await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("discovery: issuer mismatch"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("pushed_authorization_request"),
        "{}",
        run.stderr
    );
    assert!(run.page.is_none(), "no authorization URL is printed");
    assert_eq!((op.jwks_calls(), op.token_calls()), (0, 0));
}
