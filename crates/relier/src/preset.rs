//! Provider presets — `github`, `apple`, `google`, `entra`, `ftn` — as one set of rules for
//! every front end: the gateway's `preset = "…"` and the command line's `--preset` both fill a
//! [`ProviderSettings`] (the provider settings a preset reads or fills in, named as the
//! `[[providers]]` keys and the flags) and [`apply`] it, so they cannot drift apart. What each
//! provider needs is filled in before anything else reads the settings; every explicit key
//! still wins, and every endpoint can be overridden (`github_url`, `authority`, `issuer`):
//! GitHub Enterprise Server, sovereign clouds, tests.

mod ftn;
mod kind;

use relier_core::apple;
use relier_core::entra::{self, TenantPolicy};
use relier_core::github;

pub use kind::Preset;

use crate::provider::ProviderSettings;

/// Google's issuer (<https://developers.google.com/identity/openid-connect/openid-connect#discovery>).
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// Entra ID's global authority
/// (<https://learn.microsoft.com/en-us/entra/identity-platform/authentication-national-cloud>).
pub const ENTRA_AUTHORITY: &str = "https://login.microsoftonline.com";

/// Why a provider's keys do not go with its preset (or another provider's preset keys were
/// set without it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PresetError {
    /// A key of one preset set on a provider of another (or of none).
    #[error("{key} goes with preset = \"{preset}\"")]
    KeyGoesWithPreset {
        /// The key.
        key: &'static str,
        /// The preset it belongs to.
        preset: Preset,
    },
    /// `preset = "github"` with `issuer`.
    #[error("preset = \"github\" takes github_url, not issuer")]
    GitHubIssuer,
    /// A key that the provider's protocol or credential does not use.
    #[error("{key} does not apply to {what}")]
    KeyDoesNotApply {
        /// The key.
        key: &'static str,
        /// The provider and why.
        what: &'static str,
    },
    /// An `auth_method` other than client_secret_post for a provider that takes the secret in
    /// the body.
    #[error("auth_method {auth_method:?}: {who} in the token request's body (client_secret_post)")]
    SecretNotInBody {
        /// The configured method.
        auth_method: String,
        /// The provider and what it takes.
        who: &'static str,
    },
    /// A key Sign in with Apple needs is missing.
    #[error(
        "preset = \"apple\" needs {key} (team_id, key_id, private_key_file and client_id = the Services ID)"
    )]
    AppleNeeds {
        /// The key.
        key: &'static str,
    },
    /// Sign in with Apple returns the `name` and `email` scopes only as a form_post.
    #[error(
        "response_mode {response_mode:?}: Sign in with Apple answers with the scopes name and email only as a form_post; remove response_mode or set it to \"form_post\""
    )]
    AppleNeedsFormPost {
        /// The configured response mode.
        response_mode: String,
    },
    /// `preset = "entra"` without `tenant`.
    #[error("preset = \"entra\" needs tenant: common, organizations, consumers or a tenant id")]
    EntraNeedsTenant,
    /// A `tenant` that is neither a tenant id nor a domain.
    #[error("tenant {tenant:?} is not a tenant id or domain")]
    InvalidTenant {
        /// The configured tenant.
        tenant: String,
    },
    /// A multi-tenant authority without `allowed_tenants` or `allow_any_tenant = true`.
    #[error(
        "tenant = \"{tenant}\" lets users of every Entra ID tenant sign in: list the tenant ids allowed in allowed_tenants, or set allow_any_tenant = true"
    )]
    EveryTenant {
        /// `common` or `organizations`.
        tenant: String,
    },
    /// `allowed_tenants` or `allow_any_tenant` with a single tenant.
    #[error(
        "allowed_tenants and allow_any_tenant apply to tenant = \"common\" or \"organizations\", not {tenant:?}"
    )]
    TenantRulesNeedMultiTenant {
        /// The configured tenant.
        tenant: String,
    },
    /// Both `allowed_tenants` and `allow_any_tenant = true`.
    #[error("set allowed_tenants or allow_any_tenant = true, not both")]
    BothTenantRules,
    /// A key a Finnish Trust Network broker needs is missing.
    #[error(
        "preset = \"ftn\" needs {key} (client_id = the client id the broker assigned, ftn_spname = the service name agreed with the broker)"
    )]
    FtnNeeds {
        /// The key.
        key: &'static str,
    },
    /// A key set to a value the FTN brokers do not accept (ISB README §7, §8, §9, §13).
    #[error(
        "preset = \"ftn\": {key} must be {expected} (the broker accepts nothing else), not {got:?}"
    )]
    FtnFixed {
        /// The key.
        key: &'static str,
        /// What the broker takes.
        expected: &'static str,
        /// The configured value.
        got: String,
    },
}

/// The preset of `p` applied to it: the keys a preset fills in (every explicit key wins), the
/// ones it requires, the ones it refuses.
///
/// # Errors
/// [`PresetError`] naming the key.
pub fn apply(p: &mut ProviderSettings) -> Result<(), PresetError> {
    let only = |key: &'static str, set: bool, preset: Preset| {
        if set && p.preset != Some(preset) {
            Err(PresetError::KeyGoesWithPreset { key, preset })
        } else {
            Ok(())
        }
    };
    only("github_url", p.github_url.is_some(), Preset::GitHub)?;
    only("team_id", p.team_id.is_some(), Preset::Apple)?;
    only(
        "private_key_file",
        p.private_key_file.is_some(),
        Preset::Apple,
    )?;
    only("tenant", p.tenant.is_some(), Preset::Entra)?;
    only("authority", p.authority.is_some(), Preset::Entra)?;
    only(
        "allowed_tenants",
        !p.allowed_tenants.is_empty(),
        Preset::Entra,
    )?;
    only("allow_any_tenant", p.allow_any_tenant, Preset::Entra)?;
    only("ftn_spname", p.ftn_spname.is_some(), Preset::Ftn)?;
    only("ui_locales", p.ui_locales.is_some(), Preset::Ftn)?;
    only("purpose", p.purpose.is_some(), Preset::Ftn)?;
    only("embedded_ui", p.embedded_ui, Preset::Ftn)?;
    let Some(preset) = p.preset else {
        return Ok(());
    };
    if p.display_name.is_none() {
        p.display_name = Some(preset.display_name().to_owned());
    }
    match preset {
        Preset::GitHub => apply_github(p),
        Preset::Apple => apply_apple(p),
        Preset::Google => {
            apply_google(p);
            Ok(())
        }
        Preset::Entra => apply_entra(p),
        Preset::Ftn => ftn::apply(p),
    }
}

/// GitHub: `issuer` is `github_url`; the scopes read the profile and the addresses.
fn apply_github(p: &mut ProviderSettings) -> Result<(), PresetError> {
    if p.issuer.is_some() {
        return Err(PresetError::GitHubIssuer);
    }
    refuse(
        &[
            ("private_key", p.private_key.is_some()),
            ("use_store_key", p.use_store_key),
            ("tls_cert", p.tls_cert.is_some()),
            ("signing_alg", p.signing_alg.is_some()),
            ("id_token_alg", p.id_token_alg.is_some()),
            (
                "id_token_encrypted_response_alg",
                p.id_token_encrypted_response_alg.is_some(),
            ),
            (
                "request_object_signing_alg",
                p.request_object_signing_alg.is_some(),
            ),
            (
                "authorization_signed_response_alg",
                p.authorization_signed_response_alg.is_some(),
            ),
            ("par", p.par),
            ("max_age", p.max_age.is_some()),
            ("response_mode", p.response_mode.is_some()),
            ("assertion_audience", p.assertion_audience.is_some()),
        ],
        "GitHub (OAuth 2.0 with a client secret, not OpenID Connect)",
    )?;
    client_secret_post_only(p, "GitHub takes the client secret")?;
    let url = p.github_url.as_deref().unwrap_or(github::GITHUB_COM);
    p.issuer = Some(url.trim_end_matches('/').to_owned());
    if p.scopes.is_none() {
        p.scopes = Some(github::DEFAULT_SCOPES.map(str::to_owned).to_vec());
    }
    Ok(())
}

/// The first key set among `keys`, refused: it does not apply to `what`.
fn refuse(keys: &[(&'static str, bool)], what: &'static str) -> Result<(), PresetError> {
    match keys.iter().find(|(_, set)| *set) {
        Some((key, _)) => Err(PresetError::KeyDoesNotApply { key, what }),
        None => Ok(()),
    }
}

/// `auth_method`, if set, must be client_secret_post.
fn client_secret_post_only(p: &ProviderSettings, who: &'static str) -> Result<(), PresetError> {
    match p.auth_method.as_deref() {
        Some(m) if m != "client_secret_post" => Err(PresetError::SecretNotInBody {
            auth_method: m.to_owned(),
            who,
        }),
        _ => Ok(()),
    }
}

/// Sign in with Apple: the issuer; the client secret relier mints from `team_id`, `key_id`
/// and `private_key_file` (so no configured secret); `form_post`, which Apple requires with the
/// `name` and `email` scopes (Apple, "Incorporating Sign in with Apple into other platforms":
/// "form_post … is required if you requested any scopes").
fn apply_apple(p: &mut ProviderSettings) -> Result<(), PresetError> {
    refuse(
        &[
            ("client_secret", p.client_secret.is_some()),
            ("client_secret_env", p.client_secret_env.is_some()),
            ("client_secret_file", p.client_secret_file.is_some()),
            ("private_key", p.private_key.is_some()),
            ("use_store_key", p.use_store_key),
            ("tls_cert", p.tls_cert.is_some()),
            ("signing_alg", p.signing_alg.is_some()),
            ("assertion_audience", p.assertion_audience.is_some()),
        ],
        "Sign in with Apple (relier mints the client secret from team_id, key_id and private_key_file)",
    )?;
    client_secret_post_only(p, "Apple takes the client secret it signs")?;
    for (key, set) in [
        ("team_id", p.team_id.is_some()),
        ("key_id", p.key_id.is_some()),
        ("private_key_file", p.private_key_file.is_some()),
        ("client_id", p.client_id.is_some()),
    ] {
        if !set {
            return Err(PresetError::AppleNeeds { key });
        }
    }
    if p.issuer.is_none() {
        p.issuer = Some(apple::APPLE_ISSUER.to_owned());
    }
    if p.auth_method.is_none() {
        p.auth_method = Some("client_secret_post".into());
    }
    let scopes = p
        .scopes
        .get_or_insert_with(|| apple::DEFAULT_SCOPES.map(str::to_owned).to_vec());
    let asks_user_data = scopes.iter().any(|s| s == "name" || s == "email");
    match p.response_mode.as_deref() {
        None => p.response_mode = Some("form_post".into()),
        Some("form_post") => {}
        Some(other) if asks_user_data => {
            return Err(PresetError::AppleNeedsFormPost {
                response_mode: other.to_owned(),
            });
        }
        Some(_) => {}
    }
    Ok(())
}

/// Google: the issuer. (A gateway's `allowed_domains` adds its own rule: the account's `hd`.)
fn apply_google(p: &mut ProviderSettings) {
    if p.issuer.is_none() {
        p.issuer = Some(GOOGLE_ISSUER.to_owned());
    }
}

/// Entra ID: the issuer `{authority}/{tenant}/v2.0` (`consumers`: the fixed consumer tenant);
/// a multi-tenant `tenant` needs `allowed_tenants` or an explicit `allow_any_tenant = true`.
fn apply_entra(p: &mut ProviderSettings) -> Result<(), PresetError> {
    let tenant = p.tenant.clone().ok_or(PresetError::EntraNeedsTenant)?;
    if tenant.is_empty()
        || !tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(PresetError::InvalidTenant { tenant });
    }
    let multi = entra::MULTI_TENANT.contains(&tenant.as_str());
    if multi && p.allowed_tenants.is_empty() && !p.allow_any_tenant {
        return Err(PresetError::EveryTenant { tenant });
    }
    if !multi && (!p.allowed_tenants.is_empty() || p.allow_any_tenant) {
        return Err(PresetError::TenantRulesNeedMultiTenant { tenant });
    }
    if multi && !p.allowed_tenants.is_empty() && p.allow_any_tenant {
        return Err(PresetError::BothTenantRules);
    }
    if certificate_credentials(p) {
        // Entra ID's certificate credentials: "aud: … the token endpoint", and the assertion
        // is RS256 or PS256
        // (<https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials>).
        if p.assertion_audience.is_none() {
            p.assertion_audience = Some("endpoint".into());
        }
        if p.signing_alg.is_none() {
            p.signing_alg = Some("RS256".into());
        }
    }
    if p.issuer.is_none() {
        let authority = p.authority.as_deref().unwrap_or(ENTRA_AUTHORITY);
        let tenant = if tenant == "consumers" {
            entra::CONSUMERS_TENANT_ID
        } else {
            tenant.as_str()
        };
        p.issuer = Some(format!("{}/{tenant}/v2.0", authority.trim_end_matches('/')));
    }
    Ok(())
}

/// Whether an Entra ID provider authenticates with a certificate credential: private_key_jwt
/// with the store's key or `private_key`, each assertion naming the key's self-signed
/// certificate (`relier keys cert`) by its `x5t#S256` thumbprint.
pub fn certificate_credentials(p: &ProviderSettings) -> bool {
    p.preset == Some(Preset::Entra) && (p.use_store_key || p.private_key.is_some())
}

/// The tenants a multi-tenant Entra provider lets in (`None`: not multi-tenant).
pub fn tenant_policy(p: &ProviderSettings) -> Option<TenantPolicy> {
    let multi = p.preset == Some(Preset::Entra)
        && p.tenant
            .as_deref()
            .is_some_and(|t| entra::MULTI_TENANT.contains(&t));
    if !multi {
        return None;
    }
    Some(if p.allow_any_tenant {
        TenantPolicy::Any
    } else {
        TenantPolicy::Allowed(p.allowed_tenants.clone())
    })
}
