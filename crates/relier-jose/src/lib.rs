//! JOSE for relier, on aws-lc-rs: base64url, JSON Web Keys (RFC 7517), JWK thumbprints
//! (RFC 7638), compact JWS (RFC 7515) signing and verification, and compact JWE (RFC 7516)
//! decryption of encrypted ID tokens, UserInfo and JARM responses ([`jwe`]).
//!
//! The signature algorithm is always supplied by the caller (pinned from configuration) and
//! never taken from a token header (RFC 8725 §3.1): [`jws::UnverifiedJws::verify`] takes the
//! expected [`Algorithm`] and only checks that the header agrees; [`VerifyingKey::verify`]
//! refuses an algorithm its key type, JWK "alg", "use" or "key_ops" do not allow. JWE key
//! management and content encryption algorithms are pinned the same way
//! ([`jwe::JweExpectation`]).
//!
//! No I/O, no clock. Randomness is a parameter. Inputs are size-capped and parsing never panics.
//!
//! ```
//! use relier_jose::{Algorithm, SigningKey, jws};
//! use aws_lc_rs::rand::SystemRandom;
//!
//! let key = SigningKey::generate(Algorithm::ES256, None)?.with_kid("k1");
//! let token = jws::sign_compact(&jws::Header::default(), b"{}", &key, &SystemRandom::new())?;
//! let verifier = key.verifying_key()?;
//! let parsed = jws::UnverifiedJws::parse(&token)?;
//! assert_eq!(parsed.verify(Algorithm::ES256, &verifier)?, b"{}");
//! # Ok::<(), relier_jose::JoseError>(())
//! ```

pub mod b64;
pub mod jwe;
pub mod jws;
pub mod members;

mod alg;
mod error;
mod header;
mod json;
mod jwk;
mod keyutil;
mod pem;
mod public_pem;
mod signing;
mod untrusted;
mod verifying;

pub use alg::{Algorithm, UnknownAlgorithm};
pub use error::JoseError;
pub use jwk::{Jwk, JwkSet, MAX_JWK_BYTES, MAX_JWKS_BYTES, MAX_JWKS_KEYS};
pub use pem::MAX_PEM_BYTES;
pub use signing::{MAX_KEY_DER_BYTES, SigningKey};
pub use verifying::VerifyingKey;

#[cfg(test)]
mod rfc_vectors_tests;

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<super::SigningKey>();
        assert_send_sync::<super::VerifyingKey>();
        assert_send_sync::<super::Jwk>();
        assert_send_sync::<super::JwkSet>();
        assert_send_sync::<super::JoseError>();
        assert_send_sync::<super::jws::UnverifiedJws<'static>>();
        assert_send_sync::<super::jws::Header>();
        assert_send_sync::<super::jwe::DecryptionKey>();
        assert_send_sync::<super::jwe::DecryptionKeys>();
        assert_send_sync::<super::jwe::Decrypted>();
    }
}
