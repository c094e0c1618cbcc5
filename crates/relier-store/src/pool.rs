//! PostgreSQL pool settings carried as query parameters of the store URL
//! ([`MAX_CONNECTIONS_PARAM`], [`CONNECT_TIMEOUT_PARAM`]), so the CLI and the gateway take them
//! the same way; read when the URL is parsed (to refuse bad values early) and when the pool is
//! opened.

use std::time::Duration;

/// Why relier's pool parameters in a URL are refused (the caller names the URL, redacted).
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

/// Pool settings from the URL's query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolSettings {
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

/// Splits relier's own parameters off a PostgreSQL URL; the rest goes to the driver.
pub(crate) fn pool_settings(url: &str) -> Result<(String, PoolSettings), BadPoolParam> {
    let mut settings = PoolSettings {
        max_connections: DEFAULT_MAX_CONNECTIONS,
        connect_timeout: DEFAULT_CONNECT_TIMEOUT,
    };
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), settings));
    };
    let invalid = BadPoolParam;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
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
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_settings_are_split_off() {
        let (rest, s) = pool_settings("postgres://u@h/db").unwrap();
        assert_eq!(rest, "postgres://u@h/db");
        assert_eq!(s.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(s.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        let (rest, s) = pool_settings(
            "postgres://u@h/db?sslmode=verify-full&max_connections=3&connect_timeout=2",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u@h/db?sslmode=verify-full");
        assert_eq!(s.max_connections, 3);
        assert_eq!(s.connect_timeout, Duration::from_secs(2));
        let (rest, _) = pool_settings("postgres://u@h/db?max_connections=1").unwrap();
        assert_eq!(rest, "postgres://u@h/db");
        for bad in [
            "postgres://u:pw@h/db?max_connections=0",
            "postgres://u:pw@h/db?max_connections=x",
            "postgres://u:pw@h/db?connect_timeout=-1",
        ] {
            let err = pool_settings(bad).unwrap_err();
            assert!(err.0.contains("must be"), "{bad}: {err:?}");
        }
    }
}
