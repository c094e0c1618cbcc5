//! What a private key file holds, judged by its content.

use std::fmt;

/// What a key file holds, judged by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFormat {
    /// A JSON Web Key (starts with `{`).
    Jwk,
    /// PEM (starts with `-----BEGIN`): "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY".
    Pem,
    /// Anything else: tried as PKCS#8 DER.
    Der,
}

impl fmt::Display for KeyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyFormat::Jwk => "JWK",
            KeyFormat::Pem => "PEM",
            KeyFormat::Der => "neither a JWK ({…}) nor PEM (-----BEGIN); as PKCS#8 DER",
        })
    }
}

/// `{` → JWK, `-----BEGIN` → PEM, otherwise DER (leading whitespace ignored).
pub fn detect_key_format(bytes: &[u8]) -> KeyFormat {
    let trimmed = bytes.trim_ascii_start();
    if trimmed.starts_with(b"{") {
        KeyFormat::Jwk
    } else if trimmed.starts_with(b"-----BEGIN") {
        KeyFormat::Pem
    } else {
        KeyFormat::Der
    }
}
