//! What can go wrong turning credential sources into a client authentication: each variant
//! names the failed check; none carries a secret.

use std::fmt;
use std::path::{Path, PathBuf};

use relier_core::recommend::RecommendError;
use relier_core::{AuthMethod, ClientAuthError};
use relier_jose::{Algorithm, JoseError};

use super::format::KeyFormat;

/// Which credential file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialFile {
    /// The client secret.
    ClientSecret,
    /// The private_key_jwt key.
    PrivateKey,
    /// The mTLS certificate chain.
    TlsCertificate,
    /// The mTLS certificate's private key.
    TlsKey,
    /// Extra trusted CA certificates.
    CaCertificates,
}

impl fmt::Display for CredentialFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialFile::ClientSecret => "client secret file",
            CredentialFile::PrivateKey => "private key file",
            CredentialFile::TlsCertificate => "TLS certificate file",
            CredentialFile::TlsKey => "TLS key file",
            CredentialFile::CaCertificates => "CA file",
        })
    }
}

/// A credential a client authentication method needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// The client secret (client_secret_basic, client_secret_post, client_secret_jwt).
    ClientSecret,
    /// A private signing key (private_key_jwt).
    PrivateKey,
    /// A TLS client certificate and its key (tls_client_auth, self_signed_tls_client_auth).
    TlsIdentity,
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Credential::ClientSecret => "the client secret",
            Credential::PrivateKey => "a private key",
            Credential::TlsIdentity => "a client certificate",
        })
    }
}

/// Why credentials could not be loaded or assembled into a client authentication.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The file cannot be read.
    #[error("{file} {}: {source}", path.display())]
    Unreadable {
        /// Which file.
        file: CredentialFile,
        /// Its path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than credentials are.
    #[error("{file} {}: larger than {limit} bytes", path.display())]
    TooLarge {
        /// Which file.
        file: CredentialFile,
        /// Its path.
        path: PathBuf,
        /// The cap ([`super::MAX_CREDENTIAL_FILE`]).
        limit: u64,
    },
    /// A text credential is not UTF-8.
    #[error("{file} {}: not valid UTF-8", path.display())]
    NotUtf8 {
        /// Which file.
        file: CredentialFile,
        /// Its path.
        path: PathBuf,
    },
    /// The secret file holds nothing but line ends.
    #[error("{file} {}: empty", path.display())]
    EmptyFile {
        /// Which file.
        file: CredentialFile,
        /// Its path.
        path: PathBuf,
    },
    /// The environment variable naming the secret is not set.
    #[error("environment variable {var} is not set")]
    EnvNotSet {
        /// The variable.
        var: String,
    },
    /// The environment variable is not UTF-8.
    #[error("environment variable {var} is not valid UTF-8")]
    EnvNotUtf8 {
        /// The variable.
        var: String,
    },
    /// The environment variable is set but empty.
    #[error("environment variable {var} is empty")]
    EnvEmpty {
        /// The variable.
        var: String,
    },
    /// The private key could not be parsed in the format its content shows.
    #[error("{}{format}: {source}", key_origin(path.as_deref()))]
    InvalidKey {
        /// The key file, if the key came from one.
        path: Option<PathBuf>,
        /// The format detected.
        format: KeyFormat,
        /// What the parser said.
        source: JoseError,
    },
    /// Only one of the TLS certificate and its key was given.
    #[error("the TLS certificate and the TLS key go together: the {missing} is missing")]
    HalfTlsIdentity {
        /// The one missing.
        missing: CredentialFile,
    },
    /// The method needs a credential that was not given.
    #[error("{method} needs {credential}")]
    Missing {
        /// The method.
        method: AuthMethod,
        /// The missing credential.
        credential: Credential,
    },
    /// The signing algorithm does not fit the method (HMAC for private_key_jwt, asymmetric for
    /// client_secret_jwt) or the key.
    #[error("signing algorithm {alg} cannot be used with {method}")]
    AlgorithmMismatch {
        /// The method.
        method: AuthMethod,
        /// The algorithm.
        alg: Algorithm,
    },
    /// relier cannot authenticate with this method.
    #[error("client authentication method {0} is not supported")]
    UnsupportedMethod(AuthMethod),
    /// No active key-store key has an algorithm the OP accepts for client assertions.
    #[error(
        "no active signing key in an algorithm the OP accepts for client assertions (active: [{}]; token_endpoint_auth_signing_alg_values_supported: [{}])",
        list(active),
        accepted.join(", ")
    )]
    NoAcceptableKey {
        /// The algorithms of the active keys.
        active: Vec<Algorithm>,
        /// What the OP lists.
        accepted: Vec<String>,
    },
    /// The core refused the credential (e.g. a client secret too short for its HMAC).
    #[error(transparent)]
    ClientAuth(#[from] ClientAuthError),
    /// No method fits both the OP and the credentials.
    #[error(transparent)]
    Recommend(#[from] RecommendError),
}

impl CredentialError {
    /// The credential file that failed, if a file did.
    pub fn file(&self) -> Option<CredentialFile> {
        match self {
            CredentialError::Unreadable { file, .. }
            | CredentialError::TooLarge { file, .. }
            | CredentialError::NotUtf8 { file, .. }
            | CredentialError::EmptyFile { file, .. } => Some(*file),
            CredentialError::InvalidKey { path: Some(_), .. } => Some(CredentialFile::PrivateKey),
            _ => None,
        }
    }
}

fn key_origin(path: Option<&Path>) -> String {
    match path {
        Some(p) => format!("{} {}: ", CredentialFile::PrivateKey, p.display()),
        None => "private key: ".to_owned(),
    }
}

fn list(algs: &[Algorithm]) -> String {
    algs.iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
