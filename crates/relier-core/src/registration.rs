//! Dynamic client registration (OIDC Dynamic Client Registration 1.0 §2–3, RFC 7591 §2–3) and
//! registration management (RFC 7592 §2.1 read, §2.2 update, §2.3 delete), as request and
//! response values.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use crate::discovery::ProviderMetadata;
use crate::http::{HttpRequest, HttpResponse, MAX_BODY_BYTES, Method, TlsIdentity};
use crate::secret::Secret;
use crate::types::ClientId;

mod typed;
pub use typed::{Registration, RegistrationMetadataError};

/// Client metadata sent to the OP (RFC 7591 §2, OIDC DCR §2). Unset members are omitted.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ClientMetadata {
    /// Redirect URIs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    /// Grant types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grant_types: Vec<String>,
    /// Response types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_types: Vec<String>,
    /// Client authentication method at the token endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// JWS alg of client assertions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// ID token signing alg the RP expects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
    /// Signed UserInfo alg.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<String>,
    /// Inline public JWKS (RFC 7591 §2: MUST NOT be used together with jwks_uri).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    /// URL of the RP's public JWKS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Human-readable name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// `web` or `native`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_type: Option<String>,
    /// Space-separated scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// RP-Initiated Logout 1.0 §3.1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Back-Channel Logout 1.0 §2.2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// RFC 8705 §2.1.2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_subject_dn: Option<String>,
    /// OIDC DCR §2: e-mail addresses of the people responsible for the client.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Why registration or its management failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// RFC 7591 §3.2.2 error response.
    #[error("registration: the OP refused: {error}{}{}", description.as_ref().map(|d| format!(": {d}")).unwrap_or_default(), hint.map(|h| format!(" ({h})")).unwrap_or_default())]
    Refused {
        /// HTTP status.
        status: u16,
        /// A hint for common statuses.
        hint: Option<&'static str>,
        /// `error`.
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
    /// Non-2xx without an RFC 7591 §3.2.2 error in the body (e.g. 401 for a wrong initial
    /// access token).
    #[error("registration: HTTP {status}{}{}", hint.map(|h| format!(" ({h})")).unwrap_or_default(), if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status {
        /// HTTP status.
        status: u16,
        /// A hint for common statuses.
        hint: Option<&'static str>,
        /// The body's first [`BODY_EXCERPT_CHARS`] characters, control characters escaped.
        body: String,
    },
    /// Not the JSON RFC 7591 §3.2.1 requires.
    #[error("registration: invalid response: {0}")]
    Invalid(String),
    /// Metadata conflicts (e.g. both jwks and jwks_uri).
    #[error("registration: invalid metadata: {0}")]
    InvalidMetadata(&'static str),
    /// RFC 7592 §1.1 / §3: the `registration_client_uri` is not on the OP's origin (the
    /// registration endpoint's or the issuer's, or for a read/update answer the one in use), so
    /// the registration access token would be sent elsewhere.
    #[error(
        "registration: registration_client_uri {registration_client_uri} is not on the OP's origin ({allowed}): refused, the registration access token is never sent there"
    )]
    ForeignClientUri {
        /// The URI the response named.
        registration_client_uri: String,
        /// The origins it may be on, comma-separated.
        allowed: String,
    },
}

/// RFC 7591 §3.2.1 / RFC 7592 §3 response. Secrets are split out of [`Self::metadata`].
#[derive(Clone)]
pub struct RegistrationResponse {
    /// Issued client_id.
    pub client_id: ClientId,
    /// Issued client_secret, if any.
    pub client_secret: Option<Secret>,
    /// RFC 7592 access token for the client configuration endpoint.
    pub registration_access_token: Option<Secret>,
    /// RFC 7592 client configuration endpoint.
    pub registration_client_uri: Option<String>,
    /// Expiry of the client secret (0 = never).
    pub client_secret_expires_at: Option<u64>,
    /// Every member as received except `client_secret` and `registration_access_token`.
    pub metadata: Map<String, Value>,
}

impl fmt::Debug for RegistrationResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistrationResponse")
            .field("client_id", &self.client_id)
            .field("has_client_secret", &self.client_secret.is_some())
            .field("registration_client_uri", &self.registration_client_uri)
            .finish_non_exhaustive()
    }
}

impl RegistrationResponse {
    /// RFC 7592 §3: the registration access token is presented at `registration_client_uri`,
    /// so a registration response (RFC 7591 §3.2.1) may only name a URI on the OP's origin —
    /// the registration endpoint's or the issuer's (same scheme, host and port).
    ///
    /// # Errors
    /// [`RegistrationError::ForeignClientUri`].
    pub fn check_client_uri(&self, op: &ProviderMetadata) -> Result<(), RegistrationError> {
        let allowed: Vec<&str> = op
            .registration_endpoint
            .as_deref()
            .into_iter()
            .chain([op.issuer.as_str()])
            .collect();
        self.check_client_uri_on(&allowed)
    }

    /// RFC 7592 §2.1–2.2: a read or update answer may move the client configuration endpoint,
    /// but only within the origin of the one in use (`current`).
    ///
    /// # Errors
    /// [`RegistrationError::ForeignClientUri`].
    pub fn check_client_uri_moved(&self, current: &str) -> Result<(), RegistrationError> {
        self.check_client_uri_on(&[current])
    }

    fn check_client_uri_on(&self, allowed: &[&str]) -> Result<(), RegistrationError> {
        let Some(uri) = &self.registration_client_uri else {
            return Ok(());
        };
        let origin = |u: &str| Url::parse(u).ok().map(|u| u.origin());
        let ok = origin(uri).is_some_and(|o| {
            o.is_tuple() && allowed.iter().any(|a| origin(a).as_ref() == Some(&o))
        });
        if ok {
            return Ok(());
        }
        let allowed = allowed
            .iter()
            .filter_map(|a| origin(a).map(|o| o.ascii_serialization()))
            .collect::<Vec<_>>();
        Err(RegistrationError::ForeignClientUri {
            registration_client_uri: uri.clone(),
            allowed: allowed.join(", "),
        })
    }
}

fn json_request(
    method: Method,
    url: &str,
    body: Option<&Value>,
    bearer: Option<&Secret>,
) -> HttpRequest {
    let mut headers = vec![("accept".to_owned(), "application/json".to_owned())];
    if body.is_some() {
        headers.push(("content-type".into(), "application/json".into()));
    }
    if let Some(t) = bearer {
        headers.push(("authorization".into(), format!("Bearer {}", t.expose())));
    }
    HttpRequest {
        method,
        url: url.to_owned(),
        headers,
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
        tls_identity: TlsIdentity::None,
    }
}

impl ClientMetadata {
    fn check(&self) -> Result<(), RegistrationError> {
        // RFC 7591 §2: "The jwks_uri and jwks parameters MUST NOT both be present".
        if self.jwks.is_some() && self.jwks_uri.is_some() {
            return Err(RegistrationError::InvalidMetadata(
                "jwks and jwks_uri must not both be present",
            ));
        }
        if let Some(Value::Object(j)) = &self.jwks {
            let private = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
            let leaks = j.get("keys").and_then(Value::as_array).is_some_and(|keys| {
                keys.iter()
                    .any(|k| private.iter().any(|m| k.get(*m).is_some()))
            });
            if leaks {
                return Err(RegistrationError::InvalidMetadata(
                    "jwks contains private key members",
                ));
            }
        }
        Ok(())
    }
}

/// RFC 7591 §3.1: POST the metadata as JSON, with the initial access token if the OP wants one.
pub fn register_request(
    registration_endpoint: &str,
    metadata: &ClientMetadata,
    initial_access_token: Option<&Secret>,
) -> Result<HttpRequest, RegistrationError> {
    metadata.check()?;
    let body =
        serde_json::to_value(metadata).map_err(|e| RegistrationError::Invalid(e.to_string()))?;
    Ok(json_request(
        Method::Post,
        registration_endpoint,
        Some(&body),
        initial_access_token,
    ))
}

/// RFC 7592 §2.1: read the current configuration.
pub fn read_request(registration_client_uri: &str, token: &Secret) -> HttpRequest {
    json_request(Method::Get, registration_client_uri, None, Some(token))
}

/// RFC 7592 §2.2: replace the configuration. The body carries `client_id` and, if the client has
/// one, the current `client_secret`; never the registration access token or its URI.
pub fn update_request(
    registration_client_uri: &str,
    token: &Secret,
    client_id: &ClientId,
    client_secret: Option<&Secret>,
    metadata: &ClientMetadata,
) -> Result<HttpRequest, RegistrationError> {
    metadata.check()?;
    let mut body =
        serde_json::to_value(metadata).map_err(|e| RegistrationError::Invalid(e.to_string()))?;
    if let Value::Object(m) = &mut body {
        for forbidden in [
            "registration_access_token",
            "registration_client_uri",
            "client_secret_expires_at",
            "client_id_issued_at",
        ] {
            m.remove(forbidden);
        }
        m.insert(
            "client_id".into(),
            Value::String(client_id.as_str().to_owned()),
        );
        if let Some(s) = client_secret {
            m.insert("client_secret".into(), Value::String(s.expose().to_owned()));
        }
    }
    Ok(json_request(
        Method::Put,
        registration_client_uri,
        Some(&body),
        Some(token),
    ))
}

/// RFC 7592 §2.3: deregister.
pub fn delete_request(registration_client_uri: &str, token: &Secret) -> HttpRequest {
    json_request(Method::Delete, registration_client_uri, None, Some(token))
}

/// How much of a body without an error object a [`RegistrationError::Status`] shows.
pub const BODY_EXCERPT_CHARS: usize = 200;

/// RFC 7591 §3.2.2 error object.
#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    error_description: Option<String>,
}

/// The RFC 7591 §3.2.2 error object in `body`: the whole body, or — as some OPs answer (the
/// OpenID Foundation suite's) — a JSON object inside an HTML page, possibly entity-escaped.
fn error_object(body: &[u8]) -> Option<ErrorBody> {
    if let Ok(e) = serde_json::from_slice::<ErrorBody>(body) {
        return Some(e);
    }
    let text = String::from_utf8_lossy(body.get(..MAX_BODY_BYTES).unwrap_or(body));
    embedded_error(&text).or_else(|| {
        let unescaped = text
            .replace("&quot;", "\"")
            .replace("&#34;", "\"")
            .replace("&#x22;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        embedded_error(&unescaped)
    })
}

/// The first JSON object in `text` that is an error object (at most 64 candidates tried).
fn embedded_error(text: &str) -> Option<ErrorBody> {
    text.match_indices('{').take(64).find_map(|(at, _)| {
        let rest = text.get(at..)?;
        serde_json::Deserializer::from_str(rest)
            .into_iter::<ErrorBody>()
            .next()?
            .ok()
    })
}

/// `text` with control characters escaped, so an OP's answer cannot rewrite the terminal or
/// forge log lines.
fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The first [`BODY_EXCERPT_CHARS`] characters of `body`, control characters escaped.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let head: String = text.chars().take(BODY_EXCERPT_CHARS).collect();
    let more = if text.chars().nth(BODY_EXCERPT_CHARS).is_some() {
        "…"
    } else {
        ""
    };
    format!("{}{more}", escape_controls(&head))
}

fn error_of(resp: &HttpResponse) -> RegistrationError {
    let hint = match resp.status {
        401 => Some("missing or wrong initial access token / registration access token"),
        403 => Some("forbidden"),
        404 => Some("unknown client or registration endpoint"),
        _ => None,
    };
    match error_object(&resp.body) {
        Some(e) => RegistrationError::Refused {
            status: resp.status,
            hint,
            error: escape_controls(&e.error),
            description: e.error_description.as_deref().map(escape_controls),
        },
        None => RegistrationError::Status {
            status: resp.status,
            hint,
            body: excerpt(&resp.body),
        },
    }
}

/// Parse a registration (201) or read/update (200) response.
pub fn parse_response(resp: &HttpResponse) -> Result<RegistrationResponse, RegistrationError> {
    if !resp.is_success() {
        return Err(error_of(resp));
    }
    if resp.body.len() > MAX_BODY_BYTES {
        return Err(RegistrationError::Invalid("body too large".into()));
    }
    let mut m: Map<String, Value> = serde_json::from_slice(&resp.body)
        .map_err(|e| RegistrationError::Invalid(e.to_string()))?;
    let take_secret =
        |m: &mut Map<String, Value>, k: &str| -> Result<Option<Secret>, RegistrationError> {
            match m.remove(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(Secret::new(s))),
                Some(_) => Err(RegistrationError::Invalid(format!("{k} is not a string"))),
            }
        };
    let client_secret = take_secret(&mut m, "client_secret")?;
    let registration_access_token = take_secret(&mut m, "registration_access_token")?;
    let client_id = match m.get("client_id") {
        Some(Value::String(s)) => {
            ClientId::new(s.clone()).map_err(|e| RegistrationError::Invalid(e.to_string()))?
        }
        _ => {
            return Err(RegistrationError::Invalid(
                "client_id is missing (RFC 7591 §3.2.1)".into(),
            ));
        }
    };
    let registration_client_uri = m
        .get("registration_client_uri")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(u) = &registration_client_uri {
        crate::types::parse_secure_url("registration_client_uri", u)
            .map_err(|e| RegistrationError::Invalid(e.to_string()))?;
    }
    let client_secret_expires_at = m.get("client_secret_expires_at").and_then(Value::as_u64);
    Ok(RegistrationResponse {
        client_id,
        client_secret,
        registration_access_token,
        registration_client_uri,
        client_secret_expires_at,
        metadata: m,
    })
}

/// RFC 7592 §2.3: 204 on success.
pub fn parse_delete(resp: &HttpResponse) -> Result<(), RegistrationError> {
    if resp.status == 204 || resp.status == 200 {
        Ok(())
    } else {
        Err(error_of(resp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::json(status, body)
    }

    #[test]
    fn request_carries_metadata_and_token() {
        let md = ClientMetadata {
            redirect_uris: vec!["https://rp.example.com/cb".into()],
            token_endpoint_auth_method: Some("private_key_jwt".into()),
            jwks: Some(
                serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}]}),
            ),
            ..Default::default()
        };
        let req =
            register_request("https://op.example.com/reg", &md, Some(&Secret::new("iat"))).unwrap();
        assert_eq!(req.header("authorization"), Some("Bearer iat"));
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body["token_endpoint_auth_method"], "private_key_jwt");
        assert!(body.get("jwks_uri").is_none());
        assert!(body.get("grant_types").is_none());
    }

    #[test]
    fn private_members_and_double_jwks_refused() {
        let leak = ClientMetadata {
            jwks: Some(serde_json::json!({"keys": [{"kty": "EC", "d": "secret"}]})),
            ..Default::default()
        };
        assert!(register_request("https://op/reg", &leak, None).is_err());
        let both = ClientMetadata {
            jwks: Some(serde_json::json!({"keys": []})),
            jwks_uri: Some("https://rp/jwks".into()),
            ..Default::default()
        };
        assert!(register_request("https://op/reg", &both, None).is_err());
    }

    #[test]
    fn response_splits_secrets() {
        let r = parse_response(&resp(
            201,
            r#"{"client_id":"c1","client_secret":"s3","registration_access_token":"rat","registration_client_uri":"https://op.example.com/reg/c1","redirect_uris":["https://rp/cb"]}"#,
        ))
        .unwrap();
        assert_eq!(r.client_id.as_str(), "c1");
        assert_eq!(r.client_secret.unwrap().expose(), "s3");
        assert_eq!(r.registration_access_token.unwrap().expose(), "rat");
        assert!(!r.metadata.contains_key("client_secret"));
        assert!(!r.metadata.contains_key("registration_access_token"));
    }

    #[test]
    fn errors_are_clear() {
        let e = parse_response(&resp(
            400,
            r#"{"error":"invalid_redirect_uri","error_description":"bad uri"}"#,
        ))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "registration: the OP refused: invalid_redirect_uri: bad uri"
        );
        let e = parse_response(&resp(401, "")).unwrap_err();
        assert!(e.to_string().contains("initial access token"));
    }

    /// The OpenID Foundation suite's OP answers its JSON error inside an HTML page.
    #[test]
    fn error_inside_html_is_found() {
        let html = r#"<!DOCTYPE html><html><head><style>body { color: red }</style></head><body><pre>{"error":"invalid_client_metadata","error_description":"contacts is required"}</pre></body></html>"#;
        let e = parse_response(&resp(400, html)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "registration: the OP refused: invalid_client_metadata: contacts is required"
        );
        let escaped =
            "<html><body>{&quot;error&quot;:&quot;invalid_redirect_uri&quot;}</body></html>";
        let e = parse_response(&resp(400, escaped)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "registration: the OP refused: invalid_redirect_uri"
        );
    }

    #[test]
    fn error_without_json_shows_the_body_escaped() {
        let body = format!("bad\u{1b}[31m request\r\nX-Forged: 1 {}", "x".repeat(300));
        let e = parse_response(&resp(400, &body)).unwrap_err();
        let RegistrationError::Status {
            status,
            body: shown,
            ..
        } = &e
        else {
            panic!("{e:?}");
        };
        assert_eq!(*status, 400);
        assert!(
            shown.starts_with("bad\\u{1b}[31m request\\r\\nX-Forged: 1 xxx"),
            "{shown}"
        );
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert!(shown.ends_with("x…"), "{shown}");
        // 200 characters of the body, the 4 control characters each escaped.
        let escaped_extra = "\\u{1b}".len() - 1 + 2 * ("\\r".len() - 1);
        assert_eq!(shown.chars().count(), 200 + escaped_extra + 1);
        let e = parse_response(&resp(
            400,
            r#"{"error":"a\u0007b","error_description":"x\ny"}"#,
        ))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "registration: the OP refused: a\\u{7}b: x\\ny"
        );
    }

    #[test]
    fn contacts_are_sent() {
        let md = ClientMetadata {
            redirect_uris: vec!["https://rp.example.com/cb".into()],
            contacts: vec!["ops@rp.example.com".into(), "sec@rp.example.com".into()],
            ..Default::default()
        };
        let req = register_request("https://op.example.com/reg", &md, None).unwrap();
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(
            body["contacts"],
            serde_json::json!(["ops@rp.example.com", "sec@rp.example.com"])
        );
        let none = register_request(
            "https://op.example.com/reg",
            &ClientMetadata::default(),
            None,
        )
        .unwrap();
        let body: Value = serde_json::from_slice(&none.body).unwrap();
        assert!(body.get("contacts").is_none());
    }

    fn registered(uri: &str) -> RegistrationResponse {
        let body = serde_json::json!({"client_id": "c1", "registration_client_uri": uri});
        parse_response(&resp(201, &body.to_string())).unwrap()
    }

    fn op(issuer: &str, registration_endpoint: Option<&str>) -> ProviderMetadata {
        let mut md = serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        });
        if let Some(r) = registration_endpoint {
            md["registration_endpoint"] = serde_json::json!(r);
        }
        let issuer = crate::types::IssuerUrl::new(issuer).unwrap();
        ProviderMetadata::from_json(&issuer, md.to_string().as_bytes()).unwrap()
    }

    /// RFC 7592 §3: the registration access token goes to registration_client_uri, which must
    /// be on the OP's origin (the registration endpoint's or the issuer's).
    #[test]
    fn client_uri_on_the_op_origin_only() {
        let md = op(
            "https://op.example.com",
            Some("https://reg.example.com:8443/register"),
        );
        for ok in [
            "https://op.example.com/reg/c1",
            "https://op.example.com:443/other/c1",
            "https://reg.example.com:8443/register/c1",
        ] {
            assert!(registered(ok).check_client_uri(&md).is_ok(), "{ok}");
        }
        for bad in [
            "https://evil.example/reg/c1",
            "https://op.example.com.evil.example/reg/c1",
            "https://op.example.com:8443/reg/c1",
            "https://reg.example.com/register/c1",
            "https://user@evil.example/op.example.com/reg",
        ] {
            match registered(bad).check_client_uri(&md) {
                Err(RegistrationError::ForeignClientUri {
                    registration_client_uri,
                    allowed,
                }) => {
                    assert_eq!(registration_client_uri, bad);
                    assert_eq!(
                        allowed,
                        "https://reg.example.com:8443, https://op.example.com"
                    );
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        // Without a registration endpoint (an imported registration), the issuer's origin.
        let md = op("https://op.example.com", None);
        assert!(
            registered("https://op.example.com/reg/c1")
                .check_client_uri(&md)
                .is_ok()
        );
        assert!(
            registered("https://reg.example.com:8443/register/c1")
                .check_client_uri(&md)
                .is_err()
        );
        // A read/update answer stays on the origin of the URI in use.
        let r = registered("https://op.example.com/reg/new");
        assert!(
            r.check_client_uri_moved("https://op.example.com/reg/c1")
                .is_ok()
        );
        assert!(
            r.check_client_uri_moved("https://other.example.com/reg/c1")
                .is_err()
        );
    }

    #[test]
    fn update_body() {
        let req = update_request(
            "https://op.example.com/reg/c1",
            &Secret::new("rat"),
            &ClientId::new("c1").unwrap(),
            None,
            &ClientMetadata {
                redirect_uris: vec!["https://rp/cb".into()],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(req.method, Method::Put);
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body["client_id"], "c1");
        assert!(body.get("registration_access_token").is_none());
    }
}
