//! The raw database backends under [`crate::Store`]: rows in, rows out, ciphertexts as opaque
//! bytes. Encryption at rest, key generation and the mapping to the public model live once,
//! above them ([`crate::sealed`]); a backend is its SQL, its migrations and its connection
//! handling ([`crate::sqlite`], [`crate::postgres`]).
//!
//! The statements are the same on both databases (sqlx numbers parameters `$1`… on both), so
//! they are written once, in [`impl_sql_backend`], and instantiated per backend.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use relier_jose::Algorithm;

use crate::error::StoreError;
use crate::key_state::KeyState;
use crate::lifecycle::Transition;
use crate::model::{KeyAlg, KeyInfo, KeyUse};

/// A new key, its private key already sealed.
#[derive(Debug)]
pub(crate) struct NewKey {
    pub kid: String,
    pub alg: KeyAlg,
    pub public_jwk: String,
    pub sealed: Vec<u8>,
}

/// One change to the keys, decided by a [`KeyPlanner`] under the backend's key lock.
#[derive(Debug, Clone)]
pub(crate) enum KeyEdit {
    /// A state transition (`WHERE state = from`, so a concurrent change is detected).
    Transition(Transition),
    /// Deletes the key.
    Delete(String),
}

/// Decides, from every key as stored (inside the write transaction), what to change.
pub(crate) type KeyPlanner<'a> =
    dyn Fn(&[KeyInfo]) -> Result<Vec<KeyEdit>, StoreError> + Send + Sync + 'a;

/// Decides, from every key as stored (inside the key transaction), whether a new key for an
/// algorithm is still wanted.
pub(crate) type KeyFilter<'a> = dyn Fn(&[KeyInfo], KeyAlg) -> bool + Send + Sync + 'a;

/// A `providers` row: JSON as text, secrets sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderRow {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub auth_method: String,
    pub redirect_uris: String,
    pub scopes: String,
    pub id_token_alg: Option<String>,
    pub signing_alg: Option<String>,
    pub jwks_mode: Option<String>,
    pub jwks_uri: Option<String>,
    pub tls_cert_path: Option<String>,
    pub tls_key_path: Option<String>,
    pub registration_client_uri: Option<String>,
    pub provider_metadata: Option<String>,
    /// A registration response as JSON: written by earlier versions; now only one that could
    /// not be converted.
    pub registration: Option<String>,
    /// The typed registration's encoding.
    pub registered: Option<String>,
    pub client_secret_expires_at: Option<i64>,
    pub client_secret: Option<Vec<u8>>,
    pub registration_access_token: Option<Vec<u8>>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a registration stored as JSON by an earlier version becomes: the columns
/// `registered`, `registration` and `client_secret_expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderConversion {
    pub registered: Option<String>,
    pub registration: Option<String>,
    pub client_secret_expires_at: Option<i64>,
}

/// A `sessions` row (without its key): tokens, CSRF token and identity sealed. `email`, `name`
/// and `claims` are the clear-text columns of rows written before the identity was encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionRow {
    pub provider: String,
    pub iss: String,
    /// The clear subject of a row written before subjects were indexed by keyed hash (empty in
    /// new rows).
    pub sub: String,
    pub sid: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub claims: String,
    pub access_token: Option<Vec<u8>>,
    pub refresh_token: Option<Vec<u8>>,
    pub id_token: Option<Vec<u8>>,
    pub access_expires_at: Option<i64>,
    pub csrf_token: Vec<u8>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub idle_expires_at: i64,
    pub absolute_expires_at: i64,
    pub version: i64,
    pub identity: Option<Vec<u8>>,
    pub dpop_key: Option<Vec<u8>>,
    pub app_data: Option<Vec<u8>>,
    /// The keyed hash of the provider and subject ([`crate::crypto::SubjectIndex`]); `None`
    /// in a row not converted yet.
    pub subject_hash: Option<String>,
}

/// New tokens for a session (sealed), for the compare-and-swap on `version`.
#[derive(Debug)]
pub(crate) struct TokenUpdate {
    pub expected_version: i64,
    pub access_token: Option<Vec<u8>>,
    pub refresh_token: Option<Vec<u8>>,
    pub id_token: Option<Vec<u8>>,
    pub access_expires_at: Option<i64>,
}

/// Which sessions a back-channel logout deletes; a subject is given as its index value
/// ([`crate::crypto::SubjectIndex`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum LogoutTarget<'a> {
    Sid(&'a str),
    SubjectHash(&'a str),
    SidAndSubjectHash(&'a str, &'a str),
}

/// A session row converted to the keyed subject index: its index value and its identity
/// sealed again, now with the subject.
#[derive(Debug)]
pub(crate) struct SubjectConversion {
    pub id_hash: String,
    pub subject_hash: String,
    pub identity: Vec<u8>,
}

/// The statements of a store, on bytes. Times are unix seconds as the database's 64-bit
/// integer; every method is one transaction (or one statement).
#[async_trait]
pub(crate) trait Backend: Send + Sync + fmt::Debug {
    /// The stored master-key check value.
    async fn master_key_check(&self) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores `value` as the check value unless one exists; returns the stored one (of
    /// instances initializing an empty store at once, the first writer wins).
    async fn init_master_key_check(&self, value: &[u8]) -> Result<Vec<u8>, StoreError>;

    // ---- keys ----
    /// Under the key lock, inserts the keys that `wanted` still wants, each `active` if its
    /// algorithm has no active key, else `next` activating at `now + delay_secs`.
    async fn insert_keys(
        &self,
        keys: &[NewKey],
        now: u64,
        delay_secs: u64,
        wanted: &KeyFilter<'_>,
    ) -> Result<Vec<KeyInfo>, StoreError>;
    /// Every key, ordered by algorithm, creation time, kid.
    async fn load_keys(&self) -> Result<Vec<KeyInfo>, StoreError>;
    /// Under the key lock: loads every key, asks `plan`, applies its edits. Returns the keys
    /// as loaded and the edits applied.
    async fn edit_keys(
        &self,
        plan: &KeyPlanner<'_>,
    ) -> Result<(Vec<KeyInfo>, Vec<KeyEdit>), StoreError>;
    /// Every key with its public JWK (text).
    async fn public_keys(&self) -> Result<Vec<(KeyInfo, String)>, StoreError>;
    /// kid and sealed private key of the active key of `alg`.
    async fn active_private_key(
        &self,
        alg: KeyAlg,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError>;
    /// Every key of `alg` (any state) with its sealed private key, newest first.
    async fn private_keys(&self, alg: KeyAlg) -> Result<Vec<(KeyInfo, Vec<u8>)>, StoreError>;

    // ---- providers ----
    /// Inserts, or with `replace` upserts (keeping `created_at`), a provider; returns the
    /// stored `created_at`. Without `replace` an existing name is
    /// [`StoreError::ProviderExists`].
    async fn put_provider(&self, row: &ProviderRow, replace: bool) -> Result<i64, StoreError>;
    async fn get_provider(&self, name: &str) -> Result<Option<ProviderRow>, StoreError>;
    /// Every provider, ordered by name.
    async fn list_providers(&self) -> Result<Vec<ProviderRow>, StoreError>;
    /// The providers whose registration is stored as JSON (by an earlier version), not typed.
    async fn unconverted_providers(&self) -> Result<Vec<ProviderRow>, StoreError>;
    /// Stores `conversion` for provider `name` if its row still holds `response`, untyped.
    async fn convert_provider(
        &self,
        name: &str,
        response: &str,
        conversion: &ProviderConversion,
    ) -> Result<(), StoreError>;
    /// `false` if there was none.
    async fn delete_provider(&self, name: &str) -> Result<bool, StoreError>;

    // ---- login states ----
    async fn put_login_state(
        &self,
        hash: &str,
        provider: &str,
        sealed: &[u8],
        created_at: i64,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// Deletes and returns (`record`, `expires_at`), atomically.
    async fn take_login_state(&self, hash: &str) -> Result<Option<(Vec<u8>, i64)>, StoreError>;

    // ---- sessions ----
    /// `false` if a session with this id hash exists already.
    async fn create_session(&self, hash: &str, row: &SessionRow) -> Result<bool, StoreError>;
    /// The session unless expired at `now`.
    async fn get_session(&self, hash: &str, now: i64) -> Result<Option<SessionRow>, StoreError>;
    async fn touch_session(&self, hash: &str, now: i64, idle: i64) -> Result<(), StoreError>;
    /// [`Backend::touch_session`] of many sessions: `(id hash, now, idle expiry)` each.
    async fn touch_sessions(&self, touches: &[(String, i64, i64)]) -> Result<(), StoreError>;
    /// Compare-and-swap on `version`; `true` if this call updated the row.
    async fn update_session_tokens(
        &self,
        hash: &str,
        update: &TokenUpdate,
    ) -> Result<bool, StoreError>;
    /// Replaces the sealed application data of a session live at `now`; `true` if it was.
    async fn set_session_app_data(
        &self,
        hash: &str,
        app_data: Option<&[u8]>,
        now: i64,
    ) -> Result<bool, StoreError>;
    async fn delete_session(&self, hash: &str) -> Result<bool, StoreError>;
    /// Deletes the matching sessions of `provider`; returns their id hashes.
    async fn delete_sessions_for(
        &self,
        provider: &str,
        target: LogoutTarget<'_>,
    ) -> Result<Vec<String>, StoreError>;
    /// Up to `limit` sessions whose subject is not converted to its keyed hash yet, with id
    /// hashes above `after`, in id hash order.
    async fn unconverted_sessions(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<Vec<(String, SessionRow)>, StoreError>;
    /// Stores converted sessions (each only if still unconverted), in one transaction: the
    /// index value, the identity with the subject, and no clear subject or personal data.
    async fn convert_sessions(&self, rows: &[SubjectConversion]) -> Result<(), StoreError>;
    async fn count_sessions(&self, now: i64) -> Result<i64, StoreError>;
    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError>;
    /// `true` the first time (`provider`, `jti`) is recorded.
    async fn remember_logout_jti(
        &self,
        provider: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError>;

    /// Id hashes of the sessions deleted in the last `within_ms` milliseconds (the database's
    /// clock), at most [`crate::sql::MAX_RECENT_ENDS`].
    async fn recently_ended_sessions(&self, within_ms: i64) -> Result<Vec<String>, StoreError>;
    /// Takes a token from `client`'s login bucket (capacity `burst`, refilled at `per_ms`
    /// tokens per ms): whether one was taken, and the tokens left.
    async fn take_login_token(
        &self,
        client: &str,
        burst: f64,
        per_ms: f64,
    ) -> Result<(bool, f64), StoreError>;

    /// Closes the connections.
    async fn close(&self);
}

/// One schema migration of a backend (`migrations/<backend>/NNNN_*.sql`).
pub(crate) struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

/// Refuses a store whose schema is newer than this build's migrations know.
pub(crate) fn check_schema_version(
    applied: &[i64],
    known: impl Iterator<Item = i64>,
    url: &crate::url::StoreUrl,
) -> Result<(), StoreError> {
    let known = known.max().unwrap_or(0);
    match applied.iter().max() {
        Some(&newest) if newest > known => Err(StoreError::Unsupported {
            what: format!(
                "store {url} has schema version {newest}, newer than this build knows ({known}); \
                 upgrade relier"
            ),
        }),
        _ => Ok(()),
    }
}

/// The `meta` row holding the master-key check value.
pub(crate) const CHECK_NAME: &str = "master_key_check";

// ---- value conversions, shared by the backends and the encryption layer ----

pub(crate) fn to_db_time(t: u64) -> Result<i64, StoreError> {
    i64::try_from(t).map_err(|_| StoreError::Invalid {
        what: "time",
        reason: format!("{t} is out of range"),
    })
}

pub(crate) fn opt_to_db_time(t: Option<u64>) -> Result<Option<i64>, StoreError> {
    t.map(to_db_time).transpose()
}

pub(crate) fn from_db_time(t: i64) -> Result<u64, StoreError> {
    u64::try_from(t).map_err(|_| StoreError::db(format!("negative time {t} in store")))
}

pub(crate) fn opt_from_db_time(t: Option<i64>) -> Result<Option<u64>, StoreError> {
    t.map(from_db_time).transpose()
}

pub(crate) fn parse_alg(s: &str) -> Result<Algorithm, StoreError> {
    Algorithm::from_str(s).map_err(|_| StoreError::db(format!("unknown algorithm {s:?} in store")))
}

fn parse_key_alg(key_use: &str, alg: &str) -> Result<KeyAlg, StoreError> {
    let key_use = KeyUse::from_stored(key_use)
        .ok_or_else(|| StoreError::db(format!("unknown key use {key_use:?} in store")))?;
    KeyAlg::with_use(key_use, alg)
        .map_err(|_| StoreError::db(format!("algorithm {alg:?} of a {key_use} key in store")))
}

fn parse_key_state(s: &str) -> Result<KeyState, StoreError> {
    KeyState::from_stored(s)
        .ok_or_else(|| StoreError::db(format!("unknown key state {s:?} in store")))
}

/// Typed column access, one implementation per database row type.
pub(crate) trait Columns {
    fn text(&self, col: &str) -> Result<String, StoreError>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn int(&self, col: &str) -> Result<i64, StoreError>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError>;
    fn bytes(&self, col: &str) -> Result<Vec<u8>, StoreError>;
    fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

macro_rules! impl_columns {
    ($row:ty) => {
        impl $crate::backend::Columns for $row {
            fn text(&self, col: &str) -> Result<String, StoreError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn int(&self, col: &str) -> Result<i64, StoreError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn bytes(&self, col: &str) -> Result<Vec<u8>, StoreError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>, StoreError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
        }
    };
}
impl_columns!(sqlx::sqlite::SqliteRow);
impl_columns!(sqlx::postgres::PgRow);

pub(crate) const KEY_COLUMNS: &str =
    "kid, key_use, alg, state, created_at, activates_at, retired_at, grace_until";
pub(crate) const PROVIDER_COLUMNS: &str = "name, issuer, client_id, auth_method, redirect_uris, \
    scopes, id_token_alg, signing_alg, jwks_mode, jwks_uri, tls_cert_path, tls_key_path, \
    registration_client_uri, provider_metadata, registration, registered, \
    client_secret_expires_at, client_secret, registration_access_token, created_at, updated_at";
pub(crate) const SESSION_COLUMNS: &str = "provider, iss, sub, sid, email, name, claims, \
    access_token, refresh_token, id_token, access_expires_at, csrf_token, created_at, \
    last_seen_at, idle_expires_at, absolute_expires_at, version, identity, dpop_key, app_data, \
    subject_hash";

/// The columns of a provider row as written, in parameter order (`$1`…`$21`).
macro_rules! provider_insert {
    () => {
        "INSERT INTO providers (name, issuer, client_id, auth_method, redirect_uris, scopes, \
         id_token_alg, signing_alg, jwks_mode, jwks_uri, tls_cert_path, tls_key_path, \
         registration_client_uri, provider_metadata, registration, registered, \
         client_secret_expires_at, client_secret, registration_access_token, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18, $19, $20, $21) ON CONFLICT (name) DO "
    };
}

/// `UPDATE` of a provider on replace: every column but its name and `created_at`.
pub(crate) const PROVIDER_UPSERT: &str = concat!(
    provider_insert!(),
    "UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id, \
    auth_method = excluded.auth_method, redirect_uris = excluded.redirect_uris, \
    scopes = excluded.scopes, id_token_alg = excluded.id_token_alg, \
    signing_alg = excluded.signing_alg, jwks_mode = excluded.jwks_mode, \
    jwks_uri = excluded.jwks_uri, tls_cert_path = excluded.tls_cert_path, \
    tls_key_path = excluded.tls_key_path, \
    registration_client_uri = excluded.registration_client_uri, \
    provider_metadata = excluded.provider_metadata, registration = excluded.registration, \
    registered = excluded.registered, \
    client_secret_expires_at = excluded.client_secret_expires_at, \
    client_secret = excluded.client_secret, \
    registration_access_token = excluded.registration_access_token, \
    updated_at = excluded.updated_at RETURNING created_at"
);

/// The same without replacing: no row when the name exists.
pub(crate) const PROVIDER_INSERT: &str =
    concat!(provider_insert!(), "NOTHING RETURNING created_at");

/// Converts a registration stored as JSON by an earlier version (`$4`, the row's as read) of
/// provider `$5`: `$1` the typed encoding, `$2` what stays in `registration`, `$3`
/// `client_secret_expires_at`. Only if the row is still as read.
pub(crate) const PROVIDER_CONVERT: &str = "UPDATE providers SET registered = $1, \
    registration = $2, client_secret_expires_at = $3 WHERE registration = $4 AND name = $5 \
    AND registered IS NULL";

/// Up to `$2` sessions not converted to the keyed subject index, id hashes above `$1`.
pub(crate) static UNCONVERTED_SESSIONS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| {
        format!(
            "SELECT id_hash, {SESSION_COLUMNS} FROM sessions WHERE subject_hash IS NULL \
             AND id_hash > $1 ORDER BY id_hash LIMIT $2"
        )
    });

/// Converts session `$3` (if still unconverted): index value `$1`, identity `$2` with the
/// subject; no clear subject or personal data left.
pub(crate) const CONVERT_SESSION: &str = "UPDATE sessions SET subject_hash = $1, identity = $2, \
    sub = '', email = NULL, name = NULL, claims = '{}' WHERE id_hash = $3 \
    AND subject_hash IS NULL";

/// The live session with this id hash (`$1`) at `$2`, on either backend.
pub(crate) static SELECT_SESSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = $1 \
         AND idle_expires_at > $2 AND absolute_expires_at > $2"
    )
});

/// Stores a login state (`$1` state hash, `$2` provider, `$3` sealed record, `$4` created,
/// `$5` expires), replacing one of the same hash, on either backend.
pub(crate) const PUT_LOGIN_STATE: &str = "INSERT INTO login_states (state_hash, provider, \
     record, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (state_hash) DO \
     UPDATE SET provider = excluded.provider, record = excluded.record, \
     created_at = excluded.created_at, expires_at = excluded.expires_at";

/// Deletes and returns the login state of hash `$1`: one statement, so of concurrent takers
/// exactly one sees the row.
pub(crate) const TAKE_LOGIN_STATE: &str =
    "DELETE FROM login_states WHERE state_hash = $1 RETURNING record, expires_at";

/// Inserts a session (`$1` id hash, then [`SESSION_COLUMNS`] in order) unless one of the same
/// hash exists, on either backend.
pub(crate) static INSERT_SESSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO sessions (id_hash, {SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
         $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) \
         ON CONFLICT (id_hash) DO NOTHING"
    )
});

pub(crate) fn key_info(row: &impl Columns) -> Result<KeyInfo, StoreError> {
    Ok(KeyInfo {
        kid: row.text("kid")?,
        alg: parse_key_alg(&row.text("key_use")?, &row.text("alg")?)?,
        state: parse_key_state(&row.text("state")?)?,
        created_at: from_db_time(row.int("created_at")?)?,
        activates_at: opt_from_db_time(row.opt_int("activates_at")?)?,
        retired_at: opt_from_db_time(row.opt_int("retired_at")?)?,
        grace_until: opt_from_db_time(row.opt_int("grace_until")?)?,
    })
}

pub(crate) fn provider_row(row: &impl Columns) -> Result<ProviderRow, StoreError> {
    Ok(ProviderRow {
        name: row.text("name")?,
        issuer: row.text("issuer")?,
        client_id: row.text("client_id")?,
        auth_method: row.text("auth_method")?,
        redirect_uris: row.text("redirect_uris")?,
        scopes: row.text("scopes")?,
        id_token_alg: row.opt_text("id_token_alg")?,
        signing_alg: row.opt_text("signing_alg")?,
        jwks_mode: row.opt_text("jwks_mode")?,
        jwks_uri: row.opt_text("jwks_uri")?,
        tls_cert_path: row.opt_text("tls_cert_path")?,
        tls_key_path: row.opt_text("tls_key_path")?,
        registration_client_uri: row.opt_text("registration_client_uri")?,
        provider_metadata: row.opt_text("provider_metadata")?,
        registration: row.opt_text("registration")?,
        registered: row.opt_text("registered")?,
        client_secret_expires_at: row.opt_int("client_secret_expires_at")?,
        client_secret: row.opt_bytes("client_secret")?,
        registration_access_token: row.opt_bytes("registration_access_token")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(crate) fn session_row(row: &impl Columns) -> Result<SessionRow, StoreError> {
    Ok(SessionRow {
        provider: row.text("provider")?,
        iss: row.text("iss")?,
        sub: row.text("sub")?,
        sid: row.opt_text("sid")?,
        email: row.opt_text("email")?,
        name: row.opt_text("name")?,
        claims: row.text("claims")?,
        access_token: row.opt_bytes("access_token")?,
        refresh_token: row.opt_bytes("refresh_token")?,
        id_token: row.opt_bytes("id_token")?,
        access_expires_at: row.opt_int("access_expires_at")?,
        csrf_token: row.bytes("csrf_token")?,
        created_at: row.int("created_at")?,
        last_seen_at: row.int("last_seen_at")?,
        idle_expires_at: row.int("idle_expires_at")?,
        absolute_expires_at: row.int("absolute_expires_at")?,
        version: row.int("version")?,
        identity: row.opt_bytes("identity")?,
        dpop_key: row.opt_bytes("dpop_key")?,
        app_data: row.opt_bytes("app_data")?,
        subject_hash: row.opt_text("subject_hash")?,
    })
}
