//! Aggregated and distributed claims (OIDC Core §5.6.2) through the gateway: the misbehaving OP
//! puts `_claim_names` / `_claim_sources` in its ID tokens, a second issuer
//! (`relier_tests::standins::claims`) signs the aggregated JWTs and serves the distributed
//! endpoint. A source that fails verification, the SSRF guard, the size cap or the timeout is
//! dropped; the login goes on without it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::bad_env::{Env, build_with_tail, login};
use common::text;
use relier_tests::bad_op::Misbehavior;
use relier_tests::standins::claims::{ACCESS_TOKEN, Answer, ClaimsProvider};
use serde_json::{Value, json};

/// The gateway with `resolve_claims = true`, its OP's ID tokens carrying `names` and
/// `sources` as `_claim_names` and `_claim_sources`.
async fn env(tail: &str, names: Value, sources: Value) -> Env {
    let e = build_with_tail(tail).await;
    e.op.set(Misbehavior {
        claims: vec![
            ("_claim_names".into(), Some(names)),
            ("_claim_sources".into(), Some(sources)),
        ],
        ..Default::default()
    });
    e
}

async fn resolving(names: Value, sources: Value) -> Env {
    env("resolve_claims = true", names, sources).await
}

/// Logs in (which must succeed) and returns the session's claims.
async fn claims_after_login(e: &mut Env) -> Value {
    let r = login(e, "/app").await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    let r = e.app.get("/auth/session").await;
    assert_eq!(r.status(), StatusCode::OK);
    let s: Value = serde_json::from_str(&text(r).await).unwrap();
    s["claims"].clone()
}

fn distributed(endpoint: &str) -> Value {
    json!({"src": {"endpoint": endpoint, "access_token": ACCESS_TOKEN}})
}

#[tokio::test]
async fn oidcc_client_test_aggregated_claims() {
    let cp = ClaimsProvider::start().await.unwrap();
    let jwt = cp.jwt(&json!({"groups": ["auditors"], "shipping_address": {"country": "NL"}}));
    let mut e = resolving(
        json!({"groups": "src1", "shipping_address": "src1"}),
        json!({"src1": {"JWT": jwt}}),
    )
    .await;
    let c = claims_after_login(&mut e).await;
    assert_eq!(c["groups"], json!(["auditors"]));
    assert_eq!(c["shipping_address"]["country"], "NL");
    assert!(c.get("_claim_names").is_none(), "{c}");
    assert!(c.get("_claim_sources").is_none(), "{c}");
    // The merged claims are the identity's: [headers] maps groups.
    let r = e.app.get("/auth/check").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-relier-groups"], "auditors");
}

/// A wrong signature, an unsigned JWT and an alg the issuer does not publish: each source is
/// dropped, the login goes on, the claim is not there.
#[tokio::test]
async fn oidcc_client_test_aggregated_claims_unverified_are_dropped() {
    let cp = ClaimsProvider::start().await.unwrap();
    let claims = json!({"groups": ["admins"]});
    for (jwt, published) in [
        (cp.jwt_with_another_key(&claims), "ES256"),
        (cp.unsigned_jwt(&claims), "none"),
        // Signed ES256, the issuer publishing only RS256.
        (cp.jwt(&claims), "RS256"),
    ] {
        cp.publish_algs(&[published]);
        let mut e = resolving(json!({"groups": "src1"}), json!({"src1": {"JWT": jwt}})).await;
        let c = claims_after_login(&mut e).await;
        assert!(c.get("groups").is_none(), "{c}");
        // Unresolved: still named, its source gone.
        assert_eq!(c["_claim_names"]["groups"], "src1");
        assert!(c.get("_claim_sources").is_none(), "{c}");
    }
}

/// Unless `resolve_claims` is on, nothing is fetched or merged.
#[tokio::test]
async fn aggregated_and_distributed_claims_are_off_by_default() {
    let cp = ClaimsProvider::start().await.unwrap();
    cp.answer(Answer::Json(json!({"payment_info": "Visa"})));
    let jwt = cp.jwt(&json!({"groups": ["admins"]}));
    let mut sources = distributed(&cp.endpoint());
    sources["src1"] = json!({"JWT": jwt});
    let mut e = env(
        "",
        json!({"groups": "src1", "payment_info": "src"}),
        sources,
    )
    .await;
    let c = claims_after_login(&mut e).await;
    assert!(c.get("groups").is_none(), "{c}");
    assert!(c.get("payment_info").is_none(), "{c}");
    assert!(cp.seen().is_empty());
}

#[tokio::test]
async fn oidcc_client_test_distributed_claims() {
    let cp = ClaimsProvider::start().await.unwrap();
    cp.answer(Answer::Json(
        json!({"payment_info": "Visa", "groups": ["x"]}),
    ));
    let mut e = resolving(json!({"payment_info": "src"}), distributed(&cp.endpoint())).await;
    let c = claims_after_login(&mut e).await;
    assert_eq!(c["payment_info"], "Visa");
    // Only the claims `_claim_names` maps to the source.
    assert!(c.get("groups").is_none(), "{c}");
    assert_eq!(
        cp.seen(),
        [Some(format!("Bearer {ACCESS_TOKEN}"))],
        "the source's own access token, as a Bearer token"
    );
    // A signed JWT answer is verified as an aggregated one.
    cp.answer(Answer::Jwt(json!({"payment_info": "Amex"})));
    let mut e = resolving(json!({"payment_info": "src"}), distributed(&cp.endpoint())).await;
    assert_eq!(claims_after_login(&mut e).await["payment_info"], "Amex");
    // …and dropped when its alg is not published.
    cp.publish_algs(&["PS256"]);
    let mut e = resolving(json!({"payment_info": "src"}), distributed(&cp.endpoint())).await;
    assert!(
        claims_after_login(&mut e)
            .await
            .get("payment_info")
            .is_none()
    );
}

/// The SSRF guard: private, link-local and non-loopback http endpoints are never fetched
/// (the OP's issuer is on loopback, so only loopback is let in besides public https).
#[tokio::test]
async fn oidcc_client_test_distributed_claims_ssrf_guard() {
    for endpoint in [
        "https://10.0.0.1/claims",
        "https://192.168.0.1/claims",
        "https://169.254.169.254/latest/meta-data/iam",
        "https://[fd00::1]/claims",
        "http://claims.example/claims",
        "ftp://127.0.0.1/claims",
    ] {
        let mut e = resolving(json!({"payment_info": "src"}), distributed(endpoint)).await;
        let c = claims_after_login(&mut e).await;
        assert!(c.get("payment_info").is_none(), "{endpoint}: {c}");
        assert_eq!(c["_claim_names"]["payment_info"], "src", "{c}");
        assert!(c.get("_claim_sources").is_none(), "{c}");
    }
}

/// A body over the cap and an endpoint slower than the timeout: dropped, the login goes on.
#[tokio::test]
async fn oidcc_client_test_distributed_claims_oversized_or_slow() {
    let cp = ClaimsProvider::start().await.unwrap();
    cp.answer(Answer::Large(
        relier_core::claims_sources::MAX_RESPONSE_BYTES + 1,
    ));
    let mut e = resolving(json!({"payment_info": "src"}), distributed(&cp.endpoint())).await;
    assert!(
        claims_after_login(&mut e)
            .await
            .get("payment_info")
            .is_none()
    );
    assert_eq!(cp.seen().len(), 1);
    cp.answer(Answer::Slow(
        Duration::from_secs(relier_core::claims_sources::TIMEOUT_SECS + 2),
        json!({"payment_info": "Visa"}),
    ));
    let mut e = resolving(json!({"payment_info": "src"}), distributed(&cp.endpoint())).await;
    assert!(
        claims_after_login(&mut e)
            .await
            .get("payment_info")
            .is_none()
    );
    assert_eq!(cp.seen().len(), 2);
}

/// Sources in the UserInfo response (where OIDC Core §5.6.2's example has them) resolve too.
#[tokio::test]
async fn oidcc_client_test_distributed_claims_in_userinfo() {
    let cp = ClaimsProvider::start().await.unwrap();
    cp.answer(Answer::Json(json!({"payment_info": "Visa"})));
    let mut e = build_with_tail("resolve_claims = true\nuserinfo = \"always\"").await;
    let agg = cp.jwt(&json!({"shipping_address": {"country": "NL"}}));
    e.op.set(Misbehavior {
        userinfo_claims: json!({
            "_claim_names": {"payment_info": "dist", "shipping_address": "agg"},
            "_claim_sources": {
                "dist": {"endpoint": cp.endpoint(), "access_token": ACCESS_TOKEN},
                "agg": {"JWT": agg},
            },
        })
        .as_object()
        .unwrap()
        .clone(),
        ..Default::default()
    });
    let c = claims_after_login(&mut e).await;
    assert_eq!(c["payment_info"], "Visa");
    assert_eq!(c["shipping_address"]["country"], "NL");
    assert!(c.get("_claim_sources").is_none(), "{c}");
}
