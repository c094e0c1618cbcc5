//! OpenID Provider metadata: OIDC Discovery 1.0 §3, RFC 8414 §2, RFC 8705 §5, RFC 9207 §3.

use serde::{Deserialize, Serialize};

use crate::http::{HttpRequest, HttpResponse, MAX_BODY_BYTES};
use crate::types::{IssuerUrl, parse_secure_url};

pub mod webfinger;

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// Non-2xx answer.
    #[error("discovery: {url} answered HTTP {status}")]
    Status {
        /// The discovery document URL.
        url: String,
        /// The HTTP status it answered with.
        status: u16,
    },
    /// Body is not the JSON object OIDC Discovery §4.2 requires.
    #[error("discovery: response is not a valid metadata document: {reason}")]
    InvalidJson {
        /// Why the body was rejected.
        reason: String,
    },
    /// Body too large.
    #[error("discovery: response larger than {max} bytes")]
    TooLarge {
        /// The size limit, in bytes.
        max: usize,
    },
    /// OIDC Discovery §4.3: the issuer in the document MUST be identical to the one used to fetch it.
    #[error("discovery: issuer mismatch: expected {expected}, got {got}")]
    IssuerMismatch {
        /// The issuer the document was fetched for.
        expected: String,
        /// The `issuer` in the document.
        got: String,
    },
    /// A required member is missing.
    #[error("discovery: required member {member} is missing")]
    MissingMember {
        /// The name of the missing member.
        member: &'static str,
    },
    /// An endpoint is not https (or loopback http).
    #[error("discovery: {member} is not an acceptable URL: {reason}")]
    InsecureEndpoint {
        /// The name of the endpoint member (`token_endpoint`, …).
        member: String,
        /// Why its URL is not acceptable.
        reason: String,
    },
}

/// RFC 8705 §5: endpoints to use when authenticating with a client certificate.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct MtlsEndpointAliases {
    /// Token endpoint alias.
    pub token_endpoint: Option<String>,
    /// Revocation endpoint alias.
    pub revocation_endpoint: Option<String>,
    /// Introspection endpoint alias.
    pub introspection_endpoint: Option<String>,
    /// UserInfo endpoint alias.
    pub userinfo_endpoint: Option<String>,
    /// PAR endpoint alias.
    pub pushed_authorization_request_endpoint: Option<String>,
    /// RFC 8628 device authorization endpoint alias.
    pub device_authorization_endpoint: Option<String>,
}

/// Typed OP metadata. Every member received is also kept verbatim in [`ProviderMetadata::raw`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProviderMetadata {
    /// The issuer (checked against the configured one).
    pub issuer: IssuerUrl,
    /// Authorization endpoint.
    pub authorization_endpoint: String,
    /// Token endpoint (absent only for implicit-only OPs, which relier does not serve).
    pub token_endpoint: Option<String>,
    /// UserInfo endpoint.
    pub userinfo_endpoint: Option<String>,
    /// The OP's JWKS.
    pub jwks_uri: Option<String>,
    /// OIDC Dynamic Client Registration endpoint.
    pub registration_endpoint: Option<String>,
    /// RFC 7009 endpoint.
    pub revocation_endpoint: Option<String>,
    /// RFC 7662 endpoint.
    pub introspection_endpoint: Option<String>,
    /// RP-Initiated Logout endpoint.
    pub end_session_endpoint: Option<String>,
    /// RFC 9126 PAR endpoint.
    pub pushed_authorization_request_endpoint: Option<String>,
    /// RFC 8628 §4 device authorization endpoint.
    pub device_authorization_endpoint: Option<String>,
    /// RFC 9126 §5.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// Scopes.
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    /// Response types.
    #[serde(default)]
    pub response_types_supported: Vec<String>,
    /// Response modes.
    #[serde(default)]
    pub response_modes_supported: Vec<String>,
    /// Grant types.
    #[serde(default)]
    pub grant_types_supported: Vec<String>,
    /// Subject types.
    #[serde(default)]
    pub subject_types_supported: Vec<String>,
    /// ID token signing algorithms.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// UserInfo signing algorithms.
    #[serde(default)]
    pub userinfo_signing_alg_values_supported: Vec<String>,
    /// Client authentication methods at the token endpoint. Absent means `client_secret_basic`
    /// (OIDC Discovery §3).
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// JWS algorithms for client_secret_jwt / private_key_jwt assertions.
    #[serde(default)]
    pub token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    /// Introspection endpoint auth methods (RFC 8414 §2).
    pub introspection_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// Revocation endpoint auth methods (RFC 8414 §2).
    pub revocation_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// PKCE methods.
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    /// Claims.
    #[serde(default)]
    pub claims_supported: Vec<String>,
    /// RFC 8705 §5.
    pub mtls_endpoint_aliases: Option<MtlsEndpointAliases>,
    /// RFC 8705 §3.3.
    #[serde(default)]
    pub tls_client_certificate_bound_access_tokens: bool,
    /// RFC 9207 §3.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// Back-Channel Logout 1.0 §2.1.
    #[serde(default)]
    pub backchannel_logout_supported: bool,
    /// Back-Channel Logout 1.0 §2.1.
    #[serde(default)]
    pub backchannel_logout_session_supported: bool,
    /// Every member as received, including the ones above.
    #[serde(skip)]
    pub raw: serde_json::Map<String, serde_json::Value>,
}

impl ProviderMetadata {
    /// Parse a metadata document and check it against the issuer it was fetched for.
    pub fn from_json(expected: &IssuerUrl, body: &[u8]) -> Result<Self, DiscoveryError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(DiscoveryError::TooLarge {
                max: MAX_BODY_BYTES,
            });
        }
        let raw: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)
            .map_err(|e| DiscoveryError::InvalidJson {
                reason: e.to_string(),
            })?;
        // OIDC Discovery §4.3: compare issuers before trusting anything else in the document.
        match raw.get("issuer") {
            None => return Err(DiscoveryError::MissingMember { member: "issuer" }),
            Some(serde_json::Value::String(got)) if got != expected.as_str() => {
                return Err(DiscoveryError::IssuerMismatch {
                    expected: expected.as_str().to_owned(),
                    got: got.clone(),
                });
            }
            Some(serde_json::Value::String(_)) => {}
            Some(_) => {
                return Err(DiscoveryError::InvalidJson {
                    reason: "issuer is not a string".into(),
                });
            }
        }
        let mut md: ProviderMetadata =
            serde_json::from_value(serde_json::Value::Object(raw.clone())).map_err(|e| {
                DiscoveryError::InvalidJson {
                    reason: e.to_string(),
                }
            })?;
        md.raw = raw;
        md.check_endpoints()?;
        Ok(md)
    }

    /// Consume a discovery response.
    pub fn from_response(
        expected: &IssuerUrl,
        resp: &HttpResponse,
    ) -> Result<Self, DiscoveryError> {
        if !resp.is_success() {
            return Err(DiscoveryError::Status {
                url: expected.discovery_url(),
                status: resp.status,
            });
        }
        Self::from_json(expected, &resp.body)
    }

    /// The discovery request for `issuer` (OIDC Discovery §4.1).
    pub fn request(issuer: &IssuerUrl) -> HttpRequest {
        HttpRequest::get(issuer.discovery_url(), "application/json")
    }

    fn check_endpoints(&self) -> Result<(), DiscoveryError> {
        let mut urls: Vec<(String, &str)> = vec![(
            "authorization_endpoint".into(),
            self.authorization_endpoint.as_str(),
        )];
        let optional = [
            ("token_endpoint", &self.token_endpoint),
            ("userinfo_endpoint", &self.userinfo_endpoint),
            ("jwks_uri", &self.jwks_uri),
            ("registration_endpoint", &self.registration_endpoint),
            ("revocation_endpoint", &self.revocation_endpoint),
            ("introspection_endpoint", &self.introspection_endpoint),
            ("end_session_endpoint", &self.end_session_endpoint),
            (
                "pushed_authorization_request_endpoint",
                &self.pushed_authorization_request_endpoint,
            ),
            (
                "device_authorization_endpoint",
                &self.device_authorization_endpoint,
            ),
        ];
        for (name, v) in optional.iter() {
            if let Some(u) = v {
                urls.push(((*name).to_owned(), u.as_str()));
            }
        }
        if let Some(a) = &self.mtls_endpoint_aliases {
            for (name, v) in [
                ("token_endpoint", &a.token_endpoint),
                ("revocation_endpoint", &a.revocation_endpoint),
                ("introspection_endpoint", &a.introspection_endpoint),
                ("userinfo_endpoint", &a.userinfo_endpoint),
                (
                    "pushed_authorization_request_endpoint",
                    &a.pushed_authorization_request_endpoint,
                ),
                (
                    "device_authorization_endpoint",
                    &a.device_authorization_endpoint,
                ),
            ] {
                if let Some(u) = v {
                    urls.push((format!("mtls_endpoint_aliases.{name}"), u.as_str()));
                }
            }
        }
        for (member, u) in urls {
            parse_secure_url("endpoint", u).map_err(|e| DiscoveryError::InsecureEndpoint {
                member,
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Auth methods at the token endpoint, with the spec default applied.
    pub fn token_auth_methods(&self) -> Vec<String> {
        self.token_endpoint_auth_methods_supported
            .clone()
            .unwrap_or_else(|| vec!["client_secret_basic".to_owned()])
    }

    /// The endpoint to call for `kind`, honouring RFC 8705 §5 aliases when mTLS is in use.
    pub fn endpoint(&self, kind: Endpoint, mtls: bool) -> Option<&str> {
        if mtls && let Some(a) = &self.mtls_endpoint_aliases {
            let alias = match kind {
                Endpoint::Token => &a.token_endpoint,
                Endpoint::Revocation => &a.revocation_endpoint,
                Endpoint::Introspection => &a.introspection_endpoint,
                Endpoint::UserInfo => &a.userinfo_endpoint,
                Endpoint::PushedAuthorization => &a.pushed_authorization_request_endpoint,
                Endpoint::DeviceAuthorization => &a.device_authorization_endpoint,
            };
            if let Some(u) = alias {
                return Some(u);
            }
        }
        match kind {
            Endpoint::Token => self.token_endpoint.as_deref(),
            Endpoint::Revocation => self.revocation_endpoint.as_deref(),
            Endpoint::Introspection => self.introspection_endpoint.as_deref(),
            Endpoint::UserInfo => self.userinfo_endpoint.as_deref(),
            Endpoint::PushedAuthorization => self.pushed_authorization_request_endpoint.as_deref(),
            Endpoint::DeviceAuthorization => self.device_authorization_endpoint.as_deref(),
        }
    }
}

/// Endpoints that may have an mTLS alias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// Token endpoint.
    Token,
    /// Revocation endpoint.
    Revocation,
    /// Introspection endpoint.
    Introspection,
    /// UserInfo endpoint.
    UserInfo,
    /// PAR endpoint.
    PushedAuthorization,
    /// RFC 8628 device authorization endpoint.
    DeviceAuthorization,
}

impl Endpoint {
    /// Metadata member name.
    pub fn member(self) -> &'static str {
        match self {
            Endpoint::Token => "token_endpoint",
            Endpoint::Revocation => "revocation_endpoint",
            Endpoint::Introspection => "introspection_endpoint",
            Endpoint::UserInfo => "userinfo_endpoint",
            Endpoint::PushedAuthorization => "pushed_authorization_request_endpoint",
            Endpoint::DeviceAuthorization => "device_authorization_endpoint",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iss() -> IssuerUrl {
        IssuerUrl::new("https://op.example.com").unwrap()
    }

    const DOC: &str = r#"{
        "issuer": "https://op.example.com",
        "authorization_endpoint": "https://op.example.com/auth",
        "token_endpoint": "https://op.example.com/token",
        "jwks_uri": "https://op.example.com/jwks",
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "mtls_endpoint_aliases": {"token_endpoint": "https://mtls.op.example.com/token"},
        "authorization_response_iss_parameter_supported": true,
        "x_vendor_extension": {"anything": [1, 2, 3]}
    }"#;

    #[test]
    fn parses_and_keeps_unknown_members() {
        let md = ProviderMetadata::from_json(&iss(), DOC.as_bytes()).unwrap();
        assert!(md.authorization_response_iss_parameter_supported);
        assert!(md.raw.contains_key("x_vendor_extension"));
        assert_eq!(
            md.endpoint(Endpoint::Token, true),
            Some("https://mtls.op.example.com/token")
        );
        assert_eq!(
            md.endpoint(Endpoint::Token, false),
            Some("https://op.example.com/token")
        );
    }

    #[test]
    fn issuer_must_be_identical() {
        let other = IssuerUrl::new("https://op.example.com/").unwrap();
        let err = ProviderMetadata::from_json(&other, DOC.as_bytes()).unwrap_err();
        assert!(matches!(err, DiscoveryError::IssuerMismatch { .. }));
        assert_eq!(
            err.to_string(),
            "discovery: issuer mismatch: expected https://op.example.com/, got https://op.example.com"
        );
    }

    #[test]
    fn default_auth_method_is_basic() {
        let doc = r#"{"issuer":"https://op.example.com","authorization_endpoint":"https://op.example.com/a"}"#;
        let md = ProviderMetadata::from_json(&iss(), doc.as_bytes()).unwrap();
        assert_eq!(md.token_auth_methods(), vec!["client_secret_basic"]);
    }

    #[test]
    fn insecure_endpoint_rejected() {
        let doc = r#"{"issuer":"https://op.example.com","authorization_endpoint":"http://op.example.com/a"}"#;
        assert!(matches!(
            ProviderMetadata::from_json(&iss(), doc.as_bytes()),
            Err(DiscoveryError::InsecureEndpoint { .. })
        ));
    }

    #[test]
    fn garbage_is_an_error() {
        for body in ["", "[]", "null", "{\"issuer\": 5}", "{"] {
            assert!(ProviderMetadata::from_json(&iss(), body.as_bytes()).is_err());
        }
    }
}
