#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use axum::http::HeaderValue;

use super::*;

fn routes(toml: &str) -> Result<Option<Routes>, GatewayError> {
    let config = Config::from_toml(&format!("public_url = \"http://127.0.0.1:8088\"\n{toml}"))?;
    let settings = crate::settings::settings(&config)?;
    Routes::from_config(&config, &settings)
}

const THREE: &str = r#"
[[upstream]]
url = "http://127.0.0.1:3001"
[[upstream]]
path = "/grafana/"
url = "http://127.0.0.1:3002"
strip_prefix = true
[[upstream]]
path = "/grafana/api"
url = "http://127.0.0.1:3003"
[[upstream]]
host = "Wiki.Example.com."
url = "http://127.0.0.1:3004"
"#;

/// The index of the route chosen (by its upstream port), or what else was decided.
fn chosen(r: &Routes, host: Option<&str>, target: &str) -> String {
    let mut h = HeaderMap::new();
    if let Some(host) = host {
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
    }
    let uri: Uri = target.parse().unwrap();
    match r.choose(&uri, &h, false) {
        Choice::Route(route) => route.proxy.origin.1.port_u16().unwrap().to_string(),
        other => format!("{other:?}"),
    }
}

#[test]
fn host_first_then_the_longest_prefix() {
    let r = routes(THREE).unwrap().unwrap();
    assert_eq!(chosen(&r, None, "/x"), "3001");
    assert_eq!(chosen(&r, Some("app.example.com"), "/grafana/d"), "3002");
    assert_eq!(chosen(&r, None, "/grafana"), "3002");
    assert_eq!(chosen(&r, None, "/GRAFANA./d"), "3002");
    assert_eq!(chosen(&r, None, "/grafanaX/d"), "3001");
    assert_eq!(chosen(&r, None, "/grafana/api/v1"), "3003");
    assert_eq!(chosen(&r, None, "/grafana/apix"), "3002");
    for host in [
        "wiki.example.com",
        "WIKI.example.COM:8443",
        "wiki.example.com.",
    ] {
        assert_eq!(chosen(&r, Some(host), "/grafana/api"), "3004", "{host}");
    }
    assert_eq!(chosen(&r, Some("wiki.example.com.evil"), "/"), "3001");
    let uri: Uri = "http://wiki.example.com/x".parse().unwrap();
    match r.choose(&uri, &HeaderMap::new(), false) {
        Choice::Route(route) => assert_eq!(route.proxy.origin.1.port_u16(), Some(3004)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn readings_that_disagree_are_refused() {
    let r = routes(THREE).unwrap().unwrap();
    for escape in [
        "/grafana%2fd",
        "/grafana;x/d",
        "//grafana/d",
        "/grafana/api%2fv1",
        "/grafana/api;v=1/x",
        "/%67rafana/d",
    ] {
        assert_eq!(chosen(&r, None, escape), "AmbiguousRoute", "{escape}");
    }
    let lenient = |target: &str| {
        let uri: Uri = target.parse().unwrap();
        match r.choose(&uri, &HeaderMap::new(), true) {
            Choice::Route(route) => route.proxy.origin.1.port_u16().unwrap().to_string(),
            other => format!("{other:?}"),
        }
    };
    for escape in [
        "/grafana/..%2fx",
        "/grafana/../x",
        "/grafana/%2e%2e/api/x",
        "/x/../grafana/d",
    ] {
        assert_eq!(lenient(escape), "AmbiguousRoute", "{escape}");
    }
    assert_eq!(
        lenient("/grafana/d/../e"),
        "3002",
        "the dots stay inside the route"
    );
}

#[test]
fn hosts_that_cannot_be_told_are_refused() {
    let r = routes(THREE).unwrap().unwrap();
    let mut h = HeaderMap::new();
    h.append(header::HOST, HeaderValue::from_static("wiki.example.com"));
    h.append(header::HOST, HeaderValue::from_static("other.example.com"));
    let uri: Uri = "/".parse().unwrap();
    assert!(matches!(r.choose(&uri, &h, false), Choice::AmbiguousHost));
    let mut h = HeaderMap::new();
    h.insert(header::HOST, HeaderValue::from_static("other.example.com"));
    let uri: Uri = "http://wiki.example.com/".parse().unwrap();
    assert!(matches!(r.choose(&uri, &h, false), Choice::AmbiguousHost));
    h.insert(
        header::HOST,
        HeaderValue::from_static("user@wiki.example.com"),
    );
    assert!(matches!(
        r.choose(&"/".parse().unwrap(), &h, false),
        Choice::AmbiguousHost
    ));
}

#[test]
fn without_a_catch_all_unmatched_requests_find_no_route() {
    let r = routes(
        "[[upstream]]\nhost = \"a.example\"\nurl = \"http://127.0.0.1:1\"\n\
         [[upstream]]\npath = \"/b\"\nurl = \"http://127.0.0.1:2\"\n",
    )
    .unwrap()
    .unwrap();
    assert_eq!(chosen(&r, Some("c.example"), "/"), "NotFound");
    assert_eq!(chosen(&r, None, "/c"), "NotFound");
    assert_eq!(chosen(&r, Some("a.example"), "/b"), "1");
    assert_eq!(chosen(&r, None, "/b/x"), "2");
}

#[test]
fn stripping_cuts_literal_segments() {
    assert_eq!(strip_segments("/a/b/c", 1), Some("/b/c"));
    assert_eq!(strip_segments("/a/b/c", 2), Some("/c"));
    assert_eq!(strip_segments("/a", 1), Some("/"));
    assert_eq!(strip_segments("/a/", 1), Some("/"));
    assert_eq!(strip_segments("/a//x", 1), Some("//x"));
    assert_eq!(strip_segments("/a", 2), None);
    assert_eq!(strip_segments("/a/b", 0), Some("/a/b"));
}

#[test]
fn route_configuration_is_checked() {
    let err = |toml: &str| routes(toml).unwrap_err().to_string();
    let e = err("[[upstream]]\nurl = \"http://a\"\n[[upstream]]\nurl = \"http://b\"\n");
    assert!(e.contains("upstream[1]") && e.contains("same host"), "{e}");
    let e = err(
        "[[upstream]]\npath = \"/a/\"\nurl = \"http://a\"\n[[upstream]]\npath = \"/A\"\nurl = \"http://b\"\n",
    );
    assert!(e.contains("same host"), "{e}");
    let e = err("[[upstream]]\nurl = \"ftp://a\"\n");
    assert!(e.contains("upstream[0].url") && e.contains("http"), "{e}");
    let e = err("[[upstream]]\npath = \"grafana\"\nurl = \"http://a\"\n");
    assert!(e.contains("upstream[0].path"), "{e}");
    let e = err("[[upstream]]\npath = \"/a/../b\"\nurl = \"http://a\"\n");
    assert!(e.contains("upstream[0].path"), "{e}");
    let e = err("[[upstream]]\npath = \"/a%2fb\"\nurl = \"http://a\"\n");
    assert!(e.contains("percent-escapes"), "{e}");
    let e = err("[[upstream]]\nstrip_prefix = true\nurl = \"http://a\"\n");
    assert!(e.contains("strip_prefix needs"), "{e}");
    for host in [
        "a.example:8080",
        "*.example.com",
        "a b",
        "",
        "a..b",
        "user@a",
    ] {
        let e = err(&format!(
            "[[upstream]]\nhost = \"{host}\"\nurl = \"http://a\"\n"
        ));
        assert!(e.contains("upstream[0]: host"), "{host}: {e}");
    }
    let e = err("[[upstream]]\npath = \"/g/\"\nurl = \"http://a\"\nskip_auth = [\"/public/\"]\n");
    assert!(e.contains("not under the route's path"), "{e}");
    let e = err(
        "[[upstream]]\npath = \"/g/\"\nurl = \"http://a\"\n[[upstream.access]]\npath = \"/admin\"\ngroups = [\"a\"]\n",
    );
    assert!(e.contains("not under the route's path"), "{e}");
    let e = err("[[upstream]]\nurl = \"http://a\"\n[[upstream.access]]\npath = \"/admin\"\n");
    assert!(
        e.contains("upstream[0].access") && e.contains("names no"),
        "{e}"
    );
    let e = err("upstream = []\n");
    assert!(e.contains("no routes"), "{e}");
    assert!(routes("[[upstream]]\nhost = \"[::1]\"\nurl = \"http://a\"\n").is_ok());
}

#[test]
fn both_forms_are_refused_with_a_message() {
    let e = Config::from_toml(
        "public_url = \"http://127.0.0.1:8088\"\n[upstream]\nurl = \"http://a\"\n[[upstream]]\nurl = \"http://b\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("both [upstream] and [[upstream]]"), "{e}");
    let e = Config::from_toml(
        "public_url = \"http://127.0.0.1:8088\"\n[[upstream]]\nurl = \"http://b\"\n[upstream]\nurl = \"http://a\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("both [upstream] and [[upstream]]"), "{e}");
    let e =
        Config::from_toml("public_url = \"x\"\n[[upstream]]\nurl = \"http://b\"\nhots = \"a\"\n")
            .unwrap_err()
            .to_string();
    assert!(e.contains("hots"), "{e}");
}

#[test]
fn the_single_upstream_takes_every_request() {
    let r = routes("[upstream]\nurl = \"http://127.0.0.1:3001\"\n")
        .unwrap()
        .unwrap();
    for target in ["/", "/grafana%2fx", "/a;b"] {
        assert_eq!(chosen(&r, Some("any.example"), target), "3001");
    }
    assert!(
        routes("[upstream]\npass_access_token = true\n")
            .unwrap()
            .is_none()
    );
    assert!(routes("").unwrap().is_none());
}
