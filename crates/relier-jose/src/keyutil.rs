//! Helpers shared by verifying and signing keys: curves, JWK member decoding, RSA checks.

use aws_lc_rs::agreement;
use aws_lc_rs::signature::{self as sig, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm};
use zeroize::Zeroizing;

use crate::alg::Algorithm;
use crate::b64;
use crate::error::JoseError;
use crate::untrusted::untrusted;

/// RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used with these algorithms."
/// (Also applied to PS*, RFC 7518 §3.5.)
pub(crate) const RSA_MIN_BITS: usize = 2048;
/// The largest modulus aws-lc-rs verifies with.
pub(crate) const RSA_MAX_BITS: usize = 8192;

/// The NIST curves of RFC 7518 §6.2.1.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    pub(crate) const ALL: [Curve; 3] = [Curve::P256, Curve::P384, Curve::P521];

    pub(crate) fn from_name(name: &str) -> Result<Self, JoseError> {
        match name {
            "P-256" => Ok(Self::P256),
            "P-384" => Ok(Self::P384),
            "P-521" => Ok(Self::P521),
            other => Err(JoseError::UnsupportedCurve(untrusted(other))),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
            Self::P521 => "P-521",
        }
    }

    /// RFC 7518 §6.2.1.2: "The length of this octet string MUST be the full size of a coordinate
    /// for the curve specified in the "crv" parameter" (and §6.2.2.1 for "d").
    pub(crate) fn coord_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
            Self::P521 => 66,
        }
    }

    /// RFC 7518 §3.4: each ECDSA algorithm is bound to one curve.
    pub(crate) fn algorithm(self) -> Algorithm {
        match self {
            Self::P256 => Algorithm::ES256,
            Self::P384 => Algorithm::ES384,
            Self::P521 => Algorithm::ES512,
        }
    }

    /// Fixed-width R||S signatures (RFC 7518 §3.4), not ASN.1 DER.
    pub(crate) fn verification_algorithm(self) -> &'static EcdsaVerificationAlgorithm {
        match self {
            Self::P256 => &sig::ECDSA_P256_SHA256_FIXED,
            Self::P384 => &sig::ECDSA_P384_SHA384_FIXED,
            Self::P521 => &sig::ECDSA_P521_SHA512_FIXED,
        }
    }

    pub(crate) fn signing_algorithm(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            Self::P256 => &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
            Self::P384 => &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
            Self::P521 => &sig::ECDSA_P521_SHA512_FIXED_SIGNING,
        }
    }

    /// ECDH on this curve (RFC 7518 §4.6, JWE key agreement).
    pub(crate) fn agreement_algorithm(self) -> &'static agreement::Algorithm {
        match self {
            Self::P256 => &agreement::ECDH_P256,
            Self::P384 => &agreement::ECDH_P384,
            Self::P521 => &agreement::ECDH_P521,
        }
    }

    /// The key-type label used in errors and `Debug`.
    pub(crate) fn key_type(self) -> &'static str {
        match self {
            Self::P256 => "EC P-256",
            Self::P384 => "EC P-384",
            Self::P521 => "EC P-521",
        }
    }

    /// SEC 1 §2.3.3 uncompressed point 0x04 || x || y, checking each coordinate's length.
    pub(crate) fn uncompressed_point(self, x: &[u8], y: &[u8]) -> Result<Vec<u8>, JoseError> {
        let len = self.coord_len();
        if x.len() != len || y.len() != len {
            return Err(JoseError::malformed(
                "JWK",
                format!(
                    "{} coordinates must be {len} bytes each (RFC 7518 §6.2.1.2)",
                    self.name()
                ),
            ));
        }
        let mut point = Vec::with_capacity(1 + 2 * len);
        point.push(0x04);
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        Ok(point)
    }
}

/// RFC 7517 §4.2 and §4.3: a key whose `use` is "enc", or whose `key_ops` lack `op`
/// ("sign" or "verify"), takes no part in signatures.
pub(crate) fn check_signature_use(
    key_use: Option<&str>,
    key_ops: Option<&[String]>,
    op: &'static str,
) -> Result<(), JoseError> {
    if let Some(key_use) = key_use
        && key_use == "enc"
    {
        return Err(JoseError::KeyUseMismatch {
            key_use: untrusted(key_use),
        });
    }
    if let Some(ops) = key_ops
        && !ops.iter().any(|o| o == op)
    {
        return Err(JoseError::KeyOpsMismatch { op });
    }
    Ok(())
}

/// A required public JWK member, base64url-decoded.
pub(crate) fn decode_member(value: Option<&str>, name: &'static str) -> Result<Vec<u8>, JoseError> {
    let s = value.ok_or(JoseError::MissingMember { member: name })?;
    b64::decode_part(s, "JWK").map_err(|e| rename_member(e, name))
}

/// A required private JWK member, base64url-decoded into zeroizing memory.
pub(crate) fn decode_secret_member(
    value: Option<&Zeroizing<String>>,
    name: &'static str,
) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    let s = value.ok_or(JoseError::MissingMember { member: name })?;
    b64::decode_part(s, "JWK")
        .map(Zeroizing::new)
        .map_err(|e| rename_member(e, name))
}

fn rename_member(e: JoseError, name: &'static str) -> JoseError {
    match e {
        JoseError::Malformed { part, reason } => JoseError::Malformed {
            part,
            reason: format!("member \"{name}\": {reason}"),
        },
        other => other,
    }
}

/// Drops leading zero octets (aws-lc-rs wants RSA public components without them).
pub(crate) fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// The bit length of a big-endian unsigned integer.
pub(crate) fn bit_len(bytes: &[u8]) -> usize {
    let stripped = strip_leading_zeros(bytes);
    match stripped.first() {
        None => 0,
        Some(&first) => {
            let leading = usize::try_from(first.leading_zeros()).unwrap_or(0);
            stripped.len().saturating_mul(8).saturating_sub(leading)
        }
    }
}

/// Checks an RSA public key's size and exponent; returns the modulus size in bits.
/// `n` and `e` must already be stripped of leading zeros.
pub(crate) fn check_rsa_public(n: &[u8], e: &[u8]) -> Result<usize, JoseError> {
    let bits = bit_len(n);
    if bits < RSA_MIN_BITS {
        return Err(JoseError::RsaKeyTooSmall { bits });
    }
    if bits > RSA_MAX_BITS {
        return Err(JoseError::TooLarge {
            what: "RSA modulus (bits)",
            max: RSA_MAX_BITS,
        });
    }
    // RFC 8017 §3.1: e is odd and 3 <= e; aws-lc-rs accepts at most 33 bits, we allow 32.
    let odd = e.last().is_some_and(|b| b & 1 == 1);
    if !odd || e.len() > 4 || (e.len() == 1 && e.first().is_some_and(|&b| b < 3)) {
        return Err(JoseError::InvalidKey {
            reason: "RSA public exponent must be odd, at least 3 and at most 32 bits",
        });
    }
    Ok(bits)
}

/// Maps an aws-lc-rs key rejection to an error without key material.
pub(crate) fn rejected(e: &aws_lc_rs::error::KeyRejected) -> JoseError {
    JoseError::InvalidKey {
        reason: e.description_(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_len(&[]), 0);
        assert_eq!(bit_len(&[0, 0]), 0);
        assert_eq!(bit_len(&[1]), 1);
        assert_eq!(bit_len(&[0, 0x80, 0]), 16);
        assert_eq!(bit_len(&[0x7f; 256]), 2047);
        assert_eq!(bit_len(&[0xff; 256]), 2048);
    }

    #[test]
    fn exponent_checks() {
        let n = [0xffu8; 256];
        assert!(check_rsa_public(&n, &[1, 0, 1]).is_ok());
        assert!(check_rsa_public(&n, &[3]).is_ok());
        assert!(check_rsa_public(&n, &[1]).is_err());
        assert!(check_rsa_public(&n, &[2]).is_err());
        assert!(check_rsa_public(&n, &[]).is_err());
        assert!(check_rsa_public(&n, &[1, 0, 0, 0, 1]).is_err());
        assert!(matches!(
            check_rsa_public(&[0xff; 128], &[1, 0, 1]),
            Err(JoseError::RsaKeyTooSmall { bits: 1024 })
        ));
        assert!(check_rsa_public(&[0xff; 1025], &[1, 0, 1]).is_err());
    }

    #[test]
    fn point_lengths_are_exact() {
        assert!(Curve::P256.uncompressed_point(&[1; 32], &[2; 32]).is_ok());
        assert!(Curve::P256.uncompressed_point(&[1; 31], &[2; 32]).is_err());
        assert!(Curve::P521.uncompressed_point(&[1; 65], &[2; 66]).is_err());
        assert_eq!(
            Curve::P384
                .uncompressed_point(&[1; 48], &[2; 48])
                .unwrap()
                .len(),
            97
        );
    }
}
