//! `relier doctor`: grade an OP's discovery document and JWKS against the OAuth 2.0 Security
//! BCP (RFC 9700) and the FAPI 2.0 Security Profile, one [`Finding`] per rule: pass, warn or
//! fail, each naming the rule it comes from.
//!
//! Sans-I/O: the driver fetches the documents ([`metadata_request`], then `jwks_uri`) and hands
//! the bodies to [`examine`]. The metadata is read leniently (an `http` endpoint or a missing
//! member is a finding, not a parse error), unlike [`ProviderMetadata::from_json`], which a
//! login uses and which refuses such a document outright.
//!
//! Without a profile, the items only FAPI 2.0 requires are warnings; with
//! [`Profile::Fapi2`] they fail. RFC 9700 MUSTs always fail.

mod checks;
mod keys;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::discovery::ProviderMetadata;
use crate::http::{HttpRequest, HttpResponse, MAX_BODY_BYTES};
use crate::profile::Profile;
use crate::types::IssuerUrl;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    /// The rule is met.
    Pass,
    /// A SHOULD is not met, or a profile item without that profile.
    Warn,
    /// A MUST is not met.
    Fail,
}

impl Grade {
    /// "pass", "warn" or "fail".
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Pass => "pass",
            Grade::Warn => "warn",
            Grade::Fail => "fail",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What was checked (e.g. `pkce`, `jwks_key`).
    pub check: &'static str,
    /// The outcome.
    pub grade: Grade,
    /// Where the rule lives, e.g. "RFC 9700 §2.1.1".
    pub rule: &'static str,
    /// What was found, naming the metadata member or key.
    pub message: String,
}

/// Every finding about one OP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The issuer examined.
    pub issuer: String,
    /// The profile FAPI items were graded against (`None`: they are warnings).
    pub profile: Option<Profile>,
    /// The findings, in check order.
    pub findings: Vec<Finding>,
}

impl Report {
    /// How many findings have `grade`.
    pub fn count(&self, grade: Grade) -> usize {
        self.findings.iter().filter(|f| f.grade == grade).count()
    }

    /// Whether any finding failed (the command's exit status is then non-zero).
    pub fn failed(&self) -> bool {
        self.count(Grade::Fail) > 0
    }
}

/// The OP's key set, as far as the driver got.
#[derive(Debug, Clone, Copy)]
pub enum JwksInput<'a> {
    /// The body `jwks_uri` answered with.
    Body(&'a [u8]),
    /// The metadata has no `jwks_uri`.
    NotPublished,
    /// Fetching it failed (transport or HTTP status), with the reason.
    Unavailable(&'a str),
}

/// Why the metadata could not be examined at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DoctorError {
    /// Non-2xx answer to the discovery request.
    #[error("doctor: {url} answered HTTP {status}")]
    Status {
        /// The discovery URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// Body larger than [`MAX_BODY_BYTES`].
    #[error("doctor: the metadata document is larger than {max} bytes")]
    TooLarge {
        /// The cap.
        max: usize,
    },
    /// Not a JSON object (OIDC Discovery 1.0 §4.2).
    #[error("doctor: the metadata document is not a JSON object: {reason}")]
    NotAnObject {
        /// serde_json's message (position and expected type, never the value).
        reason: String,
    },
}

/// The discovery request (OIDC Discovery 1.0 §4.1).
pub fn metadata_request(issuer: &IssuerUrl) -> HttpRequest {
    ProviderMetadata::request(issuer)
}

/// The metadata document of a discovery response, as a JSON object, without the checks a login
/// applies (those become findings in [`examine`]).
///
/// # Errors
/// [`DoctorError`].
pub fn metadata_from_response(
    issuer: &IssuerUrl,
    resp: &HttpResponse,
) -> Result<Map<String, Value>, DoctorError> {
    if !resp.is_success() {
        return Err(DoctorError::Status {
            url: issuer.discovery_url(),
            status: resp.status,
        });
    }
    if resp.body.len() > MAX_BODY_BYTES {
        return Err(DoctorError::TooLarge {
            max: MAX_BODY_BYTES,
        });
    }
    serde_json::from_slice(&resp.body).map_err(|e| DoctorError::NotAnObject {
        reason: e.to_string(),
    })
}

/// The `jwks_uri` member, if it is a string.
pub fn jwks_uri(metadata: &Map<String, Value>) -> Option<&str> {
    metadata.get("jwks_uri").and_then(Value::as_str)
}

/// Grades the metadata and key set of the OP `issuer` names. Pure: same input, same report.
pub fn examine(
    issuer: &IssuerUrl,
    metadata: &Map<String, Value>,
    jwks: JwksInput<'_>,
    profile: Option<Profile>,
) -> Report {
    let mut ctx = checks::Context::new(metadata, profile);
    checks::issuer(&mut ctx, issuer);
    checks::endpoints(&mut ctx);
    checks::pkce(&mut ctx);
    checks::iss_parameter(&mut ctx);
    checks::client_authentication(&mut ctx);
    checks::algorithms(&mut ctx);
    keys::jwks(&mut ctx, jwks);
    checks::par(&mut ctx);
    checks::sender_constraint(&mut ctx);
    checks::mtls_aliases(&mut ctx);
    checks::response_types(&mut ctx);
    checks::grant_types(&mut ctx);
    Report {
        issuer: issuer.as_str().to_owned(),
        profile,
        findings: ctx.into_findings(),
    }
}

#[cfg(test)]
mod tests;
