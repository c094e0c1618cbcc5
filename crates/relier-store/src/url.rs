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
            url: redact(url),
            reason,
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
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
            StoreUrl::Postgres { url } => f.write_str(&redact(url.expose())),
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

impl StoreUrl {
    /// `url` with the password of `scheme://user:password@host…` replaced by `***`.
    pub(crate) fn redact(url: &str) -> String {
        redact(url)
    }
}

/// Replaces the password of `scheme://user:password@host…` with `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => url.to_owned(),
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
        assert_eq!(redact("postgres://u@h/x"), "postgres://u@h/x");
    }
}
