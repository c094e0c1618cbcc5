//! Checked newtypes: once built, each value is known to satisfy its spec's rules.

use std::fmt;

use aws_lc_rs::rand::SecureRandom;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::secret::Secret;

/// Why a URL or identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidValue {
    /// Not a URL at all.
    #[error("{what}: not a valid URL: {reason}")]
    NotAUrl {
        /// Which value it is (`issuer`, `redirect_uri`, …).
        what: &'static str,
        /// Why it does not parse as a URL.
        reason: String,
    },
    /// `http://` on a non-loopback host.
    #[error(
        "{what}: must use https (http is allowed only on loopback: 127.0.0.1, ::1, localhost), got {url}"
    )]
    InsecureScheme {
        /// Which value it is (`issuer`, `redirect_uri`, …).
        what: &'static str,
        /// The rejected URL.
        url: String,
    },
    /// Query or fragment where the spec forbids one.
    #[error("{what}: must not contain a {part}")]
    ForbiddenPart {
        /// Which value it is (`issuer`, `redirect_uri`, …).
        what: &'static str,
        /// The forbidden part (`query` or `fragment`).
        part: &'static str,
    },
    /// Empty value.
    #[error("{what}: must not be empty")]
    Empty {
        /// Which value it is (`client_id`, …).
        what: &'static str,
    },
    /// Random source failed.
    #[error("random number generator failed")]
    Rng,
    /// The value breaks a syntax rule.
    #[error("{what}: {reason}")]
    Syntax {
        /// Which value it is.
        what: &'static str,
        /// The rule it breaks.
        reason: &'static str,
    },
}

/// Seconds since the Unix epoch. Every time-dependent check takes one as a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// Seconds.
    pub fn secs(self) -> u64 {
        self.0
    }
}

/// Is `url`'s host a loopback name relier accepts over plain http (RFC 8252 §7.3, §8.3)?
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        None => false,
    }
}

/// Parse a URL that must be https, or http on loopback.
pub fn parse_secure_url(what: &'static str, s: &str) -> Result<Url, InvalidValue> {
    let url = Url::parse(s).map_err(|e| InvalidValue::NotAUrl {
        what,
        reason: e.to_string(),
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        _ => Err(InvalidValue::InsecureScheme {
            what,
            url: s.to_owned(),
        }),
    }
}

/// An OP's issuer identifier. Compared as an exact string (OIDC Discovery §4.3, OIDC Core §3.1.3.7 (2)),
/// so the original text is kept — never a normalised form.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct IssuerUrl(String);

impl IssuerUrl {
    /// OIDC Discovery §2 / RFC 8414 §2: https, no query, no fragment.
    pub fn new(s: impl Into<String>) -> Result<Self, InvalidValue> {
        let s = s.into();
        let url = parse_secure_url("issuer", &s)?;
        if url.query().is_some() {
            return Err(InvalidValue::ForbiddenPart {
                what: "issuer",
                part: "query",
            });
        }
        if url.fragment().is_some() {
            return Err(InvalidValue::ForbiddenPart {
                what: "issuer",
                part: "fragment",
            });
        }
        Ok(Self(s))
    }

    /// The identifier exactly as configured.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// OIDC Discovery §4.1: the issuer with any trailing `/` removed, then `/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        format!(
            "{}/.well-known/openid-configuration",
            self.0.trim_end_matches('/')
        )
    }
}

impl fmt::Debug for IssuerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuerUrl({})", self.0)
    }
}

impl fmt::Display for IssuerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IssuerUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IssuerUrl::new(s).map_err(serde::de::Error::custom)
    }
}

/// The OAuth client identifier (RFC 6749 §2.2).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    /// Non-empty, visible ASCII and spaces only (RFC 6749 Appendix A.1: VSCHAR).
    pub fn new(s: impl Into<String>) -> Result<Self, InvalidValue> {
        let s = s.into();
        if s.is_empty() {
            return Err(InvalidValue::Empty { what: "client_id" });
        }
        if !s.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err(InvalidValue::Syntax {
                what: "client_id",
                reason: "must be visible ASCII (RFC 6749 Appendix A.1)",
            });
        }
        Ok(Self(s))
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClientId {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ClientId::new(s)
    }
}

impl From<ClientId> for String {
    fn from(c: ClientId) -> String {
        c.0
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({})", self.0)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A redirection endpoint (RFC 6749 §3.1.2): absolute, no fragment, https or loopback http.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RedirectUrl(String);

impl RedirectUrl {
    /// Validate a redirect URI.
    pub fn new(s: impl Into<String>) -> Result<Self, InvalidValue> {
        let s = s.into();
        let url = parse_secure_url("redirect_uri", &s)?;
        if url.fragment().is_some() {
            return Err(InvalidValue::ForbiddenPart {
                what: "redirect_uri",
                part: "fragment",
            });
        }
        Ok(Self(s))
    }

    /// The URI exactly as registered.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parsed form.
    pub fn url(&self) -> Result<Url, InvalidValue> {
        parse_secure_url("redirect_uri", &self.0)
    }
}

impl<'de> Deserialize<'de> for RedirectUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RedirectUrl::new(s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for RedirectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedirectUrl({})", self.0)
    }
}

impl fmt::Display for RedirectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 32 random bytes, base64url: 256 bits of entropy for state, nonce and PKCE verifiers
/// (RFC 7636 §7.1 recommends 32 octets).
fn random_token(rng: &dyn SecureRandom) -> Result<String, InvalidValue> {
    let mut buf = zeroize::Zeroizing::new([0u8; 32]);
    rng.fill(buf.as_mut()).map_err(|_| InvalidValue::Rng)?;
    Ok(relier_jose::b64::encode(buf.as_ref()))
}

macro_rules! random_secret_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Secret);

        impl $name {
            /// Draw a fresh value from `rng`.
            pub fn generate(rng: &dyn SecureRandom) -> Result<Self, InvalidValue> {
                Ok(Self(Secret::new(random_token(rng)?)))
            }

            /// Rebuild from a stored value.
            pub fn from_stored(s: impl Into<String>) -> Result<Self, InvalidValue> {
                let s = s.into();
                if s.is_empty() {
                    return Err(InvalidValue::Empty { what: $what });
                }
                Ok(Self(Secret::new(s)))
            }

            /// The value, to put in a request or a store.
            pub fn expose(&self) -> &str {
                self.0.expose()
            }

            /// Constant-time comparison with a received value.
            pub fn matches(&self, received: &str) -> bool {
                self.0.ct_eq_str(received)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }
    };
}

random_secret_type!(
    /// The `state` parameter binding an authorization response to its request (RFC 6749 §10.12).
    State,
    "state"
);
random_secret_type!(
    /// The `nonce` binding an ID token to its request (OIDC Core §3.1.2.1, §15.5.2).
    Nonce,
    "nonce"
);

/// A PKCE code verifier (RFC 7636 §4.1): 43–128 characters of `[A-Za-z0-9-._~]`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "Secret")]
pub struct PkceVerifier(Secret);

impl PkceVerifier {
    /// Draw a fresh verifier: 32 random octets, base64url (43 characters), RFC 7636 §4.1.
    pub fn generate(rng: &dyn SecureRandom) -> Result<Self, InvalidValue> {
        Ok(Self(Secret::new(random_token(rng)?)))
    }

    /// Check a stored verifier against RFC 7636 §4.1.
    pub fn new(s: impl Into<String>) -> Result<Self, InvalidValue> {
        let s = s.into();
        let ok_len = (43..=128).contains(&s.len());
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if !ok_len || !ok_chars {
            return Err(InvalidValue::Syntax {
                what: "code_verifier",
                reason: "must be 43-128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)",
            });
        }
        Ok(Self(Secret::new(s)))
    }

    /// RFC 7636 §4.2: `code_challenge = BASE64URL(SHA256(ASCII(code_verifier)))`.
    pub fn s256_challenge(&self) -> String {
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.0.expose().as_bytes());
        relier_jose::b64::encode(digest.as_ref())
    }

    /// The verifier, for the token request.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl TryFrom<String> for PkceVerifier {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        PkceVerifier::new(s)
    }
}

impl From<PkceVerifier> for Secret {
    fn from(v: PkceVerifier) -> Secret {
        v.0.clone()
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        // RFC 7636 Appendix B.
        let v = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(
            v.s256_challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifier_syntax() {
        assert!(PkceVerifier::new("short").is_err());
        assert!(PkceVerifier::new("a".repeat(129)).is_err());
        assert!(PkceVerifier::new(format!("{}!", "a".repeat(50))).is_err());
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let v = PkceVerifier::generate(&rng).unwrap();
        assert_eq!(v.expose().len(), 43);
        assert!(PkceVerifier::new(v.expose()).is_ok());
    }

    #[test]
    fn issuer_rules() {
        assert!(IssuerUrl::new("https://op.example.com").is_ok());
        assert!(IssuerUrl::new("http://127.0.0.1:3000").is_ok());
        assert!(IssuerUrl::new("http://localhost:3000/realms/x").is_ok());
        assert!(IssuerUrl::new("http://[::1]:3000").is_ok());
        assert!(matches!(
            IssuerUrl::new("http://op.example.com"),
            Err(InvalidValue::InsecureScheme { .. })
        ));
        assert!(IssuerUrl::new("https://op.example.com?x=1").is_err());
        assert!(IssuerUrl::new("https://op.example.com#f").is_err());
        assert!(IssuerUrl::new("ftp://op.example.com").is_err());
        // exact comparison: no normalisation
        assert_ne!(
            IssuerUrl::new("https://op.example.com").unwrap(),
            IssuerUrl::new("https://op.example.com/").unwrap()
        );
        assert_eq!(
            IssuerUrl::new("https://op.example.com/")
                .unwrap()
                .discovery_url(),
            "https://op.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            IssuerUrl::new("https://op.example.com/tenant")
                .unwrap()
                .discovery_url(),
            "https://op.example.com/tenant/.well-known/openid-configuration"
        );
    }

    #[test]
    fn redirect_rules() {
        assert!(RedirectUrl::new("http://127.0.0.1:8080/callback").is_ok());
        assert!(RedirectUrl::new("https://app.example.com/cb").is_ok());
        assert!(RedirectUrl::new("http://app.example.com/cb").is_err());
        assert!(RedirectUrl::new("https://app.example.com/cb#x").is_err());
    }

    #[test]
    fn client_id_rules() {
        assert!(ClientId::new("").is_err());
        assert!(ClientId::new("a\nb").is_err());
        assert!(ClientId::new("rp-basic").is_ok());
    }

    #[test]
    fn state_is_random_and_redacted() {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let a = State::generate(&rng).unwrap();
        let b = State::generate(&rng).unwrap();
        assert_ne!(a, b);
        assert!(a.matches(a.expose()));
        assert!(!a.matches(b.expose()));
        assert_eq!(format!("{a:?}"), "State([REDACTED])");
    }
}
