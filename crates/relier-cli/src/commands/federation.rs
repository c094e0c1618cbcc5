//! `relier federation …`: the RP's entity statement and signed JWK set, signed with the
//! store's active entity key, on stdout — exactly what `relier serve` serves at
//! `/.well-known/openid-federation` and `/.well-known/signed-jwks` (the configuration file
//! names the store, as for `relier serve`) — and `inspect`, which verifies a broker's.

use relier_gateway::federation::{Document, sign_from_config};

use crate::args::FederationCommand;
use crate::clock::now_secs;
use crate::output;

mod inspect;

/// Run `relier federation …`.
pub async fn run(command: &FederationCommand) -> anyhow::Result<()> {
    let (args, doc) = match command {
        FederationCommand::Statement(a) => (a, Document::Statement),
        FederationCommand::Jwks(a) => (a, Document::SignedJwks),
        FederationCommand::Inspect(a) => return inspect::run(a).await,
    };
    let config = relier_gateway::Config::from_file(&args.config)?;
    let token = sign_from_config(config, doc, now_secs()).await?;
    output::stdout(&format!("{token}\n"))
}
