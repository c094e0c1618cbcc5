//! A self-signed X.509 certificate for a client's RSA signing key, for providers that register
//! keys as certificates — Microsoft Entra ID's certificate credentials
//! (<https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials>): the
//! certificate is uploaded once, and each client assertion names it in its header by the
//! SHA-256 thumbprint of its DER (`x5t#S256`,
//! [`ClientAuth::with_x5t_s256`](relier_core::ClientAuth::with_x5t_s256)).
//!
//! The certificate is a function of the key alone: same key, same bytes, same thumbprint —
//! whichever process or restart builds it, with nothing stored. So the serial number is taken
//! from the key's RFC 7638 thumbprint, the validity is fixed (2000-01-01 to 2100-01-01: the
//! store key's rotation, not the certificate, retires the key), and only RSA keys qualify:
//! their PKCS#1 v1.5 signature is deterministic (an ECDSA one is not), and Entra ID's client
//! assertions are RS256 or PS256.

use aws_lc_rs::digest;
use relier_jose::{JoseError, SigningKey};
use rustls_pki_types::PrivatePkcs8KeyDer;

/// A certificate for a signing key.
#[derive(Debug, Clone)]
pub struct KeyCertificate {
    /// DER.
    pub der: Vec<u8>,
    /// PEM (`-----BEGIN CERTIFICATE-----`), to upload.
    pub pem: String,
    /// base64url(SHA-256(DER)), the `x5t#S256` of assertions signed with the key.
    pub x5t_s256: String,
}

/// Why no certificate could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// Only RSA keys (RS256, PS256, …) get a certificate.
    #[error("a certificate is made for RSA keys (RS256/PS256), not {alg}")]
    NotRsa {
        /// The key's algorithm.
        alg: &'static str,
    },
    /// The key could not be exported or thumbprinted.
    #[error("certificate: {0}")]
    Jose(#[from] JoseError),
    /// The certificate could not be built.
    #[error("certificate: {0}")]
    Build(#[from] rcgen::Error),
}

/// The self-signed certificate of `key` (RSA), subject `CN=relier <kid>`.
///
/// # Errors
/// [`CertificateError::NotRsa`], or the key or certificate encoding failed.
pub fn key_certificate(key: &SigningKey) -> Result<KeyCertificate, CertificateError> {
    if !key.algorithm().is_rsa() {
        return Err(CertificateError::NotRsa {
            alg: key.algorithm().as_str(),
        });
    }
    let pkcs8 = key.to_pkcs8_der()?;
    let pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
        &PrivatePkcs8KeyDer::from(pkcs8.as_slice()),
        &rcgen::PKCS_RSA_SHA256,
    )?;
    let thumbprint = key.thumbprint_sha256()?;
    let mut params = rcgen::CertificateParams::default();
    params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    params.not_after = rcgen::date_time_ymd(2100, 1, 1);
    let serial: Vec<u8> = thumbprint.bytes().take(16).collect();
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let mut dn = rcgen::DistinguishedName::new();
    let kid = key.kid().unwrap_or(&thumbprint);
    dn.push(rcgen::DnType::CommonName, format!("relier {kid}"));
    params.distinguished_name = dn;
    let cert = params.self_signed(&pair)?;
    let der = cert.der().to_vec();
    let x5t_s256 = relier_jose::b64::encode(digest::digest(&digest::SHA256, &der).as_ref());
    Ok(KeyCertificate {
        pem: cert.pem(),
        der,
        x5t_s256,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use relier_jose::Algorithm;

    #[test]
    fn the_certificate_is_a_function_of_the_key() {
        let key = SigningKey::generate(Algorithm::RS256, None)
            .unwrap()
            .with_kid("k1");
        let a = key_certificate(&key).unwrap();
        let b = key_certificate(&key).unwrap();
        assert_eq!(a.der, b.der);
        assert_eq!(a.x5t_s256, b.x5t_s256);
        assert!(a.pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(a.x5t_s256.len(), 43);
        let other = SigningKey::generate(Algorithm::RS256, None).unwrap();
        assert_ne!(key_certificate(&other).unwrap().x5t_s256, a.x5t_s256);
        let ec = SigningKey::generate(Algorithm::ES256, None).unwrap();
        assert!(matches!(
            key_certificate(&ec),
            Err(CertificateError::NotRsa { alg: "ES256" })
        ));
    }
}
