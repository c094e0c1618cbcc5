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
    assert_eq!(d.issuer.as_str(), "https://op.example.com");
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
    assert_eq!(l.scope, "openid profile email");
    assert_eq!(l.timeout, 300);
    assert_eq!(l.validation.id_token_alg, Algorithm::RS256);
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
    assert_eq!(l.validation.id_token_alg, Algorithm::HS256);
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
