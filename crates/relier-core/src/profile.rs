//! Security profiles a provider can be held to. `fapi2`: the FAPI 2.0 Security Profile's client
//! requirements (§5.3.2) and cryptography rules (§5.4). [`check`] compares the OP's metadata
//! and the client's settings with the profile and returns every violation, each naming the
//! item; [`check_keys`] does the same for the OP's published keys. The driver refuses to start
//! a login (the gateway refuses to start) while any remains, and at run time the profile
//! forces PAR, PKCE S256 and the RFC 9207 `iss` check.

use std::fmt;
use std::str::FromStr;

use relier_jose::{Algorithm, JwkSet};

use crate::client_auth::{AssertionAudience, AuthMethod};
use crate::discovery::ProviderMetadata;
use crate::key_strength::KeyStrength;
use crate::token_binding::TokenBinding;

/// A security profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// FAPI 2.0 Security Profile (OpenID Foundation, final).
    Fapi2,
}

impl Profile {
    /// The configuration name: "fapi2".
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Fapi2 => "fapi2",
        }
    }

    /// "FAPI 2.0 Security Profile".
    pub fn title(self) -> &'static str {
        match self {
            Profile::Fapi2 => "FAPI 2.0 Security Profile",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not a profile name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {name:?}: the profiles are fapi2")]
pub struct UnknownProfile {
    /// What was given.
    pub name: String,
}

impl FromStr for Profile {
    type Err = UnknownProfile;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fapi2" => Ok(Profile::Fapi2),
            other => Err(UnknownProfile {
                name: other.to_owned(),
            }),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Profile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Profile {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What the client will do, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSettings {
    /// Token endpoint authentication method.
    pub auth_method: AuthMethod,
    /// The client assertion's algorithm (private_key_jwt, client_secret_jwt).
    pub assertion_alg: Option<Algorithm>,
    /// The client assertion's `aud`.
    pub assertion_audience: AssertionAudience,
    /// The pinned ID token algorithm.
    pub id_token_alg: Algorithm,
    /// Sender-constrained access tokens.
    pub sender_constraint: TokenBinding,
    /// Whether the client holds a TLS client certificate (needed for certificate-bound tokens).
    pub has_tls_certificate: bool,
}

/// The items of a profile, each a rule of the specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Item {
    /// Pushed authorization requests.
    Par,
    /// PKCE with S256.
    Pkce,
    /// Client authentication: private_key_jwt or mTLS.
    ClientAuthentication,
    /// Sender-constrained access tokens: DPoP or mTLS.
    SenderConstrainedTokens,
    /// RFC 9207 `iss` in the authorization response.
    IssParameter,
    /// ID token signing algorithm.
    IdTokenAlgorithm,
    /// Client assertion signing algorithm.
    AssertionAlgorithm,
    /// Client assertion audience.
    AssertionAudience,
    /// The OP's key sizes.
    OpKeys,
}

impl Item {
    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Item::Par => "par",
            Item::Pkce => "pkce",
            Item::ClientAuthentication => "client_authentication",
            Item::SenderConstrainedTokens => "sender_constrained_tokens",
            Item::IssParameter => "iss_parameter",
            Item::IdTokenAlgorithm => "id_token_algorithm",
            Item::AssertionAlgorithm => "assertion_algorithm",
            Item::AssertionAudience => "assertion_audience",
            Item::OpKeys => "op_keys",
        }
    }

    /// Where the rule lives.
    pub fn rule(self) -> &'static str {
        match self {
            Item::Par | Item::Pkce | Item::IssParameter => "FAPI 2.0 Security Profile §5.3.2.2",
            Item::ClientAuthentication
            | Item::SenderConstrainedTokens
            | Item::AssertionAudience => "FAPI 2.0 Security Profile §5.3.2.1",
            Item::IdTokenAlgorithm | Item::AssertionAlgorithm | Item::OpKeys => {
                "FAPI 2.0 Security Profile §5.4.1"
            }
        }
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One requirement the OP or the client does not meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which item.
    pub item: Item,
    /// What is wrong, naming the metadata member or setting.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.item, self.detail, self.item.rule())
    }
}

/// The profile cannot be met.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The OP's metadata or keys, or the client's settings, violate the profile.
    #[error("{} not met: {}", profile.title(), join(violations))]
    Violations {
        /// The profile.
        profile: Profile,
        /// Every violation, in item order.
        violations: Vec<Violation>,
    },
}

fn join(v: &[Violation]) -> String {
    v.iter()
        .map(Violation::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `Ok` when `violations` is empty, else the error listing them.
///
/// # Errors
/// [`ProfileError::Violations`].
pub fn require(profile: Profile, violations: Vec<Violation>) -> Result<(), ProfileError> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(ProfileError::Violations {
            profile,
            violations,
        })
    }
}

/// FAPI 2.0 Security Profile §5.4.1: "shall use PS256, ES256, or EdDSA (using the Ed25519
/// variant)"; never `none`.
pub const FAPI2_ALGORITHMS: [Algorithm; 3] = [Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA];

/// Whether `alg` is one FAPI 2.0 allows for signed JWTs.
pub fn fapi2_allows(alg: Algorithm) -> bool {
    FAPI2_ALGORITHMS.contains(&alg)
}

/// Every violation of `profile` by the OP's metadata and the client's settings, in item order.
pub fn check(profile: Profile, md: &ProviderMetadata, client: &ClientSettings) -> Vec<Violation> {
    match profile {
        Profile::Fapi2 => fapi2(md, client),
    }
}

/// Every published key that violates `profile` (FAPI 2.0 Security Profile §5.4.1: RSA keys of
/// at least 2048 bits, elliptic curve keys of at least 224 bits). Encryption keys (`use`:
/// `enc`) are held to the same sizes.
pub fn check_keys(profile: Profile, jwks: &JwkSet) -> Vec<Violation> {
    match profile {
        Profile::Fapi2 => jwks
            .keys
            .iter()
            .filter_map(|jwk| {
                let strength = KeyStrength::of(jwk);
                (!strength.meets_fapi2()).then(|| Violation {
                    item: Item::OpKeys,
                    detail: format!(
                        "the OP's key {} is {}: RSA keys need at least 2048 bits, EC keys at least 224",
                        jwk.kid.as_deref().unwrap_or("(no kid)"),
                        strength.describe()
                    ),
                })
            })
            .collect(),
    }
}

fn fapi2(md: &ProviderMetadata, c: &ClientSettings) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut violation = |item: Item, detail: String| out.push(Violation { item, detail });

    // §5.3.2.2: "shall use pushed authorization requests".
    if md.pushed_authorization_request_endpoint.is_none() {
        violation(
            Item::Par,
            "the OP publishes no pushed_authorization_request_endpoint".into(),
        );
    }
    // §5.3.2.2: "shall use the authorization code grant ... with PKCE ... S256".
    if !md
        .code_challenge_methods_supported
        .iter()
        .any(|m| m == "S256")
    {
        violation(
            Item::Pkce,
            "the OP's code_challenge_methods_supported lacks S256".into(),
        );
    }
    // §5.3.2.1: "shall support client authentication using ... MTLS ... or private_key_jwt".
    let fapi_method = matches!(
        c.auth_method,
        AuthMethod::PrivateKeyJwt | AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth
    );
    if !fapi_method {
        violation(
            Item::ClientAuthentication,
            format!(
                "auth_method is {}; use private_key_jwt, tls_client_auth or self_signed_tls_client_auth",
                c.auth_method
            ),
        );
    } else if !md
        .token_auth_methods()
        .iter()
        .any(|m| m == c.auth_method.as_str())
    {
        violation(
            Item::ClientAuthentication,
            format!(
                "the OP's token_endpoint_auth_methods_supported lacks {}",
                c.auth_method
            ),
        );
    }
    sender_constraint(md, c, &mut violation);
    // §5.3.2.2: "shall check the iss parameter" (RFC 9207); the OP must send it.
    if !md.authorization_response_iss_parameter_supported {
        violation(
            Item::IssParameter,
            "the OP does not advertise authorization_response_iss_parameter_supported (RFC 9207)"
                .into(),
        );
    }
    algorithms(md, c, &mut violation);
    // §5.3.2.1: "shall use the authorization server's issuer identifier value ... as the sole
    // value of the audience" (a single string).
    if c.assertion_alg.is_some() && c.assertion_audience != AssertionAudience::Issuer {
        violation(
            Item::AssertionAudience,
            "assertion_audience is endpoint; the client assertion's aud must be the issuer".into(),
        );
    }
    out
}

fn sender_constraint(
    md: &ProviderMetadata,
    c: &ClientSettings,
    violation: &mut impl FnMut(Item, String),
) {
    let s = c.sender_constraint;
    if !s.dpop && !s.certificate {
        violation(
            Item::SenderConstrainedTokens,
            "set dpop_bound_access_tokens or tls_client_certificate_bound_access_tokens".into(),
        );
        return;
    }
    if s.dpop {
        // RFC 9449 §5.1: the OP lists the proof algorithms it accepts.
        let algs = string_list(md, "dpop_signing_alg_values_supported");
        if !algs.iter().any(|a| a.parse().is_ok_and(fapi2_allows)) {
            violation(
                Item::SenderConstrainedTokens,
                "dpop_bound_access_tokens: the OP's dpop_signing_alg_values_supported has none of PS256, ES256, EdDSA".into(),
            );
        }
    }
    if s.certificate {
        if !md.tls_client_certificate_bound_access_tokens {
            violation(
                Item::SenderConstrainedTokens,
                "tls_client_certificate_bound_access_tokens: the OP does not advertise tls_client_certificate_bound_access_tokens (RFC 8705 §3.3)".into(),
            );
        }
        if !c.has_tls_certificate {
            violation(
                Item::SenderConstrainedTokens,
                "tls_client_certificate_bound_access_tokens: no TLS client certificate is configured (tls_cert, tls_key)".into(),
            );
        }
    }
}

fn algorithms(md: &ProviderMetadata, c: &ClientSettings, violation: &mut impl FnMut(Item, String)) {
    // §5.4.1: PS256, ES256 or EdDSA for every JWT the client creates or processes.
    if !fapi2_allows(c.id_token_alg) {
        violation(
            Item::IdTokenAlgorithm,
            format!(
                "id_token_alg is {}; use PS256, ES256 or EdDSA",
                c.id_token_alg
            ),
        );
    } else if !md
        .id_token_signing_alg_values_supported
        .iter()
        .any(|a| a == c.id_token_alg.as_str())
    {
        violation(
            Item::IdTokenAlgorithm,
            format!(
                "the OP's id_token_signing_alg_values_supported lacks {}",
                c.id_token_alg
            ),
        );
    }
    if let Some(alg) = c.assertion_alg {
        if !fapi2_allows(alg) {
            violation(
                Item::AssertionAlgorithm,
                format!("the client assertion is signed with {alg}; use PS256, ES256 or EdDSA"),
            );
        } else {
            let op = &md.token_endpoint_auth_signing_alg_values_supported;
            if !op.is_empty() && !op.iter().any(|a| a == alg.as_str()) {
                violation(
                    Item::AssertionAlgorithm,
                    format!(
                        "the OP's token_endpoint_auth_signing_alg_values_supported lacks {alg}"
                    ),
                );
            }
        }
    }
}

/// A string-array member of the metadata that [`ProviderMetadata`] does not model.
pub(crate) fn string_list<'a>(md: &'a ProviderMetadata, member: &str) -> Vec<&'a str> {
    md.raw
        .get(member)
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
