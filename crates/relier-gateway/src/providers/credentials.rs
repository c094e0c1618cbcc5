//! Credentials from the configuration: client secret (environment, file, inline), private
//! key (JWK, PEM, DER), mTLS identity, extra CA certificates.

use std::path::Path;

use relier::HttpConfig;
use relier_core::Secret;
use relier_jose::{Algorithm, SigningKey};
use zeroize::Zeroizing;

use crate::config::{Config, ProviderConfig, secret_override_env};
use crate::error::GatewayError;

/// Credential files larger than this are refused.
const MAX_FILE: u64 = 1024 * 1024;

/// The client secret: `RELIER_CLIENT_SECRET_<NAME>`, else `client_secret_env`, else
/// `client_secret_file`, else `client_secret`.
pub fn secret_for(config: &Config, p: &ProviderConfig) -> Result<Option<Secret>, GatewayError> {
    let err = |e: String| GatewayError::provider(&p.name, e);
    if let Ok(v) = std::env::var(secret_override_env(&p.name))
        && !v.is_empty()
    {
        return Ok(Some(Secret::new(v)));
    }
    if let Some(var) = &p.client_secret_env {
        let v = std::env::var(var).map_err(|_| {
            err(format!(
                "client_secret_env: environment variable {var} is not set"
            ))
        })?;
        if v.is_empty() {
            return Err(err(format!(
                "client_secret_env: environment variable {var} is empty"
            )));
        }
        return Ok(Some(Secret::new(v)));
    }
    if let Some(path) = &p.client_secret_file {
        let bytes = read_capped(&config.resolve(path))
            .map_err(|e| err(format!("client_secret_file {}: {e}", path.display())))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| err(format!("client_secret_file {}: not UTF-8", path.display())))?;
        let s = text.trim_end_matches(['\n', '\r']);
        if s.is_empty() {
            return Err(err(format!("client_secret_file {}: empty", path.display())));
        }
        return Ok(Some(Secret::new(s)));
    }
    Ok(p.client_secret.clone())
}

pub fn http_config(
    config: &Config,
    p: &ProviderConfig,
    cert: Option<&Path>,
    key: Option<&Path>,
) -> Result<HttpConfig, GatewayError> {
    let err = |e: String| GatewayError::provider(&p.name, e);
    let ca_pem = match &p.ca_file {
        Some(path) => Some(
            read_capped(&config.resolve(path))
                .map_err(|e| err(format!("ca_file {}: {e}", path.display())))?
                .to_vec(),
        ),
        None => None,
    };
    let client_identity_pem = match (cert, key) {
        (Some(c), Some(k)) => {
            let mut pem = read_capped(&config.resolve(c))
                .map_err(|e| err(format!("tls_cert {}: {e}", c.display())))?;
            if !pem.ends_with(b"\n") {
                pem.push(b'\n');
            }
            let kp = read_capped(&config.resolve(k))
                .map_err(|e| err(format!("tls_key {}: {e}", k.display())))?;
            pem.extend_from_slice(&kp);
            Some(pem)
        }
        (None, None) => None,
        _ => return Err(err("tls_cert and tls_key go together".into())),
    };
    Ok(HttpConfig {
        ca_pem,
        client_identity_pem,
        ..Default::default()
    })
}

pub fn read_capped(path: &Path) -> Result<Zeroizing<Vec<u8>>, String> {
    let len = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if len > MAX_FILE {
        return Err(format!("larger than {MAX_FILE} bytes"));
    }
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|e| e.to_string())
}

/// A private key from a JWK (`{…}`), PEM (`-----BEGIN`) or PKCS#8 DER.
pub fn parse_private_key(bytes: &[u8], alg: Option<Algorithm>) -> Result<SigningKey, String> {
    let trimmed = bytes.trim_ascii_start();
    let text = || std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned());
    if trimmed.starts_with(b"{") {
        SigningKey::from_jwk_json(text()?, alg).map_err(|e| format!("JWK: {e}"))
    } else if trimmed.starts_with(b"-----BEGIN") {
        SigningKey::from_pkcs8_pem(text()?, alg).map_err(|e| format!("PEM: {e}"))
    } else {
        SigningKey::from_pkcs8_der(bytes, alg)
            .map_err(|e| format!("neither a JWK nor PEM; as PKCS#8 DER: {e}"))
    }
}
