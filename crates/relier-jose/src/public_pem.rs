//! Public keys in PEM (RFC 7468 §13 `PUBLIC KEY`, an X.509 SubjectPublicKeyInfo; RFC 8017
//! `RSA PUBLIC KEY`) as public JWKs, e.g. a federation entity key handed over as a file.

use crate::b64;
use crate::error::JoseError;
use crate::jwk::{Jwk, MAX_JWKS_KEYS};
use crate::keyutil::check_rsa_public;
use crate::pem::{self, MAX_PEM_BYTES};

/// The PEM labels read as public keys.
const LABELS: [&str; 2] = ["PUBLIC KEY", "RSA PUBLIC KEY"];

impl Jwk {
    /// Every public key block of a PEM document (`PUBLIC KEY` or `RSA PUBLIC KEY`; other blocks
    /// and text between blocks are skipped) as a public JWK with `kid` = its RFC 7638 SHA-256
    /// thumbprint. RSA keys only, of at least 2048 bits.
    ///
    /// # Errors
    /// [`JoseError::TooLarge`] (the document, or more than [`MAX_JWKS_KEYS`] keys),
    /// [`JoseError::Malformed`] when there is no public key block or a block is broken,
    /// [`JoseError::UnsupportedKeyType`] for a non-RSA key, [`JoseError::RsaKeyTooSmall`].
    pub fn public_keys_from_pem(text: &str) -> Result<Vec<Jwk>, JoseError> {
        if text.len() > MAX_PEM_BYTES {
            return Err(JoseError::TooLarge {
                what: "PEM document",
                max: MAX_PEM_BYTES,
            });
        }
        let mut keys = Vec::new();
        for block in blocks(text) {
            if keys.len() >= MAX_JWKS_KEYS {
                return Err(JoseError::TooLarge {
                    what: "PEM public keys",
                    max: MAX_JWKS_KEYS,
                });
            }
            let (_, der) = pem::decode(block, |label| LABELS.contains(&label))?;
            keys.push(rsa_public_jwk(&der)?);
        }
        if keys.is_empty() {
            return Err(JoseError::malformed(
                "PEM",
                "no PUBLIC KEY or RSA PUBLIC KEY block found",
            ));
        }
        Ok(keys)
    }
}

/// The text of each public key block, from its BEGIN line to its END line.
fn blocks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = LABELS
        .iter()
        .filter_map(|l| rest.find(&format!("-----BEGIN {l}-----")))
        .min()
    {
        let tail = rest.get(start..).unwrap_or_default();
        // The block runs to the end of its END line (or to the end of the text: `decode` then
        // reports the missing END line).
        let end = tail
            .find("-----END ")
            .and_then(|e| tail.get(e..).and_then(|t| t.find('\n')).map(|n| e + n + 1))
            .unwrap_or(tail.len());
        out.push(tail.get(..end).unwrap_or(tail));
        rest = tail.get(end..).unwrap_or_default();
    }
    out
}

/// An RSA public key (SubjectPublicKeyInfo or RSAPublicKey DER) as a JWK with its thumbprint
/// as `kid`.
fn rsa_public_jwk(der: &[u8]) -> Result<Jwk, JoseError> {
    let public = aws_lc_rs::rsa::PublicKey::from_der(der).map_err(|_| {
        JoseError::UnsupportedKeyType("a PEM public key that is not RSA".to_owned())
    })?;
    let n = public.modulus().big_endian_without_leading_zero().to_vec();
    let e = public.exponent().big_endian_without_leading_zero().to_vec();
    check_rsa_public(&n, &e)?;
    let mut jwk = Jwk {
        kty: "RSA".to_owned(),
        n: Some(b64::encode(&n)),
        e: Some(b64::encode(&e)),
        ..Jwk::default()
    };
    jwk.kid = Some(jwk.thumbprint_sha256()?);
    Ok(jwk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Algorithm, SigningKey};

    fn spki_pem(key: &SigningKey) -> String {
        let jwk = key.public_jwk().unwrap();
        let n = b64::decode(jwk.n.as_deref().unwrap()).unwrap();
        let e = b64::decode(jwk.e.as_deref().unwrap()).unwrap();
        let public = aws_lc_rs::rsa::PublicKeyComponents { n, e };
        let encrypting: aws_lc_rs::rsa::PublicEncryptingKey = public.try_into().unwrap();
        use aws_lc_rs::encoding::AsDer;
        let der = encrypting.as_der().unwrap();
        pem::encode("PUBLIC KEY", der.as_ref()).to_string()
    }

    #[test]
    fn reads_every_public_key_with_thumbprint_kids() {
        let a = SigningKey::generate(Algorithm::RS256, Some(2048)).unwrap();
        let b = SigningKey::generate(Algorithm::RS256, Some(2048)).unwrap();
        let text = format!("first\n{}between\n{}", spki_pem(&a), spki_pem(&b));
        let keys = Jwk::public_keys_from_pem(&text).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys[0].kid.as_deref(),
            Some(a.thumbprint_sha256().unwrap().as_str())
        );
        assert_eq!(
            keys[1].kid.as_deref(),
            Some(b.thumbprint_sha256().unwrap().as_str())
        );
        assert!(!keys[0].is_private());
    }

    #[test]
    fn refuses_documents_without_public_keys() {
        let key = SigningKey::generate(Algorithm::RS256, Some(2048)).unwrap();
        let private = key.to_pkcs8_pem().unwrap();
        assert!(Jwk::public_keys_from_pem(&private).is_err());
        assert!(Jwk::public_keys_from_pem("").is_err());
        let ec = SigningKey::generate(Algorithm::ES256, None).unwrap();
        let spki = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &ec.to_pkcs8_der().unwrap(),
        )
        .unwrap();
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::signature::KeyPair;
        let der = spki.public_key().as_der().unwrap();
        let pem = pem::encode("PUBLIC KEY", der.as_ref());
        assert!(matches!(
            Jwk::public_keys_from_pem(&pem),
            Err(JoseError::UnsupportedKeyType(_))
        ));
    }
}
