//! Random tokens: session ids, CSRF tokens, correlation ids.

use base64::Engine as _;

/// `n` random bytes, base64url; `None` if the system random source fails.
pub fn try_random_token(n: usize) -> Option<String> {
    let mut buf = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut buf).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&buf))
}

/// `n` random bytes, base64url (for correlation ids: falls back to the clock).
pub fn random_token(n: usize) -> String {
    try_random_token(n).unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("t{nanos:x}")
    })
}
