//! Request paths at the edge: which paths are refused outright, and every reading the next hop
//! may make of the rest.
//!
//! An access decision is only as good as its agreement with what the upstream will serve. The
//! gateway hands the upstream the path exactly as the client sent it, and upstreams read the
//! same bytes differently: Express, ASP.NET and IIS compare routes case-insensitively; IIS and
//! Windows drop trailing dots and spaces of a segment; Tomcat and Spring drop `;` parameters;
//! some decode `%2F` into a separator and some keep it inside a segment; some decode once, some
//! not at all. So:
//!
//! 1. [`check_canonical`]: paths that no browser sends — a `.` or `..` segment in any spelling
//!    (RFC 3986 §5.2.4 resolves them; browsers do so before sending), double encoding (a
//!    percent-escape that decodes into another escape), `\` or `%5C`, an encoded NUL or control
//!    character, `%uXXXX` (IIS), a decoded byte sequence that is not UTF-8 (overlong `%C0%AE`),
//!    a character browsers always encode (which the upstream client would encode too) —
//!    are refused (400 `non_canonical_path`) unless `allow_non_canonical_paths` is set.
//! 2. [`readings`]: the path's segments under each reading a server may make, compared
//!    case-insensitively (ASCII) with trailing dots and spaces of every segment ignored. A path is
//!    public only if *every* reading is under a `skip_auth` prefix; a rule applies if *any*
//!    reading is under its prefix ([`crate::access::PathRules`]).

use std::borrow::Cow;

/// Why a path is refused (for the log; the client sees `non_canonical_path`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NonCanonical {
    /// A `.` or `..` segment, in any spelling (RFC 3986 §5.2.4).
    DotSegment,
    /// A percent-escape that decodes into another escape (`%252e`, `%%32%65`).
    DoubleEncoding,
    /// `\` or `%5C`: a separator to Windows servers, a character to others.
    Backslash,
    /// An encoded NUL or control character (`%00`–`%1F`, `%7F`), or a raw byte outside visible
    /// ASCII.
    ControlCharacter,
    /// `%uXXXX`, IIS's non-standard escape.
    UnicodeEscape,
    /// Percent-escapes that do not decode to UTF-8 (`%C0%AE`, an overlong `.`).
    InvalidUtf8,
    /// Not an origin-form path (RFC 9112 §3.2.1): it must start with `/`.
    NotAbsolutePath,
    /// A character browsers always percent-encode in a path (the WHATWG URL path
    /// percent-encode set: `"`, `<`, `>`, `` ` ``, `{`, `}`), which the upstream client would
    /// encode before sending: refused, so the upstream gets the bytes the client sent.
    Unencoded,
}

impl NonCanonical {
    /// A short name for the log.
    pub fn as_str(self) -> &'static str {
        match self {
            NonCanonical::DotSegment => "dot segment",
            NonCanonical::DoubleEncoding => "double encoding",
            NonCanonical::Backslash => "backslash",
            NonCanonical::ControlCharacter => "control character",
            NonCanonical::UnicodeEscape => "%u escape",
            NonCanonical::InvalidUtf8 => "escapes that are not UTF-8",
            NonCanonical::NotAbsolutePath => "not an absolute path",
            NonCanonical::Unencoded => "a character browsers encode",
        }
    }
}

/// The path part of a request target (`/a/b?x#y` → `/a/b`).
pub fn path_of(target: &str) -> &str {
    target.split(['?', '#']).next().unwrap_or("")
}

/// Refuses a path (without query) that no browser sends (see the module docs).
pub fn check_canonical(path: &str) -> Result<(), NonCanonical> {
    if !path.starts_with('/') {
        return Err(NonCanonical::NotAbsolutePath);
    }
    let bytes = path.as_bytes();
    if bytes.iter().any(|b| !(0x21..0x7f).contains(b)) {
        return Err(NonCanonical::ControlCharacter);
    }
    if bytes.contains(&b'\\') {
        return Err(NonCanonical::Backslash);
    }
    if bytes
        .iter()
        .any(|b| matches!(b, b'"' | b'<' | b'>' | b'`' | b'{' | b'}'))
    {
        return Err(NonCanonical::Unencoded);
    }
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            if matches!(bytes.get(i + 1), Some(b'u' | b'U'))
                && bytes
                    .get(i + 2..i + 6)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
            {
                return Err(NonCanonical::UnicodeEscape);
            }
            if let Some(v) = hex_pair(bytes, i + 1) {
                if v < 0x20 || v == 0x7f {
                    return Err(NonCanonical::ControlCharacter);
                }
                if v == b'\\' {
                    return Err(NonCanonical::Backslash);
                }
                i += 3;
                continue;
            }
        }
        i += 1;
    }
    let decoded = decode(path, true);
    let Cow::Owned(decoded) = decoded else {
        // Nothing was escaped: a literal dot segment is the only thing left to find.
        return check_dot_segments(path);
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return Err(NonCanonical::InvalidUtf8);
    };
    if has_escape(decoded.as_bytes()) {
        return Err(NonCanonical::DoubleEncoding);
    }
    if decoded.contains('\\') {
        return Err(NonCanonical::Backslash);
    }
    check_dot_segments(&decoded)
}

/// A segment made only of dots (and, as Windows reads it, trailing spaces), with or without
/// `;` parameters, is a dot segment to some reader.
fn check_dot_segments(decoded: &str) -> Result<(), NonCanonical> {
    let dotty = |seg: &str| {
        let seg = seg.split(';').next().unwrap_or("");
        let seg = seg.trim_end_matches(' ');
        !seg.is_empty() && seg.bytes().all(|b| b == b'.')
    };
    if decoded.split('/').any(dotty) {
        return Err(NonCanonical::DotSegment);
    }
    Ok(())
}

/// The value of `%XY` at `bytes[at..at + 2]`.
fn hex_pair(bytes: &[u8], at: usize) -> Option<u8> {
    let h = (*bytes.get(at)? as char).to_digit(16)?;
    let l = (*bytes.get(at + 1)? as char).to_digit(16)?;
    u8::try_from(h * 16 + l).ok()
}

/// Whether `bytes` holds a percent-escape.
fn has_escape(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'%' && hex_pair(bytes, i + 1).is_some())
}

/// One round of percent-decoding. With `slash` false, `%2F` stays as it is (a character
/// inside a segment, as servers that split before decoding read it).
fn decode(s: &str, slash: bool) -> Cow<'_, [u8]> {
    let bytes = s.as_bytes();
    if !bytes.contains(&b'%') {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let Some(v) = hex_pair(bytes, i + 1)
            && (slash || v != b'/')
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    Cow::Owned(out)
}

/// How a server may read a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reading {
    /// Rounds of percent-decoding (0, 1, or until stable for lenient readers).
    decodes: u8,
    /// `%2F` decodes to a separator (else it stays inside its segment).
    slash: bool,
    /// `;` parameters dropped from each segment, and the path cut at a decoded `?` or `#`.
    params: bool,
    /// Empty segments (`//`) dropped.
    collapse: bool,
    /// `\` read as `/`.
    backslash: bool,
    /// `.` and `..` segments resolved (RFC 3986 §5.2.4).
    dots: bool,
}

/// Most rounds of decoding a lenient reader makes (`%25252e` → `.`).
const MAX_DECODES: u8 = 4;

/// The readings to consider: for a canonical path (no dots, backslashes or double encoding
/// can be present) the decoding and parameter variants; with `lenient` (paths were not checked)
/// also the dot, backslash and repeated-decoding variants.
fn reading_set(path: &str, lenient: bool) -> Vec<Reading> {
    let plain = Reading {
        decodes: 0,
        slash: false,
        params: false,
        collapse: false,
        backslash: false,
        dots: false,
    };
    let simple = !path
        .bytes()
        .any(|b| matches!(b, b'%' | b';') || (lenient && matches!(b, b'\\' | b'.')))
        && !path.contains("//");
    if simple {
        return vec![plain];
    }
    let decodes: &[u8] = if lenient {
        &[0, 1, MAX_DECODES]
    } else {
        &[0, 1]
    };
    let flags: &[bool] = &[false, true];
    let lenient_flags: &[bool] = if lenient { flags } else { &[false] };
    let mut out = Vec::new();
    for &decodes in decodes {
        let slashes: &[bool] = if decodes == 0 { &[false] } else { flags };
        for &slash in slashes {
            for &params in flags {
                for &collapse in flags {
                    for &backslash in lenient_flags {
                        for &dots in lenient_flags {
                            out.push(Reading {
                                decodes,
                                slash,
                                params,
                                collapse,
                                backslash,
                                dots,
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

/// The path's segments under one reading, lower-cased (ASCII) with trailing dots and spaces
/// dropped (a segment that is only dots keeps them: it is a dot segment, not a name). A reader
/// that decodes `%2F` into a separator decodes before splitting; one that does not splits
/// first and decodes each segment.
fn segments(path: &str, r: Reading) -> Vec<String> {
    let whole = if r.slash {
        decoded(path, r.decodes)
    } else {
        path.to_owned()
    };
    let whole = if r.backslash {
        whole.replace('\\', "/")
    } else {
        whole
    };
    let mut out: Vec<String> = Vec::new();
    for raw in whole.split('/').skip(1) {
        let seg = if r.slash {
            raw.to_owned()
        } else {
            decoded(raw, r.decodes)
        };
        // A decoded `?` or `#` ends the path for a reader that decodes before parsing.
        let cut = r.params && r.decodes > 0;
        let end = seg.find(['?', '#']).filter(|_| cut);
        let mut seg = seg.get(..end.unwrap_or(seg.len())).unwrap_or("");
        if r.params {
            seg = seg.split(';').next().unwrap_or("");
        }
        if r.dots && (seg == "." || seg == "..") {
            if seg == ".." {
                out.pop();
            }
        } else if !(r.collapse && seg.is_empty()) {
            out.push(fold(seg));
        }
        if end.is_some() {
            break;
        }
    }
    out
}

/// `s` after up to `rounds` rounds of percent-decoding (stopping once stable); bytes that are
/// not UTF-8 become U+FFFD, which no prefix holds.
fn decoded(s: &str, rounds: u8) -> String {
    let mut s = s.to_owned();
    for _ in 0..rounds {
        let next = String::from_utf8_lossy(&decode(&s, true)).into_owned();
        if next == s {
            break;
        }
        s = next;
    }
    s
}

/// Case-folded (ASCII) and without trailing dots and spaces, as Windows and IIS read a segment.
pub(crate) fn fold(seg: &str) -> String {
    let trimmed = seg.trim_end_matches(['.', ' ']);
    let seg = if trimmed.is_empty() { seg } else { trimmed };
    seg.to_ascii_lowercase()
}

/// A configured prefix's segments: canonical ([`check_canonical`]), decoded once, empty
/// segments dropped, folded as request segments are.
pub fn config_segments(prefix: &str) -> Option<Vec<String>> {
    check_canonical(prefix).ok()?;
    let decoded = String::from_utf8(decode(prefix, true).into_owned()).ok()?;
    Some(
        decoded
            .split('/')
            .filter(|s| !s.is_empty())
            .map(fold)
            .collect(),
    )
}

/// Every reading of `path` (without query) as segment lists; `lenient` adds the readings of
/// paths that [`check_canonical`] would refuse (`allow_non_canonical_paths`).
pub fn readings(path: &str, lenient: bool) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for r in reading_set(path, lenient) {
        let segs = segments(path, r);
        if !out.contains(&segs) {
            out.push(segs);
        }
    }
    out
}

#[cfg(test)]
mod tests;
