use super::*;

fn md(extra: serde_json::Value) -> ProviderMetadata {
    let mut doc = serde_json::json!({
        "issuer": "https://op.example.com",
        "authorization_endpoint": "https://op.example.com/a",
    });
    if let (Some(d), Some(e)) = (doc.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    let iss = relier_core::IssuerUrl::new("https://op.example.com").unwrap();
    ProviderMetadata::from_json(&iss, doc.to_string().as_bytes()).unwrap()
}

fn client_args(extra: &[&str]) -> ClientArgs {
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
    T::try_parse_from(v).unwrap().c
}

fn spec(extra: &[&str]) -> ProviderSpec {
    let c = client_args(extra);
    let id = c.client_id.clone().unwrap();
    ProviderSpec::with_client(spec_from_args(&c, id), Default::default())
}

#[test]
fn a_missing_credential_names_its_flags() {
    let m = md(serde_json::json!({}));
    let none = ClientCredentials::default();
    for (method, needle) in [
        ("private_key_jwt", "--private-key"),
        ("client_secret_basic", "--client-secret-env"),
        ("client_secret_jwt", "--client-secret-file"),
        ("tls_client_auth", "--tls-cert"),
    ] {
        let a = spec(&["--auth-method", method]);
        let err = choose(&a, &none, &m, Origin::Args).unwrap_err().to_string();
        assert!(err.contains(needle), "{method}: {err}");
    }
    let a = spec(&["--auth-method", "none"]);
    let chosen = choose(&a, &none, &m, Origin::Args).unwrap();
    assert_eq!(chosen.auth.method(), AuthMethod::None);
    // a stored provider: the command that stores the secret
    let a = spec(&["--auth-method", "client_secret_basic"]);
    let err = choose(&a, &none, &m, Origin::Provider("op"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("relier providers add op --replace"), "{err}");
}

#[test]
fn the_recommendation_follows_the_credentials() {
    let m = md(serde_json::json!({
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_jwt", "private_key_jwt"],
    }));
    let long = ClientCredentials {
        secret: Some(Secret::new("x".repeat(40))),
        ..Default::default()
    };
    let c = choose(&spec(&[]), &long, &m, Origin::Args).unwrap();
    assert_eq!(c.auth.method(), AuthMethod::ClientSecretJwt);
    assert!(c.recommendation.is_some());
    // an asymmetric --signing-alg with client_secret_jwt is refused, naming the flag
    let a = spec(&[
        "--auth-method",
        "client_secret_jwt",
        "--signing-alg",
        "RS256",
    ]);
    let err = choose(&a, &long, &m, Origin::Args).unwrap_err().to_string();
    assert!(
        err.contains("RS256") && err.contains("--signing-alg"),
        "{err}"
    );
}

#[test]
fn a_failed_file_or_variable_names_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nxx\n").unwrap();
    let key = key.display().to_string();
    let secret = dir.path().join("missing").display().to_string();
    for (args, flag) in [
        (vec!["--private-key", key.as_str()], "--private-key"),
        (
            vec!["--client-secret-file", secret.as_str()],
            "--client-secret-file",
        ),
        (vec!["--ca-file", secret.as_str()], "--ca-file"),
        (
            vec!["--client-secret-env", "RELIER_CLI_TEST_SURELY_UNSET_VAR"],
            "--client-secret-env",
        ),
    ] {
        let err = load_args(&client_args(&args)).unwrap_err();
        let text = crate::output::chain(&err);
        assert!(text.starts_with(flag), "{text}");
    }
    assert!(
        crate::output::chain(&secret_env("RELIER_CLI_TEST_SURELY_UNSET_VAR", "--x").unwrap_err())
            .contains("--x: environment variable RELIER_CLI_TEST_SURELY_UNSET_VAR is not set")
    );
}
