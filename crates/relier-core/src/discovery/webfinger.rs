//! OpenID Provider Issuer Discovery by WebFinger (OIDC Discovery 1.0 §2, RFC 7033): normalise
//! what the End-User typed into a WebFinger resource and host (§2.1), build the lookup request,
//! and read the issuer out of the JSON Resource Descriptor (RFC 7033 §4.4) it answers. Sans-I/O:
//! the driver sends [`WebFingerQuery::request`] and hands the answer to
//! [`WebFingerQuery::issuer_from_response`]; the issuer found is then discovered as any other
//! (its metadata must name exactly that issuer, OIDC Discovery §4.3).

use url::Url;

use crate::http::{HttpRequest, HttpResponse};
use crate::types::{IssuerUrl, is_loopback};

/// The link relation of an OpenID Connect issuer (OIDC Discovery 1.0 §2; the value registered
/// and used by deployed OPs and the OpenID Foundation's test suite).
pub const ISSUER_REL: &str = "http://openid.net/specs/connect/1.0/issuer";

/// Largest JRD read: an issuer lookup answers a handful of links.
pub const MAX_JRD_BYTES: usize = 64 * 1024;

/// RFC 7033 §10.2: the JRD media type; `application/json` is accepted too.
const JRD_TYPES: [&str; 2] = ["application/jrd+json", "application/json"];

/// Why WebFinger issuer discovery failed; each variant names the failed check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebFingerError {
    /// Nothing to look up.
    #[error("webfinger: the identifier is empty")]
    Empty,
    /// OIDC Discovery §2.1.1: identifiers starting with `=`, `@` or `!` (XRI) are reserved.
    #[error(
        "webfinger: identifiers starting with {symbol:?} are reserved (XRI, OIDC Discovery §2.1.1)"
    )]
    ReservedXri {
        /// The identifier's first character (`=`, `@` or `!`).
        symbol: char,
    },
    /// Whitespace or a control character: not a URI (RFC 3986 §2).
    #[error("webfinger: the identifier contains whitespace or a control character")]
    ForbiddenCharacter,
    /// OIDC Discovery §2.1: the identifier must include an authority (a host).
    #[error("webfinger: {resource} has no host to ask (OIDC Discovery §2.1)")]
    NoHost {
        /// The identifier, normalised to a WebFinger resource.
        resource: String,
    },
    /// The host part is not a valid `host[:port]`.
    #[error("webfinger: {host:?} is not a valid host: {reason}")]
    InvalidHost {
        /// The host part of the identifier.
        host: String,
        /// Why it is not a valid host.
        reason: String,
    },
    /// Non-2xx answer to the lookup.
    #[error("webfinger: {url} answered HTTP {status}")]
    Status {
        /// The WebFinger lookup URL.
        url: String,
        /// The HTTP status it answered with.
        status: u16,
    },
    /// RFC 7033 §4.4: the answer is not a JRD.
    #[error("webfinger: {url} answered {content_type}, not application/jrd+json")]
    ContentType {
        /// The WebFinger lookup URL.
        url: String,
        /// The `Content-Type` of the answer.
        content_type: String,
    },
    /// The answer is larger than [`MAX_JRD_BYTES`].
    #[error("webfinger: response larger than {max} bytes")]
    TooLarge {
        /// The size limit, in bytes.
        max: usize,
    },
    /// RFC 7033 §4.4: the body is not a JRD (a JSON object; `links` an array).
    #[error("webfinger: response is not a valid JRD: {reason}")]
    InvalidJrd {
        /// Why the body is not a JRD.
        reason: String,
    },
    /// No link with `rel` = [`ISSUER_REL`] (or it has no `href` string).
    #[error("webfinger: no link with rel {ISSUER_REL} and an href in the response")]
    NoIssuerLink,
    /// OIDC Discovery §2: the issuer location MUST use https — loopback or not.
    #[error("webfinger: the issuer href {href} must be https (OIDC Discovery §2)")]
    InsecureIssuer {
        /// The issuer link's `href`.
        href: String,
    },
    /// OIDC Discovery §2: a URL with a host and no query or fragment.
    #[error("webfinger: the issuer href {href:?} is not an issuer identifier: {reason}")]
    InvalidIssuer {
        /// The issuer link's `href`.
        href: String,
        /// Why it is not an issuer identifier.
        reason: String,
    },
}

/// A normalised WebFinger lookup for an OpenID Provider issuer (OIDC Discovery §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebFingerQuery {
    resource: String,
    host: String,
    url: Url,
}

impl WebFingerQuery {
    /// Normalise user input per OIDC Discovery §2.1.2:
    /// `joe@example.com` → `acct:joe@example.com` at `example.com`; `example.com:8080` →
    /// `https://example.com:8080/`; `example.com/joe` → `https://example.com/joe`; an explicit
    /// scheme (`acct:`, `https://…`) is kept as typed; a fragment is stripped. A host may carry
    /// a port, an `acct:` one too. The lookup is `https://HOST/.well-known/webfinger` (RFC 7033
    /// §4; `http://` when HOST is loopback, for tests).
    pub fn new(input: &str) -> Result<Self, WebFingerError> {
        let input = input.trim();
        let Some(first) = input.chars().next() else {
            return Err(WebFingerError::Empty);
        };
        // §2.1.1: XRI global context symbols.
        if matches!(first, '=' | '@' | '!') {
            return Err(WebFingerError::ReservedXri { symbol: first });
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(WebFingerError::ForbiddenCharacter);
        }
        let mut resource = match scheme_of(input) {
            // §2.1.2 step 4: an explicit scheme is not normalised.
            Some(_) => input.to_owned(),
            // Step 2: userinfo@host with no path, query, port or fragment is an account.
            None if input.contains('@') && !input.contains([':', '/', '?', '#']) => {
                format!("acct:{}", encode_inner_at(input))
            }
            // Step 3: anything else without a scheme is https.
            None => format!("https://{input}"),
        };
        // Step 5: strip the fragment.
        if let Some(at) = resource.find('#') {
            resource.truncate(at);
        }
        // `https://example.com:8080` is `https://example.com:8080/` (§2.2.3).
        if scheme_of(input).is_none() && !resource.starts_with("acct:") {
            let after = resource.get("https://".len()..).unwrap_or_default();
            if !after.contains(['/', '?']) {
                resource.push('/');
            }
        }
        let host = host_of(&resource)?;
        let url = lookup_url(&host, &resource)?;
        Ok(Self {
            resource,
            host,
            url,
        })
    }

    /// The WebFinger `resource` (RFC 7033 §4.1).
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The WebFinger host: `host[:port]` of the resource.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `https://HOST/.well-known/webfinger?resource=…&rel=…` (RFC 7033 §4.1, §4.3).
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The lookup request.
    pub fn request(&self) -> HttpRequest {
        HttpRequest::get(self.url.as_str(), "application/jrd+json, application/json")
    }

    /// The issuer in the lookup's answer: a 2xx JRD (RFC 7033 §4.4) whose first link with
    /// `rel` = [`ISSUER_REL`] has an https `href` that is an issuer identifier.
    pub fn issuer_from_response(&self, resp: &HttpResponse) -> Result<IssuerUrl, WebFingerError> {
        if !resp.is_success() {
            return Err(WebFingerError::Status {
                url: self.url.to_string(),
                status: resp.status,
            });
        }
        if let Some(ct) = &resp.content_type {
            let media = ct.split(';').next().unwrap_or_default().trim();
            if !JRD_TYPES.iter().any(|t| media.eq_ignore_ascii_case(t)) {
                return Err(WebFingerError::ContentType {
                    url: self.url.to_string(),
                    content_type: ct.chars().take(100).collect(),
                });
            }
        }
        issuer_from_jrd(&resp.body)
    }
}

/// The issuer in a JRD body (RFC 7033 §4.4): the `href` of the first link whose `rel` is
/// [`ISSUER_REL`] (§4.3: the server may answer other links too). It must be https, even on
/// loopback, with a host and no query or fragment (OIDC Discovery §2).
pub fn issuer_from_jrd(body: &[u8]) -> Result<IssuerUrl, WebFingerError> {
    if body.len() > MAX_JRD_BYTES {
        return Err(WebFingerError::TooLarge { max: MAX_JRD_BYTES });
    }
    let jrd: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(body).map_err(|e| WebFingerError::InvalidJrd {
            reason: e.to_string(),
        })?;
    let links = match jrd.get("links") {
        None => return Err(WebFingerError::NoIssuerLink),
        Some(serde_json::Value::Array(links)) => links,
        Some(_) => {
            return Err(WebFingerError::InvalidJrd {
                reason: "links is not an array".into(),
            });
        }
    };
    let link = links
        .iter()
        .find(|l| l.get("rel").and_then(serde_json::Value::as_str) == Some(ISSUER_REL))
        .ok_or(WebFingerError::NoIssuerLink)?;
    let href = link
        .get("href")
        .and_then(serde_json::Value::as_str)
        .ok_or(WebFingerError::NoIssuerLink)?;
    let url = Url::parse(href).map_err(|e| WebFingerError::InvalidIssuer {
        href: href.to_owned(),
        reason: e.to_string(),
    })?;
    if url.scheme() != "https" {
        return Err(WebFingerError::InsecureIssuer {
            href: href.to_owned(),
        });
    }
    IssuerUrl::new(href).map_err(|e| WebFingerError::InvalidIssuer {
        href: href.to_owned(),
        reason: e.to_string(),
    })
}

/// The RFC 3986 scheme of `s`, if it has one. `host:port` (all digits after the colon, as in
/// `example.com:8080`) is an authority, not a scheme (OIDC Discovery §2.1.2 step 1).
fn scheme_of(s: &str) -> Option<&str> {
    let (scheme, rest) = s.split_once(':')?;
    let mut chars = scheme.chars();
    // RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid {
        return None;
    }
    let port = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(scheme)
}

/// RFC 7565 §7 / OIDC Discovery §2.1.2 step 2: an `@` inside the userpart is percent-encoded;
/// the last `@` separates the host.
fn encode_inner_at(account: &str) -> String {
    match account.rsplit_once('@') {
        Some((user, host)) => format!("{}@{host}", user.replace('@', "%40")),
        None => account.to_owned(),
    }
}

/// The WebFinger host of a normalised resource: after the last `@` of an `acct:` URI, the
/// authority's host and port otherwise (never its userinfo).
fn host_of(resource: &str) -> Result<String, WebFingerError> {
    let no_host = || WebFingerError::NoHost {
        resource: resource.to_owned(),
    };
    let scheme = scheme_of(resource).ok_or_else(no_host)?;
    let rest = resource.get(scheme.len() + 1..).unwrap_or_default();
    if scheme.eq_ignore_ascii_case("acct") {
        let (user, host) = rest.rsplit_once('@').ok_or_else(no_host)?;
        if user.is_empty() || host.is_empty() {
            return Err(no_host());
        }
        return Ok(host.to_owned());
    }
    let Some(after) = rest.strip_prefix("//") else {
        return Err(no_host());
    };
    let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.is_empty() {
        return Err(no_host());
    }
    Ok(host.to_owned())
}

/// RFC 7033 §4: `https://HOST/.well-known/webfinger?resource=…&rel=…`; over http when HOST is
/// loopback (tests — the issuer it names must be https all the same).
fn lookup_url(host: &str, resource: &str) -> Result<Url, WebFingerError> {
    let invalid = |reason: String| WebFingerError::InvalidHost {
        host: host.to_owned(),
        reason,
    };
    if host.contains(['/', '?', '#', '@', '\\']) {
        return Err(invalid("not host[:port]".into()));
    }
    let mut url = Url::parse(&format!("https://{host}/.well-known/webfinger"))
        .map_err(|e| invalid(e.to_string()))?;
    if is_loopback(&url) && url.set_scheme("http").is_err() {
        return Err(invalid("cannot use http".into()));
    }
    url.query_pairs_mut()
        .append_pair("resource", resource)
        .append_pair("rel", ISSUER_REL);
    Ok(url)
}

#[cfg(test)]
#[path = "webfinger_tests.rs"]
mod tests;
