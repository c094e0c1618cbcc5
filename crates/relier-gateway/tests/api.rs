//! `[[api]]`: the gateway as a resource server on `/auth/check` and in proxy mode — RFC 9068
//! access tokens signed by the (in-process) OP, DPoP proofs (RFC 9449 §7), RFC 6750 answers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Response, StatusCode, header};
use common::bad_env::{Env, PUBLIC, env_with, req, try_build};
use common::text;
use relier_core::Algorithm;
use relier_core::Secret;
use relier_core::dpop::{DpopKey, ProofTarget};
use relier_core::http::Method;
use relier_core::types::UnixTime;
use serde_json::{Value, json};

const AUD: &str = "https://app.example.com/api";

fn api(extra: &str) -> String {
    format!(
        "[[api]]\npath = \"/api/\"\nproviders = [\"bad\"]\naudience = \"{AUD}\"\n\
         scopes = [\"orders:read\"]\n{extra}\n"
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(e: &Env) -> Value {
    json!({
        "iss": e.op.issuer(), "aud": AUD, "sub": "svc", "client_id": "svc",
        "iat": now(), "exp": now() + 300, "scope": "orders:read", "jti": "j",
        "groups": ["ops"]
    })
}

fn token(e: &Env, c: &Value) -> String {
    e.op.sign_jwt(Some("at+jwt"), c, false)
}

/// `/auth/check` for the original URI `uri`, from the trusted (loopback) proxy.
async fn check(e: &mut Env, method: &str, uri: &str, auth: &[(&str, &str)]) -> Response<Body> {
    let mut b = req("GET", "/auth/check")
        .header("x-forwarded-uri", uri)
        .header("x-forwarded-method", method)
        .header(header::COOKIE, "x=1");
    for (k, v) in auth {
        b = b.header(*k, *v);
    }
    let mut r = b.body(Body::empty()).unwrap();
    r.extensions_mut()
        .insert(ConnectInfo("127.0.0.1:9".parse::<SocketAddr>().unwrap()));
    e.app.send(r).await
}

async fn bearer(e: &mut Env, t: &str) -> Response<Body> {
    check(
        e,
        "GET",
        "/api/orders",
        &[("authorization", &format!("Bearer {t}"))],
    )
    .await
}

fn challenge(r: &Response<Body>) -> String {
    r.headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn h<'a>(r: &'a Response<Body>, name: &str) -> &'a str {
    r.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

#[tokio::test]
async fn bearer_jwt_access_token_passes_with_identity_headers() {
    let mut e = env_with(&api(""), false).await;
    let t = token(&e, &claims(&e));
    let r = bearer(&mut e, &t).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", challenge(&r));
    assert_eq!(h(&r, "x-relier-subject"), "svc");
    assert_eq!(h(&r, "x-relier-client-id"), "svc");
    assert_eq!(h(&r, "x-relier-scope"), "orders:read");
    assert_eq!(h(&r, "x-relier-issuer"), e.op.issuer());
    assert_eq!(h(&r, "x-relier-auth"), "bearer");
    // [headers] mappings from the token's claims.
    assert_eq!(h(&r, "x-relier-groups"), "ops");
    // Cached: a second request passes the same way.
    let r = bearer(&mut e, &t).await;
    assert_eq!(r.status(), StatusCode::OK);
    // Outside [[api]] paths the token means nothing.
    let r = check(
        &mut e,
        "GET",
        "/other",
        &[("authorization", &format!("Bearer {t}"))],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&r), "");
}

#[tokio::test]
async fn every_refusal_answers_rfc6750() {
    let mut e = env_with(&api(""), false).await;
    // No token: 401, a challenge without error; never a redirect.
    let r = check(&mut e, "GET", "/api/orders", &[("accept", "text/html")]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&r), "Bearer");
    let invalid = "Bearer error=\"invalid_token\"";
    let base = claims(&e);
    let with = |k: &str, v: Value| {
        let mut c = base.clone();
        c[k] = v;
        c
    };
    let cases = [
        (
            "other audience",
            token(&e, &with("aud", json!("https://other.example.com"))),
        ),
        ("expired", token(&e, &with("exp", json!(now() - 120)))),
        (
            "other issuer",
            token(&e, &with("iss", json!("https://evil.example.com"))),
        ),
        ("ID token (typ)", e.op.sign_jwt(Some("JWT"), &base, false)),
        ("no typ", e.op.sign_jwt(None, &base, false)),
        ("unknown key", e.op.sign_jwt(Some("at+jwt"), &base, true)),
        ("not a JWT", "opaque-token".to_owned()),
    ];
    for (what, t) in cases {
        let r = bearer(&mut e, &t).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(challenge(&r), invalid, "{what}");
        assert_eq!(text(r).await, "{\"error\":\"invalid_token\"}", "{what}");
    }
    // Alg confusion: HS256 keyed with the OP's public key, and alg none.
    let body = reqwest::get(format!("{}/jwks", e.op.issuer()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let jwks: Value = serde_json::from_str(&body).unwrap();
    let public = serde_json::to_vec(&jwks["keys"][0]).unwrap();
    let hs = relier_core::jose::SigningKey::hmac(Algorithm::HS256, &public).unwrap();
    let header = relier_core::jose::jws::Header {
        typ: Some("at+jwt".into()),
        kid: Some("rsa-1".into()),
        ..Default::default()
    };
    let confused = relier_core::jose::jws::sign_compact(
        &header,
        base.to_string().as_bytes(),
        &hs,
        &SystemRandom::new(),
    )
    .unwrap();
    let none = format!(
        "{}.{}.",
        relier_core::jose::b64::encode(br#"{"alg":"none","typ":"at+jwt"}"#),
        relier_core::jose::b64::encode(base.to_string().as_bytes())
    );
    for t in [confused, none] {
        let r = bearer(&mut e, &t).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(challenge(&r), invalid);
    }
    // Missing scope: 403 insufficient_scope naming what is needed.
    let narrow = token(&e, &with("scope", json!("orders:write")));
    let r = bearer(&mut e, &narrow).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        challenge(&r),
        "Bearer error=\"insufficient_scope\", scope=\"orders:read\""
    );
    // Two credentials, or a malformed header: invalid_request.
    let r = check(&mut e, "GET", "/api/x", &[("authorization", "Basic abc")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(challenge(&r), "Bearer error=\"invalid_request\"");
}

fn dpop_proof(key: &DpopKey, method: Method, url: &str, t: &str, iat: u64) -> String {
    key.proof(
        &ProofTarget {
            method,
            url,
            now: UnixTime(iat),
            nonce: None,
            access_token: Some(&Secret::new(t)),
        },
        &SystemRandom::new(),
    )
    .unwrap()
}

#[tokio::test]
async fn dpop_bound_tokens_need_a_fresh_proof_for_the_request() {
    let mut e = env_with(&api(""), false).await;
    let key = DpopKey::generate(Algorithm::ES256).unwrap();
    let mut c = claims(&e);
    c["cnf"] = json!({"jkt": key.thumbprint()});
    let t = token(&e, &c);
    let url = format!("{PUBLIC}/api/orders");
    let auth = format!("DPoP {t}");
    let send = |p: String| {
        let auth = auth.clone();
        async move { (auth, p) }
    };
    let (auth, p) = send(dpop_proof(&key, Method::Get, &url, &t, now())).await;
    let r = check(
        &mut e,
        "GET",
        "/api/orders?x=1",
        &[("authorization", &auth), ("dpop", &p)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", challenge(&r));
    assert_eq!(h(&r, "x-relier-auth"), "dpop");
    // Replay of the same proof.
    let r = check(
        &mut e,
        "GET",
        "/api/orders",
        &[("authorization", &auth), ("dpop", &p)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&r).starts_with("DPoP error=\"invalid_dpop_proof\", algs=\""));
    // htu / htm of another request.
    let other = dpop_proof(&key, Method::Get, &format!("{PUBLIC}/api/other"), &t, now());
    let r = check(
        &mut e,
        "GET",
        "/api/orders",
        &[("authorization", &auth), ("dpop", &other)],
    )
    .await;
    assert!(challenge(&r).starts_with("DPoP error=\"invalid_dpop_proof\""));
    let post = dpop_proof(&key, Method::Post, &url, &t, now());
    let r = check(
        &mut e,
        "GET",
        "/api/orders",
        &[("authorization", &auth), ("dpop", &post)],
    )
    .await;
    assert!(challenge(&r).starts_with("DPoP error=\"invalid_dpop_proof\""));
    // ath of another token, the key of another client.
    let ath = dpop_proof(&key, Method::Get, &url, "another-token", now());
    let r = check(
        &mut e,
        "GET",
        "/api/orders",
        &[("authorization", &auth), ("dpop", &ath)],
    )
    .await;
    assert!(challenge(&r).starts_with("DPoP error=\"invalid_token\""));
    let thief = DpopKey::generate(Algorithm::ES256).unwrap();
    let stolen = dpop_proof(&thief, Method::Get, &url, &t, now());
    let r = check(
        &mut e,
        "GET",
        "/api/orders",
        &[("authorization", &auth), ("dpop", &stolen)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&r).starts_with("DPoP error=\"invalid_token\""));
    // An old proof.
    let old = dpop_proof(&key, Method::Get, &url, &t, now() - 600);
    let r = check(
        &mut e,
        "GET",
        "/api/orders",
        &[("authorization", &auth), ("dpop", &old)],
    )
    .await;
    assert!(challenge(&r).starts_with("DPoP error=\"invalid_dpop_proof\""));
    // No proof.
    let r = check(&mut e, "GET", "/api/orders", &[("authorization", &auth)]).await;
    assert!(challenge(&r).starts_with("DPoP error=\"invalid_dpop_proof\""));
    // The DPoP-bound token as a bearer token.
    let r = bearer(&mut e, &t).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&r), "Bearer error=\"invalid_token\"");
}

#[tokio::test]
async fn dpop_nonce_is_demanded_then_accepted() {
    let mut e = env_with(&api("dpop_nonce = true"), false).await;
    let key = DpopKey::generate(Algorithm::ES256).unwrap();
    let mut c = claims(&e);
    c["cnf"] = json!({"jkt": key.thumbprint()});
    let t = token(&e, &c);
    let url = format!("{PUBLIC}/api/orders");
    let auth = format!("DPoP {t}");
    let p = dpop_proof(&key, Method::Get, &url, &t, now());
    let r = check(
        &mut e,
        "GET",
        "/api/orders",
        &[("authorization", &auth), ("dpop", &p)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&r).starts_with("DPoP error=\"use_dpop_nonce\""));
    let nonce = relier_core::dpop::DpopNonce::new(h(&r, "dpop-nonce")).unwrap();
    let p = key
        .proof(
            &ProofTarget {
                method: Method::Get,
                url: &url,
                now: UnixTime(now()),
                nonce: Some(&nonce),
                access_token: Some(&Secret::new(&t)),
            },
            &SystemRandom::new(),
        )
        .unwrap();
    let r = check(
        &mut e,
        "GET",
        "/api/orders",
        &[("authorization", &auth), ("dpop", &p)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", challenge(&r));
}

#[tokio::test]
async fn proxy_mode_forwards_token_identity_and_sessions_can_be_refused() {
    let mut e = env_with(&api("sessions = false"), true).await;
    let t = token(&e, &claims(&e));
    let r = e
        .app
        .send(
            req("GET", "/api/orders")
                .header("authorization", format!("Bearer {t}"))
                .header("x-relier-subject", "forged")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let seen: Value = serde_json::from_str(&text(r).await).unwrap();
    let hs = &seen["headers"];
    assert_eq!(hs["x-relier-subject"], json!(["svc"]), "{seen}");
    assert_eq!(hs["x-relier-auth"], json!(["bearer"]));
    // The token was the gateway's to consume (issued for its API audience): the upstream gets
    // the identity headers, not the credential.
    assert_eq!(hs["authorization"], Value::Null, "{seen}");
    // No token, a browser navigation: 401 with a challenge, not the login page.
    let r = e
        .app
        .send(
            req("GET", "/api/orders")
                .header("accept", "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&r), "Bearer");
}

#[tokio::test]
async fn unknown_provider_and_bad_prefix_are_refused_at_start() {
    let err = try_build(&format!(
        "[[api]]\npath = \"/api/\"\nproviders = [\"nope\"]\naudience = \"{AUD}\"\n"
    ))
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("unknown provider \"nope\""),
        "{err}"
    );
    let err = try_build(&format!(
        "[[api]]\npath = \"api\"\nproviders = [\"bad\"]\naudience = \"{AUD}\"\n"
    ))
    .await
    .unwrap_err();
    assert!(err.to_string().contains("api.path"), "{err}");
}

#[tokio::test]
async fn a_browser_session_counts_on_api_paths_unless_sessions_is_false() {
    let mut e = env_with(&api(""), false).await;
    common::bad_env::logged_in(&mut e).await;
    let mut r = req("GET", "/auth/check")
        .header("x-forwarded-uri", "/api/orders")
        .body(Body::empty())
        .unwrap();
    r.extensions_mut()
        .insert(ConnectInfo("127.0.0.1:9".parse::<SocketAddr>().unwrap()));
    let r = e.app.send(r).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(h(&r, "x-relier-auth"), "session");
    assert_eq!(h(&r, "x-relier-provider"), "bad");

    let mut e = env_with(&api("sessions = false"), false).await;
    common::bad_env::logged_in(&mut e).await;
    let mut r = req("GET", "/auth/check")
        .header("x-forwarded-uri", "/api/orders")
        .body(Body::empty())
        .unwrap();
    r.extensions_mut()
        .insert(ConnectInfo("127.0.0.1:9".parse::<SocketAddr>().unwrap()));
    let r = e.app.send(r).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&r), "Bearer");
}

/// RFC 9449 §4.3 (9) at `/auth/check`: `htu` is the URI the client used — a trusted proxy's
/// `X-Forwarded-Proto`/`X-Forwarded-Host` with the original path, else `public_url`'s.
#[tokio::test]
async fn dpop_htu_comes_from_a_trusted_proxys_forwarding_headers() {
    let mut e = env_with(&api(""), false).await;
    let key = DpopKey::generate(Algorithm::ES256).unwrap();
    let mut c = claims(&e);
    c["cnf"] = json!({"jkt": key.thumbprint()});
    let t = token(&e, &c);
    let auth = format!("DPoP {t}");
    let app = "https://app.example.com/api/orders";
    let fwd = [
        ("x-forwarded-host", "app.example.com"),
        ("x-forwarded-proto", "https"),
    ];
    let p = dpop_proof(&key, Method::Get, app, &t, now());
    let r = check(
        &mut e,
        "GET",
        "/api/orders",
        &[("authorization", &auth), ("dpop", &p), fwd[0], fwd[1]],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", challenge(&r));
    // The forwarded origin replaces public_url: a proof for public_url does not pass there.
    let public = dpop_proof(
        &key,
        Method::Get,
        &format!("{PUBLIC}/api/orders"),
        &t,
        now(),
    );
    let r = check(
        &mut e,
        "GET",
        "/api/orders",
        &[("authorization", &auth), ("dpop", &public), fwd[0], fwd[1]],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&r).starts_with("DPoP error=\"invalid_dpop_proof\""));
    // Without forwarding headers, public_url's origin.
    let r = check(
        &mut e,
        "GET",
        "/api/orders",
        &[("authorization", &auth), ("dpop", &public)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", challenge(&r));
}

/// In proxy mode the same rule: a client outside `trusted_proxies` cannot name the origin its
/// proof is checked against with its own forwarding headers.
#[tokio::test]
async fn dpop_htu_ignores_an_untrusted_clients_forwarding_headers() {
    let mut e = env_with(&api(""), true).await;
    let key = DpopKey::generate(Algorithm::ES256).unwrap();
    let mut c = claims(&e);
    c["cnf"] = json!({"jkt": key.thumbprint()});
    let t = token(&e, &c);
    let send = |peer: &str, url: &str| {
        let mut r = req("GET", "/api/orders")
            .header("authorization", format!("DPoP {t}"))
            .header("dpop", dpop_proof(&key, Method::Get, url, &t, now()))
            .header("x-forwarded-host", "app.example.com")
            .header("x-forwarded-proto", "https")
            .body(Body::empty())
            .unwrap();
        r.extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        r
    };
    let app = "https://app.example.com/api/orders";
    let r = e.app.send(send("192.0.2.7:5000", app)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&r).starts_with("DPoP error=\"invalid_dpop_proof\""));
    let r = e
        .app
        .send(send("192.0.2.7:5000", &format!("{PUBLIC}/api/orders")))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", challenge(&r));
    let seen: Value = serde_json::from_str(&text(r).await).unwrap();
    assert_eq!(seen["headers"]["x-relier-auth"], json!(["dpop"]));
    // Neither the token nor the proof reaches the upstream.
    assert_eq!(seen["headers"]["authorization"], Value::Null, "{seen}");
    assert_eq!(seen["headers"]["dpop"], Value::Null, "{seen}");
    // From the trusted proxy (loopback), its forwarding headers count.
    let r = e.app.send(send("127.0.0.1:5000", app)).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", challenge(&r));
}
