//! `relier federation inspect`: the OP Identity Service Broker's published examples (an entity
//! statement that verifies; signed JWK sets expired since 2022/2023, refused with the check
//! named), a signed JWK set served over HTTP and checked against a statement, and the
//! negatives (unpinned entity key, no keys given).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use aws_lc_rs::rand::SystemRandom;
use common::{relier, run_cmd};
use relier::jose::{Algorithm, SigningKey, jws};
use serde_json::{Value, json};

fn vector(name: &str) -> String {
    format!(
        "{}/../../tests/vectors/isb/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

async fn inspect(args: &[&str]) -> common::Run {
    let mut cmd = relier();
    cmd.args(["federation", "inspect"]).args(args);
    run_cmd(cmd, "").await
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign(key: &SigningKey, typ: Option<&str>, claims: &Value) -> String {
    let header = jws::Header {
        typ: typ.map(str::to_owned),
        ..jws::Header::default()
    };
    jws::sign_compact(
        &header,
        claims.to_string().as_bytes(),
        key,
        &SystemRandom::new(),
    )
    .unwrap()
}

#[tokio::test]
async fn the_isb_example_sp_statement_verifies_and_prints() {
    let r = inspect(&[&vector("example-sp-entity-statement.jwt")]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("entity statement: verified"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("entity id: https://paras-saippuakauppias.com")
    );
    assert!(
        r.stdout
            .contains("QUGHzS05831lYsOB7_o-Nz2Ode2jmnmh5dJjDA5Q5SM  RSA  -    sig"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("exp: 2033-01-27"), "{}", r.stdout);
    assert!(r.stdout.contains("\"signed_jwks_uri\""), "{}", r.stdout);
}

#[tokio::test]
async fn the_isb_example_signed_jwks_are_refused_as_expired() {
    let r = inspect(&[
        &vector("example-broker-signed-jwks.jwt"),
        "--entity-keys",
        &vector("broker-entity-signing-pubkey.pem"),
    ])
    .await;
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("signed JWK set: expired"), "{}", r.stderr);
    let r = inspect(&[
        &vector("example-sp-signed-jwks.jwt"),
        "--entity-statement",
        &vector("example-sp-entity-statement.jwt"),
    ])
    .await;
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("signed JWK set: expired"), "{}", r.stderr);
}

#[tokio::test]
async fn a_signed_jwks_by_an_unpinned_key_or_without_keys_is_refused() {
    let r = inspect(&[
        &vector("example-broker-signed-jwks.jwt"),
        "--entity-statement",
        &vector("example-sp-entity-statement.jwt"),
    ])
    .await;
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.contains(
            "signed by an unknown entity key, kid \"hk2l1ZRe47kVX5mkI_yBh6Tuel-5yIbN4d1UOgzU6mE\""
        ),
        "{}",
        r.stderr
    );
    let r = inspect(&[&vector("example-broker-signed-jwks.jwt")]).await;
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("--entity-statement"), "{}", r.stderr);
}

#[tokio::test]
async fn a_served_signed_jwks_verifies_against_a_statement() {
    let entity = SigningKey::generate(Algorithm::RS256, None)
        .unwrap()
        .with_kid("entity-1");
    let signing = SigningKey::generate(Algorithm::ES256, None)
        .unwrap()
        .with_kid("sig-1");
    let id = "https://broker.example";
    let statement = sign(
        &entity,
        Some("entity-statement+jwt"),
        &json!({"iss": id, "sub": id, "iat": now(), "exp": now() + 10 * 86_400 - 3600,
            "jwks": {"keys": [entity.public_jwk().unwrap()]}}),
    );
    let set = sign(
        &entity,
        Some("JWS"),
        &json!({"iss": id, "sub": id, "iat": now(), "exp": now() + 3600,
            "keys": [signing.public_jwk().unwrap()]}),
    );
    let dir = tempfile::tempdir().unwrap();
    let st_path = dir.path().join("st.jwt");
    std::fs::write(&st_path, &statement).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/signed-jwks",
        axum::routing::get(move || async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/jwk-set+jwt")],
                set,
            )
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let url = format!("http://{addr}/signed-jwks");
    let r = inspect(&[&url, "--entity-statement", st_path.to_str().unwrap()]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("signed JWK set: verified, signed by entity key entity-1"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("sig-1  EC   ES256  sig"), "{}", r.stdout);
    assert!(r.stdout.contains("(in 0 days)"), "{}", r.stdout);
    // The statement itself, within 30 days of its end: verified, with the warning.
    let r = inspect(&[st_path.to_str().unwrap()]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("warning: expires within 30 days (9 days left)"),
        "{}",
        r.stdout
    );
}
