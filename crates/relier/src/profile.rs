//! Security profiles over HTTP: the settings a [`crate::RelyingParty`] is checked with, and the
//! check of the OP's published keys ([`relier_core::profile`] holds the rules).

use relier_core::jose::{Algorithm, JwkSet, MAX_JWKS_BYTES};
use relier_core::jwks::{JwksError, KeySet};
use relier_core::profile::{self, ClientSettings, Profile, ProfileError};
use relier_core::token_binding::TokenBinding;
use relier_core::{ClientAuth, ProviderMetadata};

use crate::Error;
use crate::http::HttpClient;

/// What the client does, read off its authentication, pinned ID token algorithm, declared
/// sender constraint and HTTP client (which holds the TLS client certificate, if any).
pub(crate) fn client_settings(
    auth: &ClientAuth,
    id_token_alg: Algorithm,
    tokens: TokenBinding,
    http: &HttpClient,
) -> ClientSettings {
    ClientSettings {
        auth_method: auth.method(),
        assertion_alg: auth.assertion_algorithm(),
        assertion_audience: auth.assertion_audience(),
        id_token_alg,
        sender_constraint: tokens,
        has_tls_certificate: http.has_client_certificate(),
    }
}

/// Every violation of the profile by `md` and `settings`.
pub(crate) fn check(
    md: &ProviderMetadata,
    (p, settings): (Profile, ClientSettings),
) -> Result<(), ProfileError> {
    profile::require(p, profile::check(p, md, &settings))
}

/// Fetches the OP's JWKS and checks every key against `p` (FAPI 2.0 Security Profile §5.4.1:
/// RSA ≥ 2048 bits, EC ≥ 224 bits). An OP without `jwks_uri` has no keys to check.
///
/// # Errors
/// [`Error::Http`], [`Error::Jwks`] (status, content type, not a JWK Set), [`Error::Profile`].
pub async fn check_op_keys(
    http: &HttpClient,
    md: &ProviderMetadata,
    p: Profile,
) -> Result<(), Error> {
    let Some(uri) = &md.jwks_uri else {
        return Ok(());
    };
    let set = fetch_jwks(http, uri).await?;
    Ok(profile::require(p, profile::check_keys(p, &set))?)
}

/// The JWK Set at `uri`, every key as published (none skipped, unlike [`KeySet`]).
async fn fetch_jwks(http: &HttpClient, uri: &str) -> Result<JwkSet, Error> {
    let resp = http.send(KeySet::request(uri)).await?;
    if !resp.is_success() {
        return Err(JwksError::Status {
            url: uri.to_owned(),
            status: resp.status,
        }
        .into());
    }
    if resp.body.len() > MAX_JWKS_BYTES {
        return Err(JwksError::Invalid(format!("larger than {MAX_JWKS_BYTES} bytes")).into());
    }
    JwkSet::from_slice(&resp.body).map_err(|e| JwksError::Invalid(e.to_string()).into())
}
