//! DPoP nonces (RFC 9449 §8, §9): the checked value a server hands out in `DPoP-Nonce`, and the
//! per-server memory of the latest one.

use std::fmt;

use url::Url;

use super::DpopError;

/// Longest nonce accepted from a server (RFC 9449 sets no limit; a nonce goes into every proof).
pub const MAX_NONCE_BYTES: usize = 512;

/// Servers remembered at once by a [`NonceCache`] (an RP talks to its OP's few origins).
pub const MAX_SERVERS: usize = 16;

/// A server-provided nonce (RFC 9449 §8.1: `nonce = 1*NQCHAR`).
#[derive(Clone, PartialEq, Eq)]
pub struct DpopNonce(String);

impl DpopNonce {
    /// Check a `DPoP-Nonce` header value.
    ///
    /// # Errors
    /// [`DpopError::InvalidNonce`] when empty, longer than [`MAX_NONCE_BYTES`] or not NQCHARs.
    pub fn new(value: &str) -> Result<Self, DpopError> {
        // RFC 9449 §8.1: NQCHAR = %x21 / %x23-5B / %x5D-7E (visible ASCII but `"` and `\`).
        let nqchar = |b: u8| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E);
        if value.is_empty() || value.len() > MAX_NONCE_BYTES || !value.bytes().all(nqchar) {
            return Err(DpopError::InvalidNonce);
        }
        Ok(Self(value.to_owned()))
    }

    /// The value, for the proof's `nonce` claim.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DpopNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DpopNonce").field(&self.0.len()).finish()
    }
}

/// The latest nonce of each server, keyed by the origin of the URL it answered at (RFC 9449
/// §8.2: "the client ... will use it in subsequent requests" to that server). Holds at most
/// [`MAX_SERVERS`] origins; the least recently told one is forgotten first.
#[derive(Debug, Default, Clone)]
pub struct NonceCache {
    entries: Vec<(String, DpopNonce)>,
}

/// The origin a URL's nonce is kept under; `None` for a URL without one.
fn origin(url: &str) -> Option<String> {
    let u = Url::parse(url).ok()?;
    let o = u.origin();
    o.is_tuple().then(|| o.ascii_serialization())
}

impl NonceCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The nonce to send to the server at `url`, if it gave one.
    pub fn get(&self, url: &str) -> Option<DpopNonce> {
        let key = origin(url)?;
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, n)| n.clone())
    }

    /// Remember `nonce` as the server at `url`'s latest.
    pub fn remember(&mut self, url: &str, nonce: DpopNonce) {
        let Some(key) = origin(url) else {
            return;
        };
        self.entries.retain(|(k, _)| *k != key);
        if self.entries.len() >= MAX_SERVERS {
            self.entries.remove(0);
        }
        self.entries.push((key, nonce));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_syntax() {
        // RFC 9449 §8.1 example nonce.
        assert!(DpopNonce::new("eyJ7S_zG.eyJH0-Z.HX4w-7v").is_ok());
        for bad in ["", "a b", "a\"b", "a\\b", "é", "a\tb"] {
            assert!(DpopNonce::new(bad).is_err(), "{bad:?}");
        }
        assert!(DpopNonce::new(&"n".repeat(MAX_NONCE_BYTES)).is_ok());
        assert!(DpopNonce::new(&"n".repeat(MAX_NONCE_BYTES + 1)).is_err());
        assert!(!format!("{:?}", DpopNonce::new("secretish").unwrap()).contains("secretish"));
    }

    #[test]
    fn cache_is_per_origin_and_bounded() {
        let mut c = NonceCache::new();
        let n = |s: &str| DpopNonce::new(s).unwrap();
        c.remember("https://op.example.com/token?x=1", n("a"));
        assert_eq!(c.get("https://op.example.com/me"), Some(n("a")));
        assert_eq!(c.get("https://op.example.com:8443/token"), None);
        assert_eq!(c.get("https://rs.example.com/"), None);
        c.remember("https://op.example.com/par", n("b"));
        assert_eq!(c.get("https://op.example.com/token"), Some(n("b")));
        for i in 0..MAX_SERVERS {
            c.remember(&format!("https://h{i}.example.com/"), n("c"));
        }
        assert_eq!(c.entries.len(), MAX_SERVERS);
        assert_eq!(c.get("https://op.example.com/token"), None);
        c.remember("not a url", n("d"));
        assert_eq!(c.entries.len(), MAX_SERVERS);
    }
}
