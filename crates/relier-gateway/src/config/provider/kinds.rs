//! The kinds of `[[providers]]` table — inline, from the registry, each preset — each a struct
//! of the keys meaningful for it (`deny_unknown_fields`), and the one conversion of each into
//! the [`ProviderSettings`] the presets and the assembly read ([`relier::provider`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use relier::preset::Preset;
use relier::provider::ProviderSettings;
use relier_core::ftn::{Purpose, UiLocale};
use relier_core::profile::Profile;
use relier_core::request_object::RequestObjectDelivery;
use relier_core::userinfo::TokenMethod;
use relier_core::{Algorithm, AuthMethod, Secret};
use serde::Deserialize;

use super::keys::{UnknownKey, keys_of, read, read_value, take};
use super::oidc::Oidc;
use crate::config::duration;

/// What a `[[providers]]` table is, with the keys of that kind.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ProviderKind {
    /// Only the name (and the policy keys, and the request keys of [`Registry`]): the client —
    /// its issuer, id, credentials and registration — is the store's.
    Registry(Box<Registry>),
    /// An OpenID Connect provider given by `issuer` or `entity_statement`.
    Inline(Box<Oidc>),
    /// `preset = "github"`.
    GitHub(Box<GitHub>),
    /// `preset = "apple"`.
    Apple(Box<Apple>),
    /// `preset = "google"`: an OpenID Connect provider whose `issuer` defaults to Google's.
    Google(Box<Oidc>),
    /// `preset = "entra"`.
    Entra(Box<Entra>),
    /// `preset = "ftn"`.
    Ftn(Box<Ftn>),
    /// A provider assembled from the same keys elsewhere — the command line's `--preset` flags
    /// — and given whole as its [`ProviderSettings`].
    Assembled,
}

const REGISTRY: &str = "a registry provider (no issuer, preset or entity_statement): its client \
     — client_id, credentials, registration — comes from the store";
const INLINE: &str = "an inline provider (issuer or entity_statement)";
const GITHUB: &str = "preset = \"github\": GitHub is OAuth 2.0 with a client secret, not OpenID \
     Connect, at github_url";
const APPLE: &str =
    "preset = \"apple\": relier mints the client secret from team_id, key_id and private_key_file";
const GOOGLE: &str = "preset = \"google\"";
const ENTRA: &str = "preset = \"entra\"";
const FTN: &str = "preset = \"ftn\": a Finnish Trust Network broker (private_key_jwt, signed \
     request objects by value and encrypted ID tokens only)";

/// A struct of one kind's keys.
trait Kind: Sized {
    /// Its keys.
    fn keys() -> Vec<&'static str>;

    /// Read from the table of its keys.
    fn from_keys(table: toml::Table) -> Result<Self, String>;
}

/// [`Kind`] for structs whose keys are their fields.
macro_rules! field_kinds {
    ($($t:ty),*) => {$(
        impl Kind for $t {
            fn keys() -> Vec<&'static str> {
                keys_of::<Self>().to_vec()
            }

            fn from_keys(table: toml::Table) -> Result<Self, String> {
                read(table)
            }
        }
    )*};
}

field_kinds!(Registry, Oidc, GitHub, Apple, Ftn);

impl Kind for Entra {
    fn keys() -> Vec<&'static str> {
        [keys_of::<EntraTenant>(), keys_of::<Oidc>()].concat()
    }

    fn from_keys(mut table: toml::Table) -> Result<Self, String> {
        let tenant = read(take(&mut table, keys_of::<EntraTenant>()))?;
        Ok(Entra {
            tenant,
            oidc: read(table)?,
        })
    }
}

/// The keys of a table's kind the gateway reads itself (not [`ProviderSettings`]).
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct GatewayKeys<'a> {
    /// `prompt`.
    pub prompt: Option<&'a str>,
    /// `ca_file`.
    pub ca_file: Option<&'a Path>,
    /// `jwks_uri`.
    pub jwks_uri: Option<&'a str>,
    /// `signed_jwks_uri`.
    pub signed_jwks_uri: Option<&'a str>,
}

impl ProviderKind {
    /// The kind of a table — `preset`, else inline with `issuer` or `entity_statement`, else
    /// the registry — read from its keys (`name` and the policy keys already taken out);
    /// `common` are those keys' names, for the error that names a key the kind does not take.
    pub(super) fn from_table(
        mut table: toml::Table,
        common: &[&'static str],
    ) -> Result<ProviderKind, (Option<String>, String)> {
        let preset: Option<Preset> = table
            .remove("preset")
            .map(read_value)
            .transpose()
            .map_err(|e| (Some("preset".to_owned()), e))?;
        let expected = |preset: bool| {
            let mut keys = common.to_vec();
            if preset {
                keys.push("preset");
            }
            keys
        };
        Ok(match preset {
            Some(Preset::GitHub) => Self::GitHub(parse(table, GITHUB, expected(true))?),
            Some(Preset::Apple) => Self::Apple(parse(table, APPLE, expected(true))?),
            Some(Preset::Google) => Self::Google(parse(table, GOOGLE, expected(true))?),
            Some(Preset::Entra) => Self::Entra(parse(table, ENTRA, expected(true))?),
            Some(Preset::Ftn) => Self::Ftn(parse(table, FTN, expected(true))?),
            Some(other) => {
                return Err((
                    Some("preset".to_owned()),
                    format!("preset = \"{other}\" is not known here"),
                ));
            }
            None if table.contains_key("issuer") || table.contains_key("entity_statement") => {
                Self::Inline(parse(table, INLINE, expected(false))?)
            }
            None => Self::Registry(parse(table, REGISTRY, expected(false))?),
        })
    }

    /// Whether the table is a registry provider's.
    pub fn is_registry(&self) -> bool {
        matches!(self, ProviderKind::Registry(_))
    }

    /// The table's keys as [`ProviderSettings`] (the preset not applied yet: see
    /// [`crate::presets::expand`]). [`ProviderKind::Assembled`]: none (its settings are given).
    pub fn settings(&self) -> ProviderSettings {
        match self {
            Self::Registry(r) => r.settings(),
            Self::Inline(o) => o.settings(),
            Self::GitHub(g) => g.settings(),
            Self::Apple(a) => a.settings(),
            Self::Google(o) => ProviderSettings {
                preset: Some(Preset::Google),
                ..o.settings()
            },
            Self::Entra(e) => e.settings(),
            Self::Ftn(f) => f.settings(),
            Self::Assembled => ProviderSettings::default(),
        }
    }

    /// The keys of the table the gateway reads itself.
    pub fn gateway_keys(&self) -> GatewayKeys<'_> {
        fn k<'a>(prompt: &'a Option<String>, ca_file: &'a Option<PathBuf>) -> GatewayKeys<'a> {
            GatewayKeys {
                prompt: prompt.as_deref(),
                ca_file: ca_file.as_deref(),
                ..GatewayKeys::default()
            }
        }
        match self {
            Self::Registry(r) => GatewayKeys {
                jwks_uri: r.jwks_uri.as_deref(),
                signed_jwks_uri: r.signed_jwks_uri.as_deref(),
                ..k(&r.prompt, &r.ca_file)
            },
            Self::Inline(o) | Self::Google(o) => o.gateway_keys(),
            Self::Entra(e) => e.oidc.gateway_keys(),
            Self::GitHub(g) => k(&g.prompt, &g.ca_file),
            Self::Apple(a) => GatewayKeys {
                jwks_uri: a.jwks_uri.as_deref(),
                ..k(&a.prompt, &a.ca_file)
            },
            Self::Ftn(f) => GatewayKeys {
                signed_jwks_uri: f.signed_jwks_uri.as_deref(),
                ..k(&f.prompt, &f.ca_file)
            },
            Self::Assembled => GatewayKeys::default(),
        }
    }
}

/// The struct of kind `T` from `table`: a key it does not take is named with what the table is
/// (`what`) and every key it does take (`common` and its own).
fn parse<T: Kind>(
    table: toml::Table,
    what: &'static str,
    mut expected: Vec<&'static str>,
) -> Result<Box<T>, (Option<String>, String)> {
    let keys = T::keys();
    if let Some(key) = table.keys().find(|k| !keys.contains(&k.as_str())) {
        expected.extend(keys);
        let unknown = UnknownKey {
            key: key.clone(),
            kind: what,
            belongs_to: preset_of(key),
            expected,
        };
        return Err((Some(key.clone()), unknown.to_string()));
    }
    T::from_keys(table).map(Box::new).map_err(|e| (None, e))
}

/// The preset a key belongs to when only that preset takes it (`team_id`: `apple`).
fn preset_of(key: &str) -> Option<Preset> {
    let oidc = keys_of::<Oidc>();
    [
        (Preset::GitHub, GitHub::keys()),
        (Preset::Apple, Apple::keys()),
        (Preset::Entra, Entra::keys()),
        (Preset::Ftn, Ftn::keys()),
    ]
    .into_iter()
    .find(|(_, keys)| keys.contains(&key) && !oidc.contains(&key))
    .map(|(preset, _)| preset)
}

/// A registry provider's keys: how its logins are requested and how its OP is reached; the
/// client itself is the store's (as [`Oidc`]'s keys of the same names).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Registry {
    /// Scopes (default: the stored ones).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// As [`Oidc::response_mode`].
    #[serde(default)]
    pub response_mode: Option<String>,
    /// As [`Oidc::prompt`].
    #[serde(default)]
    pub prompt: Option<String>,
    /// As [`Oidc::max_age`].
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub max_age: Option<Duration>,
    /// As [`Oidc::userinfo_token_method`].
    #[serde(default)]
    pub userinfo_token_method: TokenMethod,
    /// As [`Oidc::par`].
    #[serde(default)]
    pub par: bool,
    /// As [`Oidc::profile`].
    #[serde(default)]
    pub profile: Option<Profile>,
    /// As [`Oidc::request_object`].
    #[serde(default)]
    pub request_object: Option<RequestObjectDelivery>,
    /// As [`Oidc::assertion_audience`].
    #[serde(default)]
    pub assertion_audience: Option<String>,
    /// As [`Oidc::extra_params`].
    #[serde(default)]
    pub extra_params: BTreeMap<String, String>,
    /// As [`Oidc::ca_file`].
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// As [`Oidc::jwks_uri`].
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// As [`Oidc::entity_keys`].
    #[serde(default)]
    pub entity_keys: Option<PathBuf>,
    /// As [`Oidc::signed_jwks_uri`].
    #[serde(default)]
    pub signed_jwks_uri: Option<String>,
}

impl Registry {
    fn settings(&self) -> ProviderSettings {
        ProviderSettings {
            scopes: self.scopes.clone(),
            response_mode: self.response_mode.clone(),
            max_age: self.max_age,
            userinfo_token_method: self.userinfo_token_method,
            par: self.par,
            profile: self.profile,
            request_object: self.request_object,
            assertion_audience: self.assertion_audience.clone(),
            extra_params: self.extra_params.clone(),
            entity_keys: self.entity_keys.clone(),
            ..ProviderSettings::default()
        }
    }
}

/// `preset = "github"`'s keys (as [`Oidc`]'s keys of the same names).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GitHub {
    /// github.com (default `https://github.com`) or a GitHub Enterprise Server's URL.
    #[serde(default)]
    pub github_url: Option<String>,
    /// As [`Oidc::client_id`].
    #[serde(default)]
    pub client_id: Option<String>,
    /// Only client_secret_post (GitHub takes the secret in the body).
    #[serde(default)]
    pub auth_method: Option<AuthMethod>,
    /// As [`Oidc::client_secret`].
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// As [`Oidc::client_secret_env`].
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// As [`Oidc::client_secret_file`].
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// Scopes (default `read:user user:email`).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// As [`Oidc::prompt`].
    #[serde(default)]
    pub prompt: Option<String>,
    /// As [`Oidc::extra_params`].
    #[serde(default)]
    pub extra_params: BTreeMap<String, String>,
    /// As [`Oidc::ca_file`].
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

impl GitHub {
    fn settings(&self) -> ProviderSettings {
        ProviderSettings {
            preset: Some(Preset::GitHub),
            github_url: self.github_url.clone(),
            client_id: self.client_id.clone(),
            auth_method: self.auth_method.map(|m| m.as_str().to_owned()),
            client_secret: self.client_secret.clone(),
            client_secret_env: self.client_secret_env.clone(),
            client_secret_file: self.client_secret_file.clone(),
            scopes: self.scopes.clone(),
            extra_params: self.extra_params.clone(),
            ..ProviderSettings::default()
        }
    }
}

/// `preset = "apple"`'s keys (as [`Oidc`]'s keys of the same names).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Apple {
    /// The Apple developer team id (10 characters), the client secret's `iss`.
    #[serde(default)]
    pub team_id: Option<String>,
    /// The Sign in with Apple private key (`AuthKey_<key_id>.p8`, PKCS#8 EC P-256) the client
    /// secret is signed with; its id goes in `key_id`.
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
    /// The id of `private_key_file` in Apple's developer account.
    #[serde(default)]
    pub key_id: Option<String>,
    /// The Services ID.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Only client_secret_post (Apple takes the secret relier signs in the body).
    #[serde(default)]
    pub auth_method: Option<AuthMethod>,
    /// Default `https://appleid.apple.com`.
    #[serde(default)]
    pub issuer: Option<String>,
    /// As [`Oidc::jwks_uri`].
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Default `openid name email`.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Default `form_post` (required with the scopes `name` and `email`).
    #[serde(default)]
    pub response_mode: Option<String>,
    /// As [`Oidc::prompt`].
    #[serde(default)]
    pub prompt: Option<String>,
    /// As [`Oidc::max_age`].
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub max_age: Option<Duration>,
    /// As [`Oidc::par`].
    #[serde(default)]
    pub par: bool,
    /// As [`Oidc::id_token_alg`].
    #[serde(default)]
    pub id_token_alg: Option<String>,
    /// As [`Oidc::extra_params`].
    #[serde(default)]
    pub extra_params: BTreeMap<String, String>,
    /// As [`Oidc::ca_file`].
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

impl Apple {
    fn settings(&self) -> ProviderSettings {
        ProviderSettings {
            preset: Some(Preset::Apple),
            team_id: self.team_id.clone(),
            private_key_file: self.private_key_file.clone(),
            key_id: self.key_id.clone(),
            client_id: self.client_id.clone(),
            auth_method: self.auth_method.map(|m| m.as_str().to_owned()),
            issuer: self.issuer.clone(),
            scopes: self.scopes.clone(),
            response_mode: self.response_mode.clone(),
            max_age: self.max_age,
            par: self.par,
            id_token_alg: self.id_token_alg.clone(),
            extra_params: self.extra_params.clone(),
            ..ProviderSettings::default()
        }
    }
}

/// `preset = "entra"`: the tenant keys, and an OpenID Connect provider's.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Entra {
    /// `tenant`, `authority`, `allowed_tenants`, `allow_any_tenant`.
    pub tenant: EntraTenant,
    /// The other keys.
    pub oidc: Oidc,
}

/// `preset = "entra"`'s own keys.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EntraTenant {
    /// `common`, `organizations`, `consumers` or a tenant id.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The authority (default `https://login.microsoftonline.com`; a sovereign cloud's, e.g.
    /// `https://login.microsoftonline.us`).
    #[serde(default)]
    pub authority: Option<String>,
    /// With a multi-tenant `tenant`: the tenant ids (`tid`) allowed in.
    #[serde(default)]
    pub allowed_tenants: Vec<String>,
    /// With a multi-tenant `tenant`: let every tenant in (an explicit choice: without it or
    /// `allowed_tenants` the gateway refuses to start).
    #[serde(default)]
    pub allow_any_tenant: bool,
}

impl Entra {
    fn settings(&self) -> ProviderSettings {
        ProviderSettings {
            preset: Some(Preset::Entra),
            tenant: self.tenant.tenant.clone(),
            authority: self.tenant.authority.clone(),
            allowed_tenants: self.tenant.allowed_tenants.clone(),
            allow_any_tenant: self.tenant.allow_any_tenant,
            ..self.oidc.settings()
        }
    }
}

/// `preset = "ftn"`'s keys (as [`Oidc`]'s keys of the same names; those the broker fixes —
/// `auth_method`, `signing_alg`, `assertion_audience`, `request_object_signing_alg`,
/// `id_token_alg`, `request_object`, `require_signed_request_object` — only to its value).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Ftn {
    /// Required: the service's name the bank shows the user, sent as the `ftn_spname`
    /// request-object claim (agreed with the broker beforehand).
    #[serde(default)]
    pub ftn_spname: Option<String>,
    /// The broker's user-interface language, `fi`, `sv` or `en` (sent as `ui_locales`; also
    /// the language of the embedded chooser's texts).
    #[serde(default)]
    pub ui_locales: Option<UiLocale>,
    /// `weak` or `strong` when the login creates new credentials (added to the scopes, ISB
    /// README §7).
    #[serde(default)]
    pub purpose: Option<Purpose>,
    /// List the broker's identity providers on relier's own chooser
    /// (`GET {issuer}/api/embedded-ui/{client_id}`) and send the chosen one as `ftn_idp_id`.
    #[serde(default)]
    pub embedded_ui: bool,
    /// As [`Oidc::client_id`].
    #[serde(default)]
    pub client_id: Option<String>,
    /// As [`Oidc::issuer`].
    #[serde(default)]
    pub issuer: Option<String>,
    /// As [`Oidc::entity_statement`].
    #[serde(default)]
    pub entity_statement: Option<PathBuf>,
    /// As [`Oidc::entity_keys`].
    #[serde(default)]
    pub entity_keys: Option<PathBuf>,
    /// As [`Oidc::signed_jwks_uri`].
    #[serde(default)]
    pub signed_jwks_uri: Option<String>,
    /// As [`Oidc::private_key`].
    #[serde(default)]
    pub private_key: Option<PathBuf>,
    /// As [`Oidc::key_id`].
    #[serde(default)]
    pub key_id: Option<String>,
    /// As [`Oidc::use_store_key`].
    #[serde(default)]
    pub use_store_key: bool,
    /// As [`Oidc::auth_method`].
    #[serde(default)]
    pub auth_method: Option<AuthMethod>,
    /// As [`Oidc::signing_alg`].
    #[serde(default)]
    pub signing_alg: Option<Algorithm>,
    /// As [`Oidc::assertion_audience`].
    #[serde(default)]
    pub assertion_audience: Option<String>,
    /// As [`Oidc::request_object_signing_alg`].
    #[serde(default)]
    pub request_object_signing_alg: Option<String>,
    /// As [`Oidc::require_signed_request_object`].
    #[serde(default)]
    pub require_signed_request_object: Option<bool>,
    /// As [`Oidc::request_object`].
    #[serde(default)]
    pub request_object: Option<RequestObjectDelivery>,
    /// As [`Oidc::id_token_alg`].
    #[serde(default)]
    pub id_token_alg: Option<String>,
    /// As [`Oidc::id_token_encrypted_response_alg`].
    #[serde(default)]
    pub id_token_encrypted_response_alg: Option<String>,
    /// As [`Oidc::id_token_encrypted_response_enc`].
    #[serde(default)]
    pub id_token_encrypted_response_enc: Option<String>,
    /// As [`Oidc::userinfo_encrypted_response_alg`].
    #[serde(default)]
    pub userinfo_encrypted_response_alg: Option<String>,
    /// As [`Oidc::userinfo_encrypted_response_enc`].
    #[serde(default)]
    pub userinfo_encrypted_response_enc: Option<String>,
    /// As [`Oidc::userinfo_signed_response_alg`].
    #[serde(default)]
    pub userinfo_signed_response_alg: Option<String>,
    /// As [`Oidc::userinfo_token_method`].
    #[serde(default)]
    pub userinfo_token_method: TokenMethod,
    /// As [`Oidc::prompt`].
    #[serde(default)]
    pub prompt: Option<String>,
    /// As [`Oidc::max_age`].
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub max_age: Option<Duration>,
    /// As [`Oidc::extra_params`].
    #[serde(default)]
    pub extra_params: BTreeMap<String, String>,
    /// As [`Oidc::ca_file`].
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

impl Ftn {
    fn settings(&self) -> ProviderSettings {
        ProviderSettings {
            preset: Some(Preset::Ftn),
            ftn_spname: self.ftn_spname.clone(),
            ui_locales: self.ui_locales,
            purpose: self.purpose,
            embedded_ui: self.embedded_ui,
            client_id: self.client_id.clone(),
            issuer: self.issuer.clone(),
            entity_statement: self.entity_statement.clone(),
            entity_keys: self.entity_keys.clone(),
            private_key: self.private_key.clone(),
            key_id: self.key_id.clone(),
            use_store_key: self.use_store_key,
            auth_method: self.auth_method.map(|m| m.as_str().to_owned()),
            signing_alg: self.signing_alg.map(|a| a.as_str().to_owned()),
            assertion_audience: self.assertion_audience.clone(),
            request_object_signing_alg: self.request_object_signing_alg.clone(),
            require_signed_request_object: self.require_signed_request_object,
            request_object: self.request_object,
            id_token_alg: self.id_token_alg.clone(),
            id_token_encrypted_response_alg: self.id_token_encrypted_response_alg.clone(),
            id_token_encrypted_response_enc: self.id_token_encrypted_response_enc.clone(),
            userinfo_encrypted_response_alg: self.userinfo_encrypted_response_alg.clone(),
            userinfo_encrypted_response_enc: self.userinfo_encrypted_response_enc.clone(),
            userinfo_signed_response_alg: self.userinfo_signed_response_alg.clone(),
            userinfo_token_method: self.userinfo_token_method,
            max_age: self.max_age,
            extra_params: self.extra_params.clone(),
            ..ProviderSettings::default()
        }
    }
}
