//! Request objects by reference (OIDC Core §6.2, RFC 9101 §5.2) and encrypted to the OP
//! (OIDC Core §6.1, RFC 9101 §6.1), through the gateway in front of the test OP: the
//! authorization URL carries `request_uri` (with client_id, response_type and scope), the OP
//! fetches `{public_url}/auth/request/{id}` once (a second GET is 404), signed RS256 or — where
//! registered — unsigned; encrypted to the OP's `use: enc` key by value and by reference, and
//! a rotated OP encryption key is picked up once the JWKS is older than its `max-age`.
//!
//! Needs node and `npm ci --prefix tests/op`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::op_login::{login, session_json};
use common::{Running, browser, location};
use relier_tests::oidc_provider::{Browser, Callback, OpConfig, TestOp};
use serde_json::{Value, json};
use tokio::net::TcpListener;

const SECRET: &str = "gateway-test-client-secret-0123456789abcdef";

struct World {
    op: TestOp,
    _gw: Running,
    base: String,
    _dir: tempfile::TempDir,
}

/// The OP (with `op_extra`), a gateway with `providers` (TOML; `{ISSUER}` is the OP's issuer),
/// and the OP's clients `clients` (`{BASE}` in their redirect URIs is the gateway's).
async fn world(op_extra: Value, providers: &str, clients: &[(&str, Value)]) -> World {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let op = TestOp::start_with(OpConfig::default(), op_extra)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "public_url = \"{base}\"\nstore = \"sqlite://{}\"\n{}",
        dir.path().join("gateway.db").display(),
        providers.replace("{ISSUER}", &op.issuer)
    );
    let gw = Running::start(listener, &toml).await;
    for (name, extra) in clients {
        let mut client = json!({
            "client_id": format!("rp-gw-{name}"),
            "redirect_uris": [format!("{base}/auth/callback/{name}")],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "private_key_jwt",
            "token_endpoint_auth_signing_alg": "RS256",
            "jwks_uri": format!("{base}/.well-known/jwks.json"),
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                client.as_object_mut().unwrap().remove(k);
            } else {
                client[k] = v.clone();
            }
        }
        op.add_client(client).await.unwrap();
    }
    World {
        op,
        _gw: gw,
        base,
        _dir: dir,
    }
}

/// A `private_key_jwt` provider signing RS256 request objects with the store's key.
fn rs256_provider(name: &str, more: &str) -> String {
    format!(
        r#"
[[providers]]
name = "{name}"
issuer = "{{ISSUER}}"
client_id = "rp-gw-{name}"
use_store_key = true
signing_alg = "RS256"
request_object_signing_alg = "RS256"
{more}
"#
    )
}

fn rs256_client() -> Value {
    json!({"request_object_signing_alg": "RS256"})
}

/// The login's authorization URL (not followed).
async fn authorization_url(w: &World, gw: &reqwest::Client, provider: &str) -> url::Url {
    let r = gw
        .get(format!("{}/auth/login/{provider}", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    url::Url::parse(&location(r.headers())).unwrap()
}

fn names(url: &url::Url) -> Vec<String> {
    url.query_pairs().map(|(k, _)| k.into_owned()).collect()
}

fn param(url: &url::Url, name: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// A full login through the gateway, then its session's subject.
async fn logs_in(w: &World, provider: &str) {
    let gw = browser();
    let op = Browser::new().unwrap();
    assert_eq!(login(&w.base, &gw, &op, provider).await, "/home?x=1");
    assert_eq!(session_json(&w.base, &gw).await["sub"], "alice");
}

/// The login fails at the OP: it answers the redirect URI with an error (or no redirect).
async fn refused_at_op(w: &World, provider: &str) -> String {
    let gw = browser();
    let auth = authorization_url(w, &gw, provider).await;
    match Browser::new()
        .unwrap()
        .browse(auth.as_str(), &format!("{}/auth/callback/", w.base))
        .await
    {
        Ok(Callback::Query(url)) => {
            let error = url
                .query_pairs()
                .find(|(k, _)| k == "error")
                .map(|(_, v)| v.into_owned());
            error.unwrap_or_else(|| panic!("the OP accepted the request: {url}"))
        }
        Ok(other) => panic!("unexpected {other:?}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidcc_client_test_request_uri_signed_rs256() {
    let w = world(
        json!({"secured_authorization": true, "request_uri": true}),
        &rs256_provider("jar", "request_object = \"by_reference\""),
        &[("jar", rs256_client())],
    )
    .await;
    // OIDC Core §6.2: request_uri plus the parameters required outside the object.
    let gw = browser();
    let auth = authorization_url(&w, &gw, "jar").await;
    assert_eq!(
        names(&auth),
        ["response_type", "client_id", "scope", "request_uri"],
        "{auth}"
    );
    assert!(param(&auth, "scope").split(' ').any(|s| s == "openid"));
    let uri = url::Url::parse(&param(&auth, "request_uri")).unwrap();
    let prefix = format!("{}/auth/request/", w.base);
    let id = uri.as_str().strip_prefix(&prefix).unwrap();
    // 256 random bits, base64url.
    assert_eq!(id.len(), 43, "{uri}");
    let r = reqwest::get(uri.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/oauth-authz-req+jwt"
    );
    let jws = r.text().await.unwrap();
    let header: Value =
        serde_json::from_slice(&relier::jose::b64::decode(jws.split('.').next().unwrap()).unwrap())
            .unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "oauth-authz-req+jwt");
    // Served once.
    assert_eq!(reqwest::get(uri).await.unwrap().status(), 404);
    assert_eq!(
        reqwest::get(format!("{prefix}{}", "A".repeat(43)))
            .await
            .unwrap()
            .status(),
        404
    );
    // The OP fetches it and the login completes.
    logs_in(&w, "jar").await;
    let fetches = w.op.request_uri_fetches().await.unwrap();
    let last = fetches.last().unwrap();
    assert_eq!(last["status"], 200, "{fetches:?}");
    assert!(last["uri"].as_str().unwrap().starts_with(&prefix));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidcc_client_test_request_uri_signed_none() {
    let w = world(
        json!({"secured_authorization": true, "request_uri": true,
            "unsigned_request_objects": ["rp-gw-none"]}),
        r#"
[[providers]]
name = "none"
issuer = "{ISSUER}"
client_id = "rp-gw-none"
client_secret = "gateway-test-client-secret-0123456789abcdef"
request_object_signing_alg = "none"
request_object = "by_reference"
"#,
        &[(
            "none",
            json!({"token_endpoint_auth_method": "client_secret_basic",
                "client_secret": SECRET, "jwks_uri": null,
                "token_endpoint_auth_signing_alg": null}),
        )],
    )
    .await;
    let gw = browser();
    let auth = authorization_url(&w, &gw, "none").await;
    let uri = param(&auth, "request_uri");
    let jwt = reqwest::get(&uri).await.unwrap().text().await.unwrap();
    // OIDC Core §6.1: an Unsecured JWS, empty signature.
    assert!(jwt.ends_with('.'), "{jwt}");
    let header: Value =
        serde_json::from_slice(&relier::jose::b64::decode(jwt.split('.').next().unwrap()).unwrap())
            .unwrap();
    assert_eq!(header["alg"], "none");
    logs_in(&w, "none").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_request_objects_by_value_and_by_reference() {
    let enc = "request_object_encryption_alg = \"RSA-OAEP-256\"\nrequest_object_encryption_enc = \"A256GCM\"";
    let w = world(
        json!({"secured_authorization": true, "request_uri": true,
            "request_object_encryption": true}),
        &format!(
            "{}{}",
            rs256_provider("encval", enc),
            rs256_provider(
                "encref",
                &format!("{enc}\nrequest_object = \"by_reference\"")
            )
        ),
        &[("encval", rs256_client()), ("encref", rs256_client())],
    )
    .await;
    let gw = browser();
    // By value: a nested JWT, encrypted to the OP's key.
    let auth = authorization_url(&w, &gw, "encval").await;
    let jwe = param(&auth, "request");
    assert_eq!(jwe.split('.').count(), 5, "{jwe}");
    let header: Value =
        serde_json::from_slice(&relier::jose::b64::decode(jwe.split('.').next().unwrap()).unwrap())
            .unwrap();
    assert_eq!(header["alg"], "RSA-OAEP-256");
    assert_eq!(header["enc"], "A256GCM");
    assert_eq!(header["cty"], "JWT");
    assert!(header["kid"].as_str().unwrap().starts_with("enc-"));
    // By reference: the same, served once.
    let auth = authorization_url(&w, &gw, "encref").await;
    let served = reqwest::get(param(&auth, "request_uri"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(served.split('.').count(), 5);
    logs_in(&w, "encval").await;
    logs_in(&w, "encref").await;
}

/// The OP's JWKS is refetched for encryption once older than its `Cache-Control: max-age`:
/// with `max-age=0` a rotated OP key is used at the next login; with a long `max-age` the
/// cached (retired) key is still used, and the OP cannot decrypt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn op_encryption_key_rotation_picked_up_after_max_age() {
    let enc = "request_object_encryption_alg = \"RSA-OAEP-256\"\nrequest_object = \"by_reference\"";
    for (cache_control, picked_up) in [("max-age=0", true), ("max-age=3600", false)] {
        let w = world(
            json!({"secured_authorization": true, "request_uri": true,
                "request_object_encryption": true, "jwks_cache_control": cache_control}),
            &rs256_provider("rot", enc),
            &[("rot", rs256_client())],
        )
        .await;
        logs_in(&w, "rot").await;
        let kid = w.op.rotate_encryption_key().await.unwrap();
        if picked_up {
            logs_in(&w, "rot").await;
            let gw = browser();
            let auth = authorization_url(&w, &gw, "rot").await;
            let jwe = reqwest::get(param(&auth, "request_uri"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let header: Value = serde_json::from_slice(
                &relier::jose::b64::decode(jwe.split('.').next().unwrap()).unwrap(),
            )
            .unwrap();
            assert_eq!(header["kid"], kid.as_str());
        } else {
            let error = refused_at_op(&w, "rot").await;
            assert!(error.contains("invalid_request_object"), "{error}");
        }
    }
}
