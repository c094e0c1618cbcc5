//! Subjects in log lines. A provider whose subject is personal data — `preset = "ftn"`: the
//! Finnish personal identity code — never has it written in clear: a log line carries a keyed
//! hash of it instead (HMAC-SHA256 under a random key of this process, truncated to 128 bits),
//! which tells one user's lines apart from another's without naming the person.

use std::borrow::Cow;
use std::sync::OnceLock;

use aws_lc_rs::hmac;

/// The process's key (`None` when the random source failed: the hash is then never shown
/// either).
fn key() -> Option<&'static hmac::Key> {
    static KEY: OnceLock<Option<hmac::Key>> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).ok()?;
        Some(hmac::Key::new(hmac::HMAC_SHA256, &bytes))
    })
    .as_ref()
}

/// `sub` as a log line may carry it: `hmac:` and 32 hex digits.
pub fn keyed_hash(sub: &str) -> String {
    match key() {
        Some(k) => {
            let tag = hmac::sign(k, sub.as_bytes());
            let hex: String = tag
                .as_ref()
                .iter()
                .take(16)
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("hmac:{hex}")
        }
        None => "hmac:unavailable".to_owned(),
    }
}

/// `sub` for a log line: a keyed hash when `personal`, else as it is.
pub fn logged(personal: bool, sub: &str) -> Cow<'_, str> {
    if personal {
        Cow::Owned(keyed_hash(sub))
    } else {
        Cow::Borrowed(sub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_subjects_are_hashed_stably_within_the_process() {
        let a = logged(true, "010170-999R");
        assert!(a.starts_with("hmac:") && a.len() == 5 + 32, "{a}");
        assert!(!a.contains("010170"));
        assert_eq!(a, logged(true, "010170-999R"));
        assert_ne!(a, logged(true, "010170-998P"));
        assert_eq!(logged(false, "alice"), "alice");
    }
}
