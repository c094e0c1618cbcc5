//! The registration a `[[providers]]` table states — or a preset, which expands into one
//! ([`crate::presets::expand`]): its keys are named as the registration members they are (OIDC
//! Registration §2, RFC 9101, JARM §3, RFC 9449 §5.2, RFC 8705 §3.4; `auth_method`,
//! `signing_alg`, `id_token_alg` and `par` for `token_endpoint_auth_method`,
//! `token_endpoint_auth_signing_alg`, `id_token_signed_response_alg` and
//! `require_pushed_authorization_requests`), and they are read by the same
//! [`Registration::from_metadata`] as a registration response or an entity statement's
//! `metadata.openid_relying_party`: the same metadata gives the same [`Registration`].

use relier_core::AuthMethod;
use relier_core::registration::Registration;
use serde_json::{Map, Value};

use crate::config::ProviderConfig;
use crate::error::GatewayError;
use crate::presets::Preset;

/// The table keys named otherwise than the members they state.
const RENAMED: [(&str, &str); 4] = [
    ("token_endpoint_auth_method", "auth_method"),
    ("token_endpoint_auth_signing_alg", "signing_alg"),
    ("id_token_signed_response_alg", "id_token_alg"),
    ("require_pushed_authorization_requests", "par"),
];

/// The table's registration, read as any registration's metadata: an error names the table's
/// key.
///
/// # Errors
/// [`GatewayError::Provider`] naming the key relier cannot use.
pub(super) fn from_table(
    p: &ProviderConfig,
    m: &Map<String, Value>,
) -> Result<Registration, GatewayError> {
    Registration::from_metadata(m).map_err(|e| {
        let key = RENAMED
            .iter()
            .find(|(member, _)| *member == e.member())
            .map_or(e.member(), |(_, key)| key);
        GatewayError::provider(&p.name, format!("{key}: {}", e.reason()))
    })
}

/// The table's keys as registration members (only those set).
pub(super) fn table_metadata(p: &ProviderConfig) -> Map<String, Value> {
    let mut m = Map::new();
    let strings = [
        ("token_endpoint_auth_method", &p.auth_method),
        ("token_endpoint_auth_signing_alg", &p.signing_alg),
        ("id_token_signed_response_alg", &p.id_token_alg),
        (
            "id_token_encrypted_response_alg",
            &p.id_token_encrypted_response_alg,
        ),
        (
            "id_token_encrypted_response_enc",
            &p.id_token_encrypted_response_enc,
        ),
        (
            "userinfo_encrypted_response_alg",
            &p.userinfo_encrypted_response_alg,
        ),
        (
            "userinfo_encrypted_response_enc",
            &p.userinfo_encrypted_response_enc,
        ),
        (
            "userinfo_signed_response_alg",
            &p.userinfo_signed_response_alg,
        ),
        ("request_object_signing_alg", &p.request_object_signing_alg),
        (
            "request_object_encryption_alg",
            &p.request_object_encryption_alg,
        ),
        (
            "request_object_encryption_enc",
            &p.request_object_encryption_enc,
        ),
        (
            "authorization_signed_response_alg",
            &p.authorization_signed_response_alg,
        ),
        (
            "authorization_encrypted_response_alg",
            &p.authorization_encrypted_response_alg,
        ),
        (
            "authorization_encrypted_response_enc",
            &p.authorization_encrypted_response_enc,
        ),
    ];
    for (member, value) in strings {
        if let Some(v) = value {
            m.insert(member.to_owned(), v.clone().into());
        }
    }
    if let Some(required) = p.require_signed_request_object {
        m.insert("require_signed_request_object".to_owned(), required.into());
    }
    let flags = [
        ("require_pushed_authorization_requests", p.par),
        ("dpop_bound_access_tokens", p.dpop_bound_access_tokens),
        (
            "tls_client_certificate_bound_access_tokens",
            p.tls_client_certificate_bound_access_tokens,
        ),
    ];
    for (member, on) in flags {
        if on {
            m.insert(member.to_owned(), true.into());
        }
    }
    m
}

/// The table's registration, with the client authentication `method` (named by
/// `auth_method`, or inferred from the credentials given) and the gateway's redirect URI.
///
/// # Errors
/// [`GatewayError::Provider`] naming the key relier cannot use.
pub(super) fn configured(
    p: &ProviderConfig,
    method: AuthMethod,
    redirect_uri: &str,
) -> Result<Registration, GatewayError> {
    let mut m = table_metadata(p);
    m.insert(
        "token_endpoint_auth_method".to_owned(),
        method.as_str().into(),
    );
    m.insert("redirect_uris".to_owned(), vec![redirect_uri].into());
    from_table(p, &m).map(|r| r.with_subject_claim(subject_claim(p)))
}

/// A preset's subject claim (`preset = "ftn"`: `personal_identity_code`).
pub(super) fn subject_claim(p: &ProviderConfig) -> Option<String> {
    p.preset.and_then(Preset::subject_claim).map(str::to_owned)
}

#[cfg(test)]
#[path = "registration_tests.rs"]
mod tests;
