//! ID token validation: every step of OIDC Core §3.1.3.7, the at_hash check of §3.1.3.8, and the
//! refresh rules of §12.2. [`VerifiedIdToken`] can only be built by passing all of them.

use std::fmt;
use std::sync::OnceLock;

use relier_jose::members::{RawValue, object_members};
use relier_jose::{Algorithm, VerifyingKey};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::encryption::{DecryptError, Decryptor};
use crate::entra::{TenantError, TenantPolicy};
use crate::jwks::KeySet;
use crate::jwt::{JwtError, JwtPolicy, unsigned_jwt_payload, verify_jwt_payload};
use crate::secret::Secret;
use crate::types::{ClientId, IssuerUrl, Nonce, UnixTime};

mod pinned;

pub use pinned::{IdTokenAlg, IdTokenSource, OverTls, RegisteredNone};

/// Default allowed clock skew, seconds.
pub const DEFAULT_CLOCK_SKEW_SECS: u64 = 60;
/// Largest clock skew relier accepts as configuration.
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;

/// Why an ID token was rejected. Messages name the failed check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenError {
    /// Signature, algorithm, key selection or structure.
    #[error("id_token: {0}")]
    Jwt(#[from] JwtError),
    /// OIDC Core §10.2: the registered encryption was not applied, or decryption failed.
    #[error("id_token: {0}")]
    Decryption(#[from] DecryptError),
    /// OIDC Core §2, §3.1.3.7 (6): the client registered `none`, and this token did not come
    /// straight from the token endpoint over TLS, where only TLS authenticates the issuer.
    #[error(
        "id_token: alg none is accepted only in a token endpoint response over TLS (OIDC Core §3.1.3.7 (6))"
    )]
    UnsignedElsewhere,
    /// §3.1.3.7 (2).
    #[error("id_token: iss mismatch: expected {expected}, got {got}")]
    IssuerMismatch {
        /// The OP's issuer identifier.
        expected: String,
        /// The token's `iss`.
        got: String,
    },
    /// Microsoft Entra ID multi-tenant login ([`crate::entra`]): the token's tenant is not
    /// among the allowed ones.
    #[error("id_token: tenant (tid) {tid} is not allowed")]
    TenantNotAllowed {
        /// The token's tenant id.
        tid: String,
    },
    /// OIDC Core §2: a required claim is absent.
    #[error("id_token: required claim {claim} is missing")]
    MissingClaim {
        /// The name of the missing claim.
        claim: &'static str,
    },
    /// A claim has the wrong JSON type or an impossible value.
    #[error("id_token: claim {claim} is invalid: {reason}")]
    InvalidClaim {
        /// The name of the invalid claim.
        claim: &'static str,
        /// What is wrong with its value.
        reason: &'static str,
    },
    /// §3.1.3.7 (3).
    #[error("id_token: aud mismatch: {client_id} is not in {aud:?}")]
    AudienceMismatch {
        /// The RP's client ID, which `aud` must contain.
        client_id: String,
        /// The token's `aud` values.
        aud: Vec<String>,
    },
    /// §3.1.3.7 (3): additional audiences not trusted by the client.
    #[error("id_token: untrusted audience {aud}")]
    UntrustedAudience {
        /// The `aud` value the client does not trust.
        aud: String,
    },
    /// §3.1.3.7 (4): several audiences and no azp.
    #[error("id_token: azp is required when aud has several values")]
    MissingAzp,
    /// §3.1.3.7 (5).
    #[error("id_token: azp mismatch: expected {expected}, got {got}")]
    AzpMismatch {
        /// The RP's client ID.
        expected: String,
        /// The token's `azp`.
        got: String,
    },
    /// §3.1.3.7 (9).
    #[error("id_token: expired at {exp} (now {now}, skew {skew}s)")]
    Expired {
        /// The token's `exp` (seconds since the epoch).
        exp: u64,
        /// The current time (seconds since the epoch).
        now: u64,
        /// The clock skew allowed, in seconds.
        skew: u64,
    },
    /// §3.1.3.7 (10): iat in the future beyond the skew.
    #[error("id_token: iat {iat} is in the future (now {now}, skew {skew}s)")]
    IssuedInFuture {
        /// The token's `iat` (seconds since the epoch).
        iat: u64,
        /// The current time (seconds since the epoch).
        now: u64,
        /// The clock skew allowed, in seconds.
        skew: u64,
    },
    /// §3.1.3.7 (11): a nonce was sent and the token has none.
    #[error("id_token: nonce is missing")]
    MissingNonce,
    /// §3.1.3.7 (11).
    #[error("id_token: nonce mismatch")]
    NonceMismatch,
    /// §3.1.3.7 (13): max_age was requested and auth_time is absent.
    #[error("id_token: auth_time is missing but max_age was requested")]
    MissingAuthTime,
    /// §3.1.3.7 (13).
    #[error("id_token: auth_time {auth_time} is older than max_age {max_age}s (now {now})")]
    AuthTooOld {
        /// The token's `auth_time` (seconds since the epoch).
        auth_time: u64,
        /// The `max_age` the authorization request sent, in seconds.
        max_age: u64,
        /// The current time (seconds since the epoch).
        now: u64,
    },
    /// §3.1.3.8 (3).
    #[error("id_token: at_hash mismatch")]
    AtHashMismatch,
    /// §12.2: a refreshed ID token changed a claim that must stay the same.
    #[error("id_token: refreshed token changed {claim}: was {before}, now {after}")]
    RefreshChanged {
        /// The name of the claim that changed.
        claim: &'static str,
        /// Its value in the previous ID token.
        before: String,
        /// Its value in the refreshed ID token.
        after: String,
    },
}

impl IdTokenError {
    /// True when a JWKS refetch could help (unknown `kid`).
    pub fn is_refetchable(&self) -> bool {
        matches!(self, IdTokenError::Jwt(e) if e.is_refetchable())
    }

    /// The key a JWKS refetch would look for, when one could help.
    pub fn missing_key(&self) -> Option<crate::jwks::MissingKey> {
        match self {
            IdTokenError::Jwt(e) => e.missing_key(),
            _ => None,
        }
    }
}

/// The registered claims relier checks, typed; every other claim is parsed on demand
/// ([`IdTokenClaims::all`], [`IdTokenClaims::deserialize`]) from the verified payload.
#[derive(Debug, Clone)]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Subject.
    pub sub: String,
    /// Audiences (a single string becomes one element).
    pub aud: Vec<String>,
    /// Expiry.
    pub exp: u64,
    /// Issued at.
    pub iat: u64,
    /// Time of authentication.
    pub auth_time: Option<u64>,
    /// Nonce.
    pub nonce: Option<String>,
    /// Authorized party.
    pub azp: Option<String>,
    /// Access token hash.
    pub at_hash: Option<String>,
    /// Session id (Front/Back-Channel Logout).
    pub sid: Option<String>,
    payload: Vec<u8>,
    all: OnceLock<Map<String, Value>>,
}

/// The registered claims relier reads, in the order [`IdTokenClaims::from_json`] unpacks them.
/// Every other member is checked against the JSON grammar and skipped without being built.
const REGISTERED: [&str; 10] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "azp",
    "at_hash",
    "sid",
];

impl From<TenantError> for IdTokenError {
    fn from(e: TenantError) -> Self {
        match e {
            TenantError::MissingTid => IdTokenError::MissingClaim { claim: "tid" },
            TenantError::InvalidTid { reason } => IdTokenError::InvalidClaim {
                claim: "tid",
                reason,
            },
            TenantError::NotAllowed { tid } => IdTokenError::TenantNotAllowed { tid },
        }
    }
}

fn numeric_date(v: Option<RawValue<'_>>, claim: &'static str) -> Result<Option<u64>, IdTokenError> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    if let Some(u) = v.plain_u64() {
        return Ok(Some(u));
    }
    if !v.is_number() {
        return Err(IdTokenError::InvalidClaim {
            claim,
            reason: "not a number",
        });
    }
    // RFC 7519 §2: NumericDate is a JSON number, possibly non-integer.
    let n = v.value().map_err(|e| malformed(e.to_string()))?;
    match n.as_f64() {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "finite, non-negative, below 2^53: fraction truncated"
        )]
        Some(f) if f.is_finite() && (0.0..9.0e15).contains(&f) => Ok(Some(f as u64)),
        _ => Err(IdTokenError::InvalidClaim {
            claim,
            reason: "not a non-negative NumericDate",
        }),
    }
}

fn opt_string(
    v: Option<RawValue<'_>>,
    claim: &'static str,
) -> Result<Option<String>, IdTokenError> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    match v.string().map_err(|e| malformed(e.to_string()))? {
        Some(s) => Ok(Some(s.into_owned())),
        None => Err(IdTokenError::InvalidClaim {
            claim,
            reason: "not a string",
        }),
    }
}

fn audiences(v: Option<RawValue<'_>>) -> Result<Vec<String>, IdTokenError> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Err(IdTokenError::MissingClaim { claim: "aud" });
    };
    if let Some(s) = v.string().map_err(|e| malformed(e.to_string()))? {
        return Ok(vec![s.into_owned()]);
    }
    match v.value().map_err(|e| malformed(e.to_string()))? {
        Value::Array(a) => a
            .into_iter()
            .map(|x| match x {
                Value::String(s) => Ok(s),
                _ => Err(IdTokenError::InvalidClaim {
                    claim: "aud",
                    reason: "array members must be strings",
                }),
            })
            .collect(),
        _ => Err(IdTokenError::InvalidClaim {
            claim: "aud",
            reason: "must be a string or an array of strings",
        }),
    }
}

fn malformed(reason: String) -> IdTokenError {
    IdTokenError::Jwt(JwtError::Malformed(reason))
}

impl IdTokenClaims {
    /// Extract and type-check the registered claims (OIDC Core §2) of a JSON claims object.
    pub fn from_json(payload: Vec<u8>) -> Result<Self, IdTokenError> {
        // RFC 7519 §7.2 (10): the claims are a JSON object; RFC 8259 §8.1: in UTF-8.
        let text = std::str::from_utf8(&payload)
            .map_err(|_| malformed("payload is not UTF-8 JSON".into()))?;
        let [iss, sub, aud, exp, iat, auth_time, nonce, azp, at_hash, sid] =
            object_members(text, &REGISTERED)
                .map_err(|e| malformed(format!("payload is not a valid claims object: {e}")))?
                .wanted;
        let iss = opt_string(iss, "iss")?.ok_or(IdTokenError::MissingClaim { claim: "iss" })?;
        let sub = opt_string(sub, "sub")?.ok_or(IdTokenError::MissingClaim { claim: "sub" })?;
        if sub.is_empty() || sub.len() > 255 {
            // OIDC Core §2: sub MUST NOT exceed 255 ASCII characters.
            return Err(IdTokenError::InvalidClaim {
                claim: "sub",
                reason: "must be 1-255 characters",
            });
        }
        let aud = audiences(aud)?;
        let exp = numeric_date(exp, "exp")?.ok_or(IdTokenError::MissingClaim { claim: "exp" })?;
        let iat = numeric_date(iat, "iat")?.ok_or(IdTokenError::MissingClaim { claim: "iat" })?;
        Ok(Self {
            iss,
            sub,
            aud,
            exp,
            iat,
            auth_time: numeric_date(auth_time, "auth_time")?,
            nonce: opt_string(nonce, "nonce")?,
            azp: opt_string(azp, "azp")?,
            at_hash: opt_string(at_hash, "at_hash")?,
            sid: opt_string(sid, "sid")?,
            payload,
            all: OnceLock::new(),
        })
    }

    /// The claims of a compact ID token that was validated earlier (kept in a session, saved
    /// by `relier login`), e.g. as the `original` of OIDC Core §12.2. The signature is NOT
    /// checked again: never use this on a token that did not pass [`IdTokenValidator::validate`].
    pub fn of_validated_token(token: &str) -> Result<Self, IdTokenError> {
        let jws =
            relier_jose::jws::UnverifiedJws::parse(token).map_err(|e| malformed(e.to_string()))?;
        Self::from_json(jws.unverified_payload().to_vec())
    }

    /// Every claim as received, parsed on first use and kept.
    ///
    /// # Errors
    /// A payload that passed validation can still hold JSON a full parse refuses (e.g. an
    /// unpaired UTF-16 surrogate escape in a claim relier does not check).
    pub fn all(&self) -> Result<&Map<String, Value>, IdTokenError> {
        if let Some(all) = self.all.get() {
            return Ok(all);
        }
        let parsed: Map<String, Value> = self.deserialize()?;
        // Another thread may have set it first; both parses are equal.
        Ok(self.all.get_or_init(|| parsed))
    }

    /// The claims deserialized into a type of the caller's (e.g. the OP's extra claims).
    ///
    /// # Errors
    /// The claims do not fit `T`.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, IdTokenError> {
        serde_json::from_slice(&self.payload)
            .map_err(|e| malformed(format!("claims do not fit the requested type: {e}")))
    }

    /// One claim by name (parses every claim on first use, see [`Self::all`]); `None` when
    /// absent or when the claims cannot be parsed.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.all().ok()?.get(name)
    }
}

/// An ID token that passed every check. Only [`IdTokenValidator::validate`] builds one.
#[derive(Clone)]
pub struct VerifiedIdToken {
    claims: IdTokenClaims,
    alg: Algorithm,
    raw: Secret,
}

impl VerifiedIdToken {
    /// The validated claims.
    pub fn claims(&self) -> &IdTokenClaims {
        &self.claims
    }

    /// The algorithm it was verified with.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The compact signed token (for `id_token_hint`): for an encrypted ID token, the nested
    /// JWS it decrypted to.
    pub fn raw(&self) -> &Secret {
        &self.raw
    }
}

impl fmt::Debug for VerifiedIdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedIdToken")
            .field("iss", &self.claims.iss)
            .field("sub", &self.claims.sub)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// What the RP expects of one particular ID token.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expectations<'a> {
    /// The nonce sent in the authorization request.
    pub nonce: Option<&'a Nonce>,
    /// The max_age sent.
    pub max_age: Option<u64>,
    /// The access token issued with the ID token, for at_hash.
    pub access_token: Option<&'a Secret>,
    /// Where the token came from (default: [`IdTokenSource::Elsewhere`]). Only a token from the
    /// token endpoint over TLS can be unsigned, and only for a client that registered `none`.
    pub source: IdTokenSource,
}

/// The RP's fixed validation settings for one OP.
#[derive(Clone)]
pub struct IdTokenValidator {
    issuer: IssuerUrl,
    client_id: ClientId,
    alg: IdTokenAlg,
    hmac_key: Option<VerifyingKey>,
    skew: u64,
    trusted_audiences: Vec<String>,
    tenants: Option<TenantPolicy>,
    decryptor: Option<Decryptor>,
}

impl fmt::Debug for IdTokenValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenValidator")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("alg", &self.alg)
            .field("skew", &self.skew)
            .field("decryptor", &self.decryptor)
            .finish_non_exhaustive()
    }
}

impl IdTokenValidator {
    /// RS256 expected (OIDC Core §3.1.3.7 (7) default), 60 s skew.
    pub fn new(issuer: IssuerUrl, client_id: ClientId) -> Self {
        Self {
            issuer,
            client_id,
            alg: IdTokenAlg::default(),
            hmac_key: None,
            skew: DEFAULT_CLOCK_SKEW_SECS,
            trusted_audiences: Vec::new(),
            tenants: None,
            decryptor: None,
        }
    }

    /// The client registered `id_token_encrypted_response_alg`/`_enc` (OIDC Registration §2):
    /// every ID token MUST then be a JWE with exactly these algorithms, decrypted with the RP's
    /// keys, its nested JWS validated as an unencrypted token is (OIDC Core §10.2).
    pub fn with_decryption(mut self, decryptor: Decryptor) -> Self {
        self.decryptor = Some(decryptor);
        self
    }

    /// The issuer is a Microsoft Entra ID multi-tenant template (`…/{tenantid}/v2.0`): the
    /// token's `iss` must be the template with its own `tid` put in, and `tid` must pass
    /// `policy` ([`crate::entra`]). Replaces the exact comparison of §3.1.3.7 (2).
    pub fn with_tenants(mut self, policy: TenantPolicy) -> Self {
        self.tenants = Some(policy);
        self
    }

    /// The registered `id_token_signed_response_alg`, a signing one: `Algorithm::None` here
    /// refuses every token (unsigned ID tokens take [`Self::with_registered_alg`]).
    pub fn with_alg(mut self, alg: Algorithm) -> Self {
        self.alg = IdTokenAlg::Signed(alg);
        self
    }

    /// The registered `id_token_signed_response_alg` as pinned: [`IdTokenAlg::None`] accepts
    /// unsigned ID tokens from the token endpoint over TLS, and only those (OIDC Core §2).
    pub fn with_registered_alg(mut self, alg: IdTokenAlg) -> Self {
        self.alg = alg;
        self
    }

    /// The client secret, for HS256/384/512 ID tokens (OIDC Core §10.1).
    pub fn with_client_secret(mut self, secret: &Secret) -> Self {
        self.hmac_key = Some(VerifyingKey::hmac(secret.expose().as_bytes()));
        self
    }

    /// Allowed clock skew in seconds (capped at [`MAX_CLOCK_SKEW_SECS`]).
    pub fn with_clock_skew(mut self, secs: u64) -> Self {
        self.skew = secs.min(MAX_CLOCK_SKEW_SECS);
        self
    }

    /// Audiences besides the client_id that this RP trusts (§3.1.3.7 (3)).
    pub fn with_trusted_audiences(mut self, auds: Vec<String>) -> Self {
        self.trusted_audiences = auds;
        self
    }

    /// The registered encryption and the RP's keys, if ID tokens are encrypted.
    pub fn decryption(&self) -> Option<&Decryptor> {
        self.decryptor.as_ref()
    }

    /// The expected issuer.
    pub fn issuer(&self) -> &IssuerUrl {
        &self.issuer
    }

    /// A multi-tenant Entra ID provider's tenants (`None`: the issuer is compared exactly).
    pub fn tenants(&self) -> Option<&TenantPolicy> {
        self.tenants.as_ref()
    }

    /// The expected algorithm (`none` for a client that registered unsigned ID tokens).
    pub fn alg(&self) -> Algorithm {
        self.alg.algorithm()
    }

    /// The expected algorithm, as pinned.
    pub fn registered_alg(&self) -> IdTokenAlg {
        self.alg
    }

    /// The JWT policy (alg, HMAC key) — also used for signed UserInfo and logout tokens. It
    /// never accepts `alg: none`: under a `none` registration it refuses every token (Back-
    /// Channel Logout 1.0 §2.4: logout tokens MUST be signed).
    pub fn policy(&self) -> JwtPolicy<'_> {
        JwtPolicy {
            alg: self.alg.algorithm(),
            hmac_key: self.hmac_key.as_ref(),
        }
    }

    /// Validate an ID token from a token response (OIDC Core §3.1.3.7).
    pub fn validate(
        &self,
        token: &str,
        keys: &KeySet,
        expect: &Expectations<'_>,
        now: UnixTime,
    ) -> Result<VerifiedIdToken, IdTokenError> {
        // (1) "If the ID Token is encrypted, decrypt it using the keys and algorithms that the
        // Client specified during Registration"; when none were registered, an encrypted token
        // is refused inside verify_jwt. OIDC Core §10.2: the plaintext is the signed ID token.
        let decrypted;
        let token = match &self.decryptor {
            Some(d) => {
                decrypted = d.decrypt(token)?;
                decrypted.as_str()
            }
            None => token,
        };
        // (6)(7)(8) signature with the pinned alg.
        let payload = match (self.alg, expect.source) {
            (IdTokenAlg::Signed(_), _) => verify_jwt_payload(token, keys, self.policy())?,
            // (6) "If the ID Token is received via direct communication between the Client and
            // the Token Endpoint […], the TLS server validation MAY be used to validate the
            // issuer in place of checking the token signature"; §2: only when the client
            // registered `none`. (7) then pins `none`; RFC 7518 §3.6: an empty signature.
            (IdTokenAlg::None(_), IdTokenSource::TokenEndpoint(_)) => unsigned_jwt_payload(token)?,
            (IdTokenAlg::None(_), IdTokenSource::Elsewhere) => {
                return Err(IdTokenError::UnsignedElsewhere);
            }
        };
        let c = IdTokenClaims::from_json(payload)?;
        self.check_claims(&c, expect, now)?;
        // The signed (inner) token: RP-Initiated Logout §2 wants the decrypted one as
        // id_token_hint.
        Ok(VerifiedIdToken {
            claims: c,
            alg: self.alg.algorithm(),
            raw: Secret::new(token),
        })
    }

    fn check_claims(
        &self,
        c: &IdTokenClaims,
        expect: &Expectations<'_>,
        now: UnixTime,
    ) -> Result<(), IdTokenError> {
        let cid = self.client_id.as_str();
        // (2) iss MUST exactly match the issuer identifier (a multi-tenant template: with
        // the token's own tenant put in).
        let expected = match &self.tenants {
            None => std::borrow::Cow::Borrowed(self.issuer.as_str()),
            Some(policy) => std::borrow::Cow::Owned(crate::entra::issuer_for_tid(
                self.issuer.as_str(),
                c.get("tid"),
                policy,
            )?),
        };
        if c.iss != *expected {
            return Err(IdTokenError::IssuerMismatch {
                expected: expected.into_owned(),
                got: c.iss.clone(),
            });
        }
        // (3) aud MUST contain client_id; additional audiences must be trusted.
        if !c.aud.iter().any(|a| a == cid) {
            return Err(IdTokenError::AudienceMismatch {
                client_id: cid.to_owned(),
                aud: c.aud.clone(),
            });
        }
        if let Some(other) = c
            .aud
            .iter()
            .find(|a| a.as_str() != cid && !self.trusted_audiences.contains(a))
        {
            return Err(IdTokenError::UntrustedAudience { aud: other.clone() });
        }
        // (4) several audiences: azp is required.
        if c.aud.len() > 1 && c.azp.is_none() {
            return Err(IdTokenError::MissingAzp);
        }
        // (5) azp, when present, MUST be the client_id.
        if let Some(azp) = &c.azp
            && azp != cid
        {
            return Err(IdTokenError::AzpMismatch {
                expected: cid.to_owned(),
                got: azp.clone(),
            });
        }
        // (9) now MUST be before exp (with the allowed skew).
        if now.0 >= c.exp.saturating_add(self.skew) {
            return Err(IdTokenError::Expired {
                exp: c.exp,
                now: now.0,
                skew: self.skew,
            });
        }
        // (10) iat: reject tokens issued in the future beyond the skew.
        if c.iat > now.0.saturating_add(self.skew) {
            return Err(IdTokenError::IssuedInFuture {
                iat: c.iat,
                now: now.0,
                skew: self.skew,
            });
        }
        // (11) nonce MUST be present and equal when one was sent.
        if let Some(sent) = expect.nonce {
            let got = c.nonce.as_deref().ok_or(IdTokenError::MissingNonce)?;
            if !sent.matches(got) {
                return Err(IdTokenError::NonceMismatch);
            }
        }
        // (12) acr is returned to the caller, which decides what is appropriate.
        // (13) max_age requested: auth_time MUST be present and recent enough.
        if let Some(max_age) = expect.max_age {
            let auth_time = c.auth_time.ok_or(IdTokenError::MissingAuthTime)?;
            if now.0 > auth_time.saturating_add(max_age).saturating_add(self.skew) {
                return Err(IdTokenError::AuthTooOld {
                    auth_time,
                    max_age,
                    now: now.0,
                });
            }
        }
        // §3.1.3.8: at_hash, when present, MUST match the access token. Under `none` no hash
        // is defined (§3.1.3.6 takes it from the alg): an at_hash then never matches.
        if let (Some(at_hash), Some(at)) = (&c.at_hash, expect.access_token)
            && !at_hash_matches(self.alg.algorithm(), at.expose(), at_hash)
        {
            return Err(IdTokenError::AtHashMismatch);
        }
        Ok(())
    }

    /// Validate an ID token returned by a refresh (OIDC Core §12.2): all of §3.1.3.7 except the
    /// nonce, then iss, sub, aud and azp unchanged, auth_time unchanged if present, and a nonce,
    /// if present, the original's. The one §12.2 check: the gateway's session refresh and
    /// `relier token refresh --id-token-file` both reach it through `RelyingParty::refresh`.
    /// `source`: the refresh response's token endpoint ([`IdTokenSource::token_endpoint`]).
    pub fn validate_refreshed(
        &self,
        token: &str,
        keys: &KeySet,
        original: &IdTokenClaims,
        access_token: Option<&Secret>,
        source: IdTokenSource,
        now: UnixTime,
    ) -> Result<VerifiedIdToken, IdTokenError> {
        let expect = Expectations {
            nonce: None,
            max_age: None,
            access_token,
            source,
        };
        let new = self.validate(token, keys, &expect, now)?;
        let n = &new.claims;
        let changed = |claim: &'static str, before: String, after: String| {
            Err(IdTokenError::RefreshChanged {
                claim,
                before,
                after,
            })
        };
        if n.iss != original.iss {
            return changed("iss", original.iss.clone(), n.iss.clone());
        }
        if n.sub != original.sub {
            return changed("sub", original.sub.clone(), n.sub.clone());
        }
        let mut a = n.aud.clone();
        let mut b = original.aud.clone();
        a.sort();
        b.sort();
        if a != b {
            return changed("aud", format!("{b:?}"), format!("{a:?}"));
        }
        if n.azp != original.azp {
            return changed("azp", format!("{:?}", original.azp), format!("{:?}", n.azp));
        }
        if let (Some(before), Some(after)) = (original.auth_time, n.auth_time)
            && before != after
        {
            return changed("auth_time", before.to_string(), after.to_string());
        }
        // §12.2 (errata set 2): a refreshed ID token SHOULD NOT carry a nonce; if it does, it
        // MUST be the one of the original ID token. The values stay out of the message.
        if let Some(after) = &n.nonce
            && original.nonce.as_deref() != Some(after.as_str())
        {
            let (before, after) = if original.nonce.is_some() {
                ("the original nonce", "another nonce")
            } else {
                ("absent", "a nonce")
            };
            return changed("nonce", before.to_owned(), after.to_owned());
        }
        Ok(new)
    }
}

/// OIDC Core §3.1.3.8: base64url of the left-most half of the hash of the ASCII access token,
/// the hash being the one of the ID token's JWS algorithm.
pub fn at_hash_matches(alg: Algorithm, access_token: &str, at_hash: &str) -> bool {
    let Some(digest) = alg.digest(access_token.as_bytes()) else {
        return false;
    };
    let Some(half) = digest.get(..digest.len() / 2) else {
        return false;
    };
    let expected = relier_jose::b64::encode(half);
    crate::secret::ct_eq(expected.as_bytes(), at_hash.as_bytes())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod differential_tests;

#[cfg(test)]
mod unsigned_tests;

#[cfg(test)]
mod conformance_tests;
