//! Request objects (RFC 9101, "JAR"; OIDC Core §6): the authorization request's parameters
//! travel as a JWT signed with the RP's key, so neither the browser nor anything on the way can
//! change them unnoticed — or, where the client registered `request_object_signing_alg: none`,
//! unsigned (OIDC Core §6.1) — and, where it registered `request_object_encryption_alg`/`_enc`,
//! encrypted to the OP (a nested JWT, OIDC Core §6.1, RFC 9101 §6.1).
//!
//! Sans-I/O: [`sign_request`] builds the object from the request's parameters;
//! [`SignedRequest::encrypt`] encrypts it; [`SignedRequest::by_value`] sends it in the
//! authorization URL (RFC 9101 §5, OIDC Core §6.1), [`SignedRequest::by_reference`] sends the
//! `request_uri` it is served at (RFC 9101 §5.2, OIDC Core §6.2), [`pushed_request`] pushes it
//! (RFC 9126 §3). What turns it on is the registration ([`RequestObjectRule`]:
//! `request_object_signing_alg`, `require_signed_request_object`,
//! `request_object_encryption_alg`/`_enc`) and the OP's metadata
//! (`require_signed_request_object`, RFC 9101 §10.5).

use std::sync::Arc;

use aws_lc_rs::rand::SecureRandom;
use relier_jose::jws::{CompactSigner, Header};
use relier_jose::{Algorithm, SigningKey};
use serde_json::{Map, Value};
use url::Url;

mod encrypt;

pub use encrypt::RequestObjectEncrypter;
use relier_jose::jwe::KeyManagementAlg;

use crate::authorize::{self, AuthorizationParams, AuthorizeError, PendingLogin};
use crate::client_auth::ClientAuth;
use crate::discovery::ProviderMetadata;
use crate::encryption::{EncryptedResponse, EncryptionConfigError, ResponseEncryption};
use crate::http::Form;
use crate::types::{ClientId, IssuerUrl, RedirectUrl, UnixTime};

/// RFC 9101 §10.8: the media type of a request object, in the `typ` header.
pub const TYP: &str = "oauth-authz-req+jwt";

/// Default lifetime of a request object (`exp - iat`), seconds.
pub const DEFAULT_LIFETIME_SECS: u64 = 120;

/// Longest lifetime accepted: a request object is used at once (FAPI 2.0 Message Signing
/// §5.3.1 allows at most 60 minutes; relier stays far below).
pub const MAX_LIFETIME_SECS: u64 = 300;

/// The registration metadata naming the algorithm (OIDC Registration §2).
pub const ALG_MEMBER: &str = "request_object_signing_alg";

/// RFC 9101 §5.2 / §10.2: the media type a `request_uri` is served with.
pub const CONTENT_TYPE: &str = "application/oauth-authz-req+jwt";

/// The registration metadata naming the request object's key-management algorithm.
pub const ALG_MEMBER_ENC: &str = "request_object_encryption_alg";

/// The client and OP metadata that make request objects mandatory (RFC 9101 §10.5).
pub const REQUIRE_MEMBER: &str = "require_signed_request_object";

/// Claims relier sets itself; an extra authorization parameter cannot use their names.
const RESERVED_CLAIMS: [&str; 7] = ["iss", "aud", "iat", "nbf", "exp", "jti", "sub"];

/// Why a request object could not be configured or built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestObjectError {
    /// `none` or a MAC: request objects are signed with the RP's private key only.
    #[error(
        "request object: alg {alg} is refused (an asymmetric signature such as PS256, ES256 or EdDSA is required)"
    )]
    UnsupportedAlg {
        /// The algorithm named.
        alg: &'static str,
    },
    /// The registered algorithm is not the one the RP's key signs with.
    #[error(
        "request object: request_object_signing_alg is {registered}, but the RP's key signs {key}"
    )]
    KeyMismatch {
        /// `request_object_signing_alg`.
        registered: &'static str,
        /// The key's algorithm.
        key: &'static str,
    },
    /// The OP lists the algorithms it accepts and the chosen one is not among them.
    #[error(
        "request object: the OP does not accept {alg} (request_object_signing_alg_values_supported)"
    )]
    NotAcceptedByOp {
        /// The algorithm.
        alg: &'static str,
    },
    /// Request objects are registered or required but the RP has no signing key.
    #[error(
        "request object: signed request objects are registered or required (RFC 9101 §10.5) but the RP has no private key to sign them"
    )]
    NoKey,
    /// A registration member has the wrong type or names an unknown algorithm.
    #[error("request object: {member}: {reason}")]
    Registration {
        /// The member.
        member: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// An extra authorization parameter has the name of a JWT claim relier sets.
    #[error("request object: parameter {0} is a claim relier sets and cannot be overridden")]
    ReservedClaim(String),
    /// The lifetime is zero or too long.
    #[error("request object: lifetime must be 1 to {MAX_LIFETIME_SECS} seconds")]
    Lifetime,
    /// The authorization request itself.
    #[error(transparent)]
    Authorize(#[from] AuthorizeError),
    /// `now` plus the lifetime overflows.
    #[error("request object: time overflow")]
    Time,
    /// The random source failed.
    #[error("request object: random number generator failed")]
    Rng,
    /// Signing failed (the key refused).
    #[error("request object: signing failed")]
    Signing,
    /// `request_object_encryption_alg`/`_enc` do not name supported algorithms.
    #[error("request object: {0}")]
    EncryptionConfig(#[from] EncryptionConfigError),
    /// The OP publishes no key to encrypt to (RFC 7517 §4.2 `use: enc`) for the registered
    /// algorithm.
    #[error("request object: the OP's JWKS has no encryption key for {alg}")]
    NoEncryptionKey {
        /// The registered key-management algorithm.
        alg: KeyManagementAlg,
    },
    /// Encryption failed.
    #[error("request object: encryption failed")]
    Encryption,
    /// The `request_uri` is not an absolute https URL (http only on loopback), or is too long
    /// (RFC 9101 §5.2.1: at most 512 ASCII characters).
    #[error("request object: request_uri {reason}")]
    RequestUri {
        /// Why.
        reason: &'static str,
    },
}

/// Checks that `alg` may sign request objects: asymmetric only (RFC 8725 §3.1 pins it; a MAC
/// would need the client secret on both sides, `none` would not be a signed request object).
fn check_alg(alg: Algorithm) -> Result<Algorithm, RequestObjectError> {
    if alg == Algorithm::None || alg.is_hmac() {
        return Err(RequestObjectError::UnsupportedAlg { alg: alg.as_str() });
    }
    Ok(alg)
}

/// The RP's key with the request object header (`alg`, `kid`, `typ`) fixed — or no key, for a
/// client registered with `request_object_signing_alg: none` ([`Self::unsigned`]).
#[derive(Debug, Clone)]
pub struct RequestObjectSigner {
    signer: Option<Arc<CompactSigner>>,
    lifetime: u64,
}

impl RequestObjectSigner {
    /// `alg` is the registered `request_object_signing_alg`; `key` must sign exactly it.
    ///
    /// # Errors
    /// [`RequestObjectError::UnsupportedAlg`] for `none` and MACs,
    /// [`RequestObjectError::KeyMismatch`] when the key signs another algorithm.
    pub fn new(alg: Algorithm, key: SigningKey) -> Result<Self, RequestObjectError> {
        let alg = check_alg(alg)?;
        if key.algorithm() != alg {
            return Err(RequestObjectError::KeyMismatch {
                registered: alg.as_str(),
                key: key.algorithm().as_str(),
            });
        }
        let header = Header {
            // RFC 9101 §10.8: explicit typing.
            typ: Some(TYP.to_owned()),
            ..Header::default()
        };
        let signer = CompactSigner::new(&header, key).map_err(|_| RequestObjectError::Signing)?;
        Ok(Self {
            signer: Some(Arc::new(signer)),
            lifetime: DEFAULT_LIFETIME_SECS,
        })
    }

    /// OIDC Core §6.1: an unsigned request object (`alg: none`), only for a client whose
    /// registration says `request_object_signing_alg: none` ([`RequestObjectRule::signer`]
    /// builds it from nothing else).
    #[must_use]
    pub fn unsigned() -> Self {
        Self {
            signer: None,
            lifetime: DEFAULT_LIFETIME_SECS,
        }
    }

    /// Lifetime of each request object (`exp - iat`), 1 to [`MAX_LIFETIME_SECS`] seconds.
    ///
    /// # Errors
    /// [`RequestObjectError::Lifetime`].
    pub fn with_lifetime(mut self, secs: u64) -> Result<Self, RequestObjectError> {
        if secs == 0 || secs > MAX_LIFETIME_SECS {
            return Err(RequestObjectError::Lifetime);
        }
        self.lifetime = secs;
        Ok(self)
    }

    /// The signing algorithm (`none` for [`Self::unsigned`]).
    #[must_use]
    pub fn alg(&self) -> Algorithm {
        self.signer
            .as_ref()
            .map_or(Algorithm::None, |s| s.key().algorithm())
    }

    /// The lifetime of each request object, seconds.
    #[must_use]
    pub fn lifetime(&self) -> u64 {
        self.lifetime
    }

    /// The key's `kid` (in the header when set).
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.signer.as_ref().and_then(|s| s.key().kid())
    }

    /// The same header and lifetime with another key of the same algorithm (after a rotation);
    /// an unsigned one stays unsigned.
    ///
    /// # Errors
    /// As [`RequestObjectSigner::new`].
    pub fn with_key(&self, key: SigningKey) -> Result<Self, RequestObjectError> {
        if self.signer.is_none() {
            return Ok(self.clone());
        }
        Ok(Self {
            lifetime: self.lifetime,
            ..Self::new(self.alg(), key)?
        })
    }

    /// Signs the authorization parameters `params` (in order, as built by
    /// [`crate::authorize`]) as a request object for the OP `audience`.
    ///
    /// RFC 9101 §4: the claims are the authorization request parameters; `iss` is the client_id
    /// and `aud` the OP's issuer identifier, exactly (§10.2 (b)); `iat`, `nbf`, `exp` bound it
    /// in time and `jti` (192 random bits) names it once.
    ///
    /// # Errors
    /// [`RequestObjectError::ReservedClaim`], [`RequestObjectError::Time`],
    /// [`RequestObjectError::Rng`], [`RequestObjectError::Signing`].
    pub fn sign(
        &self,
        params: &[(String, String)],
        client_id: &ClientId,
        audience: &IssuerUrl,
        now: UnixTime,
        rng: &dyn SecureRandom,
    ) -> Result<String, RequestObjectError> {
        let mut claims = Map::new();
        for (k, v) in params {
            if RESERVED_CLAIMS.contains(&k.as_str()) {
                return Err(RequestObjectError::ReservedClaim(k.clone()));
            }
            claims.insert(k.clone(), claim_value(k, v));
        }
        let mut jti = [0u8; 24];
        rng.fill(&mut jti).map_err(|_| RequestObjectError::Rng)?;
        let exp = now
            .0
            .checked_add(self.lifetime)
            .ok_or(RequestObjectError::Time)?;
        claims.insert("iss".into(), client_id.as_str().into());
        claims.insert("aud".into(), audience.as_str().into());
        claims.insert("iat".into(), now.0.into());
        claims.insert("nbf".into(), now.0.into());
        claims.insert("exp".into(), exp.into());
        claims.insert("jti".into(), relier_jose::b64::encode(&jti).into());
        let payload =
            serde_json::to_vec(&Value::Object(claims)).map_err(|_| RequestObjectError::Signing)?;
        match &self.signer {
            Some(signer) => signer
                .sign(&payload, rng)
                .map_err(|_| RequestObjectError::Signing),
            None => Ok(unsigned_jwt(&payload)),
        }
    }
}

/// OIDC Core §6.1 / RFC 7519 §6.1: an Unsecured JWS — header `{"alg":"none"}` (with `typ`),
/// the payload, and an empty signature.
fn unsigned_jwt(payload: &[u8]) -> String {
    let header = format!(r#"{{"alg":"none","typ":"{TYP}"}}"#);
    format!(
        "{}.{}.",
        relier_jose::b64::encode(header.as_bytes()),
        relier_jose::b64::encode(payload)
    )
}

/// OIDC Core §6.1: `max_age` is a number and `claims` a JSON object inside a request object;
/// every other parameter stays a string.
fn claim_value(name: &str, value: &str) -> Value {
    match name {
        "max_age" => value
            .parse::<u64>()
            .map_or_else(|_| value.into(), Value::from),
        "claims" => match serde_json::from_str::<Value>(value) {
            Ok(v @ Value::Object(_)) => v,
            _ => value.into(),
        },
        _ => value.into(),
    }
}

/// RFC 9101 §5 with OIDC Core §6.1: the request object by value (see
/// [`SignedRequest::by_value`]).
///
/// # Errors
/// [`AuthorizeError`] (through [`RequestObjectError::Authorize`]), and as
/// [`RequestObjectSigner::sign`].
pub fn authorization_url(
    metadata: &ProviderMetadata,
    client_id: &ClientId,
    redirect_uri: &RedirectUrl,
    params: &AuthorizationParams,
    signer: &RequestObjectSigner,
    now: UnixTime,
    rng: &dyn SecureRandom,
) -> Result<(Url, PendingLogin), RequestObjectError> {
    sign_request(
        &metadata.issuer,
        client_id,
        redirect_uri,
        params,
        signer,
        now,
        rng,
    )?
    .by_value(metadata)
}

/// An authorization request as a request object, not yet sent: the object (signed, unsigned
/// or encrypted), the parameters it carries, and what to keep until the callback.
#[derive(Debug)]
pub struct SignedRequest {
    pairs: Vec<(String, String)>,
    object: String,
    expires_at: UnixTime,
    pending: PendingLogin,
}

/// Builds the request object for `params` (RFC 9101 §4): signed by `signer` for the OP
/// `audience`.
///
/// # Errors
/// [`AuthorizeError`] (through [`RequestObjectError::Authorize`]), and as
/// [`RequestObjectSigner::sign`].
pub fn sign_request(
    audience: &IssuerUrl,
    client_id: &ClientId,
    redirect_uri: &RedirectUrl,
    params: &AuthorizationParams,
    signer: &RequestObjectSigner,
    now: UnixTime,
    rng: &dyn SecureRandom,
) -> Result<SignedRequest, RequestObjectError> {
    let (pairs, pending) = authorize::request_parameters(client_id, redirect_uri, params, rng)?;
    let object = signer.sign(&pairs, client_id, audience, now, rng)?;
    let expires_at = UnixTime(
        now.0
            .checked_add(signer.lifetime())
            .ok_or(RequestObjectError::Time)?,
    );
    Ok(SignedRequest {
        pairs,
        object,
        expires_at,
        pending,
    })
}

impl SignedRequest {
    /// The request object as it is sent (or served at a `request_uri`).
    #[must_use]
    pub fn object(&self) -> &str {
        &self.object
    }

    /// Its `exp`: a `request_uri` serving it serves it no longer than this.
    #[must_use]
    pub fn expires_at(&self) -> UnixTime {
        self.expires_at
    }

    /// OIDC Core §6.1, RFC 9101 §6.1: the object encrypted to the OP (sign, then encrypt).
    ///
    /// # Errors
    /// [`RequestObjectError::Encryption`].
    pub fn encrypt(
        mut self,
        to: &RequestObjectEncrypter,
        rng: &dyn SecureRandom,
    ) -> Result<Self, RequestObjectError> {
        self.object = to.encrypt(&self.object, rng)?;
        Ok(self)
    }

    /// RFC 9101 §5 with OIDC Core §6.1: the request object by value. The URL carries
    /// `client_id` (RFC 9101 §5: REQUIRED, equal to the object's), and the OAuth 2.0
    /// `response_type` and the `scope` with `openid` that OIDC Core §6.1 requires outside the
    /// object too; everything else is only inside it.
    ///
    /// # Errors
    /// [`AuthorizeError::BadEndpoint`].
    pub fn by_value(
        self,
        metadata: &ProviderMetadata,
    ) -> Result<(Url, PendingLogin), RequestObjectError> {
        let object = self.object.clone();
        self.url(metadata, "request", &object)
    }

    /// RFC 9101 §5.2 with OIDC Core §6.2: the request object by reference — the URL carries
    /// `request_uri` (where the caller serves [`Self::object`] until [`Self::expires_at`])
    /// with the same outside parameters as [`Self::by_value`].
    ///
    /// # Errors
    /// [`AuthorizeError::BadEndpoint`]; [`RequestObjectError::RequestUri`] for a `request_uri`
    /// that is not https (http only on loopback) or longer than 512 characters
    /// (RFC 9101 §5.2.1).
    pub fn by_reference(
        self,
        metadata: &ProviderMetadata,
        request_uri: &Url,
    ) -> Result<(Url, PendingLogin), RequestObjectError> {
        check_request_uri(request_uri)?;
        self.url(metadata, "request_uri", request_uri.as_str())
    }

    /// RFC 9126 §3: the pushed form carries `request` only; the client authentication
    /// ([`ClientAuth::request`]) adds what it needs (RFC 9126 §3: the object's `client_id`
    /// equals the authenticated client's).
    #[must_use]
    pub fn pushed(self) -> (Form, PendingLogin) {
        let mut form = Form::new();
        form.push("request", &self.object);
        (form, self.pending)
    }

    fn url(
        self,
        metadata: &ProviderMetadata,
        name: &str,
        value: &str,
    ) -> Result<(Url, PendingLogin), RequestObjectError> {
        let mut url = Url::parse(&metadata.authorization_endpoint)
            .map_err(|_| AuthorizeError::BadEndpoint)?;
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in &self.pairs {
                if matches!(k.as_str(), "client_id" | "response_type" | "scope") {
                    q.append_pair(k, v);
                }
            }
            q.append_pair(name, value);
        }
        Ok((url, self.pending))
    }
}

/// RFC 9101 §5.2.1: "The entire Request URI SHOULD NOT exceed 512 ASCII characters."
pub const MAX_REQUEST_URI_LEN: usize = 512;

/// The OP fetches a `request_uri`: https, or http on a loopback host (tests, and the CLI's
/// own loopback listener); no fragment; at most [`MAX_REQUEST_URI_LEN`] characters.
fn check_request_uri(uri: &Url) -> Result<(), RequestObjectError> {
    let bad = |reason| Err(RequestObjectError::RequestUri { reason });
    if uri.as_str().len() > MAX_REQUEST_URI_LEN {
        return bad("is longer than 512 characters");
    }
    if uri.fragment().is_some() {
        return bad("has a fragment");
    }
    match uri.scheme() {
        "https" => Ok(()),
        "http" if crate::types::is_loopback(uri) => Ok(()),
        _ => bad("must be https (http only on a loopback address)"),
    }
}

/// RFC 9126 §3: a pushed request object. The form carries `request`; the client
/// authentication ([`ClientAuth::request`]) adds what it needs; the parameters are only inside
/// the object.
///
/// # Errors
/// As [`authorization_url`].
pub fn pushed_request(
    auth: &ClientAuth,
    issuer: &IssuerUrl,
    redirect_uri: &RedirectUrl,
    params: &AuthorizationParams,
    signer: &RequestObjectSigner,
    now: UnixTime,
    rng: &dyn SecureRandom,
) -> Result<(Form, PendingLogin), RequestObjectError> {
    let client_id = auth.client_id();
    Ok(sign_request(issuer, client_id, redirect_uri, params, signer, now, rng)?.pushed())
}

/// How the request object travels (a provider's `request_object` key, `relier login
/// --request-object`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestObjectDelivery {
    /// In the authorization URL's `request` parameter (RFC 9101 §5, OIDC Core §6.1).
    #[default]
    ByValue,
    /// Served once at a `request_uri` the URL carries (RFC 9101 §5.2, OIDC Core §6.2).
    ByReference,
}

/// What the registration (and the OP) say about request objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestObjectRule {
    /// `request_object_signing_alg` (OIDC Registration §2); `Some(Algorithm::None)` for a
    /// client registered to send unsigned request objects (OIDC Core §6.1).
    pub alg: Option<Algorithm>,
    /// `require_signed_request_object` in the client's registration (RFC 9101 §10.5).
    pub required: bool,
    /// `request_object_encryption_alg`/`_enc` (OIDC Registration §2; `enc` defaults to
    /// A128CBC-HS256).
    pub encryption: Option<ResponseEncryption>,
}

impl RequestObjectRule {
    /// From a registration response or a provider's configuration keys of the same names.
    ///
    /// # Errors
    /// [`RequestObjectError::Registration`] for a member of the wrong type or an unknown
    /// algorithm; [`RequestObjectError::UnsupportedAlg`] for `none` and MACs.
    pub fn from_registration(reg: &Map<String, Value>) -> Result<Self, RequestObjectError> {
        let alg = match reg.get(ALG_MEMBER) {
            None | Some(Value::Null) => None,
            // OIDC Core §6.1: "none" when the client registered unsigned request objects.
            Some(Value::String(s)) if s == "none" => Some(Algorithm::None),
            Some(Value::String(s)) => Some(check_alg(s.parse::<Algorithm>().map_err(|_| {
                RequestObjectError::Registration {
                    member: ALG_MEMBER,
                    reason: "unknown algorithm",
                }
            })?)?),
            Some(_) => {
                return Err(RequestObjectError::Registration {
                    member: ALG_MEMBER,
                    reason: "not a string",
                });
            }
        };
        let required = match reg.get(REQUIRE_MEMBER) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(RequestObjectError::Registration {
                    member: REQUIRE_MEMBER,
                    reason: "not a boolean",
                });
            }
        };
        if required && alg == Some(Algorithm::None) {
            return Err(RequestObjectError::Registration {
                member: REQUIRE_MEMBER,
                reason: "requires signed request objects, but request_object_signing_alg is none",
            });
        }
        let encryption =
            ResponseEncryption::from_registration(reg, EncryptedResponse::RequestObject)?;
        if let Some(e) = encryption
            && e.alg.is_symmetric()
        {
            return Err(RequestObjectError::Registration {
                member: ALG_MEMBER_ENC,
                reason: "symmetric key management is not supported (encrypt to the OP's key)",
            });
        }
        Ok(Self {
            alg,
            required,
            encryption,
        })
    }

    /// Whether authorization requests are sent as request objects: a registered algorithm,
    /// a registered requirement, or an OP that requires them of every client (RFC 9101 §10.5).
    #[must_use]
    pub fn applies(&self, op: &ProviderMetadata) -> bool {
        self.alg.is_some() || self.required || self.encryption.is_some() || op_requires(op)
    }

    /// The signer for the OP `op`, if [`Self::applies`]: the registered algorithm (the key
    /// must sign it), else the key's own algorithm if the OP accepts it.
    ///
    /// # Errors
    /// [`RequestObjectError::NoKey`] when request objects apply and `key` is `None`; as
    /// [`RequestObjectSigner::new`]; [`RequestObjectError::NotAcceptedByOp`].
    pub fn signer(
        &self,
        key: Option<&SigningKey>,
        op: &ProviderMetadata,
    ) -> Result<Option<RequestObjectSigner>, RequestObjectError> {
        if !self.applies(op) {
            return Ok(None);
        }
        if self.alg == Some(Algorithm::None) {
            // RFC 9101 §10.5: an OP that requires signed request objects gets none unsigned.
            if op_requires(op) {
                return Err(RequestObjectError::UnsupportedAlg { alg: "none" });
            }
            check_op_accepts(op, Algorithm::None)?;
            return Ok(Some(RequestObjectSigner::unsigned()));
        }
        let key = key.ok_or(RequestObjectError::NoKey)?;
        let alg = check_alg(self.alg.unwrap_or(key.algorithm()))?;
        check_op_accepts(op, alg)?;
        RequestObjectSigner::new(alg, key.clone()).map(Some)
    }
}

/// The OP's `request_object_signing_alg_values_supported`, when it lists them, includes `alg`.
fn check_op_accepts(op: &ProviderMetadata, alg: Algorithm) -> Result<(), RequestObjectError> {
    if let Some(Value::Array(supported)) = op.raw.get("request_object_signing_alg_values_supported")
        && !supported.iter().any(|a| a.as_str() == Some(alg.as_str()))
    {
        return Err(RequestObjectError::NotAcceptedByOp { alg: alg.as_str() });
    }
    Ok(())
}

/// RFC 9101 §10.5: the OP's `require_signed_request_object`.
#[must_use]
pub fn op_requires(op: &ProviderMetadata) -> bool {
    matches!(op.raw.get(REQUIRE_MEMBER), Some(Value::Bool(true)))
}

#[cfg(test)]
mod tests;
