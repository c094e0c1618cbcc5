//! The ID token algorithm the client registered, and where a token came from: the two facts
//! that together decide whether an unsigned (`alg: none`) ID token may be accepted.
//!
//! OIDC Core §2: "ID Tokens MUST NOT use none as the alg value unless the Response Type used
//! returns no ID Token from the Authorization Endpoint (such as when using the Authorization
//! Code Flow) and the Client explicitly requested the use of none at Registration time."
//! §3.1.3.7 (6): an ID token "received via direct communication between the Client and the
//! Token Endpoint" may have its issuer validated by TLS server validation in place of a
//! signature. Both must hold: [`IdTokenAlg::None`] and [`IdTokenSource::TokenEndpoint`].

use relier_jose::Algorithm;
use url::Url;

use crate::types::is_loopback;

/// The registered `id_token_signed_response_alg`, as the validator pins it — from a client
/// registration or the RP's configuration of one, never from a token header (RFC 8725 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTokenAlg {
    /// Signed (or MACed, OIDC Core §10.1) with exactly this algorithm. `Signed(Algorithm::None)`
    /// is not an opt-in: it refuses every token.
    Signed(Algorithm),
    /// The client registered `none` (OIDC Core §2): tokens from the token endpoint over TLS
    /// must be unsigned, every other token is refused. Built only by [`IdTokenAlg::registered`].
    None(RegisteredNone),
}

/// Marks an [`IdTokenAlg::None`] as coming from a registration: only
/// [`IdTokenAlg::registered`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisteredNone(());

impl IdTokenAlg {
    /// The client's registration says `id_token_signed_response_alg` is `alg`: the value of a
    /// registration (OIDC Registration §2) or of the configuration that records one (a
    /// provider's `id_token_alg`). `none` gives [`IdTokenAlg::None`] — the one way to accept
    /// unsigned ID tokens; call it only with what the registration holds.
    #[must_use]
    pub fn registered(alg: Algorithm) -> Self {
        match alg {
            Algorithm::None => Self::None(RegisteredNone(())),
            other => Self::Signed(other),
        }
    }

    /// The algorithm as a JWS `alg` (`none` for [`IdTokenAlg::None`]).
    #[must_use]
    pub fn algorithm(self) -> Algorithm {
        match self {
            Self::Signed(alg) => alg,
            Self::None(_) => Algorithm::None,
        }
    }

    /// True for [`IdTokenAlg::None`].
    #[must_use]
    pub fn is_unsigned(self) -> bool {
        matches!(self, Self::None(_))
    }
}

impl Default for IdTokenAlg {
    /// RS256, OIDC Core §3.1.3.7 (7)'s default.
    fn default() -> Self {
        Self::Signed(Algorithm::RS256)
    }
}

/// Where the ID token being validated came from, as the caller states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdTokenSource {
    /// Anywhere but a token endpoint response over TLS: a token handed in by a caller, a
    /// session's, an authorization response's. Never unsigned.
    #[default]
    Elsewhere,
    /// The response of the token endpoint, received over TLS (OIDC Core §3.1.3.7 (6)). Built
    /// only by [`IdTokenSource::token_endpoint`].
    TokenEndpoint(OverTls),
}

/// Marks an [`IdTokenSource::TokenEndpoint`] whose URL was checked: only
/// [`IdTokenSource::token_endpoint`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverTls(());

impl IdTokenSource {
    /// The ID token is in the response of a request sent to `token_endpoint`: https, or http
    /// to a loopback host (a test OP on this machine, RFC 8252 §8.3's rule). Any other URL
    /// gives [`IdTokenSource::Elsewhere`].
    #[must_use]
    pub fn token_endpoint(token_endpoint: &str) -> Self {
        match Url::parse(token_endpoint) {
            Ok(u) if u.scheme() == "https" || (u.scheme() == "http" && is_loopback(&u)) => {
                Self::TokenEndpoint(OverTls(()))
            }
            _ => Self::Elsewhere,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_none_registers_unsigned() {
        assert!(IdTokenAlg::registered(Algorithm::None).is_unsigned());
        for alg in Algorithm::ALL.iter().filter(|a| **a != Algorithm::None) {
            assert_eq!(IdTokenAlg::registered(*alg), IdTokenAlg::Signed(*alg));
        }
        assert!(!IdTokenAlg::Signed(Algorithm::None).is_unsigned());
        assert_eq!(IdTokenAlg::default().algorithm(), Algorithm::RS256);
    }

    #[test]
    fn token_endpoint_must_be_tls_or_loopback() {
        for ok in [
            "https://op.example.com/token",
            "http://127.0.0.1:8080/token",
            "http://localhost/token",
            "http://[::1]:9/token",
        ] {
            assert!(
                matches!(
                    IdTokenSource::token_endpoint(ok),
                    IdTokenSource::TokenEndpoint(_)
                ),
                "{ok}"
            );
        }
        for bad in [
            "http://op.example.com/token",
            "http://10.0.0.1/token",
            "ftp://op.example.com/token",
            "not a url",
        ] {
            assert_eq!(
                IdTokenSource::token_endpoint(bad),
                IdTokenSource::Elsewhere,
                "{bad}"
            );
        }
    }
}
