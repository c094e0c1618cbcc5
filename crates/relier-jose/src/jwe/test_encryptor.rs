//! A small compact-JWE encryptor for the tests (RFC 7516 §5.1), built on the same primitives
//! as decryption.

use serde_json::{Map, Value, json};

use super::key_mgmt::encrypt as km;
use super::{ContentEncAlg, DecryptionKey, KeyManagementAlg, content};
use crate::b64;

/// The recipient.
pub(crate) enum To<'a> {
    /// An asymmetric key (its public half is used).
    Key(&'a DecryptionKey),
    /// A symmetric key used as is: the CEK for `dir`, the KEK for `A*KW`.
    Symmetric(&'a [u8]),
}

/// Encrypts `plaintext`. The header is {"alg","enc"} plus `extra` (an object; its members win,
/// except that "epk" is always the generated one for ECDH-ES). For ECDH-ES, "apu"/"apv" in
/// `extra` feed the Concat KDF.
pub(crate) fn encrypt(
    alg: KeyManagementAlg,
    enc: ContentEncAlg,
    to: To<'_>,
    extra: Value,
    plaintext: &[u8],
) -> String {
    let mut header = Map::new();
    header.insert("alg".into(), json!(alg.as_str()));
    header.insert("enc".into(), json!(enc.as_str()));
    if let Value::Object(extra) = extra {
        header.extend(extra);
    }
    let party = |name: &str| {
        header
            .get(name)
            .and_then(Value::as_str)
            .map(|s| b64::decode(s).unwrap())
            .unwrap_or_default()
    };
    let (apu, apv) = (party("apu"), party("apv"));
    let (cek, encrypted_key) = match (alg, &to) {
        (KeyManagementAlg::Dir, To::Symmetric(k)) => (k.to_vec(), Vec::new()),
        (KeyManagementAlg::A128Kw | KeyManagementAlg::A256Kw, To::Symmetric(kek)) => {
            let cek = km::random(enc.cek_len());
            let wrapped = km::aes_wrap(kek, &cek);
            (cek, wrapped)
        }
        (KeyManagementAlg::RsaOaep | KeyManagementAlg::RsaOaep256, To::Key(key)) => {
            let cek = km::random(enc.cek_len());
            let wrapped = km::rsa_oaep(key, alg, &cek);
            (cek, wrapped)
        }
        (_, To::Key(key)) if alg.is_ecdh() => {
            let (epk, derived) = km::ecdh_es(key, alg, enc, &apu, &apv);
            header.insert("epk".into(), epk);
            if alg == KeyManagementAlg::EcdhEs {
                (derived.to_vec(), Vec::new())
            } else {
                let cek = km::random(enc.cek_len());
                let wrapped = km::aes_wrap(&derived, &cek);
                (cek, wrapped)
            }
        }
        _ => panic!("{alg} does not go with this recipient"),
    };
    let header_b64 = b64::encode(&serde_json::to_vec(&Value::Object(header)).unwrap());
    let iv = km::random(enc.iv_len());
    let (ciphertext, tag) = content::encrypt(enc, &cek, &iv, header_b64.as_bytes(), plaintext);
    [
        header_b64,
        b64::encode(&encrypted_key),
        b64::encode(&iv),
        b64::encode(&ciphertext),
        b64::encode(&tag),
    ]
    .join(".")
}
