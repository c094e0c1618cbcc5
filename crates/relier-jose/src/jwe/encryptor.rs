//! Compact JWE encryption (RFC 7516 §5.1) to one of the relying party's own
//! [`DecryptionKey`]s (its public half) or to a symmetric key: for tests and test OPs that
//! play the OP's side. Built on the same primitives as decryption. Only with the
//! `test-encryption` feature.

use serde_json::{Map, Value, json};

use super::key_mgmt::encrypt as km;
use super::{ContentEncAlg, DecryptionKey, KeyManagementAlg, content};
use crate::b64;
use crate::error::JoseError;

/// The recipient.
#[derive(Clone, Copy, Debug)]
pub enum Recipient<'a> {
    /// An asymmetric key (its public half is used).
    Key(&'a DecryptionKey),
    /// A symmetric key used as is: the CEK for `dir`, the KEK for `A*KW` (e.g.
    /// [`super::derive_key_from_client_secret`]).
    Symmetric(&'a [u8]),
}

/// Encrypts `plaintext` to `to`. The protected header is {"alg","enc"} plus `extra` (its
/// members win, except that "epk" is always the generated one for ECDH-ES; "apu"/"apv" in
/// `extra`, base64url, feed the Concat KDF).
///
/// # Errors
/// [`JoseError::UnsupportedAlgorithm`] when `alg` does not go with `to`;
/// [`JoseError::Malformed`] for a bad "apu"/"apv"; [`JoseError::Crypto`].
pub fn encrypt_compact(
    alg: KeyManagementAlg,
    enc: ContentEncAlg,
    to: Recipient<'_>,
    extra: &Map<String, Value>,
    plaintext: &[u8],
) -> Result<String, JoseError> {
    let mut header = Map::new();
    header.insert("alg".into(), json!(alg.as_str()));
    header.insert("enc".into(), json!(enc.as_str()));
    header.extend(extra.clone());
    let party = |name: &'static str| match header.get(name).and_then(Value::as_str) {
        Some(s) => b64::decode_part(s, name),
        None => Ok(Vec::new()),
    };
    let (apu, apv) = (party("apu")?, party("apv")?);
    let (cek, encrypted_key) = match (alg, to) {
        (KeyManagementAlg::Dir, Recipient::Symmetric(k)) => (k.to_vec(), Vec::new()),
        (KeyManagementAlg::A128Kw | KeyManagementAlg::A256Kw, Recipient::Symmetric(kek)) => {
            let cek = km::random(enc.cek_len())?;
            let wrapped = km::aes_wrap(kek, &cek)?;
            (cek, wrapped)
        }
        (KeyManagementAlg::RsaOaep | KeyManagementAlg::RsaOaep256, Recipient::Key(key)) => {
            let cek = km::random(enc.cek_len())?;
            let wrapped = km::rsa_oaep(key, alg, &cek)?;
            (cek, wrapped)
        }
        (_, Recipient::Key(key)) if alg.is_ecdh() => {
            let (epk, derived) = km::ecdh_es(key, alg, enc, &apu, &apv)?;
            header.insert("epk".into(), epk);
            if alg == KeyManagementAlg::EcdhEs {
                (derived.to_vec(), Vec::new())
            } else {
                let cek = km::random(enc.cek_len())?;
                let wrapped = km::aes_wrap(&derived, &cek)?;
                (cek, wrapped)
            }
        }
        _ => {
            return Err(JoseError::UnsupportedAlgorithm(format!(
                "{alg} with this recipient"
            )));
        }
    };
    let iv = km::random(enc.iv_len())?;
    content::compact(header, enc, &cek, &iv, &encrypted_key, plaintext)
}
