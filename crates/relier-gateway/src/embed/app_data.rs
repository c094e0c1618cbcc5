//! The embedding application's own data on relier's session: an [`AppSlot`] holds one JSON
//! value of the application's type, stored sealed with the session (like its tokens) and read
//! back from every request's [`super::Identity`].

use axum::http::HeaderMap;
use relier_core::Secret;
use relier_store::{MAX_APP_DATA_LEN, StoreError, UnixTime, session_id_hash};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::session_cookie;
use crate::clock;
use crate::state::AppState;

/// The application's data for one session: a value of the application's type, kept as JSON of
/// at most [`AppSlot::MAX_LEN`] bytes. Filled by the [`super::LoginHook`] (or given to
/// [`crate::Gateway::start_local_session`]), stored encrypted with the session, read with
/// [`super::Identity::app_data`] and replaced with [`crate::Gateway::set_app_data`].
/// `Debug` is redacted.
#[derive(Clone, Default)]
pub struct AppSlot(Option<Secret>);

impl AppSlot {
    /// The largest value, in bytes of JSON (it is read with the session on every cache miss).
    pub const MAX_LEN: usize = MAX_APP_DATA_LEN;

    /// An empty slot.
    pub fn new() -> Self {
        AppSlot(None)
    }

    /// A slot holding `value`.
    ///
    /// # Errors
    /// As [`AppSlot::set`].
    pub fn with<T: Serialize>(value: &T) -> Result<Self, AppDataError> {
        let mut slot = AppSlot::new();
        slot.set(value)?;
        Ok(slot)
    }

    /// Replaces the value with `value`. On error the slot is left as it was.
    ///
    /// # Errors
    /// [`AppDataError::TooLarge`] beyond [`AppSlot::MAX_LEN`] bytes of JSON (refused whole,
    /// never truncated), [`AppDataError::Encode`] when `value` does not serialize.
    pub fn set<T: Serialize>(&mut self, value: &T) -> Result<(), AppDataError> {
        let json = serde_json::to_string(value).map_err(|e| AppDataError::Encode {
            category: category(&e),
        })?;
        if json.len() > Self::MAX_LEN {
            return Err(AppDataError::TooLarge {
                len: json.len(),
                max: Self::MAX_LEN,
            });
        }
        self.0 = Some(Secret::new(json));
        Ok(())
    }

    /// The value as a `T`; `Ok(None)` when the slot is empty.
    ///
    /// # Errors
    /// [`AppDataError::Decode`] when the stored JSON is not a `T` (e.g. written by an older
    /// version of the application).
    pub fn get<T: DeserializeOwned>(&self) -> Result<Option<T>, AppDataError> {
        let Some(json) = &self.0 else {
            return Ok(None);
        };
        serde_json::from_str(json.expose())
            .map(Some)
            .map_err(|e| AppDataError::Decode {
                category: category(&e),
                line: e.line(),
                column: e.column(),
            })
    }

    /// Empties the slot.
    pub fn clear(&mut self) {
        self.0 = None;
    }

    /// Whether the slot holds nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// What a stored session carries (JSON text, already within the cap).
    pub(crate) fn from_stored(stored: Option<Secret>) -> Self {
        AppSlot(stored)
    }

    pub(crate) fn into_stored(self) -> Option<Secret> {
        self.0
    }
}

impl std::fmt::Debug for AppSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(_) => f.write_str("AppSlot([REDACTED])"),
            None => f.write_str("AppSlot(empty)"),
        }
    }
}

fn category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "io",
        serde_json::error::Category::Syntax => "syntax",
        serde_json::error::Category::Data => "data",
        serde_json::error::Category::Eof => "eof",
    }
}

/// Why an [`AppSlot`] refused a value. No variant carries the value (serde's messages may
/// quote it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppDataError {
    /// The value's JSON is longer than [`AppSlot::MAX_LEN`].
    #[error("application data of {len} bytes: at most {max}")]
    TooLarge {
        /// Its length in bytes of JSON.
        len: usize,
        /// The largest length accepted.
        max: usize,
    },
    /// The value does not serialize to JSON.
    #[error("application data does not serialize ({category} error)")]
    Encode {
        /// serde_json's error category.
        category: &'static str,
    },
    /// The stored JSON is not a value of the requested type.
    #[error(
        "application data is not of the requested type ({category} error at line {line}, column {column})"
    )]
    Decode {
        /// serde_json's error category.
        category: &'static str,
        /// Where, in the JSON.
        line: usize,
        /// Where, in the JSON.
        column: usize,
    },
}

/// Why the request's session could not be started or changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The request has no live relier session.
    #[error("no live session")]
    NoSession,
    /// A [`super::LocalLogin`] that cannot be a session's identity.
    #[error("local login: {reason}")]
    InvalidLogin {
        /// What is wrong (never the value).
        reason: &'static str,
    },
    /// The random source failed.
    #[error("random source failed")]
    Random,
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// Replaces the application data of the request's session (see
/// [`crate::Gateway::set_app_data`]): in the store, then out of this instance's cache, so the
/// next request reads the new value; other instances read it when their cached copy is older
/// than `[session] cache_ttl`, as for refreshed tokens.
pub(crate) async fn set_app_data(
    state: &AppState,
    headers: &HeaderMap,
    slot: AppSlot,
) -> Result<(), SessionError> {
    let id = session_cookie(&state.settings, headers).ok_or(SessionError::NoSession)?;
    let stored = slot.into_stored();
    let live = state
        .store
        .set_session_app_data(&id, stored.as_ref(), UnixTime(clock::now()))
        .await?;
    // Whatever the outcome, the cached copy is stale now.
    state.sessions.remove(&session_id_hash(&id));
    if live {
        Ok(())
    } else {
        Err(SessionError::NoSession)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Account {
        id: u64,
        role: String,
    }

    #[test]
    fn a_slot_round_trips_a_typed_value_and_redacts_it() {
        let mut slot = AppSlot::new();
        assert!(slot.is_empty());
        assert_eq!(slot.get::<Account>().unwrap(), None);
        assert_eq!(format!("{slot:?}"), "AppSlot(empty)");
        let value = Account {
            id: 42,
            role: "owner-Zq9".into(),
        };
        slot.set(&value).unwrap();
        assert_eq!(slot.get::<Account>().unwrap(), Some(value));
        assert!(!format!("{slot:?}").contains("owner-Zq9"));
        // Another type: a typed error without the value.
        let err = slot.get::<Vec<u8>>().unwrap_err();
        assert!(matches!(err, AppDataError::Decode { .. }), "{err:?}");
        assert!(!err.to_string().contains("owner-Zq9"), "{err}");
        slot.clear();
        assert!(slot.is_empty());
    }

    #[test]
    fn a_value_over_the_cap_is_refused_whole() {
        let at_cap = "a".repeat(AppSlot::MAX_LEN - 2); // plus the quotes
        let mut slot = AppSlot::with(&at_cap).unwrap();
        let over = "a".repeat(AppSlot::MAX_LEN - 1);
        assert_eq!(
            slot.set(&over).unwrap_err(),
            AppDataError::TooLarge {
                len: AppSlot::MAX_LEN + 1,
                max: AppSlot::MAX_LEN
            }
        );
        // Left as it was.
        assert_eq!(slot.get::<String>().unwrap(), Some(at_cap));
    }
}
