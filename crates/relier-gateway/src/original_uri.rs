//! The original request's URI on `/auth/check`: read from one header (`original_uri_header`,
//! default `X-Forwarded-Uri`), believed only from a trusted proxy, and decided fail-closed.
//!
//! nginx's `auth_request` copies the client's own headers into the subrequest, so a header the
//! proxy does not set itself is the client's to choose. The documented nginx block therefore
//! sets `X-Forwarded-Uri $request_uri` (overwriting the client's); Traefik and Caddy set it
//! themselves. Whatever the configuration, a request whose `X-Forwarded-Uri` and
//! `X-Original-URI` disagree — or that repeats either — is refused: one of them came from the
//! client. With path rules (`skip_auth`, `[[access]]`) a request from a peer outside
//! `trusted_proxies`, or without the header, is refused instead of judged as `/`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName};

use crate::paths::{self, NonCanonical};

/// The two headers front proxies use for the original URI.
const KNOWN: [&str; 2] = ["x-forwarded-uri", "x-original-uri"];

/// Headers some servers and frameworks take as the request's path instead of the request line
/// (IIS URL Rewrite and Symfony/Laminas: `X-Original-URL`, `X-Rewrite-URL`; some proxies:
/// `X-Forwarded-Path`), besides [`KNOWN`]. A client-sent one would let the upstream serve
/// another path than the one judged: `/auth/check` refuses a request that carries one (other
/// than the configured header), and the reverse proxy never forwards them.
pub const PATH_OVERRIDES: [&str; 5] = [
    "x-forwarded-uri",
    "x-original-uri",
    "x-original-url",
    "x-rewrite-url",
    "x-forwarded-path",
];

/// Why the original URI cannot be decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UriRefusal {
    /// `X-Forwarded-Uri` and `X-Original-URI` disagree, or one is repeated, or the request
    /// carries another header a framework reads as its path ([`PATH_OVERRIDES`]) (400
    /// `ambiguous_original_uri`).
    Ambiguous,
    /// Path rules exist and the peer is not in `trusted_proxies` (403 `untrusted_proxy`).
    UntrustedProxy,
    /// Path rules exist and the configured header is absent (400 `missing_original_uri`).
    Missing,
    /// The path is one no browser sends (400 `non_canonical_path`).
    NonCanonical(NonCanonical),
}

impl UriRefusal {
    /// The error code the proxy (and the log) sees.
    pub fn code(self) -> &'static str {
        match self {
            UriRefusal::Ambiguous => "ambiguous_original_uri",
            UriRefusal::UntrustedProxy => "untrusted_proxy",
            UriRefusal::Missing => "missing_original_uri",
            UriRefusal::NonCanonical(_) => "non_canonical_path",
        }
    }
}

/// How `/auth/check` reads the original URI.
#[derive(Debug, Clone)]
pub struct OriginalUriPolicy {
    /// `original_uri_header`.
    pub header: HeaderName,
    /// Path rules exist: the URI decides, so it must be known.
    pub decides: bool,
    /// `allow_non_canonical_paths`.
    pub allow_non_canonical: bool,
}

impl OriginalUriPolicy {
    /// The original request target (path and query) for a request from a peer that is
    /// (`trusted`) or is not a trusted proxy.
    pub fn target<'h>(&self, headers: &'h HeaderMap, trusted: bool) -> Result<&'h str, UriRefusal> {
        if !trusted {
            return if self.decides {
                Err(UriRefusal::UntrustedProxy)
            } else {
                Ok("/")
            };
        }
        let repeated = |name: &HeaderName| headers.get_all(name).iter().nth(1).is_some();
        if repeated(&self.header) || KNOWN.iter().any(|n| repeated(&HeaderName::from_static(n))) {
            return Err(UriRefusal::Ambiguous);
        }
        if let [Some(a), Some(b)] = KNOWN.map(|n| headers.get(n))
            && a != b
        {
            return Err(UriRefusal::Ambiguous);
        }
        let overriding = PATH_OVERRIDES
            .iter()
            .filter(|n| !KNOWN.contains(n) && **n != self.header.as_str())
            .any(|n| headers.contains_key(*n));
        if overriding {
            return Err(UriRefusal::Ambiguous);
        }
        let Some(value) = headers.get(&self.header) else {
            return if self.decides {
                Err(UriRefusal::Missing)
            } else {
                Ok("/")
            };
        };
        let Ok(target) = value.to_str() else {
            return Err(UriRefusal::NonCanonical(NonCanonical::ControlCharacter));
        };
        if !self.allow_non_canonical {
            paths::check_canonical(paths::path_of(target)).map_err(UriRefusal::NonCanonical)?;
        } else if !target.starts_with('/') {
            return Err(UriRefusal::NonCanonical(NonCanonical::NotAbsolutePath));
        }
        Ok(target)
    }
}

/// Peers logged at most once a minute each.
const LOG_EVERY: Duration = Duration::from_secs(60);
/// Most peers remembered; beyond it the memory starts over.
const MAX_PEERS: usize = 10_000;

/// Logs an untrusted peer once per minute.
#[derive(Debug, Default)]
pub struct PeerLog(Mutex<HashMap<IpAddr, Instant>>);

impl PeerLog {
    /// Whether `peer` should be logged now (and remembers that it was).
    pub fn should_log(&self, peer: IpAddr, now: Instant) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = seen.get(&peer)
            && now.saturating_duration_since(*at) < LOG_EVERY
        {
            return false;
        }
        if seen.len() >= MAX_PEERS {
            seen.retain(|_, at| now.saturating_duration_since(*at) < LOG_EVERY);
            if seen.len() >= MAX_PEERS {
                seen.clear();
            }
        }
        seen.insert(peer, now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn policy(decides: bool) -> OriginalUriPolicy {
        OriginalUriPolicy {
            header: HeaderName::from_static("x-forwarded-uri"),
            decides,
            allow_non_canonical: false,
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(*n, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn one_header_decides() {
        let p = policy(true);
        let h = headers(&[("x-forwarded-uri", "/admin/x?y=1")]);
        assert_eq!(p.target(&h, true), Ok("/admin/x?y=1"));
        let same = headers(&[("x-forwarded-uri", "/a"), ("x-original-uri", "/a")]);
        assert_eq!(p.target(&same, true), Ok("/a"));
        // X-Original-URI alone is not the configured header.
        let other = headers(&[("x-original-uri", "/a")]);
        assert_eq!(p.target(&other, true), Err(UriRefusal::Missing));
        assert_eq!(policy(false).target(&other, true), Ok("/"));
        let nginx = OriginalUriPolicy {
            header: HeaderName::from_static("x-original-uri"),
            ..policy(true)
        };
        assert_eq!(nginx.target(&other, true), Ok("/a"));
    }

    #[test]
    fn disagreeing_or_repeated_headers_are_ambiguous_whatever_the_config() {
        for p in [policy(true), policy(false)] {
            for h in [
                headers(&[
                    ("x-forwarded-uri", "/public/x"),
                    ("x-original-uri", "/admin"),
                ]),
                headers(&[
                    ("x-original-uri", "/admin"),
                    ("x-forwarded-uri", "/public/x"),
                ]),
                headers(&[
                    ("x-forwarded-uri", "/public/x"),
                    ("x-forwarded-uri", "/admin"),
                ]),
                headers(&[("x-forwarded-uri", "/a"), ("x-forwarded-uri", "/a")]),
            ] {
                assert_eq!(p.target(&h, true), Err(UriRefusal::Ambiguous), "{h:?}");
            }
        }
    }

    #[test]
    fn path_override_headers_are_refused_unless_configured() {
        for name in ["x-original-url", "x-rewrite-url", "x-forwarded-path"] {
            let mut h = headers(&[("x-forwarded-uri", "/public/x")]);
            h.insert(name, HeaderValue::from_static("/admin/secret"));
            assert_eq!(
                policy(false).target(&h, true),
                Err(UriRefusal::Ambiguous),
                "{name}"
            );
        }
        let iis = OriginalUriPolicy {
            header: HeaderName::from_static("x-original-url"),
            ..policy(true)
        };
        let h = headers(&[("x-original-url", "/admin/x")]);
        assert_eq!(iis.target(&h, true), Ok("/admin/x"));
    }

    #[test]
    fn untrusted_peers_are_refused_when_paths_decide() {
        let h = headers(&[("x-forwarded-uri", "/public/x")]);
        assert_eq!(
            policy(true).target(&h, false),
            Err(UriRefusal::UntrustedProxy)
        );
        assert_eq!(policy(false).target(&h, false), Ok("/"));
    }

    #[test]
    fn non_canonical_targets_are_refused() {
        let h = headers(&[("x-forwarded-uri", "/admin/..%2fpublic/x")]);
        assert!(matches!(
            policy(false).target(&h, true),
            Err(UriRefusal::NonCanonical(NonCanonical::DotSegment))
        ));
        let lenient = OriginalUriPolicy {
            allow_non_canonical: true,
            ..policy(true)
        };
        assert_eq!(lenient.target(&h, true), Ok("/admin/..%2fpublic/x"));
        let h = headers(&[("x-forwarded-uri", "/ok?q=../..%2f")]);
        assert_eq!(policy(true).target(&h, true), Ok("/ok?q=../..%2f"));
    }

    #[test]
    fn peers_are_logged_once_a_minute() {
        let log = PeerLog::default();
        let t = Instant::now();
        let ip = IpAddr::from([10, 0, 0, 1]);
        assert!(log.should_log(ip, t));
        assert!(!log.should_log(ip, t + Duration::from_secs(59)));
        assert!(log.should_log(ip, t + Duration::from_secs(61)));
        assert!(log.should_log(IpAddr::from([10, 0, 0, 2]), t));
    }
}
