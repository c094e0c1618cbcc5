//! A fresh PostgreSQL database per test, on the server of `RELIER_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`): created as `relier_test_<random>`, dropped when
//! the [`PgDatabase`] is dropped, so parallel runs do not collide. Without a reachable server
//! [`PgDatabase::create`] panics with a message saying how to point the tests at one: the
//! PostgreSQL tests never pass silently.

use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use sqlx::Connection as _;

/// The variable naming the PostgreSQL server the tests use.
pub const PG_URL_ENV: &str = "RELIER_TEST_PG_URL";
/// The server used when [`PG_URL_ENV`] is not set.
pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database of one test's own.
#[derive(Debug)]
pub struct PgDatabase {
    admin: String,
    name: String,
    url: String,
}

impl PgDatabase {
    /// Creates the database. Panics, naming [`PG_URL_ENV`], when the server is unreachable.
    pub async fn create() -> Self {
        let admin = std::env::var(PG_URL_ENV).unwrap_or_else(|_| DEFAULT_PG_URL.to_owned());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "the PostgreSQL tests need a PostgreSQL server they may create databases on: \
                 {admin} is not reachable ({e}). Start one, or set {PG_URL_ENV} to \
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
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        PgDatabase {
            admin,
            name,
            url: url.to_string(),
        }
    }

    /// `postgres://…/relier_test_<random>` (with the server URL's query, if any).
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop may run inside the test's runtime: drop the database from a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
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
    }
}
