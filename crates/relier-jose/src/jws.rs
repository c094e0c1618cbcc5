//! Compact JWS (RFC 7515 §7.1): parsing, verification with a pinned algorithm, signing.

use std::fmt;

use aws_lc_rs::rand::SecureRandom;
use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::alg::Algorithm;
use crate::b64;
use crate::error::{JoseError, untrusted};
use crate::json::{UniqueMap, parse_object, take_string, take_string_array};
use crate::signing::SigningKey;
use crate::verifying::VerifyingKey;

/// A compact JWS may be at most this many bytes.
pub const MAX_COMPACT_JWS_BYTES: usize = 64 * 1024;

const HEADER: &str = "JWS header";

/// Header Parameter names registered by RFC 7515 §4.1; `crit` must not list them
/// (RFC 7515 §4.1.11).
const REGISTERED: [&str; 11] = [
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
];

/// A JOSE header (RFC 7515 §4). Unmodelled parameters are kept in `extra`.
///
/// Deserializing refuses duplicate parameter names (RFC 7515 §4) and requires `alg` to be a
/// string. Serializing skips absent members and any `extra` entry whose name collides with a
/// modelled member.
#[derive(Clone, Debug, Default)]
pub struct Header {
    /// Algorithm (RFC 7515 §4.1.1). Informational only: verification uses the caller's pinned
    /// algorithm and merely checks that this equals it.
    pub alg: String,
    /// Key ID (RFC 7515 §4.1.4).
    pub kid: Option<String>,
    /// Media type of the whole JWS (RFC 7515 §4.1.9), e.g. "JWT".
    pub typ: Option<String>,
    /// Content type of the payload (RFC 7515 §4.1.10).
    pub cty: Option<String>,
    /// Critical extensions (RFC 7515 §4.1.11); see [`check_crit`].
    pub crit: Option<Vec<String>>,
    /// Every other parameter.
    pub extra: Map<String, Value>,
}

impl Header {
    fn from_map(mut m: Map<String, Value>) -> Result<Self, JoseError> {
        let alg = take_string(&mut m, "alg", HEADER)?
            .ok_or_else(|| JoseError::malformed(HEADER, "missing \"alg\""))?;
        Ok(Header {
            alg,
            kid: take_string(&mut m, "kid", HEADER)?,
            typ: take_string(&mut m, "typ", HEADER)?,
            cty: take_string(&mut m, "cty", HEADER)?,
            crit: take_string_array(&mut m, "crit", HEADER)?,
            extra: m,
        })
    }
}

impl Serialize for Header {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("alg", &self.alg)?;
        for (name, value) in [("kid", &self.kid), ("typ", &self.typ), ("cty", &self.cty)] {
            if let Some(v) = value {
                m.serialize_entry(name, v)?;
            }
        }
        if let Some(crit) = &self.crit {
            m.serialize_entry("crit", crit)?;
        }
        for (name, value) in &self.extra {
            if !matches!(name.as_str(), "alg" | "kid" | "typ" | "cty" | "crit") {
                m.serialize_entry(name, value)?;
            }
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Header {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = UniqueMap::deserialize(deserializer)?.0;
        Header::from_map(map).map_err(de::Error::custom)
    }
}

/// A compact JWS split and decoded but NOT verified.
#[derive(Clone)]
pub struct UnverifiedJws {
    header: Header,
    payload: Vec<u8>,
    signing_input: String,
    signature: Vec<u8>,
}

impl UnverifiedJws {
    /// Splits and decodes a compact JWS: exactly three base64url parts (strict, no padding),
    /// a header that is a JSON object with a string "alg" and unique member names, at most
    /// [`MAX_COMPACT_JWS_BYTES`] in all.
    ///
    /// # Errors
    /// [`JoseError::TooLarge`], [`JoseError::Malformed`].
    pub fn parse(token: &str) -> Result<Self, JoseError> {
        if token.len() > MAX_COMPACT_JWS_BYTES {
            return Err(JoseError::TooLarge {
                what: "compact JWS",
                max: MAX_COMPACT_JWS_BYTES,
            });
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            let count = token.split('.').count();
            let hint = if count == 5 {
                " (a JWE? encrypted tokens are not supported)"
            } else {
                ""
            };
            return Err(JoseError::malformed(
                "compact JWS",
                format!("expected 3 dot-separated parts, found {count}{hint}"),
            ));
        };
        let header_bytes = b64::decode_part(h, HEADER)?;
        let header = Header::from_map(parse_object(&header_bytes, HEADER)?)?;
        let payload = b64::decode_part(p, "JWS payload")?;
        let signature = b64::decode_part(s, "JWS signature")?;
        // RFC 7515 §5.2 step 8: the JWS Signing Input is ASCII(h '.' p) exactly as received.
        let signing_input = token
            .get(..h.len().saturating_add(1).saturating_add(p.len()))
            .ok_or_else(|| JoseError::malformed("compact JWS", "signing input"))?
            .to_owned();
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

impl fmt::Debug for UnverifiedJws {
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
    let mut header = header.clone();
    header.alg = key.algorithm().as_str().to_owned();
    if header.kid.is_none() {
        header.kid = key.kid().map(str::to_owned);
    }
    let header_json =
        serde_json::to_vec(&header).map_err(|e| JoseError::malformed(HEADER, e.to_string()))?;
    let mut token = b64::encode(&header_json);
    token.push('.');
    token.push_str(&b64::encode(payload));
    let signature = key.sign(token.as_bytes(), rng)?;
    token.push('.');
    token.push_str(&b64::encode(&signature));
    Ok(token)
}

/// Checks the "crit" header parameter (RFC 7515 §4.1.11): every listed name must be in
/// `understood`; the list must not be empty; it must not list a name registered by RFC 7515.
/// An absent "crit" passes.
///
/// # Errors
/// [`JoseError::UnsupportedCrit`].
pub fn check_crit(header: &Header, understood: &[&str]) -> Result<(), JoseError> {
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
        if REGISTERED.contains(&name.as_str()) {
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
