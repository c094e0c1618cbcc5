//! `relier discover ISSUER` (or `--webfinger RESOURCE`): fetch, check and show the OP's metadata, and recommend a client
//! authentication method for registering with it.

use anyhow::Context as _;
use relier_core::recommend::recommend_for_op;

use crate::args::DiscoverArgs;
use crate::output;

/// Run `discover`.
pub async fn run(a: &DiscoverArgs) -> anyhow::Result<()> {
    let http = super::providers::http_client(a.ca_file.as_deref()).context("--ca-file")?;
    let md = super::discover_issuer(&http, a.issuer.as_ref(), a.webfinger.as_deref()).await?;
    let rec = recommend_for_op(&md);
    if a.json {
        output::json_stdout(&output::discover_json(&md, &rec))
    } else {
        output::stdout(&output::discover_human(&md, &rec))
    }
}
