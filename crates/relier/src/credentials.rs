//! One home for a client's credentials: where they come from ([`CredentialSources`]: the
//! client secret from an environment variable, a file or a value; a private key file — JWK,
//! PEM (PKCS#8, PKCS#1, SEC 1) or PKCS#8 DER — or an already loaded key such as a key store's;
//! the mTLS certificate and key; extra CA certificates), loading them ([`ClientCredentials`]:
//! size-capped reads, key format detected by content), and assembling them with the OP's
//! metadata into the [`ClientAuth`] and
//! [`RelyingParty`] ([`client_auth`], [`ClientCredentials::relying_party`]).
//!
//! The crate knows no key store: a client signing with a store's key picks the algorithm with
//! [`registered_key_alg`] from the store's active algorithms, then passes the key as
//! [`KeySource::Key`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use relier::core::{AuthMethod, ClientId, IssuerUrl};
//! use relier::credentials::{self, ClientAuthSpec, ClientCredentials, CredentialSources, SecretSource};
//! let creds = ClientCredentials::load(&CredentialSources {
//!     secret: Some(SecretSource::Env("CLIENT_SECRET".into())),
//!     ..Default::default()
//! })?;
//! let http = relier::HttpClient::new(&creds.http_config())?;
//! let metadata = relier::discover(&http, &IssuerUrl::new("https://op.example.com")?).await?;
//! let spec = ClientAuthSpec::new(ClientId::new("my-app")?, Some(AuthMethod::ClientSecretBasic));
//! let auth = credentials::client_auth(&spec, &creds, &metadata)?.auth;
//! let rp = creds.relying_party(http, metadata, auth).build();
//! # Ok(()) }
//! ```

mod alg;
mod auth;
mod error;
mod files;
mod format;
mod key;

use std::path::PathBuf;

use relier_core::recommend;
use relier_core::{ClientAuth, ProviderMetadata, Secret};
use relier_jose::SigningKey;
use zeroize::Zeroizing;

pub use alg::{PREFERRED_ALGS, hmac_alg_for, op_accepts, prefer_alg, registered_key_alg};
pub use auth::{AssembledAuth, ClientAuthSpec, client_auth};
pub use error::{Credential, CredentialError, CredentialFile};
pub use files::{
    MAX_CREDENTIAL_FILE, SecretSource, TlsIdentityFiles, read_ca_file, read_credential_file,
};
pub use format::{KeyFormat, detect_key_format};
pub use key::{KeySource, parse_private_key};

use crate::{HttpClient, HttpConfig, RelyingParty, RelyingPartyBuilder};

/// Where a client's credentials come from.
#[derive(Debug, Clone, Default)]
pub struct CredentialSources {
    /// The client secret.
    pub secret: Option<SecretSource>,
    /// The private_key_jwt key.
    pub private_key: Option<KeySource>,
    /// The mTLS certificate and key.
    pub tls_identity: Option<TlsIdentityFiles>,
    /// Extra trusted CA certificates (PEM).
    pub ca_file: Option<PathBuf>,
}

/// A client's credentials, loaded and parsed (`Debug` shows which are present, never them).
#[derive(Clone, Default)]
pub struct ClientCredentials {
    /// The client secret (also the key of HS256/384/512 ID tokens and UserInfo).
    pub secret: Option<Secret>,
    /// The private_key_jwt key, kid applied.
    pub key: Option<SigningKey>,
    /// Certificate chain PEM followed by its key PEM, for mTLS.
    pub tls_identity: Option<Zeroizing<Vec<u8>>>,
    /// Extra trusted CA certificates (PEM).
    pub ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("secret", &self.secret.is_some())
            .field("key", &self.key)
            .field("tls_identity", &self.tls_identity.is_some())
            .field("ca_pem", &self.ca_pem.is_some())
            .finish()
    }
}

impl ClientCredentials {
    /// Reads every file and variable the sources name.
    ///
    /// # Errors
    /// The first source that cannot be read or parsed ([`CredentialError`]).
    pub fn load(sources: &CredentialSources) -> Result<Self, CredentialError> {
        Ok(Self {
            secret: sources
                .secret
                .as_ref()
                .map(SecretSource::load)
                .transpose()?,
            key: sources
                .private_key
                .as_ref()
                .map(KeySource::load)
                .transpose()?,
            tls_identity: sources
                .tls_identity
                .as_ref()
                .map(TlsIdentityFiles::load)
                .transpose()?,
            ca_pem: sources.ca_file.as_deref().map(read_ca_file).transpose()?,
        })
    }

    /// The HTTP configuration these credentials need (extra CAs, the mTLS identity).
    pub fn http_config(&self) -> HttpConfig {
        HttpConfig {
            ca_pem: self.ca_pem.clone(),
            client_identity_pem: self.tls_identity.clone(),
            ..Default::default()
        }
    }

    /// What the method recommender needs to know.
    pub fn summary(&self) -> recommend::Credentials {
        recommend::Credentials {
            secret_len: self.secret.as_ref().map(Secret::len),
            private_key: self.key.as_ref().map(SigningKey::algorithm),
            tls_certificate: self.tls_identity.is_some(),
        }
    }

    /// A relying party authenticating with `auth`, holding the client secret (if any) for
    /// HMAC-signed ID tokens and UserInfo; the caller adds redirect URI, algorithms, clock.
    pub fn relying_party(
        &self,
        http: HttpClient,
        metadata: ProviderMetadata,
        auth: ClientAuth,
    ) -> RelyingPartyBuilder {
        let b = RelyingParty::builder(http, metadata, auth);
        match &self.secret {
            Some(s) => b.client_secret(s.clone()),
            None => b,
        }
    }
}

/// Sign in with Apple's client secret minter: the `.p8` key file (PKCS#8 EC P-256, ES256), the
/// team id and the key's id, the Services ID. Mint with
/// [`AppleClientSecret::mint`](relier_core::apple::AppleClientSecret::mint).
///
/// # Errors
/// [`crate::Error::Credentials`] (the file cannot be read, or is not an ES256 key),
/// [`crate::Error::Apple`] (not Apple's identifier form).
pub fn apple_client_secret(
    key_file: &std::path::Path,
    team_id: &str,
    key_id: &str,
    client_id: relier_core::ClientId,
) -> Result<relier_core::apple::AppleClientSecret, crate::Error> {
    let key = KeySource::file(key_file, None, Some(relier_jose::Algorithm::ES256)).load()?;
    Ok(relier_core::apple::AppleClientSecret::new(
        team_id, key_id, client_id, key,
    )?)
}

#[cfg(test)]
mod tests;
