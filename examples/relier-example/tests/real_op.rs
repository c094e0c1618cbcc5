//! The example application on a real port in front of the real test OP (panva's
//! oidc-provider, `tests/op`) with a private_key_jwt client that authenticates with the store's
//! key (published at the application's `/.well-known/jwks.json`): a provider login links to
//! nobody, then the first-login page creates an account that the next login lands in.
//!
//! Signing out (relier's `POST /auth/logout`, the application's only session) revokes the
//! provider's refresh token.
//!
//! Needs node and `npm ci --prefix tests/op`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use relier_example::App;
use relier_gateway::Config;
use relier_tests::oidc_provider::{Browser, Callback, OpConfig, TestOp};
use serde_json::{Value, json};
use tokio::net::TcpListener;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// "Login with" through the OP: returns where the application sends the browser.
async fn provider_login(base: &str, provider: &str, b: &reqwest::Client, op: &Browser) -> String {
    let r = b
        .get(format!("{base}/auth/login/{provider}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let cb = op
        .browse(&location(&r), &format!("{base}/auth/callback/"))
        .await
        .unwrap();
    let Callback::Query(url) = cb else {
        panic!("query response mode expected")
    };
    let r = b.get(url).send().await.unwrap();
    assert_eq!(r.status(), 302, "{}", r.text().await.unwrap());
    location(&r)
}

/// The body of a GET.
async fn get_text(b: &reqwest::Client, url: &str) -> String {
    b.get(url).send().await.unwrap().text().await.unwrap()
}

async fn get_me(base: &str, b: &reqwest::Client) -> Value {
    serde_json::from_str(&get_text(b, &format!("{base}/me")).await).unwrap()
}

fn hidden_csrf(page: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let end = page[start..].find('"').unwrap();
    page[start..start + end].to_owned()
}

#[tokio::test]
async fn private_key_jwt_with_the_store_key_against_the_real_op() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let op = TestOp::start(OpConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        r#"
public_url = "{base}"
store = "sqlite://{db}"

[[providers]]
name = "op"
display_name = "Test OP"
issuer = "{iss}"
client_id = "example-pkjwt"
use_store_key = true
"#,
        db = dir.path().join("relier.db").display(),
        iss = op.issuer,
    );
    let config = Config::from_toml(&toml).unwrap();
    let app = App::build(config, &dir.path().join("app.db"))
        .await
        .unwrap();
    let router = app.router();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    op.add_client(json!({
        "client_id": "example-pkjwt",
        "redirect_uris": [format!("{base}/auth/callback/op")],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "ES256",
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "post_logout_redirect_uris": [format!("{base}/auth/logged-out")],
    }))
    .await
    .unwrap();

    first_login_then_the_same_account(&base, "op", &op.issuer).await;
    server.abort();
}

/// The story both tests tell: a provider login links to nobody, the first-login page creates
/// an account, and after signing out the next provider login lands in that account.
async fn first_login_then_the_same_account(base: &str, provider: &str, issuer: &str) {
    let b = client();
    let op_browser = Browser::new().unwrap();
    assert_eq!(
        provider_login(base, provider, &b, &op_browser).await,
        "/first-login"
    );
    let page = get_text(&b, &format!("{base}/first-login")).await;
    let t = hidden_csrf(&page);
    let r = b
        .post(format!("{base}/first-login/create"))
        .header("origin", base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs([("username", "alice-at-op"), ("csrf_token", &t)])
                .finish(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let me = get_me(base, &b).await;
    assert_eq!(me["username"], "alice-at-op");
    assert_eq!(
        me["identities"],
        json!([{"provider": provider, "issuer": issuer, "sub": "alice"}])
    );

    // Signed out (here and, as a browser follows relier's redirect, at the OP), the next
    // login lands in the same account.
    let r = b
        .post(format!("{base}/auth/logout"))
        .header("x-csrf-token", me["csrf_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let back = format!("{base}/auth/logged-out");
    let Callback::Query(url) = op_browser.browse(&location(&r), &back).await.unwrap() else {
        panic!("a redirect back from the OP's end_session_endpoint expected")
    };
    assert_eq!(b.get(url).send().await.unwrap().status(), 200);
    assert_eq!(
        b.get(format!("{base}/me")).send().await.unwrap().status(),
        401
    );
    assert_eq!(provider_login(base, provider, &b, &op_browser).await, "/");
    let me = get_me(base, &b).await;
    assert_eq!(me["username"], "alice-at-op");
}

/// The `relier` binary (`cargo build -p relier-cli`, which `./scripts/test` runs first).
fn relier_bin() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        std::path::PathBuf::from,
    );
    let bin = target.join("debug/relier");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p relier-cli` first (./scripts/test does)",
        bin.display()
    );
    bin
}

#[tokio::test]
async fn a_registry_provider_with_private_key_jwt_against_the_real_op() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let op = TestOp::start(OpConfig {
        registration: Some(None),
        ..OpConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("relier.db").display());
    // Dynamic registration (RFC 7591) with the CLI: private_key_jwt, the store's key published
    // at the application's jwks_uri.
    let out = tokio::process::Command::new(relier_bin())
        .env("RELIER_STORE", &store)
        .args(["providers", "register", "reg", "--issuer", &op.issuer])
        .args(["--redirect-uri", &format!("{base}/auth/callback/reg")])
        .args(["--auth-method", "private_key_jwt", "--jwks", "uri"])
        .args(["--jwks-uri", &format!("{base}/.well-known/jwks.json")])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let toml =
        format!("public_url = \"{base}\"\nstore = \"{store}\"\n[[providers]]\nname = \"reg\"\n");
    let app = App::build(
        Config::from_toml(&toml).unwrap(),
        &dir.path().join("app.db"),
    )
    .await
    .unwrap();
    let router = app.router();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    first_login_then_the_same_account(&base, "reg", &op.issuer).await;
    server.abort();
}

/// The OP's introspection of `token`, asked by a confidential client of its own (which may
/// introspect any token at the test OP).
async fn introspect(op: &TestOp, token: &str) -> Value {
    let http = client();
    let md: Value = serde_json::from_str(&get_text(&http, &op.discovery_url()).await).unwrap();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token)
        .finish();
    let r = http
        .post(md["introspection_endpoint"].as_str().unwrap())
        .basic_auth("introspector", Some("introspector-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn logout_revokes_the_providers_refresh_token() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let op = TestOp::start(OpConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store_url = relier_store::StoreUrl::sqlite(dir.path().join("relier.db"));
    let toml = format!(
        r#"
public_url = "{base}"
store = "{store_url}"

[[providers]]
name = "op"
issuer = "{iss}"
client_id = "example-rt"
client_secret = "example-rt-secret-0123456789"
"#,
        iss = op.issuer,
    );
    for (id, secret, redirect) in [
        (
            "example-rt",
            "example-rt-secret-0123456789",
            format!("{base}/auth/callback/op"),
        ),
        (
            "introspector",
            "introspector-secret",
            "https://introspector.invalid/cb".into(),
        ),
    ] {
        op.add_client(json!({
            "client_id": id,
            "client_secret": secret,
            "redirect_uris": [redirect],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }))
        .await
        .unwrap();
    }
    let app = App::build(
        Config::from_toml(&toml).unwrap(),
        &dir.path().join("app.db"),
    )
    .await
    .unwrap();
    let router = app.router();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let b = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let op_browser = Browser::new().unwrap();
    assert_eq!(
        provider_login(&base, "op", &b, &op_browser).await,
        "/first-login"
    );
    let t = hidden_csrf(&get_text(&b, &format!("{base}/first-login")).await);
    let r = b
        .post(format!("{base}/first-login/create"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=rita&csrf_token={t}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    // The refresh token relier keeps in its session, live at the OP.
    let cookies = reqwest::cookie::CookieStore::cookies(&*jar, &base.parse().unwrap()).unwrap();
    let sid = cookies
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("relier_session="))
        .unwrap()
        .to_owned();
    let (store, _) = relier_store::open(&store_url, relier_store::MasterKeySource::BesideDatabase)
        .await
        .unwrap();
    let now = relier_store::UnixTime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    );
    let rec = store
        .get_session(&relier_core::Secret::new(sid.clone()), now)
        .await
        .unwrap()
        .unwrap();
    let rt = rec.refresh_token.unwrap().expose().to_owned();
    assert_eq!(introspect(&op, &rt).await["active"], true);

    let me = get_me(&base, &b).await;
    let r = b
        .post(format!("{base}/auth/logout"))
        .header("x-csrf-token", me["csrf_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        store
            .get_session(&relier_core::Secret::new(sid), now)
            .await
            .unwrap()
            .is_none()
    );
    // Revoked in the background: wait for it, within a bound.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while introspect(&op, &rt).await["active"] == true {
        assert!(
            std::time::Instant::now() < deadline,
            "the refresh token was not revoked"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    server.abort();
}
