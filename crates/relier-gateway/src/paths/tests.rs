use super::*;

#[test]
fn canonical_paths_pass() {
    for p in [
        "/",
        "/admin/x",
        "/a%20b/c",
        "/caf%C3%A9",
        "/a;b=c/d",
        "/admin%2fx",
        "/.well-known/openid-configuration",
        "/a.b/c..d/...x",
        "/file.",
        "/%7Euser",
        "//double",
    ] {
        assert_eq!(check_canonical(p), Ok(()), "{p}");
    }
}

#[test]
fn paths_no_browser_sends_are_refused() {
    use NonCanonical::*;
    for (p, why) in [
        // RFC 3986 §5.2.4 dot segments, in every spelling.
        ("/admin/../public/x", DotSegment),
        ("/admin/./x", DotSegment),
        ("/admin/..", DotSegment),
        ("/admin/..%2fpublic/x", DotSegment),
        ("/admin/..%2Fpublic/x", DotSegment),
        ("/admin/x/..%2f..%2fpublic/x", DotSegment),
        ("/admin/users/..%2f..%2fpublic%2fx", DotSegment),
        ("/admin/..;/public/x", DotSegment),
        ("/admin/.;x/y", DotSegment),
        ("/admin/%2e%2e/public/x", DotSegment),
        ("/admin/%2E%2e/public/x", DotSegment),
        ("/admin/.%2e/public/x", DotSegment),
        ("/admin/%2e/x", DotSegment),
        ("/admin/..%20/x", DotSegment),
        ("/admin/.../x", DotSegment),
        // Double encoding, in any spelling.
        ("/admin/%252e%252e/public/x", DoubleEncoding),
        ("/admin/%25%32%65", DoubleEncoding),
        ("/admin/%%32%65%%32%65/x", DoubleEncoding),
        ("/a%2541", DoubleEncoding),
        // Backslashes.
        ("/admin\\..\\public", Backslash),
        ("/admin%5c..%5cpublic", Backslash),
        ("/admin%5C", Backslash),
        // Control characters, encoded or raw, and raw bytes outside visible ASCII.
        ("/admin%00/x", ControlCharacter),
        ("/admin%0a", ControlCharacter),
        ("/admin%7F", ControlCharacter),
        ("/admin\t", ControlCharacter),
        ("/admin x", ControlCharacter),
        ("/café", ControlCharacter),
        // IIS %u, overlong UTF-8.
        ("/%u0061dmin", UnicodeEscape),
        ("/admin/%c0%ae%c0%ae/x", InvalidUtf8),
        ("/%ff", InvalidUtf8),
        ("/a{b}", Unencoded),
        ("/a\"b", Unencoded),
        ("/a<b>", Unencoded),
        ("/a`b", Unencoded),
        // Not origin-form.
        ("admin", NotAbsolutePath),
        ("http://app/admin", NotAbsolutePath),
        ("", NotAbsolutePath),
    ] {
        assert_eq!(check_canonical(p), Err(why), "{p}");
    }
}

#[test]
fn readings_cover_separators_parameters_case_and_decoding() {
    let has = |path: &str, want: &[&str]| {
        readings(path, false)
            .iter()
            .any(|r| r.iter().map(String::as_str).eq(want.iter().copied()))
    };
    assert_eq!(readings("/Admin/X", false), vec![vec!["admin", "x"]]);
    assert!(has("/admin%2fx", &["admin", "x"]));
    assert!(has("/admin%2fx", &["admin/x"]));
    assert!(has("/admin%2fx", &["admin%2fx"]));
    assert!(has("/admin;jsessionid=1/x", &["admin", "x"]));
    assert!(has("/admin;jsessionid=1/x", &["admin;jsessionid=1", "x"]));
    assert!(has("//admin", &["", "admin"]));
    assert!(has("//admin", &["admin"]));
    assert!(has("/admin%3fx=1", &["admin"]));
    assert!(has("/admin.%20", &["admin"]));
    // Lenient readings (allow_non_canonical_paths) resolve what canonical paths cannot hold.
    let lenient = |path: &str, want: &[&str]| {
        readings(path, true)
            .iter()
            .any(|r| r.iter().map(String::as_str).eq(want.iter().copied()))
    };
    assert!(lenient("/public/..%2fadmin", &["admin"]));
    assert!(lenient("/public/%252e%252e/admin", &["admin"]));
    assert!(lenient("/public\\..\\admin", &["admin"]));
    assert!(lenient("/public/..;/admin", &["admin"]));
}

#[test]
fn configured_prefixes_are_decoded_once_and_folded() {
    assert_eq!(
        config_segments("/Admin/Caf%C3%A9/"),
        Some(vec!["admin".to_owned(), "café".to_owned()])
    );
    assert_eq!(config_segments("/"), Some(vec![]));
    assert_eq!(config_segments("/a/../b"), None);
    assert_eq!(config_segments("a"), None);
}

/// Paths built from the tokens reviews use, from a fixed seed: no panic; a canonical path has no
/// dot segment in any reading, its lenient readings include its strict ones, and the URL parser
/// behind the upstream client sends it unchanged.
#[test]
fn generated_paths_keep_the_invariants() {
    const TOKENS: [&str; 20] = [
        "/", ".", "..", "%2e", "%2E", "%2f", "%2F", ";", "%25", "\\", "a", "A", "%41", " ", "%20",
        "%c0%ae", "{", "|", "[", "^",
    ];
    let mut seed: u64 = 0x5eed_1e55;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(seed >> 33).unwrap() % n
    };
    for _ in 0..20_000 {
        let len = 1 + next(8);
        let mut p = String::from("/");
        for _ in 0..len {
            p.push_str(TOKENS[next(TOKENS.len())]);
        }
        let strict = readings(&p, false);
        let lenient = readings(&p, true);
        if check_canonical(&p).is_err() {
            continue;
        }
        for r in &strict {
            assert!(lenient.contains(r), "{p:?}: {r:?}");
            assert!(!r.iter().any(|s| s == "." || s == ".."), "{p:?}: {r:?}");
        }
        // The upstream gets exactly these bytes.
        let sent = url::Url::parse(&format!("http://h{p}")).unwrap();
        assert_eq!(sent.path(), p, "the upstream client changes {p:?}");
    }
}
