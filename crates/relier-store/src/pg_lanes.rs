//! PostgreSQL connections held for the per-request session read.
//!
//! A `/auth/check` that misses the session cache reads one row by its primary key. Through
//! sqlx's pool that one statement costs three round trips: sqlx 0.8 pings a pooled connection
//! when it hands it out (`test_before_acquire`) and again, unconditionally, when it comes back
//! (sqlx-core 0.8.6 `pool/connection.rs`, `return_to_pool`: "test the connection on-release").
//! Each round trip wakes the server's backend process; at thousands of reads a second on a
//! small machine those wake-ups are what the slowest requests wait behind
//! (docs/benchmarks.md, "PostgreSQL at one million sessions").
//!
//! A lane is one connection of its own, used by one read at a time: the read takes the
//! connection out of its lane and puts it back when the statement has answered. A read that
//! is cancelled half-way (the client went away) drops the connection with it instead of
//! leaving a half-read reply for the next one; the next read opens a new one. A connection the
//! server has closed (a restart, a failover, `pg_terminate_backend`) is found by the read
//! itself, dropped, and the read is tried once more on a new connection — the statement only
//! reads, so trying it again is safe.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgRow};
use sqlx::{ConnectOptions as _, Connection as _, PgConnection};
use tokio::sync::{Mutex, MutexGuard};

use crate::error::StoreError;

/// Connections for single-row reads, each used by one read at a time.
pub(crate) struct Lanes {
    lanes: Box<[Mutex<Option<PgConnection>>]>,
    next: AtomicUsize,
    options: PgConnectOptions,
    connect_timeout: Duration,
}

impl std::fmt::Debug for Lanes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lanes")
            .field("lanes", &self.lanes.len())
            .finish_non_exhaustive()
    }
}

impl Lanes {
    /// `n` lanes (at least one), connecting lazily with `options`.
    pub(crate) fn new(options: PgConnectOptions, n: usize, connect_timeout: Duration) -> Self {
        Lanes {
            lanes: (0..n.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            options,
            connect_timeout,
        }
    }

    /// A free lane if there is one (starting from a rotating index, so that the connections
    /// share the reads), else the next one in turn, waited for in arrival order.
    async fn lane(&self) -> Result<MutexGuard<'_, Option<PgConnection>>, StoreError> {
        let n = self.lanes.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Some(lane) = self.lanes.get(start.wrapping_add(i) % n)
                && let Ok(guard) = lane.try_lock()
            {
                return Ok(guard);
            }
        }
        match self.lanes.get(start % n) {
            Some(lane) => Ok(lane.lock().await),
            None => Err(StoreError::db("no PostgreSQL read connection")),
        }
    }

    /// Closes every lane's connection (a read running now finishes first).
    pub(crate) async fn close(&self) {
        for lane in &*self.lanes {
            if let Some(conn) = lane.lock().await.take() {
                let _ = conn.close().await;
            }
        }
    }

    async fn connect(&self) -> Result<PgConnection, StoreError> {
        match tokio::time::timeout(self.connect_timeout, self.options.connect()).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(StoreError::db(format!(
                "could not connect to PostgreSQL within {} s",
                self.connect_timeout.as_secs()
            ))),
        }
    }

    /// Runs the one-row read `sql` with the binds `hash` and `now` on a lane.
    pub(crate) async fn fetch_optional(
        &self,
        sql: &str,
        hash: &str,
        now: i64,
    ) -> Result<Option<PgRow>, StoreError> {
        let mut lane = self.lane().await?;
        let mut retried = false;
        loop {
            // Taken out for the statement: a cancelled read drops it (see the module docs).
            let mut conn = match lane.take() {
                Some(conn) => conn,
                None => self.connect().await?,
            };
            let result = sqlx::query(sql)
                .bind(hash)
                .bind(now)
                .fetch_optional(&mut conn)
                .await;
            match result {
                Ok(row) => {
                    *lane = Some(conn);
                    return Ok(row);
                }
                Err(e) if connection_lost(&e) && !retried => {
                    tracing::debug!(error = %e, "PostgreSQL read connection lost; reconnecting");
                    retried = true;
                }
                Err(e) if connection_lost(&e) => return Err(e.into()),
                Err(e) => {
                    // The statement failed, the connection did not: keep it.
                    *lane = Some(conn);
                    return Err(e.into());
                }
            }
        }
    }
}

/// Errors after which the connection cannot be used again: its socket or the protocol broke,
/// or the server ended the session (SQLSTATE class 57, operator intervention:
/// `admin_shutdown`, `crash_shutdown`, `cannot_connect_now`, a terminated backend).
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|c| c.starts_with("57")),
        _ => false,
    }
}
