//! `preset = "ftn"`: a Finnish Trust Network broker, as the OP Identity Service Broker's
//! Service Provider API describes it (github.com/op-developer/Identity-Service-Broker-API):
//! - §8: `private_key_jwt`, RS256, the assertion's `aud` the token endpoint URL (relier's
//!   assertions always carry `kid`, a unique `jti` and `exp`);
//! - §7: the authorization request only as a signed RS256 request object by value (the
//!   `request` parameter) with `ftn_spname` and `ui_locales`; the scopes `openid profile
//!   personal_identity_code`, plus `weak` or `strong` for a `purpose`;
//! - §9, §13: ID tokens encrypted RSA-OAEP / A128CBC-HS256 to the RP's encryption key, nested
//!   RS256;
//! - §9: the subject is the `personal_identity_code` ([`super::Preset::subject_claim`]).
//!
//! The RP's keys are the store's (published in its signed JWK set); the broker's keys and
//! endpoints come from its entity statement (`entity_statement`, required — or `entity_keys`
//! with `signed_jwks_uri` for a broker that still publishes discovery).

use relier_core::ftn::{IDP_CLAIM, SPNAME_CLAIM, UI_LOCALES_CLAIM, scopes};
use relier_core::request_object::RequestObjectDelivery;

use super::{PresetError, ProviderSettings, refuse};

const WHAT: &str = "a Finnish Trust Network broker (private_key_jwt, signed request objects by value and encrypted ID tokens only)";

/// `key` set to `expected`, or refused when it was set to something else.
fn fixed(
    key: &'static str,
    value: &mut Option<String>,
    expected: &'static str,
) -> Result<(), PresetError> {
    match value.as_deref() {
        Some(v) if v != expected => Err(PresetError::FtnFixed {
            key,
            expected,
            got: v.to_owned(),
        }),
        _ => {
            *value = Some(expected.to_owned());
            Ok(())
        }
    }
}

pub(super) fn apply(p: &mut ProviderSettings) -> Result<(), PresetError> {
    refuse(
        &[
            ("client_secret", p.client_secret.is_some()),
            ("client_secret_env", p.client_secret_env.is_some()),
            ("client_secret_file", p.client_secret_file.is_some()),
            ("tls_cert", p.tls_cert.is_some()),
            ("par", p.par),
            ("response_mode", p.response_mode.is_some()),
            ("scopes", p.scopes.is_some()),
            ("profile", p.profile.is_some()),
            (
                "authorization_signed_response_alg",
                p.authorization_signed_response_alg.is_some(),
            ),
            (
                "request_object_encryption_alg",
                p.request_object_encryption_alg.is_some(),
            ),
            ("dpop_bound_access_tokens", p.dpop_bound_access_tokens),
            (
                "tls_client_certificate_bound_access_tokens",
                p.tls_client_certificate_bound_access_tokens,
            ),
            (
                "extra_params.ftn_spname",
                p.extra_params.contains_key(SPNAME_CLAIM),
            ),
            (
                "extra_params.ui_locales",
                p.extra_params.contains_key(UI_LOCALES_CLAIM),
            ),
            (
                "extra_params.ftn_idp_id",
                p.extra_params.contains_key(IDP_CLAIM),
            ),
        ],
        WHAT,
    )?;
    if p.client_id.as_deref().is_none_or(str::is_empty) {
        return Err(PresetError::FtnNeeds { key: "client_id" });
    }
    let spname = p
        .ftn_spname
        .clone()
        .filter(|s| !s.trim().is_empty())
        .ok_or(PresetError::FtnNeeds { key: "ftn_spname" })?;
    // The broker's keys come only from its signed JWK set, verified with entity keys pinned
    // from its statement (or given as `entity_keys`): never from a plain `jwks_uri`.
    if p.entity_statement.is_none() && p.entity_keys.is_none() {
        return Err(PresetError::FtnNeeds {
            key: "entity_statement (the broker's statement as received; or entity_keys with signed_jwks_uri)",
        });
    }
    fixed("auth_method", &mut p.auth_method, "private_key_jwt")?;
    fixed("signing_alg", &mut p.signing_alg, "RS256")?;
    fixed("assertion_audience", &mut p.assertion_audience, "endpoint")?;
    fixed(
        "request_object_signing_alg",
        &mut p.request_object_signing_alg,
        "RS256",
    )?;
    fixed("id_token_alg", &mut p.id_token_alg, "RS256")?;
    if p.request_object == Some(RequestObjectDelivery::ByReference) {
        return Err(PresetError::FtnFixed {
            key: "request_object",
            expected: "\"by_value\" (the request parameter)",
            got: "by_reference".into(),
        });
    }
    if p.require_signed_request_object == Some(false) {
        return Err(PresetError::FtnFixed {
            key: "require_signed_request_object",
            expected: "true",
            got: "false".into(),
        });
    }
    p.require_signed_request_object = Some(true);
    p.id_token_encrypted_response_alg
        .get_or_insert_with(|| "RSA-OAEP".to_owned());
    p.id_token_encrypted_response_enc
        .get_or_insert_with(|| "A128CBC-HS256".to_owned());
    if p.private_key.is_none() {
        p.use_store_key = true;
    }
    p.scopes = Some(scopes(p.purpose));
    p.extra_params.insert(SPNAME_CLAIM.to_owned(), spname);
    if let Some(l) = p.ui_locales {
        p.extra_params
            .insert(UI_LOCALES_CLAIM.to_owned(), l.as_str().to_owned());
    }
    Ok(())
}
