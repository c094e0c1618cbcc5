//! Where a store lives: `sqlite://relier.db` (relative to the working directory),
//! `sqlite:///abs/path.db`, or `postgres://…` (see [`crate::open_with`] and the crate docs for
//! its query parameters).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use relier_core::Secret;

use crate::error::StoreError;

/// The default store URL: `relier.db` in the working directory.
pub const DEFAULT_STORE_URL: &str = "sqlite://relier.db";

/// A parsed store URL. `Display` gives the URL with any password redacted; it is the name
/// used in error messages such as [`StoreError::WrongMasterKey`].
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreUrl {
    /// An SQLite database file, created on first use (`mode=rwc` semantics).
    Sqlite {
        /// The database file as given (relative paths are relative to the working directory).
        path: PathBuf,
    },
    /// A PostgreSQL database (`postgres://` or `postgresql://`), with libpq's `sslmode` /
    /// `sslrootcert` and relier's `max_connections` / `connect_timeout` query parameters.
    Postgres {
        /// The URL (may hold a password).
        url: Secret,
    },
}

impl StoreUrl {
    /// Parses `sqlite://PATH` (`sqlite://relier.db`, `sqlite:///abs/path.db`, also
    /// `sqlite:PATH`), optionally with the query `?mode=rwc` (the only mode: stores are created
    /// on first use), or `postgres://…` / `postgresql://…`.
    ///
    /// # Errors
    /// [`StoreError::InvalidUrl`].
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let invalid = |reason: &'static str| StoreError::InvalidUrl {
            url: redact_url(url),
            reason,
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            ::url::Url::parse(url).map_err(|_| invalid("not a valid URL"))?;
            crate::pool::pool_settings(url).map_err(|e| invalid(e.0))?;
            return Ok(StoreUrl::Postgres {
                url: Secret::new(url),
            });
        }
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| invalid("expected sqlite://PATH or postgres://…"))?;
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        if let Some(query) = query
            && !query.is_empty()
            && query != "mode=rwc"
        {
            return Err(invalid(
                "the only supported query is ?mode=rwc (stores are created on first use)",
            ));
        }
        if path.is_empty() {
            return Err(invalid("no database path"));
        }
        if path == ":memory:" || path.starts_with("file:") {
            return Err(invalid(
                "in-memory databases cannot hold keys across commands; give a file path",
            ));
        }
        Ok(StoreUrl::Sqlite {
            path: PathBuf::from(path),
        })
    }

    /// An SQLite store at `path`.
    #[must_use]
    pub fn sqlite(path: impl Into<PathBuf>) -> Self {
        StoreUrl::Sqlite { path: path.into() }
    }

    /// The database file of an SQLite store.
    #[must_use]
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            StoreUrl::Sqlite { path } => Some(path),
            StoreUrl::Postgres { .. } => None,
        }
    }
}

impl FromStr for StoreUrl {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StoreUrl::parse(s)
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            StoreUrl::Postgres { url } => f.write_str(&redact_url(url.expose())),
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

/// What stands for a password in a message.
const HIDDEN: &str = "***";

/// `raw` fit for a message (an error, a log line, `Display` and `Debug` of a [`StoreUrl`]): the
/// password of `scheme://user:password@host…` and the value of every `password` query parameter
/// (its name percent-decoded, as the PostgreSQL driver reads it) replaced by `***`. A password
/// holding a raw `/`, `?` or `#` ends the authority early and spills into the path, a query
/// name or the fragment (which then hold an `@`): such a URL is shown as its scheme only, as
/// is a string that is not a URL unless nothing in it can be a password (no `@`, `?` or `:`).
#[must_use]
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = ::url::Url::parse(raw) else {
        return redact_unparsed(raw);
    };
    let query_keys = url.query().unwrap_or_default().split('&');
    let spilt = url.path().contains('@')
        || url.fragment().is_some_and(|f| f.contains('@'))
        || query_keys
            .map(|pair| pair.split_once('=').map_or(pair, |(key, _)| key))
            .any(|key| key.contains('@'));
    if spilt {
        return format!("{}://{HIDDEN}", url.scheme());
    }
    if url.password().is_some() {
        // Fails only for URLs that cannot have a password (no host): then there is none.
        let _ = url.set_password(Some(HIDDEN));
    }
    if let Some(query) = url.query() {
        let redacted = query
            .split('&')
            .map(
                |pair| match ::url::form_urlencoded::parse(pair.as_bytes()).next() {
                    Some((key, _)) if key == "password" => {
                        let raw_key = pair.split_once('=').map_or(pair, |(key, _)| key);
                        format!("{raw_key}={HIDDEN}")
                    }
                    _ => pair.to_owned(),
                },
            )
            .collect::<Vec<_>>()
            .join("&");
        url.set_query(Some(&redacted));
    }
    url.into()
}

fn redact_unparsed(raw: &str) -> String {
    match raw.split_once("://") {
        Some((scheme, rest)) if rest.contains(['@', '?', ':']) => format!("{scheme}://{HIDDEN}"),
        None if raw.contains(['@', '?']) => HIDDEN.to_owned(),
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls() {
        assert_eq!(
            StoreUrl::parse("sqlite://relier.db").unwrap(),
            StoreUrl::sqlite("relier.db")
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///abs/path.db").unwrap(),
            StoreUrl::sqlite("/abs/path.db")
        );
        assert_eq!(
            StoreUrl::parse("sqlite://relier.db?mode=rwc").unwrap(),
            StoreUrl::sqlite("relier.db")
        );
        assert_eq!(
            StoreUrl::parse("sqlite:data/r.db").unwrap(),
            StoreUrl::sqlite("data/r.db")
        );
        assert_eq!(
            StoreUrl::parse(DEFAULT_STORE_URL).unwrap().to_string(),
            "sqlite://relier.db"
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///abs/path.db")
                .unwrap()
                .to_string(),
            "sqlite:///abs/path.db"
        );
        for bad in [
            "sqlite://",
            "sqlite://x.db?mode=ro",
            "sqlite::memory:",
            "mysql://x",
            "relier.db",
        ] {
            assert!(
                matches!(StoreUrl::parse(bad), Err(StoreError::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn postgres_urls_are_parsed_and_redacted() {
        let url = StoreUrl::parse("postgres://rp:hunter2@db.example:5432/relier").unwrap();
        assert!(url.sqlite_path().is_none());
        assert_eq!(url.to_string(), "postgres://rp:***@db.example:5432/relier");
        assert!(!format!("{url:?}").contains("hunter2"));
        let url = StoreUrl::parse("postgresql://db/relier").unwrap();
        assert_eq!(url.to_string(), "postgresql://db/relier");
        assert_eq!(redact_url("postgres://u@h/x"), "postgres://u@h/x");
    }

    #[test]
    fn passwords_are_redacted_wherever_they_are() {
        for (raw, shown) in [
            // No password: unchanged.
            (
                "postgres://rp@db.example/relier",
                "postgres://rp@db.example/relier",
            ),
            (
                "postgres://db.example:5432/relier?sslmode=verify-full&application_name=r",
                "postgres://db.example:5432/relier?sslmode=verify-full&application_name=r",
            ),
            // Userinfo.
            (
                "postgres://rp:hunter2@db.example/relier",
                "postgres://rp:***@db.example/relier",
            ),
            ("postgresql://rp:@db/relier", "postgresql://rp@db/relier"),
            // Percent-encoded, and a raw '@' inside the password (the last '@' ends userinfo).
            (
                "postgres://rp:hun%40ter2@db/relier",
                "postgres://rp:***@db/relier",
            ),
            (
                "postgres://rp:hun@ter2@db/relier",
                "postgres://rp:***@db/relier",
            ),
            // Query parameter, also with a percent-encoded name or value.
            (
                "postgres://rp@db/relier?sslmode=require&password=hunter2",
                "postgres://rp@db/relier?sslmode=require&password=***",
            ),
            (
                "postgres://rp@db/relier?pass%77ord=hunter2",
                "postgres://rp@db/relier?pass%77ord=***",
            ),
            (
                "postgres://rp@db/relier?password=hun%26ter2",
                "postgres://rp@db/relier?password=***",
            ),
            // Both at once.
            (
                "postgres://rp:hunter2@db/relier?password=hunter2&max_connections=3",
                "postgres://rp:***@db/relier?password=***&max_connections=3",
            ),
            // A raw '/', '?' or '#' in a password: what spills over is hidden.
            ("postgres://rp:12/hunter2@db/relier", "postgres://***"),
            ("postgres://rp:12?hunter2@db/relier", "postgres://***"),
            ("postgres://rp:12#hunter2@db/relier", "postgres://***"),
            ("postgres://rp:hun/ter2@db/relier", "postgres://***"),
            // Not URLs.
            ("relier.db", "relier.db"),
            ("rp:hunter2@db", "rp://***"),
            ("hunter2@db", "***"),
        ] {
            assert_eq!(redact_url(raw), shown, "{raw}");
            assert!(!redact_url(raw).contains("hun"), "{raw}");
            assert!(!redact_url(raw).contains("12"), "{raw}");
        }
    }
}
