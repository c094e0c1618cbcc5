//! Entra ID's groups overage through Microsoft Graph: `POST …/users/{id}/getMemberObjects`
//! with the user's access token and `{"securityEnabledOnly": false}`, answered with
//! `{"value": [ids…]}` and, when there are more, `@odata.nextLink`
//! (<https://learn.microsoft.com/en-us/graph/api/directoryobject-getmemberobjects>,
//! <https://learn.microsoft.com/en-us/graph/paging>).

use serde_json::{Value, json};
use url::Url;

use super::{ClaimSourceError, check_response, invalid, json_post};
use crate::http::{HttpRequest, HttpResponse};
use crate::secret::Secret;
use crate::types::{IssuerUrl, is_loopback};

/// At most this many Graph pages are followed.
pub const MAX_GRAPH_PAGES: usize = 10;
/// At most this many group ids are taken.
pub const MAX_GROUPS: usize = 10_000;

/// Microsoft Graph's hosts (global and national clouds): the user's access token may go there.
const GRAPH_HOSTS: [&str; 4] = [
    "graph.microsoft.com",
    "graph.microsoft.us",
    "dod-graph.microsoft.us",
    "microsoftgraph.chinacloudapi.cn",
];
/// The retired Azure AD Graph, which older tokens still name.
const AAD_GRAPH_HOST: &str = "graph.windows.net";

/// Whether `endpoint` is a `getMemberObjects` call.
pub(super) fn is_member_objects(endpoint: &Url) -> bool {
    endpoint
        .path_segments()
        .and_then(|mut s| s.next_back())
        .is_some_and(|last| last.eq_ignore_ascii_case("getMemberObjects"))
}

/// Where to send the groups overage request of a provider at `issuer`, or `None` when the
/// user's access token may not go to `endpoint`: Microsoft Graph as given; the retired Azure
/// AD Graph (`https://graph.windows.net/{tenant}/users/{id}/getMemberObjects`) as the same
/// call on Microsoft Graph v1.0; or — a test set-up — the issuer's own loopback origin.
pub fn graph_target(endpoint: &Url, issuer: &IssuerUrl) -> Option<Url> {
    if !is_member_objects(endpoint) {
        return None;
    }
    let host = endpoint.host_str()?.to_ascii_lowercase();
    if endpoint.scheme() == "https" && GRAPH_HOSTS.contains(&host.as_str()) {
        return Some(endpoint.clone());
    }
    if endpoint.scheme() == "https" && host == AAD_GRAPH_HOST {
        let mut segments = endpoint.path_segments()?.rev();
        segments.next();
        let user = segments.next()?;
        if user.is_empty() || !user.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return None;
        }
        return Url::parse(&format!(
            "https://graph.microsoft.com/v1.0/users/{user}/getMemberObjects"
        ))
        .ok();
    }
    let issuer = Url::parse(issuer.as_str()).ok()?;
    (is_loopback(&issuer) && issuer.origin() == endpoint.origin()).then(|| endpoint.clone())
}

/// The first request: a POST of `{"securityEnabledOnly": false}` (every group, not only
/// security groups: `allowed_groups` may name any). Later pages are a GET of
/// `@odata.nextLink` with the same token ([`next_request`]).
pub fn graph_request(url: &Url, access_token: &Secret) -> HttpRequest {
    json_post(
        url.as_str(),
        access_token,
        &json!({"securityEnabledOnly": false}),
    )
}

/// The request for a following page.
pub fn next_request(next: &Url, access_token: &Secret) -> HttpRequest {
    super::distributed_request(next, access_token)
}

/// One page of group ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphPage {
    /// The object ids of this page.
    pub ids: Vec<String>,
    /// `@odata.nextLink`, on the same origin as the first request.
    pub next: Option<Url>,
}

/// Checks a page: success, size cap, `value` an array of strings, `@odata.nextLink` (if
/// any) on `first`'s origin.
///
/// # Errors
/// [`ClaimSourceError::Status`], [`ClaimSourceError::ResponseTooLarge`],
/// [`ClaimSourceError::InvalidResponse`].
pub fn graph_page(
    name: &str,
    resp: &HttpResponse,
    first: &Url,
) -> Result<GraphPage, ClaimSourceError> {
    check_response(name, resp)?;
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&resp.body) else {
        return Err(invalid(name, "not a JSON object"));
    };
    let Some(Value::Array(values)) = body.get("value") else {
        return Err(invalid(name, "no value array"));
    };
    let ids = values
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| invalid(name, "value holds a non-string"))?;
    let next = match body.get("@odata.nextLink") {
        None | Some(Value::Null) => None,
        Some(Value::String(link)) => {
            let url = Url::parse(link).map_err(|_| invalid(name, "nextLink is not a URL"))?;
            if url.origin() != first.origin() {
                return Err(invalid(name, "nextLink leaves the Graph origin"));
            }
            Some(url)
        }
        Some(_) => return Err(invalid(name, "nextLink is not a string")),
    };
    Ok(GraphPage { ids, next })
}
