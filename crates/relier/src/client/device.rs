//! Device login (RFC 8628) for [`RelyingParty`]: the device authorization request with the
//! client's authentication, and one poll of the token endpoint at a time. The decisions
//! (interval, `slow_down`, when to stop) are [`relier_core::device`]'s; the caller sleeps for
//! the seconds a [`DeviceStep::Wait`] names, so time stays in its hands.

use relier_core::device::{self, DeviceAuthorization, DevicePolling, PollStep};
use relier_core::discovery::Endpoint;

use super::{Login, RelyingParty};
use crate::Error;

/// What a poll ended with.
#[derive(Debug)]
pub enum DeviceStep {
    /// Not yet approved: poll again after this many seconds.
    Wait(u64),
    /// Approved: the tokens and the validated ID token.
    Done(Box<Login>),
}

impl RelyingParty {
    /// RFC 8628 §3.1: ask the `device_authorization_endpoint` for a device and user code for
    /// `scope`, authenticated like a token request (DPoP proof and mTLS alias as registered).
    ///
    /// # Errors
    /// The OP has no device authorization endpoint, refused, or answered something unusable.
    pub async fn device_authorization(&self, scope: &str) -> Result<DeviceAuthorization, Error> {
        let resp = self
            .authenticated_post(
                Endpoint::DeviceAuthorization,
                device::authorization_form(scope),
            )
            .await?;
        Ok(DeviceAuthorization::from_response(&resp)?)
    }

    /// The polling state for `auth`, starting now.
    pub fn device_polling(&self, auth: &DeviceAuthorization) -> DevicePolling {
        DevicePolling::new(auth, self.now())
    }

    /// Poll the token endpoint once (RFC 8628 §3.4). Approved: the ID token is validated as
    /// for every login (no nonce: the device flow has none). Pending or `slow_down`: how long
    /// to wait (§3.5).
    ///
    /// # Errors
    /// [`relier_core::device::DeviceError::AccessDenied`] and
    /// [`relier_core::device::DeviceError::Expired`] end the flow; so does any other token
    /// error, an invalid ID token or a response not bound as registered.
    pub async fn poll_device_token(
        &self,
        auth: &DeviceAuthorization,
        polling: &mut DevicePolling,
    ) -> Result<DeviceStep, Error> {
        let resp = self
            .authenticated_post(Endpoint::Token, device::token_form(auth))
            .await?;
        match polling.on_response(&resp, self.now())? {
            PollStep::Wait(secs) => Ok(DeviceStep::Wait(secs)),
            PollStep::Tokens(tokens) => {
                self.check_binding(&resp, &tokens)?;
                let login = self.login_from(*tokens, None, None).await?;
                Ok(DeviceStep::Done(Box::new(login)))
            }
        }
    }
}
