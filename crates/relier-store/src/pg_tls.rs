//! The transport of a PostgreSQL store (issue 20 §3). libpq's and sqlx's default `sslmode` is
//! `prefer`: TLS when the server offers it, clear text otherwise, and no check of the server's
//! identity either way — a man in the middle declines TLS (or presents any certificate) and is
//! sent the password. So a store on a host that is neither loopback nor a Unix socket defaults
//! to `verify-full` (libpq, "SSL Support", "Client Verification of Server Certificates": the
//! chain to a trusted root and the host name), with sqlx's roots: `sslrootcert` when given,
//! else the Mozilla roots (webpki-roots). Weaker modes only when written in the URL, with a warning
//! ([`transport_warning`]); loopback and sockets keep sqlx's default (`PGSSLMODE`, else
//! `prefer`).
//!
//! Loopback is read from the host's spelling, never from a name lookup (which the network can
//! answer): `localhost`, an address in 127.0.0.0/8 or `::1` (also IPv4-mapped). Any other
//! spelling, `0.0.0.0` and `127.1` included, is remote.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr as _;

use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::error::StoreError;
use crate::pool::{PoolSettings, pool_settings};
use crate::url::{StoreUrl, redact_url};

/// How a store's `sslmode` was chosen.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Transport {
    /// Loopback or a Unix socket, no `sslmode` in the URL: sqlx's default.
    Local,
    /// A remote host, no `sslmode` in the URL: `verify-full`.
    RemoteDefault,
    /// A remote host with the `sslmode` written in the URL.
    RemoteExplicit(PgSslMode),
}

/// A PostgreSQL store URL made into the driver's options. No `Debug`: sqlx's options print
/// the password.
pub(crate) struct PgTarget {
    pub options: PgConnectOptions,
    pub settings: PoolSettings,
    pub transport: Transport,
}

/// Parses `raw` (a `postgres://` store URL) into connect options with the `sslmode` decided
/// here. `url` names the store in errors (password redacted).
pub(crate) fn pg_target(url: &StoreUrl, raw: &str) -> Result<PgTarget, StoreError> {
    let query = pool_settings(raw).map_err(|e| StoreError::InvalidUrl {
        url: redact_url(raw),
        reason: e.0,
    })?;
    let options = PgConnectOptions::from_str(&query.driver_url)
        .map_err(|e| StoreError::db(format!("store {url}: {e}")))?;
    // sqlx keeps an IPv6 literal's brackets in the host: rustls then cannot read it as the
    // address to verify the certificate against.
    let host = options.get_host();
    let options = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(bare) => {
            let bare = bare.to_owned();
            options.host(&bare)
        }
        None => options,
    };
    let local = options.get_socket().is_some() || is_local_host(options.get_host());
    let (options, transport) = match (local, query.sslmode) {
        (true, _) => (options, Transport::Local),
        (false, None) => (
            options.ssl_mode(PgSslMode::VerifyFull),
            Transport::RemoteDefault,
        ),
        (false, Some(mode)) => (options, Transport::RemoteExplicit(mode)),
    };
    Ok(PgTarget {
        options,
        settings: query.settings,
        transport,
    })
}

/// A host that is this machine by its spelling: a socket directory (sqlx reads a host starting
/// with `/` as one), none, `localhost` or a loopback address.
fn is_local_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.starts_with('/') {
        return true;
    }
    // RFC 6761 §6.3: "localhost." is the loopback name (names under it are not trusted to
    // resolve there: only the name itself counts).
    if host.eq_ignore_ascii_case("localhost") || host.eq_ignore_ascii_case("localhost.") {
        return true;
    }
    // RFC 1122 §3.2.1.3 (127.0.0.0/8), RFC 4291 §2.5.3 (::1), §2.5.5.2 (IPv4-mapped).
    IpAddr::from_str(host).is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// Why a remote store's transport deserves a warning: a mode weaker than `verify-full`,
/// written in its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportWarning {
    /// `sslmode=disable` (or `allow`, which sqlx treats as `disable`): clear text.
    ClearText,
    /// `sslmode=prefer`: clear text when the server — or a man in the middle — declines TLS,
    /// and the server's certificate is not checked.
    MayFallBackToClearText,
    /// `sslmode=require`: encrypted, but the server's certificate is not checked.
    IdentityNotChecked,
    /// `sslmode=verify-ca`: the certificate chain is checked, not the host name.
    HostNameNotChecked,
}

impl fmt::Display for TransportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportWarning::ClearText => {
                "sslmode=disable: the connection to the remote database is not encrypted \
                 (the password and every row travel in clear text)"
            }
            TransportWarning::MayFallBackToClearText => {
                "sslmode=prefer: a man in the middle can decline TLS and read the password and \
                 every row, and the server's certificate is not checked; remove sslmode to get \
                 verify-full"
            }
            TransportWarning::IdentityNotChecked => {
                "sslmode=require does not check the server's identity: a man in the middle can \
                 present any certificate and read the password and every row; remove sslmode to \
                 get verify-full (with sslrootcert=FILE for a private CA)"
            }
            TransportWarning::HostNameNotChecked => {
                "sslmode=verify-ca does not check the server's host name: any server holding a \
                 certificate from the same CA can stand in for it; remove sslmode to get \
                 verify-full"
            }
        })
    }
}

/// The warning the transport of the store at `url` deserves, if any: a remote PostgreSQL store
/// whose URL asks for less than `verify-full`. The gateway logs it, the CLI prints it.
#[must_use]
pub fn transport_warning(url: &StoreUrl) -> Option<TransportWarning> {
    let StoreUrl::Postgres { url: raw } = url else {
        return None;
    };
    let target = pg_target(url, raw.expose()).ok()?;
    match target.transport {
        Transport::Local | Transport::RemoteDefault => None,
        Transport::RemoteExplicit(mode) => match mode {
            PgSslMode::Disable | PgSslMode::Allow => Some(TransportWarning::ClearText),
            PgSslMode::Prefer => Some(TransportWarning::MayFallBackToClearText),
            PgSslMode::Require => Some(TransportWarning::IdentityNotChecked),
            PgSslMode::VerifyCa => Some(TransportWarning::HostNameNotChecked),
            PgSslMode::VerifyFull => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(raw: &str) -> (PgSslMode, Option<TransportWarning>) {
        let url = StoreUrl::parse(raw).unwrap();
        let StoreUrl::Postgres { url: secret } = &url else {
            panic!("{raw}")
        };
        let target = pg_target(&url, secret.expose()).unwrap();
        (target.options.get_ssl_mode(), transport_warning(&url))
    }

    fn mode(raw: &str) -> &'static str {
        match decide(raw).0 {
            PgSslMode::Disable => "disable",
            PgSslMode::Allow => "allow",
            PgSslMode::Prefer => "prefer",
            PgSslMode::Require => "require",
            PgSslMode::VerifyCa => "verify-ca",
            PgSslMode::VerifyFull => "verify-full",
        }
    }

    /// sqlx's default for local hosts (`PGSSLMODE` when the environment sets it).
    fn local_default() -> &'static str {
        mode("postgres://rp@127.0.0.1/relier")
    }

    #[test]
    fn loopback_and_sockets_keep_the_default() {
        let default = local_default();
        assert!(default != "verify-full" || std::env::var("PGSSLMODE").is_ok());
        for raw in [
            "postgres://rp@localhost/relier",
            "postgres://rp@LocalHost./relier",
            "postgres://rp:pw@localhost:5433/relier",
            "postgres://rp@127.0.0.1:5432/relier",
            "postgres://rp@127.45.6.7/relier",
            "postgres://rp@[::1]:5432/relier",
            "postgres://rp@[0:0:0:0:0:0:0:1]/relier",
            "postgres://rp@[::ffff:127.0.0.1]/relier",
            // Unix sockets: a percent-encoded path as the host, or the host parameter.
            "postgres://rp@%2Fvar%2Frun%2Fpostgresql/relier",
            "postgres:///relier?host=/var/run/postgresql",
            // No host: sqlx's own choice (a socket directory, else localhost).
            "postgres:///relier",
            "postgres://rp@db.example/relier?host=/tmp",
            // hostaddr replaces the host in sqlx: the connection goes there.
            "postgres://rp@db.example/relier?hostaddr=127.0.0.1",
        ] {
            assert_eq!(mode(raw), default, "{raw}");
            assert_eq!(decide(raw).1, None, "{raw}");
        }
        // Explicit modes on loopback are taken as written, without a warning.
        assert_eq!(
            mode("postgres://rp@localhost/relier?sslmode=disable"),
            "disable"
        );
        assert_eq!(
            decide("postgres://rp@localhost/relier?sslmode=disable").1,
            None
        );
    }

    #[test]
    fn remote_hosts_default_to_verify_full() {
        for raw in [
            "postgres://rp:pw@db.example/relier",
            "postgresql://rp@db.example:5432/relier?sslrootcert=/etc/ssl/ca.pem",
            "postgres://rp@192.0.2.7/relier",
            "postgres://rp@10.0.0.1:5432/relier",
            "postgres://rp@[2001:db8::7]:5432/relier",
            "postgres://rp@localhost.example/relier",
            "postgres://rp@db.localhost/relier",
            "postgres://rp@0.0.0.0/relier",
            "postgres://rp@127.1/relier",
            "postgres://rp@localhost/relier?host=db.example",
            "postgres://rp@localhost/relier?hostaddr=192.0.2.7",
        ] {
            assert_eq!(mode(raw), "verify-full", "{raw}");
            assert_eq!(decide(raw).1, None, "{raw}");
        }
    }

    #[test]
    fn remote_hosts_take_an_explicit_mode_with_a_warning() {
        for (query, expected, warning) in [
            ("sslmode=verify-full", "verify-full", None),
            (
                "sslmode=verify-ca",
                "verify-ca",
                Some(TransportWarning::HostNameNotChecked),
            ),
            (
                "sslmode=require",
                "require",
                Some(TransportWarning::IdentityNotChecked),
            ),
            (
                "sslmode=prefer",
                "prefer",
                Some(TransportWarning::MayFallBackToClearText),
            ),
            (
                "ssl-mode=disable",
                "disable",
                Some(TransportWarning::ClearText),
            ),
            ("sslmode=allow", "allow", Some(TransportWarning::ClearText)),
            (
                "sslmode=Require",
                "require",
                Some(TransportWarning::IdentityNotChecked),
            ),
        ] {
            for host in ["db.example", "192.0.2.7", "[2001:db8::7]"] {
                let raw = format!("postgres://rp:pw@{host}/relier?{query}");
                assert_eq!(mode(&raw), expected, "{raw}");
                assert_eq!(decide(&raw).1, warning, "{raw}");
            }
        }
        let warning = TransportWarning::IdentityNotChecked.to_string();
        assert!(
            warning.contains("does not check the server's identity"),
            "{warning}"
        );
    }

    #[test]
    fn an_ipv6_literal_loses_its_brackets() {
        let url = StoreUrl::parse("postgres://rp@[2001:db8::7]:5432/relier").unwrap();
        let StoreUrl::Postgres { url: secret } = &url else {
            panic!()
        };
        let target = pg_target(&url, secret.expose()).unwrap();
        assert_eq!(target.options.get_host(), "2001:db8::7");
        assert_eq!(target.options.get_port(), 5432);
    }
}
