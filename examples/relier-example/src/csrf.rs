//! CSRF tokens for visitors without a session (the sign-in and sign-up forms): a signed
//! double-submit token, so that showing the sign-in page writes nothing to the database.
//!
//! A token is `base64url(nonce ‖ expiry ‖ HMAC-SHA256(key, nonce ‖ expiry))` with a random
//! 128-bit nonce and the process's random key. The page sets it in a cookie and in the forms'
//! hidden `csrf_token` field; a POST must carry both, equal (compared in constant time), with a
//! valid MAC and not expired (OWASP CSRF Prevention Cheat Sheet, "Signed Double-Submit
//! Cookie"). Another site can neither read the cookie nor mint a token; the key changes when
//! the process restarts (an open sign-in page then asks for a reload).

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::db::now;
use crate::error::AppError;

/// How long a token is good for.
pub const TOKEN_TTL: Duration = Duration::from_secs(3600);

const NONCE_LEN: usize = 16;
const EXPIRY_LEN: usize = 8;
const TAG_LEN: usize = 32;
const TOKEN_LEN: usize = NONCE_LEN + EXPIRY_LEN + TAG_LEN;

/// The key tokens are signed with (cheap to clone).
#[derive(Clone)]
pub struct CsrfKey(Arc<hmac::Key>);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(..)")
    }
}

impl CsrfKey {
    /// A fresh random key.
    ///
    /// # Errors
    /// [`AppError::Random`].
    pub fn random() -> Result<Self, AppError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &rng).map_err(|_| AppError::Random)?;
        Ok(CsrfKey(Arc::new(key)))
    }

    /// A new token, good for [`TOKEN_TTL`].
    ///
    /// # Errors
    /// [`AppError::Random`].
    pub fn mint(&self) -> Result<String, AppError> {
        let mut msg = [0u8; NONCE_LEN + EXPIRY_LEN];
        let (nonce, expiry) = msg.split_at_mut(NONCE_LEN);
        aws_lc_rs::rand::fill(nonce).map_err(|_| AppError::Random)?;
        let ttl = i64::try_from(TOKEN_TTL.as_secs()).unwrap_or(i64::MAX);
        expiry.copy_from_slice(&now().saturating_add(ttl).to_be_bytes());
        let tag = hmac::sign(&self.0, &msg);
        let mut token = Vec::with_capacity(TOKEN_LEN);
        token.extend_from_slice(&msg);
        token.extend_from_slice(tag.as_ref());
        Ok(URL_SAFE_NO_PAD.encode(token))
    }

    /// Whether `token` was minted with this key and has not expired (the MAC is checked in
    /// constant time).
    pub fn valid(&self, token: &str) -> bool {
        let Ok(raw) = URL_SAFE_NO_PAD.decode(token) else {
            return false;
        };
        if raw.len() != TOKEN_LEN {
            return false;
        }
        let (msg, tag) = raw.split_at(NONCE_LEN + EXPIRY_LEN);
        if hmac::verify(&self.0, msg, tag).is_err() {
            return false;
        }
        let (_, expiry) = msg.split_at(NONCE_LEN);
        <[u8; EXPIRY_LEN]>::try_from(expiry).is_ok_and(|e| i64::from_be_bytes(e) > now())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;

    #[test]
    fn minted_tokens_are_valid_for_their_key_only() {
        let key = CsrfKey::random().unwrap();
        let t = key.mint().unwrap();
        assert!(key.valid(&t));
        assert_ne!(key.mint().unwrap(), t, "a fresh nonce each time");
        assert!(!CsrfKey::random().unwrap().valid(&t), "another key");
        // Any changed byte (here the expiry, pushed later) breaks the MAC.
        let mut raw = URL_SAFE_NO_PAD.decode(&t).unwrap();
        raw[NONCE_LEN] ^= 0x01;
        assert!(!key.valid(&URL_SAFE_NO_PAD.encode(&raw)));
        assert!(!key.valid(""));
        assert!(!key.valid("not base64!"));
        assert!(!key.valid(&t[..t.len() - 2]));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let key = CsrfKey::random().unwrap();
        let mut msg = [7u8; NONCE_LEN + EXPIRY_LEN];
        msg[NONCE_LEN..].copy_from_slice(&(now() - 1).to_be_bytes());
        let tag = hmac::sign(&key.0, &msg);
        let token = URL_SAFE_NO_PAD.encode([&msg[..], tag.as_ref()].concat());
        assert!(!key.valid(&token));
    }
}
