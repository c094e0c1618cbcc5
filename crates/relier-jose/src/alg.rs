//! JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1 for `EdDSA`).

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::digest;

use crate::untrusted::untrusted;

/// A JWS `alg` value. The caller always supplies (pins) the algorithm; it is never taken from
/// a token header (RFC 8725 §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC using SHA-256.
    HS256,
    /// HMAC using SHA-384.
    HS384,
    /// HMAC using SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 using SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 using SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 using SHA-512.
    RS512,
    /// RSASSA-PSS using SHA-256 and MGF1 with SHA-256.
    PS256,
    /// RSASSA-PSS using SHA-384 and MGF1 with SHA-384.
    PS384,
    /// RSASSA-PSS using SHA-512 and MGF1 with SHA-512.
    PS512,
    /// ECDSA using P-256 and SHA-256.
    ES256,
    /// ECDSA using P-384 and SHA-384.
    ES384,
    /// ECDSA using P-521 and SHA-512.
    ES512,
    /// EdDSA; this crate implements the Ed25519 curve only (RFC 8037).
    EdDSA,
    /// No digital signature or MAC (RFC 7518 §3.6). Refused by every verification path except
    /// `UnverifiedJws::dangerous_accept_unsigned`.
    None,
}

impl Algorithm {
    /// Every algorithm, in registry order.
    pub const ALL: [Algorithm; 14] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::ES512,
        Self::EdDSA,
        Self::None,
    ];

    /// The registered name: "HS256", …, "EdDSA", "none".
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::ES512 => "ES512",
            Self::EdDSA => "EdDSA",
            Self::None => "none",
        }
    }

    /// HS256, HS384 or HS512.
    #[must_use]
    pub fn is_hmac(&self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }

    /// RS* or PS*.
    #[must_use]
    pub fn is_rsa(&self) -> bool {
        matches!(
            self,
            Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512
        )
    }

    /// ES256, ES384 or ES512.
    #[must_use]
    pub fn is_ecdsa(&self) -> bool {
        matches!(self, Self::ES256 | Self::ES384 | Self::ES512)
    }

    /// The minimum HMAC key length in bytes: 32, 48 or 64.
    // RFC 7518 §3.2: "A key of the same size as the hash output (for instance, 256 bits for
    // "HS256") or larger MUST be used with this algorithm."
    #[must_use]
    pub fn hmac_min_key_len(&self) -> Option<usize> {
        match self {
            Self::HS256 => Some(32),
            Self::HS384 => Some(48),
            Self::HS512 => Some(64),
            _ => Option::None,
        }
    }

    /// The length of the hash the algorithm uses, for `at_hash` / `c_hash` (OIDC Core §3.1.3.6,
    /// §3.3.2.11). `EdDSA` maps to SHA-512: Ed25519 hashes with SHA-512, which is what OpenID
    /// providers use for the left-half hashes. `None` for `none`.
    #[must_use]
    pub fn hash_len(&self) -> Option<usize> {
        self.digest_algorithm().map(|d| d.output_len())
    }

    /// Hashes `data` with the hash of the algorithm (SHA-256/384/512; `EdDSA` → SHA-512).
    /// `None` for `none`.
    #[must_use]
    pub fn digest(&self, data: &[u8]) -> Option<Vec<u8>> {
        self.digest_algorithm()
            .map(|d| digest::digest(d, data).as_ref().to_vec())
    }

    pub(crate) fn digest_algorithm(&self) -> Option<&'static digest::Algorithm> {
        match self {
            Self::HS256 | Self::RS256 | Self::PS256 | Self::ES256 => Some(&digest::SHA256),
            Self::HS384 | Self::RS384 | Self::PS384 | Self::ES384 => Some(&digest::SHA384),
            Self::HS512 | Self::RS512 | Self::PS512 | Self::ES512 | Self::EdDSA => {
                Some(&digest::SHA512)
            }
            Self::None => Option::None,
        }
    }
}

/// An algorithm name this crate does not implement (JWS `alg`, JWE `alg` or `enc`), kept
/// truncated for error messages. Converts into [`crate::JoseError::UnsupportedAlgorithm`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported algorithm {0:?}")]
pub struct UnknownAlgorithm(String);

impl UnknownAlgorithm {
    /// The refused name (at most 64 characters of it).
    pub(crate) fn new(name: &str) -> Self {
        Self(untrusted(name))
    }

    /// The refused name (at most 64 characters of it, "…" marking a cut).
    pub fn name(&self) -> &str {
        &self.0
    }

    pub(crate) fn into_name(self) -> String {
        self.0
    }
}

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// Case-sensitive (RFC 7515 §4.1.1: the `alg` value is a case-sensitive string).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAlgorithm::new(s))
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Algorithm {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Algorithm {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Algorithm;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JWS algorithm name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Algorithm, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.as_str().parse::<Algorithm>().unwrap(), alg);
            assert_eq!(alg.to_string(), alg.as_str());
            let json = serde_json::to_string(&alg).unwrap();
            assert_eq!(json, format!("\"{}\"", alg.as_str()));
            assert_eq!(serde_json::from_str::<Algorithm>(&json).unwrap(), alg);
        }
    }

    #[test]
    fn parsing_is_case_sensitive() {
        assert!("rs256".parse::<Algorithm>().is_err());
        assert!("None".parse::<Algorithm>().is_err());
        assert!("NONE".parse::<Algorithm>().is_err());
        assert!("eddsa".parse::<Algorithm>().is_err());
        assert!("ES256K".parse::<Algorithm>().is_err());
        assert!("".parse::<Algorithm>().is_err());
        assert_eq!("none".parse::<Algorithm>().unwrap(), Algorithm::None);
        assert!(serde_json::from_str::<Algorithm>("\"hs256\"").is_err());
        assert!(serde_json::from_str::<Algorithm>("5").is_err());
    }

    #[test]
    fn hash_lengths() {
        use Algorithm::*;
        for (alg, len) in [
            (HS256, 32),
            (RS256, 32),
            (PS256, 32),
            (ES256, 32),
            (HS384, 48),
            (RS384, 48),
            (PS384, 48),
            (ES384, 48),
            (HS512, 64),
            (RS512, 64),
            (PS512, 64),
            (ES512, 64),
            (EdDSA, 64),
        ] {
            assert_eq!(alg.hash_len(), Some(len), "{alg}");
            assert_eq!(alg.digest(b"abc").unwrap().len(), len, "{alg}");
        }
        assert_eq!(None.hash_len(), Option::None);
        assert_eq!(None.digest(b"abc"), Option::None);
    }

    #[test]
    fn sha256_known_answer() {
        // FIPS 180-2 "abc".
        let d = Algorithm::RS256.digest(b"abc").unwrap();
        assert_eq!(
            crate::b64::encode(&d),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }

    #[test]
    fn hmac_minimums() {
        assert_eq!(Algorithm::HS256.hmac_min_key_len(), Some(32));
        assert_eq!(Algorithm::HS384.hmac_min_key_len(), Some(48));
        assert_eq!(Algorithm::HS512.hmac_min_key_len(), Some(64));
        assert_eq!(Algorithm::RS256.hmac_min_key_len(), Option::None);
        assert!(Algorithm::HS384.is_hmac());
        assert!(!Algorithm::PS256.is_hmac());
        assert!(Algorithm::PS256.is_rsa());
        assert!(Algorithm::ES512.is_ecdsa());
    }
}
