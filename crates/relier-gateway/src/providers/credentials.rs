//! A provider's credential keys (`client_secret*`, `private_key`, `key_id`, `tls_cert`,
//! `tls_key`, `ca_file`; or the registry record) as [`CredentialSources`], loaded by
//! [`relier::credentials`]. Relative paths resolve against the configuration file's directory.

use relier::credentials::{
    ClientCredentials, CredentialError, CredentialFile, CredentialSources, KeySource, SecretSource,
    TlsIdentityFiles,
};
use relier_jose::Algorithm;
use relier_store::ProviderRecord;

use crate::config::{Config, ProviderConfig, secret_override_env};
use crate::error::GatewayError;

/// `RELIER_CLIENT_SECRET_<NAME>`, when set and not empty: it wins over every other secret.
fn secret_override(p: &ProviderConfig) -> Option<SecretSource> {
    let var = secret_override_env(&p.name);
    std::env::var_os(&var)
        .filter(|v| !v.is_empty())
        .map(|_| SecretSource::Env(var))
}

/// An inline provider's sources: the secret from `RELIER_CLIENT_SECRET_<NAME>`, else
/// `client_secret_env`, else `client_secret_file`, else `client_secret`; `private_key` with
/// `key_id` and the asymmetric `signing_alg`; `tls_cert` + `tls_key`; `ca_file`.
pub fn inline_sources(
    config: &Config,
    p: &ProviderConfig,
    signing_alg: Option<Algorithm>,
) -> Result<CredentialSources, GatewayError> {
    let secret = secret_override(p)
        .or_else(|| p.settings.client_secret_env.clone().map(SecretSource::Env))
        .or_else(|| {
            p.settings
                .client_secret_file
                .as_deref()
                .map(|f| SecretSource::File(config.resolve(f)))
        })
        .or_else(|| p.settings.client_secret.clone().map(SecretSource::Value));
    Ok(CredentialSources {
        secret,
        private_key: p
            .settings
            .private_key
            .as_deref()
            .map(|f| KeySource::file(config.resolve(f), p.settings.key_id.clone(), signing_alg)),
        tls_identity: tls_identity(
            config,
            p,
            p.settings.tls_cert.as_deref(),
            p.settings.tls_key.as_deref(),
        )?,
        ca_file: p.gateway_keys().ca_file.map(|f| config.resolve(f)),
    })
}

/// A registry provider's sources: the stored secret (`RELIER_CLIENT_SECRET_<NAME>` wins),
/// the stored certificate files, the configuration's `ca_file`.
pub fn registry_sources(
    config: &Config,
    p: &ProviderConfig,
    r: &ProviderRecord,
) -> Result<CredentialSources, GatewayError> {
    Ok(CredentialSources {
        secret: secret_override(p).or_else(|| r.client_secret.clone().map(SecretSource::Value)),
        private_key: None,
        tls_identity: tls_identity(
            config,
            p,
            r.tls_cert_path.as_deref(),
            r.tls_key_path.as_deref(),
        )?,
        ca_file: p.gateway_keys().ca_file.map(|f| config.resolve(f)),
    })
}

fn tls_identity(
    config: &Config,
    p: &ProviderConfig,
    cert: Option<&std::path::Path>,
    key: Option<&std::path::Path>,
) -> Result<Option<TlsIdentityFiles>, GatewayError> {
    let (cert, key) = (
        cert.map(|c| config.resolve(c)),
        key.map(|k| config.resolve(k)),
    );
    TlsIdentityFiles::pair(cert.as_deref(), key.as_deref())
        .map_err(|e| GatewayError::provider(&p.name, e))
}

/// Reads the sources; an error names the configuration key that pointed to the failed file or
/// variable.
pub fn load(name: &str, sources: &CredentialSources) -> Result<ClientCredentials, GatewayError> {
    ClientCredentials::load(sources).map_err(|e| {
        let key = match e.file() {
            Some(CredentialFile::ClientSecret) => "client_secret_file",
            Some(CredentialFile::PrivateKey) => "private_key",
            Some(CredentialFile::TlsCertificate) => "tls_cert",
            Some(CredentialFile::TlsKey) => "tls_key",
            Some(CredentialFile::CaCertificates) => "ca_file",
            _ if is_env(&e) => "client_secret_env",
            _ => return GatewayError::provider(name, e),
        };
        GatewayError::provider(name, format!("{key}: {e}"))
    })
}

fn is_env(e: &CredentialError) -> bool {
    matches!(
        e,
        CredentialError::EnvNotSet { .. }
            | CredentialError::EnvNotUtf8 { .. }
            | CredentialError::EnvEmpty { .. }
    )
}
