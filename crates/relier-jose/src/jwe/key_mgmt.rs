//! Key management (RFC 7518 §4): how the Content Encryption Key is recovered.
//!
//! RSA-OAEP (§4.3), AES Key Wrap (§4.4), direct encryption (§4.5) and ECDH-ES with the Concat
//! KDF (§4.6), alone or with AES Key Wrap.

use aws_lc_rs::agreement::{self, UnparsedPublicKey};
use aws_lc_rs::digest;
use aws_lc_rs::key_wrap::{AES_128, AES_256, AesKek, KeyWrap as _};
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey};
use zeroize::Zeroizing;

use super::alg::{ContentEncAlg, KeyManagementAlg};
use super::keys::{Inner, X25519_KEY_LEN};
use crate::error::JoseError;
use crate::jwk::Jwk;
use crate::keyutil::{Curve, decode_member};

/// The `epk` of a JWE header (RFC 7518 §4.6.1.1), checked for shape and curve but not yet
/// validated as a point (aws-lc-rs does that when the key agreement parses it).
#[derive(Debug, Clone)]
pub(crate) enum Epk {
    /// SEC 1 uncompressed point 0x04 || x || y, each coordinate of the full length.
    Ec(Curve, Vec<u8>),
    /// RFC 8037 §2 X25519 public key.
    X25519(Vec<u8>),
}

impl Epk {
    /// Reads the header `epk` JWK: public members only, EC P-256/P-384/P-521 or OKP X25519.
    pub(crate) fn from_jwk(jwk: &Jwk) -> Result<Self, JoseError> {
        let bad = |reason| JoseError::InvalidEphemeralKey { reason };
        if jwk.is_private() {
            return Err(bad("must not contain private key members"));
        }
        let crv = jwk.crv.as_deref().ok_or(bad("\"crv\" is missing"))?;
        match jwk.kty.as_str() {
            "EC" => {
                let curve = Curve::from_name(crv).map_err(|_| bad("unsupported curve"))?;
                let x = decode_member(jwk.x.as_deref(), "x").map_err(|_| bad("bad \"x\""))?;
                let y = decode_member(jwk.y.as_deref(), "y").map_err(|_| bad("bad \"y\""))?;
                // RFC 7518 §6.2.1.2/§6.2.1.3: coordinates are the full size for the curve.
                let point = curve
                    .uncompressed_point(&x, &y)
                    .map_err(|_| bad("coordinates of the wrong length for the curve"))?;
                Ok(Epk::Ec(curve, point))
            }
            "OKP" => {
                if crv != "X25519" {
                    return Err(bad("unsupported curve"));
                }
                let x = decode_member(jwk.x.as_deref(), "x").map_err(|_| bad("bad \"x\""))?;
                if x.len() != X25519_KEY_LEN {
                    return Err(bad("X25519 \"x\" must be 32 bytes"));
                }
                Ok(Epk::X25519(x))
            }
            _ => Err(bad("unsupported key type")),
        }
    }

    /// Whether `key` is on the same curve (the only keys tried for this `epk`).
    pub(crate) fn same_curve(&self, key: &Inner) -> bool {
        match (self, key) {
            (Epk::Ec(a, _), Inner::Ec(b, _)) => a == b,
            (Epk::X25519(_), Inner::X25519(_)) => true,
            _ => false,
        }
    }
}

/// RFC 7518 §4.6.2: the Concat KDF of NIST SP 800-56A §5.8.1 with SHA-256.
///
/// OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo, where the first three
/// are a 32-bit big-endian length followed by the data, and SuppPubInfo is keydatalen in bits
/// as a 32-bit big-endian integer; SuppPrivInfo is empty. Each round hashes
/// counter || Z || OtherInfo with a 32-bit big-endian counter starting at 1.
pub(crate) fn concat_kdf(
    z: &[u8],
    key_len: usize,
    algorithm_id: &str,
    apu: &[u8],
    apv: &[u8],
) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    let too_long = || JoseError::malformed("JWE header", "apu/apv too long for the Concat KDF");
    let len32 = |data: &[u8]| u32::try_from(data.len()).map_err(|_| too_long());
    let keydatalen = u32::try_from(key_len)
        .ok()
        .and_then(|n| n.checked_mul(8))
        .ok_or_else(too_long)?;
    let alg_len = len32(algorithm_id.as_bytes())?;
    let apu_len = len32(apu)?;
    let apv_len = len32(apv)?;
    let mut out = Zeroizing::new(Vec::with_capacity(key_len.saturating_add(32)));
    let mut counter: u32 = 1;
    while out.len() < key_len {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(&counter.to_be_bytes());
        ctx.update(z);
        ctx.update(&alg_len.to_be_bytes());
        ctx.update(algorithm_id.as_bytes());
        ctx.update(&apu_len.to_be_bytes());
        ctx.update(apu);
        ctx.update(&apv_len.to_be_bytes());
        ctx.update(apv);
        ctx.update(&keydatalen.to_be_bytes());
        out.extend_from_slice(ctx.finish().as_ref());
        counter = counter.checked_add(1).ok_or_else(too_long)?;
    }
    out.truncate(key_len);
    Ok(out)
}

/// ECDH-ES (RFC 7518 §4.6.2): Z from our private key and the `epk`, then the Concat KDF.
/// AlgorithmID is `enc` for direct key agreement and `alg` for the +KW variants; keydatalen
/// is the CEK length, or the AES Key Wrap key length.
///
/// aws-lc-rs parses the peer point and refuses one that is not on our key's curve
/// (invalid-curve attacks); an all-zero X25519 shared secret (a small-order point, RFC 7748
/// §6.1) is refused as well.
pub(crate) fn ecdh_es_key(
    key: &Inner,
    epk: &Epk,
    alg: KeyManagementAlg,
    enc: ContentEncAlg,
    apu: &[u8],
    apv: &[u8],
) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    let invalid = JoseError::InvalidEphemeralKey {
        reason: "not a valid public key on the recipient key's curve",
    };
    let (private, peer) = match (key, epk) {
        (Inner::Ec(curve, private), Epk::Ec(epk_curve, point)) if curve == epk_curve => (
            private,
            UnparsedPublicKey::new(curve.agreement_algorithm(), point.as_slice()),
        ),
        (Inner::X25519(private), Epk::X25519(x)) => (
            private,
            UnparsedPublicKey::new(&agreement::X25519, x.as_slice()),
        ),
        _ => {
            return Err(JoseError::InvalidEphemeralKey {
                reason: "on another curve than the recipient key",
            });
        }
    };
    let z = agreement::agree(private, peer, invalid, |z| Ok(Zeroizing::new(z.to_vec())))?;
    if z.iter().fold(0u8, |acc, b| acc | b) == 0 {
        return Err(JoseError::InvalidEphemeralKey {
            reason: "the shared secret is all zero (small-order point)",
        });
    }
    let (algorithm_id, key_len) = match alg.key_wrap_len() {
        Some(len) => (alg.as_str(), len),
        None => (enc.as_str(), enc.cek_len()),
    };
    concat_kdf(&z, key_len, algorithm_id, apu, apv)
}

/// AES Key Wrap (RFC 7518 §4.4, RFC 3394) of a CEK of `enc`'s length with `kek`.
pub(crate) fn aes_unwrap(
    kek: &[u8],
    encrypted_key: &[u8],
    enc: ContentEncAlg,
) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    // RFC 3394 §2.2.1: the wrapped key is one 64-bit block longer than the key.
    let want = enc.cek_len().saturating_add(8);
    if encrypted_key.len() != want {
        return Err(JoseError::malformed(
            "JWE encrypted key",
            format!("must be {want} bytes for AES Key Wrap of an {enc} key"),
        ));
    }
    let kek = match kek.len() {
        16 => AesKek::new(&AES_128, kek),
        _ => AesKek::new(&AES_256, kek),
    }
    .map_err(|_| JoseError::DecryptionFailed)?;
    let mut cek = Zeroizing::new(vec![0u8; enc.cek_len()]);
    let len = kek
        .unwrap(encrypted_key, &mut cek)
        .map_err(|_| JoseError::DecryptionFailed)?
        .len();
    cek.truncate(len);
    Ok(cek)
}

/// RSA-OAEP / RSA-OAEP-256 (RFC 7518 §4.3). When decryption fails or yields a CEK of the wrong
/// length, a random CEK is returned instead so that the failure surfaces only as the content's
/// authentication failure (RFC 7516 §11.5, RFC 3218 §2.3.2).
pub(crate) fn rsa_oaep_cek(
    key: &OaepPrivateDecryptingKey,
    alg: KeyManagementAlg,
    encrypted_key: &[u8],
    enc: ContentEncAlg,
) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    let oaep = if alg == KeyManagementAlg::RsaOaep256 {
        &OAEP_SHA256_MGF1SHA256
    } else {
        &OAEP_SHA1_MGF1SHA1
    };
    let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
    let decrypted = key
        .decrypt(oaep, encrypted_key, &mut out, None)
        .ok()
        .map(|cek| cek.len())
        .filter(|&len| len == enc.cek_len());
    match decrypted {
        Some(len) => {
            out.truncate(len);
            Ok(out)
        }
        None => {
            let mut random = Zeroizing::new(vec![0u8; enc.cek_len()]);
            SystemRandom::new()
                .fill(&mut random)
                .map_err(|_| JoseError::Crypto("random source"))?;
            Ok(random)
        }
    }
}

/// Key management on the encrypting side (RFC 7518 §4.3, §4.4, §4.6): the CEK, the JWE
/// Encrypted Key and (for ECDH-ES) the header's `epk`, to a recipient's public key — the OP's,
/// for encrypted request objects ([`super::public`]), or the RP's own in tests.
pub(crate) mod encrypt {
    use aws_lc_rs::agreement::PrivateKey;
    use aws_lc_rs::rand::SecureRandom;
    use aws_lc_rs::rsa::{OaepPublicEncryptingKey, PublicEncryptingKey};
    use serde_json::{Value, json};

    use super::*;
    use crate::b64;

    fn failed<E>(_: E) -> JoseError {
        JoseError::Crypto("JWE encryption")
    }

    /// `len` bytes from `rng`.
    pub(crate) fn random_from(rng: &dyn SecureRandom, len: usize) -> Result<Vec<u8>, JoseError> {
        let mut v = vec![0u8; len];
        rng.fill(&mut v).map_err(failed)?;
        Ok(v)
    }

    #[cfg(any(test, feature = "test-encryption"))]
    pub(crate) fn random(len: usize) -> Result<Vec<u8>, JoseError> {
        random_from(&SystemRandom::new(), len)
    }

    pub(crate) fn aes_wrap(kek: &[u8], cek: &[u8]) -> Result<Vec<u8>, JoseError> {
        let kek = match kek.len() {
            16 => AesKek::new(&AES_128, kek),
            _ => AesKek::new(&AES_256, kek),
        }
        .map_err(failed)?;
        let mut out = vec![0u8; cek.len().saturating_add(8)];
        let len = kek.wrap(cek, &mut out).map_err(failed)?.len();
        out.truncate(len);
        Ok(out)
    }

    /// RSA-OAEP / RSA-OAEP-256 (RFC 7518 §4.2, §4.3): `cek` encrypted to `public`.
    pub(crate) fn rsa_oaep_to(
        public: &PublicEncryptingKey,
        alg: KeyManagementAlg,
        cek: &[u8],
    ) -> Result<Vec<u8>, JoseError> {
        let public = OaepPublicEncryptingKey::new(public.clone()).map_err(failed)?;
        let oaep = if alg == KeyManagementAlg::RsaOaep256 {
            &OAEP_SHA256_MGF1SHA256
        } else {
            &OAEP_SHA1_MGF1SHA1
        };
        let mut out = vec![0u8; public.ciphertext_size()];
        let len = public
            .encrypt(oaep, cek, &mut out, None)
            .map_err(failed)?
            .len();
        out.truncate(len);
        Ok(out)
    }

    /// RSA-OAEP to one of the RP's own keys (its public half).
    #[cfg(any(test, feature = "test-encryption"))]
    pub(crate) fn rsa_oaep(
        to: &crate::jwe::DecryptionKey,
        alg: KeyManagementAlg,
        cek: &[u8],
    ) -> Result<Vec<u8>, JoseError> {
        use aws_lc_rs::encoding::AsDer as _;
        let Inner::Rsa { pair, .. } = to.inner() else {
            return Err(JoseError::UnsupportedAlgorithm(format!(
                "{alg} to a {} key",
                to.key_type()
            )));
        };
        let der = pair.as_der().map_err(failed)?;
        let private =
            aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(der.as_ref()).map_err(failed)?;
        rsa_oaep_to(&private.public_key(), alg, cek)
    }

    /// An ephemeral key on the recipient's curve: the `epk` JWK and the ECDH-ES derived key
    /// (RFC 7518 §4.6). The derivation runs with the roles swapped (ephemeral private key,
    /// recipient public key) through the same code as decryption.
    pub(crate) fn ecdh_es_to(
        recipient: &Epk,
        alg: KeyManagementAlg,
        enc: ContentEncAlg,
        apu: &[u8],
        apv: &[u8],
    ) -> Result<(Value, Zeroizing<Vec<u8>>), JoseError> {
        let (ours, epk) = match recipient {
            Epk::Ec(curve, _) => {
                let ephemeral =
                    PrivateKey::generate(curve.agreement_algorithm()).map_err(failed)?;
                let public = ephemeral.compute_public_key().map_err(failed)?;
                let len = curve.coord_len();
                let (Some(x), Some(y)) = (
                    public.as_ref().get(1..=len),
                    public.as_ref().get(len.saturating_add(1)..),
                ) else {
                    return Err(JoseError::Crypto("EC public key encoding"));
                };
                let epk = json!({
                    "kty": "EC",
                    "crv": curve.name(),
                    "x": b64::encode(x),
                    "y": b64::encode(y),
                });
                (Inner::Ec(*curve, ephemeral), epk)
            }
            Epk::X25519(_) => {
                let ephemeral = PrivateKey::generate(&agreement::X25519).map_err(failed)?;
                let public = ephemeral.compute_public_key().map_err(failed)?;
                let epk = json!({"kty": "OKP", "crv": "X25519", "x": b64::encode(public.as_ref())});
                (Inner::X25519(ephemeral), epk)
            }
        };
        let key = ecdh_es_key(&ours, recipient, alg, enc, apu, apv)?;
        Ok((epk, key))
    }

    /// ECDH-ES to one of the RP's own keys (its public half).
    #[cfg(any(test, feature = "test-encryption"))]
    pub(crate) fn ecdh_es(
        to: &crate::jwe::DecryptionKey,
        alg: KeyManagementAlg,
        enc: ContentEncAlg,
        apu: &[u8],
        apv: &[u8],
    ) -> Result<(Value, Zeroizing<Vec<u8>>), JoseError> {
        if matches!(to.inner(), Inner::Rsa { .. }) {
            return Err(JoseError::UnsupportedAlgorithm(format!(
                "{alg} to an RSA key"
            )));
        }
        ecdh_es_to(&Epk::from_jwk(&to.public_jwk()?)?, alg, enc, apu, apv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::b64;

    /// RFC 7518 Appendix C: ECDH-ES with P-256, apu "Alice", apv "Bob", enc A128GCM.
    const ALICE_EPHEMERAL: &str = r#"{"kty":"EC","crv":"P-256","x":"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0","y":"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps","d":"0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo"}"#;
    const BOB: &str = r#"{"kty":"EC","crv":"P-256","x":"weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ","y":"e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck","d":"VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw"}"#;

    #[test]
    fn rfc7518_appendix_c_concat_kdf() {
        let bob = crate::jwe::DecryptionKey::from_jwk_json(BOB).unwrap();
        let alice = Jwk::from_json(ALICE_EPHEMERAL).unwrap();
        let epk = Epk::from_jwk(&alice.to_public()).unwrap();
        let key = ecdh_es_key(
            bob.inner(),
            &epk,
            KeyManagementAlg::EcdhEs,
            ContentEncAlg::A128Gcm,
            b"Alice",
            b"Bob",
        )
        .unwrap();
        assert_eq!(b64::encode(&key), "VqqN6vgjbSBcIijNcacQGg");
    }

    #[test]
    fn concat_kdf_lengths_and_inputs() {
        let base = concat_kdf(b"z", 16, "A128GCM", b"A", b"B").unwrap();
        assert_eq!(base.len(), 16);
        // Longer than one SHA-256 block of output: two rounds, and a prefix-consistent result
        // only when keydatalen is the same (it is part of OtherInfo).
        let long = concat_kdf(b"z", 64, "A256CBC-HS512", b"", b"").unwrap();
        assert_eq!(long.len(), 64);
        for other in [
            concat_kdf(b"z", 16, "A128GCM", b"B", b"A").unwrap(),
            concat_kdf(b"z", 16, "A256GCM", b"A", b"B").unwrap(),
            concat_kdf(b"y", 16, "A128GCM", b"A", b"B").unwrap(),
            concat_kdf(b"z", 16, "A128GCM", b"", b"AB").unwrap(),
        ] {
            assert_ne!(*base, *other);
        }
    }

    #[test]
    fn aes_key_wrap_lengths() {
        let kek = [1u8; 16];
        let cek = [2u8; 16];
        let wrapped = encrypt::aes_wrap(&kek, &cek).unwrap();
        let got = aes_unwrap(&kek, &wrapped, ContentEncAlg::A128Gcm).unwrap();
        assert_eq!(got.as_slice(), &cek);
        // Wrong length for the enc: refused before unwrapping.
        assert!(matches!(
            aes_unwrap(&kek, &wrapped, ContentEncAlg::A256Gcm),
            Err(JoseError::Malformed { .. })
        ));
        let mut bad = wrapped.clone();
        bad[3] ^= 1;
        assert_eq!(
            aes_unwrap(&kek, &bad, ContentEncAlg::A128Gcm),
            Err(JoseError::DecryptionFailed)
        );
        assert_eq!(
            aes_unwrap(&[9u8; 16], &wrapped, ContentEncAlg::A128Gcm),
            Err(JoseError::DecryptionFailed)
        );
    }
}
