//! Signed request objects (RFC 9101) and JARM responses for [`RelyingParty`]: the rules live in
//! [`relier_core::request_object`] and [`relier_core::jarm`]; this drives them (the OP's keys
//! and their refetch, the clock, the randomness).

use std::borrow::Cow;

use relier_core::authorize::{AuthorizationParams, CallbackParams, PendingLogin};
use relier_core::encryption::{DecryptionKeys, Decryptor, ResponseEncryption};
use relier_core::jarm::{self, JarmError, JarmRule, JarmValidator};
use relier_core::jwks::KeySource;
use relier_core::request_object::{self, RequestObjectError, RequestObjectSigner};
use relier_core::{Algorithm, ClientAuth, IssuerUrl, Secret, par};
use relier_jose::SigningKey;
use url::Url;

use super::RelyingParty;
use crate::Error;

/// What the builder was told about JAR and JARM.
#[derive(Debug, Default)]
pub(super) struct SecuredConfig {
    pub request_objects: Option<RequestObjectSigner>,
    pub jarm: Option<(Algorithm, Option<(ResponseEncryption, DecryptionKeys)>)>,
}

/// JAR and JARM as built.
#[derive(Debug, Clone, Default)]
pub(super) struct Secured {
    request_objects: Option<RequestObjectSigner>,
    jarm: Option<JarmValidator>,
}

impl SecuredConfig {
    /// The JARM rule registered: its algorithm, and its encryption with the RP's keys.
    pub fn set_jarm(&mut self, rule: JarmRule, keys: Option<DecryptionKeys>) {
        let encryption = rule.encryption.map(|e| (e, keys.unwrap_or_default()));
        self.jarm = Some((rule.alg, encryption));
    }

    pub fn build(
        self,
        issuer: &IssuerUrl,
        auth: &ClientAuth,
        client_secret: Option<&Secret>,
        clock_skew: Option<u64>,
    ) -> Secured {
        let jarm = match self.jarm {
            None => None,
            Some((alg, encryption)) => {
                let mut v = JarmValidator::new(issuer.clone(), auth.client_id().clone(), alg);
                if let Some(s) = client_secret {
                    v = v.with_client_secret(s);
                }
                if let Some(skew) = clock_skew {
                    v = v.with_clock_skew(skew);
                }
                if let Some((expect, keys)) = encryption {
                    let d = Decryptor::new(expect, keys);
                    // OIDC Core §10.2 (JARM §2.2): dir / A*KW use the client secret.
                    let d = match client_secret {
                        Some(s) if expect.alg.is_symmetric() => d.with_client_secret(s),
                        _ => d,
                    };
                    v = v.with_decryption(d);
                }
                Some(v)
            }
        };
        Secured {
            request_objects: self.request_objects,
            jarm,
        }
    }
}

impl Secured {
    /// The decryption of JARM responses, if registered.
    pub fn jarm_decryption(&self) -> Option<&Decryptor> {
        self.jarm.as_ref().and_then(JarmValidator::decryption)
    }

    /// The same with another decryption of JARM responses (new RP keys).
    pub fn with_jarm_decryptor(&self, d: Decryptor) -> Secured {
        Secured {
            request_objects: self.request_objects.clone(),
            jarm: self.jarm.clone().map(|v| v.with_decryption(d)),
        }
    }
}

impl RelyingParty {
    /// Whether authorization requests are sent as signed request objects (RFC 9101).
    pub fn uses_request_objects(&self) -> bool {
        self.secured.request_objects.is_some()
    }

    /// Whether authorization responses must be JARM responses.
    pub fn uses_jarm(&self) -> bool {
        self.secured.jarm.is_some()
    }

    /// The same relying party signing request objects with `key` from now on (the RP's key
    /// rotated; same algorithm). Unchanged without request objects.
    ///
    /// # Errors
    /// [`Error::RequestObject`] when `key` signs another algorithm.
    pub fn with_request_object_key(&self, key: SigningKey) -> Result<RelyingParty, Error> {
        let mut rp = self.share();
        if let Some(s) = &self.secured.request_objects {
            rp.secured.request_objects = Some(s.with_key(key)?);
        }
        Ok(rp)
    }

    /// JARM §2.3: the parameters with `response_mode` set to a JWT mode when JARM is
    /// registered.
    pub(super) fn secured_params<'a>(
        &self,
        params: &'a AuthorizationParams,
    ) -> Cow<'a, AuthorizationParams> {
        if self.secured.jarm.is_none() {
            return Cow::Borrowed(params);
        }
        let mut p = params.clone();
        p.response_mode = Some(jarm::response_mode(params.response_mode.as_deref()));
        Cow::Owned(p)
    }

    /// RFC 9101 §5: the request object by value, when request objects are used; `None` for a
    /// plain request. Refused when the OP requires request objects (RFC 9101 §10.5) and no
    /// signer is configured.
    pub(super) fn request_object_url(
        &self,
        redirect: &relier_core::RedirectUrl,
        params: &AuthorizationParams,
    ) -> Result<Option<(Url, PendingLogin)>, Error> {
        let Some(signer) = self.signer()? else {
            return Ok(None);
        };
        Ok(Some(request_object::authorization_url(
            &self.metadata,
            self.auth.client_id(),
            redirect,
            params,
            signer,
            self.now(),
            &self.rng,
        )?))
    }

    /// The pushed form: the request object (RFC 9126 §3) when request objects are used, else
    /// the parameters (RFC 9126 §2.1).
    pub(super) fn pushed_form(
        &self,
        redirect: &relier_core::RedirectUrl,
        params: &AuthorizationParams,
    ) -> Result<(relier_core::http::Form, PendingLogin), Error> {
        match self.signer()? {
            Some(signer) => Ok(request_object::pushed_request(
                &self.auth,
                &self.metadata.issuer,
                redirect,
                params,
                signer,
                self.now(),
                &self.rng,
            )?),
            None => Ok(par::pushed_request(
                &self.auth, redirect, params, &self.rng,
            )?),
        }
    }

    fn signer(&self) -> Result<Option<&RequestObjectSigner>, Error> {
        match &self.secured.request_objects {
            Some(s) => Ok(Some(s)),
            None if request_object::op_requires(&self.metadata) => {
                Err(RequestObjectError::NoKey.into())
            }
            None => Ok(None),
        }
    }

    /// JARM §2.4: with JARM registered, checks the callback's `response` (decryption,
    /// signature with the registered algorithm — one rate-limited JWKS refetch on an unknown
    /// key —, `iss`, `aud`, `exp`) and returns the parameters inside; a plain response is
    /// refused. Without JARM, `callback` as it is. [`RelyingParty::complete_login`] does this
    /// itself; call it first to read the `state` inside (an opened callback is not checked
    /// twice).
    ///
    /// # Errors
    /// [`Error::Jarm`], and a JWKS fetch error.
    pub async fn open_callback(&self, callback: CallbackParams) -> Result<CallbackParams, Error> {
        let Some(v) = &self.secured.jarm else {
            return Ok(callback);
        };
        // The response comes through the browser: the full refetch cool-down applies.
        self.with_op_keys(
            KeySource::Untrusted,
            |keys| v.open(&callback, keys, self.now()),
            JarmError::missing_key,
        )
        .await
    }
}
