//! JWT Secured Authorization Response Mode ("JARM", OpenID Financial-grade API: JWT Secured
//! Authorization Response Mode for OAuth 2.0): the OP answers the authorization request with
//! one `response` parameter, a JWT it signed (and optionally encrypted to the RP) that carries
//! `code`, `state`, `error`… as claims.
//!
//! The client registers `authorization_signed_response_alg` (and optionally
//! `authorization_encrypted_response_alg`/`_enc`, JARM §3) and asks for it with
//! `response_mode=jwt` (`query.jwt`, `form_post.jwt`, JARM §2.3). [`JarmValidator::open`]
//! checks the response before anything in it is used (JARM §2.4): decryption with the
//! registered algorithms, the signature with the registered algorithm, `iss`, `aud`, `exp`; the
//! parameters inside then go through the usual callback checks ([`CallbackParams::validate`]).

use std::str::FromStr;

use relier_jose::{Algorithm, VerifyingKey};
use serde_json::{Map, Value};

use crate::authorize::{CallbackError, CallbackParams};
use crate::encryption::{
    DecryptError, Decryptor, EncryptedResponse, EncryptionConfigError, ResponseEncryption,
};
use crate::id_token::{DEFAULT_CLOCK_SKEW_SECS, MAX_CLOCK_SKEW_SECS};
use crate::jwks::KeySet;
use crate::jwt::{JwtError, JwtPolicy, verify_jwt};
use crate::secret::Secret;
use crate::types::{ClientId, IssuerUrl, UnixTime};

/// JARM §3: the registration metadata naming the signing algorithm.
pub const SIGNED_ALG_MEMBER: &str = "authorization_signed_response_alg";

/// JARM §3: "The default, if omitted, is RS256" (when encryption alone is registered).
pub const DEFAULT_ALG: Algorithm = Algorithm::RS256;

/// The authorization response parameters carried as claims (JARM §2.1, RFC 6749 §4.1.2,
/// RFC 9207 §2).
const PARAMETERS: [&str; 6] = [
    "code",
    "state",
    "iss",
    "error",
    "error_description",
    "error_uri",
];

/// Why a JARM response was refused. The token endpoint must not be called after any of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JarmError {
    /// JARM was registered and the callback has no `response` parameter (a plain response).
    #[error(
        "JARM: the callback has no response parameter, but {SIGNED_ALG_MEMBER} is registered (a plain authorization response is refused)"
    )]
    NotJwt,
    /// Decryption with the registered `authorization_encrypted_response_*` failed.
    #[error("JARM: {0}")]
    Decrypt(#[from] DecryptError),
    /// Structure, algorithm, key or signature (JARM §2.4 (3)).
    #[error("JARM: {0}")]
    Jwt(#[from] JwtError),
    /// JARM §2.4 (1): `iss` is not the issuer.
    #[error("JARM: iss mismatch: expected {expected}, got {got:?}")]
    IssMismatch {
        /// The issuer.
        expected: String,
        /// What the response said (truncated).
        got: String,
    },
    /// JARM §2.4 (2): `aud` does not contain the client_id.
    #[error("JARM: aud does not contain the client_id {client_id}")]
    AudMismatch {
        /// The client_id.
        client_id: String,
    },
    /// JARM §2.4 (3): `exp` is in the past.
    #[error("JARM: expired at {exp} (now {now}, skew {skew}s)")]
    Expired {
        /// `exp`.
        exp: u64,
        /// Now.
        now: u64,
        /// The allowed skew.
        skew: u64,
    },
    /// JARM §2.1: a required claim is missing, or a claim has the wrong type.
    #[error("JARM: claim {name} {reason}")]
    Claim {
        /// The claim.
        name: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The parameters inside (too large).
    #[error("JARM: {0}")]
    Callback(#[from] CallbackError),
    /// The registration or configuration names an algorithm relier does not accept.
    #[error("JARM: {member}: {reason}")]
    Registration {
        /// The member.
        member: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl JarmError {
    /// True when the OP may have rotated its keys and a JWKS refetch could help.
    #[must_use]
    pub fn is_refetchable(&self) -> bool {
        matches!(self, JarmError::Jwt(j) if j.is_refetchable())
    }

    /// The key a JWKS refetch would look for, when one could help.
    #[must_use]
    pub fn missing_key(&self) -> Option<crate::jwks::MissingKey> {
        match self {
            JarmError::Jwt(j) => j.missing_key(),
            _ => None,
        }
    }
}

/// What the registration says about authorization responses (JARM §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JarmRule {
    /// `authorization_signed_response_alg`.
    pub alg: Algorithm,
    /// `authorization_encrypted_response_alg`/`_enc`.
    pub encryption: Option<ResponseEncryption>,
}

impl JarmRule {
    /// From a registration response or a provider's configuration keys of the same names:
    /// `None` when neither `authorization_signed_response_alg` nor
    /// `authorization_encrypted_response_alg` is registered.
    ///
    /// # Errors
    /// [`JarmError::Registration`]: a member of the wrong type, an unknown algorithm, `none`.
    pub fn from_registration(reg: &Map<String, Value>) -> Result<Option<Self>, JarmError> {
        let encryption =
            ResponseEncryption::from_registration(reg, EncryptedResponse::AuthorizationResponse)
                .map_err(|e: EncryptionConfigError| JarmError::Registration {
                    member: EncryptedResponse::AuthorizationResponse.alg_member(),
                    reason: e.to_string(),
                })?;
        let invalid = |reason: &str| JarmError::Registration {
            member: SIGNED_ALG_MEMBER,
            reason: reason.to_owned(),
        };
        let alg = match reg.get(SIGNED_ALG_MEMBER) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                Some(Algorithm::from_str(s).map_err(|_| invalid("unknown algorithm"))?)
            }
            Some(_) => return Err(invalid("not a string")),
        };
        let alg = match (alg, encryption) {
            (None, None) => return Ok(None),
            (None, Some(_)) => DEFAULT_ALG,
            (Some(alg), _) => alg,
        };
        // JARM §3: "The algorithm none is not allowed."
        if alg == Algorithm::None {
            return Err(invalid("\"none\" is not allowed (JARM §3)"));
        }
        Ok(Some(Self { alg, encryption }))
    }
}

/// JARM §2.3: the response mode to request, keeping how the response is delivered —
/// `form_post` becomes `form_post.jwt`, `query` `query.jwt`, none `jwt` (the OP's default for
/// the code flow, query.jwt); a `*.jwt` or `jwt` mode is kept.
#[must_use]
pub fn response_mode(requested: Option<&str>) -> String {
    match requested {
        None => "jwt".to_owned(),
        Some(m) if m == "jwt" || m.ends_with(".jwt") => m.to_owned(),
        Some(m) => format!("{m}.jwt"),
    }
}

/// Checks JARM responses for one client at one OP.
#[derive(Clone)]
pub struct JarmValidator {
    issuer: IssuerUrl,
    client_id: ClientId,
    alg: Algorithm,
    hmac_key: Option<VerifyingKey>,
    skew: u64,
    decryptor: Option<Decryptor>,
}

impl std::fmt::Debug for JarmValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JarmValidator")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("alg", &self.alg)
            .field("skew", &self.skew)
            .field("decryptor", &self.decryptor)
            .finish_non_exhaustive()
    }
}

impl JarmValidator {
    /// Responses from `issuer` to `client_id`, signed with the registered `alg`. With
    /// `alg: none` (which [`JarmRule`] refuses, JARM §3) every response is refused.
    #[must_use]
    pub fn new(issuer: IssuerUrl, client_id: ClientId, alg: Algorithm) -> Self {
        Self {
            issuer,
            client_id,
            alg,
            hmac_key: None,
            skew: DEFAULT_CLOCK_SKEW_SECS,
            decryptor: None,
        }
    }

    /// The registered `authorization_encrypted_response_*`: every response must then be a JWE
    /// with these algorithms, a signed JWT inside (JARM §2.2).
    #[must_use]
    pub fn with_decryption(mut self, decryptor: Decryptor) -> Self {
        self.decryptor = Some(decryptor);
        self
    }

    /// The client secret, for HS256/384/512 responses (JARM §2.2, OIDC Core §10.1).
    #[must_use]
    pub fn with_client_secret(mut self, secret: &Secret) -> Self {
        self.hmac_key = Some(VerifyingKey::hmac(secret.expose().as_bytes()));
        self
    }

    /// Allowed clock skew for `exp`, seconds (capped like ID tokens').
    #[must_use]
    pub fn with_clock_skew(mut self, secs: u64) -> Self {
        self.skew = secs.min(MAX_CLOCK_SKEW_SECS);
        self
    }

    /// The registered signing algorithm.
    #[must_use]
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The registered encryption and the RP's keys, if responses are encrypted.
    #[must_use]
    pub fn decryption(&self) -> Option<&Decryptor> {
        self.decryptor.as_ref()
    }

    /// JARM §2.4: checks the callback's `response` and returns the authorization response
    /// parameters it carries, for [`CallbackParams::validate`]. Parameters outside the JWT are
    /// ignored. `keys`: the OP's JWKS. Parameters this returned are returned as they are.
    ///
    /// # Errors
    /// Every [`JarmError`].
    pub fn open(
        &self,
        callback: &CallbackParams,
        keys: &KeySet,
        now: UnixTime,
    ) -> Result<CallbackParams, JarmError> {
        if callback.from_jarm {
            // Opened already (e.g. to find the pending login by its state).
            return Ok(callback.clone());
        }
        let response = callback.response().ok_or(JarmError::NotJwt)?;
        // JARM §2.4: decrypt with the registered algorithms first (a nested JWT, §2.2).
        let decrypted;
        let token = match &self.decryptor {
            Some(d) => {
                decrypted = d.decrypt(response)?;
                decrypted.as_str()
            }
            None => response,
        };
        let policy = JwtPolicy {
            alg: self.alg,
            hmac_key: self.hmac_key.as_ref(),
        };
        // JARM §2.4 (3): the signature, with the registered algorithm (RFC 8725 §3.1).
        let claims = verify_jwt(token, keys, policy)?.claims;
        self.check_claims(&claims, now)?;
        let mut inner = CallbackParams::default();
        inner.from_jarm = true;
        for name in PARAMETERS {
            match claims.get(name) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => inner.set(name, s.clone())?,
                Some(_) => {
                    return Err(JarmError::Claim {
                        name,
                        reason: "is not a string",
                    });
                }
            }
        }
        Ok(inner)
    }

    /// JARM §2.4 (1)–(3): `iss`, `aud`, `exp`.
    fn check_claims(&self, claims: &Map<String, Value>, now: UnixTime) -> Result<(), JarmError> {
        // (1) iss: exactly the issuer identifier (also the RFC 9207 `iss`).
        match claims.get("iss") {
            Some(Value::String(iss)) if iss == self.issuer.as_str() => {}
            Some(Value::String(iss)) => {
                return Err(JarmError::IssMismatch {
                    expected: self.issuer.as_str().to_owned(),
                    got: iss.chars().take(256).collect(),
                });
            }
            _ => {
                return Err(JarmError::Claim {
                    name: "iss",
                    reason: "is missing or not a string",
                });
            }
        }
        // (2) aud: the client_id, or an array containing it.
        let cid = self.client_id.as_str();
        let aud_ok = match claims.get("aud") {
            Some(Value::String(a)) => a == cid,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(cid)),
            _ => false,
        };
        if !aud_ok {
            return Err(JarmError::AudMismatch {
                client_id: cid.to_owned(),
            });
        }
        // (3) exp: REQUIRED (§2.1), in the future.
        let exp = claims
            .get("exp")
            .and_then(Value::as_u64)
            .ok_or(JarmError::Claim {
                name: "exp",
                reason: "is missing or not a non-negative integer",
            })?;
        if exp.saturating_add(self.skew) <= now.0 {
            return Err(JarmError::Expired {
                exp,
                now: now.0,
                skew: self.skew,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
