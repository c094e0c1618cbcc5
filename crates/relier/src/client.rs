//! [`RelyingParty`]: one OP, one client registration — the core's rules driven over HTTP.

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use relier_core::authorize::{self, AuthorizationParams, CallbackParams, PendingLogin};
use relier_core::discovery::Endpoint;
use relier_core::dpop::Server;
use relier_core::encryption::{DecryptionKeys, Decryptor, EncryptedResponse};
use relier_core::http::HttpRequest;
use relier_core::id_token::{Expectations, IdTokenClaims, IdTokenSource, VerifiedIdToken};
use relier_core::introspection::{self, TokenTypeHint};
use relier_core::jwks::{KeySet, KeySource};
use relier_core::par;
use relier_core::profile::ProfileError;
use relier_core::token::{self, TokenError, TokenResponse};
use relier_core::userinfo::{self, SignedUserInfo};
use relier_core::{
    ClientAuth, IdTokenError, IdTokenValidator, ProviderMetadata, RedirectUrl, Secret, UnixTime,
};
use serde_json::{Map, Value};
use tracing::Instrument as _;
use url::Url;

use crate::Error;
use crate::http::HttpClient;

mod builder;
mod claims;
mod clock;
mod device;
mod discovery;
mod exchange;
mod machine;
mod op_keys;
mod secured;
mod sender;
mod token_source;

pub use builder::RelyingPartyBuilder;
pub use claims::ClaimsResolution;
pub use clock::{Clock, SystemClock};
pub use device::DeviceStep;
pub use discovery::{discover, discover_by_webfinger, discover_entra, webfinger_issuer};
use op_keys::JwksCache;
pub use token_source::{ClientCredentialsGrant, FetchToken, TokenSource};

/// The result of a completed login.
#[derive(Debug, Clone)]
pub struct Login {
    /// The token response.
    pub tokens: TokenResponse,
    /// The validated ID token.
    pub id_token: VerifiedIdToken,
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
    jwks: Arc<JwksCache>,
    rng: SystemRandom,
    clock: Arc<dyn Clock>,
    par: bool,
    /// The client's registered `require_pushed_authorization_requests` (RFC 9126 §6).
    registered_par: bool,
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
            registered_par: self.registered_par,
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

    /// Build the authorization URL and the state to keep until the callback. With encrypted
    /// request objects registered, use [`Self::login_url`] (it fetches the OP's key).
    pub fn authorization_url(
        &self,
        params: &AuthorizationParams,
    ) -> Result<(Url, PendingLogin), Error> {
        self.authorization_url_with(params, None)
    }

    fn authorization_url_with(
        &self,
        params: &AuthorizationParams,
        encrypter: Option<&relier_core::request_object::RequestObjectEncrypter>,
    ) -> Result<(Url, PendingLogin), Error> {
        // FAPI 2.0 Security Profile §5.3.2.2: authorization requests are pushed.
        self.profile_allows(false)?;
        let redirect = self.redirect_uri()?;
        let bound = self.bound_params(params);
        let params = &self.secured_params(&bound);
        if let Some(signed) = self.request_object_url(redirect, params, encrypter)? {
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
    /// OP requires it or [`Self::with_pushed_authorization_requests`] asked for it,
    /// otherwise a plain authorization request.
    pub async fn login_url(
        &self,
        params: &AuthorizationParams,
    ) -> Result<(Url, PendingLogin), Error> {
        if self.uses_par() {
            self.pushed_authorization_url(params).await
        } else {
            let encrypter = self.request_object_encrypter().await?;
            self.authorization_url_with(params, encrypter.as_ref())
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

    /// Whether [`Self::login_url`] pushes the request: asked for, required by the OP or by the
    /// client's registration (RFC 9126 §5, §6), or by a profile.
    pub fn uses_par(&self) -> bool {
        self.par
            || self.registered_par
            || self.metadata.require_pushed_authorization_requests
            || self.profile.is_some()
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
        let encrypter = self.request_object_encrypter().await?;
        let (form, pending) =
            self.pushed_form(redirect, &self.secured_params(&bound), encrypter.as_ref())?;
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
        let span = tracing::info_span!(
            "token_request",
            otel.kind = "client",
            relier.client_auth = self.auth.method().as_str(),
        );
        let resp = self
            .authenticated_post(Endpoint::Token, form)
            .instrument(span)
            .await?;
        let tokens = TokenResponse::from_response(&resp)?;
        self.check_binding(&resp, &tokens)?;
        self.login_from(tokens, Some(&pending.nonce), pending.max_age)
            .await
    }

    /// The one way a login's token response becomes a [`Login`] (browser and device logins):
    /// an ID token is required (OIDC Core §3.1.3.3), validated as coming from the token
    /// endpoint — with the request's nonce and max_age when it had them — and bound as
    /// registered. The response's sender constraint is checked by the caller.
    pub(super) async fn login_from(
        &self,
        tokens: TokenResponse,
        nonce: Option<&relier_core::Nonce>,
        max_age: Option<u64>,
    ) -> Result<Login, Error> {
        let id_token = tokens.id_token.clone().ok_or(TokenError::MissingIdToken)?;
        let expect = Expectations {
            nonce,
            max_age,
            access_token: Some(&tokens.access_token),
            source: self.token_endpoint_source()?,
        };
        let id_token = self
            .validate_id_token_from(KeySource::TokenEndpoint, id_token.expose(), &expect)
            .await?;
        self.check_id_token_binding(&id_token)?;
        Ok(Login { tokens, id_token })
    }

    /// Where the ID token of a token endpoint response comes from: the endpoint relier posts
    /// to, https or loopback http (OIDC Core §3.1.3.7 (6)), for a `none` registration.
    fn token_endpoint_source(&self) -> Result<IdTokenSource, Error> {
        Ok(IdTokenSource::token_endpoint(
            &self.endpoint(Endpoint::Token)?,
        ))
    }

    /// Validate an ID token, refetching the JWKS once (rate-limited) when its key is unknown.
    /// The token may come from anywhere, so the refetch waits out the whole cool-down
    /// ([`KeySource::Untrusted`]), and it is never accepted unsigned: `expect.source` is
    /// taken as [`IdTokenSource::Elsewhere`] (OIDC Core §3.1.3.7 (6)).
    pub async fn validate_id_token(
        &self,
        token: &str,
        expect: &Expectations<'_>,
    ) -> Result<VerifiedIdToken, Error> {
        let expect = Expectations {
            source: IdTokenSource::Elsewhere,
            ..*expect
        };
        self.validate_id_token_from(KeySource::Untrusted, token, &expect)
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
            IdTokenError::missing_key,
        )
        .instrument(tracing::info_span!("id_token_validation"))
        .await
    }

    /// Call UserInfo and check its `sub` against the ID token's (OIDC Core §5.3.2).
    pub async fn userinfo(
        &self,
        access_token: &Secret,
        expected_sub: &str,
    ) -> Result<Map<String, Value>, Error> {
        let url = self.endpoint(Endpoint::UserInfo)?;
        let method = self.binding.userinfo_token_method;
        // RFC 9449 §7.1: a DPoP-bound token goes in the Authorization header only.
        method.check_dpop(self.binding.dpop.is_some())?;
        let build = || {
            Ok(userinfo::request_with(
                &url,
                access_token,
                self.uses_mtls(),
                method,
            ))
        };
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
            self.with_op_keys(KeySource::Untrusted, parse, |e| match e {
                relier_core::userinfo::UserInfoError::Jwt(j) => j.missing_key(),
                _ => None,
            })
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
        let source = self.token_endpoint_source()?;
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
                            source,
                            self.now(),
                        )
                    },
                    IdTokenError::missing_key,
                )
                .await?
            }
            None => {
                let expect = Expectations {
                    nonce: None,
                    max_age: None,
                    access_token: Some(&tokens.access_token),
                    source,
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
            |e| match e {
                LogoutTokenError::Jwt(j) => j.missing_key(),
                _ => None,
            },
        )
        .await
    }

    /// RFC 9068 §4: validate a JWT access token presented to a resource server for
    /// `audience`, with this OP's issuer and keys and the algorithm pinned for its ID tokens
    /// (one rate-limited JWKS refetch on an unknown key, as for ID tokens).
    pub async fn validate_access_token(
        &self,
        token: &str,
        audience: &str,
    ) -> Result<relier_core::access_token::VerifiedAccessToken, Error> {
        use relier_core::access_token::{
            AccessTokenError, AccessTokenExpectations, validate_access_token,
        };
        let expect = AccessTokenExpectations {
            issuer: &self.metadata.issuer,
            audience,
            alg: self.validator.policy().alg,
            skew: relier_core::id_token::DEFAULT_CLOCK_SKEW_SECS,
        };
        // Anyone can present an access token: the full cool-down applies.
        self.with_op_keys(
            KeySource::Untrusted,
            |keys| validate_access_token(token, keys, &expect, self.now()),
            AccessTokenError::missing_key,
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
