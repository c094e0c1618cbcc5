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

use relier::core::authorize::CallbackParams;
use relier::core::id_token::Expectations;
use relier::core::introspection::TokenTypeHint;
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

/// A fresh RP key whose kid is its RFC 7638 thumbprint, as relier registers it.
fn rp_key(alg: Algorithm) -> SigningKey {
    let key = SigningKey::generate(alg, None).unwrap();
    let kid = key.thumbprint_sha256().unwrap();
    key.with_kid(kid)
}

fn cid(s: &str) -> ClientId {
    ClientId::new(s).unwrap()
}

#[tokio::test]
async fn client_secret_methods_and_public_client() {
    let op = TestOp::start(OpConfig {
        clients: vec![
            client("rp-basic", "client_secret_basic"),
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
            ClientAuth::client_secret_basic(cid("rp-basic"), secret.clone()),
        )
        .await,
        true,
    )
    .await;
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

#[tokio::test]
async fn mutual_tls_methods_use_the_aliases() {
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
    let op = TestOp::start(OpConfig {
        clients: vec![client("rp-basic", "client_secret_basic")],
        ..Default::default()
    })
    .await
    .unwrap();
    let rp = rp_with(
        &op,
        HttpConfig::default(),
        ClientAuth::client_secret_basic(cid("rp-basic"), Secret::new(SECRET)),
        |b| b,
    )
    .await;
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
async fn hs256_id_tokens_signed_userinfo_form_post_and_max_age() {
    let op = TestOp::start(OpConfig {
        clients: vec![
            with(client("rp-hs", "client_secret_basic"), json!({"id_token_signed_response_alg": "HS256"})),
            with(client("rp-signed-ui", "client_secret_basic"), json!({"userinfo_signed_response_alg": "ES256", "id_token_signed_response_alg": "ES256"})),
        ],
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

#[tokio::test]
async fn expected_alg_mismatch_against_real_op() {
    // The OP signs RS256; the RP is configured for ES256: rejected, naming both.
    let op = TestOp::start(OpConfig {
        clients: vec![client("rp-basic", "client_secret_basic")],
        ..Default::default()
    })
    .await
    .unwrap();
    let rp = rp_with(
        &op,
        HttpConfig::default(),
        ClientAuth::client_secret_basic(cid("rp-basic"), Secret::new(SECRET)),
        |b| b.id_token_alg(Algorithm::ES256),
    )
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
