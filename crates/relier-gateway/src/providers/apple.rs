//! A `preset = "apple"` provider's client secret: an ES256 JWT relier mints from the `.p8` key
//! ([`relier_core::apple`]) at start, and again whenever the one in use is within
//! [`RENEW_MARGIN_SECS`](relier_core::apple::RENEW_MARGIN_SECS) of its expiry — checked each
//! time the provider's relying party is taken for a request.

use parking_lot::Mutex;
use relier::credentials::apple_client_secret;
use relier_core::apple::{AppleClientSecret, AppleError, MintedSecret};
use relier_core::{ClientAuth, ClientId, Secret, UnixTime};

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
            p.settings.team_id.as_deref(),
            p.settings.key_id.as_deref(),
            p.settings.private_key_file.as_deref(),
            p.settings.client_id.clone(),
        ) else {
            return Err(err(
                &"preset = \"apple\" needs team_id, key_id, private_key_file and client_id",
            ));
        };
        let client_id = ClientId::new(client_id).map_err(|e| err(&e))?;
        let minter = apple_client_secret(&config.resolve(file), team_id, key_id, client_id)
            .map_err(|e| match e {
                relier::Error::Credentials(e) => err(&format!("private_key_file: {e}")),
                e => err(&e),
            })?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use super::*;
    use relier_core::apple::{CLIENT_SECRET_LIFETIME_SECS, RENEW_MARGIN_SECS};
    use relier_jose::{Algorithm, SigningKey};

    #[test]
    fn a_new_secret_is_minted_only_within_the_margin_of_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let p8 = dir.path().join("AuthKey.p8");
        let key = SigningKey::generate(Algorithm::ES256, None).unwrap();
        std::fs::write(&p8, key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
        let p = ProviderConfig::assembled(
            "apple",
            relier::provider::ProviderSettings {
                client_id: Some("com.example.web".into()),
                team_id: Some("TEAM123456".into()),
                key_id: Some("KEY1234567".into()),
                private_key_file: Some(p8),
                ..Default::default()
            },
        );
        let config = Config::from_toml("public_url = \"https://x\"").unwrap();
        let t0 = 1_700_000_000;
        let (a, first) = AppleSecret::start(&config, &p, t0).unwrap();
        let due = t0 + CLIENT_SECRET_LIFETIME_SECS - RENEW_MARGIN_SECS;
        assert!(a.renewed(t0).unwrap().is_none());
        assert!(a.renewed(due - 1).unwrap().is_none());
        let auth = a.renewed(due).unwrap().unwrap();
        assert_eq!(auth.method(), relier_core::AuthMethod::ClientSecretPost);
        assert_ne!(a.current.lock().secret, first);
        // The new one lasts a day from its minting.
        assert!(a.renewed(due + 1).unwrap().is_none());
    }
}
