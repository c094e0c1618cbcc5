//! Client authentication at the token, introspection, revocation and PAR endpoints — one
//! implementation for every method (RFC 6749 §2.3, OIDC Core §9, RFC 7523, RFC 8705).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use aws_lc_rs::rand::SecureRandom;
use base64::Engine as _;
use relier_jose::{Algorithm, JoseError, SigningKey, jws};
use serde::{Deserialize, Serialize};

use crate::http::{Form, HttpRequest, TlsIdentity};
use crate::jti::JtiSource;
use crate::secret::Secret;
use crate::types::{ClientId, IssuerUrl, UnixTime};

/// The registered names of client authentication methods (OAuth Token Endpoint Authentication
/// Methods registry), strongest first as relier ranks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthMethod {
    /// OIDC Core §9, RFC 7523 §2.2: a JWT signed with the RP's private key.
    PrivateKeyJwt,
    /// RFC 8705 §2.1: PKI-bound client certificate.
    TlsClientAuth,
    /// RFC 8705 §2.2: self-signed certificate registered in the client's JWKS.
    SelfSignedTlsClientAuth,
    /// OIDC Core §9: a JWT MACed with the client secret.
    ClientSecretJwt,
    /// RFC 6749 §2.3.1: HTTP Basic.
    ClientSecretBasic,
    /// RFC 6749 §2.3.1: secret in the request body.
    ClientSecretPost,
    /// Public client (PKCE mandatory).
    None,
}

impl AuthMethod {
    /// Every method, strongest first.
    pub const ALL: [AuthMethod; 7] = [
        AuthMethod::PrivateKeyJwt,
        AuthMethod::TlsClientAuth,
        AuthMethod::SelfSignedTlsClientAuth,
        AuthMethod::ClientSecretJwt,
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::None,
    ];

    /// The registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::TlsClientAuth => "tls_client_auth",
            AuthMethod::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
            AuthMethod::ClientSecretJwt => "client_secret_jwt",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
        }
    }

    /// Does the method present a client certificate?
    pub fn uses_mtls(self) -> bool {
        matches!(
            self,
            AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth
        )
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuthMethod {
    type Err = ClientAuthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuthMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| ClientAuthError::UnknownMethod(s.to_owned()))
    }
}

/// The `aud` of a client assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssertionAudience {
    /// The OP's issuer identifier (FAPI 2.0 Security Profile §5.3.2.1, draft-ietf-oauth-rfc7523bis).
    #[default]
    Issuer,
    /// The URL of the endpoint being called, for OPs that insist on it (RFC 7523 §3 (3)).
    Endpoint,
}

/// Why client authentication could not be performed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientAuthError {
    /// Not a registered method name.
    #[error("client authentication: unknown method {0:?}")]
    UnknownMethod(String),
    /// RFC 7518 §3.2: HMAC keys must be at least as long as the hash output.
    #[error(
        "client_secret_jwt: the client secret is {got} bytes but {alg} needs at least {min} (RFC 7518 §3.2)"
    )]
    SecretTooShort {
        /// The HMAC algorithm (`HS256`, `HS384` or `HS512`).
        alg: &'static str,
        /// The minimum secret length for that algorithm, in bytes.
        min: usize,
        /// The length of the configured client secret, in bytes.
        got: usize,
    },
    /// The algorithm does not fit the method.
    #[error("{method}: algorithm {alg} cannot be used")]
    AlgorithmNotAllowed {
        /// The client authentication method (`private_key_jwt`, …).
        method: &'static str,
        /// The algorithm that does not fit it.
        alg: String,
    },
    /// JOSE failure (signing).
    #[error("client assertion: {0}")]
    Jose(#[from] JoseError),
    /// Random source failed.
    #[error("client assertion: random number generator failed")]
    Rng,
    /// The claims could not be serialized.
    #[error("client assertion: claims could not be encoded")]
    Encoding,
    /// Clock before 1970 or overflow.
    #[error("client assertion: invalid time")]
    Time,
    /// A certificate thumbprint only goes with private_key_jwt.
    #[error("x5t#S256 goes with private_key_jwt, not {method}")]
    ThumbprintWithoutKey {
        /// The method.
        method: &'static str,
    },
}

/// How this RP authenticates to the OP: the client_id plus one credential. Keys are parsed once
/// (at construction) and reused for every assertion.
#[derive(Clone)]
pub struct ClientAuth {
    client_id: ClientId,
    kind: Kind,
    audience: AssertionAudience,
    lifetime_secs: u64,
    /// Shared by clones, so two clones never send the same `jti`.
    jti: Arc<JtiSource>,
}

#[derive(Clone)]
enum Kind {
    Basic(Secret),
    Post(Secret),
    SecretJwt(Arc<jws::CompactSigner>),
    PrivateKeyJwt(Arc<jws::CompactSigner>),
    TlsClientAuth,
    SelfSignedTlsClientAuth,
    None,
}

/// Assertions live at most this long (RFC 7523 §3 (4): exp limits the window of use).
pub const MAX_ASSERTION_LIFETIME_SECS: u64 = 60;

impl ClientAuth {
    fn build(client_id: ClientId, kind: Kind) -> Self {
        Self {
            client_id,
            kind,
            audience: AssertionAudience::Issuer,
            lifetime_secs: MAX_ASSERTION_LIFETIME_SECS,
            jti: Arc::default(),
        }
    }

    /// `client_secret_basic`.
    pub fn client_secret_basic(client_id: ClientId, secret: Secret) -> Self {
        Self::build(client_id, Kind::Basic(secret))
    }

    /// `client_secret_post`.
    pub fn client_secret_post(client_id: ClientId, secret: Secret) -> Self {
        Self::build(client_id, Kind::Post(secret))
    }

    /// `client_secret_jwt` with HS256/384/512 keyed with the secret.
    pub fn client_secret_jwt(
        client_id: ClientId,
        secret: &Secret,
        alg: Algorithm,
    ) -> Result<Self, ClientAuthError> {
        let Some(min) = alg.hmac_min_key_len() else {
            return Err(ClientAuthError::AlgorithmNotAllowed {
                method: "client_secret_jwt",
                alg: alg.as_str().to_owned(),
            });
        };
        // RFC 7518 §3.2: "A key of the same size as the hash output ... or larger MUST be used".
        if secret.len() < min {
            return Err(ClientAuthError::SecretTooShort {
                alg: alg.as_str(),
                min,
                got: secret.len(),
            });
        }
        let key = SigningKey::hmac(alg, secret.expose().as_bytes())?;
        Ok(Self::build(client_id, Kind::SecretJwt(signer(key)?)))
    }

    /// `private_key_jwt`. The key's `kid` goes in the assertion header; a key without one gets its
    /// RFC 7638 thumbprint.
    pub fn private_key_jwt(client_id: ClientId, key: SigningKey) -> Result<Self, ClientAuthError> {
        if key.algorithm().is_hmac() || key.algorithm() == Algorithm::None {
            return Err(ClientAuthError::AlgorithmNotAllowed {
                method: "private_key_jwt",
                alg: key.algorithm().as_str().to_owned(),
            });
        }
        let key = if key.kid().is_some() {
            key
        } else {
            let kid = key.thumbprint_sha256()?;
            key.with_kid(kid)
        };
        Ok(Self::build(client_id, Kind::PrivateKeyJwt(signer(key)?)))
    }

    /// private_key_jwt whose assertion header names the key's X.509 certificate by its SHA-256
    /// thumbprint (`x5t#S256`, RFC 7515 §4.1.8: base64url of the SHA-256 of the DER): how
    /// Microsoft Entra ID matches an assertion to an uploaded certificate credential
    /// (<https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials>:
    /// header "x5t#S256: Base64url-encoded SHA-256 thumbprint of the X.509 certificate's DER
    /// encoding").
    ///
    /// # Errors
    /// [`ClientAuthError::ThumbprintWithoutKey`] for another method.
    pub fn with_x5t_s256(mut self, thumbprint: &str) -> Result<Self, ClientAuthError> {
        let Kind::PrivateKeyJwt(signer) = &self.kind else {
            return Err(ClientAuthError::ThumbprintWithoutKey {
                method: self.method().as_str(),
            });
        };
        let mut header = jws::Header::default();
        header.extra.insert(
            "x5t#S256".to_owned(),
            serde_json::Value::String(thumbprint.to_owned()),
        );
        let key = signer.key().clone();
        self.kind = Kind::PrivateKeyJwt(Arc::new(jws::CompactSigner::new(&header, key)?));
        Ok(self)
    }

    /// `tls_client_auth`: the driver presents a PKI-issued certificate.
    pub fn tls_client_auth(client_id: ClientId) -> Self {
        Self::build(client_id, Kind::TlsClientAuth)
    }

    /// `self_signed_tls_client_auth`: the driver presents a self-signed certificate.
    pub fn self_signed_tls_client_auth(client_id: ClientId) -> Self {
        Self::build(client_id, Kind::SelfSignedTlsClientAuth)
    }

    /// `none`: a public client.
    pub fn none(client_id: ClientId) -> Self {
        Self::build(client_id, Kind::None)
    }

    /// Use the endpoint URL instead of the issuer as assertion `aud`.
    pub fn with_assertion_audience(mut self, audience: AssertionAudience) -> Self {
        self.audience = audience;
        self
    }

    /// Shorten the assertion lifetime (capped at [`MAX_ASSERTION_LIFETIME_SECS`]).
    pub fn with_assertion_lifetime(mut self, secs: u64) -> Self {
        self.lifetime_secs = secs.clamp(1, MAX_ASSERTION_LIFETIME_SECS);
        self
    }

    /// The client identifier.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The method.
    pub fn method(&self) -> AuthMethod {
        match self.kind {
            Kind::Basic(_) => AuthMethod::ClientSecretBasic,
            Kind::Post(_) => AuthMethod::ClientSecretPost,
            Kind::SecretJwt(_) => AuthMethod::ClientSecretJwt,
            Kind::PrivateKeyJwt(_) => AuthMethod::PrivateKeyJwt,
            Kind::TlsClientAuth => AuthMethod::TlsClientAuth,
            Kind::SelfSignedTlsClientAuth => AuthMethod::SelfSignedTlsClientAuth,
            Kind::None => AuthMethod::None,
        }
    }

    /// Whether requests must carry the client certificate and go to mTLS aliases.
    pub fn uses_mtls(&self) -> bool {
        self.method().uses_mtls()
    }

    /// The `aud` the client assertion carries (FAPI 2.0 wants [`AssertionAudience::Issuer`]).
    pub fn assertion_audience(&self) -> AssertionAudience {
        self.audience
    }

    /// The JWS algorithm of the client assertion, if the method uses one.
    pub fn assertion_algorithm(&self) -> Option<Algorithm> {
        match &self.kind {
            Kind::SecretJwt(k) | Kind::PrivateKeyJwt(k) => Some(k.key().algorithm()),
            _ => None,
        }
    }

    /// Whether [`Self::request`] puts `client_id` in the form body: every method but
    /// `client_secret_basic`, whose `Authorization` header carries it.
    pub fn puts_client_id_in_body(&self) -> bool {
        !matches!(self.kind, Kind::Basic(_))
    }

    /// Build an authenticated form POST to `endpoint_url` (already the mTLS alias when
    /// [`Self::uses_mtls`]). `form` holds the endpoint's own parameters.
    pub fn request(
        &self,
        issuer: &IssuerUrl,
        endpoint_url: &str,
        mut form: Form,
        now: UnixTime,
        rng: &dyn SecureRandom,
    ) -> Result<HttpRequest, ClientAuthError> {
        let mut authorization = None;
        // RFC 6749 §2.3.1 (post), RFC 7523 §2.2 (JWT), RFC 8705 §2 (mTLS), RFC 6749 §3.2.1
        // (public clients): client_id goes in the body — for basic it is in the header.
        if self.puts_client_id_in_body() {
            form.push("client_id", self.client_id.as_str());
        }
        match &self.kind {
            Kind::Basic(secret) => {
                // RFC 6749 §2.3.1: the client identifier and password are encoded using
                // application/x-www-form-urlencoded, then used as the Basic user-id and password.
                let id = form_encode(self.client_id.as_str());
                let pw = zeroize::Zeroizing::new(form_encode(secret.expose()));
                let joined = zeroize::Zeroizing::new(format!("{id}:{}", pw.as_str()));
                let b64 = base64::engine::general_purpose::STANDARD.encode(joined.as_bytes());
                authorization = Some(format!("Basic {b64}"));
            }
            Kind::Post(secret) => {
                form.push("client_secret", secret.expose());
            }
            Kind::SecretJwt(signer) | Kind::PrivateKeyJwt(signer) => {
                let assertion = self.assertion(signer, issuer, endpoint_url, now, rng)?;
                // RFC 7521 §4.2 / RFC 7523 §2.2.
                form.push(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                );
                form.push("client_assertion", &assertion);
            }
            // RFC 8705 §2: the client certificate authenticates. none: nothing but client_id.
            Kind::TlsClientAuth | Kind::SelfSignedTlsClientAuth | Kind::None => {}
        }
        let mut req = HttpRequest::form_post(endpoint_url, &form);
        if let Some(a) = authorization {
            req.headers.push(("authorization".into(), a));
        }
        if self.uses_mtls() {
            req.tls_identity = TlsIdentity::ClientCertificate;
        }
        Ok(req)
    }

    /// The `client_assertion` (RFC 7523 §2.2) this client would send to `endpoint_url`, for
    /// `client_secret_jwt` and `private_key_jwt`; `None` for the other methods. Each call draws
    /// a fresh `jti`. [`Self::request`] uses it; it is public for endpoints relier does not
    /// drive itself.
    pub fn client_assertion(
        &self,
        issuer: &IssuerUrl,
        endpoint_url: &str,
        now: UnixTime,
        rng: &dyn SecureRandom,
    ) -> Result<Option<String>, ClientAuthError> {
        match &self.kind {
            Kind::SecretJwt(signer) | Kind::PrivateKeyJwt(signer) => self
                .assertion(signer, issuer, endpoint_url, now, rng)
                .map(Some),
            _ => Ok(None),
        }
    }

    /// RFC 7523 §3 claims: iss = sub = client_id, aud, exp (short), iat, jti (unique).
    fn assertion(
        &self,
        signer: &jws::CompactSigner,
        issuer: &IssuerUrl,
        endpoint_url: &str,
        now: UnixTime,
        rng: &dyn SecureRandom,
    ) -> Result<String, ClientAuthError> {
        // RFC 7523 §3 (3): aud identifies the authorization server — its issuer identifier, or
        // the endpoint URL for OPs that insist on it.
        let aud = match self.audience {
            AssertionAudience::Issuer => issuer.as_str(),
            AssertionAudience::Endpoint => endpoint_url,
        };
        // RFC 7523 §3 (7), OIDC Core §9: jti, unique per assertion (crate::jti).
        let jti = self.jti.next(rng).map_err(|_| ClientAuthError::Rng)?;
        let exp = now
            .0
            .checked_add(self.lifetime_secs)
            .ok_or(ClientAuthError::Time)?;
        // A typed struct serializes without building a JSON tree (measured: ~1 µs less per
        // assertion than `json!` + `to_string`, see docs/benchmarks.md).
        #[derive(Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            sub: &'a str,
            aud: &'a str,
            jti: &'a str,
            iat: u64,
            exp: u64,
        }
        let jti = relier_jose::b64::encode(&jti);
        let claims = Claims {
            iss: self.client_id.as_str(),
            sub: self.client_id.as_str(),
            aud,
            jti: &jti,
            iat: now.0,
            exp,
        };
        let mut payload = Vec::with_capacity(128 + 2 * self.client_id.as_str().len() + aud.len());
        serde_json::to_writer(&mut payload, &claims).map_err(|_| ClientAuthError::Encoding)?;
        Ok(signer.sign(&payload, rng)?)
    }
}

/// The key with its assertion header (`alg`, `kid`) encoded once.
fn signer(key: SigningKey) -> Result<Arc<jws::CompactSigner>, ClientAuthError> {
    Ok(Arc::new(jws::CompactSigner::new(
        &jws::Header::default(),
        key,
    )?))
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAuth")
            .field("client_id", &self.client_id)
            .field("method", &self.method())
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;

    fn iss() -> IssuerUrl {
        IssuerUrl::new("https://op.example.com").unwrap()
    }

    fn form_of(req: &HttpRequest) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect()
    }

    /// `oidcc-client-test-client-secret-basic`: the token request carries the client id and
    /// secret in the Basic header, never the secret in the body.
    #[test]
    fn oidcc_client_test_client_secret_basic_form_encodes_before_base64() {
        // RFC 6749 §2.3.1: a secret with reserved characters is form-encoded first.
        let auth = ClientAuth::client_secret_basic(
            ClientId::new("my client:1").unwrap(),
            Secret::new("p@ss w%rd:+"),
        );
        let req = auth
            .request(
                &iss(),
                "https://op.example.com/token",
                Form::new(),
                UnixTime(0),
                &SystemRandom::new(),
            )
            .unwrap();
        let header = req.header("authorization").unwrap();
        let b64 = header.strip_prefix("Basic ").unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            "my+client%3A1:p%40ss+w%25rd%3A%2B"
        );
        assert!(form_of(&req).iter().all(|(k, _)| k != "client_secret"));
        assert!(!format!("{req:?}").contains("Basic"));
    }

    #[test]
    fn a_certificate_thumbprint_goes_in_the_assertion_header() {
        let key = SigningKey::generate(Algorithm::RS256, None).unwrap();
        let cid = || ClientId::new("c").unwrap();
        let auth = ClientAuth::private_key_jwt(cid(), key.clone())
            .unwrap()
            .with_x5t_s256("thumb")
            .unwrap();
        let assertion = auth
            .client_assertion(
                &iss(),
                "https://op/token",
                UnixTime(0),
                &SystemRandom::new(),
            )
            .unwrap()
            .unwrap();
        let jws = jws::UnverifiedJws::parse(&assertion).unwrap();
        assert_eq!(jws.header().extra["x5t#S256"], "thumb");
        assert!(jws.header().kid.is_some());
        jws.verify(Algorithm::RS256, &key.verifying_key().unwrap())
            .unwrap();
        let post = ClientAuth::client_secret_post(cid(), Secret::new("s"));
        assert!(matches!(
            post.with_x5t_s256("thumb"),
            Err(ClientAuthError::ThumbprintWithoutKey { .. })
        ));
    }

    #[test]
    fn post_puts_secret_in_body() {
        let auth = ClientAuth::client_secret_post(ClientId::new("c").unwrap(), Secret::new("s"));
        let req = auth
            .request(
                &iss(),
                "https://op.example.com/token",
                Form::new(),
                UnixTime(0),
                &SystemRandom::new(),
            )
            .unwrap();
        let form = form_of(&req);
        assert!(form.contains(&("client_id".into(), "c".into())));
        assert!(form.contains(&("client_secret".into(), "s".into())));
        assert!(req.header("authorization").is_none());
    }

    #[test]
    fn secret_jwt_refuses_short_secrets() {
        let cid = ClientId::new("c").unwrap();
        let err = ClientAuth::client_secret_jwt(
            cid.clone(),
            &Secret::new("x".repeat(31)),
            Algorithm::HS256,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            ClientAuthError::SecretTooShort {
                min: 32,
                got: 31,
                ..
            }
        ));
        assert!(
            ClientAuth::client_secret_jwt(
                cid.clone(),
                &Secret::new("x".repeat(47)),
                Algorithm::HS384
            )
            .is_err()
        );
        assert!(
            ClientAuth::client_secret_jwt(
                cid.clone(),
                &Secret::new("x".repeat(64)),
                Algorithm::HS512
            )
            .is_ok()
        );
        assert!(
            ClientAuth::client_secret_jwt(cid, &Secret::new("x".repeat(64)), Algorithm::RS256)
                .is_err()
        );
    }

    #[test]
    fn private_key_jwt_assertion_claims() {
        let rng = SystemRandom::new();
        let key = SigningKey::generate(Algorithm::ES256, None).unwrap();
        let thumb = key.thumbprint_sha256().unwrap();
        let verifier = key.verifying_key().unwrap();
        let auth = ClientAuth::private_key_jwt(ClientId::new("rp").unwrap(), key).unwrap();
        let req = auth
            .request(
                &iss(),
                "https://op.example.com/token",
                Form::new(),
                UnixTime(1_000_000),
                &rng,
            )
            .unwrap();
        let form = form_of(&req);
        let get = |k: &str| {
            form.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(
            get("client_assertion_type"),
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        );
        let text = get("client_assertion");
        let jws = jws::UnverifiedJws::parse(&text).unwrap();
        assert_eq!(jws.header().kid.as_deref(), Some(thumb.as_str()));
        let payload = jws.verify(Algorithm::ES256, &verifier).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(payload).unwrap();
        assert_eq!(claims["iss"], "rp");
        assert_eq!(claims["sub"], "rp");
        assert_eq!(claims["aud"], "https://op.example.com");
        assert_eq!(claims["iat"], 1_000_000);
        assert_eq!(claims["exp"], 1_000_060);
        assert!(claims["jti"].as_str().unwrap().len() >= 32);
        // jti unique per assertion
        let req2 = auth
            .request(
                &iss(),
                "https://op.example.com/token",
                Form::new(),
                UnixTime(1_000_000),
                &rng,
            )
            .unwrap();
        assert_ne!(req.body, req2.body);
        // A clone (e.g. the gateway's per-request copy) never repeats the original's jti.
        let jti = |a: &ClientAuth| {
            let t = a
                .client_assertion(&iss(), "https://op.example.com/token", UnixTime(1), &rng)
                .unwrap()
                .unwrap();
            let p = jws::UnverifiedJws::parse(&t).unwrap();
            let c: serde_json::Value = serde_json::from_slice(p.unverified_payload()).unwrap();
            c["jti"].as_str().unwrap().to_owned()
        };
        let copy = auth.clone();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..50 {
            assert!(seen.insert(jti(&auth)));
            assert!(seen.insert(jti(&copy)));
        }
    }

    #[test]
    fn endpoint_audience() {
        let key = SigningKey::generate(Algorithm::EdDSA, None).unwrap();
        let auth = ClientAuth::private_key_jwt(ClientId::new("rp").unwrap(), key)
            .unwrap()
            .with_assertion_audience(AssertionAudience::Endpoint);
        let req = auth
            .request(
                &iss(),
                "https://op.example.com/token",
                Form::new(),
                UnixTime(5),
                &SystemRandom::new(),
            )
            .unwrap();
        let form = form_of(&req);
        let a = &form
            .iter()
            .find(|(n, _)| n == "client_assertion")
            .unwrap()
            .1;
        let jws = jws::UnverifiedJws::parse(a).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(jws.unverified_payload()).unwrap();
        assert_eq!(claims["aud"], "https://op.example.com/token");
    }

    #[test]
    fn mtls_marks_request() {
        let auth = ClientAuth::tls_client_auth(ClientId::new("rp").unwrap());
        let req = auth
            .request(
                &iss(),
                "https://mtls.op.example.com/token",
                Form::new(),
                UnixTime(5),
                &SystemRandom::new(),
            )
            .unwrap();
        assert_eq!(req.tls_identity, TlsIdentity::ClientCertificate);
        assert!(form_of(&req).contains(&("client_id".into(), "rp".into())));
    }

    #[test]
    fn every_asymmetric_algorithm_signs_assertions() {
        let rng = SystemRandom::new();
        for alg in Algorithm::ALL
            .into_iter()
            .filter(|a| a.is_rsa() || a.is_ecdsa() || *a == Algorithm::EdDSA)
        {
            let key = SigningKey::generate(alg, None).unwrap();
            let verifier = key.verifying_key().unwrap();
            let auth = ClientAuth::private_key_jwt(ClientId::new("rp").unwrap(), key).unwrap();
            assert_eq!(auth.assertion_algorithm(), Some(alg));
            let text = auth
                .client_assertion(&iss(), "https://op.example.com/token", UnixTime(5), &rng)
                .unwrap()
                .unwrap();
            let jws = jws::UnverifiedJws::parse(&text).unwrap();
            assert_eq!(jws.header_alg(), alg.as_str());
            let payload = jws.verify(alg, &verifier).unwrap();
            let claims: serde_json::Value = serde_json::from_slice(payload).unwrap();
            assert_eq!(claims["aud"], "https://op.example.com", "{alg}");
        }
    }

    #[test]
    fn method_names_round_trip() {
        for m in AuthMethod::ALL {
            assert_eq!(m.as_str().parse::<AuthMethod>().unwrap(), m);
        }
        assert!("client_secret".parse::<AuthMethod>().is_err());
    }
}
