use super::*;
use crate::api::cache::TokenKey;

fn config(api: &str) -> Result<ApiRules, GatewayError> {
    let toml = format!(
        "public_url = \"https://app.example.com\"\n{api}\n[[providers]]\nname = \"corp\"\n\
         issuer = \"https://op.example.com\"\nclient_id = \"c\"\nclient_secret = \"s\"\n"
    );
    ApiRules::from_config(&Config::from_toml(&toml).unwrap())
}

#[test]
fn api_rules_are_parsed_once_and_checked() {
    let rules = config(
        "[[api]]\npath = \"/api/\"\nproviders = [\"corp\"]\naudience = \"https://app.example.com/api\"\n\
         scopes = [\"orders:read\"]\nintrospect = true\ndpop_nonce = true\n",
    )
    .unwrap();
    let (i, r) = rules.find("/api/orders?x=1").unwrap();
    assert_eq!(i, 0);
    assert!(r.sessions && r.introspect && r.dpop_nonce);
    assert_eq!(r.scopes, ["orders:read"]);
    // Matched like [[access]] prefixes: every reading, segment boundaries.
    for path in [
        "/api", "/API/x", "/api./x", "/%61pi/x", "//api/x", "/api%2fx",
    ] {
        assert!(rules.find(path).is_some(), "{path}");
    }
    for path in ["/apix", "/other/api", "/"] {
        assert!(rules.find(path).is_none(), "{path}");
    }
    let sessions_off = config(
        "[[api]]\npath = \"/api\"\nproviders = [\"corp\"]\naudience = \"a\"\nsessions = false\n",
    )
    .unwrap();
    assert!(!sessions_off.find("/api").unwrap().1.sessions);
}

#[test]
fn bad_api_entries_are_refused() {
    for (api, want) in [
        (
            "path = \"/api\"\nproviders = [\"other\"]\naudience = \"a\"",
            "unknown provider",
        ),
        (
            "path = \"/api\"\nproviders = []\naudience = \"a\"",
            "providers is empty",
        ),
        (
            "path = \"/api\"\nproviders = [\"corp\"]\naudience = \"\"",
            "audience is empty",
        ),
        (
            "path = \"api\"\nproviders = [\"corp\"]\naudience = \"a\"",
            "api.path",
        ),
        (
            "path = \"/api\"\nproviders = [\"corp\"]\naudience = \"a\"\nscopes = [\"a\\\"b\"]",
            "not a scope token",
        ),
    ] {
        let err = config(&format!("[[api]]\n{api}\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{api}: {err}");
    }
    let toml = "public_url = \"https://a.example\"\n[[api]]\npath = \"/api\"\nproviders = [\"c\"]\n\
                audience = \"a\"\nscope = [\"x\"]\n";
    assert!(Config::from_toml(toml).is_err(), "unknown keys are refused");
}

fn principal(exp: u64) -> Arc<TokenPrincipal> {
    Arc::new(TokenPrincipal {
        headers: Vec::new(),
        provider: "p".into(),
        issuer: "https://op.example".into(),
        subject: "s".into(),
        client_id: "c".into(),
        kind: super::AuthKind::Bearer,
        exp,
        scopes: Vec::new(),
        jkt: None,
        proof_key: Default::default(),
    })
}

#[test]
fn token_cache_keeps_until_exp_and_never_longer() {
    let c = TokenCache::default();
    let k = TokenKey::new(0, "tok");
    assert_ne!(k, TokenKey::new(1, "tok"), "keyed by rule as well");
    c.insert(k, principal(100), 50);
    assert!(c.get(&k, 99).is_some());
    assert!(c.get(&k, 100).is_none());
    assert_eq!(c.len(), 0, "an expired entry is dropped when met");
    c.insert(k, principal(100), 100);
    assert_eq!(c.len(), 0, "an expired token is not cached");
}

#[test]
fn challenges_follow_rfc6750() {
    let header = |c: Challenge| {
        let r = c.response();
        (
            r.status().as_u16(),
            r.headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned()),
        )
    };
    assert_eq!(header(Challenge::NoToken), (401, Some("Bearer".into())));
    assert_eq!(
        header(Challenge::InvalidToken),
        (401, Some("Bearer error=\"invalid_token\"".into()))
    );
    assert_eq!(
        header(Challenge::InsufficientScope {
            scope: "a b".into()
        }),
        (
            403,
            Some("Bearer error=\"insufficient_scope\", scope=\"a b\"".into())
        )
    );
    let (status, value) = header(Challenge::InvalidDpopProof);
    assert_eq!(status, 401);
    assert!(
        value
            .unwrap()
            .starts_with("DPoP error=\"invalid_dpop_proof\", algs=\"ES256")
    );
    assert_eq!(header(Challenge::Unavailable), (503, None));
}
