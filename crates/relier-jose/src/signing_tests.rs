use super::*;
use aws_lc_rs::encoding::{AsDer, EcPrivateKeyRfc5915Der};
use aws_lc_rs::rand::SystemRandom;

const ASYMMETRIC: [Algorithm; 10] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::ES512,
    Algorithm::EdDSA,
];

const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

fn assert_public_only(jwk: &Jwk) {
    assert!(!jwk.is_private());
    let value = serde_json::to_value(jwk).unwrap();
    let obj = value.as_object().unwrap();
    for member in PRIVATE_MEMBERS {
        assert!(!obj.contains_key(member), "{member} in {value}");
    }
}

#[test]
fn generated_keys_round_trip() {
    let rng = SystemRandom::new();
    for alg in ASYMMETRIC {
        let key = SigningKey::generate(alg, None).unwrap().with_kid("k1");
        assert_eq!(key.algorithm(), alg);
        let sig = key.sign(b"input", &rng).unwrap();
        let verifier = key.verifying_key().unwrap();
        assert_eq!(verifier.kid(), Some("k1"));
        assert_eq!(verifier.jwk_alg(), Some(alg.as_str()));
        assert!(verifier.verify(alg, b"input", &sig).is_ok(), "{alg}");
        // Through the published JWK as a relying party would see it.
        let json = serde_json::to_string(&key.public_jwk().unwrap()).unwrap();
        let from_json = VerifyingKey::from_jwk(&Jwk::from_json(&json).unwrap()).unwrap();
        assert!(from_json.verify(alg, b"input", &sig).is_ok(), "{alg}");
    }
}

#[test]
fn ecdsa_signatures_are_fixed_width() {
    let rng = SystemRandom::new();
    for (alg, len) in [
        (Algorithm::ES256, 64),
        (Algorithm::ES384, 96),
        (Algorithm::ES512, 132),
    ] {
        let key = SigningKey::generate(alg, None).unwrap();
        assert_eq!(key.sign(b"x", &rng).unwrap().len(), len);
    }
}

#[test]
fn public_jwk_never_has_private_members() {
    for alg in ASYMMETRIC {
        let key = SigningKey::generate(alg, None).unwrap();
        let jwk = key.public_jwk().unwrap();
        assert_public_only(&jwk);
        assert_eq!(jwk.use_.as_deref(), Some("sig"));
        assert_eq!(jwk.alg.as_deref(), Some(alg.as_str()));
        // Also for keys loaded from a private JWK.
        if let Some(private) = private_jwk_of(&key) {
            assert!(private.is_private());
            let reloaded = SigningKey::from_jwk(&private, None).unwrap();
            assert_public_only(&reloaded.public_jwk().unwrap());
            assert_eq!(
                reloaded.public_jwk().unwrap().thumbprint_sha256(),
                jwk.thumbprint_sha256()
            );
        }
    }
}

/// The private JWK of a generated EC or Ed25519 key. aws-lc-rs does not export RSA private
/// components, so RSA private JWKs are covered by the RFC 7520 key in rfc_vectors_tests.rs.
fn private_jwk_of(key: &SigningKey) -> Option<Jwk> {
    use aws_lc_rs::encoding::{AsBigEndian, Curve25519SeedBin, EcPrivateKeyBin};
    let mut jwk = key.public_jwk().unwrap();
    let d = match &*key.inner {
        Inner::Ec(_, kp) => {
            let d: EcPrivateKeyBin<'static> = kp.private_key().as_be_bytes().unwrap();
            b64::encode(d.as_ref())
        }
        Inner::Ed25519(kp) => {
            let seed: Curve25519SeedBin<'static> = kp.seed().unwrap().as_be_bytes().unwrap();
            b64::encode(seed.as_ref())
        }
        Inner::Rsa(_) | Inner::Hmac { .. } => return None,
    };
    jwk.d = Some(Zeroizing::new(d));
    Some(jwk)
}

#[test]
fn pkcs8_pem_round_trip_for_every_key_type() {
    let rng = SystemRandom::new();
    for alg in [
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
    ] {
        let key = SigningKey::generate(alg, None).unwrap();
        let der = key.to_pkcs8_der().unwrap();
        let pem = pem::encode("PRIVATE KEY", &der);
        assert_eq!(pem.as_str(), key.to_pkcs8_pem().unwrap().as_str());
        // Default algorithm per key type.
        let loaded = SigningKey::from_pkcs8_pem(&pem, None).unwrap();
        assert_eq!(loaded.algorithm(), alg);
        assert_eq!(
            loaded.public_jwk().unwrap().thumbprint_sha256(),
            key.thumbprint_sha256()
        );
        let sig = loaded.sign(b"m", &rng).unwrap();
        assert!(key.verifying_key().unwrap().verify(alg, b"m", &sig).is_ok());
        // DER directly.
        assert_eq!(
            SigningKey::from_pkcs8_der(&der, None).unwrap().algorithm(),
            alg
        );
    }
}

#[test]
fn rsa_pem_may_choose_any_rsa_algorithm() {
    let key = SigningKey::generate(Algorithm::RS256, None).unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    for alg in [Algorithm::PS256, Algorithm::RS512] {
        assert_eq!(
            SigningKey::from_pkcs8_pem(&pem, Some(alg))
                .unwrap()
                .algorithm(),
            alg
        );
    }
    for alg in [
        Algorithm::ES256,
        Algorithm::HS256,
        Algorithm::EdDSA,
        Algorithm::None,
    ] {
        assert!(matches!(
            SigningKey::from_pkcs8_pem(&pem, Some(alg)),
            Err(JoseError::KeyTypeMismatch { .. })
        ));
    }
    let p384 = SigningKey::generate(Algorithm::ES384, None)
        .unwrap()
        .to_pkcs8_pem()
        .unwrap();
    assert!(matches!(
        SigningKey::from_pkcs8_pem(&p384, Some(Algorithm::ES256)),
        Err(JoseError::KeyTypeMismatch { .. })
    ));
}

/// Extracts the privateKey OCTET STRING of a PKCS#8 PrivateKeyInfo (test-only DER walk).
fn pkcs8_inner(der: &[u8]) -> Vec<u8> {
    fn header(b: &[u8]) -> (u8, usize, usize) {
        let tag = b[0];
        if b[1] & 0x80 == 0 {
            (tag, 2, b[1] as usize)
        } else {
            let n = (b[1] & 0x7f) as usize;
            let len = b[2..2 + n]
                .iter()
                .fold(0usize, |a, &x| (a << 8) | x as usize);
            (tag, 2 + n, len)
        }
    }
    let (tag, hl, _) = header(der);
    assert_eq!(tag, 0x30);
    let mut rest = &der[hl..];
    loop {
        let (tag, hl, len) = header(rest);
        if tag == 0x04 {
            return rest[hl..hl + len].to_vec();
        }
        rest = &rest[hl + len..];
    }
}

#[test]
fn legacy_pem_formats_load() {
    // PKCS#1 "RSA PRIVATE KEY".
    let rsa = SigningKey::generate(Algorithm::RS256, None).unwrap();
    let pkcs1 = pkcs8_inner(&rsa.to_pkcs8_der().unwrap());
    let pem = pem::encode("RSA PRIVATE KEY", &pkcs1);
    let loaded = SigningKey::from_pkcs8_pem(&pem, Some(Algorithm::PS384)).unwrap();
    assert_eq!(loaded.algorithm(), Algorithm::PS384);
    assert_eq!(loaded.thumbprint_sha256(), rsa.thumbprint_sha256());
    // SEC 1 "EC PRIVATE KEY".
    for alg in [Algorithm::ES256, Algorithm::ES384, Algorithm::ES512] {
        let ec = SigningKey::generate(alg, None).unwrap();
        let Inner::Ec(_, kp) = &*ec.inner else {
            unreachable!()
        };
        let sec1: EcPrivateKeyRfc5915Der<'static> = kp.private_key().as_der().unwrap();
        let pem = pem::encode("EC PRIVATE KEY", sec1.as_ref());
        let loaded = SigningKey::from_pkcs8_pem(&pem, None).unwrap();
        assert_eq!(loaded.algorithm(), alg);
        assert_eq!(loaded.thumbprint_sha256(), ec.thumbprint_sha256());
    }
}

#[test]
fn bad_private_keys_are_refused() {
    assert!(matches!(
        SigningKey::from_pkcs8_der(b"garbage", None),
        Err(JoseError::InvalidKey { .. })
    ));
    assert!(SigningKey::from_pkcs8_der(&[], None).is_err());
    assert!(matches!(
        SigningKey::from_pkcs8_der(&vec![0x30; MAX_KEY_DER_BYTES + 1], None),
        Err(JoseError::TooLarge { .. })
    ));
    assert!(SigningKey::from_pkcs8_pem("not a pem", None).is_err());
    let wrong_label = pem::encode("CERTIFICATE", b"x");
    assert!(SigningKey::from_pkcs8_pem(&wrong_label, None).is_err());
    let encrypted = pem::encode("ENCRYPTED PRIVATE KEY", b"x");
    assert!(SigningKey::from_pkcs8_pem(&encrypted, None).is_err());
    let garbage = pem::encode("EC PRIVATE KEY", b"x");
    assert!(SigningKey::from_pkcs8_pem(&garbage, None).is_err());
}

#[test]
fn hmac_keys() {
    let short = SigningKey::hmac(Algorithm::HS256, &[1; 31]);
    assert!(matches!(
        short,
        Err(JoseError::HmacKeyTooShort {
            alg: Algorithm::HS256,
            min_bytes: 32,
            got: 31
        })
    ));
    assert!(SigningKey::hmac(Algorithm::HS256, &[1; 32]).is_ok());
    assert!(SigningKey::hmac(Algorithm::HS384, &[1; 47]).is_err());
    assert!(SigningKey::hmac(Algorithm::HS512, &[1; 64]).is_ok());
    assert!(matches!(
        SigningKey::hmac(Algorithm::RS256, &[1; 64]),
        Err(JoseError::UnsupportedAlgorithm(_))
    ));
    let key = SigningKey::hmac(
        Algorithm::HS384,
        b"0123456789abcdef0123456789abcdef0123456789abcdef",
    )
    .unwrap();
    assert!(!format!("{key:?}").contains("0123"));
    assert!(matches!(key.public_jwk(), Err(JoseError::SymmetricKey)));
    assert!(matches!(
        key.thumbprint_sha256(),
        Err(JoseError::SymmetricKey)
    ));
    assert!(matches!(key.to_pkcs8_der(), Err(JoseError::SymmetricKey)));
    let rng = SystemRandom::new();
    let sig = key.sign(b"m", &rng).unwrap();
    assert_eq!(sig.len(), 48);
    let verifier = key.verifying_key().unwrap();
    assert!(verifier.verify(Algorithm::HS384, b"m", &sig).is_ok());
    // The verifying key is bound to the signing algorithm.
    assert!(!verifier.is_compatible(Algorithm::HS256));
    let generated = SigningKey::generate_hmac(Algorithm::HS512, &rng).unwrap();
    assert_eq!(generated.algorithm(), Algorithm::HS512);
    assert!(SigningKey::generate_hmac(Algorithm::ES256, &rng).is_err());
}

#[test]
fn generation_limits() {
    assert!(matches!(
        SigningKey::generate(Algorithm::RS256, Some(1024)),
        Err(JoseError::RsaKeyTooSmall { bits: 1024 })
    ));
    assert!(matches!(
        SigningKey::generate(Algorithm::PS256, Some(2049)),
        Err(JoseError::UnsupportedRsaKeySize { bits: 2049 })
    ));
    for alg in [Algorithm::HS256, Algorithm::None] {
        assert!(matches!(
            SigningKey::generate(alg, None),
            Err(JoseError::UnsupportedAlgorithm(_))
        ));
    }
    // rsa_bits is ignored for non-RSA algorithms.
    assert!(SigningKey::generate(Algorithm::ES256, Some(1)).is_ok());
}

#[test]
fn larger_rsa_keys() {
    let rng = SystemRandom::new();
    for bits in [3072, 4096] {
        let key = SigningKey::generate(Algorithm::PS512, Some(bits)).unwrap();
        let verifier = key.verifying_key().unwrap();
        assert_eq!(verifier.rsa_bits(), Some(bits));
        let sig = key.sign(b"m", &rng).unwrap();
        assert_eq!(sig.len(), bits / 8);
        assert!(verifier.verify(Algorithm::PS512, b"m", &sig).is_ok());
    }
}

#[test]
fn private_jwk_rules() {
    let ec = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let private = private_jwk_of(&ec).unwrap();
    // The JWK "alg" is the default; a different explicit alg conflicts.
    assert!(matches!(
        SigningKey::from_jwk(&private, Some(Algorithm::ES384)),
        Err(JoseError::KeyAlgorithmMismatch { .. })
    ));
    let mut no_alg = private.clone();
    no_alg.alg = None;
    assert_eq!(
        SigningKey::from_jwk(&no_alg, None).unwrap().algorithm(),
        Algorithm::ES256
    );
    assert!(matches!(
        SigningKey::from_jwk(&no_alg, Some(Algorithm::ES384)),
        Err(JoseError::KeyTypeMismatch { .. })
    ));
    // Public only.
    assert!(matches!(
        SigningKey::from_jwk(&private.to_public(), None),
        Err(JoseError::NotPrivateKey)
    ));
    // use / key_ops.
    let mut enc = private.clone();
    enc.use_ = Some("enc".into());
    assert!(matches!(
        SigningKey::from_jwk(&enc, None),
        Err(JoseError::KeyUseMismatch { .. })
    ));
    let mut ops = private.clone();
    ops.key_ops = Some(vec!["verify".into()]);
    assert!(matches!(
        SigningKey::from_jwk(&ops, None),
        Err(JoseError::KeyOpsMismatch { op: "sign" })
    ));
    // A private scalar that does not match the public point.
    let other = private_jwk_of(&SigningKey::generate(Algorithm::ES256, None).unwrap()).unwrap();
    let mut mixed = private.clone();
    mixed.d = other.d.clone();
    assert!(matches!(
        SigningKey::from_jwk(&mixed, None),
        Err(JoseError::InvalidKey { .. })
    ));
    // Short "d".
    let mut short = private.clone();
    short.d = Some(Zeroizing::new(b64::encode(&[1; 31])));
    assert!(SigningKey::from_jwk(&short, None).is_err());
    // Ed25519 seed not matching x.
    let ed = private_jwk_of(&SigningKey::generate(Algorithm::EdDSA, None).unwrap()).unwrap();
    let mut ed_mixed = ed.clone();
    ed_mixed.d = Some(Zeroizing::new(b64::encode(&[3; 32])));
    assert!(SigningKey::from_jwk(&ed_mixed, None).is_err());
    assert!(SigningKey::from_jwk(&ed, None).is_ok());
}

#[test]
fn oct_and_rsa_private_jwk_rules() {
    let oct = Jwk::from_json(
        r#"{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","kid":"h"}"#,
    )
    .unwrap();
    assert!(matches!(
        SigningKey::from_jwk(&oct, None),
        Err(JoseError::MissingMember { member: "alg" })
    ));
    let key = SigningKey::from_jwk(&oct, Some(Algorithm::HS256)).unwrap();
    assert_eq!(key.kid(), Some("h"));
    assert!(matches!(
        SigningKey::from_jwk(&oct, Some(Algorithm::HS384)),
        Err(JoseError::HmacKeyTooShort { .. })
    ));
    // RSA with only "d" (no CRT parameters) is refused.
    let rsa = SigningKey::generate(Algorithm::RS256, None).unwrap();
    let mut only_d = rsa.public_jwk().unwrap();
    only_d.d = Some(Zeroizing::new(b64::encode(&[5; 256])));
    assert!(matches!(
        SigningKey::from_jwk(&only_d, None),
        Err(JoseError::MissingMember { member: "p" })
    ));
    let mut multi = only_d.clone();
    multi.extra.insert("oth".into(), serde_json::json!([]));
    assert!(matches!(
        SigningKey::from_jwk(&multi, None),
        Err(JoseError::InvalidKey { .. })
    ));
    assert!(SigningKey::from_jwk_json("{", None).is_err());
    assert!(matches!(
        SigningKey::from_jwk_json(r#"{"kty":"EC","alg":"ES999","d":"AA"}"#, None),
        Err(JoseError::UnsupportedAlgorithm(_))
    ));
}

#[test]
fn debug_shows_alg_and_kid_only() {
    let key = SigningKey::generate(Algorithm::EdDSA, None)
        .unwrap()
        .with_kid("my-kid");
    let dbg = format!("{key:?}");
    assert!(dbg.contains("EdDSA"));
    assert!(dbg.contains("my-kid"));
    let seed = match &*key.inner {
        Inner::Ed25519(kp) => {
            use aws_lc_rs::encoding::{AsBigEndian, Curve25519SeedBin};
            let s: Curve25519SeedBin<'static> = kp.seed().unwrap().as_be_bytes().unwrap();
            b64::encode(s.as_ref())
        }
        _ => unreachable!(),
    };
    assert!(!dbg.contains(&seed));
}

#[test]
fn clones_share_the_key() {
    let key = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let copy = key.clone().with_kid("x");
    assert!(Arc::ptr_eq(&key.inner, &copy.inner));
    assert_eq!(key.kid(), None);
    assert_eq!(copy.kid(), Some("x"));
}

#[test]
fn pem_with_certificate_before_the_key() {
    let key = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let bundle = format!(
        "{}{}",
        pem::encode("CERTIFICATE", b"not parsed").as_str(),
        key.to_pkcs8_pem().unwrap().as_str()
    );
    let loaded = SigningKey::from_pkcs8_pem(&bundle, None).unwrap();
    assert_eq!(loaded.thumbprint_sha256(), key.thumbprint_sha256());
}
