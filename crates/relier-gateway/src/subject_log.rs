//! Subjects in log lines. A provider whose subject is personal data — `preset = "ftn"`: the
//! Finnish personal identity code — never has it written in clear: a log line carries a keyed
//! hash of it instead (HMAC-SHA256, truncated to 128 bits), which tells one user's lines apart
//! from another's without naming the person.
//!
//! The gateway keys the hash with a key derived from the store's master key
//! ([`relier_store::Store::derive_key`] with the label [`LOG_HASH_LABEL`]), set when it opens
//! its store: the same person gets the same hash across restarts and across instances that
//! share the store, and nothing new is stored. Settings built without a store (tests,
//! embedding that derives them alone) use [`SubjectHash::per_process`]: a random key of this
//! process, so hashes correlate only within it.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use aws_lc_rs::hmac;

/// The label of the log hash key under the store's master key (one label per purpose; changing
/// it changes every logged hash).
pub const LOG_HASH_LABEL: &str = "log-subject-hash";

/// The key of the hashes in log lines (`None` when the random source failed: the hash is then
/// never shown either).
#[derive(Clone)]
pub struct SubjectHash(Option<hmac::Key>);

impl fmt::Debug for SubjectHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubjectHash([REDACTED])")
    }
}

impl SubjectHash {
    /// The hash keyed with `key` (the store-derived key).
    #[must_use]
    pub fn keyed(key: &[u8]) -> SubjectHash {
        SubjectHash(Some(hmac::Key::new(hmac::HMAC_SHA256, key)))
    }

    /// The key derived from `store`'s master key under [`LOG_HASH_LABEL`].
    ///
    /// # Errors
    /// The store's, if the derivation fails.
    pub fn from_store(
        store: &dyn relier_store::Store,
    ) -> Result<SubjectHash, relier_store::StoreError> {
        Ok(SubjectHash::keyed(
            store.derive_key(LOG_HASH_LABEL)?.as_slice(),
        ))
    }

    /// The fallback without a store: a random key of this process, the same for every caller
    /// in it.
    #[must_use]
    pub fn per_process() -> SubjectHash {
        static KEY: OnceLock<Option<hmac::Key>> = OnceLock::new();
        SubjectHash(
            KEY.get_or_init(|| {
                let mut bytes = [0u8; 32];
                aws_lc_rs::rand::fill(&mut bytes).ok()?;
                Some(hmac::Key::new(hmac::HMAC_SHA256, &bytes))
            })
            .clone(),
        )
    }

    /// `sub` as a log line may carry it: `hmac:` and 32 hex digits.
    #[must_use]
    pub fn hash(&self, sub: &str) -> String {
        match &self.0 {
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
    #[must_use]
    pub fn logged<'a>(&self, personal: bool, sub: &'a str) -> Cow<'a, str> {
        if personal {
            Cow::Owned(self.hash(sub))
        } else {
            Cow::Borrowed(sub)
        }
    }
}

#[cfg(test)]
mod tests {
    use relier_store::{MasterKey, MasterKeySource, StoreUrl};

    use super::*;

    const HETU: &str = "010170-999R";

    #[test]
    fn personal_subjects_are_hashed_stably_within_the_process() {
        let h = SubjectHash::per_process();
        let a = h.logged(true, HETU);
        assert!(a.starts_with("hmac:") && a.len() == 5 + 32, "{a}");
        assert!(!a.contains("010170"));
        assert_eq!(a, SubjectHash::per_process().logged(true, HETU));
        assert_ne!(a, h.logged(true, "010170-998P"));
        assert_eq!(h.logged(false, "alice"), "alice");
    }

    /// The hash under the key derived from a store opened at `db` with master key `byte`.
    async fn hash_at(db: &std::path::Path, byte: u8) -> String {
        let url = StoreUrl::parse(&format!("sqlite://{}", db.display())).unwrap();
        let key = MasterKeySource::Key(MasterKey::from_bytes([byte; 32]));
        let (store, _) = relier_store::open(&url, key).await.unwrap();
        let hash = SubjectHash::from_store(store.as_ref()).unwrap().hash(HETU);
        store.close().await;
        hash
    }

    #[tokio::test]
    async fn the_store_derived_key_survives_reopening_and_follows_the_master_key() {
        let dir = tempfile::tempdir().unwrap();
        let first = hash_at(&dir.path().join("a.db"), 7).await;
        // Another open of the same store (a restart, or a second instance).
        let again = hash_at(&dir.path().join("a.db"), 7).await;
        assert_eq!(first, again);
        assert!(
            first.starts_with("hmac:") && !first.contains("010170"),
            "{first}"
        );
        // Another store with the same master key hashes alike (nothing is stored)…
        assert_eq!(first, hash_at(&dir.path().join("b.db"), 7).await);
        // …another master key does not, and neither does the per-process fallback.
        assert_ne!(first, hash_at(&dir.path().join("c.db"), 8).await);
        assert_ne!(first, SubjectHash::per_process().hash(HETU));
        // The key is derived, not the master key itself.
        assert_ne!(first, SubjectHash::keyed(&[7u8; 32]).hash(HETU));
    }
}
