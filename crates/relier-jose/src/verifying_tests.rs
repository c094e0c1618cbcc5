use super::*;
use crate::b64;
use crate::signing::SigningKey;
use aws_lc_rs::rand::SystemRandom;

fn jwk(json: &str) -> Jwk {
    Jwk::from_json(json).unwrap()
}

fn generated_public(alg: Algorithm) -> (SigningKey, Jwk) {
    let key = SigningKey::generate(alg, None).unwrap();
    let public = key.public_jwk().unwrap();
    (key, public)
}

#[test]
fn key_types_fit_only_their_algorithms() {
    let cases = [
        (Algorithm::RS256, "RSA"),
        (Algorithm::ES256, "EC P-256"),
        (Algorithm::ES384, "EC P-384"),
        (Algorithm::ES512, "EC P-521"),
        (Algorithm::EdDSA, "OKP Ed25519"),
    ];
    for (alg, key_type) in cases {
        let (_, mut public) = generated_public(alg);
        public.alg = None; // no JWK restriction: only the key type decides
        let key = VerifyingKey::from_jwk(&public).unwrap();
        assert_eq!(key.key_type(), key_type);
        for other in Algorithm::ALL {
            let expected = match key_type {
                "RSA" => other.is_rsa(),
                _ => other == alg,
            };
            assert_eq!(
                key.is_compatible(other),
                expected,
                "{key_type} with {other}"
            );
        }
    }
}

#[test]
fn jwk_alg_restricts_the_key() {
    let (_, public) = generated_public(Algorithm::PS256);
    let key = VerifyingKey::from_jwk(&public).unwrap();
    assert_eq!(key.jwk_alg(), Some("PS256"));
    assert!(key.is_compatible(Algorithm::PS256));
    assert!(matches!(
        key.check_compatible(Algorithm::RS256),
        Err(JoseError::KeyAlgorithmMismatch {
            expected: Algorithm::RS256,
            ..
        })
    ));
}

#[test]
fn enc_keys_are_never_compatible() {
    let (_, mut public) = generated_public(Algorithm::ES256);
    public.use_ = Some("enc".into());
    let key = VerifyingKey::from_jwk(&public).unwrap();
    assert_eq!(key.key_use(), Some("enc"));
    assert!(!key.is_compatible(Algorithm::ES256));
    assert!(matches!(
        key.verify(Algorithm::ES256, b"x", &[0; 64]),
        Err(JoseError::KeyUseMismatch { .. })
    ));
}

#[test]
fn key_ops_must_include_verify() {
    let (_, mut public) = generated_public(Algorithm::EdDSA);
    public.key_ops = Some(vec!["sign".into()]);
    let key = VerifyingKey::from_jwk(&public).unwrap();
    assert!(matches!(
        key.check_compatible(Algorithm::EdDSA),
        Err(JoseError::KeyOpsMismatch { op: "verify" })
    ));
    public.key_ops = Some(vec!["sign".into(), "verify".into()]);
    assert!(
        VerifyingKey::from_jwk(&public)
            .unwrap()
            .is_compatible(Algorithm::EdDSA)
    );
}

#[test]
fn none_is_refused() {
    let key = VerifyingKey::hmac(&[7; 64]);
    assert!(matches!(
        key.verify(Algorithm::None, b"x", b""),
        Err(JoseError::AlgorithmNoneRefused)
    ));
}

#[test]
fn alg_confusion_rsa_public_key_as_hmac_secret() {
    // The classic attack: sign HS256 with the RSA public key bytes as the HMAC secret.
    let (_, public) = generated_public(Algorithm::RS256);
    let key = VerifyingKey::from_jwk(&public).unwrap();
    let n = b64::decode(public.n.as_deref().unwrap()).unwrap();
    let forged = SigningKey::hmac(Algorithm::HS256, &n).unwrap();
    let sig = forged.sign(b"input", &SystemRandom::new()).unwrap();
    // The genuine HMAC check would pass with that secret...
    assert!(
        VerifyingKey::hmac(&n)
            .verify(Algorithm::HS256, b"input", &sig)
            .is_ok()
    );
    // ...but an RSA verifying key is never an HMAC key.
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        assert!(!key.is_compatible(alg));
        assert!(matches!(
            key.verify(alg, b"input", &sig),
            Err(JoseError::KeyTypeMismatch { .. })
        ));
    }
}

#[test]
fn hmac_secret_length_is_checked_per_algorithm() {
    let key = VerifyingKey::hmac(&[1; 48]);
    assert!(key.is_compatible(Algorithm::HS256));
    assert!(key.is_compatible(Algorithm::HS384));
    assert!(matches!(
        key.check_compatible(Algorithm::HS512),
        Err(JoseError::HmacKeyTooShort {
            alg: Algorithm::HS512,
            min_bytes: 64,
            got: 48
        })
    ));
    assert!(!key.is_compatible(Algorithm::RS256));
    let short = VerifyingKey::hmac(&[1; 31]);
    assert!(matches!(
        short.verify(Algorithm::HS256, b"x", &[0; 32]),
        Err(JoseError::HmacKeyTooShort { got: 31, .. })
    ));
    assert!(!VerifyingKey::hmac(&[]).is_compatible(Algorithm::HS256));
}

#[test]
fn hmac_debug_has_no_secret() {
    let key = VerifyingKey::hmac(b"super-secret-super-secret-super-secret").with_kid("k");
    let dbg = format!("{key:?}");
    assert!(!dbg.contains("super"), "{dbg}");
    assert!(dbg.contains("\"k\""));
}

#[test]
fn wrong_signatures_fail_cleanly() {
    let rng = SystemRandom::new();
    for alg in [
        Algorithm::RS256,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
    ] {
        let signer = SigningKey::generate(alg, None).unwrap();
        let key = signer.verifying_key().unwrap();
        let mut sig = signer.sign(b"message", &rng).unwrap();
        assert!(key.verify(alg, b"message", &sig).is_ok(), "{alg}");
        assert!(matches!(
            key.verify(alg, b"massage", &sig),
            Err(JoseError::InvalidSignature)
        ));
        let last = sig.len() - 1;
        sig[last] ^= 1;
        assert!(matches!(
            key.verify(alg, b"message", &sig),
            Err(JoseError::InvalidSignature)
        ));
        for bad in [&[][..], &[0][..], &sig[..last], &[0xff; 1000][..]] {
            assert!(matches!(
                key.verify(alg, b"message", bad),
                Err(JoseError::InvalidSignature)
            ));
        }
    }
}

#[test]
fn private_members_are_ignored_and_not_kept() {
    let signer = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let mut private = signer.public_jwk().unwrap();
    private.d = Some(zeroize::Zeroizing::new("c2VjcmV0".into()));
    let key = VerifyingKey::from_jwk(&private).unwrap();
    assert!(!format!("{key:?}").contains("c2VjcmV0"));
    let sig = signer.sign(b"m", &SystemRandom::new()).unwrap();
    assert!(key.verify(Algorithm::ES256, b"m", &sig).is_ok());
}

#[test]
fn malformed_public_jwks_are_refused() {
    let n2048 = b64::encode(&[0xc3; 256]);
    let n1024 = b64::encode(&[0xc3; 128]);
    let p256 = b64::encode(&[1; 32]);
    let cases: Vec<(String, &str)> = vec![
        (r#"{"kty":"RSA","e":"AQAB"}"#.into(), "missing n"),
        (format!(r#"{{"kty":"RSA","n":"{n2048}"}}"#), "missing e"),
        (
            format!(r#"{{"kty":"RSA","n":"{n2048}=","e":"AQAB"}}"#),
            "padding",
        ),
        (
            format!(r#"{{"kty":"RSA","n":"{n2048}","e":"AAE"}}"#),
            "e = 1",
        ),
        (
            format!(r#"{{"kty":"RSA","n":"{n2048}","e":"AQAA"}}"#),
            "even e",
        ),
        (r#"{"kty":"EC","x":"AA","y":"AA"}"#.into(), "missing crv"),
        (
            r#"{"kty":"EC","crv":"P-256K","x":"AA","y":"AA"}"#.into(),
            "unknown curve",
        ),
        (
            format!(r#"{{"kty":"EC","crv":"P-384","x":"{p256}","y":"{p256}"}}"#),
            "short coordinates",
        ),
        (
            format!(r#"{{"kty":"EC","crv":"P-256","x":"{p256}","y":"{p256}"}}"#),
            "not on the curve",
        ),
        (r#"{"kty":"OKP","crv":"X25519","x":"AA"}"#.into(), "X25519"),
        (
            r#"{"kty":"OKP","crv":"Ed25519","x":"AA"}"#.into(),
            "short Ed25519",
        ),
        (r#"{"kty":"oct","k":"AAAA"}"#.into(), "symmetric"),
        (r#"{"kty":"RSA-PSS"}"#.into(), "unknown kty"),
    ];
    for (json, why) in cases {
        assert!(VerifyingKey::from_jwk(&jwk(&json)).is_err(), "{why}");
    }
    assert!(matches!(
        VerifyingKey::from_jwk(&jwk(&format!(
            r#"{{"kty":"RSA","n":"{n1024}","e":"AQAB"}}"#
        ))),
        Err(JoseError::RsaKeyTooSmall { bits: 1024 })
    ));
}

#[test]
fn rsa_modulus_with_leading_zero_is_accepted() {
    let (signer, public) = generated_public(Algorithm::RS256);
    let mut n = vec![0u8];
    n.extend(b64::decode(public.n.as_deref().unwrap()).unwrap());
    let mut padded = public.clone();
    padded.n = Some(b64::encode(&n));
    let key = VerifyingKey::from_jwk(&padded).unwrap();
    assert_eq!(key.rsa_bits(), Some(2048));
    let sig = signer.sign(b"m", &SystemRandom::new()).unwrap();
    assert!(key.verify(Algorithm::RS256, b"m", &sig).is_ok());
}

#[test]
fn rsa_key_serves_all_rsa_algorithms() {
    let rng = SystemRandom::new();
    let signer = SigningKey::generate(Algorithm::RS256, None).unwrap();
    let der = signer.to_pkcs8_der().unwrap();
    let mut public = signer.public_jwk().unwrap();
    public.alg = None;
    let key = VerifyingKey::from_jwk(&public).unwrap();
    for alg in [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ] {
        let s = SigningKey::from_pkcs8_der(&der, Some(alg)).unwrap();
        let sig = s.sign(b"m", &rng).unwrap();
        assert!(key.verify(alg, b"m", &sig).is_ok(), "{alg}");
        // Twice: the second use hits the cached parsed key.
        assert!(key.verify(alg, b"m", &sig).is_ok(), "{alg}");
        // PKCS#1 v1.5 and PSS signatures are not interchangeable.
        let other = if alg.as_str().starts_with("RS") {
            Algorithm::PS256
        } else {
            Algorithm::RS256
        };
        assert!(key.verify(other, b"m", &sig).is_err());
    }
}
