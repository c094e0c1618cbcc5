//! Aggregated and distributed claims (OIDC Core §5.6.2): reading `_claim_names` and
//! `_claim_sources`, the requests that resolve them, the checks of what comes back, and the
//! merge into the identity's claims. Also Microsoft Entra ID's groups overage, whose
//! `_claim_sources` entry names a Microsoft Graph `getMemberObjects` endpoint
//! (<https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference#groups-overage-claim>).
//!
//! The driver resolves each [`ClaimSource`]: an aggregated one's JWT is verified against its
//! issuer's keys (found by discovery of the JWT's `iss`, [`aggregated_issuer`] then
//! [`verify_claims_jwt`]); a distributed one is fetched with its access token
//! ([`distributed_request`], [`distributed_response`]), every URL and every resolved address
//! first passing the [`EndpointGuard`]. A source that fails is dropped, never the login.

use std::str::FromStr;

use relier_jose::Algorithm;
use relier_jose::jws::UnverifiedJws;
use serde_json::{Map, Value};
use url::Url;

use crate::discovery::ProviderMetadata;
use crate::http::{HttpRequest, HttpResponse, Method, TlsIdentity};
use crate::jwks::KeySet;
use crate::jwt::{JwtError, JwtPolicy, verify_jwt};
use crate::secret::Secret;
use crate::types::IssuerUrl;

mod graph;
mod guard;
#[cfg(test)]
mod tests;

pub use graph::{
    GraphPage, MAX_GRAPH_PAGES, MAX_GROUPS, graph_page, graph_request, graph_target, next_request,
};
pub use guard::{AddressClass, EndpointGuard, EndpointRefusal, classify};

/// At most this many sources are resolved per login (the rest are dropped).
pub const MAX_SOURCES: usize = 8;
/// Largest aggregated (or distributed, signed) JWT accepted, in bytes.
pub const MAX_JWT_BYTES: usize = 32 * 1024;
/// Largest distributed-claims (or Graph page) response body accepted, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;
/// Time allowed for each request that resolves a source, in seconds.
pub const TIMEOUT_SECS: u64 = 5;

/// Claims a claims source never sets: the ID token's protocol claims, and the
/// `_claim_*` members themselves.
const PROTECTED: [&str; 17] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "nonce",
    "azp",
    "at_hash",
    "c_hash",
    "sid",
    "auth_time",
    "acr",
    "amr",
    "_claim_names",
    "_claim_sources",
];

/// `_claim_names` (OIDC Core §5.6.2).
pub const CLAIM_NAMES: &str = "_claim_names";
/// `_claim_sources` (OIDC Core §5.6.2).
pub const CLAIM_SOURCES: &str = "_claim_sources";

/// Why a claims source was dropped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimSourceError {
    /// More sources than [`MAX_SOURCES`].
    #[error("claims source {source_name}: more than {max} sources, dropped")]
    TooManySources {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
        /// The limit on sources, [`MAX_SOURCES`].
        max: usize,
    },
    /// `_claim_names` names a source `_claim_sources` lacks.
    #[error("claims source {source_name}: not in _claim_sources")]
    MissingSource {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
    },
    /// Neither `JWT` nor `endpoint`, or a member of the wrong type.
    #[error("claims source {source_name}: malformed: {reason}")]
    Malformed {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
        /// What is wrong with the source.
        reason: &'static str,
    },
    /// A protocol claim named as coming from a source.
    #[error("claims source {source_name}: may not set the claim {claim}")]
    ProtectedClaim {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
        /// The protected claim it names.
        claim: String,
    },
    /// The JWT is larger than [`MAX_JWT_BYTES`].
    #[error("claims source {source_name}: JWT of {size} bytes exceeds {max}")]
    JwtTooLarge {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
        /// The JWT's size, in bytes.
        size: usize,
        /// The limit, [`MAX_JWT_BYTES`].
        max: usize,
    },
    /// `alg: none`: never trusted (OIDC Core §5.6.2 claims are signed by their issuer).
    #[error("claims source {source_name}: unsigned JWT (alg none), dropped")]
    Unsigned {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
    },
    /// The JWT's `alg` is not in its issuer's `id_token_signing_alg_values_supported`
    /// (or is a MAC, which needs a secret shared with that issuer).
    #[error("claims source {source_name}: alg {alg} is not published by {issuer}")]
    AlgNotPublished {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
        /// The JWT's `alg` header.
        alg: String,
        /// The JWT's issuer, whose discovery document does not publish `alg`.
        issuer: String,
    },
    /// No usable `iss` in the JWT.
    #[error("claims source {source_name}: the JWT has no valid iss")]
    NoIssuer {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
    },
    /// The discovered issuer is not the JWT's `iss`.
    #[error("claims source {source_name}: iss mismatch: expected {expected}, got {got}")]
    IssuerMismatch {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
        /// The issuer discovered for the JWT.
        expected: String,
        /// The JWT's verified `iss` (`(none)` when absent).
        got: String,
    },
    /// Signature or structure.
    #[error("claims source {source_name}: {error}")]
    Jwt {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
        /// Why the JWT was rejected.
        error: JwtError,
    },
    /// The endpoint (or an address it resolves to) was refused.
    #[error("claims source {source_name}: {refusal}")]
    Endpoint {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
        /// Why the endpoint was refused.
        refusal: EndpointRefusal,
    },
    /// A distributed source without `access_token`: relier has no other credential for it.
    #[error("claims source {source_name}: no access_token for its endpoint")]
    NoAccessToken {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
    },
    /// The endpoint answered with an error status.
    #[error("claims source {source_name}: HTTP {status}")]
    Status {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
        /// The HTTP status the endpoint answered with.
        status: u16,
    },
    /// The response body is larger than [`MAX_RESPONSE_BYTES`].
    #[error("claims source {source_name}: response larger than {max} bytes")]
    ResponseTooLarge {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
        /// The limit, [`MAX_RESPONSE_BYTES`].
        max: usize,
    },
    /// Not a JSON object, a JWT, or a Graph page.
    #[error("claims source {source_name}: invalid response: {reason}")]
    InvalidResponse {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
        /// What is wrong with the response.
        reason: &'static str,
    },
    /// Graph paging went past [`MAX_GRAPH_PAGES`] or [`MAX_GROUPS`].
    #[error("claims source {source_name}: more than {max} groups or pages")]
    TooManyGroups {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
        /// The limit it went past ([`MAX_GRAPH_PAGES`] or [`MAX_GROUPS`]).
        max: usize,
    },
    /// The claims' issuer could not be discovered, or its keys not read.
    #[error("claims source {source_name}: issuer {issuer}: {reason}")]
    IssuerKeys {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
        /// The claims' issuer.
        issuer: String,
        /// Why its discovery or keys failed.
        reason: String,
    },
    /// A groups overage source whose endpoint is not Microsoft Graph: the user's access
    /// token does not go there.
    #[error(
        "claims source {source_name}: {endpoint} is not a Microsoft Graph getMemberObjects endpoint"
    )]
    NotGraph {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
        /// The source's endpoint URL.
        endpoint: String,
    },
    /// The request could not be sent or timed out.
    #[error("claims source {source_name}: {reason}")]
    Transport {
        /// The source's name (its key in `_claim_sources`).
        source_name: String,
        /// Why the request failed.
        reason: String,
    },
}

impl ClaimSourceError {
    fn malformed(source_name: &str, reason: &'static str) -> Self {
        ClaimSourceError::Malformed {
            source_name: source_name.to_owned(),
            reason,
        }
    }
}

/// Which sources a login resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolve {
    /// Every aggregated and distributed source (`resolve_claims = true`).
    All,
    /// Only Entra ID's groups overage ([`ClaimSource::is_groups_overage`]); the other sources
    /// are left as they are.
    GroupsOverage,
}

impl Resolve {
    /// Whether `source` is resolved.
    pub fn includes(self, source: &ClaimSource) -> bool {
        self == Resolve::All || source.is_groups_overage()
    }
}

/// Where a source's values are.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SourceKind {
    /// OIDC Core §5.6.2.1: a JWT signed by the claims' issuer.
    Aggregated {
        /// The compact JWS.
        jwt: String,
    },
    /// OIDC Core §5.6.2.2: fetched from `endpoint` with `access_token` (Bearer).
    Distributed {
        /// Where the claims are.
        endpoint: Url,
        /// The credential for it (§5.6.2: "when available").
        access_token: Option<Secret>,
    },
}

/// One `_claim_sources` entry and the claims `_claim_names` maps to it.
#[derive(Debug, Clone)]
pub struct ClaimSource {
    /// The source's name (the key in `_claim_sources`).
    pub name: String,
    /// The claims it provides, as `_claim_names` lists them.
    pub claims: Vec<String>,
    /// Its values' location.
    pub kind: SourceKind,
}

impl ClaimSource {
    /// Entra ID's groups overage: the `groups` claim from a source whose endpoint is a
    /// Graph `getMemberObjects` call and which carries no access token of its own.
    pub fn is_groups_overage(&self) -> bool {
        match &self.kind {
            SourceKind::Distributed {
                endpoint,
                access_token: None,
            } => self.claims.iter().any(|c| c == "groups") && graph::is_member_objects(endpoint),
            _ => false,
        }
    }
}

/// The sources `_claim_names` / `_claim_sources` of `claims` describe, in `_claim_names`
/// order, and why any was dropped. At most [`MAX_SOURCES`].
pub fn sources(claims: &Map<String, Value>) -> (Vec<ClaimSource>, Vec<ClaimSourceError>) {
    let mut found: Vec<ClaimSource> = Vec::new();
    let mut dropped = Vec::new();
    // Sources already dropped: their other claims are not reported again.
    let mut refused: Vec<String> = Vec::new();
    let Some(Value::Object(names)) = claims.get(CLAIM_NAMES) else {
        return (found, dropped);
    };
    let table = match claims.get(CLAIM_SOURCES) {
        Some(Value::Object(t)) => Some(t),
        _ => None,
    };
    for (claim, source) in names {
        let Some(source_name) = source.as_str() else {
            dropped.push(ClaimSourceError::malformed(
                claim,
                "_claim_names value is not a string",
            ));
            continue;
        };
        if PROTECTED.contains(&claim.as_str()) {
            dropped.push(ClaimSourceError::ProtectedClaim {
                source_name: source_name.to_owned(),
                claim: claim.clone(),
            });
            continue;
        }
        if let Some(s) = found.iter_mut().find(|s| s.name == source_name) {
            s.claims.push(claim.clone());
            continue;
        }
        if refused.iter().any(|r| r == source_name) {
            continue;
        }
        if found.len() >= MAX_SOURCES {
            refused.push(source_name.to_owned());
            dropped.push(ClaimSourceError::TooManySources {
                source_name: source_name.to_owned(),
                max: MAX_SOURCES,
            });
            continue;
        }
        match table
            .and_then(|t| t.get(source_name))
            .ok_or_else(|| ClaimSourceError::MissingSource {
                source_name: source_name.to_owned(),
            })
            .and_then(|entry| source_kind(source_name, entry))
        {
            Ok(kind) => found.push(ClaimSource {
                name: source_name.to_owned(),
                claims: vec![claim.clone()],
                kind,
            }),
            Err(e) => {
                refused.push(source_name.to_owned());
                dropped.push(e);
            }
        }
    }
    (found, dropped)
}

/// One `_claim_sources` member: `{"JWT": …}` or `{"endpoint": …, "access_token": …}`.
fn source_kind(name: &str, entry: &Value) -> Result<SourceKind, ClaimSourceError> {
    let Value::Object(entry) = entry else {
        return Err(ClaimSourceError::malformed(name, "not a JSON object"));
    };
    if let Some(jwt) = entry.get("JWT") {
        let Some(jwt) = jwt.as_str() else {
            return Err(ClaimSourceError::malformed(name, "JWT is not a string"));
        };
        check_jwt_size(name, jwt)?;
        return Ok(SourceKind::Aggregated {
            jwt: jwt.trim().to_owned(),
        });
    }
    let Some(endpoint) = entry.get("endpoint") else {
        return Err(ClaimSourceError::malformed(
            name,
            "neither JWT nor endpoint",
        ));
    };
    let endpoint = endpoint
        .as_str()
        .and_then(|e| Url::parse(e).ok())
        .ok_or_else(|| ClaimSourceError::malformed(name, "endpoint is not a URL"))?;
    let access_token = match entry.get("access_token") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) if !t.is_empty() => Some(Secret::new(t.clone())),
        Some(_) => {
            return Err(ClaimSourceError::malformed(
                name,
                "access_token is not a string",
            ));
        }
    };
    Ok(SourceKind::Distributed {
        endpoint,
        access_token,
    })
}

fn check_jwt_size(name: &str, jwt: &str) -> Result<(), ClaimSourceError> {
    if jwt.len() > MAX_JWT_BYTES {
        return Err(ClaimSourceError::JwtTooLarge {
            source_name: name.to_owned(),
            size: jwt.len(),
            max: MAX_JWT_BYTES,
        });
    }
    Ok(())
}

/// The issuer whose keys sign the JWT of source `name` (its unverified `iss`, to be
/// discovered), after the checks that need no keys: size, and `alg` other than `none` — an
/// unsigned claims JWT is never trusted.
///
/// # Errors
/// [`ClaimSourceError::JwtTooLarge`], [`ClaimSourceError::Unsigned`],
/// [`ClaimSourceError::Jwt`] (not a JWS), [`ClaimSourceError::NoIssuer`].
pub fn aggregated_issuer(name: &str, jwt: &str) -> Result<IssuerUrl, ClaimSourceError> {
    check_jwt_size(name, jwt)?;
    let jws = UnverifiedJws::parse(jwt.trim()).map_err(|e| ClaimSourceError::Jwt {
        source_name: name.to_owned(),
        error: JwtError::Malformed(e.to_string()),
    })?;
    if jws
        .header_alg()
        .eq_ignore_ascii_case(Algorithm::None.as_str())
    {
        return Err(ClaimSourceError::Unsigned {
            source_name: name.to_owned(),
        });
    }
    let payload: Value =
        serde_json::from_slice(jws.unverified_payload()).map_err(|_| ClaimSourceError::Jwt {
            source_name: name.to_owned(),
            error: JwtError::Malformed("payload is not JSON".into()),
        })?;
    payload
        .get("iss")
        .and_then(Value::as_str)
        // The issuer is discovered over https (loopback http only for tests).
        .and_then(|iss| IssuerUrl::new(iss).ok())
        .ok_or_else(|| ClaimSourceError::NoIssuer {
            source_name: name.to_owned(),
        })
}

/// Verifies the claims JWT of source `name` with the keys of `issuer` (its discovered
/// metadata): the header `alg` must be one `issuer` publishes in
/// `id_token_signing_alg_values_supported` (never `none` nor a MAC), the signature must
/// verify with that alg and one of `keys`, and `iss` must be `issuer`'s. Returns the claims.
///
/// # Errors
/// [`ClaimSourceError::Unsigned`], [`ClaimSourceError::AlgNotPublished`],
/// [`ClaimSourceError::Jwt`], [`ClaimSourceError::IssuerMismatch`].
pub fn verify_claims_jwt(
    name: &str,
    jwt: &str,
    issuer: &ProviderMetadata,
    keys: &KeySet,
) -> Result<Map<String, Value>, ClaimSourceError> {
    check_jwt_size(name, jwt)?;
    let jwt_err = |error| ClaimSourceError::Jwt {
        source_name: name.to_owned(),
        error,
    };
    let jws = UnverifiedJws::parse(jwt.trim())
        .map_err(|e| jwt_err(JwtError::Malformed(e.to_string())))?;
    let header_alg = jws.header_alg().to_owned();
    if header_alg.eq_ignore_ascii_case(Algorithm::None.as_str()) {
        return Err(ClaimSourceError::Unsigned {
            source_name: name.to_owned(),
        });
    }
    // RFC 8725 §3.1: the alg is pinned to what the issuer publishes, not taken on trust.
    let published = issuer
        .id_token_signing_alg_values_supported
        .contains(&header_alg);
    let alg = Algorithm::from_str(&header_alg)
        .ok()
        .filter(|a| published && *a != Algorithm::None && !a.is_hmac())
        .ok_or_else(|| ClaimSourceError::AlgNotPublished {
            source_name: name.to_owned(),
            alg: header_alg.clone(),
            issuer: issuer.issuer.as_str().to_owned(),
        })?;
    let policy = JwtPolicy {
        alg,
        hmac_key: None,
    };
    let claims = verify_jwt(jwt.trim(), keys, policy)
        .map_err(jwt_err)?
        .claims;
    match claims.get("iss").and_then(Value::as_str) {
        Some(iss) if iss == issuer.issuer.as_str() => Ok(claims),
        other => Err(ClaimSourceError::IssuerMismatch {
            source_name: name.to_owned(),
            expected: issuer.issuer.as_str().to_owned(),
            got: other.unwrap_or("(none)").to_owned(),
        }),
    }
}

/// OIDC Core §5.6.2.2: the request for a distributed source's claims, its access token as a
/// Bearer token (RFC 6750 §2.1).
pub fn distributed_request(endpoint: &Url, access_token: &Secret) -> HttpRequest {
    let mut req = HttpRequest::get(endpoint.as_str(), "application/json, application/jwt");
    req.headers.push((
        "authorization".into(),
        format!("Bearer {}", access_token.expose()),
    ));
    req
}

/// What a distributed endpoint answered.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DistributedBody {
    /// A JSON object of claims.
    Claims(Map<String, Value>),
    /// A JWT, to be verified as an aggregated one ([`aggregated_issuer`],
    /// [`verify_claims_jwt`]).
    Jwt(String),
}

/// Checks a distributed endpoint's response: success, at most [`MAX_RESPONSE_BYTES`], and
/// a JSON object or (`application/jwt`) a JWT.
///
/// # Errors
/// [`ClaimSourceError::Status`], [`ClaimSourceError::ResponseTooLarge`],
/// [`ClaimSourceError::InvalidResponse`], [`ClaimSourceError::JwtTooLarge`].
pub fn distributed_response(
    name: &str,
    resp: &HttpResponse,
) -> Result<DistributedBody, ClaimSourceError> {
    check_response(name, resp)?;
    if resp.media_type().as_deref() == Some("application/jwt") {
        let text = std::str::from_utf8(&resp.body).map_err(|_| invalid(name, "not UTF-8"))?;
        check_jwt_size(name, text.trim())?;
        return Ok(DistributedBody::Jwt(text.trim().to_owned()));
    }
    match serde_json::from_slice::<Value>(&resp.body) {
        Ok(Value::Object(m)) => Ok(DistributedBody::Claims(m)),
        _ => Err(invalid(name, "not a JSON object")),
    }
}

/// A success status and a body within [`MAX_RESPONSE_BYTES`].
fn check_response(name: &str, resp: &HttpResponse) -> Result<(), ClaimSourceError> {
    if !resp.is_success() {
        return Err(ClaimSourceError::Status {
            source_name: name.to_owned(),
            status: resp.status,
        });
    }
    if resp.body.len() > MAX_RESPONSE_BYTES {
        return Err(ClaimSourceError::ResponseTooLarge {
            source_name: name.to_owned(),
            max: MAX_RESPONSE_BYTES,
        });
    }
    Ok(())
}

fn invalid(name: &str, reason: &'static str) -> ClaimSourceError {
    ClaimSourceError::InvalidResponse {
        source_name: name.to_owned(),
        reason,
    }
}

/// A POST of a JSON body with a Bearer token.
fn json_post(url: &str, access_token: &Secret, body: &Value) -> HttpRequest {
    HttpRequest {
        method: Method::Post,
        url: url.to_owned(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("accept".into(), "application/json".into()),
            (
                "authorization".into(),
                format!("Bearer {}", access_token.expose()),
            ),
        ],
        body: body.to_string().into_bytes(),
        tls_identity: TlsIdentity::None,
    }
}

/// Merges the values `values` of `source` into `claims`: each claim `_claim_names` maps to the
/// source, when `values` has it and `claims` does not already (a source adds claims, it never
/// replaces one). Each claim merged leaves `_claim_names`. As with UserInfo, an `email` that
/// arrives without its own `email_verified` does not keep another address's flag. Returns the
/// claims merged.
pub fn merge(
    claims: &mut Map<String, Value>,
    source: &ClaimSource,
    values: &Map<String, Value>,
) -> Vec<String> {
    let mut merged = Vec::new();
    for claim in &source.claims {
        if PROTECTED.contains(&claim.as_str()) || claims.contains_key(claim) {
            continue;
        }
        let Some(v) = values.get(claim).filter(|v| !v.is_null()) else {
            continue;
        };
        if claim == "email" && !values.contains_key("email_verified") {
            claims.remove("email_verified");
        }
        claims.insert(claim.clone(), v.clone());
        merged.push(claim.clone());
    }
    if let Some(Value::Object(names)) = claims.get_mut(CLAIM_NAMES) {
        for m in &merged {
            names.remove(m);
        }
    }
    merged
}

/// After resolution: `_claim_sources` goes (its access tokens are not kept with the
/// identity), and `_claim_names` keeps only the claims that were not resolved (so that, e.g.,
/// an unresolved Entra groups overage is still reported as such).
pub fn finish(claims: &mut Map<String, Value>) {
    claims.remove(CLAIM_SOURCES);
    if claims
        .get(CLAIM_NAMES)
        .and_then(Value::as_object)
        .is_some_and(Map::is_empty)
    {
        claims.remove(CLAIM_NAMES);
    }
}

/// Whether `claims` carries aggregated or distributed claims at all.
pub fn has_sources(claims: &Map<String, Value>) -> bool {
    claims.contains_key(CLAIM_NAMES)
}
