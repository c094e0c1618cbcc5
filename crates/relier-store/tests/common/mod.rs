//! One store test suite, two databases: [`TestDb`] is a fresh SQLite file or a fresh
//! PostgreSQL database, and [`both_backends!`] runs a test body against each.
//!
//! PostgreSQL: a database of the test's own ([`relier_tests::pg::PgDatabase`]) on the server of
//! `RELIER_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`), dropped at the
//! end. Without a reachable server the PostgreSQL tests fail, saying how to point them at one.

#![allow(dead_code, reason = "each test file uses a part")]

use std::path::PathBuf;

pub mod rows;

use relier_store::StoreUrl;
use relier_tests::pg::PgDatabase;
use sqlx::Connection as _;

/// Runs `$body` with `$conn`, a new connection to `$db`'s database (SQLite or PostgreSQL),
/// closed afterwards.
macro_rules! on_connection {
    ($db:expr, |$conn:ident| $body:expr) => {
        match $db {
            TestDb::Sqlite { url, .. } => {
                let path = url.sqlite_path().unwrap().display().to_string();
                let mut $conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
                    .await
                    .unwrap();
                let out = $body;
                $conn.close().await.unwrap();
                out
            }
            TestDb::Postgres { db, .. } => {
                let mut $conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
                let out = $body;
                $conn.close().await.unwrap();
                out
            }
        }
    };
}

/// A fresh, empty database for one test.
#[derive(Debug)]
pub enum TestDb {
    Sqlite {
        dir: tempfile::TempDir,
        url: StoreUrl,
    },
    Postgres {
        db: PgDatabase,
        url: StoreUrl,
    },
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = StoreUrl::sqlite(dir.path().join("relier.db"));
        TestDb::Sqlite { dir, url }
    }

    /// A fresh database on the test server (see the module docs).
    pub async fn postgres() -> Self {
        let db = PgDatabase::create().await;
        let url = StoreUrl::parse(db.url()).unwrap();
        TestDb::Postgres { db, url }
    }

    /// The PostgreSQL URL (password included) of a PostgreSQL database.
    pub fn pg_url(&self) -> Option<&str> {
        match self {
            TestDb::Postgres { db, .. } => Some(db.url()),
            TestDb::Sqlite { .. } => None,
        }
    }

    pub fn url(&self) -> &StoreUrl {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }

    /// The SQLite database file.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.url().sqlite_path().map(PathBuf::from)
    }

    /// Runs `sql` with text parameters `$1`… directly on the database (behind the store's
    /// back); returns the rows affected.
    pub async fn exec(&self, sql: &str, params: &[&str]) -> u64 {
        on_connection!(self, |conn| {
            let mut q = sqlx::query(sql);
            for p in params {
                q = q.bind(*p);
            }
            q.execute(&mut conn).await.unwrap().rows_affected()
        })
    }

    /// Runs a script of several statements (no parameters) directly on the database.
    pub async fn exec_script(&self, sql: &str) {
        on_connection!(self, |conn| {
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        })
    }

    /// The first column of every row of `sql`, as text.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        on_connection!(self, |conn| sqlx::query_scalar(sql)
            .fetch_all(&mut conn)
            .await
            .unwrap())
    }

    /// The first column of every row of `sql`, as bytes (`NULL` as `None`).
    pub async fn blobs(&self, sql: &str) -> Vec<Option<Vec<u8>>> {
        on_connection!(self, |conn| sqlx::query_scalar(sql)
            .fetch_all(&mut conn)
            .await
            .unwrap())
    }

    /// One 64-bit integer from `sql` (e.g. `SELECT COUNT(*) …`).
    pub async fn count(&self, sql: &str) -> i64 {
        on_connection!(self, |conn| sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .unwrap())
    }
}

/// Runs each `async fn NAME(db: TestDb)` of the enclosing module against SQLite
/// (`sqlite::NAME`) and PostgreSQL (`postgres::NAME`).
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::common::TestDb::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::common::TestDb::postgres().await).await;
                }
            )*
        }
    };
}
