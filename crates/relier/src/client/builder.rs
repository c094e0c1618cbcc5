//! [`RelyingPartyBuilder`]: what a relying party checks and sends, chosen before the first
//! login.

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use relier_core::encryption::{DecryptionKeys, Decryptor, ResponseEncryption};
use relier_core::entra::TenantPolicy;
use relier_core::federation::trust::SignedJwksSource;
use relier_core::jwks::RefetchGate;
use relier_core::profile::{ClientSettings, Profile};
use relier_core::token_binding::TokenBinding;
use relier_core::{
    Algorithm, ClientAuth, IdTokenAlg, IdTokenValidator, ProviderMetadata, RedirectUrl, Secret,
};

use super::clock::{Clock, SystemClock};
use super::op_keys::JwksCache;
use super::{ProfileState, RelyingParty, secured, sender};
use crate::Error;
use crate::http::HttpClient;

/// Builder for [`RelyingParty`].
#[derive(Debug)]
pub struct RelyingPartyBuilder {
    http: HttpClient,
    metadata: ProviderMetadata,
    auth: ClientAuth,
    redirect_uri: Option<RedirectUrl>,
    id_token_alg: IdTokenAlg,
    userinfo_alg: Option<Algorithm>,
    id_token_decryption: Option<(ResponseEncryption, DecryptionKeys)>,
    userinfo_decryption: Option<(ResponseEncryption, DecryptionKeys)>,
    client_secret: Option<Secret>,
    clock_skew: Option<u64>,
    refetch_interval: Option<u64>,
    token_endpoint_refetch_interval: Option<u64>,
    tenants: Option<TenantPolicy>,
    clock: Arc<dyn Clock>,
    secured: secured::SecuredConfig,
    profile: Option<(Profile, TokenBinding)>,
    signed_jwks: Option<SignedJwksSource>,
    /// The client's registered `require_pushed_authorization_requests` (RFC 9126 §6).
    registered_par: bool,
    pub(super) binding: sender::Binding,
}

impl RelyingPartyBuilder {
    /// Send every authorization request as a request object signed by `signer` (RFC 9101):
    /// by value, or pushed (RFC 9126 §3) when PAR is used. Build it with
    /// [`RequestObjectSigner::new`](relier_core::request_object::RequestObjectSigner::new)
    /// from the registered `request_object_signing_alg` and the RP's key, or with
    /// [`RequestObjectRule::signer`](relier_core::request_object::RequestObjectRule::signer).
    pub fn request_objects(
        mut self,
        signer: relier_core::request_object::RequestObjectSigner,
    ) -> Self {
        self.secured.request_objects = Some(signer);
        self
    }

    /// Encrypt request objects to the OP's `use: enc` key with the registered
    /// `request_object_encryption_alg`/`_enc` (OIDC Core §6.1, RFC 9101 §6.1); needs
    /// [`Self::request_objects`]. The OP's JWKS is refetched for it when older than its cache
    /// lifetime.
    pub fn request_object_encryption(mut self, algs: ResponseEncryption) -> Self {
        self.secured.delivery.encryption = Some(algs);
        self
    }

    /// Send request objects by reference (OIDC Core §6.2, RFC 9101 §5.2): each is published
    /// on `host` (e.g. [`crate::request_uri::PendingRequestObjects`]) and the authorization
    /// URL carries its `request_uri`. Pushed requests (RFC 9126) still carry them by value.
    pub fn request_objects_by_reference(
        mut self,
        host: std::sync::Arc<dyn crate::request_uri::RequestObjectHost>,
    ) -> Self {
        self.secured.delivery.host = Some(host);
        self
    }

    /// Registered `authorization_signed_response_alg` (and `authorization_encrypted_response_*`,
    /// decrypted with `keys`: the RP's keys for the algorithm, current first): JARM, every
    /// authorization response must be a JWT (`response_mode=jwt`).
    pub fn jarm(mut self, rule: relier_core::jarm::JarmRule, keys: Option<DecryptionKeys>) -> Self {
        self.secured.set_jarm(rule, keys);
        self
    }

    /// The client's own registered `require_pushed_authorization_requests` (RFC 9126 §6):
    /// when true the OP refuses this client's authorization requests unless pushed, so every
    /// one is — whatever [`RelyingParty::with_pushed_authorization_requests`] says.
    pub fn registered_par(mut self, required: bool) -> Self {
        self.registered_par = required;
        self
    }

    /// Hold this relying party to a security profile (FAPI 2.0), declaring how its access
    /// tokens are sender-constrained. [`Self::try_build`] refuses when the OP's metadata or the
    /// client's settings cannot meet it, naming each item; at run time the profile forces PAR,
    /// PKCE S256 and the RFC 9207 `iss` check.
    pub fn profile(mut self, profile: Profile, tokens: TokenBinding) -> Self {
        self.profile = Some((profile, tokens));
        self
    }

    /// [`Self::build`], after checking the profile (if any) against the OP's metadata and the
    /// client's settings. Check the OP's keys too with [`crate::profile::check_op_keys`].
    ///
    /// # Errors
    /// [`Error::Profile`] with every violation.
    pub fn try_build(self) -> Result<RelyingParty, Error> {
        if let Some(settings) = self.profile_settings() {
            crate::profile::check(&self.metadata, settings)?;
            // FAPI 2.0 Message Signing §5.3.1: request objects are signed.
            if self
                .secured
                .request_objects
                .as_ref()
                .is_some_and(|s| s.alg() == Algorithm::None)
            {
                return Err(Error::Config(
                    "a profile needs signed request objects: request_object_signing_alg is none"
                        .into(),
                ));
            }
        }
        Ok(self.build())
    }

    fn profile_settings(&self) -> Option<(Profile, ClientSettings)> {
        let (profile, tokens) = self.profile?;
        Some((
            profile,
            crate::profile::client_settings(
                &self.auth,
                self.id_token_alg.algorithm(),
                tokens,
                &self.http,
            ),
        ))
    }

    /// The metadata's issuer is a Microsoft Entra ID multi-tenant template
    /// ([`crate::discover_entra`]): ID tokens must carry the issuer of their own `tid`, and `tid`
    /// must pass `policy`.
    pub fn tenants(mut self, policy: TenantPolicy) -> Self {
        self.tenants = Some(policy);
        self
    }

    /// Redirect URI registered for this client.
    pub fn redirect_uri(mut self, uri: RedirectUrl) -> Self {
        self.redirect_uri = Some(uri);
        self
    }

    /// Expected `id_token_signed_response_alg` (default RS256), a signing one:
    /// `Algorithm::None` here refuses every ID token — unsigned ones take
    /// [`Self::registered_id_token_alg`].
    pub fn id_token_alg(mut self, alg: Algorithm) -> Self {
        self.id_token_alg = IdTokenAlg::Signed(alg);
        self
    }

    /// The registered `id_token_signed_response_alg` as pinned. [`IdTokenAlg::None`] (from
    /// [`IdTokenAlg::registered`]) accepts unsigned ID tokens in token endpoint responses
    /// over TLS (http only to a loopback token endpoint), and nowhere else (OIDC Core §2,
    /// §3.1.3.7 (6)); a [`Self::profile`] refuses it.
    pub fn registered_id_token_alg(mut self, alg: IdTokenAlg) -> Self {
        self.id_token_alg = alg;
        self
    }

    /// Registered `userinfo_signed_response_alg`: signed UserInfo is then required.
    pub fn userinfo_signed_alg(mut self, alg: Algorithm) -> Self {
        self.userinfo_alg = Some(alg);
        self
    }

    /// Registered `id_token_encrypted_response_alg`/`_enc` (OIDC Core §10.2): every ID token
    /// must then be a JWE with these algorithms, decrypted with `keys` (the RP's keys for
    /// `expect.alg`, current first; for `dir`/`A*KW` the client secret is used).
    pub fn id_token_decryption(mut self, expect: ResponseEncryption, keys: DecryptionKeys) -> Self {
        self.id_token_decryption = Some((expect, keys));
        self
    }

    /// Registered `userinfo_encrypted_response_alg`/`_enc`: every UserInfo response must then
    /// be a JWE with these algorithms (signed inside when [`Self::userinfo_signed_alg`] is set).
    pub fn userinfo_decryption(mut self, expect: ResponseEncryption, keys: DecryptionKeys) -> Self {
        self.userinfo_decryption = Some((expect, keys));
        self
    }

    /// The client secret, for HS* ID tokens (OIDC Core §10.1).
    pub fn client_secret(mut self, secret: Secret) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// Allowed clock skew (default 60 s, at most 300 s).
    pub fn clock_skew(mut self, secs: u64) -> Self {
        self.clock_skew = Some(secs);
        self
    }

    /// Minimum seconds between JWKS refetches triggered by unknown keys (default 30).
    pub fn jwks_refetch_interval(mut self, secs: u64) -> Self {
        self.refetch_interval = Some(secs);
        self
    }

    /// Seconds before an ID token straight from the token endpoint may refetch the JWKS again
    /// for a `kid` an earlier refetch looked for (default 5, never more than
    /// [`Self::jwks_refetch_interval`]); each new `kid` refetches at once (see
    /// [`KeySource::TokenEndpoint`](relier_core::jwks::KeySource::TokenEndpoint)).
    pub fn jwks_token_endpoint_refetch_interval(mut self, secs: u64) -> Self {
        self.token_endpoint_refetch_interval = Some(secs);
        self
    }

    /// Take the OP's signing keys only from its signed JWK set, verified with the entity keys
    /// pinned from its entity statement (OpenID Federation 1.0 §5.2.1; the FTN profile): the
    /// unsigned `jwks_uri` is dropped from the metadata and never consulted.
    pub fn signed_jwks(mut self, source: SignedJwksSource) -> Self {
        self.metadata.jwks_uri = None;
        self.signed_jwks = Some(source);
        self
    }

    /// Replace the clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Build. With a [`Self::profile`] the OP and settings cannot meet, the relying party
    /// refuses every login with the violations; [`Self::try_build`] reports them now.
    pub fn build(self) -> RelyingParty {
        let profile = self.profile_settings().map(|(p, settings)| {
            let refused = crate::profile::check(&self.metadata, (p, settings)).err();
            ProfileState { refused }
        });
        let mut validator =
            IdTokenValidator::new(self.metadata.issuer.clone(), self.auth.client_id().clone())
                .with_registered_alg(self.id_token_alg);
        if let Some(s) = &self.client_secret {
            validator = validator.with_client_secret(s);
        }
        if let Some(skew) = self.clock_skew {
            validator = validator.with_clock_skew(skew);
        }
        if let Some(t) = &self.tenants {
            validator = validator.with_tenants(t.clone());
        }
        let secured = self.secured.build(
            &self.metadata.issuer,
            &self.auth,
            self.client_secret.as_ref(),
            self.clock_skew,
        );
        let secret = self.client_secret.as_ref();
        let decryptor = |(expect, keys): (ResponseEncryption, DecryptionKeys)| {
            let d = Decryptor::new(expect, keys);
            match secret {
                // OIDC Core §10.2: dir / A*KW use a key derived from the client secret.
                Some(s) if expect.alg.is_symmetric() => d.with_client_secret(s),
                _ => d,
            }
        };
        if let Some(d) = self.id_token_decryption.map(decryptor) {
            validator = validator.with_decryption(d);
        }
        let userinfo_decryptor = self.userinfo_decryption.map(decryptor);
        let userinfo_validator = self.userinfo_alg.map(|alg| {
            let mut v =
                IdTokenValidator::new(self.metadata.issuer.clone(), self.auth.client_id().clone())
                    .with_alg(alg);
            if let Some(s) = &self.client_secret {
                v = v.with_client_secret(s);
            }
            v
        });
        RelyingParty {
            http: self.http,
            metadata: self.metadata,
            auth: self.auth,
            redirect_uri: self.redirect_uri,
            validator,
            userinfo_validator,
            userinfo_decryptor,
            jwks: Arc::new(JwksCache::new(
                {
                    let gate = self
                        .refetch_interval
                        .map(RefetchGate::new)
                        .unwrap_or_default();
                    match self.token_endpoint_refetch_interval {
                        Some(secs) => gate.with_token_endpoint_interval(secs),
                        None => gate,
                    }
                },
                self.signed_jwks,
            )),
            rng: SystemRandom::new(),
            clock: self.clock,
            par: false,
            registered_par: self.registered_par,
            secured,
            profile,
            binding: self.binding,
        }
    }
}

impl RelyingParty {
    /// Start building.
    pub fn builder(
        http: HttpClient,
        metadata: ProviderMetadata,
        auth: ClientAuth,
    ) -> RelyingPartyBuilder {
        RelyingPartyBuilder {
            http,
            metadata,
            auth,
            redirect_uri: None,
            id_token_alg: IdTokenAlg::default(),
            userinfo_alg: None,
            id_token_decryption: None,
            userinfo_decryption: None,
            client_secret: None,
            clock_skew: None,
            refetch_interval: None,
            token_endpoint_refetch_interval: None,
            tenants: None,
            clock: Arc::new(SystemClock),
            secured: Default::default(),
            profile: None,
            signed_jwks: None,
            registered_par: false,
            binding: sender::Binding::default(),
        }
    }
}
