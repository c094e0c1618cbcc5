use super::*;
use serde_json::json;

const ISS: &str = "https://op.example.com";

fn iss() -> IssuerUrl {
    IssuerUrl::new(ISS).unwrap()
}

/// A FAPI 2.0 OP's metadata.
fn strong() -> Map<String, Value> {
    let v = json!({
        "issuer": ISS,
        "authorization_endpoint": "https://op.example.com/authorize",
        "token_endpoint": "https://op.example.com/token",
        "jwks_uri": "https://op.example.com/jwks",
        "pushed_authorization_request_endpoint": "https://op.example.com/par",
        "require_pushed_authorization_requests": true,
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "tls_client_auth"],
        "token_endpoint_auth_signing_alg_values_supported": ["PS256", "ES256"],
        "id_token_signing_alg_values_supported": ["PS256", "ES256"],
        "id_token_encryption_alg_values_supported": ["RSA-OAEP-256"],
        "authorization_response_iss_parameter_supported": true,
        "dpop_signing_alg_values_supported": ["ES256", "PS256"],
        "tls_client_certificate_bound_access_tokens": true,
        "mtls_endpoint_aliases": {"token_endpoint": "https://mtls.op.example.com/token"},
    });
    v.as_object().unwrap().clone()
}

/// The classic weak OP: implicit and hybrid, password grant, `none` and RSA1_5, client secrets,
/// no PKCE S256, no PAR, no iss, bearer tokens, an http endpoint.
fn weak() -> Map<String, Value> {
    let v = json!({
        "issuer": ISS,
        "authorization_endpoint": "https://op.example.com/authorize",
        "token_endpoint": "http://op.example.com/token",
        "userinfo_endpoint": "http://127.0.0.1:8080/userinfo",
        "jwks_uri": "https://op.example.com/jwks",
        "response_types_supported": ["code", "token", "code id_token"],
        "grant_types_supported": ["authorization_code", "password", "implicit"],
        "code_challenge_methods_supported": ["plain"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "id_token_signing_alg_values_supported": ["RS256", "none"],
        "id_token_encryption_alg_values_supported": ["RSA1_5", "RSA-OAEP"],
    });
    v.as_object().unwrap().clone()
}

fn jwks_json(extra: &[Value]) -> Vec<u8> {
    let n2048 = relier_jose::b64::encode(&[0xc5; 256]);
    let mut keys = vec![
        json!({"kty": "RSA", "kid": "r1", "use": "sig", "n": n2048, "e": "AQAB"}),
        json!({"kty": "EC", "kid": "e1", "use": "sig", "crv": "P-256",
               "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
               "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}),
    ];
    keys.extend_from_slice(extra);
    json!({ "keys": keys }).to_string().into_bytes()
}

fn grades(r: &Report, check: &str) -> Vec<Grade> {
    r.findings
        .iter()
        .filter(|f| f.check == check)
        .map(|f| f.grade)
        .collect()
}

#[test]
fn a_fapi_op_passes_everything_under_the_profile() {
    let jwks = jwks_json(&[]);
    let r = examine(
        &iss(),
        &strong(),
        JwksInput::Body(&jwks),
        Some(Profile::Fapi2),
    );
    let not_pass: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.grade != Grade::Pass)
        .collect();
    assert!(not_pass.is_empty(), "{not_pass:#?}");
    assert!(!r.failed());
    // One line per check, each citing its rule.
    for check in [
        "issuer",
        "https",
        "pkce",
        "iss_parameter",
        "client_authentication",
        "algorithms",
        "id_token_algorithms",
        "par",
        "sender_constrained",
        "mtls_endpoint_aliases",
        "response_types",
        "grant_types",
    ] {
        assert_eq!(grades(&r, check), vec![Grade::Pass], "{check}");
    }
    assert_eq!(grades(&r, "jwks_key"), vec![Grade::Pass, Grade::Pass]);
    assert!(r.findings.iter().all(|f| !f.rule.is_empty()));
    let rec = r
        .findings
        .iter()
        .find(|f| f.check == "client_authentication")
        .unwrap();
    assert!(
        rec.message.starts_with("private_key_jwt is the strongest"),
        "{}",
        rec.message
    );
}

#[test]
fn a_weak_op_fails_and_warns_per_rule() {
    let n1024 = relier_jose::b64::encode(&[0xc5; 128]);
    let jwks = jwks_json(&[
        json!({"kty": "RSA", "kid": "old", "n": n1024, "e": "AQAB"}),
        json!({"kty": "oct", "kid": "shared", "k": "c2VjcmV0"}),
    ]);
    let r = examine(&iss(), &weak(), JwksInput::Body(&jwks), None);
    assert!(r.failed());
    // http off loopback fails, http on loopback warns.
    assert_eq!(grades(&r, "https"), vec![Grade::Fail, Grade::Warn]);
    assert_eq!(grades(&r, "pkce"), vec![Grade::Fail]);
    // FAPI items warn without the profile.
    assert_eq!(grades(&r, "iss_parameter"), vec![Grade::Warn]);
    assert_eq!(grades(&r, "client_authentication"), vec![Grade::Warn]);
    assert_eq!(grades(&r, "par"), vec![Grade::Warn]);
    assert_eq!(grades(&r, "sender_constrained"), vec![Grade::Warn]);
    assert_eq!(grades(&r, "id_token_algorithms"), vec![Grade::Warn]);
    // none and RSA1_5 fail.
    assert_eq!(grades(&r, "algorithms"), vec![Grade::Fail, Grade::Fail]);
    // RSA-1024 and a published symmetric key fail.
    assert_eq!(
        grades(&r, "jwks_key"),
        vec![Grade::Pass, Grade::Pass, Grade::Fail, Grade::Fail]
    );
    // Implicit and hybrid, password and implicit grants warn (RFC 9700 §2.1.2, §2.4).
    assert_eq!(grades(&r, "response_types"), vec![Grade::Warn, Grade::Warn]);
    assert_eq!(grades(&r, "grant_types"), vec![Grade::Warn, Grade::Warn]);
    let msg = |check: &str, rule: &str| {
        r.findings
            .iter()
            .find(|f| f.check == check && f.rule == rule)
            .map(|f| f.message.clone())
            .unwrap_or_default()
    };
    assert!(msg("grant_types", "RFC 9700 §2.4").contains("password"));
    assert!(msg("algorithms", "RFC 8725 §3.2").contains("RSA1_5"));
    assert!(msg("algorithms", "RFC 8725 §3.1").contains("id_token_signing_alg_values_supported"));
    let failed_keys: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.check == "jwks_key" && f.grade == Grade::Fail)
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(failed_keys[0], "key old (no use): RSA 1024 bits");
    assert!(failed_keys[1].contains("shared"), "{failed_keys:?}");
    assert!(
        msg("client_authentication", "RFC 9700 §2.5").contains("client_secret_basic"),
        "the recommendation is recommend.rs's"
    );
}

#[test]
fn the_profile_turns_fapi_items_into_failures() {
    let jwks = jwks_json(&[]);
    let plain = examine(&iss(), &weak(), JwksInput::Body(&jwks), None);
    let fapi = examine(
        &iss(),
        &weak(),
        JwksInput::Body(&jwks),
        Some(Profile::Fapi2),
    );
    for check in [
        "iss_parameter",
        "client_authentication",
        "par",
        "sender_constrained",
        "id_token_algorithms",
        "response_types",
    ] {
        assert!(
            grades(&plain, check).iter().all(|g| *g != Grade::Fail),
            "{check}"
        );
        assert!(grades(&fapi, check).contains(&Grade::Fail), "{check}");
    }
    assert!(
        fapi.findings
            .iter()
            .any(|f| f.check == "par" && f.rule == "FAPI 2.0 Security Profile §5.3.1.2")
    );
    // An OP offering PAR without requiring it: fine alone, a failure under FAPI 2.0.
    let mut md = strong();
    md.insert("require_pushed_authorization_requests".into(), json!(false));
    let r = examine(&iss(), &md, JwksInput::Body(&jwks), None);
    assert_eq!(grades(&r, "par"), vec![Grade::Warn]);
    let r = examine(&iss(), &md, JwksInput::Body(&jwks), Some(Profile::Fapi2));
    assert_eq!(grades(&r, "par"), vec![Grade::Fail]);
}

#[test]
fn issuer_mismatch_and_missing_jwks() {
    let mut md = strong();
    md.insert("issuer".into(), json!("https://evil.example.com"));
    let r = examine(&iss(), &md, JwksInput::NotPublished, None);
    assert_eq!(grades(&r, "issuer"), vec![Grade::Fail]);
    assert_eq!(grades(&r, "jwks"), vec![Grade::Warn]);
    let r = examine(&iss(), &strong(), JwksInput::Unavailable("HTTP 500"), None);
    assert_eq!(grades(&r, "jwks"), vec![Grade::Fail]);
    let r = examine(&iss(), &strong(), JwksInput::Body(b"[1,2]"), None);
    assert_eq!(grades(&r, "jwks"), vec![Grade::Fail]);
    let private = jwks_json(&[json!({"kty": "EC", "kid": "oops", "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        "d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"})]);
    let r = examine(&iss(), &strong(), JwksInput::Body(&private), None);
    let f = r.findings.iter().find(|f| f.grade == Grade::Fail).unwrap();
    assert!(
        f.message.contains("oops") && f.message.contains("private"),
        "{f:?}"
    );
}

#[test]
fn report_json_is_machine_readable() {
    let r = examine(
        &iss(),
        &weak(),
        JwksInput::NotPublished,
        Some(Profile::Fapi2),
    );
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["issuer"], ISS);
    assert_eq!(v["profile"], "fapi2");
    let first = &v["findings"][0];
    assert_eq!(first["check"], "issuer");
    assert_eq!(first["grade"], "pass");
    assert_eq!(first["rule"], "OIDC Discovery 1.0 §4.3");
}

#[test]
fn metadata_is_read_leniently() {
    let body = serde_json::to_vec(&weak()).unwrap();
    let resp = HttpResponse::json(200, std::str::from_utf8(&body).unwrap());
    let md = metadata_from_response(&iss(), &resp).unwrap();
    assert_eq!(jwks_uri(&md), Some("https://op.example.com/jwks"));
    assert!(matches!(
        metadata_from_response(&iss(), &HttpResponse::json(404, "{}")),
        Err(DoctorError::Status { status: 404, .. })
    ));
    assert!(matches!(
        metadata_from_response(&iss(), &HttpResponse::json(200, "[]")),
        Err(DoctorError::NotAnObject { .. })
    ));
}
