use super::*;
use crate::types::IssuerUrl;
use serde_json::{Value, json};

const ISS: &str = "https://op.example.com";

/// An OP that meets FAPI 2.0: PAR, S256, private_key_jwt and mTLS, iss, DPoP, PS256/ES256.
fn good_doc() -> Value {
    json!({
        "issuer": ISS,
        "authorization_endpoint": "https://op.example.com/authorize",
        "token_endpoint": "https://op.example.com/token",
        "jwks_uri": "https://op.example.com/jwks",
        "pushed_authorization_request_endpoint": "https://op.example.com/par",
        "require_pushed_authorization_requests": true,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "tls_client_auth"],
        "token_endpoint_auth_signing_alg_values_supported": ["PS256", "ES256"],
        "id_token_signing_alg_values_supported": ["PS256", "ES256"],
        "authorization_response_iss_parameter_supported": true,
        "dpop_signing_alg_values_supported": ["ES256"],
        "tls_client_certificate_bound_access_tokens": true,
    })
}

fn md(doc: &Value) -> ProviderMetadata {
    ProviderMetadata::from_json(&IssuerUrl::new(ISS).unwrap(), doc.to_string().as_bytes()).unwrap()
}

fn good_client() -> ClientSettings {
    ClientSettings {
        auth_method: AuthMethod::PrivateKeyJwt,
        assertion_alg: Some(Algorithm::ES256),
        assertion_audience: AssertionAudience::Issuer,
        id_token_alg: Algorithm::PS256,
        sender_constraint: TokenBinding {
            dpop: true,
            certificate: false,
        },
        has_tls_certificate: false,
    }
}

fn items(v: &[Violation]) -> Vec<Item> {
    v.iter().map(|v| v.item).collect()
}

#[test]
fn a_conforming_op_and_client_pass() {
    assert_eq!(
        check(Profile::Fapi2, &md(&good_doc()), &good_client()),
        vec![]
    );
    let mtls = ClientSettings {
        auth_method: AuthMethod::TlsClientAuth,
        assertion_alg: None,
        sender_constraint: TokenBinding {
            dpop: false,
            certificate: true,
        },
        has_tls_certificate: true,
        ..good_client()
    };
    assert_eq!(check(Profile::Fapi2, &md(&good_doc()), &mtls), vec![]);
    assert!(require(Profile::Fapi2, vec![]).is_ok());
}

#[test]
fn every_op_shortcoming_is_named() {
    let doc = json!({
        "issuer": ISS,
        "authorization_endpoint": "https://op.example.com/authorize",
        "code_challenge_methods_supported": ["plain"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    let v = check(Profile::Fapi2, &md(&doc), &good_client());
    assert_eq!(
        items(&v),
        vec![
            Item::Par,
            Item::Pkce,
            Item::ClientAuthentication,
            Item::SenderConstrainedTokens,
            Item::IssParameter,
            Item::IdTokenAlgorithm,
            Item::AssertionAlgorithm,
        ]
    );
    let text = require(Profile::Fapi2, v).unwrap_err().to_string();
    assert!(
        text.starts_with("FAPI 2.0 Security Profile not met: par: "),
        "{text}"
    );
    assert!(
        text.contains("pushed_authorization_request_endpoint"),
        "{text}"
    );
    assert!(text.contains("lacks private_key_jwt"), "{text}");
    assert!(text.contains("dpop_signing_alg_values_supported"), "{text}");
    assert!(
        text.contains("authorization_response_iss_parameter_supported"),
        "{text}"
    );
    assert!(text.contains("§5.3.2.2"), "{text}");
}

#[test]
fn client_secrets_and_none_are_refused() {
    for method in [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::ClientSecretJwt,
        AuthMethod::None,
    ] {
        let c = ClientSettings {
            auth_method: method,
            assertion_alg: None,
            ..good_client()
        };
        let v = check(Profile::Fapi2, &md(&good_doc()), &c);
        assert_eq!(items(&v), vec![Item::ClientAuthentication], "{method}");
        assert!(v[0].detail.contains(method.as_str()));
    }
}

#[test]
fn only_ps256_es256_eddsa() {
    for alg in [
        Algorithm::RS256,
        Algorithm::RS512,
        Algorithm::PS384,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::HS256,
    ] {
        let c = ClientSettings {
            id_token_alg: alg,
            assertion_alg: Some(alg),
            ..good_client()
        };
        let v = check(Profile::Fapi2, &md(&good_doc()), &c);
        assert_eq!(
            items(&v),
            vec![Item::IdTokenAlgorithm, Item::AssertionAlgorithm],
            "{alg}"
        );
    }
    // Allowed by FAPI, but not offered by this OP.
    let c = ClientSettings {
        id_token_alg: Algorithm::EdDSA,
        assertion_alg: Some(Algorithm::EdDSA),
        ..good_client()
    };
    let v = check(Profile::Fapi2, &md(&good_doc()), &c);
    assert_eq!(
        items(&v),
        vec![Item::IdTokenAlgorithm, Item::AssertionAlgorithm]
    );
    assert!(v[0].detail.contains("lacks EdDSA"));
}

#[test]
fn assertion_aud_must_be_the_issuer() {
    let c = ClientSettings {
        assertion_audience: AssertionAudience::Endpoint,
        ..good_client()
    };
    let v = check(Profile::Fapi2, &md(&good_doc()), &c);
    assert_eq!(items(&v), vec![Item::AssertionAudience]);
    assert_eq!(v[0].item.rule(), "FAPI 2.0 Security Profile §5.3.2.1");
}

#[test]
fn sender_constraint_needs_op_support_and_a_certificate() {
    let mut doc = good_doc();
    doc.as_object_mut()
        .unwrap()
        .remove("dpop_signing_alg_values_supported");
    doc["tls_client_certificate_bound_access_tokens"] = json!(false);
    let v = check(Profile::Fapi2, &md(&doc), &good_client());
    assert_eq!(items(&v), vec![Item::SenderConstrainedTokens]);
    let mtls = ClientSettings {
        sender_constraint: TokenBinding {
            dpop: false,
            certificate: true,
        },
        ..good_client()
    };
    let v = check(Profile::Fapi2, &md(&doc), &mtls);
    assert_eq!(v.len(), 2);
    assert!(v[0].detail.contains("RFC 8705 §3.3"));
    assert!(v[1].detail.contains("tls_cert"));
    // DPoP proofs only in RS256: not a FAPI algorithm.
    let mut doc = good_doc();
    doc["dpop_signing_alg_values_supported"] = json!(["RS256"]);
    let v = check(Profile::Fapi2, &md(&doc), &good_client());
    assert_eq!(items(&v), vec![Item::SenderConstrainedTokens]);
}

#[test]
fn op_keys_are_sized() {
    let n1024 = relier_jose::b64::encode(&[0xc5; 128]);
    let n2048 = relier_jose::b64::encode(&[0xc5; 256]);
    let jwks = JwkSet::from_json(
        &json!({"keys": [
            {"kty": "RSA", "kid": "small", "n": n1024, "e": "AQAB"},
            {"kty": "RSA", "kid": "big", "n": n2048, "e": "AQAB"},
            {"kty": "EC", "kid": "p256", "crv": "P-256",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
        ]})
        .to_string(),
    )
    .unwrap();
    let v = check_keys(Profile::Fapi2, &jwks);
    assert_eq!(items(&v), vec![Item::OpKeys]);
    assert!(
        v[0].detail.contains("small is RSA 1024 bits"),
        "{}",
        v[0].detail
    );
}

#[test]
fn profile_names() {
    assert_eq!("fapi2".parse::<Profile>().unwrap(), Profile::Fapi2);
    assert!("FAPI2".parse::<Profile>().is_err());
    assert!(
        "fapi1"
            .parse::<Profile>()
            .unwrap_err()
            .to_string()
            .contains("fapi2")
    );
    let p: Profile = serde_json::from_str("\"fapi2\"").unwrap();
    assert_eq!(serde_json::to_string(&p).unwrap(), "\"fapi2\"");
}

/// What FAPI 2.0 clients must accept from a conforming OP: a token response without
/// `expires_in` (RFC 6749 §5.1: RECOMMENDED, not required), `token_type` in any letter case
/// (RFC 6749 §5.1: case-insensitive) and an ID token `aud` given as an array (OIDC Core §2).
#[test]
fn fapi_clients_accept_what_conforming_ops_send() {
    use crate::http::HttpResponse;
    use crate::token::TokenResponse;
    for (body, token_type) in [
        (r#"{"access_token":"a","token_type":"BEARER"}"#, "BEARER"),
        (r#"{"access_token":"a","token_type":"dPoP"}"#, "dPoP"),
    ] {
        let t = TokenResponse::from_response(&HttpResponse::json(200, body)).unwrap();
        assert_eq!(t.expires_in, None);
        assert_eq!(t.token_type, token_type);
    }
    let claims = crate::IdTokenClaims::from_json(
        json!({"iss": ISS, "sub": "s", "aud": ["rp"], "exp": 2, "iat": 1})
            .to_string()
            .into_bytes(),
    )
    .unwrap();
    assert_eq!(claims.aud, vec!["rp".to_owned()]);
}
