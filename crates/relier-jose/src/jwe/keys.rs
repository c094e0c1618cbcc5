//! The relying party's decryption keys: RSA (RSA-OAEP*), EC P-256/P-384/P-521 and X25519
//! (ECDH-ES*), and the key OIDC Core §10.2 derives from the client secret (`dir`, `A*KW`).

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::agreement::{self, PrivateKey};
use aws_lc_rs::digest;
use aws_lc_rs::encoding::{AsBigEndian as _, AsDer, Curve25519SeedBin, Pkcs8V1Der};
use aws_lc_rs::rsa::{KeySize, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair};
use zeroize::Zeroizing;

use super::alg::KeyManagementAlg;
use crate::b64;
use crate::error::JoseError;
use crate::jwk::Jwk;
use crate::keyutil::{Curve, decode_member, decode_secret_member, rejected};
use crate::pem;
use crate::signing::{check_der_len, ec_key_pair_from_jwk, rsa_key_pair_from_jwk};
use crate::untrusted::untrusted;

/// A key set may hold at most this many asymmetric keys (current and retired).
pub const MAX_DECRYPTION_KEYS: usize = 16;
/// Without a header `kid`, at most this many keys of the right type are tried, in the order
/// they were added (put the current key first).
pub const MAX_KEY_ATTEMPTS: usize = 4;

/// X25519 private and public keys are 32 bytes (RFC 7748 §5, RFC 8037 §2).
pub(crate) const X25519_KEY_LEN: usize = 32;

/// RFC 8410 §7 / §10.3: the PKCS#8 v1 encoding of an X25519 private key is this fixed prefix
/// (SEQUENCE, version 0, AlgorithmIdentifier id-X25519 1.3.101.110, OCTET STRING wrapping the
/// 32-byte CurvePrivateKey OCTET STRING) followed by the key.
const X25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
];

/// A private key the relying party decrypts JWEs with, parsed once. Cloning is cheap.
///
/// Built from a private JWK or an unencrypted PKCS#8 key (PEM or DER): RSA (2048 to 8192
/// bits) for RSA-OAEP and RSA-OAEP-256; EC P-256/P-384/P-521 or OKP X25519 for ECDH-ES and
/// ECDH-ES+A128KW/+A256KW. A JWK "alg" member restricts the key to that algorithm.
#[derive(Clone)]
pub struct DecryptionKey {
    kid: Option<String>,
    alg: Option<KeyManagementAlg>,
    inner: Arc<Inner>,
}

pub(crate) enum Inner {
    Rsa {
        /// Kept for the public JWK.
        pair: RsaKeyPair,
        oaep: OaepPrivateDecryptingKey,
    },
    Ec(Curve, PrivateKey),
    X25519(PrivateKey),
}

impl DecryptionKey {
    fn new(inner: Inner, kid: Option<String>) -> Self {
        DecryptionKey {
            kid,
            alg: None,
            inner: Arc::new(inner),
        }
    }

    /// Loads a private JWK: RSA (n, e, d, p, q, dp, dq, qi), EC (crv, x, y, d) or OKP X25519
    /// (crv, x, d). The key ID is the JWK "kid"; a JWK "alg" restricts the key to that JWE
    /// algorithm; "use" must be absent or "enc" and "key_ops", if present, must allow a
    /// decryption operation (RFC 7517 §4.2, §4.3).
    ///
    /// # Errors
    /// [`JoseError::NotPrivateKey`], [`JoseError::MissingMember`], [`JoseError::Malformed`],
    /// [`JoseError::InvalidKey`], [`JoseError::RsaKeyTooSmall`], [`JoseError::KeyUseMismatch`],
    /// [`JoseError::KeyOpsMismatch`], [`JoseError::UnsupportedKeyType`],
    /// [`JoseError::UnsupportedCurve`], [`JoseError::UnsupportedAlgorithm`].
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, JoseError> {
        if !jwk.is_private() {
            return Err(JoseError::NotPrivateKey);
        }
        if let Some(key_use) = &jwk.use_
            && key_use != "enc"
        {
            return Err(JoseError::KeyUseMismatch {
                key_use: untrusted(key_use),
            });
        }
        // RFC 7517 §4.3: "decrypt", "unwrapKey" (RSA-OAEP), "deriveKey"/"deriveBits" (ECDH).
        if let Some(ops) = &jwk.key_ops
            && !ops.iter().any(|op| {
                matches!(
                    op.as_str(),
                    "decrypt" | "unwrapKey" | "deriveKey" | "deriveBits"
                )
            })
        {
            return Err(JoseError::KeyOpsMismatch { op: "decrypt" });
        }
        let alg = jwk
            .alg
            .as_deref()
            .map(str::parse::<KeyManagementAlg>)
            .transpose()?;
        let inner = match jwk.kty.as_str() {
            "RSA" => rsa_inner(rsa_key_pair_from_jwk(jwk)?)?,
            "EC" => {
                let (curve, pair) = ec_key_pair_from_jwk(jwk)?;
                let der = pair
                    .to_pkcs8v1()
                    .map_err(|_| JoseError::Crypto("PKCS#8 encoding"))?;
                let key =
                    PrivateKey::from_private_key_der(curve.agreement_algorithm(), der.as_ref())
                        .map_err(|e| rejected(&e))?;
                Inner::Ec(curve, key)
            }
            "OKP" => x25519_from_jwk(jwk)?,
            "oct" => {
                return Err(JoseError::UnsupportedKeyType(
                    "oct (symmetric JWE keys come from the client secret, OIDC Core §10.2)"
                        .to_owned(),
                ));
            }
            other => return Err(JoseError::UnsupportedKeyType(untrusted(other))),
        };
        let key = Self::new(inner, jwk.kid.clone());
        match alg {
            Some(alg) => key.restricted_to(alg),
            None => Ok(key),
        }
    }

    /// Parses a private JWK from JSON text (at most 16 KiB); see [`DecryptionKey::from_jwk`].
    ///
    /// # Errors
    /// As [`Jwk::from_json`] and [`DecryptionKey::from_jwk`].
    pub fn from_jwk_json(json: &str) -> Result<Self, JoseError> {
        Self::from_jwk(&Jwk::from_json(json)?)
    }

    /// Loads an unencrypted PKCS#8 DER private key: RSA, EC P-256/P-384/P-521 or X25519.
    ///
    /// # Errors
    /// [`JoseError::TooLarge`], [`JoseError::InvalidKey`], [`JoseError::RsaKeyTooSmall`].
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, JoseError> {
        check_der_len(der)?;
        if let Ok(pair) = RsaKeyPair::from_pkcs8(der) {
            return Ok(Self::new(rsa_inner(pair)?, None));
        }
        for curve in Curve::ALL {
            if let Ok(key) = PrivateKey::from_private_key_der(curve.agreement_algorithm(), der) {
                return Ok(Self::new(Inner::Ec(curve, key), None));
            }
        }
        if let Some(seed) = der.strip_prefix(&X25519_PKCS8_PREFIX[..])
            && seed.len() == X25519_KEY_LEN
        {
            let key =
                PrivateKey::from_private_key(&agreement::X25519, seed).map_err(|e| rejected(&e))?;
            return Ok(Self::new(Inner::X25519(key), None));
        }
        Err(JoseError::InvalidKey {
            reason: "not an unencrypted PKCS#8 RSA, EC (P-256/P-384/P-521) or X25519 private key",
        })
    }

    /// Loads a "PRIVATE KEY" (PKCS#8) PEM document; other blocks (e.g. certificates) are
    /// skipped.
    ///
    /// # Errors
    /// [`JoseError::Malformed`], and as [`DecryptionKey::from_pkcs8_der`].
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, JoseError> {
        let (_, der) = pem::decode(pem, |label| label == "PRIVATE KEY")?;
        Self::from_pkcs8_der(&der)
    }

    /// Generates a key: an RSA key of 2048 bits when `alg` is RSA-OAEP*, else a key for ECDH-ES*
    /// on `curve` ("P-256", "P-384", "P-521" or "X25519"; P-256 when `None`). The key is not
    /// restricted to `alg`.
    ///
    /// # Errors
    /// [`JoseError::UnsupportedAlgorithm`] for a symmetric `alg`,
    /// [`JoseError::UnsupportedCurve`], [`JoseError::Crypto`].
    pub fn generate(alg: KeyManagementAlg, curve: Option<&str>) -> Result<Self, JoseError> {
        let failed = |_| JoseError::Crypto("key generation");
        let inner = if alg.is_rsa() {
            rsa_inner(RsaKeyPair::generate(KeySize::Rsa2048).map_err(failed)?)?
        } else if alg.is_ecdh() {
            match curve.unwrap_or("P-256") {
                "X25519" => {
                    Inner::X25519(PrivateKey::generate(&agreement::X25519).map_err(failed)?)
                }
                name => {
                    let curve = Curve::from_name(name)?;
                    Inner::Ec(
                        curve,
                        PrivateKey::generate(curve.agreement_algorithm()).map_err(failed)?,
                    )
                }
            }
        } else {
            return Err(JoseError::UnsupportedAlgorithm(alg.as_str().to_owned()));
        };
        Ok(Self::new(inner, None))
    }

    /// Generates an RSA key of `bits` (2048, 3072 or 4096) for RSA-OAEP and RSA-OAEP-256.
    ///
    /// # Errors
    /// [`JoseError::RsaKeyTooSmall`], [`JoseError::UnsupportedRsaKeySize`],
    /// [`JoseError::Crypto`].
    pub fn generate_rsa(bits: usize) -> Result<Self, JoseError> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            bits if bits < crate::keyutil::RSA_MIN_BITS => {
                return Err(JoseError::RsaKeyTooSmall { bits });
            }
            bits => return Err(JoseError::UnsupportedRsaKeySize { bits }),
        };
        let pair = RsaKeyPair::generate(size).map_err(|_| JoseError::Crypto("key generation"))?;
        Ok(Self::new(rsa_inner(pair)?, None))
    }

    /// The unencrypted PKCS#8 v1 DER encoding of the private key (RFC 5208; X25519 as RFC 8410
    /// §7), readable by [`DecryptionKey::from_pkcs8_der`]. Handle it as a secret.
    ///
    /// # Errors
    /// [`JoseError::Crypto`] if aws-lc-rs cannot encode the key.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, JoseError> {
        let failed = |_| JoseError::Crypto("PKCS#8 encoding");
        let der = match &*self.inner {
            Inner::Rsa { pair, .. } => {
                let der: Pkcs8V1Der<'static> = pair.as_der().map_err(failed)?;
                der.as_ref().to_vec()
            }
            Inner::Ec(_, key) => {
                let der: Pkcs8V1Der<'static> = key.as_der().map_err(failed)?;
                der.as_ref().to_vec()
            }
            Inner::X25519(key) => {
                let seed: Curve25519SeedBin<'static> = key.as_be_bytes().map_err(failed)?;
                let mut der = X25519_PKCS8_PREFIX.to_vec();
                der.extend_from_slice(seed.as_ref());
                der
            }
        };
        Ok(Zeroizing::new(der))
    }

    /// The RFC 7638 SHA-256 thumbprint of the public key, base64url (a stable key ID).
    ///
    /// # Errors
    /// As [`DecryptionKey::public_jwk`].
    pub fn thumbprint_sha256(&self) -> Result<String, JoseError> {
        self.public_jwk()?.thumbprint_sha256()
    }

    /// Sets the key ID.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Restricts the key to one algorithm (like a JWK "alg" member).
    ///
    /// # Errors
    /// [`JoseError::UnsupportedAlgorithm`] if the key type cannot do `alg`.
    pub fn restricted_to(mut self, alg: KeyManagementAlg) -> Result<Self, JoseError> {
        if !self.fits_type(alg) {
            return Err(JoseError::UnsupportedAlgorithm(format!(
                "{alg} with a {} key",
                self.key_type()
            )));
        }
        self.alg = Some(alg);
        Ok(self)
    }

    /// The key ID.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithm the key is restricted to, if any.
    #[must_use]
    pub fn algorithm(&self) -> Option<KeyManagementAlg> {
        self.alg
    }

    /// "RSA", "EC P-256", "EC P-384", "EC P-521" or "OKP X25519".
    #[must_use]
    pub fn key_type(&self) -> &'static str {
        match &*self.inner {
            Inner::Rsa { .. } => "RSA",
            Inner::Ec(curve, _) => curve.key_type(),
            Inner::X25519(_) => "OKP X25519",
        }
    }

    fn fits_type(&self, alg: KeyManagementAlg) -> bool {
        match &*self.inner {
            Inner::Rsa { .. } => alg.is_rsa(),
            Inner::Ec(..) | Inner::X25519(_) => alg.is_ecdh(),
        }
    }

    /// Whether the key may be used with `alg`: its type fits, and its restriction (if any)
    /// is `alg`.
    #[must_use]
    pub fn fits(&self, alg: KeyManagementAlg) -> bool {
        self.fits_type(alg) && self.alg.is_none_or(|a| a == alg)
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// The public JWK to publish (e.g. in the RP's `jwks_uri`): public members, "kid",
    /// "use":"enc" and "alg" when the key is restricted; never a private member.
    ///
    /// # Errors
    /// [`JoseError::Crypto`] if aws-lc-rs cannot encode the public key.
    pub fn public_jwk(&self) -> Result<Jwk, JoseError> {
        let failed = |_| JoseError::Crypto("public key encoding");
        let mut jwk = Jwk {
            kid: self.kid.clone(),
            use_: Some("enc".to_owned()),
            alg: self.alg.map(|a| a.as_str().to_owned()),
            ..Jwk::default()
        };
        match &*self.inner {
            Inner::Rsa { pair, .. } => {
                let public = pair.public_key();
                jwk.kty = "RSA".to_owned();
                jwk.n = Some(b64::encode(
                    public.modulus().big_endian_without_leading_zero(),
                ));
                jwk.e = Some(b64::encode(
                    public.exponent().big_endian_without_leading_zero(),
                ));
            }
            Inner::Ec(curve, key) => {
                let public = key.compute_public_key().map_err(failed)?;
                // SEC 1 uncompressed point: 0x04 || x || y.
                let len = curve.coord_len();
                let point = public.as_ref();
                let (Some(x), Some(y)) = (
                    point.get(1..=len),
                    point.get(len.saturating_add(1)..len.saturating_mul(2).saturating_add(1)),
                ) else {
                    return Err(JoseError::Crypto("EC public key encoding"));
                };
                jwk.kty = "EC".to_owned();
                jwk.crv = Some(curve.name().to_owned());
                jwk.x = Some(b64::encode(x));
                jwk.y = Some(b64::encode(y));
            }
            Inner::X25519(key) => {
                let public = key.compute_public_key().map_err(failed)?;
                jwk.kty = "OKP".to_owned();
                jwk.crv = Some("X25519".to_owned());
                jwk.x = Some(b64::encode(public.as_ref()));
            }
        }
        Ok(jwk)
    }
}

fn rsa_inner(pair: RsaKeyPair) -> Result<Inner, JoseError> {
    let bits = pair.public_modulus_len().saturating_mul(8);
    if bits < crate::keyutil::RSA_MIN_BITS {
        return Err(JoseError::RsaKeyTooSmall { bits });
    }
    let der: Pkcs8V1Der<'static> = pair
        .as_der()
        .map_err(|_| JoseError::Crypto("PKCS#8 encoding"))?;
    let private = PrivateDecryptingKey::from_pkcs8(der.as_ref()).map_err(|e| rejected(&e))?;
    let oaep =
        OaepPrivateDecryptingKey::new(private).map_err(|_| JoseError::Crypto("RSA-OAEP key"))?;
    Ok(Inner::Rsa { pair, oaep })
}

/// RFC 8037 §2: OKP key with "crv" X25519, "x" the 32-byte public key, "d" the private key.
fn x25519_from_jwk(jwk: &Jwk) -> Result<Inner, JoseError> {
    let crv = jwk
        .crv
        .as_deref()
        .ok_or(JoseError::MissingMember { member: "crv" })?;
    if crv != "X25519" {
        return Err(JoseError::UnsupportedCurve(untrusted(crv)));
    }
    let x = decode_member(jwk.x.as_deref(), "x")?;
    let d = decode_secret_member(jwk.d.as_ref(), "d")?;
    if x.len() != X25519_KEY_LEN || d.len() != X25519_KEY_LEN {
        return Err(JoseError::malformed(
            "JWK",
            "X25519 \"x\" and \"d\" must be 32 bytes (RFC 8037 §2)",
        ));
    }
    let key = PrivateKey::from_private_key(&agreement::X25519, &d).map_err(|e| rejected(&e))?;
    let public = key
        .compute_public_key()
        .map_err(|_| JoseError::Crypto("X25519 public key"))?;
    if public.as_ref() != x.as_slice() {
        return Err(JoseError::InvalidKey {
            reason: "X25519 \"x\" does not match \"d\"",
        });
    }
    Ok(Inner::X25519(key))
}

impl fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptionKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("key_type", &self.key_type())
            .finish_non_exhaustive()
    }
}

/// OIDC Core §10.2: the symmetric key for `dir` and `A*KW` is "derived from the client_secret
/// value by using a left truncated SHA-2 hash of the octets of the UTF-8 representation of the
/// client_secret. For keys of 256 or fewer bits, SHA-256 is used; for keys of 257-384 bits,
/// SHA-384 is used; for keys of 385-512 bits, SHA-512 is used. The hash value MUST be left
/// truncated to the appropriate bit length".
///
/// `len` is the key length in bytes: the AES Key Wrap key (16 for A128KW, 32 for A256KW) or,
/// for `dir`, the CEK length of `enc` ([`super::ContentEncAlg::cek_len`]).
///
/// # Errors
/// [`JoseError::UnsupportedAlgorithm`] for `len` 0 or above 64.
pub fn derive_key_from_client_secret(
    client_secret: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    let hash = match len {
        1..=32 => &digest::SHA256,
        33..=48 => &digest::SHA384,
        49..=64 => &digest::SHA512,
        _ => {
            return Err(JoseError::UnsupportedAlgorithm(format!(
                "a {len}-byte key derived from the client secret"
            )));
        }
    };
    let d = digest::digest(hash, client_secret);
    d.as_ref()
        .get(..len)
        .map(|k| Zeroizing::new(k.to_vec()))
        .ok_or(JoseError::Crypto("client secret key derivation"))
}

/// The relying party's decryption keys: asymmetric keys (current and retired), and the client
/// secret for symmetric key management.
#[derive(Clone, Default)]
pub struct DecryptionKeys {
    keys: Vec<DecryptionKey>,
    symmetric: Option<Symmetric>,
}

/// Where the symmetric key comes from.
#[derive(Clone)]
pub(crate) enum Symmetric {
    /// OIDC Core §10.2: derived per algorithm from the client secret.
    ClientSecret(Zeroizing<Vec<u8>>),
    /// A raw key used as is (the RFC 7520 test vectors).
    #[cfg(test)]
    Raw(Zeroizing<Vec<u8>>),
}

impl DecryptionKeys {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an asymmetric key. Keys are tried in the order they are added when a token names
    /// no `kid`: add the current key first.
    ///
    /// # Errors
    /// [`JoseError::TooLarge`] past [`MAX_DECRYPTION_KEYS`].
    pub fn push(&mut self, key: DecryptionKey) -> Result<(), JoseError> {
        if self.keys.len() >= MAX_DECRYPTION_KEYS {
            return Err(JoseError::TooLarge {
                what: "decryption key set",
                max: MAX_DECRYPTION_KEYS,
            });
        }
        self.keys.push(key);
        Ok(())
    }

    /// [`DecryptionKeys::push`], builder style.
    ///
    /// # Errors
    /// As [`DecryptionKeys::push`].
    pub fn with_key(mut self, key: DecryptionKey) -> Result<Self, JoseError> {
        self.push(key)?;
        Ok(self)
    }

    /// Sets the client secret (its UTF-8 octets) from which `dir` and `A128KW`/`A256KW` keys
    /// are derived (OIDC Core §10.2, [`derive_key_from_client_secret`]).
    #[must_use]
    pub fn with_client_secret(mut self, client_secret: impl AsRef<[u8]>) -> Self {
        self.symmetric = Some(Symmetric::ClientSecret(Zeroizing::new(
            client_secret.as_ref().to_vec(),
        )));
        self
    }

    #[cfg(test)]
    pub(crate) fn with_raw_symmetric_key(mut self, key: &[u8]) -> Self {
        self.symmetric = Some(Symmetric::Raw(Zeroizing::new(key.to_vec())));
        self
    }

    /// The asymmetric keys.
    #[must_use]
    pub fn keys(&self) -> &[DecryptionKey] {
        &self.keys
    }

    /// The symmetric key of `len` bytes.
    pub(crate) fn symmetric_key(&self, len: usize) -> Result<Zeroizing<Vec<u8>>, JoseError> {
        match &self.symmetric {
            None => Err(JoseError::NoDecryptionKey {
                reason: "no client secret for symmetric key management (dir, A128KW, A256KW)",
            }),
            Some(Symmetric::ClientSecret(secret)) => derive_key_from_client_secret(secret, len),
            #[cfg(test)]
            Some(Symmetric::Raw(key)) => Ok(key.clone()),
        }
    }

    /// The keys to try for `alg`, after `accept` (the curve check for ECDH-ES): with a header
    /// `kid`, the fitting keys with that `kid`; without, the first [`MAX_KEY_ATTEMPTS`]
    /// fitting keys.
    pub(crate) fn candidates(
        &self,
        alg: KeyManagementAlg,
        kid: Option<&str>,
        accept: impl Fn(&DecryptionKey) -> bool,
    ) -> Result<Vec<&DecryptionKey>, JoseError> {
        let fitting = self.keys.iter().filter(|k| k.fits(alg) && accept(k));
        let chosen: Vec<&DecryptionKey> = match kid {
            Some(kid) => fitting.filter(|k| k.kid() == Some(kid)).collect(),
            None => fitting.take(MAX_KEY_ATTEMPTS).collect(),
        };
        if chosen.is_empty() {
            return Err(JoseError::NoDecryptionKey {
                reason: if kid.is_some() {
                    "no key with the header's kid fits the algorithm"
                } else {
                    "no key fits the algorithm"
                },
            });
        }
        Ok(chosen)
    }
}

impl fmt::Debug for DecryptionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptionKeys")
            .field("keys", &self.keys)
            .field(
                "client_secret",
                &self.symmetric.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}
