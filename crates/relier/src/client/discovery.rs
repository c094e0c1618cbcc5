//! OIDC Discovery over HTTP: the core checks the document, this fetches it.

use relier_core::discovery::webfinger::WebFingerQuery;
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
/// relying party with [`crate::RelyingPartyBuilder::tenants`] to check ID tokens against it.
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

/// The issuer of `identifier` by WebFinger (OIDC Discovery 1.0 §2): the user input is normalised
/// as §2.1 says (`alice@example.com`, `acct:alice@example.com:8443`, `https://example.com/alice`,
/// `example.com:8080`), looked up at `https://HOST/.well-known/webfinger` (http on loopback
/// hosts, for tests), and the first issuer link's `href` — which must be https — returned.
pub async fn webfinger_issuer(http: &HttpClient, identifier: &str) -> Result<IssuerUrl, Error> {
    let query = WebFingerQuery::new(identifier)?;
    let resp = http.send(query.request()).await?;
    Ok(query.issuer_from_response(&resp)?)
}

/// Discovery starting from what an End-User typed (OIDC Discovery 1.0 §2): the issuer by
/// [`webfinger_issuer`], then its metadata by [`discover`], which must name exactly that issuer
/// (§4.3).
pub async fn discover_by_webfinger(
    http: &HttpClient,
    identifier: &str,
) -> Result<ProviderMetadata, Error> {
    let issuer = webfinger_issuer(http, identifier).await?;
    discover(http, &issuer).await
}
