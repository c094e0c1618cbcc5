//! The broker's checks of what a Service Provider sends: the signed request object of
//! `/oauth/authorize` (ISB README §7) and the client assertion of `/oauth/token` (§8). Each
//! refusal names the failed check.

use std::collections::{HashMap, HashSet};

use relier_jose::jws::UnverifiedJws;
use relier_jose::{Algorithm, Jwk};
use serde_json::{Map, Value};

use super::super::now;
use super::trust::{Sp, signing_key};

/// The scopes the ISB accepts (README §7: "Other scope values are rejected").
const SCOPES: [&str; 5] = [
    "openid",
    "profile",
    "personal_identity_code",
    "weak",
    "strong",
];
/// README §7: a nonce of at least 128 bits of entropy — 22 base64url characters.
pub const MIN_NONCE_CHARS: usize = 22;

/// An authorization request that passed every check.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// `redirect_uri`.
    pub redirect_uri: String,
    /// `state`.
    pub state: Option<String>,
    /// `nonce`.
    pub nonce: String,
    /// The scopes.
    pub scopes: Vec<String>,
    /// Every claim of the request object.
    pub claims: Map<String, Value>,
}

/// The JWS `token`'s payload, verified with the SP's signing key its `kid` names, RS256 only.
fn verified(token: &str, keys: &[Jwk], what: &str) -> Result<Map<String, Value>, String> {
    let jws = UnverifiedJws::parse(token).map_err(|e| format!("{what}: not a JWS: {e}"))?;
    if jws.header_alg() != "RS256" {
        return Err(format!(
            "{what}: alg {:?}; the ISB takes RS256 only",
            jws.header_alg()
        ));
    }
    let key = signing_key(keys, jws.header().kid.as_deref()).map_err(|e| format!("{what}: {e}"))?;
    let payload = jws
        .verify(Algorithm::RS256, &key)
        .map_err(|e| format!("{what}: signature: {e}"))?;
    serde_json::from_slice(payload).map_err(|e| format!("{what}: claims: {e}"))
}

fn text<'a>(c: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    c.get(k).and_then(Value::as_str)
}

/// `exp` present and in the future.
fn unexpired(c: &Map<String, Value>, what: &str) -> Result<(), String> {
    match c.get("exp").and_then(Value::as_u64) {
        Some(e) if e > now() => Ok(()),
        Some(_) => Err(format!("{what}: expired")),
        None => Err(format!("{what}: no exp")),
    }
}

/// `jti` present and never seen before (then remembered).
fn fresh_jti(c: &Map<String, Value>, seen: &mut HashSet<String>, what: &str) -> Result<(), String> {
    let jti = text(c, "jti").ok_or_else(|| format!("{what}: no jti"))?;
    if !seen.insert(jti.to_owned()) {
        return Err(format!("{what}: jti {jti:?} used before"));
    }
    Ok(())
}

/// README §7: the request object of `/oauth/authorize` from `query` (only `request`; the
/// outer `client_id`, `response_type` and `scope` OIDC Core §6.1 allows must then equal the
/// object's).
pub fn authorization(
    sp: &Sp,
    keys: &[Jwk],
    query: &HashMap<String, String>,
    jtis: &mut HashSet<String>,
    idps: &[&str],
) -> Result<Authorization, String> {
    let object = query
        .get("request")
        .ok_or("authorize: no request parameter (only signed request objects are accepted)")?;
    for k in query.keys() {
        if !matches!(
            k.as_str(),
            "request" | "client_id" | "response_type" | "scope"
        ) {
            return Err(format!(
                "authorize: parameter {k:?} outside the request object"
            ));
        }
    }
    let c = verified(object, keys, "request object")?;
    for k in ["client_id", "response_type", "scope"] {
        if let Some(outer) = query.get(k)
            && text(&c, k) != Some(outer.as_str())
        {
            return Err(format!(
                "authorize: outer {k} differs from the request object's"
            ));
        }
    }
    if text(&c, "client_id") != Some(sp.client_id.as_str()) {
        return Err("request object: client_id is not the SP's".into());
    }
    if text(&c, "iss") != Some(sp.client_id.as_str()) {
        return Err("request object: iss is not the client_id".into());
    }
    if text(&c, "response_type") != Some("code") {
        return Err("request object: response_type is not code".into());
    }
    let redirect_uri = text(&c, "redirect_uri").ok_or("request object: no redirect_uri")?;
    if !sp.allows_redirect(redirect_uri) {
        return Err(format!(
            "request object: redirect_uri {redirect_uri:?} is not registered"
        ));
    }
    let scopes: Vec<String> = text(&c, "scope")
        .unwrap_or_default()
        .split(' ')
        .map(str::to_owned)
        .collect();
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return Err(format!("request object: scope {bad:?} is not accepted"));
    }
    for needed in ["openid", "personal_identity_code"] {
        if !scopes.iter().any(|s| s == needed) {
            return Err(format!("request object: scope lacks {needed}"));
        }
    }
    let nonce = text(&c, "nonce").ok_or("request object: no nonce")?;
    if nonce.len() < MIN_NONCE_CHARS {
        return Err(format!(
            "request object: nonce of {} characters (at least {MIN_NONCE_CHARS}: 128 bits)",
            nonce.len()
        ));
    }
    if let Some(l) = text(&c, "ui_locales")
        && !matches!(l, "fi" | "sv" | "en")
    {
        return Err(format!(
            "request object: ui_locales {l:?} is not fi, sv or en"
        ));
    }
    if let Some(idp) = text(&c, "ftn_idp_id")
        && !idps.contains(&idp)
    {
        return Err(format!("request object: unknown ftn_idp_id {idp:?}"));
    }
    if text(&c, "ftn_spname").is_none_or(str::is_empty) {
        return Err("request object: no ftn_spname".into());
    }
    unexpired(&c, "request object")?;
    fresh_jti(&c, jtis, "request object")?;
    Ok(Authorization {
        redirect_uri: redirect_uri.to_owned(),
        state: text(&c, "state").map(str::to_owned),
        nonce: nonce.to_owned(),
        scopes,
        claims: c,
    })
}

/// README §8: the token request's `private_key_jwt` client assertion: RS256 with `kid`,
/// `iss` = `sub` = client_id, `aud` = the token endpoint URL exactly, `jti` unused, `exp`
/// in the future.
pub fn client_assertion(
    sp: &Sp,
    keys: &[Jwk],
    form: &HashMap<String, String>,
    token_endpoint: &str,
    jtis: &mut HashSet<String>,
) -> Result<(), String> {
    if form.get("client_assertion_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return Err("token: client_assertion_type is not jwt-bearer".into());
    }
    let assertion = form
        .get("client_assertion")
        .ok_or("token: no client_assertion")?;
    let c = verified(assertion, keys, "client assertion")?;
    for k in ["iss", "sub"] {
        if text(&c, k) != Some(sp.client_id.as_str()) {
            return Err(format!("client assertion: {k} is not the client_id"));
        }
    }
    if text(&c, "aud") != Some(token_endpoint) {
        return Err(format!(
            "client assertion: aud {:?} is not the token endpoint URL {token_endpoint}",
            c.get("aud")
        ));
    }
    unexpired(&c, "client assertion")?;
    fresh_jti(&c, jtis, "client assertion")
}
