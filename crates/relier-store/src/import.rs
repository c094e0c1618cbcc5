//! Keys brought into the store from a PEM file (`relier keys import`): parsed, held to the
//! rules generation follows (an asymmetric algorithm the key fits, RSA of at least 2048 bits,
//! elliptic curves of at least 224 bits), and reduced to what the store keeps: the kid (RFC 7638
//! thumbprint), the public JWK and the PKCS#8 DER private key (sealed by the caller).

use relier_core::key_strength::KeyStrength;
use relier_jose::jwe::{DecryptionKey, KeyManagementAlg};
use relier_jose::{JoseError, Jwk, SigningKey};
use zeroize::Zeroizing;

use crate::error::StoreError;
use crate::model::KeyAlg;

/// A key ready to be sealed and stored.
pub(crate) struct Material {
    /// The RFC 7638 SHA-256 thumbprint of the public key.
    pub kid: String,
    /// The public JWK (with "kid" and "alg").
    pub public_jwk: Jwk,
    /// The private key, PKCS#8 DER.
    pub der: Zeroizing<Vec<u8>>,
}

/// Reads the private key of `pem` for `alg`: PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE
/// KEY") or SEC 1 ("EC PRIVATE KEY"); other blocks (a certificate chain) are skipped,
/// encrypted keys refused.
///
/// # Errors
/// [`StoreError::Jose`] for an unreadable key or one that does not fit `alg`,
/// [`StoreError::Invalid`] for a symmetric or `none` algorithm or a weak key.
pub(crate) fn from_pem(alg: KeyAlg, pem: &str) -> Result<Material, StoreError> {
    let material = read(alg, pem).map_err(|e| match e {
        // aws-lc-rs refuses a small RSA key while parsing it, before it can be sized.
        StoreError::Jose(JoseError::InvalidKey { reason: "TooSmall" }) => {
            weak("an RSA key of fewer than 2048 bits")
        }
        StoreError::Jose(JoseError::RsaKeyTooSmall { bits }) => weak(&format!("RSA {bits} bits")),
        other => other,
    })?;
    check_strength(&material.public_jwk)?;
    Ok(material)
}

fn read(alg: KeyAlg, pem: &str) -> Result<Material, StoreError> {
    Ok(match alg {
        KeyAlg::Sig(a) | KeyAlg::Entity(a) => {
            crate::sealed::check_key_alg(a)?;
            let key = SigningKey::from_pkcs8_pem(pem, Some(a))?;
            let kid = key.thumbprint_sha256()?;
            let key = key.with_kid(kid.clone());
            Material {
                public_jwk: key.public_jwk()?,
                der: key.to_pkcs8_der()?,
                kid,
            }
        }
        KeyAlg::Enc(a) => {
            let key = decryption_key(a, pem)?;
            let kid = key.thumbprint_sha256()?;
            let key = key.with_kid(kid.clone());
            Material {
                public_jwk: key.public_jwk()?,
                der: key.to_pkcs8_der()?,
                kid,
            }
        }
    })
}

/// An encryption key restricted to `alg`. A PKCS#1 or SEC 1 file is read as a signing key and
/// re-encoded as PKCS#8, the one form a decryption key is read from.
fn decryption_key(alg: KeyManagementAlg, pem: &str) -> Result<DecryptionKey, StoreError> {
    if !(alg.is_rsa() || alg.is_ecdh()) {
        // OIDC Core §10.2: symmetric key management uses a key derived from the client
        // secret, never a stored key.
        return Err(StoreError::Invalid {
            what: "key algorithm",
            reason: format!(
                "{alg} is not an asymmetric key-management algorithm (RSA-OAEP, RSA-OAEP-256, \
                 ECDH-ES, ECDH-ES+A128KW, ECDH-ES+A256KW)"
            ),
        });
    }
    let key = if pem.contains("-----BEGIN PRIVATE KEY-----") {
        DecryptionKey::from_pkcs8_pem(pem)?
    } else {
        let signing = SigningKey::from_pkcs8_pem(pem, None)?;
        DecryptionKey::from_pkcs8_der(&signing.to_pkcs8_der()?)?
    };
    Ok(key.restricted_to(alg)?)
}

/// FAPI 2.0 Security Profile §5.4.1, as generation: RSA at least 2048 bits, elliptic curves at
/// least 224 bits.
fn check_strength(public_jwk: &Jwk) -> Result<(), StoreError> {
    let strength = KeyStrength::of(public_jwk);
    if strength.meets_fapi2() {
        Ok(())
    } else {
        Err(weak(&strength.describe()))
    }
}

fn weak(what: &str) -> StoreError {
    StoreError::Invalid {
        what: "key",
        reason: format!(
            "{what} is weaker than relier generates (RSA at least {} bits, elliptic curves at \
             least {} bits)",
            relier_core::key_strength::MIN_RSA_BITS,
            relier_core::key_strength::MIN_EC_BITS
        ),
    }
}

#[cfg(test)]
mod tests {
    use relier_jose::Algorithm;

    use super::*;

    const SP_SIGNING: &str = include_str!("../../../tests/vectors/isb/sp-signing-key.pem");
    const SP_ENCRYPTION: &str = include_str!("../../../tests/vectors/isb/sp-encryption-key.pem");
    const SP_ENTITY: &str = include_str!("../../../tests/vectors/isb/sp-entity-signing-key.pem");

    #[test]
    fn isb_sandbox_keys_get_the_kids_the_isb_prints() {
        // OP ISB README §13, §14: the sandbox SP's keys and their kids.
        let sig = from_pem(KeyAlg::Sig(Algorithm::RS256), SP_SIGNING).unwrap();
        assert_eq!(sig.kid, "dl-lgRcT7LhEkqbnod6QGBHl8veqgZenwdB3RV2OJkY");
        let enc = from_pem(KeyAlg::Enc(KeyManagementAlg::RsaOaep), SP_ENCRYPTION).unwrap();
        assert_eq!(enc.kid, "MfYGuONWQZabwwph02zJEqOQIPOV1PhEscgHch0QqD0");
        assert_eq!(enc.public_jwk.alg.as_deref(), Some("RSA-OAEP"));
        let entity = from_pem(KeyAlg::Entity(Algorithm::RS256), SP_ENTITY).unwrap();
        assert_eq!(entity.kid, "QUGHzS05831lYsOB7_o-Nz2Ode2jmnmh5dJjDA5Q5SM");
        assert_eq!(entity.public_jwk.alg.as_deref(), Some("RS256"));
        assert!(entity.public_jwk.d.is_none());
        // The PKCS#8 form reads back as the same key.
        let back = SigningKey::from_pkcs8_der(&entity.der, Some(Algorithm::RS256)).unwrap();
        assert_eq!(back.thumbprint_sha256().unwrap(), entity.kid);
    }

    #[test]
    fn pkcs8_and_ec_keys_import_and_misfits_are_refused() {
        let ec = SigningKey::generate(Algorithm::ES256, None).unwrap();
        let pem = ec.to_pkcs8_pem().unwrap();
        let m = from_pem(KeyAlg::Sig(Algorithm::ES256), &pem).unwrap();
        assert_eq!(m.kid, ec.thumbprint_sha256().unwrap());
        let m = from_pem(KeyAlg::Enc(KeyManagementAlg::EcdhEs), &pem).unwrap();
        assert_eq!(m.kid, ec.thumbprint_sha256().unwrap());
        // An EC key for RSA-OAEP, an RSA key for ES256, HMAC, symmetric key management.
        assert!(from_pem(KeyAlg::Enc(KeyManagementAlg::RsaOaep), &pem).is_err());
        assert!(from_pem(KeyAlg::Sig(Algorithm::ES256), SP_SIGNING).is_err());
        assert!(matches!(
            from_pem(KeyAlg::Entity(Algorithm::HS256), SP_ENTITY),
            Err(StoreError::Invalid { .. })
        ));
        assert!(matches!(
            from_pem(KeyAlg::Enc(KeyManagementAlg::A128Kw), SP_ENCRYPTION),
            Err(StoreError::Invalid { .. })
        ));
        assert!(from_pem(KeyAlg::Sig(Algorithm::RS256), "not a key").is_err());
    }
}
