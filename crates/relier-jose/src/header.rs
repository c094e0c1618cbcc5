//! The JOSE header (RFC 7515 §4), read in one pass: modelled members are typed as they arrive,
//! everything else goes to `extra`, and a repeated member name is refused (RFC 7515 §4: names
//! MUST be unique; §5.2 step 4 lets a recipient reject duplicates, the safe choice).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::JoseError;
use crate::members::{RawValue, object_members};
use crate::untrusted::untrusted;

/// What a header error names.
pub(crate) const HEADER: &str = "JWS header";

/// A JOSE header (RFC 7515 §4). Unmodelled parameters are kept in `extra`.
///
/// Deserializing refuses duplicate parameter names (RFC 7515 §4) and requires `alg` to be a
/// string; `null` counts as absent. Serializing skips absent members and any `extra` entry whose
/// name collides with a modelled member.
#[derive(Clone, Debug, Default)]
pub struct Header {
    /// Algorithm (RFC 7515 §4.1.1). Informational only: verification uses the caller's pinned
    /// algorithm and merely checks that this equals it.
    pub alg: String,
    /// Key ID (RFC 7515 §4.1.4).
    pub kid: Option<String>,
    /// Media type of the whole JWS (RFC 7515 §4.1.9), e.g. "JWT".
    pub typ: Option<String>,
    /// Content type of the payload (RFC 7515 §4.1.10).
    pub cty: Option<String>,
    /// Critical extensions (RFC 7515 §4.1.11); see [`crate::jws::check_crit`].
    pub crit: Option<Vec<String>>,
    /// Every other parameter.
    pub extra: Map<String, Value>,
}

impl Header {
    /// Parses the decoded header JSON.
    pub(crate) fn from_json(bytes: &[u8]) -> Result<Self, JoseError> {
        if let Some(header) = Self::plain(bytes) {
            return Ok(header);
        }
        // serde_json messages name the position and the expected type, never the input text.
        serde_json::from_slice(bytes).map_err(|e| JoseError::malformed(HEADER, e.to_string()))
    }

    /// The usual header — `alg` and at most `kid`, `typ` and `cty`, all strings — read without
    /// building a `Value`. `None` for anything else (other members, `crit`, a wrong type, an
    /// error of any kind): the serde reader above then decides, so both agree by construction.
    fn plain(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let found = object_members(text, &["alg", "kid", "typ", "cty", "crit"]).ok()?;
        let [alg, kid, typ, cty, None] = found.wanted else {
            return None;
        };
        if found.others > 0 {
            return None;
        }
        /// `Some(None)` for absent or `null`, `None` for what is not a string.
        fn string_or_null(v: Option<RawValue<'_>>) -> Option<Option<String>> {
            match v {
                None => Some(None),
                Some(v) if v.is_null() => Some(None),
                Some(v) => Some(Some(v.string().ok()??.into_owned())),
            }
        }
        Some(Self {
            alg: string_or_null(alg)??,
            kid: string_or_null(kid)?,
            typ: string_or_null(typ)?,
            cty: string_or_null(cty)?,
            crit: None,
            extra: Map::new(),
        })
    }
}

impl Serialize for Header {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("alg", &self.alg)?;
        for (name, value) in [("kid", &self.kid), ("typ", &self.typ), ("cty", &self.cty)] {
            if let Some(v) = value {
                m.serialize_entry(name, v)?;
            }
        }
        if let Some(crit) = &self.crit {
            m.serialize_entry("crit", crit)?;
        }
        for (name, value) in &self.extra {
            if !matches!(name.as_str(), "alg" | "kid" | "typ" | "cty" | "crit") {
                m.serialize_entry(name, value)?;
            }
        }
        m.end()
    }
}

/// A member name, borrowed from the input when it holds no escapes.
struct Name<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

fn wrong_type<E: de::Error>(member: &str, expected: &str) -> E {
    E::custom(format_args!(
        "member {:?} must be {expected}",
        untrusted(member)
    ))
}

fn duplicate<E: de::Error>(member: &str) -> E {
    E::custom(format_args!("duplicate member {:?}", untrusted(member)))
}

/// Records `member` as seen; a second sighting is a duplicate.
fn first_time<E: de::Error>(seen: &mut u8, bit: u8, member: &str) -> Result<(), E> {
    if *seen & bit != 0 {
        return Err(duplicate(member));
    }
    *seen |= bit;
    Ok(())
}

fn string<E: de::Error>(v: Value, member: &str) -> Result<Option<String>, E> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(wrong_type(member, "a string")),
    }
}

impl<'de> Deserialize<'de> for Header {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Header;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Header, A::Error> {
                let mut h = Header::default();
                let mut alg = None;
                let mut seen = 0u8;
                while let Some(Name(name)) = access.next_key::<Name<'de>>()? {
                    let name = name.as_ref();
                    let bit = match name {
                        "alg" => 1,
                        "kid" => 2,
                        "typ" => 4,
                        "cty" => 8,
                        "crit" => 16,
                        _ => 0,
                    };
                    if bit == 0 {
                        if h.extra.contains_key(name) {
                            return Err(duplicate(name));
                        }
                        let value: Value = access.next_value()?;
                        h.extra.insert(name.to_owned(), value);
                        continue;
                    }
                    first_time(&mut seen, bit, name)?;
                    let value: Value = access.next_value()?;
                    match name {
                        "alg" => alg = string(value, name)?,
                        "kid" => h.kid = string(value, name)?,
                        "typ" => h.typ = string(value, name)?,
                        "cty" => h.cty = string(value, name)?,
                        _ => h.crit = string_array(value, name)?,
                    }
                }
                h.alg = alg.ok_or_else(|| de::Error::custom("missing \"alg\""))?;
                Ok(h)
            }
        }
        deserializer.deserialize_map(V)
    }
}

fn string_array<E: de::Error>(v: Value, member: &str) -> Result<Option<Vec<String>>, E> {
    match v {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(wrong_type(member, "an array of strings")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        _ => Err(wrong_type(member, "an array of strings")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain reader takes only what the serde reader reads the same way.
    #[test]
    fn the_plain_reader_agrees_with_the_full_one() {
        for text in [
            r#"{"alg":"RS256"}"#,
            r#" {"typ":"JWT", "alg":"PS256","kid":"k-1","cty":null} "#,
            r#"{"alg":"R\u0053256","kid":"\u00e9"}"#,
            r#"{"alg":"ES256","kid":7}"#,
            r#"{"alg":"ES256","crit":["b64"],"b64":false}"#,
            r#"{"alg":"ES256","x":1}"#,
            r#"{"kid":"k"}"#,
            r#"{"alg":null}"#,
            r#"{"alg":"a","typ":"b","typ":"c"}"#,
        ] {
            let full: Result<Header, _> = serde_json::from_str(text);
            match (Header::plain(text.as_bytes()), full) {
                (Some(plain), Ok(full)) => {
                    assert_eq!(format!("{plain:?}"), format!("{full:?}"), "{text}")
                }
                (Some(_), Err(e)) => panic!("{text}: plain accepts, full refuses: {e}"),
                (None, _) => {}
            }
        }
        assert!(Header::plain(br#"{"alg":"RS256","kid":"k","typ":"JWT"}"#).is_some());
    }

    #[test]
    fn members_typed_and_duplicates_refused() {
        let h = Header::from_json(br#"{"alg":"ES256","kid":null,"x":{"y":1}}"#).unwrap();
        assert_eq!(h.alg, "ES256");
        assert_eq!(h.kid, None);
        assert_eq!(h.extra.get("x"), Some(&serde_json::json!({"y":1})));
        // An escaped name is the same name (RFC 8259 §7).
        let h = Header::from_json(br#"{"\u0061lg":"RS256"}"#).unwrap();
        assert_eq!(h.alg, "RS256");
        for bad in [
            &br#"{"alg":"a","alg":"b"}"#[..],
            br#"{"alg":"a","kid":"\ud800"}"#,
            b"{\"alg\":\"a\xff\"}",
            br#"{"alg":"a","\u0061lg":"b"}"#,
            br#"{"alg":"a","kid":null,"kid":"k"}"#,
            br#"{"alg":"a","x":1,"x":1}"#,
            br#"{"kid":"a"}"#,
            br#"{"alg":5}"#,
            br#"{"alg":null}"#,
            br#"{"alg":"a","crit":"exp"}"#,
            br#"{"alg":"a","crit":[1]}"#,
            br#"["alg"]"#,
            b"",
        ] {
            assert!(
                Header::from_json(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
