//! The PostgreSQL backend (sqlx, TLS with rustls).
//!
//! - **URL**: `postgres://user[:password]@host[:port]/database[?params]`, with libpq's
//!   `sslmode` (`disable`, `prefer` (default), `require`, `verify-ca`, `verify-full`) and
//!   `sslrootcert`, and relier's pool settings [`MAX_CONNECTIONS_PARAM`] (default
//!   [`DEFAULT_MAX_CONNECTIONS`], the session pool's size; keys and registry use up to 2 more) and [`CONNECT_TIMEOUT_PARAM`] (seconds to connect or to wait
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

use std::str::FromStr as _;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Executor as _, PgConnection, Postgres, Transaction};

use crate::backend::{Migration, check_schema_version};
use crate::error::StoreError;
use crate::model::KeyInfo;
use crate::sql::impl_sql_backend;
use crate::url::StoreUrl;

/// URL query parameter: the most connections one handle opens.
pub const MAX_CONNECTIONS_PARAM: &str = "max_connections";
/// URL query parameter: seconds to wait for a connection (new or from the pool).
pub const CONNECT_TIMEOUT_PARAM: &str = "connect_timeout";
/// Default of [`MAX_CONNECTIONS_PARAM`].
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
/// Default of [`CONNECT_TIMEOUT_PARAM`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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
];

/// The database's clock in unix milliseconds, as SQL (`clock_timestamp()`: the time of the
/// statement, not of the transaction's start).
const NOW_MS: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";

/// Pool settings from the URL's query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolSettings {
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

/// Splits relier's own parameters off a PostgreSQL URL; the rest goes to the driver.
pub(crate) fn pool_settings(url: &str) -> Result<(String, PoolSettings), StoreError> {
    let mut settings = PoolSettings {
        max_connections: DEFAULT_MAX_CONNECTIONS,
        connect_timeout: DEFAULT_CONNECT_TIMEOUT,
    };
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), settings));
    };
    let invalid = |reason: &'static str| StoreError::InvalidUrl {
        url: StoreUrl::redact(url),
        reason,
    };
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            MAX_CONNECTIONS_PARAM => {
                settings.max_connections = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| invalid("max_connections must be a positive integer"))?;
            }
            CONNECT_TIMEOUT_PARAM => {
                let secs: u64 = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    invalid("connect_timeout must be a positive number of seconds")
                })?;
                settings.connect_timeout = Duration::from_secs(secs);
            }
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, settings))
}

/// An open PostgreSQL database.
#[derive(Debug)]
pub(crate) struct PostgresBackend {
    /// Keys, registry, meta, migrations.
    pool: PgPool,
    /// Login states, sessions and the other short-lived rows (`synchronous_commit=off`).
    sessions: PgPool,
}

impl PostgresBackend {
    /// Connects and applies pending migrations.
    pub(crate) async fn open(url: &StoreUrl, raw: &str) -> Result<Self, StoreError> {
        let (driver_url, settings) = pool_settings(raw)?;
        let options = PgConnectOptions::from_str(&driver_url)
            .map_err(|e| StoreError::db(format!("store {url}: {e}")))?;
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
        let sessions = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.connect_timeout)
            .connect_with(options.options([("synchronous_commit", "off")]))
            .await;
        let sessions = match sessions {
            Ok(s) => s,
            Err(e) => {
                pool.close().await;
                return Err(StoreError::db(format!("cannot connect to {url}: {e}")));
            }
        };
        Ok(PostgresBackend { pool, sessions })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_settings_are_split_off() {
        let (rest, s) = pool_settings("postgres://u@h/db").unwrap();
        assert_eq!(rest, "postgres://u@h/db");
        assert_eq!(s.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(s.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        let (rest, s) = pool_settings(
            "postgres://u@h/db?sslmode=verify-full&max_connections=3&connect_timeout=2",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u@h/db?sslmode=verify-full");
        assert_eq!(s.max_connections, 3);
        assert_eq!(s.connect_timeout, Duration::from_secs(2));
        let (rest, _) = pool_settings("postgres://u@h/db?max_connections=1").unwrap();
        assert_eq!(rest, "postgres://u@h/db");
        for bad in [
            "postgres://u:pw@h/db?max_connections=0",
            "postgres://u:pw@h/db?max_connections=x",
            "postgres://u:pw@h/db?connect_timeout=-1",
        ] {
            let err = pool_settings(bad).unwrap_err();
            assert!(matches!(err, StoreError::InvalidUrl { .. }), "{bad}");
            assert!(!err.to_string().contains("pw"), "{err}");
        }
    }
}
