//! The PostgreSQL backend (sqlx, TLS with rustls).
//!
//! - **URL**: `postgres://user[:password]@host[:port]/database[?params]`, with libpq's
//!   `sslmode` (`disable`, `prefer`, `require`, `verify-ca`, `verify-full`; default
//!   `verify-full` for a host that is not loopback or a Unix socket, see [`crate::pg_tls`]) and
//!   `sslrootcert`, and relier's pool settings [`MAX_CONNECTIONS_PARAM`] (default
//!   [`DEFAULT_MAX_CONNECTIONS`], the session connections: half of them, at least one, read
//!   sessions on connections of their own ([`crate::pg_lanes`]), the rest are the session pool; keys
//!   and registry use up to 2 more) and [`CONNECT_TIMEOUT_PARAM`] (seconds to connect or to wait
//!   for a pooled connection, default [`DEFAULT_CONNECT_TIMEOUT`]).
//! - **Migrations** (`migrations/postgres/NNNN_*.sql`, embedded) run on open in one transaction
//!   that first takes a transaction-scoped advisory lock ([`MIGRATION_LOCK`]): of instances
//!   starting at once on an empty database one migrates, the others wait and then find the
//!   schema applied (PostgreSQL's DDL is transactional).
//! - **Key changes** (generate, rotate, advance, retire, remove) take another advisory lock
//!   ([`KEY_LOCK`]) in their transaction, so that of instances advancing the key lifecycle at
//!   once one applies each transition and the others see its result.
//! - **Durability per kind of row**: keys, registry and meta on a pool with the server's
//!   `synchronous_commit`; login states, sessions and the other short-lived rows on a pool
//!   with `synchronous_commit=off` (the commit returns before the WAL flush: nothing is lost
//!   when an instance dies, the last moments' sessions may be lost if the database server
//!   crashes; the data stays consistent).
//! - The statements are [`crate::sql`]'s; encryption is above ([`crate::sealed`]).

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Executor as _, PgConnection, Postgres, Transaction};

use crate::backend::{Migration, check_schema_version};
use crate::error::StoreError;
use crate::model::KeyInfo;
use crate::pg_lanes::Lanes;
use crate::pg_tls::{PgTarget, pg_target};
use crate::sql::impl_sql_backend;
use crate::url::StoreUrl;

/// Advisory lock key of the migrations ("relier" 0x01).
/// Connections of the durable pool (keys and registry: rare writes) at most.
const MAX_DURABLE_CONNECTIONS: u32 = 2;

const MIGRATION_LOCK: i64 = 0x7265_6c69_6572_0001;
/// Advisory lock key of key changes ("relier" 0x02).
const KEY_LOCK: i64 = 0x7265_6c69_6572_0002;

/// Schema migrations, in order. Append only; never edit an applied one.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "init: meta, keys, providers, login_states, sessions, logout_jtis",
        sql: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        description: "cluster: session_ends, login_buckets",
        sql: include_str!("../migrations/postgres/0002_cluster.sql"),
    },
    Migration {
        version: 3,
        description: "sessions: DPoP key (sealed)",
        sql: include_str!("../migrations/postgres/0003_session_dpop_key.sql"),
    },
    Migration {
        version: 4,
        description: "keys: use (sig, enc, entity); one active key per use and algorithm",
        sql: include_str!("../migrations/postgres/0004_key_use.sql"),
    },
    Migration {
        version: 5,
        description: "sessions: the embedding application's data (sealed)",
        sql: include_str!("../migrations/postgres/0005_session_app_data.sql"),
    },
    Migration {
        version: 6,
        description: "providers: the registration typed (registered), client_secret_expires_at",
        sql: include_str!("../migrations/postgres/0006_provider_registered.sql"),
    },
    Migration {
        version: 7,
        description: "sessions: indexed by a keyed hash of the subject (subject_hash)",
        sql: include_str!("../migrations/postgres/0007_session_subject_index.sql"),
    },
];

/// The database's clock in unix milliseconds, as SQL (`clock_timestamp()`: the time of the
/// statement, not of the transaction's start).
const NOW_MS: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";

/// An open PostgreSQL database.
#[derive(Debug)]
pub(crate) struct PostgresBackend {
    /// Keys, registry, meta, migrations.
    pool: PgPool,
    /// Login states, sessions and the other short-lived rows (`synchronous_commit=off`).
    sessions: PgPool,
    /// The per-request session read, out of the pool ([`crate::pg_lanes`]).
    reads: Lanes,
}

/// From this many rows on, the session gauge comes from PostgreSQL's statistics
/// ([`PostgresBackend::sessions_estimate_here`]).
const EXACT_COUNT_LIMIT: i64 = 100_000;

impl PostgresBackend {
    /// The number of sessions from the table's statistics (`n_live_tup`: rows inserted minus
    /// rows deleted) once there are at least [`EXACT_COUNT_LIMIT`]: an exact count reads the
    /// whole table — half a second of both cores at a million sessions, on every instance
    /// every `check_interval`, which the requests of that moment waited for. Sessions expired
    /// since the last purge (one `check_interval`) are still in the figure.
    async fn sessions_estimate_here(&self) -> Result<Option<i64>, StoreError> {
        let live: Option<i64> = sqlx::query_scalar(
            "SELECT n_live_tup FROM pg_stat_user_tables WHERE relid = 'sessions'::regclass",
        )
        .fetch_optional(&self.sessions)
        .await?;
        Ok(live.filter(|n| *n >= EXACT_COUNT_LIMIT))
    }

    /// The session read on a connection of its own ([`crate::pg_lanes`]): one round trip
    /// instead of the pool's three.
    async fn get_session_here(
        &self,
        hash: &str,
        now: i64,
    ) -> Option<Result<Option<crate::backend::SessionRow>, StoreError>> {
        // A closed store answers nothing (sqlx says it is closed).
        if self.sessions.is_closed() {
            return None;
        }
        let row = self
            .reads
            .fetch_optional(&crate::backend::SELECT_SESSION, hash, now)
            .await;
        Some(row.and_then(|r| r.as_ref().map(crate::backend::session_row).transpose()))
    }

    #[allow(
        clippy::unused_self,
        reason = "the signature the shared statements (crate::sql) call on either backend"
    )]
    fn put_login_state_here(
        &self,
        _hash: &str,
        _provider: &str,
        _sealed: &[u8],
        _created_at: i64,
        _expires_at: i64,
    ) -> Option<()> {
        None
    }

    #[allow(
        clippy::unused_self,
        reason = "the signature the shared statements (crate::sql) call on either backend"
    )]
    fn take_login_state_here(&self, _hash: &str) -> Option<Option<(Vec<u8>, i64)>> {
        None
    }

    #[allow(
        clippy::unused_self,
        reason = "the signature the shared statements (crate::sql) call on either backend"
    )]
    fn create_session_here(&self, _hash: &str, _row: &crate::backend::SessionRow) -> Option<bool> {
        None
    }

    /// Connects and applies pending migrations.
    pub(crate) async fn open(url: &StoreUrl, raw: &str) -> Result<Self, StoreError> {
        let PgTarget {
            options,
            settings,
            transport,
        } = pg_target(url, raw)?;
        tracing::debug!(store = %url, ?transport, "connecting");
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.min(MAX_DURABLE_CONNECTIONS))
            .acquire_timeout(settings.connect_timeout)
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::db(format!("cannot connect to {url}: {e}")))?;
        if let Err(e) = migrate(&pool, url).await {
            pool.close().await;
            return Err(e);
        }
        // Short-lived rows: a commit returns before its WAL record is flushed (an instance
        // dying loses nothing; a database crash may lose the last moments' sessions).
        // Of the session connections, half read sessions on their own ([`crate::pg_lanes`]).
        let options = options.options([("synchronous_commit", "off")]);
        let read_lanes = (settings.max_connections / 2).max(1);
        let reads = Lanes::new(
            options.clone(),
            usize::try_from(read_lanes).unwrap_or(1),
            settings.connect_timeout,
        );
        let sessions = PgPoolOptions::new()
            .max_connections(settings.max_connections.saturating_sub(read_lanes).max(1))
            .acquire_timeout(settings.connect_timeout)
            .connect_with(options)
            .await;
        let sessions = match sessions {
            Ok(s) => s,
            Err(e) => {
                pool.close().await;
                return Err(StoreError::db(format!("cannot connect to {url}: {e}")));
            }
        };
        Ok(PostgresBackend {
            pool,
            sessions,
            reads,
        })
    }

    async fn session_tx(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.sessions.begin().await?)
    }

    async fn write_tx(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    async fn key_tx(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        let mut tx = self.pool.begin().await?;
        advisory_lock(&mut tx, KEY_LOCK).await?;
        Ok(tx)
    }

    async fn close_pool(&self) {
        self.sessions.close().await;
        self.reads.close().await;
        self.pool.close().await;
    }
}

impl_sql_backend!(PostgresBackend, Postgres, NOW_MS);

/// Takes a transaction-scoped advisory lock (released at commit or rollback).
async fn advisory_lock(conn: &mut PgConnection, key: i64) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn migrate(pool: &PgPool, url: &StoreUrl) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    advisory_lock(&mut tx, MIGRATION_LOCK).await?;
    tx.execute(
        "CREATE TABLE IF NOT EXISTS relier_migrations (\
             version BIGINT NOT NULL PRIMARY KEY, \
             description TEXT NOT NULL)",
    )
    .await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM relier_migrations")
        .fetch_all(&mut *tx)
        .await?;
    check_schema_version(&applied, MIGRATIONS.iter().map(|m| m.version), url)?;
    for m in MIGRATIONS {
        if applied.contains(&m.version) {
            continue;
        }
        tx.execute(m.sql).await?;
        sqlx::query("INSERT INTO relier_migrations (version, description) VALUES ($1, $2)")
            .bind(m.version)
            .bind(m.description)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
