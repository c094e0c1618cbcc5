//! "Should I use private_key_jwt or client_secret?" — choose the strongest client authentication
//! method both the OP and the RP's credentials support, and say why in one sentence.

use relier_jose::Algorithm;

use crate::client_auth::AuthMethod;
use crate::discovery::ProviderMetadata;

/// The credentials an RP holds.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// A client secret and its length in bytes (client_secret_jwt needs ≥ 32, RFC 7518 §3.2).
    pub secret_len: Option<usize>,
    /// A private signing key and its algorithm.
    pub private_key: Option<Algorithm>,
    /// A TLS client certificate and key.
    pub tls_certificate: bool,
}

/// The chosen method and the reason, in one sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendation {
    /// The method.
    pub method: AuthMethod,
    /// Why.
    pub reason: String,
}

/// No method fits.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RecommendError {
    /// The OP supports none of the methods the credentials allow.
    #[error(
        "client authentication: no method fits: the OP supports [{op}] but the credentials given allow [{ours}]"
    )]
    NoCommonMethod {
        /// The methods the OP supports, comma-separated.
        op: String,
        /// The methods the credentials allow, comma-separated.
        ours: String,
    },
}

fn why(method: AuthMethod) -> &'static str {
    match method {
        AuthMethod::PrivateKeyJwt => {
            "the RP signs a short-lived assertion with its own private key, so no shared secret exists at the OP or crosses the wire, and the RP can rotate keys on its own"
        }
        AuthMethod::TlsClientAuth => {
            "the TLS handshake proves possession of the certificate's private key, so no secret crosses the wire"
        }
        AuthMethod::SelfSignedTlsClientAuth => {
            "the TLS handshake proves possession of the registered certificate's key, so no secret crosses the wire"
        }
        AuthMethod::ClientSecretJwt => {
            "the secret only keys an HMAC over a short-lived assertion and never crosses the wire, but the OP holds a copy of it"
        }
        AuthMethod::ClientSecretBasic => {
            "the secret is sent in the Authorization header on every request and the OP holds a copy of it"
        }
        AuthMethod::ClientSecretPost => {
            "the secret is sent in the request body on every request and the OP holds a copy of it"
        }
        AuthMethod::None => {
            "the RP is a public client: it does not authenticate, so PKCE is its only protection"
        }
    }
}

fn op_allows_alg(md: &ProviderMetadata, alg: Algorithm) -> bool {
    let algs = &md.token_endpoint_auth_signing_alg_values_supported;
    algs.is_empty() || algs.iter().any(|a| a == alg.as_str())
}

fn feasible(method: AuthMethod, md: &ProviderMetadata, creds: &Credentials) -> bool {
    match method {
        AuthMethod::PrivateKeyJwt => creds.private_key.is_some_and(|a| op_allows_alg(md, a)),
        AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth => creds.tls_certificate,
        AuthMethod::ClientSecretJwt => creds.secret_len.is_some_and(|len| {
            [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512]
                .iter()
                .any(|a| a.hmac_min_key_len().is_some_and(|m| len >= m) && op_allows_alg(md, *a))
        }),
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => creds.secret_len.is_some(),
        // A public client is only what we recommend when the RP holds no credential at all.
        AuthMethod::None => {
            creds.secret_len.is_none() && creds.private_key.is_none() && !creds.tls_certificate
        }
    }
}

/// Recommend from the OP's metadata alone (what should this RP register with?).
pub fn recommend_for_op(md: &ProviderMetadata) -> Recommendation {
    let supported = md.token_auth_methods();
    let best = AuthMethod::ALL
        .into_iter()
        .find(|m| supported.iter().any(|s| s == m.as_str()));
    match best {
        Some(method) => Recommendation {
            method,
            reason: format!(
                "{method} is the strongest method this OP supports: {}.",
                why(method)
            ),
        },
        None => Recommendation {
            method: AuthMethod::ClientSecretBasic,
            reason: "the OP lists no method relier knows; client_secret_basic is the OAuth 2.0 default (RFC 6749 §2.3.1)."
                .to_owned(),
        },
    }
}

/// Recommend for the credentials the RP holds.
pub fn recommend(
    md: &ProviderMetadata,
    creds: &Credentials,
) -> Result<Recommendation, RecommendError> {
    let supported = md.token_auth_methods();
    let op_has = |m: AuthMethod| supported.iter().any(|s| s == m.as_str());
    let Some(method) = AuthMethod::ALL
        .into_iter()
        .find(|m| op_has(*m) && feasible(*m, md, creds))
    else {
        let ours: Vec<&str> = AuthMethod::ALL
            .into_iter()
            .filter(|m| {
                // what the credentials allow if the OP supported everything
                match m {
                    AuthMethod::PrivateKeyJwt => creds.private_key.is_some(),
                    AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth => {
                        creds.tls_certificate
                    }
                    AuthMethod::ClientSecretJwt => creds.secret_len.is_some_and(|l| l >= 32),
                    AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => {
                        creds.secret_len.is_some()
                    }
                    _ => feasible(*m, md, creds),
                }
            })
            .map(AuthMethod::as_str)
            .collect();
        return Err(RecommendError::NoCommonMethod {
            op: supported.join(", "),
            ours: ours.join(", "),
        });
    };
    let mut reason = format!(
        "{method} is the strongest method both the OP and your credentials support: {}",
        why(method)
    );
    // Say what would be stronger, when the OP offers it.
    if method != AuthMethod::PrivateKeyJwt && op_has(AuthMethod::PrivateKeyJwt) {
        reason.push_str("; the OP also supports private_key_jwt — register a public key to stop sharing a secret");
    }
    reason.push('.');
    Ok(Recommendation { method, reason })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::IssuerUrl;

    fn md(methods: &[&str], algs: &[&str]) -> ProviderMetadata {
        let doc = serde_json::json!({
            "issuer": "https://op.example.com",
            "authorization_endpoint": "https://op.example.com/a",
            "token_endpoint_auth_methods_supported": methods,
            "token_endpoint_auth_signing_alg_values_supported": algs,
        });
        ProviderMetadata::from_json(
            &IssuerUrl::new("https://op.example.com").unwrap(),
            doc.to_string().as_bytes(),
        )
        .unwrap()
    }

    const ALL: [&str; 7] = [
        "none",
        "client_secret_post",
        "client_secret_basic",
        "client_secret_jwt",
        "self_signed_tls_client_auth",
        "tls_client_auth",
        "private_key_jwt",
    ];

    #[test]
    fn prefers_private_key_jwt() {
        let creds = Credentials {
            secret_len: Some(40),
            private_key: Some(Algorithm::ES256),
            tls_certificate: true,
        };
        let r = recommend(&md(&ALL, &[]), &creds).unwrap();
        assert_eq!(r.method, AuthMethod::PrivateKeyJwt);
        assert!(r.reason.starts_with("private_key_jwt is the strongest"));
    }

    #[test]
    fn key_alg_must_be_supported() {
        let creds = Credentials {
            secret_len: Some(40),
            private_key: Some(Algorithm::EdDSA),
            tls_certificate: false,
        };
        let r = recommend(&md(&ALL, &["RS256", "HS256"]), &creds).unwrap();
        assert_eq!(r.method, AuthMethod::ClientSecretJwt);
        assert!(r.reason.contains("also supports private_key_jwt"));
    }

    #[test]
    fn order_follows_the_ranking() {
        let secret_only = Credentials {
            secret_len: Some(20),
            ..Default::default()
        };
        // 20 bytes is too short for client_secret_jwt
        assert_eq!(
            recommend(&md(&ALL, &[]), &secret_only).unwrap().method,
            AuthMethod::ClientSecretBasic
        );
        assert_eq!(
            recommend(&md(&["client_secret_post"], &[]), &secret_only)
                .unwrap()
                .method,
            AuthMethod::ClientSecretPost
        );
        let tls = Credentials {
            tls_certificate: true,
            ..Default::default()
        };
        assert_eq!(
            recommend(&md(&ALL, &[]), &tls).unwrap().method,
            AuthMethod::TlsClientAuth
        );
        assert_eq!(
            recommend(&md(&["self_signed_tls_client_auth"], &[]), &tls)
                .unwrap()
                .method,
            AuthMethod::SelfSignedTlsClientAuth
        );
        assert_eq!(
            recommend(&md(&ALL, &[]), &Credentials::default())
                .unwrap()
                .method,
            AuthMethod::None
        );
    }

    #[test]
    fn no_common_method() {
        let creds = Credentials {
            private_key: Some(Algorithm::ES256),
            ..Default::default()
        };
        let err = recommend(&md(&["client_secret_basic"], &[]), &creds).unwrap_err();
        assert!(err.to_string().contains("private_key_jwt"));
    }

    #[test]
    fn for_op_alone() {
        assert_eq!(
            recommend_for_op(&md(&ALL, &[])).method,
            AuthMethod::PrivateKeyJwt
        );
        assert_eq!(
            recommend_for_op(&md(&["client_secret_post", "client_secret_basic"], &[])).method,
            AuthMethod::ClientSecretBasic
        );
    }
}
