//! Names for people: the characters an OP (or a user, through their profile at the OP) can put
//! in a claim to make text read differently from what it is — bidi overrides that reverse a
//! name, line separators that break a log line or a page, zero-width characters that make two
//! names look alike — removed before a name reaches a header, a page, a log or the application.
//!
//! Names (`name`, `given_name`, … and Sign in with Apple's `user` field) are display text: they
//! are cleaned. Claims that can be identifiers (`preferred_username`, `email`, `sub`, any claim a
//! `[headers]` mapping hands on) are never rewritten — `admin\u{200B}` must not become `admin`
//! — a value that would need cleaning is not handed on at all (see [`clean_identifier`]).

use std::borrow::Cow;

use serde_json::{Map, Value};

/// The OIDC Core §5.1 claims that are names for people (display text, never a key).
pub const NAME_CLAIMS: [&str; 5] = [
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
];

/// Whether `c` is removed from names: control characters (C0, DEL, C1), the Unicode bidi
/// controls (UAX #9 §2: embeddings and overrides U+202A–U+202E, isolates U+2066–U+2069, the
/// marks U+200E, U+200F and U+061C), the line and paragraph separators U+2028/U+2029, and the
/// invisible format characters (zero-width space, non-joiner, joiner U+200B–U+200D, word
/// joiner and invisible operators U+2060–U+2064, deprecated format controls U+206A–U+206F,
/// U+180E, the byte order mark U+FEFF, interlinear annotation U+FFF9–U+FFFB).
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// A name as it may be shown or handed on: [`is_hidden`] characters removed, surrounding white
/// space trimmed. Borrowed when there was nothing to remove.
pub fn clean_name(s: &str) -> Cow<'_, str> {
    let trimmed = s.trim();
    if trimmed.chars().any(is_hidden) {
        let cleaned: String = trimmed.chars().filter(|c| !is_hidden(*c)).collect();
        Cow::Owned(cleaned.trim().to_owned())
    } else {
        Cow::Borrowed(trimmed)
    }
}

/// An identifier as it may be handed on: unchanged, or `None` when it holds an [`is_hidden`]
/// character (removing one could make it another user's).
pub fn clean_identifier(s: &str) -> Option<&str> {
    (!s.chars().any(is_hidden)).then_some(s)
}

/// Cleans the [`NAME_CLAIMS`] of a login's identity claims in place: the one step between
/// what the OP sent and the session, the login hook, the headers and the pages. A name left
/// empty is removed.
pub fn clean_name_claims(claims: &mut Map<String, Value>) {
    for claim in NAME_CLAIMS {
        let cleaned = match claims.get(claim) {
            Some(Value::String(s)) => match clean_name(s) {
                c if c == s.as_str() => continue,
                c => c.into_owned(),
            },
            _ => continue,
        };
        if cleaned.is_empty() {
            claims.remove(claim);
        } else {
            claims.insert(claim.to_owned(), Value::String(cleaned));
        }
    }
}

/// The display name of a login: `name`, else given and family name, else `preferred_username`
/// — cleaned whichever it is.
pub fn display_name(claims: &Map<String, Value>) -> Option<String> {
    let text = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_str)
            .map(|s| clean_name(s).into_owned())
            .filter(|s| !s.is_empty())
    };
    text("name").or_else(|| {
        match (text("given_name"), text("family_name")) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            (g, f) => g.or(f),
        }
        .or_else(|| text("preferred_username"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Each class of character, alone and inside a name.
    #[test]
    fn every_hidden_class_is_removed() {
        let classes: [(&str, &[char]); 7] = [
            ("C0 and DEL", &['\0', '\t', '\n', '\r', '\u{1B}', '\u{7F}']),
            ("C1", &['\u{80}', '\u{85}', '\u{9B}', '\u{9F}']),
            (
                "bidi embeddings and overrides",
                &['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}'],
            ),
            (
                "bidi isolates",
                &['\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'],
            ),
            ("bidi marks", &['\u{200E}', '\u{200F}', '\u{061C}']),
            ("line and paragraph separators", &['\u{2028}', '\u{2029}']),
            (
                "zero-width",
                &['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'],
            ),
        ];
        for (class, chars) in classes {
            for c in chars {
                assert!(is_hidden(*c), "{class}: U+{:04X}", u32::from(*c));
                let name = format!("Ada{c}Love{c}lace");
                assert_eq!(
                    clean_name(&name),
                    "AdaLovelace",
                    "{class}: U+{:04X}",
                    u32::from(*c)
                );
                assert_eq!(clean_identifier(&name), None, "{class}");
            }
        }
    }

    #[test]
    fn ordinary_names_are_kept_as_they_are() {
        for name in [
            "Ada Lovelace",
            "José Núñez",
            "محمد",
            "李小龙",
            "Zoë O'Brien-Smith",
            "👩‍🔬",
        ] {
            // The scientist emoji is joined by U+200D: it loses its joiner, not its letters.
            let want = name.replace('\u{200D}', "");
            assert_eq!(clean_name(name), want.as_str(), "{name}");
        }
        assert!(matches!(clean_name("Ada"), Cow::Borrowed("Ada")));
        assert_eq!(
            clean_identifier("alice@example.com"),
            Some("alice@example.com")
        );
    }

    /// The RLO attack: "Alice\u{202E}nimda" shows as "Aliceadmin"; a U+2028 breaks a log line.
    #[test]
    fn a_reversed_and_broken_name_is_cleaned() {
        assert_eq!(clean_name("  Alice\u{202E}nimda\u{2028}x "), "Alicenimdax");
        assert_eq!(clean_name("\u{202E}\u{200B} "), "");
    }

    #[test]
    fn name_claims_are_cleaned_in_place_and_identifiers_left() {
        let mut claims = json!({
            "name": "Mallory\u{202E}",
            "given_name": "\u{200B}",
            "family_name": "Plain",
            "nickname": 7,
            "preferred_username": "admin\u{200B}",
            "email": "a\u{202E}@example.com",
        })
        .as_object()
        .cloned()
        .unwrap();
        clean_name_claims(&mut claims);
        assert_eq!(claims["name"], "Mallory");
        assert!(!claims.contains_key("given_name"));
        assert_eq!(claims["family_name"], "Plain");
        assert_eq!(claims["nickname"], 7);
        assert_eq!(claims["preferred_username"], "admin\u{200B}");
        assert_eq!(claims["email"], "a\u{202E}@example.com");
    }

    #[test]
    fn display_name_prefers_name_and_cleans_the_fallbacks() {
        let m = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(
            display_name(&m(json!({"name": "A\u{2029}B", "given_name": "G"}))).as_deref(),
            Some("AB")
        );
        assert_eq!(
            display_name(&m(json!({"given_name": "G\u{2066}", "family_name": "F"}))).as_deref(),
            Some("G F")
        );
        assert_eq!(
            display_name(&m(
                json!({"name": "\u{200B}", "preferred_username": "al\u{202E}ice"})
            ))
            .as_deref(),
            Some("alice")
        );
        assert_eq!(display_name(&m(json!({}))), None);
    }
}
