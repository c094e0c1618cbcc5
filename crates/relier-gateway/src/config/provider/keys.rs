//! The keys of a `[[providers]]` table by kind: the names a kind's struct reads (taken from its
//! `Deserialize`, so no list is kept by hand), the table split by them, and the error that
//! names a key the table's kind does not take.

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

use relier::preset::Preset;

/// The keys (field names) the derived `Deserialize` of struct `T` reads.
pub(super) fn keys_of<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut names = Names(&[]);
    // The answer is always an error: only the field names are wanted.
    let _ = T::deserialize(&mut names);
    names.0
}

/// A deserializer that records the field names a struct asks for, and gives nothing.
struct Names(&'static [&'static str]);

impl<'de> Deserializer<'de> for &mut Names {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = fields;
        Err(de::Error::custom("names only"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The entries of `table` named in `keys`, taken out of it.
pub(super) fn take(table: &mut toml::Table, keys: &[&str]) -> toml::Table {
    keys.iter()
        .filter_map(|k| table.remove(*k).map(|v| ((*k).to_owned(), v)))
        .collect()
}

/// `T` read from `table` (its own `deny_unknown_fields` still applies).
pub(super) fn read<T: DeserializeOwned>(table: toml::Table) -> Result<T, String> {
    read_value(toml::Value::Table(table))
}

/// `T` read from `value`; an error names the key whose value it is (toml says "in `key`").
pub(super) fn read_value<T: DeserializeOwned>(value: toml::Value) -> Result<T, String> {
    value.try_into().map_err(|e: toml::de::Error| {
        e.to_string()
            .trim()
            .replace("\nin `", " in `")
            .replace('\n', "; ")
    })
}

/// A key the table's kind of provider does not take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown field `{key}` ({}), expected one of {}", why(.key, .belongs_to, .kind), quoted(.expected))]
#[non_exhaustive]
pub struct UnknownKey {
    /// The key.
    pub key: String,
    /// What the table is (`an inline provider`, `preset = "github"`, …) and why the key does
    /// not apply to it.
    pub kind: &'static str,
    /// The preset whose key it is, when it is one preset's only.
    pub belongs_to: Option<Preset>,
    /// Every key the kind takes.
    pub expected: Vec<&'static str>,
}

fn why(key: &str, belongs_to: &Option<Preset>, kind: &str) -> String {
    match belongs_to {
        Some(preset) => format!("{key} goes with preset = \"{preset}\"; this is {kind}"),
        None => kind.to_owned(),
    }
}

fn quoted(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
