//! Compact JWE decryption (RFC 7516 §7.1 with the algorithms of RFC 7518), for encrypted ID
//! tokens, UserInfo responses and JARM responses (OIDC Core §10.2, OIDC Registration §2); and
//! encryption to a recipient's public JWK ([`EncryptionKey`], [`encrypt_to_public`]), for
//! request objects encrypted to the OP (OIDC Core §6.1).
//!
//! Both algorithms are pinned by the caller from the client registration
//! (`id_token_encrypted_response_alg`/`_enc`, …) in a [`JweExpectation`]; a header `alg` or
//! `enc` that differs is refused before any cryptography (RFC 8725 §3.1).
//!
//! | key management (`alg`) | key |
//! |---|---|
//! | `RSA-OAEP`, `RSA-OAEP-256` | an RSA [`DecryptionKey`] |
//! | `ECDH-ES`, `ECDH-ES+A128KW`, `ECDH-ES+A256KW` | an EC P-256/P-384/P-521 or X25519 [`DecryptionKey`] |
//! | `dir`, `A128KW`, `A256KW` | derived from the client secret (OIDC Core §10.2) |
//!
//! Content encryption (`enc`): `A128GCM`, `A192GCM`, `A256GCM`, `A128CBC-HS256`,
//! `A192CBC-HS384`, `A256CBC-HS512`.
//!
//! Refused: compressed content (`zip`, any value), `crit` (no extension is understood), a
//! serialization that is not exactly five parts, more than [`MAX_COMPACT_JWE_BYTES`], IVs and
//! tags of the wrong length, an `epk` on another curve or not on the curve. Every
//! cryptographic failure (key unwrap, authentication tag, padding) is one error,
//! [`JoseError::DecryptionFailed`] (RFC 7516 §11.5).
//!
//! **Nested JWTs** (sign-then-encrypt, RFC 7519 §5.2 and §11.2): when the header `cty` is
//! "JWT" ([`Decrypted::is_nested_jwt`]), the plaintext is a compact JWS. It proves nothing by
//! itself: parse it with [`Decrypted::nested_jws`] and verify it exactly like an unencrypted
//! token ([`crate::jws::UnverifiedJws::verify`] with the pinned signature algorithm and the
//! OP's key). Encryption only hides the content; the OP's signature is what authenticates it.
//!
//! ```
//! use relier_jose::jwe::{self, ContentEncAlg, DecryptionKey, DecryptionKeys, JweExpectation, KeyManagementAlg};
//!
//! let key = DecryptionKey::generate(KeyManagementAlg::EcdhEs, Some("P-256"))?.with_kid("enc-1");
//! let keys = DecryptionKeys::new().with_key(key)?;
//! let expect = JweExpectation::new(KeyManagementAlg::EcdhEs, ContentEncAlg::A256Gcm);
//! assert!(!jwe::is_compact_jwe("a.b.c"));
//! assert!(jwe::decrypt_compact("a.b.c", &expect, &keys).is_err());
//! # Ok::<(), relier_jose::JoseError>(())
//! ```

pub(crate) mod alg;
mod content;
mod key_mgmt;
mod keys;
mod public;

use std::fmt;

use serde_json::Value;
use zeroize::Zeroizing;

pub use alg::{ContentEncAlg, KeyManagementAlg};
pub use keys::{
    DecryptionKey, DecryptionKeys, MAX_DECRYPTION_KEYS, MAX_KEY_ATTEMPTS,
    derive_key_from_client_secret,
};
pub use public::{EncryptionKey, encrypt_to_public};

use crate::b64;
use crate::error::JoseError;
use crate::header::Header;
use crate::jwk::Jwk;
use crate::jws::{UnverifiedJws, check_crit_against};
use crate::untrusted::untrusted;
use key_mgmt::Epk;
use keys::Inner;

/// A compact JWE may be at most this many bytes: room for a nested compact JWS of
/// [`crate::jws::MAX_COMPACT_JWS_BYTES`] (base64url grows it by a third) with an RSA-4096
/// encrypted key and an `epk` in the header.
pub const MAX_COMPACT_JWE_BYTES: usize = 96 * 1024;
/// The base64url-encoded protected header may be at most this many bytes.
pub const MAX_JWE_HEADER_BYTES: usize = 8 * 1024;

const HEADER: &str = "JWE header";

/// Header Parameter names registered by RFC 7516 §4.1 and RFC 7518 §4.6.1, §4.7.1, §4.8.1;
/// `crit` must not list them (RFC 7516 §4.1.13).
const REGISTERED: [&str; 20] = [
    "alg", "enc", "zip", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty",
    "crit", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c",
];

/// The key management and content encryption algorithms the relying party registered
/// (e.g. `id_token_encrypted_response_alg` and `id_token_encrypted_response_enc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JweExpectation {
    /// The expected header `alg`.
    pub alg: KeyManagementAlg,
    /// The expected header `enc`.
    pub enc: ContentEncAlg,
}

impl JweExpectation {
    /// The pair of pinned algorithms.
    #[must_use]
    pub fn new(alg: KeyManagementAlg, enc: ContentEncAlg) -> Self {
        JweExpectation { alg, enc }
    }
}

/// What a compact serialization is, judged by its number of parts only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompactKind {
    /// Three parts: a JWS (RFC 7515 §7.1).
    Jws,
    /// Five parts: a JWE (RFC 7516 §7.1).
    Jwe,
}

/// [`CompactKind::Jws`] for three dot-separated parts, [`CompactKind::Jwe`] for five, `None`
/// otherwise (RFC 7516 §9: the number of parts tells a compact JWS from a JWE). Nothing is
/// decoded or checked.
#[must_use]
pub fn compact_kind(token: &str) -> Option<CompactKind> {
    match token.bytes().filter(|&b| b == b'.').count() {
        2 => Some(CompactKind::Jws),
        4 => Some(CompactKind::Jwe),
        _ => None,
    }
}

/// Whether `token` has the five parts of a compact JWE.
#[must_use]
pub fn is_compact_jwe(token: &str) -> bool {
    compact_kind(token) == Some(CompactKind::Jwe)
}

/// A decrypted JWE: the protected header and the plaintext (zeroized on drop).
pub struct Decrypted {
    header: Header,
    kid: Option<String>,
    plaintext: Zeroizing<Vec<u8>>,
}

impl Decrypted {
    /// The plaintext.
    #[must_use]
    pub fn plaintext(&self) -> &[u8] {
        &self.plaintext
    }

    /// The plaintext, moved out.
    #[must_use]
    pub fn into_plaintext(self) -> Zeroizing<Vec<u8>> {
        self.plaintext
    }

    /// The protected header (`alg`, `kid`, `typ`, `cty`, `crit`; everything else, `enc` and
    /// `epk` included, in `extra`).
    #[must_use]
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The header `cty` (RFC 7516 §4.1.12).
    #[must_use]
    pub fn cty(&self) -> Option<&str> {
        self.header.cty.as_deref()
    }

    /// The `kid` of the relying-party key that decrypted the token (`None` for symmetric key
    /// management or a key without one).
    #[must_use]
    pub fn key_id(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Whether the plaintext is a nested JWT: `cty` is "JWT", compared case-insensitively
    /// (RFC 7519 §5.2; RFC 7515 §4.1.10 lets "application/" be omitted, and media types are
    /// case-insensitive).
    #[must_use]
    pub fn is_nested_jwt(&self) -> bool {
        self.cty().is_some_and(|cty| {
            cty.eq_ignore_ascii_case("JWT") || cty.eq_ignore_ascii_case("application/jwt")
        })
    }

    /// Parses the plaintext as a compact JWS, NOT verified: verify it like any other JWS
    /// ([`UnverifiedJws::verify`] with the pinned signature algorithm and the OP's key).
    ///
    /// # Errors
    /// [`JoseError::Malformed`] if the plaintext is not UTF-8 or not a compact JWS;
    /// [`JoseError::TooLarge`].
    pub fn nested_jws(&self) -> Result<UnverifiedJws<'_>, JoseError> {
        let text = std::str::from_utf8(&self.plaintext)
            .map_err(|_| JoseError::malformed("nested JWT", "plaintext is not UTF-8"))?;
        UnverifiedJws::parse(text)
    }
}

impl fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decrypted")
            .field("header", &self.header)
            .field("key_id", &self.kid)
            .field("plaintext_len", &self.plaintext.len())
            .finish()
    }
}

/// The JWE-specific members of the protected header.
struct JweHeader {
    base: Header,
    enc: Option<String>,
    zip: bool,
    epk: Option<Value>,
    apu: Option<String>,
    apv: Option<String>,
}

impl JweHeader {
    fn parse(header_b64: &str) -> Result<Self, JoseError> {
        if header_b64.len() > MAX_JWE_HEADER_BYTES {
            return Err(JoseError::TooLarge {
                what: "JWE protected header",
                max: MAX_JWE_HEADER_BYTES,
            });
        }
        let bytes = b64::decode_part(header_b64, HEADER)?;
        // The header reader is shared with JWS (duplicate names refused, "alg" a string);
        // only the part named in its errors differs.
        let mut base = Header::from_json(&bytes).map_err(|e| match e {
            JoseError::Malformed { reason, .. } => JoseError::Malformed {
                part: HEADER,
                reason,
            },
            other => other,
        })?;
        let string = |v: Option<Value>, member: &str| match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(JoseError::malformed(
                HEADER,
                format!("member {member:?} must be a string"),
            )),
        };
        let enc = string(base.extra.remove("enc"), "enc")?;
        let apu = string(base.extra.remove("apu"), "apu")?;
        let apv = string(base.extra.remove("apv"), "apv")?;
        let zip = base.extra.remove("zip").is_some();
        let epk = base.extra.remove("epk");
        // Put them back: the caller sees the whole header.
        for (name, value) in [("enc", &enc), ("apu", &apu), ("apv", &apv)] {
            if let Some(v) = value {
                base.extra.insert(name.to_owned(), Value::String(v.clone()));
            }
        }
        if let Some(epk) = &epk {
            base.extra.insert("epk".to_owned(), epk.clone());
        }
        Ok(JweHeader {
            base,
            enc,
            zip,
            epk,
            apu,
            apv,
        })
    }
}

/// Checks the protected header against the caller's expectation, before any cryptography.
fn check_header(h: &JweHeader, expect: &JweExpectation) -> Result<(), JoseError> {
    // RFC 8725 §3.1: the algorithms are the registered ones, never the header's choice.
    if h.base.alg != expect.alg.as_str() {
        return Err(JoseError::JweAlgorithmMismatch {
            expected: expect.alg,
            header_alg: untrusted(&h.base.alg),
        });
    }
    if h.enc.as_deref() != Some(expect.enc.as_str()) {
        return Err(JoseError::JweEncryptionMismatch {
            expected: expect.enc,
            header_enc: untrusted(h.enc.as_deref().unwrap_or_default()),
        });
    }
    // RFC 7516 §4.1.3: "zip" would have us inflate attacker-sized content; refused whatever
    // its value.
    if h.zip {
        return Err(JoseError::JweCompressionRefused);
    }
    // RFC 7516 §4.1.13: no extension is understood, so any "crit" entry is refused.
    check_crit_against(&h.base, &[], &REGISTERED)
}

/// The five decoded parts of a compact JWE (RFC 7516 §7.1).
struct Parts {
    encrypted_key: Vec<u8>,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: Vec<u8>,
}

/// Decrypts a compact JWE with the caller's pinned algorithms and the relying party's keys,
/// following RFC 7516 §5.2.
///
/// With a header `kid`, only the keys with that `kid` are tried; without one, up to
/// [`MAX_KEY_ATTEMPTS`] keys of the type the algorithm needs. For ECDH-ES only keys on the
/// `epk`'s curve are tried. Symmetric key management uses the client secret.
///
/// # Errors
/// [`JoseError::TooLarge`]; [`JoseError::Malformed`] (not five parts, bad base64url or header
/// JSON, IV/tag/encrypted key of the wrong length); [`JoseError::JweAlgorithmMismatch`] and
/// [`JoseError::JweEncryptionMismatch`]; [`JoseError::JweCompressionRefused`];
/// [`JoseError::UnsupportedCrit`]; [`JoseError::NoDecryptionKey`];
/// [`JoseError::InvalidEphemeralKey`]; [`JoseError::DecryptionFailed`].
pub fn decrypt_compact(
    token: &str,
    expect: &JweExpectation,
    keys: &DecryptionKeys,
) -> Result<Decrypted, JoseError> {
    let [h, k, i, c, t] = split_compact(token)?;
    let header = JweHeader::parse(h)?;
    check_header(&header, expect)?;
    let enc = expect.enc;
    let parts = Parts::decode([k, i, c, t], enc)?;
    // RFC 7516 §5.2 step 14: AAD = ASCII(BASE64URL(UTF8(JWE Protected Header))), as received.
    let aad = h.as_bytes();
    let open = |cek: &[u8]| {
        content::decrypt(
            enc,
            cek,
            &parts.iv,
            aad,
            parts.ciphertext.clone(),
            &parts.tag,
        )
    };
    let kid = header.base.kid.as_deref();
    let (plaintext, used) = match expect.alg {
        KeyManagementAlg::Dir => {
            require_empty_key(&parts.encrypted_key, expect.alg)?;
            // RFC 7518 §4.5: the shared key is the CEK.
            let cek = keys.symmetric_key(enc.cek_len())?;
            (open(&cek)?, None)
        }
        KeyManagementAlg::A128Kw | KeyManagementAlg::A256Kw => {
            let kek_len = expect.alg.key_wrap_len().unwrap_or(32);
            let kek = keys.symmetric_key(kek_len)?;
            let cek = key_mgmt::aes_unwrap(&kek, &parts.encrypted_key, enc)?;
            (open(&cek)?, None)
        }
        KeyManagementAlg::RsaOaep | KeyManagementAlg::RsaOaep256 => {
            let candidates = keys.candidates(expect.alg, kid, |_| true)?;
            try_keys(&candidates, |key| {
                let Inner::Rsa { oaep, .. } = key.inner() else {
                    return Err(JoseError::DecryptionFailed);
                };
                let cek = key_mgmt::rsa_oaep_cek(oaep, expect.alg, &parts.encrypted_key, enc)?;
                open(&cek)
            })?
        }
        KeyManagementAlg::EcdhEs
        | KeyManagementAlg::EcdhEsA128Kw
        | KeyManagementAlg::EcdhEsA256Kw => ecdh_es(&header, expect, keys, &parts, open)?,
    };
    Ok(Decrypted {
        header: header.base,
        kid: used,
        plaintext,
    })
}

/// The five parts of a compact JWE (RFC 7516 §7.1), at most [`MAX_COMPACT_JWE_BYTES`].
fn split_compact(token: &str) -> Result<[&str; 5], JoseError> {
    if token.len() > MAX_COMPACT_JWE_BYTES {
        return Err(JoseError::TooLarge {
            what: "compact JWE",
            max: MAX_COMPACT_JWE_BYTES,
        });
    }
    let mut split = token.split('.');
    match (
        split.next(),
        split.next(),
        split.next(),
        split.next(),
        split.next(),
        split.next(),
    ) {
        (Some(h), Some(k), Some(i), Some(c), Some(t), None) => Ok([h, k, i, c, t]),
        _ => Err(JoseError::malformed(
            "compact JWE",
            format!(
                "expected 5 dot-separated parts, found {}",
                token.split('.').count()
            ),
        )),
    }
}

impl Parts {
    /// The encrypted key, IV, ciphertext and tag, base64url-decoded; the IV and tag of the
    /// lengths `enc` uses.
    fn decode([k, i, c, t]: [&str; 4], enc: ContentEncAlg) -> Result<Self, JoseError> {
        let parts = Parts {
            encrypted_key: b64::decode_part(k, "JWE encrypted key")?,
            iv: b64::decode_part(i, "JWE initialization vector")?,
            ciphertext: b64::decode_part(c, "JWE ciphertext")?,
            tag: b64::decode_part(t, "JWE authentication tag")?,
        };
        if parts.iv.len() != enc.iv_len() {
            return Err(JoseError::malformed(
                "JWE initialization vector",
                format!("must be {} bytes for {enc}", enc.iv_len()),
            ));
        }
        if parts.tag.len() != enc.tag_len() {
            return Err(JoseError::malformed(
                "JWE authentication tag",
                format!("must be {} bytes for {enc}", enc.tag_len()),
            ));
        }
        Ok(parts)
    }
}

/// ECDH-ES key agreement (RFC 7518 §4.6): direct, or wrapping the CEK with A128KW/A256KW.
fn ecdh_es(
    header: &JweHeader,
    expect: &JweExpectation,
    keys: &DecryptionKeys,
    parts: &Parts,
    open: impl Fn(&[u8]) -> Result<Zeroizing<Vec<u8>>, JoseError>,
) -> Result<(Zeroizing<Vec<u8>>, Option<String>), JoseError> {
    let enc = expect.enc;
    let kid = header.base.kid.as_deref();
    let epk = header.epk.clone().ok_or(JoseError::InvalidEphemeralKey {
        reason: "\"epk\" is missing",
    })?;
    let epk: Jwk = serde_json::from_value(epk).map_err(|_| JoseError::InvalidEphemeralKey {
        reason: "\"epk\" is not a JWK",
    })?;
    let epk = Epk::from_jwk(&epk)?;
    // RFC 7518 §4.6.1.2, §4.6.1.3: PartyUInfo and PartyVInfo, base64url-encoded.
    let apu = decode_party(header.apu.as_deref(), "apu")?;
    let apv = decode_party(header.apv.as_deref(), "apv")?;
    if expect.alg == KeyManagementAlg::EcdhEs {
        require_empty_key(&parts.encrypted_key, expect.alg)?;
    }
    // Only keys on the epk's curve are tried; if the algorithm has keys but none on
    // that curve, the epk is what is wrong.
    let candidates = keys
        .candidates(expect.alg, kid, |k| epk.same_curve(k.inner()))
        .map_err(|e| match keys.candidates(expect.alg, kid, |_| true) {
            Ok(_) => JoseError::InvalidEphemeralKey {
                reason: "on another curve than the recipient key",
            },
            Err(_) => e,
        })?;
    try_keys(&candidates, |key| {
        let derived = key_mgmt::ecdh_es_key(key.inner(), &epk, expect.alg, enc, &apu, &apv)?;
        if expect.alg == KeyManagementAlg::EcdhEs {
            // RFC 7518 §4.6: in Direct Key Agreement mode the KDF output is the CEK.
            open(&derived)
        } else {
            let cek = key_mgmt::aes_unwrap(&derived, &parts.encrypted_key, enc)?;
            open(&cek)
        }
    })
}

/// Tries each key in turn; a [`JoseError::DecryptionFailed`] moves on to the next key, any
/// other error stops. Returns the plaintext and the `kid` of the key that worked.
fn try_keys(
    candidates: &[&DecryptionKey],
    mut attempt: impl FnMut(&DecryptionKey) -> Result<Zeroizing<Vec<u8>>, JoseError>,
) -> Result<(Zeroizing<Vec<u8>>, Option<String>), JoseError> {
    for key in candidates {
        match attempt(key) {
            Ok(plaintext) => return Ok((plaintext, key.kid().map(str::to_owned))),
            Err(JoseError::DecryptionFailed) => {}
            Err(other) => return Err(other),
        }
    }
    Err(JoseError::DecryptionFailed)
}

/// RFC 7516 §5.2 step 10: with direct encryption or direct key agreement the JWE Encrypted Key
/// MUST be empty.
fn require_empty_key(encrypted_key: &[u8], alg: KeyManagementAlg) -> Result<(), JoseError> {
    if encrypted_key.is_empty() {
        Ok(())
    } else {
        Err(JoseError::malformed(
            "JWE encrypted key",
            format!("must be empty for {alg}"),
        ))
    }
}

fn decode_party(value: Option<&str>, member: &'static str) -> Result<Vec<u8>, JoseError> {
    match value {
        None => Ok(Vec::new()),
        Some(s) => b64::decode_part(s, member),
    }
}

#[cfg(any(test, feature = "test-encryption"))]
pub mod encryptor;

#[cfg(test)]
pub(crate) mod test_encryptor;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod key_tests;

#[cfg(test)]
mod rfc_vectors_tests;
