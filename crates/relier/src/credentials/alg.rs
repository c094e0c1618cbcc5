//! Which algorithm client assertions are signed with, when the configuration does not say.

use relier_core::ProviderMetadata;
use relier_jose::Algorithm;

use super::error::CredentialError;

/// Asymmetric algorithms in the order relier prefers them for client assertions: the compact,
/// fast elliptic-curve signatures first, then RSA-PSS before PKCS#1 v1.5.
pub const PREFERRED_ALGS: [Algorithm; 10] = [
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::ES384,
    Algorithm::PS256,
    Algorithm::RS256,
    Algorithm::ES512,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::RS384,
    Algorithm::RS512,
];

/// The first of `algs` in [`PREFERRED_ALGS`] order that `allowed` accepts (then any other of
/// `algs`, in their order).
pub fn prefer_alg(algs: &[Algorithm], allowed: impl Fn(Algorithm) -> bool) -> Option<Algorithm> {
    PREFERRED_ALGS
        .into_iter()
        .chain(algs.iter().copied())
        .find(|a| algs.contains(a) && allowed(*a))
}

/// Whether the OP accepts `alg` for client assertions: it is listed in
/// `token_endpoint_auth_signing_alg_values_supported`, or the OP lists nothing (no restriction
/// known).
pub fn op_accepts(md: &ProviderMetadata, alg: Algorithm) -> bool {
    let algs = &md.token_endpoint_auth_signing_alg_values_supported;
    algs.is_empty() || algs.iter().any(|a| a == alg.as_str())
}

/// The algorithm of the key-store key a registered private_key_jwt client signs its
/// assertions with.
///
/// * The registered `token_endpoint_auth_signing_alg` (RFC 7591 §2, OpenID Connect Dynamic
///   Client Registration §2): once registered, "all Token Requests using these authentication
///   methods from this Client MUST be rejected" if not signed with it — so it is used as is
///   (the caller then needs an active key of that algorithm). An HMAC value is client_secret_jwt's
///   and ignored here.
/// * Without one, the OP accepts any algorithm it supports, i.e. one its discovery lists in
///   `token_endpoint_auth_signing_alg_values_supported` (an empty list: no restriction
///   known). The key must also be one the OP already knows — the client's registered JWKS is
///   the store's active keys — so it is the preferred ([`PREFERRED_ALGS`]) *active* key whose
///   algorithm the OP supports, never a configured default the store may not hold or the OP
///   may refuse.
///
/// # Errors
/// [`CredentialError::NoAcceptableKey`] when no registered algorithm is given and no active
/// key's algorithm is accepted.
pub fn registered_key_alg(
    registered: Option<Algorithm>,
    active: &[Algorithm],
    md: &ProviderMetadata,
) -> Result<Algorithm, CredentialError> {
    if let Some(alg) = registered.filter(|a| !a.is_hmac() && *a != Algorithm::None) {
        return Ok(alg);
    }
    prefer_alg(active, |alg| !alg.is_hmac() && op_accepts(md, alg)).ok_or_else(|| {
        CredentialError::NoAcceptableKey {
            active: active.to_vec(),
            accepted: md.token_endpoint_auth_signing_alg_values_supported.clone(),
        }
    })
}

/// client_secret_jwt's algorithm when none is given: the first of HS256, HS384, HS512 the
/// secret is long enough for (RFC 7518 §3.2) and the OP accepts; HS256 when none fits (its
/// length check then names the problem).
pub fn hmac_alg_for(md: &ProviderMetadata, secret_len: usize) -> Algorithm {
    [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512]
        .into_iter()
        .find(|alg| {
            alg.hmac_min_key_len().is_some_and(|min| secret_len >= min) && op_accepts(md, *alg)
        })
        .unwrap_or(Algorithm::HS256)
}
