//! `[upstream] pass_access_token` and `exchange_audience` against the in-process OP: what the
//! upstream (proxy mode) or the front proxy (`/auth/check`) gets in `Authorization`, and that
//! the client's own credentials never pass when the gateway supplies the upstream's.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Response, StatusCode};
use common::bad_env::{Env, Setup, build_with, env_upstream, env_with, logged_in, req};
use common::text;
use relier_core::Secret;
use relier_core::dpop::ath;
use relier_core::dpop::verify::{ProofExpectations, verify_proof};
use relier_core::jose::{Jwk, b64};
use relier_core::types::UnixTime;
use serde_json::{Value, json};

/// The session's access token at the in-process OP.
const AT: &str = "at-from-bad-op";

async fn proxied(e: &mut Env, method: &str, uri: &str, auth: Option<&str>) -> Value {
    let mut b = req(method, uri).header("dpop", "client-proof");
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    let r = e.app.send(b.body(Body::empty()).unwrap()).await;
    assert_eq!(r.status(), StatusCode::OK);
    serde_json::from_str(&text(r).await).unwrap()
}

fn header<'a>(seen: &'a Value, name: &str) -> &'a Value {
    &seen["headers"][name]
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn the_upstream_gets_the_sessions_token_never_the_clients() {
    let mut e = env_upstream("", "pass_access_token = true").await;
    logged_in(&mut e).await;
    let seen = proxied(&mut e, "GET", "/app", Some("Basic Y2xpZW50OnNlY3JldA==")).await;
    assert_eq!(
        header(&seen, "authorization"),
        &json!([format!("Bearer {AT}")])
    );
    assert_eq!(header(&seen, "dpop"), &Value::Null, "{seen}");
    assert_eq!(header(&seen, "x-relier-subject"), &json!(["alice"]));
    // Without a session on a skip_auth path: no token, and still not the client's.
    let mut e = env_upstream("skip_auth = [\"/public\"]", "pass_access_token = true").await;
    let seen = proxied(&mut e, "GET", "/public/x", Some("Bearer client-token")).await;
    assert_eq!(header(&seen, "authorization"), &Value::Null, "{seen}");
}

#[tokio::test]
async fn without_pass_access_token_the_clients_header_passes_as_before() {
    let mut e = env_with("", true).await;
    logged_in(&mut e).await;
    let seen = proxied(&mut e, "GET", "/app", Some("Basic Y2xpZW50OnNlY3JldA==")).await;
    assert_eq!(
        header(&seen, "authorization"),
        &json!(["Basic Y2xpZW50OnNlY3JldA=="])
    );
    assert_eq!(header(&seen, "dpop"), &json!(["client-proof"]));
}

/// A DPoP-bound session token goes as `Authorization: DPoP` (RFC 9449 §7.1) with a fresh proof
/// for the upstream request: its method, the upstream's URL, `ath` of the token, a new `jti`
/// each time, always the session's key.
#[tokio::test]
async fn a_dpop_bound_session_token_goes_with_a_proof_for_the_upstream_request() {
    let setup = Setup {
        upstream: Some("pass_access_token = true"),
        tail: "dpop_bound_access_tokens = true",
        ..Setup::default()
    };
    let mut e = build_with(setup, |b| b, |gw| gw.router()).await;
    logged_in(&mut e).await;
    let mut jkts = Vec::new();
    let mut jtis = Vec::new();
    for method in ["PATCH", "GET"] {
        let seen = proxied(&mut e, method, "/app/items?q=1", None).await;
        assert_eq!(
            header(&seen, "authorization"),
            &json!([format!("DPoP {AT}")])
        );
        let proofs = header(&seen, "dpop").as_array().unwrap();
        assert_eq!(proofs.len(), 1, "the client's proof is gone: {seen}");
        let proof = proofs[0].as_str().unwrap();
        let head: Value =
            serde_json::from_slice(&b64::decode(proof.split('.').next().unwrap()).unwrap())
                .unwrap();
        let jwk: Jwk = serde_json::from_value(head["jwk"].clone()).unwrap();
        let jkt = jwk.thumbprint_sha256().unwrap();
        // The upstream's own URL (the echo upstream's address), without the query.
        let host = header(&seen, "host")[0].as_str().unwrap();
        let htu = format!("http://{host}/app/items");
        let expect = ProofExpectations {
            htm: method,
            htu: &htu,
            access_token: AT,
            jkt: &jkt,
            nonce: None,
            window: 60,
            now: UnixTime(now()),
        };
        let verified = verify_proof(proof, &expect).unwrap();
        let claims: Value =
            serde_json::from_slice(&b64::decode(proof.split('.').nth(1).unwrap()).unwrap())
                .unwrap();
        assert_eq!(claims["ath"], ath(&Secret::new(AT)));
        jkts.push(jkt);
        jtis.push(verified.jti);
    }
    assert_eq!(jkts[0], jkts[1], "the session's key");
    assert_ne!(jtis[0], jtis[1], "a fresh proof per request");
}

async fn forward_auth(e: &mut Env, auth: Option<&str>) -> Response<Body> {
    let mut b = req("GET", "/auth/check")
        .header("x-forwarded-uri", "/app")
        .header("x-forwarded-method", "GET");
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    let mut r = b.body(Body::empty()).unwrap();
    r.extensions_mut()
        .insert(ConnectInfo("127.0.0.1:9".parse::<SocketAddr>().unwrap()));
    e.app.send(r).await
}

/// Forward auth (`[upstream]` without `url`): the 200 answer carries `Authorization` for the
/// front proxy to set on the request it forwards (nginx `auth_request_set`).
#[tokio::test]
async fn forward_auth_answers_with_the_token_for_the_front_proxy() {
    let mut e = env_with("[upstream]\npass_access_token = true\n", false).await;
    let r = forward_auth(&mut e, None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("authorization").is_none());
    logged_in(&mut e).await;
    let r = forward_auth(&mut e, Some("Bearer client-token")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["authorization"],
        format!("Bearer {AT}").as_str()
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    // Off: no token in the answer.
    let mut e = env_with("", false).await;
    logged_in(&mut e).await;
    let r = forward_auth(&mut e, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("authorization").is_none());
}

/// A token exchange the OP does not answer as RFC 8693 §2.2.1 says (no `issued_token_type`):
/// the request is not forwarded with any token — 502, in proxy mode and forward auth alike.
#[tokio::test]
async fn a_failed_token_exchange_forwards_nothing() {
    let setup = Setup {
        upstream: Some("pass_access_token = true"),
        tail: "exchange_audience = \"https://orders.internal\"",
        ..Setup::default()
    };
    let mut e = build_with(setup, |b| b, |gw| gw.router()).await;
    logged_in(&mut e).await;
    let calls = e.op.token_calls();
    let r = e
        .app
        .send(req("GET", "/app").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(e.op.token_calls(), calls + 1, "the exchange was asked for");
    let r = forward_auth(&mut e, None).await;
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    assert!(r.headers().get("authorization").is_none());
    assert_eq!(text(r).await, "{\"error\":\"upstream_token_unavailable\"}");
}

#[tokio::test]
async fn settings_that_cannot_work_are_refused_at_start() {
    // exchange_audience without pass_access_token has no effect: refused.
    let err = common::bad_env::try_build_with(Setup {
        tail: "exchange_audience = \"https://orders.internal\"",
        ..Setup::default()
    })
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("exchange_audience needs [upstream] pass_access_token"),
        "{err}"
    );
    // An audience that is not printable ASCII.
    let err = common::bad_env::try_build_with(Setup {
        extra: "[upstream]\npass_access_token = true\n",
        tail: "exchange_audience = \"two words\"",
        ..Setup::default()
    })
    .await
    .unwrap_err();
    assert!(err.to_string().contains("audience"), "{err}");
    // Proxy-only keys without a url.
    let err = common::bad_env::try_build("[upstream]\npreserve_host = true\n")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("need upstream.url"), "{err}");
}

/// The README's forward-auth nginx block for `pass_access_token`, unchanged but for the
/// addresses: nginx sets the token from `/auth/check`'s answer, the client's own never passes.
#[tokio::test]
async fn nginx_forwards_the_token_of_the_check_answer() {
    let mut e = env_with("[upstream]\npass_access_token = true\n", false).await;
    logged_in(&mut e).await;
    let cookie: Vec<String> = e.app.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let cookie = cookie.join("; ");
    let gateway = common::serve(e.gw.router()).await;
    let (upstream, _task) = common::echo_upstream().await;
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"),
    )
    .unwrap();
    let at = readme.find("$relier_authorization").unwrap();
    let start = readme[..at].rfind("```nginx\n").unwrap() + 9;
    let len = readme[start..].find("```").unwrap();
    let location = readme[start..start + len].replace("http://app", &format!("http://{upstream}"));
    let port = common::nginx::free_port();
    let server = format!(
        "server {{\nlisten 127.0.0.1:{port};\n{location}\nlocation = /_relier_check {{\n\
         internal;\nproxy_pass http://{gateway}/auth/check;\nproxy_pass_request_body off;\n\
         proxy_set_header Content-Length \"\";\nproxy_set_header X-Forwarded-Uri $request_uri;\n\
         proxy_set_header X-Forwarded-Method $request_method;\n}}\n}}\n"
    );
    let (_nginx, front) = common::nginx::start(port, &server).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let send = |cookie: Option<&str>| {
        let mut b = http
            .get(format!("http://{front}/app"))
            .header("authorization", "Bearer client-token")
            .header("dpop", "client-proof");
        if let Some(c) = cookie {
            b = b.header("cookie", c);
        }
        b.send()
    };
    let r = send(None).await.unwrap();
    assert_eq!(r.status(), 401);
    let r = send(Some(&cookie)).await.unwrap();
    assert_eq!(r.status(), 200);
    let seen: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(
        header(&seen, "authorization"),
        &json!([format!("Bearer {AT}")])
    );
    assert_eq!(header(&seen, "dpop"), &Value::Null, "{seen}");
}
