//! `--preset`: the flags as a provider's settings (the `[[providers]]` keys of the same
//! names), filled in by [`relier::preset::apply`] — the one home of every preset's rules, so
//! `relier login --preset apple` and `preset = "apple"` in `relier serve` cannot drift apart.

use anyhow::Context as _;
use relier::credentials::ClientCredentials;
use relier::preset::{self, Preset};
use relier::provider::{ProviderSettings, ProviderSpec};
use relier_core::{AuthMethod, ClientId, IssuerUrl};

use crate::args::{AssertionAud, ClientArgs, PresetName};

/// A preset's provider, expanded.
#[derive(Debug)]
pub struct Expanded {
    /// The provider's settings after the preset.
    pub settings: ProviderSettings,
    /// The preset.
    pub preset: Preset,
}

impl Expanded {
    /// What the relying party of `client_id` is assembled from
    /// ([`ProviderSettings::spec`]): as the gateway's `preset = "…"` with the same keys.
    pub fn spec(&self, client_id: ClientId) -> anyhow::Result<ProviderSpec> {
        let context = || format!("--preset {}", self.preset);
        let method = self
            .settings
            .auth_method
            .as_deref()
            .map(str::parse::<AuthMethod>)
            .transpose()
            .with_context(context)?;
        self.settings
            .spec(client_id, method, None)
            .with_context(context)
    }

    /// The issuer the preset chose (or `--issuer`).
    pub fn issuer(&self) -> anyhow::Result<IssuerUrl> {
        let issuer = self.settings.issuer.as_deref().unwrap_or_default();
        IssuerUrl::new(issuer).with_context(|| format!("--preset {}: issuer", self.preset))
    }

    /// The scopes, space-separated.
    pub fn scopes(&self) -> Option<String> {
        self.settings.scopes.as_ref().map(|s| s.join(" "))
    }

    /// The response mode the preset needs (Sign in with Apple: form_post).
    pub fn response_mode(&self) -> Option<&str> {
        self.settings.response_mode.as_deref()
    }

    /// Sign in with Apple: the credentials are a client secret minted now from the `.p8` key
    /// (a login lasts minutes, far less than the secret's day), and `--ca-file`.
    pub fn apple_credentials(
        &self,
        client_id: &ClientId,
        ca_file: Option<&std::path::Path>,
    ) -> anyhow::Result<ClientCredentials> {
        let c = &self.settings;
        let (Some(file), Some(team), Some(kid)) = (
            c.private_key_file.as_deref(),
            c.team_id.as_deref(),
            c.key_id.as_deref(),
        ) else {
            anyhow::bail!("--preset apple needs --private-key, --key-id and --team-id");
        };
        let minter = relier::credentials::apple_client_secret(file, team, kid, client_id.clone())
            .context("--private-key")?;
        let minted = minter.mint(
            relier_core::UnixTime(crate::clock::now_secs()),
            &aws_lc_rs::rand::SystemRandom::new(),
        )?;
        Ok(ClientCredentials {
            secret: Some(minted.secret),
            ca_pem: ca_file.map(relier::credentials::read_ca_file).transpose()?,
            ..Default::default()
        })
    }
}

/// The `--preset` flags expanded; `None` without `--preset`. `scope` and `response_mode` are
/// the command's own flags: explicit values win over the preset's, as in the gateway.
pub fn expand(
    a: &ClientArgs,
    scope: Option<&str>,
    response_mode: Option<&str>,
) -> anyhow::Result<Option<Expanded>> {
    let Some(name) = a.preset.preset else {
        return Ok(None);
    };
    let preset = match name {
        PresetName::Github => Preset::GitHub,
        PresetName::Apple => Preset::Apple,
        PresetName::Entra => Preset::Entra,
        PresetName::Google => Preset::Google,
        PresetName::Ftn => Preset::Ftn,
    };
    let apple = preset == Preset::Apple;
    let p = &a.preset;
    let mut settings = ProviderSettings {
        preset: Some(preset),
        github_url: p.github_url.clone(),
        tenant: p.tenant.clone(),
        authority: p.authority.clone(),
        allowed_tenants: p.allowed_tenant.clone(),
        allow_any_tenant: p.allow_any_tenant,
        team_id: p.team_id.clone(),
        entity_statement: p.entity_statement.clone(),
        ftn_spname: p.ftn_spname.clone(),
        ui_locales: p.ui_locales,
        purpose: p.purpose,
        issuer: a.issuer.as_ref().map(|i| i.as_str().to_owned()),
        client_id: a.client_id.as_ref().map(|c| c.as_str().to_owned()),
        auth_method: a.auth_method.map(|m| m.as_str().to_owned()),
        client_secret_env: a.client_secret_env.clone(),
        client_secret_file: a.client_secret_file.clone(),
        // Apple's .p8 key mints the client secret; everyone else's signs assertions.
        private_key: a.private_key.clone().filter(|_| !apple),
        private_key_file: a.private_key.clone().filter(|_| apple),
        key_id: a.key_id.clone(),
        signing_alg: a.signing_alg.map(|s| s.as_str().to_owned()),
        // The default (issuer) is what an unset key means.
        assertion_audience: (a.assertion_aud == AssertionAud::Endpoint).then(|| "endpoint".into()),
        tls_cert: a.tls_cert.clone(),
        tls_key: a.tls_key.clone(),
        scopes: scope.map(|s| s.split_whitespace().map(str::to_owned).collect()),
        response_mode: response_mode.map(str::to_owned),
        ..Default::default()
    };
    preset::apply(&mut settings)
        .map_err(|e| anyhow::anyhow!("provider {preset}: {e}"))
        .with_context(|| {
            format!("--preset {preset} (configuration keys are the flags' names with _ for -)")
        })?;
    Ok(Some(Expanded { settings, preset }))
}

#[cfg(test)]
mod tests;
