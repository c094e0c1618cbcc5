#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "a benchmark: setup and its report"
)]
//! The ≥ 90 %-of-raw target, measured as paired, interleaved rounds. A round times short
//! batches (≈ 100 µs) of the raw aws-lc-rs operation and of the relier path built on it,
//! alternating, five of each, and keeps the fastest batch of each side: a batch the scheduler
//! interrupted (another process, a noisy VM neighbour) is slower, never faster, so the
//! minimum of a few adjacent batches is the operation's own cost at that moment. The round's
//! ratio is raw time / relier time — relier's throughput as a fraction of raw — and drift in
//! the machine's speed between rounds moves both sides alike.
//!
//! `cargo bench -p relier-core --bench paired [-- --rounds N] [-- FILTER]`
//!
//! Prints one markdown table row per path: the medians of the per-round times and the median
//! ratio with its 10th–90th percentile range. See docs/benchmarks.md.

mod common;

use std::hint::black_box;
use std::time::Instant;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, KeyPair as _, ParsedPublicKey};
use common::*;
use relier_core::access_token::{AccessTokenExpectations, validate_access_token};
use relier_core::dpop::verify::{
    ProofExpectations, ProofKeyCache, verify_proof, verify_proof_cached,
};
use relier_core::dpop::{DpopKey, ProofTarget};
use relier_core::http::Method;
use relier_core::id_token::Expectations;
use relier_core::{
    Algorithm, ClientAuth, ClientId, IdTokenValidator, IssuerUrl, Nonce, Secret, UnixTime,
};

/// Target wall time of one batch: well under a scheduler time slice.
const BATCH_NANOS: f64 = 100_000.0;

/// Batches of each side per round; the fastest of them counts.
const BATCHES_PER_ROUND: usize = 5;

struct Pair<'a> {
    name: String,
    raw: Box<dyn FnMut() + 'a>,
    relier: Box<dyn FnMut() + 'a>,
}

/// Nanoseconds per call over `n` calls.
fn batch(f: &mut dyn FnMut(), n: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

/// Calls per batch so that one batch takes about [`BATCH_NANOS`].
fn calibrate(f: &mut dyn FnMut()) -> u32 {
    batch(f, 50);
    let per_call = batch(f, 200).max(1.0);
    (BATCH_NANOS / per_call).clamp(1.0, 1_000_000.0) as u32
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    percentile(&v, 0.5)
}

fn run(pair: &mut Pair<'_>, rounds: usize) {
    let n_raw = calibrate(&mut pair.raw);
    let n_relier = calibrate(&mut pair.relier);
    let (mut raw_ns, mut relier_ns, mut ratios) = (vec![], vec![], vec![]);
    for round in 0..rounds {
        let (mut raw, mut relier) = (f64::INFINITY, f64::INFINITY);
        for j in 0..BATCHES_PER_ROUND {
            if (round + j) % 2 == 0 {
                raw = raw.min(batch(&mut pair.raw, n_raw));
                relier = relier.min(batch(&mut pair.relier, n_relier));
            } else {
                relier = relier.min(batch(&mut pair.relier, n_relier));
                raw = raw.min(batch(&mut pair.raw, n_raw));
            }
        }
        raw_ns.push(raw);
        relier_ns.push(relier);
        ratios.push(raw / relier);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "| {} | {:.2} µs | {:.2} µs | {:.1} % | {:.1}–{:.1} % |",
        pair.name,
        median(raw_ns) / 1000.0,
        median(relier_ns) / 1000.0,
        percentile(&ratios, 0.5) * 100.0,
        percentile(&ratios, 0.1) * 100.0,
        percentile(&ratios, 0.9) * 100.0,
    );
}

/// Each signing algorithm with relier's key, the raw verification algorithm and the raw public
/// key (the same key pair).
type AlgCase<'a> = (
    Algorithm,
    &'a relier_core::jose::SigningKey,
    &'static dyn sig::VerificationAlgorithm,
    &'a [u8],
);

fn alg_cases(k: &Keys) -> [AlgCase<'_>; 4] {
    let rsa_public = k.rsa_raw.public_key().as_ref();
    [
        (
            Algorithm::RS256,
            &k.rsa,
            &sig::RSA_PKCS1_2048_8192_SHA256 as &'static dyn sig::VerificationAlgorithm,
            rsa_public,
        ),
        (
            Algorithm::PS256,
            &k.rsa_pss,
            &sig::RSA_PSS_2048_8192_SHA256,
            rsa_public,
        ),
        (
            Algorithm::ES256,
            &k.ec,
            &sig::ECDSA_P256_SHA256_FIXED,
            k.ec_raw.public_key().as_ref(),
        ),
        (
            Algorithm::EdDSA,
            &k.ed,
            &sig::ED25519,
            k.ed_raw.public_key().as_ref(),
        ),
    ]
}

fn validation_pairs<'a>(k: &'a Keys, fx: &'a ValidationFixture) -> Vec<Pair<'a>> {
    alg_cases(k)
        .into_iter()
        .map(|(alg, signer, raw_alg, public)| {
            let token = sign_id_token(signer);
            let validator =
                IdTokenValidator::new(fx.issuer.clone(), fx.client_id.clone()).with_alg(alg);
            let raw_key = ParsedPublicKey::new(raw_alg, public).unwrap();
            let (input, signature) = split(&token);
            // Both sides must accept the very same token.
            raw_key.verify_sig(&input, &signature).unwrap();
            let expect = Expectations {
                nonce: Some(&fx.nonce),
                ..Default::default()
            };
            validator
                .validate(&token, &fx.keys, &expect, fx.now)
                .unwrap();
            Pair {
                name: format!("validate {}", alg.as_str()),
                raw: Box::new(move || {
                    raw_key
                        .verify_sig(black_box(&input), black_box(&signature))
                        .unwrap();
                }),
                relier: Box::new(move || {
                    let expect = Expectations {
                        nonce: Some(&fx.nonce),
                        ..Default::default()
                    };
                    black_box(
                        validator
                            .validate(black_box(&token), &fx.keys, &expect, fx.now)
                            .unwrap(),
                    );
                }),
            }
        })
        .collect()
}

/// RFC 9068 access-token validation (`validate_access_token`, as the gateway calls it for an
/// `[[api]]` path) against the raw verification of the same JWS.
fn access_token_pairs<'a>(k: &'a Keys, fx: &'a ValidationFixture) -> Vec<Pair<'a>> {
    alg_cases(k)
        .into_iter()
        .map(|(alg, signer, raw_alg, public)| {
            let token = sign_access_token(signer, None);
            let raw_key = ParsedPublicKey::new(raw_alg, public).unwrap();
            let (input, signature) = split(&token);
            raw_key.verify_sig(&input, &signature).unwrap();
            let expect = AccessTokenExpectations {
                issuer: &fx.issuer,
                audience: API_AUDIENCE,
                alg,
                skew: 60,
            };
            validate_access_token(&token, &fx.keys, &expect, fx.now).unwrap();
            Pair {
                name: format!("access token {}", alg.as_str()),
                raw: Box::new(move || {
                    raw_key
                        .verify_sig(black_box(&input), black_box(&signature))
                        .unwrap();
                }),
                relier: Box::new(move || {
                    black_box(
                        validate_access_token(black_box(&token), &fx.keys, &expect, fx.now)
                            .unwrap(),
                    );
                }),
            }
        })
        .collect()
}

/// The request the DPoP fixtures are made for.
const DPOP_HTU: &str = "https://api.example.com/orders/42";

/// RFC 9449 §4.3 proof verification (`verify_proof`: the `jwk` parsed into a key, the
/// signature, the claims, `ath`, the `cnf.jkt` binding) against the raw verification of the
/// same proof with a key parsed beforehand. Proof algorithms relier signs with; each twice:
/// every proof a first one (the key parsed), and with the key kept from the token's earlier
/// proofs (`verify_proof_cached`, as the gateway does).
fn dpop_pairs<'a>(k: &'a Keys, fx: &'a ValidationFixture) -> Vec<Pair<'a>> {
    alg_cases(k)
        .into_iter()
        .filter(|(alg, ..)| relier_core::dpop::SUPPORTED_ALGS.contains(alg))
        .flat_map(|case| [(case, false), (case, true)])
        .map(|((alg, signer, raw_alg, public), cached)| {
            let key = DpopKey::from_signing_key(signer.clone()).unwrap();
            let jkt = key.thumbprint().to_owned();
            let access_token = sign_access_token(&k.ec, Some(&jkt));
            let secret = Secret::new(access_token.as_str());
            let proof = key
                .proof(
                    &ProofTarget {
                        method: Method::Get,
                        url: DPOP_HTU,
                        now: UnixTime(NOW),
                        nonce: None,
                        access_token: Some(&secret),
                    },
                    &fx.rng,
                )
                .unwrap();
            let raw_key = ParsedPublicKey::new(raw_alg, public).unwrap();
            let (input, signature) = split(&proof);
            raw_key.verify_sig(&input, &signature).unwrap();
            let cache = ProofKeyCache::default();
            let relier = move || {
                let expect = ProofExpectations {
                    htm: "GET",
                    htu: DPOP_HTU,
                    access_token: &access_token,
                    jkt: &jkt,
                    nonce: None,
                    window: 60,
                    now: fx.now,
                };
                if cached {
                    verify_proof_cached(black_box(&proof), &expect, &cache).unwrap()
                } else {
                    verify_proof(black_box(&proof), &expect).unwrap()
                }
            };
            relier();
            Pair {
                name: format!(
                    "DPoP proof {}{}",
                    alg.as_str(),
                    if cached { ", key cached" } else { "" }
                ),
                raw: Box::new(move || {
                    raw_key
                        .verify_sig(black_box(&input), black_box(&signature))
                        .unwrap();
                }),
                relier: Box::new(move || {
                    black_box(relier());
                }),
            }
        })
        .collect()
}

fn assertion_pairs<'a>(k: &'a Keys, fx: &'a ValidationFixture) -> Vec<Pair<'a>> {
    let rng: &'a SystemRandom = &fx.rng;
    [
        (Algorithm::RS256, &k.rsa),
        (Algorithm::PS256, &k.rsa_pss),
        (Algorithm::ES256, &k.ec),
        (Algorithm::EdDSA, &k.ed),
    ]
    .into_iter()
    .map(|(alg, signer)| {
        let auth = ClientAuth::private_key_jwt(fx.client_id.clone(), signer.clone()).unwrap();
        let assertion = auth
            .client_assertion(&fx.issuer, TOKEN_ENDPOINT, UnixTime(NOW), rng)
            .unwrap()
            .unwrap();
        // A message as long as the real assertion's signing input.
        let msg = vec![b'a'; split(&assertion).0.len()];
        let raw: Box<dyn FnMut() + 'a> = match alg {
            Algorithm::RS256 | Algorithm::PS256 => {
                let encoding: &'static dyn sig::RsaEncoding = if alg == Algorithm::RS256 {
                    &sig::RSA_PKCS1_SHA256
                } else {
                    &sig::RSA_PSS_SHA256
                };
                let mut out = vec![0u8; k.rsa_raw.public_modulus_len()];
                Box::new(move || {
                    k.rsa_raw
                        .sign(encoding, rng, black_box(&msg), &mut out)
                        .unwrap()
                })
            }
            Algorithm::ES256 => Box::new(move || {
                black_box(k.ec_raw.sign(rng, black_box(&msg)).unwrap());
            }),
            _ => Box::new(move || {
                black_box(k.ed_raw.sign(black_box(&msg)));
            }),
        };
        Pair {
            name: format!("`client_assertion` {}", alg.as_str()),
            raw,
            relier: Box::new(move || {
                black_box(
                    auth.client_assertion(
                        &fx.issuer,
                        black_box(TOKEN_ENDPOINT),
                        UnixTime(NOW),
                        rng,
                    )
                    .unwrap(),
                );
            }),
        }
    })
    .collect()
}

struct ValidationFixture {
    keys: relier_core::KeySet,
    issuer: IssuerUrl,
    client_id: ClientId,
    nonce: Nonce,
    now: UnixTime,
    rng: SystemRandom,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut rounds = 300;
    let mut filter = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--rounds" => rounds = it.next().and_then(|n| n.parse().ok()).expect("--rounds N"),
            "--bench" => {}
            other if !other.starts_with("--") => filter = Some(other.to_owned()),
            _ => {}
        }
    }
    let k = keys();
    let fx = ValidationFixture {
        keys: key_set(&k),
        issuer: IssuerUrl::new(ISSUER).unwrap(),
        client_id: ClientId::new(CLIENT_ID).unwrap(),
        nonce: Nonce::from_stored(NONCE).unwrap(),
        now: UnixTime(NOW + 5),
        rng: SystemRandom::new(),
    };
    println!(
        "{rounds} paired rounds per path, each the fastest of {BATCHES_PER_ROUND} batches of ≈ 100 µs per side; ratio = raw time / relier time per round"
    );
    println!();
    println!("| path | raw (median) | relier (median) | ratio (median) | ratio p10–p90 |");
    println!("|---|---:|---:|---:|---:|");
    let mut pairs = validation_pairs(&k, &fx);
    pairs.extend(access_token_pairs(&k, &fx));
    pairs.extend(dpop_pairs(&k, &fx));
    pairs.extend(assertion_pairs(&k, &fx));
    for pair in &mut pairs {
        if filter.as_deref().is_none_or(|f| pair.name.contains(f)) {
            run(pair, rounds);
        }
    }
}
