//! The JSON object reader behind ID-token claims and JWS headers (`relier_jose::members`),
//! against serde_json on the same text.
//!
//! Invariants: a text the reader accepts, serde_json accepts too; a text serde_json accepts as
//! an object, the reader accepts unless a wanted member repeats or values nest deeper than
//! `MAX_DEPTH`; every wanted value it hands back is one JSON value, and its string and integer
//! shortcuts agree with serde_json's reading of it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_jose::members::{MembersError, object_members};
use serde::de::IgnoredAny;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let object = text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('{');
    let serde_ok = object && serde_json::from_str::<IgnoredAny>(text).is_ok();
    match object_members(text, &["a", "b", "iss", "aud"]) {
        Ok(found) => {
            assert!(serde_ok, "accepted what serde_json refuses");
            for v in found.wanted.into_iter().flatten() {
                let Ok(value) = v.value() else {
                    // serde_json builds no `Value` for an escape that is no text (an unpaired
                    // surrogate) or a number beyond f64's range, anywhere inside the value; the
                    // claims reader refuses such a registered claim, as the serde reader did.
                    // The text handed back must still be one whole JSON value.
                    assert!(
                        v.text().contains("\\u")
                            || serde_json::from_str::<IgnoredAny>(v.text()).is_ok(),
                        "a wanted value is not one JSON value"
                    );
                    continue;
                };
                if let Ok(Some(s)) = v.string() {
                    assert_eq!(value.as_str(), Some(&*s));
                }
                if let Some(u) = v.plain_u64() {
                    assert_eq!(value.as_u64(), Some(u));
                }
                assert_eq!(v.is_null(), value.is_null());
                assert_eq!(v.is_number(), value.is_number());
            }
        }
        Err(MembersError::Syntax { reason, .. }) if serde_ok => {
            assert_eq!(reason, "nested too deep", "refused what serde_json accepts");
        }
        Err(_) => {}
    }
});
