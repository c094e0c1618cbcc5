//! Errors of the driver: each wraps the core error that names the failed check.

use relier_core::{
    CallbackError, ClientAuthError, DiscoveryError, IdTokenError, TokenError,
    authorize::AuthorizeError, jwks::JwksError, recommend::RecommendError, types::InvalidValue,
    userinfo::UserInfoError,
};

/// Everything that can go wrong in a relying-party operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Transport failure (connection, TLS, timeout, body cap).
    #[error("http: {url}: {reason}")]
    Http {
        /// The URL of the failed request.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// Configuration error.
    #[error("config: {0}")]
    Config(String),
    /// The OP does not publish an endpoint the operation needs.
    #[error("the OP does not publish {0}")]
    MissingEndpoint(&'static str),
    /// Invalid value.
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    /// Discovery.
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    /// WebFinger issuer discovery (OIDC Discovery §2).
    #[error(transparent)]
    WebFinger(#[from] relier_core::discovery::webfinger::WebFingerError),
    /// JWKS fetch.
    #[error(transparent)]
    Jwks(#[from] JwksError),
    /// Authorization request.
    #[error(transparent)]
    Authorize(#[from] AuthorizeError),
    /// Callback.
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// Signed request object (RFC 9101).
    #[error(transparent)]
    RequestObject(#[from] relier_core::request_object::RequestObjectError),
    /// JARM response.
    #[error(transparent)]
    Jarm(#[from] relier_core::jarm::JarmError),
    /// Client authentication.
    #[error(transparent)]
    ClientAuth(#[from] ClientAuthError),
    /// Recommendation.
    #[error(transparent)]
    Recommend(#[from] RecommendError),
    /// Token, introspection or revocation endpoint.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// A client credentials request that cannot be made.
    #[error(transparent)]
    ClientCredentials(#[from] relier_core::client_credentials::ClientCredentialsError),
    /// A token exchange (RFC 8693) that cannot be made, or whose answer was refused.
    #[error(transparent)]
    TokenExchange(#[from] relier_core::token_exchange::TokenExchangeError),
    /// The device flow ended without tokens, or its response was unusable.
    #[error(transparent)]
    Device(#[from] relier_core::device::DeviceError),
    /// ID token validation.
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
    /// UserInfo.
    #[error(transparent)]
    UserInfo(#[from] UserInfoError),
    /// RFC 9068 access token at a resource server.
    #[error(transparent)]
    AccessToken(#[from] relier_core::access_token::AccessTokenError),
    /// Back-Channel Logout token.
    #[error(transparent)]
    LogoutToken(#[from] relier_core::logout::LogoutTokenError),
    /// Dynamic registration / RFC 7592.
    #[error(transparent)]
    Registration(#[from] relier_core::registration::RegistrationError),
    /// Client credentials (loading, assembly into a client authentication).
    #[error(transparent)]
    Credentials(#[from] crate::credentials::CredentialError),
    /// GitHub's REST API (identity of a GitHub login).
    #[error(transparent)]
    GitHub(#[from] relier_core::github::GitHubError),
    /// Sign in with Apple (minting the client secret, the `user` form field).
    #[error(transparent)]
    Apple(#[from] relier_core::apple::AppleError),
    /// A key's certificate (Entra ID certificate credentials).
    #[error(transparent)]
    Certificate(#[from] crate::certificate::CertificateError),
    /// A security profile (e.g. FAPI 2.0) the OP or the client settings cannot meet.
    #[error(transparent)]
    Profile(#[from] relier_core::profile::ProfileError),
    /// `relier doctor` could not read the OP's metadata.
    #[error(transparent)]
    Doctor(#[from] relier_core::doctor::DoctorError),
    /// DPoP (RFC 9449): key, proof, nonce, token type.
    #[error(transparent)]
    Dpop(#[from] relier_core::dpop::DpopError),
    /// Certificate-bound tokens (RFC 8705 §3): the `cnf` does not name the client certificate.
    #[error(transparent)]
    CertificateBinding(#[from] relier_core::certificate_binding::BindingError),
    /// A provider's settings that cannot be used together ([`crate::provider`]).
    #[error(transparent)]
    Provider(#[from] crate::provider::ProviderError),
    /// JOSE (key loading).
    #[error("key: {0}")]
    Jose(#[from] relier_jose::JoseError),
}
