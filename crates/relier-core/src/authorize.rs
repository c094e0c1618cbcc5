//! The authorization request (OIDC Core §3.1.2.1, RFC 7636 §4) and the callback that answers it
//! (OIDC Core §3.1.2.5–6, RFC 6749 §4.1.2, RFC 9207 §2.4).

use aws_lc_rs::rand::SecureRandom;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::discovery::ProviderMetadata;
use crate::types::{ClientId, InvalidValue, IssuerUrl, Nonce, PkceVerifier, RedirectUrl, State};

/// Optional parts of an authorization request.
#[derive(Debug, Clone, Default)]
pub struct AuthorizationParams {
    /// Scopes; `openid` is always sent (OIDC Core §3.1.2.1).
    pub scopes: Vec<String>,
    /// `prompt` (none, login, consent, select_account).
    pub prompt: Option<String>,
    /// `max_age` in seconds; makes `auth_time` mandatory in the ID token (OIDC Core §3.1.2.1).
    pub max_age: Option<u64>,
    /// `login_hint`.
    pub login_hint: Option<String>,
    /// `acr_values`.
    pub acr_values: Option<String>,
    /// `response_mode` (e.g. `form_post`).
    pub response_mode: Option<String>,
    /// Anything else (e.g. `ui_locales`, `claims`). Parameters relier sets itself are refused.
    pub extra: Vec<(String, String)>,
}

/// What the RP must remember between the redirect to the OP and the callback. Contains secrets:
/// keep it server-side (or in memory for a CLI).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The state sent.
    pub state: State,
    /// The nonce sent.
    pub nonce: Nonce,
    /// The PKCE verifier whose S256 challenge was sent.
    pub pkce_verifier: PkceVerifier,
    /// The redirect URI sent (the token request repeats it, RFC 6749 §4.1.3).
    pub redirect_uri: RedirectUrl,
    /// `max_age` sent, for the auth_time check (OIDC Core §3.1.3.7 (11)).
    pub max_age: Option<u64>,
}

/// Why an authorization request could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizeError {
    /// Invalid value.
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    /// An extra parameter would override one relier controls.
    #[error("authorization request: parameter {0} is set by relier and cannot be overridden")]
    ReservedParameter(String),
    /// The authorization endpoint is not a URL.
    #[error("authorization request: authorization_endpoint is not a URL")]
    BadEndpoint,
}

const RESERVED: [&str; 10] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "scope",
    // RFC 9126 §4: set by relier when the request is pushed.
    "request_uri",
    // RFC 9101: a request object would carry its own copy of every parameter above.
    "request",
];

/// Build the authorization URL: response_type=code, state, nonce and PKCE S256 always.
pub fn authorization_url(
    metadata: &ProviderMetadata,
    client_id: &ClientId,
    redirect_uri: &RedirectUrl,
    params: &AuthorizationParams,
    rng: &dyn SecureRandom,
) -> Result<(Url, PendingLogin), AuthorizeError> {
    let mut url =
        Url::parse(&metadata.authorization_endpoint).map_err(|_| AuthorizeError::BadEndpoint)?;
    let (pairs, pending) = request_parameters(client_id, redirect_uri, params, rng)?;
    url.query_pairs_mut().extend_pairs(pairs);
    Ok((url, pending))
}

/// Which protocol an authorization request speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// OpenID Connect: `openid` scope and a nonce (OIDC Core §3.1.2.1).
    Oidc,
    /// Plain OAuth 2.0 (RFC 6749 §4.1.1), e.g. GitHub: the scopes as given, no nonce (there is
    /// no ID token to carry it back). State and PKCE S256 are sent all the same.
    OAuth2,
}

/// A plain OAuth 2.0 authorization URL (RFC 6749 §4.1.1 with RFC 7636 PKCE S256 and state),
/// for providers that are not OpenID Connect providers. The scopes are sent as given, `openid`
/// is not added and no nonce is sent; the [`PendingLogin`]'s nonce is unused.
pub fn oauth2_authorization_url(
    authorization_endpoint: &str,
    client_id: &ClientId,
    redirect_uri: &RedirectUrl,
    params: &AuthorizationParams,
    rng: &dyn SecureRandom,
) -> Result<(Url, PendingLogin), AuthorizeError> {
    let mut url = Url::parse(authorization_endpoint).map_err(|_| AuthorizeError::BadEndpoint)?;
    let (pairs, pending) = parameters(Flavor::OAuth2, client_id, redirect_uri, params, rng)?;
    url.query_pairs_mut().extend_pairs(pairs);
    Ok((url, pending))
}

/// The authorization request's parameters, in order, and what to remember for the callback —
/// sent as the URL's query ([`authorization_url`]) or pushed (RFC 9126, [`crate::par`]).
pub(crate) fn request_parameters(
    client_id: &ClientId,
    redirect_uri: &RedirectUrl,
    params: &AuthorizationParams,
    rng: &dyn SecureRandom,
) -> Result<(Vec<(String, String)>, PendingLogin), AuthorizeError> {
    parameters(Flavor::Oidc, client_id, redirect_uri, params, rng)
}

fn parameters(
    flavor: Flavor,
    client_id: &ClientId,
    redirect_uri: &RedirectUrl,
    params: &AuthorizationParams,
    rng: &dyn SecureRandom,
) -> Result<(Vec<(String, String)>, PendingLogin), AuthorizeError> {
    for (name, _) in &params.extra {
        if RESERVED.contains(&name.as_str()) {
            return Err(AuthorizeError::ReservedParameter(name.clone()));
        }
    }
    let state = State::generate(rng)?;
    let nonce = Nonce::generate(rng)?;
    let verifier = PkceVerifier::generate(rng)?;
    let mut scopes: Vec<&str> = match flavor {
        Flavor::Oidc => vec!["openid"],
        Flavor::OAuth2 => Vec::new(),
    };
    for s in &params.scopes {
        for part in s.split_whitespace() {
            if !scopes.contains(&part) {
                scopes.push(part);
            }
        }
    }
    let mut q: Vec<(String, String)> = Vec::with_capacity(12 + params.extra.len());
    let mut push = |k: &str, v: &str| q.push((k.to_owned(), v.to_owned()));
    push("response_type", "code");
    push("client_id", client_id.as_str());
    push("redirect_uri", redirect_uri.as_str());
    if !scopes.is_empty() {
        push("scope", &scopes.join(" "));
    }
    push("state", state.expose());
    if flavor == Flavor::Oidc {
        push("nonce", nonce.expose());
    }
    // RFC 7636 §4.3; RFC 9700 §2.1.1: PKCE for every client, S256 only.
    push("code_challenge", &verifier.s256_challenge());
    push("code_challenge_method", "S256");
    if let Some(p) = &params.prompt {
        push("prompt", p);
    }
    if let Some(m) = params.max_age {
        push("max_age", &m.to_string());
    }
    if let Some(h) = &params.login_hint {
        push("login_hint", h);
    }
    if let Some(a) = &params.acr_values {
        push("acr_values", a);
    }
    if let Some(m) = &params.response_mode {
        push("response_mode", m);
    }
    for (k, v) in &params.extra {
        push(k, v);
    }
    Ok((
        q,
        PendingLogin {
            state,
            nonce,
            pkce_verifier: verifier,
            redirect_uri: redirect_uri.clone(),
            max_age: params.max_age,
        },
    ))
}

/// Why a callback was refused. The RP must not call the token endpoint after any of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// RFC 6749 §4.1.2: `state` missing.
    #[error("callback: state is missing")]
    MissingState,
    /// RFC 6749 §10.12: `state` differs from the one sent.
    #[error("callback: state mismatch")]
    StateMismatch,
    /// RFC 9207 §2.4: the OP advertises `authorization_response_iss_parameter_supported` but sent no `iss`.
    #[error(
        "callback: iss is missing but the OP advertises authorization_response_iss_parameter_supported (RFC 9207 §2.4)"
    )]
    MissingIss,
    /// RFC 9207 §2.4: `iss` differs from the issuer (mix-up attack).
    #[error("callback: iss mismatch: expected {expected}, got {got}")]
    IssMismatch {
        /// The issuer the authorization request went to.
        expected: String,
        /// The `iss` parameter of the callback.
        got: String,
    },
    /// OIDC Core §3.1.2.6 / RFC 6749 §4.1.2.1: the OP answered with an error.
    #[error("callback: the OP returned error {error}{}", description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    OpError {
        /// `error` code.
        error: String,
        /// `error_description`.
        description: Option<String>,
        /// `error_uri`.
        uri: Option<String>,
    },
    /// Neither `code` nor `error`.
    #[error("callback: code is missing")]
    MissingCode,
    /// RFC 6749 §3.1: a parameter appears more than once.
    #[error("callback: parameter {0} appears more than once")]
    DuplicateParameter(String),
    /// Too many or too long parameters.
    #[error("callback: too large")]
    TooLarge,
}

/// The parameters of an authorization response, from a query string or a `form_post` body.
#[derive(Clone, Default)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    error_uri: Option<String>,
    /// JARM §2.3: the JWT carrying the others ([`crate::jarm`]).
    response: Option<String>,
    /// Built by [`crate::jarm::JarmValidator::open`] from a verified JARM response.
    pub(crate) from_jarm: bool,
}

impl std::fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackParams")
            .field("has_code", &self.code.is_some())
            .field("iss", &self.iss)
            .field("error", &self.error)
            .field("has_response", &self.response.is_some())
            .finish_non_exhaustive()
    }
}

const MAX_CALLBACK_BYTES: usize = 16 * 1024;

impl CallbackParams {
    /// Parse `application/x-www-form-urlencoded` data (a query string or a form_post body).
    pub fn parse(encoded: &[u8]) -> Result<Self, CallbackError> {
        if encoded.len() > MAX_CALLBACK_BYTES {
            return Err(CallbackError::TooLarge);
        }
        let mut p = CallbackParams::default();
        for (k, v) in url::form_urlencoded::parse(encoded) {
            p.set(&k, v.into_owned())?;
        }
        Ok(p)
    }

    /// Sets parameter `name` (ignored when relier does not read it); each at most once.
    pub(crate) fn set(&mut self, name: &str, value: String) -> Result<(), CallbackError> {
        let slot = match name {
            "code" => &mut self.code,
            "state" => &mut self.state,
            "iss" => &mut self.iss,
            "error" => &mut self.error,
            "error_description" => &mut self.error_description,
            "error_uri" => &mut self.error_uri,
            "response" => &mut self.response,
            _ => return Ok(()),
        };
        if slot.is_some() {
            return Err(CallbackError::DuplicateParameter(name.to_owned()));
        }
        *slot = Some(value);
        Ok(())
    }

    /// The JARM `response` parameter, if any ([`crate::jarm::JarmValidator::open`] checks it).
    pub fn response(&self) -> Option<&str> {
        self.response.as_deref()
    }

    /// Parse the query of a full callback URL.
    pub fn from_url(url: &Url) -> Result<Self, CallbackError> {
        Self::parse(url.query().unwrap_or_default().as_bytes())
    }

    /// The `state` parameter, if any (to find the pending login; [`Self::validate`] compares).
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }

    /// The `iss` parameter, if any.
    pub fn iss(&self) -> Option<&str> {
        self.iss.as_deref()
    }

    /// Check the response against the pending login and return the authorization code.
    ///
    /// Order: state (constant-time), then iss (RFC 9207 applies to error responses too), then the
    /// OP's error, then the code.
    pub fn validate(
        self,
        pending: &PendingLogin,
        issuer: &IssuerUrl,
        iss_parameter_supported: bool,
    ) -> Result<AuthorizationCode, CallbackError> {
        let state = self.state.ok_or(CallbackError::MissingState)?;
        if !pending.state.matches(&state) {
            return Err(CallbackError::StateMismatch);
        }
        // RFC 9207 §2.4: compare iss when present; require it when the OP advertises support.
        match &self.iss {
            Some(got) if got != issuer.as_str() => {
                return Err(CallbackError::IssMismatch {
                    expected: issuer.as_str().to_owned(),
                    got: got.clone(),
                });
            }
            None if iss_parameter_supported => return Err(CallbackError::MissingIss),
            _ => {}
        }
        if let Some(error) = self.error {
            return Err(CallbackError::OpError {
                error,
                description: self.error_description,
                uri: self.error_uri,
            });
        }
        let code = self
            .code
            .filter(|c| !c.is_empty())
            .ok_or(CallbackError::MissingCode)?;
        Ok(AuthorizationCode(crate::secret::Secret::new(code)))
    }
}

/// An authorization code that passed the callback checks.
#[derive(Debug, Clone)]
pub struct AuthorizationCode(crate::secret::Secret);

impl AuthorizationCode {
    /// The code.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;

    fn md() -> ProviderMetadata {
        let doc = r#"{"issuer":"https://op.example.com","authorization_endpoint":"https://op.example.com/auth?tenant=a","authorization_response_iss_parameter_supported":true}"#;
        ProviderMetadata::from_json(&iss(), doc.as_bytes()).unwrap()
    }

    fn iss() -> IssuerUrl {
        IssuerUrl::new("https://op.example.com").unwrap()
    }

    #[test]
    fn oauth2_requests_have_no_openid_scope_and_no_nonce_but_state_and_pkce() {
        let params = AuthorizationParams {
            scopes: vec!["read:user user:email".into()],
            ..Default::default()
        };
        let (url, pending) = oauth2_authorization_url(
            "https://github.com/login/oauth/authorize",
            &ClientId::new("Iv1.x").unwrap(),
            &RedirectUrl::new("http://127.0.0.1:8080/callback").unwrap(),
            &params,
            &SystemRandom::new(),
        )
        .unwrap();
        let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["scope"], "read:user user:email");
        assert!(!q.contains_key("nonce"));
        assert_eq!(q["state"], pending.state.expose());
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"], pending.pkce_verifier.s256_challenge());
    }

    fn start() -> (Url, PendingLogin) {
        let params = AuthorizationParams {
            scopes: vec!["openid profile".into(), "email".into()],
            prompt: Some("consent".into()),
            max_age: Some(300),
            login_hint: Some("alice".into()),
            acr_values: Some("urn:mace:incommon:iap:silver".into()),
            extra: vec![("ui_locales".into(), "fr".into())],
            ..Default::default()
        };
        authorization_url(
            &md(),
            &ClientId::new("rp").unwrap(),
            &RedirectUrl::new("http://127.0.0.1:8080/callback").unwrap(),
            &params,
            &SystemRandom::new(),
        )
        .unwrap()
    }

    #[test]
    fn url_has_everything() {
        let (url, pending) = start();
        let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["tenant"], "a");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["scope"], "openid profile email");
        assert_eq!(q["state"], pending.state.expose());
        assert_eq!(q["nonce"], pending.nonce.expose());
        assert_eq!(q["code_challenge"], pending.pkce_verifier.s256_challenge());
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["max_age"], "300");
        assert_eq!(q["login_hint"], "alice");
        assert_eq!(q["ui_locales"], "fr");
        assert_eq!(q["prompt"], "consent");
        assert!(q.contains_key("acr_values"));
    }

    #[test]
    fn reserved_extras_refused() {
        let params = AuthorizationParams {
            extra: vec![("state".into(), "x".into())],
            ..Default::default()
        };
        assert!(matches!(
            authorization_url(
                &md(),
                &ClientId::new("rp").unwrap(),
                &RedirectUrl::new("http://127.0.0.1:8080/cb").unwrap(),
                &params,
                &SystemRandom::new()
            ),
            Err(AuthorizeError::ReservedParameter(_))
        ));
    }

    fn cb(q: &str) -> CallbackParams {
        CallbackParams::parse(q.as_bytes()).unwrap()
    }

    #[test]
    fn callback_checks() {
        let (_, p) = start();
        let s = p.state.expose().to_owned();
        let i = "https%3A%2F%2Fop.example.com";
        let ok = cb(&format!("code=abc&state={s}&iss={i}"))
            .validate(&p, &iss(), true)
            .unwrap();
        assert_eq!(ok.expose(), "abc");
        assert!(matches!(
            cb(&format!("code=abc&state=wrong&iss={i}")).validate(&p, &iss(), true),
            Err(CallbackError::StateMismatch)
        ));
        assert!(matches!(
            cb(&format!("code=abc&iss={i}")).validate(&p, &iss(), true),
            Err(CallbackError::MissingState)
        ));
        assert!(matches!(
            cb(&format!("code=abc&state={s}")).validate(&p, &iss(), true),
            Err(CallbackError::MissingIss)
        ));
        // not advertised: absent iss accepted, a present wrong one never
        assert!(
            cb(&format!("code=abc&state={s}"))
                .validate(&p, &iss(), false)
                .is_ok()
        );
        let err = cb(&format!(
            "code=abc&state={s}&iss=https%3A%2F%2Fevil.example"
        ))
        .validate(&p, &iss(), false)
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "callback: iss mismatch: expected https://op.example.com, got https://evil.example"
        );
        let err = cb(&format!(
            "error=access_denied&error_description=user+said+no&state={s}&iss={i}"
        ))
        .validate(&p, &iss(), true)
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "callback: the OP returned error access_denied: user said no"
        );
        assert!(matches!(
            cb(&format!("state={s}&iss={i}")).validate(&p, &iss(), true),
            Err(CallbackError::MissingCode)
        ));
        assert!(matches!(
            CallbackParams::parse(b"code=a&code=b"),
            Err(CallbackError::DuplicateParameter(_))
        ));
    }
}
