//! Encrypted responses from the OP (OIDC Core §10.2, §5.3.2; OIDC Registration §2): what the
//! client registered (`id_token_encrypted_response_alg`/`_enc`,
//! `userinfo_encrypted_response_alg`/`_enc`) decides whether a response MUST be a JWE and with
//! which algorithms. The algorithms are pinned from the registration, never taken from the JWE
//! header (RFC 8725 §3.1); the RP's keys are chosen by the header `kid`, or tried in order
//! (current first) without one.
//!
//! Decryption only hides the content: a nested JWT's signature is then verified exactly as an
//! unencrypted token's ([`crate::id_token`], [`crate::userinfo`]).

use std::fmt;
use std::str::FromStr;

use relier_jose::JoseError;
use relier_jose::jwe::{self, CompactKind, JweExpectation, MAX_JWE_HEADER_BYTES};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

pub use relier_jose::jwe::{ContentEncAlg, DecryptionKey, DecryptionKeys, KeyManagementAlg};

use crate::secret::Secret;

/// OIDC Registration §2: "If `…_encrypted_response_alg` is specified, the default
/// `…_encrypted_response_enc` value is A128CBC-HS256."
pub const DEFAULT_ENC: ContentEncAlg = ContentEncAlg::A128CbcHs256;

/// Which response the registration encrypts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncryptedResponse {
    /// The ID token (`id_token_encrypted_response_*`).
    IdToken,
    /// The UserInfo response (`userinfo_encrypted_response_*`).
    UserInfo,
    /// The JARM authorization response (`authorization_encrypted_response_*`, JARM §3).
    AuthorizationResponse,
    /// The request object, which the RP encrypts to the OP (`request_object_encryption_*`,
    /// OIDC Registration §2, OIDC Core §6.1) — the one the RP encrypts rather than decrypts.
    RequestObject,
}

impl EncryptedResponse {
    /// The registration metadata name of the key-management algorithm.
    #[must_use]
    pub fn alg_member(self) -> &'static str {
        match self {
            EncryptedResponse::IdToken => "id_token_encrypted_response_alg",
            EncryptedResponse::UserInfo => "userinfo_encrypted_response_alg",
            EncryptedResponse::AuthorizationResponse => "authorization_encrypted_response_alg",
            EncryptedResponse::RequestObject => "request_object_encryption_alg",
        }
    }

    /// The registration metadata name of the content-encryption algorithm.
    #[must_use]
    pub fn enc_member(self) -> &'static str {
        match self {
            EncryptedResponse::IdToken => "id_token_encrypted_response_enc",
            EncryptedResponse::UserInfo => "userinfo_encrypted_response_enc",
            EncryptedResponse::AuthorizationResponse => "authorization_encrypted_response_enc",
            EncryptedResponse::RequestObject => "request_object_encryption_enc",
        }
    }
}

/// A registered pair of algorithms for one kind of response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResponseEncryption {
    /// Key management (`…_encrypted_response_alg`).
    pub alg: KeyManagementAlg,
    /// Content encryption (`…_encrypted_response_enc`).
    pub enc: ContentEncAlg,
}

/// A registration or configuration value that does not name a supported algorithm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncryptionConfigError {
    /// Not a key-management algorithm relier decrypts.
    #[error("{member}: unsupported key management algorithm {value:?}")]
    UnknownAlg {
        /// The member (or flag) that named it.
        member: &'static str,
        /// What it said (truncated).
        value: String,
    },
    /// Not a content-encryption algorithm relier decrypts.
    #[error("{member}: unsupported content encryption algorithm {value:?}")]
    UnknownEnc {
        /// The member (or flag) that named it.
        member: &'static str,
        /// What it said (truncated).
        value: String,
    },
    /// OIDC Registration §2: `…_enc` without `…_alg`.
    #[error("{member} is set without {requires}")]
    EncWithoutAlg {
        /// The `…_enc` member.
        member: &'static str,
        /// The `…_alg` member it requires.
        requires: &'static str,
    },
    /// The value is not a string.
    #[error("{member} is not a string")]
    NotAString {
        /// The member.
        member: &'static str,
    },
}

fn truncated(s: &str) -> String {
    s.chars().take(64).collect()
}

impl ResponseEncryption {
    /// A pinned pair.
    #[must_use]
    pub const fn new(alg: KeyManagementAlg, enc: ContentEncAlg) -> Self {
        ResponseEncryption { alg, enc }
    }

    /// From names: `enc` defaults to A128CBC-HS256 (OIDC Registration §2). `member` names the
    /// origin in errors.
    ///
    /// # Errors
    /// [`EncryptionConfigError::UnknownAlg`], [`EncryptionConfigError::UnknownEnc`].
    pub fn from_names(
        alg: &str,
        enc: Option<&str>,
        member: &'static str,
    ) -> Result<Self, EncryptionConfigError> {
        let alg =
            KeyManagementAlg::from_str(alg).map_err(|_| EncryptionConfigError::UnknownAlg {
                member,
                value: truncated(alg),
            })?;
        let enc = match enc {
            None => DEFAULT_ENC,
            Some(e) => {
                ContentEncAlg::from_str(e).map_err(|_| EncryptionConfigError::UnknownEnc {
                    member,
                    value: truncated(e),
                })?
            }
        };
        Ok(ResponseEncryption { alg, enc })
    }

    /// What a registration (an RFC 7591 response, or a provider's configuration keys with the
    /// same names) says about `which`: `None` when `…_encrypted_response_alg` is absent.
    ///
    /// # Errors
    /// As [`ResponseEncryption::from_names`]; [`EncryptionConfigError::EncWithoutAlg`];
    /// [`EncryptionConfigError::NotAString`].
    pub fn from_registration(
        registration: &Map<String, Value>,
        which: EncryptedResponse,
    ) -> Result<Option<Self>, EncryptionConfigError> {
        let text = |member: &'static str| match registration.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(EncryptionConfigError::NotAString { member }),
        };
        let alg = text(which.alg_member())?;
        let enc = text(which.enc_member())?;
        match (alg, enc) {
            (Some(alg), enc) => Self::from_names(alg, enc, which.alg_member()).map(Some),
            (None, Some(_)) => Err(EncryptionConfigError::EncWithoutAlg {
                member: which.enc_member(),
                requires: which.alg_member(),
            }),
            (None, None) => Ok(None),
        }
    }
}

impl fmt::Display for ResponseEncryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.alg, self.enc)
    }
}

impl FromStr for ResponseEncryption {
    type Err = EncryptionConfigError;
    /// `ALG` or `ALG/ENC`, e.g. `RSA-OAEP-256/A256GCM`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (alg, enc) = match s.split_once('/') {
            Some((alg, enc)) => (alg, Some(enc)),
            None => (s, None),
        };
        Self::from_names(alg, enc, "ALG/ENC")
    }
}

/// Why an encrypted response was refused. Messages name the failed check and never contain
/// key material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// OIDC Core §10.2 / OIDC Registration §2: encryption was registered and the response is
    /// not a JWE.
    #[error("expected an encrypted response (JWE, registered {expected}), got an unencrypted one")]
    NotEncrypted {
        /// The registered algorithms.
        expected: ResponseEncryption,
    },
    /// The header `alg` is not the registered one (RFC 8725 §3.1).
    #[error("JWE alg mismatch: registered {expected}, got {got:?}")]
    AlgorithmMismatch {
        /// The registered key-management algorithm.
        expected: KeyManagementAlg,
        /// The header's (truncated).
        got: String,
    },
    /// The header `enc` is not the registered one.
    #[error("JWE enc mismatch: registered {expected}, got {got:?}")]
    EncryptionMismatch {
        /// The registered content-encryption algorithm.
        expected: ContentEncAlg,
        /// The header's (truncated; empty when absent).
        got: String,
    },
    /// RFC 7516 §4.1.3 `zip`: compressed content is refused.
    #[error("JWE compression (zip) is refused")]
    Compressed,
    /// RFC 7516 §4.1.13: a critical extension relier does not understand.
    #[error("JWE crit {name:?} is not understood")]
    UnsupportedCrit {
        /// The parameter (truncated).
        name: String,
    },
    /// No RP key can decrypt it: none with the header `kid` (unknown, or removed from the
    /// store), none for the algorithm, or no client secret for symmetric key management.
    #[error("no RP decryption key{}: {reason}", kid.as_ref().map(|k| format!(" for kid {k:?}")).unwrap_or_default())]
    NoKey {
        /// The header `kid` (truncated), if any.
        kid: Option<String>,
        /// Why.
        reason: &'static str,
    },
    /// RFC 7518 §4.6.1.1: the `epk` is missing, on another curve or not on the curve.
    #[error("JWE epk refused: {reason}")]
    InvalidEphemeralKey {
        /// Why.
        reason: &'static str,
    },
    /// The key did not unwrap, or the authentication tag or padding is wrong (one error for
    /// all, RFC 7516 §11.5).
    #[error("JWE decryption failed")]
    DecryptionFailed,
    /// Not a compact JWE, too large, or a plaintext that is not UTF-8.
    #[error("malformed JWE: {reason}")]
    Malformed {
        /// What is wrong (no plaintext, no key material).
        reason: String,
    },
}

/// The registered algorithms and the RP's keys for one kind of response: decrypts what the OP
/// encrypted to the RP.
#[derive(Clone)]
pub struct Decryptor {
    expect: ResponseEncryption,
    keys: DecryptionKeys,
}

impl fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decryptor")
            .field("expect", &self.expect)
            .field("keys", &self.keys.keys().len())
            .finish_non_exhaustive()
    }
}

impl Decryptor {
    /// `keys`: the RP's asymmetric keys for `expect.alg` (current first); for `dir` and
    /// `A*KW`, add the client secret with [`Decryptor::with_client_secret`].
    #[must_use]
    pub fn new(expect: ResponseEncryption, keys: DecryptionKeys) -> Self {
        Decryptor { expect, keys }
    }

    /// OIDC Core §10.2: symmetric key management (`dir`, `A128KW`, `A256KW`) uses a key derived
    /// from the client secret.
    #[must_use]
    pub fn with_client_secret(mut self, secret: &Secret) -> Self {
        self.keys = self.keys.with_client_secret(secret.expose().as_bytes());
        self
    }

    /// The registered algorithms.
    #[must_use]
    pub fn expectation(&self) -> ResponseEncryption {
        self.expect
    }

    /// Decrypts a compact JWE to its UTF-8 plaintext (zeroized on drop). A three-part
    /// serialization (a JWS or anything else that is not a JWE) is
    /// [`DecryptError::NotEncrypted`].
    ///
    /// # Errors
    /// Every [`DecryptError`].
    pub fn decrypt(&self, token: &str) -> Result<Zeroizing<String>, DecryptError> {
        let token = token.trim();
        match jwe::compact_kind(token) {
            Some(CompactKind::Jwe) => {}
            Some(CompactKind::Jws) => {
                return Err(DecryptError::NotEncrypted {
                    expected: self.expect,
                });
            }
            None => {
                return Err(DecryptError::Malformed {
                    reason: "not a compact JWE (five dot-separated parts)".into(),
                });
            }
        }
        let expect = JweExpectation::new(self.expect.alg, self.expect.enc);
        let decrypted =
            jwe::decrypt_compact(token, &expect, &self.keys).map_err(|e| map_err(e, token))?;
        let plaintext = decrypted.into_plaintext();
        match std::str::from_utf8(&plaintext) {
            Ok(text) => Ok(Zeroizing::new(text.to_owned())),
            Err(_) => Err(DecryptError::Malformed {
                reason: "the plaintext is not UTF-8".into(),
            }),
        }
    }
}

fn map_err(e: JoseError, token: &str) -> DecryptError {
    match e {
        JoseError::JweAlgorithmMismatch {
            expected,
            header_alg,
        } => DecryptError::AlgorithmMismatch {
            expected,
            got: header_alg,
        },
        JoseError::JweEncryptionMismatch {
            expected,
            header_enc,
        } => DecryptError::EncryptionMismatch {
            expected,
            got: header_enc,
        },
        JoseError::JweCompressionRefused => DecryptError::Compressed,
        JoseError::UnsupportedCrit { name, .. } => DecryptError::UnsupportedCrit { name },
        JoseError::NoDecryptionKey { reason } => DecryptError::NoKey {
            kid: header_kid(token),
            reason,
        },
        JoseError::InvalidEphemeralKey { reason } => DecryptError::InvalidEphemeralKey { reason },
        JoseError::DecryptionFailed => DecryptError::DecryptionFailed,
        other => DecryptError::Malformed {
            reason: other.to_string(),
        },
    }
}

/// The protected header's `kid`, for the error message only (the header was size-checked by
/// the failed decryption already; checked again here).
fn header_kid(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    if header.len() > MAX_JWE_HEADER_BYTES {
        return None;
    }
    let bytes = relier_jose::b64::decode(header).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.get("kid")?.as_str().map(truncated)
}

#[cfg(test)]
mod tests;
