//! The private_key_jwt key: a file whose format is judged by its content (a JWK, PEM —
//! PKCS#8, PKCS#1 or SEC 1 — or PKCS#8 DER), or a key already loaded (a key store's).

use std::path::{Path, PathBuf};

use relier_jose::{Algorithm, JoseError, SigningKey};

use super::error::{CredentialError, CredentialFile};
use super::files::read_credential_file;
use super::format::{KeyFormat, detect_key_format};

/// Parses private key bytes in the format their content shows; `alg` pins the assertion
/// algorithm (it must fit the key), else the key's own (a JWK's `alg`, or the key type's).
///
/// # Errors
/// [`CredentialError::InvalidKey`] (`path` is `None`).
pub fn parse_private_key(
    bytes: &[u8],
    alg: Option<Algorithm>,
) -> Result<SigningKey, CredentialError> {
    let format = detect_key_format(bytes);
    let invalid = |source| CredentialError::InvalidKey {
        path: None,
        format,
        source,
    };
    let text = || {
        std::str::from_utf8(bytes).map_err(|_| {
            invalid(JoseError::InvalidKey {
                reason: "not valid UTF-8",
            })
        })
    };
    match format {
        KeyFormat::Jwk => SigningKey::from_jwk_json(text()?, alg).map_err(invalid),
        KeyFormat::Pem => SigningKey::from_pkcs8_pem(text()?, alg).map_err(invalid),
        KeyFormat::Der => SigningKey::from_pkcs8_der(bytes, alg).map_err(invalid),
    }
}

/// The private key for private_key_jwt.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum KeySource {
    /// A key file (JWK, PEM or PKCS#8 DER, at most [`super::MAX_CREDENTIAL_FILE`] bytes).
    File {
        /// The file.
        path: PathBuf,
        /// Replaces the key's own kid (a JWK's `kid`; else the RFC 7638 thumbprint is used).
        kid: Option<String>,
        /// Pins the assertion algorithm (e.g. PS256 for an RSA key); HMAC algorithms are
        /// ignored (they are client_secret_jwt's).
        alg: Option<Algorithm>,
    },
    /// A key already loaded, e.g. a key store's active key.
    Key(SigningKey),
}

impl KeySource {
    /// A key file with its kid and algorithm overrides.
    pub fn file(path: impl Into<PathBuf>, kid: Option<String>, alg: Option<Algorithm>) -> Self {
        KeySource::File {
            path: path.into(),
            kid,
            alg,
        }
    }

    /// Loads the key.
    ///
    /// # Errors
    /// A file error ([`read_credential_file`]) or [`CredentialError::InvalidKey`].
    pub fn load(&self) -> Result<SigningKey, CredentialError> {
        match self {
            KeySource::File { path, kid, alg } => {
                let key = load_private_key(path, alg.filter(|a| !a.is_hmac()))?;
                Ok(match kid {
                    Some(kid) => key.with_kid(kid.clone()),
                    None => key,
                })
            }
            KeySource::Key(key) => Ok(key.clone()),
        }
    }
}

fn load_private_key(path: &Path, alg: Option<Algorithm>) -> Result<SigningKey, CredentialError> {
    let bytes = read_credential_file(path, CredentialFile::PrivateKey)?;
    parse_private_key(&bytes, alg).map_err(|e| match e {
        CredentialError::InvalidKey { format, source, .. } => CredentialError::InvalidKey {
            path: Some(path.to_path_buf()),
            format,
            source,
        },
        other => other,
    })
}
