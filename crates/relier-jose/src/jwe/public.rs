//! Compact JWE encryption to a recipient's public key from its JWK (RFC 7516 §5.1): the OP's
//! `use: enc` key, for encrypted request objects (OIDC Core §6.1, RFC 9101 §6.1).
//!
//! | key management (`alg`) | recipient JWK |
//! |---|---|
//! | `RSA-OAEP`, `RSA-OAEP-256` | RSA, 2048 bits or more |
//! | `ECDH-ES`, `ECDH-ES+A128KW`, `ECDH-ES+A256KW` | EC P-256/P-384/P-521, OKP X25519 |

use aws_lc_rs::rand::SecureRandom;
use aws_lc_rs::rsa::PublicEncryptingKey;
use serde_json::{Map, Value, json};

use super::key_mgmt::{Epk, encrypt as km};
use super::{ContentEncAlg, KeyManagementAlg, content};
use crate::error::JoseError;
use crate::jwk::Jwk;
use crate::keyutil::{check_rsa_public, decode_member, strip_leading_zeros};

/// A recipient's public encryption key, parsed once from its JWK.
#[derive(Debug, Clone)]
pub struct EncryptionKey {
    kid: Option<String>,
    alg: Option<String>,
    key: Public,
}

#[derive(Debug, Clone)]
enum Public {
    Rsa(PublicEncryptingKey),
    Agreement(Epk),
}

impl EncryptionKey {
    /// From a public JWK. RFC 7517 §4.2: a key with `use` other than `enc` is refused, as is
    /// one whose `key_ops` lack `encrypt`/`wrapKey`/`deriveKey`.
    ///
    /// # Errors
    /// [`JoseError::InvalidKey`], [`JoseError::UnsupportedKeyType`],
    /// [`JoseError::RsaKeyTooSmall`], [`JoseError::InvalidEphemeralKey`] (an EC key that is
    /// not a valid point description).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, JoseError> {
        if jwk.use_.as_deref().is_some_and(|u| u != "enc") {
            return Err(JoseError::InvalidKey {
                reason: "\"use\" is not \"enc\"",
            });
        }
        if let Some(ops) = &jwk.key_ops
            && !ops
                .iter()
                .any(|o| matches!(o.as_str(), "encrypt" | "wrapKey" | "deriveKey"))
        {
            return Err(JoseError::InvalidKey {
                reason: "\"key_ops\" allows no encryption",
            });
        }
        let key = match jwk.kty.as_str() {
            "RSA" => {
                let n = decode_member(jwk.n.as_deref(), "n")?;
                let e = decode_member(jwk.e.as_deref(), "e")?;
                check_rsa_public(strip_leading_zeros(&n), strip_leading_zeros(&e))?;
                let der = rsa_spki_der(&n, &e);
                Public::Rsa(PublicEncryptingKey::from_der(&der).map_err(|_| {
                    JoseError::InvalidKey {
                        reason: "not a valid RSA public key",
                    }
                })?)
            }
            "EC" | "OKP" => {
                let public = jwk.to_public();
                Public::Agreement(Epk::from_jwk(&public)?)
            }
            other => return Err(JoseError::UnsupportedKeyType(other.to_owned())),
        };
        Ok(Self {
            kid: jwk.kid.clone(),
            alg: jwk.alg.clone(),
            key,
        })
    }

    /// The key's `kid`.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Whether the key can be used with `alg`: the key type fits, and the JWK's `alg`, when
    /// present, is `alg` (RFC 7517 §4.4).
    #[must_use]
    pub fn accepts(&self, alg: KeyManagementAlg) -> bool {
        let fits = match self.key {
            Public::Rsa(_) => matches!(
                alg,
                KeyManagementAlg::RsaOaep | KeyManagementAlg::RsaOaep256
            ),
            Public::Agreement(_) => alg.is_ecdh(),
        };
        fits && self.alg.as_deref().is_none_or(|a| a == alg.as_str())
    }
}

/// Encrypts `plaintext` to `to` with the pinned `alg` and `enc`. The protected header is
/// {"alg","enc"} with the key's `kid`, plus `extra` (e.g. `"cty": "JWT"` for a nested JWT,
/// RFC 7519 §5.2); `epk` is the generated one. The CEK and IV come from `rng`.
///
/// # Errors
/// [`JoseError::UnsupportedAlgorithm`] when `alg` does not go with the key; [`JoseError::Crypto`].
pub fn encrypt_to_public(
    alg: KeyManagementAlg,
    enc: ContentEncAlg,
    to: &EncryptionKey,
    extra: &Map<String, Value>,
    plaintext: &[u8],
    rng: &dyn SecureRandom,
) -> Result<String, JoseError> {
    if !to.accepts(alg) {
        return Err(JoseError::UnsupportedAlgorithm(format!(
            "{alg} with this recipient key"
        )));
    }
    let mut header = Map::new();
    header.insert("alg".into(), json!(alg.as_str()));
    header.insert("enc".into(), json!(enc.as_str()));
    if let Some(kid) = &to.kid {
        header.insert("kid".into(), json!(kid));
    }
    header.extend(extra.clone());
    header.remove("epk");
    let (cek, encrypted_key) = match &to.key {
        Public::Rsa(public) => {
            let cek = km::random_from(rng, enc.cek_len())?;
            let wrapped = km::rsa_oaep_to(public, alg, &cek)?;
            (cek, wrapped)
        }
        Public::Agreement(recipient) => {
            let (epk, derived) = km::ecdh_es_to(recipient, alg, enc, &[], &[])?;
            header.insert("epk".into(), epk);
            if alg == KeyManagementAlg::EcdhEs {
                (derived.to_vec(), Vec::new())
            } else {
                let cek = km::random_from(rng, enc.cek_len())?;
                let wrapped = km::aes_wrap(&derived, &cek)?;
                (cek, wrapped)
            }
        }
    };
    // apu/apv are not sent: the Concat KDF above ran with empty ones.
    header.remove("apu");
    header.remove("apv");
    let iv = km::random_from(rng, enc.iv_len())?;
    content::compact(header, enc, &cek, &iv, &encrypted_key, plaintext)
}

/// RFC 5280 §4.1.2.7 / RFC 8017 A.1.1: SubjectPublicKeyInfo for rsaEncryption with
/// RSAPublicKey { n, e }, DER.
fn rsa_spki_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    const RSA_ALG_ID: [u8; 15] = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut rsa_key = der_integer(n);
    rsa_key.extend(der_integer(e));
    let rsa_key = der_tlv(0x30, &rsa_key);
    let mut bits = vec![0u8];
    bits.extend(rsa_key);
    let mut spki = RSA_ALG_ID.to_vec();
    spki.extend(der_tlv(0x03, &bits));
    der_tlv(0x30, &spki)
}

fn der_integer(bytes: &[u8]) -> Vec<u8> {
    let bytes = strip_leading_zeros(bytes);
    let mut v = Vec::with_capacity(bytes.len().saturating_add(1));
    if bytes.first().is_none_or(|b| b & 0x80 != 0) {
        v.push(0);
    }
    v.extend_from_slice(bytes);
    der_tlv(0x02, &v)
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut v = vec![tag];
    if len < 0x80 {
        v.push(len.to_be_bytes().last().copied().unwrap_or(0));
    } else {
        let be = len.to_be_bytes();
        let start = be.iter().position(|&b| b != 0).unwrap_or(be.len());
        let digits = be.get(start..).unwrap_or(&[]);
        v.push(0x80 | digits.len().to_be_bytes().last().copied().unwrap_or(0));
        v.extend_from_slice(digits);
    }
    v.extend_from_slice(content);
    v
}

#[cfg(test)]
mod tests;
