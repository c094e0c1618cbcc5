//! JSON object helpers shared by JWK and JWS header parsing.
//!
//! Objects are read into a `serde_json::Map` that refuses duplicate member names (RFC 7515 §4
//! and RFC 7517 §4: member names MUST be unique; RFC 7515 §5.2 step 4 lets a recipient reject
//! them, which is the safe choice), then typed members are *moved* out of the map, so a
//! private-key string is never copied before it is wrapped in `Zeroizing`.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::error::JoseError;
use crate::untrusted::untrusted;

/// A JSON object whose top-level member names are unique.
pub(crate) struct UniqueMap(pub(crate) Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UniqueMap, A::Error> {
                let mut map = Map::new();
                while let Some(key) = access.next_key::<String>()? {
                    if map.contains_key(&key) {
                        return Err(de::Error::custom(format_args!(
                            "duplicate member {:?}",
                            untrusted(&key)
                        )));
                    }
                    let value: Value = access.next_value()?;
                    map.insert(key, value);
                }
                Ok(UniqueMap(map))
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// Parses `bytes` as one JSON object with unique member names.
pub(crate) fn parse_object(
    bytes: &[u8],
    part: &'static str,
) -> Result<Map<String, Value>, JoseError> {
    serde_json::from_slice::<UniqueMap>(bytes)
        .map(|m| m.0)
        // serde_json messages name the position and the expected type, never the input text.
        .map_err(|e| JoseError::malformed(part, e.to_string()))
}

fn wrong_type(part: &'static str, member: &str, expected: &str) -> JoseError {
    JoseError::malformed(
        part,
        format!("member {:?} must be {expected}", untrusted(member)),
    )
}

/// Removes `member`; `null` counts as absent.
pub(crate) fn take_string(
    map: &mut Map<String, Value>,
    member: &str,
    part: &'static str,
) -> Result<Option<String>, JoseError> {
    match map.remove(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(part, member, "a string")),
    }
}

/// Removes a secret `member`, moving the string into `Zeroizing` without copying it.
pub(crate) fn take_secret(
    map: &mut Map<String, Value>,
    member: &str,
    part: &'static str,
) -> Result<Option<Zeroizing<String>>, JoseError> {
    match map.remove(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(Zeroizing::new(s))),
        Some(_) => Err(wrong_type(part, member, "a string")),
    }
}

/// Removes an array-of-strings `member`; `null` counts as absent.
pub(crate) fn take_string_array(
    map: &mut Map<String, Value>,
    member: &str,
    part: &'static str,
) -> Result<Option<Vec<String>>, JoseError> {
    match map.remove(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(wrong_type(part, member, "an array of strings")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(wrong_type(part, member, "an array of strings")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_rejected() {
        assert!(parse_object(br#"{"a":1,"a":2}"#, "test").is_err());
        assert!(parse_object(br#"{"a":1,"b":{"c":1}}"#, "test").is_ok());
    }

    #[test]
    fn non_objects_are_rejected() {
        for input in [
            &b"[]"[..],
            b"\"x\"",
            b"1",
            b"null",
            b"",
            b"{",
            b"{}x",
            b"\xff",
        ] {
            assert!(parse_object(input, "test").is_err(), "{input:?}");
        }
    }

    #[test]
    fn typed_members() {
        let mut m = parse_object(
            br#"{"s":"x","n":null,"a":["p","q"],"bad":5,"badarr":[1]}"#,
            "test",
        )
        .unwrap();
        assert_eq!(take_string(&mut m, "s", "t").unwrap().as_deref(), Some("x"));
        assert_eq!(take_string(&mut m, "n", "t").unwrap(), None);
        assert_eq!(take_string(&mut m, "missing", "t").unwrap(), None);
        assert_eq!(
            take_string_array(&mut m, "a", "t").unwrap(),
            Some(vec!["p".to_owned(), "q".to_owned()])
        );
        assert!(take_string(&mut m, "bad", "t").is_err());
        assert!(take_string_array(&mut m, "badarr", "t").is_err());
        assert!(m.is_empty());
    }
}
