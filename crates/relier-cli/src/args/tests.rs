use super::*;
use clap::CommandFactory;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("relier").chain(args.iter().copied()))
}

#[test]
fn command_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn discover() {
    let cli = parse(&["discover", "https://op.example.com", "--json"]).unwrap();
    let Command::Discover(d) = cli.command else {
        panic!("not discover")
    };
    assert_eq!(d.issuer.unwrap().as_str(), "https://op.example.com");
    assert!(d.json);
    assert!(parse(&["discover", "http://op.example.com"]).is_err());
    assert!(parse(&["discover", "http://127.0.0.1:3000"]).is_ok());
}

#[test]
fn login_defaults_and_flags() {
    let cli = parse(&[
        "login",
        "--issuer",
        "https://op.example.com",
        "--client-id",
        "rp",
        "--no-browser",
        "--json",
    ])
    .unwrap();
    let Command::Login(l) = cli.command else {
        panic!("not login")
    };
    assert_eq!(l.scope, None);
    assert_eq!(l.timeout, 300);
    assert_eq!(l.validation.id_token_alg, None);
    assert_eq!(l.client.assertion_aud, AssertionAud::Issuer);
    assert!(l.redirect_uri.is_none());

    let cli = parse(&[
        "-v",
        "login",
        "--issuer",
        "http://localhost:8080/realms/x",
        "--client-id",
        "rp",
        "--auth-method",
        "private_key_jwt",
        "--private-key",
        "k.json",
        "--key-id",
        "k1",
        "--signing-alg",
        "ES256",
        "--redirect-uri",
        "http://127.0.0.1:8765/cb",
        "--response-mode",
        "form_post",
        "--auth-param",
        "ui_locales=fr",
        "--id-token-alg",
        "HS256",
        "--max-age",
        "60",
        "--timeout",
        "5",
    ])
    .unwrap();
    assert_eq!(cli.verbose, 1);
    let Command::Login(l) = cli.command else {
        panic!("not login")
    };
    assert_eq!(l.client.auth_method, Some(AuthMethod::PrivateKeyJwt));
    assert_eq!(l.client.signing_alg, Some(Algorithm::ES256));
    assert_eq!(l.response_mode, Some(ResponseMode::FormPost));
    assert_eq!(
        l.auth_param,
        vec![("ui_locales".to_owned(), "fr".to_owned())]
    );
    assert_eq!(l.validation.id_token_alg, Some(Algorithm::HS256));
    assert_eq!(l.redirect_uri.unwrap().port(), 8765);
}

#[test]
fn bad_values_are_usage_errors() {
    let base = [
        "login",
        "--issuer",
        "https://op.example.com",
        "--client-id",
        "rp",
    ];
    let with = |extra: &[&str]| {
        let mut v: Vec<&str> = base.to_vec();
        v.extend_from_slice(extra);
        parse(&v)
    };
    assert!(with(&["--auth-method", "client_secret"]).is_err());
    assert!(with(&["--signing-alg", "none"]).is_err());
    assert!(with(&["--id-token-alg", "NONE"]).is_err());
    assert!(with(&["--userinfo-signed-alg", "none"]).is_err());
    // OIDC Core §2: unsigned ID tokens are a registration's choice, stated explicitly.
    let Command::Login(l) = with(&["--id-token-alg", "none"]).unwrap().command else {
        panic!("not login")
    };
    assert_eq!(l.validation.id_token_alg, Some(Algorithm::None));
    assert!(with(&["--signing-alg", "rs256"]).is_err());
    assert!(with(&["--redirect-uri", "https://127.0.0.1:8080/cb"]).is_err());
    assert!(with(&["--redirect-uri", "http://example.com:8080/cb"]).is_err());
    assert!(with(&["--client-secret-env", "A", "--client-secret-file", "f"]).is_err());
    assert!(with(&["--key-id", "k"]).is_err());
    assert!(with(&["--tls-cert", "c.pem"]).is_err());
    assert!(with(&["--auth-param", "=x"]).is_err());
    assert!(
        parse(&[
            "login",
            "--issuer",
            "https://op.example.com",
            "--client-id",
            ""
        ])
        .is_err()
    );
    // secrets are never accepted on the command line
    assert!(with(&["--client-secret", "s"]).is_err());
}

#[test]
fn token_subcommands() {
    let cli = parse(&[
        "token",
        "introspect",
        "--issuer",
        "https://op.example.com",
        "--client-id",
        "rp",
        "--client-secret-env",
        "RP_SECRET",
        "--token-type-hint",
        "refresh_token",
        "--json",
    ])
    .unwrap();
    let Command::Token(TokenCommand::Introspect(t)) = cli.command else {
        panic!("not introspect")
    };
    assert_eq!(t.token_type_hint, Some(TokenTypeHintArg::RefreshToken));
    assert_eq!(t.client.client_secret_env.as_deref(), Some("RP_SECRET"));
    assert!(t.json);
    for sub in ["refresh", "revoke"] {
        assert!(
            parse(&[
                "token",
                sub,
                "--issuer",
                "https://op.example.com",
                "--client-id",
                "rp"
            ])
            .is_ok()
        );
    }
    assert!(parse(&["token", "refresh", "--issuer", "https://op.example.com"]).is_err());
}

#[test]
fn provider_and_store_flags() {
    let cli = parse(&["--store", "sqlite:///tmp/x.db", "login", "--provider", "op"]).unwrap();
    assert_eq!(cli.store.store.to_string(), "sqlite:///tmp/x.db");
    let Command::Login(l) = cli.command else {
        panic!("not login")
    };
    assert_eq!(l.client.provider.as_deref(), Some("op"));
    assert!(l.client.issuer.is_none());
    // --provider takes the issuer, client and credentials from the store
    assert!(
        parse(&[
            "login",
            "--provider",
            "op",
            "--issuer",
            "https://op.example.com"
        ])
        .is_err()
    );
    assert!(
        parse(&[
            "token",
            "refresh",
            "--provider",
            "op",
            "--client-secret-env",
            "S"
        ])
        .is_err()
    );
    assert!(parse(&["login", "--store", "mysql://x", "--provider", "op"]).is_err());
    // kids (RFC 7638 thumbprints, base64url) may start with "-"
    let cli = parse(&["keys", "remove", "-380cv5UgmOxg", "--force"]).unwrap();
    let Command::Keys(KeysCommand::Remove(r)) = cli.command else {
        panic!("not keys remove")
    };
    assert_eq!(r.key.kid, "-380cv5UgmOxg");
    assert!(r.force);
    assert!(parse(&["keys", "generate", "--alg", "HS256"]).is_err());
    assert!(parse(&["keys", "generate", "--alg", "RS256", "--bits", "1024"]).is_err());
    let reg = [
        "providers",
        "register",
        "op",
        "--issuer",
        "https://op.example.com",
    ];
    assert!(parse(&reg).is_err(), "--redirect-uri is required");
    let mut with_uri = reg.to_vec();
    with_uri.extend([
        "--redirect-uri",
        "http://127.0.0.1:8765/cb",
        "--jwks",
        "uri",
    ]);
    assert!(parse(&with_uri).is_err(), "--jwks uri needs --jwks-uri");
    with_uri.extend(["--jwks-uri", "https://rp.example.com/jwks.json"]);
    assert!(parse(&with_uri).is_ok());
    // a client secret is never an argument
    assert!(
        parse(&[
            "providers",
            "add",
            "op",
            "--issuer",
            "https://op.example.com",
            "--client-id",
            "c",
            "--client-secret",
            "s",
        ])
        .is_err()
    );
}

#[test]
fn webfinger_in_place_of_issuer() {
    let cli = parse(&["discover", "--webfinger", "alice@example.com"]).unwrap();
    let Command::Discover(d) = cli.command else {
        panic!("not discover")
    };
    assert_eq!(d.webfinger.as_deref(), Some("alice@example.com"));
    assert!(d.issuer.is_none());
    // exactly one of ISSUER and --webfinger
    assert!(parse(&["discover"]).is_err());
    assert!(
        parse(&[
            "discover",
            "https://op.example.com",
            "--webfinger",
            "alice@example.com"
        ])
        .is_err()
    );

    let cli = parse(&[
        "login",
        "--webfinger",
        "acct:alice@example.com:8443",
        "--client-id",
        "rp",
    ])
    .unwrap();
    let Command::Login(l) = cli.command else {
        panic!("not login")
    };
    assert_eq!(
        l.client.webfinger.as_deref(),
        Some("acct:alice@example.com:8443")
    );
    assert!(l.client.issuer.is_none());
    for conflicting in [
        &["--issuer", "https://op.example.com"][..],
        &["--provider", "op"][..],
        &["--preset", "google"][..],
    ] {
        let mut args = vec![
            "login",
            "--webfinger",
            "alice@example.com",
            "--client-id",
            "rp",
        ];
        args.extend_from_slice(conflicting);
        assert!(parse(&args).is_err(), "{conflicting:?}");
    }
    assert!(parse(&["login", "--client-id", "rp"]).is_err());
}

#[test]
fn token_client_credentials_flags() {
    let base = [
        "token",
        "client-credentials",
        "--issuer",
        "https://op.example.com",
        "--client-id",
        "svc",
    ];
    let with = |extra: &[&str]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        parse(&v)
    };
    let cli = with(&[
        "--scope",
        "orders:read",
        "--scope",
        "orders:write",
        "--resource",
        "https://api.example.com/orders",
        "--resource",
        "urn:example:cal",
        "--dpop-key-file",
        "k.pem",
        "--json",
    ])
    .unwrap();
    let Command::Token(TokenCommand::ClientCredentials(c)) = cli.command else {
        panic!("not client-credentials")
    };
    assert_eq!(c.scope, ["orders:read", "orders:write"]);
    let resources: Vec<&str> = c.resource.iter().map(|r| r.as_str()).collect();
    assert_eq!(
        resources,
        ["https://api.example.com/orders", "urn:example:cal"]
    );
    assert!(c.json && c.dpop_key_file.is_some());
    // RFC 6749 §3.3 scope tokens; RFC 8707 §2 absolute URIs without a fragment.
    assert!(with(&["--scope", "a b"]).is_err());
    assert!(with(&["--resource", "/orders"]).is_err());
    assert!(with(&["--resource", "https://api.example.com/#x"]).is_err());
    assert!(
        with(&["--provider", "corp"]).is_err(),
        "--provider excludes --issuer"
    );
    assert!(parse(&["token", "client-credentials", "--provider", "corp"]).is_ok());
}

#[test]
fn login_device_flags() {
    let base = [
        "login",
        "--device",
        "--issuer",
        "https://op.example.com",
        "--client-id",
        "tv",
    ];
    let with = |extra: &[&str]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        parse(&v)
    };
    let cli = with(&["--json", "--scope", "openid email"]).unwrap();
    let Command::Login(l) = cli.command else {
        panic!("not login")
    };
    assert!(l.device && l.json);
    assert_eq!(l.test_device_poll_unit_ms, None);
    // Nothing of the browser flow goes with --device.
    for extra in [
        &["--redirect-uri", "http://127.0.0.1:8080/cb"][..],
        &["--par"],
        &["--no-browser"],
        &["--prompt", "login"],
    ] {
        assert!(with(extra).is_err(), "{extra:?}");
    }
    // The test-only poll unit needs --device.
    assert!(
        parse(&[
            "login",
            "--issuer",
            "https://op.example.com",
            "--client-id",
            "tv",
            "--test-device-poll-unit-ms",
            "10",
        ])
        .is_err()
    );
}
