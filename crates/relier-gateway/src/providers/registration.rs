//! The registration a `[[providers]]` table states — or a preset, which fills it in
//! ([`crate::presets::expand`]): its keys are read as registration members by
//! [`ProviderSettings::registration`](relier::provider::ProviderSettings::registration), as a
//! registration response or an entity statement's `metadata.openid_relying_party` is: the same
//! metadata gives the same [`Registration`]. An error names the table's key.

use relier_core::registration::Registration;

use crate::config::ProviderConfig;
use crate::error::GatewayError;

/// The table's registration as it states it (no client authentication inferred, no redirect
/// URI).
///
/// # Errors
/// [`GatewayError::Provider`] naming the key relier cannot use.
pub(super) fn stated(p: &ProviderConfig) -> Result<Registration, GatewayError> {
    p.settings
        .registration(None, None)
        .map_err(|e| GatewayError::provider(&p.name, e))
}

/// A preset's subject claim (`preset = "ftn"`: `personal_identity_code`).
pub(super) fn subject_claim(p: &ProviderConfig) -> Option<String> {
    p.preset()
        .and_then(relier::preset::Preset::subject_claim)
        .map(str::to_owned)
}

#[cfg(test)]
#[path = "registration_tests.rs"]
mod tests;
