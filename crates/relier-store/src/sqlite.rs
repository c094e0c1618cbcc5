//! The SQLite store (sqlx, bundled SQLite).
//!
//! - WAL journal, `busy_timeout` [`BUSY_TIMEOUT`], foreign keys on, `synchronous=FULL`.
//! - Every change is one transaction begun with `BEGIN IMMEDIATE`: it takes the write lock up
//!   front (waiting up to the busy timeout), so concurrent CLI processes serialize instead of
//!   failing with `SQLITE_BUSY` when a deferred read transaction tries to upgrade.
//! - Migrations (`migrations/sqlite/NNNN_*.sql`, embedded) and the master-key check run in one
//!   such transaction on open. sqlx's own migrator is not used: it applies migrations in
//!   deferred transactions, so two processes opening a fresh store at once could both try to
//!   apply the same migration.
//! - Private files: the database file is created 0600 (its directories 0700) before SQLite
//!   opens it, so the `-wal`/`-shm` files SQLite derives from it are 0600 too.

mod gateway;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use relier_core::{AuthMethod, Secret};
use relier_jose::{Algorithm, Jwk, JwkSet, SigningKey, b64};
use serde_json::Value;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Executor as _, Row as _, Sqlite, SqliteConnection, Transaction};

use crate::crypto::{CHECK_AAD, CHECK_PLAINTEXT, Cipher, key_aad, provider_aad};
use crate::error::StoreError;
use crate::lifecycle::{self, Transition};
use crate::master_key::{
    CreatedKeyFile, MasterKey, MasterKeyOrigin, MasterKeySource, default_key_file, read_key_file,
    read_or_create_key_file, resolve_given,
};
use crate::model::{
    JwksMode, KeyChange, KeyInfo, KeyState, ProviderInfo, ProviderRecord, secret_expiry,
    validate_provider_name,
};
use crate::private_files;
use crate::session::{LoginState, SessionRecord};
use crate::store::{KeyPolicy, Store};
use crate::url::StoreUrl;

/// How long a writer waits for another process's write lock before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The connections one handle keeps (a CLI needs one; a gateway a few readers).
const MAX_CONNECTIONS: u32 = 4;

struct Migration {
    version: i64,
    description: &'static str,
    sql: &'static str,
}

/// Schema migrations, in order. Append only; never edit an applied one.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "init: meta, keys, providers",
        sql: include_str!("../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        description: "gateway: login_states, sessions, logout_jtis",
        sql: include_str!("../migrations/sqlite/0002_gateway.sql"),
    },
    Migration {
        version: 3,
        description: "sessions: personal data encrypted (identity)",
        sql: include_str!("../migrations/sqlite/0003_session_identity.sql"),
    },
];

const CHECK_NAME: &str = "master_key_check";
const KEY_COLUMNS: &str = "kid, alg, state, created_at, activates_at, retired_at, grace_until";
const PROVIDER_COLUMNS: &str = "name, issuer, client_id, auth_method, redirect_uris, scopes, \
    id_token_alg, signing_alg, jwks_mode, jwks_uri, tls_cert_path, tls_key_path, \
    registration_client_uri, provider_metadata, registration, client_secret, \
    registration_access_token, created_at, updated_at";
const CLIENT_SECRET: &str = "client_secret";
const REGISTRATION_ACCESS_TOKEN: &str = "registration_access_token";

/// An open SQLite store. Cheap to share (`&self` methods; the pool is internally shared).
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    url: StoreUrl,
    cipher: Cipher,
    policy: KeyPolicy,
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `url` with the default [`KeyPolicy`]; see
    /// [`SqliteStore::open_with`].
    ///
    /// # Errors
    /// As [`SqliteStore::open_with`].
    pub async fn open(
        url: &StoreUrl,
        source: MasterKeySource,
    ) -> Result<(Self, Option<CreatedKeyFile>), StoreError> {
        Self::open_with(url, source, KeyPolicy::default()).await
    }

    /// Opens (creating the file, mode 0600, and its parent directories, 0700, if needed) the
    /// SQLite store at `url`, applies pending migrations, and verifies the master key against
    /// the store's check value (writing it on a fresh store). With
    /// [`MasterKeySource::BesideDatabase`] the key file `<db>.key` is read, or created for a
    /// store that has no check value yet; the returned [`CreatedKeyFile`] says so, once.
    ///
    /// Does not advance the key lifecycle: call [`Store::advance_keys`] with the current time.
    ///
    /// # Errors
    /// [`StoreError::Unsupported`] for a non-SQLite URL, [`StoreError::MasterKey`],
    /// [`StoreError::WrongMasterKey`], [`StoreError::Database`].
    pub async fn open_with(
        url: &StoreUrl,
        source: MasterKeySource,
        policy: KeyPolicy,
    ) -> Result<(Self, Option<CreatedKeyFile>), StoreError> {
        let Some(path) = url.sqlite_path().map(Path::to_path_buf) else {
            return Err(unsupported_backend(url));
        };
        let given = blocking(move || resolve_given(&source)).await?;
        let db = path.clone();
        blocking(move || create_private_database(&db)).await?;

        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Full);
        let pool = connect(options)
            .await
            .map_err(|e| StoreError::db(format!("cannot open {url}: {e}")))?;

        let opened = initialize(&pool, url, &path, given).await;
        match opened {
            Ok((cipher, created)) => Ok((
                SqliteStore {
                    pool,
                    url: url.clone(),
                    cipher,
                    policy,
                },
                created,
            )),
            Err(e) => {
                pool.close().await;
                Err(e)
            }
        }
    }

    /// The key policy in force.
    #[must_use]
    pub fn policy(&self) -> KeyPolicy {
        self.policy
    }

    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn new_key(
        &self,
        alg: Algorithm,
        rsa_bits: Option<usize>,
    ) -> Result<PreparedKey, StoreError> {
        check_key_alg(alg)?;
        let key =
            blocking(move || SigningKey::generate(alg, rsa_bits).map_err(StoreError::from)).await?;
        let kid = key.thumbprint_sha256()?;
        let key = key.with_kid(kid.clone());
        let public_jwk = serde_json::to_string(&key.public_jwk()?)
            .map_err(|e| StoreError::crypto(format!("encoding the public JWK: {e}")))?;
        let der = key.to_pkcs8_der()?;
        let sealed = self.cipher.seal(&der, &key_aad(&kid))?;
        Ok(PreparedKey {
            kid,
            alg,
            public_jwk,
            sealed,
        })
    }

    fn grace(&self) -> u64 {
        self.policy.grace_secs
    }
}

struct PreparedKey {
    kid: String,
    alg: Algorithm,
    public_jwk: String,
    sealed: Vec<u8>,
}

fn unsupported_backend(url: &StoreUrl) -> StoreError {
    StoreError::Unsupported {
        what: format!(
            "store {url}: PostgreSQL stores are not yet supported in this build; use \
             sqlite://PATH"
        ),
    }
}

/// Creates the database's missing parent directories (0700) and the database file itself
/// (0600) before SQLite opens it, so that its `-wal`, `-shm` and `-journal` files, which SQLite
/// creates with the database file's mode, are private too (issue 7, item 5). An existing
/// database keeps its mode ([`crate::lax_permissions`] reports a lax one).
fn create_private_database(path: &Path) -> Result<(), StoreError> {
    if let Some(dir) = path.parent() {
        private_files::create_dir_all(dir).map_err(|e| {
            StoreError::db(format!("cannot create directory {}: {e}", dir.display()))
        })?;
    }
    private_files::create_if_missing(path)
        .map_err(|e| StoreError::db(format!("cannot create {}: {e}", path.display())))
}

/// Runs blocking work (key generation, key-file I/O) off the async executor.
async fn blocking<T, F>(f: F) -> Result<T, StoreError>
where
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::db(format!("background task failed: {e}")))?
}

/// Opens the pool. Switching a new database file to WAL takes an exclusive lock that SQLite's
/// busy timeout does not wait for, so several processes creating the same store at once can
/// see `SQLITE_BUSY` here: that is retried, with a growing pause, for up to [`BUSY_TIMEOUT`].
async fn connect(options: SqliteConnectOptions) -> Result<SqlitePool, sqlx::Error> {
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(5);
    loop {
        let result = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(BUSY_TIMEOUT.saturating_mul(3))
            .connect_with(options.clone())
            .await;
        match result {
            Err(sqlx::Error::Database(e))
                if e.code().as_deref() == Some("5") && started.elapsed() < BUSY_TIMEOUT =>
            {
                tokio::time::sleep(pause).await;
                pause = pause
                    .saturating_mul(2)
                    .min(std::time::Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// Migrations and the master-key check, in one write transaction.
async fn initialize(
    pool: &SqlitePool,
    url: &StoreUrl,
    path: &Path,
    given: Option<(MasterKey, MasterKeyOrigin)>,
) -> Result<(Cipher, Option<CreatedKeyFile>), StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    migrate(&mut tx, url).await?;
    let check: Option<Vec<u8>> = sqlx::query_scalar("SELECT value FROM meta WHERE name = $1")
        .bind(CHECK_NAME)
        .fetch_optional(&mut *tx)
        .await?;

    let (key, created) = match given {
        Some((key, _)) => (key, None),
        None => {
            let key_path = default_key_file(path);
            let has_check = check.is_some();
            let (key, origin) = blocking(move || match read_key_file(&key_path)? {
                Some(key) => Ok((key, MasterKeyOrigin::File(key_path))),
                None if has_check => Err(StoreError::master(format!(
                    "the store was initialized with a master key, but its key file {} is \
                     missing: restore it, or give the key with RELIER_MASTER_KEY or a key file",
                    key_path.display()
                ))),
                None => read_or_create_key_file(&key_path),
            })
            .await?;
            let created = match origin {
                MasterKeyOrigin::CreatedFile(path) => Some(CreatedKeyFile { path }),
                _ => None,
            };
            (key, created)
        }
    };
    let cipher = Cipher::new(&key)?;
    match check {
        Some(sealed) => {
            let ok = cipher
                .open(&sealed, CHECK_AAD, "master key check value")
                .is_ok_and(|plain| plain.as_slice() == CHECK_PLAINTEXT);
            if !ok {
                return Err(StoreError::WrongMasterKey {
                    store: url.to_string(),
                });
            }
        }
        None => {
            let sealed = cipher.seal(CHECK_PLAINTEXT, CHECK_AAD)?;
            sqlx::query("INSERT INTO meta (name, value) VALUES ($1, $2)")
                .bind(CHECK_NAME)
                .bind(sealed)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok((cipher, created))
}

async fn migrate(conn: &mut SqliteConnection, url: &StoreUrl) -> Result<(), StoreError> {
    // A plain (multi-statement) &str through Executor; `sqlx::raw_sql` would make this
    // future not `Send` for every lifetime (sqlx's signature), and `open` must be spawnable.
    conn.execute(
        "CREATE TABLE IF NOT EXISTS relier_migrations (\
             version INTEGER NOT NULL PRIMARY KEY, \
             description TEXT NOT NULL)",
    )
    .await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM relier_migrations")
        .fetch_all(&mut *conn)
        .await?;
    let known = MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0);
    if let Some(&newest) = applied.iter().max()
        && newest > known
    {
        return Err(StoreError::Unsupported {
            what: format!(
                "store {url} has schema version {newest}, newer than this build knows ({known}); \
                 upgrade relier"
            ),
        });
    }
    for m in MIGRATIONS {
        if applied.contains(&m.version) {
            continue;
        }
        conn.execute(m.sql).await?;
        sqlx::query("INSERT INTO relier_migrations (version, description) VALUES ($1, $2)")
            .bind(m.version)
            .bind(m.description)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

// ---- value conversions ----

fn to_db_time(t: u64) -> Result<i64, StoreError> {
    i64::try_from(t).map_err(|_| StoreError::Invalid {
        what: "time",
        reason: format!("{t} is out of range"),
    })
}

fn opt_to_db_time(t: Option<u64>) -> Result<Option<i64>, StoreError> {
    t.map(to_db_time).transpose()
}

fn from_db_time(t: i64) -> Result<u64, StoreError> {
    u64::try_from(t).map_err(|_| StoreError::db(format!("negative time {t} in store")))
}

fn opt_from_db_time(t: Option<i64>) -> Result<Option<u64>, StoreError> {
    t.map(from_db_time).transpose()
}

fn parse_alg(s: &str) -> Result<Algorithm, StoreError> {
    Algorithm::from_str(s).map_err(|_| StoreError::db(format!("unknown algorithm {s:?} in store")))
}

fn check_key_alg(alg: Algorithm) -> Result<(), StoreError> {
    if alg.is_rsa() || alg.is_ecdsa() || alg == Algorithm::EdDSA {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            what: "key algorithm",
            reason: format!(
                "{alg} is not an asymmetric signature algorithm (RS*, PS*, ES*, EdDSA)"
            ),
        })
    }
}

fn key_info(row: &SqliteRow) -> Result<KeyInfo, StoreError> {
    Ok(KeyInfo {
        kid: row.try_get("kid")?,
        alg: parse_alg(row.try_get("alg")?)?,
        state: KeyState::from_str(row.try_get("state")?)?,
        created_at: from_db_time(row.try_get("created_at")?)?,
        activates_at: opt_from_db_time(row.try_get("activates_at")?)?,
        retired_at: opt_from_db_time(row.try_get("retired_at")?)?,
        grace_until: opt_from_db_time(row.try_get("grace_until")?)?,
    })
}

async fn load_keys(conn: &mut SqliteConnection) -> Result<Vec<KeyInfo>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM keys ORDER BY alg, created_at, kid"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(key_info).collect()
}

async fn load_key(conn: &mut SqliteConnection, kid: &str) -> Result<KeyInfo, StoreError> {
    let row = sqlx::query(&format!("SELECT {KEY_COLUMNS} FROM keys WHERE kid = $1"))
        .bind(kid)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "key",
            name: kid.to_owned(),
        })?;
    key_info(&row)
}

async fn has_active(conn: &mut SqliteConnection, alg: Algorithm) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM keys WHERE alg = $1 AND state = $2")
        .bind(alg.as_str())
        .bind(KeyState::Active.as_str())
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

async fn insert_key(
    conn: &mut SqliteConnection,
    key: &PreparedKey,
    now: u64,
    delay_secs: u64,
) -> Result<KeyInfo, StoreError> {
    let active = has_active(conn, key.alg).await?;
    let (state, activates_at) = lifecycle::new_key_state(active, now, delay_secs);
    sqlx::query(
        "INSERT INTO keys (kid, alg, state, created_at, activates_at, retired_at, grace_until, \
         public_jwk, private_key) VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $7)",
    )
    .bind(&key.kid)
    .bind(key.alg.as_str())
    .bind(state.as_str())
    .bind(to_db_time(now)?)
    .bind(opt_to_db_time(activates_at)?)
    .bind(&key.public_jwk)
    .bind(&key.sealed)
    .execute(&mut *conn)
    .await?;
    Ok(KeyInfo {
        kid: key.kid.clone(),
        alg: key.alg,
        state,
        created_at: now,
        activates_at,
        retired_at: None,
        grace_until: None,
    })
}

async fn apply(conn: &mut SqliteConnection, t: &Transition) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE keys SET state = $1, retired_at = COALESCE($2, retired_at), \
         grace_until = COALESCE($3, grace_until) WHERE kid = $4 AND state = $5",
    )
    .bind(t.to.as_str())
    .bind(opt_to_db_time(t.retired_at)?)
    .bind(opt_to_db_time(t.grace_until)?)
    .bind(&t.kid)
    .bind(t.from.as_str())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::db(format!(
            "key {} changed concurrently ({} → {})",
            t.kid, t.from, t.to
        )))
    }
}

/// RSA modulus size of a stored public JWK, for rotating to a key of the same size.
fn rsa_bits(public_jwk: &str) -> Option<usize> {
    let jwk = Jwk::from_json(public_jwk).ok()?;
    let n = b64::decode(jwk.n.as_deref()?).ok()?;
    Some(n.len().saturating_mul(8))
}

fn path_text(path: Option<&PathBuf>, what: &'static str) -> Result<Option<String>, StoreError> {
    path.map(|p| {
        p.to_str().map(str::to_owned).ok_or(StoreError::Invalid {
            what,
            reason: "the path is not valid UTF-8".to_owned(),
        })
    })
    .transpose()
}

fn json_text(value: Option<&Value>, what: &'static str) -> Result<Option<String>, StoreError> {
    value
        .map(|v| {
            serde_json::to_string(v).map_err(|e| StoreError::Invalid {
                what,
                reason: e.to_string(),
            })
        })
        .transpose()
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::db(format!("corrupt {what} in store: {e}")))
}

/// The registration response without its secrets.
fn strip_registration_secrets(registration: Option<&Value>) -> Option<Value> {
    registration.map(|v| {
        let mut v = v.clone();
        if let Value::Object(map) = &mut v {
            map.remove(CLIENT_SECRET);
            map.remove(REGISTRATION_ACCESS_TOKEN);
        }
        v
    })
}

impl SqliteStore {
    fn seal_secret(
        &self,
        secret: Option<&Secret>,
        name: &str,
        column: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        secret
            .map(|s| {
                self.cipher
                    .seal(s.expose().as_bytes(), &provider_aad(name, column))
            })
            .transpose()
    }

    fn open_secret(
        &self,
        sealed: Option<Vec<u8>>,
        name: &str,
        column: &str,
    ) -> Result<Option<Secret>, StoreError> {
        sealed
            .map(|sealed| {
                let plain = self.cipher.open(
                    &sealed,
                    &provider_aad(name, column),
                    &format!("{column} of provider {name}"),
                )?;
                std::str::from_utf8(&plain).map(Secret::new).map_err(|_| {
                    StoreError::crypto(format!("{column} of provider {name}: not UTF-8"))
                })
            })
            .transpose()
    }

    fn provider_record(&self, row: &SqliteRow) -> Result<ProviderRecord, StoreError> {
        let name: String = row.try_get("name")?;
        let auth_method: String = row.try_get("auth_method")?;
        let auth_method = AuthMethod::from_str(&auth_method)
            .map_err(|_| StoreError::db(format!("unknown auth method {auth_method:?} in store")))?;
        let opt_alg = |col: &str| -> Result<Option<Algorithm>, StoreError> {
            row.try_get::<Option<String>, _>(col)?
                .as_deref()
                .map(parse_alg)
                .transpose()
        };
        let redirect_uris: String = row.try_get("redirect_uris")?;
        let jwks_mode: Option<String> = row.try_get("jwks_mode")?;
        let provider_metadata: Option<String> = row.try_get("provider_metadata")?;
        let registration: Option<String> = row.try_get("registration")?;
        let client_secret: Option<Vec<u8>> = row.try_get(CLIENT_SECRET)?;
        let token: Option<Vec<u8>> = row.try_get(REGISTRATION_ACCESS_TOKEN)?;
        Ok(ProviderRecord {
            issuer: row.try_get("issuer")?,
            client_id: row.try_get("client_id")?,
            auth_method,
            redirect_uris: parse_json(&redirect_uris, "redirect_uris")?,
            scopes: row.try_get("scopes")?,
            id_token_alg: opt_alg("id_token_alg")?,
            signing_alg: opt_alg("signing_alg")?,
            jwks_mode: jwks_mode.as_deref().map(JwksMode::from_str).transpose()?,
            jwks_uri: row.try_get("jwks_uri")?,
            tls_cert_path: row
                .try_get::<Option<String>, _>("tls_cert_path")?
                .map(PathBuf::from),
            tls_key_path: row
                .try_get::<Option<String>, _>("tls_key_path")?
                .map(PathBuf::from),
            registration_client_uri: row.try_get("registration_client_uri")?,
            provider_metadata: provider_metadata
                .as_deref()
                .map(|t| parse_json(t, "provider_metadata"))
                .transpose()?,
            registration: registration
                .as_deref()
                .map(|t| parse_json(t, "registration"))
                .transpose()?,
            client_secret: self.open_secret(client_secret, &name, CLIENT_SECRET)?,
            registration_access_token: self.open_secret(token, &name, REGISTRATION_ACCESS_TOKEN)?,
            created_at: from_db_time(row.try_get("created_at")?)?,
            updated_at: from_db_time(row.try_get("updated_at")?)?,
            name,
        })
    }
}

fn provider_info(row: &SqliteRow) -> Result<ProviderInfo, StoreError> {
    let auth_method: String = row.try_get("auth_method")?;
    let redirect_uris: String = row.try_get("redirect_uris")?;
    let jwks_mode: Option<String> = row.try_get("jwks_mode")?;
    let registration: Option<String> = row.try_get("registration")?;
    let registration = registration
        .as_deref()
        .map(|t| parse_json(t, "registration"))
        .transpose()?;
    Ok(ProviderInfo {
        client_secret_expires_at: secret_expiry(registration.as_ref()),
        name: row.try_get("name")?,
        issuer: row.try_get("issuer")?,
        client_id: row.try_get("client_id")?,
        auth_method: AuthMethod::from_str(&auth_method)
            .map_err(|_| StoreError::db(format!("unknown auth method {auth_method:?} in store")))?,
        redirect_uris: parse_json(&redirect_uris, "redirect_uris")?,
        registration_client_uri: row.try_get("registration_client_uri")?,
        scopes: row.try_get("scopes")?,
        jwks_mode: jwks_mode.as_deref().map(JwksMode::from_str).transpose()?,
        jwks_uri: row.try_get("jwks_uri")?,
        created_at: from_db_time(row.try_get("created_at")?)?,
        updated_at: from_db_time(row.try_get("updated_at")?)?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    fn url(&self) -> &StoreUrl {
        &self.url
    }

    async fn generate_key(
        &self,
        alg: Algorithm,
        rsa_bits: Option<usize>,
        now: u64,
    ) -> Result<KeyInfo, StoreError> {
        // Key generation (seconds for big RSA keys) happens before the write lock is taken.
        let key = self.new_key(alg, rsa_bits).await?;
        let mut tx = self.write_tx().await?;
        let info = insert_key(&mut tx, &key, now, 0).await?;
        tx.commit().await?;
        Ok(info)
    }

    async fn rotate_keys(
        &self,
        alg: Option<Algorithm>,
        propagation_secs: u64,
        now: u64,
    ) -> Result<Vec<KeyInfo>, StoreError> {
        let active: Vec<(String, String)> =
            sqlx::query_as("SELECT alg, public_jwk FROM keys WHERE state = $1 ORDER BY alg")
                .bind(KeyState::Active.as_str())
                .fetch_all(&self.pool)
                .await?;
        let mut targets: Vec<(Algorithm, Option<usize>)> = Vec::new();
        for (a, jwk) in &active {
            let a = parse_alg(a)?;
            if alg.is_none_or(|wanted| wanted == a) {
                targets.push((a, if a.is_rsa() { rsa_bits(jwk) } else { None }));
            }
        }
        if let Some(wanted) = alg
            && targets.is_empty()
        {
            targets.push((wanted, None));
        }
        let mut prepared = Vec::with_capacity(targets.len());
        for (a, bits) in targets {
            prepared.push(self.new_key(a, bits).await?);
        }
        let mut tx = self.write_tx().await?;
        let mut out = Vec::with_capacity(prepared.len());
        for key in &prepared {
            out.push(insert_key(&mut tx, key, now, propagation_secs).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn advance_keys(&self, now: u64) -> Result<Vec<KeyChange>, StoreError> {
        // Cheap read first: most calls have nothing to do and need no write lock.
        let mut conn = self.pool.acquire().await?;
        if lifecycle::plan_advance(&load_keys(&mut conn).await?, now, self.grace()).is_empty() {
            return Ok(Vec::new());
        }
        drop(conn);
        let mut tx = self.write_tx().await?;
        let plan = lifecycle::plan_advance(&load_keys(&mut tx).await?, now, self.grace());
        for t in &plan {
            apply(&mut tx, t).await?;
        }
        tx.commit().await?;
        Ok(plan
            .into_iter()
            .map(|t| KeyChange {
                kid: t.kid,
                alg: t.alg,
                from: t.from,
                to: t.to,
            })
            .collect())
    }

    async fn retire_key(&self, kid: &str, now: u64) -> Result<KeyInfo, StoreError> {
        let mut tx = self.write_tx().await?;
        let key = load_key(&mut tx, kid).await?;
        let Some(t) = lifecycle::plan_retire(&key, now, self.grace()) else {
            return Ok(key);
        };
        apply(&mut tx, &t).await?;
        let key = load_key(&mut tx, kid).await?;
        tx.commit().await?;
        Ok(key)
    }

    async fn remove_key(&self, kid: &str, force: bool, now: u64) -> Result<KeyInfo, StoreError> {
        let mut tx = self.write_tx().await?;
        let key = load_key(&mut tx, kid).await?;
        lifecycle::check_remove(&key, force, now)?;
        sqlx::query("DELETE FROM keys WHERE kid = $1")
            .bind(kid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(key)
    }

    async fn list_keys(&self) -> Result<Vec<KeyInfo>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        load_keys(&mut conn).await
    }

    async fn jwks(&self, now: u64) -> Result<JwkSet, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS}, public_jwk FROM keys ORDER BY created_at DESC, kid"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut published = Vec::new();
        for row in &rows {
            let info = key_info(row)?;
            if !lifecycle::is_published(&info, now) {
                continue;
            }
            let text: String = row.try_get("public_jwk")?;
            // to_public() strips any private member, whatever is stored.
            let mut jwk = Jwk::from_json(&text)?.to_public();
            jwk.kid = Some(info.kid.clone());
            jwk.alg = Some(info.alg.as_str().to_owned());
            jwk.use_ = Some("sig".to_owned());
            jwk.key_ops = None;
            published.push((info.state, jwk));
        }
        // Active first (some consumers take the first key), then next, then retired.
        published.sort_by_key(|(state, _)| match state {
            KeyState::Active => 0u8,
            KeyState::Next => 1,
            KeyState::Retired => 2,
        });
        Ok(JwkSet {
            keys: published.into_iter().map(|(_, jwk)| jwk).collect(),
        })
    }

    async fn signing_key(&self, alg: Algorithm) -> Result<Option<SigningKey>, StoreError> {
        let row: Option<(String, Vec<u8>)> =
            sqlx::query_as("SELECT kid, private_key FROM keys WHERE alg = $1 AND state = $2")
                .bind(alg.as_str())
                .bind(KeyState::Active.as_str())
                .fetch_optional(&self.pool)
                .await?;
        let Some((kid, sealed)) = row else {
            return Ok(None);
        };
        let der = self
            .cipher
            .open(&sealed, &key_aad(&kid), &format!("private key {kid}"))?;
        let key = SigningKey::from_pkcs8_der(&der, Some(alg))?;
        if key.thumbprint_sha256()? != kid {
            return Err(StoreError::crypto(format!(
                "private key {kid} does not match its kid"
            )));
        }
        Ok(Some(key.with_kid(kid)))
    }

    async fn active_algs(&self) -> Result<Vec<Algorithm>, StoreError> {
        let algs: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT alg FROM keys WHERE state = $1 ORDER BY alg")
                .bind(KeyState::Active.as_str())
                .fetch_all(&self.pool)
                .await?;
        algs.iter().map(|a| parse_alg(a)).collect()
    }

    async fn put_provider(
        &self,
        record: &ProviderRecord,
        replace: bool,
        now: u64,
    ) -> Result<ProviderInfo, StoreError> {
        let name = record.name.as_str();
        validate_provider_name(name)?;
        let redirect_uris =
            serde_json::to_string(&record.redirect_uris).map_err(|e| StoreError::Invalid {
                what: "redirect_uris",
                reason: e.to_string(),
            })?;
        let registration = strip_registration_secrets(record.registration.as_ref());
        let registration = json_text(registration.as_ref(), "registration")?;
        let metadata = json_text(record.provider_metadata.as_ref(), "provider_metadata")?;
        let cert = path_text(record.tls_cert_path.as_ref(), "TLS certificate path")?;
        let tls_key = path_text(record.tls_key_path.as_ref(), "TLS key path")?;
        let client_secret = self.seal_secret(record.client_secret.as_ref(), name, CLIENT_SECRET)?;
        let token = self.seal_secret(
            record.registration_access_token.as_ref(),
            name,
            REGISTRATION_ACCESS_TOKEN,
        )?;
        let now_db = to_db_time(now)?;

        let mut tx = self.write_tx().await?;
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT created_at FROM providers WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        if existing.is_some() && !replace {
            return Err(StoreError::ProviderExists {
                name: name.to_owned(),
            });
        }
        let created_at = existing.unwrap_or(now_db);
        // An upsert, not delete + insert: rows that later reference the provider (the
        // gateway's sessions) survive a replace. created_at is kept.
        sqlx::query(&format!(
            "INSERT INTO providers ({PROVIDER_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19) ON CONFLICT (name) DO UPDATE SET {}",
            PROVIDER_COLUMNS
                .split(',')
                .map(str::trim)
                .filter(|c| !matches!(*c, "name" | "created_at"))
                .map(|c| format!("{c} = excluded.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(name)
        .bind(&record.issuer)
        .bind(&record.client_id)
        .bind(record.auth_method.as_str())
        .bind(&redirect_uris)
        .bind(&record.scopes)
        .bind(record.id_token_alg.map(|a| a.as_str()))
        .bind(record.signing_alg.map(|a| a.as_str()))
        .bind(record.jwks_mode.map(JwksMode::as_str))
        .bind(&record.jwks_uri)
        .bind(cert)
        .bind(tls_key)
        .bind(&record.registration_client_uri)
        .bind(metadata)
        .bind(registration)
        .bind(client_secret)
        .bind(token)
        .bind(created_at)
        .bind(now_db)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;

        let mut info = record.info();
        info.created_at = from_db_time(created_at)?;
        info.updated_at = now;
        Ok(info)
    }

    async fn get_provider(&self, name: &str) -> Result<Option<ProviderRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {PROVIDER_COLUMNS} FROM providers WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| self.provider_record(&row)).transpose()
    }

    async fn list_providers(&self) -> Result<Vec<ProviderInfo>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PROVIDER_COLUMNS} FROM providers ORDER BY name"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(provider_info).collect()
    }

    async fn delete_provider(&self, name: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM providers WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "provider",
                name: name.to_owned(),
            });
        }
        tx.commit().await?;
        Ok(())
    }

    async fn put_login_state(&self, state: &str, record: &LoginState) -> Result<(), StoreError> {
        self.gw_put_login_state(state, record).await
    }

    async fn take_login_state(
        &self,
        state: &str,
        now: u64,
    ) -> Result<Option<LoginState>, StoreError> {
        self.gw_take_login_state(state, now).await
    }

    async fn create_session(
        &self,
        session_id: &Secret,
        rec: &SessionRecord,
    ) -> Result<(), StoreError> {
        self.gw_create_session(session_id, rec).await
    }

    async fn get_session(
        &self,
        session_id: &Secret,
        now: u64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.gw_get_session(session_id, now).await
    }

    async fn touch_session(
        &self,
        session_id: &Secret,
        now: u64,
        idle_expires_at: u64,
    ) -> Result<(), StoreError> {
        self.gw_touch_session(session_id, now, idle_expires_at)
            .await
    }

    async fn update_session_tokens(
        &self,
        session_id: &Secret,
        expected_version: u64,
        access_token: Option<&Secret>,
        refresh_token: Option<&Secret>,
        id_token: Option<&Secret>,
        access_expires_at: Option<u64>,
    ) -> Result<bool, StoreError> {
        self.gw_update_session_tokens(
            session_id,
            expected_version,
            access_token,
            refresh_token,
            id_token,
            access_expires_at,
        )
        .await
    }

    async fn delete_session(&self, session_id: &Secret) -> Result<bool, StoreError> {
        self.gw_delete_session(session_id).await
    }

    async fn delete_sessions_for(
        &self,
        provider: &str,
        sid: Option<&str>,
        sub: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        self.gw_delete_sessions_for(provider, sid, sub).await
    }

    async fn count_sessions(&self, now: u64) -> Result<u64, StoreError> {
        self.gw_count_sessions(now).await
    }

    async fn purge_expired(&self, now: u64) -> Result<u64, StoreError> {
        self.gw_purge_expired(now).await
    }

    async fn remember_logout_jti(
        &self,
        provider: &str,
        jti: &str,
        expires_at: u64,
    ) -> Result<bool, StoreError> {
        self.gw_remember_logout_jti(provider, jti, expires_at).await
    }

    async fn close(&self) {
        if !self.pool.is_closed() {
            // Fold the WAL into the database file; a busy reader elsewhere just means a
            // partial checkpoint, which is fine.
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await;
        }
        self.pool.close().await;
    }
}

#[cfg(test)]
mod send_tests {
    use super::*;
    fn assert_send<T: Send>(_: &T) {}
    #[allow(dead_code, reason = "compile-time check")]
    async fn check(pool: SqlitePool, url: StoreUrl, mut conn: sqlx::pool::PoolConnection<Sqlite>) {
        let f = migrate(&mut conn, &url);
        assert_send(&f);
        let f = initialize(&pool, &url, Path::new("x"), None);
        assert_send(&f);
        let f = SqliteStore::open(&url, MasterKeySource::BesideDatabase);
        assert_send(&f);
        let f = crate::open(&url, MasterKeySource::BesideDatabase);
        assert_send(&f);
    }
}
