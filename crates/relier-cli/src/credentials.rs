//! Client credentials from the command line or a stored provider, loaded and assembled by
//! [`relier::credentials`]; this module maps the flags and the provider record to its sources
//! and names the flag or the command that fixes a missing credential.

use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use relier::credentials::{
    self as creds, AssembledAuth, ClientAuthSpec, ClientCredentials, Credential, CredentialError,
    CredentialFile, CredentialSources, KeySource, SecretSource, TlsIdentityFiles,
};
use relier::provider::ProviderSpec;
use relier_core::client_auth::AssertionAudience;
use relier_core::{AuthMethod, ClientId, ProviderMetadata, Secret};
use relier_jose::{Algorithm, SigningKey};
use relier_store::{ProviderRecord, Store};

use crate::args::{AssertionAud, ClientArgs};

/// Where the credentials came from, for the hint that fixes a missing one.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// The command line's flags.
    Args,
    /// The stored provider of this name.
    Provider(&'a str),
}

/// Read every file and variable the flags name (never a credential from argv itself); an
/// error names the flag.
pub fn load_args(a: &ClientArgs) -> anyhow::Result<ClientCredentials> {
    let secret = match (&a.client_secret_env, &a.client_secret_file) {
        (Some(var), _) => Some(SecretSource::Env(var.clone())),
        (None, Some(path)) => Some(SecretSource::File(path.clone())),
        (None, None) => None,
    };
    let sources = CredentialSources {
        secret,
        // An HMAC --signing-alg is for client_secret_jwt: the key keeps its own default.
        private_key: a
            .private_key
            .as_ref()
            .map(|path| KeySource::file(path, a.key_id.clone(), a.signing_alg)),
        tls_identity: TlsIdentityFiles::pair(a.tls_cert.as_deref(), a.tls_key.as_deref())?,
        ca_file: a.ca_file.clone(),
    };
    ClientCredentials::load(&sources).map_err(|e| {
        let flag = match e.file() {
            Some(CredentialFile::ClientSecret) => "--client-secret-file",
            Some(CredentialFile::PrivateKey) => "--private-key",
            Some(CredentialFile::TlsCertificate) => "--tls-cert",
            Some(CredentialFile::TlsKey) => "--tls-key",
            Some(CredentialFile::CaCertificates) => "--ca-file",
            _ => "--client-secret-env",
        };
        anyhow::Error::new(e).context(flag)
    })
}

/// The credentials of a stored provider but its store key: its secret, its certificate files,
/// `--ca-file`. A secret past its `client_secret_expires_at` is refused here, before the OP
/// answers "invalid_client" (RFC 7591 §3.2.1).
pub fn load_provider(
    record: &ProviderRecord,
    ca_file: Option<&Path>,
) -> anyhow::Result<ClientCredentials> {
    let name = &record.name;
    let needs_secret = matches!(
        record.auth_method,
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::ClientSecretJwt
    );
    if let Some(at) = relier_store::secret_expiry(record.registration.as_ref())
        && needs_secret
        && record.client_secret.is_some()
        && at <= crate::clock::now_secs()
    {
        bail!(
            "provider {name}: the client secret expired at {} (client_secret_expires_at): `relier providers sync {name}` stores a new one if the OP issued it, else register again or `relier providers add {name} --replace --client-secret-stdin …`",
            crate::output::utc(at)
        );
    }
    let sources = CredentialSources {
        secret: record.client_secret.clone().map(SecretSource::Value),
        tls_identity: TlsIdentityFiles::pair(
            record.tls_cert_path.as_deref(),
            record.tls_key_path.as_deref(),
        )
        .with_context(|| format!("provider {name}"))?,
        ca_file: ca_file.map(Path::to_path_buf),
        ..Default::default()
    };
    ClientCredentials::load(&sources).with_context(|| format!("provider {name}"))
}

/// The store's active key a private_key_jwt provider signs with: its registered algorithm's,
/// else the preferred one the OP accepts ([`creds::registered_key_alg`]).
pub async fn provider_signing_key(
    store: &dyn Store,
    record: &ProviderRecord,
    md: &ProviderMetadata,
) -> anyhow::Result<SigningKey> {
    let name = &record.name;
    let active = store.active_algs().await?;
    let alg = creds::registered_key_alg(record.signing_alg, &active, md).map_err(|e| {
        let alg = creds::prefer_alg(&creds::PREFERRED_ALGS, |a| creds::op_accepts(md, a))
            .unwrap_or(Algorithm::ES256);
        anyhow!(
            "provider {name} uses private_key_jwt: {e}: run `relier keys generate --alg {alg}`, then `relier providers sync {name}` (or register the key with the OP)"
        )
    })?;
    store.signing_key(alg).await?.with_context(|| {
        format!(
            "provider {name} signs client assertions with {alg} but the store has no active {alg} key: run `relier keys generate --alg {alg}`, then `relier providers sync {name}` (or register the key with the OP)"
        )
    })
}

/// A secret from environment variable `var`, named by the flag that pointed to it.
pub fn secret_env(var: &str, flag: &str) -> anyhow::Result<Secret> {
    SecretSource::Env(var.to_owned())
        .load()
        .context(flag.to_owned())
}

/// From `--client-id`, `--auth-method`, `--signing-alg`, `--assertion-aud`.
pub fn spec_from_args(a: &ClientArgs, client_id: ClientId) -> ClientAuthSpec {
    ClientAuthSpec {
        client_id,
        method: a.auth_method,
        signing_alg: a.signing_alg,
        audience: audience(a.assertion_aud),
    }
}

/// `--assertion-aud` as the core's value.
pub fn audience(a: AssertionAud) -> AssertionAudience {
    match a {
        AssertionAud::Issuer => AssertionAudience::Issuer,
        AssertionAud::Endpoint => AssertionAudience::Endpoint,
    }
}

/// The client authentication ([`ProviderSpec::client_auth`]): the method asked for (a
/// warning when the OP does not list it), else the recommender's choice; a missing credential
/// names what supplies it.
pub fn choose(
    spec: &ProviderSpec,
    loaded: &ClientCredentials,
    md: &ProviderMetadata,
    origin: Origin<'_>,
) -> anyhow::Result<AssembledAuth> {
    if let Some(m) = spec.client.method
        && !md.token_auth_methods().iter().any(|s| s == m.as_str())
    {
        crate::output::note(&format!(
            "warning: the OP does not list {m} in token_endpoint_auth_methods_supported"
        ));
    }
    spec.client_auth(loaded, md).map_err(|e| match e {
        relier::Error::Credentials(e) => explain(e, origin),
        relier::Error::Certificate(_) => anyhow::Error::new(e).context("--private-key"),
        e => e.into(),
    })
}

fn explain(e: CredentialError, origin: Origin<'_>) -> anyhow::Error {
    let hint = match (&e, origin) {
        (CredentialError::Missing { credential, .. }, Origin::Args) => match credential {
            Credential::ClientSecret => "use --client-secret-env VAR or --client-secret-file FILE",
            Credential::PrivateKey => "use --private-key FILE (PKCS#8 PEM or JWK)",
            _ => "use --tls-cert FILE --tls-key FILE",
        }
        .to_owned(),
        (CredentialError::Missing { credential, .. }, Origin::Provider(name)) => match credential {
            Credential::ClientSecret => format!(
                "the store holds none for provider {name}: add it again with `relier providers add {name} --replace --client-secret-stdin …`"
            ),
            _ => format!(
                "provider {name} has none: add it again with --tls-cert FILE --tls-key FILE"
            ),
        },
        (CredentialError::AlgorithmMismatch { .. }, Origin::Args) => {
            "see --signing-alg (client_secret_jwt: HS256, HS384 or HS512; private_key_jwt: the key's)"
                .to_owned()
        }
        _ => return e.into(),
    };
    anyhow!("{e}: {hint}")
}

#[cfg(test)]
mod tests;
