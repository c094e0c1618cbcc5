//! Aggregated and distributed claims (OIDC Core §5.6.2) over HTTP: the core reads the
//! sources, checks every answer and merges; this fetches — each URL and resolved address past
//! the SSRF guard, with a timeout and a body cap. A source that fails is dropped and reported,
//! never the login.

use std::time::Duration;

use relier_core::claims_sources::{
    self, ClaimSource, ClaimSourceError, DistributedBody, EndpointGuard, MAX_GRAPH_PAGES,
    MAX_GROUPS, MAX_RESPONSE_BYTES, Resolve, SourceKind, TIMEOUT_SECS,
};
use relier_core::http::{HttpRequest, HttpResponse, MAX_BODY_BYTES};
use relier_core::jwks::KeySet;
use relier_core::{IssuerUrl, ProviderMetadata, Secret};
use serde_json::{Map, Value};
use url::Url;

use super::RelyingParty;

/// What [`RelyingParty::resolve_claims`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ClaimsResolution {
    /// The claims merged in.
    pub merged: Vec<String>,
    /// The sources dropped, and why.
    pub dropped: Vec<ClaimSourceError>,
}

impl RelyingParty {
    /// Resolves the aggregated and distributed claims of `claims` (an ID token's or UserInfo
    /// response's, OIDC Core §5.6.2) that `which` covers, and merges their values in: an
    /// aggregated JWT verified against its issuer's keys (found by discovery, the alg pinned
    /// to what that issuer publishes, never unsigned); a distributed source fetched with its
    /// access token; Entra ID's groups overage through Microsoft Graph with `access_token`
    /// (the user's). Every URL must be https on a public address unless this OP's issuer is
    /// on a non-public one of the same kind (a test set-up). `_claim_sources` is removed
    /// afterwards; `_claim_names` keeps what was not resolved.
    pub async fn resolve_claims(
        &self,
        claims: &mut Map<String, Value>,
        access_token: &Secret,
        which: Resolve,
    ) -> ClaimsResolution {
        let mut out = ClaimsResolution::default();
        if !claims_sources::has_sources(claims) {
            return out;
        }
        let (sources, dropped) = claims_sources::sources(claims);
        out.dropped = dropped;
        let fetch = Fetch {
            rp: self,
            guard: EndpointGuard::for_issuer(&self.metadata.issuer),
        };
        for source in sources.iter().filter(|s| which.includes(s)) {
            match fetch.values(source, access_token).await {
                Ok(values) => out
                    .merged
                    .extend(claims_sources::merge(claims, source, &values)),
                Err(e) => out.dropped.push(e),
            }
        }
        claims_sources::finish(claims);
        out
    }
}

/// One login's fetching.
struct Fetch<'a> {
    rp: &'a RelyingParty,
    guard: EndpointGuard,
}

impl Fetch<'_> {
    async fn values(
        &self,
        source: &ClaimSource,
        user_token: &Secret,
    ) -> Result<Map<String, Value>, ClaimSourceError> {
        let name = source.name.as_str();
        match &source.kind {
            SourceKind::Aggregated { jwt } => self.claims_jwt(name, jwt).await,
            SourceKind::Distributed {
                endpoint,
                access_token: Some(token),
            } => self.distributed(name, endpoint, token).await,
            SourceKind::Distributed { endpoint, .. } if source.is_groups_overage() => {
                self.member_objects(name, endpoint, user_token).await
            }
            _ => Err(ClaimSourceError::NoAccessToken {
                source_name: name.to_owned(),
            }),
        }
    }

    async fn send(
        &self,
        name: &str,
        req: HttpRequest,
        max_body: usize,
    ) -> Result<HttpResponse, ClaimSourceError> {
        self.rp
            .http
            .send_guarded(
                req,
                &self.guard,
                Duration::from_secs(TIMEOUT_SECS),
                max_body,
            )
            .await
            .map_err(|e| ClaimSourceError::Transport {
                source_name: name.to_owned(),
                reason: e.to_string(),
            })
    }

    /// An aggregated (or signed distributed) JWT: its issuer discovered, its keys fetched,
    /// then verified by the core.
    async fn claims_jwt(
        &self,
        name: &str,
        jwt: &str,
    ) -> Result<Map<String, Value>, ClaimSourceError> {
        let issuer = claims_sources::aggregated_issuer(name, jwt)?;
        let (metadata, keys) = self.issuer_keys(name, &issuer).await?;
        claims_sources::verify_claims_jwt(name, jwt, &metadata, &keys)
    }

    /// OIDC Discovery §4 of the claims' issuer, and its JWKS — both through the guard.
    async fn issuer_keys(
        &self,
        name: &str,
        issuer: &IssuerUrl,
    ) -> Result<(ProviderMetadata, KeySet), ClaimSourceError> {
        let failed = |reason: String| ClaimSourceError::IssuerKeys {
            source_name: name.to_owned(),
            issuer: issuer.as_str().to_owned(),
            reason,
        };
        let resp = self
            .send(name, ProviderMetadata::request(issuer), MAX_BODY_BYTES)
            .await?;
        let metadata =
            ProviderMetadata::from_response(issuer, &resp).map_err(|e| failed(e.to_string()))?;
        let jwks_uri = metadata
            .jwks_uri
            .clone()
            .ok_or_else(|| failed("no jwks_uri".into()))?;
        let resp = self
            .send(name, KeySet::request(&jwks_uri), MAX_BODY_BYTES)
            .await?;
        let keys = KeySet::from_response(&jwks_uri, &resp).map_err(|e| failed(e.to_string()))?;
        Ok((metadata, keys))
    }

    /// OIDC Core §5.6.2.2: a JSON object, or a JWT verified as an aggregated one.
    async fn distributed(
        &self,
        name: &str,
        endpoint: &Url,
        token: &Secret,
    ) -> Result<Map<String, Value>, ClaimSourceError> {
        let req = claims_sources::distributed_request(endpoint, token);
        let resp = self.send(name, req, MAX_RESPONSE_BYTES).await?;
        match claims_sources::distributed_response(name, &resp)? {
            DistributedBody::Claims(values) => Ok(values),
            DistributedBody::Jwt(jwt) => self.claims_jwt(name, &jwt).await,
            _ => Err(ClaimSourceError::InvalidResponse {
                source_name: name.to_owned(),
                reason: "unknown body",
            }),
        }
    }

    /// Entra ID's groups overage: Graph `getMemberObjects` with the user's access token,
    /// following `@odata.nextLink` up to [`MAX_GRAPH_PAGES`] pages and [`MAX_GROUPS`] ids.
    async fn member_objects(
        &self,
        name: &str,
        endpoint: &Url,
        token: &Secret,
    ) -> Result<Map<String, Value>, ClaimSourceError> {
        let first =
            claims_sources::graph_target(endpoint, &self.rp.metadata.issuer).ok_or_else(|| {
                ClaimSourceError::NotGraph {
                    source_name: name.to_owned(),
                    endpoint: endpoint.as_str().to_owned(),
                }
            })?;
        let too_many = || ClaimSourceError::TooManyGroups {
            source_name: name.to_owned(),
            max: MAX_GROUPS,
        };
        let mut ids: Vec<String> = Vec::new();
        let mut req = claims_sources::graph_request(&first, token);
        for _ in 0..MAX_GRAPH_PAGES {
            let resp = self.send(name, req, MAX_RESPONSE_BYTES).await?;
            let page = claims_sources::graph_page(name, &resp, &first)?;
            if ids.len().saturating_add(page.ids.len()) > MAX_GROUPS {
                return Err(too_many());
            }
            ids.extend(page.ids);
            match page.next {
                Some(next) => req = claims_sources::next_request(&next, token),
                None => {
                    let groups = ids.into_iter().map(Value::String).collect();
                    return Ok(Map::from_iter([(
                        "groups".to_owned(),
                        Value::Array(groups),
                    )]));
                }
            }
        }
        Err(too_many())
    }
}
