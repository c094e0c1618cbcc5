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
    /// Verify and print an entity statement or a signed JWK set (claims, keys, expiry): what
    /// an operator runs when the broker mails a new statement. An entity statement is checked
    /// as self-signed; a signed JWK set against --entity-statement or --entity-keys. Exit
    /// status 1, with the failed check named, when verification fails.
    Inspect(InspectArgs),
}

/// `relier federation inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The JWS to inspect: a file, or an http(s) URL to fetch (e.g. a `signed_jwks_uri`).
    #[arg(value_name = "FILE|URL")]
    pub source: String,
    /// Verify a signed JWK set with the entity keys of this entity statement (the broker's, as
    /// received).
    #[arg(long, value_name = "FILE", conflicts_with = "entity_keys")]
    pub entity_statement: Option<PathBuf>,
    /// Verify a signed JWK set with these entity keys (PEM, one or more public keys).
    #[arg(long, value_name = "FILE.pem")]
    pub entity_keys: Option<PathBuf>,
}

/// The gateway configuration a federation command reads (its `[federation]` table, its
/// providers and its store).
#[derive(Debug, Args)]
pub struct FederationConfigArgs {
    /// The gateway configuration (TOML; see examples/relier.toml), with a `[federation]` table.
    #[arg(long, value_name = "FILE", default_value = "relier.toml")]
    pub config: PathBuf,
}
