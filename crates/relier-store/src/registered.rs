//! What a stored provider's registration decides, typed. A [`StoredRegistration`] is what the
//! store keeps of a client's registration: the [`Registration`] (client authentication, ID
//! token and UserInfo signing and encryption, request objects, JARM, PAR, sender-constrained
//! tokens, redirect URIs, subject claim) in a versioned typed encoding, and the registration
//! response's `client_secret_expires_at` as received (RFC 7591 §3.2.1).
//! [`ProviderRecord::registered`] combines it with the record's own columns, which a provider
//! added by hand has without any registration response.

mod encoding;

use relier_core::registration::{Registration, RegistrationMetadataError, RegistrationResponse};
use relier_jose::Algorithm;
use serde_json::{Map, Value};

use crate::error::StoreError;
use crate::model::ProviderRecord;

/// `client_secret_expires_at` (RFC 7591 §3.2.1).
const SECRET_EXPIRES_AT: &str = "client_secret_expires_at";

/// A client's registration as the store keeps it. Built from a registration response (or its
/// metadata) read once with [`Registration::from_metadata`]'s rules, or from a
/// [`Registration`] built elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRegistration {
    content: Content,
    client_secret_expires_at: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Content {
    Typed(Registration),
    /// A registration response stored as JSON by an earlier version that this one cannot
    /// convert: kept as stored (and written back so), its fault reported when read.
    Unconverted {
        response: String,
        member: String,
        reason: String,
    },
}

impl StoredRegistration {
    /// `registration`, with the response's `client_secret_expires_at` (0: never expires).
    #[must_use]
    pub fn new(registration: Registration, client_secret_expires_at: Option<u64>) -> Self {
        StoredRegistration {
            content: Content::Typed(registration),
            client_secret_expires_at,
        }
    }

    /// From a registration response (RFC 7591 §3.2.1, RFC 7592 §3).
    ///
    /// # Errors
    /// As [`Registration::from_metadata`]: the first member relier cannot use.
    pub fn from_response(resp: &RegistrationResponse) -> Result<Self, RegistrationMetadataError> {
        Ok(Self::new(
            Registration::from_response(resp)?,
            resp.client_secret_expires_at,
        ))
    }

    /// From a registration response's members (`client_secret_expires_at` among them).
    ///
    /// # Errors
    /// As [`Registration::from_metadata`]: the first member relier cannot use.
    pub fn from_metadata(metadata: &Map<String, Value>) -> Result<Self, RegistrationMetadataError> {
        Ok(Self::new(
            Registration::from_metadata(metadata)?,
            metadata.get(SECRET_EXPIRES_AT).and_then(Value::as_u64),
        ))
    }

    /// The registration; `None` for one stored by an earlier version that cannot be converted
    /// ([`ProviderRecord::registered`] names the member at fault).
    #[must_use]
    pub fn registration(&self) -> Option<&Registration> {
        match &self.content {
            Content::Typed(r) => Some(r),
            Content::Unconverted { .. } => None,
        }
    }

    /// `client_secret_expires_at` as received: 0 means the secret does not expire.
    #[must_use]
    pub fn client_secret_expires_at(&self) -> Option<u64> {
        self.client_secret_expires_at
    }

    /// The stored form for output: the typed encoding, or for an unconverted registration the
    /// member at fault.
    #[must_use]
    pub fn to_json(&self) -> Value {
        match &self.content {
            Content::Typed(r) => encoding::to_value(r),
            Content::Unconverted { member, reason, .. } => serde_json::json!({
                "unconverted": {"member": member, "reason": reason},
            }),
        }
    }

    /// The typed registration of provider `provider`.
    pub(crate) fn typed(&self, provider: &str) -> Result<&Registration, StoreError> {
        match &self.content {
            Content::Typed(r) => Ok(r),
            Content::Unconverted { member, reason, .. } => Err(StoreError::UnusableRegistration {
                provider: provider.to_owned(),
                member: member.clone(),
                reason: reason.clone(),
            }),
        }
    }

    /// A registration response stored as JSON text by an earlier version, converted: `None`
    /// when it is not a JSON object (such a response decided nothing), an unconverted
    /// registration when a member cannot be used (or the text is not JSON).
    pub(crate) fn from_stored_response(text: &str) -> Option<Self> {
        let unconverted = |member: &str, reason: String, expiry: Option<u64>| StoredRegistration {
            content: Content::Unconverted {
                response: text.to_owned(),
                member: member.to_owned(),
                reason,
            },
            client_secret_expires_at: expiry,
        };
        let m = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return None,
            Err(e) => {
                let reason = format!("not JSON ({:?} error)", e.classify());
                return Some(unconverted("registration", reason, None));
            }
        };
        Some(Self::from_metadata(&m).unwrap_or_else(|e| {
            let expiry = m.get(SECRET_EXPIRES_AT).and_then(Value::as_u64);
            unconverted(e.member(), e.reason().to_owned(), expiry)
        }))
    }

    /// The stored columns (`registered`, `registration`): the typed encoding, or an
    /// unconverted response as it was stored.
    pub(crate) fn stored(&self) -> Result<(Option<String>, Option<String>), StoreError> {
        match &self.content {
            Content::Typed(r) => Ok((Some(encoding::encode(r)?), None)),
            Content::Unconverted { response, .. } => Ok((None, Some(response.clone()))),
        }
    }

    /// Reads the stored columns of provider `provider` (`registered` first).
    pub(crate) fn load(
        provider: &str,
        registered: Option<&str>,
        response: Option<&str>,
        client_secret_expires_at: Option<u64>,
    ) -> Result<Option<Self>, StoreError> {
        if let Some(text) = registered {
            return Ok(Some(Self::new(
                encoding::decode(provider, text)?,
                client_secret_expires_at,
            )));
        }
        Ok(response.and_then(Self::from_stored_response))
    }
}

/// `client_secret_expires_at` of a stored registration; RFC 7591 §3.2.1: 0 means the secret
/// does not expire.
#[must_use]
pub fn secret_expiry(registration: Option<&StoredRegistration>) -> Option<u64> {
    registration?.client_secret_expires_at.filter(|&t| t != 0)
}

impl ProviderRecord {
    /// The registration, typed: the stored registration ([`Registration::default`], the
    /// RFC 7591 §2 defaults, without one), with the record's method, client assertion
    /// algorithm, redirect URIs and pinned ID token algorithm.
    ///
    /// # Errors
    /// [`StoreError::UnusableRegistration`] naming the provider and the member for a
    /// registration stored by an earlier version that cannot be converted;
    /// [`StoreError::Invalid`] when `id_token_alg` `none` is not what the registration says
    /// ([`Self::pinned_id_token_alg`]).
    pub fn registered(&self) -> Result<Registration, StoreError> {
        let mut r = match &self.registration {
            Some(stored) => stored.typed(&self.name)?.clone(),
            None => Registration::default(),
        };
        r.auth_method = self.auth_method;
        r.auth_signing_alg = self.signing_alg;
        r.redirect_uris.clone_from(&self.redirect_uris);
        r.id_token_signed_alg = self.pinned_id_token_alg()?;
        Ok(r)
    }

    /// The ID token algorithm to pin: `id_token_alg`, which may be `none` (unsigned ID tokens,
    /// OIDC Core §2) only when the stored registration's `id_token_signed_response_alg` says
    /// `none` too — a hand-added provider has only `id_token_alg`.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when the two disagree about `none`;
    /// [`StoreError::UnusableRegistration`] as [`Self::registered`].
    pub fn pinned_id_token_alg(&self) -> Result<Option<Algorithm>, StoreError> {
        let Some(stored) = &self.registration else {
            return Ok(self.id_token_alg);
        };
        let registered = stored.typed(&self.name)?.id_token_signed_alg;
        if (self.id_token_alg == Some(Algorithm::None)) != (registered == Some(Algorithm::None)) {
            return Err(StoreError::Invalid {
                what: "registration",
                reason: format!(
                    "id_token_alg {} disagrees with the registered id_token_signed_response_alg {}: `none` needs both",
                    self.id_token_alg.map_or("(unset)", |a| a.as_str()),
                    registered.map_or("(absent: RS256)", |a| a.as_str()),
                ),
            });
        }
        Ok(self.id_token_alg)
    }
}

#[cfg(test)]
mod tests;
