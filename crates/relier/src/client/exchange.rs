//! OAuth 2.0 Token Exchange (RFC 8693) for [`RelyingParty`]: the request is built by
//! [`relier_core::token_exchange`], authenticated like every other token request, sent with a
//! DPoP proof or through the mTLS aliases when tokens are bound, and its answer checked.

use relier_core::Secret;
use relier_core::discovery::Endpoint;
use relier_core::token_exchange::{ExchangedToken, TokenExchangeRequest};

use super::RelyingParty;
use crate::Error;

impl RelyingParty {
    /// An access token for `request`'s audience in exchange for `subject_token`, an access
    /// token (RFC 8693 §2.1). Bound as registered, like every token this client gets: DPoP
    /// (`token_type` DPoP, RFC 9449 §5) when it has a DPoP key, certificate-bound through the
    /// mTLS aliases (RFC 8705 §3).
    ///
    /// # Errors
    /// The OP's refusal (RFC 8693 §2.2.2), an answer that is not an access token of the type
    /// asked for, or one that is not bound as registered.
    pub async fn exchange_token(
        &self,
        subject_token: &Secret,
        request: &TokenExchangeRequest,
    ) -> Result<ExchangedToken, Error> {
        let form = request.form(subject_token)?;
        let resp = self.authenticated_post(Endpoint::Token, form).await?;
        let exchanged = ExchangedToken::from_response(&resp)?;
        self.check_binding(&resp, &exchanged.tokens)?;
        Ok(exchanged)
    }
}
