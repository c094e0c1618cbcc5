//! The SQLite backend (sqlx, bundled SQLite).
//!
//! - WAL journal, `busy_timeout` [`BUSY_TIMEOUT`], foreign keys on; `synchronous=FULL` for
//!   keys and registry, `synchronous=NORMAL` (no fsync per commit; a commit survives the
//!   process being killed, and may be lost to a power failure or an OS crash) for login states,
//!   sessions and the other short-lived rows, on a pool of their own.
//! - Every change is one transaction begun with `BEGIN IMMEDIATE`: it takes the write lock up
//!   front (waiting up to the busy timeout), so concurrent CLI processes serialize instead of
//!   failing with `SQLITE_BUSY` when a deferred read transaction tries to upgrade. The same
//!   lock serializes key changes, so it is also the key lock of [`crate::sql`].
//! - Migrations (`migrations/sqlite/NNNN_*.sql`, embedded) run in one such transaction on
//!   open. sqlx's own migrator is not used: it applies migrations in deferred transactions, so
//!   two processes opening a fresh store at once could both try to apply the same migration.
//! - Private files: the database file is created 0600 (its directories 0700) before SQLite
//!   opens it, so the `-wal`/`-shm` files SQLite derives from it are 0600 too.
//! - The statements are [`crate::sql`]'s; encryption is above ([`crate::sealed`]).

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Executor as _, Sqlite, SqliteConnection, Transaction};

use crate::backend::{Migration, check_schema_version};
use crate::error::StoreError;
use crate::model::KeyInfo;
use crate::private_files;
use crate::sealed::blocking;
use crate::sql::impl_sql_backend;
use crate::sqlite_reader::SessionReader;
use crate::sqlite_writer::SessionWriter;
use crate::url::StoreUrl;

/// How long a writer waits for another process's write lock before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The connections one handle keeps (a CLI needs one; a gateway a few readers).
const MAX_CONNECTIONS: u32 = 2;
const MAX_SESSION_CONNECTIONS: u32 = 4;
/// No memory map: pages are read with pread (SQLite's own default, stated so that a build with
/// another default does not change it). In WAL mode a read transaction that follows any commit
/// drops the connection's page cache and unmaps its whole map (SQLite 3.46 `pager.c`,
/// `pagerBeginReadTransaction`). With a map, each of those is a `munmap` on a request thread:
/// the process's mmap lock taken for writing (stalling every other thread's page faults) and
/// a TLB shootdown on every core. Under a steady stream of session writes that was the largest
/// part of `/auth/check`'s tail on cache misses (docs/benchmarks.md, "Sessions that miss the
/// cache: the mmap").
const MMAP_SIZE: &str = "0";

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
    Migration {
        version: 4,
        description: "cluster: session_ends, login_buckets",
        sql: include_str!("../migrations/sqlite/0004_cluster.sql"),
    },
    Migration {
        version: 5,
        description: "sessions: DPoP key (sealed)",
        sql: include_str!("../migrations/sqlite/0005_session_dpop_key.sql"),
    },
    Migration {
        version: 6,
        description: "keys: use (sig, enc, entity); one active key per use and algorithm",
        sql: include_str!("../migrations/sqlite/0006_key_use.sql"),
    },
    Migration {
        version: 7,
        description: "sessions: the embedding application's data (sealed)",
        sql: include_str!("../migrations/sqlite/0007_session_app_data.sql"),
    },
    Migration {
        version: 8,
        description: "providers: the registration typed (registered), client_secret_expires_at",
        sql: include_str!("../migrations/sqlite/0008_provider_registered.sql"),
    },
    Migration {
        version: 9,
        description: "sessions: indexed by a keyed hash of the subject (subject_hash)",
        sql: include_str!("../migrations/sqlite/0009_session_subject_index.sql"),
    },
];

/// The database's clock in unix milliseconds, as SQL.
const NOW_MS: &str = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";

/// An open SQLite database.
#[derive(Debug)]
pub(crate) struct SqliteBackend {
    /// Keys, registry, meta: `synchronous=FULL`.
    pool: SqlitePool,
    /// Login states, sessions and the other short-lived rows: `synchronous=NORMAL`.
    sessions: SqlitePool,
    /// Session lookups on the caller's thread.
    reader: SessionReader,
    /// The login path's writes on the caller's thread.
    writer: SessionWriter,
}

impl SqliteBackend {
    /// Opens (creating the file, mode 0600, and its parent directories, 0700, if needed) the
    /// SQLite database at `path` and applies pending migrations.
    pub(crate) async fn open(url: &StoreUrl, path: &Path) -> Result<Self, StoreError> {
        let db = path.to_path_buf();
        blocking(move || create_private_database(&db)).await?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Full)
            .pragma("mmap_size", MMAP_SIZE);
        let pool = connect(options.clone(), MAX_CONNECTIONS)
            .await
            .map_err(|e| StoreError::db(format!("cannot open {url}: {e}")))?;
        let migrated = async {
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            migrate(&mut tx, url).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await;
        if let Err(e) = migrated {
            pool.close().await;
            return Err(e);
        }
        // Short-lived rows: durable against the process dying, not against power loss.
        let sessions = connect(
            options.synchronous(SqliteSynchronous::Normal),
            MAX_SESSION_CONNECTIONS,
        )
        .await;
        let sessions = match sessions {
            Ok(s) => s,
            Err(e) => {
                pool.close().await;
                return Err(StoreError::db(format!("cannot open {url}: {e}")));
            }
        };
        Ok(SqliteBackend {
            pool,
            sessions,
            reader: SessionReader::new(path, MMAP_SIZE),
            writer: SessionWriter::new(path, MMAP_SIZE),
        })
    }

    /// Always counted exactly: the count reads the expiry index only, in this process.
    #[allow(
        clippy::unused_self,
        clippy::unused_async,
        reason = "the signature the shared statements (crate::sql) call on either backend"
    )]
    async fn sessions_estimate_here(&self) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }

    /// The session lookup without a hop to sqlx's worker thread; `None` (after a debug line)
    /// when the reader cannot answer, and sqlx is asked instead.
    #[allow(
        clippy::unused_async,
        reason = "the signature the shared statements (crate::sql) call on either backend"
    )]
    async fn get_session_here(
        &self,
        hash: &str,
        now: i64,
    ) -> Option<Result<Option<crate::backend::SessionRow>, StoreError>> {
        // A closed store answers nothing (sqlx says it is closed).
        if self.sessions.is_closed() {
            return None;
        }
        match self.reader.get_session(hash, now) {
            Ok(found) => Some(found),
            Err(e) => {
                tracing::debug!(error = %e, "session lookup on the caller's thread failed; asking sqlx");
                None
            }
        }
    }

    /// [`SessionWriter::put_login_state`] unless the store is closed; `None`: ask sqlx.
    fn put_login_state_here(
        &self,
        hash: &str,
        provider: &str,
        sealed: &[u8],
        created_at: i64,
        expires_at: i64,
    ) -> Option<()> {
        if self.sessions.is_closed() {
            return None;
        }
        self.writer.put_login_state(
            crate::backend::PUT_LOGIN_STATE,
            hash,
            provider,
            sealed,
            created_at,
            expires_at,
        )
    }

    /// [`SessionWriter::take_login_state`] unless the store is closed; `None`: ask sqlx.
    fn take_login_state_here(&self, hash: &str) -> Option<Option<(Vec<u8>, i64)>> {
        if self.sessions.is_closed() {
            return None;
        }
        self.writer
            .take_login_state(crate::backend::TAKE_LOGIN_STATE, hash)
    }

    /// [`SessionWriter::create_session`] unless the store is closed; `None`: ask sqlx.
    fn create_session_here(&self, hash: &str, row: &crate::backend::SessionRow) -> Option<bool> {
        if self.sessions.is_closed() {
            return None;
        }
        self.writer
            .create_session(&crate::backend::INSERT_SESSION, hash, row)
    }

    async fn session_tx(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.sessions.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// `BEGIN IMMEDIATE` already excludes every other writer.
    async fn key_tx(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.write_tx().await
    }

    async fn close_pool(&self) {
        self.sessions.close().await;
        // Before the checkpoint, which waits for readers.
        self.reader.close();
        self.writer.close();
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

impl_sql_backend!(SqliteBackend, Sqlite, NOW_MS);

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

/// Opens the pool. Switching a new database file to WAL takes an exclusive lock that SQLite's
/// busy timeout does not wait for, so several processes creating the same store at once can
/// see `SQLITE_BUSY` here: that is retried, with a growing pause, for up to [`BUSY_TIMEOUT`].
async fn connect(
    options: SqliteConnectOptions,
    max_connections: u32,
) -> Result<SqlitePool, sqlx::Error> {
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(5);
    loop {
        let result = SqlitePoolOptions::new()
            .max_connections(max_connections)
            // A local file does not drop connections: no ping (a round trip to the connection's
            // worker thread) before every statement.
            .test_before_acquire(false)
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
    check_schema_version(&applied, MIGRATIONS.iter().map(|m| m.version), url)?;
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

#[cfg(test)]
mod send_tests {
    use super::*;
    use crate::MasterKeySource;
    fn assert_send<T: Send>(_: &T) {}
    #[allow(dead_code, reason = "compile-time check")]
    async fn check(url: StoreUrl, mut conn: sqlx::pool::PoolConnection<Sqlite>) {
        let f = migrate(&mut conn, &url);
        assert_send(&f);
        let f = SqliteBackend::open(&url, Path::new("x"));
        assert_send(&f);
        let f = crate::open(&url, MasterKeySource::BesideDatabase);
        assert_send(&f);
    }
}
