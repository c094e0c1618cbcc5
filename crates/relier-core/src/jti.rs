//! `jti` values for client assertions. RFC 7523 §3 (7) and OIDC Core §9 ask for a unique
//! identifier per assertion (so the OP can refuse a replay); they do not ask for it to be
//! unpredictable, since the assertion is signed. Each client authentication draws 128 random
//! bits once, from the caller's random source on its first assertion, and appends a 64-bit
//! counter: unique across assertions, processes and instances, with one random draw per key
//! instead of one per assertion (the draw cost as much as a third of an Ed25519 assertion's
//! overhead, see docs/benchmarks.md).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::error::Unspecified;
use aws_lc_rs::rand::SecureRandom;

const PREFIX_LEN: usize = 16;

/// Length of a `jti` before base64url: 16 random bytes and an 8-byte counter.
pub(crate) const JTI_LEN: usize = PREFIX_LEN + 8;

/// The `jti` source of one client authentication (shared by its clones).
#[derive(Debug, Default)]
pub(crate) struct JtiSource {
    prefix: OnceLock<[u8; PREFIX_LEN]>,
    counter: AtomicU64,
}

impl JtiSource {
    /// The next `jti`: the random prefix (drawn from `rng` on first use) and the counter.
    pub(crate) fn next(&self, rng: &dyn SecureRandom) -> Result<[u8; JTI_LEN], Unspecified> {
        let prefix = match self.prefix.get() {
            Some(p) => *p,
            None => {
                let mut p = [0u8; PREFIX_LEN];
                rng.fill(&mut p)?;
                // Two first assertions racing both draw; one prefix wins for both.
                *self.prefix.get_or_init(|| p)
            }
        };
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut out = [0u8; JTI_LEN];
        let (head, tail) = out.split_at_mut(PREFIX_LEN);
        head.copy_from_slice(&prefix);
        tail.copy_from_slice(&n.to_be_bytes());
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;

    #[test]
    fn unique_per_assertion_and_per_source() {
        let rng = SystemRandom::new();
        let a = JtiSource::default();
        let b = JtiSource::default();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            assert!(seen.insert(a.next(&rng).unwrap()));
            assert!(seen.insert(b.next(&rng).unwrap()));
        }
        let (x, y) = (a.next(&rng).unwrap(), b.next(&rng).unwrap());
        assert_ne!(
            x[..PREFIX_LEN],
            y[..PREFIX_LEN],
            "each source has its own prefix"
        );
    }
}
