//! Interop against a real, certified OP: panva's oidc-provider, started by the harness on
//! 127.0.0.1. Every client authentication method runs the full code flow + UserInfo; refresh,
//! introspection, revocation, signed UserInfo, form_post and the OP's key rotation are covered.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::sync::Arc;

use relier::core::authorize::{CallbackError, CallbackParams};
use relier::core::encryption::{DecryptionKey, DecryptionKeys};
use relier::core::id_token::Expectations;
use relier::core::introspection::TokenTypeHint;
use relier::core::jarm::JarmRule;
use relier::core::request_object::RequestObjectRule;
use relier::core::{
    Algorithm, AuthorizationParams, ClientAuth, ClientId, IssuerUrl, RedirectUrl, Secret,
};
use relier::jose::SigningKey;
use relier::{HttpClient, HttpConfig, Login, RelyingParty};
use relier_tests::oidc_provider::{
    Callback, OpConfig, TestOp, browse, cert_jwk, self_signed_client_cert,
};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:7777/callback";
const SECRET: &str = "a-client-secret-of-at-least-32-bytes-for-hs256!";

fn client(id: &str, method: &str) -> Value {
    json!({
        "client_id": id,
        "client_secret": SECRET,
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": method,
    })
}

fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

async fn rp_with(
    op: &TestOp,
    http: HttpConfig,
    auth: ClientAuth,
    tweak: impl FnOnce(relier::RelyingPartyBuilder) -> relier::RelyingPartyBuilder,
) -> RelyingParty {
    let http = HttpClient::new(&http).unwrap();
    let md = relier::discover(&http, &IssuerUrl::new(op.issuer.clone()).unwrap())
        .await
        .unwrap();
    tweak(RelyingParty::builder(http, md, auth).redirect_uri(RedirectUrl::new(REDIRECT).unwrap()))
        .build()
}

/// The test OP with the one client `rp-basic` (client_secret_basic).
async fn basic_op() -> TestOp {
    TestOp::start(OpConfig {
        clients: vec![client("rp-basic", "client_secret_basic")],
        ..Default::default()
    })
    .await
    .unwrap()
}

/// `rp-basic`'s client authentication.
fn basic_auth() -> ClientAuth {
    ClientAuth::client_secret_basic(cid("rp-basic"), Secret::new(SECRET))
}

async fn rp(op: &TestOp, auth: ClientAuth) -> RelyingParty {
    rp_with(op, HttpConfig::default(), auth, |b| b).await
}

fn params() -> AuthorizationParams {
    AuthorizationParams {
        scopes: vec!["openid profile email offline_access".into()],
        prompt: Some("consent".into()),
        ..Default::default()
    }
}

async fn login_with(rp: &RelyingParty, params: &AuthorizationParams) -> Login {
    let (url, pending) = rp.login_url(params).await.unwrap();
    let callback = match browse(url.as_str(), REDIRECT).await.unwrap() {
        Callback::Query(u) => CallbackParams::from_url(&u).unwrap(),
        Callback::FormPost { fields, .. } => {
            let body: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish();
            CallbackParams::parse(body.as_bytes()).unwrap()
        }
    };
    rp.complete_login(callback, &pending).await.unwrap()
}

/// Full flow + UserInfo + refresh (+ introspection and revocation for confidential clients).
async fn full_flow(rp: &RelyingParty, confidential: bool) {
    let login = login_with(rp, &params()).await;
    let claims = login.id_token.claims();
    assert_eq!(claims.sub, "alice");
    let info = rp
        .userinfo(&login.tokens.access_token, &claims.sub)
        .await
        .unwrap();
    assert_eq!(info["email"], "alice@example.com");
    let rt = login
        .tokens
        .refresh_token
        .clone()
        .expect("offline_access with prompt=consent gives a refresh token");
    let (refreshed, id) = rp.refresh(&rt, Some(claims)).await.unwrap();
    assert_eq!(
        id.expect("oidc-provider returns an ID token on refresh")
            .claims()
            .sub,
        "alice"
    );
    if confidential {
        let intro = rp
            .introspect(&refreshed.access_token, Some(TokenTypeHint::AccessToken))
            .await
            .unwrap();
        assert_eq!(intro["active"], true);
        assert_eq!(intro["sub"], "alice");
        let rt2 = refreshed.refresh_token.clone().unwrap_or(rt);
        rp.revoke(&rt2, Some(TokenTypeHint::RefreshToken))
            .await
            .unwrap();
        let err = rp.refresh(&rt2, None).await.unwrap_err();
        assert!(err.to_string().contains("invalid_grant"), "{err}");
        let intro = rp
            .introspect(&rt2, Some(TokenTypeHint::RefreshToken))
            .await
            .unwrap();
        assert_eq!(intro["active"], false);
    }
}

/// `oidcc-client-test-scope-userinfo-claims`: claims asked for by scope values (OIDC Core
/// §5.4) come back from UserInfo: `email` with the email scope, not without it.
#[tokio::test]
async fn oidcc_client_test_scope_userinfo_claims() {
    let op = basic_op().await;
    let rp = rp(&op, basic_auth()).await;
    let userinfo = |scope: &'static str| {
        let rp = &rp;
        async move {
            let p = AuthorizationParams {
                scopes: vec![scope.into()],
                ..Default::default()
            };
            let login = login_with(rp, &p).await;
            rp.userinfo(&login.tokens.access_token, &login.id_token.claims().sub)
                .await
                .unwrap()
        }
    };
    let info = userinfo("openid email").await;
    assert_eq!(info["sub"], "alice");
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["email_verified"], true);
    let info = userinfo("openid").await;
    assert_eq!(info["sub"], "alice");
    assert!(info.get("email").is_none(), "{info:?}");
}

/// A fresh RP key whose kid is its RFC 7638 thumbprint, as relier registers it.
fn rp_key(alg: Algorithm) -> SigningKey {
    let key = SigningKey::generate(alg, None).unwrap();
    let kid = key.thumbprint_sha256().unwrap();
    key.with_kid(kid)
}

fn cid(s: &str) -> ClientId {
    ClientId::new(s).unwrap()
}

/// `oidcc-client-test-client-secret-basic`: a client registered with `client_secret_basic`
/// authenticates at the token endpoint with HTTP Basic (RFC 6749 §2.3.1) and logs in; a wrong
/// secret is refused. (That the secret goes in the header, not the body: relier-core's
/// `oidcc_client_test_client_secret_basic_form_encodes_before_base64`.)
#[tokio::test]
async fn oidcc_client_test_client_secret_basic() {
    let op = basic_op().await;
    full_flow(&rp(&op, basic_auth()).await, true).await;
    let post = rp(
        &op,
        ClientAuth::client_secret_basic(cid("rp-basic"), Secret::new("not-the-secret")),
    )
    .await;
    let (url, pending) = post.authorization_url(&params()).unwrap();
    let Callback::Query(u) = browse(url.as_str(), REDIRECT).await.unwrap() else {
        panic!()
    };
    let err = post
        .complete_login(CallbackParams::from_url(&u).unwrap(), &pending)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invalid_client"), "{err}");
}

#[tokio::test]
async fn client_secret_methods_and_public_client() {
    let op = TestOp::start(OpConfig {
        clients: vec![
            client("rp-post", "client_secret_post"),
            with(client("rp-jwt", "client_secret_jwt"), json!({"token_endpoint_auth_signing_alg": "HS256"})),
            with(client("rp-jwt512", "client_secret_jwt"), json!({"client_secret": "x".repeat(64), "token_endpoint_auth_signing_alg": "HS512"})),
            json!({
                "client_id": "rp-public",
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
            }),
        ],
        ..Default::default()
    })
    .await
    .unwrap();
    let secret = Secret::new(SECRET);
    full_flow(
        &rp(
            &op,
            ClientAuth::client_secret_post(cid("rp-post"), secret.clone()),
        )
        .await,
        true,
    )
    .await;
    full_flow(
        &rp(
            &op,
            ClientAuth::client_secret_jwt(cid("rp-jwt"), &secret, Algorithm::HS256).unwrap(),
        )
        .await,
        true,
    )
    .await;
    let s512 = Secret::new("x".repeat(64));
    full_flow(
        &rp(
            &op,
            ClientAuth::client_secret_jwt(cid("rp-jwt512"), &s512, Algorithm::HS512).unwrap(),
        )
        .await,
        true,
    )
    .await;
    full_flow(&rp(&op, ClientAuth::none(cid("rp-public"))).await, false).await;
}

#[tokio::test]
async fn private_key_jwt_inline_jwks() {
    let keys: Vec<(String, SigningKey)> = [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ]
    .into_iter()
    .map(|alg| {
        (
            format!("rp-pkj-{}", alg.as_str().to_lowercase()),
            rp_key(alg),
        )
    })
    .collect();
    let clients = keys
        .iter()
        .map(|(id, k)| {
            let mut c = client(id, "private_key_jwt");
            c.as_object_mut().unwrap().remove("client_secret");
            c["token_endpoint_auth_signing_alg"] = json!(k.algorithm().as_str());
            c["jwks"] = json!({ "keys": [k.public_jwk().unwrap()] });
            c
        })
        .collect();
    let op = TestOp::start(OpConfig {
        clients,
        ..Default::default()
    })
    .await
    .unwrap();
    for (id, key) in keys {
        let auth = ClientAuth::private_key_jwt(cid(&id), key).unwrap();
        full_flow(&rp(&op, auth).await, true).await;
    }
}

/// The RP publishes its JWKS on a loopback URL the OP fetches (`jwks_uri` registration).
#[tokio::test]
async fn private_key_jwt_jwks_uri_and_endpoint_audience() {
    let key = rp_key(Algorithm::ES256);
    let jwks = json!({ "keys": [key.public_jwk().unwrap()] });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let j = jwks.clone();
            async move { axum::Json(j) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut c = client("rp-pkj-uri", "private_key_jwt");
    c.as_object_mut().unwrap().remove("client_secret");
    c["token_endpoint_auth_signing_alg"] = json!("ES256");
    c["jwks_uri"] = json!(format!("http://{addr}/jwks.json"));
    let op = TestOp::start(OpConfig {
        clients: vec![c],
        ..Default::default()
    })
    .await
    .unwrap();
    let auth = ClientAuth::private_key_jwt(cid("rp-pkj-uri"), key.clone()).unwrap();
    full_flow(&rp(&op, auth).await, true).await;
    // Some OPs insist on aud = the endpoint URL: oidc-provider accepts both.
    let auth = ClientAuth::private_key_jwt(cid("rp-pkj-uri"), key)
        .unwrap()
        .with_assertion_audience(relier::core::AssertionAudience::Endpoint);
    full_flow(&rp(&op, auth).await, true).await;
}

/// RFC 9126: the authorization request pushed with client authentication (basic: client_id in
/// the body as well; private_key_jwt), and an OP that requires it for everyone.
#[tokio::test]
async fn pushed_authorization_requests() {
    let key = rp_key(Algorithm::ES256);
    let mut pkj = with(
        client("rp-par-pkj", "private_key_jwt"),
        json!({
            "token_endpoint_auth_signing_alg": "ES256",
            "jwks": { "keys": [key.public_jwk().unwrap()] },
        }),
    );
    pkj.as_object_mut().unwrap().remove("client_secret");
    let op = TestOp::start(OpConfig {
        clients: vec![client("rp-par-basic", "client_secret_basic"), pkj],
        ..Default::default()
    })
    .await
    .unwrap();
    let basic = ClientAuth::client_secret_basic(cid("rp-par-basic"), Secret::new(SECRET));
    let pushed = rp(&op, basic)
        .await
        .with_pushed_authorization_requests(true);
    assert!(
        pushed
            .metadata()
            .pushed_authorization_request_endpoint
            .is_some()
    );
    assert!(pushed.uses_par());
    let (url, _) = pushed.login_url(&params()).await.unwrap();
    let names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(names, ["client_id", "request_uri"], "{url}");
    full_flow(&pushed, true).await;
    let auth = ClientAuth::private_key_jwt(cid("rp-par-pkj"), key).unwrap();
    let pushed = rp(&op, auth).await.with_pushed_authorization_requests(true);
    full_flow(&pushed, true).await;

    // An OP that requires PAR: relier pushes without being told; a plain request is refused.
    let op = TestOp::start_with(
        OpConfig {
            clients: vec![client("rp-par-basic", "client_secret_basic")],
            ..Default::default()
        },
        json!({ "require_par": true }),
    )
    .await
    .unwrap();
    let basic = ClientAuth::client_secret_basic(cid("rp-par-basic"), Secret::new(SECRET));
    let required = rp(&op, basic).await;
    assert!(required.metadata().require_pushed_authorization_requests);
    full_flow(&required, true).await;
    let (plain, pending) = required.authorization_url(&params()).unwrap();
    let refused = match browse(plain.as_str(), REDIRECT).await {
        Ok(Callback::Query(u)) => {
            let cb = CallbackParams::from_url(&u).unwrap();
            required.complete_login(cb, &pending).await.is_err()
        }
        Ok(Callback::FormPost { .. }) => false,
        Err(_) => true,
    };
    assert!(refused, "the OP accepted a request that was not pushed");
}

/// `oidcc-client-test-mtls-endpoint-aliases`: the OP publishes `mtls_endpoint_aliases`
/// (RFC 8705 §5) on a listener of its own that asks for client certificates; tls_client_auth and
/// self_signed_tls_client_auth clients reach the token endpoint there (the plain one is http, so
/// a login through it could not authenticate) and log in.
#[tokio::test]
async fn oidcc_client_test_mtls_endpoint_aliases() {
    let (self_cert, self_key) = self_signed_client_cert("rp-self-signed").unwrap();
    let mut tls = client("rp-mtls", "tls_client_auth");
    tls.as_object_mut().unwrap().remove("client_secret");
    tls["tls_client_auth_subject_dn"] = json!("CN=rp-mtls");
    let mut ss = client("rp-self", "self_signed_tls_client_auth");
    ss.as_object_mut().unwrap().remove("client_secret");
    ss["jwks"] = json!({ "keys": [cert_jwk(&self_cert, &self_key).unwrap()] });
    let op = TestOp::start(OpConfig {
        clients: vec![tls, ss],
        tls: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let md = relier::discover(
        &HttpClient::new(&HttpConfig::default()).unwrap(),
        &IssuerUrl::new(op.issuer.clone()).unwrap(),
    )
    .await
    .unwrap();
    let alias = md
        .mtls_endpoint_aliases
        .as_ref()
        .unwrap()
        .token_endpoint
        .clone()
        .unwrap();
    assert!(alias.starts_with("https://127.0.0.1:"), "{alias}");

    let (cert, key) = op.ca.client_cert("rp-mtls").unwrap();
    let cfg = |cert: &str, key: &str| HttpConfig {
        ca_pem: Some(op.ca.ca_pem.clone().into_bytes()),
        client_identity_pem: Some(zeroize::Zeroizing::new(
            format!("{cert}\n{key}").into_bytes(),
        )),
        timeout: None,
    };
    let rp_tls = rp_with(
        &op,
        cfg(&cert, &key),
        ClientAuth::tls_client_auth(cid("rp-mtls")),
        |b| b,
    )
    .await;
    full_flow(&rp_tls, true).await;
    let rp_self = rp_with(
        &op,
        cfg(&self_cert, &self_key),
        ClientAuth::self_signed_tls_client_auth(cid("rp-self")),
        |b| b,
    )
    .await;
    full_flow(&rp_self, true).await;
    // A certificate the OP does not know is refused at the token endpoint.
    let (other_cert, other_key) = self_signed_client_cert("rp-self").unwrap();
    let rp_other = rp_with(
        &op,
        cfg(&other_cert, &other_key),
        ClientAuth::self_signed_tls_client_auth(cid("rp-self")),
        |b| b,
    )
    .await;
    let (url, pending) = rp_other.authorization_url(&params()).unwrap();
    let Callback::Query(u) = browse(url.as_str(), REDIRECT).await.unwrap() else {
        panic!()
    };
    let err = rp_other
        .complete_login(CallbackParams::from_url(&u).unwrap(), &pending)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invalid_client"), "{err}");
}

#[tokio::test]
async fn op_key_rotation_is_followed_and_unpublished_keys_rejected() {
    let op = basic_op().await;
    let rp = rp_with(&op, HttpConfig::default(), basic_auth(), |b| b).await;
    let first = login_with(&rp, &params()).await;
    let new_kid = op.rotate("RS256").await.unwrap();
    // Same RelyingParty, cached JWKS without the new key: the unknown kid triggers one refetch.
    let second = login_with(&rp, &params()).await;
    assert_eq!(second.id_token.claims().sub, "alice");
    let header =
        relier::jose::jws::UnverifiedJws::parse(second.tokens.id_token.as_ref().unwrap().expose())
            .unwrap();
    assert_eq!(header.header().kid.as_deref(), Some(new_kid.as_str()));
    let _ = first;

    // A token signed by a key the OP never published is rejected, even after the refetch.
    let rogue = SigningKey::generate(Algorithm::RS256, None)
        .unwrap()
        .with_kid("rogue");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims =
        json!({"iss": op.issuer, "sub": "alice", "aud": "rp-basic", "iat": now, "exp": now + 60});
    let forged = relier::jose::jws::sign_compact(
        &Default::default(),
        claims.to_string().as_bytes(),
        &rogue,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .unwrap();
    let err = rp
        .validate_id_token(&forged, &Expectations::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no key with kid \"rogue\""),
        "{err}"
    );
}

#[tokio::test]
async fn hs256_id_tokens_form_post_and_max_age() {
    let op = TestOp::start(OpConfig {
        clients: vec![with(
            client("rp-hs", "client_secret_basic"),
            json!({"id_token_signed_response_alg": "HS256"}),
        )],
        ..Default::default()
    })
    .await
    .unwrap();
    let secret = Secret::new(SECRET);
    let rp_hs = rp_with(
        &op,
        HttpConfig::default(),
        ClientAuth::client_secret_basic(cid("rp-hs"), secret.clone()),
        |b| {
            b.id_token_alg(Algorithm::HS256)
                .client_secret(secret.clone())
        },
    )
    .await;
    let mut p = params();
    p.response_mode = Some("form_post".into());
    p.max_age = Some(600);
    let login = login_with(&rp_hs, &p).await;
    assert_eq!(login.id_token.alg(), Algorithm::HS256);
    assert!(login.id_token.claims().auth_time.is_some());
}

/// `oidcc-client-test-userinfo-signed`: the client registered `userinfo_signed_response_alg`;
/// the OP answers UserInfo as a signed JWT, which is verified (OIDC Core §5.3.2) and its claims
/// used.
#[tokio::test]
async fn oidcc_client_test_userinfo_signed() {
    let op = TestOp::start(OpConfig {
        clients: vec![
            with(client("rp-signed-ui", "client_secret_basic"), json!({"userinfo_signed_response_alg": "ES256", "id_token_signed_response_alg": "ES256"})),
        ],
        ..Default::default()
    })
    .await
    .unwrap();
    let secret = Secret::new(SECRET);
    let rp_ui = rp_with(
        &op,
        HttpConfig::default(),
        ClientAuth::client_secret_basic(cid("rp-signed-ui"), secret),
        |b| {
            b.id_token_alg(Algorithm::ES256)
                .userinfo_signed_alg(Algorithm::ES256)
        },
    )
    .await;
    let login = login_with(&rp_ui, &params()).await;
    let info = rp_ui
        .userinfo(&login.tokens.access_token, &login.id_token.claims().sub)
        .await
        .unwrap();
    assert_eq!(info["sub"], "alice");
    assert_eq!(info["aud"], "rp-signed-ui");
}

/// `oidcc-client-test-form-post-error`: an error authorization response delivered by
/// form_post (OAuth 2.0 Form Post Response Mode §2; here `login_required` for `prompt=none`
/// without a session at the OP) is surfaced as the OP's error.
#[tokio::test]
async fn oidcc_client_test_form_post_error() {
    let op = basic_op().await;
    let rp = rp(&op, basic_auth()).await;
    let p = AuthorizationParams {
        response_mode: Some("form_post".into()),
        prompt: Some("none".into()),
        max_age: Some(0),
        ..Default::default()
    };
    let (url, pending) = rp.login_url(&p).await.unwrap();
    let Callback::FormPost { fields, .. } = browse(url.as_str(), REDIRECT).await.unwrap() else {
        panic!("a form_post answer expected")
    };
    assert!(
        fields
            .iter()
            .any(|(k, v)| k == "error" && v == "login_required"),
        "{fields:?}"
    );
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let err = rp
        .complete_login(CallbackParams::parse(body.as_bytes()).unwrap(), &pending)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            relier::Error::Callback(CallbackError::OpError { error, .. }) if error == "login_required"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn expected_alg_mismatch_against_real_op() {
    // The OP signs RS256; the RP is configured for ES256: rejected, naming both.
    let op = basic_op().await;
    let rp = rp_with(&op, HttpConfig::default(), basic_auth(), |b| {
        b.id_token_alg(Algorithm::ES256)
    })
    .await;
    let (url, pending) = rp.authorization_url(&params()).unwrap();
    let Callback::Query(u) = browse(url.as_str(), REDIRECT).await.unwrap() else {
        panic!()
    };
    let err = rp
        .complete_login(CallbackParams::from_url(&u).unwrap(), &pending)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "id_token: alg mismatch: expected ES256, got RS256"
    );
    let _ = Arc::new(());
}

// ---------------------------------------------------------------------------
// signed request objects (RFC 9101) and JARM responses

/// A private_key_jwt client whose public keys (signing, and encryption if any) are registered
/// inline, with `extra` metadata.
fn keyed_client(id: &str, sig: &SigningKey, enc: Option<&DecryptionKey>, extra: Value) -> Value {
    let mut keys = vec![serde_json::to_value(sig.public_jwk().unwrap()).unwrap()];
    if let Some(enc) = enc {
        let mut jwk = serde_json::to_value(enc.public_jwk().unwrap()).unwrap();
        jwk["use"] = json!("enc");
        keys.push(jwk);
    }
    let mut c = with(
        client(id, "private_key_jwt"),
        json!({
            "token_endpoint_auth_signing_alg": sig.algorithm().as_str(),
            "jwks": { "keys": keys },
        }),
    );
    c.as_object_mut().unwrap().remove("client_secret");
    with(c, extra)
}

const JAR_JARM: &str = "rp-jar-jarm";
const JARM_ENC: &str = "rp-jarm-enc";

#[tokio::test]
async fn signed_request_objects_and_jarm_responses() {
    let key = rp_key(Algorithm::PS256);
    let enc = DecryptionKey::generate_rsa(2048)
        .unwrap()
        .with_kid("rp-enc-1");
    let op = TestOp::start_with(
        OpConfig {
            clients: vec![
                keyed_client(
                    JAR_JARM,
                    &key,
                    None,
                    json!({
                        "request_object_signing_alg": "PS256",
                        "require_signed_request_object": true,
                        "authorization_signed_response_alg": "ES256",
                    }),
                ),
                keyed_client(
                    JARM_ENC,
                    &key,
                    Some(&enc),
                    json!({
                        "authorization_signed_response_alg": "PS256",
                        "authorization_encrypted_response_alg": "RSA-OAEP-256",
                        "authorization_encrypted_response_enc": "A256GCM",
                    }),
                ),
            ],
            ..Default::default()
        },
        json!({ "secured_authorization": true, "encryption": true }),
    )
    .await
    .unwrap();
    // What the registration says drives both (as the gateway and the CLI read it).
    let reg = json!({
        "request_object_signing_alg": "PS256",
        "require_signed_request_object": true,
        "authorization_signed_response_alg": "ES256",
    });
    let reg = reg.as_object().unwrap();
    let jar = RequestObjectRule::from_registration(reg).unwrap();
    let jarm = JarmRule::from_registration(reg).unwrap().unwrap();
    let auth = || ClientAuth::private_key_jwt(cid(JAR_JARM), key.clone()).unwrap();
    let http = HttpClient::new(&HttpConfig::default()).unwrap();
    let md = relier::discover(&http, &IssuerUrl::new(op.issuer.clone()).unwrap())
        .await
        .unwrap();
    let signer = jar.signer(Some(&key), &md).unwrap().unwrap();
    let secured = rp_with(&op, HttpConfig::default(), auth(), |b| {
        b.request_objects(signer.clone()).jarm(jarm, None)
    })
    .await;
    assert!(secured.uses_request_objects() && secured.uses_jarm());

    // By value: only client_id, response_type, scope and the request object in the URL, and
    // only `response` (query.jwt) in the callback.
    let (url, pending) = secured.login_url(&params()).await.unwrap();
    let names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(
        names,
        ["response_type", "client_id", "scope", "request"],
        "{url}"
    );
    let Callback::Query(cb) = browse(url.as_str(), REDIRECT).await.unwrap() else {
        panic!("query.jwt expected")
    };
    let cb_names: Vec<String> = cb.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(cb_names, ["response"], "{cb}");
    let login = secured
        .complete_login(CallbackParams::from_url(&cb).unwrap(), &pending)
        .await
        .unwrap();
    assert_eq!(login.id_token.claims().sub, "alice");
    full_flow(&secured, true).await;

    // Pushed (RFC 9126 §3), with form_post: form_post.jwt.
    let pushed = rp_with(&op, HttpConfig::default(), auth(), |b| {
        b.request_objects(signer.clone()).jarm(jarm, None)
    })
    .await
    .with_pushed_authorization_requests(true);
    let mut p = params();
    p.response_mode = Some("form_post".into());
    let (url, pending) = pushed.login_url(&p).await.unwrap();
    let Callback::FormPost { fields, .. } = browse(url.as_str(), REDIRECT).await.unwrap() else {
        panic!("form_post.jwt expected")
    };
    assert_eq!(fields.len(), 1, "{fields:?}");
    assert_eq!(fields[0].0, "response");
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let cb = CallbackParams::parse(body.as_bytes()).unwrap();
    assert_eq!(
        pushed
            .complete_login(cb, &pending)
            .await
            .unwrap()
            .id_token
            .claims()
            .sub,
        "alice"
    );

    // The client requires signed request objects: a plain request is refused by the OP (with
    // an error inside a JARM response).
    let plain = rp_with(&op, HttpConfig::default(), auth(), |b| b.jarm(jarm, None)).await;
    assert!(!plain.uses_request_objects());
    let (url, pending) = plain.login_url(&params()).await.unwrap();
    let Callback::Query(cb) = browse(url.as_str(), REDIRECT).await.unwrap() else {
        panic!("query.jwt expected")
    };
    let err = plain
        .complete_login(CallbackParams::from_url(&cb).unwrap(), &pending)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, relier::Error::Callback(CallbackError::OpError { error, description, .. })
            if error == "invalid_request"
                && description.as_deref() == Some("Request Object must be used by this client")),
        "{err}"
    );

    // Encrypted JARM responses (authorization_encrypted_response_*), decrypted with the RP key.
    let reg = json!({
        "authorization_signed_response_alg": "PS256",
        "authorization_encrypted_response_alg": "RSA-OAEP-256",
        "authorization_encrypted_response_enc": "A256GCM",
    });
    let rule = JarmRule::from_registration(reg.as_object().unwrap())
        .unwrap()
        .unwrap();
    let keys = DecryptionKeys::new().with_key(enc).unwrap();
    let encrypted = rp_with(
        &op,
        HttpConfig::default(),
        ClientAuth::private_key_jwt(cid(JARM_ENC), key.clone()).unwrap(),
        |b| b.jarm(rule, Some(keys)),
    )
    .await;
    let (url, pending) = encrypted.login_url(&params()).await.unwrap();
    let Callback::Query(cb) = browse(url.as_str(), REDIRECT).await.unwrap() else {
        panic!("query.jwt expected")
    };
    let response = CallbackParams::from_url(&cb).unwrap();
    assert_eq!(response.response().unwrap().split('.').count(), 5, "a JWE");
    let login = encrypted.complete_login(response, &pending).await.unwrap();
    assert_eq!(login.id_token.claims().sub, "alice");
}

/// RFC 9101 §10.5: an OP that requires request objects of every client says so; relier signs
/// them with the RP's key without a registered algorithm, and refuses to send a plain request.
#[tokio::test]
async fn an_op_requiring_signed_request_objects() {
    let key = rp_key(Algorithm::ES256);
    let op = TestOp::start_with(
        OpConfig {
            clients: vec![keyed_client("rp-jar-op", &key, None, json!({}))],
            ..Default::default()
        },
        json!({ "secured_authorization": "require_signed_request_object" }),
    )
    .await
    .unwrap();
    let auth = || ClientAuth::private_key_jwt(cid("rp-jar-op"), key.clone()).unwrap();
    let unsigned = rp(&op, auth()).await;
    assert!(relier::core::request_object::op_requires(
        unsigned.metadata()
    ));
    let err = unsigned.login_url(&params()).await.unwrap_err();
    assert!(matches!(err, relier::Error::RequestObject(_)), "{err}");
    let signer = RequestObjectRule::default()
        .signer(Some(&key), unsigned.metadata())
        .unwrap()
        .expect("the OP requires request objects");
    assert_eq!(signer.alg(), Algorithm::ES256);
    let signed = rp_with(&op, HttpConfig::default(), auth(), |b| {
        b.request_objects(signer)
    })
    .await;
    let login = login_with(&signed, &params()).await;
    assert_eq!(login.id_token.claims().sub, "alice");
}
