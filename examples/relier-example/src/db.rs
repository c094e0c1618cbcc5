//! The application's own SQLite database (beside relier's store): local accounts and the
//! external identities linked to them. Sessions are relier's (the signed-in account is the
//! session's application data, see [`crate::session`]).
//!
//! An external identity is keyed by `(issuer, subject)` only — the one stable key OpenID
//! Connect gives (OIDC Core §5.7). E-mail addresses and names are never looked up.

use std::path::Path;
use std::time::Duration;

use sqlx::Row as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::error::AppError;

const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS accounts (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT,
    created_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    provider   TEXT NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    linked_at  INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject),
    UNIQUE (account_id, provider)
);
";

/// A local account's id.
pub type AccountId = i64;

/// An external identity linked to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    /// The relier provider name it was linked through.
    pub provider: String,
    /// The OP's issuer.
    pub issuer: String,
    /// The user's `sub` at that issuer.
    pub subject: String,
}

/// What linking an identity did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    /// Linked now.
    Linked,
    /// It was already linked to this account: nothing to do.
    AlreadyLinked,
    /// It is linked to another account: refused, nothing changed.
    OtherAccount,
    /// The account already has another identity of this provider: refused, nothing changed.
    ProviderTaken,
}

/// What creating an account did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The new account.
    Account(AccountId),
    /// The username is taken.
    UsernameTaken,
    /// The identity to link is linked to an account already.
    IdentityTaken,
}

/// What unlinking did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlinkOutcome {
    /// Unlinked.
    Unlinked,
    /// Nothing of that provider is linked to the account.
    NotLinked,
    /// Refused: it is the account's only way to sign in (no password, no other identity).
    LastSignInMethod,
}

/// The database handle (cheap to clone).
#[derive(Debug, Clone)]
pub struct Db {
    pool: SqlitePool,
}

/// Unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Db {
    /// Opens (creating if needed) the database file and its tables. A new file is created
    /// mode 0600 before SQLite opens it, as relier creates its store, so that its `-wal` and
    /// `-shm` files (which SQLite gives the database's mode) are private too; an existing file
    /// that others may read is reported.
    ///
    /// # Errors
    /// [`AppError::Db`] if the file cannot be created or opened or the schema applied.
    pub async fn open(path: &Path) -> Result<Db, AppError> {
        match relier_store::create_private_file(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let url = relier_store::StoreUrl::sqlite(path);
                for lax in relier_store::lax_permissions(&url, None) {
                    tracing::warn!("the application's database: {lax}");
                }
            }
            Err(e) => return Err(AppError::Db(sqlx::Error::Io(e))),
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        drop_own_sessions(&pool).await?;
        Ok(Db { pool })
    }

    /// A write transaction that takes the write lock up front (`BEGIN IMMEDIATE`, waiting up
    /// to the busy timeout). A deferred one that reads first and then writes fails at once
    /// with `SQLITE_BUSY` when another connection — relier's store shares the file by default —
    /// committed in between: SQLite cannot upgrade its read snapshot, and the busy timeout does
    /// not apply to that.
    async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// Closes the pool (checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- accounts ----------------------------------------------------------------------

    /// Creates an account; `UsernameTaken` if the name (case-insensitively) exists.
    ///
    /// # Errors
    /// [`AppError::Db`].
    pub async fn create_account(
        &self,
        username: &str,
        password_hash: Option<&str>,
    ) -> Result<Created, AppError> {
        let r = sqlx::query(
            "INSERT INTO accounts (username, password_hash, created_at) VALUES (?, ?, ?)",
        )
        .bind(username)
        .bind(password_hash)
        .bind(now())
        .execute(&self.pool)
        .await;
        match r {
            Ok(done) => Ok(Created::Account(done.last_insert_rowid())),
            Err(e) if is_unique_violation(&e) => Ok(Created::UsernameTaken),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates an account without a password and links `identity` to it, in one transaction.
    ///
    /// # Errors
    /// [`AppError::Db`].
    pub async fn create_account_linked(
        &self,
        username: &str,
        identity: &Linked,
    ) -> Result<Created, AppError> {
        let mut tx = self.write_tx().await?;
        let linked: Option<i64> = sqlx::query_scalar(
            "SELECT account_id FROM identities WHERE issuer = ? AND subject = ?",
        )
        .bind(&identity.issuer)
        .bind(&identity.subject)
        .fetch_optional(&mut *tx)
        .await?;
        if linked.is_some() {
            return Ok(Created::IdentityTaken);
        }
        let r = sqlx::query("INSERT INTO accounts (username, created_at) VALUES (?, ?)")
            .bind(username)
            .bind(now())
            .execute(&mut *tx)
            .await;
        let id = match r {
            Ok(done) => done.last_insert_rowid(),
            Err(e) if is_unique_violation(&e) => return Ok(Created::UsernameTaken),
            Err(e) => return Err(e.into()),
        };
        let r = insert_identity(&mut tx, id, identity).await;
        match r {
            Ok(()) => {}
            Err(e) if is_unique_violation(&e) => return Ok(Created::IdentityTaken),
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(Created::Account(id))
    }

    /// The account of `username` (case-insensitive) and its password hash, if any.
    ///
    /// # Errors
    /// [`AppError::Db`].
    pub async fn account_by_username(
        &self,
        username: &str,
    ) -> Result<Option<(AccountId, Option<String>)>, AppError> {
        let row = sqlx::query("SELECT id, password_hash FROM accounts WHERE username = ?")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get("id")?, r.try_get("password_hash")?)))
            .transpose()
    }

    /// The username of an account.
    ///
    /// # Errors
    /// [`AppError::Db`].
    pub async fn username(&self, id: AccountId) -> Result<Option<String>, AppError> {
        Ok(
            sqlx::query_scalar("SELECT username FROM accounts WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    // ---- identities --------------------------------------------------------------------

    /// The identities linked to an account, by provider name.
    ///
    /// # Errors
    /// [`AppError::Db`].
    pub async fn identities(&self, id: AccountId) -> Result<Vec<Linked>, AppError> {
        let rows = sqlx::query(
            "SELECT provider, issuer, subject FROM identities WHERE account_id = ? \
             ORDER BY provider",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Linked {
                    provider: r.try_get("provider")?,
                    issuer: r.try_get("issuer")?,
                    subject: r.try_get("subject")?,
                })
            })
            .collect()
    }

    /// The account `(issuer, subject)` is linked to.
    ///
    /// # Errors
    /// [`AppError::Db`].
    pub async fn account_for(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<AccountId>, AppError> {
        Ok(
            sqlx::query_scalar(
                "SELECT account_id FROM identities WHERE issuer = ? AND subject = ?",
            )
            .bind(issuer)
            .bind(subject)
            .fetch_optional(&self.pool)
            .await?,
        )
    }

    /// Links `identity` to `account` unless it is linked elsewhere or the account has another
    /// identity of the same provider (then nothing changes).
    ///
    /// # Errors
    /// [`AppError::Db`].
    pub async fn link(
        &self,
        account: AccountId,
        identity: &Linked,
    ) -> Result<LinkOutcome, AppError> {
        let mut tx = self.write_tx().await?;
        let owner: Option<i64> = sqlx::query_scalar(
            "SELECT account_id FROM identities WHERE issuer = ? AND subject = ?",
        )
        .bind(&identity.issuer)
        .bind(&identity.subject)
        .fetch_optional(&mut *tx)
        .await?;
        match owner {
            Some(o) if o == account => return Ok(LinkOutcome::AlreadyLinked),
            Some(_) => return Ok(LinkOutcome::OtherAccount),
            None => {}
        }
        match insert_identity(&mut tx, account, identity).await {
            Ok(()) => {}
            // The account already has an identity of this provider (or a concurrent link won).
            Err(e) if is_unique_violation(&e) => return Ok(LinkOutcome::ProviderTaken),
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(LinkOutcome::Linked)
    }

    /// Unlinks the account's identity of `provider`, unless it is the last way to sign in.
    ///
    /// # Errors
    /// [`AppError::Db`].
    pub async fn unlink(
        &self,
        account: AccountId,
        provider: &str,
    ) -> Result<UnlinkOutcome, AppError> {
        let mut tx = self.write_tx().await?;
        let has_password: Option<bool> =
            sqlx::query_scalar("SELECT password_hash IS NOT NULL FROM accounts WHERE id = ?")
                .bind(account)
                .fetch_optional(&mut *tx)
                .await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM identities WHERE account_id = ?")
            .bind(account)
            .fetch_one(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM identities WHERE account_id = ? AND provider = ?")
            .bind(account)
            .bind(provider)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(UnlinkOutcome::NotLinked);
        }
        if has_password != Some(true) && count <= 1 {
            return Ok(UnlinkOutcome::LastSignInMethod);
        }
        tx.commit().await?;
        Ok(UnlinkOutcome::Unlinked)
    }
}

/// Drops the sessions table of earlier versions, which kept their own sessions beside relier's
/// (recognised by its `account_id` column: relier's sessions table has none, should `--db`
/// name relier's store). Its sessions end: the users sign in again.
async fn drop_own_sessions(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let own: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pragma_table_info('sessions') WHERE name = 'account_id'",
    )
    .fetch_one(pool)
    .await?;
    if own > 0 {
        sqlx::raw_sql("DROP INDEX IF EXISTS sessions_expiry; DROP TABLE sessions;")
            .execute(pool)
            .await?;
        tracing::info!("the application's own sessions table is gone: sessions are relier's");
    }
    Ok(())
}

async fn insert_identity(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    account: AccountId,
    identity: &Linked,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO identities (issuer, subject, provider, account_id, linked_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&identity.issuer)
    .bind(&identity.subject)
    .bind(&identity.provider)
    .bind(account)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    /// The sessions table of earlier versions is dropped; relier's (no `account_id`) is not.
    #[tokio::test]
    async fn the_old_sessions_table_is_dropped_and_only_it() {
        let dir = tempfile::tempdir().unwrap();
        let tables = |pool: SqlitePool| async move {
            let names: Vec<String> =
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            pool.close().await;
            names
        };
        for (schema, kept) in [
            (
                "CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, csrf_token TEXT NOT NULL, \
                 account_id INTEGER, expires_at INTEGER NOT NULL); \
                 CREATE INDEX sessions_expiry ON sessions (expires_at);",
                false,
            ),
            (
                "CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, sub TEXT);",
                true,
            ),
        ] {
            let path = dir.path().join(format!("{kept}.db"));
            let url = format!("sqlite://{}?mode=rwc", path.display());
            let pool = SqlitePool::connect(&url).await.unwrap();
            sqlx::raw_sql(schema).execute(&pool).await.unwrap();
            pool.close().await;
            Db::open(&path).await.unwrap().close().await;
            let pool = SqlitePool::connect(&url).await.unwrap();
            let names = tables(pool).await;
            assert_eq!(names.iter().any(|n| n == "sessions"), kept, "{names:?}");
            assert!(names.iter().any(|n| n == "accounts"), "{names:?}");
        }
    }
}
