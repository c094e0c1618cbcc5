//! `relier federation …`: the RP's entity statement and signed JWK set.

use crate::args::{FederationCommand, StoreArgs};

mod inspect;

/// Run `relier federation …`.
pub async fn run(command: &FederationCommand, _store: &StoreArgs) -> anyhow::Result<()> {
    match command {
        FederationCommand::Statement(_) | FederationCommand::Jwks(_) => {
            anyhow::bail!("relier federation: not built yet")
        }
        FederationCommand::Inspect(a) => inspect::run(a).await,
    }
}
