//! [`Providers`]: every configured provider in configuration order, each ready or waiting for
//! its OP. A provider whose OP cannot be discovered at start (unreachable, or answering with an
//! error) does not stop the gateway: it waits, its chooser button says it is unavailable,
//! `/readyz` names it (the log says why), and [`Providers::retry_waiting`] tries it again with
//! backoff until it is ready. A built provider is serving once its OP's signing keys are loaded
//! too (fetched right after the start, retried the same way; a signed JWK set must verify):
//! until then `/readyz` names it, though its button works (a login fetches the keys itself).
//! An OP that answers for another issuer is a mistake and stops the start.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use relier::request_uri::PendingRequestObjects;
use relier_core::request_object::RequestObjectDelivery;
use relier_store::Store;
use tokio::sync::watch;

use super::spec::{inline_spec, registry_spec};
use super::{Failure, Provider, REQUEST_PATH, build_one, github};
use crate::config::{Config, ProviderConfig};
use crate::error::GatewayError;
use crate::presets::Preset;
use crate::templates::Brand;

/// The first retry of a waiting provider comes this long after the failed start.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// Retries of a waiting provider double their interval up to this.
const MAX_RETRY: Duration = Duration::from_secs(30);

/// One configured provider.
#[derive(Debug)]
struct Slot {
    name: String,
    display_name: String,
    brand: Option<Brand>,
    /// Set once, when the provider is built.
    ready: OnceLock<Arc<Provider>>,
}

impl Slot {
    /// Built, with its OP's signing keys loaded: what `/readyz` waits for.
    fn serving(&self) -> bool {
        self.ready.get().is_some_and(|p| p.op_keys_loaded())
    }
}

/// Every provider, in configuration order.
#[derive(Debug)]
pub struct Providers {
    slots: Vec<Slot>,
    /// What a waiting provider is built from again.
    config: Arc<Config>,
    /// The request objects served by reference at `/auth/request/{id}` (OIDC Core §6.2).
    request_objects: Arc<PendingRequestObjects>,
}

/// A provider as the chooser shows it.
#[derive(Debug)]
pub struct Listed<'a> {
    /// Local name (in URLs).
    pub name: &'a str,
    /// Button text.
    pub display_name: &'a str,
    /// The preset's branded button.
    pub brand: Option<Brand>,
    /// False while its OP has not been reached.
    pub ready: bool,
}

impl Providers {
    /// The request objects served by reference at `/auth/request/{id}` (OIDC Core §6.2).
    pub fn request_objects(&self) -> Option<&PendingRequestObjects> {
        Some(&self.request_objects)
    }

    /// A ready provider by name (`None` for an unknown or waiting one).
    pub fn get(&self, name: &str) -> Option<&Arc<Provider>> {
        self.slots
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.ready.get())
    }

    /// Whether `name` is configured but still waiting for its OP.
    pub fn is_waiting(&self, name: &str) -> bool {
        self.slots
            .iter()
            .any(|s| s.name == name && s.ready.get().is_none())
    }

    /// The ready providers, in order.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Provider>> {
        self.slots.iter().filter_map(|s| s.ready.get())
    }

    /// Every configured provider, ready or not, in order.
    pub fn listed(&self) -> impl Iterator<Item = Listed<'_>> {
        self.slots.iter().map(|s| Listed {
            name: &s.name,
            display_name: &s.display_name,
            brand: s.brand,
            ready: s.ready.get().is_some(),
        })
    }

    /// Names of every configured provider, in order.
    pub fn names(&self) -> Vec<&str> {
        self.slots.iter().map(|s| s.name.as_str()).collect()
    }

    /// The names of the providers not ready yet (why is in the log).
    pub fn not_ready(&self) -> Vec<&str> {
        self.slots
            .iter()
            .filter(|s| !s.serving())
            .map(|s| s.name.as_str())
            .collect()
    }

    /// Fetches the OP keys of every built provider that lacks them (failures logged; retried
    /// by [`Providers::retry_waiting`]).
    async fn load_op_keys(&self) {
        for provider in self.all().filter(|p| !p.op_keys_loaded()) {
            match provider.load_op_keys().await {
                Ok(()) => {
                    tracing::info!(provider = %provider.name, "the OP's signing keys are loaded")
                }
                Err(e) => {
                    tracing::warn!(provider = %provider.name, error = %e, "the OP's signing keys could not be loaded yet")
                }
            }
        }
    }

    /// Loads the OP keys of the built providers (at once), then builds every waiting provider
    /// again and loads its keys, with backoff ([`FIRST_RETRY`] doubling up to
    /// [`MAX_RETRY`]), until all are ready or `stop` turns true.
    pub async fn retry_waiting(&self, store: &dyn Store, mut stop: watch::Receiver<bool>) {
        let mut wait = FIRST_RETRY;
        loop {
            self.load_op_keys().await;
            if self.slots.iter().all(Slot::serving) {
                return;
            }
            tokio::select! {
                _ = stop.changed() => return,
                () = tokio::time::sleep(wait) => {}
            }
            wait = (wait * 2).min(MAX_RETRY);
            for (slot, p) in self.slots.iter().zip(&self.config.providers) {
                if slot.ready.get().is_some() {
                    continue;
                }
                match build(&self.config, p, store, &self.request_objects).await {
                    Ok(provider) => {
                        let _ = slot.ready.set(Arc::new(provider));
                        tracing::info!(provider = %slot.name, "provider reachable again: ready");
                    }
                    Err(e) => {
                        let e = match e {
                            Failure::Fatal(e) | Failure::Unreachable(e) => e,
                        };
                        tracing::warn!(provider = %slot.name, error = %e, retry_in = ?wait, "provider still not ready");
                    }
                }
            }
        }
    }
}

/// Builds every provider: credentials, discovery, relying party. A provider whose OP cannot be
/// discovered waits (logged, retried by [`Providers::retry_waiting`]); any other error stops
/// the start.
///
/// # Errors
/// [`GatewayError`] naming the provider: a name given twice or invalid, bad credentials,
/// settings the OP's metadata rules out.
pub async fn build_all(config: &Config, store: &dyn Store) -> Result<Providers, GatewayError> {
    let public = config.public_url.trim_end_matches('/');
    let request_objects = Arc::new(PendingRequestObjects::new(
        url::Url::parse(&format!("{public}{REQUEST_PATH}"))
            .map_err(|e| GatewayError::config(format!("public_url: {e}")))?,
    ));
    let mut slots: Vec<Slot> = Vec::new();
    for p in &config.providers {
        relier_store::validate_provider_name(&p.name)
            .map_err(|e| GatewayError::provider(&p.name, e))?;
        if slots.iter().any(|q| q.name == p.name) {
            return Err(GatewayError::provider(&p.name, "configured twice"));
        }
        let ready = match build(config, p, store, &request_objects).await {
            Ok(provider) => OnceLock::from(Arc::new(provider)),
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Unreachable(e)) => {
                tracing::error!(provider = %p.name, error = %e, retry_in = ?FIRST_RETRY,
                    "provider not ready: its button says it is unavailable until its OP answers");
                OnceLock::new()
            }
        };
        let display_name = match ready.get() {
            Some(built) => built.display_name.clone(),
            None => display_name(config, p, store).await?,
        };
        slots.push(Slot {
            name: p.name.clone(),
            display_name,
            brand: super::brand(p),
            ready,
        });
    }
    Ok(Providers {
        slots,
        config: Arc::new(config.clone()),
        request_objects,
    })
}

/// One provider, GitHub or OpenID Connect (inline or from the store's registry).
async fn build(
    config: &Config,
    p: &ProviderConfig,
    store: &dyn Store,
    request_objects: &Arc<PendingRequestObjects>,
) -> Result<Provider, Failure> {
    let redirect = redirect_uri(config, p);
    if p.preset() == Some(Preset::GitHub) {
        return Ok(github_provider(config, p, &redirect)?);
    }
    let spec = if p.is_registry() {
        registry_spec(config, p, store).await?
    } else {
        inline_spec(config, p)?
    };
    let host = (p.settings.request_object == Some(RequestObjectDelivery::ByReference))
        .then(|| request_objects.clone());
    build_one(config, p, spec, &redirect, store, host).await
}

pub(super) fn redirect_uri(config: &Config, p: &ProviderConfig) -> String {
    let public = config.public_url.trim_end_matches('/');
    format!("{public}/auth/callback/{}", p.name)
}

fn github_provider(
    config: &Config,
    p: &ProviderConfig,
    redirect: &str,
) -> Result<Provider, GatewayError> {
    if let Some(profile) = p.settings.profile {
        return Err(GatewayError::provider(
            &p.name,
            format!("profile {profile} is for OpenID Connect providers; GitHub is OAuth 2.0"),
        ));
    }
    github::build(config, p, redirect)
}

/// What can be checked of a provider without its OP or the store (`relier config check`): a
/// GitHub provider is built whole (it has no discovery); an inline OpenID Connect provider's
/// settings, credential files and issuer URL are checked; a registry provider is not (its
/// client lives in the store).
///
/// # Errors
/// [`GatewayError::Provider`] naming what is wrong.
pub fn check_static(config: &Config, p: &ProviderConfig) -> Result<(), GatewayError> {
    if p.preset() == Some(Preset::GitHub) {
        return github_provider(config, p, &redirect_uri(config, p)).map(drop);
    }
    if p.is_registry() {
        return Ok(());
    }
    let spec = inline_spec(config, p)?;
    let credentials = super::credentials::load(&spec.name, &spec.sources)?;
    // The rules that need only the spec and the credentials (HMAC ID tokens need a secret, …).
    if p.preset() != Some(Preset::Apple) {
        spec.provider
            .check(&credentials)
            .map_err(|e| GatewayError::provider(&spec.name, super::provider_error(&e)))?;
    }
    let trust = super::federation::Trust::load(config, p, crate::clock::now())?;
    relier_core::IssuerUrl::new(trust.issuer().unwrap_or(&spec.issuer))
        .map_err(|e| GatewayError::provider(&spec.name, e))?;
    super::authorization_params(p, spec.scopes).map(drop)
}

/// The button text of a provider that is not built.
async fn display_name(
    config: &Config,
    p: &ProviderConfig,
    store: &dyn Store,
) -> Result<String, GatewayError> {
    Ok(if p.is_registry() {
        registry_spec(config, p, store).await?.display_name
    } else {
        inline_spec(config, p)?.display_name
    })
}
