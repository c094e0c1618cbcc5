//! UserInfo with the access token in the header (RFC 6750 §2.1) or the body (§2.2), as the
//! misbehaving OP saw it arrive; never the body for a DPoP-bound token (RFC 9449 §7.1).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use relier::core::userinfo::{TokenMethod, UserInfoError};
use relier::core::{ClientAuth, ClientId, IssuerUrl, Secret};
use relier::{Error, HttpClient, RelyingParty};
use relier_tests::bad_op::{BadOp, CLIENT_ID};

async fn builder(op: &BadOp) -> relier::RelyingPartyBuilder {
    let http = HttpClient::new(&Default::default()).unwrap();
    let md = relier::discover(&http, &IssuerUrl::new(op.issuer()).unwrap())
        .await
        .unwrap();
    let auth =
        ClientAuth::client_secret_basic(ClientId::new(CLIENT_ID).unwrap(), Secret::new("s3cret"));
    RelyingParty::builder(http, md, auth)
}

/// `oidcc-client-test-userinfo-bearer-header`: the access token goes to UserInfo in the
/// `Authorization: Bearer` header (RFC 6750 §2.1), by default, and the claims come back.
#[tokio::test]
async fn oidcc_client_test_userinfo_bearer_header() {
    let op = BadOp::start().await.unwrap();
    let token = Secret::new("at+with/odd=chars");
    let header = builder(&op).await.build();
    let claims = header.userinfo(&token, "alice").await.unwrap();
    assert_eq!(claims["sub"], "alice");

    let seen = op.userinfo_requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some("Bearer at+with/odd=chars")
    );
    assert_eq!(seen[0].body_token, None);
}

/// `oidcc-client-test-userinfo-bearer-body`: with `TokenMethod::Body` the access token goes to
/// UserInfo as the `access_token` of a form-encoded POST body (RFC 6750 §2.2), no header.
#[tokio::test]
async fn oidcc_client_test_userinfo_bearer_body() {
    let op = BadOp::start().await.unwrap();
    let token = Secret::new("at+with/odd=chars");
    let body = builder(&op)
        .await
        .userinfo_token_method(TokenMethod::Body)
        .build();
    let claims = body.userinfo(&token, "alice").await.unwrap();
    assert_eq!(claims["email"], "alice@example.com");

    let seen = op.userinfo_requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].authorization, None);
    assert_eq!(
        seen[0].content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen[0].body_token.as_deref(), Some("at+with/odd=chars"));
}

#[tokio::test]
async fn a_dpop_bound_token_never_goes_in_the_body() {
    let op = BadOp::start().await.unwrap();
    let rp = builder(&op)
        .await
        .userinfo_token_method(TokenMethod::Body)
        .build();
    let rp = rp.with_dpop_key(rp.new_dpop_key().unwrap());
    match rp.userinfo(&Secret::new("at"), "alice").await {
        Err(Error::UserInfo(UserInfoError::BodyWithDpop)) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(op.userinfo_calls(), 0);
}
