use super::*;

fn md(algs: &[&str]) -> ProviderMetadata {
    let doc = serde_json::json!({
        "issuer": "https://op.example.com",
        "authorization_endpoint": "https://op.example.com/a",
        "token_endpoint_auth_signing_alg_values_supported": algs,
    });
    let iss = relier_core::IssuerUrl::new("https://op.example.com").unwrap();
    ProviderMetadata::from_json(&iss, doc.to_string().as_bytes()).unwrap()
}

#[test]
fn detects_format_by_content() {
    assert_eq!(detect_key_format(b"  \n{\"kty\":\"EC\"}"), KeyFormat::Jwk);
    assert_eq!(
        detect_key_format(b"-----BEGIN PRIVATE KEY-----\n"),
        KeyFormat::Pem
    );
    assert_eq!(detect_key_format(&[0x30, 0x82, 0x01]), KeyFormat::Der);
    assert_eq!(detect_key_format(b""), KeyFormat::Der);
}

#[test]
fn pem_and_jwk_load() {
    let key = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let k = parse_private_key(pem.as_bytes(), None).unwrap();
    assert_eq!(k.algorithm(), Algorithm::ES256);
    assert_eq!(k.kid(), None);
    // the given alg must fit the key
    assert!(parse_private_key(pem.as_bytes(), Some(Algorithm::RS256)).is_err());
    let der = key.to_pkcs8_der().unwrap();
    assert_eq!(
        parse_private_key(&der, None).unwrap().algorithm(),
        Algorithm::ES256
    );

    // a public JWK is refused
    let public = serde_json::to_string(&key.public_jwk().unwrap()).unwrap();
    assert!(parse_private_key(public.as_bytes(), None).is_err());
    // garbage is an error, not a panic
    for bad in [
        &b"{"[..],
        b"{}",
        b"-----BEGIN PRIVATE KEY-----\nxx\n",
        b"\xff\xfe",
        b"",
    ] {
        assert!(parse_private_key(bad, None).is_err());
    }
}

#[test]
fn private_jwk_keeps_kid_and_alg() {
    // RFC 8037 Appendix A.1's Ed25519 key.
    let jwk = r#"{"kty":"OKP","crv":"Ed25519","kid":"rfc8037",
        "d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
        "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    let k = parse_private_key(jwk.as_bytes(), None).unwrap();
    assert_eq!(k.kid(), Some("rfc8037"));
    assert_eq!(k.algorithm(), Algorithm::EdDSA);
    let with_alg = jwk.replacen("\"kty\"", "\"alg\":\"EdDSA\",\"kty\"", 1);
    assert!(parse_private_key(with_alg.as_bytes(), None).is_ok());
    assert!(parse_private_key(with_alg.as_bytes(), Some(Algorithm::ES256)).is_err());
    // leading whitespace before the JSON is fine
    assert!(parse_private_key(format!("\n  {jwk}").as_bytes(), None).is_ok());
}

#[test]
fn hmac_alg_choice() {
    assert_eq!(hmac_alg_for(&md(&[]), 32), Algorithm::HS256);
    assert_eq!(hmac_alg_for(&md(&["HS512", "RS256"]), 64), Algorithm::HS512);
    assert_eq!(hmac_alg_for(&md(&["HS256", "HS512"]), 70), Algorithm::HS256);
    // nothing fits: HS256, whose length check then names the problem
    assert_eq!(hmac_alg_for(&md(&[]), 10), Algorithm::HS256);
}

fn client_args(extra: &[&str]) -> AuthSpec {
    use clap::Parser;
    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        c: ClientArgs,
    }
    let mut v = vec![
        "t",
        "--issuer",
        "https://op.example.com",
        "--client-id",
        "rp",
    ];
    v.extend_from_slice(extra);
    let c = T::try_parse_from(v).unwrap().c;
    let id = c.client_id.clone().unwrap();
    AuthSpec::from_args(&c, id)
}

#[test]
fn explicit_method_needs_its_credential() {
    let m = md(&[]);
    let none = Loaded::default();
    for (method, needle) in [
        ("private_key_jwt", "--private-key"),
        ("client_secret_basic", "--client-secret-env"),
        ("client_secret_jwt", "--client-secret-file"),
        ("tls_client_auth", "--tls-cert"),
    ] {
        let a = client_args(&["--auth-method", method]);
        let err = choose(&a, &none, &m).unwrap_err().to_string();
        assert!(err.contains(needle), "{method}: {err}");
    }
    let a = client_args(&["--auth-method", "none"]);
    assert_eq!(
        choose(&a, &none, &m).unwrap().auth.method(),
        AuthMethod::None
    );
}

#[test]
fn recommendation_follows_credentials() {
    let doc = serde_json::json!({
        "issuer": "https://op.example.com",
        "authorization_endpoint": "https://op.example.com/a",
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_jwt", "private_key_jwt"],
    });
    let iss = relier_core::IssuerUrl::new("https://op.example.com").unwrap();
    let m = ProviderMetadata::from_json(&iss, doc.to_string().as_bytes()).unwrap();
    let a = client_args(&[]);
    let short = Loaded {
        secret: Some(Secret::new("short")),
        ..Default::default()
    };
    let c = choose(&a, &short, &m).unwrap();
    assert_eq!(c.auth.method(), AuthMethod::ClientSecretBasic);
    assert!(c.recommendation.unwrap().reason.contains("private_key_jwt"));
    let long = Loaded {
        secret: Some(Secret::new("x".repeat(40))),
        ..Default::default()
    };
    let c = choose(&a, &long, &m).unwrap();
    assert_eq!(c.auth.method(), AuthMethod::ClientSecretJwt);
    assert_eq!(c.auth.assertion_algorithm(), Some(Algorithm::HS256));
    let keyed = Loaded {
        key: Some(SigningKey::generate(Algorithm::ES256, None).unwrap()),
        ..Default::default()
    };
    let c = choose(&a, &keyed, &m).unwrap();
    assert_eq!(c.auth.method(), AuthMethod::PrivateKeyJwt);
    // no credential and no "none" at the OP: a clear error
    assert!(choose(&a, &Loaded::default(), &m).is_err());
    // an asymmetric --signing-alg with client_secret_jwt is refused
    let a = client_args(&[
        "--auth-method",
        "client_secret_jwt",
        "--signing-alg",
        "RS256",
    ]);
    assert!(
        choose(&a, &long, &m)
            .unwrap_err()
            .to_string()
            .contains("RS256")
    );
}

#[test]
fn secret_file_trims_newline() {
    let dir = std::env::temp_dir().join(format!("relier-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("secret");
    std::fs::write(&p, "s3cret value\r\n").unwrap();
    assert_eq!(secret_from_file(&p).unwrap().expose(), "s3cret value");
    std::fs::write(&p, "\n").unwrap();
    assert!(secret_from_file(&p).is_err());
    assert!(secret_from_file(&dir.join("missing")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        secret_from_env("RELIER_CLI_TEST_SURELY_UNSET_VAR")
            .unwrap_err()
            .to_string()
            .contains("not set")
    );
}
