//! How strong a published key is: the RSA modulus size and the elliptic curve of a JWK, for the
//! FAPI 2.0 key-size rule (Security Profile §5.4.1: RSA keys at least 2048 bits, elliptic curve
//! keys at least 224 bits) and for `relier doctor`.

use relier_jose::{Jwk, b64};

/// RFC 7518 §3.3 and FAPI 2.0 Security Profile §5.4.1: RSA keys of 2048 bits or more.
pub const MIN_RSA_BITS: usize = 2048;
/// FAPI 2.0 Security Profile §5.4.1: elliptic curve keys of 224 bits or more.
pub const MIN_EC_BITS: usize = 224;

/// What a JWK is, as far as its strength goes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyStrength {
    /// An RSA key with this modulus size.
    Rsa {
        /// Modulus size in bits (leading zero bits not counted).
        bits: usize,
    },
    /// An elliptic curve key (kty EC or OKP) on `curve`, of `bits` when the curve is known.
    Curve {
        /// The `crv` member.
        curve: String,
        /// The curve's size in bits (P-256: 256, Ed25519: 255, …); `None` for a curve relier
        /// does not know.
        bits: Option<usize>,
    },
    /// A symmetric key (kty oct): never belongs in a published key set.
    Symmetric,
    /// A key relier cannot size: unknown kty, or a member missing or not base64url.
    Unreadable {
        /// Why.
        reason: String,
    },
}

impl KeyStrength {
    /// Sizes `jwk`.
    pub fn of(jwk: &Jwk) -> Self {
        match jwk.kty.as_str() {
            "RSA" => match jwk.n.as_deref().map(b64::decode) {
                Some(Ok(n)) => KeyStrength::Rsa {
                    bits: modulus_bits(&n),
                },
                Some(Err(_)) => unreadable("\"n\" is not base64url"),
                None => unreadable("RSA key without \"n\""),
            },
            "EC" | "OKP" => match jwk.crv.as_deref() {
                Some(crv) => KeyStrength::Curve {
                    curve: crv.to_owned(),
                    bits: curve_bits(crv),
                },
                None => unreadable("no \"crv\""),
            },
            "oct" => KeyStrength::Symmetric,
            other => unreadable(&format!("unknown kty {other:?}")),
        }
    }

    /// Whether the key meets FAPI 2.0 Security Profile §5.4.1 (RSA ≥ 2048 bits, EC ≥ 224 bits).
    /// Symmetric and unreadable keys do not.
    pub fn meets_fapi2(&self) -> bool {
        match self {
            KeyStrength::Rsa { bits } => *bits >= MIN_RSA_BITS,
            KeyStrength::Curve { bits, .. } => bits.is_some_and(|b| b >= MIN_EC_BITS),
            KeyStrength::Symmetric | KeyStrength::Unreadable { .. } => false,
        }
    }

    /// "RSA 2048 bits", "EC P-256 (256 bits)", "oct (symmetric)", …
    pub fn describe(&self) -> String {
        match self {
            KeyStrength::Rsa { bits } => format!("RSA {bits} bits"),
            KeyStrength::Curve {
                curve,
                bits: Some(b),
            } => format!("{curve} ({b} bits)"),
            KeyStrength::Curve { curve, bits: None } => format!("{curve} (unknown curve)"),
            KeyStrength::Symmetric => "oct (symmetric)".to_owned(),
            KeyStrength::Unreadable { reason } => format!("unreadable: {reason}"),
        }
    }
}

fn unreadable(reason: &str) -> KeyStrength {
    KeyStrength::Unreadable {
        reason: reason.to_owned(),
    }
}

/// The bit length of a big-endian unsigned integer.
fn modulus_bits(n: &[u8]) -> usize {
    let Some(first) = n.iter().position(|b| *b != 0) else {
        return 0;
    };
    let rest = n.len().saturating_sub(first).saturating_sub(1);
    let lead = n.get(first).copied().unwrap_or(0);
    // u8::BITS - leading_zeros is at most 8.
    let lead_bits = usize::try_from(u8::BITS.saturating_sub(lead.leading_zeros())).unwrap_or(8);
    rest.saturating_mul(8).saturating_add(lead_bits)
}

/// RFC 7518 §6.2.1.1 (NIST curves), RFC 8037 §2 (Ed25519, Ed448, X25519, X448), RFC 8812 §3.1
/// (secp256k1).
fn curve_bits(crv: &str) -> Option<usize> {
    match crv {
        "P-256" | "secp256k1" => Some(256),
        "P-384" => Some(384),
        "P-521" => Some(521),
        "Ed25519" | "X25519" => Some(255),
        "Ed448" | "X448" => Some(448),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(json: &str) -> Jwk {
        Jwk::from_json(json).unwrap()
    }

    #[test]
    fn rsa_bits_ignore_leading_zeros() {
        assert_eq!(modulus_bits(&[0, 0x80, 0]), 16);
        assert_eq!(modulus_bits(&[0x01, 0xff]), 9);
        assert_eq!(modulus_bits(&[0, 0]), 0);
        assert_eq!(modulus_bits(&[]), 0);
        let n1024 = b64::encode(&[0xc1; 128]);
        let k = jwk(&format!(r#"{{"kty":"RSA","n":"{n1024}","e":"AQAB"}}"#));
        assert_eq!(KeyStrength::of(&k), KeyStrength::Rsa { bits: 1024 });
        assert!(!KeyStrength::of(&k).meets_fapi2());
        let n2048 = b64::encode(&[0x81; 256]);
        let k = jwk(&format!(r#"{{"kty":"RSA","n":"{n2048}","e":"AQAB"}}"#));
        assert!(KeyStrength::of(&k).meets_fapi2());
        assert_eq!(KeyStrength::of(&k).describe(), "RSA 2048 bits");
    }

    #[test]
    fn curves() {
        let p256 = jwk(r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}"#);
        assert!(KeyStrength::of(&p256).meets_fapi2());
        let ed = jwk(r#"{"kty":"OKP","crv":"Ed25519","x":"AA"}"#);
        assert!(KeyStrength::of(&ed).meets_fapi2());
        let odd = jwk(r#"{"kty":"EC","crv":"P-192","x":"AA","y":"AA"}"#);
        assert!(!KeyStrength::of(&odd).meets_fapi2());
        assert_eq!(KeyStrength::of(&odd).describe(), "P-192 (unknown curve)");
        let oct = jwk(r#"{"kty":"oct","k":"AAAA"}"#);
        assert_eq!(KeyStrength::of(&oct), KeyStrength::Symmetric);
        assert!(!KeyStrength::of(&oct).meets_fapi2());
        let bad = jwk(r#"{"kty":"RSA","e":"AQAB"}"#);
        assert!(matches!(
            KeyStrength::of(&bad),
            KeyStrength::Unreadable { .. }
        ));
    }
}
