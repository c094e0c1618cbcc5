//! Untrusted strings (from a token, a header, a key set) as they may appear in an error.

/// At most this many characters of an untrusted string are kept in an error.
pub(crate) const MAX_UNTRUSTED_CHARS: usize = 64;

/// Copies at most [`MAX_UNTRUSTED_CHARS`] characters of an untrusted string for an error
/// message, marking a cut with "…". Callers print it with `{:?}` so control characters are
/// escaped.
pub(crate) fn untrusted(s: &str) -> String {
    let mut out: String = s.chars().take(MAX_UNTRUSTED_CHARS).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_truncates() {
        assert_eq!(untrusted("RS256"), "RS256");
        let long = "x".repeat(1000);
        let cut = untrusted(&long);
        assert_eq!(cut.chars().count(), MAX_UNTRUSTED_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
