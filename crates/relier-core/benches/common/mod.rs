//! Fixtures shared by the benchmarks: the keys (relier's and the raw aws-lc-rs pair from the
//! same PKCS#8 document), a realistic ID token and the OP's key set.
#![allow(
    dead_code,
    reason = "each bench target uses a different part of the fixtures"
)]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};
use relier_core::jose::{SigningKey, b64, jws};
use relier_core::{Algorithm, KeySet};
use serde_json::{Value, json};

pub const NOW: u64 = 1_700_000_000;
pub const ISSUER: &str = "https://op.example.com";
pub const CLIENT_ID: &str = "s6BhdRkqt3-relier-benchmark-client";
pub const NONCE: &str = "n-0S6_WzA2Mj-7f3c9a1e4b2d8c6f0a5e9b3d7c1f4a8e2b6d0c9f3a7e1b5d";
pub const TOKEN_ENDPOINT: &str = "https://op.example.com/oauth2/token";

/// One signing key in both worlds: relier's `SigningKey` and the raw aws-lc-rs key pair, both
/// loaded from the same PKCS#8 document (as an RP loads its configured key), plus the in-process
/// generated `SigningKey` the document came from (for `breakdown_assertion/*_generated_key`).
pub struct Keys {
    pub rsa: SigningKey,
    /// The same RSA key, signing with PS256.
    pub rsa_pss: SigningKey,
    pub rsa_raw: RsaKeyPair,
    pub rsa_generated: SigningKey,
    pub ec: SigningKey,
    pub ec_raw: EcdsaKeyPair,
    pub ed: SigningKey,
    pub ed_raw: Ed25519KeyPair,
    pub ed_generated: SigningKey,
}

pub fn keys() -> Keys {
    let load = |alg: Algorithm, kid: &str| {
        let generated = SigningKey::generate(alg, Some(2048)).unwrap().with_kid(kid);
        let der = generated.to_pkcs8_der().unwrap();
        let loaded = SigningKey::from_pkcs8_der(&der, Some(alg))
            .unwrap()
            .with_kid(kid);
        (generated, loaded, der)
    };
    let (rsa_generated, rsa, rsa_der) = load(Algorithm::RS256, "rsa-2024-11");
    let (_, ec, ec_der) = load(Algorithm::ES256, "ec-2024-11");
    let (ed_generated, ed, ed_der) = load(Algorithm::EdDSA, "ed-2024-11");
    Keys {
        rsa_pss: SigningKey::from_pkcs8_der(&rsa_der, Some(Algorithm::PS256))
            .unwrap()
            .with_kid("rsa-2024-11"),
        rsa,
        rsa_raw: RsaKeyPair::from_pkcs8(&rsa_der).unwrap(),
        rsa_generated,
        ec,
        ec_raw: EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &ec_der).unwrap(),
        ed,
        ed_raw: Ed25519KeyPair::from_pkcs8(&ed_der).unwrap(),
        ed_generated,
    }
}

/// A realistic ID token body: 20 claims, the registered ones plus the usual profile scope.
pub fn id_token_claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "248289761001-4f7a2c1e-9b3d-4e8f-a6c5-0d1b2e3f4a5b",
        "aud": CLIENT_ID,
        "exp": NOW + 3600,
        "iat": NOW,
        "auth_time": NOW - 120,
        "nonce": NONCE,
        "acr": "urn:mace:incommon:iap:silver",
        "amr": ["pwd", "otp"],
        "azp": CLIENT_ID,
        "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
        "sid": "08a5019c-17e1-4977-8f42-65a12843ea02",
        "email": "janedoe@example.com",
        "email_verified": true,
        "name": "Jane Doe",
        "given_name": "Jane",
        "family_name": "Doe",
        "preferred_username": "j.doe",
        "locale": "en-US",
        "updated_at": NOW - 86_400,
    })
}

pub fn sign_id_token(key: &SigningKey) -> String {
    let header = jws::Header {
        typ: Some("JWT".to_owned()),
        ..Default::default()
    };
    let payload = id_token_claims().to_string();
    jws::sign_compact(&header, payload.as_bytes(), key, &SystemRandom::new()).unwrap()
}

/// Signing input and decoded signature of a compact JWS, split once outside the timed loop.
pub fn split(token: &str) -> (Vec<u8>, Vec<u8>) {
    let dot = token.rfind('.').unwrap();
    let (input, sig) = token.split_at(dot);
    (
        input.as_bytes().to_vec(),
        b64::decode(sig.trim_start_matches('.')).unwrap(),
    )
}

/// The OP's JWKS as an RP would cache it: three keys, selected by kid.
pub fn key_set(k: &Keys) -> KeySet {
    let jwks: Vec<Value> = [&k.rsa, &k.ec, &k.ed]
        .iter()
        .map(|s| {
            let mut jwk = s.public_jwk().unwrap();
            jwk.use_ = Some("sig".to_owned());
            // As many OPs publish them: no "alg", so the RSA key verifies RS256 and PS256.
            jwk.alg = None;
            serde_json::to_value(&jwk).unwrap()
        })
        .collect();
    KeySet::from_json(json!({ "keys": jwks }).to_string().as_bytes()).unwrap()
}

/// The `client_assertion` form value of a token request.
pub fn assertion_of(body: &[u8]) -> String {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "client_assertion")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// The resource server of the access-token fixtures (RFC 9068 `aud`).
pub const API_AUDIENCE: &str = "https://api.example.com/orders";

/// A realistic RFC 9068 access token body, as oidc-provider issues one for a resource
/// indicator: the §2.2 claims, `scope`, and `cnf.jkt` when DPoP-bound.
pub fn access_token_claims(jkt: Option<&str>) -> Value {
    let mut claims = json!({
        "iss": ISSUER,
        "sub": "248289761001-4f7a2c1e-9b3d-4e8f-a6c5-0d1b2e3f4a5b",
        "aud": API_AUDIENCE,
        "exp": NOW + 3600,
        "iat": NOW,
        "jti": "Qx3t5dFvL9mB0rK2wE7yA1cH4uJ6pN8sT0vX2zB4dF6",
        "client_id": CLIENT_ID,
        "scope": "openid orders:read orders:write",
        "auth_time": NOW - 120,
        "acr": "urn:mace:incommon:iap:silver",
    });
    if let (Some(jkt), Some(obj)) = (jkt, claims.as_object_mut()) {
        obj.insert("cnf".to_owned(), json!({ "jkt": jkt }));
    }
    claims
}

/// A JWT access token (header `typ: at+jwt`, RFC 9068 §2.1).
pub fn sign_access_token(key: &SigningKey, jkt: Option<&str>) -> String {
    let header = jws::Header {
        typ: Some("at+jwt".to_owned()),
        ..Default::default()
    };
    let payload = access_token_claims(jkt).to_string();
    jws::sign_compact(&header, payload.as_bytes(), key, &SystemRandom::new()).unwrap()
}
