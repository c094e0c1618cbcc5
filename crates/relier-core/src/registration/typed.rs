//! [`Registration`]: everything in a client's registration that decides what relier does —
//! client authentication, ID token and UserInfo signing and encryption, request objects, JARM,
//! pushed authorization requests, sender-constrained tokens, redirect URIs, the subject claim —
//! read once, typed, from registration metadata (OIDC Registration §2, RFC 7591 §2 and the
//! members of RFC 9101, JARM, RFC 9126 §6, RFC 9449 §5.2, RFC 8705 §3.4).
//!
//! Every source gives its metadata as members of the same names and is read by
//! [`Registration::from_metadata`], so the same metadata gives the same registration: a
//! registration response ([`Registration::from_response`]: `register`, `import`), an entity
//! statement's `metadata.openid_relying_party` ([`Registration::from_entity_metadata`]), and
//! a `[[providers]]` table or a preset (their keys, named as the members, by the gateway).

use std::str::FromStr as _;

use relier_jose::Algorithm;
use serde_json::{Map, Value};

use crate::client_auth::AuthMethod;
use crate::encryption::{EncryptedResponse, KeyManagementAlg, ResponseEncryption};
use crate::federation::EntityMetadata;
use crate::jarm::{JarmError, JarmRule};
use crate::request_object::{RequestObjectError, RequestObjectRule};
use crate::token_binding::{TokenBinding, TokenBindingError};

use super::RegistrationResponse;

/// `token_endpoint_auth_method` (RFC 7591 §2).
pub const AUTH_METHOD: &str = "token_endpoint_auth_method";
/// `token_endpoint_auth_signing_alg` (OIDC Registration §2).
pub const AUTH_SIGNING_ALG: &str = "token_endpoint_auth_signing_alg";
/// `id_token_signed_response_alg` (OIDC Registration §2).
pub const ID_TOKEN_SIGNED_ALG: &str = "id_token_signed_response_alg";
/// `userinfo_signed_response_alg` (OIDC Registration §2).
pub const USERINFO_SIGNED_ALG: &str = "userinfo_signed_response_alg";
/// `require_pushed_authorization_requests` (RFC 9126 §6).
pub const REQUIRE_PAR: &str = "require_pushed_authorization_requests";
/// `redirect_uris` (RFC 7591 §2).
pub const REDIRECT_URIS: &str = "redirect_uris";

/// A registration member relier cannot use. Names the member; never holds a secret (no
/// secret member is read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationMetadataError {
    /// The member has the wrong type, names an algorithm or method relier does not implement,
    /// or one it refuses (RSA1_5, `none` where a signature is required, …).
    #[error("registration: {member}: {reason}")]
    Unusable {
        /// The member.
        member: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl RegistrationMetadataError {
    /// The member that cannot be used.
    #[must_use]
    pub fn member(&self) -> &'static str {
        match self {
            RegistrationMetadataError::Unusable { member, .. } => member,
        }
    }

    /// What is wrong with it.
    #[must_use]
    pub fn reason(&self) -> &str {
        match self {
            RegistrationMetadataError::Unusable { reason, .. } => reason,
        }
    }

    fn unusable(member: &'static str, reason: impl Into<String>) -> Self {
        RegistrationMetadataError::Unusable {
            member,
            reason: reason.into(),
        }
    }
}

/// What a client's registration decides, typed. `Default` is what RFC 7591 §2 and OIDC
/// Registration §2 default to: `client_secret_basic`, RS256 ID tokens, nothing encrypted,
/// signed or pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// `token_endpoint_auth_method` (default `client_secret_basic`, RFC 7591 §2).
    pub auth_method: AuthMethod,
    /// `token_endpoint_auth_signing_alg`: asymmetric for `private_key_jwt`, a MAC for
    /// `client_secret_jwt`.
    pub auth_signing_alg: Option<Algorithm>,
    /// `id_token_signed_response_alg` (`None`: not registered, RS256). `none` is kept: only
    /// the client's own registration can ask for unsigned ID tokens (OIDC Core §2).
    pub id_token_signed_alg: Option<Algorithm>,
    /// `id_token_encrypted_response_alg` / `_enc`.
    pub id_token_encryption: Option<ResponseEncryption>,
    /// `userinfo_signed_response_alg` (never `none`).
    pub userinfo_signed_alg: Option<Algorithm>,
    /// `userinfo_encrypted_response_alg` / `_enc`.
    pub userinfo_encryption: Option<ResponseEncryption>,
    /// `request_object_signing_alg`, `require_signed_request_object`,
    /// `request_object_encryption_alg` / `_enc` (RFC 9101, OIDC Core §6.1).
    pub request_objects: RequestObjectRule,
    /// `authorization_signed_response_alg`, `authorization_encrypted_response_*` (JARM §3).
    pub jarm: Option<JarmRule>,
    /// The client's own `require_pushed_authorization_requests` (RFC 9126 §6).
    pub requires_par: bool,
    /// `dpop_bound_access_tokens` (RFC 9449 §5.2), `tls_client_certificate_bound_access_tokens`
    /// (RFC 8705 §3.4).
    pub binding: TokenBinding,
    /// `redirect_uris`.
    pub redirect_uris: Vec<String>,
    /// The claim that identifies the user instead of `sub` (a preset's: the FTN's
    /// `personal_identity_code`); no registration member names it.
    pub subject_claim: Option<String>,
}

impl Default for Registration {
    fn default() -> Self {
        Registration {
            auth_method: AuthMethod::ClientSecretBasic,
            auth_signing_alg: None,
            id_token_signed_alg: None,
            id_token_encryption: None,
            userinfo_signed_alg: None,
            userinfo_encryption: None,
            request_objects: RequestObjectRule::default(),
            jarm: None,
            requires_par: false,
            binding: TokenBinding::default(),
            redirect_uris: Vec::new(),
            subject_claim: None,
        }
    }
}

impl Registration {
    /// Reads registration metadata: every member that decides behaviour, checked. Members it
    /// does not use are ignored.
    ///
    /// # Errors
    /// [`RegistrationMetadataError::Unusable`] naming the first member relier cannot use.
    pub fn from_metadata(m: &Map<String, Value>) -> Result<Self, RegistrationMetadataError> {
        let auth_method = match text(m, AUTH_METHOD)? {
            None => AuthMethod::ClientSecretBasic,
            Some(s) => AuthMethod::from_str(s).map_err(|_| {
                RegistrationMetadataError::unusable(
                    AUTH_METHOD,
                    format!("unknown method {:?}", short(s)),
                )
            })?,
        };
        let auth_signing_alg = alg(m, AUTH_SIGNING_ALG)?;
        match (auth_method, auth_signing_alg) {
            (AuthMethod::PrivateKeyJwt, Some(a)) if a.is_hmac() || a == Algorithm::None => {
                return Err(RegistrationMetadataError::unusable(
                    AUTH_SIGNING_ALG,
                    format!("{a}: private_key_jwt signs with an asymmetric key"),
                ));
            }
            (AuthMethod::ClientSecretJwt, Some(a)) if !a.is_hmac() => {
                return Err(RegistrationMetadataError::unusable(
                    AUTH_SIGNING_ALG,
                    format!("{a}: client_secret_jwt signs with HS256, HS384 or HS512"),
                ));
            }
            _ => {}
        }
        let userinfo_signed_alg = alg(m, USERINFO_SIGNED_ALG)?;
        if userinfo_signed_alg == Some(Algorithm::None) {
            return Err(RegistrationMetadataError::unusable(
                USERINFO_SIGNED_ALG,
                "\"none\" is not accepted",
            ));
        }
        Ok(Registration {
            auth_method,
            auth_signing_alg,
            id_token_signed_alg: alg(m, ID_TOKEN_SIGNED_ALG)?,
            id_token_encryption: encryption(m, EncryptedResponse::IdToken)?,
            userinfo_signed_alg,
            userinfo_encryption: encryption(m, EncryptedResponse::UserInfo)?,
            request_objects: RequestObjectRule::from_registration(m).map_err(request_object)?,
            jarm: JarmRule::from_registration(m).map_err(jarm)?,
            requires_par: flag(m, REQUIRE_PAR)?,
            binding: TokenBinding::from_registration(m).map_err(binding)?,
            redirect_uris: strings(m, REDIRECT_URIS)?,
            subject_claim: None,
        })
    }

    /// A registration response (RFC 7591 §3.2.1, RFC 7592 §3): `register`, `import`, `sync`.
    ///
    /// # Errors
    /// As [`Registration::from_metadata`].
    pub fn from_response(resp: &RegistrationResponse) -> Result<Self, RegistrationMetadataError> {
        Self::from_metadata(&resp.metadata)
    }

    /// An entity statement's `metadata.openid_relying_party` (OpenID Federation 1.0 §5.1.2):
    /// `None` without one.
    ///
    /// # Errors
    /// As [`Registration::from_metadata`].
    pub fn from_entity_metadata(
        metadata: &EntityMetadata,
    ) -> Result<Option<Self>, RegistrationMetadataError> {
        metadata
            .openid_relying_party
            .as_ref()
            .map(Self::from_metadata)
            .transpose()
    }

    /// With `claim` as the user's identifier instead of `sub`.
    #[must_use]
    pub fn with_subject_claim(mut self, claim: Option<String>) -> Self {
        self.subject_claim = claim;
        self
    }

    /// The registered encryption of `which` (`enc` defaulting to A128CBC-HS256).
    #[must_use]
    pub fn encryption(&self, which: EncryptedResponse) -> Option<ResponseEncryption> {
        match which {
            EncryptedResponse::IdToken => self.id_token_encryption,
            EncryptedResponse::UserInfo => self.userinfo_encryption,
            EncryptedResponse::AuthorizationResponse => self.jarm.and_then(|j| j.encryption),
            EncryptedResponse::RequestObject => self.request_objects.encryption,
        }
    }

    /// The responses the OP encrypts to the RP — ID token, UserInfo, authorization response
    /// (JARM) — with their registered encryption, if any.
    #[must_use]
    pub fn encrypted_responses(&self) -> [(EncryptedResponse, Option<ResponseEncryption>); 3] {
        [
            EncryptedResponse::IdToken,
            EncryptedResponse::UserInfo,
            EncryptedResponse::AuthorizationResponse,
        ]
        .map(|which| (which, self.encryption(which)))
    }

    /// The encrypted responses whose key management uses an RP key (not the client secret),
    /// with that algorithm: each needs an active RP encryption key.
    #[must_use]
    pub fn rp_key_algs(&self) -> Vec<(EncryptedResponse, KeyManagementAlg)> {
        self.encrypted_responses()
            .into_iter()
            .filter_map(|(which, e)| Some((which, e?.alg)))
            .filter(|(_, alg)| !alg.is_symmetric())
            .collect()
    }

    /// The first member whose encryption is derived from the client secret (OIDC Core §10.2:
    /// `dir`, `A*KW`) — unusable by a client that has none.
    #[must_use]
    pub fn needs_client_secret(&self) -> Option<&'static str> {
        self.encrypted_responses()
            .into_iter()
            .find(|(_, e)| e.is_some_and(|e| e.alg.is_symmetric()))
            .map(|(which, _)| which.alg_member())
    }
}

/// At most 32 characters of an untrusted value, for a message.
fn short(s: &str) -> String {
    s.chars().take(32).collect()
}

fn text<'a>(
    m: &'a Map<String, Value>,
    member: &'static str,
) -> Result<Option<&'a str>, RegistrationMetadataError> {
    match m.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(RegistrationMetadataError::unusable(member, "not a string")),
    }
}

fn alg(
    m: &Map<String, Value>,
    member: &'static str,
) -> Result<Option<Algorithm>, RegistrationMetadataError> {
    text(m, member)?
        .map(|s| {
            Algorithm::from_str(s).map_err(|_| {
                RegistrationMetadataError::unusable(
                    member,
                    format!("unknown algorithm {:?}", short(s)),
                )
            })
        })
        .transpose()
}

fn flag(m: &Map<String, Value>, member: &'static str) -> Result<bool, RegistrationMetadataError> {
    match m.get(member) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(RegistrationMetadataError::unusable(member, "not a boolean")),
    }
}

fn strings(
    m: &Map<String, Value>,
    member: &'static str,
) -> Result<Vec<String>, RegistrationMetadataError> {
    match m.get(member) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| RegistrationMetadataError::unusable(member, "not all strings")),
        Some(_) => Err(RegistrationMetadataError::unusable(member, "not an array")),
    }
}

fn encryption(
    m: &Map<String, Value>,
    which: EncryptedResponse,
) -> Result<Option<ResponseEncryption>, RegistrationMetadataError> {
    ResponseEncryption::from_registration(m, which).map_err(|e| {
        let member = match e {
            crate::encryption::EncryptionConfigError::UnknownEnc { .. }
            | crate::encryption::EncryptionConfigError::EncWithoutAlg { .. } => which.enc_member(),
            _ => which.alg_member(),
        };
        RegistrationMetadataError::unusable(member, e.to_string())
    })
}

fn request_object(e: RequestObjectError) -> RegistrationMetadataError {
    let member = match &e {
        RequestObjectError::Registration { member, .. } => member,
        RequestObjectError::EncryptionConfig(_) => "request_object_encryption_alg",
        _ => "request_object_signing_alg",
    };
    RegistrationMetadataError::unusable(member, e.to_string())
}

fn jarm(e: JarmError) -> RegistrationMetadataError {
    let member = match &e {
        JarmError::Registration { member, .. } => member,
        _ => "authorization_signed_response_alg",
    };
    RegistrationMetadataError::unusable(member, e.to_string())
}

fn binding(e: TokenBindingError) -> RegistrationMetadataError {
    let member = match &e {
        TokenBindingError::NotABool { member } => member,
    };
    RegistrationMetadataError::unusable(member, e.to_string())
}

#[cfg(test)]
#[path = "typed_tests.rs"]
mod tests;
