//! A `preset = "apple"` provider's client secret: an ES256 JWT relier mints from the `.p8` key
//! ([`relier_core::apple`]) at start, and again whenever the one in use is within
//! [`RENEW_MARGIN_SECS`](relier_core::apple::RENEW_MARGIN_SECS) of its expiry — checked each
//! time the provider's relying party is taken for a request.

use parking_lot::Mutex;
use relier::credentials::KeySource;
use relier_core::apple::{AppleClientSecret, AppleError, MintedSecret};
use relier_core::{Algorithm, ClientAuth, ClientId, Secret, UnixTime};

use crate::config::{Config, ProviderConfig};
use crate::error::GatewayError;

/// The minter and the secret in use.
pub(super) struct AppleSecret {
    minter: AppleClientSecret,
    current: Mutex<MintedSecret>,
}

impl AppleSecret {
    /// Loads `private_key_file` and mints the first secret (returned for the first relying
    /// party).
    pub(super) fn start(
        config: &Config,
        p: &ProviderConfig,
        now: u64,
    ) -> Result<(Self, Secret), GatewayError> {
        let err = |e: &dyn std::fmt::Display| GatewayError::provider(&p.name, e);
        // The preset made sure every one of these is set.
        let (Some(team_id), Some(key_id), Some(file), Some(client_id)) = (
            p.team_id.as_deref(),
            p.key_id.as_deref(),
            p.private_key_file.as_deref(),
            p.client_id.clone(),
        ) else {
            return Err(err(
                &"preset = \"apple\" needs team_id, key_id, private_key_file and client_id",
            ));
        };
        let key = KeySource::file(config.resolve(file), None, Some(Algorithm::ES256))
            .load()
            .map_err(|e| err(&format!("private_key_file: {e}")))?;
        let client_id = ClientId::new(client_id).map_err(|e| err(&e))?;
        let minter =
            AppleClientSecret::new(team_id, key_id, client_id, key).map_err(|e| err(&e))?;
        let first = mint(&minter, now).map_err(|e| err(&e))?;
        let secret = first.secret.clone();
        Ok((
            AppleSecret {
                minter,
                current: Mutex::new(first),
            },
            secret,
        ))
    }

    /// The client authentication with a new secret when the one in use is due for renewal at
    /// `now`; `None` while it is not.
    pub(super) fn renewed(&self, now: u64) -> Result<Option<ClientAuth>, AppleError> {
        let mut current = self.current.lock();
        if !current.needs_renewal(UnixTime(now)) {
            return Ok(None);
        }
        let fresh = mint(&self.minter, now)?;
        let auth =
            ClientAuth::client_secret_post(self.minter.client_id().clone(), fresh.secret.clone());
        *current = fresh;
        Ok(Some(auth))
    }
}

fn mint(minter: &AppleClientSecret, now: u64) -> Result<MintedSecret, AppleError> {
    minter.mint(UnixTime(now), &aws_lc_rs::rand::SystemRandom::new())
}
