//! `relier federation inspect FILE|URL`: verify and print an entity statement or a signed JWK
//! set — what an operator runs when the broker mails a new statement.

use std::fmt::Write as _;

use anyhow::{Context as _, bail};
use relier_core::UnixTime;
use relier_core::federation::ENTITY_STATEMENT_TYP;
use relier_core::federation::trust::{self, EntityKeys, VerifiedJwks, VerifiedStatement};
use relier_core::http::HttpRequest;
use relier_jose::jws::UnverifiedJws;
use relier_jose::{Jwk, MAX_PEM_BYTES};

use crate::args::InspectArgs;
use crate::{clock, output};

/// A statement or a signed set is at most this many bytes.
const MAX_JWS_BYTES: u64 = relier_jose::jws::MAX_COMPACT_JWS_BYTES as u64;

/// Run `relier federation inspect`. Exit status 1, with the failed check named, when
/// verification fails.
pub async fn run(a: &InspectArgs) -> anyhow::Result<()> {
    let jws = read_source(&a.source).await?;
    let now = UnixTime(clock::now_secs());
    let header = UnverifiedJws::parse(&jws)
        .with_context(|| format!("{}: not a compact JWS", a.source))?
        .header()
        .clone();
    let text = if header.typ.as_deref() == Some(ENTITY_STATEMENT_TYP) {
        let st = trust::verify_entity_statement(&jws, now)
            .with_context(|| format!("{}: verification failed", a.source))?;
        statement_text(&st, header.kid.as_deref(), now)
    } else {
        let (keys, entity_id) = pinned(a, now)?;
        // With bare entity keys there is no entity id to hold `iss` to: it is printed.
        let entity_id = match entity_id {
            Some(id) => id,
            None => unverified_iss(&jws).unwrap_or_default(),
        };
        let v = trust::verify_signed_jwks(&jws, &keys, &entity_id, now)
            .with_context(|| format!("{}: verification failed", a.source))?;
        jwks_text(&v, now)
    };
    output::stdout(&text)
}

/// The entity keys a signed JWK set is checked with, and the entity id from a statement.
fn pinned(a: &InspectArgs, now: UnixTime) -> anyhow::Result<(EntityKeys, Option<String>)> {
    if let Some(path) = &a.entity_statement {
        let text = read_file(path, MAX_JWS_BYTES)?;
        let st = trust::verify_entity_statement(&text, now)
            .with_context(|| format!("--entity-statement {}", path.display()))?;
        return Ok((st.keys, Some(st.entity_id)));
    }
    if let Some(path) = &a.entity_keys {
        let text = read_file(path, MAX_PEM_BYTES as u64)?;
        let keys = EntityKeys::from_pem(&text)
            .with_context(|| format!("--entity-keys {}", path.display()))?;
        return Ok((keys, None));
    }
    bail!(
        "{}: a signed JWK set is verified with the broker's entity keys: give --entity-statement FILE or --entity-keys FILE.pem",
        a.source
    )
}

fn unverified_iss(jws: &str) -> Option<String> {
    let parsed = UnverifiedJws::parse(jws).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(parsed.unverified_payload()).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

async fn read_source(source: &str) -> anyhow::Result<String> {
    if source.starts_with("https://") || source.starts_with("http://") {
        let http = crate::commands::providers::http_client(None)?;
        let accept = format!(
            "{}, {}",
            relier_core::federation::SIGNED_JWKS_CONTENT_TYPE,
            relier_core::federation::ENTITY_STATEMENT_CONTENT_TYPE
        );
        let resp = http
            .send(HttpRequest::get(source, &accept))
            .await
            .with_context(|| format!("GET {source}"))?;
        if !resp.is_success() {
            bail!("GET {source}: HTTP {}", resp.status);
        }
        let body = String::from_utf8(resp.body).context("the response is not UTF-8")?;
        return Ok(body.trim().to_owned());
    }
    Ok(read_file(std::path::Path::new(source), MAX_JWS_BYTES)?
        .trim()
        .to_owned())
}

fn read_file(path: &std::path::Path, max: u64) -> anyhow::Result<String> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("{}", path.display()))?
        .len();
    if len > max {
        bail!("{}: larger than {max} bytes", path.display());
    }
    std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))
}

fn statement_text(st: &VerifiedStatement, kid: Option<&str>, now: UnixTime) -> String {
    let mut out = format!(
        "entity statement: verified, self-signed by entity key {}\n",
        kid.unwrap_or("?")
    );
    let _ = writeln!(out, "entity id: {}", st.entity_id);
    let _ = writeln!(out, "iat: {}", output::utc(st.iat));
    let _ = writeln!(out, "exp: {}", expiry(st.exp, now));
    if let Some(w) = st.expiry_warning(now) {
        let _ = writeln!(
            out,
            "warning: expires within 30 days ({} days left): ask the broker for a new statement",
            w.days_left
        );
    }
    out.push_str("entity keys:\n");
    let jwks: Vec<Jwk> = st.keys.keys().iter().map(|k| k.jwk().clone()).collect();
    out.push_str(&keys_table(&jwks));
    let mut claims = st.claims.clone();
    claims.remove("jwks");
    let _ = writeln!(
        out,
        "claims:\n{}",
        serde_json::to_string_pretty(&claims).unwrap_or_default()
    );
    out
}

fn jwks_text(v: &VerifiedJwks, now: UnixTime) -> String {
    let mut out = format!(
        "signed JWK set: verified, signed by entity key {}\n",
        v.signed_by
    );
    let _ = writeln!(out, "iss: {}", v.iss);
    if let Some(iat) = v.iat {
        let _ = writeln!(out, "iat: {}", output::utc(iat));
    }
    match v.exp {
        Some(exp) => {
            let _ = writeln!(out, "exp: {}", expiry(exp, now));
        }
        None => out.push_str("exp: none\n"),
    }
    out.push_str("keys:\n");
    out.push_str(&keys_table(&v.keys.keys));
    out
}

/// "2033-01-27 … UTC (in 2244 days)".
fn expiry(exp: u64, now: UnixTime) -> String {
    let rel = if exp >= now.0 {
        format!("in {} days", (exp - now.0) / 86_400)
    } else {
        format!("{} days ago", (now.0 - exp) / 86_400)
    };
    format!("{} ({rel})", output::utc(exp))
}

fn keys_table(keys: &[Jwk]) -> String {
    let dash = |v: Option<&str>| v.unwrap_or("-").to_owned();
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            vec![
                dash(k.kid.as_deref()),
                k.kty.clone(),
                dash(k.alg.as_deref()),
                dash(k.use_.as_deref()),
            ]
        })
        .collect();
    output::table(&["kid", "kty", "alg", "use"], &rows)
}
