//! One `[[providers]]` entry of `relier.toml`: its name, the gateway's policy keys every kind
//! takes, and the keys of its kind ([`ProviderKind`]: inline, from the registry, each preset),
//! each kind a struct of only the keys meaningful for it — a key of another kind is refused
//! as the file is read, with the table's line.

mod keys;
mod kinds;
mod oidc;

use std::collections::BTreeMap;

use relier::preset::Preset;
use relier::provider::ProviderSettings;
use serde::{Deserialize, Deserializer};

use super::{ConfigError, UserinfoPolicy};
use crate::access::ClaimMatch;

pub use keys::UnknownKey;
pub use kinds::{Apple, Entra, EntraTenant, Ftn, GatewayKeys, GitHub, ProviderKind, Registry};
pub use oidc::Oidc;

/// One `[[providers]]` entry.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProviderConfig {
    /// Local name (`A-Z a-z 0-9 . _ -`), in the callback URL.
    pub name: String,
    /// The gateway's keys for every kind of provider.
    pub policy: Policy,
    /// What the table is, with its keys.
    pub kind: ProviderKind,
    /// The provider's settings: its kind's keys ([`ProviderKind::settings`]), then filled in by
    /// its preset ([`crate::presets::expand`]) — what the gateway reads.
    pub settings: ProviderSettings,
}

/// The keys every `[[providers]]` table may set: how its button reads, who may log in, what
/// the gateway does with the login.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Policy {
    /// Button text after "Continue with" (default: the preset's name, else the name).
    #[serde(default)]
    pub display_name: Option<String>,
    /// When to call the OP's UserInfo endpoint after a login: `auto` (default: only when the
    /// ID token lacks a claim the gateway uses), `always` or `never` ([`crate::userinfo`]).
    #[serde(default)]
    pub userinfo: UserinfoPolicy,
    /// Resolve aggregated and distributed claims (OIDC Core §5.6.2) at login: aggregated
    /// claims' JWTs verified against their issuer's keys, distributed claims fetched with their
    /// access token (https and public addresses only, unless this provider's issuer is on a
    /// loopback or private address); a source that fails is dropped and logged. Default off;
    /// `preset = "entra"` with a groups rule resolves the groups overage unless this is `false`
    /// ([`crate::presets::claims_resolution`]).
    #[serde(default)]
    pub resolve_claims: Option<bool>,
    /// With `[upstream] pass_access_token = true`: the upstream gets a token for this audience,
    /// obtained by OAuth 2.0 Token Exchange (RFC 8693) with the session's access token as the
    /// subject, instead of the session's token.
    #[serde(default)]
    pub exchange_audience: Option<String>,
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

/// `name`, the one key of a table no kind has.
#[derive(Deserialize)]
struct Named {
    name: String,
}

impl<'de> Deserialize<'de> for ProviderConfig {
    /// The table's name and policy keys, then its kind from `preset`, `issuer` and
    /// `entity_statement` and that kind's keys; an error (a key the kind does not take, a value
    /// of the wrong type) is the table's, so the file's reader gives its line.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let table = toml::Table::deserialize(deserializer)?;
        // toml gives the error the table's line.
        Self::from_table(table).map_err(serde::de::Error::custom)
    }
}

impl ProviderConfig {
    fn from_table(mut table: toml::Table) -> Result<Self, ConfigError> {
        let policy_keys = keys::keys_of::<Policy>();
        let Named { name } = keys::read(keys::take(&mut table, &["name"])).map_err(|reason| {
            ConfigError::Provider {
                name: String::new(),
                key: Some("name".into()),
                reason,
            }
        })?;
        let named = |(key, reason): (Option<String>, String)| ConfigError::Provider {
            name: name.clone(),
            key,
            reason,
        };
        let policy: Policy = keys::read(keys::take(&mut table, policy_keys))
            .map_err(|reason| named((None, reason)))?;
        let common = [&["name"][..], policy_keys].concat();
        let kind = ProviderKind::from_table(table, &common).map_err(named)?;
        let settings = ProviderSettings {
            display_name: policy.display_name.clone(),
            ..kind.settings()
        };
        Ok(ProviderConfig {
            name,
            policy,
            kind,
            settings,
        })
    }

    /// A provider named `name` with these settings, assembled elsewhere from the keys of the
    /// same names (the command line's `--preset`).
    pub fn assembled(name: &str, settings: ProviderSettings) -> ProviderConfig {
        ProviderConfig {
            name: name.to_owned(),
            policy: Policy {
                display_name: settings.display_name.clone(),
                ..Policy::default()
            },
            kind: ProviderKind::Assembled,
            settings,
        }
    }

    /// A registry provider: only its name (and the keys of [`Registry`]) in the table.
    pub fn is_registry(&self) -> bool {
        self.kind.is_registry()
    }

    /// Its preset.
    pub fn preset(&self) -> Option<Preset> {
        self.settings.preset
    }

    /// Button text: `display_name`, the preset's once applied, else the name.
    pub fn display_name(&self) -> String {
        self.settings
            .display_name
            .clone()
            .unwrap_or_else(|| self.name.clone())
    }

    /// The keys of the table the gateway reads itself.
    pub fn gateway_keys(&self) -> GatewayKeys<'_> {
        self.kind.gateway_keys()
    }
}

#[cfg(test)]
mod tests;
