//! `cookie_domain`: one login for every host under a domain — the `__Secure-relier` cookie with
//! `Domain=`, `return_to` on any https host under the domain and nowhere else (look-alikes,
//! userinfo and backslash tricks refused), forward auth from another host, and logout from a
//! sibling host.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::bad_env::{Env, Setup, build_with, op_callback, try_build, try_build_with};
use common::{loc, text};

const AUTH: &str = "https://auth.example.com";

async fn env() -> Env {
    let setup = Setup {
        extra: "cookie_domain = \"example.com\"",
        upstream: Some(""),
        public_url: Some(AUTH),
        ..Setup::default()
    };
    build_with(setup, |b| b, |gw| gw.router()).await
}

/// A full login that returns to `return_to`; the callback's response.
async fn login(e: &mut Env, return_to: &str) -> axum::http::Response<Body> {
    let q = common::form(&[("return_to", return_to)]);
    let r = e.app.get(&format!("/auth/login/bad?{q}")).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let cb = op_callback(&loc(&r)).await;
    assert!(
        cb.as_str()
            .starts_with(&format!("{AUTH}/auth/callback/bad?")),
        "{cb}"
    );
    e.app
        .get(&format!("{}?{}", cb.path(), cb.query().unwrap()))
        .await
}

#[tokio::test]
async fn needs_an_https_public_url_and_a_covering_domain() {
    let err = try_build("cookie_domain = \"example.com\"")
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("needs an https public_url"),
        "{err}"
    );
    let setup = Setup {
        extra: "cookie_domain = \"example.org\"",
        public_url: Some(AUTH),
        ..Setup::default()
    };
    let err = try_build_with(setup).await.err().unwrap();
    assert!(
        err.to_string().contains("does not cover public_url's host"),
        "{err}"
    );
}

#[tokio::test]
async fn one_login_serves_every_host_under_the_domain() {
    let mut e = env().await;
    let r = login(&mut e, "https://grafana.example.com/d/1?x=2").await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    assert_eq!(loc(&r), "https://grafana.example.com/d/1?x=2");
    let set: Vec<_> = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = set
        .iter()
        .find(|c| c.starts_with("__Secure-relier="))
        .unwrap_or_else(|| panic!("{set:?}"));
    assert!(session.contains("; Domain=example.com"), "{session}");
    assert!(session.contains("; Secure"), "{session}");
    assert!(
        !set.iter().any(|c| c.starts_with("__Host-relier=")),
        "{set:?}"
    );
    // The binding cookie stays host-only.
    assert!(
        set.iter()
            .filter(|c| c.contains("-login-"))
            .all(|c| !c.contains("Domain=")),
        "{set:?}"
    );
    // The same cookie opens the application on another host (proxy mode, by Host).
    let r = e
        .app
        .send(
            Request::get("/wiki/page")
                .header(header::HOST, "wiki.example.com")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", text(r).await);
}

#[tokio::test]
async fn return_to_leaves_the_domain_never() {
    let mut e = env().await;
    for evil in [
        "https://example.com.evil.test/",
        "https://evilexample.com/",
        "https://example.com@evil.test/",
        "https://grafana.example.com:x@evil.test/",
        "https://evil.test\\@grafana.example.com/",
        "https:\\\\evil.test",
        "http://grafana.example.com/",
        "//grafana.example.com/",
        "https://grafana.example.com:8443/",
    ] {
        let q = common::form(&[("return_to", evil)]);
        let html = text(e.app.get(&format!("/auth/login?{q}")).await).await;
        assert!(html.contains("return_to=%2F\""), "{evil}: {html}");
    }
    let q = common::form(&[("return_to", "https://wiki.example.com/a")]);
    let html = text(e.app.get(&format!("/auth/login?{q}")).await).await;
    assert!(
        html.contains("return_to=https%3A%2F%2Fwiki.example.com%2Fa\""),
        "{html}"
    );
}

#[tokio::test]
async fn forward_auth_from_another_host_returns_there() {
    let e = env().await;
    let addr = common::serve(e.gw.router()).await;
    let c = common::browser();
    let check = |host: &'static str| {
        c.get(format!("http://{addr}/auth/check?redirect=1"))
            .header("accept", "text/html")
            .header("x-forwarded-uri", "/dash?a=1")
            .header("x-forwarded-host", host)
            .send()
    };
    let r = check("grafana.example.com").await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(
        common::location(r.headers()),
        format!("{AUTH}/auth/login?return_to=https%3A%2F%2Fgrafana.example.com%2Fdash%3Fa%3D1")
    );
    // A host outside the domain gets the path on the gateway's own host.
    let local = format!("{AUTH}/auth/login?return_to=%2Fdash%3Fa%3D1");
    let r = check("evilexample.com").await.unwrap();
    assert_eq!(common::location(r.headers()), local);
    // Two X-Forwarded-Host values, or a proto of http: no reading is believed (the same rule as
    // the DPoP htu), so the login returns to the path on the gateway's own host.
    let twice = c
        .get(format!("http://{addr}/auth/check?redirect=1"))
        .header("accept", "text/html")
        .header("x-forwarded-uri", "/dash?a=1")
        .header("x-forwarded-host", "grafana.example.com")
        .header("x-forwarded-host", "wiki.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(common::location(twice.headers()), local);
    let http = c
        .get(format!("http://{addr}/auth/check?redirect=1"))
        .header("accept", "text/html")
        .header("x-forwarded-uri", "/dash?a=1")
        .header("x-forwarded-host", "grafana.example.com")
        .header("x-forwarded-proto", "http")
        .send()
        .await
        .unwrap();
    assert_eq!(common::location(http.headers()), local);
}

#[tokio::test]
async fn logout_from_a_sibling_host_clears_the_domain_cookie() {
    let mut e = env().await;
    let r = login(&mut e, "/").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let post = |origin: &str| {
        Request::post("/auth/logout")
            .header(header::ORIGIN, origin)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::empty())
            .unwrap()
    };
    let r = e.app.send(post("https://evilexample.com")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = e.app.send(post("https://wiki.example.com")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", text(r).await);
    let cleared = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Secure-relier="))
        .unwrap();
    assert!(
        cleared.contains("Max-Age=0") && cleared.contains("Domain=example.com"),
        "{cleared}"
    );
}
