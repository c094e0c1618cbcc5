//! The query of a PostgreSQL store URL: relier's pool settings ([`MAX_CONNECTIONS_PARAM`],
//! [`CONNECT_TIMEOUT_PARAM`]), carried in the URL so the CLI and the gateway take them the same
//! way, split off; the driver's parameters checked against the names sqlx reads (a misspelt
//! `sslmode` is refused, not ignored, and sqlx never logs an unknown parameter's value); the
//! `sslmode` written in the URL noted ([`crate::pg_tls`] decides the default). Read when the
//! URL is parsed (to refuse bad values early) and when the pool is opened.

use std::str::FromStr as _;
use std::time::Duration;

use sqlx::postgres::PgSslMode;

/// Why a PostgreSQL URL's query is refused (the caller names the URL, redacted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadPoolParam(pub &'static str);

/// URL query parameter: the most connections one handle opens.
pub const MAX_CONNECTIONS_PARAM: &str = "max_connections";
/// URL query parameter: seconds to wait for a connection (new or from the pool).
pub const CONNECT_TIMEOUT_PARAM: &str = "connect_timeout";
/// Default of [`MAX_CONNECTIONS_PARAM`].
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
/// Default of [`CONNECT_TIMEOUT_PARAM`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The query parameters sqlx 0.8's `PgConnectOptions` reads (besides `options[NAME]`).
const DRIVER_PARAMS: &[&str] = &[
    "sslmode",
    "ssl-mode",
    "sslrootcert",
    "ssl-root-cert",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
    "statement-cache-capacity",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "application_name",
    "options",
];

/// Pool settings from the URL's query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolSettings {
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

/// A PostgreSQL URL's query, read. No `Debug`: the URL may hold a password.
pub(crate) struct PgQuery {
    /// The URL without relier's own parameters: what the driver parses.
    pub driver_url: String,
    pub settings: PoolSettings,
    /// The `sslmode` written in the URL (the last one, as sqlx reads them in order).
    pub sslmode: Option<PgSslMode>,
}

/// Splits relier's own parameters off a PostgreSQL URL and notes its `sslmode`; refuses a
/// parameter sqlx does not know.
pub(crate) fn pool_settings(url: &str) -> Result<PgQuery, BadPoolParam> {
    let mut settings = PoolSettings {
        max_connections: DEFAULT_MAX_CONNECTIONS,
        connect_timeout: DEFAULT_CONNECT_TIMEOUT,
    };
    let mut sslmode = None;
    let Some((base, query)) = url.split_once('?') else {
        return Ok(PgQuery {
            driver_url: url.to_owned(),
            settings,
            sslmode,
        });
    };
    let invalid = BadPoolParam;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        // Keys and values percent-decoded as sqlx reads them (`Url::query_pairs`).
        let Some((key, value)) = ::url::form_urlencoded::parse(pair.as_bytes()).next() else {
            continue;
        };
        match &*key {
            MAX_CONNECTIONS_PARAM => {
                settings.max_connections = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| invalid("max_connections must be a positive integer"))?;
            }
            CONNECT_TIMEOUT_PARAM => {
                let secs: u64 = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    invalid("connect_timeout must be a positive number of seconds")
                })?;
                settings.connect_timeout = Duration::from_secs(secs);
            }
            "sslmode" | "ssl-mode" => {
                sslmode = Some(PgSslMode::from_str(&value).map_err(|_| {
                    invalid(
                        "sslmode must be disable, allow, prefer, require, verify-ca or verify-full",
                    )
                })?);
                kept.push(pair);
            }
            k if DRIVER_PARAMS.contains(&k)
                || k.strip_prefix("options[").is_some_and(|k| k.ends_with(']')) =>
            {
                kept.push(pair);
            }
            _ => {
                return Err(invalid(
                    "unknown query parameter (known: sslmode, sslrootcert, sslcert, sslkey, host, \
                     hostaddr, port, dbname, user, password, application_name, options, \
                     statement-cache-capacity, max_connections, connect_timeout)",
                ));
            }
        }
    }
    let driver_url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok(PgQuery {
        driver_url,
        settings,
        sslmode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_settings_are_split_off() {
        let q = pool_settings("postgres://u@h/db").unwrap();
        assert_eq!(q.driver_url, "postgres://u@h/db");
        assert_eq!(q.settings.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(q.settings.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        assert!(q.sslmode.is_none());
        let q = pool_settings(
            "postgres://u@h/db?sslmode=verify-full&max_connections=3&connect_timeout=2",
        )
        .unwrap();
        assert_eq!(q.driver_url, "postgres://u@h/db?sslmode=verify-full");
        assert_eq!(q.settings.max_connections, 3);
        assert_eq!(q.settings.connect_timeout, Duration::from_secs(2));
        assert!(matches!(q.sslmode, Some(PgSslMode::VerifyFull)));
        let q = pool_settings("postgres://u@h/db?max_connections=1").unwrap();
        assert_eq!(q.driver_url, "postgres://u@h/db");
        // Percent-encoded names are the names sqlx reads; the last sslmode wins, as in sqlx.
        let q =
            pool_settings("postgres://u@h/db?max%5Fconnections=4&ssl-mode=prefer&sslmode=DISABLE")
                .unwrap();
        assert_eq!(q.settings.max_connections, 4);
        assert!(matches!(q.sslmode, Some(PgSslMode::Disable)));
        assert_eq!(
            q.driver_url,
            "postgres://u@h/db?ssl-mode=prefer&sslmode=DISABLE"
        );
        let q =
            pool_settings("postgres://u@h/db?options[search_path]=x&application_name=r").unwrap();
        assert_eq!(
            q.driver_url,
            "postgres://u@h/db?options[search_path]=x&application_name=r"
        );
        for bad in [
            "postgres://u:pw@h/db?max_connections=0",
            "postgres://u:pw@h/db?max_connections=x",
            "postgres://u:pw@h/db?connect_timeout=-1",
            "postgres://u:pw@h/db?sslmode=verify",
            "postgres://u:pw@h/db?sslmod=disable",
            "postgres://u@h/db?pasword=pw",
        ] {
            let Err(err) = pool_settings(bad) else {
                panic!("{bad} accepted")
            };
            assert!(
                err.0.contains("must be") || err.0.contains("unknown"),
                "{bad}: {err:?}"
            );
        }
    }
}
