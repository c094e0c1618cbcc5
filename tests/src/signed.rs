//! Checks on what relier signs with its entity key (entity statements, signed JWK sets):
//! shared by the gateway's and the CLI's federation tests.

use relier_jose::jws::{Header, UnverifiedJws};
use relier_jose::{Algorithm, Jwk, VerifyingKey};
use serde_json::Value;

/// JWK members that only a private key has (RFC 7518 §6.2.2, §6.3.2, §6.4): none may be
/// published.
pub const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The payload and header of the RS256 JWS `token` (surrounding whitespace ignored), verified
/// with `jwk`; panics when it does not verify.
pub fn verify_rs256(token: &str, jwk: &Jwk) -> (Value, Header) {
    let jws = UnverifiedJws::parse(token.trim()).unwrap();
    let payload = jws
        .verify(Algorithm::RS256, &VerifyingKey::from_jwk(jwk).unwrap())
        .unwrap();
    (
        serde_json::from_slice(payload).unwrap(),
        jws.header().clone(),
    )
}

/// The `kid`s of the JWK array `keys`, sorted; panics when a key carries a private member.
pub fn public_kids(keys: &Value) -> Vec<String> {
    let mut kids: Vec<String> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            for m in PRIVATE_MEMBERS {
                assert!(k.get(m).is_none(), "{m} published: {k}");
            }
            k["kid"].as_str().unwrap().to_owned()
        })
        .collect();
    kids.sort();
    kids
}
