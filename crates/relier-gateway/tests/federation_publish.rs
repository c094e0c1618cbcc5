//! `[federation]` through the gateway's router: `GET /.well-known/openid-federation` and `GET
//! /.well-known/signed-jwks` signed with the store's entity key (the OP Identity Service
//! Broker's sandbox keys, imported), with their media types, public keys only, 404 without
//! `[federation]`, and no start without an entity key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use axum::http::header;
use common::{OneShot, text};
use relier_gateway::{Config, Gateway};
use relier_jose::Algorithm;
use relier_store::{KeyAlg, MasterKeySource, Store, StoreUrl, UnixTime};
use relier_tests::signed::{public_kids, verify_rs256 as verified};
use serde_json::Value;

const SP_SIGNING: &str = include_str!("../../../tests/vectors/isb/sp-signing-key.pem");
const SP_ENCRYPTION: &str = include_str!("../../../tests/vectors/isb/sp-encryption-key.pem");
const SP_ENTITY: &str = include_str!("../../../tests/vectors/isb/sp-entity-signing-key.pem");
const ENTITY_KID: &str = "QUGHzS05831lYsOB7_o-Nz2Ode2jmnmh5dJjDA5Q5SM";

async fn store(dir: &tempfile::TempDir) -> Box<dyn Store> {
    let url = StoreUrl::parse(&format!("sqlite://{}", dir.path().join("g.db").display())).unwrap();
    relier_store::open(&url, MasterKeySource::BesideDatabase)
        .await
        .unwrap()
        .0
}

/// A gateway whose provider's OP is unreachable (it waits; nothing here needs it), with
/// `extra` at the top of its file.
fn config(dir: &tempfile::TempDir, extra: &str) -> Config {
    Config::from_toml(&format!(
        r#"
public_url = "http://127.0.0.1:8088"
store = "sqlite://{db}"
{extra}

[[providers]]
name = "ftn"
issuer = "http://127.0.0.1:1"
client_id = "saippuakauppias"
use_store_key = true
signing_alg = "RS256"
id_token_encrypted_response_alg = "RSA-OAEP"
request_object_signing_alg = "RS256"
"#,
        db = dir.path().join("g.db").display()
    ))
    .unwrap()
}

#[tokio::test]
async fn the_statement_and_the_signed_jwks_are_served_signed_by_the_entity_key() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir).await;
    let now = UnixTime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    );
    for (alg, pem) in [
        (KeyAlg::Sig(Algorithm::RS256), SP_SIGNING),
        (
            KeyAlg::Enc(relier_jose::jwe::KeyManagementAlg::RsaOaep),
            SP_ENCRYPTION,
        ),
        (KeyAlg::Entity(Algorithm::RS256), SP_ENTITY),
    ] {
        s.import_key(alg, pem, now).await.unwrap();
    }
    let entity = s.entity_jwks(now).await.unwrap().keys[0].clone();
    s.close().await;
    let gw = Gateway::build(config(
        &dir,
        "[federation]\norganization_name = \"Saippuakauppias\"",
    ))
    .await
    .unwrap();
    let mut app = OneShot::new(gw.router());

    let r = app.get("/.well-known/openid-federation").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()[header::CONTENT_TYPE],
        "application/entity-statement+jwt"
    );
    let statement = text(r).await;
    let (payload, h) = verified(statement.trim(), &entity);
    assert_eq!(h.typ.as_deref(), Some("entity-statement+jwt"));
    assert_eq!(h.kid.as_deref(), Some(ENTITY_KID));
    assert_eq!(h.alg, "RS256");
    assert_eq!(payload["iss"], "http://127.0.0.1:8088");
    assert_eq!(payload["sub"], payload["iss"]);
    assert_eq!(public_kids(&payload["jwks"]["keys"]), [ENTITY_KID]);
    let rp = &payload["metadata"]["openid_relying_party"];
    assert_eq!(
        rp["signed_jwks_uri"],
        "http://127.0.0.1:8088/.well-known/signed-jwks"
    );
    assert_eq!(rp["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(rp["id_token_encrypted_response_alg"], "RSA-OAEP");
    assert_eq!(rp["id_token_encrypted_response_enc"], "A128CBC-HS256");
    assert_eq!(rp["organization_name"], "Saippuakauppias");

    let r = app.get("/.well-known/signed-jwks").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[header::CONTENT_TYPE], "application/jwk-set+jwt");
    let jwks = text(r).await;
    let (payload, h) = verified(jwks.trim(), &entity);
    assert_eq!(h.typ.as_deref(), Some("jwk-set+jwt"));
    assert_eq!(h.kid.as_deref(), Some(ENTITY_KID));
    assert_eq!(payload["iss"], "http://127.0.0.1:8088");
    assert_eq!(payload["sub"], payload["iss"]);
    assert_eq!(
        payload["exp"].as_u64().unwrap() - payload["iat"].as_u64().unwrap(),
        86_400
    );
    // The ISB's sandbox SP signing and encryption keys; never the entity key.
    assert_eq!(
        public_kids(&payload["keys"]),
        [
            "MfYGuONWQZabwwph02zJEqOQIPOV1PhEscgHch0QqD0",
            "dl-lgRcT7LhEkqbnod6QGBHl8veqgZenwdB3RV2OJkY"
        ]
    );
    // Served from the cache.
    let again = text(app.get("/.well-known/signed-jwks").await).await;
    assert_eq!(again, jwks);
    // The ordinary JWKS has no entity key either.
    let plain: Value =
        serde_json::from_str(&text(app.get("/.well-known/jwks.json").await).await).unwrap();
    assert!(!public_kids(&plain["keys"]).contains(&ENTITY_KID.to_owned()));
    gw.shutdown().await;
}

#[tokio::test]
async fn without_federation_there_are_no_federation_routes() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::build(config(&dir, "")).await.unwrap();
    let mut app = OneShot::new(gw.router());
    for path in ["/.well-known/openid-federation", "/.well-known/signed-jwks"] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn without_an_entity_key_the_gateway_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let err = Gateway::build(config(&dir, "[federation]"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("relier keys generate --use entity"), "{err}");
}
