//! Dynamic registration through the library against the misbehaving OP: `contacts` (OIDC DCR
//! §2) reach the OP, and a refused registration's error carries the OP's `error` /
//! `error_description` (JSON, or JSON inside an HTML page), else the status and the start of
//! the body with control characters escaped. Against the test OP (needs node and
//! `npm ci --prefix tests/op`): a registered client logs in.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use relier::core::authorize::CallbackParams;
use relier::core::registration::{ClientMetadata, RegistrationError};
use relier::core::{AuthorizationParams, ClientAuth, IssuerUrl, RedirectUrl};
use relier::{Error, HttpClient, RelyingParty};
use relier_tests::bad_op::{BadOp, Misbehavior};
use relier_tests::oidc_provider::{Callback, OpConfig, TestOp, browse};
use serde_json::json;

async fn register(op: &BadOp, contacts: &[&str]) -> Result<String, Error> {
    let http = HttpClient::new(&Default::default())?;
    let md = relier::discover(&http, &IssuerUrl::new(op.issuer())?).await?;
    let metadata = ClientMetadata {
        redirect_uris: vec!["http://127.0.0.1:1/callback".into()],
        contacts: contacts.iter().map(|c| (*c).to_owned()).collect(),
        ..Default::default()
    };
    let r = relier::registration::register(&http, &md, &metadata, None).await?;
    Ok(r.client_id.as_str().to_owned())
}

#[tokio::test]
async fn contacts_reach_the_op() {
    let op = BadOp::start().await.unwrap();
    register(&op, &["ops@rp.example", "security@rp.example"])
        .await
        .unwrap();
    assert_eq!(
        op.registrations()[0]["contacts"],
        json!(["ops@rp.example", "security@rp.example"])
    );
}

async fn refused(status: u16, content_type: &'static str, body: &str) -> RegistrationError {
    let op = BadOp::start().await.unwrap();
    op.set(Misbehavior {
        registration_answer: Some((status, content_type, body.to_owned())),
        ..Default::default()
    });
    match register(&op, &[]).await {
        Err(Error::Registration(e)) => e,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn json_and_html_wrapped_json_errors_are_the_ops() {
    let json = r#"{"error":"invalid_client_metadata","error_description":"contacts is required"}"#;
    for (content_type, body) in [
        ("application/json", json.to_owned()),
        (
            "text/html",
            format!("<html><body><h1>Error</h1><pre>{json}</pre></body></html>"),
        ),
    ] {
        match refused(400, content_type, &body).await {
            RegistrationError::Refused {
                status,
                error,
                description,
                ..
            } => {
                assert_eq!(status, 400);
                assert_eq!(error, "invalid_client_metadata");
                assert_eq!(description.as_deref(), Some("contacts is required"));
            }
            other => panic!("{content_type}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn plain_text_error_is_status_and_escaped_excerpt() {
    let body = format!("no\u{7}\ttoday\n{}", "z".repeat(250));
    let e = refused(503, "text/plain", &body).await;
    let RegistrationError::Status { status, body, .. } = &e else {
        panic!("{e:?}");
    };
    assert_eq!(*status, 503);
    assert!(body.starts_with(r"no\u{7}\ttoday\nzzz"), "{body}");
    assert!(!body.chars().any(char::is_control), "{body}");
    // 200 characters: 10 before the z's, then 190 z's, then the ellipsis.
    assert_eq!(body.chars().filter(|c| *c == 'z').count(), 190);
    assert!(body.ends_with("z…"), "{body}");
    assert!(
        e.to_string().starts_with("registration: HTTP 503: no"),
        "{e}"
    );
}

/// `oidcc-client-test-dynamic-registration`: the RP registers at the OP's registration
/// endpoint (OIDC Dynamic Client Registration 1.0 §3) and logs in with the client id and secret
/// it was given; the OP knows no client before.
#[tokio::test]
async fn oidcc_client_test_dynamic_registration() {
    const REDIRECT: &str = "http://127.0.0.1:7777/callback";
    let op = TestOp::start(OpConfig {
        registration: Some(None),
        ..Default::default()
    })
    .await
    .unwrap();
    let http = HttpClient::new(&Default::default()).unwrap();
    let md = relier::discover(&http, &IssuerUrl::new(op.issuer.clone()).unwrap())
        .await
        .unwrap();
    let metadata = ClientMetadata {
        redirect_uris: vec![REDIRECT.into()],
        grant_types: vec!["authorization_code".into()],
        response_types: vec!["code".into()],
        token_endpoint_auth_method: Some("client_secret_basic".into()),
        contacts: vec!["ops@rp.example".into()],
        ..Default::default()
    };
    let r = relier::registration::register(&http, &md, &metadata, None)
        .await
        .unwrap();
    let secret = r.client_secret.clone().expect("a confidential client");
    let rp = RelyingParty::builder(
        http,
        md,
        ClientAuth::client_secret_basic(r.client_id.clone(), secret),
    )
    .redirect_uri(RedirectUrl::new(REDIRECT).unwrap())
    .build();
    let (url, pending) = rp.login_url(&AuthorizationParams::default()).await.unwrap();
    let Callback::Query(u) = browse(url.as_str(), REDIRECT).await.unwrap() else {
        panic!("query callback expected")
    };
    let login = rp
        .complete_login(CallbackParams::from_url(&u).unwrap(), &pending)
        .await
        .unwrap();
    assert_eq!(login.id_token.claims().sub, "alice");
    assert_eq!(
        login.id_token.claims().aud,
        vec![r.client_id.as_str().to_owned()]
    );
}
