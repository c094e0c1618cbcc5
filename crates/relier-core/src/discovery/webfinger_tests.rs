use super::*;

const REL_Q: &str = "rel=http%3A%2F%2Fopenid.net%2Fspecs%2Fconnect%2F1.0%2Fissuer";

fn q(input: &str) -> WebFingerQuery {
    WebFingerQuery::new(input).unwrap_or_else(|e| panic!("{input}: {e}"))
}

fn jrd_response(content_type: Option<&str>, body: &str) -> HttpResponse {
    HttpResponse {
        status: 200,
        content_type: content_type.map(str::to_owned),
        www_authenticate: None,
        cache_control: None,
        body: body.as_bytes().to_vec(),
    }
}

/// OIDC Discovery 1.0 §2.2 (non-normative examples) and the §2.1.2 step examples:
/// (user input, resource, host).
const VECTORS: &[(&str, &str, &str)] = &[
    // §2.2.1 e-mail address syntax
    ("joe@example.com", "acct:joe@example.com", "example.com"),
    (
        "Jane.Doe@example.com",
        "acct:Jane.Doe@example.com",
        "example.com",
    ),
    // §2.2.2 URL syntax
    (
        "https://example.com/joe",
        "https://example.com/joe",
        "example.com",
    ),
    // §2.2.3 hostname and port syntax
    (
        "example.com:8080",
        "https://example.com:8080/",
        "example.com:8080",
    ),
    // §2.2.4 "acct" URI syntax
    (
        "acct:juliet%40capulet.example@shopping.example.com",
        "acct:juliet%40capulet.example@shopping.example.com",
        "shopping.example.com",
    ),
    // §2.1.2 step 3: no scheme, not an account → https
    ("example.com", "https://example.com/", "example.com"),
    ("example.com/joe", "https://example.com/joe", "example.com"),
    (
        "joe@example.com:8080",
        "https://joe@example.com:8080/",
        "example.com:8080",
    ),
    // §2.1.2 step 4: an explicit scheme is kept as typed
    ("https://example.com", "https://example.com", "example.com"),
    (
        "https://joe@example.com:8080",
        "https://joe@example.com:8080",
        "example.com:8080",
    ),
    (
        "acct:joe@example.com",
        "acct:joe@example.com",
        "example.com",
    ),
    (
        "acct:alice@example.com:8443",
        "acct:alice@example.com:8443",
        "example.com:8443",
    ),
    // §2.1.2 step 5: the fragment is stripped
    (
        "https://example.com/alice#x",
        "https://example.com/alice",
        "example.com",
    ),
    (
        "example.com/alice#x",
        "https://example.com/alice",
        "example.com",
    ),
    (
        "example.com:8080#frag",
        "https://example.com:8080/",
        "example.com:8080",
    ),
    // RFC 7565 §7: an @ in the userpart is percent-encoded
    (
        "joe@example.com@example.org",
        "acct:joe%40example.com@example.org",
        "example.org",
    ),
    // loopback, IPv6
    ("alice@127.0.0.1", "acct:alice@127.0.0.1", "127.0.0.1"),
    ("[::1]:8080", "https://[::1]:8080/", "[::1]:8080"),
];

#[test]
fn normalisation_follows_discovery_2_1() {
    for (input, resource, host) in VECTORS {
        let query = q(input);
        assert_eq!(query.resource(), *resource, "resource of {input}");
        assert_eq!(query.host(), *host, "host of {input}");
    }
}

#[test]
fn lookup_url_is_https_at_the_host_with_encoded_parameters() {
    // §2.2.1's request line.
    assert_eq!(
        q("joe@example.com").url(),
        format!(
            "https://example.com/.well-known/webfinger?resource=acct%3Ajoe%40example.com&{REL_Q}"
        )
    );
    // §2.2.3: the port is kept.
    assert_eq!(
        q("example.com:8080").url(),
        format!(
            "https://example.com:8080/.well-known/webfinger?resource=https%3A%2F%2Fexample.com%3A8080%2F&{REL_Q}"
        )
    );
    // §2.2.4: the encoded @ is encoded again.
    assert_eq!(
        q("acct:juliet%40capulet.example@shopping.example.com").url(),
        format!(
            "https://shopping.example.com/.well-known/webfinger?resource=acct%3Ajuliet%2540capulet.example%40shopping.example.com&{REL_Q}"
        )
    );
    assert!(
        q("acct:alice@example.com:8443")
            .url()
            .starts_with("https://example.com:8443/")
    );
    // Loopback: http, for tests.
    assert!(
        q("acct:alice@127.0.0.1:9000")
            .url()
            .starts_with("http://127.0.0.1:9000/")
    );
    assert!(
        q("localhost:9000")
            .url()
            .starts_with("http://localhost:9000/")
    );
    let req = q("joe@example.com").request();
    assert_eq!(
        req.header("accept"),
        Some("application/jrd+json, application/json")
    );
}

#[test]
fn bad_identifiers_are_refused() {
    assert_eq!(WebFingerQuery::new(""), Err(WebFingerError::Empty));
    assert_eq!(WebFingerQuery::new("  "), Err(WebFingerError::Empty));
    for (input, symbol) in [("=joe", '='), ("@joe", '@'), ("!joe", '!')] {
        assert_eq!(
            WebFingerQuery::new(input),
            Err(WebFingerError::ReservedXri { symbol })
        );
    }
    assert_eq!(
        WebFingerQuery::new("joe @example.com"),
        Err(WebFingerError::ForbiddenCharacter)
    );
    for input in [
        "acct:joe",
        "acct:@example.com",
        "acct:joe@",
        "mailto:joe",
        "urn:x:y",
        "https:///x",
    ] {
        assert!(
            matches!(
                WebFingerQuery::new(input),
                Err(WebFingerError::NoHost { .. })
            ),
            "{input}"
        );
    }
    for input in [
        "acct:joe@example.com/x",
        "example.com:99999",
        "acct:joe@exa mple",
    ] {
        assert!(WebFingerQuery::new(input).is_err(), "{input}");
    }
    assert!(matches!(
        WebFingerQuery::new("acct:joe@example.com/x"),
        Err(WebFingerError::InvalidHost { .. })
    ));
}

const GOOD: &str = r#"{
    "subject": "acct:joe@example.com",
    "links": [{"rel": "http://openid.net/specs/connect/1.0/issuer", "href": "https://server.example.com"}]
}"#;

#[test]
fn jrd_issuer_is_read() {
    let issuer = issuer_from_jrd(GOOD.as_bytes()).unwrap();
    assert_eq!(issuer.as_str(), "https://server.example.com");
    // The issuer is kept exactly (compared as a string by discovery).
    let body = r#"{"links":[{"rel":"http://openid.net/specs/connect/1.0/issuer","href":"https://op.example/tenant/"}]}"#;
    assert_eq!(
        issuer_from_jrd(body.as_bytes()).unwrap().as_str(),
        "https://op.example/tenant/"
    );
}

#[test]
fn jrd_first_issuer_link_wins_and_other_rels_are_skipped() {
    let body = r#"{"links":[
        {"rel": "http://webfinger.net/rel/avatar", "href": "https://other.example/a.png"},
        {"rel": "https://openid.net/specs/connect/1.0/issuer", "href": "https://wrong-rel.example"},
        {"rel": "http://openid.net/specs/connect/1.0/issuer", "href": "https://first.example"},
        {"rel": "http://openid.net/specs/connect/1.0/issuer", "href": "https://second.example"}
    ]}"#;
    assert_eq!(
        issuer_from_jrd(body.as_bytes()).unwrap().as_str(),
        "https://first.example"
    );
}

#[test]
fn jrd_without_issuer_link_is_refused() {
    for body in [
        r#"{"subject":"acct:joe@example.com"}"#,
        r#"{"links":[]}"#,
        r#"{"links":[{"rel":"http://webfinger.net/rel/profile-page","href":"https://example.com/joe"}]}"#,
        r#"{"links":[{"rel":"HTTP://OPENID.NET/specs/connect/1.0/issuer","href":"https://x.example"}]}"#,
        r#"{"links":[{"rel":"http://openid.net/specs/connect/1.0/issuer"}]}"#,
        r#"{"links":[{"rel":"http://openid.net/specs/connect/1.0/issuer","href":5}]}"#,
        r#"{"links":[{"href":"https://x.example"}]}"#,
    ] {
        assert_eq!(
            issuer_from_jrd(body.as_bytes()),
            Err(WebFingerError::NoIssuerLink),
            "{body}"
        );
    }
}

#[test]
fn http_issuer_href_is_refused_even_on_loopback() {
    for href in [
        "http://server.example.com",
        "http://127.0.0.1:8080",
        "http://localhost",
    ] {
        let body = format!(r#"{{"links":[{{"rel":"{ISSUER_REL}","href":"{href}"}}]}}"#);
        let err = issuer_from_jrd(body.as_bytes()).unwrap_err();
        assert_eq!(
            err,
            WebFingerError::InsecureIssuer {
                href: href.to_owned()
            }
        );
        assert!(err.to_string().contains("must be https"), "{err}");
    }
}

#[test]
fn issuer_href_with_query_or_fragment_or_garbage_is_refused() {
    for href in [
        "https://op.example?x=1",
        "https://op.example#f",
        "not a url",
        "/relative",
    ] {
        let body = format!(r#"{{"links":[{{"rel":"{ISSUER_REL}","href":"{href}"}}]}}"#);
        assert!(
            matches!(
                issuer_from_jrd(body.as_bytes()),
                Err(WebFingerError::InvalidIssuer { .. })
            ),
            "{href}"
        );
    }
}

#[test]
fn malformed_or_oversize_jrd_is_refused() {
    for body in ["", "[]", "null", "{", r#"{"links":{}}"#, r#"{"links":"x"}"#] {
        assert!(
            matches!(
                issuer_from_jrd(body.as_bytes()),
                Err(WebFingerError::InvalidJrd { .. })
            ),
            "{body}"
        );
    }
    let padding = "x".repeat(MAX_JRD_BYTES);
    let big = format!(
        r#"{{"subject":"{padding}","links":[{{"rel":"{ISSUER_REL}","href":"https://a.example"}}]}}"#
    );
    assert_eq!(
        issuer_from_jrd(big.as_bytes()),
        Err(WebFingerError::TooLarge { max: MAX_JRD_BYTES })
    );
}

#[test]
fn response_status_and_content_type_are_checked() {
    let query = q("joe@example.com");
    for ct in [
        Some("application/jrd+json"),
        Some("application/JRD+JSON; charset=utf-8"),
        Some("application/json"),
        None,
    ] {
        assert_eq!(
            query
                .issuer_from_response(&jrd_response(ct, GOOD))
                .unwrap()
                .as_str(),
            "https://server.example.com",
            "{ct:?}"
        );
    }
    assert!(matches!(
        query.issuer_from_response(&jrd_response(Some("text/html"), GOOD)),
        Err(WebFingerError::ContentType { .. })
    ));
    let mut not_found = jrd_response(Some("application/jrd+json"), GOOD);
    not_found.status = 404;
    assert_eq!(
        query.issuer_from_response(&not_found),
        Err(WebFingerError::Status {
            url: query.url().to_owned(),
            status: 404
        })
    );
}
