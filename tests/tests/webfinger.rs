//! WebFinger issuer discovery (OIDC Discovery 1.0 §2) through the library: a WebFinger server on
//! loopback names the test OP as the issuer. The OP serves https from its TLS listener (the
//! issuer href must be https, loopback or not), trusted through the test CA; a login then runs
//! against the issuer found. An http href — even naming a working loopback OP — is refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use relier::core::authorize::CallbackParams;
use relier::core::discovery::webfinger::WebFingerError;
use relier::core::{AuthorizationParams, ClientAuth, ClientId, IssuerUrl, RedirectUrl, Secret};
use relier::{HttpClient, HttpConfig, RelyingParty};
use relier_tests::oidc_provider::{Browser, Callback, OpConfig, TestOp};
use relier_tests::webfinger::WebFingerServer;
use serde_json::json;

const REDIRECT: &str = "http://127.0.0.1:7777/callback";
const SECRET: &str = "a-client-secret-of-at-least-32-bytes-for-hs256!";

fn clients() -> Vec<serde_json::Value> {
    vec![json!({
        "client_id": "wf",
        "client_secret": SECRET,
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
    })]
}

async fn https_op() -> TestOp {
    let cfg = OpConfig {
        clients: clients(),
        tls: true,
        ..Default::default()
    };
    let op = TestOp::start_with(cfg, json!({"https_issuer": true}))
        .await
        .unwrap();
    assert!(op.issuer.starts_with("https://127.0.0.1:"), "{}", op.issuer);
    op
}

fn trusting(op: &TestOp) -> HttpClient {
    HttpClient::new(&HttpConfig {
        ca_pem: Some(op.ca.ca_pem.clone().into_bytes()),
        ..Default::default()
    })
    .unwrap()
}

/// A login at the issuer WebFinger and discovery found; the ID token is the OP's.
async fn login_at(op: &TestOp, http: HttpClient, md: relier::core::discovery::ProviderMetadata) {
    let auth = ClientAuth::client_secret_basic(ClientId::new("wf").unwrap(), Secret::new(SECRET));
    let rp = RelyingParty::builder(http, md, auth)
        .redirect_uri(RedirectUrl::new(REDIRECT).unwrap())
        .build();
    let (url, pending) = rp.login_url(&AuthorizationParams::default()).await.unwrap();
    let browser = Browser::trusting(Some(&op.ca.ca_pem)).unwrap();
    let Callback::Query(u) = browser.browse(url.as_str(), REDIRECT).await.unwrap() else {
        panic!("query callback expected")
    };
    let login = rp
        .complete_login(CallbackParams::from_url(&u).unwrap(), &pending)
        .await
        .unwrap();
    assert_eq!(login.id_token.claims().iss, op.issuer);
}

/// The resource `resource(host)` (host = the WebFinger server's `127.0.0.1:PORT`) is looked
/// up by WebFinger, the lookup's query must be `resource=<sent(port)>&rel=<issuer rel>`
/// (RFC 7033 §4.1: percent-encoded), the issuer it names is discovered and logged in at.
async fn webfinger_login(resource: impl Fn(&str) -> String, sent: impl Fn(&str) -> String) {
    let op = https_op().await;
    let wf = WebFingerServer::start(&op.issuer).await.unwrap();
    let http = trusting(&op);
    let md = relier::discover_by_webfinger(&http, &resource(&wf.host))
        .await
        .unwrap();
    assert_eq!(md.issuer.as_str(), op.issuer);
    let port = wf.host.rsplit(':').next().unwrap();
    assert_eq!(
        wf.queries(),
        vec![format!(
            "resource={}&rel=http%3A%2F%2Fopenid.net%2Fspecs%2Fconnect%2F1.0%2Fissuer",
            sent(port)
        )]
    );
    login_at(&op, http, md).await;
}

/// `oidcc-client-test-discovery-webfinger-acct`: an `acct:` resource is looked up by
/// WebFinger (OIDC Discovery 1.0 §2, §2.1.1), the issuer it names discovered, and logged in at.
#[tokio::test]
async fn oidcc_client_test_discovery_webfinger_acct() {
    webfinger_login(
        |host| format!("acct:alice@{host}"),
        |port| format!("acct%3Aalice%40127.0.0.1%3A{port}"),
    )
    .await;
}

/// `oidcc-client-test-discovery-webfinger-url`: a URL resource (OIDC Discovery 1.0 §2.1.2,
/// fragment stripped) is looked up by WebFinger, then discovered and logged in at.
#[tokio::test]
async fn oidcc_client_test_discovery_webfinger_url() {
    // (a user@host:port input would be https://, §2.1.2 step 3)
    webfinger_login(
        |host| format!("http://{host}/alice#me"),
        |port| format!("http%3A%2F%2F127.0.0.1%3A{port}%2Falice"),
    )
    .await;
}

#[tokio::test]
async fn http_issuer_href_is_refused_even_on_loopback() {
    // A working OP on loopback http: discovery by its issuer is fine…
    let op = TestOp::start(OpConfig {
        clients: clients(),
        ..Default::default()
    })
    .await
    .unwrap();
    let http = HttpClient::new(&HttpConfig::default()).unwrap();
    let issuer = IssuerUrl::new(op.issuer.clone()).unwrap();
    relier::discover(&http, &issuer).await.unwrap();
    // …but WebFinger may not name it: OIDC Discovery §2 wants an https issuer location.
    let wf = WebFingerServer::start(&op.issuer).await.unwrap();
    let err = relier::discover_by_webfinger(&http, &format!("acct:alice@{}", wf.host))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            relier::Error::WebFinger(WebFingerError::InsecureIssuer { href }) if *href == op.issuer
        ),
        "{err}"
    );
    assert!(err.to_string().contains("must be https"), "{err}");
}
