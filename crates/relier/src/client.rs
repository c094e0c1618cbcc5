//! [`RelyingParty`]: one OP, one client registration — the core's rules driven over HTTP.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use relier_core::authorize::{self, AuthorizationParams, CallbackParams, PendingLogin};
use relier_core::discovery::Endpoint;
use relier_core::dpop::Server;
use relier_core::encryption::{DecryptionKeys, Decryptor, EncryptedResponse, ResponseEncryption};
use relier_core::entra::TenantPolicy;
use relier_core::http::HttpRequest;
use relier_core::id_token::{Expectations, IdTokenClaims, VerifiedIdToken};
use relier_core::introspection::{self, TokenTypeHint};
use relier_core::jwks::{KeySet, KeySource, RefetchGate};
use relier_core::par;
use relier_core::profile::{ClientSettings, Profile, ProfileError};
use relier_core::token::{self, TokenError, TokenResponse};
use relier_core::token_binding::TokenBinding;
use relier_core::userinfo::{self, SignedUserInfo};
use relier_core::{
    Algorithm, ClientAuth, IdTokenError, IdTokenValidator, IssuerUrl, ProviderMetadata,
    RedirectUrl, Secret, UnixTime,
};
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use url::Url;

use crate::Error;
use crate::http::HttpClient;

mod secured;
mod sender;

/// The source of `now` for the driver (tests inject a fixed clock).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Seconds since the Unix epoch.
    fn now(&self) -> UnixTime;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        UnixTime(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        )
    }
}

/// Fetch and check the OP's metadata (OIDC Discovery §4).
pub async fn discover(http: &HttpClient, issuer: &IssuerUrl) -> Result<ProviderMetadata, Error> {
    let resp = http.send(ProviderMetadata::request(issuer)).await?;
    Ok(ProviderMetadata::from_response(issuer, &resp)?)
}

/// Discovery at a Microsoft Entra ID multi-tenant authority (`…/common/v2.0`,
/// `…/organizations/v2.0`), whose document's issuer is the template `…/{tenantid}/v2.0`
/// ([`relier_core::entra`]); any other issuer is discovered as by [`discover`]. Build the
/// relying party with [`RelyingPartyBuilder::tenants`] to check ID tokens against it.
pub async fn discover_entra(
    http: &HttpClient,
    issuer: &IssuerUrl,
) -> Result<ProviderMetadata, Error> {
    let expected = relier_core::entra::issuer_template(issuer)?;
    let resp = http.send(ProviderMetadata::request(issuer)).await?;
    Ok(ProviderMetadata::from_response(
        expected.as_ref().unwrap_or(issuer),
        &resp,
    )?)
}

/// JWKS older than this is refetched before use, so keys the OP withdrew stop verifying.
const JWKS_MAX_AGE_SECS: u64 = 24 * 3600;

struct JwksCache {
    keys: Arc<KeySet>,
    fetched_at: Option<UnixTime>,
    gate: RefetchGate,
}

/// The result of a completed login.
#[derive(Debug, Clone)]
pub struct Login {
    /// The token response.
    pub tokens: TokenResponse,
    /// The validated ID token.
    pub id_token: VerifiedIdToken,
}

/// Builder for [`RelyingParty`].
#[derive(Debug)]
pub struct RelyingPartyBuilder {
    http: HttpClient,
    metadata: ProviderMetadata,
    auth: ClientAuth,
    redirect_uri: Option<RedirectUrl>,
    id_token_alg: Algorithm,
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
    binding: sender::Binding,
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

    /// Registered `authorization_signed_response_alg` (and `authorization_encrypted_response_*`,
    /// decrypted with `keys`: the RP's keys for the algorithm, current first): JARM, every
    /// authorization response must be a JWT (`response_mode=jwt`).
    pub fn jarm(mut self, rule: relier_core::jarm::JarmRule, keys: Option<DecryptionKeys>) -> Self {
        self.secured.set_jarm(rule, keys);
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
        }
        Ok(self.build())
    }

    fn profile_settings(&self) -> Option<(Profile, ClientSettings)> {
        let (profile, tokens) = self.profile?;
        Some((
            profile,
            crate::profile::client_settings(&self.auth, self.id_token_alg, tokens, &self.http),
        ))
    }

    /// The metadata's issuer is a Microsoft Entra ID multi-tenant template
    /// ([`discover_entra`]): ID tokens must carry the issuer of their own `tid`, and `tid`
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

    /// Expected `id_token_signed_response_alg` (default RS256).
    pub fn id_token_alg(mut self, alg: Algorithm) -> Self {
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

    /// Minimum seconds between JWKS refetches for unknown keys in ID tokens straight from the
    /// token endpoint (default 5, never more than [`Self::jwks_refetch_interval`]); see
    /// [`KeySource`].
    pub fn jwks_token_endpoint_refetch_interval(mut self, secs: u64) -> Self {
        self.token_endpoint_refetch_interval = Some(secs);
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
                .with_alg(self.id_token_alg);
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
            jwks: Arc::new(Mutex::new(JwksCache {
                keys: Arc::new(KeySet::empty()),
                fetched_at: None,
                gate: {
                    let gate = self
                        .refetch_interval
                        .map(RefetchGate::new)
                        .unwrap_or_default();
                    match self.token_endpoint_refetch_interval {
                        Some(secs) => gate.with_token_endpoint_interval(secs),
                        None => gate,
                    }
                },
            })),
            rng: SystemRandom::new(),
            clock: self.clock,
            par: false,
            secured,
            profile,
            binding: self.binding,
        }
    }
}

/// A relying party for one OP and one client registration.
pub struct RelyingParty {
    http: HttpClient,
    metadata: ProviderMetadata,
    auth: ClientAuth,
    redirect_uri: Option<RedirectUrl>,
    validator: IdTokenValidator,
    userinfo_validator: Option<IdTokenValidator>,
    userinfo_decryptor: Option<Decryptor>,
    /// Shared with the relying parties made by [`RelyingParty::with_client_auth`].
    jwks: Arc<Mutex<JwksCache>>,
    rng: SystemRandom,
    clock: Arc<dyn Clock>,
    par: bool,
    secured: secured::Secured,
    profile: Option<ProfileState>,
    /// DPoP / certificate-bound tokens ([`sender`]).
    binding: sender::Binding,
}

/// A relying party held to a profile: what the profile check found at build time.
#[derive(Clone)]
struct ProfileState {
    refused: Option<ProfileError>,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("issuer", &self.metadata.issuer)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
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
            id_token_alg: Algorithm::RS256,
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
            binding: sender::Binding::default(),
        }
    }

    /// The same relying party with another credential for the same client — e.g. after the
    /// RP rotated its private_key_jwt key. The OP's JWKS cache (and its refetch rate limit) is
    /// shared, so switching keys costs no JWKS fetch.
    ///
    /// # Errors
    /// [`Error::Config`] when `auth` is for another client_id.
    pub fn with_client_auth(&self, auth: ClientAuth) -> Result<RelyingParty, Error> {
        if auth.client_id() != self.auth.client_id() {
            return Err(Error::Config(format!(
                "with_client_auth: client_id {} is not {}",
                auth.client_id().as_str(),
                self.auth.client_id().as_str()
            )));
        }
        Ok(RelyingParty {
            auth,
            ..self.share()
        })
    }

    /// The same relying party with new RP decryption keys for `which` — after the RP's
    /// encryption keys changed (rotation, removal of a retired key). The registered algorithms
    /// stay; for symmetric key management nothing changes (the client secret is the key). The
    /// OP's JWKS cache is shared. Without registered encryption for `which`, an unchanged copy.
    #[must_use]
    pub fn with_decryption_keys(&self, which: EncryptedResponse, keys: DecryptionKeys) -> Self {
        let mut rp = self.share();
        let renewed = |d: &Decryptor| {
            (!d.expectation().alg.is_symmetric()).then(|| Decryptor::new(d.expectation(), keys))
        };
        match which {
            EncryptedResponse::IdToken => {
                if let Some(d) = self.validator.decryption().and_then(renewed) {
                    rp.validator = rp.validator.with_decryption(d);
                }
            }
            EncryptedResponse::UserInfo => {
                if let Some(d) = self.userinfo_decryptor.as_ref().and_then(renewed) {
                    rp.userinfo_decryptor = Some(d);
                }
            }
            EncryptedResponse::AuthorizationResponse => {
                if let Some(d) = self.secured.jarm_decryption().and_then(renewed) {
                    rp.secured = self.secured.with_jarm_decryptor(d);
                }
            }
            // A kind of response this relying party does not decrypt.
            _ => {}
        }
        rp
    }

    /// A copy sharing the OP's JWKS cache.
    fn share(&self) -> RelyingParty {
        RelyingParty {
            http: self.http.clone(),
            metadata: self.metadata.clone(),
            auth: self.auth.clone(),
            redirect_uri: self.redirect_uri.clone(),
            validator: self.validator.clone(),
            userinfo_validator: self.userinfo_validator.clone(),
            userinfo_decryptor: self.userinfo_decryptor.clone(),
            jwks: Arc::clone(&self.jwks),
            rng: SystemRandom::new(),
            clock: Arc::clone(&self.clock),
            par: self.par,
            secured: self.secured.clone(),
            profile: self.profile.clone(),
            binding: self.binding.clone(),
        }
    }

    /// The OP's metadata.
    pub fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    /// The client authentication in use.
    pub fn auth(&self) -> &ClientAuth {
        &self.auth
    }

    fn now(&self) -> UnixTime {
        self.clock.now()
    }

    fn redirect_uri(&self) -> Result<&RedirectUrl, Error> {
        self.redirect_uri
            .as_ref()
            .ok_or_else(|| Error::Config("no redirect_uri configured".into()))
    }

    /// Build the authorization URL and the state to keep until the callback.
    pub fn authorization_url(
        &self,
        params: &AuthorizationParams,
    ) -> Result<(Url, PendingLogin), Error> {
        // FAPI 2.0 Security Profile §5.3.2.2: authorization requests are pushed.
        self.profile_allows(false)?;
        let redirect = self.redirect_uri()?;
        let bound = self.bound_params(params);
        let params = &self.secured_params(&bound);
        if let Some(signed) = self.request_object_url(redirect, params)? {
            return Ok(signed);
        }
        Ok(authorize::authorization_url(
            &self.metadata,
            self.auth.client_id(),
            redirect,
            params,
            &self.rng,
        )?)
    }

    /// The authorization URL as this OP and configuration want it: pushed (RFC 9126) when the
    /// OP requires it or [`RelyingPartyBuilder::pushed_authorization_requests`] asked for it,
    /// otherwise a plain authorization request.
    pub async fn login_url(
        &self,
        params: &AuthorizationParams,
    ) -> Result<(Url, PendingLogin), Error> {
        if self.uses_par() {
            self.pushed_authorization_url(params).await
        } else {
            self.authorization_url(params)
        }
    }

    /// Push every authorization request (RFC 9126) from [`Self::login_url`], even when the OP
    /// does not require it. Without this, requests are pushed only when the OP says
    /// `require_pushed_authorization_requests`.
    #[must_use]
    pub fn with_pushed_authorization_requests(mut self, on: bool) -> Self {
        self.par = on;
        self
    }

    /// Whether [`Self::login_url`] pushes the request.
    pub fn uses_par(&self) -> bool {
        self.par || self.metadata.require_pushed_authorization_requests || self.profile.is_some()
    }

    /// Refuses a login when the profile could not be met, or (`pushed` false) when a profile
    /// demands PAR.
    fn profile_allows(&self, pushed: bool) -> Result<(), Error> {
        match &self.profile {
            Some(ProfileState { refused: Some(e) }) => Err(e.clone().into()),
            Some(_) if !pushed => Err(Error::Config(
                "a profile is set: authorization requests must be pushed (use login_url)".into(),
            )),
            _ => Ok(()),
        }
    }

    /// RFC 9126: push the authorization request to the OP, authenticated like a token request
    /// (at the mTLS alias when the method needs it), and build the URL that carries only
    /// `client_id` and the returned `request_uri`.
    pub async fn pushed_authorization_url(
        &self,
        params: &AuthorizationParams,
    ) -> Result<(Url, PendingLogin), Error> {
        self.profile_allows(true)?;
        let redirect = self.redirect_uri()?;
        let bound = self.bound_params(params);
        let (form, pending) = self.pushed_form(redirect, &self.secured_params(&bound))?;
        let resp = self
            .authenticated_post(Endpoint::PushedAuthorization, form)
            .await?;
        let pushed = par::parse_response(&resp)?;
        let url = par::authorization_url(&self.metadata, self.auth.client_id(), &pushed)?;
        Ok((url, pending))
    }

    fn endpoint(&self, kind: Endpoint) -> Result<String, Error> {
        self.metadata
            .endpoint(kind, self.uses_mtls())
            .map(str::to_owned)
            .ok_or(Error::MissingEndpoint(kind.member()))
    }

    async fn authenticated_post(
        &self,
        kind: Endpoint,
        form: relier_core::http::Form,
    ) -> Result<relier_core::http::HttpResponse, Error> {
        let url = self.endpoint(kind)?;
        let build = || -> Result<HttpRequest, Error> {
            let (iss, now) = (&self.metadata.issuer, self.now());
            Ok(self.auth.request(iss, &url, form.clone(), now, &self.rng)?)
        };
        self.send_bound(Server::Authorization, kind.member(), None, build)
            .await
    }

    /// Check the callback (state, iss, error), exchange the code and validate the ID token. The
    /// token endpoint is never called when a callback check fails.
    pub async fn complete_login(
        &self,
        callback: CallbackParams,
        pending: &PendingLogin,
    ) -> Result<Login, Error> {
        let callback = self.open_callback(callback).await?;
        // RFC 9207 §2.4; FAPI 2.0 Security Profile §5.3.2.2: a profile requires iss.
        let code = callback.validate(
            pending,
            &self.metadata.issuer,
            self.metadata.authorization_response_iss_parameter_supported || self.profile.is_some(),
        )?;
        let form = token::code_exchange_form(&code, pending);
        let resp = self.authenticated_post(Endpoint::Token, form).await?;
        let tokens = TokenResponse::from_response(&resp)?;
        self.check_binding(&resp, &tokens)?;
        let id_token = tokens.id_token.clone().ok_or(TokenError::MissingIdToken)?;
        let expect = Expectations {
            nonce: Some(&pending.nonce),
            max_age: pending.max_age,
            access_token: Some(&tokens.access_token),
        };
        let id_token = self
            .validate_id_token_from(KeySource::TokenEndpoint, id_token.expose(), &expect)
            .await?;
        self.check_id_token_binding(&id_token)?;
        Ok(Login { tokens, id_token })
    }

    /// Validate an ID token, refetching the JWKS once (rate-limited) when its key is unknown.
    /// The token may come from anywhere, so the refetch waits out the whole cool-down
    /// ([`KeySource::Untrusted`]).
    pub async fn validate_id_token(
        &self,
        token: &str,
        expect: &Expectations<'_>,
    ) -> Result<VerifiedIdToken, Error> {
        self.validate_id_token_from(KeySource::Untrusted, token, expect)
            .await
    }

    async fn validate_id_token_from(
        &self,
        source: KeySource,
        token: &str,
        expect: &Expectations<'_>,
    ) -> Result<VerifiedIdToken, Error> {
        self.with_op_keys(
            source,
            |keys| self.validator.validate(token, keys, expect, self.now()),
            IdTokenError::is_refetchable,
        )
        .await
    }

    /// Run `check` against the OP's keys. When it fails because the signing key is unknown (the
    /// OP rotated, OIDC Core §10.1.1), fetch the JWKS again — as often as the [`RefetchGate`]
    /// allows for a token from `source` — and run it once more: the one place that policy lives.
    async fn with_op_keys<T, E>(
        &self,
        source: KeySource,
        check: impl Fn(&KeySet) -> Result<T, E>,
        refetchable: impl Fn(&E) -> bool,
    ) -> Result<T, Error>
    where
        Error: From<E>,
    {
        let keys = self.keys(false).await?;
        match check(&keys) {
            Err(e) if refetchable(&e) => match self.refetch_keys(&keys, source).await? {
                Some(fresh) => Ok(check(&fresh)?),
                None => Err(e.into()),
            },
            other => Ok(other?),
        }
    }

    /// Current OP keys, fetched on first use and when older than a day.
    pub async fn keys(&self, force: bool) -> Result<Arc<KeySet>, Error> {
        let mut cache = self.jwks.lock().await;
        let now = self.now();
        let stale = cache
            .fetched_at
            .is_none_or(|t| now.0.saturating_sub(t.0) > JWKS_MAX_AGE_SECS);
        if stale || force {
            self.fetch_into(&mut cache, now).await?;
        }
        Ok(cache.keys.clone())
    }

    /// Keys newer than `seen`: the ones another task fetched in the meantime (concurrent
    /// refetches coalesce under the lock), else one refetch if the gate allows for `source`;
    /// `None` when rate-limited.
    async fn refetch_keys(
        &self,
        seen: &Arc<KeySet>,
        source: KeySource,
    ) -> Result<Option<Arc<KeySet>>, Error> {
        let mut cache = self.jwks.lock().await;
        if !Arc::ptr_eq(&cache.keys, seen) {
            return Ok(Some(cache.keys.clone()));
        }
        let now = self.now();
        if !cache.gate.try_acquire(now, source) {
            tracing::warn!(issuer = %self.metadata.issuer, "unknown signing key; JWKS refetch rate-limited");
            return Ok(None);
        }
        tracing::info!(issuer = %self.metadata.issuer, "unknown signing key; refetching JWKS");
        self.fetch_into(&mut cache, now).await?;
        Ok(Some(cache.keys.clone()))
    }

    async fn fetch_into(&self, cache: &mut JwksCache, now: UnixTime) -> Result<(), Error> {
        let Some(uri) = &self.metadata.jwks_uri else {
            // An OP using only HS* ID tokens may publish no JWKS.
            cache.fetched_at = Some(now);
            return Ok(());
        };
        let resp = self.http.send(KeySet::request(uri)).await?;
        cache.keys = Arc::new(KeySet::from_response(uri, &resp)?);
        cache.fetched_at = Some(now);
        Ok(())
    }

    /// Call UserInfo and check its `sub` against the ID token's (OIDC Core §5.3.2).
    pub async fn userinfo(
        &self,
        access_token: &Secret,
        expected_sub: &str,
    ) -> Result<Map<String, Value>, Error> {
        let url = self.endpoint(Endpoint::UserInfo)?;
        let build = || Ok(userinfo::request(&url, access_token, self.uses_mtls()));
        let resp = self
            .send_bound(
                Server::Resource,
                Endpoint::UserInfo.member(),
                Some(access_token),
                build,
            )
            .await?;
        let v = self.userinfo_validator.as_ref().unwrap_or(&self.validator);
        let parse = |keys: &KeySet| {
            let signed = SignedUserInfo {
                keys,
                policy: v.policy(),
                required: self.userinfo_validator.is_some(),
                issuer: &self.metadata.issuer,
                client_id: self.auth.client_id(),
                decryptor: self.userinfo_decryptor.as_ref(),
            };
            userinfo::parse(&resp, expected_sub, &signed)
        };
        if resp.media_type().as_deref() == Some("application/jwt") {
            // §5.3.2 signed response: the OP's keys, with the same rotation handling as ID tokens.
            self.with_op_keys(
                KeySource::Untrusted,
                parse,
                |e| matches!(e, relier_core::userinfo::UserInfoError::Jwt(j) if j.is_refetchable()),
            )
            .await
        } else {
            Ok(parse(&KeySet::empty())?)
        }
    }

    /// Refresh (RFC 6749 §6). A returned ID token is validated; with `original`, §12.2's
    /// same-iss/sub/aud rule is enforced too.
    pub async fn refresh(
        &self,
        refresh_token: &Secret,
        original: Option<&IdTokenClaims>,
    ) -> Result<(TokenResponse, Option<VerifiedIdToken>), Error> {
        let resp = self
            .authenticated_post(Endpoint::Token, token::refresh_form(refresh_token, None))
            .await?;
        let tokens = TokenResponse::from_response(&resp)?;
        self.check_binding(&resp, &tokens)?;
        let Some(raw) = tokens.id_token.clone() else {
            return Ok((tokens, None));
        };
        let verified = match original {
            Some(orig) => {
                self.with_op_keys(
                    KeySource::TokenEndpoint,
                    |keys| {
                        self.validator.validate_refreshed(
                            raw.expose(),
                            keys,
                            orig,
                            Some(&tokens.access_token),
                            self.now(),
                        )
                    },
                    IdTokenError::is_refetchable,
                )
                .await?
            }
            None => {
                let expect = Expectations {
                    nonce: None,
                    max_age: None,
                    access_token: Some(&tokens.access_token),
                };
                self.validate_id_token_from(KeySource::TokenEndpoint, raw.expose(), &expect)
                    .await?
            }
        };
        self.check_id_token_binding(&verified)?;
        Ok((tokens, Some(verified)))
    }

    /// Back-Channel Logout 1.0 §2.6: validate a logout token (same keys and pinned alg as ID
    /// tokens; one rate-limited JWKS refetch on an unknown key).
    pub async fn validate_logout_token(
        &self,
        token: &str,
    ) -> Result<relier_core::logout::LogoutRequest, Error> {
        use relier_core::logout::{LogoutTokenError, validate_logout_token};
        // Anyone can post a logout token: the full cool-down applies.
        self.with_op_keys(
            KeySource::Untrusted,
            |keys| {
                validate_logout_token(
                    token,
                    &self.validator,
                    self.auth.client_id(),
                    keys,
                    self.now(),
                )
            },
            |e| matches!(e, LogoutTokenError::Jwt(j) if j.is_refetchable()),
        )
        .await
    }

    /// RP-Initiated Logout §2: where to send the browser, if the OP has an end_session_endpoint.
    pub fn end_session_url(
        &self,
        id_token_hint: Option<&Secret>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
    ) -> Option<Url> {
        let ep = self.metadata.end_session_endpoint.as_deref()?;
        relier_core::logout::end_session_url(
            ep,
            id_token_hint,
            self.auth.client_id(),
            post_logout_redirect_uri,
            state,
        )
        .ok()
    }

    /// RFC 7662 introspection with the configured client authentication.
    pub async fn introspect(
        &self,
        token: &Secret,
        hint: Option<TokenTypeHint>,
    ) -> Result<Map<String, Value>, Error> {
        let resp = self
            .authenticated_post(Endpoint::Introspection, introspection::form(token, hint))
            .await?;
        Ok(introspection::parse_introspection(&resp)?)
    }

    /// RFC 7009 revocation with the configured client authentication.
    pub async fn revoke(&self, token: &Secret, hint: Option<TokenTypeHint>) -> Result<(), Error> {
        let resp = self
            .authenticated_post(Endpoint::Revocation, introspection::form(token, hint))
            .await?;
        Ok(introspection::parse_revocation(&resp)?)
    }
}
