//! One `[[providers]]` entry of `relier.toml`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use relier::provider::ProviderSettings;
use relier_core::Secret;
use serde::Deserialize;

use super::{UserinfoPolicy, duration};
use crate::access::ClaimMatch;

/// One `[[providers]]` entry: inline (with `issuer` or a `preset`) or from the registry
/// (only `name`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Local name (`A-Z a-z 0-9 . _ -`), in the callback URL.
    pub name: String,
    /// `github`, `apple`, `google`, `entra` or `ftn`: fills in what the provider needs ([`relier::preset`]);
    /// every explicit key still wins.
    #[serde(default)]
    pub preset: Option<relier::preset::Preset>,
    /// `preset = "github"`: github.com (default `https://github.com`) or a GitHub Enterprise
    /// Server's URL.
    #[serde(default)]
    pub github_url: Option<String>,
    /// `preset = "apple"`: the Apple developer team id (10 characters), the client secret's
    /// `iss`.
    #[serde(default)]
    pub team_id: Option<String>,
    /// `preset = "apple"`: the Sign in with Apple private key (`AuthKey_<key_id>.p8`, PKCS#8
    /// EC P-256) the client secret is signed with; its id goes in `key_id`.
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
    /// `preset = "entra"`: `common`, `organizations`, `consumers` or a tenant id.
    #[serde(default)]
    pub tenant: Option<String>,
    /// `preset = "entra"`: the authority (default `https://login.microsoftonline.com`; a
    /// sovereign cloud's, e.g. `https://login.microsoftonline.us`).
    #[serde(default)]
    pub authority: Option<String>,
    /// `preset = "entra"` with a multi-tenant `tenant`: the tenant ids (`tid`) allowed in.
    #[serde(default)]
    pub allowed_tenants: Vec<String>,
    /// `preset = "entra"` with a multi-tenant `tenant`: let every tenant in (an explicit
    /// choice: without it or `allowed_tenants` the gateway refuses to start).
    #[serde(default)]
    pub allow_any_tenant: bool,
    /// `preset = "ftn"` (required): the service's name the bank shows the user, sent as the
    /// `ftn_spname` request-object claim (agreed with the broker beforehand).
    #[serde(default)]
    pub ftn_spname: Option<String>,
    /// `preset = "ftn"`: the broker's user-interface language, `fi`, `sv` or `en` (sent as
    /// `ui_locales`; also the language of the embedded chooser's texts).
    #[serde(default)]
    pub ui_locales: Option<relier_core::ftn::UiLocale>,
    /// `preset = "ftn"`: `weak` or `strong` when the login creates new credentials (added to
    /// the scopes, ISB README §7).
    #[serde(default)]
    pub purpose: Option<relier_core::ftn::Purpose>,
    /// `preset = "ftn"`: list the broker's identity providers on relier's own chooser
    /// (`GET {issuer}/api/embedded-ui/{client_id}`) and send the chosen one as `ftn_idp_id`.
    #[serde(default)]
    pub embedded_ui: bool,
    /// Button text after "Continue with" (default: the name).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Issuer identifier; absent for a registry provider (and optional with
    /// `entity_statement`, whose `metadata.openid_provider.issuer` it must then equal).
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
    pub auth_method: Option<String>,
    /// Push authorization requests (RFC 9126 PAR) even when the OP does not require it
    /// (default false; an OP that requires PAR gets it anyway).
    #[serde(default)]
    pub par: bool,
    /// Hold this provider to a security profile: `fapi2` (FAPI 2.0 Security Profile). The
    /// gateway refuses to start when the OP's metadata or keys, or this provider's settings,
    /// cannot meet it (naming each item), and forces PAR, PKCE S256 and the `iss` check.
    #[serde(default)]
    pub profile: Option<relier_core::profile::Profile>,
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
    /// kid for `private_key` (default: the JWK's kid or the key's thumbprint); with
    /// `preset = "apple"`, the id of `private_key_file` in Apple's developer account.
    #[serde(default)]
    pub key_id: Option<String>,
    /// private_key_jwt with the gateway's own store key (rotated, published at
    /// `/.well-known/jwks.json`).
    #[serde(default)]
    pub use_store_key: bool,
    /// Client assertion algorithm.
    #[serde(default)]
    pub signing_alg: Option<String>,
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
    /// `request_uri`: OIDC Core §6.2, RFC 9101 §5.2). Also on registry providers.
    #[serde(default)]
    pub request_object: Option<relier_core::request_object::RequestObjectDelivery>,
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
    /// With `[upstream] pass_access_token = true`: the upstream gets a token for this audience,
    /// obtained by OAuth 2.0 Token Exchange (RFC 8693) with the session's access token as the
    /// subject, instead of the session's token.
    #[serde(default)]
    pub exchange_audience: Option<String>,
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
    /// Scopes (default `openid profile email`; a registry provider: its stored scopes).
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
    /// When to call the OP's UserInfo endpoint after a login: `auto` (default: only when the
    /// ID token lacks a claim the gateway uses), `always` or `never` ([`crate::userinfo`]).
    #[serde(default)]
    pub userinfo: UserinfoPolicy,
    /// How UserInfo gets the access token: `header` (default; `Authorization: Bearer`, RFC 6750
    /// §2.1) or `body` (a POST of `access_token=…`, §2.2). Not with DPoP (RFC 9449 §7.1).
    #[serde(default)]
    pub userinfo_token_method: relier_core::userinfo::TokenMethod,
    /// Resolve aggregated and distributed claims (OIDC Core §5.6.2) at login: aggregated
    /// claims' JWTs verified against their issuer's keys, distributed claims fetched with their
    /// access token (https and public addresses only, unless this provider's issuer is on a
    /// loopback or private address); a source that fails is dropped and logged. Default off;
    /// `preset = "entra"` with a groups rule resolves the groups overage unless this is `false`
    /// ([`crate::presets::claims_resolution`]).
    #[serde(default)]
    pub resolve_claims: Option<bool>,
    /// Client assertion `aud`: `issuer` (default) or `endpoint`.
    #[serde(default)]
    pub assertion_audience: Option<String>,
    /// Extra authorization request parameters (e.g. `ui_locales`).
    #[serde(default)]
    pub extra_params: BTreeMap<String, String>,
    /// Only these verified e-mail addresses may log in (with `allowed_domains`: either list).
    #[serde(default)]
    pub allowed_emails: Vec<String>,
    /// Only verified e-mail addresses of these domains may log in.
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// Only users with one of these groups (`groups` claim, or Entra `roles`) may log in.
    #[serde(default)]
    pub allowed_groups: Vec<String>,
    /// Claims that must have one of the given values (`claim = "v"` or `claim = ["a", "b"]`).
    #[serde(default)]
    pub require: BTreeMap<String, ClaimMatch>,
}

impl ProviderConfig {
    /// A registry provider carries only its name (plus presentation overrides).
    pub fn is_registry(&self) -> bool {
        self.issuer.is_none() && self.preset.is_none() && self.entity_statement.is_none()
    }
}

impl ProviderConfig {
    /// The provider's settings as [`relier::preset`] and [`ProviderSettings::registration`]
    /// read them: the keys of the same names.
    pub fn provider_settings(&self) -> ProviderSettings {
        ProviderSettings {
            preset: self.preset,
            github_url: self.github_url.clone(),
            team_id: self.team_id.clone(),
            private_key_file: self.private_key_file.clone(),
            tenant: self.tenant.clone(),
            authority: self.authority.clone(),
            allowed_tenants: self.allowed_tenants.clone(),
            allow_any_tenant: self.allow_any_tenant,
            ftn_spname: self.ftn_spname.clone(),
            ui_locales: self.ui_locales,
            purpose: self.purpose,
            embedded_ui: self.embedded_ui,
            display_name: self.display_name.clone(),
            issuer: self.issuer.clone(),
            entity_statement: self.entity_statement.clone(),
            entity_keys: self.entity_keys.clone(),
            client_id: self.client_id.clone(),
            auth_method: self.auth_method.clone(),
            par: self.par,
            profile: self.profile,
            client_secret: self.client_secret.clone(),
            client_secret_env: self.client_secret_env.clone(),
            client_secret_file: self.client_secret_file.clone(),
            private_key: self.private_key.clone(),
            key_id: self.key_id.clone(),
            use_store_key: self.use_store_key,
            signing_alg: self.signing_alg.clone(),
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
        }
    }

    /// Takes the settings back (after [`relier::preset::apply`] filled them in).
    pub fn set_provider_settings(&mut self, s: ProviderSettings) {
        self.preset = s.preset;
        self.github_url = s.github_url;
        self.team_id = s.team_id;
        self.private_key_file = s.private_key_file;
        self.tenant = s.tenant;
        self.authority = s.authority;
        self.allowed_tenants = s.allowed_tenants;
        self.allow_any_tenant = s.allow_any_tenant;
        self.ftn_spname = s.ftn_spname;
        self.ui_locales = s.ui_locales;
        self.purpose = s.purpose;
        self.embedded_ui = s.embedded_ui;
        self.display_name = s.display_name;
        self.issuer = s.issuer;
        self.entity_statement = s.entity_statement;
        self.entity_keys = s.entity_keys;
        self.client_id = s.client_id;
        self.auth_method = s.auth_method;
        self.par = s.par;
        self.profile = s.profile;
        self.client_secret = s.client_secret;
        self.client_secret_env = s.client_secret_env;
        self.client_secret_file = s.client_secret_file;
        self.private_key = s.private_key;
        self.key_id = s.key_id;
        self.use_store_key = s.use_store_key;
        self.signing_alg = s.signing_alg;
        self.id_token_alg = s.id_token_alg;
        self.id_token_encrypted_response_alg = s.id_token_encrypted_response_alg;
        self.id_token_encrypted_response_enc = s.id_token_encrypted_response_enc;
        self.userinfo_encrypted_response_alg = s.userinfo_encrypted_response_alg;
        self.userinfo_encrypted_response_enc = s.userinfo_encrypted_response_enc;
        self.userinfo_signed_response_alg = s.userinfo_signed_response_alg;
        self.request_object_signing_alg = s.request_object_signing_alg;
        self.require_signed_request_object = s.require_signed_request_object;
        self.request_object_encryption_alg = s.request_object_encryption_alg;
        self.request_object_encryption_enc = s.request_object_encryption_enc;
        self.request_object = s.request_object;
        self.authorization_signed_response_alg = s.authorization_signed_response_alg;
        self.authorization_encrypted_response_alg = s.authorization_encrypted_response_alg;
        self.authorization_encrypted_response_enc = s.authorization_encrypted_response_enc;
        self.dpop_bound_access_tokens = s.dpop_bound_access_tokens;
        self.tls_client_certificate_bound_access_tokens =
            s.tls_client_certificate_bound_access_tokens;
        self.tls_cert = s.tls_cert;
        self.tls_key = s.tls_key;
        self.scopes = s.scopes;
        self.response_mode = s.response_mode;
        self.max_age = s.max_age;
        self.assertion_audience = s.assertion_audience;
        self.extra_params = s.extra_params;
        self.userinfo_token_method = s.userinfo_token_method;
    }

    /// A provider named `name` with these settings (the command line's `--preset`).
    pub fn from_provider_settings(name: &str, s: ProviderSettings) -> ProviderConfig {
        let mut p = ProviderConfig {
            name: name.to_owned(),
            ..ProviderConfig::default()
        };
        p.set_provider_settings(s);
        p
    }
}
