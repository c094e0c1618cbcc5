//! A `preset = "github"` provider: a [`GitHubClient`] (OAuth 2.0 and the REST API; GitHub is
//! not an OpenID Connect provider). The preset has already filled in `issuer` (= `github_url`)
//! and the scopes ([`crate::presets`]).

use relier::GitHubClient;
use relier::HttpClient;
use relier_core::github::GitHubEndpoints;
use relier_core::{ClientId, RedirectUrl};

use super::{Protocol, Provider, authorization_params, credentials};
use crate::config::{Config, ProviderConfig};
use crate::error::GatewayError;

/// Builds the provider (no network: GitHub has no discovery document).
pub(super) fn build(
    config: &Config,
    p: &ProviderConfig,
    redirect: &str,
) -> Result<Provider, GatewayError> {
    let err = |e: &dyn std::fmt::Display| GatewayError::provider(&p.name, e);
    let client_id = p
        .settings
        .client_id
        .clone()
        .ok_or_else(|| err(&"client_id (the OAuth App's Client ID) is required"))?;
    let sources = credentials::inline_sources(config, p, None)?;
    let creds = credentials::load(&p.name, &sources)?;
    let secret = creds.secret.clone().ok_or_else(|| {
        err(&"no client secret: set client_secret_env, client_secret_file or client_secret")
    })?;
    let http = HttpClient::new(&creds.http_config()).map_err(|e| err(&e))?;
    let github_url = p
        .settings
        .issuer
        .as_deref()
        .unwrap_or(relier_core::github::GITHUB_COM);
    let endpoints = GitHubEndpoints::new(github_url).map_err(|e| err(&e))?;
    let client = GitHubClient::new(
        http,
        endpoints,
        ClientId::new(client_id).map_err(|e| err(&e))?,
        secret,
        RedirectUrl::new(redirect).map_err(|e| err(&e))?,
    );
    let scopes = p.settings.scopes.clone().unwrap_or_default();
    tracing::info!(provider = %p.name, github_url = %github_url, "provider ready (GitHub: OAuth 2.0, not OpenID Connect)");
    Ok(Provider {
        name: p.name.clone(),
        display_name: p.display_name(),
        protocol: Protocol::GitHub(Box::new(client)),
        params: authorization_params(p, scopes)?,
        subject_claim: None,
        ftn: None,
    })
}
