//! The reader against serde_json: the same texts accepted and refused (RFC 8259 grammar), and
//! the wanted members' text handed back exactly.

use super::*;
use serde::de::IgnoredAny;

/// What serde_json says about `text` as one object read for no member in particular.
fn serde_accepts(text: &str) -> bool {
    text.trim_start().starts_with('{') && serde_json::from_str::<IgnoredAny>(text).is_ok()
}

fn accepts(text: &str) -> bool {
    object_members(text, &[]).is_ok()
}

const VALID: &[&str] = &[
    "{}",
    " \t\n\r{ } \n",
    r#"{"a":1}"#,
    r#"{"a" : [ ] , "b" : { } }"#,
    r#"{"a":[1,-2,3.5,-0.0,1e5,1E-5,2.5e+10,0]}"#,
    r#"{"a":{"b":{"c":[true,false,null,"x"]}}}"#,
    r#"{"a":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"}"#,
    r#"{"a":"\ud800"}"#,
    r#"{"ünï":"cödé ✓","b":"\u0000"}"#,
    r#"{"a":1,"a":2}"#,
    r#"{"a":[[[[[]]]],{"b":[{},{"c":[]}]}]}"#,
];

const INVALID: &[&str] = &[
    "",
    "[]",
    r#""a""#,
    "{",
    "}",
    r#"{"a"}"#,
    r#"{"a":}"#,
    r#"{"a":1,}"#,
    r#"{,"a":1}"#,
    r#"{"a":1 "b":2}"#,
    r#"{a:1}"#,
    r#"{'a':1}"#,
    r#"{"a":01}"#,
    r#"{"a":1.}"#,
    r#"{"a":.5}"#,
    r#"{"a":1e}"#,
    r#"{"a":+1}"#,
    r#"{"a":-}"#,
    r#"{"a":tru}"#,
    r#"{"a":nul}"#,
    r#"{"a":True}"#,
    r#"{"a":[1,]}"#,
    r#"{"a":[1 2]}"#,
    r#"{"a":{"b"}}"#,
    r#"{"a":{"b":1,}}"#,
    r#"{"a":[}"#,
    r#"{"a":{]}"#,
    r#"{"a":"\x"}"#,
    r#"{"a":"\u12"}"#,
    r#"{"a":"\u12G4"}"#,
    "{\"a\":\"tab\there\"}",
    "{\"a\":\"line\nbreak\"}",
    r#"{"a":"unterminated}"#,
    r#"{"a":1}x"#,
    r#"{"a":1}{}"#,
    "{\"a\":1}\u{a0}",
    "\u{feff}{}",
];

#[test]
fn the_grammar_is_rfc_8259s_as_serde_json_reads_it() {
    for text in VALID {
        assert!(serde_accepts(text), "oracle refuses {text:?}");
        assert!(accepts(text), "refused {text:?}");
    }
    for text in INVALID {
        assert!(!serde_accepts(text), "oracle accepts {text:?}");
        assert!(!accepts(text), "accepted {text:?}");
    }
}

#[test]
fn wanted_members_come_back_as_written() {
    let text =
        r#"{ "iss" : "https://op" , "x":[1,{"iss":"inner"}], "exp":17, "aud":["a","b"] ,"n":null}"#;
    let found = object_members(text, &["iss", "exp", "aud", "n", "absent"]).unwrap();
    assert_eq!(found.others, 1);
    let [iss, exp, aud, n, absent] = found.wanted;
    assert_eq!(
        iss.unwrap().string().unwrap().as_deref(),
        Some("https://op")
    );
    assert_eq!(exp.unwrap().plain_u64(), Some(17));
    assert_eq!(aud.unwrap().text(), r#"["a","b"]"#);
    assert_eq!(aud.unwrap().value().unwrap(), serde_json::json!(["a", "b"]));
    assert!(n.unwrap().is_null());
    assert_eq!(absent, None);
}

#[test]
fn names_compare_after_unescaping_and_wanted_duplicates_are_refused() {
    let [iss] = object_members(r#"{"i\u0073s":"x"}"#, &["iss"])
        .unwrap()
        .wanted;
    assert_eq!(iss.unwrap().string().unwrap().as_deref(), Some("x"));
    assert_eq!(
        object_members(r#"{"iss":"x","i\u0073s":"y"}"#, &["iss"]),
        Err(MembersError::Duplicate { name: "iss" })
    );
    // A name whose escape does not decode to text is refused, as serde_json refuses it.
    assert!(object_members(r#"{"\udc00":1}"#, &["iss"]).is_err());
    // Unwanted members may repeat.
    assert!(object_members(r#"{"x":1,"x":2}"#, &["iss"]).is_ok());
}

#[test]
fn string_and_number_shortcuts() {
    let [s, e, big, frac, neg, word] = object_members(
        r#"{"s":"a\nb","e":"\ud800","big":18446744073709551616,"frac":1.5,"neg":-1,"word":true}"#,
        &["s", "e", "big", "frac", "neg", "word"],
    )
    .unwrap()
    .wanted;
    assert_eq!(s.unwrap().string().unwrap().as_deref(), Some("a\nb"));
    assert!(
        e.unwrap().string().is_err(),
        "an unpaired surrogate is not text"
    );
    assert_eq!(big.unwrap().plain_u64(), None);
    assert!(big.unwrap().is_number());
    assert_eq!(frac.unwrap().plain_u64(), None);
    assert_eq!(neg.unwrap().plain_u64(), None);
    assert_eq!(word.unwrap().string().unwrap(), None);
    assert!(!word.unwrap().is_number());
}

#[test]
fn every_position_of_a_special_byte_in_a_string_is_seen() {
    // The word-at-a-time search must find '"', '\\' and control bytes at every offset of a
    // word, and after any run of plain bytes, multibyte characters included.
    for len in 0..24 {
        for filler in ["a", "é", "✓"] {
            let plain = filler.repeat(len);
            let ok = format!(r#"{{"k":"{plain}","x":"{plain}\"{plain}"}}"#);
            assert!(accepts(&ok), "{ok:?}");
            let bad = format!("{{\"k\":\"{plain}\u{1f}{plain}\"}}");
            assert!(!accepts(&bad), "{bad:?}");
            let cut = format!(r#"{{"k":"{plain}"#);
            assert!(!accepts(&cut), "{cut:?}");
        }
    }
}

#[test]
fn nesting_is_walked_without_recursion_and_capped() {
    let depth = MAX_DEPTH as usize;
    let deep = format!(r#"{{"a":{}{}}}"#, "[".repeat(depth), "]".repeat(depth));
    assert!(accepts(&deep));
    let deeper = format!(
        r#"{{"a":{}{}}}"#,
        "[".repeat(depth + 1),
        "]".repeat(depth + 1)
    );
    assert!(!accepts(&deeper));
    // Far deeper than any stack would take: refused, not a crash.
    let huge = format!(r#"{{"a":{}"#, "[{\"b\":".repeat(100_000));
    assert!(!accepts(&huge));
}

/// Deterministic mutations of JSON texts: every one is judged the same by both readers.
#[test]
fn mutated_texts_are_judged_as_serde_json_judges_them() {
    const ALPHABET: &[u8] = b"{}[]\",:\\ -+.eE0123456789tfnulr\x01\n/ubx";
    let seeds = [
        r#"{"iss":"https://op.example","aud":["rp","x"],"exp":1700003600,"n":null,"f":-1.5e+3}"#,
        r#"{"a":{"b":[true,false,{"c":"\u00e9\n"}]},"d":"é✓","e":0}"#,
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut judged = 0;
    for round in 0..60_000 {
        let mut bytes = seeds[round % seeds.len()].as_bytes().to_vec();
        for _ in 0..=(next() % 3) {
            let at = (next() as usize) % (bytes.len() + 1);
            let c = ALPHABET[(next() as usize) % ALPHABET.len()];
            match next() % 3 {
                0 if at < bytes.len() => bytes[at] = c,
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, c),
            }
        }
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        judged += 1;
        assert_eq!(accepts(text), serde_accepts(text), "{text:?}");
    }
    assert!(judged > 50_000);
}
