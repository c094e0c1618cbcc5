//! One provider → one [`RelyingParty`]. A [`ProviderSpec`] holds everything a provider's
//! relying party is built from — the client and how it authenticates, its typed
//! [`Registration`], the sender constraint asked for on top of the registered one, a security
//! profile, PAR, Entra ID tenants, request objects by reference, a federation OP's signed JWK
//! set, clock skew — and [`ProviderSpec::relying_party`] is the one assembly of it with the
//! OP's metadata, the loaded credentials and the RP's decryption keys. The command line and the
//! gateway both build their relying parties here, so each rule has one home:
//! - unsigned ID tokens only when the registration names `none`, and never under a profile
//!   (OIDC Core §2; FAPI 2.0 Security Profile §5.4.1) — [`pinned_id_token_alg`];
//! - HS256/HS384/HS512 ID tokens and UserInfo need the client secret (OIDC Core §10.1);
//! - the sender constraint is the registered one plus the one asked for (RFC 9449 §5.2,
//!   RFC 8705 §3.4), and a DPoP-bound access token goes in the header (RFC 9449 §7.1);
//! - pushed authorization requests when the client's registration requires them (RFC 9126 §6);
//! - encrypted ID tokens, UserInfo and JARM responses opened with the RP's keys (OIDC Core
//!   §10.2, JARM §3), signed UserInfo (OIDC Core §5.3.2), request objects signed with the
//!   client's key and encrypted to the OP (RFC 9101, OIDC Core §6.1);
//! - an Entra ID certificate credential names the key's certificate (`x5t#S256`).

mod settings;

use std::sync::Arc;

use relier_core::client_auth::AssertionAudience;
use relier_core::dpop::DpopKey;
use relier_core::encryption::{DecryptionKeys, EncryptedResponse};
use relier_core::entra::TenantPolicy;
use relier_core::federation::trust::SignedJwksSource;
use relier_core::profile::Profile;
use relier_core::registration::Registration;
use relier_core::token_binding::TokenBinding;
use relier_core::userinfo::{TokenMethod, UserInfoError};
use relier_core::{Algorithm, ClientAuth, ClientId, IdTokenAlg, ProviderMetadata, RedirectUrl};

use crate::credentials::{self as creds, AssembledAuth, ClientAuthSpec, ClientCredentials};
use crate::request_uri::RequestObjectHost;
use crate::{Error, HttpClient, RelyingParty};

pub use settings::{ProviderSettings, SettingsError};

/// A provider setting that cannot be used. Names the rule; never holds a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// Unsigned ID tokens (`id_token_signed_response_alg` `none`, OIDC Core §2) under a
    /// security profile: FAPI 2.0 Security Profile §5.4.1 requires PS256, ES256 or EdDSA.
    #[error(
        "id_token_alg \"none\" (unsigned ID tokens) is never allowed with profile {profile}: FAPI 2.0 requires signed ID tokens (PS256, ES256 or EdDSA)"
    )]
    UnsignedUnderProfile {
        /// The profile.
        profile: Profile,
    },
    /// HS256/HS384/HS512 ID tokens or UserInfo, and no client secret to verify them with
    /// (OIDC Core §10.1).
    #[error("HS256/HS384/HS512 ID tokens and UserInfo are verified with the client secret")]
    HmacNeedsSecret,
    /// The UserInfo token method cannot carry the access token (RFC 9449 §7.1: a DPoP-bound
    /// one goes in the Authorization header).
    #[error(transparent)]
    TokenMethod(#[from] UserInfoError),
}

/// The RP's decryption keys for the responses its registration has encrypted (current key
/// first; empty for `dir` / `A*KW`, which use the client secret).
#[derive(Debug, Clone, Default)]
pub struct ResponseKeys {
    /// For encrypted ID tokens.
    pub id_token: Option<DecryptionKeys>,
    /// For encrypted UserInfo responses.
    pub userinfo: Option<DecryptionKeys>,
    /// For encrypted JARM authorization responses.
    pub jarm: Option<DecryptionKeys>,
}

impl ResponseKeys {
    /// The keys of `which` (`None` for request objects, which the RP encrypts).
    pub fn get(&self, which: EncryptedResponse) -> Option<&DecryptionKeys> {
        match which {
            EncryptedResponse::IdToken => self.id_token.as_ref(),
            EncryptedResponse::UserInfo => self.userinfo.as_ref(),
            EncryptedResponse::AuthorizationResponse => self.jarm.as_ref(),
            _ => None,
        }
    }

    /// Sets the keys of `which` (ignored for request objects).
    pub fn set(&mut self, which: EncryptedResponse, keys: DecryptionKeys) {
        match which {
            EncryptedResponse::IdToken => self.id_token = Some(keys),
            EncryptedResponse::UserInfo => self.userinfo = Some(keys),
            EncryptedResponse::AuthorizationResponse => self.jarm = Some(keys),
            _ => {}
        }
    }

    /// The kids of every key, sorted, without duplicates.
    pub fn key_ids(&self) -> Vec<String> {
        let mut kids: Vec<String> = [&self.id_token, &self.userinfo, &self.jarm]
            .into_iter()
            .flatten()
            .flat_map(|keys| {
                keys.keys()
                    .iter()
                    .filter_map(|k| k.kid().map(str::to_owned))
            })
            .collect();
        kids.sort_unstable();
        kids.dedup();
        kids
    }
}

/// Everything a provider's relying party is built from but the OP's metadata, the loaded
/// credentials and the RP's decryption keys.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProviderSpec {
    /// The client id, its authentication method (`None`: the recommender's choice), the
    /// assertion algorithm and audience. The assembly authenticates as this says, not as
    /// `registration.auth_method` does (a caller that knows the registered method puts it
    /// here).
    pub client: ClientAuthSpec,
    /// What the client's registration decides (from a registration response, an entity
    /// statement, a `[[providers]]` table or a preset — or the command line's flags).
    pub registration: Registration,
    /// Sender constraints asked for on top of the registered ones.
    pub binding: TokenBinding,
    /// The redirect URI.
    pub redirect_uri: Option<RedirectUrl>,
    /// A security profile (FAPI 2.0) the OP and these settings must meet.
    pub profile: Option<Profile>,
    /// How UserInfo gets the access token (RFC 6750 §2.1 / §2.2).
    pub userinfo_token_method: TokenMethod,
    /// Push every authorization request (RFC 9126) even when neither the OP nor the
    /// registration requires it.
    pub par: bool,
    /// A multi-tenant Entra ID provider's allowed tenants.
    pub tenants: Option<TenantPolicy>,
    /// Entra ID certificate credentials: client assertions name the key's certificate.
    pub certificate_credential: bool,
    /// Allowed clock skew in seconds (default: the validator's).
    pub clock_skew: Option<u64>,
    /// Minimum seconds between JWKS refetches (default: the cache's).
    pub jwks_refetch_interval: Option<u64>,
    /// Request objects by reference (OIDC Core §6.2): where they are served.
    pub request_uri: Option<Arc<dyn RequestObjectHost>>,
    /// A federation OP's signed JWK set: its only source of signing keys.
    pub signed_jwks: Option<SignedJwksSource>,
    /// The DPoP key every request proves possession of (`None`: none, or one per login bound
    /// by the caller with [`RelyingParty::with_dpop_key`]).
    pub dpop_key: Option<DpopKey>,
}

impl ProviderSpec {
    /// `client_id` with `registration`: its method, its HMAC assertion algorithm, the issuer as
    /// the assertion audience; nothing else asked for.
    pub fn new(client_id: ClientId, registration: Registration) -> Self {
        let client = ClientAuthSpec {
            client_id,
            method: Some(registration.auth_method),
            signing_alg: registration.auth_signing_alg.filter(Algorithm::is_hmac),
            audience: AssertionAudience::Issuer,
        };
        Self::with_client(client, registration)
    }

    /// `client` with `registration`; nothing else asked for.
    pub fn with_client(client: ClientAuthSpec, registration: Registration) -> Self {
        Self {
            client,
            registration,
            binding: TokenBinding::default(),
            redirect_uri: None,
            profile: None,
            userinfo_token_method: TokenMethod::default(),
            par: false,
            tenants: None,
            certificate_credential: false,
            clock_skew: None,
            jwks_refetch_interval: None,
            request_uri: None,
            signed_jwks: None,
            dpop_key: None,
        }
    }

    /// The pinned ID token algorithm ([`pinned_id_token_alg`]).
    ///
    /// # Errors
    /// [`ProviderError::UnsignedUnderProfile`].
    pub fn id_token_alg(&self) -> Result<IdTokenAlg, ProviderError> {
        pinned_id_token_alg(&self.registration, self.profile)
    }

    /// The sender constraint: the registered one plus the one asked for.
    pub fn binding(&self) -> TokenBinding {
        let registered = self.registration.binding;
        TokenBinding {
            dpop: self.binding.dpop || registered.dpop,
            certificate: self.binding.certificate || registered.certificate,
        }
    }

    /// The client authentication with `credentials` ([`creds::client_auth`]); with a
    /// certificate credential, naming the key's certificate.
    ///
    /// # Errors
    /// [`Error::Credentials`] (a credential missing or unfit); [`Error::Certificate`].
    pub fn client_auth(
        &self,
        credentials: &ClientCredentials,
        metadata: &ProviderMetadata,
    ) -> Result<AssembledAuth, Error> {
        let mut assembled = creds::client_auth(&self.client, credentials, metadata)?;
        if let (true, Some(key)) = (self.certificate_credential, credentials.key.as_ref()) {
            let cert = crate::certificate::key_certificate(key)?;
            assembled.auth = assembled.auth.with_x5t_s256(&cert.x5t_s256)?;
        }
        Ok(assembled)
    }

    /// Checks the rules that need only the spec and the credentials (see the module).
    ///
    /// # Errors
    /// [`ProviderError`] naming the rule.
    pub fn check(&self, credentials: &ClientCredentials) -> Result<IdTokenAlg, ProviderError> {
        let id_token_alg = self.id_token_alg()?;
        let hmac = id_token_alg.algorithm().is_hmac()
            || self
                .registration
                .userinfo_signed_alg
                .is_some_and(|a| a.is_hmac());
        if hmac && credentials.secret.is_none() {
            return Err(ProviderError::HmacNeedsSecret);
        }
        self.userinfo_token_method.check_dpop(self.binding().dpop)?;
        Ok(id_token_alg)
    }

    /// The relying party: this spec with the OP's `metadata`, the loaded `credentials`, the
    /// client authentication `auth` (from [`Self::client_auth`], possibly with another key)
    /// and the RP's decryption `keys`. Request objects are signed with `credentials.key`.
    ///
    /// # Errors
    /// [`Error::Provider`] ([`Self::check`]); [`Error::RequestObject`] (request objects
    /// registered but no key, or an algorithm the OP does not accept); [`Error::Profile`]
    /// (the OP or these settings cannot meet the profile); [`Error::Config`].
    pub fn relying_party(
        &self,
        http: HttpClient,
        metadata: ProviderMetadata,
        credentials: &ClientCredentials,
        auth: ClientAuth,
        keys: &ResponseKeys,
    ) -> Result<RelyingParty, Error> {
        let id_token_alg = self.check(credentials)?;
        let reg = &self.registration;
        let binding = self.binding();
        let signer = reg
            .request_objects
            .signer(credentials.key.as_ref(), &metadata)?;
        let mut b = credentials
            .relying_party(http, metadata, auth)
            .registered_id_token_alg(id_token_alg)
            .certificate_bound_access_tokens(binding.certificate)
            .userinfo_token_method(self.userinfo_token_method)
            .registered_par(reg.requires_par);
        if let Some(r) = &self.redirect_uri {
            b = b.redirect_uri(r.clone());
        }
        if let Some(key) = &self.dpop_key {
            b = b.dpop(key.clone());
        }
        if let (Some(expect), Some(k)) = (reg.id_token_encryption, &keys.id_token) {
            b = b.id_token_decryption(expect, k.clone());
        }
        if let (Some(expect), Some(k)) = (reg.userinfo_encryption, &keys.userinfo) {
            b = b.userinfo_decryption(expect, k.clone());
        }
        if let Some(alg) = reg.userinfo_signed_alg {
            b = b.userinfo_signed_alg(alg);
        }
        if let Some(rule) = reg.jarm {
            b = b.jarm(rule, keys.jarm.clone());
        }
        if let Some(signer) = signer {
            b = b.request_objects(signer);
            // OIDC Core §6.1: signed (or unsigned), then encrypted to the OP.
            if let Some(algs) = reg.request_objects.encryption {
                b = b.request_object_encryption(algs);
            }
        }
        if let Some(host) = &self.request_uri {
            b = b.request_objects_by_reference(host.clone());
        }
        if let Some(s) = self.clock_skew {
            b = b.clock_skew(s);
        }
        if let Some(i) = self.jwks_refetch_interval {
            b = b.jwks_refetch_interval(i);
        }
        if let Some(t) = &self.tenants {
            b = b.tenants(t.clone());
        }
        if let Some(profile) = self.profile {
            b = b.profile(profile, binding);
        }
        if let Some(source) = &self.signed_jwks {
            b = b.signed_jwks(source.clone());
        }
        Ok(b.try_build()?.with_pushed_authorization_requests(self.par))
    }
}

/// The ID token algorithm `registration` pins (default RS256). `none` — unsigned ID tokens,
/// OIDC Core §2 — only when registered, and never under a `profile`: FAPI 2.0 Security
/// Profile §5.4.1 requires PS256, ES256 or EdDSA.
///
/// # Errors
/// [`ProviderError::UnsignedUnderProfile`].
pub fn pinned_id_token_alg(
    registration: &Registration,
    profile: Option<Profile>,
) -> Result<IdTokenAlg, ProviderError> {
    let alg = IdTokenAlg::registered(registration.id_token_signed_alg.unwrap_or(Algorithm::RS256));
    match profile {
        Some(profile) if alg.is_unsigned() => Err(ProviderError::UnsignedUnderProfile { profile }),
        _ => Ok(alg),
    }
}

#[cfg(test)]
mod tests;
