//! The whole machine path against the test OP: a private_key_jwt client gets a token with
//! `relier token client-credentials` (a JWT access token for a resource indicator, RFC 8707 /
//! RFC 9068) and calls an `[[api]]` path through `relier serve` in proxy mode — as Bearer and,
//! with `--dpop-key-file`, DPoP-bound with a proof (RFC 9449 §7) — and the upstream sees who
//! called; an opaque token is accepted by introspection (RFC 7662) on an `introspect = true`
//! path.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use common::{SECRET, Served, free_port, relier, run_cmd, serve_until, write};
use relier::core::Secret;
use relier::core::dpop::{DpopKey, ProofTarget};
use relier::core::http::Method;
use relier::core::types::UnixTime;
use relier::jose::{Algorithm, SigningKey};
use relier_tests::oidc_provider::{OpConfig, TestOp, machine_client};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A resource whose tokens are JWTs, and one whose tokens are opaque.
const API: &str = "https://orders.example.com/api";
const LEDGER: &str = "https://ledger.example.com/api";

async fn gateway(dir: &tempfile::TempDir, op: &TestOp, upstream: SocketAddr) -> Served {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let config = write(
        dir,
        "relier.toml",
        &format!(
            r#"listen = "{addr}"
public_url = "http://{addr}"
store = "sqlite://{db}"

[upstream]
url = "http://{upstream}"

[[api]]
path = "/api/"
providers = ["op"]
audience = "{API}"
scopes = ["orders:read"]

[[api]]
path = "/ledger/"
providers = ["op"]
audience = "{LEDGER}"
scopes = ["orders:read"]
introspect = true

[[providers]]
name = "op"
issuer = "{iss}"
client_id = "gw"
client_secret = "{SECRET}"
"#,
            db = dir.path().join("g.db").display(),
            iss = op.issuer,
        ),
    );
    let mut cmd = relier();
    cmd.args(["serve", "--config", &config]);
    serve_until(cmd, addr, dir.path().join("serve.log"), "/healthz").await
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// `relier token client-credentials` as the private_key_jwt client `svc`.
async fn token(op: &TestOp, pem: &str, resource: &str, dpop: Option<&str>) -> String {
    let mut cmd = relier();
    cmd.args(["token", "client-credentials", "--issuer", &op.issuer])
        .args(["--client-id", "svc", "--private-key", pem])
        .args(["--scope", "orders:read", "--resource", resource]);
    if let Some(file) = dpop {
        cmd.args(["--dpop-key-file", file]);
    }
    run_cmd(cmd, "").await.ok().stdout.trim().to_owned()
}

/// GET `url` with `headers`: the status, the `WWW-Authenticate` challenge, the body as JSON
/// (the echo upstream's view of the request) or null.
async fn get(url: &str, headers: &[(&str, &str)]) -> (StatusCode, String, Value) {
    let mut b = http().get(url);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let r = b.send().await.unwrap();
    let status = r.status();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = serde_json::from_str(&r.text().await.unwrap()).unwrap_or(Value::Null);
    (status, challenge, body)
}

fn seen<'a>(body: &'a Value, header: &str) -> &'a Value {
    &body["headers"][header]
}

#[tokio::test]
async fn a_machine_calls_the_api_through_the_gateway_bearer_dpop_and_introspected() {
    let key = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let kid = key.thumbprint_sha256().unwrap();
    let key = key.with_kid(kid);
    let svc = machine_client(
        "svc",
        "private_key_jwt",
        SECRET,
        json!({
            "client_secret": null,
            "token_endpoint_auth_signing_alg": "ES256",
            "jwks": { "keys": [key.public_jwk().unwrap()] },
        }),
    );
    let gw_client = machine_client("gw", "client_secret_basic", SECRET, json!({}));
    let op = TestOp::start_with(
        OpConfig {
            clients: vec![svc, gw_client],
            ..Default::default()
        },
        json!({
            "client_credentials": true,
            "resource_servers": {
                API: { "scope": "orders:read" },
                LEDGER: { "scope": "orders:read", "format": "opaque" },
            },
        }),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pem = write(&dir, "svc.pem", &key.to_pkcs8_pem().unwrap());
    let (upstream, _task) = relier_tests::echo::upstream().await;
    let gw = gateway(&dir, &op, upstream).await;
    let orders = gw.url("/api/orders");

    // Bearer: a JWT access token for the API's resource indicator.
    let t = token(&op, &pem, API, None).await;
    assert_eq!(t.split('.').count(), 3, "a JWT access token");
    let (status, c, body) = get(&orders, &[("authorization", &format!("Bearer {t}"))]).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(seen(&body, "x-relier-auth"), &json!(["bearer"]));
    assert_eq!(seen(&body, "x-relier-client-id"), &json!(["svc"]));
    assert_eq!(seen(&body, "x-relier-subject"), &json!(["svc"]));
    assert_eq!(seen(&body, "x-relier-scope"), &json!(["orders:read"]));
    assert_eq!(seen(&body, "x-relier-issuer"), &json!([op.issuer]));
    assert_eq!(seen(&body, "authorization"), &Value::Null, "{body}");
    // No token: 401 with a bare challenge.
    let (status, c, _) = get(&orders, &[]).await;
    assert_eq!((status, c.as_str()), (StatusCode::UNAUTHORIZED, "Bearer"));

    // DPoP: the token is bound to the key file; the request carries a proof for its URL.
    let key_file = dir.path().join("dpop.pem");
    let bound = token(&op, &pem, API, Some(key_file.to_str().unwrap())).await;
    let dpop = DpopKey::from_pkcs8_pem(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    let proof = |url: &str| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let target = ProofTarget {
            method: Method::Get,
            url,
            now: UnixTime(now),
            nonce: None,
            access_token: Some(&Secret::new(&bound)),
        };
        dpop.proof(&target, &SystemRandom::new()).unwrap()
    };
    let auth = format!("DPoP {bound}");
    let (status, c, body) = get(
        &orders,
        &[("authorization", &auth), ("dpop", &proof(&orders))],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(seen(&body, "x-relier-auth"), &json!(["dpop"]));
    assert_eq!(seen(&body, "x-relier-client-id"), &json!(["svc"]));
    assert_eq!(seen(&body, "dpop"), &Value::Null, "{body}");
    // A proof for another URL, and the bound token as Bearer: refused.
    let other = proof(&gw.url("/api/other"));
    let (status, c, _) = get(&orders, &[("authorization", &auth), ("dpop", &other)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(c.starts_with("DPoP error=\"invalid_dpop_proof\""), "{c}");
    let (status, c, _) = get(&orders, &[("authorization", &format!("Bearer {bound}"))]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(c, "Bearer error=\"invalid_token\"");

    // Introspection: an opaque token for the ledger, checked at the OP.
    let ledger = gw.url("/ledger/entries");
    let opaque = token(&op, &pem, LEDGER, None).await;
    assert_eq!(opaque.split('.').count(), 1, "an opaque token");
    let (status, c, body) = get(&ledger, &[("authorization", &format!("Bearer {opaque}"))]).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(seen(&body, "x-relier-auth"), &json!(["bearer"]));
    assert_eq!(seen(&body, "x-relier-client-id"), &json!(["svc"]));
    assert_eq!(seen(&body, "x-relier-scope"), &json!(["orders:read"]));
    // The OP vouches for the token, not for this audience: the JWT for the orders API is not
    // one for the ledger; and without introspect an opaque token means nothing.
    let (status, c, _) = get(&ledger, &[("authorization", &format!("Bearer {t}"))]).await;
    assert_eq!(
        (status, c.as_str()),
        (StatusCode::UNAUTHORIZED, "Bearer error=\"invalid_token\"")
    );
    let (status, c, _) = get(&orders, &[("authorization", &format!("Bearer {opaque}"))]).await;
    assert_eq!(
        (status, c.as_str()),
        (StatusCode::UNAUTHORIZED, "Bearer error=\"invalid_token\"")
    );
    // An unknown opaque token: inactive at the OP.
    let (status, _, _) = get(
        &ledger,
        &[("authorization", "Bearer not-a-token-the-op-issued")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
