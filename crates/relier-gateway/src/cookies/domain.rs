//! `cookie_domain`: one login for every host under a domain. The session cookie then carries
//! `Domain=` (so it cannot keep the `__Host-` prefix, RFC 6265bis §4.1.3.2, and becomes
//! `__Secure-relier`), and `return_to` may name any https host under that domain — and no other.

use url::{Host, Url};

/// Why `cookie_domain` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CookieDomainError {
    /// Not a DNS name with at least two labels (an IP address, `localhost`, a bare label).
    #[error("cookie_domain {0:?} is not a domain name with at least two labels")]
    NotADomain(String),
    /// `public_url`'s host is not the domain or under it: browsers would refuse the cookie
    /// (RFC 6265bis §5.7 step 9).
    #[error("cookie_domain {domain:?} does not cover public_url's host {host:?}")]
    DoesNotCover {
        /// The configured domain.
        domain: String,
        /// `public_url`'s host.
        host: String,
    },
}

/// A checked cookie domain: lower-case ASCII (IDNA-mapped), without a leading dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieDomain(String);

impl CookieDomain {
    /// Parses `raw` (a leading `.` is dropped, as browsers do) and checks that it covers
    /// `public_host`.
    ///
    /// # Errors
    /// [`CookieDomainError`] naming why.
    pub fn parse(raw: &str, public_host: &str) -> Result<Self, CookieDomainError> {
        let trimmed = raw.trim().trim_start_matches('.');
        let domain = match Host::parse(trimmed) {
            Ok(Host::Domain(d)) if d.contains('.') && !d.ends_with('.') => d,
            _ => return Err(CookieDomainError::NotADomain(raw.to_owned())),
        };
        let d = CookieDomain(domain);
        if !d.covers(public_host) {
            return Err(CookieDomainError::DoesNotCover {
                domain: d.0,
                host: public_host.to_owned(),
            });
        }
        Ok(d)
    }

    /// The domain, as it goes into `Domain=`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `host` (already lower-case, as the URL parser leaves it) is the domain or a
    /// subdomain of it — on a label boundary: `evilexample.com` is not under `example.com`.
    pub fn covers(&self, host: &str) -> bool {
        host == self.0
            || host
                .strip_suffix(self.0.as_str())
                .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1)
    }

    /// `raw` as an absolute `return_to` on a host under the domain, normalised; `None` for
    /// anything else. Only `https://` exactly (no other scheme, no scheme-relative `//host`),
    /// no userinfo (`https://example.com@evil.test/`), no backslash, control character or
    /// whitespace anywhere (browsers read `\` as `/` in a URL's authority), a DNS host under
    /// the domain, and no port but the default: what the browser is sent is what was judged.
    pub fn absolute_target(&self, raw: &str, max_len: usize) -> Option<String> {
        if raw.len() > max_len
            || !raw.starts_with("https://")
            || raw
                .chars()
                .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
        {
            return None;
        }
        let url = Url::parse(raw).ok()?;
        if url.scheme() != "https"
            || !url.username().is_empty()
            || url.password().is_some()
            || url.port().is_some()
        {
            return None;
        }
        match url.host() {
            Some(Host::Domain(h)) if self.covers(h) => Some(url.into()),
            _ => None,
        }
    }

    /// Whether `origin` (an `Origin` header's bytes) is `https://` + a host under the domain.
    pub fn covers_origin(&self, origin: &str) -> bool {
        origin
            .strip_prefix("https://")
            .is_some_and(|host| !host.contains([':', '/', '@']) && self.covers(host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> CookieDomain {
        CookieDomain::parse("example.com", "auth.example.com").unwrap()
    }

    #[test]
    fn parse_normalises_and_checks_the_public_host() {
        assert_eq!(
            CookieDomain::parse(".Example.COM", "example.com")
                .unwrap()
                .as_str(),
            "example.com"
        );
        for bad in [
            "localhost",
            "127.0.0.1",
            "[::1]",
            "com",
            "",
            "exa mple.com",
            "example.com.",
        ] {
            assert!(
                matches!(
                    CookieDomain::parse(bad, "example.com"),
                    Err(CookieDomainError::NotADomain(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            CookieDomain::parse("example.com", "auth.example.org"),
            Err(CookieDomainError::DoesNotCover { .. })
        ));
        assert!(matches!(
            CookieDomain::parse("example.com", "authexample.com"),
            Err(CookieDomainError::DoesNotCover { .. })
        ));
    }

    #[test]
    fn covers_on_label_boundaries_only() {
        let d = d();
        assert!(d.covers("example.com"));
        assert!(d.covers("grafana.example.com"));
        assert!(d.covers("a.b.example.com"));
        assert!(!d.covers("evilexample.com"));
        assert!(!d.covers("example.com.evil.test"));
        assert!(!d.covers(".example.com"));
        assert!(!d.covers("example.co"));
    }

    #[test]
    fn absolute_targets_under_the_domain_only() {
        let d = d();
        assert_eq!(
            d.absolute_target("https://grafana.example.com/d/x?y=1#z", 2048)
                .as_deref(),
            Some("https://grafana.example.com/d/x?y=1#z")
        );
        assert_eq!(
            d.absolute_target("https://Wiki.Example.com", 2048)
                .as_deref(),
            Some("https://wiki.example.com/")
        );
        for bad in [
            "https://example.com.evil.test/",
            "https://evilexample.com/",
            "https://example.com@evil.test/",
            "https://grafana.example.com:pass@evil.test/",
            "https://user@grafana.example.com/",
            "https://evil.test\\@grafana.example.com/",
            "https://evil.test\\.example.com/",
            "https:\\\\evil.test/",
            "https:/evil.test/",
            "//grafana.example.com/",
            "http://grafana.example.com/",
            "HTTPS://grafana.example.com/",
            "javascript://grafana.example.com/%0aalert(1)",
            "https://grafana.example.com:8443/",
            "https://127.0.0.1/",
            "https://grafana.example.com/\t",
            "https://evil.test%2f.example.com/",
            "https://evil.test#.example.com/",
            "https://evil.test?.example.com/",
        ] {
            assert_eq!(d.absolute_target(bad, 2048), None, "{bad}");
        }
        assert_eq!(d.absolute_target("https://a.example.com/xxxx", 20), None);
    }

    #[test]
    fn origins_under_the_domain() {
        let d = d();
        assert!(d.covers_origin("https://wiki.example.com"));
        assert!(!d.covers_origin("http://wiki.example.com"));
        assert!(!d.covers_origin("https://wiki.example.com:444"));
        assert!(!d.covers_origin("https://evilexample.com"));
        assert!(!d.covers_origin("null"));
    }
}
