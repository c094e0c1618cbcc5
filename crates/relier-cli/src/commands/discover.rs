//! `relier discover ISSUER`: fetch, check and show the OP's metadata, and recommend a client
//! authentication method for registering with it.

use anyhow::Context as _;
use relier_core::recommend::recommend_for_op;

use crate::args::DiscoverArgs;
use crate::output;

/// Run `discover`.
pub async fn run(a: &DiscoverArgs) -> anyhow::Result<()> {
    let http = super::providers::http_client(a.ca_file.as_deref()).context("--ca-file")?;
    let md = relier::discover(&http, &a.issuer).await?;
    let rec = recommend_for_op(&md);
    if a.json {
        output::json_stdout(&output::discover_json(&md, &rec))
    } else {
        output::stdout(&output::discover_human(&md, &rec))
    }
}
