//! Verification keys: public keys from JWKs, and HMAC secrets.

use std::fmt;
use std::sync::OnceLock;

use aws_lc_rs::hmac;
use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaParameters};
use zeroize::Zeroizing;

use crate::alg::Algorithm;
use crate::error::JoseError;
use crate::jwk::Jwk;
use crate::keyutil::{
    Curve, check_rsa_public, check_signature_use, decode_member, rejected, strip_leading_zeros,
};
use crate::untrusted::untrusted;

/// Ed25519 public keys are 32 bytes (RFC 8032 §5.1.5).
pub(crate) const ED25519_KEY_LEN: usize = 32;

/// A public key (or HMAC secret) usable for verification, parsed once and reused.
///
/// The key never chooses the algorithm: [`VerifyingKey::verify`] takes the caller's pinned
/// algorithm and refuses it unless the key is compatible ([`VerifyingKey::is_compatible`]).
#[derive(Clone)]
pub struct VerifyingKey {
    inner: Inner,
    kid: Option<String>,
    key_use: Option<String>,
    jwk_alg: Option<String>,
    key_ops: Option<Vec<String>>,
}

#[derive(Clone)]
enum Inner {
    Rsa(Box<RsaKey>),
    Ec { curve: Curve, key: ParsedPublicKey },
    Ed25519 { key: ParsedPublicKey },
    Hmac { secret: Zeroizing<Vec<u8>> },
}

/// RSA parameters are bound to one algorithm in aws-lc-rs, so the parsed key is built lazily
/// once per RS*/PS* algorithm actually used.
#[derive(Clone)]
struct RsaKey {
    n: Vec<u8>,
    e: Vec<u8>,
    bits: usize,
    parsed: [OnceLock<ParsedPublicKey>; 6],
}

/// Slot and aws-lc-rs parameters of an RSA algorithm. PSS uses MGF1 with the same hash and a
/// salt as long as the hash (RFC 7518 §3.5), which is aws-lc-rs' default.
fn rsa_params(alg: Algorithm) -> Option<(usize, &'static RsaParameters)> {
    match alg {
        Algorithm::RS256 => Some((0, &sig::RSA_PKCS1_2048_8192_SHA256)),
        Algorithm::RS384 => Some((1, &sig::RSA_PKCS1_2048_8192_SHA384)),
        Algorithm::RS512 => Some((2, &sig::RSA_PKCS1_2048_8192_SHA512)),
        Algorithm::PS256 => Some((3, &sig::RSA_PSS_2048_8192_SHA256)),
        Algorithm::PS384 => Some((4, &sig::RSA_PSS_2048_8192_SHA384)),
        Algorithm::PS512 => Some((5, &sig::RSA_PSS_2048_8192_SHA512)),
        _ => None,
    }
}

impl RsaKey {
    fn new(n: &[u8], e: &[u8]) -> Result<Self, JoseError> {
        let n = strip_leading_zeros(n).to_vec();
        let e = strip_leading_zeros(e).to_vec();
        let bits = check_rsa_public(&n, &e)?;
        let key = RsaKey {
            n,
            e,
            bits,
            parsed: Default::default(),
        };
        // Parse once now so a broken key fails here rather than at first use.
        key.parsed(Algorithm::RS256)?;
        Ok(key)
    }

    fn parsed(&self, alg: Algorithm) -> Result<&ParsedPublicKey, JoseError> {
        let (slot, params) = rsa_params(alg).ok_or(JoseError::KeyTypeMismatch {
            alg,
            key_type: "RSA".to_owned(),
        })?;
        let cell = self
            .parsed
            .get(slot)
            .ok_or(JoseError::Crypto("RSA parameter slot"))?;
        if let Some(parsed) = cell.get() {
            return Ok(parsed);
        }
        let components = PublicKeyComponents {
            n: self.n.as_slice(),
            e: self.e.as_slice(),
        };
        let parsed = components
            .to_parsed_public_key(params)
            .map_err(|e| rejected(&e))?;
        // A concurrent caller may have filled the cell first; both values are equal.
        let _ = cell.set(parsed);
        cell.get().ok_or(JoseError::Crypto("RSA key cache"))
    }
}

impl VerifyingKey {
    /// Parses a public key from a JWK: RSA (n, e; at least 2048 bits), EC P-256/P-384/P-521
    /// (x, y), OKP Ed25519 (x). Private members, if any, are ignored and not kept. Symmetric
    /// ("oct") JWKs are refused: use [`VerifyingKey::hmac`] for the client secret.
    ///
    /// # Errors
    /// [`JoseError::UnsupportedKeyType`], [`JoseError::UnsupportedCurve`],
    /// [`JoseError::MissingMember`], [`JoseError::Malformed`], [`JoseError::RsaKeyTooSmall`],
    /// [`JoseError::InvalidKey`].
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, JoseError> {
        let inner = match jwk.kty.as_str() {
            "RSA" => {
                let n = decode_member(jwk.n.as_deref(), "n")?;
                let e = decode_member(jwk.e.as_deref(), "e")?;
                Inner::Rsa(Box::new(RsaKey::new(&n, &e)?))
            }
            "EC" => {
                let crv = jwk
                    .crv
                    .as_deref()
                    .ok_or(JoseError::MissingMember { member: "crv" })?;
                let curve = Curve::from_name(crv)?;
                let x = decode_member(jwk.x.as_deref(), "x")?;
                let y = decode_member(jwk.y.as_deref(), "y")?;
                let point = curve.uncompressed_point(&x, &y)?;
                let key = ParsedPublicKey::new(curve.verification_algorithm(), point)
                    .map_err(|e| rejected(&e))?;
                Inner::Ec { curve, key }
            }
            "OKP" => {
                let crv = jwk
                    .crv
                    .as_deref()
                    .ok_or(JoseError::MissingMember { member: "crv" })?;
                // RFC 8037 §2 also defines Ed448, X25519 and X448; only Ed25519 is supported.
                if crv != "Ed25519" {
                    return Err(JoseError::UnsupportedCurve(untrusted(crv)));
                }
                let x = decode_member(jwk.x.as_deref(), "x")?;
                if x.len() != ED25519_KEY_LEN {
                    return Err(JoseError::malformed(
                        "JWK",
                        "Ed25519 \"x\" must be 32 bytes (RFC 8037 §2)",
                    ));
                }
                let key = ParsedPublicKey::new(&sig::ED25519, x).map_err(|e| rejected(&e))?;
                Inner::Ed25519 { key }
            }
            "oct" => {
                return Err(JoseError::UnsupportedKeyType(
                    "oct (use VerifyingKey::hmac for the client secret)".to_owned(),
                ));
            }
            other => return Err(JoseError::UnsupportedKeyType(untrusted(other))),
        };
        Ok(VerifyingKey {
            inner,
            kid: jwk.kid.clone(),
            key_use: jwk.use_.clone(),
            jwk_alg: jwk.alg.clone(),
            key_ops: jwk.key_ops.clone(),
        })
    }

    /// An HMAC secret for HS256/384/512, e.g. the client secret for ID tokens signed with it
    /// (OIDC Core §10.1). The length is checked against the algorithm at verification time
    /// (RFC 7518 §3.2).
    #[must_use]
    pub fn hmac(secret: &[u8]) -> Self {
        VerifyingKey {
            inner: Inner::Hmac {
                secret: Zeroizing::new(secret.to_vec()),
            },
            kid: None,
            key_use: None,
            jwk_alg: None,
            key_ops: None,
        }
    }

    /// Restricts an HMAC verifying key to one algorithm (like a JWK "alg" member).
    pub(crate) fn with_alg(mut self, alg: Algorithm) -> Self {
        self.jwk_alg = Some(alg.as_str().to_owned());
        self
    }

    /// Sets the key ID.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The JWK "kid" member.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The JWK "use" member.
    #[must_use]
    pub fn key_use(&self) -> Option<&str> {
        self.key_use.as_deref()
    }

    /// The JWK "alg" member.
    #[must_use]
    pub fn jwk_alg(&self) -> Option<&str> {
        self.jwk_alg.as_deref()
    }

    /// "RSA", "EC P-256", "EC P-384", "EC P-521", "OKP Ed25519" or "oct".
    #[must_use]
    pub fn key_type(&self) -> &'static str {
        match &self.inner {
            Inner::Rsa(_) => "RSA",
            Inner::Ec { curve, .. } => curve.key_type(),
            Inner::Ed25519 { .. } => "OKP Ed25519",
            Inner::Hmac { .. } => "oct",
        }
    }

    /// The RSA modulus size in bits, for RSA keys.
    #[must_use]
    pub fn rsa_bits(&self) -> Option<usize> {
        match &self.inner {
            Inner::Rsa(k) => Some(k.bits),
            _ => None,
        }
    }

    /// Whether the key may verify `alg`: the key type and curve fit the algorithm, the JWK
    /// "alg" (if present) equals it, "use" is not "enc", "key_ops" (if present) contains
    /// "verify", and an HMAC secret is long enough.
    #[must_use]
    pub fn is_compatible(&self, alg: Algorithm) -> bool {
        self.check_compatible(alg).is_ok()
    }

    /// [`VerifyingKey::is_compatible`] with the reason.
    ///
    /// # Errors
    /// [`JoseError::AlgorithmNoneRefused`], [`JoseError::KeyTypeMismatch`],
    /// [`JoseError::KeyAlgorithmMismatch`], [`JoseError::KeyUseMismatch`],
    /// [`JoseError::KeyOpsMismatch`], [`JoseError::HmacKeyTooShort`].
    pub fn check_compatible(&self, alg: Algorithm) -> Result<(), JoseError> {
        if alg == Algorithm::None {
            return Err(JoseError::AlgorithmNoneRefused);
        }
        let fits = match &self.inner {
            Inner::Rsa(_) => alg.is_rsa(),
            // RFC 7518 §3.4: ES256 is P-256 only, ES384 P-384 only, ES512 P-521 only.
            Inner::Ec { curve, .. } => curve.algorithm() == alg,
            Inner::Ed25519 { .. } => alg == Algorithm::EdDSA,
            // An asymmetric key is never an HMAC key: this blocks the RS256→HS256 confusion.
            Inner::Hmac { .. } => alg.is_hmac(),
        };
        if !fits {
            return Err(JoseError::KeyTypeMismatch {
                alg,
                key_type: self.key_type().to_owned(),
            });
        }
        // RFC 7517 §4.4: "alg" identifies the algorithm intended for use with the key.
        if let Some(key_alg) = &self.jwk_alg
            && key_alg != alg.as_str()
        {
            return Err(JoseError::KeyAlgorithmMismatch {
                expected: alg,
                key_alg: untrusted(key_alg),
            });
        }
        check_signature_use(self.key_use.as_deref(), self.key_ops.as_deref(), "verify")?;
        if let Inner::Hmac { secret } = &self.inner {
            check_hmac_len(alg, secret.len())?;
        }
        Ok(())
    }

    /// Verifies `signature` over `signing_input` with the caller's pinned `alg`.
    ///
    /// ES* signatures are the fixed-width R||S of RFC 7518 §3.4; HMAC tags are compared in
    /// constant time.
    ///
    /// # Errors
    /// Whatever [`VerifyingKey::check_compatible`] reports, else
    /// [`JoseError::InvalidSignature`].
    pub fn verify(
        &self,
        alg: Algorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), JoseError> {
        self.check_compatible(alg)?;
        let ok = match &self.inner {
            Inner::Rsa(key) => key.parsed(alg)?.verify_sig(signing_input, signature),
            Inner::Ec { key, .. } | Inner::Ed25519 { key } => {
                key.verify_sig(signing_input, signature)
            }
            Inner::Hmac { secret } => {
                let key = hmac::Key::new(hmac_algorithm(alg)?, secret);
                hmac::verify(&key, signing_input, signature)
            }
        };
        ok.map_err(|_| JoseError::InvalidSignature)
    }
}

/// RFC 7518 §3.2: "A key of the same size as the hash output (for instance, 256 bits for
/// "HS256") or larger MUST be used with this algorithm."
pub(crate) fn check_hmac_len(alg: Algorithm, got: usize) -> Result<(), JoseError> {
    let min_bytes = alg
        .hmac_min_key_len()
        .ok_or_else(|| JoseError::UnsupportedAlgorithm(alg.as_str().to_owned()))?;
    if got < min_bytes {
        return Err(JoseError::HmacKeyTooShort {
            alg,
            min_bytes,
            got,
        });
    }
    Ok(())
}

pub(crate) fn hmac_algorithm(alg: Algorithm) -> Result<hmac::Algorithm, JoseError> {
    match alg {
        Algorithm::HS256 => Ok(hmac::HMAC_SHA256),
        Algorithm::HS384 => Ok(hmac::HMAC_SHA384),
        Algorithm::HS512 => Ok(hmac::HMAC_SHA512),
        other => Err(JoseError::UnsupportedAlgorithm(other.as_str().to_owned())),
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("key_type", &self.key_type())
            .field("kid", &self.kid)
            .field("use", &self.key_use)
            .field("alg", &self.jwk_alg)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "verifying_tests.rs"]
mod tests;
