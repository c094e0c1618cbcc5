#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark setup")]
//! Relying-party hot paths, each beside the raw aws-lc-rs operation it is built on, in the same
//! criterion group so the report compares them directly. See docs/benchmarks.md.
//!
//! `cargo bench -p relier-core --bench rp`
//!
//! Groups:
//! - `id_token_validate/{RS256,PS256,ES256,EdDSA}`: `IdTokenValidator::validate` on a realistic 20-claim ID
//!   token with a cached `KeySet`, against `ParsedPublicKey::verify_sig` over the same signing
//!   input and signature.
//! - `client_assertion/{RS256,PS256,ES256,EdDSA}`: `ClientAuth::private_key_jwt(..).request(..)` (the
//!   whole authenticated token request), against the raw aws-lc-rs signature of a message as
//!   long as the assertion's signing input.
//! - `authorize`: `authorization_url` and `CallbackParams::parse(..).validate(..)`.
//! - `breakdown_*`: the pieces of the two paths above, to locate any overhead.

mod common;

use std::hint::black_box;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, KeyPair as _, ParsedPublicKey};
use common::*;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use relier_core::authorize::{self, AuthorizationParams, CallbackParams};
use relier_core::http::Form;
use relier_core::id_token::Expectations;
use relier_core::jose::{b64, jws};
use relier_core::{
    Algorithm, ClientAuth, ClientId, IdTokenValidator, IssuerUrl, Nonce, ProviderMetadata,
    RedirectUrl, UnixTime,
};
use serde_json::{Value, json};

fn bench_id_token(c: &mut Criterion, k: &Keys) {
    let keys = key_set(k);
    let issuer = IssuerUrl::new(ISSUER).unwrap();
    let client_id = ClientId::new(CLIENT_ID).unwrap();
    let nonce = Nonce::from_stored(NONCE).unwrap();
    let now = UnixTime(NOW + 5);

    let mut g = c.benchmark_group("id_token_validate");
    g.throughput(Throughput::Elements(1));
    for (alg, signer, raw_key) in [
        (
            Algorithm::RS256,
            &k.rsa,
            ParsedPublicKey::new(
                &sig::RSA_PKCS1_2048_8192_SHA256,
                k.rsa_raw.public_key().as_ref(),
            )
            .unwrap(),
        ),
        (
            Algorithm::PS256,
            &k.rsa_pss,
            ParsedPublicKey::new(
                &sig::RSA_PSS_2048_8192_SHA256,
                k.rsa_raw.public_key().as_ref(),
            )
            .unwrap(),
        ),
        (
            Algorithm::ES256,
            &k.ec,
            ParsedPublicKey::new(
                &sig::ECDSA_P256_SHA256_FIXED,
                k.ec_raw.public_key().as_ref(),
            )
            .unwrap(),
        ),
        (
            Algorithm::EdDSA,
            &k.ed,
            ParsedPublicKey::new(&sig::ED25519, k.ed_raw.public_key().as_ref()).unwrap(),
        ),
    ] {
        let token = sign_id_token(signer);
        let validator = IdTokenValidator::new(issuer.clone(), client_id.clone()).with_alg(alg);
        let expect = Expectations {
            nonce: Some(&nonce),
            ..Default::default()
        };
        // The token must pass, and the raw baseline must verify the very same bytes.
        let verified = validator.validate(&token, &keys, &expect, now).unwrap();
        assert_eq!(verified.claims().all().unwrap().len(), 20);
        let (input, signature) = split(&token);
        raw_key.verify_sig(&input, &signature).unwrap();

        g.bench_function(BenchmarkId::new("relier", alg.as_str()), |b| {
            b.iter(|| {
                validator
                    .validate(black_box(&token), &keys, &expect, now)
                    .unwrap()
            });
        });
        g.bench_function(BenchmarkId::new("raw_aws_lc_rs", alg.as_str()), |b| {
            b.iter(|| {
                raw_key
                    .verify_sig(black_box(&input), black_box(&signature))
                    .unwrap();
            });
        });
    }
    g.finish();
}

fn bench_client_assertion(c: &mut Criterion, k: &Keys) {
    let rng = SystemRandom::new();
    let issuer = IssuerUrl::new(ISSUER).unwrap();
    let client_id = ClientId::new(CLIENT_ID).unwrap();
    let now = UnixTime(NOW);

    let mut g = c.benchmark_group("client_assertion");
    g.throughput(Throughput::Elements(1));
    for (alg, signer) in [
        (Algorithm::RS256, &k.rsa),
        (Algorithm::PS256, &k.rsa_pss),
        (Algorithm::ES256, &k.ec),
        (Algorithm::EdDSA, &k.ed),
    ] {
        let auth = ClientAuth::private_key_jwt(client_id.clone(), signer.clone()).unwrap();
        // A message as long as the real assertion's signing input.
        let req = auth
            .request(&issuer, TOKEN_ENDPOINT, Form::new(), now, &rng)
            .unwrap();
        let assertion = assertion_of(&req.body);
        let (input, _) = split(&assertion);
        let msg = vec![b'a'; input.len()];

        // The assertion itself: fresh jti, RFC 7523 claims, JWS.
        g.bench_function(BenchmarkId::new("relier", alg.as_str()), |b| {
            b.iter(|| {
                auth.client_assertion(&issuer, black_box(TOKEN_ENDPOINT), now, &rng)
                    .unwrap()
            });
        });
        // The whole authenticated token request around it (form body, headers).
        g.bench_function(
            BenchmarkId::new("relier_token_request", alg.as_str()),
            |b| {
                b.iter(|| {
                    auth.request(&issuer, black_box(TOKEN_ENDPOINT), Form::new(), now, &rng)
                        .unwrap()
                });
            },
        );
        let id = BenchmarkId::new("raw_aws_lc_rs", alg.as_str());
        match alg {
            Algorithm::RS256 | Algorithm::PS256 => {
                let encoding: &'static dyn sig::RsaEncoding = if alg == Algorithm::RS256 {
                    &sig::RSA_PKCS1_SHA256
                } else {
                    &sig::RSA_PSS_SHA256
                };
                let mut out = vec![0u8; k.rsa_raw.public_modulus_len()];
                g.bench_function(id, |b| {
                    b.iter(|| {
                        k.rsa_raw
                            .sign(encoding, &rng, black_box(&msg), &mut out)
                            .unwrap();
                    });
                });
            }
            Algorithm::ES256 => {
                g.bench_function(id, |b| {
                    b.iter(|| k.ec_raw.sign(&rng, black_box(&msg)).unwrap());
                });
            }
            _ => {
                g.bench_function(id, |b| b.iter(|| k.ed_raw.sign(black_box(&msg))));
            }
        }
    }
    g.finish();
}

fn metadata() -> ProviderMetadata {
    let doc = json!({
        "issuer": ISSUER,
        "authorization_endpoint": "https://op.example.com/oauth2/authorize",
        "token_endpoint": TOKEN_ENDPOINT,
        "jwks_uri": "https://op.example.com/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    });
    ProviderMetadata::from_json(&IssuerUrl::new(ISSUER).unwrap(), doc.to_string().as_bytes())
        .unwrap()
}

fn bench_authorize(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let md = metadata();
    let issuer = IssuerUrl::new(ISSUER).unwrap();
    let client_id = ClientId::new(CLIENT_ID).unwrap();
    let redirect = RedirectUrl::new("https://rp.example.org/callback").unwrap();
    let params = AuthorizationParams {
        scopes: vec!["profile email".to_owned()],
        max_age: Some(3600),
        ..Default::default()
    };
    let (_, pending) =
        authorize::authorization_url(&md, &client_id, &redirect, &params, &rng).unwrap();
    let query = format!(
        "code=SplxlOBeZQQYbYS6WxSbIA-4f7a2c1e9b3d4e8fa6c50d1b2e3f4a5b&state={}&iss={}",
        pending.state.expose(),
        url::form_urlencoded::byte_serialize(ISSUER.as_bytes()).collect::<String>(),
    );
    CallbackParams::parse(query.as_bytes())
        .unwrap()
        .validate(&pending, &issuer, true)
        .unwrap();

    let mut g = c.benchmark_group("authorize");
    g.throughput(Throughput::Elements(1));
    g.bench_function("authorization_url", |b| {
        b.iter(|| {
            authorize::authorization_url(&md, &client_id, &redirect, black_box(&params), &rng)
                .unwrap()
        });
    });
    // The unavoidable work inside authorization_url: 3 × 32 random bytes, one SHA-256 (PKCE
    // S256) and four base64url encodings. A floor, not a target.
    g.bench_function("raw_floor_authorization_url", |b| {
        b.iter(|| {
            let mut buf = [0u8; 96];
            aws_lc_rs::rand::SecureRandom::fill(&rng, &mut buf).unwrap();
            let (s, rest) = buf.split_at(32);
            let (n, v) = rest.split_at(32);
            let v = b64::encode(v);
            let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, v.as_bytes());
            black_box((b64::encode(s), b64::encode(n), v, b64::encode(d.as_ref())))
        });
    });
    g.bench_function("callback_parse_validate", |b| {
        b.iter(|| {
            CallbackParams::parse(black_box(query.as_bytes()))
                .unwrap()
                .validate(&pending, &issuer, true)
                .unwrap()
        });
    });
    g.finish();
}

/// The steps of `validate` and `request`, one by one, to locate the overhead over the raw
/// primitive. Not compared against a target.
fn bench_breakdown(c: &mut Criterion, k: &Keys) {
    let keys = key_set(k);
    let issuer = IssuerUrl::new(ISSUER).unwrap();
    let client_id = ClientId::new(CLIENT_ID).unwrap();
    let nonce = Nonce::from_stored(NONCE).unwrap();
    let now = UnixTime(NOW + 5);
    let mut g = c.benchmark_group("breakdown_validate");
    for (alg, signer, kid) in [
        (Algorithm::RS256, &k.rsa, "rsa-2024-11"),
        (Algorithm::ES256, &k.ec, "ec-2024-11"),
    ] {
        let token = sign_id_token(signer);
        let a = alg.as_str();
        let verifier = keys.select(Some(kid), alg).unwrap();
        let parsed = jws::UnverifiedJws::parse(&token).unwrap();
        let payload = parsed.unverified_payload().to_vec();
        let mut parts = token.split('.');
        let header_b64 = parts.next().unwrap().to_owned();
        let payload_b64 = parts.next().unwrap().to_owned();
        let header_json = b64::decode(&header_b64).unwrap();
        let validator = IdTokenValidator::new(issuer.clone(), client_id.clone()).with_alg(alg);
        let expect = Expectations {
            nonce: Some(&nonce),
            ..Default::default()
        };
        // validate = jws_parse + keyset_select + verifying_key_verify + claims_from_json (the
        // registered claims only) + checks + Secret copy of the token. verify_jwt (used for
        // signed UserInfo and logout tokens) builds the full claims map instead.
        g.bench_function(BenchmarkId::new("validate", a), |b| {
            b.iter(|| {
                validator
                    .validate(black_box(&token), &keys, &expect, now)
                    .unwrap()
            });
        });
        g.bench_function(BenchmarkId::new("verify_jwt", a), |b| {
            b.iter(|| {
                relier_core::jwt::verify_jwt(black_box(&token), &keys, validator.policy()).unwrap()
            });
        });
        g.bench_function(BenchmarkId::new("jws_parse", a), |b| {
            b.iter(|| jws::UnverifiedJws::parse(black_box(&token)).unwrap());
        });
        g.bench_function(BenchmarkId::new("verifying_key_verify", a), |b| {
            b.iter(|| {
                verifier
                    .verify(alg, black_box(parsed.signing_input()), parsed.signature())
                    .unwrap();
            });
        });
        if alg != Algorithm::ES256 {
            continue;
        }
        // Algorithm-independent pieces: measured once.
        g.bench_function("b64_decode_header", |b| {
            b.iter(|| b64::decode(black_box(&header_b64)).unwrap());
        });
        g.bench_function("header_json_to_map", |b| {
            b.iter(|| {
                serde_json::from_slice::<serde_json::Map<String, Value>>(black_box(&header_json))
                    .unwrap()
            });
        });
        g.bench_function("b64_decode_payload", |b| {
            b.iter(|| b64::decode(black_box(&payload_b64)).unwrap());
        });
        g.bench_function("header_clone", |b| {
            b.iter(|| black_box(parsed.header()).clone());
        });
        g.bench_function("keyset_select", |b| {
            b.iter(|| keys.select(black_box(Some(kid)), alg).unwrap());
        });
        g.bench_function("claims_json_to_map", |b| {
            b.iter(|| serde_json::from_slice::<Value>(black_box(&payload)).unwrap());
        });
        g.bench_function("claims_from_json", |b| {
            b.iter_batched(
                || payload.clone(),
                |p| relier_core::IdTokenClaims::from_json(p).unwrap(),
                criterion::BatchSize::SmallInput,
            );
        });
        g.bench_function("secret_copy_of_token", |b| {
            b.iter(|| relier_core::Secret::new(black_box(token.as_str())));
        });
    }
    g.finish();

    let rng = SystemRandom::new();
    let now = UnixTime(NOW);
    let mut g = c.benchmark_group("breakdown_assertion");
    for (alg, signer, generated) in [
        (Algorithm::RS256, &k.rsa, Some(&k.rsa_generated)),
        (Algorithm::ES256, &k.ec, None),
        (Algorithm::EdDSA, &k.ed, Some(&k.ed_generated)),
    ] {
        let a = alg.as_str();
        let auth = ClientAuth::private_key_jwt(client_id.clone(), signer.clone()).unwrap();
        let req = auth
            .request(&issuer, TOKEN_ENDPOINT, Form::new(), now, &rng)
            .unwrap();
        let assertion = assertion_of(&req.body);
        let payload = b64::decode(assertion.split('.').nth(1).unwrap()).unwrap();
        let (input, _) = split(&assertion);
        let header = jws::Header {
            kid: signer.kid().map(str::to_owned),
            ..Default::default()
        };
        g.bench_function(BenchmarkId::new("request", a), |b| {
            b.iter(|| {
                auth.request(&issuer, black_box(TOKEN_ENDPOINT), Form::new(), now, &rng)
                    .unwrap()
            });
        });
        g.bench_function(BenchmarkId::new("client_assertion", a), |b| {
            b.iter(|| {
                auth.client_assertion(&issuer, black_box(TOKEN_ENDPOINT), now, &rng)
                    .unwrap()
            });
        });
        let compact = jws::CompactSigner::new(&jws::Header::default(), signer.clone()).unwrap();
        g.bench_function(BenchmarkId::new("compact_signer", a), |b| {
            b.iter(|| compact.sign(black_box(&payload), &rng).unwrap());
        });
        g.bench_function(BenchmarkId::new("sign_compact", a), |b| {
            b.iter(|| jws::sign_compact(&header, black_box(&payload), signer, &rng).unwrap());
        });
        g.bench_function(BenchmarkId::new("signing_key_sign", a), |b| {
            b.iter(|| signer.sign(black_box(&input), &rng).unwrap());
        });
        if let Some(generated) = generated {
            g.bench_function(BenchmarkId::new("signing_key_sign_generated_key", a), |b| {
                b.iter(|| generated.sign(black_box(&input), &rng).unwrap());
            });
        }
        if alg != Algorithm::ES256 {
            continue;
        }
        g.bench_function("rng_fill_24", |b| {
            b.iter(|| {
                let mut jti = [0u8; 24];
                aws_lc_rs::rand::SecureRandom::fill(&rng, &mut jti).unwrap();
                jti
            });
        });
        g.bench_function("form_and_request", |b| {
            b.iter(|| {
                let mut form = Form::new();
                form.push("client_id", CLIENT_ID);
                form.push(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                );
                form.push("client_assertion", black_box(&assertion));
                relier_core::http::HttpRequest::form_post(TOKEN_ENDPOINT, &form)
            });
        });
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    let k = keys();
    bench_id_token(c, &k);
    bench_client_assertion(c, &k);
    bench_authorize(c);
    bench_breakdown(c, &k);
}

criterion_group!(rp, benches);
criterion_main!(rp);
