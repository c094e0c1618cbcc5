//! `relier discover ISSUER`: fetch, check and show the OP's metadata, and recommend a client
//! authentication method for registering with it.

use anyhow::Context as _;
use relier::{HttpClient, HttpConfig};
use relier_core::recommend::recommend_for_op;

use crate::args::DiscoverArgs;
use crate::output;

/// Run `discover`.
pub async fn run(a: &DiscoverArgs) -> anyhow::Result<()> {
    let ca_pem = a
        .ca_file
        .as_deref()
        .map(relier::credentials::read_ca_file)
        .transpose()
        .context("--ca-file")?;
    let http = HttpClient::new(&HttpConfig {
        ca_pem,
        ..Default::default()
    })?;
    let md = relier::discover(&http, &a.issuer).await?;
    let rec = recommend_for_op(&md);
    if a.json {
        output::json_stdout(&output::discover_json(&md, &rec))
    } else {
        output::stdout(&output::discover_human(&md, &rec))
    }
}
