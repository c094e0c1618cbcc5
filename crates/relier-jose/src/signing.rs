//! Signing keys: asymmetric private keys (RSA, ECDSA, Ed25519) and HMAC secrets.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::SecureRandom;
use aws_lc_rs::rsa::{KeyPairComponents, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaEncoding, RsaKeyPair,
};
use zeroize::Zeroizing;

use crate::alg::Algorithm;
use crate::b64;
use crate::error::JoseError;
use crate::jwk::Jwk;
use crate::keyutil::{
    Curve, RSA_MIN_BITS, check_rsa_public, check_signature_use, decode_member,
    decode_secret_member, rejected, strip_leading_zeros,
};
use crate::pem;
use crate::untrusted::untrusted;
use crate::verifying::{ED25519_KEY_LEN, VerifyingKey, check_hmac_len, hmac_algorithm};

/// A DER private key may be at most this many bytes (an 8192-bit RSA key is about 4.7 KiB).
pub const MAX_KEY_DER_BYTES: usize = 16 * 1024;

/// A private signing key (RSA, ECDSA, Ed25519) or an HMAC key, parsed once, bound to one
/// algorithm. Cloning is cheap (the key material is shared).
#[derive(Clone)]
pub struct SigningKey {
    alg: Algorithm,
    kid: Option<String>,
    inner: Arc<Inner>,
}

enum Inner {
    Rsa(RsaKeyPair),
    Ec(Curve, EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Hmac {
        key: Box<hmac::Key>,
        secret: Zeroizing<Vec<u8>>,
    },
}

impl Inner {
    fn key_type(&self) -> &'static str {
        match self {
            Inner::Rsa(_) => "RSA",
            Inner::Ec(curve, _) => curve.key_type(),
            Inner::Ed25519(_) => "OKP Ed25519",
            Inner::Hmac { .. } => "oct",
        }
    }

    /// The algorithm used when the caller names none: RSA→RS256, P-256→ES256, P-384→ES384,
    /// P-521→ES512, Ed25519→EdDSA.
    fn default_alg(&self) -> Option<Algorithm> {
        match self {
            Inner::Rsa(_) => Some(Algorithm::RS256),
            Inner::Ec(curve, _) => Some(curve.algorithm()),
            Inner::Ed25519(_) => Some(Algorithm::EdDSA),
            Inner::Hmac { .. } => None,
        }
    }

    fn fits(&self, alg: Algorithm) -> bool {
        match self {
            Inner::Rsa(_) => alg.is_rsa(),
            Inner::Ec(curve, _) => curve.algorithm() == alg,
            Inner::Ed25519(_) => alg == Algorithm::EdDSA,
            Inner::Hmac { .. } => alg.is_hmac(),
        }
    }
}

fn rsa_encoding(alg: Algorithm) -> Result<&'static dyn RsaEncoding, JoseError> {
    // PSS: MGF1 with the same hash, salt as long as the hash (RFC 7518 §3.5).
    match alg {
        Algorithm::RS256 => Ok(&sig::RSA_PKCS1_SHA256),
        Algorithm::RS384 => Ok(&sig::RSA_PKCS1_SHA384),
        Algorithm::RS512 => Ok(&sig::RSA_PKCS1_SHA512),
        Algorithm::PS256 => Ok(&sig::RSA_PSS_SHA256),
        Algorithm::PS384 => Ok(&sig::RSA_PSS_SHA384),
        Algorithm::PS512 => Ok(&sig::RSA_PSS_SHA512),
        other => Err(JoseError::UnsupportedAlgorithm(other.as_str().to_owned())),
    }
}

impl SigningKey {
    fn new(inner: Inner, alg: Option<Algorithm>, kid: Option<String>) -> Result<Self, JoseError> {
        let alg = match alg.or_else(|| inner.default_alg()) {
            Some(alg) => alg,
            None => return Err(JoseError::UnsupportedAlgorithm("(none given)".to_owned())),
        };
        if !inner.fits(alg) {
            return Err(JoseError::KeyTypeMismatch {
                alg,
                key_type: inner.key_type().to_owned(),
            });
        }
        if let Inner::Rsa(kp) = &inner {
            let bits = kp.public_modulus_len().saturating_mul(8);
            if bits < RSA_MIN_BITS {
                return Err(JoseError::RsaKeyTooSmall { bits });
            }
        }
        Ok(SigningKey {
            alg,
            kid,
            inner: Arc::new(inner),
        })
    }

    /// Loads a PEM private key: "PRIVATE KEY" (PKCS#8), "RSA PRIVATE KEY" (PKCS#1) or
    /// "EC PRIVATE KEY" (SEC 1 / RFC 5915); the first such block is used, other blocks (e.g.
    /// certificates) are skipped. Encrypted keys are refused. With `alg` `None` the
    /// algorithm defaults per key type (RSA→RS256, P-256→ES256, P-384→ES384, P-521→ES512,
    /// Ed25519→EdDSA); a given `alg` must fit the key (RSA may be RS* or PS*).
    ///
    /// # Errors
    /// [`JoseError::Malformed`], [`JoseError::TooLarge`], [`JoseError::InvalidKey`],
    /// [`JoseError::KeyTypeMismatch`], [`JoseError::RsaKeyTooSmall`].
    pub fn from_pkcs8_pem(pem: &str, alg: Option<Algorithm>) -> Result<Self, JoseError> {
        // The first private-key block; a certificate chain in the same file is skipped.
        let (label, der) = pem::decode(pem, |label| label.ends_with("PRIVATE KEY"))?;
        check_der_len(&der)?;
        let inner = match label.as_str() {
            "PRIVATE KEY" => parse_pkcs8(&der)?,
            "RSA PRIVATE KEY" => Inner::Rsa(RsaKeyPair::from_der(&der).map_err(|e| rejected(&e))?),
            "EC PRIVATE KEY" => Curve::ALL
                .iter()
                .find_map(|&curve| {
                    EcdsaKeyPair::from_private_key_der(curve.signing_algorithm(), &der)
                        .ok()
                        .map(|kp| Inner::Ec(curve, kp))
                })
                .ok_or(JoseError::InvalidKey {
                    reason: "not an EC private key on P-256, P-384 or P-521",
                })?,
            "ENCRYPTED PRIVATE KEY" => {
                return Err(JoseError::malformed(
                    "PEM",
                    "encrypted PKCS#8 keys are not supported",
                ));
            }
            other => {
                return Err(JoseError::malformed(
                    "PEM",
                    format!("unsupported label {:?}", untrusted(other)),
                ));
            }
        };
        Self::new(inner, alg, None)
    }

    /// Loads an unencrypted PKCS#8 DER private key (RSA, EC P-256/P-384/P-521, Ed25519); `alg`
    /// as in [`SigningKey::from_pkcs8_pem`].
    ///
    /// # Errors
    /// As [`SigningKey::from_pkcs8_pem`].
    pub fn from_pkcs8_der(der: &[u8], alg: Option<Algorithm>) -> Result<Self, JoseError> {
        check_der_len(der)?;
        Self::new(parse_pkcs8(der)?, alg, None)
    }

    /// Loads a private JWK: RSA (n, e, d, p, q, dp, dq, qi), EC (crv, x, y, d), OKP Ed25519
    /// (crv, x, d) or oct (k; the algorithm must then be given or in the JWK). `alg` defaults
    /// to the JWK "alg" member, else per key type; if both are present they must agree. The
    /// key ID is the JWK "kid".
    ///
    /// # Errors
    /// [`JoseError::NotPrivateKey`], [`JoseError::MissingMember`], [`JoseError::Malformed`],
    /// [`JoseError::InvalidKey`], [`JoseError::KeyAlgorithmMismatch`],
    /// [`JoseError::KeyTypeMismatch`], [`JoseError::KeyUseMismatch`],
    /// [`JoseError::KeyOpsMismatch`], [`JoseError::UnsupportedKeyType`],
    /// [`JoseError::UnsupportedCurve`], [`JoseError::HmacKeyTooShort`].
    pub fn from_jwk(jwk: &Jwk, alg: Option<Algorithm>) -> Result<Self, JoseError> {
        if !jwk.is_private() {
            return Err(JoseError::NotPrivateKey);
        }
        check_signature_use(jwk.use_.as_deref(), jwk.key_ops.as_deref(), "sign")?;
        let jwk_alg = jwk
            .alg
            .as_deref()
            .map(str::parse::<Algorithm>)
            .transpose()?;
        let alg = match (alg, jwk_alg) {
            (Some(given), Some(key_alg)) if given != key_alg => {
                return Err(JoseError::KeyAlgorithmMismatch {
                    expected: given,
                    key_alg: key_alg.as_str().to_owned(),
                });
            }
            (given, key_alg) => given.or(key_alg),
        };
        let inner = match jwk.kty.as_str() {
            "RSA" => rsa_from_jwk(jwk)?,
            "EC" => ec_from_jwk(jwk)?,
            "OKP" => ed25519_from_jwk(jwk)?,
            "oct" => {
                let alg = alg.ok_or(JoseError::MissingMember { member: "alg" })?;
                let k = decode_secret_member(jwk.k.as_ref(), "k")?;
                return Ok(Self::hmac(alg, &k)?.with_kid_opt(jwk.kid.clone()));
            }
            other => return Err(JoseError::UnsupportedKeyType(untrusted(other))),
        };
        Self::new(inner, alg, jwk.kid.clone())
    }

    /// Parses a private JWK from JSON text (at most 16 KiB); see [`SigningKey::from_jwk`].
    ///
    /// # Errors
    /// As [`Jwk::from_json`] and [`SigningKey::from_jwk`].
    pub fn from_jwk_json(json: &str, alg: Option<Algorithm>) -> Result<Self, JoseError> {
        Self::from_jwk(&Jwk::from_json(json)?, alg)
    }

    /// An HMAC key for HS256/384/512.
    ///
    /// # Errors
    /// [`JoseError::HmacKeyTooShort`] if `secret` is shorter than the hash output
    /// (RFC 7518 §3.2); [`JoseError::UnsupportedAlgorithm`] for a non-HMAC `alg`.
    pub fn hmac(alg: Algorithm, secret: &[u8]) -> Result<Self, JoseError> {
        let algorithm = hmac_algorithm(alg)?;
        check_hmac_len(alg, secret.len())?;
        let inner = Inner::Hmac {
            key: Box::new(hmac::Key::new(algorithm, secret)),
            secret: Zeroizing::new(secret.to_vec()),
        };
        Self::new(inner, Some(alg), None)
    }

    /// Generates a fresh key for `alg`: RS*/PS* with `rsa_bits` 2048 (default), 3072 or 4096;
    /// ES256/ES384/ES512; EdDSA (Ed25519). `rsa_bits` is ignored for other algorithms. HMAC
    /// keys: [`SigningKey::generate_hmac`].
    ///
    /// aws-lc-rs draws key-generation randomness from its own DRBG.
    ///
    /// # Errors
    /// [`JoseError::UnsupportedAlgorithm`], [`JoseError::RsaKeyTooSmall`],
    /// [`JoseError::UnsupportedRsaKeySize`], [`JoseError::Crypto`].
    pub fn generate(alg: Algorithm, rsa_bits: Option<usize>) -> Result<Self, JoseError> {
        let inner = if alg.is_rsa() {
            let size = match rsa_bits.unwrap_or(2048) {
                2048 => KeySize::Rsa2048,
                3072 => KeySize::Rsa3072,
                4096 => KeySize::Rsa4096,
                bits if bits < RSA_MIN_BITS => return Err(JoseError::RsaKeyTooSmall { bits }),
                bits => return Err(JoseError::UnsupportedRsaKeySize { bits }),
            };
            Inner::Rsa(
                RsaKeyPair::generate(size).map_err(|_| JoseError::Crypto("RSA key generation"))?,
            )
        } else if alg.is_ecdsa() {
            let curve = match alg {
                Algorithm::ES256 => Curve::P256,
                Algorithm::ES384 => Curve::P384,
                _ => Curve::P521,
            };
            let kp = EcdsaKeyPair::generate(curve.signing_algorithm())
                .map_err(|_| JoseError::Crypto("EC key generation"))?;
            Inner::Ec(curve, kp)
        } else if alg == Algorithm::EdDSA {
            Inner::Ed25519(
                Ed25519KeyPair::generate()
                    .map_err(|_| JoseError::Crypto("Ed25519 key generation"))?,
            )
        } else {
            return Err(JoseError::UnsupportedAlgorithm(alg.as_str().to_owned()));
        };
        Self::new(inner, Some(alg), None)
    }

    /// Generates a random HMAC key as long as the hash output (RFC 7518 §3.2).
    ///
    /// # Errors
    /// [`JoseError::UnsupportedAlgorithm`] for a non-HMAC `alg`, [`JoseError::Crypto`] if `rng`
    /// fails.
    pub fn generate_hmac(alg: Algorithm, rng: &dyn SecureRandom) -> Result<Self, JoseError> {
        let len = alg
            .hmac_min_key_len()
            .ok_or_else(|| JoseError::UnsupportedAlgorithm(alg.as_str().to_owned()))?;
        let mut secret = Zeroizing::new(vec![0u8; len]);
        rng.fill(&mut secret)
            .map_err(|_| JoseError::Crypto("random source"))?;
        Self::hmac(alg, &secret)
    }

    /// The algorithm this key signs with.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key ID.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Sets the key ID.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    fn with_kid_opt(mut self, kid: Option<String>) -> Self {
        self.kid = kid;
        self
    }

    #[cfg(test)]
    pub(crate) fn without_kid(self) -> Self {
        self.with_kid_opt(None)
    }

    /// "RSA", "EC P-256", "EC P-384", "EC P-521", "OKP Ed25519" or "oct".
    #[must_use]
    pub fn key_type(&self) -> &'static str {
        self.inner.key_type()
    }

    /// The public JWK: public members, "kid", "alg" and "use":"sig"; never a private member.
    ///
    /// # Errors
    /// [`JoseError::SymmetricKey`] for an HMAC key.
    pub fn public_jwk(&self) -> Result<Jwk, JoseError> {
        let mut jwk = Jwk {
            kid: self.kid.clone(),
            use_: Some("sig".to_owned()),
            alg: Some(self.alg.as_str().to_owned()),
            ..Jwk::default()
        };
        match &*self.inner {
            Inner::Rsa(kp) => {
                let public = kp.public_key();
                jwk.kty = "RSA".to_owned();
                jwk.n = Some(b64::encode(
                    public.modulus().big_endian_without_leading_zero(),
                ));
                jwk.e = Some(b64::encode(
                    public.exponent().big_endian_without_leading_zero(),
                ));
            }
            Inner::Ec(curve, kp) => {
                // SEC 1 uncompressed point: 0x04 || x || y.
                let point = kp.public_key().as_ref();
                let len = curve.coord_len();
                let x = point.get(1..=len);
                let y = point.get(len.saturating_add(1)..);
                if point.len() != len.saturating_mul(2).saturating_add(1) {
                    return Err(JoseError::Crypto("EC public key encoding"));
                }
                let (Some(x), Some(y)) = (x, y) else {
                    return Err(JoseError::Crypto("EC public key encoding"));
                };
                jwk.kty = "EC".to_owned();
                jwk.crv = Some(curve.name().to_owned());
                jwk.x = Some(b64::encode(x));
                jwk.y = Some(b64::encode(y));
            }
            Inner::Ed25519(kp) => {
                jwk.kty = "OKP".to_owned();
                jwk.crv = Some("Ed25519".to_owned());
                jwk.x = Some(b64::encode(kp.public_key().as_ref()));
            }
            Inner::Hmac { .. } => return Err(JoseError::SymmetricKey),
        }
        Ok(jwk)
    }

    /// The RFC 7638 SHA-256 thumbprint of the public JWK.
    ///
    /// # Errors
    /// [`JoseError::SymmetricKey`] for an HMAC key.
    pub fn thumbprint_sha256(&self) -> Result<String, JoseError> {
        self.public_jwk()?.thumbprint_sha256()
    }

    /// The private key as unencrypted PKCS#8 v1 DER.
    ///
    /// # Errors
    /// [`JoseError::SymmetricKey`] for an HMAC key; [`JoseError::Crypto`].
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, JoseError> {
        let failed = |_| JoseError::Crypto("PKCS#8 encoding");
        match &*self.inner {
            Inner::Rsa(kp) => {
                let der: Pkcs8V1Der<'static> = kp.as_der().map_err(failed)?;
                Ok(Zeroizing::new(der.as_ref().to_vec()))
            }
            Inner::Ec(_, kp) => Ok(Zeroizing::new(
                kp.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
            )),
            Inner::Ed25519(kp) => Ok(Zeroizing::new(
                kp.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
            )),
            Inner::Hmac { .. } => Err(JoseError::SymmetricKey),
        }
    }

    /// The private key as a "PRIVATE KEY" PEM document.
    ///
    /// # Errors
    /// As [`SigningKey::to_pkcs8_der`].
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, JoseError> {
        Ok(pem::encode("PRIVATE KEY", &self.to_pkcs8_der()?))
    }

    /// Signs `signing_input` with the key's algorithm. ES* signatures are the fixed-width
    /// R||S of RFC 7518 §3.4. aws-lc-rs draws ECDSA nonces and PSS salts from its own DRBG;
    /// `rng` is accepted for API stability.
    ///
    /// # Errors
    /// [`JoseError::Crypto`].
    pub fn sign(&self, signing_input: &[u8], rng: &dyn SecureRandom) -> Result<Vec<u8>, JoseError> {
        let failed = |_| JoseError::Crypto("signing");
        match &*self.inner {
            Inner::Rsa(kp) => {
                let mut signature = vec![0u8; kp.public_modulus_len()];
                kp.sign(rsa_encoding(self.alg)?, rng, signing_input, &mut signature)
                    .map_err(failed)?;
                Ok(signature)
            }
            Inner::Ec(_, kp) => Ok(kp
                .sign(rng, signing_input)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            Inner::Ed25519(kp) => Ok(kp
                .try_sign(signing_input)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            Inner::Hmac { key, .. } => Ok(hmac::sign(key, signing_input).as_ref().to_vec()),
        }
    }

    /// The public half (for HMAC: the same secret), restricted to this key's algorithm and
    /// carrying its key ID.
    ///
    /// # Errors
    /// As [`SigningKey::public_jwk`] and [`VerifyingKey::from_jwk`] (neither fails for a key
    /// this type accepted).
    pub fn verifying_key(&self) -> Result<VerifyingKey, JoseError> {
        match &*self.inner {
            Inner::Hmac { secret, .. } => {
                let key = VerifyingKey::hmac(secret).with_alg(self.alg);
                Ok(match &self.kid {
                    Some(kid) => key.with_kid(kid.clone()),
                    None => key,
                })
            }
            _ => VerifyingKey::from_jwk(&self.public_jwk()?),
        }
    }
}

pub(crate) fn check_der_len(der: &[u8]) -> Result<(), JoseError> {
    if der.len() > MAX_KEY_DER_BYTES {
        return Err(JoseError::TooLarge {
            what: "DER private key",
            max: MAX_KEY_DER_BYTES,
        });
    }
    Ok(())
}

/// Tries each supported key type; PKCS#8 names the algorithm, so at most one succeeds.
fn parse_pkcs8(der: &[u8]) -> Result<Inner, JoseError> {
    if let Ok(kp) = RsaKeyPair::from_pkcs8(der) {
        return Ok(Inner::Rsa(kp));
    }
    for curve in Curve::ALL {
        if let Ok(kp) = EcdsaKeyPair::from_pkcs8(curve.signing_algorithm(), der) {
            return Ok(Inner::Ec(curve, kp));
        }
    }
    if let Ok(kp) = Ed25519KeyPair::from_pkcs8(der) {
        return Ok(Inner::Ed25519(kp));
    }
    Err(JoseError::InvalidKey {
        reason: "not an unencrypted PKCS#8 RSA, EC (P-256/P-384/P-521) or Ed25519 private key",
    })
}

/// RFC 7518 §6.3.2: when any of p, q, dp, dq, qi is present all must be; aws-lc-rs needs them
/// all, so a key with only "d" is refused. Multi-prime keys ("oth") are not supported.
fn rsa_from_jwk(jwk: &Jwk) -> Result<Inner, JoseError> {
    Ok(Inner::Rsa(rsa_key_pair_from_jwk(jwk)?))
}

/// The RSA key pair of a private JWK (also used for JWE decryption keys).
pub(crate) fn rsa_key_pair_from_jwk(jwk: &Jwk) -> Result<RsaKeyPair, JoseError> {
    if jwk.extra.contains_key("oth") {
        return Err(JoseError::InvalidKey {
            reason: "multi-prime RSA keys (\"oth\") are not supported",
        });
    }
    let n = decode_member(jwk.n.as_deref(), "n")?;
    let e = decode_member(jwk.e.as_deref(), "e")?;
    let n = strip_leading_zeros(&n);
    let e = strip_leading_zeros(&e);
    check_rsa_public(n, e)?;
    let d = decode_secret_member(jwk.d.as_ref(), "d")?;
    let p = decode_secret_member(jwk.p.as_ref(), "p")?;
    let q = decode_secret_member(jwk.q.as_ref(), "q")?;
    let dp = decode_secret_member(jwk.dp.as_ref(), "dp")?;
    let dq = decode_secret_member(jwk.dq.as_ref(), "dq")?;
    let qi = decode_secret_member(jwk.qi.as_ref(), "qi")?;
    let components = KeyPairComponents {
        public_key: PublicKeyComponents { n, e },
        d: d.as_slice(),
        p: p.as_slice(),
        q: q.as_slice(),
        dP: dp.as_slice(),
        dQ: dq.as_slice(),
        qInv: qi.as_slice(),
    };
    // from_components checks n = p·q and the CRT values for consistency.
    RsaKeyPair::from_components(&components).map_err(|e| rejected(&e))
}

fn ec_from_jwk(jwk: &Jwk) -> Result<Inner, JoseError> {
    let (curve, kp) = ec_key_pair_from_jwk(jwk)?;
    Ok(Inner::Ec(curve, kp))
}

/// The curve and key pair of a private EC JWK (also used for JWE decryption keys).
pub(crate) fn ec_key_pair_from_jwk(jwk: &Jwk) -> Result<(Curve, EcdsaKeyPair), JoseError> {
    let crv = jwk
        .crv
        .as_deref()
        .ok_or(JoseError::MissingMember { member: "crv" })?;
    let curve = Curve::from_name(crv)?;
    let x = decode_member(jwk.x.as_deref(), "x")?;
    let y = decode_member(jwk.y.as_deref(), "y")?;
    let point = curve.uncompressed_point(&x, &y)?;
    let d = decode_secret_member(jwk.d.as_ref(), "d")?;
    // RFC 7518 §6.2.2.1: "d" MUST be the full coordinate size (ceiling(log-base-2(n)/8) octets).
    if d.len() != curve.coord_len() {
        return Err(JoseError::malformed(
            "JWK",
            format!(
                "{} \"d\" must be {} bytes (RFC 7518 §6.2.2.1)",
                curve.name(),
                curve.coord_len()
            ),
        ));
    }
    // Checks that the public point matches the private scalar.
    let kp = EcdsaKeyPair::from_private_key_and_public_key(curve.signing_algorithm(), &d, &point)
        .map_err(|e| rejected(&e))?;
    Ok((curve, kp))
}

fn ed25519_from_jwk(jwk: &Jwk) -> Result<Inner, JoseError> {
    let crv = jwk
        .crv
        .as_deref()
        .ok_or(JoseError::MissingMember { member: "crv" })?;
    if crv != "Ed25519" {
        return Err(JoseError::UnsupportedCurve(untrusted(crv)));
    }
    let x = decode_member(jwk.x.as_deref(), "x")?;
    let d = decode_secret_member(jwk.d.as_ref(), "d")?;
    // RFC 8037 §2: "d" is the 32-byte private key (seed), "x" the 32-byte public key.
    if x.len() != ED25519_KEY_LEN || d.len() != ED25519_KEY_LEN {
        return Err(JoseError::malformed(
            "JWK",
            "Ed25519 \"x\" and \"d\" must be 32 bytes (RFC 8037 §2)",
        ));
    }
    // Checks that the public key matches the seed.
    let kp = Ed25519KeyPair::from_seed_and_public_key(&d, &x).map_err(|e| rejected(&e))?;
    Ok(Inner::Ed25519(kp))
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("key_type", &self.key_type())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "signing_tests.rs"]
mod tests;
