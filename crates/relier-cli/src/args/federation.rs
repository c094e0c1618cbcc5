//! Arguments of `relier federation …`: the RP's entity statement and signed JWK set
//! (OpenID Federation 1.0 §3, §5.2.1), as the Finnish Trust Network brokers take them.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `relier federation …`.
#[derive(Debug, Subcommand)]
pub enum FederationCommand {
    /// Print the RP's entity statement (a JWS signed with the active entity key) on stdout:
    /// what is handed to the broker out of band, and what `relier serve` serves at
    /// /.well-known/openid-federation.
    Statement(FederationConfigArgs),
    /// Print the RP's signed JWK set (its public signing and encryption keys, signed with the
    /// active entity key) on stdout: what `relier serve` serves at /.well-known/signed-jwks.
    Jwks(FederationConfigArgs),
}

/// The gateway configuration a federation command reads (its `[federation]` table, its
/// providers and its store).
#[derive(Debug, Args)]
pub struct FederationConfigArgs {
    /// The gateway configuration (TOML; see examples/relier.toml), with a `[federation]` table.
    #[arg(long, value_name = "FILE", default_value = "relier.toml")]
    pub config: PathBuf,
}
