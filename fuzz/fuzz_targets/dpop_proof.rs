//! DPoP proofs at the gateway (RFC 9449 §4.3): `verify_proof` on the input as a proof.
//!
//! Invariant: never panics, and a proof is never accepted for a token bound to a key thumbprint
//! nobody holds (the input cannot carry a key whose RFC 7638 thumbprint is `jkt`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_core::UnixTime;
use relier_core::dpop::verify::{ProofExpectations, verify_proof};

fuzz_target!(|data: &[u8]| {
    let Ok(proof) = std::str::from_utf8(data) else {
        return;
    };
    let expect = ProofExpectations {
        htm: "GET",
        htu: "https://app.example.com/api/orders",
        access_token: "token",
        jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
        nonce: None,
        window: 60,
        now: UnixTime(1_800_000_000),
    };
    assert!(verify_proof(proof, &expect).is_err());
});
