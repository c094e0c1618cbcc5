//! Published test vectors: RFC 7520 (JOSE Cookbook) §3 keys and §4 signatures, RFC 8037
//! Appendix A (Ed25519). Values are copied from the RFC text, split where the RFC wraps them.

use aws_lc_rs::rand::SystemRandom;

use crate::jws::{Header, UnverifiedJws, sign_compact};
use crate::{Algorithm, JoseError, Jwk, SigningKey, VerifyingKey};

/// RFC 7520 §4 Figure 7: the payload, with U+2019 RIGHT SINGLE QUOTATION MARK.
const PAYLOAD: &str = "It\u{2019}s a dangerous business, Frodo, going out your door. You step onto the road, and if you don't keep your feet, there\u{2019}s no knowing where you might be swept off to.";

/// RFC 7520 §4 Figure 8.
const PAYLOAD_B64: &str = concat!(
    "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IH",
    "lvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBk",
    "b24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcm",
    "UgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4",
);

const KID: &str = "bilbo.baggins@hobbiton.example";

/// RFC 7520 §3.4 Figure 4 (RSA 2048-bit private key); §3.3 Figure 3 is its public part.
const RSA_N: &str = concat!(
    "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT",
    "-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqV",
    "wGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-",
    "oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde",
    "3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuC",
    "LqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5g",
    "HdrNP5zw",
);
const RSA_D: &str = concat!(
    "bWUC9B-EFRIo8kpGfh0ZuyGPvMNKvYWNtB_ikiH9k20eT-O1q_I78e",
    "iZkpXxXQ0UTEs2LsNRS-8uJbvQ-A1irkwMSMkK1J3XTGgdrhCku9gRld",
    "Y7sNA_AKZGh-Q661_42rINLRCe8W-nZ34ui_qOfkLnK9QWDDqpaIsA-b",
    "MwWWSDFu2MUBYwkHTMEzLYGqOe04noqeq1hExBTHBOBdkMXiuFhUq1BU",
    "6l-DqEiWxqg82sXt2h-LMnT3046AOYJoRioz75tSUQfGCshWTBnP5uDj",
    "d18kKhyv07lhfSJdrPdM5Plyl21hsFf4L_mHCuoFau7gdsPfHPxxjVOc",
    "OpBrQzwQ",
);
const RSA_P: &str = concat!(
    "3Slxg_DwTXJcb6095RoXygQCAZ5RnAvZlno1yhHtnUex_fp7AZ_9nR",
    "aO7HX_-SFfGQeutao2TDjDAWU4Vupk8rw9JR0AzZ0N2fvuIAmr_WCsmG",
    "peNqQnev1T7IyEsnh8UMt-n5CafhkikzhEsrmndH6LxOrvRJlsPp6Zv8",
    "bUq0k",
);
const RSA_Q: &str = concat!(
    "uKE2dh-cTf6ERF4k4e_jy78GfPYUIaUyoSSJuBzp3Cubk3OCqs6grT",
    "8bR_cu0Dm1MZwWmtdqDyI95HrUeq3MP15vMMON8lHTeZu2lmKvwqW7an",
    "V5UzhM1iZ7z4yMkuUwFWoBvyY898EXvRD-hdqRxHlSqAZ192zB3pVFJ0",
    "s7pFc",
);
const RSA_DP: &str = concat!(
    "B8PVvXkvJrj2L-GYQ7v3y9r6Kw5g9SahXBwsWUzp19TVlgI-YV85q",
    "1NIb1rxQtD-IsXXR3-TanevuRPRt5OBOdiMGQp8pbt26gljYfKU_E9xn",
    "-RULHz0-ed9E9gXLKD4VGngpz-PfQ_q29pk5xWHoJp009Qf1HvChixRX",
    "59ehik",
);
const RSA_DQ: &str = concat!(
    "CLDmDGduhylc9o7r84rEUVn7pzQ6PF83Y-iBZx5NT-TpnOZKF1pEr",
    "AMVeKzFEl41DlHHqqBLSM0W1sOFbwTxYWZDm6sI6og5iTbwQGIC3gnJK",
    "bi_7k_vJgGHwHxgPaX2PnvP-zyEkDERuf-ry4c_Z11Cq9AqC2yeL6kdK",
    "T1cYF8",
);
const RSA_QI: &str = concat!(
    "3PiqvXQN0zwMeE-sBvZgi289XP9XCQF3VWqPzMKnIgQp7_Tugo6-N",
    "ZBKCQsMf3HaEGBjTVJs_jcK8-TRXvaKe-7ZMaQj8VfBdYkssbu0NKDDh",
    "jJ-GtiseaDVWt7dcH0cfwxgFUHpQh7FoCrjFJ6h6ZEpMF6xmujs4qMpP",
    "z8aaI4",
);

/// RFC 7520 §3.2 Figure 2 (EC P-521 private key); §3.1 Figure 1 is its public part.
const EC_X: &str = concat!(
    "AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9",
    "A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt",
);
const EC_Y: &str = concat!(
    "AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVy",
    "SsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1",
);
const EC_D: &str = concat!(
    "AAhRON2r9cqXX1hg-RoI6R1tX5p2rUAYdmpHZoC1XNM56KtscrX6zb",
    "KipQrCW9CGZH3T4ubpnoTKLDYJ_fF3_rJt",
);

/// RFC 7520 §3.5 Figure 5 (HMAC key).
const HMAC_KID: &str = "018c0ae5-4d9b-471b-bfd6-eef314bc7037";
const HMAC_K: &str = "hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg";

/// RFC 7520 §4.1.3 Figure 13, split at the dots.
const RS256_HEADER: &str = concat!(
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZX",
    "hhbXBsZSJ9",
);
const RS256_SIG: &str = concat!(
    "MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmK",
    "ZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4J",
    "IwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8w",
    "W1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluP",
    "xUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_f",
    "cIe8u9ipH84ogoree7vjbU5y18kDquDg",
);

/// RFC 7520 §4.2.3 Figure 20.
const PS384_HEADER: &str = concat!(
    "eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZX",
    "hhbXBsZSJ9",
);
const PS384_SIG: &str = concat!(
    "cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2I",
    "pN6-tPid6VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXU",
    "vdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRX",
    "e8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT",
    "0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a",
    "6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw",
);

/// RFC 7520 §4.3.3 Figure 27.
const ES512_HEADER: &str = concat!(
    "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZX",
    "hhbXBsZSJ9",
);
const ES512_SIG: &str = concat!(
    "AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvb",
    "u9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kv",
    "AD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2",
);

/// RFC 7520 §4.4.3 Figure 34.
const HS256_HEADER: &str = concat!(
    "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LW",
    "VlZjMxNGJjNzAzNyJ9",
);
const HS256_SIG: &str = "s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0";

/// RFC 7520 §4.6.2 Figures 45 and 48: protected header {"alg":"HS256"} only. The JSON
/// serialization carries the kid unprotected; the signing input is compact-compatible.
const HS256_ALG_ONLY_HEADER: &str = "eyJhbGciOiJIUzI1NiJ9";
const HS256_ALG_ONLY_SIG: &str = "bWUSVaxorn7bEF1djytBd0kHv70Ly5pvbomzMWSOr20";

/// RFC 7520 §4.8.2 Figures 57 and 60: RS256 with protected header {"alg":"RS256"} only.
const RS256_ALG_ONLY_HEADER: &str = "eyJhbGciOiJSUzI1NiJ9";
const RS256_ALG_ONLY_SIG: &str = concat!(
    "MIsjqtVlOpa71KE-Mss8_Nq2YH4FGhiocsqrgi5NvyG53uoimic1tcMdSg-qpt",
    "rzZc7CG6Svw2Y13TDIqHzTUrL_lR2ZFcryNFiHkSw129EghGpwkpxaTn_THJTC",
    "glNbADko1MZBCdwzJxwqZc-1RlpO2HibUYyXSwO97BSe0_evZKdjvvKSgsIqjy",
    "tKSeAMbhMBdMma622_BG5t4sdbuCHtFjp9iJmkio47AIwqkZV1aIZsv33uPUqB",
    "BCXbYoQJwt7mxPftHmNlGoOSMxR_3thmXTCm4US-xiNOyhbm8afKK64jU6_TPt",
    "QHiJeQJxz9G3Tx-083B745_AfYOnlC9w",
);

/// RFC 8037 Appendix A.1/A.2 (Ed25519 key) and A.4 (signature of "Example of Ed25519 signing"
/// with protected header {"alg":"EdDSA"}).
const ED_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const ED_TOKEN: &str = concat!(
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.",
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
);

fn token(header: &str, sig: &str) -> String {
    format!("{header}.{PAYLOAD_B64}.{sig}")
}

fn rsa_private_jwk() -> String {
    format!(
        r#"{{"kty":"RSA","kid":"{KID}","use":"sig","n":"{RSA_N}","e":"AQAB","d":"{RSA_D}","p":"{RSA_P}","q":"{RSA_Q}","dp":"{RSA_DP}","dq":"{RSA_DQ}","qi":"{RSA_QI}"}}"#
    )
}

fn rsa_public_key() -> VerifyingKey {
    let json = format!(r#"{{"kty":"RSA","kid":"{KID}","use":"sig","n":"{RSA_N}","e":"AQAB"}}"#);
    VerifyingKey::from_jwk(&Jwk::from_json(&json).unwrap()).unwrap()
}

fn ec_private_jwk() -> String {
    format!(
        r#"{{"kty":"EC","kid":"{KID}","use":"sig","crv":"P-521","x":"{EC_X}","y":"{EC_Y}","d":"{EC_D}"}}"#
    )
}

fn ec_public_key() -> VerifyingKey {
    let json = format!(
        r#"{{"kty":"EC","kid":"{KID}","use":"sig","crv":"P-521","x":"{EC_X}","y":"{EC_Y}"}}"#
    );
    VerifyingKey::from_jwk(&Jwk::from_json(&json).unwrap()).unwrap()
}

fn hmac_jwk() -> String {
    format!(r#"{{"kty":"oct","kid":"{HMAC_KID}","use":"sig","alg":"HS256","k":"{HMAC_K}"}}"#)
}

#[test]
fn payload_encoding_matches_figure_8() {
    assert_eq!(crate::b64::encode(PAYLOAD.as_bytes()), PAYLOAD_B64);
}

#[test]
fn rfc7520_4_1_rs256_verify() {
    let text = token(RS256_HEADER, RS256_SIG);
    let jws = UnverifiedJws::parse(&text).unwrap();
    assert_eq!(jws.header_alg(), "RS256");
    assert_eq!(jws.header().kid.as_deref(), Some(KID));
    let key = rsa_public_key();
    assert_eq!(key.rsa_bits(), Some(2048));
    assert_eq!(
        jws.verify(Algorithm::RS256, &key).unwrap(),
        PAYLOAD.as_bytes()
    );
    // Pinned to anything else: refused before any cryptography.
    assert!(matches!(
        jws.verify(Algorithm::PS256, &key),
        Err(JoseError::AlgorithmMismatch { .. })
    ));
}

#[test]
fn rfc7520_4_1_rs256_sign_from_private_jwk_is_exact() {
    // RSASSA-PKCS1-v1_5 is deterministic: the whole compact serialization must match.
    let key = SigningKey::from_jwk_json(&rsa_private_jwk(), None).unwrap();
    assert_eq!(key.algorithm(), Algorithm::RS256);
    assert_eq!(key.kid(), Some(KID));
    let out = sign_compact(
        &Header::default(),
        PAYLOAD.as_bytes(),
        &key,
        &SystemRandom::new(),
    )
    .unwrap();
    assert_eq!(out, token(RS256_HEADER, RS256_SIG));
}

#[test]
fn rfc7520_4_8_rs256_alg_only_header() {
    let key = SigningKey::from_jwk_json(&rsa_private_jwk(), None)
        .unwrap()
        .without_kid();
    let out = sign_compact(
        &Header::default(),
        PAYLOAD.as_bytes(),
        &key,
        &SystemRandom::new(),
    )
    .unwrap();
    assert_eq!(out, token(RS256_ALG_ONLY_HEADER, RS256_ALG_ONLY_SIG));
    let jws = UnverifiedJws::parse(&out).unwrap();
    assert!(jws.verify(Algorithm::RS256, &rsa_public_key()).is_ok());
}

#[test]
fn rfc7520_4_2_ps384_verify() {
    let text = token(PS384_HEADER, PS384_SIG);
    let jws = UnverifiedJws::parse(&text).unwrap();
    let key = rsa_public_key();
    assert_eq!(
        jws.verify(Algorithm::PS384, &key).unwrap(),
        PAYLOAD.as_bytes()
    );
    // PSS is randomized: a fresh signature differs but verifies with the §3.3 public key.
    let signer = SigningKey::from_jwk_json(&rsa_private_jwk(), Some(Algorithm::PS384)).unwrap();
    let out = sign_compact(
        &Header::default(),
        PAYLOAD.as_bytes(),
        &signer,
        &SystemRandom::new(),
    )
    .unwrap();
    assert_ne!(out, token(PS384_HEADER, PS384_SIG));
    let jws = UnverifiedJws::parse(&out).unwrap();
    assert_eq!(
        jws.verify(Algorithm::PS384, &key).unwrap(),
        PAYLOAD.as_bytes()
    );
}

#[test]
fn rfc7520_4_3_es512_verify() {
    let text = token(ES512_HEADER, ES512_SIG);
    let jws = UnverifiedJws::parse(&text).unwrap();
    assert_eq!(jws.signature().len(), 132); // R||S, 66 bytes each (RFC 7518 §3.4)
    let key = ec_public_key();
    assert_eq!(
        jws.verify(Algorithm::ES512, &key).unwrap(),
        PAYLOAD.as_bytes()
    );
    // ECDSA is randomized: sign with the §3.2 private key and verify.
    let signer = SigningKey::from_jwk_json(&ec_private_jwk(), None).unwrap();
    assert_eq!(signer.algorithm(), Algorithm::ES512);
    let out = sign_compact(
        &Header::default(),
        PAYLOAD.as_bytes(),
        &signer,
        &SystemRandom::new(),
    )
    .unwrap();
    let jws = UnverifiedJws::parse(&out).unwrap();
    assert_eq!(jws.header().kid.as_deref(), Some(KID));
    assert_eq!(
        jws.verify(Algorithm::ES512, &key).unwrap(),
        PAYLOAD.as_bytes()
    );
}

#[test]
fn rfc7520_4_4_hs256_verify_and_sign() {
    let text = token(HS256_HEADER, HS256_SIG);
    let jws = UnverifiedJws::parse(&text).unwrap();
    let secret = crate::b64::decode(HMAC_K).unwrap();
    let key = VerifyingKey::hmac(&secret);
    assert_eq!(
        jws.verify(Algorithm::HS256, &key).unwrap(),
        PAYLOAD.as_bytes()
    );
    let signer = SigningKey::from_jwk_json(&hmac_jwk(), None).unwrap();
    assert_eq!(signer.algorithm(), Algorithm::HS256);
    assert_eq!(signer.kid(), Some(HMAC_KID));
    let out = sign_compact(
        &Header::default(),
        PAYLOAD.as_bytes(),
        &signer,
        &SystemRandom::new(),
    )
    .unwrap();
    assert_eq!(out, token(HS256_HEADER, HS256_SIG));
    // And via SigningKey::hmac with the raw secret, alg-only header (§4.6 signing input).
    let raw = SigningKey::hmac(Algorithm::HS256, &secret).unwrap();
    let out = sign_compact(
        &Header::default(),
        PAYLOAD.as_bytes(),
        &raw,
        &SystemRandom::new(),
    )
    .unwrap();
    assert_eq!(out, token(HS256_ALG_ONLY_HEADER, HS256_ALG_ONLY_SIG));
}

#[test]
fn rfc7520_public_key_thumbprints_are_stable() {
    let rsa = SigningKey::from_jwk_json(&rsa_private_jwk(), None).unwrap();
    let public = Jwk::from_json(&format!(r#"{{"kty":"RSA","n":"{RSA_N}","e":"AQAB"}}"#)).unwrap();
    assert_eq!(
        rsa.thumbprint_sha256().unwrap(),
        public.thumbprint_sha256().unwrap()
    );
    let jwk = rsa.public_jwk().unwrap();
    assert_eq!(jwk.n.as_deref(), Some(RSA_N));
    assert_eq!(jwk.e.as_deref(), Some("AQAB"));
    let ec = SigningKey::from_jwk_json(&ec_private_jwk(), None).unwrap();
    let jwk = ec.public_jwk().unwrap();
    assert_eq!(jwk.x.as_deref(), Some(EC_X));
    assert_eq!(jwk.y.as_deref(), Some(EC_Y));
}

#[test]
fn rfc8037_a4_ed25519_sign_and_verify() {
    let json = format!(r#"{{"kty":"OKP","crv":"Ed25519","d":"{ED_D}","x":"{ED_X}"}}"#);
    let key = SigningKey::from_jwk_json(&json, None).unwrap();
    assert_eq!(key.algorithm(), Algorithm::EdDSA);
    // RFC 8037 A.3.
    assert_eq!(
        key.thumbprint_sha256().unwrap(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
    // Ed25519 is deterministic (RFC 8032 §5.1.6).
    let out = sign_compact(
        &Header::default(),
        b"Example of Ed25519 signing",
        &key,
        &SystemRandom::new(),
    )
    .unwrap();
    assert_eq!(out, ED_TOKEN);
    // A.5: validation with the public key only.
    let public = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}"}}"#);
    let verifier = VerifyingKey::from_jwk(&Jwk::from_json(&public).unwrap()).unwrap();
    let jws = UnverifiedJws::parse(ED_TOKEN).unwrap();
    assert_eq!(
        jws.verify(Algorithm::EdDSA, &verifier).unwrap(),
        b"Example of Ed25519 signing"
    );
}
