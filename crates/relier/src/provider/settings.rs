//! [`ProviderSettings`]: a provider's settings as configured — a `[[providers]]` table's keys or
//! the command line's flags of the same names — which the presets ([`crate::preset`]) read and
//! fill in, and which state a registration ([`ProviderSettings::registration`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use relier_core::Secret;
use relier_core::ftn::{Purpose, UiLocale};
use relier_core::profile::Profile;
use relier_core::request_object::RequestObjectDelivery;

use relier_core::client_auth::AssertionAudience;
use relier_core::registration::{Registration, RegistrationMetadataError};
use relier_core::userinfo::TokenMethod;
use relier_core::{Algorithm, AuthMethod, ClientId};
use serde_json::{Map, Value};

use super::ProviderSpec;
use crate::credentials::ClientAuthSpec;
use crate::preset::{self, Preset};

/// A provider's settings, each named as its `[[providers]]` key (the command line's flags carry
/// the same names with `-` for `_`); unset is `None`, `false` or empty. Values are as
/// configured — the presets compare and fill in text, and [`Self::registration`] reads it.
#[derive(Debug, Clone, Default)]
pub struct ProviderSettings {
    /// The preset.
    pub preset: Option<Preset>,
    /// `github`: github.com or a GitHub Enterprise Server's URL.
    pub github_url: Option<String>,
    /// `apple`: the Apple developer team id.
    pub team_id: Option<String>,
    /// `apple`: the Sign in with Apple private key (`.p8`).
    pub private_key_file: Option<PathBuf>,
    /// `entra`: `common`, `organizations`, `consumers` or a tenant id.
    pub tenant: Option<String>,
    /// `entra`: the authority.
    pub authority: Option<String>,
    /// `entra`, multi-tenant: the tenant ids allowed in.
    pub allowed_tenants: Vec<String>,
    /// `entra`, multi-tenant: every tenant allowed in.
    pub allow_any_tenant: bool,
    /// `ftn`: the service's name the bank shows.
    pub ftn_spname: Option<String>,
    /// `ftn`: the broker's user-interface language.
    pub ui_locales: Option<UiLocale>,
    /// `ftn`: `weak` or `strong` when the login creates new credentials.
    pub purpose: Option<Purpose>,
    /// `ftn`: the broker's identity providers on relier's own chooser.
    pub embedded_ui: bool,
    /// Button text.
    pub display_name: Option<String>,
    /// The issuer.
    pub issuer: Option<String>,
    /// The broker's entity statement (OpenID Federation).
    pub entity_statement: Option<PathBuf>,
    /// The broker's entity keys (OpenID Federation, with discovery).
    pub entity_keys: Option<PathBuf>,
    /// The client id.
    pub client_id: Option<String>,
    /// `token_endpoint_auth_method`.
    pub auth_method: Option<String>,
    /// Push authorization requests (RFC 9126).
    pub par: bool,
    /// A security profile.
    pub profile: Option<Profile>,
    /// The client secret itself.
    pub client_secret: Option<Secret>,
    /// The environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// The file holding the client secret.
    pub client_secret_file: Option<PathBuf>,
    /// The private_key_jwt key file.
    pub private_key: Option<PathBuf>,
    /// The key's id (with `apple`: the id of `private_key_file`).
    pub key_id: Option<String>,
    /// private_key_jwt with the store's key.
    pub use_store_key: bool,
    /// `token_endpoint_auth_signing_alg`.
    pub signing_alg: Option<String>,
    /// `id_token_signed_response_alg`.
    pub id_token_alg: Option<String>,
    /// `id_token_encrypted_response_alg`.
    pub id_token_encrypted_response_alg: Option<String>,
    /// `id_token_encrypted_response_enc`.
    pub id_token_encrypted_response_enc: Option<String>,
    /// `userinfo_encrypted_response_alg`.
    pub userinfo_encrypted_response_alg: Option<String>,
    /// `userinfo_encrypted_response_enc`.
    pub userinfo_encrypted_response_enc: Option<String>,
    /// `userinfo_signed_response_alg`.
    pub userinfo_signed_response_alg: Option<String>,
    /// `request_object_signing_alg`.
    pub request_object_signing_alg: Option<String>,
    /// `require_signed_request_object`.
    pub require_signed_request_object: Option<bool>,
    /// `request_object_encryption_alg`.
    pub request_object_encryption_alg: Option<String>,
    /// `request_object_encryption_enc`.
    pub request_object_encryption_enc: Option<String>,
    /// How request objects travel.
    pub request_object: Option<RequestObjectDelivery>,
    /// `authorization_signed_response_alg` (JARM).
    pub authorization_signed_response_alg: Option<String>,
    /// `authorization_encrypted_response_alg` (JARM).
    pub authorization_encrypted_response_alg: Option<String>,
    /// `authorization_encrypted_response_enc` (JARM).
    pub authorization_encrypted_response_enc: Option<String>,
    /// `dpop_bound_access_tokens`.
    pub dpop_bound_access_tokens: bool,
    /// `tls_client_certificate_bound_access_tokens`.
    pub tls_client_certificate_bound_access_tokens: bool,
    /// The mTLS client certificate.
    pub tls_cert: Option<PathBuf>,
    /// The mTLS client key.
    pub tls_key: Option<PathBuf>,
    /// The scopes.
    pub scopes: Option<Vec<String>>,
    /// `query` or `form_post`.
    pub response_mode: Option<String>,
    /// `max_age` sent with every login.
    pub max_age: Option<Duration>,
    /// Client assertion `aud`: `issuer` or `endpoint`.
    pub assertion_audience: Option<String>,
    /// Extra authorization request parameters.
    pub extra_params: BTreeMap<String, String>,
    /// How UserInfo gets the access token.
    pub userinfo_token_method: TokenMethod,
}

/// The keys named otherwise than the registration members they state.
const RENAMED: [(&str, &str); 4] = [
    ("token_endpoint_auth_method", "auth_method"),
    ("token_endpoint_auth_signing_alg", "signing_alg"),
    ("id_token_signed_response_alg", "id_token_alg"),
    ("require_pushed_authorization_requests", "par"),
];

/// A registration member the settings state that cannot be used, named by its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {reason}")]
#[non_exhaustive]
pub struct SettingsError {
    /// The key (`auth_method`, `id_token_encrypted_response_alg`, …).
    pub key: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl From<RegistrationMetadataError> for SettingsError {
    fn from(e: RegistrationMetadataError) -> Self {
        SettingsError {
            key: key_of(e.member()),
            reason: e.reason().to_owned(),
        }
    }
}

impl ProviderSettings {
    /// What the relying party of `client_id` is assembled from: the client authenticating
    /// with `method` (`None`: the recommender's choice) as `signing_alg` and
    /// `assertion_audience` say, the [`Self::registration`] (with `redirect_uri`), the profile,
    /// PAR, the UserInfo token method, and a preset's tenants and certificate credential. The
    /// gateway's `[[providers]]` tables and the command line's `--preset` flags both become a
    /// spec here.
    ///
    /// # Errors
    /// [`SettingsError`] naming the key relier cannot use.
    pub fn spec(
        &self,
        client_id: ClientId,
        method: Option<AuthMethod>,
        redirect_uri: Option<&str>,
    ) -> Result<ProviderSpec, SettingsError> {
        let client = ClientAuthSpec {
            client_id,
            method,
            signing_alg: self.signing_alg()?,
            audience: self.assertion_audience()?,
        };
        let mut spec = ProviderSpec::with_client(client, self.registration(method, redirect_uri)?);
        spec.profile = self.profile;
        spec.par = self.par;
        spec.userinfo_token_method = self.userinfo_token_method;
        spec.tenants = preset::tenant_policy(self);
        spec.certificate_credential = preset::certificate_credentials(self);
        Ok(spec)
    }

    /// The keys set that state the client itself — its id, its credentials, its registration
    /// — in the order of the table's documentation: what a provider from a registry (whose
    /// client is stored) must not set.
    pub fn client_keys(&self) -> Vec<&'static str> {
        let set = [
            ("client_id", self.client_id.is_some()),
            ("auth_method", self.auth_method.is_some()),
            ("client_secret", self.client_secret.is_some()),
            ("client_secret_env", self.client_secret_env.is_some()),
            ("client_secret_file", self.client_secret_file.is_some()),
            ("private_key", self.private_key.is_some()),
            ("use_store_key", self.use_store_key),
            ("signing_alg", self.signing_alg.is_some()),
            ("tls_cert", self.tls_cert.is_some()),
            ("dpop_bound_access_tokens", self.dpop_bound_access_tokens),
            (
                "tls_client_certificate_bound_access_tokens",
                self.tls_client_certificate_bound_access_tokens,
            ),
        ];
        set.into_iter()
            .filter_map(|(key, on)| on.then_some(key))
            .chain(
                stated(self)
                    .into_iter()
                    .map(|(member, _)| member)
                    // PAR is the table's to ask for, on any provider (RFC 9126 §6).
                    .filter(|member| *member != "require_pushed_authorization_requests")
                    .map(key_of),
            )
            .fold(Vec::new(), |mut keys, key| {
                if !keys.contains(&key) {
                    keys.push(key);
                }
                keys
            })
    }

    /// `signing_alg`, the client assertion's algorithm.
    ///
    /// # Errors
    /// [`SettingsError`]: not an algorithm.
    pub fn signing_alg(&self) -> Result<Option<Algorithm>, SettingsError> {
        self.signing_alg
            .as_deref()
            .map(|s| {
                s.parse::<Algorithm>().map_err(|e| SettingsError {
                    key: "signing_alg",
                    reason: format!("unknown algorithm {:?}", e.name()),
                })
            })
            .transpose()
    }

    /// `assertion_audience`: `issuer` (default) or `endpoint`.
    ///
    /// # Errors
    /// [`SettingsError`]: neither.
    pub fn assertion_audience(&self) -> Result<AssertionAudience, SettingsError> {
        match self.assertion_audience.as_deref() {
            None | Some("issuer") => Ok(AssertionAudience::Issuer),
            Some("endpoint") => Ok(AssertionAudience::Endpoint),
            Some(other) => Err(SettingsError {
                key: "assertion_audience",
                reason: format!("{other:?}: use \"issuer\" or \"endpoint\""),
            }),
        }
    }

    /// The registration these settings state — their keys are named as the registration
    /// members they are (OIDC Registration §2, RFC 9101, JARM §3, RFC 9449 §5.2, RFC 8705 §3.4;
    /// `auth_method`, `signing_alg`, `id_token_alg` and `par` for `token_endpoint_auth_method`,
    /// `token_endpoint_auth_signing_alg`, `id_token_signed_response_alg` and
    /// `require_pushed_authorization_requests`) and read by the same
    /// [`Registration::from_metadata`] as a registration response or an entity statement's
    /// `metadata.openid_relying_party`: the same metadata gives the same registration. `method`
    /// (named by `auth_method`, or inferred from the credentials given) and `redirect_uri`, if
    /// given, are the client's.
    ///
    /// # Errors
    /// [`SettingsError`] naming the key relier cannot use.
    pub fn registration(
        &self,
        method: Option<AuthMethod>,
        redirect_uri: Option<&str>,
    ) -> Result<Registration, SettingsError> {
        let mut m = metadata(self);
        if let Some(method) = method {
            m.insert(
                "token_endpoint_auth_method".to_owned(),
                method.as_str().into(),
            );
        }
        if let Some(uri) = redirect_uri {
            m.insert("redirect_uris".to_owned(), vec![uri].into());
        }
        let subject_claim = self.preset.and_then(Preset::subject_claim);
        Ok(Registration::from_metadata(&m)?.with_subject_claim(subject_claim.map(str::to_owned)))
    }
}

/// The settings as registration members (only those set).
fn metadata(p: &ProviderSettings) -> Map<String, Value> {
    stated(p)
        .into_iter()
        .map(|(member, v)| (member.to_owned(), v))
        .collect()
}

/// The key that states registration `member`.
fn key_of(member: &'static str) -> &'static str {
    RENAMED
        .iter()
        .find(|(m, _)| *m == member)
        .map_or(member, |(_, key)| key)
}

/// The registration members the settings state, with their values (only those set).
fn stated(p: &ProviderSettings) -> Vec<(&'static str, Value)> {
    let mut m = Vec::new();
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
            m.push((member, v.clone().into()));
        }
    }
    if let Some(required) = p.require_signed_request_object {
        m.push(("require_signed_request_object", required.into()));
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
            m.push((member, true.into()));
        }
    }
    m
}
