//! The login gateway's tables on SQLite: login states, sessions, logout-token jtis
//! (`migrations/sqlite/0002_gateway.sql`). The [`crate::Store`] methods delegate here.
//!
//! Rows are keyed by the hex SHA-256 of the session id / state; secrets are sealed with the
//! row identity as associated data ([`session_aad`], [`login_state_aad`]). Writes run in one
//! `BEGIN IMMEDIATE` transaction each; reads ([`SqliteStore::gw_get_session`],
//! [`SqliteStore::gw_count_sessions`]) are a single statement on the pool and never write.

use relier_core::Secret;
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;
use zeroize::Zeroizing;

use super::{SqliteStore, from_db_time, opt_from_db_time, opt_to_db_time, to_db_time};
use crate::crypto::{login_state_aad, session_aad};
use crate::error::StoreError;
use crate::session::{LoginState, SessionRecord, session_id_hash, state_hash};

const SESSION_COLUMNS: &str = "provider, iss, sub, sid, email, name, claims, access_token, \
    refresh_token, id_token, access_expires_at, csrf_token, created_at, last_seen_at, \
    idle_expires_at, absolute_expires_at, version, identity";
const IDENTITY: &str = "identity";

/// The personal data of a session, stored as one encrypted JSON value.
#[derive(serde::Serialize, serde::Deserialize)]
struct Identity {
    email: Option<String>,
    name: Option<String>,
    claims: serde_json::Value,
}
const ACCESS_TOKEN: &str = "access_token";
const REFRESH_TOKEN: &str = "refresh_token";
const ID_TOKEN: &str = "id_token";
const CSRF_TOKEN: &str = "csrf_token";

fn to_db_version(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Invalid {
        what: "session version",
        reason: format!("{v} is out of range"),
    })
}

fn from_db_count(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::db(format!("negative count {n}")))
}

/// A JSON error about decrypted content, without serde's message (which may quote the value).
fn corrupt_json(what: &str, e: &serde_json::Error) -> StoreError {
    StoreError::crypto(format!(
        "{what}: corrupt JSON after decryption ({:?} error at line {}, column {})",
        e.classify(),
        e.line(),
        e.column()
    ))
}

impl SqliteStore {
    fn seal_session_secret(
        &self,
        id_hash: &str,
        column: &str,
        secret: Option<&Secret>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        secret
            .map(|s| {
                self.cipher
                    .seal(s.expose().as_bytes(), &session_aad(id_hash, column))
            })
            .transpose()
    }

    fn open_session_secret(
        &self,
        id_hash: &str,
        column: &str,
        sealed: Option<Vec<u8>>,
    ) -> Result<Option<Secret>, StoreError> {
        sealed
            .map(|sealed| {
                let what = format!("{column} of a session");
                let plain = self
                    .cipher
                    .open(&sealed, &session_aad(id_hash, column), &what)?;
                std::str::from_utf8(&plain)
                    .map(Secret::new)
                    .map_err(|_| StoreError::crypto(format!("{what}: not UTF-8")))
            })
            .transpose()
    }

    /// The personal data: encrypted in `identity`, or — rows from before migration 3 — in the
    /// clear-text columns.
    fn session_identity(&self, id_hash: &str, row: &SqliteRow) -> Result<Identity, StoreError> {
        if let Some(sealed) = row.try_get::<Option<Vec<u8>>, _>(IDENTITY)? {
            let what = "identity of a session";
            let plain = zeroize::Zeroizing::new(self.cipher.open(
                &sealed,
                &session_aad(id_hash, IDENTITY),
                what,
            )?);
            return serde_json::from_slice(&plain).map_err(|e| corrupt_json(what, &e));
        }
        let claims: String = row.try_get("claims")?;
        Ok(Identity {
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            claims: serde_json::from_str(&claims)
                .map_err(|e| StoreError::db(format!("corrupt claims of a session: {e}")))?,
        })
    }

    fn session_record(&self, id_hash: &str, row: &SqliteRow) -> Result<SessionRecord, StoreError> {
        let identity = self.session_identity(id_hash, row)?;
        let csrf = self
            .open_session_secret(id_hash, CSRF_TOKEN, row.try_get(CSRF_TOKEN)?)?
            .ok_or_else(|| StoreError::db("session without a CSRF token"))?;
        Ok(SessionRecord {
            provider: row.try_get("provider")?,
            iss: row.try_get("iss")?,
            sub: row.try_get("sub")?,
            sid: row.try_get("sid")?,
            email: identity.email,
            name: identity.name,
            claims: identity.claims,
            access_token: self.open_session_secret(
                id_hash,
                ACCESS_TOKEN,
                row.try_get(ACCESS_TOKEN)?,
            )?,
            refresh_token: self.open_session_secret(
                id_hash,
                REFRESH_TOKEN,
                row.try_get(REFRESH_TOKEN)?,
            )?,
            id_token: self.open_session_secret(id_hash, ID_TOKEN, row.try_get(ID_TOKEN)?)?,
            access_expires_at: opt_from_db_time(row.try_get("access_expires_at")?)?,
            csrf_token: csrf,
            created_at: from_db_time(row.try_get("created_at")?)?,
            last_seen_at: from_db_time(row.try_get("last_seen_at")?)?,
            idle_expires_at: from_db_time(row.try_get("idle_expires_at")?)?,
            absolute_expires_at: from_db_time(row.try_get("absolute_expires_at")?)?,
            version: u64::try_from(row.try_get::<i64, _>("version")?)
                .map_err(|_| StoreError::db("negative session version in store"))?,
        })
    }

    // ---- login states ----

    pub(super) async fn gw_put_login_state(
        &self,
        state: &str,
        record: &LoginState,
    ) -> Result<(), StoreError> {
        let hash = state_hash(state);
        let json = Zeroizing::new(serde_json::to_vec(record).map_err(|e| StoreError::Invalid {
            what: "login state",
            reason: e.to_string(),
        })?);
        let sealed = self.cipher.seal(&json, &login_state_aad(&hash))?;
        let created_at = to_db_time(record.created_at)?;
        let expires_at = to_db_time(record.expires_at)?;
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO login_states (state_hash, provider, record, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (state_hash) DO UPDATE SET \
             provider = excluded.provider, record = excluded.record, \
             created_at = excluded.created_at, expires_at = excluded.expires_at",
        )
        .bind(&hash)
        .bind(&record.provider)
        .bind(sealed)
        .bind(created_at)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn gw_take_login_state(
        &self,
        state: &str,
        now: u64,
    ) -> Result<Option<LoginState>, StoreError> {
        let hash = state_hash(state);
        let now = to_db_time(now)?;
        // One statement deletes and returns the row: of concurrent takers exactly one sees it.
        // fetch_all drives the statement to completion before the commit.
        let mut tx = self.write_tx().await?;
        let rows: Vec<(Vec<u8>, i64)> = sqlx::query_as(
            "DELETE FROM login_states WHERE state_hash = $1 RETURNING record, expires_at",
        )
        .bind(&hash)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let Some((sealed, expires_at)) = rows.into_iter().next() else {
            return Ok(None);
        };
        if now >= expires_at {
            return Ok(None);
        }
        let json = self
            .cipher
            .open(&sealed, &login_state_aad(&hash), "login state")?;
        let record: LoginState =
            serde_json::from_slice(&json).map_err(|e| corrupt_json("login state", &e))?;
        // The encrypted copy is authoritative; the clear column only serves housekeeping.
        if to_db_time(record.expires_at)? <= now {
            return Ok(None);
        }
        Ok(Some(record))
    }

    // ---- sessions ----

    pub(super) async fn gw_create_session(
        &self,
        session_id: &Secret,
        rec: &SessionRecord,
    ) -> Result<(), StoreError> {
        let hash = session_id_hash(session_id);
        let identity = zeroize::Zeroizing::new(
            serde_json::to_vec(&Identity {
                email: rec.email.clone(),
                name: rec.name.clone(),
                claims: rec.claims.clone(),
            })
            .map_err(|e| StoreError::Invalid {
                what: "session claims",
                reason: e.to_string(),
            })?,
        );
        let identity = self.cipher.seal(&identity, &session_aad(&hash, IDENTITY))?;
        let access = self.seal_session_secret(&hash, ACCESS_TOKEN, rec.access_token.as_ref())?;
        let refresh = self.seal_session_secret(&hash, REFRESH_TOKEN, rec.refresh_token.as_ref())?;
        let id_token = self.seal_session_secret(&hash, ID_TOKEN, rec.id_token.as_ref())?;
        let csrf = self.seal_session_secret(&hash, CSRF_TOKEN, Some(&rec.csrf_token))?;
        let idle = rec.idle_expires_at.min(rec.absolute_expires_at);
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(&format!(
            "INSERT INTO sessions (id_hash, {SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
             ON CONFLICT (id_hash) DO NOTHING"
        ))
        .bind(&hash)
        .bind(&rec.provider)
        .bind(&rec.iss)
        .bind(&rec.sub)
        .bind(&rec.sid)
        // The clear-text columns of rows from before migration 3 stay empty.
        .bind(Option::<String>::None)
        .bind(Option::<String>::None)
        .bind("{}")
        .bind(access)
        .bind(refresh)
        .bind(id_token)
        .bind(opt_to_db_time(rec.access_expires_at)?)
        .bind(csrf)
        .bind(to_db_time(rec.created_at)?)
        .bind(to_db_time(rec.last_seen_at)?)
        .bind(to_db_time(idle)?)
        .bind(to_db_time(rec.absolute_expires_at)?)
        .bind(to_db_version(rec.version)?)
        .bind(identity)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Invalid {
                what: "session id",
                reason: "a session with this id exists already".to_owned(),
            });
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn gw_get_session(
        &self,
        session_id: &Secret,
        now: u64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let hash = session_id_hash(session_id);
        let now = to_db_time(now)?;
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = $1 \
             AND idle_expires_at > $2 AND absolute_expires_at > $2"
        ))
        .bind(&hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| self.session_record(&hash, &row)).transpose()
    }

    pub(super) async fn gw_touch_session(
        &self,
        session_id: &Secret,
        now: u64,
        idle_expires_at: u64,
    ) -> Result<(), StoreError> {
        let hash = session_id_hash(session_id);
        let now = to_db_time(now)?;
        let idle = to_db_time(idle_expires_at)?;
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1, idle_expires_at = CASE \
             WHEN $2 < absolute_expires_at THEN $2 ELSE absolute_expires_at END \
             WHERE id_hash = $3 AND idle_expires_at > $1 AND absolute_expires_at > $1",
        )
        .bind(now)
        .bind(idle)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn gw_update_session_tokens(
        &self,
        session_id: &Secret,
        expected_version: u64,
        access_token: Option<&Secret>,
        refresh_token: Option<&Secret>,
        id_token: Option<&Secret>,
        access_expires_at: Option<u64>,
    ) -> Result<bool, StoreError> {
        let hash = session_id_hash(session_id);
        let expected = to_db_version(expected_version)?;
        let access = self.seal_session_secret(&hash, ACCESS_TOKEN, access_token)?;
        let refresh = self.seal_session_secret(&hash, REFRESH_TOKEN, refresh_token)?;
        let id_token = self.seal_session_secret(&hash, ID_TOKEN, id_token)?;
        let access_expires_at = opt_to_db_time(access_expires_at)?;
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE sessions SET access_token = COALESCE($1, access_token), \
             refresh_token = COALESCE($2, refresh_token), id_token = COALESCE($3, id_token), \
             access_expires_at = $4, version = version + 1 \
             WHERE id_hash = $5 AND version = $6",
        )
        .bind(access)
        .bind(refresh)
        .bind(id_token)
        .bind(access_expires_at)
        .bind(&hash)
        .bind(expected)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn gw_delete_session(&self, session_id: &Secret) -> Result<bool, StoreError> {
        let hash = session_id_hash(session_id);
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn gw_delete_sessions_for(
        &self,
        provider: &str,
        sid: Option<&str>,
        sub: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let query = match (sid, sub) {
            (Some(sid), Some(sub)) => sqlx::query_scalar(
                "DELETE FROM sessions WHERE provider = $1 AND sid = $2 AND sub = $3 \
                 RETURNING id_hash",
            )
            .bind(provider)
            .bind(sid)
            .bind(sub),
            (Some(sid), None) => sqlx::query_scalar(
                "DELETE FROM sessions WHERE provider = $1 AND sid = $2 RETURNING id_hash",
            )
            .bind(provider)
            .bind(sid),
            (None, Some(sub)) => sqlx::query_scalar(
                "DELETE FROM sessions WHERE provider = $1 AND sub = $2 RETURNING id_hash",
            )
            .bind(provider)
            .bind(sub),
            (None, None) => {
                return Err(StoreError::Invalid {
                    what: "logout",
                    reason: "neither sid nor sub given".to_owned(),
                });
            }
        };
        let mut tx = self.write_tx().await?;
        let hashes: Vec<String> = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(hashes)
    }

    pub(super) async fn gw_count_sessions(&self, now: u64) -> Result<u64, StoreError> {
        let now = to_db_time(now)?;
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions \
             WHERE idle_expires_at > $1 AND absolute_expires_at > $1",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        from_db_count(n)
    }

    pub(super) async fn gw_purge_expired(&self, now: u64) -> Result<u64, StoreError> {
        let now = to_db_time(now)?;
        let mut tx = self.write_tx().await?;
        let mut purged = 0u64;
        // Every write keeps idle_expires_at <= absolute_expires_at, so the idle expiry (indexed)
        // alone finds every expired session.
        for sql in [
            "DELETE FROM sessions WHERE idle_expires_at <= $1",
            "DELETE FROM login_states WHERE expires_at <= $1",
            "DELETE FROM logout_jtis WHERE expires_at <= $1",
        ] {
            let done = sqlx::query(sql).bind(now).execute(&mut *tx).await?;
            purged = purged.saturating_add(done.rows_affected());
        }
        tx.commit().await?;
        Ok(purged)
    }

    // ---- logout tokens ----

    pub(super) async fn gw_remember_logout_jti(
        &self,
        provider: &str,
        jti: &str,
        expires_at: u64,
    ) -> Result<bool, StoreError> {
        let expires_at = to_db_time(expires_at)?;
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "INSERT INTO logout_jtis (provider, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (provider, jti) DO NOTHING",
        )
        .bind(provider)
        .bind(jti)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}
