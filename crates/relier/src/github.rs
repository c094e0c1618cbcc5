//! [`GitHubClient`]: a login with GitHub (github.com or Enterprise Server) driven over HTTP.
//! GitHub is OAuth 2.0, not OpenID Connect: no ID token; the identity comes from the REST API
//! with the access token ([`relier_core::github`] has the rules and their sources).

use aws_lc_rs::rand::SystemRandom;
use relier_core::authorize::{self, AuthorizationParams, CallbackParams, PendingLogin};
use relier_core::github::{self, GitHubEndpoints, GitHubIdentity, GitHubUser};
use relier_core::token::{self, TokenResponse};
use relier_core::{ClientAuth, ClientId, RedirectUrl, Secret};
use url::Url;

use crate::Error;
use crate::client::{Clock, SystemClock};
use crate::http::HttpClient;

/// A completed GitHub login.
#[derive(Debug, Clone)]
pub struct GitHubLogin {
    /// The token response (GitHub's access token; a refresh token only for expiring tokens).
    pub tokens: TokenResponse,
    /// Who logged in.
    pub identity: GitHubIdentity,
}

/// One GitHub OAuth App (or GitHub App) registration.
pub struct GitHubClient {
    http: HttpClient,
    endpoints: GitHubEndpoints,
    auth: ClientAuth,
    redirect_uri: RedirectUrl,
    rng: SystemRandom,
    clock: Box<dyn Clock>,
}

impl std::fmt::Debug for GitHubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubClient")
            .field("endpoints", &self.endpoints)
            .field("client_id", self.auth.client_id())
            .finish_non_exhaustive()
    }
}

impl GitHubClient {
    /// The client `client_id` / `client_secret` at `endpoints`; GitHub takes the secret in the
    /// token request's body (client_secret_post).
    pub fn new(
        http: HttpClient,
        endpoints: GitHubEndpoints,
        client_id: ClientId,
        client_secret: Secret,
        redirect_uri: RedirectUrl,
    ) -> Self {
        Self {
            http,
            endpoints,
            auth: ClientAuth::client_secret_post(client_id, client_secret),
            redirect_uri,
            rng: SystemRandom::new(),
            clock: Box::new(SystemClock),
        }
    }

    /// The endpoints.
    pub fn endpoints(&self) -> &GitHubEndpoints {
        &self.endpoints
    }

    /// The authorization URL (state and PKCE S256; no `openid`, no nonce) and what to keep
    /// until the callback.
    pub fn authorization_url(
        &self,
        params: &AuthorizationParams,
    ) -> Result<(Url, PendingLogin), Error> {
        Ok(authorize::oauth2_authorization_url(
            &self.endpoints.authorization,
            self.auth.client_id(),
            &self.redirect_uri,
            params,
            &self.rng,
        )?)
    }

    /// Checks the callback (state, error), exchanges the code (with the PKCE verifier) and
    /// reads the identity from the API. The token endpoint is never called when a callback
    /// check fails.
    pub async fn complete_login(
        &self,
        callback: CallbackParams,
        pending: &PendingLogin,
    ) -> Result<GitHubLogin, Error> {
        // GitHub sends no `iss` (RFC 9207); one that is sent must still be GitHub's.
        let code = callback.validate(pending, &self.endpoints.issuer, false)?;
        let form = token::code_exchange_form(&code, pending);
        let mut req = self.auth.request(
            &self.endpoints.issuer,
            &self.endpoints.token,
            form,
            self.clock.now(),
            &self.rng,
        )?;
        github::accept_json(&mut req);
        let resp = self.http.send(req).await?;
        let tokens = github::parse_token_response(&resp)?;
        let identity = self.identity(&tokens.access_token).await?;
        Ok(GitHubLogin { tokens, identity })
    }

    /// The identity behind an access token: `/user`, then `/user/emails`.
    pub async fn identity(&self, access_token: &Secret) -> Result<GitHubIdentity, Error> {
        let user = self
            .http
            .send(self.endpoints.user_request(access_token))
            .await?;
        let user = GitHubUser::from_response(&user)?;
        let emails = self
            .http
            .send(self.endpoints.emails_request(access_token))
            .await?;
        let email = github::primary_verified_email(&emails)?;
        Ok(GitHubIdentity {
            issuer: self.endpoints.issuer.as_str().to_owned(),
            user,
            email,
        })
    }
}
