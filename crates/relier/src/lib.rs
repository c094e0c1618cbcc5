//! # relier
//!
//! An OpenID Connect relying party for Rust: every client authentication method
//! (`client_secret_basic`, `client_secret_post`, `client_secret_jwt`, `private_key_jwt`,
//! `tls_client_auth`, `self_signed_tls_client_auth`, `none`), strict ID-token validation, JWKS
//! refetch on key rotation, UserInfo, refresh, introspection and revocation; the client
//! credentials grant ([`RelyingParty::client_credentials`], cached by [`TokenSource`]) and
//! device login ([`RelyingParty::device_authorization`]).
//! Tokens can be sender-constrained as registered: DPoP (RFC 9449,
//! [`RelyingPartyBuilder::dpop`]) and certificate-bound tokens (RFC 8705 §3,
//! [`RelyingPartyBuilder::certificate_bound_access_tokens`]).
//!
//! [`credentials`] loads a client's credentials (secret from an environment variable or a file,
//! private key file, mTLS certificate and key, extra CAs) and assembles them into its
//! `ClientAuth` and `RelyingParty`.
//!
//! [`provider`] is the one assembly of a provider's relying party from its spec (client,
//! typed registration, sender constraint, profile …) — what the CLI and the gateway build with;
//! [`preset`] holds the provider presets (GitHub, Apple, Google, Entra ID, FTN) they share.
//!
//! [`GitHubClient`] logs in with GitHub, which is OAuth 2.0 and not OpenID Connect: the
//! identity comes from GitHub's REST API instead of an ID token.
//!
//! This crate is the I/O driver (reqwest + rustls) around [`relier_core`], whose protocol logic
//! is sans-I/O and re-exported here as [`core`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), relier::Error> {
//! use relier::core::{AuthorizationParams, ClientAuth, ClientId, IssuerUrl, RedirectUrl, Secret};
//! let http = relier::HttpClient::new(&Default::default())?;
//! let issuer = IssuerUrl::new("https://op.example.com")?;
//! let metadata = relier::discover(&http, &issuer).await?;
//! let auth = ClientAuth::client_secret_basic(ClientId::new("my-app")?, Secret::new("…"));
//! let rp = relier::RelyingParty::builder(http, metadata, auth)
//!     .redirect_uri(RedirectUrl::new("https://app.example.com/callback")?)
//!     .build();
//! let (url, pending) = rp.authorization_url(&AuthorizationParams::default())?;
//! // redirect the browser to `url`, keep `pending` server-side, then on the callback:
//! // let login = rp.complete_login(CallbackParams::from_url(&callback_url)?, &pending).await?;
//! # Ok(()) }
//! ```

pub mod certificate;
mod client;
pub mod credentials;
pub mod doctor;
mod error;
pub mod github;
pub mod http;
pub mod preset;
pub mod profile;
pub mod provider;
pub mod registration;
pub mod request_uri;

pub use client::{
    ClaimsResolution, ClientCredentialsGrant, Clock, DeviceStep, FetchToken, Login, RelyingParty,
    RelyingPartyBuilder, SystemClock, TokenSource, discover, discover_by_webfinger, discover_entra,
    webfinger_issuer,
};
pub use error::Error;
pub use github::{GitHubClient, GitHubLogin};
pub use http::{HttpClient, HttpConfig};
pub use relier_core as core;
pub use relier_jose as jose;
