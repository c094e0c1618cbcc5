//! `profile = "fapi2"`: the gateway refuses to start, naming each item, when the OP's metadata
//! or keys or the provider's settings cannot meet FAPI 2.0; it starts when they can.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use relier_gateway::{Config, Gateway};
use relier_jose::{Algorithm, SigningKey};
use relier_tests::bad_op::{BadOp, CLIENT_ID, Misbehavior};
use serde_json::{Map, Value, json};

async fn gateway(dir: &tempfile::TempDir, provider: &str) -> Result<Gateway, String> {
    let toml = format!(
        "public_url = \"http://127.0.0.1:8088\"\nstore = \"sqlite://{}\"\n[[providers]]\n{provider}",
        dir.path().join("g.db").display()
    );
    Gateway::build(Config::from_toml(&toml).map_err(|e| e.to_string())?)
        .await
        .map_err(|e| e.to_string())
}

/// A private_key_jwt ES256 provider at `op` under FAPI 2.0, plus `extra` keys.
fn provider(dir: &tempfile::TempDir, op: &BadOp, extra: &str) -> String {
    let key = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let path = dir.path().join("rp.pem");
    std::fs::write(&path, key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
    format!(
        "name = \"bank\"\nissuer = \"{}\"\nclient_id = \"{CLIENT_ID}\"\nprofile = \"fapi2\"\n\
         private_key = \"{}\"\nid_token_alg = \"ES256\"\n{extra}",
        op.issuer(),
        path.display()
    )
}

fn fapi_ready(op: &BadOp) -> Map<String, Value> {
    json!({
        "pushed_authorization_request_endpoint": format!("{}/par", op.issuer()),
        "require_pushed_authorization_requests": true,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "id_token_signing_alg_values_supported": ["ES256", "PS256"],
        "dpop_signing_alg_values_supported": ["ES256"],
    })
    .as_object()
    .unwrap()
    .clone()
}

#[tokio::test]
async fn fapi2_refuses_to_start_naming_each_item() {
    let op = BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = gateway(
        &dir,
        &provider(&dir, &op, "assertion_audience = \"endpoint\""),
    )
    .await
    .unwrap_err();
    for item in [
        "bank",
        "FAPI 2.0 Security Profile not met",
        "par: the OP publishes no pushed_authorization_request_endpoint",
        "client_authentication: the OP's token_endpoint_auth_methods_supported lacks private_key_jwt",
        "sender_constrained_tokens: set dpop_bound_access_tokens",
        "assertion_audience: assertion_audience is endpoint",
    ] {
        assert!(err.contains(item), "{item:?} not in {err}");
    }
    // A client secret is never FAPI 2.0 client authentication.
    let secret = format!(
        "name = \"bank\"\nissuer = \"{}\"\nclient_id = \"{CLIENT_ID}\"\nprofile = \"fapi2\"\n\
         client_secret = \"a-client-secret-of-at-least-32-bytes\"\ndpop_bound_access_tokens = true",
        op.issuer()
    );
    op.set(Misbehavior {
        discovery: fapi_ready(&op),
        ..Default::default()
    });
    let err = gateway(&dir, &secret).await.unwrap_err();
    assert!(
        err.contains("client_authentication: auth_method is client_secret_basic"),
        "{err}"
    );
    assert!(
        err.contains("id_token_algorithm: id_token_alg is RS256"),
        "{err}"
    );
}

#[tokio::test]
async fn fapi2_checks_the_op_keys_and_starts_when_met() {
    let op = BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    op.set(Misbehavior {
        discovery: fapi_ready(&op),
        extra_jwks: vec![json!({
            "kty": "RSA", "kid": "legacy-1024", "e": "AQAB",
            "n": relier_jose::b64::encode(&[0xc5; 128]),
        })],
        ..Default::default()
    });
    let err = gateway(
        &dir,
        &provider(&dir, &op, "dpop_bound_access_tokens = true"),
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("op_keys: the OP's key legacy-1024 is RSA 1024 bits"),
        "{err}"
    );
    op.set(Misbehavior {
        discovery: fapi_ready(&op),
        ..Default::default()
    });
    gateway(
        &dir,
        &provider(&dir, &op, "dpop_bound_access_tokens = true"),
    )
    .await
    .unwrap();
    // An unknown profile is a configuration error.
    let err = gateway(
        &dir,
        "name = \"x\"\nissuer = \"https://op.example.com\"\nprofile = \"fapi1\"",
    )
    .await
    .unwrap_err();
    assert!(err.contains("fapi2"), "{err}");
}

/// `fapi2-security-profile-final-client-test-discovery-issuer-mismatch`, for the gateway: a
/// FAPI 2.0 provider whose discovery document names another issuer (OIDC Discovery 1.0 §4.3,
/// RFC 8414 §3.3) stops the gateway at start, before the OP's keys are fetched, so no login
/// can start; the same OP with its own issuer starts.
#[tokio::test]
async fn fapi2_security_profile_final_client_test_discovery_issuer_mismatch_refuses_to_start() {
    let op = BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let forged = format!("{}/other", op.issuer());
    op.set(Misbehavior {
        discovery: fapi_ready(&op),
        discovery_issuer: Some(forged.clone()),
        ..Default::default()
    });
    let config = provider(&dir, &op, "dpop_bound_access_tokens = true");
    let err = gateway(&dir, &config).await.unwrap_err();
    assert!(err.contains("discovery: issuer mismatch"), "{err}");
    assert!(err.contains(&forged), "{err}");
    assert_eq!((op.jwks_calls(), op.token_calls()), (0, 0));
    op.set(Misbehavior {
        discovery: fapi_ready(&op),
        ..Default::default()
    });
    gateway(&dir, &config).await.unwrap();
}
