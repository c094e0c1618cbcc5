//! An OP Identity Service Broker stand-in: the Service Provider API of
//! github.com/op-developer/Identity-Service-Broker-API (README §6–§14) as the Finnish Trust
//! Network brokers run it since Traficom M72B, refusing every deviation from it:
//! - no discovery document (§11: removed); the broker's entity statement at
//!   `/.well-known/openid-federation` (§12: `typ: entity-statement+jwt`, signed by its entity
//!   key, `metadata.openid_provider` with the issuer, the endpoints and `signed_jwks_uri`) and
//!   its signing keys only as a signed JWKS at `/jwks/broker-signed` (§14: header `typ: JWS`,
//!   as the ISB sends it, signed by the entity key);
//! - the SP is known only through its entity statement ([`Isb::onboard`], §13) and its keys
//!   only through its signed JWKS ([`trust`]);
//! - `/oauth/authorize` takes a signed RS256 request object only ([`checks::authorization`]),
//!   `/oauth/token` a `private_key_jwt` assertion only ([`checks::client_assertion`]);
//! - the ID token is an RS256 JWS nested in a JWE (RSA-OAEP / A128CBC-HS256) to the SP's
//!   encryption key (§9), its `sub` random per login ("not persistent");
//! - `error=cancel` on demand (§7), `/oauth/profile` as JSON (§10) and
//!   `/api/embedded-ui/{client_id}` (§6).
//!
//! A refused request is answered with an error page (400) on the broker, as the ISB does for
//! "initial validation errors", and recorded in [`Isb::complaints`].

pub mod checks;
mod routes;
pub mod trust;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use relier_core::federation::{ENTITY_STATEMENT_TYP, WELL_KNOWN_FEDERATION};
use relier_jose::{Algorithm, Jwk, SigningKey};
use serde_json::{Value, json};

use super::{now, sign};
use trust::Sp;

/// The test person every login identifies (ISB README §9's attributes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// `name`: family name and given names.
    pub name: &'static str,
    /// `given_name`.
    pub given_name: &'static str,
    /// `family_name`.
    pub family_name: &'static str,
    /// `birthdate`.
    pub birthdate: &'static str,
    /// `personal_identity_code`.
    pub personal_identity_code: &'static str,
}

/// The person of every login.
pub const PERSON: Person = Person {
    name: "Väinämöinen Ilmari Onni",
    given_name: "Ilmari Onni",
    family_name: "Väinämöinen",
    birthdate: "1970-01-01",
    personal_identity_code: "010170-999R",
};

/// The identity providers of the embedded UI (§6): `(ftn_idp_id, name)`.
pub const IDPS: [(&str, &str); 3] = [
    ("fi-op", "Osuuspankki"),
    ("fi-nordea", "Nordea"),
    ("fi-mobiilivarmenne", "Mobiilivarmenne"),
];
/// `isbProviderInfo` of the embedded UI (English).
pub const PROVIDER_INFO: &str = "The OP Identity Service Broker is provided by OP Financial Group member cooperative banks and OP Corporate Bank plc.";
/// `isbConsent` of the embedded UI (English).
pub const CONSENT: &str =
    "During authentication, your personal ID and name are forwarded to the service provider.";
/// The ISB's signed JWKS path (§2: `/jwks/broker-signed`).
pub const SIGNED_JWKS_PATH: &str = "/jwks/broker-signed";

/// What the next logins do.
#[derive(Debug, Clone, Default)]
pub struct Knobs {
    /// The user cancels at the broker: the SP gets `error=cancel` (§7).
    pub cancel: bool,
    /// The ID token carries only the protocol claims and `sub`; the person's attributes are
    /// only at `/oauth/profile` (§10).
    pub attributes_only_in_profile: bool,
}

/// One completed authorization, for tests to inspect.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The request object's claims.
    pub request: serde_json::Map<String, Value>,
    /// The `sub` the ID token carried (empty until the code is exchanged).
    pub sub: String,
}

struct Issued {
    auth: checks::Authorization,
    sub: String,
}

struct Inner {
    base: String,
    /// Signs the entity statement and the signed JWKS only.
    entity_key: SigningKey,
    /// Signs ID tokens.
    signing_key: SigningKey,
    http: reqwest::Client,
    sp: Mutex<Option<Sp>>,
    /// The SP's keys from its signed JWKS (refetched on an unknown kid).
    sp_keys: Mutex<Vec<Jwk>>,
    knobs: Mutex<Knobs>,
    request_jtis: Mutex<HashSet<String>>,
    assertion_jtis: Mutex<HashSet<String>>,
    codes: Mutex<HashMap<String, Issued>>,
    tokens: Mutex<HashMap<String, Issued>>,
    seen: Mutex<Vec<Seen>>,
    complaints: Mutex<Vec<String>>,
    counter: Mutex<u64>,
}

/// A running broker stand-in.
pub struct Isb {
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Isb {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An RS256 key whose kid is its RFC 7638 thumbprint (as the ISB's are).
fn rs256_key() -> anyhow::Result<SigningKey> {
    let key = SigningKey::generate(Algorithm::RS256, Some(2048))?;
    let kid = key.thumbprint_sha256()?;
    Ok(key.with_kid(kid))
}

impl Isb {
    /// Starts on 127.0.0.1:0 with a new entity key and a new signing key, knowing no SP yet.
    pub async fn start() -> anyhow::Result<Isb> {
        let entity_key = rs256_key()?;
        let signing_key = rs256_key()?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        let (inner, task) = super::start(
            |base| Inner {
                base,
                entity_key,
                signing_key,
                http,
                sp: Mutex::default(),
                sp_keys: Mutex::default(),
                knobs: Mutex::default(),
                request_jtis: Mutex::default(),
                assertion_jtis: Mutex::default(),
                codes: Mutex::default(),
                tokens: Mutex::default(),
                seen: Mutex::default(),
                complaints: Mutex::default(),
                counter: Mutex::default(),
            },
            Router::new()
                .route(WELL_KNOWN_FEDERATION, get(routes::statement))
                .route(SIGNED_JWKS_PATH, get(routes::signed_jwks))
                .route(
                    "/oauth/authorize",
                    get(routes::authorize).post(routes::authorize_post),
                )
                .route("/oauth/token", axum::routing::post(routes::token))
                .route("/oauth/profile", get(routes::profile))
                .route("/api/embedded-ui/{client_id}", get(routes::embedded_ui)),
        )
        .await?;
        Ok(Isb { inner, task })
    }

    /// The issuer (`http://127.0.0.1:PORT`), also the broker's entity id.
    pub fn issuer(&self) -> &str {
        &self.inner.base
    }

    /// The token endpoint URL (the client assertion's `aud`).
    pub fn token_endpoint(&self) -> String {
        format!("{}/oauth/token", self.inner.base)
    }

    /// The broker's entity statement as the operator receives it (§12).
    pub fn entity_statement(&self) -> String {
        self.inner.statement()
    }

    /// Onboards the SP under `client_id` from its entity statement (§13), which must verify.
    ///
    /// # Errors
    /// The failed check of the statement.
    pub fn onboard(&self, client_id: &str, statement: &str) -> Result<(), String> {
        let sp = Sp::from_statement(client_id, statement)?;
        *self.inner.sp.lock().unwrap() = Some(sp);
        self.inner.sp_keys.lock().unwrap().clear();
        Ok(())
    }

    /// Changes what the next logins do.
    pub fn set(&self, k: Knobs) {
        *self.inner.knobs.lock().unwrap() = k;
    }

    /// The authorizations so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.inner.seen.lock().unwrap().clone()
    }

    /// Requests the ISB refused, with the failed check.
    pub fn complaints(&self) -> Vec<String> {
        self.inner.complaints.lock().unwrap().clone()
    }
}

impl Inner {
    fn complain(&self, what: impl Into<String>) {
        self.complaints.lock().unwrap().push(what.into());
    }

    fn next_id(&self, prefix: &str) -> String {
        let mut n = self.counter.lock().unwrap();
        *n += 1;
        let mut random = [0u8; 16];
        aws_lc_rs::rand::fill(&mut random).unwrap();
        format!("{prefix}-{n}-{}", relier_jose::b64::encode(&random))
    }

    /// `metadata.openid_provider` (§12): the issuer, the endpoints and `signed_jwks_uri`.
    fn provider_metadata(&self) -> Value {
        let b = &self.base;
        json!({
            "issuer": b,
            "authorization_endpoint": format!("{b}/oauth/authorize"),
            "token_endpoint": format!("{b}/oauth/token"),
            "userinfo_endpoint": format!("{b}/oauth/profile"),
            "signed_jwks_uri": format!("{b}{SIGNED_JWKS_PATH}"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "scopes_supported": ["openid", "profile", "personal_identity_code", "weak", "strong"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "id_token_encryption_alg_values_supported": ["RSA-OAEP"],
            "id_token_encryption_enc_values_supported": ["A128CBC-HS256"],
            "request_object_signing_alg_values_supported": ["RS256"],
            "request_parameter_supported": true,
            "request_uri_parameter_supported": false,
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "ui_locales_supported": ["fi", "sv", "en"],
            "claims_supported": ["sub", "name", "given_name", "family_name", "birthdate", "personal_identity_code"],
        })
    }

    /// §12: self-signed by the entity key, a year long.
    fn statement(&self) -> String {
        let now = now();
        let claims = json!({
            "iss": self.base,
            "sub": self.base,
            "iat": now,
            "exp": now + 365 * 24 * 3600,
            "jwks": {"keys": [self.entity_key.public_jwk().unwrap()]},
            "metadata": {"openid_provider": self.provider_metadata()},
        });
        sign(&self.entity_key, &claims, Some(ENTITY_STATEMENT_TYP))
    }

    /// §14: the ID-token signing key, signed by the entity key with `typ: JWS` (what the ISB
    /// sends), for a day.
    fn signed_jwks(&self) -> String {
        let now = now();
        let mut key = self.signing_key.public_jwk().unwrap();
        key.use_ = Some("sig".into());
        let claims = json!({
            "keys": [key],
            "iss": self.base,
            "sub": self.base,
            "iat": now,
            "exp": now + 24 * 3600,
        });
        sign(&self.entity_key, &claims, Some("JWS"))
    }

    /// The onboarded SP and its keys, fetched from its signed JWKS when `kid` is not among
    /// the cached ones.
    async fn sp_and_keys(&self, kid: Option<&str>) -> Result<(Sp, Vec<Jwk>), String> {
        let sp = self
            .sp
            .lock()
            .unwrap()
            .clone()
            .ok_or("no SP onboarded (its entity statement was never handed over)")?;
        let cached = self.sp_keys.lock().unwrap().clone();
        if kid.is_some() && cached.iter().any(|k| k.kid.as_deref() == kid) {
            return Ok((sp, cached));
        }
        let keys = sp.fetch_keys(&self.http).await?;
        *self.sp_keys.lock().unwrap() = keys.clone();
        Ok((sp, keys))
    }
}
