//! A JSON object read for a few named members, without building the rest.
//!
//! A JWT's claims object carries a dozen or two members; a validator checks ten. Building a
//! `serde_json::Value` — or deserializing through serde's visitors — for every member costs more
//! than everything else an RS256 ID-token validation does besides the RSA operation. This reader
//! walks the text once: it checks the whole object against the JSON grammar (RFC 8259), hands
//! back the raw text of the wanted members and skips every other value without allocating.
//! Only the wanted members are decoded, by [`RawValue`], and anything but a plain string or a
//! plain unsigned integer is decoded by serde_json itself.
//!
//! Stricter than `serde_json::from_slice` into a struct in two documented ways: the text is
//! `&str`, so it is UTF-8 throughout (RFC 8259 §8.1), and values nest at most [`MAX_DEPTH`]
//! deep. A wanted member that appears twice is refused (RFC 7519 §4 lets a parser reject
//! duplicate claim names); other members may repeat, as serde lets them.

use std::borrow::Cow;

use serde_json::Value;

/// How deep arrays and objects may nest inside the object (the object itself not counted).
pub const MAX_DEPTH: u32 = 127;

/// Why the text was refused. Never quotes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MembersError {
    /// Not JSON, or not one object: where, and which rule.
    #[error("not a JSON object: {reason} (byte {offset})")]
    Syntax {
        /// Byte offset of the refusal in the text.
        offset: usize,
        /// The rule the text broke.
        reason: &'static str,
    },
    /// A wanted member appears twice.
    #[error("member {name:?} appears twice")]
    Duplicate {
        /// Its name.
        name: &'static str,
    },
}

fn fail<T>(offset: usize, reason: &'static str) -> Result<T, MembersError> {
    Err(MembersError::Syntax { offset, reason })
}

/// The text of one member's value as it appears in the object, its grammar already checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawValue<'a> {
    text: &'a str,
    /// A string holding a backslash escape (known from the scan, so not searched again).
    escaped: bool,
}

impl<'a> RawValue<'a> {
    /// The value's JSON text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// `null`.
    pub fn is_null(&self) -> bool {
        self.text == "null"
    }

    /// A JSON number.
    pub fn is_number(&self) -> bool {
        matches!(self.text.as_bytes().first(), Some(b'-' | b'0'..=b'9'))
    }

    /// The string, unescaped, or `None` when the value is not a string.
    ///
    /// # Errors
    /// An escape serde_json refuses to decode (an unpaired UTF-16 surrogate).
    pub fn string(&self) -> Result<Option<Cow<'a, str>>, MembersError> {
        let Some(inner) = self
            .text
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
        else {
            return Ok(None);
        };
        if !self.escaped {
            return Ok(Some(Cow::Borrowed(inner)));
        }
        serde_json::from_str::<String>(self.text)
            .map(|s| Some(Cow::Owned(s)))
            .or_else(|_| fail(0, "string escape does not decode"))
    }

    /// An unsigned integer written as plain digits that fits `u64`; `None` for anything else
    /// (a sign, a fraction or an exponent, a larger number, not a number).
    pub fn plain_u64(&self) -> Option<u64> {
        if self.text.bytes().all(|b| b.is_ascii_digit()) {
            self.text.parse().ok()
        } else {
            None
        }
    }

    /// The value decoded by serde_json, for everything the shortcuts above do not cover.
    ///
    /// # Errors
    /// What serde_json refuses in a value the grammar allows (an unpaired surrogate escape).
    pub fn value(&self) -> Result<Value, MembersError> {
        serde_json::from_str(self.text).or_else(|_| fail(0, "value does not decode"))
    }
}

/// What [`object_members`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Members<'a, const N: usize> {
    /// The raw value of each wanted member, in the order of the names; `None` where absent.
    pub wanted: [Option<RawValue<'a>>; N],
    /// How many other members the object has.
    pub others: usize,
}

/// Reads `text` as one JSON object (surrounding whitespace allowed) and returns the raw value of
/// each member named in `names`.
///
/// # Errors
/// The text is not exactly one JSON object, breaks the grammar anywhere (also inside members
/// that are not wanted), nests deeper than [`MAX_DEPTH`], or names a wanted member twice.
pub fn object_members<'a, const N: usize>(
    text: &'a str,
    names: &[&'static str; N],
) -> Result<Members<'a, N>, MembersError> {
    let b = text.as_bytes();
    let mut out = Members {
        wanted: [None; N],
        others: 0,
    };
    let mut i = skip_ws(b, 0);
    if at(b, i) != Some(b'{') {
        return fail(i, "not a JSON object");
    }
    i = skip_ws(b, i + 1);
    if at(b, i) == Some(b'}') {
        return finish(b, i + 1, out);
    }
    loop {
        let (name_end, escaped) = string(b, i)?;
        let name = text.get(i..name_end).unwrap_or_default();
        i = colon(b, name_end)?;
        let start = i;
        // A string, the usual value, is scanned here: its escape flag comes along.
        let value_escaped;
        (i, value_escaped) = match at(b, i) {
            Some(b'"') => string(b, i)?,
            _ => (value(b, i)?, false),
        };
        if let Some(slot) = wanted(name, escaped, names, start)? {
            let raw = RawValue {
                text: text.get(start..i).unwrap_or_default(),
                escaped: value_escaped,
            };
            match (out.wanted.get_mut(slot), names.get(slot)) {
                (Some(Some(_)), Some(name)) => return Err(MembersError::Duplicate { name }),
                (Some(empty), _) => *empty = Some(raw),
                (None, _) => {}
            }
        } else {
            out.others += 1;
        }
        i = skip_ws(b, i);
        match at(b, i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return finish(b, i + 1, out),
            _ => return fail(i, "expected ',' or '}' after a member"),
        }
    }
}

/// Which of `names` the quoted member name `quoted` is, comparing unescaped names.
fn wanted<const N: usize>(
    quoted: &str,
    escaped: bool,
    names: &[&'static str; N],
    offset: usize,
) -> Result<Option<usize>, MembersError> {
    if !escaped {
        let bare = quoted
            .get(1..quoted.len().saturating_sub(1))
            .unwrap_or_default()
            .as_bytes();
        // Length and first byte before the bytes: most names differ in one of them.
        return Ok(names.iter().position(|n| {
            let n = n.as_bytes();
            n.len() == bare.len() && n.first() == bare.first() && n == bare
        }));
    }
    // RFC 8259 §8.3: names compare after escapes are decoded ("i\u0073s" is "iss").
    match serde_json::from_str::<String>(quoted) {
        Ok(name) => Ok(names.iter().position(|n| *n == name)),
        Err(_) => fail(offset, "member name escape does not decode"),
    }
}

fn finish<T>(b: &[u8], i: usize, out: T) -> Result<T, MembersError> {
    let end = skip_ws(b, i);
    if end == b.len() {
        Ok(out)
    } else {
        fail(end, "characters after the object")
    }
}

fn at(b: &[u8], i: usize) -> Option<u8> {
    b.get(i).copied()
}

/// RFC 8259 §2: insignificant whitespace is space, tab, line feed and carriage return.
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(at(b, i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// After a member name: whitespace, ':', whitespace; returns where the value starts.
fn colon(b: &[u8], i: usize) -> Result<usize, MembersError> {
    let i = skip_ws(b, i);
    if at(b, i) == Some(b':') {
        Ok(skip_ws(b, i + 1))
    } else {
        fail(i, "expected ':' after a member name")
    }
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// High bit set in each byte of `w` that is zero (exact for the lowest such byte).
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// Index of the first byte at or after `i` that is '"', '\\' or a control character.
fn next_special(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        // Bytes below 0x20: subtracting 0x20 borrows into the high bit (exact for the lowest).
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
        let hits =
            control | zero_bytes(w ^ (ONES * u64::from(b'"'))) | zero_bytes(w ^ (ONES * 0x5c));
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(c) = at(b, i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

/// A string starting at `i` (which holds '"'): the index after its closing quote, and whether
/// it holds an escape.
fn string(b: &[u8], i: usize) -> Result<(usize, bool), MembersError> {
    if at(b, i) != Some(b'"') {
        return fail(i, "expected a string");
    }
    let mut escaped = false;
    let mut j = i + 1;
    loop {
        j = next_special(b, j);
        match at(b, j) {
            Some(b'"') => return Ok((j + 1, escaped)),
            Some(b'\\') => {
                escaped = true;
                j = escape(b, j + 1)?;
            }
            Some(_) => return fail(j, "control character in a string"),
            None => return fail(j, "unterminated string"),
        }
    }
}

/// RFC 8259 §7: the escape after a backslash at `i - 1`; returns the index after it.
fn escape(b: &[u8], i: usize) -> Result<usize, MembersError> {
    match at(b, i) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 1),
        Some(b'u') => match b.get(i + 1..i + 5) {
            Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => Ok(i + 5),
            _ => fail(i, "\\u needs four hex digits"),
        },
        _ => fail(i, "invalid escape"),
    }
}

fn digits(b: &[u8], mut i: usize) -> usize {
    while at(b, i).is_some_and(|c| c.is_ascii_digit()) {
        i += 1;
    }
    i
}

/// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
fn number(b: &[u8], mut i: usize) -> Result<usize, MembersError> {
    if at(b, i) == Some(b'-') {
        i += 1;
    }
    i = match at(b, i) {
        Some(b'0') => i + 1,
        Some(b'1'..=b'9') => digits(b, i + 1),
        _ => return fail(i, "invalid number"),
    };
    if at(b, i) == Some(b'.') {
        let end = digits(b, i + 1);
        if end == i + 1 {
            return fail(end, "a fraction needs a digit");
        }
        i = end;
    }
    if matches!(at(b, i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(at(b, i), Some(b'+' | b'-')) {
            i += 1;
        }
        let end = digits(b, i);
        if end == i {
            return fail(end, "an exponent needs a digit");
        }
        i = end;
    }
    Ok(i)
}

fn literal(b: &[u8], i: usize, word: &[u8]) -> Result<usize, MembersError> {
    if b.get(i..i + word.len()) == Some(word) {
        Ok(i + word.len())
    } else {
        fail(i, "invalid literal")
    }
}

/// Open containers, innermost in the lowest bit: 1 for an object, 0 for an array.
struct Stack {
    bits: u128,
    depth: u32,
}

/// One value starting at `i` (no leading whitespace), arrays and objects walked without
/// recursion; returns the index after it.
fn value(b: &[u8], mut i: usize) -> Result<usize, MembersError> {
    let mut open = Stack { bits: 0, depth: 0 };
    loop {
        i = match at(b, i) {
            Some(b'"') => string(b, i)?.0,
            Some(c @ (b'{' | b'[')) => match enter(b, i, c == b'{', &mut open)? {
                Entered::Empty(end) => end,
                Entered::ValueAt(start) => {
                    i = start;
                    continue;
                }
            },
            Some(b't') => literal(b, i, b"true")?,
            Some(b'f') => literal(b, i, b"false")?,
            Some(b'n') => literal(b, i, b"null")?,
            Some(b'-' | b'0'..=b'9') => number(b, i)?,
            _ => return fail(i, "expected a value"),
        };
        match after_value(b, i, &mut open)? {
            Entered::ValueAt(next) => i = next,
            Entered::Empty(end) => return Ok(end),
        }
    }
}

/// Where the walk goes next.
enum Entered {
    /// A complete value (`{}`, `[]`, or the outermost one closed): the index after it.
    Empty(usize),
    /// Where the next value starts (a container's first, or one after a ',').
    ValueAt(usize),
}

fn enter(b: &[u8], i: usize, object: bool, open: &mut Stack) -> Result<Entered, MembersError> {
    if open.depth >= MAX_DEPTH {
        return fail(i, "nested too deep");
    }
    let inner = skip_ws(b, i + 1);
    if at(b, inner) == Some(if object { b'}' } else { b']' }) {
        return Ok(Entered::Empty(inner + 1));
    }
    open.bits = (open.bits << 1) | u128::from(object);
    open.depth += 1;
    if object {
        let (name_end, _) = string(b, inner)?;
        Ok(Entered::ValueAt(colon(b, name_end)?))
    } else {
        Ok(Entered::ValueAt(inner))
    }
}

/// After a value ending at `i`: closes containers as their closers come; then either the next
/// value starts somewhere or the outermost value is complete.
fn after_value(b: &[u8], mut i: usize, open: &mut Stack) -> Result<Entered, MembersError> {
    while open.depth > 0 {
        i = skip_ws(b, i);
        let object = open.bits & 1 == 1;
        match at(b, i) {
            Some(b',') => {
                let next = skip_ws(b, i + 1);
                if !object {
                    return Ok(Entered::ValueAt(next));
                }
                let (name_end, _) = string(b, next)?;
                return colon(b, name_end).map(Entered::ValueAt);
            }
            Some(b'}') if object => {}
            Some(b']') if !object => {}
            _ => return fail(i, "expected ',' or the container's end"),
        }
        i += 1;
        open.bits >>= 1;
        open.depth -= 1;
    }
    Ok(Entered::Empty(i))
}

#[cfg(test)]
#[path = "members_tests.rs"]
mod tests;
