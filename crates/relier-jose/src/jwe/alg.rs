//! JWE algorithm identifiers: key management `alg` (RFC 7518 §4.1) and content encryption
//! `enc` (RFC 7518 §5.1), limited to what this crate implements.

use std::fmt;
use std::str::FromStr;

use crate::alg::UnknownAlgorithm;

/// A JWE key management algorithm (`alg`, RFC 7518 §4.1). Always pinned by the caller from
/// the client registration, never taken from a token header (RFC 8725 §3.1).
///
/// Not implemented: `RSA1_5` (RFC 8725 §3.2 advises against it; Bleichenbacher oracles),
/// `A192KW` and `ECDH-ES+A192KW` (aws-lc-rs offers AES Key Wrap with 128- and 256-bit keys
/// only), `A*GCMKW` and `PBES2-*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyManagementAlg {
    /// RSAES OAEP using default parameters (SHA-1, MGF1 with SHA-1), RFC 7518 §4.3.
    RsaOaep,
    /// RSAES OAEP using SHA-256 and MGF1 with SHA-256, RFC 7518 §4.3.
    RsaOaep256,
    /// ECDH-ES direct key agreement (RFC 7518 §4.6): the Concat KDF output is the CEK.
    EcdhEs,
    /// ECDH-ES with the derived key wrapping the CEK with AES-128 Key Wrap.
    EcdhEsA128Kw,
    /// ECDH-ES with the derived key wrapping the CEK with AES-256 Key Wrap.
    EcdhEsA256Kw,
    /// AES-128 Key Wrap (RFC 7518 §4.4) with the key derived from the client secret.
    A128Kw,
    /// AES-256 Key Wrap (RFC 7518 §4.4) with the key derived from the client secret.
    A256Kw,
    /// Direct encryption (RFC 7518 §4.5) with the key derived from the client secret.
    Dir,
}

impl KeyManagementAlg {
    /// Every implemented algorithm.
    pub const ALL: [KeyManagementAlg; 8] = [
        Self::RsaOaep,
        Self::RsaOaep256,
        Self::EcdhEs,
        Self::EcdhEsA128Kw,
        Self::EcdhEsA256Kw,
        Self::A128Kw,
        Self::A256Kw,
        Self::Dir,
    ];

    /// The registered name: "RSA-OAEP", "RSA-OAEP-256", "ECDH-ES", "ECDH-ES+A128KW", …
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::RsaOaep => "RSA-OAEP",
            Self::RsaOaep256 => "RSA-OAEP-256",
            Self::EcdhEs => "ECDH-ES",
            Self::EcdhEsA128Kw => "ECDH-ES+A128KW",
            Self::EcdhEsA256Kw => "ECDH-ES+A256KW",
            Self::A128Kw => "A128KW",
            Self::A256Kw => "A256KW",
            Self::Dir => "dir",
        }
    }

    /// RSA-OAEP or RSA-OAEP-256.
    #[must_use]
    pub fn is_rsa(&self) -> bool {
        matches!(self, Self::RsaOaep | Self::RsaOaep256)
    }

    /// ECDH-ES, with or without key wrapping.
    #[must_use]
    pub fn is_ecdh(&self) -> bool {
        matches!(self, Self::EcdhEs | Self::EcdhEsA128Kw | Self::EcdhEsA256Kw)
    }

    /// `dir`, `A128KW` or `A256KW`: the key is derived from the client secret
    /// (OIDC Core §10.2).
    #[must_use]
    pub fn is_symmetric(&self) -> bool {
        matches!(self, Self::Dir | Self::A128Kw | Self::A256Kw)
    }

    /// The AES Key Wrap key length in bytes, for the algorithms that wrap the CEK.
    pub(crate) fn key_wrap_len(&self) -> Option<usize> {
        match self {
            Self::A128Kw | Self::EcdhEsA128Kw => Some(16),
            Self::A256Kw | Self::EcdhEsA256Kw => Some(32),
            _ => None,
        }
    }
}

/// A JWE content encryption algorithm (`enc`, RFC 7518 §5.1). Always pinned by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentEncAlg {
    /// AES-128 in Galois/Counter Mode (RFC 7518 §5.3).
    A128Gcm,
    /// AES-192 in Galois/Counter Mode (RFC 7518 §5.3).
    A192Gcm,
    /// AES-256 in Galois/Counter Mode (RFC 7518 §5.3).
    A256Gcm,
    /// AES-128-CBC with HMAC-SHA-256 truncated to 128 bits (RFC 7518 §5.2.3).
    A128CbcHs256,
    /// AES-192-CBC with HMAC-SHA-384 truncated to 192 bits (RFC 7518 §5.2.4).
    A192CbcHs384,
    /// AES-256-CBC with HMAC-SHA-512 truncated to 256 bits (RFC 7518 §5.2.5).
    A256CbcHs512,
}

impl ContentEncAlg {
    /// Every implemented algorithm.
    pub const ALL: [ContentEncAlg; 6] = [
        Self::A128Gcm,
        Self::A192Gcm,
        Self::A256Gcm,
        Self::A128CbcHs256,
        Self::A192CbcHs384,
        Self::A256CbcHs512,
    ];

    /// The registered name: "A128GCM", …, "A256CBC-HS512".
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::A128Gcm => "A128GCM",
            Self::A192Gcm => "A192GCM",
            Self::A256Gcm => "A256GCM",
            Self::A128CbcHs256 => "A128CBC-HS256",
            Self::A192CbcHs384 => "A192CBC-HS384",
            Self::A256CbcHs512 => "A256CBC-HS512",
        }
    }

    /// AES-GCM (as opposed to AES-CBC-HMAC-SHA2).
    #[must_use]
    pub fn is_gcm(&self) -> bool {
        matches!(self, Self::A128Gcm | Self::A192Gcm | Self::A256Gcm)
    }

    /// The Content Encryption Key length in bytes: the AES key for GCM (RFC 7518 §5.3); for
    /// CBC-HMAC the MAC key and the encryption key together (RFC 7518 §5.2.3–§5.2.5).
    #[must_use]
    pub fn cek_len(&self) -> usize {
        match self {
            Self::A128Gcm => 16,
            Self::A192Gcm => 24,
            Self::A256Gcm | Self::A128CbcHs256 => 32,
            Self::A192CbcHs384 => 48,
            Self::A256CbcHs512 => 64,
        }
    }

    /// The Initialization Vector length in bytes: 96 bits for GCM (RFC 7518 §5.3), 128 bits
    /// for CBC (RFC 7518 §5.2.2.1).
    #[must_use]
    pub fn iv_len(&self) -> usize {
        if self.is_gcm() { 12 } else { 16 }
    }

    /// The Authentication Tag length in bytes: 128 bits for GCM (RFC 7518 §5.3); for CBC-HMAC
    /// T_LEN, half the HMAC output (RFC 7518 §5.2.3–§5.2.5).
    #[must_use]
    pub fn tag_len(&self) -> usize {
        match self {
            Self::A128Gcm | Self::A192Gcm | Self::A256Gcm | Self::A128CbcHs256 => 16,
            Self::A192CbcHs384 => 24,
            Self::A256CbcHs512 => 32,
        }
    }
}

macro_rules! name_traits {
    ($ty:ident, $what:literal) => {
        impl FromStr for $ty {
            type Err = UnknownAlgorithm;

            /// Case-sensitive (RFC 7516 §4.1.1, §4.1.2).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|a| a.as_str() == s)
                    .ok_or_else(|| UnknownAlgorithm::new(s))
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                deserializer.deserialize_str(V)
            }
        }
    };
}

name_traits!(KeyManagementAlg, "a JWE key management algorithm name");
name_traits!(ContentEncAlg, "a JWE content encryption algorithm name");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in KeyManagementAlg::ALL {
            assert_eq!(alg.as_str().parse::<KeyManagementAlg>().unwrap(), alg);
            let json = serde_json::to_string(&alg).unwrap();
            assert_eq!(
                serde_json::from_str::<KeyManagementAlg>(&json).unwrap(),
                alg
            );
            assert_eq!(alg.to_string(), alg.as_str());
        }
        for enc in ContentEncAlg::ALL {
            assert_eq!(enc.as_str().parse::<ContentEncAlg>().unwrap(), enc);
            let json = serde_json::to_string(&enc).unwrap();
            assert_eq!(serde_json::from_str::<ContentEncAlg>(&json).unwrap(), enc);
            assert_eq!(enc.to_string(), enc.as_str());
        }
    }

    #[test]
    fn unsupported_and_case_variants_refused() {
        for bad in [
            "RSA1_5",
            "rsa-oaep",
            "DIR",
            "A192KW",
            "ECDH-ES+A192KW",
            "A128GCMKW",
            "PBES2-HS256+A128KW",
            "none",
            "",
        ] {
            assert!(bad.parse::<KeyManagementAlg>().is_err(), "{bad}");
        }
        for bad in ["a128gcm", "A128CBC", "A128CBC+HS256", ""] {
            assert!(bad.parse::<ContentEncAlg>().is_err(), "{bad}");
        }
    }

    #[test]
    fn lengths() {
        for (enc, cek, iv, tag) in [
            (ContentEncAlg::A128Gcm, 16, 12, 16),
            (ContentEncAlg::A192Gcm, 24, 12, 16),
            (ContentEncAlg::A256Gcm, 32, 12, 16),
            (ContentEncAlg::A128CbcHs256, 32, 16, 16),
            (ContentEncAlg::A192CbcHs384, 48, 16, 24),
            (ContentEncAlg::A256CbcHs512, 64, 16, 32),
        ] {
            assert_eq!((enc.cek_len(), enc.iv_len(), enc.tag_len()), (cek, iv, tag));
        }
        assert_eq!(KeyManagementAlg::EcdhEsA128Kw.key_wrap_len(), Some(16));
        assert_eq!(KeyManagementAlg::A256Kw.key_wrap_len(), Some(32));
        assert_eq!(KeyManagementAlg::Dir.key_wrap_len(), None);
    }
}
