//! Client credentials from the command line: read the secret, key and certificate the flags point
//! to (never the values themselves from argv), then pick the client authentication method — the
//! one asked for, or the strongest the OP and these credentials support.

use std::path::Path;

use anyhow::{Context as _, bail};
use relier::HttpConfig;
use relier_core::client_auth::AssertionAudience;
use relier_core::recommend::{self, Credentials, Recommendation};
use relier_core::{AuthMethod, ClientAuth, ClientId, ProviderMetadata, Secret};
use relier_jose::{Algorithm, SigningKey};
use relier_store::{ProviderRecord, Store};
use zeroize::Zeroizing;

use crate::args::{AssertionAud, ClientArgs};

/// Files larger than this are not credentials.
const MAX_CREDENTIAL_FILE: u64 = 1024 * 1024;

/// What the flags gave, loaded and parsed.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The client secret.
    pub secret: Option<Secret>,
    /// The private key for private_key_jwt (kid already applied from --key-id).
    pub key: Option<SigningKey>,
    /// Certificate chain PEM + key PEM, for mTLS.
    pub tls_identity: Option<Zeroizing<Vec<u8>>>,
    /// Extra trusted CAs.
    pub ca_pem: Option<Vec<u8>>,
}

impl Loaded {
    /// Read every file and variable the flags name.
    pub fn from_args(a: &ClientArgs) -> anyhow::Result<Self> {
        let secret = match (&a.client_secret_env, &a.client_secret_file) {
            (Some(var), _) => Some(secret_from_env(var)?),
            (None, Some(path)) => Some(secret_from_file(path)?),
            (None, None) => None,
        };
        let key = match &a.private_key {
            Some(path) => {
                // An HMAC --signing-alg is for client_secret_jwt: the key keeps its own default.
                let alg = a.signing_alg.filter(|alg| !alg.is_hmac());
                let key = load_private_key(path, alg)
                    .with_context(|| format!("--private-key {}", path.display()))?;
                Some(match &a.key_id {
                    Some(kid) => key.with_kid(kid.clone()),
                    None => key,
                })
            }
            None => None,
        };
        let tls_identity = match (&a.tls_cert, &a.tls_key) {
            (Some(cert), Some(key)) => Some(tls_identity(cert, key, "--tls-cert", "--tls-key")?),
            _ => None,
        };
        Ok(Self {
            secret,
            key,
            tls_identity,
            ca_pem: ca_pem(a.ca_file.as_deref())?,
        })
    }

    /// The credentials of a stored provider: its secret, the store's active signing key (for
    /// private_key_jwt), its certificate files. Whatever its method needs must be there.
    pub async fn from_provider(
        record: &ProviderRecord,
        store: &dyn Store,
        ca_file: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let name = &record.name;
        let method = record.auth_method;
        let key = if method == AuthMethod::PrivateKeyJwt {
            Some(provider_signing_key(store, record).await?)
        } else {
            None
        };
        let needs_secret = matches!(
            method,
            AuthMethod::ClientSecretBasic
                | AuthMethod::ClientSecretPost
                | AuthMethod::ClientSecretJwt
        );
        if needs_secret && record.client_secret.is_none() {
            bail!(
                "provider {name} uses {method} but the store holds no client secret for it: add it again with `relier providers add {name} --replace --client-secret-stdin …`"
            );
        }
        // RFC 7591 §3.2.1: past client_secret_expires_at the OP refuses the secret; say so
        // before it answers "invalid_client".
        if let Some(at) = relier_store::secret_expiry(record.registration.as_ref())
            && needs_secret
            && at <= crate::commands::now_secs()
        {
            bail!(
                "provider {name}: the client secret expired at {} (client_secret_expires_at): `relier providers sync {name}` stores a new one if the OP issued it, else register again or `relier providers add {name} --replace --client-secret-stdin …`",
                crate::output::utc(at)
            );
        }
        let tls_identity = match (&record.tls_cert_path, &record.tls_key_path) {
            (Some(cert), Some(key)) => Some(tls_identity(
                cert,
                key,
                "TLS certificate of the provider",
                "TLS key of the provider",
            )?),
            _ if method.uses_mtls() => bail!(
                "provider {name} uses {method} but has no client certificate: add it again with --tls-cert FILE --tls-key FILE"
            ),
            _ => None,
        };
        Ok(Self {
            secret: record.client_secret.clone(),
            key,
            tls_identity,
            ca_pem: ca_pem(ca_file)?,
        })
    }

    /// The HTTP configuration (CA, client certificate) these credentials need.
    pub fn http_config(&self) -> HttpConfig {
        HttpConfig {
            ca_pem: self.ca_pem.clone(),
            client_identity_pem: self.tls_identity.clone(),
            ..Default::default()
        }
    }

    /// What the recommender needs to know.
    pub fn summary(&self) -> Credentials {
        Credentials {
            secret_len: self.secret.as_ref().map(Secret::len),
            private_key: self.key.as_ref().map(SigningKey::algorithm),
            tls_certificate: self.tls_identity.is_some(),
        }
    }
}

/// The client authentication to use, and the recommendation when relier chose it.
#[derive(Debug)]
pub struct Chosen {
    /// Ready to sign requests.
    pub auth: ClientAuth,
    /// Why this method (`None` when `--auth-method` named it).
    pub recommendation: Option<Recommendation>,
}

/// The client and what the user asked for, from the command line or from the store.
#[derive(Debug, Clone)]
pub struct AuthSpec {
    /// The client_id.
    pub client_id: ClientId,
    /// The method, if fixed (else the recommender chooses).
    pub method: Option<AuthMethod>,
    /// The assertion algorithm, if fixed.
    pub signing_alg: Option<Algorithm>,
    /// `aud` of assertions.
    pub audience: AssertionAudience,
}

impl AuthSpec {
    /// From `--client-id`, `--auth-method`, `--signing-alg`, `--assertion-aud`.
    pub fn from_args(a: &ClientArgs, client_id: ClientId) -> Self {
        Self {
            client_id,
            method: a.auth_method,
            signing_alg: a.signing_alg,
            audience: audience(a.assertion_aud),
        }
    }
}

/// `--assertion-aud` as the core's value.
pub fn audience(a: AssertionAud) -> AssertionAudience {
    match a {
        AssertionAud::Issuer => AssertionAudience::Issuer,
        AssertionAud::Endpoint => AssertionAudience::Endpoint,
    }
}

/// Build the ClientAuth: the method asked for (its credential must be present), else the
/// recommender's choice.
pub fn choose(a: &AuthSpec, loaded: &Loaded, md: &ProviderMetadata) -> anyhow::Result<Chosen> {
    let (method, recommendation) = match a.method {
        Some(m) => {
            if !md.token_auth_methods().iter().any(|s| s == m.as_str()) {
                crate::output::note(&format!(
                    "warning: the OP does not list {m} in token_endpoint_auth_methods_supported"
                ));
            }
            (m, None)
        }
        None => {
            let rec = recommend::recommend(md, &loaded.summary())?;
            (rec.method, Some(rec))
        }
    };
    let auth = build(method, a, loaded, md)?;
    Ok(Chosen {
        auth: auth.with_assertion_audience(a.audience),
        recommendation,
    })
}

fn need_secret(loaded: &Loaded, method: AuthMethod) -> anyhow::Result<Secret> {
    match &loaded.secret {
        Some(s) => Ok(s.clone()),
        None => bail!(
            "{method} needs the client secret: use --client-secret-env VAR or --client-secret-file FILE"
        ),
    }
}

fn build(
    method: AuthMethod,
    a: &AuthSpec,
    loaded: &Loaded,
    md: &ProviderMetadata,
) -> anyhow::Result<ClientAuth> {
    let cid = a.client_id.clone();
    let no_asymmetric_alg = |alg: Option<Algorithm>| match alg {
        Some(alg) if !alg.is_hmac() => {
            bail!("--signing-alg {alg} cannot be used with {method} (use HS256, HS384 or HS512)")
        }
        _ => Ok(()),
    };
    Ok(match method {
        AuthMethod::ClientSecretBasic => {
            ClientAuth::client_secret_basic(cid, need_secret(loaded, method)?)
        }
        AuthMethod::ClientSecretPost => {
            ClientAuth::client_secret_post(cid, need_secret(loaded, method)?)
        }
        AuthMethod::ClientSecretJwt => {
            no_asymmetric_alg(a.signing_alg)?;
            let secret = need_secret(loaded, method)?;
            let alg = a
                .signing_alg
                .unwrap_or_else(|| hmac_alg_for(md, secret.len()));
            ClientAuth::client_secret_jwt(cid, &secret, alg)?
        }
        AuthMethod::PrivateKeyJwt => {
            if let Some(alg) = a.signing_alg.filter(Algorithm::is_hmac) {
                bail!(
                    "--signing-alg {alg} cannot be used with private_key_jwt (it is for client_secret_jwt)"
                );
            }
            let Some(key) = &loaded.key else {
                bail!(
                    "private_key_jwt needs a private key: use --private-key FILE (PKCS#8 PEM or JWK)"
                );
            };
            ClientAuth::private_key_jwt(cid, key.clone())?
        }
        AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth => {
            if loaded.tls_identity.is_none() {
                bail!("{method} needs a client certificate: use --tls-cert FILE --tls-key FILE");
            }
            if method == AuthMethod::TlsClientAuth {
                ClientAuth::tls_client_auth(cid)
            } else {
                ClientAuth::self_signed_tls_client_auth(cid)
            }
        }
        AuthMethod::None => ClientAuth::none(cid),
        other => bail!("client authentication method {other} is not supported by this command"),
    })
}

/// client_secret_jwt's algorithm when none is given: HS256, unless the OP or the secret's length
/// rules it out and HS384/HS512 fit.
fn hmac_alg_for(md: &ProviderMetadata, secret_len: usize) -> Algorithm {
    let allowed = &md.token_endpoint_auth_signing_alg_values_supported;
    [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512]
        .into_iter()
        .find(|alg| {
            alg.hmac_min_key_len().is_some_and(|min| secret_len >= min)
                && (allowed.is_empty() || allowed.iter().any(|s| s == alg.as_str()))
        })
        .unwrap_or(Algorithm::HS256)
}

/// Certificate chain PEM followed by its key PEM.
fn tls_identity(
    cert: &Path,
    key: &Path,
    cert_what: &str,
    key_what: &str,
) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let mut pem = read_file(cert, cert_what)?;
    if !pem.ends_with(b"\n") {
        pem.push(b'\n');
    }
    let key_pem = read_file(key, key_what)?;
    pem.extend_from_slice(&key_pem);
    Ok(pem)
}

/// The extra trusted CAs of `--ca-file`.
pub fn ca_pem(path: Option<&Path>) -> anyhow::Result<Option<Vec<u8>>> {
    path.map(|p| read_file(p, "--ca-file").map(|pem| pem.to_vec()))
        .transpose()
}

/// Algorithms in the order relier prefers them for client assertions.
const PREFERRED_ALGS: [Algorithm; 10] = [
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::ES384,
    Algorithm::PS256,
    Algorithm::RS256,
    Algorithm::ES512,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::RS384,
    Algorithm::RS512,
];

/// The preferred algorithm among `algs` that `allowed` accepts.
pub fn prefer_alg(algs: &[Algorithm], allowed: impl Fn(Algorithm) -> bool) -> Option<Algorithm> {
    PREFERRED_ALGS
        .into_iter()
        .chain(algs.iter().copied())
        .find(|a| algs.contains(a) && allowed(*a))
}

/// The store's active key for a private_key_jwt provider: the provider's registered
/// algorithm, else the preferred active one.
pub async fn provider_signing_key(
    store: &dyn Store,
    record: &ProviderRecord,
) -> anyhow::Result<SigningKey> {
    let name = &record.name;
    let alg = match record.signing_alg.filter(|a| !a.is_hmac()) {
        Some(alg) => alg,
        None => prefer_alg(&store.active_algs().await?, |_| true).with_context(|| {
            format!(
                "provider {name} uses private_key_jwt but the store has no active signing key: run `relier keys generate --alg ES256`, then `relier providers sync {name}` (or register the key with the OP)"
            )
        })?,
    };
    store.signing_key(alg).await?.with_context(|| {
        format!(
            "provider {name} signs client assertions with {alg} but the store has no active {alg} key: run `relier keys generate --alg {alg}`, then `relier providers sync {name}` (or register the key with the OP)"
        )
    })
}

fn read_file(path: &Path, flag: &str) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    read_capped(path).with_context(|| format!("{flag} {}", path.display()))
}

/// Read a whole file of at most [`MAX_CREDENTIAL_FILE`] bytes.
fn read_capped(path: &Path) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let len = std::fs::metadata(path)?.len();
    if len > MAX_CREDENTIAL_FILE {
        bail!("larger than {MAX_CREDENTIAL_FILE} bytes");
    }
    Ok(Zeroizing::new(std::fs::read(path)?))
}

/// The secret in environment variable `var` (`--client-secret-env`).
pub fn secret_from_env(var: &str) -> anyhow::Result<Secret> {
    env_secret(var, "--client-secret-env")
}

/// A secret from environment variable `var`, named by the flag that pointed to it.
pub fn env_secret(var: &str, flag: &str) -> anyhow::Result<Secret> {
    let v = std::env::var_os(var)
        .with_context(|| format!("{flag}: environment variable {var} is not set"))?;
    let v =
        Zeroizing::new(v.into_string().map_err(|_| {
            anyhow::anyhow!("{flag}: environment variable {var} is not valid UTF-8")
        })?);
    if v.is_empty() {
        bail!("{flag}: environment variable {var} is empty");
    }
    Ok(Secret::new(v.as_str()))
}

fn secret_from_file(path: &Path) -> anyhow::Result<Secret> {
    let bytes = read_file(path, "--client-secret-file")?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| anyhow::anyhow!("--client-secret-file {}: not valid UTF-8", path.display()))?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        bail!("--client-secret-file {}: empty", path.display());
    }
    Ok(Secret::new(secret))
}

/// What a key file holds, judged by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// A JSON Web Key.
    Jwk,
    /// PEM ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY").
    Pem,
    /// Anything else: tried as PKCS#8 DER.
    Der,
}

/// `{` → JWK, `-----BEGIN` → PEM, otherwise DER.
pub fn detect_key_format(bytes: &[u8]) -> KeyFormat {
    let trimmed = bytes.trim_ascii_start();
    if trimmed.starts_with(b"{") {
        KeyFormat::Jwk
    } else if trimmed.starts_with(b"-----BEGIN") {
        KeyFormat::Pem
    } else {
        KeyFormat::Der
    }
}

/// Load a private key file (JWK or PEM or DER); `alg` pins the assertion algorithm.
pub fn load_private_key(path: &Path, alg: Option<Algorithm>) -> anyhow::Result<SigningKey> {
    let bytes = read_capped(path)?;
    parse_private_key(&bytes, alg)
}

/// Parse private key bytes, detecting the format by content.
pub fn parse_private_key(bytes: &[u8], alg: Option<Algorithm>) -> anyhow::Result<SigningKey> {
    let text = || std::str::from_utf8(bytes).map_err(|_| anyhow::anyhow!("not valid UTF-8"));
    Ok(match detect_key_format(bytes) {
        KeyFormat::Jwk => SigningKey::from_jwk_json(text()?, alg).context("JWK")?,
        KeyFormat::Pem => SigningKey::from_pkcs8_pem(text()?, alg).context("PEM")?,
        KeyFormat::Der => SigningKey::from_pkcs8_der(bytes, alg)
            .context("neither a JWK ({…}) nor PEM (-----BEGIN); as PKCS#8 DER")?,
    })
}

#[cfg(test)]
mod tests;
