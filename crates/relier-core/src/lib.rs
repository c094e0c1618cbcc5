//! # relier-core
//!
//! The sans-I/O heart of relier: OpenID Connect relying-party logic that builds requests and
//! consumes responses as values. It never opens a socket, reads a clock or draws randomness by
//! itself — `now` ([`types::UnixTime`]) and the random source (`&dyn SecureRandom`) are
//! parameters, so every rule can be tested deterministically. The `relier` crate drives it over
//! HTTP.
//!
//! | module | spec |
//! |---|---|
//! | [`discovery`] | OIDC Discovery 1.0 §3–4, RFC 8414, RFC 8705 §5, RFC 9207 §3; WebFinger issuer discovery (§2, RFC 7033) |
//! | [`client_auth`] | RFC 6749 §2.3, OIDC Core §9, RFC 7523, RFC 8705 §2 |
//! | [`recommend`] | which client authentication method to use, and why |
//! | [`authorize`] | OIDC Core §3.1.2, RFC 7636, RFC 9207 §2.4 |
//! | [`token`] | RFC 6749 §4.1.3, §5, §6 |
//! | [`access_token`] | RFC 9068 §4 (JWT access tokens at a resource server) |
//! | [`client_credentials`] | RFC 6749 §4.4, RFC 8707 §2, RFC 9396 §2 |
//! | [`device`] | RFC 8628 (device authorization grant) |
//! | [`token_exchange`] | RFC 8693 §2.1, §2.2, §3 (OAuth 2.0 Token Exchange) |
//! | [`id_token`] | OIDC Core §3.1.3.7, §3.1.3.8, §12.2 |
//! | [`request_object`] | RFC 9101 (signed request objects), RFC 9126 §3 |
//! | [`jarm`] | JWT Secured Authorization Response Mode (JARM) |
//! | [`encryption`] | OIDC Core §10.2, OIDC Registration §2 (encrypted ID tokens and UserInfo) |
//! | [`jwks`], [`jwt`] | RFC 7517, RFC 8725, OIDC Core §10.1.1 |
//! | [`userinfo`] | OIDC Core §5.3 |
//! | [`claims_sources`] | OIDC Core §5.6.2 (aggregated and distributed claims; Entra ID groups overage via Microsoft Graph) |
//! | [`apple`] | Sign in with Apple: the minted client secret, the `user` form field |
//! | [`entra`] | Microsoft Entra ID multi-tenant issuer validation |
//! | [`federation`] | OpenID Federation 1.0 §3, §5.2.1, §9 (entity statements, signed JWK sets; the FTN profile) |
//! | [`ftn`] | the Finnish Trust Network brokers' Service Provider API (scopes, `ftn_spname`, the embedded chooser) |
//! | [`github`] | GitHub's OAuth 2.0 login (not OpenID Connect) and REST API identity |
//! | [`introspection`] | RFC 7662, RFC 7009 |
//! | [`profile`] | FAPI 2.0 Security Profile §5.3.2, §5.4 (`profile = "fapi2"`) |
//! | [`doctor`] | grading an OP against RFC 9700 and FAPI 2.0 (`relier doctor`) |
//! | [`dpop`] | RFC 9449 (DPoP proofs, nonces, `dpop_jkt`) |
//! | [`certificate_binding`] | RFC 8705 §3 (certificate-bound tokens, `cnf` `x5t#S256`) |
//! | [`token_binding`] | RFC 9449 §5.2, RFC 8705 §3.4 (the registered sender constraint) |

pub mod access_token;
pub mod apple;
pub mod authorize;
pub mod certificate_binding;
pub mod claims_sources;
pub mod client_auth;
pub mod client_credentials;
pub mod device;
pub mod discovery;
pub mod doctor;
pub mod dpop;
pub mod encryption;
pub mod entra;
pub mod federation;
pub mod ftn;
pub mod github;
pub mod http;
pub mod id_token;
pub mod introspection;
pub mod jarm;
mod jti;
pub mod jwks;
pub mod jwt;
pub mod key_strength;
pub mod logout;
pub mod par;
pub mod profile;
pub mod recommend;
pub mod registration;
pub mod request_object;
pub mod secret;
pub mod token;
pub mod token_binding;
pub mod token_exchange;
pub mod types;
pub mod userinfo;

pub use relier_jose as jose;
pub use relier_jose::Algorithm;

pub use authorize::{AuthorizationParams, CallbackError, CallbackParams, PendingLogin};
pub use client_auth::{AssertionAudience, AuthMethod, ClientAuth, ClientAuthError};
pub use discovery::{DiscoveryError, ProviderMetadata};
pub use encryption::{DecryptError, Decryptor, EncryptedResponse, ResponseEncryption};
pub use id_token::{
    IdTokenAlg, IdTokenClaims, IdTokenError, IdTokenSource, IdTokenValidator, VerifiedIdToken,
};
pub use jwks::{KeySet, KeySource, MissingKey, RefetchGate};
pub use secret::Secret;
pub use token::{TokenError, TokenResponse};
pub use types::{ClientId, IssuerUrl, Nonce, PkceVerifier, RedirectUrl, State, UnixTime};
