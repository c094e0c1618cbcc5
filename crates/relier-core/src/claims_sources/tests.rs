#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::net::IpAddr;

use aws_lc_rs::rand::SystemRandom;
use relier_jose::jws::{Header, sign_compact};
use relier_jose::{Algorithm, SigningKey};
use serde_json::json;

use super::*;

/// OIDC Core §5.6.2.1's example, with the JWT and access token as values of our own.
fn example(jwt: &str) -> Map<String, Value> {
    json!({
        "name": "Jane Doe",
        "birthdate": "0000-03-22",
        "_claim_names": {
            "address": "src1",
            "phone_number": "src1",
            "payment_info": "src2",
            "shipping_address": "src2",
            "credit_score": "src3",
        },
        "_claim_sources": {
            "src1": {"JWT": jwt},
            "src2": {"endpoint": "https://bank.example.com/claim_source",
                     "access_token": "ksj3n283dke"},
            "src3": {"endpoint": "https://creditagency.example.com/claims_here",
                     "access_token": "9mxnd83d"},
        },
    })
    .as_object()
    .unwrap()
    .clone()
}

fn key() -> SigningKey {
    SigningKey::generate(Algorithm::ES256, None)
        .unwrap()
        .with_kid("k1")
}

fn signed(key: &SigningKey, claims: &Value) -> String {
    sign_compact(
        &Header::default(),
        claims.to_string().as_bytes(),
        key,
        &SystemRandom::new(),
    )
    .unwrap()
}

fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        relier_jose::b64::encode(br#"{"alg":"none"}"#),
        relier_jose::b64::encode(claims.to_string().as_bytes())
    )
}

fn metadata(issuer: &str, algs: &[&str]) -> ProviderMetadata {
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
    });
    ProviderMetadata::from_json(&IssuerUrl::new(issuer).unwrap(), doc.to_string().as_bytes())
        .unwrap()
}

const CLAIMS_ISSUER: &str = "https://jwt-issuer.example";

#[test]
fn the_specs_example_gives_three_sources_with_their_claims() {
    let (found, dropped) = sources(&example("a.b.c"));
    assert!(dropped.is_empty(), "{dropped:?}");
    let names: Vec<(&str, Vec<&str>)> = found
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.claims.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("src1", vec!["address", "phone_number"]),
            ("src3", vec!["credit_score"]),
            ("src2", vec!["payment_info", "shipping_address"]),
        ]
    );
    assert!(matches!(&found[0].kind, SourceKind::Aggregated { jwt } if jwt == "a.b.c"));
    let SourceKind::Distributed {
        endpoint,
        access_token,
    } = &found[2].kind
    else {
        panic!("src2 is distributed");
    };
    assert_eq!(endpoint.as_str(), "https://bank.example.com/claim_source");
    assert_eq!(access_token.as_ref().unwrap().expose(), "ksj3n283dke");
}

#[test]
fn malformed_missing_protected_and_too_many_sources_are_dropped() {
    let mut names = Map::new();
    let mut table = Map::new();
    for i in 0..MAX_SOURCES + 2 {
        names.insert(format!("c{i}"), json!(format!("s{i}")));
        table.insert(format!("s{i}"), json!({"JWT": "a.b.c"}));
    }
    names.insert("sub".into(), json!("s0"));
    // (Sorted before the others: `_claim_names` is read in key order.)
    names.insert("0x".into(), json!("nowhere"));
    names.insert("0y".into(), json!(7));
    table.insert("bad".into(), json!({"endpoint": "not a url"}));
    names.insert("0z".into(), json!("bad"));
    let claims = json!({"_claim_names": names, "_claim_sources": table});
    let (found, dropped) = sources(claims.as_object().unwrap());
    assert_eq!(found.len(), MAX_SOURCES);
    let has = |f: &dyn Fn(&ClaimSourceError) -> bool| dropped.iter().any(f);
    assert!(has(&|e| matches!(
        e,
        ClaimSourceError::TooManySources { .. }
    )));
    assert!(has(
        &|e| matches!(e, ClaimSourceError::ProtectedClaim { claim, .. } if claim == "sub")
    ));
    assert!(has(
        &|e| matches!(e, ClaimSourceError::MissingSource { source_name } if source_name == "nowhere")
    ));
    assert!(has(&|e| matches!(e, ClaimSourceError::Malformed { .. })));
    let big = "a".repeat(MAX_JWT_BYTES + 1);
    let (found, dropped) = sources(&example(&big));
    assert_eq!(found.len(), 2);
    assert!(matches!(
        dropped.as_slice(),
        [ClaimSourceError::JwtTooLarge { .. }]
    ));
}

#[test]
fn an_aggregated_jwt_verifies_against_its_issuers_published_alg() {
    let k = key();
    let keys = KeySet::from_keys(vec![k.verifying_key().unwrap()]);
    let jwt = signed(
        &k,
        &json!({"iss": CLAIMS_ISSUER, "address": {"country": "NL"}}),
    );
    assert_eq!(
        aggregated_issuer("src1", &jwt).unwrap().as_str(),
        CLAIMS_ISSUER
    );
    let md = metadata(CLAIMS_ISSUER, &["RS256", "ES256"]);
    let claims = verify_claims_jwt("src1", &jwt, &md, &keys).unwrap();
    assert_eq!(claims["address"]["country"], "NL");
    // The alg is pinned to what the issuer publishes.
    let md = metadata(CLAIMS_ISSUER, &["RS256"]);
    assert!(matches!(
        verify_claims_jwt("src1", &jwt, &md, &keys),
        Err(ClaimSourceError::AlgNotPublished { alg, .. }) if alg == "ES256"
    ));
    // Another issuer's keys, or a discovered issuer that is not the JWT's.
    let other = KeySet::from_keys(vec![key().verifying_key().unwrap()]);
    let md = metadata(CLAIMS_ISSUER, &["ES256"]);
    assert!(matches!(
        verify_claims_jwt("src1", &jwt, &md, &other),
        Err(ClaimSourceError::Jwt { .. })
    ));
    let md = metadata("https://elsewhere.example", &["ES256"]);
    assert!(matches!(
        verify_claims_jwt("src1", &jwt, &md, &keys),
        Err(ClaimSourceError::IssuerMismatch { .. })
    ));
}

#[test]
fn a_flipped_signature_byte_or_an_unsigned_jwt_is_never_trusted() {
    let k = key();
    let keys = KeySet::from_keys(vec![k.verifying_key().unwrap()]);
    let md = metadata(CLAIMS_ISSUER, &["ES256", "none"]);
    let jwt = signed(&k, &json!({"iss": CLAIMS_ISSUER, "address": "x"}));
    let (head, sig) = jwt.rsplit_once('.').unwrap();
    let mut raw = relier_jose::b64::decode(sig).unwrap();
    raw[0] ^= 1;
    let flipped = format!("{head}.{}", relier_jose::b64::encode(&raw));
    assert!(matches!(
        verify_claims_jwt("src1", &flipped, &md, &keys),
        Err(ClaimSourceError::Jwt {
            error: JwtError::InvalidSignature,
            ..
        })
    ));
    // `none` even where the issuer publishes it.
    let none = unsigned(&json!({"iss": CLAIMS_ISSUER, "address": "x"}));
    assert!(matches!(
        aggregated_issuer("src1", &none),
        Err(ClaimSourceError::Unsigned { .. })
    ));
    assert!(matches!(
        verify_claims_jwt("src1", &none, &md, &keys),
        Err(ClaimSourceError::Unsigned { .. })
    ));
    let no_iss = signed(&k, &json!({"address": "x"}));
    assert!(matches!(
        aggregated_issuer("src1", &no_iss),
        Err(ClaimSourceError::NoIssuer { .. })
    ));
    let http_iss = signed(&k, &json!({"iss": "http://op.example"}));
    assert!(matches!(
        aggregated_issuer("src1", &http_iss),
        Err(ClaimSourceError::NoIssuer { .. })
    ));
}

#[test]
fn merging_adds_claims_never_replaces_them_and_forgets_the_sources() {
    let mut claims = example("a.b.c");
    claims.insert("email".into(), json!("a@op.example"));
    claims.insert("email_verified".into(), json!(true));
    claims
        .get_mut("_claim_names")
        .unwrap()
        .as_object_mut()
        .unwrap()
        .extend([
            ("email".to_owned(), json!("src1")),
            ("name".to_owned(), json!("src1")),
        ]);
    let (found, _) = sources(&claims);
    let src1 = found.iter().find(|s| s.name == "src1").unwrap();
    let values = json!({"address": {"country": "NL"}, "name": "Mallory", "sub": "x",
                        "iss": "y"});
    let merged = merge(&mut claims, src1, values.as_object().unwrap());
    assert_eq!(merged, ["address"]);
    assert_eq!(claims["address"]["country"], "NL");
    assert_eq!(claims["name"], "Jane Doe");
    assert!(!claims.contains_key("sub"));
    // An e-mail address from elsewhere: here `email` was already there, so it stays.
    assert_eq!(claims["email_verified"], true);
    finish(&mut claims);
    assert!(!claims.contains_key("_claim_sources"));
    let left = claims["_claim_names"].as_object().unwrap();
    assert!(!left.contains_key("address"));
    assert!(left.contains_key("phone_number"));
    // Everything resolved: `_claim_names` goes too.
    let mut c = json!({"_claim_names": {"groups": "s"}, "_claim_sources": {"s": {"endpoint": "https://graph.microsoft.com/v1.0/users/u/getMemberObjects"}}})
        .as_object()
        .unwrap()
        .clone();
    let (found, _) = sources(&c);
    assert!(found[0].is_groups_overage());
    merge(
        &mut c,
        &found[0],
        json!({"groups": ["g1"]}).as_object().unwrap(),
    );
    finish(&mut c);
    assert_eq!(c, *json!({"groups": ["g1"]}).as_object().unwrap());
}

#[test]
fn an_email_from_a_source_does_not_keep_another_addresss_flag() {
    let mut c = json!({"email_verified": true, "_claim_names": {"email": "s"},
                       "_claim_sources": {"s": {"JWT": "a.b.c"}}})
    .as_object()
    .unwrap()
    .clone();
    let (found, _) = sources(&c);
    merge(
        &mut c,
        &found[0],
        json!({"email": "m@evil.example"}).as_object().unwrap(),
    );
    assert_eq!(c["email"], "m@evil.example");
    assert!(!c.contains_key("email_verified"));
}

fn resp(status: u16, content_type: &str, body: &[u8]) -> HttpResponse {
    HttpResponse {
        status,
        content_type: Some(content_type.into()),
        www_authenticate: None,
        cache_control: None,
        body: body.to_vec(),
    }
}

#[test]
fn distributed_requests_and_responses() {
    let url = Url::parse("https://bank.example.com/claim_source").unwrap();
    let req = distributed_request(&url, &Secret::new("ksj3n283dke"));
    assert_eq!(req.method, Method::Get);
    assert_eq!(req.header("authorization"), Some("Bearer ksj3n283dke"));
    assert_eq!(
        req.header("accept"),
        Some("application/json, application/jwt")
    );
    let ok = distributed_response(
        "src2",
        &resp(200, "application/json", br#"{"payment_info":"Visa"}"#),
    )
    .unwrap();
    assert!(matches!(ok, DistributedBody::Claims(m) if m["payment_info"] == "Visa"));
    let jwt = distributed_response("src2", &resp(200, "application/jwt", b" a.b.c\n")).unwrap();
    assert!(matches!(jwt, DistributedBody::Jwt(j) if j == "a.b.c"));
    assert!(matches!(
        distributed_response("src2", &resp(401, "application/json", b"{}")),
        Err(ClaimSourceError::Status { status: 401, .. })
    ));
    assert!(matches!(
        distributed_response("src2", &resp(200, "application/json", b"[1]")),
        Err(ClaimSourceError::InvalidResponse { .. })
    ));
    let big = vec![b' '; MAX_RESPONSE_BYTES + 1];
    assert!(matches!(
        distributed_response("src2", &resp(200, "application/json", &big)),
        Err(ClaimSourceError::ResponseTooLarge { .. })
    ));
}

#[test]
fn the_guard_wants_https_and_public_addresses_unless_the_issuer_is_not_public() {
    let url = |s: &str| Url::parse(s).unwrap();
    let public = EndpointGuard::for_issuer(&IssuerUrl::new("https://op.example").unwrap());
    assert_eq!(public, EndpointGuard::public_only());
    assert!(public.check_url(&url("https://claims.example/c")).is_ok());
    for refused in [
        "http://claims.example/c",
        "https://127.0.0.1/c",
        "https://localhost/c",
        "https://10.1.2.3/c",
        "https://172.16.0.1/c",
        "https://192.168.1.1/c",
        "https://100.64.0.1/c",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/c",
        "https://[fe80::1]/c",
        "https://[fd00::1]/c",
        "https://[::ffff:10.0.0.1]/c",
        "https://0.0.0.0/c",
        "https://user:pw@claims.example/c",
    ] {
        assert!(public.check_url(&url(refused)).is_err(), "{refused}");
    }
    let host = "claims.example";
    for addr in [
        "10.0.0.1",
        "127.0.0.1",
        "169.254.169.254",
        "::1",
        "224.0.0.1",
    ] {
        let ip: IpAddr = addr.parse().unwrap();
        assert!(public.check_addr(host, ip).is_err(), "{addr}");
    }
    assert!(
        public
            .check_addr(host, "93.184.215.14".parse().unwrap())
            .is_ok()
    );
    // A test set-up: the issuer on loopback lets loopback (and its http) in, nothing else.
    let test = EndpointGuard::for_issuer(&IssuerUrl::new("http://127.0.0.1:3000").unwrap());
    assert!(test.check_url(&url("http://127.0.0.1:4000/c")).is_ok());
    assert!(test.check_url(&url("http://localhost:4000/c")).is_ok());
    assert!(test.check_url(&url("https://10.0.0.1/c")).is_err());
    assert!(test.check_url(&url("http://claims.example/c")).is_err());
    assert!(
        test.check_addr(host, "169.254.169.254".parse().unwrap())
            .is_err()
    );
    // An OP on a private network: private https addresses, never http.
    let private = EndpointGuard::for_issuer(&IssuerUrl::new("https://10.0.0.5").unwrap());
    assert!(private.check_url(&url("https://10.9.9.9/c")).is_ok());
    assert!(private.check_url(&url("https://127.0.0.1/c")).is_err());
}

#[test]
fn groups_overage_goes_to_microsoft_graph_only() {
    let url = |s: &str| Url::parse(s).unwrap();
    let entra = IssuerUrl::new("https://login.microsoftonline.com/t/v2.0").unwrap();
    let graph = url("https://graph.microsoft.com/v1.0/users/u-1/getMemberObjects");
    assert_eq!(graph_target(&graph, &entra).unwrap(), graph);
    // The retired Azure AD Graph's endpoint, as older tokens name it.
    let aad = url("https://graph.windows.net/tenant-1/users/u-1/getMemberObjects");
    assert_eq!(graph_target(&aad, &entra).unwrap(), graph);
    let evil = url("https://graph.windows.net/t/users/u%2F..%2Fx/getMemberObjects");
    assert!(graph_target(&evil, &entra).is_none());
    for not_graph in [
        "https://evil.example/v1.0/users/u/getMemberObjects",
        "http://graph.microsoft.com/v1.0/users/u/getMemberObjects",
        "https://graph.microsoft.com/v1.0/users/u/memberOf",
    ] {
        assert!(
            graph_target(&url(not_graph), &entra).is_none(),
            "{not_graph}"
        );
    }
    // The stand-in: the loopback issuer's own origin.
    let test = IssuerUrl::new("http://127.0.0.1:3000/common/v2.0").unwrap();
    let local = url("http://127.0.0.1:3000/v1.0/users/u/getMemberObjects");
    assert_eq!(graph_target(&local, &test).unwrap(), local);
    let other_port = url("http://127.0.0.1:3001/v1.0/users/u/getMemberObjects");
    assert!(graph_target(&other_port, &test).is_none());
}

#[test]
fn graph_requests_and_pages() {
    let first = Url::parse("https://graph.microsoft.com/v1.0/users/u/getMemberObjects").unwrap();
    let req = graph_request(&first, &Secret::new("at"));
    assert_eq!(req.method, Method::Post);
    assert_eq!(req.header("authorization"), Some("Bearer at"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(
        serde_json::from_slice::<Value>(&req.body).unwrap(),
        json!({"securityEnabledOnly": false})
    );
    let page = graph_page(
        "src1",
        &resp(
            200,
            "application/json",
            br#"{"value":["g1","g2"],"@odata.nextLink":"https://graph.microsoft.com/v1.0/next?t=1"}"#,
        ),
        &first,
    )
    .unwrap();
    assert_eq!(page.ids, ["g1", "g2"]);
    assert_eq!(
        page.next.unwrap().as_str(),
        "https://graph.microsoft.com/v1.0/next?t=1"
    );
    let elsewhere = br#"{"value":[],"@odata.nextLink":"https://evil.example/next"}"#;
    assert!(matches!(
        graph_page("src1", &resp(200, "application/json", elsewhere), &first),
        Err(ClaimSourceError::InvalidResponse { .. })
    ));
    assert!(matches!(
        graph_page(
            "src1",
            &resp(200, "application/json", br#"{"value":[1]}"#),
            &first
        ),
        Err(ClaimSourceError::InvalidResponse { .. })
    ));
    assert!(matches!(
        graph_page("src1", &resp(403, "application/json", b"{}"), &first),
        Err(ClaimSourceError::Status { status: 403, .. })
    ));
}
