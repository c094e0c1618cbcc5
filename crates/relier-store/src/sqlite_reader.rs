//! Session lookups of the SQLite backend, on the calling thread, and the connections they
//! (and [`crate::sqlite_writer`]) use there.
//!
//! sqlx runs every SQLite statement on the connection's own worker thread: a lookup is a
//! command sent there and a row sent back, two thread hand-offs, and on a gateway whose
//! session cache misses they were most of the CPU of `/auth/check` (docs/benchmarks.md,
//! "Sessions that miss the cache"). A lookup by primary key is a few microseconds of work on
//! pages that are in memory, so it runs here, on the caller's thread, on connections of its
//! own opened with `query_only`. WAL lets them read while sqlx's connections write; each
//! statement reads the last committed state, so a logout or a refresh committed through sqlx
//! is seen by the next lookup.
//!
//! A failure here (the file cannot be opened, a busy database) is not an answer: the caller
//! falls back to sqlx, which waits for the lock without holding up the async runtime.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::backend::{Columns, SELECT_SESSION, SESSION_COLUMNS, SessionRow, session_row};
use crate::error::StoreError;

/// Idle connections kept for reuse; more concurrent statements open more, dropped after use.
const MAX_IDLE: usize = 8;

/// A lookup on the async runtime's thread does not wait for a lock: past this it falls back
/// to sqlx.
const BUSY_TIMEOUT: Duration = Duration::from_millis(5);

/// What the connections of a [`LocalConnections`] are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// `query_only`; a lock held by a writer is waited for up to [`BUSY_TIMEOUT`].
    Reader,
    /// Short-lived rows (`synchronous=NORMAL`, as sqlx's session pool). A writer never waits
    /// for the write lock (another writer holds it: sqlx waits instead, on its own thread)
    /// and never checkpoints (a checkpoint syncs files: sqlx's connections do it at their
    /// commits).
    Writer,
}

/// Connections to one database file, used on the calling thread.
#[derive(Debug)]
pub(crate) struct LocalConnections {
    path: PathBuf,
    mmap_size: &'static str,
    role: Role,
    idle: Mutex<Vec<Connection>>,
}

impl LocalConnections {
    /// Connections are opened on first use; `mmap_size` as the sqlx connections'.
    pub(crate) fn new(path: &Path, mmap_size: &'static str, role: Role) -> Self {
        LocalConnections {
            path: path.to_path_buf(),
            mmap_size,
            role,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` on an idle (or new) connection, which is kept for reuse afterwards.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, rusqlite::Error> {
        let conn = match self.take() {
            Some(c) => c,
            None => self.open()?,
        };
        let out = f(&conn)?;
        self.give_back(conn);
        Ok(out)
    }

    /// Closes the idle connections; one in use is dropped after its statement (the caller
    /// checks that the store is open before asking).
    pub(crate) fn close(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    fn take(&self) -> Option<Connection> {
        self.idle.lock().ok().and_then(|mut idle| idle.pop())
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(conn);
        }
    }

    fn open(&self) -> Result<Connection, rusqlite::Error> {
        // Never creates the file: the sqlx pool opened (and migrated) it already.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.pragma_update(None, "mmap_size", self.mmap_size)?;
        match self.role {
            Role::Reader => {
                conn.busy_timeout(BUSY_TIMEOUT)?;
                conn.pragma_update(None, "query_only", true)?;
            }
            Role::Writer => {
                conn.busy_timeout(Duration::ZERO)?;
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                conn.pragma_update(None, "foreign_keys", true)?;
                conn.pragma_update(None, "wal_autocheckpoint", 0)?;
            }
        }
        Ok(conn)
    }
}

/// Read-only connections to one database file, for [`SessionReader::get_session`].
#[derive(Debug)]
pub(crate) struct SessionReader {
    connections: LocalConnections,
}

impl SessionReader {
    /// Connections are opened on first use; `mmap_size` as the sqlx connections'.
    pub(crate) fn new(path: &Path, mmap_size: &'static str) -> Self {
        SessionReader {
            connections: LocalConnections::new(path, mmap_size, Role::Reader),
        }
    }

    /// The live session row of `hash` at `now` (unix seconds): the outer error is this
    /// reader's trouble (fall back to sqlx), the inner result the answer.
    pub(crate) fn get_session(
        &self,
        hash: &str,
        now: i64,
    ) -> Result<Result<Option<SessionRow>, StoreError>, rusqlite::Error> {
        self.connections.with(|conn| lookup(conn, hash, now))
    }

    /// Closes the idle connections.
    pub(crate) fn close(&self) {
        self.connections.close();
    }
}

fn lookup(
    conn: &Connection,
    hash: &str,
    now: i64,
) -> Result<Result<Option<SessionRow>, StoreError>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached(&SELECT_SESSION)?;
    let mut rows = stmt.query((hash, now))?;
    Ok(rows
        .next()?
        .map(|row| session_row(&RowColumns(row)))
        .transpose())
}

/// The columns of [`SELECT_SESSION`], in order.
static COLUMN_NAMES: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| SESSION_COLUMNS.split(',').map(str::trim).collect());

/// [`Columns`] of a [`SELECT_SESSION`] row. A column is found by its place in
/// [`SESSION_COLUMNS`]: rusqlite's lookup by name asks SQLite for every column's name and
/// compares them without regard to case, on each of the row's 19 reads.
struct RowColumns<'r, 's>(&'r rusqlite::Row<'s>);

impl RowColumns<'_, '_> {
    fn get<T: rusqlite::types::FromSql>(&self, col: &str) -> Result<T, StoreError> {
        let index = COLUMN_NAMES
            .iter()
            .position(|c| *c == col)
            .ok_or_else(|| StoreError::db(format!("sessions.{col}: not selected")))?;
        self.0
            .get(index)
            .map_err(|e| StoreError::db(format!("sessions.{col}: {e}")))
    }
}

impl Columns for RowColumns<'_, '_> {
    fn text(&self, col: &str) -> Result<String, StoreError> {
        self.get(col)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        self.get(col)
    }
    fn int(&self, col: &str) -> Result<i64, StoreError> {
        self.get(col)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        self.get(col)
    }
    fn bytes(&self, col: &str) -> Result<Vec<u8>, StoreError> {
        self.get(col)
    }
    fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(col)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::backend::Backend as _;
    use crate::sqlite::SqliteBackend;
    use crate::url::StoreUrl;

    /// A session row for the SQLite tests, at `version`.
    pub(crate) fn row(version: i64) -> SessionRow {
        SessionRow {
            provider: "op".into(),
            iss: "https://op.example".into(),
            sub: "alice".into(),
            sid: None,
            email: None,
            name: None,
            claims: "{}".into(),
            access_token: Some(vec![1, 2, 3]),
            refresh_token: None,
            id_token: None,
            access_expires_at: Some(2_000),
            csrf_token: vec![9; 16],
            created_at: 1_000,
            last_seen_at: 1_000,
            idle_expires_at: 5_000,
            absolute_expires_at: 9_000,
            version,
            identity: Some(vec![7; 8]),
            dpop_key: Some(vec![5; 8]),
            app_data: Some(vec![6; 8]),
            subject_hash: Some("h".repeat(64)),
        }
    }

    /// The reader itself answers (no silent fallback to sqlx) and sees what sqlx commits.
    #[tokio::test]
    async fn the_reader_sees_every_commit_made_through_sqlx() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relier.db");
        let url = StoreUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
        let db = SqliteBackend::open(&url, &path).await.unwrap();
        let reader = SessionReader::new(&path, "0");
        assert_eq!(reader.get_session("h1", 1_500).unwrap().unwrap(), None);

        assert!(db.create_session("h1", &row(0)).await.unwrap());
        let found = reader.get_session("h1", 1_500).unwrap().unwrap();
        assert_eq!(found, Some(row(0)));
        // Expiry is the statement's: idle_expires_at > now.
        assert_eq!(reader.get_session("h1", 5_000).unwrap().unwrap(), None);

        db.touch_session("h1", 1_600, 6_000).await.unwrap();
        let touched = reader.get_session("h1", 5_500).unwrap().unwrap().unwrap();
        assert_eq!(
            (touched.last_seen_at, touched.idle_expires_at),
            (1_600, 6_000)
        );

        assert!(db.delete_session("h1").await.unwrap());
        assert_eq!(reader.get_session("h1", 1_500).unwrap().unwrap(), None);
        // Connections are reused, not opened per lookup.
        assert_eq!(reader.connections.idle.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_missing_database_is_the_readers_trouble_not_an_answer() {
        let dir = tempfile::tempdir().unwrap();
        let reader = SessionReader::new(&dir.path().join("absent.db"), "0");
        assert!(reader.get_session("h1", 0).is_err());
        assert!(!dir.path().join("absent.db").exists());
    }
}
