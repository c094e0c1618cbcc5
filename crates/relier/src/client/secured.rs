//! Signed request objects (RFC 9101) and JARM responses for [`RelyingParty`]: the rules live in
//! [`relier_core::request_object`] and [`relier_core::jarm`]; this drives them (the OP's keys
//! and their refetch, the clock, the randomness).

use std::borrow::Cow;
use std::sync::Arc;

use relier_core::authorize::{AuthorizationParams, CallbackParams, PendingLogin};
use relier_core::encryption::{DecryptionKeys, Decryptor, ResponseEncryption};
use relier_core::jarm::{self, JarmError, JarmRule, JarmValidator};
use relier_core::jwks::KeySource;
use relier_core::request_object::{
    self, RequestObjectEncrypter, RequestObjectError, RequestObjectSigner, SignedRequest,
};
use relier_core::{Algorithm, ClientAuth, IssuerUrl, Secret, par};
use relier_jose::SigningKey;
use url::Url;

use super::RelyingParty;
use crate::Error;
use crate::request_uri::RequestObjectHost;

/// What the builder was told about JAR and JARM.
#[derive(Debug, Default)]
pub(super) struct SecuredConfig {
    pub request_objects: Option<RequestObjectSigner>,
    pub delivery: Delivery,
    pub jarm: Option<(Algorithm, Option<(ResponseEncryption, DecryptionKeys)>)>,
}

/// How request objects are sent: signed (or unsigned), maybe encrypted, by value or by
/// reference.
#[derive(Debug, Clone, Default)]
pub(super) struct Delivery {
    /// `request_object_encryption_alg`/`_enc` (OIDC Core §6.1).
    pub encryption: Option<ResponseEncryption>,
    /// Where request objects are served by reference (OIDC Core §6.2); by value without.
    pub host: Option<Arc<dyn RequestObjectHost>>,
}

/// JAR and JARM as built.
#[derive(Debug, Clone, Default)]
pub(super) struct Secured {
    request_objects: Option<RequestObjectSigner>,
    delivery: Delivery,
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
            delivery: self.delivery,
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
            delivery: self.delivery.clone(),
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

    /// Whether request objects are sent by reference (OIDC Core §6.2).
    pub fn uses_request_uri(&self) -> bool {
        self.secured.delivery.host.is_some()
    }

    /// Whether request objects are encrypted to the OP (OIDC Core §6.1).
    pub fn encrypts_request_objects(&self) -> bool {
        self.secured.delivery.encryption.is_some()
    }

    /// RFC 9101 §5 / §5.2: the request object by value or by reference, when request objects
    /// are used; `None` for a plain request. Refused when the OP requires request objects
    /// (RFC 9101 §10.5) and no signer is configured. `encrypter` is the OP's key when
    /// encryption is registered ([`Self::request_object_encrypter`]).
    pub(super) fn request_object_url(
        &self,
        redirect: &relier_core::RedirectUrl,
        params: &AuthorizationParams,
        encrypter: Option<&RequestObjectEncrypter>,
    ) -> Result<Option<(Url, PendingLogin)>, Error> {
        let Some(signer) = self.signer()? else {
            return Ok(None);
        };
        let now = self.now();
        let signed = request_object::sign_request(
            &self.metadata.issuer,
            self.auth.client_id(),
            redirect,
            params,
            signer,
            now,
            &self.rng,
        )?;
        let signed = self.encrypted(signed, encrypter)?;
        self.deliver(signed, now).map(Some)
    }

    /// The request object encrypted to the OP when encryption is registered (OIDC Core §6.1);
    /// never sent unencrypted then.
    fn encrypted(
        &self,
        signed: SignedRequest,
        encrypter: Option<&RequestObjectEncrypter>,
    ) -> Result<SignedRequest, Error> {
        match (self.secured.delivery.encryption, encrypter) {
            (None, _) => Ok(signed),
            (Some(_), Some(e)) => Ok(signed.encrypt(e, &self.rng)?),
            (Some(algs), None) => Err(RequestObjectError::NoEncryptionKey { alg: algs.alg }.into()),
        }
    }

    /// By reference when a host is configured (the object is published there first), else by
    /// value.
    fn deliver(
        &self,
        signed: SignedRequest,
        now: relier_core::UnixTime,
    ) -> Result<(Url, PendingLogin), Error> {
        match &self.secured.delivery.host {
            Some(host) => {
                let uri = host.publish(
                    signed.object().to_owned(),
                    signed.expires_at(),
                    now,
                    &self.rng,
                )?;
                Ok(signed.by_reference(&self.metadata, &uri)?)
            }
            None => Ok(signed.by_value(&self.metadata)?),
        }
    }

    /// The OP's encryption key for request objects, when encryption is registered: from its
    /// JWKS, refetched when older than the JWKS response's cache lifetime (RFC 9111 §5.2.2
    /// `max-age`, default 60 s) so a rotated OP key is used at once.
    ///
    /// # Errors
    /// A JWKS fetch error; [`RequestObjectError::NoEncryptionKey`].
    pub(super) async fn request_object_encrypter(
        &self,
    ) -> Result<Option<RequestObjectEncrypter>, Error> {
        let Some(algs) = self.secured.delivery.encryption else {
            return Ok(None);
        };
        if self.secured.request_objects.is_none() {
            return Ok(None);
        }
        let keys = self.encryption_keys().await?;
        Ok(Some(RequestObjectEncrypter::for_op(algs, &keys)?))
    }

    /// The pushed form: the request object (RFC 9126 §3) when request objects are used, else
    /// the parameters (RFC 9126 §2.1).
    pub(super) fn pushed_form(
        &self,
        redirect: &relier_core::RedirectUrl,
        params: &AuthorizationParams,
        encrypter: Option<&RequestObjectEncrypter>,
    ) -> Result<(relier_core::http::Form, PendingLogin), Error> {
        match self.signer()? {
            Some(signer) => {
                let signed = request_object::sign_request(
                    &self.metadata.issuer,
                    self.auth.client_id(),
                    redirect,
                    params,
                    signer,
                    self.now(),
                    &self.rng,
                )?;
                Ok(self.encrypted(signed, encrypter)?.pushed())
            }
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
