//! The login path's writes of the SQLite backend, on the calling thread.
//!
//! A login writes three short rows: its login state at the start, then at the callback the
//! state taken (deleted) and the session created. Through sqlx each is a command sent to the
//! connection's worker thread and an answer sent back — thread hand-offs that were a large
//! part of a login's CPU (docs/benchmarks.md, "CPU per login"). Each is one statement on pages
//! in memory, committed without a sync (`synchronous=NORMAL`, as sqlx's session pool), so it
//! runs here, as [`crate::sqlite_reader`] does for lookups.
//!
//! This writer never waits: when another connection holds the write lock (SQLITE_BUSY) or
//! anything else goes wrong, the caller asks sqlx, which waits on its own thread. It never
//! checkpoints either (a checkpoint syncs the files), and every [`SQLX_EVERY`]th write is left
//! to sqlx, whose commit checkpoints once the WAL has grown past SQLite's threshold — so the WAL
//! stays bounded however few other writes there are.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::Connection;

use crate::backend::SessionRow;
use crate::sqlite_reader::{LocalConnections, Role};

/// One write in this many goes through sqlx (and so may checkpoint the WAL).
pub(crate) const SQLX_EVERY: u64 = 32;

/// Read-write connections for the login path's statements.
#[derive(Debug)]
pub(crate) struct SessionWriter {
    connections: LocalConnections,
    writes: AtomicU64,
}

impl SessionWriter {
    /// Connections are opened on first use; `mmap_size` as the sqlx connections'.
    pub(crate) fn new(path: &Path, mmap_size: &'static str) -> Self {
        SessionWriter {
            connections: LocalConnections::new(path, mmap_size, Role::Writer),
            writes: AtomicU64::new(0),
        }
    }

    /// Runs the statement `f` here, unless this is the write left to sqlx; `None` (after a
    /// debug line) when it did not run or failed: nothing was written, ask sqlx.
    fn run<T>(
        &self,
        what: &'static str,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Option<T> {
        if self.writes.fetch_add(1, Ordering::Relaxed) % SQLX_EVERY == SQLX_EVERY - 1 {
            return None;
        }
        match self.connections.with(f) {
            Ok(out) => Some(out),
            Err(e) => {
                tracing::debug!(error = %e, statement = what, "write on the caller's thread did not run; asking sqlx");
                None
            }
        }
    }

    /// `INSERT … ON CONFLICT DO UPDATE` of a login state (the statement sqlx would run).
    pub(crate) fn put_login_state(
        &self,
        sql: &str,
        hash: &str,
        provider: &str,
        sealed: &[u8],
        created_at: i64,
        expires_at: i64,
    ) -> Option<()> {
        self.run("put_login_state", |conn| {
            conn.prepare_cached(sql)?
                .execute((hash, provider, sealed, created_at, expires_at))
                .map(|_| ())
        })
    }

    /// `DELETE … RETURNING record, expires_at` of a login state: of concurrent takers (here
    /// or through sqlx) exactly one sees the row.
    pub(crate) fn take_login_state(&self, sql: &str, hash: &str) -> Option<Option<(Vec<u8>, i64)>> {
        self.run("take_login_state", |conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = stmt.query([hash])?;
            let first = match rows.next()? {
                Some(row) => Some((row.get(0)?, row.get(1)?)),
                None => None,
            };
            // Driven to the end, so the statement completes and commits here.
            while rows.next()?.is_some() {}
            Ok(first)
        })
    }

    /// `INSERT … ON CONFLICT DO NOTHING` of a session; whether a row was inserted.
    pub(crate) fn create_session(&self, sql: &str, hash: &str, row: &SessionRow) -> Option<bool> {
        self.run("create_session", |conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            let params: [&dyn rusqlite::ToSql; 22] = [
                &hash,
                &row.provider,
                &row.iss,
                &row.sub,
                &row.sid,
                &row.email,
                &row.name,
                &row.claims,
                &row.access_token,
                &row.refresh_token,
                &row.id_token,
                &row.access_expires_at,
                &row.csrf_token,
                &row.created_at,
                &row.last_seen_at,
                &row.idle_expires_at,
                &row.absolute_expires_at,
                &row.version,
                &row.identity,
                &row.dpop_key,
                &row.app_data,
                &row.subject_hash,
            ];
            stmt.execute(params.as_slice()).map(|n| n == 1)
        })
    }

    /// Closes the idle connections.
    pub(crate) fn close(&self) {
        self.connections.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Backend as _, INSERT_SESSION, PUT_LOGIN_STATE, TAKE_LOGIN_STATE};
    use crate::sqlite::SqliteBackend;
    use crate::sqlite_reader::tests::row as session_row;
    use crate::url::StoreUrl;

    async fn open(dir: &tempfile::TempDir) -> (SqliteBackend, std::path::PathBuf) {
        let path = dir.path().join("relier.db");
        let url = StoreUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
        (SqliteBackend::open(&url, &path).await.unwrap(), path)
    }

    /// What the writer commits, sqlx reads, and the other way round; a taken state is gone
    /// for both.
    #[tokio::test]
    async fn writes_here_and_through_sqlx_see_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let (db, path) = open(&dir).await;
        let w = SessionWriter::new(&path, "0");
        assert_eq!(
            w.put_login_state(PUT_LOGIN_STATE, "s1", "op", b"sealed", 1, 2),
            Some(())
        );
        assert_eq!(
            db.take_login_state("s1").await.unwrap(),
            Some((b"sealed".to_vec(), 2))
        );
        assert_eq!(w.take_login_state(TAKE_LOGIN_STATE, "s1"), Some(None));

        db.put_login_state("s2", "op", b"other", 1, 3)
            .await
            .unwrap();
        assert_eq!(
            w.take_login_state(TAKE_LOGIN_STATE, "s2"),
            Some(Some((b"other".to_vec(), 3)))
        );
        assert_eq!(db.take_login_state("s2").await.unwrap(), None);

        assert_eq!(
            w.create_session(&INSERT_SESSION, "h1", &session_row(0)),
            Some(true)
        );
        assert_eq!(
            db.get_session("h1", 1_500).await.unwrap(),
            Some(session_row(0))
        );
        // An existing id is not replaced.
        assert_eq!(
            w.create_session(&INSERT_SESSION, "h1", &session_row(0)),
            Some(false)
        );
        assert!(!db.create_session("h1", &session_row(0)).await.unwrap());
        db.close().await;
    }

    /// A writer never waits for the lock another connection holds: it hands the write to sqlx.
    #[tokio::test]
    async fn a_held_write_lock_is_not_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let (db, path) = open(&dir).await;
        let w = SessionWriter::new(&path, "0");
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let started = std::time::Instant::now();
        assert_eq!(
            w.put_login_state(PUT_LOGIN_STATE, "s1", "op", b"x", 1, 2),
            None
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        other.execute_batch("ROLLBACK").unwrap();
        assert_eq!(
            w.put_login_state(PUT_LOGIN_STATE, "s1", "op", b"x", 1, 2),
            Some(())
        );
        db.close().await;
    }

    /// Every [`SQLX_EVERY`]th write is left to sqlx (whose commits checkpoint the WAL), and
    /// the writer's own connection never checkpoints.
    #[tokio::test]
    async fn every_nth_write_goes_to_sqlx() {
        let dir = tempfile::tempdir().unwrap();
        let (db, path) = open(&dir).await;
        let w = SessionWriter::new(&path, "0");
        let ran = (0..SQLX_EVERY * 3)
            .filter(|i| {
                w.put_login_state(PUT_LOGIN_STATE, &format!("s{i}"), "op", b"x", 1, 2)
                    .is_some()
            })
            .count();
        assert_eq!(ran as u64, SQLX_EVERY * 3 - 3);
        let autocheckpoint: i64 = w
            .connections
            .with(|c| c.pragma_query_value(None, "wal_autocheckpoint", |r| r.get(0)))
            .unwrap();
        assert_eq!(autocheckpoint, 0);
        db.close().await;
    }
}
