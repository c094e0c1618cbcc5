//! Certificate-bound access tokens (RFC 8705 §3) through the gateway, against oidc-provider with
//! its mTLS listener: providers that registered `tls_client_certificate_bound_access_tokens`
//! (one authenticating with its certificate, `tls_client_auth`; one with a client secret, which
//! beside certificate-bound tokens is what authenticates without an `auth_method`) log
//! in at the OP's `mtls_endpoint_aliases`; the session's access token is bound to the
//! certificate (`cnf` `x5t#S256`), UserInfo answers it through the alias (and refuses it
//! without the certificate), and the session's refresh goes through the alias too.
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

use std::sync::Arc;
use std::time::Duration;

use common::Running;
use common::op_login::{check, login, metric, metrics, session_json};
use relier::{HttpClient, HttpConfig, RelyingParty};
use relier_core::{ClientAuth, ClientId, IssuerUrl, Secret, UnixTime};
use relier_store::{MasterKeySource, StoreUrl};
use relier_tests::oidc_provider::{Browser, OpConfig, TestOp};
use reqwest::cookie::{CookieStore, Jar};
use serde_json::{Value, json};
use tokio::net::TcpListener;

const SECRET: &str = "gateway-test-client-secret-0123456789abcdef";

/// A client of the test OP whose tokens are bound to its certificate, `extra` on top.
fn bound_client(base: &str, id: &str, provider: &str, extra: Value) -> Value {
    let mut c = json!({
        "client_id": id,
        "redirect_uris": [format!("{base}/auth/callback/{provider}")],
        "post_logout_redirect_uris": [format!("{base}/auth/logged-out")],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "tls_client_certificate_bound_access_tokens": true,
    });
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

/// The library's relying party as `client_id` with the certificate (`identity`), for the
/// OP's view of a token (introspection through the alias) and UserInfo with or without the
/// certificate.
async fn rp(op: &TestOp, identity: Option<&str>, auth: ClientAuth, bound: bool) -> RelyingParty {
    let http = HttpClient::new(&HttpConfig {
        ca_pem: Some(op.ca.ca_pem.clone().into_bytes()),
        client_identity_pem: identity.map(|p| zeroize::Zeroizing::new(p.as_bytes().to_vec())),
        timeout: None,
    })
    .unwrap();
    let md = relier::discover(&http, &IssuerUrl::new(op.issuer.clone()).unwrap())
        .await
        .unwrap();
    RelyingParty::builder(http, md, auth)
        .certificate_bound_access_tokens(bound)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_bound_sessions_use_the_mtls_aliases_for_tokens_userinfo_and_refresh() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let op = TestOp::start_with(
        OpConfig {
            clients: vec![
                bound_client(
                    &base,
                    "rp-gw-mtls",
                    "mtls",
                    json!({
                        "token_endpoint_auth_method": "tls_client_auth",
                        "tls_client_auth_subject_dn": "CN=rp-gw-mtls",
                    }),
                ),
                bound_client(
                    &base,
                    "rp-gw-cb",
                    "cb",
                    json!({
                        "client_secret": SECRET,
                        "token_endpoint_auth_method": "client_secret_basic",
                    }),
                ),
            ],
            tls: true,
            ..Default::default()
        },
        json!({"certificate_bound_access_tokens": true}),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = op.ca.client_cert("rp-gw-mtls").unwrap();
    let identity = format!("{cert}\n{key}");
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let (cert_file, key_file) = (file("client.pem", &cert), file("client.key", &key));
    let ca_file = file("ca.pem", &op.ca.ca_pem);
    let db = dir.path().join("gateway.db");
    let toml = format!(
        r#"
public_url = "{base}"
metrics = true
store = "sqlite://{db}"

[session]
refresh_before = "3595s"

[[providers]]
name = "mtls"
issuer = "{iss}"
client_id = "rp-gw-mtls"
auth_method = "tls_client_auth"
tls_cert = "{cert_file}"
tls_key = "{key_file}"
ca_file = "{ca_file}"
tls_client_certificate_bound_access_tokens = true
userinfo = "always"

[[providers]]
name = "cb"
issuer = "{iss}"
client_id = "rp-gw-cb"
client_secret = "{SECRET}"
tls_cert = "{cert_file}"
tls_key = "{key_file}"
ca_file = "{ca_file}"
tls_client_certificate_bound_access_tokens = true
userinfo = "always"
"#,
        db = db.display(),
        iss = op.issuer,
    );
    let _gw = Running::start(listener, &toml).await;
    let x5t = HttpClient::new(&HttpConfig {
        ca_pem: None,
        client_identity_pem: Some(zeroize::Zeroizing::new(identity.clone().into_bytes())),
        timeout: None,
    })
    .unwrap()
    .client_certificate_x5t_s256()
    .unwrap()
    .to_owned();
    let (store, _) = relier_store::open(&StoreUrl::sqlite(&db), MasterKeySource::BesideDatabase)
        .await
        .unwrap();
    let introspector = rp(
        &op,
        Some(&identity),
        ClientAuth::tls_client_auth(ClientId::new("rp-gw-mtls").unwrap()),
        true,
    )
    .await;
    let plain = rp(
        &op,
        None,
        ClientAuth::client_secret_basic(ClientId::new("rp-gw-cb").unwrap(), Secret::new(SECRET)),
        false,
    )
    .await;

    for (round, provider) in ["mtls", "cb"].into_iter().enumerate() {
        let (gw, jar) = browser_with_jar();
        let op_browser = Browser::new().unwrap();
        assert_eq!(
            login(&base, &gw, &op_browser, provider).await,
            "/home?x=1",
            "{provider}"
        );
        // UserInfo was asked at login (userinfo = "always") with the bound token, through the
        // alias with the certificate.
        assert_eq!(session_json(&base, &gw).await["email"], "alice@example.com");
        let session = session_record(&*store, &jar, &base).await;
        let at = session.access_token.clone().unwrap();
        let intro = introspector.introspect(&at, None).await.unwrap();
        assert_eq!(
            intro["cnf"]["x5t#S256"],
            x5t.as_str(),
            "{provider}: {intro:?}"
        );
        // Without the certificate the bound token is refused (RFC 8705 §3).
        let err = plain.userinfo(&at, "alice").await.unwrap_err();
        assert!(err.to_string().contains("401"), "{provider}: {err}");

        // Past refresh_before: the refresh goes to the alias with the certificate (the OP
        // refuses a bound client's refresh without one) and the new token is bound too.
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(check(&base, &gw).await.status(), 200);
        let m = metrics(&base).await;
        assert_eq!(
            metric(&m, "relier_token_refreshes_total{outcome=\"success\"}"),
            round as u64 + 1,
            "{provider}: {m}"
        );
        let after = session_record(&*store, &jar, &base).await;
        let refreshed = after.access_token.clone().unwrap();
        assert_ne!(refreshed.expose(), at.expose(), "{provider}");
        let intro = introspector.introspect(&refreshed, None).await.unwrap();
        assert_eq!(
            intro["cnf"]["x5t#S256"],
            x5t.as_str(),
            "{provider}: {intro:?}"
        );
    }
}

/// A browser for the gateway whose cookies the test can read.
fn browser_with_jar() -> (reqwest::Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let gw = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    (gw, jar)
}

/// The stored session of the browser with cookies `jar`.
async fn session_record(
    store: &dyn relier_store::Store,
    jar: &Jar,
    base: &str,
) -> relier_store::SessionRecord {
    let cookies = CookieStore::cookies(jar, &base.parse().unwrap()).unwrap();
    let id = cookies
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("relier_session="))
        .unwrap()
        .to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    store
        .get_session(&Secret::new(id), UnixTime(now))
        .await
        .unwrap()
        .unwrap()
}
