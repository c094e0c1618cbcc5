//! Password hashing with Argon2id (the argon2 crate's defaults: 19 MiB, 2 passes, 1 lane —
//! the OWASP minimum), in PHC string format. Hashing runs on the blocking pool.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};

use crate::error::AppError;

/// Longest accepted password in bytes (Argon2 is slow on purpose; bound the work).
pub const MAX_LEN: usize = 1024;
/// Shortest accepted password for a new account, in characters.
pub const MIN_LEN: usize = 8;

fn random_salt() -> Result<SaltString, AppError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| AppError::Random)?;
    SaltString::encode_b64(&bytes).map_err(|e| AppError::Password(e.to_string()))
}

fn hash_now(password: &str) -> Result<String, AppError> {
    let salt = random_salt()?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Password(e.to_string()))
}

/// Hashes a new password (Argon2id, random salt).
///
/// # Errors
/// [`AppError::Password`] or [`AppError::Random`].
pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .map_err(|e| AppError::Password(e.to_string()))?
}

/// A hash of a random password: what an unknown user's password is checked against, so that
/// "no such user" costs the same time as "wrong password".
///
/// # Errors
/// As [`hash`].
pub async fn dummy_hash() -> Result<String, AppError> {
    let mut bytes = [0u8; 24];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| AppError::Random)?;
    let random: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    hash(random).await
}

/// Whether `password` matches `stored` (a PHC string). Over-long passwords never match (and
/// cost the same as a check).
///
/// # Errors
/// [`AppError::Password`] if the blocking task fails.
pub async fn verify(password: String, stored: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        let candidate = if password.len() > MAX_LEN {
            ""
        } else {
            password.as_str()
        };
        let ok = Argon2::default()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok();
        ok && password.len() <= MAX_LEN
    })
    .await
    .map_err(|e| AppError::Password(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[tokio::test]
    async fn argon2id_round_trip() {
        let h = hash("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("correct horse".into(), h.clone()).await.unwrap());
        assert!(!verify("wrong horse".into(), h.clone()).await.unwrap());
        assert!(!verify("x".repeat(MAX_LEN + 1), h).await.unwrap());
    }
}
