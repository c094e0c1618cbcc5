//! The backend-neutral store interface, split by what callers need: [`KeyStore`] (RP signing
//! and encryption keys), [`ProviderRegistry`] (the providers), [`SessionStore`] (the login gateway's login
//! states, sessions and logout replay guard), and [`Store`], all three on one database.

use std::fmt;

use async_trait::async_trait;
use relier_core::{Secret, UnixTime};
use relier_jose::jwe::{DecryptionKeys, KeyManagementAlg};
use relier_jose::{Algorithm, JwkSet, SigningKey};

use crate::error::StoreError;
use crate::lifecycle::DEFAULT_GRACE_SECS;
use crate::model::{KeyAlg, KeyChange, KeyInfo, ProviderInfo, ProviderRecord};
use crate::session::{LoginAllowance, LoginRate, LoginState, SessionRecord, SessionTouch};
use crate::url::StoreUrl;

/// Tunables of the key lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPolicy {
    /// Grace period of a retired key after the maximum client-assertion lifetime (seconds):
    /// a key retired at `t` stays published until `t + 60 + grace_secs`.
    pub grace_secs: u64,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        KeyPolicy {
            grace_secs: DEFAULT_GRACE_SECS,
        }
    }
}

/// The RP's keys and their lifecycle (`next` → `active` → `retired` → removed): signing keys
/// (`use` "sig", by JWS algorithm) and encryption keys (`use` "enc", by JWE key-management
/// algorithm), each algorithm with its own active key. An OP may still encrypt to a retired
/// encryption key for a while: [`KeyStore::decryption_keys`] includes every stored key of the
/// algorithm until it is removed.
/// Object-safe, `Send + Sync`; every method takes `now` (unix seconds) where time matters and
/// never reads a clock. Every change is one transaction; changes to the keys are serialized
/// across processes and instances (SQLite's write lock, a PostgreSQL advisory lock).
#[async_trait]
pub trait KeyStore: Send + Sync + fmt::Debug {
    /// Generates a key for `alg`: a signing key (RS*/PS* with `rsa_bits` 2048 (default), 3072
    /// or 4096; ES256/ES384/ES512; EdDSA) or an encryption key (RSA-OAEP/RSA-OAEP-256 with
    /// `rsa_bits`; ECDH-ES, ECDH-ES+A128KW/+A256KW on P-256). Its kid is its RFC 7638 thumbprint. If `alg` has no
    /// active key the new key is active at once; otherwise it is `next` with
    /// `activates_at = now` — published now, signing from the next [`KeyStore::advance_keys`]
    /// (use [`KeyStore::rotate_keys`] for a propagation delay).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for HMAC/`none` and symmetric key management,
    /// [`StoreError::Jose`], [`StoreError::Database`].
    async fn generate_key(
        &self,
        alg: KeyAlg,
        rsa_bits: Option<usize>,
        now: UnixTime,
    ) -> Result<KeyInfo, StoreError>;

    /// Rotation: for `alg` (or, with `None`, every signing and encryption algorithm that has
    /// an active key; entity keys only when named) creates a
    /// `next` key activating at `now + propagation_secs` (see
    /// [`crate::DEFAULT_PROPAGATION_SECS`] for why there is a delay). An RSA key keeps the modulus
    /// size of the active key. A named `alg` without an active key gets an active key at once.
    /// With `None` and no active key at all, nothing happens (empty result).
    ///
    /// # Errors
    /// As [`KeyStore::generate_key`].
    async fn rotate_keys(
        &self,
        alg: Option<KeyAlg>,
        propagation_secs: u64,
        now: UnixTime,
    ) -> Result<Vec<KeyInfo>, StoreError>;

    /// Scheduled rotation, once across instances sharing the store: under the key lock, for
    /// every algorithm whose active key has been active for `interval_secs` and that has no
    /// `next` key yet ([`crate::lifecycle::due_for_rotation`]), creates a `next` key as
    /// [`KeyStore::rotate_keys`] does. Instances calling this at the same moment rotate each
    /// algorithm once. Returns the new keys.
    ///
    /// # Errors
    /// As [`KeyStore::generate_key`].
    async fn rotate_due_keys(
        &self,
        interval_secs: u64,
        propagation_secs: u64,
        now: UnixTime,
    ) -> Result<Vec<KeyInfo>, StoreError>;

    /// Applies due transitions (call it on every open/command): `next` keys whose
    /// `activates_at <= now` become active and the key active before retires with
    /// `grace_until = now + 60 + grace`. Exactly one active key per algorithm. Returns what
    /// changed (usually nothing).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    async fn advance_keys(&self, now: UnixTime) -> Result<Vec<KeyChange>, StoreError>;

    /// Retires an active or next key (`grace_until = now + 60 + grace`); a retired key is
    /// returned unchanged.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Database`].
    async fn retire_key(&self, kid: &str, now: UnixTime) -> Result<KeyInfo, StoreError>;

    /// Deletes a key. Refuses an active key or a retired key still within its grace period
    /// ([`StoreError::KeyInUse`]) unless `force`. Returns the removed key's metadata.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::KeyInUse`], [`StoreError::Database`].
    async fn remove_key(
        &self,
        kid: &str,
        force: bool,
        now: UnixTime,
    ) -> Result<KeyInfo, StoreError>;

    /// Every key, ordered by algorithm, then creation time.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    async fn list_keys(&self) -> Result<Vec<KeyInfo>, StoreError>;

    /// The public JWKS to publish at `now`: active, next, and retired-within-grace signing and
    /// encryption keys (in that order), each the public JWK with "kid", "alg" and "use" ("sig"
    /// or "enc"). Never a private member, never an entity key.
    ///
    /// # Errors
    /// [`StoreError::Database`], [`StoreError::Jose`] for a corrupt stored JWK.
    async fn jwks(&self, now: UnixTime) -> Result<JwkSet, StoreError>;

    /// The entity keys to publish at `now` (the `jwks` of the entity statement, OpenID
    /// Federation 1.0 §3.1): active, next, and retired-within-grace entity keys, as
    /// [`KeyStore::jwks`] ("use" "sig"). Never a private member.
    ///
    /// # Errors
    /// As [`KeyStore::jwks`].
    async fn entity_jwks(&self, now: UnixTime) -> Result<JwkSet, StoreError>;

    /// The active entity key, decrypted, with its kid set (RS256 when several algorithms have
    /// one); `None` without an active entity key. It signs only the entity statement and the
    /// signed JWK set: [`KeyStore::signing_key`] never returns an entity key.
    ///
    /// # Errors
    /// As [`KeyStore::signing_key`].
    async fn entity_signing_key(&self) -> Result<Option<SigningKey>, StoreError>;

    /// Brings an existing private key (PEM: PKCS#8, PKCS#1 RSA or SEC 1 EC) into the store
    /// for `alg` (its use included), sealed at rest like a generated key; its kid is its RFC
    /// 7638 thumbprint. The key must fit `alg` and be as strong as generated keys (RSA ≥ 2048
    /// bits, elliptic curves ≥ 224 bits). Active at once when `alg` has no active key, else
    /// `next` as [`KeyStore::generate_key`].
    ///
    /// # Errors
    /// [`StoreError::Jose`] (unreadable key, or it does not fit `alg`),
    /// [`StoreError::Invalid`] (symmetric or `none` algorithm, weak key, a key with this kid
    /// in the store already), [`StoreError::Database`].
    async fn import_key(
        &self,
        alg: KeyAlg,
        pem: &str,
        now: UnixTime,
    ) -> Result<KeyInfo, StoreError>;

    /// The active signing key for `alg`, decrypted, with its kid set; `None` if `alg` has no
    /// active key.
    ///
    /// # Errors
    /// [`StoreError::Crypto`] if the private key does not decrypt or does not match its kid,
    /// [`StoreError::Database`].
    async fn signing_key(&self, alg: Algorithm) -> Result<Option<SigningKey>, StoreError>;

    /// The `next` signing keys of `alg` (published, not signing yet), decrypted, each with its
    /// kid and its activation time (`activates_at`, 0 when it has none: due at once), earliest
    /// first: what a relying party holds ready to sign with from the second a key becomes
    /// active (see [`KeyStore::advance_keys`]), without a store read then.
    ///
    /// # Errors
    /// As [`KeyStore::signing_key`].
    async fn pending_signing_keys(
        &self,
        alg: Algorithm,
    ) -> Result<Vec<(u64, SigningKey)>, StoreError>;

    /// The signing algorithms that have an active key.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    async fn active_algs(&self) -> Result<Vec<Algorithm>, StoreError>;

    /// Every stored encryption key of `alg` (active first, then next, then retired, newest
    /// first; at most [`relier_jose::jwe::MAX_DECRYPTION_KEYS`]), decrypted, each with its kid
    /// and restricted to `alg`. Retired keys are included until they are removed.
    ///
    /// # Errors
    /// [`StoreError::Crypto`] if a private key does not decrypt or does not match its kid,
    /// [`StoreError::Database`].
    async fn decryption_keys(&self, alg: KeyManagementAlg) -> Result<DecryptionKeys, StoreError>;

    /// The key-management algorithms that have an active encryption key.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    async fn active_enc_algs(&self) -> Result<Vec<KeyManagementAlg>, StoreError>;
}

/// The registry of OpenID providers the RP is registered with (secrets encrypted at rest).
#[async_trait]
pub trait ProviderRegistry: Send + Sync + fmt::Debug {
    /// Stores a provider (secrets encrypted). Without `replace`, an existing name is
    /// [`StoreError::ProviderExists`]; with it the record is replaced, keeping its
    /// `created_at`. `created_at`/`updated_at` of `record` are ignored (set from `now`).
    /// `client_secret` / `registration_access_token` members of `record.registration` are
    /// dropped (the secrets live only in the encrypted columns).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] (bad name, non-UTF-8 path), [`StoreError::ProviderExists`],
    /// [`StoreError::Database`].
    async fn put_provider(
        &self,
        record: &ProviderRecord,
        replace: bool,
        now: UnixTime,
    ) -> Result<ProviderInfo, StoreError>;

    /// The provider with its secrets decrypted, or `None`.
    ///
    /// # Errors
    /// [`StoreError::Crypto`], [`StoreError::Database`].
    async fn get_provider(&self, name: &str) -> Result<Option<ProviderRecord>, StoreError>;

    /// Every provider (no secrets), ordered by name.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    async fn list_providers(&self) -> Result<Vec<ProviderInfo>, StoreError>;

    /// Deletes a provider.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Database`].
    async fn delete_provider(&self, name: &str) -> Result<(), StoreError>;
}

/// The login gateway's state: logins in progress, sessions (with the compare-and-swap on
/// `version` that makes a refresh single-flight across instances) and the back-channel logout
/// replay guard.
#[async_trait]
pub trait SessionStore: Send + Sync + fmt::Debug {
    /// Stores a login in progress under `state` (the row is keyed by its SHA-256; the record,
    /// PKCE verifier and nonce included, is encrypted). An existing row for the same state is
    /// replaced (states are 256-bit random values: a collision is a caller bug).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] (time out of range), [`StoreError::Crypto`],
    /// [`StoreError::Database`].
    async fn put_login_state(&self, state: &str, record: &LoginState) -> Result<(), StoreError>;

    /// Single use: atomically deletes the login state and returns it, so that of concurrent
    /// callbacks with the same `state` exactly one gets `Some`. An expired one
    /// (`now >= expires_at`) is deleted too and gives `Ok(None)`, as does an unknown one.
    ///
    /// # Errors
    /// [`StoreError::Crypto`] if the record does not decrypt (it is deleted all the same),
    /// [`StoreError::Database`].
    async fn take_login_state(
        &self,
        state: &str,
        now: UnixTime,
    ) -> Result<Option<LoginState>, StoreError>;

    // ---- sessions ----

    /// Stores a new session under the SHA-256 of `session_id` ([`crate::session_id_hash`]).
    /// Tokens, the CSRF token and the application's data are encrypted. `idle_expires_at` is stored as
    /// `min(idle_expires_at, absolute_expires_at)`; `version` as given (start at 0).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] if a session with this id exists already or a time is out of
    /// range, [`StoreError::TooLarge`] for `app_data` beyond [`crate::MAX_APP_DATA_LEN`]
    /// bytes, [`StoreError::Crypto`], [`StoreError::Database`].
    async fn create_session(
        &self,
        session_id: &Secret,
        rec: &SessionRecord,
    ) -> Result<(), StoreError>;

    /// The session, tokens decrypted; `None` when absent or expired
    /// (`now >= idle_expires_at` or `now >= absolute_expires_at`). One indexed read, never a
    /// write (use [`SessionStore::touch_session`] to extend it).
    ///
    /// # Errors
    /// [`StoreError::Crypto`], [`StoreError::Database`].
    async fn get_session(
        &self,
        session_id: &Secret,
        now: UnixTime,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// Sliding expiry: sets `last_seen_at = now` and
    /// `idle_expires_at = min(idle_expires_at, absolute_expires_at)` of a live session. Does not
    /// change `version`. An absent or already expired session is left alone (no error, no
    /// resurrection).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] (time out of range), [`StoreError::Database`].
    async fn touch_session(
        &self,
        session_id: &Secret,
        now: UnixTime,
        idle_expires_at: u64,
    ) -> Result<(), StoreError>;

    /// [`SessionStore::touch_session`] of many sessions at once, by id hash, in as few
    /// statements as possible (a gateway collects the touches of a moment and writes them
    /// together, off the request path).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] (time out of range), [`StoreError::Database`].
    async fn touch_sessions(&self, touches: &[SessionTouch]) -> Result<(), StoreError>;

    /// Compare-and-swap on `version` (e.g. after a refresh): only if the stored version equals
    /// `expected_version`, replaces the tokens, sets `access_expires_at` and increments
    /// `version`; `Ok(false)` if the session is absent or someone else updated it first
    /// (re-read it and use its tokens).
    ///
    /// A token given as `None` **keeps** the stored one (an OP may omit the refresh token
    /// or the ID token from a refresh response, RFC 6749 §6, OIDC Core §12.2);
    /// `access_expires_at` is always written as given (`None`: unknown).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] (version or time out of range), [`StoreError::Crypto`],
    /// [`StoreError::Database`].
    async fn update_session_tokens(
        &self,
        session_id: &Secret,
        expected_version: u64,
        access_token: Option<&Secret>,
        refresh_token: Option<&Secret>,
        id_token: Option<&Secret>,
        access_expires_at: Option<u64>,
    ) -> Result<bool, StoreError>;

    /// Replaces the embedding application's data of a live session (`None` clears it), sealed
    /// like the tokens. Leaves `version` alone (a token refresh racing with it is not
    /// disturbed). `Ok(false)` if the session is absent or expired at `now`.
    ///
    /// # Errors
    /// [`StoreError::TooLarge`] beyond [`crate::MAX_APP_DATA_LEN`] bytes (nothing is written),
    /// [`StoreError::Invalid`] (time out of range), [`StoreError::Crypto`],
    /// [`StoreError::Database`].
    async fn set_session_app_data(
        &self,
        session_id: &Secret,
        app_data: Option<&Secret>,
        now: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Deletes a session (logout). `Ok(false)` if there was none.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    async fn delete_session(&self, session_id: &Secret) -> Result<bool, StoreError>;

    /// Back-channel logout: deletes the sessions of `provider` whose `sid` matches (and whose
    /// `sub` matches too if given) or, with only `sub`, every session of that user at that
    /// provider. Expired sessions count too. Returns the deleted sessions' id hashes
    /// ([`crate::session_id_hash`]), for the caller to drop from caches. The store holds no
    /// subject in the clear: sessions are found through a keyed hash (HMAC-SHA256 under a key
    /// derived from the master key, label `subject-index`) of the provider and `sub`.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] if both `sid` and `sub` are `None` (a logout token has at least
    /// one; deleting every session of a provider is not what this is for),
    /// [`StoreError::Database`].
    async fn delete_sessions_for(
        &self,
        provider: &str,
        sid: Option<&str>,
        sub: Option<&str>,
    ) -> Result<Vec<String>, StoreError>;

    /// How many sessions are live at `now`.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    async fn count_sessions(&self, now: UnixTime) -> Result<u64, StoreError>;

    /// Deletes expired sessions, login states and logout jtis (`expires_at <= now`). Returns
    /// how many rows went, all tables together.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    async fn purge_expired(&self, now: UnixTime) -> Result<u64, StoreError>;

    /// Id hashes ([`crate::session_id_hash`]) of the sessions deleted by
    /// [`SessionStore::delete_session`] or [`SessionStore::delete_sessions_for`] in the last
    /// `within`, by the database's clock (so instances' clocks do not matter), at most 100 000.
    /// An instance that caches sessions polls this to drop sessions another instance ended.
    /// Rows are kept 10 minutes.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    async fn recently_ended_sessions(
        &self,
        within: std::time::Duration,
    ) -> Result<Vec<String>, StoreError>;

    /// The login rate limit shared by every instance on the store: takes a token from the
    /// token bucket of `client` (an opaque key, e.g. the client address), refilled at
    /// `rate.per_minute` and holding at most `rate.burst`, in one atomic statement so that
    /// instances never hand out the same token twice. Times are the database's clock. Buckets
    /// unused for an hour are purged by [`SessionStore::purge_expired`].
    ///
    /// # Errors
    /// [`StoreError::Database`].
    async fn take_login_token(
        &self,
        client: &str,
        rate: LoginRate,
    ) -> Result<LoginAllowance, StoreError>;

    // ---- back-channel logout replay guard ----

    /// Replay guard for back-channel logout tokens: records (`provider`, `jti`) and returns
    /// `Ok(true)` the first time, `Ok(false)` while it is remembered. It is remembered until
    /// [`SessionStore::purge_expired`] runs at or after `expires_at` (the token's `exp`): reject
    /// expired logout tokens before calling this.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] (time out of range), [`StoreError::Database`].
    async fn remember_logout_jti(
        &self,
        provider: &str,
        jti: &str,
        expires_at: u64,
    ) -> Result<bool, StoreError>;
}

/// The RP's whole persistent state, as [`crate::open`] returns it: the three parts above on one
/// database, with secrets encrypted at rest above the database backend (SQLite or
/// PostgreSQL). Object-safe (`Box<dyn Store>`, `Arc<dyn Store>`: the parts' methods are called
/// on it directly); code that needs only one part can take `&dyn KeyStore`,
/// `&dyn ProviderRegistry` or `&dyn SessionStore`.
#[async_trait]
pub trait Store: KeyStore + ProviderRegistry + SessionStore {
    /// The store's URL (password redacted in `Display`).
    fn url(&self) -> &StoreUrl;

    /// A 32-byte key bound to `label` and derived from the master key: HKDF-Expand-SHA256
    /// (RFC 5869 §2.3, the master key as the pseudorandom key) with `info` =
    /// `relier:derived-key:v1:` followed by `label`. The same for every handle on stores with
    /// the same master key, so it survives restarts and is shared by instances; nothing is
    /// stored, and the master key itself is never handed out. Callers fix their `label` (one
    /// label per purpose).
    ///
    /// # Errors
    /// [`StoreError::Crypto`] if the derivation fails.
    fn derive_key(&self, label: &str) -> Result<zeroize::Zeroizing<[u8; 32]>, StoreError>;

    /// Flushes (SQLite: checkpoints the WAL into the database file) and closes the handle's
    /// connections. Later calls on this handle fail.
    async fn close(&self);
}
