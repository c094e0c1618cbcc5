//! A test OP that misbehaves on purpose, one knob per check relier must enforce.
//!
//! It serves discovery, a JWKS, an authorization endpoint that answers at once with a redirect
//! (no login page), a token endpoint minting ID tokens from a claims template, and UserInfo. Each
//! [`Misbehavior`] field breaks one rule; counters show which endpoints the RP called.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use relier_jose::jwe::encryptor::{Recipient, encrypt_compact};
use relier_jose::jwe::{ContentEncAlg, DecryptionKey, KeyManagementAlg};
use relier_jose::{Algorithm, SigningKey, jws};
use serde_json::{Map, Value, json};

/// How the ID token is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Signing {
    /// With the published RS256 key.
    #[default]
    Normal,
    /// `alg: none`, empty signature.
    Unsigned,
    /// `alg: none` with a signature part (RFC 7518 §3.6: it must be empty).
    UnsignedWithSignature,
    /// A key the OP never published, under the published key's kid.
    UnpublishedKeySameKid,
    /// A key the OP never published, under a kid no JWKS has.
    UnpublishedKeyNewKid,
    /// RS256→HS256 confusion: HMAC keyed with the public JWK's JSON.
    HmacWithPublicKey,
    /// A valid signature over a different payload.
    TamperedPayload,
    /// The published key's signature with one byte flipped, re-encoded as valid base64url (the
    /// OpenID Foundation's invalid-sig modules: only the signature check can tell).
    FlippedSignatureByte,
    /// An unknown critical header.
    UnknownCrit,
    /// The ES256 key (when RS256 is expected).
    WrongAlg,
    /// No kid header; the JWKS has several RSA keys.
    NoKidSeveralKeys,
}

/// How the OP encrypts a response to the RP (OIDC Core §10.2), chosen by the test: the
/// registered algorithms to a registered key behave; another alg or enc, a key the RP does not
/// hold, or a `zip` header misbehave.
#[derive(Debug, Clone)]
pub struct Encryption {
    /// Key management.
    pub alg: KeyManagementAlg,
    /// Content encryption.
    pub enc: ContentEncAlg,
    /// The RP key to encrypt to (its public half is used).
    pub to: DecryptionKey,
    /// Header members added to {"alg","enc"} (e.g. "kid", "cty", "zip").
    pub header: Map<String, Value>,
}

impl Encryption {
    /// To `to` with `alg`/`enc`, its kid (if any) in the header.
    pub fn to(to: &DecryptionKey, alg: KeyManagementAlg, enc: ContentEncAlg) -> Self {
        let mut header = Map::new();
        if let Some(kid) = to.kid() {
            header.insert("kid".into(), kid.into());
        }
        Encryption {
            alg,
            enc,
            to: to.clone(),
            header,
        }
    }

    /// With another header member.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: Value) -> Self {
        self.header.insert(name.into(), value);
        self
    }

    fn apply(&self, plaintext: &[u8]) -> anyhow::Result<String> {
        Ok(encrypt_compact(
            self.alg,
            self.enc,
            Recipient::Key(&self.to),
            &self.header,
            plaintext,
        )?)
    }
}

/// JARM (JWT Secured Authorization Response Mode): the authorization response as one `response`
/// parameter, an ES256 JWT (what the RP registers as `authorization_signed_response_alg`), and
/// how it breaks JARM §2.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jarm {
    /// A valid JARM response.
    Normal,
    /// `iss` is another issuer.
    WrongIss,
    /// `aud` is another client.
    WrongAud,
    /// A valid signature over a different payload.
    BadSignature,
    /// `exp` an hour ago.
    Expired,
    /// Signed RS256 with the published RSA key (ES256 is registered).
    WrongAlg,
    /// The plain response (`code`, `state`, `iss` as query parameters), not a JWT.
    Plain,
}

/// How the OP misuses DPoP (RFC 9449). A well-behaved OP answers a token request carrying a
/// `DPoP` proof with `token_type` DPoP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dpop {
    /// The token endpoint demands a new nonce on every request (400 `use_dpop_nonce` with a
    /// fresh `DPoP-Nonce`, §8), forever.
    NonceLoop,
    /// The token endpoint demands a nonce (400 `use_dpop_nonce`) without sending one.
    NonceDemandWithoutNonce,
    /// The token endpoint answers `token_type` Bearer although the request carried a proof.
    BearerTokenType,
    /// UserInfo demands a nonce once (401 `WWW-Authenticate: DPoP error="use_dpop_nonce"`
    /// with `DPoP-Nonce`, §9), then accepts a proof that carries it.
    UserInfoNonceOnce,
}

/// The nonce [`Dpop::UserInfoNonceOnce`] hands out.
pub const USERINFO_NONCE: &str = "userinfo-nonce-1";

/// What to break. Default: a well-behaved OP.
#[derive(Debug, Clone, Default)]
pub struct Misbehavior {
    /// Discovery returns this issuer instead of the real one.
    pub discovery_issuer: Option<String>,
    /// Callback: send this state instead of the one received (`Some("")` omits it).
    pub callback_state: Option<String>,
    /// Callback: send this iss instead of the issuer (`Some("")` omits it).
    pub callback_iss: Option<String>,
    /// Callback: answer with this OAuth error.
    pub callback_error: Option<(String, String)>,
    /// ID token claim changes: `(name, Some(v))` sets, `(name, None)` removes.
    pub claims: Vec<(String, Option<Value>)>,
    /// ID token signing.
    pub signing: Signing,
    /// UserInfo returns this sub.
    pub userinfo_sub: Option<String>,
    /// Claims UserInfo answers with besides `sub` and `email` (e.g. `_claim_names`).
    pub userinfo_claims: Map<String, Value>,
    /// The token endpoint answers with this error body and 400.
    pub token_error: Option<String>,
    /// The ID token is signed, then encrypted like this (a nested JWT, `cty` "JWT").
    pub id_token_encryption: Option<Encryption>,
    /// UserInfo answers with its claims encrypted like this (`application/jwt`).
    pub userinfo_encryption: Option<Encryption>,
    /// The authorization response is a JARM response, behaving like this.
    pub jarm: Option<Jarm>,
    /// Discovery members set over the defaults (`null` removes one): e.g. a weak configuration
    /// for `relier doctor`, or a FAPI 2.0 one.
    pub discovery: Map<String, Value>,
    /// JWKs published after the OP's own keys (e.g. an RSA key under 2048 bits).
    pub extra_jwks: Vec<Value>,
    /// DPoP misuse.
    pub dpop: Option<Dpop>,
    /// The registration endpoint answers with this status, content type and body (default: a
    /// 201 registering `CLIENT_ID` with the metadata sent).
    pub registration_answer: Option<(u16, &'static str, String)>,
    /// The token endpoint rotates the signing key just before it signs each ID token (like
    /// [`BadOp::rotate_key`]): the token's kid is in no JWKS the RP fetched before the request.
    pub rotate_key_before_signing: bool,
    /// The JWKS endpoint answers 503 (the OP's keys cannot be had).
    pub jwks_unavailable: bool,
}

/// Calls seen.
#[derive(Debug, Default)]
pub struct Counters {
    /// Token endpoint calls.
    pub token: AtomicUsize,
    /// UserInfo calls.
    pub userinfo: AtomicUsize,
    /// JWKS fetches.
    pub jwks: AtomicUsize,
    /// JWKS answers wait until this many token endpoint calls were made (0: no wait).
    pub jwks_hold: AtomicUsize,
}

struct Inner {
    issuer: String,
    rsa: SigningKey,
    rsa2: SigningKey,
    ec: SigningKey,
    rogue: SigningKey,
    behavior: Mutex<Misbehavior>,
    nonce: Mutex<Option<String>>,
    counters: Counters,
    publish_second_rsa: Mutex<bool>,
    /// Keys added by [`BadOp::rotate_key`], published; the newest signs ID tokens.
    rotated: Mutex<Vec<SigningKey>>,
    /// Every request's `DPoP` proof claims and `Authorization` header, in order.
    dpop_seen: Mutex<Vec<SeenProof>>,
    /// Every registration request's metadata, in order.
    registrations: Mutex<Vec<Value>>,
    /// How each UserInfo request carried its access token, in order.
    userinfo_seen: Mutex<Vec<UserInfoRequest>>,
}

/// How a UserInfo request carried its access token (RFC 6750 §2.1 header or §2.2 body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfoRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The form body's `access_token`, if any.
    pub body_token: Option<String>,
}

/// A DPoP-carrying request as the bad OP saw it.
#[derive(Debug, Clone)]
pub struct SeenProof {
    /// `token` or `userinfo`.
    pub endpoint: &'static str,
    /// The proof's claims (signature not checked).
    pub claims: Value,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
}

/// A running misbehaving OP.
pub struct BadOp {
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

/// The client id the bad OP expects.
pub const CLIENT_ID: &str = "bad-op-client";

impl Drop for BadOp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Inner {
    /// A new RSA signing key with a new kid, published and signing from now on. Returns its kid.
    fn rotate_key(&self) -> anyhow::Result<String> {
        let mut rotated = self
            .rotated
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        let kid = format!("rsa-rotated-{}", rotated.len() + 1);
        rotated.push(SigningKey::generate(Algorithm::RS256, None)?.with_kid(kid.clone()));
        Ok(kid)
    }
}

impl BadOp {
    /// Start on 127.0.0.1:0.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_on(tokio::net::TcpListener::bind("127.0.0.1:0").await?).await
    }

    /// Start on `listener` (e.g. a port a gateway was pointed at before the OP was up).
    pub async fn start_on(listener: tokio::net::TcpListener) -> anyhow::Result<Self> {
        let addr: SocketAddr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            issuer: format!("http://{addr}"),
            rsa: SigningKey::generate(Algorithm::RS256, None)?.with_kid("rsa-1"),
            rsa2: SigningKey::generate(Algorithm::RS256, None)?.with_kid("rsa-2"),
            ec: SigningKey::generate(Algorithm::ES256, None)?.with_kid("ec-1"),
            rogue: SigningKey::generate(Algorithm::RS256, None)?,
            behavior: Mutex::new(Misbehavior::default()),
            nonce: Mutex::new(None),
            counters: Counters::default(),
            publish_second_rsa: Mutex::new(false),
            rotated: Mutex::new(Vec::new()),
            dpop_seen: Mutex::new(Vec::new()),
            registrations: Mutex::new(Vec::new()),
            userinfo_seen: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo).post(userinfo))
            .route("/register", post(register))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { inner, task })
    }

    /// The issuer.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// A JWT with `claims` and header `typ`, signed with the OP's published RS256 key
    /// (`rogue`: a key it does not publish, same kid) — e.g. an RFC 9068 access token.
    pub fn sign_jwt(&self, typ: Option<&str>, claims: &Value, rogue: bool) -> String {
        let header = jws::Header {
            typ: typ.map(str::to_owned),
            ..jws::Header::default()
        };
        let rogue_key = self.inner.rogue.clone().with_kid("rsa-1");
        let key = if rogue { &rogue_key } else { &self.inner.rsa };
        jws::sign_compact(
            &header,
            claims.to_string().as_bytes(),
            key,
            &SystemRandom::new(),
        )
        .unwrap_or_default()
    }

    /// Set the misbehavior for the next requests.
    pub fn set(&self, m: Misbehavior) {
        if let Ok(mut b) = self.inner.behavior.lock() {
            *b = m;
        }
    }

    /// Publish a second RSA key (makes kid-less tokens ambiguous).
    pub fn publish_second_rsa_key(&self, yes: bool) {
        if let Ok(mut p) = self.inner.publish_second_rsa.lock() {
            *p = yes;
        }
    }

    /// Rotate the OP's signing key: a new RSA key with a new kid is published and signs the ID
    /// tokens from now on. Returns its kid.
    pub fn rotate_key(&self) -> anyhow::Result<String> {
        self.inner.rotate_key()
    }

    /// Hold every JWKS answer until the token endpoint was called `n` times in all (e.g. until
    /// every one of several concurrent logins holds its ID token).
    pub fn hold_jwks_until_token_calls(&self, n: usize) {
        self.inner.counters.jwks_hold.store(n, Ordering::SeqCst);
    }

    /// Token endpoint calls so far.
    pub fn token_calls(&self) -> usize {
        self.inner.counters.token.load(Ordering::SeqCst)
    }

    /// UserInfo calls so far.
    pub fn userinfo_calls(&self) -> usize {
        self.inner.counters.userinfo.load(Ordering::SeqCst)
    }

    /// JWKS fetches so far.
    pub fn jwks_calls(&self) -> usize {
        self.inner.counters.jwks.load(Ordering::SeqCst)
    }

    /// The DPoP proofs received so far.
    pub fn dpop_proofs(&self) -> Vec<SeenProof> {
        self.inner
            .dpop_seen
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    /// The metadata of every registration request so far.
    pub fn registrations(&self) -> Vec<Value> {
        self.inner
            .registrations
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    /// How every UserInfo request so far carried its access token.
    pub fn userinfo_requests(&self) -> Vec<UserInfoRequest> {
        self.inner
            .userinfo_seen
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }
}

/// OIDC DCR §3: records the metadata; answers [`Misbehavior::registration_answer`] or registers
/// [`CLIENT_ID`] with a secret.
async fn register(State(s): State<Arc<Inner>>, body: String) -> Response {
    let metadata: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    if let Ok(mut seen) = s.registrations.lock() {
        seen.push(metadata.clone());
    }
    if let Some((status, content_type, body)) = behavior(&s).registration_answer {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        return (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    }
    let mut answer = match metadata {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    answer.insert("client_id".into(), json!(CLIENT_ID));
    answer.insert("client_secret".into(), json!("bad-op-secret"));
    answer.insert("client_secret_expires_at".into(), json!(0));
    (StatusCode::CREATED, Json(Value::Object(answer))).into_response()
}

/// Record the request's DPoP proof (claims decoded, signature not checked); whether it had one.
fn see_proof(s: &Inner, endpoint: &'static str, headers: &HeaderMap) -> Option<Value> {
    let proof = headers.get("dpop")?.to_str().ok()?;
    let payload = proof.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&relier_jose::b64::decode(payload).ok()?).ok()?;
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Ok(mut seen) = s.dpop_seen.lock() {
        seen.push(SeenProof {
            endpoint,
            claims: claims.clone(),
            authorization,
        });
    }
    Some(claims)
}

fn behavior(s: &Inner) -> Misbehavior {
    s.behavior.lock().map(|b| b.clone()).unwrap_or_default()
}

async fn discovery(State(s): State<Arc<Inner>>) -> Json<Value> {
    let b = behavior(&s);
    let iss = &s.issuer;
    let mut doc = json!({
        "issuer": b.discovery_issuer.unwrap_or_else(|| iss.clone()),
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "userinfo_endpoint": format!("{iss}/userinfo"),
        "registration_endpoint": format!("{iss}/register"),
        "jwks_uri": format!("{iss}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "registration_endpoint": format!("{iss}/register"),
        "authorization_response_iss_parameter_supported": true,
        "code_challenge_methods_supported": ["S256"],
        "x_misbehaving": true,
    });
    if let Some(doc) = doc.as_object_mut() {
        for (k, v) in b.discovery {
            if v.is_null() {
                doc.remove(&k);
            } else {
                doc.insert(k, v);
            }
        }
    }
    Json(doc)
}

async fn jwks(State(s): State<Arc<Inner>>) -> Response {
    s.counters.jwks.fetch_add(1, Ordering::SeqCst);
    if behavior(&s).jwks_unavailable {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    // Bounded: a test whose token calls never come fails on its own assertions, not by hanging.
    for _ in 0..2000 {
        if s.counters.token.load(Ordering::SeqCst) >= s.counters.jwks_hold.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let mut keys = vec![];
    for k in [&s.rsa, &s.ec] {
        if let Ok(j) = k.public_jwk() {
            keys.push(j);
        }
    }
    if let Ok(rotated) = s.rotated.lock() {
        keys.extend(rotated.iter().filter_map(|k| k.public_jwk().ok()));
    }
    let mut keys: Vec<Value> = keys
        .iter()
        .filter_map(|k| serde_json::to_value(k).ok())
        .collect();
    keys.extend(behavior(&s).extra_jwks);
    if s.publish_second_rsa.lock().map(|p| *p).unwrap_or(false)
        && let Some(j) = s
            .rsa2
            .public_jwk()
            .ok()
            .and_then(|j| serde_json::to_value(j).ok())
    {
        keys.push(j);
    }
    (
        [(header::CONTENT_TYPE, "application/jwk-set+json")],
        Json(json!({ "keys": keys })),
    )
        .into_response()
}

async fn authorize(
    State(s): State<Arc<Inner>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let b = behavior(&s);
    let Some(redirect) = q.get("redirect_uri") else {
        return (StatusCode::BAD_REQUEST, "redirect_uri missing").into_response();
    };
    if let Ok(mut n) = s.nonce.lock() {
        *n = q.get("nonce").cloned();
    }
    let mut url = match url::Url::parse(redirect) {
        Ok(u) => u,
        Err(_) => return (StatusCode::BAD_REQUEST, "bad redirect_uri").into_response(),
    };
    if let Some(jarm) = b.jarm.filter(|j| *j != Jarm::Plain) {
        let state = q.get("state").cloned().unwrap_or_default();
        match jarm_response(&s, jarm, &state) {
            Ok(jwt) => {
                url.query_pairs_mut().append_pair("response", &jwt);
                return Redirect::to(url.as_str()).into_response();
            }
            Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        }
    }
    {
        let mut p = url.query_pairs_mut();
        match &b.callback_error {
            Some((e, d)) => {
                p.append_pair("error", e);
                p.append_pair("error_description", d);
            }
            None => {
                // The code carries the login's nonce, so that concurrent logins each get theirs.
                let code = match q.get("nonce") {
                    Some(n) => format!("code-from-bad-op.{n}"),
                    None => "code-from-bad-op".to_owned(),
                };
                p.append_pair("code", &code);
            }
        }
        let state = b
            .callback_state
            .clone()
            .unwrap_or_else(|| q.get("state").cloned().unwrap_or_default());
        if !state.is_empty() {
            p.append_pair("state", &state);
        }
        let iss = b.callback_iss.clone().unwrap_or_else(|| s.issuer.clone());
        if !iss.is_empty() {
            p.append_pair("iss", &iss);
        }
    }
    Redirect::to(url.as_str()).into_response()
}

/// A JARM response (JARM §2.1) for `state`, broken as `jarm` says.
fn jarm_response(s: &Inner, jarm: Jarm, state: &str) -> anyhow::Result<String> {
    let now = now();
    let mut claims = json!({
        "iss": s.issuer,
        "aud": CLIENT_ID,
        "exp": now + 120,
        "code": "code-from-bad-op",
        "state": state,
    });
    match jarm {
        Jarm::WrongIss => claims["iss"] = json!("https://evil.example"),
        Jarm::WrongAud => claims["aud"] = json!("another-client"),
        Jarm::Expired => claims["exp"] = json!(now - 3600),
        _ => {}
    }
    let rng = SystemRandom::new();
    let key = if jarm == Jarm::WrongAlg {
        &s.rsa
    } else {
        &s.ec
    };
    let jwt = jws::sign_compact(
        &jws::Header::default(),
        claims.to_string().as_bytes(),
        key,
        &rng,
    )?;
    if jarm != Jarm::BadSignature {
        return Ok(jwt);
    }
    let mut parts = jwt.split('.');
    let (h, _, sig) = (parts.next(), parts.next(), parts.next());
    claims["code"] = json!("code-chosen-by-an-attacker");
    Ok(format!(
        "{}.{}.{}",
        h.unwrap_or_default(),
        relier_jose::b64::encode(claims.to_string().as_bytes()),
        sig.unwrap_or_default()
    ))
}

fn id_token(s: &Inner, b: &Misbehavior, code_nonce: Option<String>) -> anyhow::Result<String> {
    let now = now();
    let nonce = code_nonce.or_else(|| s.nonce.lock().ok().and_then(|n| n.clone()));
    let mut claims = json!({
        "iss": s.issuer,
        "sub": "alice",
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "auth_time": now,
        "nonce": nonce,
        "email": "alice@example.com",
        "email_verified": true,
    });
    if let Some(obj) = claims.as_object_mut() {
        for (k, v) in &b.claims {
            match v {
                Some(v) => {
                    obj.insert(k.clone(), v.clone());
                }
                None => {
                    obj.remove(k);
                }
            }
        }
    }
    let payload = claims.to_string();
    let rng = SystemRandom::new();
    let header = jws::Header::default();
    let signed = |key: &SigningKey, header: &jws::Header| {
        jws::sign_compact(header, payload.as_bytes(), key, &rng)
    };
    let current = s
        .rotated
        .lock()
        .ok()
        .and_then(|r| r.last().cloned())
        .unwrap_or_else(|| s.rsa.clone());
    Ok(match b.signing {
        Signing::Normal => signed(&current, &header)?,
        Signing::Unsigned | Signing::UnsignedWithSignature => format!(
            "{}.{}.{}",
            relier_jose::b64::encode(br#"{"alg":"none"}"#),
            relier_jose::b64::encode(payload.as_bytes()),
            if b.signing == Signing::Unsigned {
                ""
            } else {
                "c2lnbmF0dXJl"
            }
        ),
        Signing::UnpublishedKeySameKid => signed(&s.rogue.clone().with_kid("rsa-1"), &header)?,
        Signing::UnpublishedKeyNewKid => {
            signed(&s.rogue.clone().with_kid("never-published"), &header)?
        }
        Signing::HmacWithPublicKey => {
            let public = serde_json::to_vec(&s.rsa.public_jwk()?)?;
            let hs = SigningKey::hmac(Algorithm::HS256, &public)?.with_kid("rsa-1");
            signed(&hs, &header)?
        }
        Signing::TamperedPayload => {
            let good = signed(&s.rsa, &header)?;
            let mut parts = good.split('.');
            let h = parts.next().unwrap_or_default();
            let _ = parts.next();
            let sig = parts.next().unwrap_or_default();
            let mut tampered = claims.clone();
            tampered["sub"] = json!("mallory");
            format!(
                "{h}.{}.{sig}",
                relier_jose::b64::encode(tampered.to_string().as_bytes())
            )
        }
        Signing::FlippedSignatureByte => {
            let good = signed(&current, &header)?;
            let (input, sig) = good.rsplit_once('.').unwrap_or_default();
            let mut sig = relier_jose::b64::decode(sig)?;
            let middle = sig.len() / 2;
            if let Some(byte) = sig.get_mut(middle) {
                *byte ^= 0x01;
            }
            format!("{input}.{}", relier_jose::b64::encode(&sig))
        }
        Signing::UnknownCrit => {
            let h = jws::Header {
                crit: Some(vec!["urn:example:must-understand".into()]),
                extra: [("urn:example:must-understand".to_owned(), json!(true))]
                    .into_iter()
                    .collect(),
                ..Default::default()
            };
            signed(&s.rsa, &h)?
        }
        Signing::WrongAlg => signed(&s.ec, &header)?,
        Signing::NoKidSeveralKeys => {
            // Header without kid, built by hand (sign_compact would add the key's kid).
            let hdr = relier_jose::b64::encode(br#"{"alg":"RS256"}"#);
            let body = relier_jose::b64::encode(payload.as_bytes());
            let input = format!("{hdr}.{body}");
            let sig = s.rsa.sign(input.as_bytes(), &rng)?;
            format!("{input}.{}", relier_jose::b64::encode(&sig))
        }
    })
}

async fn token(State(s): State<Arc<Inner>>, headers: HeaderMap, body: String) -> Response {
    let calls = s.counters.token.fetch_add(1, Ordering::SeqCst);
    let b = behavior(&s);
    let proof = see_proof(&s, "token", &headers);
    if proof.is_some() && b.dpop == Some(Dpop::NonceLoop) {
        // RFC 9449 §8, abused: a new nonce demanded every time.
        return (
            StatusCode::BAD_REQUEST,
            [("dpop-nonce", format!("loop-nonce-{calls}"))],
            Json(json!({"error": "use_dpop_nonce", "error_description": "again"})),
        )
            .into_response();
    }
    if proof.is_some() && b.dpop == Some(Dpop::NonceDemandWithoutNonce) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "use_dpop_nonce"})),
        )
            .into_response();
    }
    let token_type = match (&proof, b.dpop) {
        (Some(_), Some(Dpop::BearerTokenType)) | (None, _) => "Bearer",
        (Some(_), _) => "DPoP",
    };
    if let Some(e) = &b.token_error {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e, "error_description": "the bad OP refuses"})),
        )
            .into_response();
    }
    if b.rotate_key_before_signing
        && let Err(e) = s.rotate_key()
    {
        return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
    }
    let code_nonce = url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "code")
        .and_then(|(_, code)| code.split_once('.').map(|(_, n)| n.to_owned()));
    let encrypted = id_token(&s, &b, code_nonce).and_then(|t| match &b.id_token_encryption {
        Some(e) => e
            .clone()
            .with_header("cty", json!("JWT"))
            .apply(t.as_bytes()),
        None => Ok(t),
    });
    match encrypted {
        Ok(t) => Json(json!({
            "access_token": "at-from-bad-op",
            "token_type": token_type,
            "expires_in": "3600",
            "refresh_token": "rt-from-bad-op",
            "id_token": t,
        }))
        .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn userinfo(
    State(s): State<Arc<Inner>>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: String,
) -> Response {
    s.counters.userinfo.fetch_add(1, Ordering::SeqCst);
    let header_of = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if let Ok(mut seen) = s.userinfo_seen.lock() {
        seen.push(UserInfoRequest {
            method: method.to_string(),
            authorization: header_of(header::AUTHORIZATION),
            content_type: header_of(header::CONTENT_TYPE),
            body_token: url::form_urlencoded::parse(body.as_bytes())
                .find(|(k, _)| k == "access_token")
                .map(|(_, v)| v.into_owned()),
        });
    }
    let b = behavior(&s);
    let proof = see_proof(&s, "userinfo", &headers);
    if b.dpop == Some(Dpop::UserInfoNonceOnce)
        && proof.is_some_and(|c| c["nonce"] != USERINFO_NONCE)
    {
        // RFC 9449 §9, Figure 20.
        return (
            StatusCode::UNAUTHORIZED,
            [
                (
                    header::WWW_AUTHENTICATE.as_str(),
                    r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#,
                ),
                ("dpop-nonce", USERINFO_NONCE),
            ],
        )
            .into_response();
    }
    let mut claims = json!({
        "sub": b.userinfo_sub.clone().unwrap_or_else(|| "alice".into()),
        "email": "alice@example.com",
    });
    if let Some(c) = claims.as_object_mut() {
        c.extend(b.userinfo_claims.clone());
    }
    match &b.userinfo_encryption {
        None => Json(claims).into_response(),
        Some(e) => match e.apply(claims.to_string().as_bytes()) {
            Ok(jwe) => ([(header::CONTENT_TYPE, "application/jwt")], jwe).into_response(),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        },
    }
}
