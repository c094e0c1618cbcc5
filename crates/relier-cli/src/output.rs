//! Rendering: JSON for machines (stdout holds nothing else), short human summaries, the one-line
//! error, and notes on stderr.

use std::fmt::Write as _;
use std::io::Write as _;

use relier_core::discovery::{Endpoint, ProviderMetadata};
use relier_core::recommend::Recommendation;
use relier_core::{AuthMethod, TokenResponse, VerifiedIdToken};
use serde_json::{Map, Value, json};

/// Write `text` to stdout (a closed stdout is an error, not a panic).
pub fn stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Write a JSON value on stdout, followed by a newline.
pub fn json_stdout(v: &Value) -> anyhow::Result<()> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    stdout(&s)
}

/// One line on stderr, prefixed `relier: `, flushed at once. Errors writing stderr are ignored.
pub fn note(msg: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "relier: {}", one_line(msg));
    let _ = err.flush();
}

/// A line on stderr exactly as given (the authorization URL: nothing else on its line).
pub fn raw_stderr_line(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", one_line(line));
    let _ = err.flush();
}

/// The error line: `relier: error: <cause>: <cause>…` on one line.
pub fn error_line(e: &anyhow::Error) -> String {
    format!("relier: error: {}", one_line(&chain(e)))
}

/// Join an error's causes with ": ", skipping a cause whose text is already included (many
/// wrapping errors repeat their source in their own message).
pub fn chain(e: &anyhow::Error) -> String {
    let mut s = String::new();
    for cause in e.chain() {
        let m = cause.to_string();
        if m.is_empty() || s.contains(&m) {
            continue;
        }
        if !s.is_empty() {
            s.push_str(": ");
        }
        s.push_str(&m);
    }
    s
}

/// Replace control characters (newlines, escapes from an OP's error_description) by their
/// escaped form, so a message stays on one line and cannot drive the terminal.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// [`one_line`] applied to every line of `s` (text built from values an OP controls).
pub fn one_line_each(s: &str) -> String {
    s.lines()
        .fold(String::with_capacity(s.len()), |mut out, l| {
            out.push_str(&one_line(l));
            out.push('\n');
            out
        })
}

/// A text table: columns as wide as their widest cell, two spaces apart; cells on one line.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cells: Vec<Vec<String>> =
        std::iter::once(headers.iter().map(|h| (*h).to_owned()).collect())
            .chain(rows.iter().map(|r| r.iter().map(|c| one_line(c)).collect()))
            .collect();
    let mut widths = vec![0usize; headers.len()];
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut s = String::new();
    for row in &cells {
        let mut line = String::new();
        for (c, w) in row.iter().zip(&widths) {
            let _ = write!(line, "{c:<w$}  ");
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

/// Escape text for HTML element content and attribute values (the gateway's escaper).
pub use relier_gateway::html_escape;

/// `discover --json`: every member as received, plus the recommendation.
pub fn discover_json(md: &ProviderMetadata, rec: &Recommendation) -> Value {
    let mut m = md.raw.clone();
    m.insert(
        "recommended_auth_method".into(),
        Value::String(rec.method.as_str().to_owned()),
    );
    m.insert("recommendation".into(), Value::String(rec.reason.clone()));
    Value::Object(m)
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "(not listed)".to_owned()
    } else {
        v.join(", ")
    }
}

/// `discover` for people.
pub fn discover_human(md: &ProviderMetadata, rec: &Recommendation) -> String {
    let mut s = String::new();
    let mut line = |k: &str, v: &str| {
        let _ = writeln!(s, "{k:<34} {}", one_line(v));
    };
    line("issuer", md.issuer.as_str());
    line("authorization_endpoint", &md.authorization_endpoint);
    for (name, v) in [
        ("token_endpoint", &md.token_endpoint),
        ("userinfo_endpoint", &md.userinfo_endpoint),
        ("jwks_uri", &md.jwks_uri),
        ("introspection_endpoint", &md.introspection_endpoint),
        ("revocation_endpoint", &md.revocation_endpoint),
        ("end_session_endpoint", &md.end_session_endpoint),
        ("registration_endpoint", &md.registration_endpoint),
        (
            "pushed_authorization_request_endpoint",
            &md.pushed_authorization_request_endpoint,
        ),
        (
            "device_authorization_endpoint",
            &md.device_authorization_endpoint,
        ),
    ] {
        if let Some(u) = v {
            line(name, u);
        }
    }
    let methods = match &md.token_endpoint_auth_methods_supported {
        Some(m) => list(m),
        None => "(not listed: client_secret_basic by default)".to_owned(),
    };
    line("token endpoint auth methods", &methods);
    line(
        "client assertion algorithms",
        &list(&md.token_endpoint_auth_signing_alg_values_supported),
    );
    line(
        "ID token signing algorithms",
        &list(&md.id_token_signing_alg_values_supported),
    );
    line("PKCE methods", &list(&md.code_challenge_methods_supported));
    line("response modes", &list(&md.response_modes_supported));
    match &md.mtls_endpoint_aliases {
        Some(_) => {
            for kind in [
                Endpoint::Token,
                Endpoint::UserInfo,
                Endpoint::Introspection,
                Endpoint::Revocation,
                Endpoint::PushedAuthorization,
                Endpoint::DeviceAuthorization,
            ] {
                let plain = md.endpoint(kind, false);
                if let Some(alias) = md.endpoint(kind, true).filter(|a| Some(*a) != plain) {
                    line(&format!("mTLS alias of {}", kind.member()), alias);
                }
            }
        }
        None => line("mTLS endpoint aliases", "none"),
    }
    line(
        "iss in authorization response",
        if md.authorization_response_iss_parameter_supported {
            "supported (RFC 9207: required and checked)"
        } else {
            "not advertised (checked when present)"
        },
    );
    line("recommended auth method", rec.method.as_str());
    let _ = writeln!(s, "\n{}", one_line(&rec.reason));
    s
}

fn secret_or_null(s: Option<&relier_core::Secret>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.expose().to_owned()))
}

/// The object printed by `login --json` and `token refresh --json`.
pub fn tokens_json(
    method: AuthMethod,
    tokens: &TokenResponse,
    id_token: Option<&VerifiedIdToken>,
    userinfo: Option<&Map<String, Value>>,
) -> Value {
    json!({
        "auth_method": method.as_str(),
        // null only if a claim the validation skipped is not valid JSON text (see
        // `IdTokenClaims::all`).
        "id_token_claims": id_token
            .and_then(|t| t.claims().all().ok())
            .map_or(Value::Null, |all| Value::Object(all.clone())),
        "userinfo": userinfo.map_or(Value::Null, |u| Value::Object(u.clone())),
        "token_type": tokens.token_type,
        "expires_in": tokens.expires_in,
        "scope": tokens.scope,
        "access_token": tokens.access_token.expose(),
        "refresh_token": secret_or_null(tokens.refresh_token.as_ref()),
        // The validated (for an encrypted ID token: the decrypted, signed) token, as
        // id_token_hint and `token refresh --id-token-file` want it.
        "id_token": secret_or_null(id_token.map(VerifiedIdToken::raw).or(tokens.id_token.as_ref())),
    })
}

/// `token client-credentials --json`: the token response (RFC 6749 §5.1, RFC 9396 §7) and the
/// client authentication used.
pub fn client_credentials_json(method: AuthMethod, tokens: &TokenResponse) -> Value {
    let mut v = json!({
        "auth_method": method.as_str(),
        "token_type": tokens.token_type,
        "expires_in": tokens.expires_in,
        "scope": tokens.scope,
        "access_token": tokens.access_token.expose(),
        "refresh_token": secret_or_null(tokens.refresh_token.as_ref()),
    });
    if let (Some(d), Some(obj)) = (&tokens.authorization_details, v.as_object_mut()) {
        obj.insert("authorization_details".into(), d.clone());
    }
    v
}

/// `login` / `token refresh` for people: who logged in, and what was received (never tokens).
pub fn tokens_human(
    method: AuthMethod,
    tokens: &TokenResponse,
    id_token: Option<&VerifiedIdToken>,
    userinfo: Option<&Map<String, Value>>,
    now: u64,
) -> String {
    let mut s = String::new();
    let mut line = |k: &str, v: &str| {
        let _ = writeln!(s, "{k:<15} {}", one_line(v));
    };
    if let Some(t) = id_token {
        let c = t.claims();
        line("sub", &c.sub);
        line("iss", &c.iss);
        for claim in ["email", "name"] {
            let v = c.get(claim).or_else(|| userinfo.and_then(|u| u.get(claim)));
            if let Some(Value::String(v)) = v {
                line(claim, v);
            }
        }
        line("id_token exp", &when(c.exp, now));
        line("id_token alg", t.alg().as_str());
    }
    line("auth method", method.as_str());
    let at = match tokens.expires_in {
        Some(secs) => format!(
            "received ({}), {}",
            tokens.token_type,
            when(now.saturating_add(secs), now)
        ),
        None => format!("received ({}), no expires_in", tokens.token_type),
    };
    line("access token", &at);
    if let Some(scope) = &tokens.scope {
        line("scope", scope);
    }
    line(
        "refresh token",
        if tokens.refresh_token.is_some() {
            "received"
        } else {
            "none"
        },
    );
    if let Some(u) = userinfo {
        line("userinfo", &format!("{} claims", u.len()));
    }
    let _ = writeln!(
        s,
        "\nTokens are not printed in this mode; run again with --json to get them on stdout."
    );
    s
}

/// `token introspect` for people: one member per line.
pub fn introspection_human(m: &Map<String, Value>) -> String {
    let mut s = String::new();
    if let Some(v) = m.get("active") {
        let _ = writeln!(s, "{:<15} {v}", "active");
    }
    for (k, v) in m.iter().filter(|(k, _)| k.as_str() != "active") {
        let v = match v {
            Value::String(x) => x.clone(),
            other => other.to_string(),
        };
        let _ = writeln!(s, "{:<15} {}", one_line(k), one_line(&v));
    }
    s
}

/// "2024-05-01 12:00:00 UTC (in 3600 s)".
pub fn when(t: u64, now: u64) -> String {
    let rel = if t >= now {
        format!("in {} s", t - now)
    } else {
        format!("{} s ago", now - t)
    };
    format!("{} ({rel})", utc(t))
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC` (proleptic Gregorian calendar).
pub fn utc(t: u64) -> String {
    let days = t / 86_400;
    let rem = t % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's `civil_from_days`, for days since 1970-01-01 (non-negative).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html() {
        assert_eq!(
            html_escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(html_escape("plain é"), "plain é");
    }

    #[test]
    fn one_line_escapes_controls() {
        assert_eq!(one_line("a\nb\r\u{1b}[31m"), "a\\nb\\r\\u{1b}[31m");
    }

    #[test]
    fn error_chain_is_one_line_without_repeats() {
        let inner = anyhow::anyhow!("invalid key: bad");
        let e = inner
            .context("key: invalid key: bad")
            .context("--private-key k.pem");
        assert_eq!(chain(&e), "--private-key k.pem: key: invalid key: bad");
        let e = anyhow::anyhow!("callback: the OP returned error x: line1\nline2");
        assert_eq!(
            error_line(&e),
            "relier: error: callback: the OP returned error x: line1\\nline2"
        );
    }

    #[test]
    fn tables_align() {
        let t = table(
            &["A", "LONGER"],
            &[
                vec!["wide cell".into(), "x".into()],
                vec!["y\n".into(), "z".into()],
            ],
        );
        assert_eq!(t, "A          LONGER\nwide cell  x\ny\\n        z\n");
    }

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(when(110, 100), "1970-01-01 00:01:50 UTC (in 10 s)");
        assert_eq!(when(90, 100), "1970-01-01 00:01:30 UTC (10 s ago)");
        // no overflow on absurd values
        let _ = utc(u64::MAX);
    }

    #[test]
    fn discover_json_keeps_everything() {
        let doc = json!({
            "issuer": "https://op.example.com",
            "authorization_endpoint": "https://op.example.com/a",
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
            "x_vendor": {"nested": [1, 2]},
        });
        let iss = relier_core::IssuerUrl::new("https://op.example.com").unwrap();
        let md = ProviderMetadata::from_json(&iss, doc.to_string().as_bytes()).unwrap();
        let rec = relier_core::recommend::recommend_for_op(&md);
        let v = discover_json(&md, &rec);
        assert_eq!(v["x_vendor"]["nested"][1], 2);
        assert_eq!(v["recommended_auth_method"], "private_key_jwt");
        assert!(
            v["recommendation"]
                .as_str()
                .unwrap()
                .contains("private_key_jwt")
        );
        let h = discover_human(&md, &rec);
        assert!(h.contains("https://op.example.com/a"));
        assert!(h.contains("not advertised"));
    }
}
