use aws_lc_rs::rand::SystemRandom;
use serde_json::{Map, json};

use super::*;
use crate::jwe::{DecryptionKey, DecryptionKeys, JweExpectation, decrypt_compact};

fn round_trip(alg: KeyManagementAlg, crv: Option<&str>, enc: ContentEncAlg) {
    let key = DecryptionKey::generate(alg, crv)
        .unwrap()
        .with_kid("op-enc");
    let mut jwk = key.public_jwk().unwrap();
    jwk.use_ = Some("enc".into());
    let public = EncryptionKey::from_jwk(&jwk).unwrap();
    assert!(public.accepts(alg));
    let mut extra = Map::new();
    extra.insert("cty".into(), json!("JWT"));
    let jwe = encrypt_to_public(alg, enc, &public, &extra, b"a.b.c", &SystemRandom::new()).unwrap();
    let keys = DecryptionKeys::new().with_key(key).unwrap();
    let out = decrypt_compact(&jwe, &JweExpectation::new(alg, enc), &keys).unwrap();
    assert!(out.is_nested_jwt());
    assert_eq!(out.into_plaintext().as_slice(), b"a.b.c");
}

#[test]
fn encrypts_to_public_keys_the_owner_decrypts() {
    round_trip(KeyManagementAlg::RsaOaep256, None, ContentEncAlg::A256Gcm);
    round_trip(KeyManagementAlg::RsaOaep, None, ContentEncAlg::A128CbcHs256);
    round_trip(
        KeyManagementAlg::EcdhEs,
        Some("P-256"),
        ContentEncAlg::A128Gcm,
    );
    round_trip(
        KeyManagementAlg::EcdhEsA256Kw,
        Some("P-384"),
        ContentEncAlg::A256Gcm,
    );
    round_trip(
        KeyManagementAlg::EcdhEsA128Kw,
        Some("X25519"),
        ContentEncAlg::A128CbcHs256,
    );
}

#[test]
fn refuses_signature_keys_and_other_algorithms() {
    let key = DecryptionKey::generate(KeyManagementAlg::RsaOaep256, None).unwrap();
    let mut jwk = key.public_jwk().unwrap();
    jwk.use_ = Some("sig".into());
    assert!(EncryptionKey::from_jwk(&jwk).is_err());
    jwk.use_ = None;
    jwk.alg = Some("RSA-OAEP".into());
    let public = EncryptionKey::from_jwk(&jwk).unwrap();
    assert!(!public.accepts(KeyManagementAlg::RsaOaep256));
    assert!(!public.accepts(KeyManagementAlg::EcdhEs));
    assert!(
        encrypt_to_public(
            KeyManagementAlg::RsaOaep256,
            ContentEncAlg::A256Gcm,
            &public,
            &Map::new(),
            b"x",
            &SystemRandom::new()
        )
        .is_err()
    );
}
