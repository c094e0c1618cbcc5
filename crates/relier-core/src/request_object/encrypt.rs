//! Encrypted request objects (OIDC Core §6.1, RFC 9101 §6.1): the signed (or unsigned) request
//! object is the payload of a JWE to the OP — a nested JWT (`cty: JWT`, RFC 7519 §5.2) — with
//! the algorithms the client registered (`request_object_encryption_alg`/`_enc`, OIDC
//! Registration §2) and the OP's `use: enc` key from its JWKS.

use aws_lc_rs::rand::SecureRandom;
use relier_jose::jwe::{self, EncryptionKey};
use serde_json::{Map, Value};

use super::RequestObjectError;
use crate::encryption::ResponseEncryption;
use crate::jwks::KeySet;

/// The registered algorithms and the OP's key to encrypt to.
#[derive(Debug, Clone)]
pub struct RequestObjectEncrypter {
    algs: ResponseEncryption,
    key: EncryptionKey,
}

impl RequestObjectEncrypter {
    /// The OP's first `use: enc` key for `algs.alg` in `keys`.
    ///
    /// # Errors
    /// [`RequestObjectError::NoEncryptionKey`]: symmetric key management (the OP's keys, not
    /// the client secret, are used here) or no such key in the OP's JWKS.
    pub fn for_op(algs: ResponseEncryption, keys: &KeySet) -> Result<Self, RequestObjectError> {
        let key = keys
            .encryption_key(algs.alg)
            .filter(|_| !algs.alg.is_symmetric())
            .ok_or(RequestObjectError::NoEncryptionKey { alg: algs.alg })?;
        Ok(Self {
            algs,
            key: key.clone(),
        })
    }

    /// The registered algorithms.
    #[must_use]
    pub fn algorithms(&self) -> ResponseEncryption {
        self.algs
    }

    /// The OP key's `kid`.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.key.kid()
    }

    /// Encrypts the compact request object `jwt`; the JWE header says `cty: JWT` (RFC 7519
    /// §5.2: a nested JWT) and names the OP key's `kid`.
    ///
    /// # Errors
    /// [`RequestObjectError::Encryption`].
    pub fn encrypt(&self, jwt: &str, rng: &dyn SecureRandom) -> Result<String, RequestObjectError> {
        let mut extra = Map::new();
        extra.insert("cty".into(), Value::from("JWT"));
        jwe::encrypt_to_public(
            self.algs.alg,
            self.algs.enc,
            &self.key,
            &extra,
            jwt.as_bytes(),
            rng,
        )
        .map_err(|_| RequestObjectError::Encryption)
    }
}
