//! What the application behind the gateway is told about the user: the identity headers
//! (`X-Relier-*` and the `[headers]` claim mappings), computed from a session — and the rule that
//! no client-sent header can pass for one of them.
//!
//! Header names are compared the way the most lenient application framework reads them:
//! case-insensitively and with `_` read as `-` (CGI, WSGI, PHP-FPM and Rack turn both into the
//! same `HTTP_X_RELIER_EMAIL` variable), so `X_Relier_Email` is as much an identity header as
//! `X-Relier-Email` (the oauth2-proxy CVE-2025-64484 class).

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use relier_store::SessionRecord;
use serde_json::Value;

use crate::names;

/// `X-Relier-Provider`.
pub const H_PROVIDER: &str = "x-relier-provider";
/// `X-Relier-Issuer`.
pub const H_ISSUER: &str = "x-relier-issuer";
/// `X-Relier-Subject`.
pub const H_SUBJECT: &str = "x-relier-subject";
/// `X-Relier-Email`.
pub const H_EMAIL: &str = "x-relier-email";
/// `X-Relier-Name`.
pub const H_NAME: &str = "x-relier-name";
/// `X-Relier-Client-Id` (`[[api]]` tokens).
pub const H_CLIENT_ID: &str = "x-relier-client-id";
/// `X-Relier-Scope` (`[[api]]` tokens).
pub const H_SCOPE: &str = "x-relier-scope";
/// `X-Relier-Auth`: `session`, `bearer` or `dpop` (`[[api]]` paths).
pub const H_AUTH: &str = "x-relier-auth";
/// The built-in identity headers.
pub const BUILT_IN: [&str; 5] = [H_PROVIDER, H_ISSUER, H_SUBJECT, H_EMAIL, H_NAME];
/// Every name starting with this is an identity header.
const PREFIX: &str = "x-relier-";

/// The identity header names: the built-in `X-Relier-*` family and the `[headers]` mappings.
#[derive(Debug, Clone, Default)]
pub struct IdentityHeaders {
    /// Claim → header mappings, in configuration order.
    mapped: Vec<(HeaderName, String)>,
}

impl IdentityHeaders {
    /// With the `[headers]` mappings (names already validated).
    pub fn new(mapped: Vec<(HeaderName, String)>) -> Self {
        IdentityHeaders { mapped }
    }

    /// Whether a request header with this name could be read as an identity header.
    pub fn is_identity(&self, name: &str) -> bool {
        starts_with_normalized(name, PREFIX)
            || self
                .mapped
                .iter()
                .any(|(h, _)| eq_normalized(name, h.as_str()))
    }

    /// Whether [`Self::strip_client_sent`] removes a request header with this name.
    pub fn is_stripped(&self, name: &HeaderName, allow_underscores: bool) -> bool {
        (!allow_underscores && name.as_str().contains('_')) || self.is_identity(name.as_str())
    }

    /// The first client-sent header that could pass for an identity header, if any.
    pub fn first_spoofed<'a>(&self, headers: &'a HeaderMap) -> Option<&'a HeaderName> {
        headers.keys().find(|k| self.is_identity(k.as_str()))
    }

    /// Removes every header that could pass for an identity header, and — unless
    /// `allow_underscores` — every header with `_` in its name (what nginx does by default:
    /// such names are ambiguous to the application).
    pub fn strip_client_sent(&self, headers: &mut HeaderMap, allow_underscores: bool) {
        let doomed_name = |k: &HeaderName| self.is_stripped(k, allow_underscores);
        // The common case, nothing to remove, allocates nothing.
        if !headers.keys().any(doomed_name) {
            return;
        }
        let doomed: Vec<HeaderName> = headers.keys().filter(|k| doomed_name(k)).cloned().collect();
        for k in doomed {
            headers.remove(k);
        }
    }

    /// The headers for an access token on an `[[api]]` path: provider, issuer, subject (for a
    /// client_credentials token usually the client id), client id, scope, how it was presented
    /// (`X-Relier-Auth`), then each mapping whose claim has a value — the e-mail only when the
    /// token says it is verified.
    pub fn for_token(
        &self,
        provider: &str,
        t: &relier_core::access_token::VerifiedAccessToken,
        kind: crate::api::AuthKind,
    ) -> Vec<(HeaderName, HeaderValue)> {
        let mut out = Vec::with_capacity(6 + self.mapped.len());
        let mut push = |name: &'static str, value: Option<&str>| {
            if let Some(v) = value.filter(|v| !v.is_empty()).and_then(header_value) {
                out.push((HeaderName::from_static(name), v));
            }
        };
        let scope = t.scopes.join(" ");
        push(H_PROVIDER, Some(provider));
        push(H_ISSUER, Some(&t.iss));
        push(H_SUBJECT, names::clean_identifier(&t.sub));
        push(H_CLIENT_ID, names::clean_identifier(&t.client_id));
        push(H_SCOPE, Some(&scope));
        push(H_AUTH, Some(kind.as_str()));
        if self.mapped.is_empty() {
            return out;
        }
        let claims = match t.claims() {
            Ok(all) => Value::Object(all.clone()),
            Err(e) => {
                tracing::warn!(error = %e, "api: the token's claims do not read; no [headers] mappings");
                return out;
            }
        };
        let verified = email_verified(&claims);
        for (name, claim) in &self.mapped {
            if is_email_claim(claim) && !verified {
                continue;
            }
            if let Some(v) = claim_header(&claims, claim) {
                out.push((name.clone(), v));
            }
        }
        out
    }

    /// The headers for a session: provider, issuer, subject, a *verified* e-mail address, the
    /// display name, then each mapping whose claim has a value; a local session
    /// ([`crate::embed::LOCAL_PROVIDER`]) adds `X-Relier-Auth: local`. Names are cleaned
    /// ([`names::clean_name`]); an identifier that holds a character a name would lose is not
    /// handed on ([`names::clean_identifier`]).
    pub fn for_session(&self, rec: &SessionRecord) -> Vec<(HeaderName, HeaderValue)> {
        let verified = email_verified(&rec.claims);
        let mut out = Vec::with_capacity(5 + self.mapped.len());
        let mut push = |name: &'static str, value: Option<&str>| {
            if let Some(v) = value.and_then(header_value) {
                out.push((HeaderName::from_static(name), v));
            }
        };
        push(H_PROVIDER, Some(&rec.provider));
        // A session the application started itself says so: never an OP's identity.
        if rec.provider == crate::embed::LOCAL_PROVIDER {
            push(H_AUTH, Some("local"));
        }
        push(H_ISSUER, Some(&rec.iss));
        push(H_SUBJECT, names::clean_identifier(&rec.sub));
        // An address the OP has not verified is anyone's claim: it is kept in the session
        // (with its flag) but never handed on as an identity (OIDC Core §5.1 email_verified).
        push(
            H_EMAIL,
            rec.email
                .as_deref()
                .filter(|_| verified)
                .and_then(names::clean_identifier),
        );
        // Cleaned at login; again for a session stored before names were.
        push(
            H_NAME,
            rec.name.as_deref().map(names::clean_name).as_deref(),
        );
        for (name, claim) in &self.mapped {
            if is_email_claim(claim) && !verified {
                continue;
            }
            if let Some(v) = claim_header(&rec.claims, claim) {
                out.push((name.clone(), v));
            }
        }
        out
    }
}

/// Whether the claims say the `email` is verified: `email_verified` is `true` (or the string
/// `"true"`, as Sign in with Apple sends it).
pub fn email_verified(claims: &Value) -> bool {
    match claims.get("email_verified") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

/// Entra ID's groups overage: a user in more groups than a token holds gets no `groups` claim
/// but `_claim_names.groups` naming a `_claim_sources` entry (the Graph API)
/// (<https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference#groups-overage-claim>).
/// Returns the source's name.
pub fn groups_overage(claims: &serde_json::Map<String, Value>) -> Option<String> {
    let source = claims.get("_claim_names")?.get("groups")?;
    Some(source.as_str().unwrap_or("?").to_owned())
}

/// A claim path that yields the e-mail address.
fn is_email_claim(path: &str) -> bool {
    path == "email"
}

/// The value of a claim (`a.b` walks into objects) as a header value: strings as they are,
/// arrays joined with `,`, other values as JSON; a name ([`names::NAME_CLAIMS`]) cleaned. `None`
/// if absent, null, or — any other claim may be an identifier — holding a character a name
/// would lose (control, bidi, line separator or zero-width: [`names::is_hidden`]).
fn claim_header(claims: &Value, path: &str) -> Option<HeaderValue> {
    let v = claims
        .get(path)
        .or_else(|| path.split('.').try_fold(claims, |v, part| v.get(part)))?;
    let text = match v {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    };
    if names::NAME_CLAIMS.contains(&path) {
        header_value(&names::clean_name(&text))
    } else {
        names::clean_identifier(&text).and_then(header_value)
    }
}

/// `s` as a header value; `None` for what RFC 9110 §5.5 does not allow (control characters).
fn header_value(s: &str) -> Option<HeaderValue> {
    HeaderValue::from_bytes(s.as_bytes()).ok()
}

/// A header name as an application framework may read it: lower case, `_` as `-`.
fn normalized(b: u8) -> u8 {
    if b == b'_' {
        b'-'
    } else {
        b.to_ascii_lowercase()
    }
}

/// `a` and `b` name the same header once normalised.
pub fn eq_normalized(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .all(|(x, y)| normalized(x) == normalized(y))
}

fn starts_with_normalized(name: &str, prefix: &str) -> bool {
    name.get(..prefix.len())
        .is_some_and(|head| eq_normalized(head, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use relier_core::Secret;
    use serde_json::json;

    fn mapped() -> IdentityHeaders {
        IdentityHeaders::new(vec![
            (
                HeaderName::from_static("x-forwarded-user"),
                "preferred_username".into(),
            ),
            (HeaderName::from_static("x-user-email"), "email".into()),
        ])
    }

    fn rec(claims: Value, email: Option<&str>) -> SessionRecord {
        SessionRecord {
            provider: "op".into(),
            iss: "https://op".into(),
            sub: "alice".into(),
            sid: None,
            email: email.map(str::to_owned),
            name: Some("Alice".into()),
            claims,
            access_token: None,
            refresh_token: None,
            id_token: None,
            dpop_key: None,
            access_expires_at: None,
            csrf_token: Secret::new(String::from("c")),
            created_at: 0,
            last_seen_at: 0,
            idle_expires_at: 1,
            absolute_expires_at: 1,
            version: 0,
            app_data: None,
        }
    }

    #[test]
    fn claim_values_as_headers() {
        let c = json!({"groups": ["a", "b"], "n": 3, "o": {"x": "y"}, "bad": "a\nb", "z": null,
                        "dotted.name": "d"});
        assert_eq!(claim_header(&c, "groups").unwrap(), "a,b");
        assert_eq!(claim_header(&c, "n").unwrap(), "3");
        assert_eq!(claim_header(&c, "o.x").unwrap(), "y");
        assert_eq!(claim_header(&c, "dotted.name").unwrap(), "d");
        assert_eq!(claim_header(&c, "o").unwrap(), "{\"x\":\"y\"}");
        assert!(claim_header(&c, "bad").is_none());
        assert!(claim_header(&c, "z").is_none());
        assert!(claim_header(&c, "missing").is_none());
    }

    /// A mapped name is cleaned; any other claim with a hidden character (C1 included, which
    /// a header value would take) is not handed on.
    #[test]
    fn mapped_names_cleaned_and_identifiers_with_hidden_characters_omitted() {
        let c = json!({"name": "Ada\u{202E}\u{2028}", "nickname": "\u{85}Al\u{200D}",
                        "preferred_username": "admin\u{200B}", "groups": ["a", "b\u{9B}"],
                        "login": "x\u{7F}"});
        assert_eq!(claim_header(&c, "name").unwrap(), "Ada");
        assert_eq!(claim_header(&c, "nickname").unwrap(), "Al");
        for identifier in ["preferred_username", "groups", "login"] {
            assert!(claim_header(&c, identifier).is_none(), "{identifier}");
        }
        let ids = mapped();
        let mut r = rec(
            json!({"email": "a\u{202E}@x", "email_verified": true}),
            Some("a\u{202E}@x"),
        );
        r.name = Some("Mallory\u{202E}\u{2029}".into());
        r.sub = "al\u{200B}ice".into();
        let h = ids.for_session(&r);
        let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(get(H_NAME).unwrap(), "Mallory");
        assert!(get(H_SUBJECT).is_none());
        assert!(get(H_EMAIL).is_none());
        assert!(get("x-user-email").is_none());
    }

    #[test]
    fn spellings_that_frameworks_read_as_identity_headers() {
        let ids = mapped();
        for spoof in [
            "x-relier-email",
            "x_relier_email",
            "x-relier_subject",
            "x_relier-anything",
            "x-forwarded-user",
            "x_forwarded_user",
            "x_user_email",
        ] {
            assert!(ids.is_identity(spoof), "{spoof}");
        }
        for fine in ["x-relie", "x-forwarded-users", "accept", "x-user"] {
            assert!(!ids.is_identity(fine), "{fine}");
        }
    }

    #[test]
    fn stripping_removes_aliases_and_underscored_names() {
        let ids = mapped();
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("x_relier_email", "admin@example.com"),
            ("x-relier-subject", "mallory"),
            ("x_forwarded_user", "root"),
            ("x_custom_thing", "1"),
            ("accept", "*/*"),
        ] {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let mut allowed = h.clone();
        ids.strip_client_sent(&mut allowed, true);
        let mut left: Vec<&str> = allowed.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["accept", "x_custom_thing"]);
        ids.strip_client_sent(&mut h, false);
        assert_eq!(
            h.keys().map(HeaderName::as_str).collect::<Vec<_>>(),
            ["accept"]
        );
    }

    #[test]
    fn only_a_verified_email_is_handed_on() {
        let ids = mapped();
        let names = |r: &SessionRecord| -> Vec<String> {
            ids.for_session(r)
                .iter()
                .map(|(k, _)| k.as_str().to_owned())
                .collect()
        };
        let base = json!({"email": "a@example.com", "preferred_username": "alice"});
        for claims in [
            base.clone(),
            json!({"email": "a@example.com", "email_verified": false}),
            json!({"email": "a@example.com", "email_verified": "false"}),
            json!({"email": "a@example.com", "email_verified": 1}),
        ] {
            let n = names(&rec(claims, Some("a@example.com")));
            assert!(!n.contains(&H_EMAIL.to_owned()), "{n:?}");
            assert!(!n.contains(&"x-user-email".to_owned()), "{n:?}");
        }
        for claims in [
            json!({"email": "a@example.com", "email_verified": true}),
            json!({"email": "a@example.com", "email_verified": "true"}),
        ] {
            let n = names(&rec(claims, Some("a@example.com")));
            assert!(n.contains(&H_EMAIL.to_owned()), "{n:?}");
            assert!(n.contains(&"x-user-email".to_owned()), "{n:?}");
        }
        let n = names(&rec(base, None));
        assert!(n.contains(&"x-forwarded-user".to_owned()));
    }
}
