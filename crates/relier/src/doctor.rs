//! `relier doctor` over HTTP: fetch the OP's discovery document and JWKS and hand them to
//! [`relier_core::doctor::examine`], which grades them.

use relier_core::IssuerUrl;
use relier_core::doctor::{self, JwksInput, Report};
use relier_core::jwks::KeySet;
use relier_core::profile::Profile;

use crate::Error;
use crate::http::HttpClient;

/// Fetches and grades the OP at `issuer`. A JWKS that cannot be fetched is a finding, not an
/// error.
///
/// # Errors
/// [`Error::Http`] (discovery unreachable), [`Error::Doctor`] (discovery answered an error
/// status or something that is not a JSON object).
pub async fn examine(
    http: &HttpClient,
    issuer: &IssuerUrl,
    profile: Option<Profile>,
) -> Result<Report, Error> {
    let resp = http.send(doctor::metadata_request(issuer)).await?;
    let metadata = doctor::metadata_from_response(issuer, &resp)?;
    let jwks = match doctor::jwks_uri(&metadata) {
        Some(uri) => Some(match http.send(KeySet::request(uri)).await {
            Ok(r) if r.is_success() => Ok(r.body),
            Ok(r) => Err(format!("{uri} answered HTTP {}", r.status)),
            Err(e) => Err(e.to_string()),
        }),
        None => None,
    };
    let input = match &jwks {
        Some(Ok(body)) => JwksInput::Body(body),
        Some(Err(reason)) => JwksInput::Unavailable(reason),
        None => JwksInput::NotPublished,
    };
    Ok(doctor::examine(issuer, &metadata, input, profile))
}
