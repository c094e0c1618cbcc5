//! JSON Web Keys (RFC 7517), JWK Sets and JWK thumbprints (RFC 7638).

use std::fmt;

use aws_lc_rs::digest;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::b64;
use crate::error::JoseError;
use crate::json::{UniqueMap, parse_object, take_secret, take_string, take_string_array};
use crate::untrusted::untrusted;

/// A JWK's JSON text may be at most this many bytes.
pub const MAX_JWK_BYTES: usize = 16 * 1024;
/// A JWK Set's JSON text may be at most this many bytes.
pub const MAX_JWKS_BYTES: usize = 1024 * 1024;
/// A JWK Set may hold at most this many keys.
pub const MAX_JWKS_KEYS: usize = 100;

const PART: &str = "JWK";

/// Member names modelled as fields of [`Jwk`]; everything else lands in [`Jwk::extra`].
const MODELLED: [&str; 21] = [
    "kty", "kid", "use", "alg", "key_ops", "crv", "n", "e", "x", "y", "x5u", "x5c", "x5t",
    "x5t#S256", "d", "p", "q", "dp", "dq", "qi", "k",
];

/// A JSON Web Key as parsed (RFC 7517). Members that are not modelled are kept in `extra` so
/// nothing is lost on a round trip. Private members are held in `Zeroizing` strings and are
/// redacted from `Debug`.
///
/// Deserializing refuses duplicate member names (RFC 7517 §4). Serializing writes the modelled
/// members first; an `extra` entry whose name collides with a modelled member is skipped.
#[derive(Clone, Default)]
pub struct Jwk {
    /// Key type: "RSA", "EC", "OKP", "oct" (RFC 7517 §4.1).
    pub kty: String,
    /// Key ID (RFC 7517 §4.5).
    pub kid: Option<String>,
    /// Public key use: "sig" or "enc" (RFC 7517 §4.2).
    pub use_: Option<String>,
    /// Algorithm the key is intended for (RFC 7517 §4.4).
    pub alg: Option<String>,
    /// Permitted operations (RFC 7517 §4.3).
    pub key_ops: Option<Vec<String>>,
    /// Curve: "P-256", "P-384", "P-521" (RFC 7518 §6.2.1.1), "Ed25519" (RFC 8037 §2).
    pub crv: Option<String>,
    /// RSA modulus (RFC 7518 §6.3.1.1).
    pub n: Option<String>,
    /// RSA public exponent (RFC 7518 §6.3.1.2).
    pub e: Option<String>,
    /// EC / OKP x coordinate or public key (RFC 7518 §6.2.1.2, RFC 8037 §2).
    pub x: Option<String>,
    /// EC y coordinate (RFC 7518 §6.2.1.3).
    pub y: Option<String>,
    /// X.509 URL (RFC 7517 §4.6).
    pub x5u: Option<String>,
    /// X.509 certificate chain, standard base64 DER (RFC 7517 §4.7).
    pub x5c: Option<Vec<String>>,
    /// X.509 SHA-1 thumbprint (RFC 7517 §4.8).
    pub x5t: Option<String>,
    /// X.509 SHA-256 thumbprint, member "x5t#S256" (RFC 7517 §4.9).
    pub x5t_s256: Option<String>,
    /// EC / OKP private key, or RSA private exponent (RFC 7518 §6.2.2.1, §6.3.2.1).
    pub d: Option<Zeroizing<String>>,
    /// RSA first prime factor (RFC 7518 §6.3.2.2).
    pub p: Option<Zeroizing<String>>,
    /// RSA second prime factor (RFC 7518 §6.3.2.3).
    pub q: Option<Zeroizing<String>>,
    /// RSA first factor CRT exponent (RFC 7518 §6.3.2.4).
    pub dp: Option<Zeroizing<String>>,
    /// RSA second factor CRT exponent (RFC 7518 §6.3.2.5).
    pub dq: Option<Zeroizing<String>>,
    /// RSA first CRT coefficient (RFC 7518 §6.3.2.6).
    pub qi: Option<Zeroizing<String>>,
    /// Symmetric key value (RFC 7518 §6.4.1).
    pub k: Option<Zeroizing<String>>,
    /// Every other member, e.g. "oth" (RSA other primes, private) or vendor extensions.
    pub extra: Map<String, Value>,
}

impl Jwk {
    /// Parses one JWK from JSON text of at most [`MAX_JWK_BYTES`].
    ///
    /// # Errors
    /// [`JoseError::TooLarge`], [`JoseError::Malformed`], [`JoseError::MissingMember`] (`kty`).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, JoseError> {
        if bytes.len() > MAX_JWK_BYTES {
            return Err(JoseError::TooLarge {
                what: "JWK",
                max: MAX_JWK_BYTES,
            });
        }
        Self::from_map(parse_object(bytes, PART)?)
    }

    /// Parses one JWK from JSON text; see [`Jwk::from_slice`].
    ///
    /// # Errors
    /// As [`Jwk::from_slice`].
    pub fn from_json(json: &str) -> Result<Self, JoseError> {
        Self::from_slice(json.as_bytes())
    }

    /// A JWK from an already parsed JSON object, e.g. a JWS header's `jwk` (RFC 7515 §4.1.3);
    /// checked as [`Jwk::from_slice`] checks one.
    ///
    /// # Errors
    /// [`JoseError::Malformed`], [`JoseError::MissingMember`] (`kty`).
    pub fn from_object(m: Map<String, Value>) -> Result<Self, JoseError> {
        Self::from_map(m)
    }

    pub(crate) fn from_map(mut m: Map<String, Value>) -> Result<Self, JoseError> {
        let kty =
            take_string(&mut m, "kty", PART)?.ok_or(JoseError::MissingMember { member: "kty" })?;
        Ok(Jwk {
            kty,
            kid: take_string(&mut m, "kid", PART)?,
            use_: take_string(&mut m, "use", PART)?,
            alg: take_string(&mut m, "alg", PART)?,
            key_ops: take_string_array(&mut m, "key_ops", PART)?,
            crv: take_string(&mut m, "crv", PART)?,
            n: take_string(&mut m, "n", PART)?,
            e: take_string(&mut m, "e", PART)?,
            x: take_string(&mut m, "x", PART)?,
            y: take_string(&mut m, "y", PART)?,
            x5u: take_string(&mut m, "x5u", PART)?,
            x5c: take_string_array(&mut m, "x5c", PART)?,
            x5t: take_string(&mut m, "x5t", PART)?,
            x5t_s256: take_string(&mut m, "x5t#S256", PART)?,
            d: take_secret(&mut m, "d", PART)?,
            p: take_secret(&mut m, "p", PART)?,
            q: take_secret(&mut m, "q", PART)?,
            dp: take_secret(&mut m, "dp", PART)?,
            dq: take_secret(&mut m, "dq", PART)?,
            qi: take_secret(&mut m, "qi", PART)?,
            k: take_secret(&mut m, "k", PART)?,
            extra: m,
        })
    }

    /// The RFC 7638 JWK thumbprint with SHA-256, base64url-encoded.
    ///
    /// RFC 7638 §3: the JSON object holds only the required members of the key type (RSA: e, kty,
    /// n; EC: crv, kty, x, y; oct: k, kty; OKP per RFC 8037 §2: crv, kty, x), in lexicographic
    /// order, with no whitespace, hashed as UTF-8.
    ///
    /// # Errors
    /// [`JoseError::MissingMember`], [`JoseError::UnsupportedKeyType`].
    pub fn thumbprint_sha256(&self) -> Result<String, JoseError> {
        fn req<'a>(v: &'a Option<String>, member: &'static str) -> Result<&'a str, JoseError> {
            v.as_deref().ok_or(JoseError::MissingMember { member })
        }
        let members: Vec<(&str, &str)> = match self.kty.as_str() {
            "RSA" => vec![
                ("e", req(&self.e, "e")?),
                ("kty", "RSA"),
                ("n", req(&self.n, "n")?),
            ],
            "EC" => vec![
                ("crv", req(&self.crv, "crv")?),
                ("kty", "EC"),
                ("x", req(&self.x, "x")?),
                ("y", req(&self.y, "y")?),
            ],
            "OKP" => vec![
                ("crv", req(&self.crv, "crv")?),
                ("kty", "OKP"),
                ("x", req(&self.x, "x")?),
            ],
            "oct" => vec![
                (
                    "k",
                    self.k
                        .as_deref()
                        .map(String::as_str)
                        .ok_or(JoseError::MissingMember { member: "k" })?,
                ),
                ("kty", "oct"),
            ],
            other => return Err(JoseError::UnsupportedKeyType(untrusted(other))),
        };
        // Zeroizing: for "oct" the canonical form contains the secret.
        let mut canonical = Zeroizing::new(String::from("{"));
        for (i, (name, value)) in members.iter().enumerate() {
            if i > 0 {
                canonical.push(',');
            }
            push_json_string(&mut canonical, name);
            canonical.push(':');
            push_json_string(&mut canonical, value);
        }
        canonical.push('}');
        Ok(b64::encode(
            digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref(),
        ))
    }

    /// A copy without private members (d, p, q, dp, dq, qi, oth, k). For an "oct" key nothing
    /// of the key remains.
    #[must_use]
    pub fn to_public(&self) -> Jwk {
        let mut public = self.clone();
        public.d = None;
        public.p = None;
        public.q = None;
        public.dp = None;
        public.dq = None;
        public.qi = None;
        public.k = None;
        public.extra.remove("oth");
        public
    }

    /// Whether any private member (d, p, q, dp, dq, qi, oth, k) is present.
    #[must_use]
    pub fn is_private(&self) -> bool {
        self.d.is_some()
            || self.p.is_some()
            || self.q.is_some()
            || self.dp.is_some()
            || self.dq.is_some()
            || self.qi.is_some()
            || self.k.is_some()
            || self.extra.contains_key("oth")
    }
}

/// Appends `s` as a JSON string. RFC 7638 §3.3: characters are escaped as in RFC 7159, and the
/// values hashed here (base64url, registered names) never need escaping anyway.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const REDACTED: &str = "<redacted>";
        let mut d = f.debug_struct("Jwk");
        d.field("kty", &self.kty);
        d.field("kid", &self.kid);
        d.field("use", &self.use_);
        d.field("alg", &self.alg);
        d.field("key_ops", &self.key_ops);
        d.field("crv", &self.crv);
        d.field("n", &self.n);
        d.field("e", &self.e);
        d.field("x", &self.x);
        d.field("y", &self.y);
        d.field("x5c_len", &self.x5c.as_ref().map(Vec::len));
        d.field("x5t#S256", &self.x5t_s256);
        for (name, value) in [
            ("d", &self.d),
            ("p", &self.p),
            ("q", &self.q),
            ("dp", &self.dp),
            ("dq", &self.dq),
            ("qi", &self.qi),
            ("k", &self.k),
        ] {
            if value.is_some() {
                d.field(name, &REDACTED);
            }
        }
        // Names only: an unmodelled member (e.g. "oth") may be private.
        d.field("extra", &self.extra.keys().collect::<Vec<_>>());
        d.finish()
    }
}

impl Serialize for Jwk {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("kty", &self.kty)?;
        let strings = [("kid", &self.kid), ("use", &self.use_), ("alg", &self.alg)];
        for (name, value) in strings {
            if let Some(v) = value {
                m.serialize_entry(name, v)?;
            }
        }
        if let Some(ops) = &self.key_ops {
            m.serialize_entry("key_ops", ops)?;
        }
        let strings = [
            ("crv", &self.crv),
            ("n", &self.n),
            ("e", &self.e),
            ("x", &self.x),
            ("y", &self.y),
            ("x5u", &self.x5u),
        ];
        for (name, value) in strings {
            if let Some(v) = value {
                m.serialize_entry(name, v)?;
            }
        }
        if let Some(chain) = &self.x5c {
            m.serialize_entry("x5c", chain)?;
        }
        for (name, value) in [("x5t", &self.x5t), ("x5t#S256", &self.x5t_s256)] {
            if let Some(v) = value {
                m.serialize_entry(name, v)?;
            }
        }
        for (name, value) in [
            ("d", &self.d),
            ("p", &self.p),
            ("q", &self.q),
            ("dp", &self.dp),
            ("dq", &self.dq),
            ("qi", &self.qi),
            ("k", &self.k),
        ] {
            if let Some(v) = value {
                m.serialize_entry(name, v.as_str())?;
            }
        }
        for (name, value) in &self.extra {
            if !MODELLED.contains(&name.as_str()) {
                m.serialize_entry(name, value)?;
            }
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Jwk {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = UniqueMap::deserialize(deserializer)?.0;
        Jwk::from_map(map).map_err(de::Error::custom)
    }
}

/// A JWK Set (RFC 7517 §5).
///
/// Parsing enforces [`MAX_JWKS_KEYS`] and skips members of "keys" that are not usable JWK
/// objects (not an object, a member of the wrong type, larger than [`MAX_JWK_BYTES`]):
/// RFC 7517 §5 "Implementations SHOULD ignore JWKs within a JWK Set that use "kty" (key type)
/// values that are not understood by them, that are missing required members, or for which
/// values are out of the supported ranges." Keys with an unknown `kty` are kept as `Jwk`
/// values; `VerifyingKey::from_jwk` refuses them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// Parses a JWK Set from JSON text of at most [`MAX_JWKS_BYTES`] holding at most
    /// [`MAX_JWKS_KEYS`] keys.
    ///
    /// # Errors
    /// [`JoseError::TooLarge`], [`JoseError::Malformed`].
    pub fn from_slice(bytes: &[u8]) -> Result<Self, JoseError> {
        if bytes.len() > MAX_JWKS_BYTES {
            return Err(JoseError::TooLarge {
                what: "JWK Set",
                max: MAX_JWKS_BYTES,
            });
        }
        serde_json::from_slice(bytes).map_err(|e| {
            if e.to_string().contains(TOO_MANY_KEYS) {
                JoseError::TooLarge {
                    what: "JWK Set keys",
                    max: MAX_JWKS_KEYS,
                }
            } else {
                JoseError::malformed("JWK Set", e.to_string())
            }
        })
    }

    /// Parses a JWK Set from JSON text; see [`JwkSet::from_slice`].
    ///
    /// # Errors
    /// As [`JwkSet::from_slice`].
    pub fn from_json(json: &str) -> Result<Self, JoseError> {
        Self::from_slice(json.as_bytes())
    }

    /// The keys whose `kid` equals `kid`.
    pub fn find<'a>(&'a self, kid: &'a str) -> impl Iterator<Item = &'a Jwk> + 'a {
        self.keys
            .iter()
            .filter(move |k| k.kid.as_deref() == Some(kid))
    }
}

const TOO_MANY_KEYS: &str = "too many keys in JWK Set";

impl<'de> Deserialize<'de> for JwkSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SetVisitor;
        impl<'de> Visitor<'de> for SetVisitor {
            type Value = JwkSet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JWK Set object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<JwkSet, A::Error> {
                let mut keys = None;
                while let Some(name) = access.next_key::<String>()? {
                    if name == "keys" {
                        if keys.is_some() {
                            return Err(de::Error::custom("duplicate member \"keys\""));
                        }
                        keys = Some(access.next_value_seed(KeysSeed)?);
                    } else {
                        access.next_value::<IgnoredAny>()?;
                    }
                }
                keys.map(|keys| JwkSet { keys })
                    .ok_or_else(|| de::Error::missing_field("keys"))
            }
        }
        deserializer.deserialize_map(SetVisitor)
    }
}

struct KeysSeed;

impl<'de> DeserializeSeed<'de> for KeysSeed {
    type Value = Vec<Jwk>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Jwk>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for KeysSeed {
    type Value = Vec<Jwk>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of JWKs")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Jwk>, A::Error> {
        let mut keys = Vec::new();
        let mut seen = 0usize;
        while let Some(Element(entry)) = seq.next_element::<Element>()? {
            seen = seen.saturating_add(1);
            if seen > MAX_JWKS_KEYS {
                return Err(de::Error::custom(TOO_MANY_KEYS));
            }
            if let Some(jwk) = entry.and_then(usable_jwk) {
                keys.push(jwk);
            }
        }
        Ok(keys)
    }
}

/// One entry of "keys": `Some` for an object with unique member names, `None` for anything
/// else (consumed and ignored).
struct Element(Option<Map<String, Value>>);

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ElementVisitor)
    }
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JWK")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Element, A::Error> {
        let mut map = Map::new();
        let mut duplicate = false;
        while let Some(name) = access.next_key::<String>()? {
            let value: Value = access.next_value()?;
            if map.contains_key(&name) {
                duplicate = true;
            } else {
                map.insert(name, value);
            }
        }
        Ok(Element((!duplicate).then_some(map)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Element(None))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Element, E> {
        Ok(Element(None))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Element, E> {
        Ok(Element(None))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Element, E> {
        Ok(Element(None))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Element, E> {
        Ok(Element(None))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Element, E> {
        Ok(Element(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Element, E> {
        Ok(Element(None))
    }
    fn visit_none<E: de::Error>(self) -> Result<Element, E> {
        Ok(Element(None))
    }
}

/// RFC 7517 §5: entries that are not usable JWKs are ignored rather than failing the set.
fn usable_jwk(map: Map<String, Value>) -> Option<Jwk> {
    let size = serde_json::to_vec(&map).map(|v| v.len()).ok()?;
    if size > MAX_JWK_BYTES {
        return None;
    }
    Jwk::from_map(map).ok()
}

#[cfg(test)]
#[path = "jwk_tests.rs"]
mod tests;
