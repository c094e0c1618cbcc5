//! `relier doctor ISSUER`: fetch the OP's metadata and keys ([`relier::doctor`]) and print the
//! grades [`relier_core::doctor`] gives them, one line per finding.

use anyhow::Context as _;
use relier_core::doctor::{Grade, Report};

use crate::args::DoctorArgs;
use crate::output;

/// Run `doctor`. Exit status 1 when any finding fails.
pub async fn run(a: &DoctorArgs) -> anyhow::Result<()> {
    let http = super::providers::http_client(a.ca_file.as_deref()).context("--ca-file")?;
    let report = relier::doctor::examine(&http, &a.issuer, a.profile).await?;
    if a.json {
        output::json_stdout(&serde_json::to_value(&report)?)?;
    } else {
        output::stdout(&human(&report))?;
    }
    let failed = report.count(Grade::Fail);
    if failed > 0 {
        anyhow::bail!("{failed} of {} checks failed", report.findings.len());
    }
    Ok(())
}

/// `PASS  check  message  [rule]`, one line each, then the totals.
fn human(r: &Report) -> String {
    let mut out = format!(
        "{} ({})\n",
        r.issuer,
        r.profile.map_or(
            "RFC 9700; FAPI 2.0 items as warnings".to_owned(),
            |p| format!("RFC 9700 and {}", p.title())
        )
    );
    for f in &r.findings {
        out.push_str(&format!(
            "{:<4}  {:<22} {}  [{}]\n",
            f.grade.as_str().to_ascii_uppercase(),
            f.check,
            output::one_line(&f.message),
            f.rule
        ));
    }
    out.push_str(&format!(
        "{} pass, {} warn, {} fail\n",
        r.count(Grade::Pass),
        r.count(Grade::Warn),
        r.count(Grade::Fail)
    ));
    out
}
