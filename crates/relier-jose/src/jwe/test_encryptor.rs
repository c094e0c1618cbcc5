//! The encryptor as the unit tests use it: [`super::encryptor::encrypt_compact`], unwrapped.

use serde_json::Value;

use super::encryptor::{Recipient, encrypt_compact};
use super::{ContentEncAlg, DecryptionKey, KeyManagementAlg};

/// The recipient.
pub(crate) enum To<'a> {
    /// An asymmetric key (its public half is used).
    Key(&'a DecryptionKey),
    /// A symmetric key used as is: the CEK for `dir`, the KEK for `A*KW`.
    Symmetric(&'a [u8]),
}

/// Encrypts `plaintext`; `extra` (an object) is added to the header.
pub(crate) fn encrypt(
    alg: KeyManagementAlg,
    enc: ContentEncAlg,
    to: To<'_>,
    extra: Value,
    plaintext: &[u8],
) -> String {
    let to = match to {
        To::Key(k) => Recipient::Key(k),
        To::Symmetric(k) => Recipient::Symmetric(k),
    };
    let extra = match extra {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    encrypt_compact(alg, enc, to, &extra, plaintext).unwrap()
}
