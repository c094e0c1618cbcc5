//! OIDC Discovery over HTTP: the core checks the document, this fetches it.

use relier_core::{IssuerUrl, ProviderMetadata};

use crate::Error;
use crate::http::HttpClient;

/// Fetch and check the OP's metadata (OIDC Discovery §4).
pub async fn discover(http: &HttpClient, issuer: &IssuerUrl) -> Result<ProviderMetadata, Error> {
    let resp = http.send(ProviderMetadata::request(issuer)).await?;
    Ok(ProviderMetadata::from_response(issuer, &resp)?)
}

/// Discovery at a Microsoft Entra ID multi-tenant authority (`…/common/v2.0`,
/// `…/organizations/v2.0`), whose document's issuer is the template `…/{tenantid}/v2.0`
/// ([`relier_core::entra`]); any other issuer is discovered as by [`discover`]. Build the
/// relying party with [`RelyingPartyBuilder::tenants`] to check ID tokens against it.
pub async fn discover_entra(
    http: &HttpClient,
    issuer: &IssuerUrl,
) -> Result<ProviderMetadata, Error> {
    let expected = relier_core::entra::issuer_template(issuer)?;
    let resp = http.send(ProviderMetadata::request(issuer)).await?;
    Ok(ProviderMetadata::from_response(
        expected.as_ref().unwrap_or(issuer),
        &resp,
    )?)
}
