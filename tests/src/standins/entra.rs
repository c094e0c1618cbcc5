//! A Microsoft Entra ID stand-in for multi-tenant logins: the metadata of `/common/v2.0` and
//! `/organizations/v2.0` carries the issuer template `{base}/{tenantid}/v2.0`, and each ID
//! token the issuer of its own `tid`. Knobs choose the tenant, an issuer that does not match
//! the tenant, and the groups overage (`_claim_names.groups` instead of `groups`, the groups then
//! at a Microsoft Graph stand-in: `POST /v1.0/users/{oid}/getMemberObjects` with the access
//! token, answered in two pages joined by `@odata.nextLink`). With a
//! certificate uploaded ([`Entra::upload_certificate`]), a `client_assertion` is checked as
//! Entra ID checks certificate credentials: header `x5t#S256` = the certificate's thumbprint,
//! an RS256 signature of its key, `aud` = the token endpoint, `iss` = `sub` = the client id,
//! `exp` in the future.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use relier_jose::jws::UnverifiedJws;
use relier_jose::{Algorithm, SigningKey, VerifyingKey};
use serde_json::{Value, json};

use super::{now, sign};

/// The application (client) id.
pub const CLIENT_ID: &str = "00000000-0000-0000-0000-00000000c11e";
/// Its client secret.
pub const CLIENT_SECRET: &str = "entra-standin-secret";
/// A tenant the tests allow.
pub const GOOD_TENANT: &str = "11111111-1111-1111-1111-111111111111";
/// The user's object id.
pub const OID: &str = "33333333-3333-3333-3333-333333333333";
/// The access token the token endpoint issues (and the Graph stand-in wants).
pub const ACCESS_TOKEN: &str = "entra-access-token";
/// A tenant the tests do not allow.
pub const OTHER_TENANT: &str = "22222222-2222-2222-2222-222222222222";

/// What the next ID token says.
#[derive(Debug, Clone)]
pub struct Knobs {
    /// `tid`.
    pub tid: String,
    /// `iss` instead of `{base}/{tid}/v2.0`.
    pub iss: Option<String>,
    /// Groups overage: `_claim_names.groups` and `_claim_sources` instead of `groups`.
    pub overage: bool,
    /// The user's groups (in `groups`, or from Graph on an overage).
    pub groups: Vec<String>,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            tid: GOOD_TENANT.into(),
            iss: None,
            overage: false,
            groups: vec!["staff".into()],
        }
    }
}

struct Inner {
    base: String,
    key: SigningKey,
    knobs: Mutex<Knobs>,
    nonce: Mutex<Option<String>>,
    /// The uploaded certificate: its x5t#S256 and its public key.
    certificate: Mutex<Option<(String, VerifyingKey)>>,
    complaints: Mutex<Vec<String>>,
    /// Requests to the Graph stand-in: (method, path).
    graph_calls: Mutex<Vec<(String, String)>>,
}

/// A running Entra ID stand-in.
pub struct Entra {
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Entra {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Entra {
    /// Starts on 127.0.0.1:0.
    pub async fn start() -> anyhow::Result<Entra> {
        let key = SigningKey::generate(Algorithm::RS256, None)?.with_kid("entra-1");
        let (inner, task) = super::start(
            |base| Inner {
                base,
                key,
                knobs: Mutex::default(),
                nonce: Mutex::default(),
                certificate: Mutex::default(),
                complaints: Mutex::default(),
                graph_calls: Mutex::default(),
            },
            Router::new()
                .route(
                    "/{tenant}/v2.0/.well-known/openid-configuration",
                    get(discovery),
                )
                .route("/{tenant}/discovery/v2.0/keys", get(jwks))
                .route("/{tenant}/oauth2/v2.0/authorize", get(authorize))
                .route("/{tenant}/oauth2/v2.0/token", post(token))
                .route("/v1.0/users/{oid}/getMemberObjects", post(member_objects))
                .route("/v1.0/skiptoken/{oid}", get(member_objects_next)),
        )
        .await?;
        Ok(Entra { inner, task })
    }

    /// The `authority`.
    pub fn authority(&self) -> &str {
        &self.inner.base
    }

    /// Changes the next tokens.
    pub fn set(&self, k: Knobs) {
        *self.inner.knobs.lock().unwrap() = k;
    }

    /// Registers a certificate credential: its `x5t#S256` and public key (what Entra ID reads
    /// from the uploaded certificate).
    pub fn upload_certificate(&self, x5t_s256: &str, key: VerifyingKey) {
        *self.inner.certificate.lock().unwrap() = Some((x5t_s256.to_owned(), key));
    }

    /// A back-channel logout token for the stand-in's user, issued by tenant `tid`'s issuer.
    pub fn logout_token(&self, tid: &str, jti: &str) -> String {
        let s = &self.inner;
        let claims = json!({
            "iss": format!("{}/{tid}/v2.0", s.base),
            "aud": CLIENT_ID,
            "iat": now(),
            "jti": jti,
            "sub": "entra-pairwise-sub",
            "tid": tid,
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
        });
        sign(&s.key, &claims, Some("logout+jwt"))
    }

    /// The Graph stand-in's requests: (method, path).
    pub fn graph_calls(&self) -> Vec<(String, String)> {
        self.inner.graph_calls.lock().unwrap().clone()
    }

    /// Client assertions Entra ID would have refused.
    pub fn complaints(&self) -> Vec<String> {
        self.inner.complaints.lock().unwrap().clone()
    }
}

/// Entra ID's checks of a certificate credential's assertion; `None` when it passes.
fn assertion_refusal(s: &Inner, tenant: &str, assertion: &str) -> Option<String> {
    let Some((x5t, key)) = s.certificate.lock().unwrap().clone() else {
        return Some("AADSTS700027: no certificate registered".into());
    };
    let Ok(jws) = UnverifiedJws::parse(assertion) else {
        return Some("assertion is not a JWS".into());
    };
    if jws.header().extra.get("x5t#S256").and_then(Value::as_str) != Some(x5t.as_str()) {
        return Some(format!(
            "AADSTS700027: x5t#S256 {:?} is not the uploaded certificate's",
            jws.header().extra.get("x5t#S256")
        ));
    }
    let Ok(payload) = jws.verify(Algorithm::RS256, &key) else {
        return Some("AADSTS700027: signature does not verify with the certificate's key".into());
    };
    let c: Value = serde_json::from_slice(payload).unwrap_or_default();
    let token_endpoint = format!("{}/{tenant}/oauth2/v2.0/token", s.base);
    if c["aud"] != token_endpoint.as_str() {
        return Some(format!(
            "AADSTS50027: aud {} is not the token endpoint",
            c["aud"]
        ));
    }
    if c["iss"] != CLIENT_ID || c["sub"] != CLIENT_ID {
        return Some("AADSTS50027: iss/sub are not the client id".into());
    }
    if c["exp"].as_u64().is_none_or(|e| e <= now()) {
        return Some("AADSTS500208: assertion expired".into());
    }
    None
}

async fn discovery(State(s): State<Arc<Inner>>, Path(tenant): Path<String>) -> Json<Value> {
    let b = &s.base;
    let issuer = if tenant == "common" || tenant == "organizations" {
        format!("{b}/{{tenantid}}/v2.0")
    } else {
        format!("{b}/{tenant}/v2.0")
    };
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{b}/{tenant}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{b}/{tenant}/oauth2/v2.0/token"),
        "jwks_uri": format!("{b}/{tenant}/discovery/v2.0/keys"),
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "tid", "oid", "email", "name", "preferred_username"],
        "tenant_region_scope": null,
    }))
}

async fn jwks(State(s): State<Arc<Inner>>) -> Json<Value> {
    Json(json!({ "keys": [s.key.public_jwk().unwrap()] }))
}

async fn authorize(
    State(s): State<Arc<Inner>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(redirect) = q.get("redirect_uri") else {
        return (StatusCode::BAD_REQUEST, "AADSTS900144: redirect_uri").into_response();
    };
    *s.nonce.lock().unwrap() = q.get("nonce").cloned();
    let mut url = url::Url::parse(redirect).unwrap();
    url.query_pairs_mut().append_pair("code", "entra-code");
    if let Some(st) = q.get("state") {
        url.query_pairs_mut().append_pair("state", st);
    }
    Redirect::to(url.as_str()).into_response()
}

async fn token(State(s): State<Arc<Inner>>, Path(tenant): Path<String>, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    if let Some(assertion) = form.get("client_assertion")
        && let Some(why) = assertion_refusal(&s, &tenant, assertion)
    {
        s.complaints.lock().unwrap().push(why.clone());
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client", "error_description": why})),
        )
            .into_response();
    }
    let k = s.knobs.lock().unwrap().clone();
    let now = now();
    let mut claims = json!({
        "iss": k.iss.clone().unwrap_or_else(|| format!("{}/{}/v2.0", s.base, k.tid)),
        "sub": "entra-pairwise-sub",
        "oid": OID,
        "tid": k.tid,
        "aud": CLIENT_ID,
        "exp": now + 3600,
        "iat": now,
        "nbf": now,
        "nonce": s.nonce.lock().unwrap().clone(),
        "name": "Ada Lovelace",
        "preferred_username": "ada@contoso.example",
        "email": "ada@contoso.example",
        "ver": "2.0",
    });
    if k.overage {
        claims["_claim_names"] = json!({"groups": "src1"});
        // Entra ID names the Graph; the stand-in serves it itself.
        claims["_claim_sources"] =
            json!({"src1": {"endpoint": format!("{}/v1.0/users/{OID}/getMemberObjects", s.base)}});
    } else {
        claims["groups"] = json!(k.groups);
    }
    let idt = sign(&s.key, &claims, None);
    Json(json!({
        "token_type": "Bearer",
        "scope": "openid profile email",
        "expires_in": 3599,
        "access_token": ACCESS_TOKEN,
        "id_token": idt,
    }))
    .into_response()
}

/// Graph's checks of a `getMemberObjects` call; `None` when it passes.
fn graph_refusal(s: &Inner, oid: &str, headers: &HeaderMap) -> Option<Response> {
    let auth = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {ACCESS_TOKEN}")) {
        s.complaints
            .lock()
            .unwrap()
            .push(format!("graph: Authorization {auth:?}"));
        return Some((StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken").into_response());
    }
    if oid != OID {
        return Some((StatusCode::NOT_FOUND, "Request_ResourceNotFound").into_response());
    }
    None
}

/// `POST /v1.0/users/{oid}/getMemberObjects`: the first half of the groups and a nextLink.
async fn member_objects(
    State(s): State<Arc<Inner>>,
    Path(oid): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    s.graph_calls
        .lock()
        .unwrap()
        .push(("POST".into(), format!("/v1.0/users/{oid}/getMemberObjects")));
    if let Some(r) = graph_refusal(&s, &oid, &headers) {
        return r;
    }
    let b: Value = serde_json::from_str(&body).unwrap_or_default();
    if b != json!({"securityEnabledOnly": false}) {
        s.complaints
            .lock()
            .unwrap()
            .push(format!("graph: body {body}"));
        return (StatusCode::BAD_REQUEST, "Request_BadRequest").into_response();
    }
    let groups = s.knobs.lock().unwrap().groups.clone();
    let half = groups.len() / 2;
    Json(json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)",
        "value": groups.get(..half).unwrap_or_default(),
        "@odata.nextLink": format!("{}/v1.0/skiptoken/{oid}", s.base),
    }))
    .into_response()
}

/// The nextLink: the second half.
async fn member_objects_next(
    State(s): State<Arc<Inner>>,
    Path(oid): Path<String>,
    headers: HeaderMap,
) -> Response {
    s.graph_calls
        .lock()
        .unwrap()
        .push(("GET".into(), format!("/v1.0/skiptoken/{oid}")));
    if let Some(r) = graph_refusal(&s, &oid, &headers) {
        return r;
    }
    let groups = s.knobs.lock().unwrap().groups.clone();
    let half = groups.len() / 2;
    Json(json!({"value": groups.get(half..).unwrap_or_default()})).into_response()
}
