//! The client credentials grant (RFC 6749 §4.4) against oidc-provider with every client
//! authentication method relier has: client_secret_basic, client_secret_post,
//! client_secret_jwt, private_key_jwt, tls_client_auth; a resource indicator (RFC 8707)
//! yielding a JWT access token (RFC 9068) for that audience; DPoP- (RFC 9449) and
//! certificate-bound (RFC 8705 §3) tokens; and a public client refused before any request.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::sync::Arc;

use relier::core::client_credentials::{ClientCredentialsRequest, ResourceIndicator};
use relier::core::introspection::TokenTypeHint;
use relier::core::{Algorithm, ClientAuth, ClientId, IssuerUrl, Secret};
use relier::jose::SigningKey;
use relier::{HttpClient, HttpConfig, RelyingParty, RelyingPartyBuilder, TokenSource};
use relier_tests::oidc_provider::{OpConfig, TestOp, machine_client};
use serde_json::{Value, json};

const SECRET: &str = "a-client-secret-of-at-least-32-bytes-for-hs256!";
const API: &str = "https://api.example.com/orders";

fn machine(id: &str, method: &str, extra: Value) -> Value {
    machine_client(id, method, SECRET, extra)
}

fn cid(s: &str) -> ClientId {
    ClientId::new(s).unwrap()
}

async fn op(clients: Vec<Value>, tls: bool, extra: Value) -> TestOp {
    let mut options = json!({
        "client_credentials": true,
        "resource_servers": { API: { "scope": "orders:read orders:write" } },
    });
    for (k, v) in extra.as_object().unwrap() {
        options[k] = v.clone();
    }
    TestOp::start_with(
        OpConfig {
            clients,
            tls,
            ..Default::default()
        },
        options,
    )
    .await
    .unwrap()
}

async fn rp(
    op: &TestOp,
    identity: Option<String>,
    auth: ClientAuth,
    tweak: impl FnOnce(RelyingPartyBuilder) -> RelyingPartyBuilder,
) -> RelyingParty {
    let http = HttpClient::new(&HttpConfig {
        ca_pem: Some(op.ca.ca_pem.clone().into_bytes()),
        client_identity_pem: identity.map(|p| zeroize::Zeroizing::new(p.into_bytes())),
        timeout: None,
    })
    .unwrap();
    let md = relier::discover(&http, &IssuerUrl::new(op.issuer.clone()).unwrap())
        .await
        .unwrap();
    tweak(RelyingParty::builder(http, md, auth)).build()
}

/// The JOSE header and claims of a JWT (not verified: the OP's view is what is checked).
fn jwt_parts(token: &Secret) -> (Value, Value) {
    let mut parts = token.expose().split('.');
    let mut decode = || {
        let seg = parts.next().unwrap();
        serde_json::from_slice::<Value>(&relier::jose::b64::decode(seg).unwrap()).unwrap()
    };
    let header = decode();
    (header, decode())
}

/// The token is active at the OP's introspection endpoint, issued to `id`.
async fn assert_active(rp: &RelyingParty, token: &Secret, id: &str) -> Value {
    let intro = rp
        .introspect(token, Some(TokenTypeHint::AccessToken))
        .await
        .unwrap();
    assert_eq!(intro["active"], true, "{intro:?}");
    assert_eq!(intro["client_id"], id, "{intro:?}");
    Value::Object(intro)
}

#[tokio::test]
async fn client_credentials_with_each_client_authentication() {
    let pkj = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let kid = pkj.thumbprint_sha256().unwrap();
    let pkj = pkj.with_kid(kid);
    let op = op(
        vec![
            machine("cc-basic", "client_secret_basic", json!({})),
            machine("cc-post", "client_secret_post", json!({})),
            machine("cc-jwt", "client_secret_jwt", json!({})),
            machine(
                "cc-pkj",
                "private_key_jwt",
                json!({
                    "client_secret": null,
                    "token_endpoint_auth_signing_alg": "ES256",
                    "jwks": { "keys": [pkj.public_jwk().unwrap()] },
                }),
            ),
            machine(
                "cc-mtls",
                "tls_client_auth",
                json!({"client_secret": null, "tls_client_auth_subject_dn": "CN=cc-mtls"}),
            ),
        ],
        true,
        json!({}),
    )
    .await;
    let secret = Secret::new(SECRET);
    let (cert, key) = op.ca.client_cert("cc-mtls").unwrap();
    let cases = [
        (
            "cc-basic",
            None,
            ClientAuth::client_secret_basic(cid("cc-basic"), secret.clone()),
        ),
        (
            "cc-post",
            None,
            ClientAuth::client_secret_post(cid("cc-post"), secret.clone()),
        ),
        (
            "cc-jwt",
            None,
            ClientAuth::client_secret_jwt(cid("cc-jwt"), &secret, Algorithm::HS256).unwrap(),
        ),
        (
            "cc-pkj",
            None,
            ClientAuth::private_key_jwt(cid("cc-pkj"), pkj.clone()).unwrap(),
        ),
        (
            "cc-mtls",
            Some(format!("{cert}\n{key}")),
            ClientAuth::tls_client_auth(cid("cc-mtls")),
        ),
    ];
    for (id, identity, auth) in cases {
        let rp = rp(&op, identity, auth, |b| b).await;
        let tokens = rp
            .client_credentials(&["orders:read".to_owned()], &[])
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(tokens.token_type.to_ascii_lowercase(), "bearer", "{id}");
        assert!(tokens.expires_in.is_some_and(|e| e > 0), "{id}");
        assert!(tokens.refresh_token.is_none(), "{id}");
        assert!(tokens.id_token.is_none(), "{id}");
        assert_active(&rp, &tokens.access_token, id).await;
    }
}

/// RFC 8707: a token for a resource is a JWT access token (RFC 9068) whose `aud` is that
/// resource, with the scopes that server knows; an unknown resource is `invalid_target`.
#[tokio::test]
async fn resource_indicator_yields_a_jwt_for_that_audience() {
    let op = op(
        vec![machine("cc-res", "client_secret_basic", json!({}))],
        false,
        json!({}),
    )
    .await;
    let auth = ClientAuth::client_secret_basic(cid("cc-res"), Secret::new(SECRET));
    let rp = rp(&op, None, auth, |b| b).await;
    let api = ResourceIndicator::new(API).unwrap();
    let tokens = rp
        .client_credentials(
            &["orders:read".to_owned(), "unrelated".to_owned()],
            std::slice::from_ref(&api),
        )
        .await
        .unwrap();
    let (header, claims) = jwt_parts(&tokens.access_token);
    assert_eq!(header["typ"], "at+jwt", "{header}");
    assert_eq!(claims["aud"], API, "{claims}");
    assert_eq!(claims["client_id"], "cc-res");
    assert_eq!(claims["sub"], "cc-res");
    assert_eq!(claims["iss"], op.issuer);
    assert_eq!(claims["scope"], "orders:read");
    assert_eq!(tokens.scope.as_deref(), Some("orders:read"));
    let other = ResourceIndicator::new("https://unknown.example.com/").unwrap();
    let err = rp.client_credentials(&[], &[other]).await.unwrap_err();
    assert!(err.to_string().contains("invalid_target"), "{err}");
}

/// RFC 9449 §5: with a DPoP key the token request carries a proof, the response must be
/// `token_type` DPoP and the token's `cnf.jkt` is the key's thumbprint; with nonces required
/// the one retry answers the OP's nonce.
#[tokio::test]
async fn dpop_bound_client_credentials() {
    let op = op(
        vec![machine(
            "cc-dpop",
            "client_secret_basic",
            json!({"dpop_bound_access_tokens": true}),
        )],
        false,
        json!({"dpop": {"require_nonce": true}}),
    )
    .await;
    let auth = ClientAuth::client_secret_basic(cid("cc-dpop"), Secret::new(SECRET));
    let plain = rp(&op, None, auth.clone(), |b| b).await;
    let key = plain.new_dpop_key().unwrap();
    let jkt = key.thumbprint().to_owned();
    let bound = rp(&op, None, auth, |b| b.dpop(key)).await;
    let api = ResourceIndicator::new(API).unwrap();
    let tokens = bound.client_credentials(&[], &[api]).await.unwrap();
    assert_eq!(tokens.token_type, "DPoP");
    let (_, claims) = jwt_parts(&tokens.access_token);
    assert_eq!(claims["cnf"]["jkt"], jkt.as_str(), "{claims}");
    // Without a proof, a client registered for DPoP-bound tokens is refused by the OP.
    let err = plain.client_credentials(&[], &[]).await.unwrap_err();
    assert!(err.to_string().contains("invalid_grant"), "{err}");
}

/// RFC 8705 §3: a certificate-bound registration gets its token through the mTLS alias,
/// bound to the certificate (`cnf` `x5t#S256`, checked by relier when present).
#[tokio::test]
async fn certificate_bound_client_credentials() {
    let op = op(
        vec![machine(
            "cc-bound",
            "client_secret_basic",
            json!({"tls_client_certificate_bound_access_tokens": true}),
        )],
        true,
        json!({"certificate_bound_access_tokens": true}),
    )
    .await;
    let (cert, key) = op.ca.client_cert("cc-bound").unwrap();
    let auth = ClientAuth::client_secret_basic(cid("cc-bound"), Secret::new(SECRET));
    let rp = rp(&op, Some(format!("{cert}\n{key}")), auth, |b| {
        b.certificate_bound_access_tokens(true)
    })
    .await;
    let tokens = rp.client_credentials(&[], &[]).await.unwrap();
    let intro = assert_active(&rp, &tokens.access_token, "cc-bound").await;
    assert!(intro["cnf"]["x5t#S256"].is_string(), "{intro}");
}

/// RFC 6749 §4.4: a public client has no credentials to prove; nothing is sent.
#[tokio::test]
async fn public_client_is_refused() {
    let op = op(vec![], false, json!({})).await;
    let rp = rp(&op, None, ClientAuth::none(cid("cc-public")), |b| b).await;
    let err = rp.client_credentials(&[], &[]).await.unwrap_err();
    assert!(
        matches!(
            err,
            relier::Error::ClientCredentials(
                relier::core::client_credentials::ClientCredentialsError::PublicClient
            )
        ),
        "{err}"
    );
}

/// A TokenSource over the real grant: one request for many concurrent callers, the same token
/// to all of them (the OP's view: it is active).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_source_over_the_grant() {
    let op = op(
        vec![machine("cc-src", "client_secret_post", json!({}))],
        false,
        json!({}),
    )
    .await;
    let auth = ClientAuth::client_secret_post(cid("cc-src"), Secret::new(SECRET));
    let rp = Arc::new(rp(&op, None, auth, |b| b).await);
    let src = Arc::new(TokenSource::client_credentials(
        Arc::clone(&rp),
        ClientCredentialsRequest::new(vec!["orders:read".into()], vec![]),
    ));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let src = Arc::clone(&src);
            tokio::spawn(async move { src.token().await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap().access_token.expose().to_owned());
    }
    seen.dedup();
    assert_eq!(seen.len(), 1, "one token for every caller");
    assert_active(&rp, &Secret::new(seen[0].clone()), "cc-src").await;
}
