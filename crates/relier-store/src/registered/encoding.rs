//! The stored form of a [`Registration`] (column `providers.registered`): a versioned encoding
//! written and read only through the type. Every value is a registered name (RFC 7518 / IANA
//! algorithm names, RFC 7591 method names) parsed back by the type's own parser, unknown fields
//! are refused, and `v` names the layout, so a later layout is told from this one instead of
//! being misread.

use relier_core::AuthMethod;
use relier_core::encryption::ResponseEncryption;
use relier_core::jarm::JarmRule;
use relier_core::registration::Registration;
use relier_core::request_object::RequestObjectRule;
use relier_core::token_binding::TokenBinding;
use relier_jose::Algorithm;
use relier_jose::jwe::{ContentEncAlg, KeyManagementAlg};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// The layout this build writes.
pub(super) const VERSION: u32 = 1;

/// Layout 1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct V1 {
    v: u32,
    auth_method: AuthMethod,
    auth_signing_alg: Option<Algorithm>,
    id_token_signed_alg: Option<Algorithm>,
    id_token_encryption: Option<Encryption>,
    userinfo_signed_alg: Option<Algorithm>,
    userinfo_encryption: Option<Encryption>,
    request_object_alg: Option<Algorithm>,
    request_object_required: bool,
    request_object_encryption: Option<Encryption>,
    jarm: Option<Jarm>,
    requires_par: bool,
    dpop_bound: bool,
    certificate_bound: bool,
    redirect_uris: Vec<String>,
    subject_claim: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Encryption {
    alg: KeyManagementAlg,
    enc: ContentEncAlg,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Jarm {
    alg: Algorithm,
    encryption: Option<Encryption>,
}

/// Only the layout number, to pick the layout before reading it.
#[derive(Deserialize)]
struct Layout {
    v: u32,
}

impl From<ResponseEncryption> for Encryption {
    fn from(e: ResponseEncryption) -> Self {
        Encryption {
            alg: e.alg,
            enc: e.enc,
        }
    }
}

impl From<Encryption> for ResponseEncryption {
    fn from(e: Encryption) -> Self {
        ResponseEncryption::new(e.alg, e.enc)
    }
}

impl From<&Registration> for V1 {
    fn from(r: &Registration) -> Self {
        // Destructured without `..`: a member added to Registration does not compile until it
        // is stored (in a new layout).
        let Registration {
            auth_method,
            auth_signing_alg,
            id_token_signed_alg,
            id_token_encryption,
            userinfo_signed_alg,
            userinfo_encryption,
            request_objects,
            jarm,
            requires_par,
            binding,
            redirect_uris,
            subject_claim,
        } = r;
        let RequestObjectRule {
            alg: request_object_alg,
            required: request_object_required,
            encryption: request_object_encryption,
        } = *request_objects;
        let TokenBinding { dpop, certificate } = *binding;
        V1 {
            v: VERSION,
            auth_method: *auth_method,
            auth_signing_alg: *auth_signing_alg,
            id_token_signed_alg: *id_token_signed_alg,
            id_token_encryption: id_token_encryption.map(Encryption::from),
            userinfo_signed_alg: *userinfo_signed_alg,
            userinfo_encryption: userinfo_encryption.map(Encryption::from),
            request_object_alg,
            request_object_required,
            request_object_encryption: request_object_encryption.map(Encryption::from),
            jarm: jarm.map(|JarmRule { alg, encryption }| Jarm {
                alg,
                encryption: encryption.map(Encryption::from),
            }),
            requires_par: *requires_par,
            dpop_bound: dpop,
            certificate_bound: certificate,
            redirect_uris: redirect_uris.clone(),
            subject_claim: subject_claim.clone(),
        }
    }
}

impl From<V1> for Registration {
    fn from(s: V1) -> Self {
        Registration {
            auth_method: s.auth_method,
            auth_signing_alg: s.auth_signing_alg,
            id_token_signed_alg: s.id_token_signed_alg,
            id_token_encryption: s.id_token_encryption.map(Into::into),
            userinfo_signed_alg: s.userinfo_signed_alg,
            userinfo_encryption: s.userinfo_encryption.map(Into::into),
            request_objects: RequestObjectRule {
                alg: s.request_object_alg,
                required: s.request_object_required,
                encryption: s.request_object_encryption.map(Into::into),
            },
            jarm: s.jarm.map(|j| JarmRule {
                alg: j.alg,
                encryption: j.encryption.map(Into::into),
            }),
            requires_par: s.requires_par,
            binding: TokenBinding {
                dpop: s.dpop_bound,
                certificate: s.certificate_bound,
            },
            redirect_uris: s.redirect_uris,
            subject_claim: s.subject_claim,
        }
    }
}

/// The stored text of `registration`.
pub(super) fn encode(registration: &Registration) -> Result<String, StoreError> {
    serde_json::to_string(&V1::from(registration)).map_err(|e| StoreError::Invalid {
        what: "registration",
        reason: e.to_string(),
    })
}

/// The encoding as a JSON value (for output).
pub(super) fn to_value(registration: &Registration) -> serde_json::Value {
    serde_json::to_value(V1::from(registration)).unwrap_or(serde_json::Value::Null)
}

/// Reads the stored text of provider `provider`'s registration.
///
/// # Errors
/// [`StoreError::Unsupported`] for a layout newer than this build's; [`StoreError::Database`]
/// for text that is not a registration of its layout.
pub(super) fn decode(provider: &str, text: &str) -> Result<Registration, StoreError> {
    let corrupt = |e: &serde_json::Error| {
        StoreError::db(format!(
            "corrupt registration of provider {provider} in store ({:?} error at column {})",
            e.classify(),
            e.column()
        ))
    };
    let layout: Layout = serde_json::from_str(text).map_err(|e| corrupt(&e))?;
    if layout.v != VERSION {
        return Err(StoreError::Unsupported {
            what: format!(
                "the registration of provider {provider} is stored in layout {}, which this \
                 build does not know (it writes {VERSION}); upgrade relier",
                layout.v
            ),
        });
    }
    let v1: V1 = serde_json::from_str(text).map_err(|e| corrupt(&e))?;
    Ok(v1.into())
}
