//! One store test suite, two databases: [`TestDb`] is a fresh SQLite file or a fresh
//! PostgreSQL database, and [`both_backends!`] runs a test body against each.
//!
//! PostgreSQL: the server of `RELIER_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); each test creates its own database
//! `relier_test_<random>` there and drops it at the end, so parallel runs do not collide.
//! Without a reachable server the PostgreSQL tests fail, saying how to point them at one.

#![allow(dead_code, reason = "each test file uses a part")]

use std::path::PathBuf;

use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use relier_store::StoreUrl;
use sqlx::Connection as _;

/// The variable naming the PostgreSQL server the tests use.
pub const PG_URL_ENV: &str = "RELIER_TEST_PG_URL";
const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh, empty database for one test.
#[derive(Debug)]
pub enum TestDb {
    Sqlite {
        dir: tempfile::TempDir,
        url: StoreUrl,
    },
    Postgres {
        /// The server URL the database was created through.
        admin: String,
        name: String,
        url: StoreUrl,
        raw: String,
    },
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = StoreUrl::sqlite(dir.path().join("relier.db"));
        TestDb::Sqlite { dir, url }
    }

    /// A fresh database on the test server (see the module docs). Panics with instructions
    /// when no server is reachable.
    pub async fn postgres() -> Self {
        let admin = std::env::var(PG_URL_ENV).unwrap_or_else(|_| DEFAULT_PG_URL.to_owned());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "the PostgreSQL store tests need a PostgreSQL server they may create databases \
                 on: {admin} is not reachable ({e}). Start one, or set {PG_URL_ENV} to \
                 postgres://USER[:PASSWORD]@HOST:PORT/DATABASE of a server where USER may \
                 CREATE DATABASE"
                )
            });
        let mut bytes = [0u8; 8];
        SystemRandom::new().fill(&mut bytes).unwrap();
        let name = format!(
            "relier_test_{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let raw = with_database(&admin, &name);
        TestDb::Postgres {
            url: StoreUrl::parse(&raw).unwrap(),
            admin,
            name,
            raw,
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
        match self {
            TestDb::Sqlite { url, .. } => {
                let path = url.sqlite_path().unwrap().display().to_string();
                let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
                    .await
                    .unwrap();
                let mut q = sqlx::query(sql);
                for p in params {
                    q = q.bind(*p);
                }
                let n = q.execute(&mut conn).await.unwrap().rows_affected();
                conn.close().await.unwrap();
                n
            }
            TestDb::Postgres { raw, .. } => {
                let mut conn = sqlx::PgConnection::connect(raw).await.unwrap();
                let mut q = sqlx::query(sql);
                for p in params {
                    q = q.bind(*p);
                }
                let n = q.execute(&mut conn).await.unwrap().rows_affected();
                conn.close().await.unwrap();
                n
            }
        }
    }

    /// One 64-bit integer from `sql` (e.g. `SELECT COUNT(*) …`).
    pub async fn count(&self, sql: &str) -> i64 {
        match self {
            TestDb::Sqlite { url, .. } => {
                let path = url.sqlite_path().unwrap().display().to_string();
                let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
                    .await
                    .unwrap();
                let n = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
                conn.close().await.unwrap();
                n
            }
            TestDb::Postgres { raw, .. } => {
                let mut conn = sqlx::PgConnection::connect(raw).await.unwrap();
                let n = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
                conn.close().await.unwrap();
                n
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let TestDb::Postgres { admin, name, .. } = self else {
            return;
        };
        let (admin, name) = (admin.clone(), name.clone());
        // Drop runs inside the test's runtime: drop the database from a thread of its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
        let _ = dropped;
    }
}

/// `url` with its database (path) replaced by `name`, the query kept.
fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
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
