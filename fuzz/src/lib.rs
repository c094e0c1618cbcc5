//! Fixed inputs shared by the fuzz targets: the OP and client identities, a fixed "now", one
//! public verification key per asymmetric JWS algorithm, HMAC secrets, and a pending login.
//!
//! Every key here is public (or a published RFC test secret), so crashing inputs reproduce
//! exactly. The matching private keys are published test vectors too (RFC 7520 §3, RFC 7515
//! Appendix A.3, RFC 8037 Appendix A); the P-384 key was generated once for these targets and
//! only its public half is kept. seeds/ holds tokens signed with all of them.

use std::sync::LazyLock;

use relier_core::authorize::PendingLogin;
use relier_core::{ClientId, IssuerUrl, KeySet, Nonce, PkceVerifier, RedirectUrl, State};
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
