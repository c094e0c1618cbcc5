//! `relier keys import`, `relier keys generate|rotate --use entity` and `relier federation
//! statement|jwks`: the real binary on its own store. The OP Identity Service Broker's sandbox
//! keys import with the kids its README prints; the statement and the signed JWK set verify
//! with the entity key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{Run, run_cmd, store_cmd, write};
use relier::jose::Jwk;
use relier::jose::jws::UnverifiedJws;
use relier_tests::signed::{public_kids as kids, verify_rs256 as verify};
use serde_json::Value;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors");

fn vector(name: &str) -> String {
    format!("{VECTORS}/{name}")
}

async fn run(dir: &tempfile::TempDir, line: &str) -> Run {
    run_cmd(store_cmd(dir, line), "").await
}

async fn ok(dir: &tempfile::TempDir, line: &str) -> Run {
    run(dir, line).await.ok()
}

/// A configuration on the test's store (the file names it, as for `relier serve`).
fn config(dir: &tempfile::TempDir) -> String {
    write(
        dir,
        "relier.toml",
        &format!(
            r#"
public_url = "https://rp.example"
store = "sqlite://{db}"

[federation]
organization_name = "Example Oy"

[[providers]]
name = "ftn"
issuer = "https://isb-test.op.fi"
client_id = "saippuakauppias"
use_store_key = true
signing_alg = "RS256"
id_token_encrypted_response_alg = "RSA-OAEP"
request_object_signing_alg = "RS256"
"#,
            db = dir.path().join("relier.db").display()
        ),
    )
}

#[tokio::test]
async fn isb_sandbox_keys_import_with_the_isb_kids() {
    let dir = tempfile::tempdir().unwrap();
    for (key_use, file, kid, alg) in [
        (
            "sig",
            "sp-signing-key.pem",
            "dl-lgRcT7LhEkqbnod6QGBHl8veqgZenwdB3RV2OJkY",
            "RS256",
        ),
        (
            "enc",
            "sp-encryption-key.pem",
            "MfYGuONWQZabwwph02zJEqOQIPOV1PhEscgHch0QqD0",
            "RSA-OAEP",
        ),
        (
            "entity",
            "sp-entity-signing-key.pem",
            "QUGHzS05831lYsOB7_o-Nz2Ode2jmnmh5dJjDA5Q5SM",
            "RS256",
        ),
    ] {
        let path = vector(&format!("isb/{file}"));
        let key = ok(
            &dir,
            &format!("keys import --use {key_use} --file {path} --json"),
        )
        .await
        .json();
        assert_eq!(key["kid"], kid, "{file}");
        assert_eq!(key["use"], key_use, "{file}");
        assert_eq!(key["alg"], alg, "{file}");
        assert_eq!(key["state"], "active", "{file}");
    }
    // The ordinary JWKS: the signing and encryption keys with their alg, never the entity key.
    let jwks = ok(&dir, "keys jwks").await.json();
    assert_eq!(
        kids(&jwks["keys"]),
        [
            "MfYGuONWQZabwwph02zJEqOQIPOV1PhEscgHch0QqD0",
            "dl-lgRcT7LhEkqbnod6QGBHl8veqgZenwdB3RV2OJkY"
        ]
    );
    let enc = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["use"] == "enc")
        .unwrap();
    assert_eq!(enc["alg"], "RSA-OAEP");
    // `keys list` names the entity key's use.
    let list = ok(&dir, "keys list").await.stdout;
    assert!(list.contains("entity"), "{list}");

    // The same key twice, a weak key, a key that does not fit the algorithm: refused.
    let again = run(
        &dir,
        &format!(
            "keys import --use entity --file {}",
            vector("isb/sp-entity-signing-key.pem")
        ),
    )
    .await;
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("already"), "{}", again.stderr);
    let weak = run(
        &dir,
        &format!(
            "keys import --use sig --file {}",
            vector("keys/rsa-1024-weak.pem")
        ),
    )
    .await;
    assert_ne!(weak.code, 0);
    assert!(
        weak.stderr.contains("weaker than relier generates"),
        "{}",
        weak.stderr
    );
    let misfit = run(
        &dir,
        &format!(
            "keys import --use entity --alg RSA-OAEP --file {}",
            vector("isb/sp-signing-key.pem")
        ),
    )
    .await;
    assert_ne!(misfit.code, 0);
    assert!(misfit.stderr.contains("--use entity"), "{}", misfit.stderr);
}

#[tokio::test]
async fn the_statement_needs_an_entity_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&dir);
    let r = run(&dir, &format!("federation statement --config {cfg}")).await;
    assert_ne!(r.code, 0);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("relier keys generate --use entity"),
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn statement_and_signed_jwks_verify_with_the_entity_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&dir);
    let entity = ok(&dir, "keys generate --use entity --json").await.json();
    assert_eq!(
        (&entity["use"], &entity["alg"]),
        (&"entity".into(), &"RS256".into())
    );
    let entity_kid = entity["kid"].as_str().unwrap().to_owned();
    let sig = ok(&dir, "keys generate --alg RS256 --json").await.json();
    let enc = ok(&dir, "keys generate --use enc --alg RSA-OAEP --json")
        .await
        .json();

    let statement = ok(&dir, &format!("federation statement --config {cfg}"))
        .await
        .stdout;
    // The key it is verified with is the entity key of the store, not only one it names.
    let unverified: Value = serde_json::from_slice(
        UnverifiedJws::parse(statement.trim())
            .unwrap()
            .unverified_payload(),
    )
    .unwrap();
    let jwk: Jwk = serde_json::from_value(unverified["jwks"]["keys"][0].clone()).unwrap();
    assert_eq!(jwk.kid.as_deref(), Some(entity_kid.as_str()));
    assert_eq!(
        jwk.thumbprint_sha256().unwrap(),
        entity_kid,
        "the published key is the entity key"
    );
    let (payload, h) = verify(&statement, &jwk);
    assert_eq!(h.typ.as_deref(), Some("entity-statement+jwt"));
    assert_eq!(h.kid.as_deref(), Some(entity_kid.as_str()));
    assert_eq!(h.alg, "RS256");
    assert_eq!(payload["iss"], "https://rp.example");
    assert_eq!(payload["sub"], "https://rp.example");
    assert_eq!(
        payload["exp"].as_u64().unwrap() - payload["iat"].as_u64().unwrap(),
        365 * 86_400
    );
    let rp = &payload["metadata"]["openid_relying_party"];
    assert_eq!(
        rp["redirect_uris"][0],
        "https://rp.example/auth/callback/ftn"
    );
    assert_eq!(rp["application_type"], "web");
    assert_eq!(rp["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(rp["token_endpoint_auth_signing_alg"], "RS256");
    assert_eq!(rp["request_object_signing_alg"], "RS256");
    assert_eq!(rp["id_token_signed_response_alg"], "RS256");
    assert_eq!(rp["id_token_encrypted_response_alg"], "RSA-OAEP");
    assert_eq!(rp["id_token_encrypted_response_enc"], "A128CBC-HS256");
    assert_eq!(rp["client_registration_types"], Value::Array(vec![]));
    assert_eq!(rp["organization_name"], "Example Oy");
    assert_eq!(
        rp["signed_jwks_uri"],
        "https://rp.example/.well-known/signed-jwks"
    );

    let jwks = ok(&dir, &format!("federation jwks --config {cfg}"))
        .await
        .stdout;
    let (payload, h) = verify(&jwks, &jwk);
    assert_eq!(h.typ.as_deref(), Some("jwk-set+jwt"));
    assert_eq!(h.kid.as_deref(), Some(entity_kid.as_str()));
    assert_eq!(payload["iss"], "https://rp.example");
    assert_eq!(
        payload["exp"].as_u64().unwrap() - payload["iat"].as_u64().unwrap(),
        86_400
    );
    let mut expected = vec![
        sig["kid"].as_str().unwrap().to_owned(),
        enc["kid"].as_str().unwrap().to_owned(),
    ];
    expected.sort();
    assert_eq!(kids(&payload["keys"]), expected);

    // Rotating the entity key: old and new both in the statement; the old one still signs.
    let rotated = ok(&dir, "keys rotate --use entity --json").await.json();
    let new_kid = rotated[0]["kid"].as_str().unwrap().to_owned();
    assert_eq!(rotated[0]["state"], "next");
    let statement = ok(&dir, &format!("federation statement --config {cfg}"))
        .await
        .stdout;
    let (payload, h) = verify(&statement, &jwk);
    assert_eq!(h.kid.as_deref(), Some(entity_kid.as_str()));
    let mut both = vec![entity_kid.clone(), new_kid];
    both.sort();
    assert_eq!(kids(&payload["jwks"]["keys"]), both);
    // `keys rotate` without --use never touches the entity key.
    let plain = ok(&dir, "keys rotate --json").await.json();
    assert!(
        plain
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["use"] != "entity"),
        "{plain}"
    );
}
