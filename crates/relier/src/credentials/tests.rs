use std::path::Path;

use relier_core::client_auth::AssertionAudience;
use relier_core::{AuthMethod, ClientId, IssuerUrl, ProviderMetadata, Secret};
use relier_jose::{Algorithm, SigningKey};

use super::*;

/// A throwaway P-256 key in SEC 1 ("EC PRIVATE KEY") PEM, as `openssl ecparam -genkey` writes.
const SEC1_PEM: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEINhDkmfiTICb24dFxJ5tYbIINxkHR9K5uJssakrqnHRwoAoGCCqGSM49
AwEHoUQDQgAES4DMrG858V2somte7O0m/dalBPvlPV/g9Zm98eKT2NMWjH4IMYnf
6HBeXS0tqsUJyD3//mQOY+UUAf5+GNqgsw==
-----END EC PRIVATE KEY-----
";

fn md(extra: serde_json::Value) -> ProviderMetadata {
    let mut doc = serde_json::json!({
        "issuer": "https://op.example.com",
        "authorization_endpoint": "https://op.example.com/a",
        "token_endpoint": "https://op.example.com/t",
    });
    if let (Some(d), Some(e)) = (doc.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    let iss = IssuerUrl::new("https://op.example.com").unwrap();
    ProviderMetadata::from_json(&iss, doc.to_string().as_bytes()).unwrap()
}

fn signing_algs(algs: &[&str]) -> ProviderMetadata {
    md(serde_json::json!({ "token_endpoint_auth_signing_alg_values_supported": algs }))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn secret_sources() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "secret", b"s3cret value\r\n");
    assert_eq!(
        SecretSource::File(p.clone()).load().unwrap().expose(),
        "s3cret value"
    );
    std::fs::write(&p, "\n").unwrap();
    assert!(matches!(
        SecretSource::File(p.clone()).load(),
        Err(CredentialError::EmptyFile {
            file: CredentialFile::ClientSecret,
            ..
        })
    ));
    std::fs::write(&p, b"\xff\xfe").unwrap();
    assert!(matches!(
        SecretSource::File(p).load(),
        Err(CredentialError::NotUtf8 { .. })
    ));
    let missing = SecretSource::File(dir.path().join("missing"))
        .load()
        .unwrap_err();
    assert!(
        matches!(missing, CredentialError::Unreadable { .. }),
        "{missing}"
    );
    assert!(
        missing.to_string().starts_with("client secret file "),
        "{missing}"
    );

    let unset = SecretSource::Env("RELIER_CREDENTIALS_TEST_SURELY_UNSET".into()).load();
    assert!(
        matches!(unset, Err(CredentialError::EnvNotSet { ref var }) if var == "RELIER_CREDENTIALS_TEST_SURELY_UNSET")
    );
    // PATH is set in any test environment; its value is not a secret, just a present variable.
    assert!(SecretSource::Env("PATH".into()).load().is_ok());
    let value = SecretSource::Value(Secret::new("inline")).load().unwrap();
    assert_eq!(value.expose(), "inline");
}

#[test]
fn files_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let limit = usize::try_from(MAX_CREDENTIAL_FILE).unwrap();
    let at = write(dir.path(), "at", &vec![b'a'; limit]);
    assert_eq!(
        read_credential_file(&at, CredentialFile::CaCertificates)
            .unwrap()
            .len(),
        limit
    );
    let over = write(dir.path(), "over", &vec![b'a'; limit + 1]);
    for file in [CredentialFile::PrivateKey, CredentialFile::ClientSecret] {
        let e = read_credential_file(&over, file).unwrap_err();
        assert!(
            matches!(
                e,
                CredentialError::TooLarge {
                    limit: MAX_CREDENTIAL_FILE,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("larger than 1048576 bytes"), "{e}");
    }
    assert!(matches!(
        KeySource::file(&over, None, None).load(),
        Err(CredentialError::TooLarge {
            file: CredentialFile::PrivateKey,
            ..
        })
    ));
}

#[test]
fn key_format_is_judged_by_content() {
    assert_eq!(detect_key_format(b"  \n{\"kty\":\"EC\"}"), KeyFormat::Jwk);
    assert_eq!(
        detect_key_format(b"-----BEGIN PRIVATE KEY-----\n"),
        KeyFormat::Pem
    );
    assert_eq!(detect_key_format(&[0x30, 0x82, 0x01]), KeyFormat::Der);
    assert_eq!(detect_key_format(b""), KeyFormat::Der);
}

#[test]
fn key_formats_load() {
    let key = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let k = parse_private_key(pem.as_bytes(), None).unwrap();
    assert_eq!(k.algorithm(), Algorithm::ES256);
    assert_eq!(k.kid(), None);
    let der = key.to_pkcs8_der().unwrap();
    assert_eq!(
        parse_private_key(&der, None).unwrap().algorithm(),
        Algorithm::ES256
    );
    // SEC 1 PEM (PKCS#1 "RSA PRIVATE KEY" takes the same path; relier-jose tests both).
    let sec1 = parse_private_key(SEC1_PEM.as_bytes(), None).unwrap();
    assert_eq!(sec1.algorithm(), Algorithm::ES256);
    // RFC 8037 Appendix A.1's Ed25519 key: a private JWK keeps its kid.
    let jwk = r#"{"kty":"OKP","crv":"Ed25519","kid":"rfc8037",
        "d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
        "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    let k = parse_private_key(format!("\n  {jwk}").as_bytes(), None).unwrap();
    assert_eq!(
        (k.kid(), k.algorithm()),
        (Some("rfc8037"), Algorithm::EdDSA)
    );

    // From a file: the kid override and the pinned algorithm apply, an HMAC one is ignored.
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "key.pem", pem.as_bytes());
    let k = KeySource::file(&p, Some("mine".into()), Some(Algorithm::HS256))
        .load()
        .unwrap();
    assert_eq!((k.kid(), k.algorithm()), (Some("mine"), Algorithm::ES256));
    let p = write(dir.path(), "key.jwk", jwk.as_bytes());
    assert_eq!(
        KeySource::file(&p, None, None).load().unwrap().kid(),
        Some("rfc8037")
    );
}

#[test]
fn wrong_keys_name_the_format_and_file() {
    let key = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    // the pinned algorithm must fit the key
    assert!(matches!(
        parse_private_key(pem.as_bytes(), Some(Algorithm::RS256)),
        Err(CredentialError::InvalidKey {
            format: KeyFormat::Pem,
            ..
        })
    ));
    // a public JWK is refused
    let public = serde_json::to_string(&key.public_jwk().unwrap()).unwrap();
    assert!(matches!(
        parse_private_key(public.as_bytes(), None),
        Err(CredentialError::InvalidKey {
            format: KeyFormat::Jwk,
            ..
        })
    ));
    // garbage is an error, not a panic
    for bad in [
        &b"{"[..],
        b"{}",
        b"-----BEGIN PRIVATE KEY-----\nxx\n",
        b"\xff\xfe",
        b"",
        b"{\xff",
    ] {
        assert!(parse_private_key(bad, None).is_err());
    }
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "key.txt", b"not a key");
    let e = KeySource::file(&p, None, None).load().unwrap_err();
    let CredentialError::InvalidKey { path, format, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(
        (path.as_deref(), *format),
        (Some(p.as_path()), KeyFormat::Der)
    );
    let text = e.to_string();
    assert!(
        text.starts_with("private key file ") && text.contains("PKCS#8 DER"),
        "{text}"
    );
}

#[test]
fn tls_identity_is_a_pair() {
    let dir = tempfile::tempdir().unwrap();
    let cert = write(dir.path(), "cert.pem", b"-----BEGIN CERTIFICATE-----");
    let key = write(dir.path(), "key.pem", b"-----BEGIN PRIVATE KEY-----\n");
    let pair = TlsIdentityFiles::pair(Some(&cert), Some(&key))
        .unwrap()
        .unwrap();
    assert_eq!(
        &pair.load().unwrap()[..],
        b"-----BEGIN CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n"
    );
    assert!(TlsIdentityFiles::pair(None, None).unwrap().is_none());
    assert!(matches!(
        TlsIdentityFiles::pair(Some(&cert), None),
        Err(CredentialError::HalfTlsIdentity {
            missing: CredentialFile::TlsKey
        })
    ));
    assert!(matches!(
        TlsIdentityFiles::pair(None, Some(&key)),
        Err(CredentialError::HalfTlsIdentity {
            missing: CredentialFile::TlsCertificate
        })
    ));
    let creds = ClientCredentials::load(&CredentialSources {
        tls_identity: Some(pair),
        ca_file: Some(cert.clone()),
        ..Default::default()
    })
    .unwrap();
    assert!(creds.summary().tls_certificate);
    let http = creds.http_config();
    assert!(http.ca_pem.is_some() && http.client_identity_pem.is_some());
    // Debug never shows the key
    assert!(!format!("{creds:?}").contains("PRIVATE KEY"));
}

#[test]
fn registered_key_alg_rule() {
    use Algorithm::{ES256, ES384, HS256, PS256, RS256};
    let any = signing_algs(&[]);
    let rsa_only = signing_algs(&["RS256", "PS256"]);
    // the registered algorithm wins, whatever is active
    assert_eq!(
        registered_key_alg(Some(RS256), &[ES256], &any).unwrap(),
        RS256
    );
    // an HMAC registration is client_secret_jwt's: ignored
    assert_eq!(
        registered_key_alg(Some(HS256), &[ES256], &any).unwrap(),
        ES256
    );
    // none registered: the preferred active key…
    assert_eq!(
        registered_key_alg(None, &[RS256, ES384, ES256], &any).unwrap(),
        ES256
    );
    // …whose algorithm the OP supports
    assert_eq!(
        registered_key_alg(None, &[ES256, RS256, PS256], &rsa_only).unwrap(),
        PS256
    );
    let e = registered_key_alg(None, &[ES256], &rsa_only).unwrap_err();
    assert!(
        matches!(&e, CredentialError::NoAcceptableKey { active, accepted } if active == &[ES256] && accepted.len() == 2),
        "{e}"
    );
    assert!(registered_key_alg(None, &[], &any).is_err());
}

#[test]
fn hmac_alg_choice() {
    assert_eq!(hmac_alg_for(&signing_algs(&[]), 32), Algorithm::HS256);
    assert_eq!(
        hmac_alg_for(&signing_algs(&["HS512", "RS256"]), 64),
        Algorithm::HS512
    );
    assert_eq!(
        hmac_alg_for(&signing_algs(&["HS256", "HS512"]), 70),
        Algorithm::HS256
    );
    // nothing fits: HS256, whose length check then names the problem
    assert_eq!(hmac_alg_for(&signing_algs(&[]), 10), Algorithm::HS256);
    assert!(op_accepts(&signing_algs(&[]), Algorithm::RS512));
    assert!(!op_accepts(&signing_algs(&["ES256"]), Algorithm::RS512));
}

fn spec(method: Option<AuthMethod>, alg: Option<Algorithm>) -> ClientAuthSpec {
    ClientAuthSpec {
        signing_alg: alg,
        ..ClientAuthSpec::new(ClientId::new("rp").unwrap(), method)
    }
}

#[test]
fn each_method_needs_its_credential() {
    let m = md(serde_json::json!({}));
    let none = ClientCredentials::default();
    for (method, credential) in [
        (AuthMethod::PrivateKeyJwt, Credential::PrivateKey),
        (AuthMethod::ClientSecretBasic, Credential::ClientSecret),
        (AuthMethod::ClientSecretPost, Credential::ClientSecret),
        (AuthMethod::ClientSecretJwt, Credential::ClientSecret),
        (AuthMethod::TlsClientAuth, Credential::TlsIdentity),
        (AuthMethod::SelfSignedTlsClientAuth, Credential::TlsIdentity),
    ] {
        let e = client_auth(&spec(Some(method), None), &none, &m).unwrap_err();
        assert!(
            matches!(e, CredentialError::Missing { method: mm, credential: c } if mm == method && c == credential),
            "{method}: {e}"
        );
    }
    let public = client_auth(&spec(Some(AuthMethod::None), None), &none, &m).unwrap();
    assert_eq!(public.auth.method(), AuthMethod::None);
    assert!(public.recommendation.is_none());
    let mtls = ClientCredentials {
        tls_identity: Some(zeroize::Zeroizing::new(b"pem".to_vec())),
        ..Default::default()
    };
    let a = client_auth(&spec(Some(AuthMethod::TlsClientAuth), None), &mtls, &m).unwrap();
    assert_eq!(a.auth.method(), AuthMethod::TlsClientAuth);
}

#[test]
fn algorithms_must_fit_the_method_and_key() {
    let m = md(serde_json::json!({}));
    let creds = ClientCredentials {
        secret: Some(Secret::new("x".repeat(64))),
        key: Some(SigningKey::generate(Algorithm::ES256, None).unwrap()),
        ..Default::default()
    };
    let jwt = Some(AuthMethod::ClientSecretJwt);
    let pk = Some(AuthMethod::PrivateKeyJwt);
    for (method, alg) in [
        (jwt, Algorithm::RS256),
        (pk, Algorithm::HS256),
        (pk, Algorithm::PS256),
    ] {
        let e = client_auth(&spec(method, Some(alg)), &creds, &m).unwrap_err();
        assert!(
            matches!(e, CredentialError::AlgorithmMismatch { alg: a, .. } if a == alg),
            "{e}"
        );
    }
    let a = client_auth(&spec(jwt, Some(Algorithm::HS512)), &creds, &m).unwrap();
    assert_eq!(a.auth.assertion_algorithm(), Some(Algorithm::HS512));
    let a = client_auth(&spec(pk, Some(Algorithm::ES256)), &creds, &m).unwrap();
    assert_eq!(a.auth.assertion_algorithm(), Some(Algorithm::ES256));
    // a secret too short for its HMAC is the core's refusal
    let short = ClientCredentials {
        secret: Some(Secret::new("short")),
        ..Default::default()
    };
    assert!(matches!(
        client_auth(&spec(jwt, None), &short, &m),
        Err(CredentialError::ClientAuth(_))
    ));
}

#[test]
fn without_a_method_the_recommender_chooses() {
    let m = md(serde_json::json!({
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_jwt", "private_key_jwt"],
    }));
    let auto = spec(None, None);
    let short = ClientCredentials {
        secret: Some(Secret::new("short")),
        ..Default::default()
    };
    let c = client_auth(&auto, &short, &m).unwrap();
    assert_eq!(c.auth.method(), AuthMethod::ClientSecretBasic);
    assert!(c.recommendation.unwrap().reason.contains("private_key_jwt"));
    let long = ClientCredentials {
        secret: Some(Secret::new("x".repeat(40))),
        ..Default::default()
    };
    let c = client_auth(&auto, &long, &m).unwrap();
    assert_eq!(c.auth.method(), AuthMethod::ClientSecretJwt);
    assert_eq!(c.auth.assertion_algorithm(), Some(Algorithm::HS256));
    let keyed = ClientCredentials {
        key: Some(SigningKey::generate(Algorithm::ES256, None).unwrap()),
        ..Default::default()
    };
    let c = client_auth(&auto, &keyed, &m).unwrap();
    assert_eq!(c.auth.method(), AuthMethod::PrivateKeyJwt);
    assert!(matches!(
        client_auth(&auto, &ClientCredentials::default(), &m),
        Err(CredentialError::Recommend(_))
    ));
    let endpoint = ClientAuthSpec {
        audience: AssertionAudience::Endpoint,
        ..auto
    };
    assert!(client_auth(&endpoint, &keyed, &m).is_ok());
}
