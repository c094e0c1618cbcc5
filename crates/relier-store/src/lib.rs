//! # relier-store
//!
//! The relying party's persistent state: its signing keys (with a rotation lifecycle), the
//! registry of OpenID providers it is registered with, and the login gateway's login states and
//! sessions, in an embedded SQLite database (PostgreSQL later, behind the same [`Store`] trait).
//!
//! - **Secrets at rest** — private keys (PKCS#8 DER), client secrets, registration access
//!   tokens, the gateway's pending logins (PKCE verifier, nonce), OP tokens and CSRF tokens —
//!   are encrypted with AES-256-GCM under a 32-byte [`MasterKey`], a fresh 96-bit
//!   nonce per value, the row's identity as associated data. Every open verifies the master
//!   key against a check value first ([`StoreError::WrongMasterKey`]).
//! - **Private files**: the database (and so its `-wal`/`-shm` files), the master key file
//!   and the directories created for them are owner-only (0600 / 0700) whatever the umask;
//!   [`lax_permissions`] reports existing store files that group or others may access.
//! - **No bearer value at rest**: sessions and login states are keyed by the SHA-256 of the
//!   session id / `state` ([`session_id_hash`]), so a leaked database yields no usable cookie.
//! - **Keys** follow `next` → `active` → `retired` → removed; the pure rules are in
//!   [`lifecycle`], every function takes `now` (unix seconds) and none reads a clock.
//! - **Concurrency**: WAL, a 10 s busy timeout, and every change in one `BEGIN IMMEDIATE`
//!   transaction, so concurrent CLI processes serialize instead of failing.
//!
//! ```no_run
//! # async fn demo() -> Result<(), relier_store::StoreError> {
//! use relier_store::{MasterKeySource, Store, StoreUrl};
//! use relier_jose::Algorithm;
//!
//! let url = StoreUrl::parse("sqlite://relier.db")?;
//! let env = std::env::var(relier_store::MASTER_KEY_ENV).ok();
//! let (store, created) = relier_store::open(&url, MasterKeySource::from_inputs(env, None)).await?;
//! if let Some(created) = created {
//!     eprintln!("{created}"); // "created master key file relier.db.key — back it up: …"
//! }
//! let now = 1_700_000_000;
//! store.advance_keys(now).await?;
//! store.generate_key(Algorithm::ES256, None, now).await?;
//! let jwks = store.jwks(now).await?;
//! # let _ = jwks;
//! store.close().await;
//! # Ok(()) }
//! ```

mod crypto;
mod error;
pub mod lifecycle;
mod master_key;
mod model;
mod private_files;
mod session;
mod sqlite;
mod store;
mod url;

pub use error::StoreError;
pub use lifecycle::{DEFAULT_GRACE_SECS, DEFAULT_PROPAGATION_SECS, MAX_ASSERTION_LIFETIME_SECS};
pub use master_key::{
    CreatedKeyFile, MASTER_KEY_ENV, MASTER_KEY_LEN, MasterKey, MasterKeyOrigin, MasterKeySource,
    default_key_file, resolve_master_key,
};
pub use model::{
    JwksMode, KeyChange, KeyInfo, KeyState, ProviderInfo, ProviderRecord, secret_expiry,
    validate_provider_name,
};
pub use private_files::{LaxFile, StoreFile, lax_permissions};
pub use session::{LoginState, SessionRecord, session_id_hash};
pub use sqlite::{BUSY_TIMEOUT, SqliteStore};
pub use store::{KeyPolicy, Store};
pub use url::{DEFAULT_STORE_URL, StoreUrl};

/// Opens the store at `url` with the default [`KeyPolicy`]: see [`open_with`].
///
/// # Errors
/// As [`open_with`].
pub async fn open(
    url: &StoreUrl,
    source: MasterKeySource,
) -> Result<(Box<dyn Store>, Option<CreatedKeyFile>), StoreError> {
    open_with(url, source, KeyPolicy::default()).await
}

/// Opens (creating if needed) the store at `url`, applies migrations and verifies the master
/// key. `Some(CreatedKeyFile)` when this call created the master key file beside an SQLite
/// database — tell the user once to back it up. Call [`Store::advance_keys`] afterwards.
///
/// # Errors
/// [`StoreError::Unsupported`] for `postgres://` (not yet in this build),
/// [`StoreError::MasterKey`], [`StoreError::WrongMasterKey`], [`StoreError::Database`].
pub async fn open_with(
    url: &StoreUrl,
    source: MasterKeySource,
    policy: KeyPolicy,
) -> Result<(Box<dyn Store>, Option<CreatedKeyFile>), StoreError> {
    match url {
        StoreUrl::Sqlite { .. } => {
            let (store, created) = SqliteStore::open_with(url, source, policy).await?;
            Ok((Box::new(store), created))
        }
        StoreUrl::Postgres { .. } => Err(StoreError::Unsupported {
            what: format!(
                "store {url}: PostgreSQL stores are not yet supported in this build; use \
                 sqlite://PATH"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<Box<dyn Store>>();
        assert_send_sync::<SqliteStore>();
        assert_send_sync::<StoreError>();
        assert_send_sync::<MasterKey>();
        assert_send_sync::<ProviderRecord>();
        assert_send_sync::<SessionRecord>();
        assert_send_sync::<LoginState>();
    }
}
