//! Encryption of secrets at rest: AES-256-GCM (aws-lc-rs) under the master key, a fresh random
//! 96-bit nonce per value, the row's identity as associated data (so a ciphertext copied to
//! another row or column does not decrypt).
//!
//! Format: `0x01 || nonce (12 bytes) || ciphertext || tag (16 bytes)`.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::{hkdf, hmac};
use zeroize::Zeroizing;

use crate::error::StoreError;
use crate::master_key::MasterKey;

/// The format version byte.
pub(crate) const VERSION: u8 = 0x01;
const TAG_LEN: usize = 16;

/// The plaintext of the master-key check value stored in `meta`.
pub(crate) const CHECK_PLAINTEXT: &[u8] = b"relier master key check v1";
/// Its associated data.
pub(crate) const CHECK_AAD: &[u8] = b"relier:master-key-check";

/// Associated data for a key's private key.
pub(crate) fn key_aad(kid: &str) -> Vec<u8> {
    [b"relier:key:".as_slice(), kid.as_bytes()].concat()
}

/// Associated data for a provider secret column (`client_secret`, `registration_access_token`).
pub(crate) fn provider_aad(name: &str, column: &str) -> Vec<u8> {
    [
        b"relier:provider:".as_slice(),
        name.as_bytes(),
        b":",
        column.as_bytes(),
    ]
    .concat()
}

/// Associated data for an encrypted column of a gateway session (`access_token`,
/// `refresh_token`, `id_token`, `csrf_token`, `dpop_key`); `id_hash` is the hex SHA-256 of the
/// session id.
pub(crate) fn session_aad(id_hash: &str, column: &str) -> Vec<u8> {
    [
        b"relier:session:".as_slice(),
        id_hash.as_bytes(),
        b":",
        column.as_bytes(),
    ]
    .concat()
}

/// Associated data for a login state record; `state_hash` is the hex SHA-256 of the state.
pub(crate) fn login_state_aad(state_hash: &str) -> Vec<u8> {
    [b"relier:login_state:".as_slice(), state_hash.as_bytes()].concat()
}

/// Lowercase hex SHA-256 of `value`: the key of a session or login-state row (the raw value,
/// a bearer credential, is never stored).
pub(crate) fn sha256_hex(value: &[u8]) -> String {
    // Computed per request (the session cache's key), hence not through `fmt`.
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value).as_ref())
}

/// The label of the key of the subject index ([`Cipher::derive_key`]): the key of
/// [`SubjectIndex`]. Changing it orphans every stored index value.
pub(crate) const SUBJECT_INDEX_LABEL: &str = "subject-index";

/// The keyed hash under which a session's subject is indexed: HMAC-SHA256 (RFC 2104) keyed
/// with the master key's [`SUBJECT_INDEX_LABEL`] subkey, of the provider name and the subject,
/// as lowercase hex. Without the master key the stored value names no one and cannot be
/// matched against a guessed subject (a personal identity code, an e-mail address); with the
/// provider in the input, one person's sessions at two providers do not share a value.
pub(crate) struct SubjectIndex(hmac::Key);

impl fmt::Debug for SubjectIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubjectIndex(HMAC-SHA256, [REDACTED])")
    }
}

impl SubjectIndex {
    pub(crate) fn new(cipher: &Cipher) -> Result<Self, StoreError> {
        let key = cipher.derive_key(SUBJECT_INDEX_LABEL)?;
        Ok(SubjectIndex(hmac::Key::new(
            hmac::HMAC_SHA256,
            key.as_slice(),
        )))
    }

    /// The index value of `sub` at `provider`. The input is the provider name's length (8
    /// bytes, big-endian), the name, then the subject, so no two (provider, subject) pairs
    /// share an input.
    pub(crate) fn hash(&self, provider: &str, sub: &str) -> String {
        let len = u64::try_from(provider.len()).unwrap_or(u64::MAX);
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(&len.to_be_bytes());
        ctx.update(provider.as_bytes());
        ctx.update(sub.as_bytes());
        hex(ctx.sign().as_ref())
    }
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    // Per request (the session cache's key): pushed digit by digit, no iterator of chars.
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for n in [b >> 4, b & 0xf] {
            out.push(char::from(if n < 10 { b'0' + n } else { b'a' - 10 + n }));
        }
    }
    out
}

/// The prefix of the HKDF `info` of a key derived from the master key
/// ([`Cipher::derive_key`]); the caller's label follows it.
pub(crate) const DERIVED_KEY_INFO: &[u8] = b"relier:derived-key:v1:";

/// AES-256-GCM keyed with the master key, and the master key as an HKDF pseudorandom key for
/// purpose-bound subkeys.
pub(crate) struct Cipher {
    key: RandomizedNonceKey,
    prk: hkdf::Prk,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher(AES-256-GCM, [REDACTED])")
    }
}

impl Cipher {
    pub(crate) fn new(master: &MasterKey) -> Result<Self, StoreError> {
        let key = RandomizedNonceKey::new(&AES_256_GCM, master.bytes())
            .map_err(|_| StoreError::crypto("cannot key AES-256-GCM with the master key"))?;
        // RFC 5869 §3.3: the master key is already uniformly random, so it is the
        // pseudorandom key itself and HKDF-Extract is skipped.
        let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, master.bytes());
        Ok(Cipher { key, prk })
    }

    /// A 32-byte key for one purpose: HKDF-Expand-SHA256 (RFC 5869 §2.3) of the master key
    /// with `info` = [`DERIVED_KEY_INFO`] followed by `label`. Different labels give
    /// independent keys, and none reveals the master key or another label's key.
    pub(crate) fn derive_key(&self, label: &str) -> Result<Zeroizing<[u8; 32]>, StoreError> {
        let info = [DERIVED_KEY_INFO, label.as_bytes()];
        let mut out = Zeroizing::new([0u8; 32]);
        self.prk
            .expand(&info, hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(out.as_mut()))
            .map_err(|_| StoreError::crypto("key derivation failed"))?;
        Ok(out)
    }

    /// Encrypts `plaintext` bound to `aad`.
    pub(crate) fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut in_out = plaintext.to_vec();
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(aad), &mut in_out)
            .map_err(|_| StoreError::crypto("encryption failed"))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        out.push(VERSION);
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    /// Decrypts a value written by [`Cipher::seal`] with the same `aad`. `what` names the value
    /// in the error (never its content).
    pub(crate) fn open(
        &self,
        sealed: &[u8],
        aad: &[u8],
        what: &str,
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let Some((&version, rest)) = sealed.split_first() else {
            return Err(StoreError::crypto(format!("{what}: empty ciphertext")));
        };
        if version != VERSION {
            return Err(StoreError::crypto(format!(
                "{what}: unknown encryption format version {version}"
            )));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(StoreError::crypto(format!("{what}: truncated ciphertext")));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| StoreError::crypto(format!("{what}: bad nonce")))?;
        let mut in_out = Zeroizing::new(ciphertext.to_vec());
        let len = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut in_out)
            .map_err(|_| {
                StoreError::crypto(format!(
                    "{what}: does not decrypt (tampered, moved, or another master key)"
                ))
            })?
            .len();
        in_out.truncate(len);
        Ok(in_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(byte: u8) -> Cipher {
        Cipher::new(&MasterKey::from_bytes([byte; 32])).unwrap()
    }

    #[test]
    fn round_trip_and_format() {
        let c = cipher(7);
        let sealed = c.seal(b"hello", b"aad").unwrap();
        assert_eq!(sealed[0], VERSION);
        assert_eq!(sealed.len(), 1 + 12 + 5 + 16);
        assert_eq!(&*c.open(&sealed, b"aad", "x").unwrap(), b"hello");
        // Fresh nonce each time.
        assert_ne!(sealed, c.seal(b"hello", b"aad").unwrap());
        // Empty plaintext works too.
        let empty = c.seal(b"", b"aad").unwrap();
        assert!(c.open(&empty, b"aad", "x").unwrap().is_empty());
    }

    #[test]
    fn derived_keys_are_hkdf_expand_of_the_master_key_per_label() {
        let k = cipher(7).derive_key("log-subject-hash").unwrap();
        assert_eq!(k, cipher(7).derive_key("log-subject-hash").unwrap());
        assert_ne!(k, cipher(7).derive_key("other").unwrap());
        assert_ne!(k, cipher(8).derive_key("log-subject-hash").unwrap());
        assert_ne!(k.as_slice(), [7u8; 32].as_slice());
        // RFC 5869 §2.3 with L = HashLen: T(1) = HMAC-Hash(PRK, info || 0x01).
        let prk = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &[7u8; 32]);
        let t1 = aws_lc_rs::hmac::sign(&prk, b"relier:derived-key:v1:log-subject-hash\x01");
        assert_eq!(k.as_slice(), t1.as_ref());
    }

    #[test]
    fn wrong_aad_key_or_tampering_fails() {
        let c = cipher(7);
        let sealed = c.seal(b"hello", &key_aad("k1")).unwrap();
        assert!(c.open(&sealed, &key_aad("k2"), "x").is_err());
        assert!(cipher(8).open(&sealed, &key_aad("k1"), "x").is_err());
        let mut bad = sealed.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(c.open(&bad, &key_aad("k1"), "x").is_err());
        let mut bad = sealed.clone();
        bad[0] = 2;
        assert!(c.open(&bad, &key_aad("k1"), "x").is_err());
        assert!(c.open(&[], &key_aad("k1"), "x").is_err());
        assert!(c.open(&sealed[..20], &key_aad("k1"), "x").is_err());
    }

    #[test]
    fn aad_layouts() {
        assert_eq!(key_aad("abc"), b"relier:key:abc");
        assert_eq!(
            provider_aad("op", "client_secret"),
            b"relier:provider:op:client_secret"
        );
        assert_eq!(
            session_aad("ab12", "csrf_token"),
            b"relier:session:ab12:csrf_token"
        );
        assert_eq!(login_state_aad("cd34"), b"relier:login_state:cd34");
    }

    #[test]
    fn subject_index_is_hmac_of_provider_and_subject_under_its_own_key() {
        let c = cipher(7);
        let index = SubjectIndex::new(&c).unwrap();
        let h = index.hash("op", "alice");
        assert_eq!(h.len(), 64);
        assert!(!h.contains("alice"));
        assert_eq!(h, index.hash("op", "alice"));
        // Length-prefixed: ("op", "xalice") and ("opx", "alice") differ.
        assert_ne!(index.hash("opx", "alice"), index.hash("op", "xalice"));
        assert_ne!(h, index.hash("op2", "alice"));
        assert_ne!(
            h,
            SubjectIndex::new(&cipher(8)).unwrap().hash("op", "alice")
        );
        let key = c.derive_key(SUBJECT_INDEX_LABEL).unwrap();
        let expected = aws_lc_rs::hmac::sign(
            &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key.as_slice()),
            b"\0\0\0\0\0\0\0\x02opalice",
        );
        assert_eq!(h, hex(expected.as_ref()));
        assert_ne!(key, c.derive_key("log-subject-hash").unwrap());
    }

    #[test]
    fn sha256_hex_vector() {
        // FIPS 180-2 "abc".
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
