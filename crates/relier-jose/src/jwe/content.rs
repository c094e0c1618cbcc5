//! Content decryption (RFC 7518 §5): AES-GCM and AES-CBC-HMAC-SHA2.

use aws_lc_rs::aead::{AES_128_GCM, AES_192_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{
    AES_128, AES_192, AES_256, DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::{constant_time, hmac};
use zeroize::Zeroizing;

use super::alg::ContentEncAlg;
use crate::error::JoseError;

/// Decrypts `ciphertext` (moved in, decrypted in place) with the CEK and returns the
/// plaintext. The IV and tag lengths must already have been checked against `enc`.
///
/// Every cryptographic failure is [`JoseError::DecryptionFailed`] (RFC 7516 §11.5).
pub(crate) fn decrypt(
    enc: ContentEncAlg,
    cek: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: Vec<u8>,
    tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    // RFC 7516 §5.2 step 14 / RFC 7518 §5.2.2.1: a CEK of the wrong length is an error.
    if cek.len() != enc.cek_len() {
        return Err(JoseError::DecryptionFailed);
    }
    let mut buf = Zeroizing::new(ciphertext);
    match enc {
        ContentEncAlg::A128Gcm | ContentEncAlg::A192Gcm | ContentEncAlg::A256Gcm => {
            gcm_open(enc, cek, iv, aad, &mut buf, tag)?;
        }
        ContentEncAlg::A128CbcHs256 | ContentEncAlg::A192CbcHs384 | ContentEncAlg::A256CbcHs512 => {
            cbc_hmac_open(enc, cek, iv, aad, &mut buf, tag)?;
        }
    }
    Ok(buf)
}

fn gcm_algorithm(enc: ContentEncAlg) -> &'static aws_lc_rs::aead::Algorithm {
    match enc {
        ContentEncAlg::A128Gcm => &AES_128_GCM,
        ContentEncAlg::A192Gcm => &AES_192_GCM,
        _ => &AES_256_GCM,
    }
}

/// RFC 7518 §5.3: 96-bit IV, 128-bit tag, AAD = ASCII(BASE64URL(UTF8(JWE Protected Header))).
fn gcm_open(
    enc: ContentEncAlg,
    cek: &[u8],
    iv: &[u8],
    aad: &[u8],
    buf: &mut Vec<u8>,
    tag: &[u8],
) -> Result<(), JoseError> {
    let key = UnboundKey::new(gcm_algorithm(enc), cek).map_err(|_| JoseError::DecryptionFailed)?;
    let key = LessSafeKey::new(key);
    let nonce = Nonce::try_assume_unique_for_key(iv).map_err(|_| JoseError::DecryptionFailed)?;
    let len = key
        .open_in_place_separate_tag(nonce, Aad::from(aad), tag, buf)
        .map_err(|_| JoseError::DecryptionFailed)?
        .len();
    buf.truncate(len);
    Ok(())
}

/// MAC_KEY, ENC_KEY, HMAC and AES for an AES-CBC-HMAC-SHA2 algorithm.
struct CbcHmac {
    hmac: hmac::Algorithm,
    aes: &'static aws_lc_rs::cipher::Algorithm,
}

fn cbc_hmac(enc: ContentEncAlg) -> CbcHmac {
    match enc {
        ContentEncAlg::A192CbcHs384 => CbcHmac {
            hmac: hmac::HMAC_SHA384,
            aes: &AES_192,
        },
        ContentEncAlg::A256CbcHs512 => CbcHmac {
            hmac: hmac::HMAC_SHA512,
            aes: &AES_256,
        },
        _ => CbcHmac {
            hmac: hmac::HMAC_SHA256,
            aes: &AES_128,
        },
    }
}

/// RFC 7518 §5.2.2.1: "The secondary keys MAC_KEY and ENC_KEY are generated from the input
/// key K as follows": MAC_KEY = initial MAC_KEY_LEN octets of K, ENC_KEY = final ENC_KEY_LEN
/// octets of K. Both halves are equal in length for every algorithm of §5.2.3–§5.2.5.
fn split_cek(cek: &[u8]) -> Result<(&[u8], &[u8]), JoseError> {
    cek.split_at_checked(cek.len() / 2)
        .ok_or(JoseError::DecryptionFailed)
}

/// RFC 7518 §5.2.2.1 step 5 / §5.2.2.2 step 2: M = MAC(MAC_KEY, A || IV || E || AL), where AL
/// is the number of bits in A as a 64-bit big-endian integer; T = the first T_LEN octets of M.
fn cbc_hmac_tag(
    alg: hmac::Algorithm,
    mac_key: &[u8],
    aad: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
    tag_len: usize,
) -> Result<Vec<u8>, JoseError> {
    let al = u64::try_from(aad.len())
        .ok()
        .and_then(|n| n.checked_mul(8))
        .ok_or(JoseError::DecryptionFailed)?;
    let key = hmac::Key::new(alg, mac_key);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(aad);
    ctx.update(iv);
    ctx.update(ciphertext);
    ctx.update(&al.to_be_bytes());
    let m = ctx.sign();
    m.as_ref()
        .get(..tag_len)
        .map(<[u8]>::to_vec)
        .ok_or(JoseError::DecryptionFailed)
}

/// RFC 7518 §5.2.2.2: verify the tag (in constant time) BEFORE decrypting; then AES-CBC with
/// PKCS #7 padding, whose removal checks the padding.
fn cbc_hmac_open(
    enc: ContentEncAlg,
    cek: &[u8],
    iv: &[u8],
    aad: &[u8],
    buf: &mut Vec<u8>,
    tag: &[u8],
) -> Result<(), JoseError> {
    let params = cbc_hmac(enc);
    let (mac_key, enc_key) = split_cek(cek)?;
    let expected = cbc_hmac_tag(params.hmac, mac_key, aad, iv, buf, enc.tag_len())?;
    // "If the authentication tag is not equal ... the input MUST be rejected" (step 2); the
    // comparison does not leak how many leading bytes matched.
    constant_time::verify_slices_are_equal(&expected, tag)
        .map_err(|_| JoseError::DecryptionFailed)?;
    let iv: [u8; 16] = iv.try_into().map_err(|_| JoseError::DecryptionFailed)?;
    let key = UnboundCipherKey::new(params.aes, enc_key)
        .and_then(PaddedBlockDecryptingKey::cbc_pkcs7)
        .map_err(|_| JoseError::DecryptionFailed)?;
    let len = key
        .decrypt(buf, DecryptionContext::Iv128(FixedLength::from(iv)))
        .map_err(|_| JoseError::DecryptionFailed)?
        .len();
    buf.truncate(len);
    Ok(())
}

/// Content encryption (RFC 7518 §5): returns (ciphertext, tag).
pub(crate) fn encrypt(
    enc: ContentEncAlg,
    cek: &[u8],
    iv: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), JoseError> {
    use aws_lc_rs::cipher::{EncryptionContext, PaddedBlockEncryptingKey};
    let failed = |_| JoseError::Crypto("content encryption");
    let mut buf = plaintext.to_vec();
    if enc.is_gcm() {
        let key = LessSafeKey::new(UnboundKey::new(gcm_algorithm(enc), cek).map_err(failed)?);
        let nonce = Nonce::try_assume_unique_for_key(iv).map_err(failed)?;
        let tag = key
            .seal_in_place_separate_tag(nonce, Aad::from(aad), &mut buf)
            .map_err(failed)?;
        return Ok((buf, tag.as_ref().to_vec()));
    }
    let params = cbc_hmac(enc);
    let (mac_key, enc_key) = split_cek(cek)?;
    let key = PaddedBlockEncryptingKey::cbc_pkcs7(
        UnboundCipherKey::new(params.aes, enc_key).map_err(failed)?,
    )
    .map_err(failed)?;
    let iv16: [u8; 16] = iv
        .try_into()
        .map_err(|_| JoseError::Crypto("content encryption IV"))?;
    key.less_safe_encrypt(&mut buf, EncryptionContext::Iv128(FixedLength::from(iv16)))
        .map_err(failed)?;
    let tag = cbc_hmac_tag(params.hmac, mac_key, aad, iv, &buf, enc.tag_len())?;
    Ok((buf, tag))
}

/// RFC 7516 §7.1: a JWE in the compact serialization — the protected header (also the AAD,
/// §5.1 step 14), the encrypted key, the IV, the ciphertext and the tag, each base64url.
pub(crate) fn compact(
    header: serde_json::Map<String, serde_json::Value>,
    enc: ContentEncAlg,
    cek: &[u8],
    iv: &[u8],
    encrypted_key: &[u8],
    plaintext: &[u8],
) -> Result<String, JoseError> {
    let header_json = serde_json::to_vec(&serde_json::Value::Object(header))
        .map_err(|_| JoseError::Crypto("JWE header encoding"))?;
    let header_b64 = crate::b64::encode(&header_json);
    let (ciphertext, tag) = encrypt(enc, cek, iv, header_b64.as_bytes(), plaintext)?;
    Ok([
        header_b64,
        crate::b64::encode(encrypted_key),
        crate::b64::encode(iv),
        crate::b64::encode(&ciphertext),
        crate::b64::encode(&tag),
    ]
    .join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 7518 Appendix B: P, IV and A are shared by B.1, B.2 and B.3; K is 00 01 02 … of the
    /// CEK length.
    const P: &str = "A cipher system must not be required to be secret, and it must be able to fall into the hands of the enemy without inconvenience";
    const A: &str = "The second principle of Auguste Kerckhoffs";
    const IV: &str = "1af38c2dc2b96ffdd86694092341bc04";

    /// (enc, E, T) of RFC 7518 Appendix B.1, B.2 and B.3.
    const CASES: [(ContentEncAlg, &str, &str); 3] = [
        (
            ContentEncAlg::A128CbcHs256,
            concat!(
                "c80edfa32ddf39d5ef00c0b468834279a2e46a1b8049f792f76bfe54b903a9c9",
                "a94ac9b47ad2655c5f10f9aef71427e2fc6f9b3f399a221489f16362c7032336",
                "09d45ac69864e3321cf82935ac4096c86e133314c54019e8ca7980dfa4b9cf1b",
                "384c486f3a54c51078158ee5d79de59fbd34d848b3d69550a67646344427ade5",
                "4b8851ffb598f7f80074b9473c82e2db",
            ),
            "652c3fa36b0a7c5b3219fab3a30bc1c4",
        ),
        (
            ContentEncAlg::A192CbcHs384,
            concat!(
                "ea65da6b59e61edb419be62d19712ae5d303eeb50052d0dfd6697f77224c8edb",
                "000d279bdc14c1072654bd30944230c657bed4ca0c9f4a8466f22b226d174621",
                "4bf8cfc2400add9f5126e479663fc90b3bed787a2f0ffcbf3904be2a641d5c21",
                "05bfe591bae23b1d7449e532eef60a9ac8bb6c6b01d35d49787bcd57ef484927",
                "f280adc91ac0c4e79c7b11efc60054e3",
            ),
            "8490ac0e58949bfe51875d733f93ac2075168039ccc733d7",
        ),
        (
            ContentEncAlg::A256CbcHs512,
            concat!(
                "4affaaadb78c31c5da4b1b590d10ffbd3dd8d5d302423526912da037ecbcc7bd",
                "822c301dd67c373bccb584ad3e9279c2e6d12a1374b77f077553df829410446b",
                "36ebd97066296ae6427ea75c2e0846a11a09ccf5370dc80bfecbad28c73f09b3",
                "a3b75e662a2594410ae496b2e2e6609e31e6e02cc837f053d21f37ff4f51950b",
                "be2638d09dd7a4930930806d0703b1f6",
            ),
            "4dd3b4c088a7f45c216839645b2012bf2e6269a8c56a816dbc1b267761955bc5",
        ),
    ];

    fn k(enc: ContentEncAlg) -> Vec<u8> {
        (0..enc.cek_len()).map(|i| i as u8).collect()
    }

    #[test]
    fn rfc7518_appendix_b_decrypt_and_encrypt() {
        let iv = hex(IV);
        for (enc, e, t) in CASES {
            let (e, t) = (hex(e), hex(t));
            let plain = decrypt(enc, &k(enc), &iv, A.as_bytes(), e.clone(), &t).unwrap();
            assert_eq!(plain.as_slice(), P.as_bytes(), "{enc}");
            assert_eq!(
                encrypt(enc, &k(enc), &iv, A.as_bytes(), P.as_bytes()).unwrap(),
                (e, t),
                "{enc}"
            );
        }
    }

    #[test]
    fn rfc7518_appendix_b_tampering_is_refused() {
        let iv = hex(IV);
        for (enc, e, t) in CASES {
            let (e, t) = (hex(e), hex(t));
            let key = k(enc);
            let fails = |key: &[u8], iv: &[u8], aad: &[u8], e: Vec<u8>, t: &[u8]| {
                assert_eq!(
                    decrypt(enc, key, iv, aad, e, t),
                    Err(JoseError::DecryptionFailed),
                    "{enc}"
                );
            };
            let mut bad = t.clone();
            bad[0] ^= 1;
            fails(&key, &iv, A.as_bytes(), e.clone(), &bad);
            let mut bad = e.clone();
            bad[0] ^= 1;
            fails(&key, &iv, A.as_bytes(), bad, &t);
            let mut bad = iv.clone();
            bad[15] ^= 1;
            fails(&key, &bad, A.as_bytes(), e.clone(), &t);
            fails(
                &key,
                &iv,
                b"The second principle of Auguste Kerckhoffz",
                e.clone(),
                &t,
            );
            let mut bad = key.clone();
            bad[0] ^= 1;
            fails(&bad, &iv, A.as_bytes(), e.clone(), &t);
            // A CEK of the wrong length, a truncated tag, a truncated ciphertext.
            fails(&key[1..], &iv, A.as_bytes(), e.clone(), &t);
            fails(&key, &iv, A.as_bytes(), e.clone(), &t[1..]);
            fails(&key, &iv, A.as_bytes(), e[..16].to_vec(), &t);
        }
    }

    #[test]
    fn bad_padding_is_refused_after_a_valid_tag() {
        // A ciphertext whose tag is right but whose last block decrypts to bad padding: encrypt
        // 16 bytes, then drop the padding block and re-tag.
        let enc = ContentEncAlg::A128CbcHs256;
        let key = k(enc);
        let iv = [7u8; 16];
        let (mut e, _) = encrypt(enc, &key, &iv, b"aad", &[0x41; 16]).unwrap();
        e.truncate(16);
        let (mac_key, _) = split_cek(&key).unwrap();
        let t = cbc_hmac_tag(hmac::HMAC_SHA256, mac_key, b"aad", &iv, &e, 16).unwrap();
        assert_eq!(
            decrypt(enc, &key, &iv, b"aad", e, &t),
            Err(JoseError::DecryptionFailed)
        );
    }

    #[test]
    fn gcm_round_trip_and_tamper() {
        for enc in [
            ContentEncAlg::A128Gcm,
            ContentEncAlg::A192Gcm,
            ContentEncAlg::A256Gcm,
        ] {
            let key = vec![3u8; enc.cek_len()];
            let iv = [9u8; 12];
            let (e, t) = encrypt(enc, &key, &iv, b"aad", b"hello").unwrap();
            assert_eq!(t.len(), 16);
            let p = decrypt(enc, &key, &iv, b"aad", e.clone(), &t).unwrap();
            assert_eq!(p.as_slice(), b"hello");
            let mut bad = t.clone();
            bad[15] ^= 0x80;
            assert_eq!(
                decrypt(enc, &key, &iv, b"aad", e.clone(), &bad),
                Err(JoseError::DecryptionFailed)
            );
            assert_eq!(
                decrypt(enc, &key, &iv, b"aaD", e, &t),
                Err(JoseError::DecryptionFailed)
            );
        }
    }
}
