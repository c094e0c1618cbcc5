//! The store above the database: [`Sealed`] implements [`Store`] once for every backend. It
//! verifies the master key, generates keys, and encrypts every secret before it reaches the
//! backend (AES-256-GCM, the row's identity as associated data: [`crate::crypto`]), so the
//! on-disk format is the same whatever the database.

mod providers;
mod sessions;
mod upgrade;

use std::path::Path;

use async_trait::async_trait;
use relier_core::UnixTime;
use relier_jose::jwe::{DecryptionKey, DecryptionKeys, KeyManagementAlg, MAX_DECRYPTION_KEYS};
use relier_jose::{Algorithm, Jwk, JwkSet, SigningKey, b64};
use zeroize::Zeroizing;

use crate::backend::{Backend, KeyEdit, NewKey};
use crate::crypto::{CHECK_AAD, CHECK_PLAINTEXT, Cipher, SubjectIndex, key_aad};
use crate::error::StoreError;
use crate::import;
use crate::key_state::KeyState;
use crate::lifecycle;
use crate::master_key::{
    CreatedKeyFile, MasterKey, MasterKeyOrigin, no_key_for_non_sqlite, read_key_file,
    read_or_create_key_file,
};
use crate::model::{KeyAlg, KeyChange, KeyInfo, KeyUse};
use crate::private_files::default_key_file;
use crate::store::{KeyPolicy, KeyStore, Store};
use crate::url::StoreUrl;

/// A backend with encryption at rest.
#[derive(Debug)]
pub(crate) struct Sealed<B> {
    backend: B,
    url: StoreUrl,
    cipher: Cipher,
    /// The keyed hash sessions are found by subject with.
    subject_index: SubjectIndex,
    policy: KeyPolicy,
}

impl<B: Backend> Sealed<B> {
    /// Verifies the master key against the store's check value (writing it on a fresh store).
    /// `given` is the key from the caller; without one, an SQLite store (`sqlite_path`) uses
    /// the key file beside the database, created for a store that has no check value yet.
    /// The backend is closed on error.
    pub(crate) async fn new(
        backend: B,
        url: &StoreUrl,
        given: Option<MasterKey>,
        sqlite_path: Option<&Path>,
        policy: KeyPolicy,
    ) -> Result<(Self, Option<CreatedKeyFile>), StoreError> {
        let opened = async {
            let (cipher, created) = verify_master_key(&backend, url, given, sqlite_path).await?;
            let subject_index = SubjectIndex::new(&cipher)?;
            Ok::<_, StoreError>((cipher, subject_index, created))
        }
        .await;
        match opened {
            Ok((cipher, subject_index, created)) => {
                let store = Sealed {
                    backend,
                    url: url.clone(),
                    cipher,
                    subject_index,
                    policy,
                };
                // Rows of an older schema that only the master key can convert.
                if let Err(e) = store.convert_old_rows().await {
                    store.backend.close().await;
                    return Err(e);
                }
                Ok((store, created))
            }
            Err(e) => {
                backend.close().await;
                Err(e)
            }
        }
    }

    async fn new_key(&self, alg: KeyAlg, rsa_bits: Option<usize>) -> Result<NewKey, StoreError> {
        let (kid, public_jwk, der) = match alg {
            KeyAlg::Sig(alg) | KeyAlg::Entity(alg) => {
                check_key_alg(alg)?;
                let key =
                    blocking(move || SigningKey::generate(alg, rsa_bits).map_err(StoreError::from))
                        .await?;
                let kid = key.thumbprint_sha256()?;
                let key = key.with_kid(kid.clone());
                (kid, key.public_jwk()?, key.to_pkcs8_der()?)
            }
            KeyAlg::Enc(alg) => {
                let key = blocking(move || generate_enc_key(alg, rsa_bits)).await?;
                let kid = key.thumbprint_sha256()?;
                let key = key.with_kid(kid.clone());
                (kid, key.public_jwk()?, key.to_pkcs8_der()?)
            }
        };
        self.seal_key(alg, kid, &public_jwk, &der)
    }

    /// The row of a new key: its private key (PKCS#8 DER) sealed under its kid.
    fn seal_key(
        &self,
        alg: KeyAlg,
        kid: String,
        public_jwk: &Jwk,
        der: &[u8],
    ) -> Result<NewKey, StoreError> {
        let public_jwk = serde_json::to_string(public_jwk)
            .map_err(|e| StoreError::crypto(format!("encoding the public JWK: {e}")))?;
        let sealed = self.cipher.seal(der, &key_aad(&kid))?;
        Ok(NewKey {
            kid,
            alg,
            public_jwk,
            sealed,
        })
    }

    /// The public JWKS of the keys `wanted` picks by use, published at `now` (active, then
    /// next, then retired within grace).
    async fn published(
        &self,
        now: u64,
        wanted: impl Fn(KeyUse) -> bool,
    ) -> Result<JwkSet, StoreError> {
        let mut published = Vec::new();
        for (info, text) in self.backend.public_keys().await? {
            if !wanted(info.key_use()) || !lifecycle::is_published(&info, now) {
                continue;
            }
            // to_public() strips any private member, whatever is stored.
            let mut jwk = Jwk::from_json(&text)?.to_public();
            jwk.kid = Some(info.kid.clone());
            jwk.alg = Some(info.alg.as_str().to_owned());
            jwk.use_ = Some(info.key_use().jwk_use().to_owned());
            jwk.key_ops = None;
            published.push((info.state, jwk));
        }
        // Active first (some consumers take the first key), then next, then retired.
        published.sort_by_key(|(state, _)| state_rank(*state));
        Ok(JwkSet {
            keys: published.into_iter().map(|(_, jwk)| jwk).collect(),
        })
    }

    /// The active key of `alg`, decrypted and checked against its kid.
    async fn active_signing_key(&self, alg: KeyAlg) -> Result<Option<SigningKey>, StoreError> {
        let Some(sig) = alg.sig().or(alg.entity()) else {
            return Ok(None);
        };
        let Some((kid, sealed)) = self.backend.active_private_key(alg).await? else {
            return Ok(None);
        };
        let key = self.open_key(
            &kid,
            &sealed,
            |der| SigningKey::from_pkcs8_der(der, Some(sig)),
            SigningKey::thumbprint_sha256,
        )?;
        Ok(Some(key.with_kid(kid)))
    }

    /// Opens a sealed private key and checks it against its kid.
    fn open_key<K>(
        &self,
        kid: &str,
        sealed: &[u8],
        parse: impl FnOnce(&[u8]) -> Result<K, relier_jose::JoseError>,
        thumbprint: impl FnOnce(&K) -> Result<String, relier_jose::JoseError>,
    ) -> Result<K, StoreError> {
        let der = self
            .cipher
            .open(sealed, &key_aad(kid), &format!("private key {kid}"))?;
        let key = parse(&der)?;
        if thumbprint(&key)? != kid {
            return Err(StoreError::crypto(format!(
                "private key {kid} does not match its kid"
            )));
        }
        Ok(key)
    }

    fn grace(&self) -> u64 {
        self.policy.grace_secs
    }

    /// A new key for each active key `select` picks (RSA keeps the modulus size), by
    /// algorithm name.
    async fn successors(
        &self,
        select: impl Fn(&KeyInfo) -> bool,
    ) -> Result<Vec<NewKey>, StoreError> {
        let mut targets: Vec<(KeyAlg, Option<usize>)> = Vec::new();
        for (info, jwk) in self.backend.public_keys().await? {
            if info.state == KeyState::Active && select(&info) {
                let bits = if info.alg.is_rsa() {
                    rsa_bits(&jwk)
                } else {
                    None
                };
                targets.push((info.alg, bits));
            }
        }
        targets.sort_by_key(|(a, _)| a.as_str());
        let mut prepared = Vec::with_capacity(targets.len());
        for (a, bits) in targets {
            prepared.push(self.new_key(a, bits).await?);
        }
        Ok(prepared)
    }
}

async fn verify_master_key<B: Backend>(
    backend: &B,
    url: &StoreUrl,
    given: Option<MasterKey>,
    sqlite_path: Option<&Path>,
) -> Result<(Cipher, Option<CreatedKeyFile>), StoreError> {
    let check = backend.master_key_check().await?;
    let (key, created) = match given {
        Some(key) => (key, None),
        None => {
            let key_path = default_key_file(sqlite_path.ok_or_else(no_key_for_non_sqlite)?);
            let has_check = check.is_some();
            let (key, origin) = blocking(move || match read_key_file(&key_path)? {
                Some(key) => Ok((key, MasterKeyOrigin::File(key_path))),
                None if has_check => Err(StoreError::master(format!(
                    "the store was initialized with a master key, but its key file {} is \
                     missing: restore it, or give the key with RELIER_MASTER_KEY or a key file",
                    key_path.display()
                ))),
                None => read_or_create_key_file(&key_path),
            })
            .await?;
            let created = match origin {
                MasterKeyOrigin::CreatedFile(path) => Some(CreatedKeyFile { path }),
                _ => None,
            };
            (key, created)
        }
    };
    let cipher = Cipher::new(&key)?;
    let stored = match check {
        Some(stored) => stored,
        None => {
            let sealed = cipher.seal(CHECK_PLAINTEXT, CHECK_AAD)?;
            backend.init_master_key_check(&sealed).await?
        }
    };
    let ok = cipher
        .open(&stored, CHECK_AAD, "master key check value")
        .is_ok_and(|plain| plain.as_slice() == CHECK_PLAINTEXT);
    if !ok {
        return Err(StoreError::WrongMasterKey {
            store: url.to_string(),
        });
    }
    Ok((cipher, created))
}

/// Runs blocking work (key generation, key-file I/O) off the async executor.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, StoreError>
where
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::db(format!("background task failed: {e}")))?
}

/// An encryption key for `alg`: RSA (`rsa_bits`, 2048 by default) for RSA-OAEP*, P-256 for
/// ECDH-ES*; restricted to `alg`, so that its public JWK carries "alg".
fn generate_enc_key(
    alg: KeyManagementAlg,
    rsa_bits: Option<usize>,
) -> Result<DecryptionKey, StoreError> {
    let key = if alg.is_rsa() {
        DecryptionKey::generate_rsa(rsa_bits.unwrap_or(2048))?
    } else if alg.is_ecdh() && rsa_bits.is_none() {
        DecryptionKey::generate(alg, Some("P-256"))?
    } else {
        // OIDC Core §10.2: symmetric key management uses a key derived from the client
        // secret, never a stored key.
        return Err(StoreError::Invalid {
            what: "key algorithm",
            reason: format!(
                "{alg} is not an asymmetric key-management algorithm with these options \
                 (RSA-OAEP, RSA-OAEP-256, ECDH-ES, ECDH-ES+A128KW, ECDH-ES+A256KW; bits only \
                 for RSA)"
            ),
        });
    };
    Ok(key.restricted_to(alg)?)
}

/// Whether `alg` is an asymmetric signature algorithm the store keeps keys for.
pub(crate) fn check_key_alg(alg: Algorithm) -> Result<(), StoreError> {
    if alg.is_rsa() || alg.is_ecdsa() || alg == Algorithm::EdDSA {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            what: "key algorithm",
            reason: format!(
                "{alg} is not an asymmetric signature algorithm (RS*, PS*, ES*, EdDSA)"
            ),
        })
    }
}

/// RSA modulus size of a stored public JWK, for rotating to a key of the same size.
fn rsa_bits(public_jwk: &str) -> Option<usize> {
    let jwk = Jwk::from_json(public_jwk).ok()?;
    let n = b64::decode(jwk.n.as_deref()?).ok()?;
    Some(n.len().saturating_mul(8))
}

/// Active, then next, then retired.
fn state_rank(state: KeyState) -> u8 {
    match state {
        KeyState::Active => 0,
        KeyState::Next => 1,
        KeyState::Retired => 2,
    }
}

fn find_key(keys: &[KeyInfo], kid: &str) -> Result<KeyInfo, StoreError> {
    keys.iter()
        .find(|k| k.kid == kid)
        .cloned()
        .ok_or_else(|| StoreError::NotFound {
            what: "key",
            name: kid.to_owned(),
        })
}

#[async_trait]
impl<B: Backend> KeyStore for Sealed<B> {
    async fn generate_key(
        &self,
        alg: KeyAlg,
        rsa_bits: Option<usize>,
        now: UnixTime,
    ) -> Result<KeyInfo, StoreError> {
        let now = now.secs();
        // Key generation (seconds for big RSA keys) happens before the write lock is taken.
        let key = self.new_key(alg, rsa_bits).await?;
        let mut info = self
            .backend
            .insert_keys(&[key], now, 0, &|_, _| true)
            .await?;
        info.pop()
            .ok_or_else(|| StoreError::db("the new key was not stored"))
    }

    async fn rotate_keys(
        &self,
        alg: Option<KeyAlg>,
        propagation_secs: u64,
        now: UnixTime,
    ) -> Result<Vec<KeyInfo>, StoreError> {
        let now = now.secs();
        // Without an algorithm, every signing and encryption algorithm; entity keys rotate only
        // when named.
        let mut prepared = self
            .successors(|info| match alg {
                Some(wanted) => wanted == info.alg,
                None => info.key_use() != KeyUse::Entity,
            })
            .await?;
        if let Some(wanted) = alg
            && prepared.is_empty()
        {
            prepared.push(self.new_key(wanted, None).await?);
        }
        self.backend
            .insert_keys(&prepared, now, propagation_secs, &|_, _| true)
            .await
    }

    async fn rotate_due_keys(
        &self,
        interval_secs: u64,
        propagation_secs: u64,
        now: UnixTime,
    ) -> Result<Vec<KeyInfo>, StoreError> {
        let now = now.secs();
        let keys = self.backend.load_keys().await?;
        let due = lifecycle::due_for_rotation(&keys, interval_secs, now);
        if due.is_empty() {
            return Ok(Vec::new());
        }
        // Keys are generated outside the lock; under it, only the algorithms still due get
        // theirs (another instance may have rotated meanwhile).
        let prepared = self.successors(|info| due.contains(&info.alg)).await?;
        let still_due = move |keys: &[KeyInfo], alg: KeyAlg| {
            lifecycle::due_for_rotation(keys, interval_secs, now).contains(&alg)
        };
        self.backend
            .insert_keys(&prepared, now, propagation_secs, &still_due)
            .await
    }

    async fn advance_keys(&self, now: UnixTime) -> Result<Vec<KeyChange>, StoreError> {
        let now = now.secs();
        let grace = self.grace();
        // Cheap read first: most calls have nothing to do and need no write lock.
        let keys = self.backend.load_keys().await?;
        if lifecycle::plan_advance(&keys, now, grace).is_empty() {
            return Ok(Vec::new());
        }
        let plan = move |keys: &[KeyInfo]| {
            Ok(lifecycle::plan_advance(keys, now, grace)
                .into_iter()
                .map(KeyEdit::Transition)
                .collect())
        };
        let (_, edits) = self.backend.edit_keys(&plan).await?;
        Ok(edits
            .into_iter()
            .filter_map(|edit| match edit {
                KeyEdit::Transition(t) => Some(KeyChange {
                    kid: t.kid,
                    alg: t.alg,
                    from: t.from,
                    to: t.to,
                }),
                KeyEdit::Delete(_) => None,
            })
            .collect())
    }

    async fn retire_key(&self, kid: &str, now: UnixTime) -> Result<KeyInfo, StoreError> {
        let now = now.secs();
        let grace = self.grace();
        let plan = move |keys: &[KeyInfo]| {
            let key = find_key(keys, kid)?;
            Ok(lifecycle::plan_retire(&key, now, grace)
                .map(KeyEdit::Transition)
                .into_iter()
                .collect())
        };
        let (keys, edits) = self.backend.edit_keys(&plan).await?;
        let mut key = find_key(&keys, kid)?;
        for edit in edits {
            if let KeyEdit::Transition(t) = edit {
                key.state = t.to;
                key.retired_at = t.retired_at.or(key.retired_at);
                key.grace_until = t.grace_until.or(key.grace_until);
            }
        }
        Ok(key)
    }

    async fn remove_key(
        &self,
        kid: &str,
        force: bool,
        now: UnixTime,
    ) -> Result<KeyInfo, StoreError> {
        let now = now.secs();
        let plan = move |keys: &[KeyInfo]| {
            let key = find_key(keys, kid)?;
            lifecycle::check_remove(&key, force, now)?;
            Ok(vec![KeyEdit::Delete(key.kid)])
        };
        let (keys, _) = self.backend.edit_keys(&plan).await?;
        find_key(&keys, kid)
    }

    async fn list_keys(&self) -> Result<Vec<KeyInfo>, StoreError> {
        self.backend.load_keys().await
    }

    async fn jwks(&self, now: UnixTime) -> Result<JwkSet, StoreError> {
        self.published(now.secs(), |u| u != KeyUse::Entity).await
    }

    async fn entity_jwks(&self, now: UnixTime) -> Result<JwkSet, StoreError> {
        self.published(now.secs(), |u| u == KeyUse::Entity).await
    }

    async fn signing_key(&self, alg: Algorithm) -> Result<Option<SigningKey>, StoreError> {
        self.active_signing_key(KeyAlg::Sig(alg)).await
    }

    async fn pending_signing_keys(
        &self,
        alg: Algorithm,
    ) -> Result<Vec<(u64, SigningKey)>, StoreError> {
        let mut rows = self.backend.private_keys(KeyAlg::Sig(alg)).await?;
        rows.retain(|(info, _)| info.state == KeyState::Next);
        // The order `advance_keys` promotes them in (lifecycle::plan_advance).
        rows.sort_by(|(a, _), (b, _)| {
            (a.activates_at, a.created_at, &a.kid).cmp(&(b.activates_at, b.created_at, &b.kid))
        });
        let mut keys = Vec::with_capacity(rows.len());
        for (info, sealed) in rows {
            let key = self.open_key(
                &info.kid,
                &sealed,
                |der| SigningKey::from_pkcs8_der(der, Some(alg)),
                SigningKey::thumbprint_sha256,
            )?;
            keys.push((info.activates_at.unwrap_or(0), key.with_kid(info.kid)));
        }
        Ok(keys)
    }

    async fn entity_signing_key(&self) -> Result<Option<SigningKey>, StoreError> {
        let mut active: Vec<Algorithm> = self
            .backend
            .load_keys()
            .await?
            .into_iter()
            .filter(|k| k.state == KeyState::Active)
            .filter_map(|k| k.alg.entity())
            .collect();
        // RS256 (what the FTN brokers verify) when there is one; else the first by name.
        active.sort_by_key(|a| (*a != Algorithm::RS256, a.as_str()));
        match active.first() {
            Some(alg) => self.active_signing_key(KeyAlg::Entity(*alg)).await,
            None => Ok(None),
        }
    }

    async fn import_key(
        &self,
        alg: KeyAlg,
        pem: &str,
        now: UnixTime,
    ) -> Result<KeyInfo, StoreError> {
        let pem = Zeroizing::new(pem.to_owned());
        let material = blocking(move || import::from_pem(alg, &pem)).await?;
        let kid = material.kid.clone();
        let key = self.seal_key(alg, material.kid, &material.public_jwk, &material.der)?;
        let fresh = |stored: &[KeyInfo], _: KeyAlg| !stored.iter().any(|k| k.kid == kid);
        let mut info = self
            .backend
            .insert_keys(&[key], now.secs(), 0, &fresh)
            .await?;
        info.pop().ok_or_else(|| StoreError::Invalid {
            what: "key",
            reason: format!("key {kid} is in the store already (see `relier keys list`)"),
        })
    }

    async fn decryption_keys(&self, alg: KeyManagementAlg) -> Result<DecryptionKeys, StoreError> {
        let mut rows = self.backend.private_keys(alg.into()).await?;
        // Active first (the key an OP encrypts to), then next, then retired, newest first
        // within each (the backend's order; the sort is stable).
        rows.sort_by_key(|(info, _)| state_rank(info.state));
        let mut keys = DecryptionKeys::new();
        for (info, sealed) in rows.into_iter().take(MAX_DECRYPTION_KEYS) {
            let key = self.open_key(
                &info.kid,
                &sealed,
                DecryptionKey::from_pkcs8_der,
                DecryptionKey::thumbprint_sha256,
            )?;
            keys.push(key.with_kid(info.kid).restricted_to(alg)?)?;
        }
        Ok(keys)
    }

    async fn active_algs(&self) -> Result<Vec<Algorithm>, StoreError> {
        let mut algs: Vec<Algorithm> = self
            .backend
            .load_keys()
            .await?
            .into_iter()
            .filter(|k| k.state == KeyState::Active)
            .filter_map(|k| k.alg.sig())
            .collect();
        algs.sort_by_key(|a| a.as_str());
        algs.dedup();
        Ok(algs)
    }

    async fn active_enc_algs(&self) -> Result<Vec<KeyManagementAlg>, StoreError> {
        let mut algs: Vec<KeyManagementAlg> = self
            .backend
            .load_keys()
            .await?
            .into_iter()
            .filter(|k| k.state == KeyState::Active)
            .filter_map(|k| k.alg.enc())
            .collect();
        algs.sort_by_key(|a| a.as_str());
        algs.dedup();
        Ok(algs)
    }
}

#[async_trait]
impl<B: Backend> Store for Sealed<B> {
    fn url(&self) -> &StoreUrl {
        &self.url
    }

    fn derive_key(&self, label: &str) -> Result<Zeroizing<[u8; 32]>, StoreError> {
        self.cipher.derive_key(label)
    }

    async fn close(&self) {
        self.backend.close().await;
    }
}
