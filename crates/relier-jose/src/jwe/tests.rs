use std::sync::LazyLock;

use aws_lc_rs::rand::SystemRandom;
use serde_json::{Value, json};

use super::test_encryptor::{To, encrypt};
use super::*;
use crate::{Algorithm, SigningKey, jws};

use ContentEncAlg as E;
use KeyManagementAlg as K;

/// One RSA key (slow to generate) and one key per ECDH curve, shared by the tests.
pub(super) static RSA: LazyLock<DecryptionKey> = LazyLock::new(|| {
    DecryptionKey::generate(K::RsaOaep, None)
        .unwrap()
        .with_kid("rsa-1")
});
pub(super) static EC: LazyLock<Vec<DecryptionKey>> = LazyLock::new(|| {
    ["P-256", "P-384", "P-521", "X25519"]
        .into_iter()
        .map(|crv| {
            DecryptionKey::generate(K::EcdhEs, Some(crv))
                .unwrap()
                .with_kid(crv)
        })
        .collect()
});

pub(super) const SECRET: &[u8] = b"a client secret of some length, 0123456789";

pub(super) fn expect(alg: K, enc: E) -> JweExpectation {
    JweExpectation::new(alg, enc)
}

pub(super) fn all_keys() -> DecryptionKeys {
    let mut keys = DecryptionKeys::new().with_client_secret(SECRET);
    keys.push(RSA.clone()).unwrap();
    for k in EC.iter() {
        keys.push(k.clone()).unwrap();
    }
    keys
}

pub(super) fn p256() -> &'static DecryptionKey {
    &EC[0]
}

pub(super) fn split(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

pub(super) fn header_of(token: &str) -> serde_json::Map<String, Value> {
    let h = b64::decode(token.split('.').next().unwrap()).unwrap();
    serde_json::from_slice(&h).unwrap()
}

/// `token` with its protected header replaced (the other parts unchanged).
pub(super) fn with_header(token: &str, header: &Value) -> String {
    let mut parts = split(token);
    parts[0] = b64::encode(header.to_string().as_bytes());
    parts.join(".")
}

/// `token` with part `i` replaced by `f(decoded part)`.
pub(super) fn with_part(token: &str, i: usize, f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut parts = split(token);
    let mut bytes = b64::decode(&parts[i]).unwrap();
    f(&mut bytes);
    parts[i] = b64::encode(&bytes);
    parts.join(".")
}

pub(super) fn ecdh_token(alg: K, enc: E) -> String {
    encrypt(alg, enc, To::Key(p256()), json!({"kid": "P-256"}), b"hi")
}

#[test]
fn round_trip_every_algorithm_pair() {
    let keys = all_keys();
    let plaintext = br#"{"sub":"alice","email":"alice@example.com"}"#;
    for enc in E::ALL {
        for alg in [K::RsaOaep, K::RsaOaep256] {
            let token = encrypt(alg, enc, To::Key(&RSA), json!({"kid":"rsa-1"}), plaintext);
            let out = decrypt_compact(&token, &expect(alg, enc), &keys).unwrap();
            assert_eq!(out.plaintext(), plaintext, "{alg} {enc}");
            assert_eq!(out.key_id(), Some("rsa-1"));
        }
        for alg in [K::EcdhEs, K::EcdhEsA128Kw, K::EcdhEsA256Kw] {
            for key in EC.iter() {
                let token = encrypt(alg, enc, To::Key(key), json!({}), plaintext);
                let out = decrypt_compact(&token, &expect(alg, enc), &keys)
                    .unwrap_or_else(|e| panic!("{alg} {enc} {}: {e}", key.key_type()));
                assert_eq!(out.plaintext(), plaintext);
                assert_eq!(out.key_id(), key.kid());
            }
        }
        for alg in [K::Dir, K::A128Kw, K::A256Kw] {
            let len = alg.key_wrap_len().unwrap_or(enc.cek_len());
            let key = derive_key_from_client_secret(SECRET, len).unwrap();
            let token = encrypt(alg, enc, To::Symmetric(&key), json!({}), plaintext);
            let out = decrypt_compact(&token, &expect(alg, enc), &keys).unwrap();
            assert_eq!(out.plaintext(), plaintext, "{alg} {enc}");
            assert_eq!(out.key_id(), None);
            // Another client secret derives another key.
            let other = DecryptionKeys::new().with_client_secret(b"another secret");
            assert_eq!(
                decrypt_compact(&token, &expect(alg, enc), &other).unwrap_err(),
                JoseError::DecryptionFailed,
                "{alg} {enc}"
            );
        }
    }
}

#[test]
fn ecdh_es_party_info_feeds_the_kdf() {
    let extra = json!({"apu": b64::encode(b"Alice"), "apv": b64::encode(b"Bob")});
    let token = encrypt(K::EcdhEs, E::A256Gcm, To::Key(p256()), extra, b"x");
    let keys = all_keys();
    let e = expect(K::EcdhEs, E::A256Gcm);
    assert_eq!(
        decrypt_compact(&token, &e, &keys).unwrap().plaintext(),
        b"x"
    );
    // Changing apv changes the derived key (and the AAD): refused.
    let mut header = header_of(&token);
    header.insert("apv".into(), json!(b64::encode(b"Eve")));
    assert_eq!(
        decrypt_compact(&with_header(&token, &header.into()), &e, &keys).unwrap_err(),
        JoseError::DecryptionFailed
    );
}

#[test]
fn client_secret_derivation_oidc_core_10_2() {
    // SHA-256("abc"), SHA-384("abc"), SHA-512("abc") (FIPS 180-2), left-truncated.
    let sha256 = "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0";
    let full = b64::decode(sha256).unwrap();
    assert_eq!(
        derive_key_from_client_secret(b"abc", 32)
            .unwrap()
            .as_slice(),
        full.as_slice()
    );
    assert_eq!(
        derive_key_from_client_secret(b"abc", 16)
            .unwrap()
            .as_slice(),
        &full[..16]
    );
    let sha384 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA384, b"abc");
    assert_eq!(
        derive_key_from_client_secret(b"abc", 48)
            .unwrap()
            .as_slice(),
        sha384.as_ref()
    );
    assert_eq!(
        derive_key_from_client_secret(b"abc", 24)
            .unwrap()
            .as_slice(),
        &full[..24]
    );
    let sha512 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, b"abc");
    assert_eq!(
        derive_key_from_client_secret(b"abc", 64)
            .unwrap()
            .as_slice(),
        sha512.as_ref()
    );
    assert!(derive_key_from_client_secret(b"abc", 0).is_err());
    assert!(derive_key_from_client_secret(b"abc", 65).is_err());
}

#[test]
fn header_alg_and_enc_are_pinned_before_any_crypto() {
    let token = ecdh_token(K::EcdhEs, E::A128Gcm);
    // Even with no keys at all, the mismatch is reported as such.
    let none = DecryptionKeys::new();
    let err = decrypt_compact(&token, &expect(K::RsaOaep, E::A128Gcm), &none).unwrap_err();
    assert_eq!(
        err,
        JoseError::JweAlgorithmMismatch {
            expected: K::RsaOaep,
            header_alg: "ECDH-ES".into()
        }
    );
    let err = decrypt_compact(&token, &expect(K::EcdhEs, E::A256Gcm), &none).unwrap_err();
    assert_eq!(
        err,
        JoseError::JweEncryptionMismatch {
            expected: E::A256Gcm,
            header_enc: "A128GCM".into()
        }
    );
    // A missing "enc" is a mismatch too; "enc" of the wrong type is malformed.
    let mut header = header_of(&token);
    header.remove("enc");
    let err = decrypt_compact(
        &with_header(&token, &header.clone().into()),
        &expect(K::EcdhEs, E::A128Gcm),
        &none,
    )
    .unwrap_err();
    assert!(
        matches!(err, JoseError::JweEncryptionMismatch { .. }),
        "{err}"
    );
    header.insert("enc".into(), json!(5));
    let err = decrypt_compact(
        &with_header(&token, &header.into()),
        &expect(K::EcdhEs, E::A128Gcm),
        &none,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            JoseError::Malformed {
                part: "JWE header",
                ..
            }
        ),
        "{err}"
    );
    // "alg":"none" and an alg in another case are mismatches.
    for alg in ["none", "ecdh-es", "dir"] {
        let mut header = header_of(&token);
        header.insert("alg".into(), json!(alg));
        let err = decrypt_compact(
            &with_header(&token, &header.into()),
            &expect(K::EcdhEs, E::A128Gcm),
            &all_keys(),
        )
        .unwrap_err();
        assert!(
            matches!(err, JoseError::JweAlgorithmMismatch { .. }),
            "{err}"
        );
    }
}

#[test]
fn zip_is_refused_whatever_its_value() {
    for zip in [json!("DEF"), json!("none"), json!(null), json!(1)] {
        let token = encrypt(
            K::EcdhEs,
            E::A128Gcm,
            To::Key(p256()),
            json!({"zip": zip}),
            b"x",
        );
        assert_eq!(
            decrypt_compact(&token, &expect(K::EcdhEs, E::A128Gcm), &all_keys()).unwrap_err(),
            JoseError::JweCompressionRefused
        );
    }
}

#[test]
fn crit_is_refused() {
    let e = expect(K::EcdhEs, E::A128Gcm);
    for (crit, reason) in [
        (json!(["exp"]), "not understood"),
        (json!(["b64"]), "not understood"),
        (
            json!(["enc"]),
            "a registered header parameter may not be listed",
        ),
        (
            json!(["epk"]),
            "a registered header parameter may not be listed",
        ),
        (json!([]), "empty crit list"),
    ] {
        let token = encrypt(
            K::EcdhEs,
            E::A128Gcm,
            To::Key(p256()),
            json!({"crit": crit, "exp": 1, "b64": false}),
            b"x",
        );
        let err = decrypt_compact(&token, &e, &all_keys()).unwrap_err();
        assert!(
            matches!(&err, JoseError::UnsupportedCrit { reason: r, .. } if *r == reason),
            "{err}"
        );
    }
}

#[test]
fn tampering_is_refused() {
    let keys = all_keys();
    for (alg, enc) in [
        (K::EcdhEs, E::A128Gcm),
        (K::EcdhEsA256Kw, E::A256CbcHs512),
        (K::RsaOaep256, E::A128CbcHs256),
        (K::A128Kw, E::A256Gcm),
        (K::Dir, E::A192CbcHs384),
    ] {
        let to = if alg.is_symmetric() {
            let len = alg.key_wrap_len().unwrap_or(enc.cek_len());
            To::Symmetric(&*Box::leak(Box::new(
                derive_key_from_client_secret(SECRET, len).unwrap(),
            )))
        } else if alg.is_rsa() {
            To::Key(&RSA)
        } else {
            To::Key(p256())
        };
        let token = encrypt(
            alg,
            enc,
            to,
            json!({"kid": if alg.is_rsa() {"rsa-1"} else {"P-256"}}),
            b"payload bytes",
        );
        let e = expect(alg, enc);
        assert!(decrypt_compact(&token, &e, &keys).is_ok());
        let flip_last = |b: &mut Vec<u8>| {
            if let Some(x) = b.last_mut() {
                *x ^= 1;
            }
        };
        let flip_first = |b: &mut Vec<u8>| b[0] ^= 0x80;
        let mut tampered = vec![
            ("tag", with_part(&token, 4, flip_last)),
            ("ciphertext", with_part(&token, 3, flip_first)),
            ("iv", with_part(&token, 2, flip_first)),
        ];
        if !matches!(alg, K::Dir | K::EcdhEs) {
            tampered.push(("encrypted key", with_part(&token, 1, flip_last)));
        }
        // The AAD: one more header member (same algorithms, same epk).
        let mut header = header_of(&token);
        header.insert("x".into(), json!(1));
        tampered.push(("aad", with_header(&token, &header.into())));
        for (what, bad) in tampered {
            assert_eq!(
                decrypt_compact(&bad, &e, &keys).unwrap_err(),
                JoseError::DecryptionFailed,
                "{alg} {enc} {what}"
            );
        }
    }
}

#[test]
fn wrong_lengths_are_malformed() {
    let keys = all_keys();
    let e = expect(K::EcdhEsA128Kw, E::A128Gcm);
    let token = ecdh_token(K::EcdhEsA128Kw, E::A128Gcm);
    for (what, bad) in [
        ("iv", with_part(&token, 2, |b| b.push(0))),
        ("iv", with_part(&token, 2, |b| b.truncate(8))),
        ("tag", with_part(&token, 4, |b| b.truncate(15))),
        ("tag", with_part(&token, 4, |b| b.push(0))),
        ("encrypted key", with_part(&token, 1, |b| b.truncate(16))),
    ] {
        let err = decrypt_compact(&bad, &e, &keys).unwrap_err();
        assert!(matches!(err, JoseError::Malformed { .. }), "{what}: {err}");
    }
    // dir and ECDH-ES carry no encrypted key.
    let token = ecdh_token(K::EcdhEs, E::A128Gcm);
    let bad = with_part(&token, 1, |b| b.push(1));
    let err = decrypt_compact(&bad, &expect(K::EcdhEs, E::A128Gcm), &keys).unwrap_err();
    assert!(
        matches!(
            err,
            JoseError::Malformed {
                part: "JWE encrypted key",
                ..
            }
        ),
        "{err}"
    );
    let key = derive_key_from_client_secret(SECRET, 16).unwrap();
    let token = encrypt(K::Dir, E::A128Gcm, To::Symmetric(&key), json!({}), b"x");
    let bad = with_part(&token, 1, |b| b.extend_from_slice(&[1; 24]));
    let err = decrypt_compact(&bad, &expect(K::Dir, E::A128Gcm), &keys).unwrap_err();
    assert!(
        matches!(
            err,
            JoseError::Malformed {
                part: "JWE encrypted key",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn structure_and_size_are_checked() {
    let keys = all_keys();
    let e = expect(K::EcdhEs, E::A128Gcm);
    let token = ecdh_token(K::EcdhEs, E::A128Gcm);
    let parts = split(&token);
    for bad in [
        parts[..4].join("."),
        parts[..3].join("."),
        format!("{token}."),
        format!("{token}.AAAA"),
        String::new(),
        "....".to_owned(),
        token.replacen('.', "=.", 1),
        format!("{} ", token),
    ] {
        let err = decrypt_compact(&bad, &e, &keys).unwrap_err();
        assert!(matches!(err, JoseError::Malformed { .. }), "{bad:?}: {err}");
    }
    let huge = format!("{}{}", token, "A".repeat(MAX_COMPACT_JWE_BYTES));
    assert!(matches!(
        decrypt_compact(&huge, &e, &keys),
        Err(JoseError::TooLarge {
            what: "compact JWE",
            ..
        })
    ));
    let big_header = with_header(
        &token,
        &json!({"alg":"ECDH-ES","enc":"A128GCM","x":"y".repeat(MAX_JWE_HEADER_BYTES)}),
    );
    assert!(matches!(
        decrypt_compact(&big_header, &e, &keys),
        Err(JoseError::TooLarge {
            what: "JWE protected header",
            ..
        })
    ));
    // Duplicate header members are refused, as for JWS.
    let mut p = split(&token);
    p[0] = b64::encode(br#"{"alg":"ECDH-ES","enc":"A128GCM","enc":"A128GCM"}"#);
    let err = decrypt_compact(&p.join("."), &e, &keys).unwrap_err();
    assert!(
        matches!(
            err,
            JoseError::Malformed {
                part: "JWE header",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn compact_kind_counts_parts() {
    assert_eq!(compact_kind("a.b.c"), Some(CompactKind::Jws));
    assert_eq!(compact_kind("a..c.d.e"), Some(CompactKind::Jwe));
    assert_eq!(compact_kind("a.b"), None);
    assert_eq!(compact_kind("a.b.c.d"), None);
    assert_eq!(compact_kind("a.b.c.d.e.f"), None);
    assert!(is_compact_jwe(&ecdh_token(K::EcdhEs, E::A128Gcm)));
    assert!(!is_compact_jwe("eyJhbGciOiJub25lIn0.e30."));
}

/// An EC epk whose "y" is changed is no longer on the curve.
#[test]
fn off_curve_and_wrong_curve_epk_are_refused() {
    let keys = all_keys();
    for alg in [K::EcdhEs, K::EcdhEsA128Kw] {
        let e = expect(alg, E::A128Gcm);
        let token = ecdh_token(alg, E::A128Gcm);
        let header = header_of(&token);
        let epk = header["epk"].clone();
        let bad_epk = |epk: Value| {
            let mut h = header.clone();
            h.insert("epk".into(), epk);
            decrypt_compact(&with_header(&token, &h.into()), &e, &keys).unwrap_err()
        };
        // Off the curve: y + 1.
        let mut y = b64::decode(epk["y"].as_str().unwrap()).unwrap();
        let last = y.len() - 1;
        y[last] = y[last].wrapping_add(1);
        let mut off = epk.clone();
        off["y"] = json!(b64::encode(&y));
        let err = bad_epk(off);
        assert!(
            matches!(err, JoseError::InvalidEphemeralKey { .. }),
            "{err}"
        );
        // The point at infinity / all-zero coordinates.
        let mut zero = epk.clone();
        zero["x"] = json!(b64::encode(&[0u8; 32]));
        zero["y"] = json!(b64::encode(&[0u8; 32]));
        assert!(matches!(
            bad_epk(zero),
            JoseError::InvalidEphemeralKey { .. }
        ));
        // A valid P-384 point, but the token is for a P-256 key (kid "P-256").
        let p384 = EC[1].public_jwk().unwrap();
        let wrong = json!({"kty":"EC","crv":"P-384","x":p384.x,"y":p384.y});
        let err = bad_epk(wrong);
        assert!(
            matches!(err, JoseError::InvalidEphemeralKey { reason } if reason.contains("another curve")),
            "{err}"
        );
        // An X25519 epk for the P-256 key.
        let x = EC[3].public_jwk().unwrap().x;
        let err = bad_epk(json!({"kty":"OKP","crv":"X25519","x":x}));
        assert!(
            matches!(err, JoseError::InvalidEphemeralKey { .. }),
            "{err}"
        );
        // P-256 "x" of the wrong length, a private epk, unsupported types, no epk.
        let mut short = epk.clone();
        short["x"] = json!(b64::encode(&[1u8; 31]));
        for bad in [
            short,
            {
                let mut p = epk.clone();
                p["d"] = json!(b64::encode(&[1u8; 32]));
                p
            },
            json!({"kty":"RSA","n":"AQAB","e":"AQAB"}),
            json!({"kty":"OKP","crv":"Ed25519","x":x}),
            json!({"kty":"EC","crv":"secp256k1","x":epk["x"],"y":epk["y"]}),
            json!("not a jwk"),
        ] {
            assert!(matches!(
                bad_epk(bad),
                JoseError::InvalidEphemeralKey { .. }
            ));
        }
        let mut h = header.clone();
        h.remove("epk");
        assert!(matches!(
            decrypt_compact(&with_header(&token, &h.into()), &e, &keys).unwrap_err(),
            JoseError::InvalidEphemeralKey { .. }
        ));
    }
}

/// RFC 7748 §6.1: a small-order X25519 point gives an all-zero shared secret.
#[test]
fn small_order_x25519_epk_is_refused() {
    let keys = DecryptionKeys::new().with_key(EC[3].clone()).unwrap();
    let e = expect(K::EcdhEs, E::A128Gcm);
    let token = encrypt(K::EcdhEs, E::A128Gcm, To::Key(&EC[3]), json!({}), b"x");
    assert!(decrypt_compact(&token, &e, &keys).is_ok());
    let mut one = [0u8; 32];
    one[0] = 1;
    for point in [[0u8; 32], one] {
        let mut h = header_of(&token);
        h.insert(
            "epk".into(),
            json!({"kty":"OKP","crv":"X25519","x":b64::encode(&point)}),
        );
        let err = decrypt_compact(&with_header(&token, &h.into()), &e, &keys).unwrap_err();
        assert!(
            matches!(err, JoseError::InvalidEphemeralKey { .. }),
            "{err}"
        );
    }
}

#[test]
fn kid_selects_among_current_and_retired_keys() {
    let current = DecryptionKey::generate(K::EcdhEs, None)
        .unwrap()
        .with_kid("current");
    let retired = DecryptionKey::generate(K::EcdhEs, None)
        .unwrap()
        .with_kid("retired");
    let keys = DecryptionKeys::new()
        .with_key(current.clone())
        .unwrap()
        .with_key(retired.clone())
        .unwrap();
    let e = expect(K::EcdhEsA128Kw, E::A128Gcm);
    let to_retired = |extra| encrypt(K::EcdhEsA128Kw, E::A128Gcm, To::Key(&retired), extra, b"x");
    // By kid.
    let out = decrypt_compact(&to_retired(json!({"kid":"retired"})), &e, &keys).unwrap();
    assert_eq!(out.key_id(), Some("retired"));
    // Without kid: each key in turn.
    let out = decrypt_compact(&to_retired(json!({})), &e, &keys).unwrap();
    assert_eq!(out.key_id(), Some("retired"));
    // The wrong kid picks the wrong key: no fallback to the others.
    assert_eq!(
        decrypt_compact(&to_retired(json!({"kid":"current"})), &e, &keys).unwrap_err(),
        JoseError::DecryptionFailed
    );
    // An unknown kid.
    assert!(matches!(
        decrypt_compact(&to_retired(json!({"kid":"gone"})), &e, &keys).unwrap_err(),
        JoseError::NoDecryptionKey { .. }
    ));
    // No key of the right type at all.
    let rsa_only = DecryptionKeys::new().with_key(RSA.clone()).unwrap();
    assert!(matches!(
        decrypt_compact(&to_retired(json!({})), &e, &rsa_only).unwrap_err(),
        JoseError::NoDecryptionKey { .. }
    ));
    // No client secret for dir.
    let key = derive_key_from_client_secret(SECRET, 16).unwrap();
    let token = encrypt(K::Dir, E::A128Gcm, To::Symmetric(&key), json!({}), b"x");
    assert!(matches!(
        decrypt_compact(&token, &expect(K::Dir, E::A128Gcm), &keys).unwrap_err(),
        JoseError::NoDecryptionKey { .. }
    ));
}

#[test]
fn trial_decryption_is_bounded() {
    let mut keys = DecryptionKeys::new();
    let generated: Vec<DecryptionKey> = (0..=MAX_KEY_ATTEMPTS)
        .map(|_| DecryptionKey::generate(K::EcdhEs, None).unwrap())
        .collect();
    for k in &generated {
        keys.push(k.clone()).unwrap();
    }
    let e = expect(K::EcdhEs, E::A128Gcm);
    let nth = |i: usize| {
        encrypt(
            K::EcdhEs,
            E::A128Gcm,
            To::Key(&generated[i]),
            json!({}),
            b"x",
        )
    };
    assert!(decrypt_compact(&nth(MAX_KEY_ATTEMPTS - 1), &e, &keys).is_ok());
    assert_eq!(
        decrypt_compact(&nth(MAX_KEY_ATTEMPTS), &e, &keys).unwrap_err(),
        JoseError::DecryptionFailed
    );
    // The set itself is capped.
    let mut full = DecryptionKeys::new();
    for _ in 0..MAX_DECRYPTION_KEYS {
        full.push(generated[0].clone()).unwrap();
    }
    assert!(matches!(
        full.push(generated[0].clone()),
        Err(JoseError::TooLarge { .. })
    ));
}

#[test]
fn rsa_oaep_with_the_wrong_key_fails_like_a_bad_tag() {
    let other = DecryptionKey::generate(K::RsaOaep, None).unwrap();
    let keys = DecryptionKeys::new().with_key(other).unwrap();
    let token = encrypt(K::RsaOaep, E::A128Gcm, To::Key(&RSA), json!({}), b"x");
    assert_eq!(
        decrypt_compact(&token, &expect(K::RsaOaep, E::A128Gcm), &keys).unwrap_err(),
        JoseError::DecryptionFailed
    );
    // An RSA-OAEP token opened as RSA-OAEP-256 (header edited to match): the OAEP hash differs.
    let mut h = header_of(&token);
    h.insert("alg".into(), json!("RSA-OAEP-256"));
    let all = all_keys();
    assert_eq!(
        decrypt_compact(
            &with_header(&token, &h.into()),
            &expect(K::RsaOaep256, E::A128Gcm),
            &all
        )
        .unwrap_err(),
        JoseError::DecryptionFailed
    );
}

/// Sign-then-encrypt with the crate's own signer; the inner JWS goes through the JWS verifier.
#[test]
fn nested_jwt_round_trip() {
    let signer = SigningKey::generate(Algorithm::ES256, None)
        .unwrap()
        .with_kid("op-1");
    let claims = br#"{"iss":"https://op.example","sub":"alice"}"#;
    let header = jws::Header {
        typ: Some("JWT".into()),
        ..jws::Header::default()
    };
    let inner = jws::sign_compact(&header, claims, &signer, &SystemRandom::new()).unwrap();
    for cty in ["JWT", "jwt", "application/JWT"] {
        let token = encrypt(
            K::EcdhEsA256Kw,
            E::A256Gcm,
            To::Key(p256()),
            json!({"cty": cty, "kid": "P-256"}),
            inner.as_bytes(),
        );
        let out =
            decrypt_compact(&token, &expect(K::EcdhEsA256Kw, E::A256Gcm), &all_keys()).unwrap();
        assert!(out.is_nested_jwt(), "{cty}");
        let jws = out.nested_jws().unwrap();
        let verifier = signer.verifying_key().unwrap();
        assert_eq!(jws.verify(Algorithm::ES256, &verifier).unwrap(), claims);
        assert!(jws.verify(Algorithm::ES384, &verifier).is_err());
    }
    // Plain JSON content is not a nested JWT.
    let token = encrypt(K::EcdhEs, E::A128Gcm, To::Key(p256()), json!({}), claims);
    let out = decrypt_compact(&token, &expect(K::EcdhEs, E::A128Gcm), &all_keys()).unwrap();
    assert!(!out.is_nested_jwt());
    assert!(out.nested_jws().is_err());
}

#[test]
fn nothing_secret_in_debug() {
    let key = derive_key_from_client_secret(SECRET, 16).unwrap();
    let token = encrypt(
        K::Dir,
        E::A128Gcm,
        To::Symmetric(&key),
        json!({}),
        b"very secret payload",
    );
    let out = decrypt_compact(&token, &expect(K::Dir, E::A128Gcm), &all_keys()).unwrap();
    let debug = format!("{out:?}");
    assert!(!debug.contains("very secret"));
    assert!(debug.contains("plaintext_len: 19"));
    let debug = format!("{:?}", all_keys());
    assert!(!debug.contains("client secret of some length"));
    assert!(debug.contains("<redacted>"));
    assert!(format!("{:?}", &*RSA).contains("rsa-1"));
    assert_eq!(out.into_plaintext().as_slice(), b"very secret payload");
}

/// The attempt bound counts only keys on the epk's curve.
#[test]
fn curve_filter_comes_before_the_attempt_bound() {
    let mut keys = DecryptionKeys::new();
    for _ in 0..MAX_KEY_ATTEMPTS {
        keys.push(DecryptionKey::generate(K::EcdhEs, None).unwrap())
            .unwrap();
    }
    keys.push(EC[3].clone()).unwrap();
    let token = encrypt(K::EcdhEs, E::A128Gcm, To::Key(&EC[3]), json!({}), b"x");
    let out = decrypt_compact(&token, &expect(K::EcdhEs, E::A128Gcm), &keys).unwrap();
    assert_eq!(out.key_id(), Some("X25519"));
}
