//! Loaded credentials + the client's choices → the [`ClientAuth`] that signs token requests.

use relier_core::client_auth::AssertionAudience;
use relier_core::recommend::{self, Recommendation};
use relier_core::{AuthMethod, ClientAuth, ClientId, ProviderMetadata, Secret};
use relier_jose::Algorithm;

use super::ClientCredentials;
use super::alg::hmac_alg_for;
use super::error::{Credential, CredentialError};

/// The client and how it authenticates: everything but the credentials themselves.
#[derive(Debug, Clone)]
pub struct ClientAuthSpec {
    /// The client_id.
    pub client_id: ClientId,
    /// The method; `None`: the strongest both the OP and the credentials support
    /// ([`recommend::recommend`]).
    pub method: Option<AuthMethod>,
    /// The assertion algorithm: for client_secret_jwt an HMAC one (default: [`hmac_alg_for`]);
    /// for private_key_jwt the key's (the key must be in it; default: the key's own).
    pub signing_alg: Option<Algorithm>,
    /// `aud` of client assertions.
    pub audience: AssertionAudience,
}

impl ClientAuthSpec {
    /// A client authenticating with `method` (assertion `aud`: the issuer).
    pub fn new(client_id: ClientId, method: Option<AuthMethod>) -> Self {
        Self {
            client_id,
            method,
            signing_alg: None,
            audience: AssertionAudience::Issuer,
        }
    }
}

/// The client authentication, and the recommendation when the method was not given.
#[derive(Debug)]
pub struct AssembledAuth {
    /// Ready to authenticate token, introspection and revocation requests.
    pub auth: ClientAuth,
    /// Why this method (`None` when the spec named it).
    pub recommendation: Option<Recommendation>,
}

/// The one place a provider's credentials become a [`ClientAuth`]: the method asked for (its
/// credential must be there, its algorithm must fit), else the recommender's choice.
///
/// # Errors
/// [`CredentialError::Missing`], [`CredentialError::AlgorithmMismatch`],
/// [`CredentialError::UnsupportedMethod`], [`CredentialError::Recommend`] (no method fits),
/// [`CredentialError::ClientAuth`] (e.g. a secret too short for its HMAC).
pub fn client_auth(
    spec: &ClientAuthSpec,
    creds: &ClientCredentials,
    md: &ProviderMetadata,
) -> Result<AssembledAuth, CredentialError> {
    let (method, recommendation) = match spec.method {
        Some(m) => (m, None),
        None => {
            let rec = recommend::recommend(md, &creds.summary())?;
            (rec.method, Some(rec))
        }
    };
    let auth = build(method, spec, creds, md)?.with_assertion_audience(spec.audience);
    Ok(AssembledAuth {
        auth,
        recommendation,
    })
}

fn build(
    method: AuthMethod,
    spec: &ClientAuthSpec,
    creds: &ClientCredentials,
    md: &ProviderMetadata,
) -> Result<ClientAuth, CredentialError> {
    let cid = spec.client_id.clone();
    let missing = |credential| CredentialError::Missing { method, credential };
    let secret = || -> Result<&Secret, CredentialError> {
        creds
            .secret
            .as_ref()
            .ok_or_else(|| missing(Credential::ClientSecret))
    };
    let mismatch = |alg| CredentialError::AlgorithmMismatch { method, alg };
    Ok(match method {
        AuthMethod::ClientSecretBasic => ClientAuth::client_secret_basic(cid, secret()?.clone()),
        AuthMethod::ClientSecretPost => ClientAuth::client_secret_post(cid, secret()?.clone()),
        AuthMethod::ClientSecretJwt => {
            if let Some(alg) = spec.signing_alg.filter(|a| !a.is_hmac()) {
                return Err(mismatch(alg));
            }
            let secret = secret()?;
            let alg = spec
                .signing_alg
                .unwrap_or_else(|| hmac_alg_for(md, secret.len()));
            ClientAuth::client_secret_jwt(cid, secret, alg)?
        }
        AuthMethod::PrivateKeyJwt => {
            let key = creds
                .key
                .as_ref()
                .ok_or_else(|| missing(Credential::PrivateKey))?;
            if let Some(alg) = spec.signing_alg.filter(|a| *a != key.algorithm()) {
                return Err(mismatch(alg));
            }
            ClientAuth::private_key_jwt(cid, key.clone())?
        }
        AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth => {
            if creds.tls_identity.is_none() {
                return Err(missing(Credential::TlsIdentity));
            }
            if method == AuthMethod::TlsClientAuth {
                ClientAuth::tls_client_auth(cid)
            } else {
                ClientAuth::self_signed_tls_client_auth(cid)
            }
        }
        AuthMethod::None => ClientAuth::none(cid),
        other => return Err(CredentialError::UnsupportedMethod(other)),
    })
}
