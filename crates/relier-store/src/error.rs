//! The store's one error type.

use relier_jose::JoseError;

use crate::key_state::KeyState;

/// Everything that can go wrong in the store. No variant ever carries a secret value (key
/// material, client secret, token or master key).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The master key does not decrypt the store's check value: it is not the key this store
    /// was created with.
    #[error(
        "wrong master key for store {store}: the check value does not decrypt (use the \
         RELIER_MASTER_KEY or key file this store was created with)"
    )]
    WrongMasterKey {
        /// The store (its URL, password redacted).
        store: String,
    },
    /// The master key could not be obtained (missing, malformed, unreadable key file).
    #[error("master key: {reason}")]
    MasterKey {
        /// What is wrong (never the key itself).
        reason: String,
    },
    /// A store URL that cannot be parsed.
    #[error("invalid store URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given (password redacted).
        url: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Something this build does not support (e.g. PostgreSQL stores).
    #[error("not supported: {what}")]
    Unsupported {
        /// What is not supported.
        what: String,
    },
    /// No such key / provider.
    #[error("no {what} named {name:?}")]
    NotFound {
        /// "key" or "provider".
        what: &'static str,
        /// The kid or provider name.
        name: String,
    },
    /// `put_provider` without `replace` for a name that is already registered.
    #[error("provider {name:?} already exists (replace it explicitly)")]
    ProviderExists {
        /// The provider name.
        name: String,
    },
    /// `remove_key` without `force` for a key that is active or still within its grace period.
    #[error("{}", key_in_use_message(kid, *state, *until))]
    KeyInUse {
        /// The key.
        kid: String,
        /// Its state.
        state: KeyState,
        /// For a retired key: the end of its grace period (unix seconds).
        until: Option<u64>,
    },
    /// An invalid argument (provider name, RSA size, algorithm unsuitable for an RP key, ...).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was invalid.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A provider's registration stored as JSON by an earlier version of relier that this
    /// version cannot convert to its typed form: a member it cannot use. The provider stays in
    /// the registry; its registration is unusable until replaced.
    #[error(
        "provider {provider}: the stored registration cannot be used: {member}: {reason} \
         (register again, or import a registration response relier can use)"
    )]
    UnusableRegistration {
        /// The provider.
        provider: String,
        /// The registration member at fault.
        member: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A value beyond its size limit (refused whole, never truncated).
    #[error("{what} of {len} bytes: at most {max}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size in bytes.
        len: usize,
        /// The largest size accepted.
        max: usize,
    },
    /// Encryption/decryption failed, or a stored value is malformed. Never a secret value.
    #[error("crypto: {what}")]
    Crypto {
        /// What failed, e.g. "decrypting the private key of key X".
        what: String,
    },
    /// The database failed (I/O, lock timeout, constraint, corrupt row).
    #[error("database: {reason}")]
    Database {
        /// The database's message (sqlx errors never carry bound values).
        reason: String,
    },
    /// A JOSE error (key generation, parsing a stored key).
    #[error(transparent)]
    Jose(#[from] JoseError),
}

fn key_in_use_message(kid: &str, state: KeyState, until: Option<u64>) -> String {
    match until {
        Some(until) => format!(
            "key {kid} is {state} and still within its grace period until {until} (unix time); \
             force the removal to override"
        ),
        None => format!("key {kid} is {state}; retire it first (or force the removal)"),
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database {
            reason: e.to_string(),
        }
    }
}

impl StoreError {
    pub(crate) fn db(reason: impl Into<String>) -> Self {
        StoreError::Database {
            reason: reason.into(),
        }
    }

    pub(crate) fn crypto(what: impl Into<String>) -> Self {
        StoreError::Crypto { what: what.into() }
    }

    pub(crate) fn master(reason: impl Into<String>) -> Self {
        StoreError::MasterKey {
            reason: reason.into(),
        }
    }
}
