//! `relier token client-credentials` (RFC 6749 §4.4) and `relier login --device` (RFC 8628)
//! against the test OP, and the device flow's ends (`slow_down`, `expired_token`,
//! `access_denied`) against a stand-in that answers as scripted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{SECRET, relier, run_cmd, store_cmd, write};
use relier::jose::{Algorithm, SigningKey};
use relier_tests::oidc_provider::{OpConfig, TestOp, answer_device_code, machine_client};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};

const API: &str = "https://api.example.com/orders";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn machine(id: &str, method: &str, extra: Value) -> Value {
    machine_client(id, method, SECRET, extra)
}

async fn op(clients: Vec<Value>) -> TestOp {
    TestOp::start_with(
        OpConfig {
            clients,
            ..Default::default()
        },
        json!({
            "client_credentials": true,
            "device_flow": true,
            "resource_servers": { API: { "scope": "orders:read" } },
        }),
    )
    .await
    .unwrap()
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&relier::jose::b64::decode(payload).unwrap()).unwrap()
}

/// Both output modes: the access token alone (for `$(…)`), and the token response as JSON;
/// client_secret_basic from the command line and private_key_jwt with a PEM key.
#[tokio::test]
async fn token_client_credentials_prints_the_token_or_the_response() {
    let key = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let kid = key.thumbprint_sha256().unwrap();
    let key = key.with_kid(kid);
    let op = op(vec![
        machine("cli-cc", "client_secret_basic", json!({})),
        machine(
            "cli-pkj",
            "private_key_jwt",
            json!({
                "client_secret": null,
                "token_endpoint_auth_signing_alg": "ES256",
                "jwks": { "keys": [key.public_jwk().unwrap()] },
            }),
        ),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = relier();
    cmd.args(["token", "client-credentials", "--issuer", &op.issuer])
        .args([
            "--client-id",
            "cli-cc",
            "--auth-method",
            "client_secret_basic",
        ])
        .args(["--client-secret-env", "S", "--scope", "orders:read"])
        .args(["--resource", API])
        .env("S", SECRET);
    let run = run_cmd(cmd, "").await.ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "the token alone: {}", run.stdout);
    let c = claims(lines[0]);
    assert_eq!(c["aud"], API);
    assert_eq!(c["client_id"], "cli-cc");
    assert_eq!(c["scope"], "orders:read");

    let pem = write(&dir, "rp.pem", &key.to_pkcs8_pem().unwrap());
    let mut cmd = relier();
    cmd.args(["token", "client-credentials", "--issuer", &op.issuer])
        .args(["--client-id", "cli-pkj", "--private-key", &pem])
        .args(["--scope", "orders:read", "--resource", API, "--json"]);
    let out = run_cmd(cmd, "").await.ok().json();
    assert_eq!(out["auth_method"], "private_key_jwt", "{out}");
    assert_eq!(out["token_type"].as_str().unwrap().to_lowercase(), "bearer");
    assert_eq!(out["scope"], "orders:read");
    assert!(out["expires_in"].as_u64().unwrap() > 0);
    assert!(out["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(out["refresh_token"], Value::Null);

    // A bad secret: the OP's error, nothing on stdout.
    let mut cmd = relier();
    cmd.args(["token", "client-credentials", "--issuer", &op.issuer])
        .args([
            "--client-id",
            "cli-cc",
            "--auth-method",
            "client_secret_basic",
        ])
        .args(["--client-secret-env", "S"])
        .env("S", "wrong-secret-wrong-secret-wrong-secret!!");
    let run = run_cmd(cmd, "").await;
    assert_ne!(run.code, 0);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("invalid_client"), "{}", run.stderr);
}

/// `--provider NAME`: the registry's issuer, client and credentials.
#[tokio::test]
async fn token_client_credentials_with_a_registry_provider() {
    let op = op(vec![machine("cli-reg", "client_secret_post", json!({}))]).await;
    let dir = tempfile::tempdir().unwrap();
    let add = format!(
        "providers add corp --issuer {} --client-id cli-reg --auth-method client_secret_post \
         --client-secret-env RP_SECRET",
        op.issuer
    );
    let mut c = store_cmd(&dir, &add);
    c.env("RP_SECRET", SECRET);
    run_cmd(c, "").await.ok();
    let c = store_cmd(
        &dir,
        &format!(
            "token client-credentials --provider corp --scope orders:read --resource {API} --json"
        ),
    );
    let out = run_cmd(c, "").await.ok().json();
    assert_eq!(out["auth_method"], "client_secret_post");
    let c = claims(out["access_token"].as_str().unwrap());
    assert_eq!(
        (c["client_id"].as_str(), c["aud"].as_str()),
        (Some("cli-reg"), Some(API))
    );
}

/// `--dpop-key-file`: created when missing, reused (the tokens name the same key), never
/// written over; the token is DPoP-bound to it.
#[tokio::test]
async fn token_client_credentials_dpop_key_file() {
    let op = op(vec![machine(
        "cli-dpop",
        "client_secret_post",
        json!({"dpop_bound_access_tokens": true}),
    )])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("dpop.pem");
    let key_path = key_file.to_str().unwrap();
    let run = |file: String| {
        let mut cmd = relier();
        cmd.args(["token", "client-credentials", "--issuer", &op.issuer])
            .args([
                "--client-id",
                "cli-dpop",
                "--auth-method",
                "client_secret_post",
            ])
            .args(["--client-secret-env", "S", "--resource", API, "--json"])
            .args(["--dpop-key-file", &file])
            .env("S", SECRET);
        run_cmd(cmd, "")
    };
    let first = run(key_path.to_owned()).await.ok();
    assert!(first.stderr.contains("new"), "{}", first.stderr);
    let pem = std::fs::read_to_string(&key_file).unwrap();
    let first = first.json();
    assert_eq!(first["token_type"], "DPoP");
    let jkt = claims(first["access_token"].as_str().unwrap())["cnf"]["jkt"].clone();
    assert!(jkt.is_string());
    let second = run(key_path.to_owned()).await.ok();
    assert!(second.stderr.contains("reusing"), "{}", second.stderr);
    let second = second.json();
    assert_eq!(
        claims(second["access_token"].as_str().unwrap())["cnf"]["jkt"],
        jkt
    );
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), pem);
    let other = write(&dir, "notes.txt", "not a key\n");
    let refused = run(other.clone()).await;
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("refusing"), "{}", refused.stderr);
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "not a key\n");
}

/// A device client of the test OP.
fn device_client(id: &str) -> Value {
    json!({
        "client_id": id,
        "client_secret": SECRET,
        "redirect_uris": [],
        "response_types": [],
        "grant_types": [DEVICE_GRANT, "refresh_token"],
        "token_endpoint_auth_method": "client_secret_basic",
    })
}

/// Start `relier login --device`, read stderr until the URI that carries the code, and hand it
/// to `user`; then collect the outcome.
async fn device_login(
    issuer: &str,
    client_id: &str,
    extra: &[&str],
    user: impl AsyncFnOnce(String),
) -> common::Run {
    let mut cmd = relier();
    cmd.args([
        "login",
        "--device",
        "--issuer",
        issuer,
        "--client-id",
        client_id,
    ])
    .args([
        "--auth-method",
        "client_secret_basic",
        "--client-secret-env",
        "S",
    ])
    .args(["--json", "--test-device-poll-unit-ms", "20"])
    .args(extra)
    .env("S", SECRET);
    let mut child = cmd.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    let mut uris = Vec::new();
    while uris.len() < 2 {
        let line = tokio::time::timeout(Duration::from_secs(30), stderr.next_line())
            .await
            .unwrap()
            .unwrap();
        let Some(line) = line else { break };
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("http") {
            uris.push(line);
        }
    }
    if let Some(complete) = uris.get(1) {
        user(complete.clone()).await;
    }
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .await
        .unwrap();
    while let Some(line) = stderr.next_line().await.unwrap() {
        seen.push_str(&line);
        seen.push('\n');
    }
    let status = child.wait().await.unwrap();
    common::Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr: seen,
        page: None,
    }
}

/// RFC 8628 end to end: the user approves at the OP's pages; the ID token is validated and the
/// result printed as for a browser login.
#[tokio::test]
async fn login_device_end_to_end() {
    let op = op(vec![device_client("cli-device")]).await;
    let run = device_login(&op.issuer, "cli-device", &[], async |uri| {
        let page = answer_device_code(&uri, true).await.unwrap();
        assert!(page.contains("Sign-in Success"), "{page}");
    })
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("user_code: "), "{}", run.stderr);
    let out = run.json();
    assert_eq!(out["auth_method"], "client_secret_basic");
    assert_eq!(out["id_token_claims"]["sub"], "alice");
    assert_eq!(out["id_token_claims"]["aud"], "cli-device");
    assert_eq!(out["userinfo"]["email"], "alice@example.com");
    assert!(out["id_token"].as_str().is_some());
    assert!(out["access_token"].as_str().is_some());
}

/// A DPoP-bound device login (RFC 9449 §5): every poll proves possession, the tokens are
/// `token_type` DPoP, bound to the key in `--dpop-key-file`, and UserInfo takes them.
#[tokio::test]
async fn login_device_dpop_bound() {
    let op = op(vec![device_client("cli-device-dpop")]).await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("dpop.pem");
    let key = key.to_str().unwrap();
    let run = device_login(
        &op.issuer,
        "cli-device-dpop",
        &["--dpop-key-file", key],
        async |uri| {
            answer_device_code(&uri, true).await.unwrap();
        },
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = run.json();
    assert_eq!(out["token_type"], "DPoP");
    assert_eq!(out["userinfo"]["sub"], "alice");
    let pem = std::fs::read_to_string(key).unwrap();
    let jkt = relier::core::dpop::DpopKey::from_pkcs8_pem(&pem)
        .unwrap()
        .thumbprint()
        .to_owned();
    assert!(run.stderr.contains(&format!("jkt {jkt}")), "{}", run.stderr);
    // The OP's view: the access token is bound to that key.
    let mut cmd = relier();
    cmd.args(["token", "introspect", "--issuer", &op.issuer])
        .args([
            "--client-id",
            "cli-device-dpop",
            "--auth-method",
            "client_secret_basic",
        ])
        .args(["--client-secret-env", "S", "--json"])
        .env("S", SECRET);
    let intro = run_cmd(cmd, out["access_token"].as_str().unwrap())
        .await
        .ok()
        .json();
    assert_eq!(intro["active"], true, "{intro}");
    assert_eq!(intro["cnf"]["jkt"], jkt.as_str(), "{intro}");
}

/// The user aborts at the OP: relier stops and says so.
#[tokio::test]
async fn login_device_denied_by_the_user() {
    let op = op(vec![device_client("cli-device-deny")]).await;
    let run = device_login(&op.issuer, "cli-device-deny", &[], async |uri| {
        answer_device_code(&uri, false).await.unwrap();
    })
    .await;
    assert_ne!(run.code, 0);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("the user denied access"),
        "{}",
        run.stderr
    );
}

/// What the stand-in's token endpoint answers, in order; the last one repeats.
#[derive(Clone)]
struct Script {
    answers: Vec<&'static str>,
    polls: Arc<Mutex<usize>>,
}

/// A device-flow stand-in: discovery, a device authorization endpoint (interval 1 s), and a
/// token endpoint answering the `script`'s errors in order.
async fn standin(answers: Vec<&'static str>) -> (String, Arc<Mutex<usize>>) {
    use axum::routing::{get, post};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let script = Script {
        answers,
        polls: Arc::new(Mutex::new(0)),
    };
    let polls = Arc::clone(&script.polls);
    let md = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "device_authorization_endpoint": format!("{base}/device"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    let device = json!({
        "device_code": "dc-1",
        "user_code": "ABCD-EFGH",
        "verification_uri": format!("{base}/activate"),
        "verification_uri_complete": format!("{base}/activate?user_code=ABCD-EFGH"),
        "expires_in": 600,
        "interval": 1,
    });
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { axum::Json(md) }),
        )
        .route("/device", post(move || async move { axum::Json(device) }))
        .route(
            "/token",
            post(move || {
                let s = script.clone();
                async move {
                    let n = {
                        let mut p = s.polls.lock().unwrap();
                        *p += 1;
                        *p
                    };
                    let error = s.answers[(n - 1).min(s.answers.len() - 1)];
                    (
                        axum::http::StatusCode::BAD_REQUEST,
                        axum::Json(json!({ "error": error })),
                    )
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, polls)
}

/// `authorization_pending` continues, `slow_down` adds 5 s to the interval (RFC 8628 §3.5),
/// `expired_token` stops with a message saying the code expired.
#[tokio::test]
async fn login_device_slow_down_then_expired() {
    let (issuer, polls) =
        standin(vec!["authorization_pending", "slow_down", "expired_token"]).await;
    let run = device_login(&issuer, "standin-client", &["-v"], async |_| {}).await;
    assert_ne!(run.code, 0);
    assert_eq!(*polls.lock().unwrap(), 3, "{}", run.stderr);
    // The waits relier chose: 1 s after pending, 6 s after slow_down.
    assert!(run.stderr.contains("secs=1"), "{}", run.stderr);
    assert!(run.stderr.contains("secs=6"), "{}", run.stderr);
    assert!(run.stderr.contains("the code expired"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

/// `access_denied` from the token endpoint stops at once.
#[tokio::test]
async fn login_device_access_denied() {
    let (issuer, polls) = standin(vec!["access_denied"]).await;
    let run = device_login(&issuer, "standin-client", &[], async |_| {}).await;
    assert_ne!(run.code, 0);
    assert_eq!(*polls.lock().unwrap(), 1);
    assert!(
        run.stderr.contains("the user denied access"),
        "{}",
        run.stderr
    );
}
