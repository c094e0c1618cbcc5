//! DPoP against a misbehaving OP (RFC 9449): a nonce demanded again and again is answered once
//! and then refused, a demand without a nonce is not retried, a `Bearer` token after a proof is refused before anything else is called,
//! and a UserInfo nonce demand is honoured exactly once; an OP that never asks for a nonce gets
//! proofs without one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use relier::core::authorize::CallbackParams;
use relier::core::dpop::{self, DpopKey};
use relier::core::{
    Algorithm, AuthorizationParams, ClientAuth, ClientId, IssuerUrl, RedirectUrl, Secret,
};
use relier::{Error, HttpClient, RelyingParty};
use relier_tests::bad_op::{BadOp, CLIENT_ID, Dpop, Misbehavior, USERINFO_NONCE};
use serde_json::{Map, Value};

const REDIRECT: &str = "http://127.0.0.1:1/callback";

async fn start(m: Dpop) -> (BadOp, RelyingParty) {
    start_with(Some(m)).await
}

/// The OP misbehaving as `m` (None: a well-behaved DPoP OP), a DPoP RP.
async fn start_with(m: Option<Dpop>) -> (BadOp, RelyingParty) {
    let op = BadOp::start().await.unwrap();
    op.set(Misbehavior {
        dpop: m,
        ..Default::default()
    });
    let http = HttpClient::new(&Default::default()).unwrap();
    let md = relier::discover(&http, &IssuerUrl::new(op.issuer()).unwrap())
        .await
        .unwrap();
    let auth =
        ClientAuth::client_secret_basic(ClientId::new(CLIENT_ID).unwrap(), Secret::new("s3cret"));
    let rp = RelyingParty::builder(http, md, auth)
        .redirect_uri(RedirectUrl::new(REDIRECT).unwrap())
        .dpop(DpopKey::generate(Algorithm::ES256).unwrap())
        .build();
    (op, rp)
}

/// Authorization request (with `dpop_jkt`) → the OP's redirect → token → UserInfo.
async fn login(rp: &RelyingParty) -> Result<Map<String, Value>, Error> {
    let (url, pending) = rp.login_url(&AuthorizationParams::default()).await?;
    let jkt = rp.dpop_key().unwrap().thumbprint();
    assert!(url.query_pairs().any(|(k, v)| k == "dpop_jkt" && v == jkt));
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = browser.get(url.as_str()).send().await.unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let callback = CallbackParams::from_url(&url::Url::parse(&location).unwrap())?;
    let done = rp.complete_login(callback, &pending).await?;
    rp.userinfo(&done.tokens.access_token, &done.id_token.claims().sub)
        .await
}

#[tokio::test]
async fn a_nonce_loop_stops_after_one_retry() {
    let (op, rp) = start(Dpop::NonceLoop).await;
    let err = login(&rp).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Dpop(dpop::DpopError::NonceLoop {
                endpoint: "token_endpoint"
            })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("again after the retry"), "{err}");
    assert_eq!(op.token_calls(), 2, "exactly one retry");
    assert_eq!(op.userinfo_calls(), 0);
    let proofs = op.dpop_proofs();
    assert_eq!(proofs.len(), 2);
    assert!(proofs[0].claims.get("nonce").is_none());
    // RFC 9449 §8: the retry carries the nonce the server sent.
    assert_eq!(proofs[1].claims["nonce"], "loop-nonce-0");
    assert_ne!(proofs[0].claims["jti"], proofs[1].claims["jti"]);
}

#[tokio::test]
async fn a_nonce_demand_without_a_nonce_is_not_retried() {
    let (op, rp) = start(Dpop::NonceDemandWithoutNonce).await;
    let err = login(&rp).await.unwrap_err();
    assert!(
        matches!(err, Error::Dpop(dpop::DpopError::NonceMissing { .. })),
        "{err}"
    );
    assert_eq!(op.token_calls(), 1);
    assert_eq!(op.userinfo_calls(), 0);
}

#[tokio::test]
async fn a_bearer_token_after_a_proof_is_refused() {
    let (op, rp) = start(Dpop::BearerTokenType).await;
    let err = login(&rp).await.unwrap_err();
    assert!(
        matches!(&err, Error::Dpop(dpop::DpopError::NotDpopBound { got }) if got == "Bearer"),
        "{err}"
    );
    assert_eq!(op.token_calls(), 1);
    assert_eq!(
        op.userinfo_calls(),
        0,
        "an unbound token is never presented"
    );
    let proofs = op.dpop_proofs();
    assert_eq!(proofs.len(), 1);
    assert_eq!(proofs[0].claims["htm"], "POST");
    assert_eq!(proofs[0].claims["htu"], format!("{}/token", op.issuer()));
}

#[tokio::test]
async fn a_userinfo_nonce_demand_is_honoured_once() {
    let (op, rp) = start(Dpop::UserInfoNonceOnce).await;
    let info = login(&rp).await.unwrap();
    assert_eq!(info["sub"], "alice");
    assert_eq!(op.userinfo_calls(), 2, "one demand, one retry");
    let proofs: Vec<_> = op
        .dpop_proofs()
        .into_iter()
        .filter(|p| p.endpoint == "userinfo")
        .collect();
    assert_eq!(proofs.len(), 2);
    let at = Secret::new("at-from-bad-op");
    for p in &proofs {
        // RFC 9449 §7.1: the DPoP scheme, and a proof with ath for this token.
        assert_eq!(p.authorization.as_deref(), Some("DPoP at-from-bad-op"));
        assert_eq!(p.claims["htm"], "GET");
        assert_eq!(p.claims["htu"], format!("{}/userinfo", op.issuer()));
        assert_eq!(p.claims["ath"], dpop::ath(&at));
    }
    assert!(proofs[0].claims.get("nonce").is_none());
    assert_eq!(proofs[1].claims["nonce"], USERINFO_NONCE);
    // The nonce is remembered: the next call sends it at once.
    rp.userinfo(&at, "alice").await.unwrap();
    assert_eq!(op.userinfo_calls(), 3);
}

/// `fapi2-security-profile-final-client-test-happy-path-no-dpop-nonce`: an OP that never asks
/// for a DPoP nonce (RFC 9449 §8 is optional): one proof without a nonce at the token endpoint,
/// one at UserInfo with the token as `Authorization: DPoP` (§7.1), no retry, and the login
/// completes.
#[tokio::test]
async fn fapi2_security_profile_final_client_test_happy_path_no_dpop_nonce() {
    let (op, rp) = start_with(None).await;
    let info = login(&rp).await.unwrap();
    assert_eq!(info["sub"], "alice");
    assert_eq!(op.token_calls(), 1);
    let proofs = op.dpop_proofs();
    let endpoints: Vec<_> = proofs.iter().map(|p| p.endpoint).collect();
    assert_eq!(endpoints, ["token", "userinfo"]);
    for p in &proofs {
        assert!(p.claims.get("nonce").is_none(), "{:?}", p.claims);
    }
    assert_eq!(
        proofs[1].authorization.as_deref(),
        Some("DPoP at-from-bad-op")
    );
}
