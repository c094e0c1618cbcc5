//! # relier-store
//!
//! The relying party's persistent state: its signing keys (with a rotation lifecycle), the
//! registry of OpenID providers it is registered with, and the login gateway's login states and
//! sessions, in an embedded SQLite database or in PostgreSQL (`postgres://…`, for several
//! instances sharing one truth), behind one [`Store`] trait.
//!
//! - **Layers**: [`Store`] is [`KeyStore`] + [`ProviderRegistry`] + [`SessionStore`]; one
//!   implementation of it does the encryption at rest, key generation and the lifecycle rules
//!   for every database, above raw backends that only run SQL (the statements are shared; the
//!   schemas are `migrations/sqlite` and `migrations/postgres`).
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
//! - **No subject at rest**: a session's subject is sealed with its personal data; the
//!   back-channel logout lookup by subject goes through a keyed hash of it (HMAC-SHA256 under
//!   the master key's `subject-index` subkey), which names no one without the master key.
//! - **Registrations typed**: what a provider's registration decides is stored as a
//!   [`StoredRegistration`] (a versioned encoding of relier-core's `Registration`), not as the
//!   registration response's JSON; responses stored as JSON by earlier versions are converted
//!   when the store opens.
//! - **Keys** follow `next` → `active` → `retired` → removed; the pure rules are in
//!   [`lifecycle`]; every store method takes `now` ([`UnixTime`]) and none reads a clock.
//! - **Concurrency**: every change is one transaction. SQLite: WAL, a 10 s busy timeout,
//!   `BEGIN IMMEDIATE`, so concurrent CLI processes serialize instead of failing. PostgreSQL:
//!   migrations and key changes under advisory locks, session refresh a compare-and-swap on
//!   the row's `version`, single-use rows taken with `DELETE … RETURNING`.
//! - **PostgreSQL URL**: libpq's `sslmode` / `sslrootcert` (TLS with rustls; `verify-full`
//!   unless the host is loopback or a Unix socket or the URL says otherwise, weaker modes on a
//!   remote host reported by [`transport_warning`]), plus `max_connections` and
//!   `connect_timeout` (seconds) for the pool. Passwords in a URL never reach a message
//!   ([`redact_url`]). The master key must be
//!   given (`RELIER_MASTER_KEY` or a key file): there is no database file to put it beside.
//!
//! ```no_run
//! # async fn demo() -> Result<(), relier_store::StoreError> {
//! use relier_store::{MasterKeySource, StoreUrl, UnixTime};
//! use relier_jose::Algorithm;
//!
//! let url = StoreUrl::parse("sqlite://relier.db")?;
//! let env = std::env::var(relier_store::MASTER_KEY_ENV).ok();
//! let (store, created) = relier_store::open(&url, MasterKeySource::from_inputs(env, None)).await?;
//! if let Some(created) = created {
//!     eprintln!("{created}"); // "created master key file relier.db.key — back it up: …"
//! }
//! let now = UnixTime(1_700_000_000);
//! store.advance_keys(now).await?;
//! store.generate_key(Algorithm::ES256.into(), None, now).await?;
//! let jwks = store.jwks(now).await?;
//! # let _ = jwks;
//! store.close().await;
//! # Ok(()) }
//! ```

mod backend;
mod crypto;
mod encryption;
mod error;
mod import;
mod key_state;
pub mod lifecycle;
mod master_key;
mod model;
mod pg_lanes;
mod pg_tls;
mod pool;
mod postgres;
mod private_files;
mod registered;
mod sealed;
mod session;
mod sql;
mod sqlite;
mod sqlite_reader;
mod sqlite_writer;
mod store;
mod url;

pub use encryption::decryption_keys_for;
pub use error::StoreError;
pub use key_state::KeyState;
pub use lifecycle::{DEFAULT_GRACE_SECS, DEFAULT_PROPAGATION_SECS, MAX_ASSERTION_LIFETIME_SECS};
pub use master_key::{
    CreatedKeyFile, MASTER_KEY_ENV, MASTER_KEY_LEN, MasterKey, MasterKeyOrigin, MasterKeySource,
    resolve_master_key,
};
pub use model::{
    JwksMode, KeyAlg, KeyChange, KeyInfo, KeyUse, ProviderInfo, ProviderRecord,
    validate_provider_name,
};
pub use pg_tls::{TransportWarning, transport_warning};
pub use pool::{
    CONNECT_TIMEOUT_PARAM, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_CONNECTIONS, MAX_CONNECTIONS_PARAM,
};
pub use private_files::{
    LaxFile, StoreFile, create_new as create_private_file, default_key_file, lax_permissions,
};
pub use registered::{StoredRegistration, secret_expiry};
pub use relier_core::UnixTime;
pub use session::{
    LoginAllowance, LoginRate, LoginState, MAX_APP_DATA_LEN, SessionRecord, SessionTouch,
    session_id_hash,
};
pub use sqlite::BUSY_TIMEOUT;
pub use store::{KeyPolicy, KeyStore, ProviderRegistry, SessionStore, Store};
pub use url::{DEFAULT_STORE_URL, StoreUrl, redact_url};

use master_key::resolve_given;
use postgres::PostgresBackend;
use sealed::Sealed;
use sqlite::SqliteBackend;

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
/// key (writing its check value on a fresh store). `Some(CreatedKeyFile)` when this call
/// created the master key file beside an SQLite database — tell the user once to back it up.
/// A PostgreSQL store needs the key given ([`MasterKeySource::Env`], [`MasterKeySource::File`],
/// [`MasterKeySource::Key`]). Call [`KeyStore::advance_keys`] afterwards.
///
/// # Errors
/// [`StoreError::MasterKey`], [`StoreError::WrongMasterKey`], [`StoreError::InvalidUrl`],
/// [`StoreError::Unsupported`] (a schema newer than this build), [`StoreError::Database`].
pub async fn open_with(
    url: &StoreUrl,
    source: MasterKeySource,
    policy: KeyPolicy,
) -> Result<(Box<dyn Store>, Option<CreatedKeyFile>), StoreError> {
    let given = sealed::blocking(move || resolve_given(&source))
        .await?
        .map(|(key, _)| key);
    match url {
        StoreUrl::Sqlite { path } => {
            let backend = SqliteBackend::open(url, path).await?;
            let (store, created) = Sealed::new(backend, url, given, Some(path), policy).await?;
            Ok((Box::new(store), created))
        }
        StoreUrl::Postgres { url: raw } => {
            if given.is_none() {
                return Err(StoreError::master(format!(
                    "no master key for store {url}: set {MASTER_KEY_ENV} or give a master key \
                     file (a key file is created automatically only beside an SQLite database); \
                     every instance sharing the database needs the same key"
                )));
            }
            let backend = PostgresBackend::open(url, raw.expose()).await?;
            let (store, created) = Sealed::new(backend, url, given, None, policy).await?;
            Ok((Box::new(store), created))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<Box<dyn Store>>();
        assert_send_sync::<StoreError>();
        assert_send_sync::<MasterKey>();
        assert_send_sync::<ProviderRecord>();
        assert_send_sync::<SessionRecord>();
        assert_send_sync::<LoginState>();
    }
}
