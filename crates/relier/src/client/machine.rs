//! The client credentials grant (RFC 6749 §4.4) for [`RelyingParty`]: the token request is
//! built by [`relier_core::client_credentials`], authenticated like every other token request
//! (every method relier has except `none`), sent with a DPoP proof or through the mTLS aliases
//! when tokens are bound, and its `token_type` / `cnf` checked as registered.

use relier_core::AuthMethod;
use relier_core::TokenResponse;
use relier_core::client_credentials::{
    ClientCredentialsError, ClientCredentialsRequest, ResourceIndicator,
};
use relier_core::discovery::Endpoint;

use super::RelyingParty;
use crate::Error;

impl RelyingParty {
    /// A token for the client itself (RFC 6749 §4.4) with `scopes`, for `resources` (RFC 8707
    /// §2). DPoP-bound when the relying party has a DPoP key (the response must then be
    /// `token_type` DPoP, RFC 9449 §5), certificate-bound through the mTLS aliases when
    /// registered (RFC 8705 §3).
    ///
    /// # Errors
    /// A public client (`none`), a malformed scope, the OP's refusal, or a response that is
    /// not bound as registered.
    pub async fn client_credentials(
        &self,
        scopes: &[String],
        resources: &[ResourceIndicator],
    ) -> Result<TokenResponse, Error> {
        self.client_credentials_request(&ClientCredentialsRequest::new(
            scopes.to_vec(),
            resources.to_vec(),
        ))
        .await
    }

    /// [`Self::client_credentials`] with every parameter, `authorization_details` (RFC 9396)
    /// included.
    ///
    /// # Errors
    /// As [`Self::client_credentials`].
    pub async fn client_credentials_request(
        &self,
        req: &ClientCredentialsRequest,
    ) -> Result<TokenResponse, Error> {
        // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential
        // clients."
        if self.auth.method() == AuthMethod::None {
            return Err(ClientCredentialsError::PublicClient.into());
        }
        let form = req.form()?;
        let resp = self.authenticated_post(Endpoint::Token, form).await?;
        let tokens = TokenResponse::from_response(&resp)?;
        self.check_binding(&resp, &tokens)?;
        Ok(tokens)
    }
}
