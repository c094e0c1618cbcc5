//! The keys of an OpenID Connect provider's table ([`Oidc`]): an inline provider's, a
//! `google` or an `entra` one's.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use relier::provider::ProviderSettings;
use relier_core::profile::Profile;
use relier_core::request_object::RequestObjectDelivery;
use relier_core::userinfo::TokenMethod;
use relier_core::{Algorithm, AuthMethod, Secret};
use serde::Deserialize;

use super::kinds::GatewayKeys;
use crate::config::duration;

/// An OpenID Connect provider's keys: an inline provider's, and a `google` or `entra` one's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Oidc {
    /// Issuer identifier (optional with `entity_statement`, whose
    /// `metadata.openid_provider.issuer` it must then equal; a preset's default otherwise).
    #[serde(default)]
    pub issuer: Option<String>,
    /// OpenID Federation (the Finnish Trust Network): the broker's entity statement exactly as
    /// received (a JWS file). Verified at start (self-signed by a key in its own `jwks`, `typ`
    /// `entity-statement+jwt`, `iss` = `sub`; a warning within 30 days of its `exp`, no start
    /// after it); its entity keys are pinned and its `metadata.openid_provider` is the OP's
    /// metadata — no discovery request. The OP's signing keys then come only from its
    /// `signed_jwks_uri`, verified with the pinned keys. Not with `jwks_uri` or `entity_keys`.
    #[serde(default)]
    pub entity_statement: Option<PathBuf>,
    /// OpenID Federation for a broker that still publishes discovery: its entity keys (PEM,
    /// one or more public keys, each known by its RFC 7638 thumbprint as the `kid` the broker
    /// signs with), with `signed_jwks_uri`. The OP's signing keys then come only
    /// from that signed JWK set (its `iss` the discovered issuer); `jwks_uri` is never used.
    #[serde(default)]
    pub entity_keys: Option<PathBuf>,
    /// With `entity_keys`: the broker's signed JWK set (`application/jwk-set+jwt`).
    #[serde(default)]
    pub signed_jwks_uri: Option<String>,
    /// The OP's `jwks_uri`, replacing the discovered one (https). Not with `entity_statement`
    /// or `entity_keys`: such an OP's keys come from its signed JWK set.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// client_id.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Token endpoint authentication method (default client_secret_basic, or private_key_jwt
    /// with `private_key` / `use_store_key`).
    #[serde(default)]
    pub auth_method: Option<AuthMethod>,
    /// Push authorization requests (RFC 9126 PAR) even when the OP does not require it
    /// (default false; an OP that requires PAR gets it anyway).
    #[serde(default)]
    pub par: bool,
    /// Hold this provider to a security profile: `fapi2` (FAPI 2.0 Security Profile). The
    /// gateway refuses to start when the OP's metadata or keys, or this provider's settings,
    /// cannot meet it (naming each item), and forces PAR, PKCE S256 and the `iss` check.
    #[serde(default)]
    pub profile: Option<Profile>,
    /// The client secret in the file (prefer `client_secret_env` / `client_secret_file`).
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// Environment variable holding the client secret.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// File holding the client secret.
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// private_key_jwt key: PEM (PKCS#8/PKCS#1/SEC 1) or a private JWK.
    #[serde(default)]
    pub private_key: Option<PathBuf>,
    /// kid for `private_key` (default: the JWK's kid or the key's thumbprint).
    #[serde(default)]
    pub key_id: Option<String>,
    /// private_key_jwt with the gateway's own store key (rotated, published at
    /// `/.well-known/jwks.json`).
    #[serde(default)]
    pub use_store_key: bool,
    /// Client assertion algorithm.
    #[serde(default)]
    pub signing_alg: Option<Algorithm>,
    /// Expected ID token algorithm (default RS256).
    #[serde(default)]
    pub id_token_alg: Option<String>,
    /// The registered `id_token_encrypted_response_alg` (OIDC Registration §2): ID tokens must
    /// then be encrypted to the gateway's encryption key (RSA-OAEP*, ECDH-ES*, generated at
    /// start and published in `/.well-known/jwks.json`) or with the client secret (`dir`,
    /// `A128KW`, `A256KW`).
    #[serde(default)]
    pub id_token_encrypted_response_alg: Option<String>,
    /// The registered `id_token_encrypted_response_enc` (default A128CBC-HS256).
    #[serde(default)]
    pub id_token_encrypted_response_enc: Option<String>,
    /// The registered `userinfo_encrypted_response_alg`: UserInfo responses must then be
    /// encrypted (as ID tokens, above).
    #[serde(default)]
    pub userinfo_encrypted_response_alg: Option<String>,
    /// The registered `userinfo_encrypted_response_enc` (default A128CBC-HS256).
    #[serde(default)]
    pub userinfo_encrypted_response_enc: Option<String>,
    /// The registered `userinfo_signed_response_alg`: UserInfo responses must then be signed
    /// JWTs (OIDC Core §5.3.2), verified against the OP's JWKS.
    #[serde(default)]
    pub userinfo_signed_response_alg: Option<String>,
    /// The registered `request_object_signing_alg` (OIDC Registration §2): every authorization
    /// request is then a request object signed with the provider's key (RFC 9101).
    #[serde(default)]
    pub request_object_signing_alg: Option<String>,
    /// The registered `require_signed_request_object` (RFC 9101 §10.5): as above, with the
    /// key's algorithm unless `request_object_signing_alg` names one.
    #[serde(default)]
    pub require_signed_request_object: Option<bool>,
    /// The registered `request_object_encryption_alg` (OIDC Registration §2): request objects
    /// are then encrypted to the OP's `use: enc` key (OIDC Core §6.1, RFC 9101 §6.1).
    #[serde(default)]
    pub request_object_encryption_alg: Option<String>,
    /// The registered `request_object_encryption_enc` (default A128CBC-HS256).
    #[serde(default)]
    pub request_object_encryption_enc: Option<String>,
    /// How request objects travel: `"by_value"` (the default, the `request` parameter) or
    /// `"by_reference"` (served once at `{public_url}/auth/request/{id}`, the URL sends
    /// `request_uri`: OIDC Core §6.2, RFC 9101 §5.2).
    #[serde(default)]
    pub request_object: Option<RequestObjectDelivery>,
    /// The registered `authorization_signed_response_alg` (JARM §3): authorization responses
    /// must then be JWTs signed by the OP (`response_mode=jwt`, or `form_post.jwt`).
    #[serde(default)]
    pub authorization_signed_response_alg: Option<String>,
    /// The registered `authorization_encrypted_response_alg`: JARM responses must then be
    /// encrypted (as ID tokens, above).
    #[serde(default)]
    pub authorization_encrypted_response_alg: Option<String>,
    /// The registered `authorization_encrypted_response_enc` (default A128CBC-HS256).
    #[serde(default)]
    pub authorization_encrypted_response_enc: Option<String>,
    /// The registered `dpop_bound_access_tokens` (RFC 9449 §5.2): every login gets its own
    /// DPoP key, kept sealed with the session; tokens are bound to it.
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
    /// The registered `tls_client_certificate_bound_access_tokens` (RFC 8705 §3): token,
    /// refresh, UserInfo and revocation go to the mTLS aliases with `tls_cert`.
    #[serde(default)]
    pub tls_client_certificate_bound_access_tokens: bool,
    /// mTLS client certificate (PEM).
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// mTLS client key (PEM).
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Extra trusted CA certificates (PEM) for this OP.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Scopes (default `openid profile email`).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// `query` (default) or `form_post`.
    #[serde(default)]
    pub response_mode: Option<String>,
    /// `prompt` sent with every login (e.g. `select_account`).
    #[serde(default)]
    pub prompt: Option<String>,
    /// `max_age` sent with every login (OIDC Core §3.1.2.1): the OP re-authenticates a user
    /// who signed in longer ago, and the ID token must then carry an `auth_time` no older
    /// (§3.1.3.7 (13)); whole seconds.
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub max_age: Option<Duration>,
    /// How UserInfo gets the access token: `header` (default; `Authorization: Bearer`, RFC 6750
    /// §2.1) or `body` (a POST of `access_token=…`, §2.2). Not with DPoP (RFC 9449 §7.1).
    #[serde(default)]
    pub userinfo_token_method: TokenMethod,
    /// Client assertion `aud`: `issuer` (default) or `endpoint`.
    #[serde(default)]
    pub assertion_audience: Option<String>,
    /// Extra authorization request parameters (e.g. `ui_locales`).
    #[serde(default)]
    pub extra_params: BTreeMap<String, String>,
}

impl Oidc {
    pub(super) fn settings(&self) -> ProviderSettings {
        ProviderSettings {
            issuer: self.issuer.clone(),
            entity_statement: self.entity_statement.clone(),
            entity_keys: self.entity_keys.clone(),
            client_id: self.client_id.clone(),
            auth_method: self.auth_method.map(|m| m.as_str().to_owned()),
            par: self.par,
            profile: self.profile,
            client_secret: self.client_secret.clone(),
            client_secret_env: self.client_secret_env.clone(),
            client_secret_file: self.client_secret_file.clone(),
            private_key: self.private_key.clone(),
            key_id: self.key_id.clone(),
            use_store_key: self.use_store_key,
            signing_alg: self.signing_alg.map(|a| a.as_str().to_owned()),
            id_token_alg: self.id_token_alg.clone(),
            id_token_encrypted_response_alg: self.id_token_encrypted_response_alg.clone(),
            id_token_encrypted_response_enc: self.id_token_encrypted_response_enc.clone(),
            userinfo_encrypted_response_alg: self.userinfo_encrypted_response_alg.clone(),
            userinfo_encrypted_response_enc: self.userinfo_encrypted_response_enc.clone(),
            userinfo_signed_response_alg: self.userinfo_signed_response_alg.clone(),
            request_object_signing_alg: self.request_object_signing_alg.clone(),
            require_signed_request_object: self.require_signed_request_object,
            request_object_encryption_alg: self.request_object_encryption_alg.clone(),
            request_object_encryption_enc: self.request_object_encryption_enc.clone(),
            request_object: self.request_object,
            authorization_signed_response_alg: self.authorization_signed_response_alg.clone(),
            authorization_encrypted_response_alg: self.authorization_encrypted_response_alg.clone(),
            authorization_encrypted_response_enc: self.authorization_encrypted_response_enc.clone(),
            dpop_bound_access_tokens: self.dpop_bound_access_tokens,
            tls_client_certificate_bound_access_tokens: self
                .tls_client_certificate_bound_access_tokens,
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            scopes: self.scopes.clone(),
            response_mode: self.response_mode.clone(),
            max_age: self.max_age,
            assertion_audience: self.assertion_audience.clone(),
            extra_params: self.extra_params.clone(),
            userinfo_token_method: self.userinfo_token_method,
            ..ProviderSettings::default()
        }
    }

    pub(super) fn gateway_keys(&self) -> GatewayKeys<'_> {
        GatewayKeys {
            prompt: self.prompt.as_deref(),
            ca_file: self.ca_file.as_deref(),
            jwks_uri: self.jwks_uri.as_deref(),
            signed_jwks_uri: self.signed_jwks_uri.as_deref(),
        }
    }
}
