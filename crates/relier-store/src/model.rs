//! The values the store hands out: key metadata and provider records.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use relier_core::{AuthMethod, Secret};
use relier_jose::Algorithm;
use relier_jose::jwe::KeyManagementAlg;
use serde::Serialize;

use crate::error::StoreError;
use crate::key_state::KeyState;
use crate::registered::{StoredRegistration, secret_expiry};

/// What an RP key is for (RFC 7517 §4.2 "use", plus relier's entity class).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyUse {
    /// Signing client assertions and request objects ("sig").
    Sig,
    /// Decrypting what the OP encrypts to the RP: ID tokens, UserInfo ("enc").
    Enc,
    /// A long-lived entity key ("entity"): signs only the RP's entity statement and its signed
    /// JWK set (OpenID Federation 1.0 §3, §5.2.1). Never used for client assertions, request
    /// objects or decryption, and never in the ordinary JWKS.
    Entity,
}

impl KeyUse {
    /// "sig", "enc" or "entity" (the stored form).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUse::Sig => "sig",
            KeyUse::Enc => "enc",
            KeyUse::Entity => "entity",
        }
    }

    /// The use whose stored form is `s`; `None` for anything else.
    #[must_use]
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "sig" => Some(KeyUse::Sig),
            "enc" => Some(KeyUse::Enc),
            "entity" => Some(KeyUse::Entity),
            _ => None,
        }
    }

    /// The JWK "use" member a published key of this use carries (RFC 7517 §4.2): an entity key
    /// signs, so "sig".
    #[must_use]
    pub fn jwk_use(self) -> &'static str {
        match self {
            KeyUse::Sig | KeyUse::Entity => "sig",
            KeyUse::Enc => "enc",
        }
    }
}

impl fmt::Display for KeyUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The algorithm of an RP key with its use: a JWS algorithm for a signing or entity key, or a
/// JWE key-management algorithm for an encryption key. The two IANA registries (RFC 7518 §3.1
/// and §4.1) do not share a name; an entity key is told from a signing key by its stored use.
/// Serializes as the algorithm name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlg {
    /// A signing key (RS*, PS*, ES*, EdDSA).
    Sig(Algorithm),
    /// An encryption key (RSA-OAEP, RSA-OAEP-256, ECDH-ES, ECDH-ES+A128KW, ECDH-ES+A256KW).
    Enc(KeyManagementAlg),
    /// An entity key (RS256 for the Finnish Trust Network): signs only the entity statement
    /// and the signed JWK set.
    Entity(Algorithm),
}

impl KeyAlg {
    /// The registered algorithm name (the stored form).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlg::Sig(a) | KeyAlg::Entity(a) => a.as_str(),
            KeyAlg::Enc(a) => a.as_str(),
        }
    }

    /// sig, enc or entity.
    #[must_use]
    pub fn key_use(self) -> KeyUse {
        match self {
            KeyAlg::Sig(_) => KeyUse::Sig,
            KeyAlg::Enc(_) => KeyUse::Enc,
            KeyAlg::Entity(_) => KeyUse::Entity,
        }
    }

    /// The key algorithm for a stored (`use`, `alg`) pair: `alg` must be of the use's registry
    /// (a JWS algorithm for sig and entity, a key-management algorithm for enc).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for an unknown name or one of the other registry.
    pub fn with_use(key_use: KeyUse, alg: &str) -> Result<Self, StoreError> {
        let parsed: KeyAlg = alg.parse()?;
        match (key_use, parsed) {
            (KeyUse::Sig, KeyAlg::Sig(_)) | (KeyUse::Enc, KeyAlg::Enc(_)) => Ok(parsed),
            (KeyUse::Entity, KeyAlg::Sig(a)) => Ok(KeyAlg::Entity(a)),
            (wanted, other) => Err(StoreError::Invalid {
                what: "key algorithm",
                reason: format!("{other} is for {} keys, not {wanted} keys", other.key_use()),
            }),
        }
    }

    /// Whether the key is RSA (RS*, PS*, RSA-OAEP*).
    #[must_use]
    pub fn is_rsa(self) -> bool {
        match self {
            KeyAlg::Sig(a) | KeyAlg::Entity(a) => a.is_rsa(),
            KeyAlg::Enc(a) => a.is_rsa(),
        }
    }

    /// The signing algorithm, for a signing key (not for an entity key).
    #[must_use]
    pub fn sig(self) -> Option<Algorithm> {
        match self {
            KeyAlg::Sig(a) => Some(a),
            KeyAlg::Enc(_) | KeyAlg::Entity(_) => None,
        }
    }

    /// The key-management algorithm, for an encryption key.
    #[must_use]
    pub fn enc(self) -> Option<KeyManagementAlg> {
        match self {
            KeyAlg::Sig(_) | KeyAlg::Entity(_) => None,
            KeyAlg::Enc(a) => Some(a),
        }
    }

    /// The signing algorithm, for an entity key.
    #[must_use]
    pub fn entity(self) -> Option<Algorithm> {
        match self {
            KeyAlg::Entity(a) => Some(a),
            KeyAlg::Sig(_) | KeyAlg::Enc(_) => None,
        }
    }
}

impl From<Algorithm> for KeyAlg {
    fn from(alg: Algorithm) -> Self {
        KeyAlg::Sig(alg)
    }
}

impl From<KeyManagementAlg> for KeyAlg {
    fn from(alg: KeyManagementAlg) -> Self {
        KeyAlg::Enc(alg)
    }
}

impl PartialEq<Algorithm> for KeyAlg {
    fn eq(&self, other: &Algorithm) -> bool {
        *self == KeyAlg::Sig(*other)
    }
}

impl PartialEq<KeyManagementAlg> for KeyAlg {
    fn eq(&self, other: &KeyManagementAlg) -> bool {
        *self == KeyAlg::Enc(*other)
    }
}

impl fmt::Display for KeyAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyAlg {
    type Err = StoreError;
    /// A JWS algorithm name (a signing key), else a JWE key-management algorithm name; an
    /// entity key's algorithm is read with [`KeyAlg::with_use`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(a) = Algorithm::from_str(s) {
            return Ok(KeyAlg::Sig(a));
        }
        KeyManagementAlg::from_str(s)
            .map(KeyAlg::Enc)
            .map_err(|_| StoreError::Invalid {
                what: "key algorithm",
                reason: format!("unknown algorithm {s:?}"),
            })
    }
}

impl Serialize for KeyAlg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Metadata of one RP key (never key material). Serializes with exactly these member names
/// (plus `use`, "sig", "enc" or "entity"); `state` is lowercase, `alg` its JWS or JWE name, times unix
/// seconds or null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key ID: the RFC 7638 SHA-256 JWK thumbprint of the public key.
    pub kid: String,
    /// The JWS algorithm the key signs with, or the JWE key-management algorithm it decrypts
    /// with.
    pub alg: KeyAlg,
    /// next / active / retired.
    pub state: KeyState,
    /// When the key was generated.
    pub created_at: u64,
    /// For a `next` key: when it becomes active (at the first `advance_keys` at or after it).
    pub activates_at: Option<u64>,
    /// When the key was retired.
    pub retired_at: Option<u64>,
    /// For a retired key: the end of its grace period (still published in the JWKS until then;
    /// `remove_key` refuses it until then unless forced).
    pub grace_until: Option<u64>,
}

impl KeyInfo {
    /// sig, enc or entity.
    #[must_use]
    pub fn key_use(&self) -> KeyUse {
        self.alg.key_use()
    }
}

impl Serialize for KeyInfo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("KeyInfo", 8)?;
        st.serialize_field("kid", &self.kid)?;
        st.serialize_field("use", &self.alg.key_use())?;
        st.serialize_field("alg", &self.alg)?;
        st.serialize_field("state", &self.state)?;
        st.serialize_field("created_at", &self.created_at)?;
        st.serialize_field("activates_at", &self.activates_at)?;
        st.serialize_field("retired_at", &self.retired_at)?;
        st.serialize_field("grace_until", &self.grace_until)?;
        st.end()
    }
}

/// What `advance_keys` changed, for the CLI to report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyChange {
    /// The key.
    pub kid: String,
    /// Its algorithm.
    pub alg: KeyAlg,
    /// The state before.
    pub from: KeyState,
    /// The state after.
    pub to: KeyState,
}

/// How the RP's public keys reach the OP for this registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JwksMode {
    /// The JWKS was registered inline (`jwks` client metadata).
    Inline,
    /// The OP fetches the RP's `jwks_uri`.
    Uri,
}

impl JwksMode {
    /// "inline" or "uri" (the stored form).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            JwksMode::Inline => "inline",
            JwksMode::Uri => "uri",
        }
    }
}

impl fmt::Display for JwksMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JwksMode {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "inline" => Ok(JwksMode::Inline),
            "uri" => Ok(JwksMode::Uri),
            other => Err(StoreError::Invalid {
                what: "jwks mode",
                reason: format!("{other:?} is neither \"inline\" nor \"uri\""),
            }),
        }
    }
}

/// One OP this RP is registered with, secrets included (decrypted). `Debug` redacts the
/// secrets (they are [`Secret`]s); there is deliberately no `Serialize` — use
/// [`ProviderRecord::info`] for output.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderRecord {
    /// Local name: 1–64 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit.
    pub name: String,
    /// The OP's issuer identifier.
    pub issuer: String,
    /// The client_id at this OP.
    pub client_id: String,
    /// Token-endpoint authentication method.
    pub auth_method: AuthMethod,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Scopes to request, space-separated (e.g. "openid profile email").
    pub scopes: String,
    /// Expected ID token signing algorithm (`id_token_signed_response_alg`), if pinned.
    pub id_token_alg: Option<Algorithm>,
    /// Client assertion algorithm for private_key_jwt / client_secret_jwt.
    pub signing_alg: Option<Algorithm>,
    /// How the RP's JWKS was registered, if at all.
    pub jwks_mode: Option<JwksMode>,
    /// The RP's registered jwks_uri (with [`JwksMode::Uri`]).
    pub jwks_uri: Option<String>,
    /// Client certificate (PEM) for tls_client_auth / self_signed_tls_client_auth.
    pub tls_cert_path: Option<PathBuf>,
    /// Its private key (PEM).
    pub tls_key_path: Option<PathBuf>,
    /// RFC 7592 client configuration endpoint.
    pub registration_client_uri: Option<String>,
    /// The OP's discovery document as fetched.
    pub provider_metadata: Option<serde_json::Value>,
    /// What the client's registration decides, typed, with its `client_secret_expires_at`
    /// (`None`: no registration response, e.g. a provider added by hand). Read it through
    /// [`ProviderRecord::registered`].
    pub registration: Option<StoredRegistration>,
    /// The client secret (stored encrypted).
    pub client_secret: Option<Secret>,
    /// The RFC 7592 registration access token (stored encrypted).
    pub registration_access_token: Option<Secret>,
    /// Set by the store on insert (ignored by `put_provider`; kept on replace).
    pub created_at: u64,
    /// Set by the store on every put (ignored by `put_provider`).
    pub updated_at: u64,
}

impl ProviderRecord {
    /// A record with the required fields; everything else empty, times 0 (set by the store).
    #[must_use]
    pub fn new(
        name: impl Into<String>,
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        auth_method: AuthMethod,
    ) -> Self {
        ProviderRecord {
            name: name.into(),
            issuer: issuer.into(),
            client_id: client_id.into(),
            auth_method,
            redirect_uris: Vec::new(),
            scopes: "openid".to_owned(),
            id_token_alg: None,
            signing_alg: None,
            jwks_mode: None,
            jwks_uri: None,
            tls_cert_path: None,
            tls_key_path: None,
            registration_client_uri: None,
            provider_metadata: None,
            registration: None,
            client_secret: None,
            registration_access_token: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    /// The public view (no secrets), for listing and JSON output.
    #[must_use]
    pub fn info(&self) -> ProviderInfo {
        ProviderInfo {
            client_secret_expires_at: secret_expiry(self.registration.as_ref()),
            name: self.name.clone(),
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            auth_method: self.auth_method,
            redirect_uris: self.redirect_uris.clone(),
            registration_client_uri: self.registration_client_uri.clone(),
            scopes: self.scopes.clone(),
            jwks_mode: self.jwks_mode,
            jwks_uri: self.jwks_uri.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The secret-free view of a provider, for `providers list` / JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderInfo {
    /// Local name.
    pub name: String,
    /// Issuer identifier.
    pub issuer: String,
    /// client_id.
    pub client_id: String,
    /// Token-endpoint authentication method (registered name, e.g. "private_key_jwt").
    pub auth_method: AuthMethod,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// RFC 7592 client configuration endpoint.
    pub registration_client_uri: Option<String>,
    /// Scopes, space-separated.
    pub scopes: String,
    /// "inline", "uri" or null.
    pub jwks_mode: Option<JwksMode>,
    /// The RP's registered jwks_uri.
    pub jwks_uri: Option<String>,
    /// When the OP-issued client secret expires (RFC 7591 §3.2.1 `client_secret_expires_at`
    /// from the registration response; `None`: no such secret, or it never expires).
    pub client_secret_expires_at: Option<u64>,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds.
    pub updated_at: u64,
}

/// Checks a provider name: 1–64 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or
/// digit (it is used on command lines, in file names and in encryption associated data).
///
/// # Errors
/// [`StoreError::Invalid`].
pub fn validate_provider_name(name: &str) -> Result<(), StoreError> {
    let invalid = |reason: &str| StoreError::Invalid {
        what: "provider name",
        reason: format!("{name:?}: {reason}"),
    };
    if name.is_empty() || name.len() > 64 {
        return Err(invalid("must be 1 to 64 characters"));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(invalid("must start with a letter or digit"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(invalid("only A-Z a-z 0-9 . _ - are allowed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_info_serializes_with_exact_members() {
        let info = KeyInfo {
            kid: "k".into(),
            alg: Algorithm::ES256.into(),
            state: KeyState::Retired,
            created_at: 1,
            activates_at: None,
            retired_at: Some(2),
            grace_until: Some(3),
        };
        let v = serde_json::to_value(&info).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kid":"k","use":"sig","alg":"ES256","state":"retired","created_at":1,
                "activates_at":null,"retired_at":2,"grace_until":3})
        );
    }

    #[test]
    fn key_algs_parse_by_registry() {
        let sig: KeyAlg = "PS256".parse().unwrap();
        assert_eq!(sig, Algorithm::PS256);
        assert_eq!(sig.key_use(), KeyUse::Sig);
        let enc: KeyAlg = "RSA-OAEP-256".parse().unwrap();
        assert_eq!(enc, KeyManagementAlg::RsaOaep256);
        assert_eq!(enc.key_use(), KeyUse::Enc);
        assert!(enc.is_rsa());
        assert_eq!(enc.to_string(), "RSA-OAEP-256");
        assert!("nope".parse::<KeyAlg>().is_err());
    }

    #[test]
    fn entity_keys_are_their_own_use() {
        let entity = KeyAlg::with_use(KeyUse::Entity, "RS256").unwrap();
        assert_eq!(entity, KeyAlg::Entity(Algorithm::RS256));
        assert_ne!(entity, KeyAlg::Sig(Algorithm::RS256));
        assert_eq!(entity.key_use(), KeyUse::Entity);
        assert_eq!(entity.as_str(), "RS256");
        assert_eq!(entity.sig(), None);
        assert_eq!(entity.entity(), Some(Algorithm::RS256));
        assert_eq!(KeyUse::Entity.jwk_use(), "sig");
        assert_eq!(KeyUse::from_stored("entity"), Some(KeyUse::Entity));
        assert!(KeyAlg::with_use(KeyUse::Entity, "RSA-OAEP").is_err());
        assert!(KeyAlg::with_use(KeyUse::Enc, "RS256").is_err());
        assert!(KeyAlg::with_use(KeyUse::Sig, "RSA-OAEP").is_err());
        let info = KeyInfo {
            kid: "k".into(),
            alg: entity,
            state: KeyState::Active,
            created_at: 1,
            activates_at: None,
            retired_at: None,
            grace_until: None,
        };
        let v = serde_json::to_value(&info).unwrap();
        assert_eq!(v["use"], "entity");
        assert_eq!(v["alg"], "RS256");
    }

    #[test]
    fn provider_info_has_no_secrets() {
        let mut r = ProviderRecord::new("op", "https://op", "c", AuthMethod::ClientSecretBasic);
        r.client_secret = Some(Secret::new("s3cr3t-value"));
        r.registration_access_token = Some(Secret::new("rat-value"));
        r.jwks_mode = Some(JwksMode::Uri);
        let json = serde_json::to_string(&r.info()).unwrap();
        assert!(!json.contains("s3cr3t"));
        assert!(!json.contains("rat-value"));
        assert!(json.contains("\"jwks_mode\":\"uri\""));
        assert!(json.contains("\"auth_method\":\"client_secret_basic\""));
        assert!(!format!("{r:?}").contains("s3cr3t"));
    }

    #[test]
    fn provider_names() {
        for ok in ["google", "op-1", "a.b_c", "9x"] {
            assert!(validate_provider_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-x", "a b", "a:b", "é", &"x".repeat(65)] {
            assert!(validate_provider_name(bad).is_err(), "{bad}");
        }
    }
}
