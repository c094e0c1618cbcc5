//! Sender-constrained tokens against oidc-provider: DPoP (RFC 9449) with nonces required at the
//! token endpoint and at UserInfo, through PAR, code exchange, refresh, UserInfo and
//! revocation; certificate-bound tokens (RFC 8705 §3) through the mTLS aliases.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use relier::core::authorize::CallbackParams;
use relier::core::dpop::DpopKey;
use relier::core::introspection::TokenTypeHint;
use relier::core::{AuthorizationParams, ClientAuth, ClientId, IssuerUrl, RedirectUrl, Secret};
use relier::{HttpClient, HttpConfig, Login, RelyingParty, RelyingPartyBuilder};
use relier_tests::oidc_provider::{Callback, OpConfig, TestOp, browse};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:7777/callback";
const SECRET: &str = "a-client-secret-of-at-least-32-bytes-for-hs256!";

fn client(id: &str, extra: Value) -> Value {
    let mut c = json!({
        "client_id": id,
        "client_secret": SECRET,
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
    });
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn basic(id: &str) -> ClientAuth {
    ClientAuth::client_secret_basic(ClientId::new(id).unwrap(), Secret::new(SECRET))
}

async fn rp(
    op: &TestOp,
    http: &HttpConfig,
    auth: ClientAuth,
    tweak: impl FnOnce(RelyingPartyBuilder) -> RelyingPartyBuilder,
) -> RelyingParty {
    let http = HttpClient::new(http).unwrap();
    let md = relier::discover(&http, &IssuerUrl::new(op.issuer.clone()).unwrap())
        .await
        .unwrap();
    tweak(RelyingParty::builder(http, md, auth).redirect_uri(RedirectUrl::new(REDIRECT).unwrap()))
        .build()
}

async fn login(rp: &RelyingParty) -> Login {
    let params = AuthorizationParams {
        scopes: vec!["openid email offline_access".into()],
        prompt: Some("consent".into()),
        ..Default::default()
    };
    let (url, pending) = rp.login_url(&params).await.unwrap();
    let Callback::Query(u) = browse(url.as_str(), REDIRECT).await.unwrap() else {
        panic!("query callback expected")
    };
    rp.complete_login(CallbackParams::from_url(&u).unwrap(), &pending)
        .await
        .unwrap()
}

/// Code (pushed or not), UserInfo, introspection of the binding, refresh, revocation.
async fn bound_flow(rp: &RelyingParty, cnf_member: &str, cnf_value: &str) {
    let login = login(rp).await;
    let sub = login.id_token.claims().sub.clone();
    let info = rp.userinfo(&login.tokens.access_token, &sub).await.unwrap();
    assert_eq!(info["email"], "alice@example.com");
    let intro = rp
        .introspect(&login.tokens.access_token, Some(TokenTypeHint::AccessToken))
        .await
        .unwrap();
    assert_eq!(intro["active"], true);
    assert_eq!(intro["cnf"][cnf_member], cnf_value, "{intro:?}");
    let rt = login.tokens.refresh_token.clone().expect("refresh token");
    let (refreshed, id) = rp
        .refresh(&rt, Some(login.id_token.claims()))
        .await
        .unwrap();
    assert_eq!(id.unwrap().claims().sub, "alice");
    let info = rp.userinfo(&refreshed.access_token, &sub).await.unwrap();
    assert_eq!(info["sub"], "alice");
    let rt2 = refreshed.refresh_token.clone().unwrap_or(rt);
    rp.revoke(&rt2, Some(TokenTypeHint::RefreshToken))
        .await
        .unwrap();
    let err = rp.refresh(&rt2, None).await.unwrap_err();
    assert!(err.to_string().contains("invalid_grant"), "{err}");
}

#[tokio::test]
async fn dpop_with_required_nonces() {
    let op = TestOp::start_with(
        OpConfig {
            clients: vec![client("rp-dpop", json!({"dpop_bound_access_tokens": true}))],
            ..Default::default()
        },
        json!({"dpop": {"require_nonce": true}}),
    )
    .await
    .unwrap();
    let http = HttpConfig::default();
    let plain = rp(&op, &http, basic("rp-dpop"), |b| b).await;
    let key = plain.new_dpop_key().unwrap();
    let jkt = key.thumbprint().to_owned();
    let bound = rp(&op, &http, basic("rp-dpop"), |b| b.dpop(key.clone())).await;
    assert_eq!(bound.dpop_key().unwrap().thumbprint(), jkt);
    bound_flow(&bound, "jkt", &jkt).await;
    // Pushed (RFC 9449 §10.1: the PAR request carries a proof too), with another login's key.
    let pushed = bound
        .with_dpop_key(DpopKey::generate(relier::core::Algorithm::EdDSA).unwrap())
        .with_pushed_authorization_requests(true);
    let done = login(&pushed).await;
    assert!(done.tokens.token_type.eq_ignore_ascii_case("DPoP"));
    // The token is bound: without the key it is refused, with another key too.
    let err = plain
        .userinfo(&done.tokens.access_token, "alice")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let err = bound
        .userinfo(&done.tokens.access_token, "alice")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    assert!(
        pushed
            .userinfo(&done.tokens.access_token, "alice")
            .await
            .is_ok()
    );
    // A client registered with DPoP cannot get tokens without a proof.
    let (url, pending) = plain
        .login_url(&AuthorizationParams::default())
        .await
        .unwrap();
    let Callback::Query(u) = browse(url.as_str(), REDIRECT).await.unwrap() else {
        panic!()
    };
    assert!(
        plain
            .complete_login(CallbackParams::from_url(&u).unwrap(), &pending)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn certificate_bound_tokens_use_the_aliases() {
    let op = TestOp::start_with(
        OpConfig {
            clients: vec![client(
                "rp-cb",
                json!({"tls_client_certificate_bound_access_tokens": true}),
            )],
            tls: true,
            ..Default::default()
        },
        json!({"certificate_bound_access_tokens": true}),
    )
    .await
    .unwrap();
    let (cert, key) = op.ca.client_cert("rp-cb").unwrap();
    let http = HttpConfig {
        ca_pem: Some(op.ca.ca_pem.clone().into_bytes()),
        client_identity_pem: Some(zeroize::Zeroizing::new(
            format!("{cert}\n{key}").into_bytes(),
        )),
        timeout: None,
    };
    let x5t = HttpClient::new(&http)
        .unwrap()
        .client_certificate_x5t_s256()
        .unwrap()
        .to_owned();
    let bound = rp(&op, &http, basic("rp-cb"), |b| {
        b.certificate_bound_access_tokens(true)
    })
    .await;
    bound_flow(&bound, "x5t#S256", &x5t).await;
    // Presented without the certificate (plain endpoint), the bound token is refused.
    let done = login(&bound).await;
    let plain = rp(&op, &http, basic("rp-cb"), |b| b).await;
    let err = plain
        .userinfo(&done.tokens.access_token, "alice")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
}
