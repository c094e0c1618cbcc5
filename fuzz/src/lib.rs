//! Fixed inputs shared by the fuzz targets: the OP and client identities, a fixed "now", one
//! public verification key per asymmetric JWS algorithm, HMAC secrets, and a pending login.
//!
//! Every key here is public (or a published RFC test secret), so crashing inputs reproduce
//! exactly. The matching private keys are published test vectors too (RFC 7520 §3, RFC 7515
//! Appendix A.3, RFC 8037 Appendix A); the P-384 key was generated once for these targets and
//! only its public half is kept. seeds/ holds tokens signed with all of them.
//!
//! The JWE target decrypts with published private keys (RFC 7520 §5.2 RSA, §5.4 P-384, §5.5
//! P-256, the JOSE Cookbook X25519 key) and [`CLIENT_SECRET`] for `dir` / `A*KW`.

use std::sync::LazyLock;

use relier_core::authorize::PendingLogin;
use relier_core::{ClientId, IssuerUrl, KeySet, Nonce, PkceVerifier, RedirectUrl, State};
use relier_jose::jwe::{DecryptionKey, DecryptionKeys};
use relier_jose::{Algorithm, Jwk, VerifyingKey, b64};

/// The OP every target expects.
pub const ISSUER: &str = "https://op.example";
/// This RP.
pub const CLIENT_ID: &str = "client-1";
/// An audience the ID token validator trusts besides [`CLIENT_ID`].
pub const TRUSTED_AUDIENCE: &str = "trusted-api";
/// The clock for ID token checks (2023-11-14T22:13:20Z); the seeds' tokens are valid then.
pub const NOW: u64 = 1_700_000_000;
/// The state, nonce and access token the seeds were made for.
pub const STATE: &str = "fuzz-state";
pub const NONCE: &str = "fuzz-nonce";
pub const ACCESS_TOKEN: &str = "fuzz-access-token";
/// The `sub` the UserInfo target expects.
pub const EXPECTED_SUB: &str = "alice";

/// RFC 7520 §3.5 HMAC key (32 bytes, base64url): enough for HS256 only.
pub const HMAC_K_RFC7520: &str = "hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg";
/// A 64-byte client secret: long enough for HS256, HS384 and HS512 (RFC 7518 §3.2).
pub const CLIENT_SECRET: &str = "fuzz-client-secret-0123456789abcdef0123456789abcdef0123456789abcd";

/// RFC 7520 §3.1 / §3.3 key ID, used by the RSA and the P-521 key.
pub const RFC7520_KID: &str = "bilbo.baggins@hobbiton.example";

/// RFC 7520 §3.3: RSA 2048-bit public key.
pub const RSA_JWK: &str = concat!(
    r#"{"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig","n":""#,
    "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_",
    "AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpP",
    "e7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg",
    "_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw",
    r#"","e":"AQAB"}"#,
);
/// RFC 7515 Appendix A.3: EC P-256 public key.
pub const P256_JWK: &str = concat!(
    r#"{"kty":"EC","kid":"rfc7515-a3","crv":"P-256","#,
    r#""x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","#,
    r#""y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
);
/// EC P-384 public key generated for these targets.
pub const P384_JWK: &str = concat!(
    r#"{"kty":"EC","kid":"p384","use":"sig","crv":"P-384","#,
    r#""x":"QTHwGWCB5-tdlAhtro36qarXb7m5xlLISPxi12S3bagCNi1NTecpcyxfTm10o8sm","#,
    r#""y":"ZYGbvZL9dmf3UYr_1dztH-PegI7Gs8fJuiJZcdizQW9Xoc3ePjBV7FPCBiEbRtwm"}"#,
);
/// RFC 7520 §3.1: EC P-521 public key.
pub const P521_JWK: &str = concat!(
    r#"{"kty":"EC","kid":"bilbo.baggins@hobbiton.example","use":"sig","crv":"P-521","#,
    r#""x":"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt","#,
    r#""y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"}"#,
);
/// RFC 8037 Appendix A.2: Ed25519 public key.
pub const ED25519_JWK: &str = concat!(
    r#"{"kty":"OKP","kid":"rfc8037","crv":"Ed25519","#,
    r#""x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
);

/// The fixed verification keys: one per asymmetric key type and two HMAC secrets.
pub struct Keys {
    pub rsa: VerifyingKey,
    pub p256: VerifyingKey,
    pub p384: VerifyingKey,
    pub p521: VerifyingKey,
    pub ed25519: VerifyingKey,
    /// RFC 7520 §3.5 secret (HS256).
    pub hmac32: VerifyingKey,
    /// [`CLIENT_SECRET`] (HS256/384/512).
    pub hmac64: VerifyingKey,
    /// The five asymmetric keys as the OP's key set.
    pub set: KeySet,
}

fn public_key(json: &str) -> VerifyingKey {
    match Jwk::from_json(json).and_then(|jwk| VerifyingKey::from_jwk(&jwk)) {
        Ok(key) => key,
        Err(e) => panic!("fixed fuzz key does not parse: {e}"),
    }
}

/// The fixed keys, parsed once per process.
pub static KEYS: LazyLock<Keys> = LazyLock::new(|| {
    let rsa = public_key(RSA_JWK);
    let p256 = public_key(P256_JWK);
    let p384 = public_key(P384_JWK);
    let p521 = public_key(P521_JWK);
    let ed25519 = public_key(ED25519_JWK);
    let hmac32 = match b64::decode(HMAC_K_RFC7520) {
        Ok(k) => VerifyingKey::hmac(&k),
        Err(e) => panic!("fixed HMAC key: {e}"),
    };
    let hmac64 = VerifyingKey::hmac(CLIENT_SECRET.as_bytes());
    let set = KeySet::from_keys(vec![
        rsa.clone(),
        p256.clone(),
        p384.clone(),
        p521.clone(),
        ed25519.clone(),
    ]);
    Keys {
        rsa,
        p256,
        p384,
        p521,
        ed25519,
        hmac32,
        hmac64,
        set,
    }
});

impl Keys {
    /// The fixed key meant for `alg` (`None` for `Algorithm::None` and future algorithms).
    pub fn for_alg(&self, alg: Algorithm) -> Option<&VerifyingKey> {
        Some(match alg {
            Algorithm::HS256 => &self.hmac32,
            Algorithm::HS384 | Algorithm::HS512 => &self.hmac64,
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => &self.rsa,
            Algorithm::ES256 => &self.p256,
            Algorithm::ES384 => &self.p384,
            Algorithm::ES512 => &self.p521,
            Algorithm::EdDSA => &self.ed25519,
            _ => return None,
        })
    }

    /// Every fixed key, for cross-checks (a key must refuse algorithms it does not fit).
    pub fn all(&self) -> [&VerifyingKey; 7] {
        [
            &self.rsa,
            &self.p256,
            &self.p384,
            &self.p521,
            &self.ed25519,
            &self.hmac32,
            &self.hmac64,
        ]
    }
}

/// [`ISSUER`] as an [`IssuerUrl`].
pub fn issuer() -> IssuerUrl {
    match IssuerUrl::new(ISSUER) {
        Ok(i) => i,
        Err(e) => panic!("fixed issuer: {e}"),
    }
}

/// [`CLIENT_ID`] as a [`ClientId`].
pub fn client_id() -> ClientId {
    match ClientId::new(CLIENT_ID) {
        Ok(c) => c,
        Err(e) => panic!("fixed client_id: {e}"),
    }
}

/// The pending login the callback target validates against (state [`STATE`]).
pub fn pending_login() -> PendingLogin {
    let built = (|| {
        Ok::<_, relier_core::types::InvalidValue>(PendingLogin {
            state: State::from_stored(STATE)?,
            nonce: Nonce::from_stored(NONCE)?,
            pkce_verifier: PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")?,
            redirect_uri: RedirectUrl::new("https://rp.example/callback")?,
            max_age: Some(600),
        })
    })();
    match built {
        Ok(p) => p,
        Err(e) => panic!("fixed pending login: {e}"),
    }
}

// --- JWE: the relying party's decryption keys (published test vectors) ---

/// RFC 7520 §5.2: RSA 4096-bit private key ("samwise.gamgee@hobbiton.example"), without its
/// "alg" member so that RSA-OAEP-256 reaches it too.
pub const JWE_RSA_JWK: &str = concat!(
    r#"{"kty":"RSA","kid":"samwise.gamgee@hobbiton.example","use":"enc","n":"wbdxI55VaanZXPY29L"#,
    r#"g5hdmv2XhvqAhoxUkanfzf2-5zVUxa6prHRrI4pP1AhoqJRlZfYtWWd5mmHRG2pAHIlh0ySJ9wi0BioZBl1XP2e-"#,
    r#"C-FyXJGcTy0HdKQWlrfhTm42EW7Vv04r4gfao6uxjLGwfpGrZLarohiWCPnkNrg71S2CuNZSQBIPGjXfkmIy2tl_"#,
    r#"VWgGnL22GplyXj5YlBLdxXp3XeStsqo571utNfoUTU8E4qdzJ3U1DItoVkPGsMwlmmnJiwA7sXRItBCivR4M5qnZ"#,
    r#"tdw-7v4WuR4779ubDuJ5nalMv2S66-RPcnFAzWSKxtBDnFJJDGIUe7Tzizjg1nms0Xq_yPub_UOlWn0ec85FCft1"#,
    r#"hACpWG8schrOBeNqHBODFskYpUc2LC5JA2TaPF2dA67dg1TTsC_FupfQ2kNGcE1LgprxKHcVWYQb86B-HozjHZcq"#,
    r#"tauBzFNV5tbTuB-TpkcvJfNcFLlH3b8mb-H_ox35FjqBSAjLKyoeqfKTpVjvXhd09knwgJf6VKq6UC418_TOljMV"#,
    r#"fFTWXUxlnfhOOnzW6HSSzD1c9WrCuVzsUMv54szidQ9wf1cYWf3g5qFDxDQKis99gcDaiCAwM3yEBIzuNeeCa5da"#,
    r#"rtHDb1xEB_HcHSeYbghbMjGfasvKn0aZRsnTyC0xhWBlsolZE","e":"AQAB","d":"n7fz"#,
    r#"Jc3_WG59VEOBTkayzuSMM780OJQuZjN_KbH8lOZG25ZoA7T4Bxcc0xQn5oZE5uSCIwg91oCt0JvxPcpmqzaJZg1n"#,
    r#"irjcWZ-oBtVk7gCAWq-B3qhfF3izlbkosrzjHajIcY33HBhsy4_WerrXg4MDNE4HYojy68TcxT2LYQRxUOCf5TtJ"#,
    r#"XvM8olexlSGtVnQnDRutxEUCwiewfmmrfveEogLx9EA-KMgAjTiISXxqIXQhWUQX1G7v_mV_Hr2YuImYcNcHkRvp"#,
    r#"9E7ook0876DhkO8v4UOZLwA1OlUX98mkoqwc58A_Y2lBYbVx1_s5lpPsEqbbH-nqIjh1fL0gdNfihLxnclWtW7pC"#,
    r#"ztLnImZAyeCWAG7ZIfv-Rn9fLIv9jZ6r7r-MSH9sqbuziHN2grGjD_jfRluMHa0l84fFKl6bcqN1JWxPVhzNZo01"#,
    r#"yDF-1LiQnqUYSepPf6X3a2SOdkqBRiquE6EvLuSYIDpJq3jDIsgoL8Mo1LoomgiJxUwL_GWEOGu28gplyzm-9Q0U"#,
    r#"0nyhEf1uhSR8aJAQWAiFImWH5W_IQT9I7-yrindr_2fWQ_i1UgMsGzA7aOGzZfPljRy6z-tY_KuBG00-28S_aWvj"#,
    r#"yUc-Alp8AUyKjBZ-7CWH32fGWK48j1t-zomrwjL_mnhsPbGs0c9WsWgRzI-K8gE","p":"7_2v3OQZzlPFcHyYfL"#,
    r#"ABQ3XP85Es4hCdwCkbDeltaUXgVy9l9etKghvM4hRkOvbb01kYVuLFmxIkCDtpi-zLCYAdXKrAK3PtSbtzld_XZ9"#,
    r#"nlsYa_QZWpXB_IrtFjVfdKUdMz94pHUhFGFj7nr6NNxfpiHSHWFE1zD_AC3mY46J961Y2LRnreVwAGNw53p07Db8"#,
    r#"yD_92pDa97vqcZOdgtybH9q6uma-RFNhO1AoiJhYZj69hjmMRXx-x56HO9cnXNbmzNSCFCKnQmn4GQLmRj9sfbZR"#,
    r#"qL94bbtE4_e0Zrpo8RNo8vxRLqQNwIy85fc6BRgBJomt8QdQvIgPgWCv5HoQ","q":"zqOHk1P6WN_rHuM7ZF1cX"#,
    r#"H0x6RuOHq67WuHiSknqQeefGBA9PWs6ZyKQCO-O6mKXtcgE8_Q_hA2kMRcKOcvHil1hqMCNSXlflM7WPRPZu2qCD"#,
    r#"cqssd_uMbP-DqYthH_EzwL9KnYoH7JQFxxmcv5An8oXUtTwk4knKjkIYGRuUwfQTus0w1NfjFAyxOOiAQ37ussIc"#,
    r#"E6C6ZSsM3n41UlbJ7TCqewzVJaPJN5cxjySPZPD3Vp01a9YgAD6a3IIaKJdIxJS1ImnfPevSJQBE79-EXe2kSwVg"#,
    r#"Ozvt-gsmM29QQ8veHy4uAqca5dZzMs7hkkHtw1z0jHV90epQJJlXXnH8Q","dp":"19oDkBh1AXelMIxQFm2zZTq"#,
    r#"UhAzCIr4xNIGEPNoDt1jK83_FJA-xnx5kA7-1erdHdms_Ef67HsONNv5A60JaR7w8LHnDiBGnjdaUmmuO8XAxQJ_"#,
    r#"ia5mxjxNjS6E2yD44USo2JmHvzeeNczq25elqbTPLhUpGo1IZuG72FZQ5gTjXoTXC2-xtCDEUZfaUNh4IeAipfLu"#,
    r#"gbpe0JAFlFfrTDAMUFpC3iXjxqzbEanflwPvj6V9iDSgjj8SozSM0dLtxvu0LIeIQAeEgT_yXcrKGmpKdSO08kLB"#,
    r#"x8VUjkbv_3Pn20Gyu2YEuwpFlM_H1NikuxJNKFGmnAq9LcnwwT0jvoQ","dq":"S6p59KrlmzGzaQYQM3o0XfHCG"#,
    r#"vfqHLYjCO557HYQf72O9kLMCfd_1VBEqeD-1jjwELKDjck8kOBl5UvohK1oDfSP1DleAy-cnmL29DqWmhgwM1ip0"#,
    r#"CCNmkmsmDSlqkUXDi6sAaZuntyukyflI-qSQ3C_BafPyFaKrt1fgdyEwYa08pESKwwWisy7KnmoUvaJ3SaHmohFS"#,
    r#"78TJ25cfc10wZ9hQNOrIChZlkiOdFCtxDqdmCqNacnhgE3bZQjGp3n83ODSz9zwJcSUvODlXBPc2AycH6Ci5yjbx"#,
    r#"t4Ppox_5pjm6xnQkiPgj01GpsUssMmBN7iHVsrE7N2iznBNCeOUIQ","qi":"FZhClBMywVVjnuUud-05qd5CYU0"#,
    r#"dK79akAgy9oX6RX6I3IIIPckCciRrokxglZn-omAY5CnCe4KdrnjFOT5YUZE7G_Pg44XgCXaarLQf4hl80oPEf6-"#,
    r#"jJ5Iy6wPRx7G2e8qLxnh9cOdf-kRqgOS3F48Ucvw3ma5V6KGMwQqWFeV31XtZ8l5cVI-I3NzBS7qltpUVgz2Ju02"#,
    r#"1eyc7IlqgzR98qKONl27DuEES0aK0WE97jnsyO27Yp88Wa2RiBrEocM89QZI1seJiGDizHRUP4UZxw9zsXww46wy"#,
    r#"0P6f9grnYp7t8LkyDDk8eoI4KX6SNMNVcyVS9IWjlq8EzqZEKIA"}"#,
);
/// RFC 7520 §5.5: EC P-256 private key ("meriadoc.brandybuck@buckland.example").
pub const JWE_P256_JWK: &str = concat!(
    r#"{"kty":"EC","kid":"meriadoc.brandybuck@buckland.example","use":"enc","crv":"P-256","x":""#,
    r#"Ze2loSV3wrroKUN_4zhwGhCqo3Xhu1td4QjeQ5wIVR0","y":"HlLtdXARY_f55A3fnzQbPcm6hgr34Mp8p-nuzQ"#,
    r#"CE0Zw","d":"r_kHyZ-a06rmxM3yESK84r1otSg-aQcVStkRhA-iCM8"}"#,
);
/// RFC 7520 §5.4: EC P-384 private key ("peregrin.took@tuckborough.example").
pub const JWE_P384_JWK: &str = concat!(
    r#"{"kty":"EC","kid":"peregrin.took@tuckborough.example","use":"enc","crv":"P-384","x":"YU4"#,
    r#"rRUzdmVqmRtWOs2OpDE_T5fsNIodcG8G5FWPrTPMyxpzsSOGaQLpe2FpxBmu2","y":"A8-yxCHxkfBz3hKZfI1j"#,
    r#"UYMjUhsEveZ9THuwFjH2sCNdtksRJU7D5-SkgaFL1ETP","d":"iTx2pk7wW-GqJkHcEkFQb2EFyYcO7RugmaW3m"#,
    r#"RrQVAOUiPommT0IdnYK2xDlZh-j"}"#,
);
/// The JOSE Cookbook's X25519 example key ("Bob").
pub const JWE_X25519_JWK: &str = concat!(
    r#"{"kty":"OKP","kid":"Bob","use":"enc","crv":"X25519","x":"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGd"#,
    r#"Nrfx-FG-IK08","d":"XasIfmJKikt54X-Lg4AO5m87sSkmGLb9HC-LJ_-I4Os"}"#,
);

/// The relying party's decryption keys for the JWE target: the four private keys above (kids
/// as in their JWKs) and [`CLIENT_SECRET`] for symmetric key management.
pub static JWE_KEYS: LazyLock<DecryptionKeys> = LazyLock::new(|| {
    let mut keys = DecryptionKeys::new().with_client_secret(CLIENT_SECRET);
    for json in [JWE_RSA_JWK, JWE_P256_JWK, JWE_P384_JWK, JWE_X25519_JWK] {
        let pushed = DecryptionKey::from_jwk_json(json).and_then(|key| keys.push(key));
        if let Err(e) = pushed {
            panic!("fixed JWE key does not parse: {e}");
        }
    }
    keys
});
