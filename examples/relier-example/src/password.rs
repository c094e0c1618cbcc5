//! Password hashing with Argon2id (the argon2 crate's defaults: 19 MiB, 2 passes, 1 lane —
//! the OWASP minimum), in PHC string format.
//!
//! Every hash and verification goes through one [`Hasher`]: at most as many run at once as
//! the machine has cores (each on the blocking pool, holding its 19 MiB), the others wait in a
//! bounded queue, and beyond that queue a request is turned away ([`AppError::Busy`], a 503
//! with `Retry-After`) instead of growing memory. Without the cap, 200 concurrent logins took
//! the process from 176 MB to 4 GB resident.
//!
//! Each running computation works in one of at most `limit` memory buffers that are kept and
//! reused rather than allocated per call: freed 19 MiB blocks left in the allocator's arenas
//! (glibc raises its mmap threshold after the first free) otherwise took the peak resident set
//! of 200 logins to 620 MB even with the cap.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::AppError;

/// Longest accepted password in bytes (Argon2 is slow on purpose; bound the work).
pub const MAX_LEN: usize = 1024;
/// Shortest accepted password for a new account, in characters.
pub const MIN_LEN: usize = 8;
/// Requests that may wait for a free core, per core, before new ones are turned away.
pub const QUEUE_PER_CORE: usize = 128;

fn random_salt() -> Result<SaltString, AppError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| AppError::Random)?;
    SaltString::encode_b64(&bytes).map_err(|e| AppError::Password(e.to_string()))
}

/// Argon2 of `password` with `salt` in `memory` (resized to the parameters' block count):
/// what `PasswordHasher::hash_password` computes, without allocating its own blocks.
fn phc<'a>(
    (algorithm, version, params): (Algorithm, Version, Params),
    password: &[u8],
    salt: Salt<'a>,
    memory: &mut Vec<Block>,
) -> argon2::password_hash::Result<PasswordHash<'a>> {
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf)?;
    memory.resize(params.block_count(), Block::default());
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let output = Output::init_with(len, |out| {
        Ok(argon2.hash_password_into_with_memory(
            password,
            salt_bytes,
            out,
            memory.as_mut_slice(),
        )?)
    })?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt),
        hash: Some(output),
    })
}

fn hash_now(password: &str, memory: &mut Vec<Block>) -> Result<String, AppError> {
    let salt = random_salt()?;
    let how = (Algorithm::Argon2id, Version::V0x13, Params::DEFAULT);
    phc(how, password.as_bytes(), salt.as_salt(), memory)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Password(e.to_string()))
}

/// Whether `password` matches `stored` (a PHC string): its algorithm, version, parameters and
/// salt, the outputs compared in constant time (`Output`'s equality). An over-long password
/// costs a check and never matches.
fn verify_now(password: &str, stored: &str, memory: &mut Vec<Block>) -> bool {
    let mut check = || -> Option<bool> {
        let parsed = PasswordHash::new(stored).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = parsed
            .version
            .map_or(Ok(Version::default()), Version::try_from);
        let params = Params::try_from(&parsed).ok()?;
        let (salt, expected) = (parsed.salt?, parsed.hash?);
        let candidate = if password.len() > MAX_LEN {
            ""
        } else {
            password
        };
        let how = (algorithm, version.ok()?, params);
        let computed = phc(how, candidate.as_bytes(), salt, memory).ok()?.hash?;
        Some(computed == expected)
    };
    check().unwrap_or(false) && password.len() <= MAX_LEN
}

fn pool(buffers: &Mutex<Vec<Vec<Block>>>) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
    buffers.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs Argon2 computations with a concurrency cap and a bounded queue (cheap to share).
#[derive(Debug)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    limit: usize,
    queue_cap: usize,
    waiting: AtomicUsize,
    in_flight: Arc<AtomicUsize>,
    high_water: Arc<AtomicUsize>,
    computed: Arc<AtomicU64>,
    /// The computations' memory, reused (never more buffers than `limit`).
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
}

/// Counts a request in the queue while it lives (also when its future is dropped).
struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Default for Hasher {
    /// As many computations at once as the machine has cores
    /// ([`std::thread::available_parallelism`]), [`QUEUE_PER_CORE`] waiting per core.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Hasher::new(cores, cores.saturating_mul(QUEUE_PER_CORE))
    }
}

impl Hasher {
    /// At most `limit` (at least 1) computations at once and `queue_cap` requests waiting.
    pub fn new(limit: usize, queue_cap: usize) -> Self {
        let limit = limit.max(1);
        Hasher {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
            queue_cap,
            waiting: AtomicUsize::new(0),
            in_flight: Arc::new(AtomicUsize::new(0)),
            high_water: Arc::new(AtomicUsize::new(0)),
            computed: Arc::new(AtomicU64::new(0)),
            buffers: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The concurrency cap.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The most Argon2 computations that were ever running at once.
    pub fn high_water(&self) -> usize {
        self.high_water.load(Ordering::Acquire)
    }

    /// How many Argon2 computations have started.
    pub fn computations(&self) -> u64 {
        self.computed.load(Ordering::Acquire)
    }

    /// How many requests may wait for a free core.
    pub fn queue_cap(&self) -> usize {
        self.queue_cap
    }

    /// Requests waiting for a free core now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// A permit: at once when one is free, else after waiting in the queue, or
    /// [`AppError::Busy`] when the queue is full.
    async fn permit(&self) -> Result<OwnedSemaphorePermit, AppError> {
        if let Ok(p) = self.permits.clone().try_acquire_owned() {
            return Ok(p);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue_cap {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(AppError::Busy);
        }
        let _queued = Queued(&self.waiting);
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AppError::Password(e.to_string()))
    }

    /// Runs `work` on the blocking pool under a permit, with a memory buffer. The permit moves
    /// into the blocking task, so a request that goes away does not free its core before the
    /// work ends; the buffer goes back to the pool before the permit does.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let permit = self.permit().await?;
        let in_flight = self.in_flight.clone();
        let high_water = self.high_water.clone();
        let computed = self.computed.clone();
        let buffers = self.buffers.clone();
        tokio::task::spawn_blocking(move || {
            let mut memory = pool(&buffers).pop().unwrap_or_default();
            computed.fetch_add(1, Ordering::AcqRel);
            let now = in_flight.fetch_add(1, Ordering::AcqRel).saturating_add(1);
            high_water.fetch_max(now, Ordering::AcqRel);
            let out = work(&mut memory);
            in_flight.fetch_sub(1, Ordering::AcqRel);
            pool(&buffers).push(memory);
            drop(permit);
            out
        })
        .await
        .map_err(|e| AppError::Password(e.to_string()))
    }

    /// Hashes a new password (Argon2id, random salt).
    ///
    /// # Errors
    /// [`AppError::Busy`], [`AppError::Password`] or [`AppError::Random`].
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move |memory| hash_now(&password, memory)).await?
    }

    /// Whether `password` matches `stored` (a PHC string). Over-long passwords never match (and
    /// cost the same as a check).
    ///
    /// # Errors
    /// [`AppError::Busy`], or [`AppError::Password`] if the blocking task fails.
    pub async fn verify(&self, password: String, stored: String) -> Result<bool, AppError> {
        self.run(move |memory| verify_now(&password, &stored, memory))
            .await
    }

    /// A hash of a random password: what an unknown user's password is checked against, so
    /// that "no such user" costs the same time as "wrong password".
    ///
    /// # Errors
    /// As [`Self::hash`].
    pub async fn dummy_hash(&self) -> Result<String, AppError> {
        let mut bytes = [0u8; 24];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| AppError::Random)?;
        let random: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        self.hash(random).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[tokio::test]
    async fn argon2id_round_trip() {
        let h = Hasher::default();
        let stored = h.hash("correct horse".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(
            h.verify("correct horse".into(), stored.clone())
                .await
                .unwrap()
        );
        assert!(
            !h.verify("wrong horse".into(), stored.clone())
                .await
                .unwrap()
        );
        assert!(
            !h.verify("x".repeat(MAX_LEN + 1), stored.clone())
                .await
                .unwrap()
        );
        assert!(
            !h.verify("correct horse".into(), "$argon2id$junk".into())
                .await
                .unwrap()
        );
        assert_eq!(h.high_water(), 1);
        assert_eq!(h.buffers.lock().unwrap().len(), 1, "one buffer, reused");
        // The argon2 crate's own hashing and verification agree with ours.
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let parsed = PasswordHash::new(&stored).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        let theirs = Argon2::default()
            .hash_password(b"battery staple", &random_salt().unwrap())
            .unwrap()
            .to_string();
        assert!(
            h.verify("battery staple".into(), theirs.clone())
                .await
                .unwrap()
        );
        assert!(!h.verify("battery stable".into(), theirs).await.unwrap());
    }

    #[test]
    fn as_many_at_once_as_cores() {
        let cores = std::thread::available_parallelism().unwrap().get();
        let h = Hasher::default();
        assert_eq!(h.limit(), cores);
        assert_eq!(h.queue_cap, cores * QUEUE_PER_CORE);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_turns_requests_away_and_frees_its_places() {
        let h = Arc::new(Hasher::new(1, 1));
        let stored = h.dummy_hash().await.unwrap();
        // The only core is taken: the first request waits, the second finds the queue full.
        let held = h.permits.clone().acquire_owned().await.unwrap();
        let waiter = tokio::spawn({
            let (h, stored) = (h.clone(), stored.clone());
            async move { h.verify("pw".into(), stored).await }
        });
        while h.waiting() < 1 {
            tokio::task::yield_now().await;
        }
        let busy = h.verify("pw".into(), stored.clone()).await;
        assert!(matches!(busy, Err(AppError::Busy)), "{busy:?}");
        drop(held);
        assert!(!waiter.await.unwrap().unwrap());
        assert_eq!(h.waiting(), 0);
        assert!(!h.verify("pw".into(), stored).await.unwrap());
        assert_eq!(h.high_water(), 1);
    }
}
