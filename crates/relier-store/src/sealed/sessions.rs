//! The login gateway's state over a backend: login states, sessions, logout jtis. Rows are
//! keyed by the hex SHA-256 of the session id / state; secrets are sealed with the row identity
//! as associated data ([`session_aad`], [`login_state_aad`]).

use async_trait::async_trait;
use relier_core::{Secret, UnixTime};
use zeroize::Zeroizing;

use super::Sealed;
use crate::backend::{
    Backend, LogoutTarget, SessionRow, TokenUpdate, from_db_time, opt_from_db_time, opt_to_db_time,
    to_db_time,
};
use crate::crypto::{login_state_aad, session_aad};
use crate::error::StoreError;
use crate::session::{
    LoginAllowance, LoginRate, LoginState, SessionRecord, SessionTouch, check_app_data,
    session_id_hash, state_hash,
};
use crate::store::SessionStore;

const IDENTITY: &str = "identity";
const ACCESS_TOKEN: &str = "access_token";
const REFRESH_TOKEN: &str = "refresh_token";
const ID_TOKEN: &str = "id_token";
const CSRF_TOKEN: &str = "csrf_token";
const DPOP_KEY: &str = "dpop_key";
const APP_DATA: &str = "app_data";

/// The personal data of a session, stored as one encrypted JSON value. `sub` is absent from
/// identities sealed before subjects were indexed by keyed hash (their row's `sub` column has
/// it until the store converts the row).
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Identity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sub: Option<String>,
    pub(super) email: Option<String>,
    pub(super) name: Option<String>,
    pub(super) claims: serde_json::Value,
}

fn to_db_version(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Invalid {
        what: "session version",
        reason: format!("{v} is out of range"),
    })
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

impl<B: Backend> Sealed<B> {
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
        sealed: Option<&[u8]>,
    ) -> Result<Option<Secret>, StoreError> {
        sealed
            .map(|sealed| {
                let what = format!("{column} of a session");
                let plain = self
                    .cipher
                    .open(sealed, &session_aad(id_hash, column), &what)?;
                std::str::from_utf8(&plain)
                    .map(Secret::new)
                    .map_err(|_| StoreError::crypto(format!("{what}: not UTF-8")))
            })
            .transpose()
    }

    /// The personal data with the subject: [`Self::stored_identity`], whose subject is sealed
    /// in it, or — rows from before subjects were indexed by keyed hash, not converted yet —
    /// in the clear `sub` column.
    pub(super) fn session_identity(
        &self,
        id_hash: &str,
        row: &SessionRow,
    ) -> Result<Identity, StoreError> {
        let mut identity = self.stored_identity(id_hash, row)?;
        if identity.sub.is_none() {
            identity.sub = Some(row.sub.clone());
        }
        Ok(identity)
    }

    /// The personal data: encrypted in `identity`, or — rows from before the identity was
    /// encrypted (SQLite migration 3) — in the clear-text columns.
    fn stored_identity(&self, id_hash: &str, row: &SessionRow) -> Result<Identity, StoreError> {
        if let Some(sealed) = &row.identity {
            let what = "identity of a session";
            let plain = self
                .cipher
                .open(sealed, &session_aad(id_hash, IDENTITY), what)?;
            return serde_json::from_slice(&plain).map_err(|e| corrupt_json(what, &e));
        }
        Ok(Identity {
            sub: None,
            email: row.email.clone(),
            name: row.name.clone(),
            claims: serde_json::from_str(&row.claims)
                .map_err(|e| StoreError::db(format!("corrupt claims of a session: {e}")))?,
        })
    }

    fn session_record(&self, id_hash: &str, row: SessionRow) -> Result<SessionRecord, StoreError> {
        let identity = self.session_identity(id_hash, &row)?;
        let open =
            |column: &str, sealed: Option<&[u8]>| self.open_session_secret(id_hash, column, sealed);
        let csrf = open(CSRF_TOKEN, Some(&row.csrf_token))?
            .ok_or_else(|| StoreError::db("session without a CSRF token"))?;
        Ok(SessionRecord {
            access_token: open(ACCESS_TOKEN, row.access_token.as_deref())?,
            refresh_token: open(REFRESH_TOKEN, row.refresh_token.as_deref())?,
            id_token: open(ID_TOKEN, row.id_token.as_deref())?,
            dpop_key: open(DPOP_KEY, row.dpop_key.as_deref())?,
            app_data: open(APP_DATA, row.app_data.as_deref())?,
            provider: row.provider,
            iss: row.iss,
            sub: identity.sub.unwrap_or_default(),
            sid: row.sid,
            email: identity.email,
            name: identity.name,
            claims: identity.claims,
            access_expires_at: opt_from_db_time(row.access_expires_at)?,
            csrf_token: csrf,
            created_at: from_db_time(row.created_at)?,
            last_seen_at: from_db_time(row.last_seen_at)?,
            idle_expires_at: from_db_time(row.idle_expires_at)?,
            absolute_expires_at: from_db_time(row.absolute_expires_at)?,
            version: u64::try_from(row.version)
                .map_err(|_| StoreError::db("negative session version in store"))?,
        })
    }

    /// `identity` sealed for the session `id_hash`.
    pub(super) fn seal_identity(
        &self,
        id_hash: &str,
        identity: &Identity,
    ) -> Result<Vec<u8>, StoreError> {
        let plain =
            Zeroizing::new(
                serde_json::to_vec(identity).map_err(|e| StoreError::Invalid {
                    what: "session claims",
                    reason: e.to_string(),
                })?,
            );
        self.cipher.seal(&plain, &session_aad(id_hash, IDENTITY))
    }

    fn session_row(&self, hash: &str, rec: &SessionRecord) -> Result<SessionRow, StoreError> {
        let identity = self.seal_identity(
            hash,
            &Identity {
                sub: Some(rec.sub.clone()),
                email: rec.email.clone(),
                name: rec.name.clone(),
                claims: rec.claims.clone(),
            },
        )?;
        let seal =
            |column: &str, secret: Option<&Secret>| self.seal_session_secret(hash, column, secret);
        let csrf = self.cipher.seal(
            rec.csrf_token.expose().as_bytes(),
            &session_aad(hash, CSRF_TOKEN),
        )?;
        Ok(SessionRow {
            provider: rec.provider.clone(),
            iss: rec.iss.clone(),
            // The subject is sealed in the identity and indexed by its keyed hash only.
            sub: String::new(),
            sid: rec.sid.clone(),
            // The clear-text columns of rows from before the identity was encrypted stay empty.
            email: None,
            name: None,
            claims: "{}".to_owned(),
            access_token: seal(ACCESS_TOKEN, rec.access_token.as_ref())?,
            refresh_token: seal(REFRESH_TOKEN, rec.refresh_token.as_ref())?,
            id_token: seal(ID_TOKEN, rec.id_token.as_ref())?,
            access_expires_at: opt_to_db_time(rec.access_expires_at)?,
            csrf_token: csrf,
            created_at: to_db_time(rec.created_at)?,
            last_seen_at: to_db_time(rec.last_seen_at)?,
            idle_expires_at: to_db_time(rec.idle_expires_at.min(rec.absolute_expires_at))?,
            absolute_expires_at: to_db_time(rec.absolute_expires_at)?,
            version: to_db_version(rec.version)?,
            identity: Some(identity),
            dpop_key: seal(DPOP_KEY, rec.dpop_key.as_ref())?,
            app_data: seal(APP_DATA, rec.app_data.as_ref())?,
            subject_hash: Some(self.subject_index.hash(&rec.provider, &rec.sub)),
        })
    }
}

#[async_trait]
impl<B: Backend> SessionStore for Sealed<B> {
    async fn put_login_state(&self, state: &str, record: &LoginState) -> Result<(), StoreError> {
        let hash = state_hash(state);
        let json = Zeroizing::new(serde_json::to_vec(record).map_err(|e| StoreError::Invalid {
            what: "login state",
            reason: e.to_string(),
        })?);
        let sealed = self.cipher.seal(&json, &login_state_aad(&hash))?;
        self.backend
            .put_login_state(
                &hash,
                &record.provider,
                &sealed,
                to_db_time(record.created_at)?,
                to_db_time(record.expires_at)?,
            )
            .await
    }

    async fn take_login_state(
        &self,
        state: &str,
        now: UnixTime,
    ) -> Result<Option<LoginState>, StoreError> {
        let now = now.secs();
        let hash = state_hash(state);
        let now = to_db_time(now)?;
        let Some((sealed, expires_at)) = self.backend.take_login_state(&hash).await? else {
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

    async fn create_session(
        &self,
        session_id: &Secret,
        rec: &SessionRecord,
    ) -> Result<(), StoreError> {
        check_app_data(rec.app_data.as_ref())?;
        let hash = session_id_hash(session_id);
        let row = self.session_row(&hash, rec)?;
        if self.backend.create_session(&hash, &row).await? {
            Ok(())
        } else {
            Err(StoreError::Invalid {
                what: "session id",
                reason: "a session with this id exists already".to_owned(),
            })
        }
    }

    async fn get_session(
        &self,
        session_id: &Secret,
        now: UnixTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let now = now.secs();
        let hash = session_id_hash(session_id);
        self.backend
            .get_session(&hash, to_db_time(now)?)
            .await?
            .map(|row| self.session_record(&hash, row))
            .transpose()
    }

    async fn touch_session(
        &self,
        session_id: &Secret,
        now: UnixTime,
        idle_expires_at: u64,
    ) -> Result<(), StoreError> {
        let now = now.secs();
        let hash = session_id_hash(session_id);
        self.backend
            .touch_session(&hash, to_db_time(now)?, to_db_time(idle_expires_at)?)
            .await
    }

    async fn touch_sessions(&self, touches: &[SessionTouch]) -> Result<(), StoreError> {
        let rows = touches
            .iter()
            .map(|t| {
                Ok((
                    t.id_hash.clone(),
                    to_db_time(t.now.secs())?,
                    to_db_time(t.idle_expires_at)?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.backend.touch_sessions(&rows).await
    }

    async fn update_session_tokens(
        &self,
        session_id: &Secret,
        expected_version: u64,
        access_token: Option<&Secret>,
        refresh_token: Option<&Secret>,
        id_token: Option<&Secret>,
        access_expires_at: Option<u64>,
    ) -> Result<bool, StoreError> {
        let hash = session_id_hash(session_id);
        let update = TokenUpdate {
            expected_version: to_db_version(expected_version)?,
            access_token: self.seal_session_secret(&hash, ACCESS_TOKEN, access_token)?,
            refresh_token: self.seal_session_secret(&hash, REFRESH_TOKEN, refresh_token)?,
            id_token: self.seal_session_secret(&hash, ID_TOKEN, id_token)?,
            access_expires_at: opt_to_db_time(access_expires_at)?,
        };
        self.backend.update_session_tokens(&hash, &update).await
    }

    async fn set_session_app_data(
        &self,
        session_id: &Secret,
        app_data: Option<&Secret>,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        check_app_data(app_data)?;
        let hash = session_id_hash(session_id);
        let sealed = self.seal_session_secret(&hash, APP_DATA, app_data)?;
        self.backend
            .set_session_app_data(&hash, sealed.as_deref(), to_db_time(now.secs())?)
            .await
    }

    async fn delete_session(&self, session_id: &Secret) -> Result<bool, StoreError> {
        self.backend
            .delete_session(&session_id_hash(session_id))
            .await
    }

    async fn delete_sessions_for(
        &self,
        provider: &str,
        sid: Option<&str>,
        sub: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let subject = sub.map(|sub| self.subject_index.hash(provider, sub));
        let target = match (sid, subject.as_deref()) {
            (Some(sid), Some(subject)) => LogoutTarget::SidAndSubjectHash(sid, subject),
            (Some(sid), None) => LogoutTarget::Sid(sid),
            (None, Some(subject)) => LogoutTarget::SubjectHash(subject),
            (None, None) => {
                return Err(StoreError::Invalid {
                    what: "logout",
                    reason: "neither sid nor sub given".to_owned(),
                });
            }
        };
        self.backend.delete_sessions_for(provider, target).await
    }

    async fn count_sessions(&self, now: UnixTime) -> Result<u64, StoreError> {
        let now = now.secs();
        let n = self.backend.count_sessions(to_db_time(now)?).await?;
        u64::try_from(n).map_err(|_| StoreError::db(format!("negative count {n}")))
    }

    async fn purge_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        let now = now.secs();
        self.backend.purge_expired(to_db_time(now)?).await
    }

    async fn recently_ended_sessions(
        &self,
        within: std::time::Duration,
    ) -> Result<Vec<String>, StoreError> {
        let ms = i64::try_from(within.as_millis()).unwrap_or(i64::MAX);
        self.backend.recently_ended_sessions(ms).await
    }

    async fn take_login_token(
        &self,
        client: &str,
        rate: LoginRate,
    ) -> Result<LoginAllowance, StoreError> {
        let burst = f64::from(rate.burst.max(1));
        let per_ms = f64::from(rate.per_minute.max(1)) / 60_000.0;
        let (granted, left) = self.backend.take_login_token(client, burst, per_ms).await?;
        Ok(rate.decide(granted, left))
    }

    async fn remember_logout_jti(
        &self,
        provider: &str,
        jti: &str,
        expires_at: u64,
    ) -> Result<bool, StoreError> {
        self.backend
            .remember_logout_jti(provider, jti, to_db_time(expires_at)?)
            .await
    }
}
