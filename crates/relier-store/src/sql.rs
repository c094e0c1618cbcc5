//! The store's statements, written once for both databases: [`impl_sql_backend!`] implements
//! [`crate::backend::Backend`] for a backend type that has the fields `pool` and `sessions`
//! (both `sqlx::Pool<DB>`) and the inherent methods
//!
//! - `write_tx(&self)`: a transaction that writes (SQLite: `BEGIN IMMEDIATE`, the write lock
//!   up front) on `pool`, the durable pool (keys, registry),
//! - `session_tx(&self)`: the same on `sessions`, the pool of the short-lived rows (login
//!   states, sessions, logout jtis, ended sessions, login buckets), whose durability is relaxed
//!   (SQLite `synchronous=NORMAL`, PostgreSQL `synchronous_commit=off`: a commit survives the
//!   process being killed, and may be lost with the last moments before a power failure or an
//!   operating-system crash). A single statement runs on it without an explicit transaction
//!   (one round trip instead of three),
//! - `key_tx(&self)`: a write transaction that also holds the cluster-wide key lock (SQLite:
//!   the write lock is enough; PostgreSQL: a transaction-scoped advisory lock), so that of
//!   instances advancing or rotating keys at once one decides and the others see its result,
//! - `close_pool(&self)`.
//!
//! Statements use only what both SQLite and PostgreSQL accept (`$N` parameters,
//! `ON CONFLICT … DO NOTHING / DO UPDATE … excluded`, `RETURNING`); the schemas differ only in
//! types (`migrations/sqlite`, `migrations/postgres`).

/// Most ended sessions one [`crate::backend::Backend::recently_ended_sessions`] returns.
pub(crate) const MAX_RECENT_ENDS: i64 = 100_000;

/// How long an ended session's row is kept (ms): far longer than any instance's poll interval.
const KEEP_ENDS_MS: i64 = 10 * 60 * 1000;

/// How long an unused login bucket is kept (ms). A bucket purged before it has refilled only
/// makes the limit more lenient for that client, once.
const KEEP_BUCKETS_MS: i64 = 60 * 60 * 1000;

/// The statements of the cluster tables for one database's clock expression, built once per
/// backend (not per call: they run on every logout, login start and feed poll).
#[derive(Debug)]
pub(crate) struct ClusterSql {
    pub record_end: String,
    pub recent_ends: String,
    pub take_login_token: String,
    pub purge: [String; 2],
}

impl ClusterSql {
    pub(crate) fn new(now: &str) -> Self {
        ClusterSql {
            record_end: record_end(now),
            recent_ends: recent_ends(now),
            take_login_token: take_login_token(now),
            purge: purge_cluster_rows(now),
        }
    }
}

/// Records that the session `$1` ended, at the database's time `now`.
fn record_end(now: &str) -> String {
    format!("INSERT INTO session_ends (id_hash, ended_at_ms) VALUES ($1, {now})")
}

/// The sessions that ended in the last `$1` ms (at most `$2`).
fn recent_ends(now: &str) -> String {
    format!("SELECT id_hash FROM session_ends WHERE ended_at_ms >= {now} - $1 LIMIT $2")
}

/// Deletes ended-session rows and login buckets nobody needs any more.
fn purge_cluster_rows(now: &str) -> [String; 2] {
    [
        format!("DELETE FROM session_ends WHERE ended_at_ms < {now} - {KEEP_ENDS_MS}"),
        format!("DELETE FROM login_buckets WHERE at_ms < {now} - {KEEP_BUCKETS_MS}"),
    ]
}

/// One token from the bucket of client `$1` (capacity `$2` tokens, refilled at `$3` tokens per
/// ms), in one statement, so that instances taking tokens at once never both spend the last
/// one: a new bucket starts full; an existing one is refilled for the time since its last use
/// (never negative, whatever the clocks), capped at the capacity, and loses a token if it has
/// one. Returns whether a token was taken and the tokens left.
fn take_login_token(now: &str) -> String {
    let elapsed = format!(
        "(CASE WHEN {now} > login_buckets.at_ms THEN {now} - login_buckets.at_ms ELSE 0 END)"
    );
    let filled = format!("(login_buckets.tokens + {elapsed} * $3)");
    let refilled = format!("(CASE WHEN {filled} < $2 THEN {filled} ELSE $2 END)");
    format!(
        "INSERT INTO login_buckets (client, tokens, at_ms, granted) VALUES ($1, $2 - 1, {now}, TRUE) \
         ON CONFLICT (client) DO UPDATE SET \
         tokens = CASE WHEN {refilled} >= 1 THEN {refilled} - 1 ELSE {refilled} END, \
         at_ms = CASE WHEN {now} > login_buckets.at_ms THEN {now} ELSE login_buckets.at_ms END, \
         granted = ({refilled} >= 1) \
         RETURNING granted, tokens"
    )
}

/// Sessions touched by one statement at most (3 parameters each).
pub(crate) const TOUCH_CHUNK: usize = 200;

/// Sliding expiry of `n` sessions in one statement: parameters `(id hash, now, idle expiry)`
/// per session, joined as a `VALUES` list (its columns are `column1`… on both databases).
/// Like [`crate::backend::Backend::touch_session`]: live sessions only, the idle expiry
/// capped by the absolute one.
/// Expired rows deleted by one purge statement.
pub(crate) const PURGE_BATCH: u64 = 1000;
/// Batches per table and purge at most (the rest waits for the next purge): a purge's work
/// stays bounded however many sessions expired at once.
pub(crate) const PURGE_MAX_BATCHES: usize = 100;

/// The purge statements of expired sessions and login states, `$1` = now: up to
/// [`PURGE_BATCH`] rows each, found through the expiry index. Ordered and limited, because a
/// plain `DELETE … WHERE idle_expires_at <= $1` becomes a sequential scan of the whole table
/// once PostgreSQL plans the prepared statement generically (it assumes a third of the rows
/// match) — a million-session table read every `check_interval`.
pub(crate) fn purge_batches() -> &'static [String; 2] {
    static SQL: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
        let batch = |table: &str, key: &str, expiry: &str| {
            format!(
                "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} \
                 WHERE {expiry} <= $1 ORDER BY {expiry} LIMIT {PURGE_BATCH})"
            )
        };
        [
            // Every write keeps idle_expires_at <= absolute_expires_at, so the idle expiry
            // alone finds every expired session.
            batch("sessions", "id_hash", "idle_expires_at"),
            batch("login_states", "state_hash", "expires_at"),
        ]
    });
    &SQL
}

pub(crate) fn touch_many(n: usize) -> String {
    let values: Vec<String> = (0..n)
        .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
        .collect();
    format!(
        "UPDATE sessions SET last_seen_at = t.column2, idle_expires_at = CASE \
         WHEN t.column3 < sessions.absolute_expires_at THEN t.column3 \
         ELSE sessions.absolute_expires_at END \
         FROM (VALUES {}) AS t \
         WHERE sessions.id_hash = t.column1 AND sessions.idle_expires_at > t.column2 \
         AND sessions.absolute_expires_at > t.column2",
        values.join(", ")
    )
}

macro_rules! impl_sql_backend {
    ($backend:ty, $db:ty, $now_ms:expr) => {
        #[async_trait::async_trait]
        impl $crate::backend::Backend for $backend {
            async fn master_key_check(&self) -> Result<Option<Vec<u8>>, StoreError> {
                Ok(sqlx::query_scalar("SELECT value FROM meta WHERE name = $1")
                    .bind($crate::backend::CHECK_NAME)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn init_master_key_check(&self, value: &[u8]) -> Result<Vec<u8>, StoreError> {
                let mut tx = self.write_tx().await?;
                sqlx::query(
                    "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                )
                .bind($crate::backend::CHECK_NAME)
                .bind(value)
                .execute(&mut *tx)
                .await?;
                let stored: Vec<u8> = sqlx::query_scalar("SELECT value FROM meta WHERE name = $1")
                    .bind($crate::backend::CHECK_NAME)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(stored)
            }

            async fn insert_keys(
                &self,
                keys: &[$crate::backend::NewKey],
                now: u64,
                delay_secs: u64,
                wanted: &$crate::backend::KeyFilter<'_>,
            ) -> Result<Vec<KeyInfo>, StoreError> {
                let mut tx = self.key_tx().await?;
                let stored = load_keys(&mut tx).await?;
                let mut out = Vec::with_capacity(keys.len());
                for key in keys.iter().filter(|k| wanted(&stored, k.alg)) {
                    let active: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM keys WHERE alg = $1 AND key_use = $2 \
                         AND state = 'active'",
                    )
                    .bind(key.alg.as_str())
                    .bind(key.alg.key_use().as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                    let (state, activates_at) =
                        $crate::lifecycle::new_key_state(active > 0, now, delay_secs);
                    sqlx::query(
                        "INSERT INTO keys (kid, alg, state, created_at, activates_at, \
                         retired_at, grace_until, public_jwk, private_key, key_use) \
                         VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $7, $8)",
                    )
                    .bind(&key.kid)
                    .bind(key.alg.as_str())
                    .bind(state.as_str())
                    .bind($crate::backend::to_db_time(now)?)
                    .bind($crate::backend::opt_to_db_time(activates_at)?)
                    .bind(&key.public_jwk)
                    .bind(&key.sealed)
                    .bind(key.alg.key_use().as_str())
                    .execute(&mut *tx)
                    .await?;
                    out.push(KeyInfo {
                        kid: key.kid.clone(),
                        alg: key.alg,
                        state,
                        created_at: now,
                        activates_at,
                        retired_at: None,
                        grace_until: None,
                    });
                }
                tx.commit().await?;
                Ok(out)
            }

            async fn load_keys(&self) -> Result<Vec<KeyInfo>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                load_keys(&mut conn).await
            }

            async fn edit_keys(
                &self,
                plan: &$crate::backend::KeyPlanner<'_>,
            ) -> Result<(Vec<KeyInfo>, Vec<$crate::backend::KeyEdit>), StoreError> {
                let mut tx = self.key_tx().await?;
                let keys = load_keys(&mut tx).await?;
                let edits = plan(&keys)?;
                for edit in &edits {
                    apply(&mut tx, edit).await?;
                }
                tx.commit().await?;
                Ok((keys, edits))
            }

            async fn public_keys(&self) -> Result<Vec<(KeyInfo, String)>, StoreError> {
                let rows = sqlx::query(&format!(
                    "SELECT {}, public_jwk FROM keys ORDER BY created_at DESC, kid",
                    $crate::backend::KEY_COLUMNS
                ))
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok((
                            $crate::backend::key_info(row)?,
                            $crate::backend::Columns::text(row, "public_jwk")?,
                        ))
                    })
                    .collect()
            }

            async fn active_private_key(
                &self,
                alg: $crate::model::KeyAlg,
            ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT kid, private_key FROM keys WHERE alg = $1 AND key_use = $2 \
                     AND state = 'active'",
                )
                .bind(alg.as_str())
                .bind(alg.key_use().as_str())
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn private_keys(
                &self,
                alg: $crate::model::KeyAlg,
            ) -> Result<Vec<(KeyInfo, Vec<u8>)>, StoreError> {
                let rows = sqlx::query(&format!(
                    "SELECT {}, private_key FROM keys WHERE alg = $1 AND key_use = $2 \
                     ORDER BY created_at DESC, kid",
                    $crate::backend::KEY_COLUMNS
                ))
                .bind(alg.as_str())
                .bind(alg.key_use().as_str())
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok((
                            $crate::backend::key_info(row)?,
                            $crate::backend::Columns::bytes(row, "private_key")?,
                        ))
                    })
                    .collect()
            }

            async fn put_provider(
                &self,
                row: &$crate::backend::ProviderRow,
                replace: bool,
            ) -> Result<i64, StoreError> {
                let sql = if replace {
                    $crate::backend::PROVIDER_UPSERT
                } else {
                    $crate::backend::PROVIDER_INSERT
                };
                let mut tx = self.write_tx().await?;
                let created_at: Option<i64> = sqlx::query_scalar(sql)
                    .bind(&row.name)
                    .bind(&row.issuer)
                    .bind(&row.client_id)
                    .bind(&row.auth_method)
                    .bind(&row.redirect_uris)
                    .bind(&row.scopes)
                    .bind(&row.id_token_alg)
                    .bind(&row.signing_alg)
                    .bind(&row.jwks_mode)
                    .bind(&row.jwks_uri)
                    .bind(&row.tls_cert_path)
                    .bind(&row.tls_key_path)
                    .bind(&row.registration_client_uri)
                    .bind(&row.provider_metadata)
                    .bind(&row.registration)
                    .bind(&row.registered)
                    .bind(row.client_secret_expires_at)
                    .bind(&row.client_secret)
                    .bind(&row.registration_access_token)
                    .bind(row.created_at)
                    .bind(row.updated_at)
                    .fetch_optional(&mut *tx)
                    .await?;
                let created_at = created_at.ok_or_else(|| StoreError::ProviderExists {
                    name: row.name.clone(),
                })?;
                tx.commit().await?;
                Ok(created_at)
            }

            async fn get_provider(
                &self,
                name: &str,
            ) -> Result<Option<$crate::backend::ProviderRow>, StoreError> {
                let row = sqlx::query(&format!(
                    "SELECT {} FROM providers WHERE name = $1",
                    $crate::backend::PROVIDER_COLUMNS
                ))
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map($crate::backend::provider_row).transpose()
            }

            async fn unconverted_providers(
                &self,
            ) -> Result<Vec<$crate::backend::ProviderRow>, StoreError> {
                let rows = sqlx::query(&format!(
                    "SELECT {} FROM providers WHERE registered IS NULL \
                     AND registration IS NOT NULL ORDER BY name",
                    $crate::backend::PROVIDER_COLUMNS
                ))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map($crate::backend::provider_row).collect()
            }

            async fn convert_provider(
                &self,
                name: &str,
                response: &str,
                conversion: &$crate::backend::ProviderConversion,
            ) -> Result<(), StoreError> {
                let mut tx = self.write_tx().await?;
                sqlx::query($crate::backend::PROVIDER_CONVERT)
                    .bind(&conversion.registered)
                    .bind(&conversion.registration)
                    .bind(conversion.client_secret_expires_at)
                    .bind(response)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_providers(
                &self,
            ) -> Result<Vec<$crate::backend::ProviderRow>, StoreError> {
                let rows = sqlx::query(&format!(
                    "SELECT {} FROM providers ORDER BY name",
                    $crate::backend::PROVIDER_COLUMNS
                ))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map($crate::backend::provider_row).collect()
            }

            async fn delete_provider(&self, name: &str) -> Result<bool, StoreError> {
                let mut tx = self.write_tx().await?;
                let done = sqlx::query("DELETE FROM providers WHERE name = $1")
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected() > 0)
            }

            async fn put_login_state(
                &self,
                hash: &str,
                provider: &str,
                sealed: &[u8],
                created_at: i64,
                expires_at: i64,
            ) -> Result<(), StoreError> {
                if self
                    .put_login_state_here(hash, provider, sealed, created_at, expires_at)
                    .is_some()
                {
                    return Ok(());
                }
                sqlx::query($crate::backend::PUT_LOGIN_STATE)
                .bind(hash)
                .bind(provider)
                .bind(sealed)
                .bind(created_at)
                .bind(expires_at)
                .execute(&self.sessions)
                .await?;
                Ok(())
            }

            async fn take_login_state(
                &self,
                hash: &str,
            ) -> Result<Option<(Vec<u8>, i64)>, StoreError> {
                if let Some(taken) = self.take_login_state_here(hash) {
                    return Ok(taken);
                }
                // fetch_all drives the statement to completion.
                let rows: Vec<(Vec<u8>, i64)> = sqlx::query_as($crate::backend::TAKE_LOGIN_STATE)
                .bind(hash)
                .fetch_all(&self.sessions)
                .await?;
                Ok(rows.into_iter().next())
            }

            async fn create_session(
                &self,
                hash: &str,
                row: &$crate::backend::SessionRow,
            ) -> Result<bool, StoreError> {
                if let Some(created) = self.create_session_here(hash, row) {
                    return Ok(created);
                }
                let done = sqlx::query(&$crate::backend::INSERT_SESSION)
                .bind(hash)
                .bind(&row.provider)
                .bind(&row.iss)
                .bind(&row.sub)
                .bind(&row.sid)
                .bind(&row.email)
                .bind(&row.name)
                .bind(&row.claims)
                .bind(&row.access_token)
                .bind(&row.refresh_token)
                .bind(&row.id_token)
                .bind(row.access_expires_at)
                .bind(&row.csrf_token)
                .bind(row.created_at)
                .bind(row.last_seen_at)
                .bind(row.idle_expires_at)
                .bind(row.absolute_expires_at)
                .bind(row.version)
                .bind(&row.identity)
                .bind(&row.dpop_key)
                .bind(&row.app_data)
                .bind(&row.subject_hash)
                .execute(&self.sessions)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn get_session(
                &self,
                hash: &str,
                now: i64,
            ) -> Result<Option<$crate::backend::SessionRow>, StoreError> {
                if let Some(found) = self.get_session_here(hash, now).await {
                    return found;
                }
                let row = sqlx::query(&$crate::backend::SELECT_SESSION)
                .bind(hash)
                .bind(now)
                .fetch_optional(&self.sessions)
                .await?;
                row.as_ref().map($crate::backend::session_row).transpose()
            }

            async fn touch_session(
                &self,
                hash: &str,
                now: i64,
                idle: i64,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "UPDATE sessions SET last_seen_at = $1, idle_expires_at = CASE \
                     WHEN $2 < absolute_expires_at THEN $2 ELSE absolute_expires_at END \
                     WHERE id_hash = $3 AND idle_expires_at > $1 AND absolute_expires_at > $1",
                )
                .bind(now)
                .bind(idle)
                .bind(hash)
                .execute(&self.sessions)
                .await?;
                Ok(())
            }

            async fn touch_sessions(
                &self,
                touches: &[(String, i64, i64)],
            ) -> Result<(), StoreError> {
                for chunk in touches.chunks($crate::sql::TOUCH_CHUNK) {
                    let sql = $crate::sql::touch_many(chunk.len());
                    let mut q = sqlx::query(&sql);
                    for (hash, now, idle) in chunk {
                        q = q.bind(hash).bind(*now).bind(*idle);
                    }
                    q.execute(&self.sessions).await?;
                }
                Ok(())
            }

            async fn update_session_tokens(
                &self,
                hash: &str,
                update: &$crate::backend::TokenUpdate,
            ) -> Result<bool, StoreError> {
                // One conditional UPDATE: on PostgreSQL a concurrent updater waits for the row
                // lock and then re-checks `version`, so exactly one of them wins.
                let done = sqlx::query(
                    "UPDATE sessions SET access_token = COALESCE($1, access_token), \
                     refresh_token = COALESCE($2, refresh_token), \
                     id_token = COALESCE($3, id_token), \
                     access_expires_at = $4, version = version + 1 \
                     WHERE id_hash = $5 AND version = $6",
                )
                .bind(&update.access_token)
                .bind(&update.refresh_token)
                .bind(&update.id_token)
                .bind(update.access_expires_at)
                .bind(hash)
                .bind(update.expected_version)
                .execute(&self.sessions)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_session_app_data(
                &self,
                hash: &str,
                app_data: Option<&[u8]>,
                now: i64,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE sessions SET app_data = $1 WHERE id_hash = $2 \
                     AND idle_expires_at > $3 AND absolute_expires_at > $3",
                )
                .bind(app_data)
                .bind(hash)
                .bind(now)
                .execute(&self.sessions)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_session(&self, hash: &str) -> Result<bool, StoreError> {
                let mut tx = self.session_tx().await?;
                let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                    .bind(hash)
                    .execute(&mut *tx)
                    .await?;
                let ended = done.rows_affected() > 0;
                if ended {
                    sqlx::query(&cluster_sql().record_end)
                        .bind(hash)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(ended)
            }

            async fn delete_sessions_for(
                &self,
                provider: &str,
                target: $crate::backend::LogoutTarget<'_>,
            ) -> Result<Vec<String>, StoreError> {
                use $crate::backend::LogoutTarget;
                let query = match target {
                    LogoutTarget::SidAndSubjectHash(sid, subject) => sqlx::query_scalar(
                        "DELETE FROM sessions WHERE provider = $1 AND sid = $2 \
                         AND subject_hash = $3 RETURNING id_hash",
                    )
                    .bind(provider)
                    .bind(sid)
                    .bind(subject),
                    LogoutTarget::Sid(sid) => sqlx::query_scalar(
                        "DELETE FROM sessions WHERE provider = $1 AND sid = $2 \
                         RETURNING id_hash",
                    )
                    .bind(provider)
                    .bind(sid),
                    LogoutTarget::SubjectHash(subject) => sqlx::query_scalar(
                        "DELETE FROM sessions WHERE provider = $1 AND subject_hash = $2 \
                         RETURNING id_hash",
                    )
                    .bind(provider)
                    .bind(subject),
                };
                let mut tx = self.session_tx().await?;
                let hashes: Vec<String> = query.fetch_all(&mut *tx).await?;
                let record = &cluster_sql().record_end;
                for hash in &hashes {
                    sqlx::query(record).bind(hash).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(hashes)
            }

            async fn unconverted_sessions(
                &self,
                after: &str,
                limit: i64,
            ) -> Result<Vec<(String, $crate::backend::SessionRow)>, StoreError> {
                let rows = sqlx::query(&$crate::backend::UNCONVERTED_SESSIONS)
                .bind(after)
                .bind(limit)
                .fetch_all(&self.sessions)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok((
                            $crate::backend::Columns::text(row, "id_hash")?,
                            $crate::backend::session_row(row)?,
                        ))
                    })
                    .collect()
            }

            async fn convert_sessions(
                &self,
                rows: &[$crate::backend::SubjectConversion],
            ) -> Result<(), StoreError> {
                let mut tx = self.session_tx().await?;
                for row in rows {
                    sqlx::query($crate::backend::CONVERT_SESSION)
                    .bind(&row.subject_hash)
                    .bind(&row.identity)
                    .bind(&row.id_hash)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn count_sessions(&self, now: i64) -> Result<i64, StoreError> {
                if let Some(many) = self.sessions_estimate_here().await? {
                    return Ok(many);
                }
                // Every write keeps idle_expires_at <= absolute_expires_at: the idle expiry
                // (indexed) alone decides.
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sessions WHERE idle_expires_at > $1",
                )
                .bind(now)
                .fetch_one(&self.sessions)
                .await?)
            }

            async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
                let mut purged = 0u64;
                // Expired sessions and login states in batches, each its own short statement.
                for sql in $crate::sql::purge_batches() {
                    for _ in 0..$crate::sql::PURGE_MAX_BATCHES {
                        let done = sqlx::query(sql).bind(now).execute(&self.sessions).await?;
                        purged = purged.saturating_add(done.rows_affected());
                        if done.rows_affected() < $crate::sql::PURGE_BATCH {
                            break;
                        }
                    }
                }
                let mut tx = self.session_tx().await?;
                let done = sqlx::query("DELETE FROM logout_jtis WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                purged = purged.saturating_add(done.rows_affected());
                for sql in &cluster_sql().purge {
                    let done = sqlx::query(sql).execute(&mut *tx).await?;
                    purged = purged.saturating_add(done.rows_affected());
                }
                tx.commit().await?;
                Ok(purged)
            }

            async fn remember_logout_jti(
                &self,
                provider: &str,
                jti: &str,
                expires_at: i64,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "INSERT INTO logout_jtis (provider, jti, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (provider, jti) DO NOTHING",
                )
                .bind(provider)
                .bind(jti)
                .bind(expires_at)
                .execute(&self.sessions)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn recently_ended_sessions(
                &self,
                within_ms: i64,
            ) -> Result<Vec<String>, StoreError> {
                Ok(sqlx::query_scalar(&cluster_sql().recent_ends)
                    .bind(within_ms)
                    .bind($crate::sql::MAX_RECENT_ENDS)
                    .fetch_all(&self.sessions)
                    .await?)
            }

            async fn take_login_token(
                &self,
                client: &str,
                burst: f64,
                per_ms: f64,
            ) -> Result<(bool, f64), StoreError> {
                let row: (bool, f64) = sqlx::query_as(&cluster_sql().take_login_token)
                    .bind(client)
                    .bind(burst)
                    .bind(per_ms)
                    .fetch_one(&self.sessions)
                    .await?;
                Ok(row)
            }

            async fn close(&self) {
                self.close_pool().await;
            }
        }

        fn cluster_sql() -> &'static $crate::sql::ClusterSql {
            static SQL: std::sync::LazyLock<$crate::sql::ClusterSql> =
                std::sync::LazyLock::new(|| $crate::sql::ClusterSql::new($now_ms));
            &SQL
        }

        async fn load_keys(
            conn: &mut <$db as sqlx::Database>::Connection,
        ) -> Result<Vec<KeyInfo>, StoreError> {
            let rows = sqlx::query(&format!(
                "SELECT {} FROM keys ORDER BY alg, key_use, created_at, kid",
                $crate::backend::KEY_COLUMNS
            ))
            .fetch_all(&mut *conn)
            .await?;
            rows.iter().map($crate::backend::key_info).collect()
        }

        async fn apply(
            conn: &mut <$db as sqlx::Database>::Connection,
            edit: &$crate::backend::KeyEdit,
        ) -> Result<(), StoreError> {
            let (done, what) = match edit {
                $crate::backend::KeyEdit::Transition(t) => {
                    let done = sqlx::query(
                        "UPDATE keys SET state = $1, retired_at = COALESCE($2, retired_at), \
                         grace_until = COALESCE($3, grace_until) WHERE kid = $4 AND state = $5",
                    )
                    .bind(t.to.as_str())
                    .bind($crate::backend::opt_to_db_time(t.retired_at)?)
                    .bind($crate::backend::opt_to_db_time(t.grace_until)?)
                    .bind(&t.kid)
                    .bind(t.from.as_str())
                    .execute(&mut *conn)
                    .await?;
                    (done, &t.kid)
                }
                $crate::backend::KeyEdit::Delete(kid) => {
                    let done = sqlx::query("DELETE FROM keys WHERE kid = $1")
                        .bind(kid)
                        .execute(&mut *conn)
                        .await?;
                    (done, kid)
                }
            };
            if done.rows_affected() == 1 {
                Ok(())
            } else {
                Err(StoreError::db(format!("key {what} changed concurrently")))
            }
        }
    };
}

pub(crate) use impl_sql_backend;
