//! `preset = "github" | "apple" | "google" | "entra" | "ftn"`: what each provider needs, filled
//! into the provider's configuration before anything else reads it — by the rules of
//! [`relier::preset`], the same the command line's `--preset` follows. Every explicit key still
//! wins. The gateway adds its own access rule for Google (`allowed_domains`: the account's
//! `hd`) and decides which claims an Entra ID login resolves.

use relier_core::claims_sources::Resolve;
use relier_core::entra::TenantPolicy;

pub use relier::preset::{ENTRA_AUTHORITY, GOOGLE_ISSUER, Preset, PresetError};

use crate::access::ClaimMatch;
use crate::config::{Config, ProviderConfig};
use crate::error::GatewayError;

/// Every provider's preset applied.
///
/// # Errors
/// [`GatewayError::Provider`]: a key that does not go with the preset, a missing `tenant`, a
/// multi-tenant Entra provider without `allowed_tenants` or `allow_any_tenant = true`.
pub fn expand(mut config: Config) -> Result<Config, GatewayError> {
    for p in &mut config.providers {
        expand_provider(p)?;
    }
    Ok(config)
}

/// One provider's preset applied (what [`expand`] does for each).
///
/// # Errors
/// As [`expand`].
pub fn expand_provider(p: &mut ProviderConfig) -> Result<(), GatewayError> {
    relier::preset::apply(&mut p.settings)
        .map_err(|reason| GatewayError::provider(&p.name, reason))?;
    if p.preset() == Some(Preset::Google) {
        require_workspace_domain(p);
    }
    Ok(())
}

/// Google with `allowed_domains`: the account must also be a Google Workspace account of one
/// of them: the ID token's `hd` claim
/// (<https://developers.google.com/identity/openid-connect/openid-connect#an-id-tokens-payload>:
/// "use hd … to restrict access to members of a Google Workspace domain"; the address's
/// domain alone does not say the domain's organisation manages the account).
fn require_workspace_domain(p: &mut ProviderConfig) {
    if !p.policy.allowed_domains.is_empty() && !p.policy.require.contains_key("hd") {
        p.policy.require.insert(
            "hd".into(),
            ClaimMatch::AnyOf(p.policy.allowed_domains.clone()),
        );
    }
}

/// Whether an Entra ID provider authenticates with a certificate credential
/// ([`relier::preset::certificate_credentials`]).
pub fn certificate_credentials(p: &ProviderConfig) -> bool {
    relier::preset::certificate_credentials(&p.settings)
}

/// The tenants a multi-tenant Entra provider lets in (`None`: not multi-tenant).
pub fn tenant_policy(p: &ProviderConfig) -> Option<TenantPolicy> {
    relier::preset::tenant_policy(&p.settings)
}

/// Which aggregated and distributed claims (OIDC Core §5.6.2) the logins of `p` resolve:
/// `resolve_claims = true` every source, `false` none. Unset, none — except for an Entra ID
/// provider whose groups a rule reads (`allowed_groups`, or a `[[access]]` rule's `groups`):
/// its groups overage (a user in more groups than a token holds) resolves through Microsoft
/// Graph, so that the rule sees every group rather than refusing the user.
pub fn claims_resolution(config: &Config, p: &ProviderConfig) -> Option<Resolve> {
    match p.policy.resolve_claims {
        Some(true) => Some(Resolve::All),
        Some(false) => None,
        None => {
            let groups_rule = !p.policy.allowed_groups.is_empty()
                || config.access.iter().any(|a| !a.groups.is_empty());
            (p.preset() == Some(Preset::Entra) && groups_rule).then_some(Resolve::GroupsOverage)
        }
    }
}

#[cfg(test)]
mod tests;
