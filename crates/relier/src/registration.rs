//! Dynamic client registration (RFC 7591) and its management (RFC 7592) over HTTP.

use relier_core::ProviderMetadata;
use relier_core::Secret;
use relier_core::registration::{self, ClientMetadata, RegistrationResponse};
use relier_core::types::ClientId;

use crate::{Error, HttpClient};

/// Register a client at the OP's `registration_endpoint` (OIDC DCR §3.1, RFC 7591 §3.1). A
/// response whose `registration_client_uri` is not on the OP's origin is refused
/// ([`registration::RegistrationError::ForeignClientUri`]).
pub async fn register(
    http: &HttpClient,
    op: &ProviderMetadata,
    metadata: &ClientMetadata,
    initial_access_token: Option<&Secret>,
) -> Result<RegistrationResponse, Error> {
    let endpoint = op
        .registration_endpoint
        .as_deref()
        .ok_or(Error::MissingEndpoint("registration_endpoint"))?;
    let req = registration::register_request(endpoint, metadata, initial_access_token)?;
    let resp = http.send(req).await?;
    let registered = registration::parse_response(&resp)?;
    // RFC 7592 §3: the registration access token only ever goes to the OP's origin.
    registered.check_client_uri(op)?;
    Ok(registered)
}

/// RFC 7592 §2.1: read the client's current registration (a `registration_client_uri` in the
/// answer stays on the origin of the one used).
pub async fn read(
    http: &HttpClient,
    registration_client_uri: &str,
    token: &Secret,
) -> Result<RegistrationResponse, Error> {
    let resp = http
        .send(registration::read_request(registration_client_uri, token))
        .await?;
    let current = registration::parse_response(&resp)?;
    current.check_client_uri_moved(registration_client_uri)?;
    Ok(current)
}

/// RFC 7592 §2.2: replace the client's registration with `metadata` (a `registration_client_uri`
/// in the answer stays on the origin of the one used).
pub async fn update(
    http: &HttpClient,
    registration_client_uri: &str,
    token: &Secret,
    client_id: &ClientId,
    client_secret: Option<&Secret>,
    metadata: &ClientMetadata,
) -> Result<RegistrationResponse, Error> {
    let req = registration::update_request(
        registration_client_uri,
        token,
        client_id,
        client_secret,
        metadata,
    )?;
    let resp = http.send(req).await?;
    let updated = registration::parse_response(&resp)?;
    updated.check_client_uri_moved(registration_client_uri)?;
    Ok(updated)
}

/// RFC 7592 §2.3: deregister.
pub async fn delete(
    http: &HttpClient,
    registration_client_uri: &str,
    token: &Secret,
) -> Result<(), Error> {
    let resp = http
        .send(registration::delete_request(registration_client_uri, token))
        .await?;
    Ok(registration::parse_delete(&resp)?)
}
