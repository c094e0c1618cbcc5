//! The one error type of this crate.
//!
//! Messages never contain key material. Strings that come from untrusted input (a token
//! header, a JWK member) are truncated by [`untrusted`] before they are stored in an error.

use crate::alg::{Algorithm, UnknownAlgorithm};
use crate::jwe::alg::{ContentEncAlg, KeyManagementAlg};

/// Everything that can go wrong in `relier-jose`. Each variant names the check that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JoseError {
    /// Input is syntactically wrong: bad base64url, bad JSON, wrong number of parts, a member of
    /// the wrong type. `part` names what was being parsed.
    #[error("malformed {part}: {reason}")]
    Malformed {
        /// What was being parsed ("JWS header", "JWK", "base64url", ...).
        part: &'static str,
        /// Why it was rejected (never contains key material).
        reason: String,
    },
    /// An input exceeded a size or count cap.
    #[error("{what} exceeds the maximum of {max}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The cap.
        max: usize,
    },
    /// An algorithm name this crate does not implement, or an operation an algorithm does not
    /// support (e.g. generating a key for `none`).
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// `none` was asked for where a signature is required (RFC 8725 §3.2).
    #[error("the unsecured algorithm \"none\" is refused")]
    AlgorithmNoneRefused,
    /// The JWS header `alg` differs from the algorithm the caller pinned (RFC 8725 §3.1).
    #[error("JWS header alg {header_alg:?} does not match the expected algorithm {expected}")]
    AlgorithmMismatch {
        /// The algorithm the caller expects.
        expected: Algorithm,
        /// The `alg` found in the token header (truncated).
        header_alg: String,
    },
    /// The key is restricted (JWK `alg` member) to a different algorithm (RFC 7517 §4.4).
    #[error("key is restricted to alg {key_alg:?}, not {expected}")]
    KeyAlgorithmMismatch {
        /// The algorithm asked for.
        expected: Algorithm,
        /// The algorithm the key is restricted to (truncated).
        key_alg: String,
    },
    /// The key type (and curve) cannot be used with the algorithm.
    #[error("a {key_type} key cannot be used with {alg}")]
    KeyTypeMismatch {
        /// The algorithm asked for.
        alg: Algorithm,
        /// The key type, e.g. "RSA", "EC P-256", "OKP Ed25519", "oct".
        key_type: String,
    },
    /// The JWK `use` member forbids signatures (RFC 7517 §4.2).
    #[error("key use {key_use:?} does not permit signatures")]
    KeyUseMismatch {
        /// The JWK `use` value (truncated).
        key_use: String,
    },
    /// The JWK `key_ops` member does not list the operation (RFC 7517 §4.3).
    #[error("key_ops does not include {op:?}")]
    KeyOpsMismatch {
        /// The operation asked for: "sign" or "verify".
        op: &'static str,
    },
    /// A JWK `kty` this crate does not support.
    #[error("unsupported key type {0:?}")]
    UnsupportedKeyType(String),
    /// A JWK `crv` this crate does not support.
    #[error("unsupported curve {0:?}")]
    UnsupportedCurve(String),
    /// A required JWK member is absent.
    #[error("JWK member {member:?} is missing")]
    MissingMember {
        /// The member name.
        member: &'static str,
    },
    /// aws-lc-rs rejected the key (inconsistent components, not on the curve, ...).
    #[error("invalid key: {reason}")]
    InvalidKey {
        /// Why (never contains key material).
        reason: &'static str,
    },
    /// RSA modulus below 2048 bits (RFC 7518 §3.3).
    #[error("RSA key of {bits} bits is too small (minimum 2048, RFC 7518 §3.3)")]
    RsaKeyTooSmall {
        /// The modulus size in bits.
        bits: usize,
    },
    /// An RSA size that cannot be generated (2048, 3072 and 4096 can).
    #[error("unsupported RSA key size of {bits} bits (use 2048, 3072 or 4096)")]
    UnsupportedRsaKeySize {
        /// The requested size in bits.
        bits: usize,
    },
    /// HMAC key shorter than the hash output (RFC 7518 §3.2).
    #[error("{alg} needs a key of at least {min_bytes} bytes, got {got} (RFC 7518 §3.2)")]
    HmacKeyTooShort {
        /// The HMAC algorithm.
        alg: Algorithm,
        /// The minimum length in bytes.
        min_bytes: usize,
        /// The length supplied.
        got: usize,
    },
    /// A private key was required but the JWK has no private members.
    #[error("the JWK has no private key members")]
    NotPrivateKey,
    /// The operation needs an asymmetric key (it would expose an HMAC secret otherwise).
    #[error("this operation needs an asymmetric key, not an HMAC secret")]
    SymmetricKey,
    /// The signature does not verify.
    #[error("signature verification failed")]
    InvalidSignature,
    /// A `crit` header parameter that is not understood or not allowed (RFC 7515 §4.1.11).
    #[error("critical header parameter {name:?} refused: {reason}")]
    UnsupportedCrit {
        /// The parameter name (truncated; empty for an empty `crit` list).
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The JWE header `alg` differs from the key management algorithm the caller pinned
    /// (RFC 8725 §3.1; checked before any cryptography).
    #[error(
        "JWE header alg {header_alg:?} does not match the expected key management algorithm {expected}"
    )]
    JweAlgorithmMismatch {
        /// The algorithm the caller expects.
        expected: KeyManagementAlg,
        /// The `alg` found in the token header (truncated).
        header_alg: String,
    },
    /// The JWE header `enc` differs from the content encryption algorithm the caller pinned
    /// (checked before any cryptography).
    #[error(
        "JWE header enc {header_enc:?} does not match the expected content encryption algorithm {expected}"
    )]
    JweEncryptionMismatch {
        /// The algorithm the caller expects.
        expected: ContentEncAlg,
        /// The `enc` found in the token header (truncated; empty when absent).
        header_enc: String,
    },
    /// The JWE header has a `zip` member: compressed content is refused (decompressing
    /// attacker-chosen data before its size is known invites decompression bombs).
    #[error("JWE compression (\"zip\") is refused")]
    JweCompressionRefused,
    /// No decryption key can be used for the token.
    #[error("no decryption key: {reason}")]
    NoDecryptionKey {
        /// Why: no key of the type the algorithm needs, no key with the header's `kid`, no
        /// client secret for symmetric key management.
        reason: &'static str,
    },
    /// The JWE header `epk` (ephemeral public key, RFC 7518 §4.6.1.1) is missing, on another
    /// curve than the recipient's key, or not a valid point of that curve.
    #[error("invalid ephemeral public key (epk): {reason}")]
    InvalidEphemeralKey {
        /// Why (never contains key material).
        reason: &'static str,
    },
    /// JWE decryption failed: the key could not be unwrapped or decrypted, or the
    /// authentication tag or padding is wrong. One error for all of these (RFC 7516 §11.5).
    #[error("JWE decryption failed")]
    DecryptionFailed,
    /// aws-lc-rs failed in an unexpected way (key generation, signing, random source).
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),
}

impl JoseError {
    pub(crate) fn malformed(part: &'static str, reason: impl Into<String>) -> Self {
        Self::Malformed {
            part,
            reason: reason.into(),
        }
    }
}

impl From<UnknownAlgorithm> for JoseError {
    fn from(e: UnknownAlgorithm) -> Self {
        JoseError::UnsupportedAlgorithm(e.into_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::untrusted::untrusted;

    #[test]
    fn messages_escape_control_characters() {
        let e = JoseError::AlgorithmMismatch {
            expected: Algorithm::RS256,
            header_alg: untrusted("HS256\n\u{1b}[31m"),
        };
        let msg = e.to_string();
        assert!(!msg.contains('\n'));
        assert!(!msg.contains('\u{1b}'));
    }
}
