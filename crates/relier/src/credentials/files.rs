//! Reading credentials: capped file reads, the client secret (environment, file, value), the
//! mTLS identity (certificate chain + key) and extra CA certificates.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use relier_core::Secret;
use zeroize::Zeroizing;

use super::error::{CredentialError, CredentialFile};

/// Credential files larger than this (1 MiB) are refused.
pub const MAX_CREDENTIAL_FILE: u64 = 1024 * 1024;

/// Reads a whole credential file of at most [`MAX_CREDENTIAL_FILE`] bytes. The read itself is
/// capped, so a file growing after a size check (or a FIFO) cannot exceed it.
///
/// # Errors
/// [`CredentialError::Unreadable`], [`CredentialError::TooLarge`].
pub fn read_credential_file(
    path: &Path,
    file: CredentialFile,
) -> Result<Zeroizing<Vec<u8>>, CredentialError> {
    let unreadable = |source| CredentialError::Unreadable {
        file,
        path: path.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Zeroizing::new(Vec::new());
    f.take(MAX_CREDENTIAL_FILE.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if u64::try_from(bytes.len()).map_or(true, |n| n > MAX_CREDENTIAL_FILE) {
        return Err(CredentialError::TooLarge {
            file,
            path: path.to_path_buf(),
            limit: MAX_CREDENTIAL_FILE,
        });
    }
    Ok(bytes)
}

/// Extra trusted CA certificates (PEM) from a file.
///
/// # Errors
/// As [`read_credential_file`].
pub fn read_ca_file(path: &Path) -> Result<Vec<u8>, CredentialError> {
    read_credential_file(path, CredentialFile::CaCertificates).map(|pem| pem.to_vec())
}

/// Where the client secret comes from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SecretSource {
    /// An environment variable: it must be set, UTF-8 and not empty.
    Env(String),
    /// A UTF-8 file; a trailing line end is not part of the secret, and an empty secret is
    /// refused.
    File(PathBuf),
    /// The secret itself (from a configuration file or a provider registry).
    Value(Secret),
}

impl SecretSource {
    /// Reads the secret.
    ///
    /// # Errors
    /// [`CredentialError::EnvNotSet`], [`CredentialError::EnvNotUtf8`],
    /// [`CredentialError::EnvEmpty`], or a file error ([`read_credential_file`],
    /// [`CredentialError::NotUtf8`], [`CredentialError::EmptyFile`]).
    pub fn load(&self) -> Result<Secret, CredentialError> {
        match self {
            SecretSource::Env(var) => secret_from_env(var),
            SecretSource::File(path) => secret_from_file(path),
            SecretSource::Value(secret) => Ok(secret.clone()),
        }
    }
}

fn secret_from_env(var: &str) -> Result<Secret, CredentialError> {
    let value = std::env::var_os(var).ok_or_else(|| CredentialError::EnvNotSet {
        var: var.to_owned(),
    })?;
    let value = Zeroizing::new(
        value
            .into_string()
            .map_err(|_| CredentialError::EnvNotUtf8 {
                var: var.to_owned(),
            })?,
    );
    if value.is_empty() {
        return Err(CredentialError::EnvEmpty {
            var: var.to_owned(),
        });
    }
    Ok(Secret::new(value.as_str()))
}

fn secret_from_file(path: &Path) -> Result<Secret, CredentialError> {
    let file = CredentialFile::ClientSecret;
    let bytes = read_credential_file(path, file)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| CredentialError::NotUtf8 {
        file,
        path: path.to_path_buf(),
    })?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        return Err(CredentialError::EmptyFile {
            file,
            path: path.to_path_buf(),
        });
    }
    Ok(Secret::new(secret))
}

/// The mTLS client identity: a certificate chain and its private key, both PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsIdentityFiles {
    /// Certificate chain (PEM), leaf first.
    pub cert: PathBuf,
    /// The certificate's private key (PEM).
    pub key: PathBuf,
}

impl TlsIdentityFiles {
    /// Both files or neither.
    ///
    /// # Errors
    /// [`CredentialError::HalfTlsIdentity`] when only one is given.
    pub fn pair(cert: Option<&Path>, key: Option<&Path>) -> Result<Option<Self>, CredentialError> {
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some(Self {
                cert: cert.to_path_buf(),
                key: key.to_path_buf(),
            })),
            (None, None) => Ok(None),
            (Some(_), None) => Err(CredentialError::HalfTlsIdentity {
                missing: CredentialFile::TlsKey,
            }),
            (None, Some(_)) => Err(CredentialError::HalfTlsIdentity {
                missing: CredentialFile::TlsCertificate,
            }),
        }
    }

    /// The certificate chain PEM followed by the key PEM, as [`crate::HttpConfig`] takes it.
    ///
    /// # Errors
    /// As [`read_credential_file`].
    pub fn load(&self) -> Result<Zeroizing<Vec<u8>>, CredentialError> {
        let mut pem = read_credential_file(&self.cert, CredentialFile::TlsCertificate)?;
        if !pem.ends_with(b"\n") {
            pem.push(b'\n');
        }
        let key = read_credential_file(&self.key, CredentialFile::TlsKey)?;
        pem.extend_from_slice(&key);
        Ok(pem)
    }
}
