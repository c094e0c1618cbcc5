//! The resource server's side of DPoP (RFC 9449 §4.3, §7.1): checking a proof presented with a
//! DPoP-bound access token.

use std::sync::OnceLock;

use aws_lc_rs::digest;
use relier_jose::jws::UnverifiedJws;
use relier_jose::members::{RawValue, object_members};
use relier_jose::{Algorithm, Jwk, VerifyingKey, b64};
use serde_json::{Map, Value};

use crate::types::UnixTime;

/// Proof algorithms a resource server accepts: asymmetric only (RFC 9449 §4.3 (5)).
pub const ACCEPTED_ALGS: [Algorithm; 9] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
];

/// Why a DPoP proof was refused (RFC 9449 §4.3). Messages name the failed check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// §4.3 (2), (3): not a well-formed JWT.
    #[error("DPoP proof: malformed: {reason}")]
    Malformed {
        /// What is wrong with the proof's structure.
        reason: &'static str,
    },
    /// §4.3 (4): `typ` is not `dpop+jwt`.
    #[error("DPoP proof: typ is not dpop+jwt")]
    Type,
    /// §4.3 (5): `alg` is not an accepted asymmetric algorithm.
    #[error("DPoP proof: alg {alg:?} is not accepted")]
    Algorithm {
        /// The proof's `alg` header.
        alg: String,
    },
    /// §4.3 (7): the `jwk` holds a private or symmetric key.
    #[error("DPoP proof: jwk holds a private or symmetric key")]
    PrivateKey,
    /// §4.3 (6): the signature does not verify with the `jwk`.
    #[error("DPoP proof: signature verification failed")]
    Signature,
    /// §4.3 (8).
    #[error("DPoP proof: htm does not match the request method")]
    Method,
    /// §4.3 (9).
    #[error("DPoP proof: htu does not match the request URI")]
    Uri,
    /// §4.3 (10).
    #[error("DPoP proof: nonce missing or stale")]
    Nonce,
    /// §4.3 (11): `iat` outside the window.
    #[error("DPoP proof: iat {iat} is outside the window (now {now}, {window}s)")]
    Time {
        /// The proof's `iat` (seconds since the epoch).
        iat: u64,
        /// The current time (seconds since the epoch).
        now: u64,
        /// How far `iat` may be from `now`, either side, in seconds.
        window: u64,
    },
    /// §4.3 (12): `ath` is not the hash of the access token.
    #[error("DPoP proof: ath does not match the access token")]
    AccessTokenHash,
    /// §4.3 (12): the proof's key is not the one the token is bound to (`cnf.jkt`).
    #[error("DPoP proof: the key is not the one the access token is bound to")]
    KeyBinding,
    /// A required claim is missing or not a string/number.
    #[error("DPoP proof: claim {claim} is missing or invalid")]
    Claim {
        /// The name of the claim.
        claim: &'static str,
    },
}

/// What a proof must match.
#[derive(Debug, Clone, Copy)]
pub struct ProofExpectations<'a> {
    /// The request method as the client used it (§4.3 (8)).
    pub htm: &'a str,
    /// The request URI as the client used it, without query and fragment (§4.3 (9)): an
    /// absolute http(s) URI. A `htu` equal to it byte for byte matches without parsing.
    pub htu: &'a str,
    /// The access token presented with the proof (`ath`, §4.3 (12)).
    pub access_token: &'a str,
    /// The token's `cnf.jkt` (§6.1).
    pub jkt: &'a str,
    /// The nonce the server requires, if any (§4.3 (10)).
    pub nonce: Option<&'a str>,
    /// Accepted distance of `iat` from `now`, seconds (§4.3 (11)).
    pub window: u64,
    /// The current time.
    pub now: UnixTime,
}

/// A proof that passed: its `jti` for replay detection (§11.1) and `iat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The proof's unique identifier.
    pub jti: String,
    /// When it was made.
    pub iat: u64,
    /// The `nonce` claim, if any.
    pub nonce: Option<String>,
}

/// The key of the proofs that come with one DPoP-bound token: parsed from the first proof that
/// passes, then reused for every later proof whose `jwk` is exactly the same object, so that
/// they skip parsing the key and computing its thumbprint (an RSA public key takes longer to
/// set up than a PS256 signature takes to verify). Keep one per token; a proof with another
/// key is checked in full, as without the cache.
#[derive(Debug, Default)]
pub struct ProofKeyCache(OnceLock<CachedKey>);

#[derive(Debug)]
struct CachedKey {
    /// The thumbprint the key was checked against.
    jkt: String,
    /// The `jwk` header as the first proof sent it.
    jwk: Map<String, Value>,
    key: VerifyingKey,
}

/// Check a DPoP proof as RFC 9449 §4.3 and §7.1 say a resource server does. Replay of `jti`
/// is the caller's to track (it holds the state).
pub fn verify_proof(
    proof: &str,
    expect: &ProofExpectations<'_>,
) -> Result<VerifiedProof, ProofError> {
    verify(proof, expect, None)
}

/// [`verify_proof`] with the key kept in `cache` (one per token) from one proof to the next.
pub fn verify_proof_cached(
    proof: &str,
    expect: &ProofExpectations<'_>,
    cache: &ProofKeyCache,
) -> Result<VerifiedProof, ProofError> {
    verify(proof, expect, Some(cache))
}

fn verify(
    proof: &str,
    expect: &ProofExpectations<'_>,
    cache: Option<&ProofKeyCache>,
) -> Result<VerifiedProof, ProofError> {
    let jws = UnverifiedJws::parse(proof).map_err(|_| ProofError::Malformed {
        reason: "not a compact JWS",
    })?;
    let header = jws.header();
    if header.crit.is_some() {
        return Err(ProofError::Malformed {
            reason: "crit is not understood",
        });
    }
    // §4.3 (4).
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err(ProofError::Type);
    }
    // §4.3 (5): asymmetric, never none nor a MAC; the header names it, and only the accepted
    // ones pass.
    let alg = ACCEPTED_ALGS
        .iter()
        .copied()
        .find(|a| a.as_str() == header.alg)
        .ok_or_else(|| ProofError::Algorithm {
            alg: header.alg.clone(),
        })?;
    let jwk_members = match header.extra.get("jwk") {
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(ProofError::Malformed {
                reason: "jwk is not a JWK",
            });
        }
        None => {
            return Err(ProofError::Malformed {
                reason: "no jwk header",
            });
        }
    };
    // The key of an earlier proof for this token: the same object, already checked below
    // (public, usable, its thumbprint the token's `cnf.jkt`).
    let cached = cache
        .and_then(|c| c.0.get())
        .filter(|c| c.jkt == expect.jkt && c.jwk == *jwk_members);
    let (claims, fresh) = match cached {
        Some(c) => (signed_claims(&jws, alg, &c.key)?, None),
        None => {
            let (claims, key) = check_key(&jws, alg, jwk_members, expect)?;
            (claims, Some(key))
        }
    };
    let verified = check_claims(&claims, expect)?;
    if let (Some(cache), Some(key)) = (cache, fresh) {
        let _ = cache.0.set(CachedKey {
            jkt: expect.jkt.to_owned(),
            jwk: jwk_members.clone(),
            key,
        });
    }
    Ok(verified)
}

/// §4.3 (6): the signature, then the claims object, checked against the whole JSON grammar;
/// only the claims [`check_claims`] reads are decoded.
fn signed_claims<'a>(
    jws: &'a UnverifiedJws<'_>,
    alg: Algorithm,
    key: &VerifyingKey,
) -> Result<[Option<RawValue<'a>>; 6], ProofError> {
    let payload = jws.verify(alg, key).map_err(|_| ProofError::Signature)?;
    let not_object = ProofError::Malformed {
        reason: "payload is not a JSON object",
    };
    let text = std::str::from_utf8(payload).map_err(|_| not_object.clone())?;
    Ok(object_members(text, &CLAIMS)
        .map_err(|_| not_object)?
        .wanted)
}

/// The proof's own key: a public key (§4.3 (7)) that verifies the signature (§4.3 (6)) and is
/// the one the token is bound to (§7.1, §6.1); the claims and the key.
fn check_key<'a>(
    jws: &'a UnverifiedJws<'_>,
    alg: Algorithm,
    jwk_members: &Map<String, Value>,
    expect: &ProofExpectations<'_>,
) -> Result<([Option<RawValue<'a>>; 6], VerifyingKey), ProofError> {
    let jwk = Jwk::from_object(jwk_members.clone()).map_err(|_| ProofError::Malformed {
        reason: "jwk is not a JWK",
    })?;
    // §4.3 (7): a public key only.
    let private = jwk.d.is_some()
        || jwk.p.is_some()
        || jwk.q.is_some()
        || jwk.dp.is_some()
        || jwk.dq.is_some()
        || jwk.qi.is_some()
        || jwk.k.is_some()
        || jwk.extra.contains_key("oth");
    if private || jwk.kty == "oct" {
        return Err(ProofError::PrivateKey);
    }
    let key = VerifyingKey::from_jwk(&jwk).map_err(|_| ProofError::Malformed {
        reason: "jwk is not a usable public key",
    })?;
    let claims = signed_claims(jws, alg, &key)?;
    // §7.1 / §6.1: the key the token is bound to.
    let thumbprint = jwk
        .thumbprint_sha256()
        .map_err(|_| ProofError::KeyBinding)?;
    if thumbprint != expect.jkt {
        return Err(ProofError::KeyBinding);
    }
    Ok((claims, key))
}

/// The claims a proof is checked on (RFC 9449 §4.2), in the order of [`check_claims`]'s
/// reading.
const CLAIMS: [&str; 6] = ["jti", "htm", "htu", "nonce", "iat", "ath"];

fn check_claims(
    claims: &[Option<RawValue<'_>>; 6],
    expect: &ProofExpectations<'_>,
) -> Result<VerifiedProof, ProofError> {
    let [jti, htm, htu, nonce, iat, ath] = claims;
    fn string<'a>(
        v: &Option<RawValue<'a>>,
        claim: &'static str,
    ) -> Result<std::borrow::Cow<'a, str>, ProofError> {
        v.and_then(|v| v.string().ok().flatten())
            .ok_or(ProofError::Claim { claim })
    }
    let nonce = nonce.and_then(|v| v.string().ok().flatten());
    let jti = string(jti, "jti")?;
    if jti.is_empty() || jti.len() > 256 {
        return Err(ProofError::Claim { claim: "jti" });
    }
    // §4.3 (8): the method, compared exactly (methods are case-sensitive, RFC 9110 §9.1).
    if string(htm, "htm")? != expect.htm {
        return Err(ProofError::Method);
    }
    // §4.3 (9): the URI without query and fragment; §4.3 allows normalisation (RFC 3986 §6),
    // done here by parsing both.
    if !same_uri(&string(htu, "htu")?, expect.htu) {
        return Err(ProofError::Uri);
    }
    // §4.3 (10).
    if let Some(n) = expect.nonce
        && nonce.as_deref() != Some(n)
    {
        return Err(ProofError::Nonce);
    }
    let iat = iat
        .and_then(|v| v.plain_u64())
        .ok_or(ProofError::Claim { claim: "iat" })?;
    let now = expect.now.0;
    // §4.3 (11): within an acceptable window, either side.
    if iat > now.saturating_add(expect.window) || iat.saturating_add(expect.window) < now {
        return Err(ProofError::Time {
            iat,
            now,
            window: expect.window,
        });
    }
    // §4.3 (12): ath = base64url(SHA-256(access token)).
    let want =
        b64::encode(digest::digest(&digest::SHA256, expect.access_token.as_bytes()).as_ref());
    if string(ath, "ath")? != want {
        return Err(ProofError::AccessTokenHash);
    }
    Ok(VerifiedProof {
        jti: jti.into_owned(),
        iat,
        nonce: nonce.map(std::borrow::Cow::into_owned),
    })
}

/// RFC 9449 §4.3 (9): `htu` and the request URI, compared after syntax-based normalisation
/// (RFC 3986 §6.2.2), query and fragment ignored.
fn same_uri(htu: &str, expected: &str) -> bool {
    // The common case: the client wrote the URI as it is expected, without query and fragment
    // (RFC 9449 §4.2), and it is an absolute http(s) URI.
    let absolute = expected.starts_with("https://") || expected.starts_with("http://");
    if htu == expected && absolute && !htu.contains(['?', '#']) {
        return true;
    }
    let norm = |s: &str| {
        url::Url::parse(s).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u
        })
    };
    match (norm(htu), norm(expected)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
