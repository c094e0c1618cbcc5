//! Compact JWS (RFC 7515 §7.1): parsing, verification with a pinned algorithm, signing.

use std::fmt;

use aws_lc_rs::rand::SecureRandom;

use crate::alg::Algorithm;
use crate::b64;
use crate::error::JoseError;
use crate::header::HEADER;
pub use crate::header::Header;
use crate::signing::SigningKey;
use crate::untrusted::untrusted;
use crate::verifying::VerifyingKey;

/// A compact JWS may be at most this many bytes.
pub const MAX_COMPACT_JWS_BYTES: usize = 64 * 1024;

/// Header Parameter names registered by RFC 7515 §4.1; `crit` must not list them
/// (RFC 7515 §4.1.11).
const REGISTERED: [&str; 11] = [
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
];

/// A compact JWS split and decoded but NOT verified. It borrows the token's text for the
/// signing input.
#[derive(Clone)]
pub struct UnverifiedJws<'a> {
    header: Header,
    payload: Vec<u8>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl<'a> UnverifiedJws<'a> {
    /// Splits and decodes a compact JWS: exactly three base64url parts (strict, no padding),
    /// a header that is a JSON object with a string "alg" and unique member names, at most
    /// [`MAX_COMPACT_JWS_BYTES`] in all.
    ///
    /// # Errors
    /// [`JoseError::TooLarge`], [`JoseError::Malformed`].
    pub fn parse(token: &'a str) -> Result<Self, JoseError> {
        if token.len() > MAX_COMPACT_JWS_BYTES {
            return Err(JoseError::TooLarge {
                what: "compact JWS",
                max: MAX_COMPACT_JWS_BYTES,
            });
        }
        let Some((h, p, s)) = three_parts(token) else {
            let count = token.split('.').count();
            let hint = if count == 5 {
                " (a JWE? decrypt it with jwe::decrypt_compact first)"
            } else {
                ""
            };
            return Err(JoseError::malformed(
                "compact JWS",
                format!("expected 3 dot-separated parts, found {count}{hint}"),
            ));
        };
        let mut buf = [0u8; 512];
        let header = match b64::decode_part_into(h, HEADER, &mut buf)? {
            Some(bytes) => Header::from_json(bytes)?,
            None => Header::from_json(&b64::decode_part(h, HEADER)?)?,
        };
        let payload = b64::decode_part(p, "JWS payload")?;
        let signature = b64::decode_part(s, "JWS signature")?;
        // RFC 7515 §5.2 step 8: the JWS Signing Input is ASCII(h '.' p) exactly as received.
        let signing_input = token
            .get(..h.len().saturating_add(1).saturating_add(p.len()))
            .ok_or_else(|| JoseError::malformed("compact JWS", "signing input"))?;
        Ok(UnverifiedJws {
            header,
            payload,
            signing_input,
            signature,
        })
    }

    /// The decoded header.
    #[must_use]
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The header "alg" exactly as sent. Never use it to choose the algorithm.
    #[must_use]
    pub fn header_alg(&self) -> &str {
        &self.header.alg
    }

    /// The payload, NOT verified.
    #[must_use]
    pub fn unverified_payload(&self) -> &[u8] {
        &self.payload
    }

    /// ASCII(BASE64URL(header) '.' BASE64URL(payload)).
    #[must_use]
    pub fn signing_input(&self) -> &[u8] {
        self.signing_input.as_bytes()
    }

    /// The decoded signature.
    #[must_use]
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Verifies with the caller's pinned `expected` algorithm and returns the payload.
    ///
    /// # Errors
    /// [`JoseError::AlgorithmNoneRefused`] for `Algorithm::None`;
    /// [`JoseError::AlgorithmMismatch`] if the header "alg" is not `expected` (RFC 8725 §3.1);
    /// the key's error if it cannot do `expected` ([`VerifyingKey::check_compatible`]);
    /// [`JoseError::InvalidSignature`] otherwise.
    pub fn verify(&self, expected: Algorithm, key: &VerifyingKey) -> Result<&[u8], JoseError> {
        if expected == Algorithm::None {
            return Err(JoseError::AlgorithmNoneRefused);
        }
        if self.header.alg != expected.as_str() {
            return Err(JoseError::AlgorithmMismatch {
                expected,
                header_alg: untrusted(&self.header.alg),
            });
        }
        key.verify(expected, self.signing_input(), &self.signature)?;
        Ok(&self.payload)
    }

    /// Like [`Self::verify`], consuming the JWS: the verified payload is moved out, not copied.
    ///
    /// # Errors
    /// As [`Self::verify`].
    pub fn verify_into_payload(
        self,
        expected: Algorithm,
        key: &VerifyingKey,
    ) -> Result<Vec<u8>, JoseError> {
        self.verify(expected, key)?;
        Ok(self.payload)
    }

    /// Accepts an Unsecured JWS: header "alg" exactly "none" and an empty signature
    /// (RFC 7518 §3.6). Only for flows where the payload is authenticated otherwise.
    ///
    /// # Errors
    /// [`JoseError::AlgorithmMismatch`] if the header "alg" is not "none";
    /// [`JoseError::Malformed`] if the signature is not empty.
    pub fn dangerous_accept_unsigned(&self) -> Result<&[u8], JoseError> {
        if self.header.alg != Algorithm::None.as_str() {
            return Err(JoseError::AlgorithmMismatch {
                expected: Algorithm::None,
                header_alg: untrusted(&self.header.alg),
            });
        }
        if !self.signature.is_empty() {
            return Err(JoseError::malformed(
                "JWS signature",
                "must be empty for alg \"none\" (RFC 7518 §3.6)",
            ));
        }
        Ok(&self.payload)
    }
}

/// `h.p.s` split at its two dots (a vectorised search: the signature part alone is hundreds of
/// bytes); `None` unless there are exactly two.
fn three_parts(token: &str) -> Option<(&str, &str, &str)> {
    let mut dots = memchr::memchr_iter(b'.', token.as_bytes());
    let (first, second) = (dots.next()?, dots.next()?);
    if dots.next().is_some() {
        return None;
    }
    // The dots are ASCII, so every split point is a char boundary.
    Some((
        token.get(..first)?,
        token.get(first.checked_add(1)?..second)?,
        token.get(second.checked_add(1)?..)?,
    ))
}

impl fmt::Debug for UnverifiedJws<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnverifiedJws")
            .field("header", &self.header)
            .field("payload_len", &self.payload.len())
            .field("signature_len", &self.signature.len())
            .finish()
    }
}

/// Signs `payload` as a compact JWS. The header's "alg" is set from the key (overriding
/// `header.alg`); "kid" is taken from the key when `header.kid` is `None`.
///
/// # Errors
/// [`JoseError::Malformed`] if the header cannot be serialized; the key's signing error.
pub fn sign_compact(
    header: &Header,
    payload: &[u8],
    key: &SigningKey,
    rng: &dyn SecureRandom,
) -> Result<String, JoseError> {
    let header_b64 = encode_header(header, key)?;
    finish_compact(&header_b64, payload, key, rng)
}

/// A signing key with its JWS Protected Header serialized and base64url-encoded once, for
/// callers that sign many payloads with one key (client assertions): signing is then the
/// payload encoding plus the key operation.
#[derive(Clone)]
pub struct CompactSigner {
    key: SigningKey,
    header_b64: String,
}

impl CompactSigner {
    /// Fixes the header as [`sign_compact`] would build it: "alg" from the key, "kid" from the
    /// key when `header.kid` is `None`.
    ///
    /// # Errors
    /// [`JoseError::Malformed`] if the header cannot be serialized.
    pub fn new(header: &Header, key: SigningKey) -> Result<Self, JoseError> {
        let header_b64 = encode_header(header, &key)?;
        Ok(Self { key, header_b64 })
    }

    /// The key.
    #[must_use]
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// Signs `payload`; the result equals [`sign_compact`] with the same header and key.
    ///
    /// # Errors
    /// The key's signing error.
    pub fn sign(&self, payload: &[u8], rng: &dyn SecureRandom) -> Result<String, JoseError> {
        finish_compact(&self.header_b64, payload, &self.key, rng)
    }
}

impl fmt::Debug for CompactSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompactSigner")
            .field("alg", &self.key.algorithm())
            .field("kid", &self.key.kid())
            .finish_non_exhaustive()
    }
}

fn encode_header(header: &Header, key: &SigningKey) -> Result<String, JoseError> {
    let mut header = header.clone();
    header.alg = key.algorithm().as_str().to_owned();
    if header.kid.is_none() {
        header.kid = key.kid().map(str::to_owned);
    }
    let header_json =
        serde_json::to_vec(&header).map_err(|e| JoseError::malformed(HEADER, e.to_string()))?;
    Ok(b64::encode(&header_json))
}

/// Longest signature relier produces: RSA 4096 (512 bytes), as base64url.
const MAX_SIGNATURE_B64: usize = 683;

/// RFC 7515 §7.1: BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature), built in
/// one buffer sized up front.
fn finish_compact(
    header_b64: &str,
    payload: &[u8],
    key: &SigningKey,
    rng: &dyn SecureRandom,
) -> Result<String, JoseError> {
    let payload_b64 = payload.len().div_ceil(3).saturating_mul(4);
    let mut token = String::with_capacity(
        header_b64
            .len()
            .saturating_add(payload_b64)
            .saturating_add(MAX_SIGNATURE_B64 + 2),
    );
    token.push_str(header_b64);
    token.push('.');
    b64::encode_into(payload, &mut token);
    let signature = key.sign(token.as_bytes(), rng)?;
    token.push('.');
    b64::encode_into(&signature, &mut token);
    Ok(token)
}

/// Checks the "crit" header parameter (RFC 7515 §4.1.11): every listed name must be in
/// `understood`; the list must not be empty; it must not list a name registered by RFC 7515.
/// An absent "crit" passes.
///
/// # Errors
/// [`JoseError::UnsupportedCrit`].
pub fn check_crit(header: &Header, understood: &[&str]) -> Result<(), JoseError> {
    check_crit_against(header, understood, &REGISTERED)
}

/// [`check_crit`] with the list of registered names that `crit` must not list (RFC 7515
/// §4.1.11 for JWS, RFC 7516 §4.1.13 for JWE).
pub(crate) fn check_crit_against(
    header: &Header,
    understood: &[&str],
    registered: &[&str],
) -> Result<(), JoseError> {
    let Some(crit) = &header.crit else {
        return Ok(());
    };
    // "Producers MUST NOT use the empty list "[]" as the "crit" value."
    if crit.is_empty() {
        return Err(JoseError::UnsupportedCrit {
            name: String::new(),
            reason: "empty crit list",
        });
    }
    for name in crit {
        // "Producers MUST NOT include Header Parameter names defined by this specification or
        // [JWA] for use with JWS ... in the "crit" list."
        if registered.contains(&name.as_str()) {
            return Err(JoseError::UnsupportedCrit {
                name: untrusted(name),
                reason: "a registered header parameter may not be listed",
            });
        }
        // "If any of the listed extension Header Parameters are not understood and supported
        // by the recipient, then the JWS is invalid."
        if !understood.contains(&name.as_str()) {
            return Err(JoseError::UnsupportedCrit {
                name: untrusted(name),
                reason: "not understood",
            });
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "jws_tests.rs"]
mod tests;
