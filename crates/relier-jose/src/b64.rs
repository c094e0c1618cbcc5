//! base64url without padding (RFC 7515 §2 "Base64url Encoding", RFC 4648 §5).
//!
//! Decoding is strict: padding, characters outside the URL-safe alphabet (including
//! whitespace) and non-canonical trailing bits are all rejected.
//!
//! The work is done by `base64-simd` (vectorised where the CPU allows, chosen at run time): on
//! a compact ID token the three decodes were a third of relier's own cost over the signature
//! check (docs/benchmarks.md). It accepts exactly what the `base64` crate's strict engine
//! accepts (a test below holds them to that); the `base64` crate only explains a refusal.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as DIAGNOSE;
use base64_simd::URL_SAFE_NO_PAD;

use crate::error::JoseError;

/// Encodes `data` as base64url without padding.
#[must_use]
pub fn encode(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode_to_string(data)
}

/// Appends the base64url encoding of `data` (no padding) to `out`.
pub fn encode_into(data: &[u8], out: &mut String) {
    URL_SAFE_NO_PAD.encode_append(data, out);
}

/// Decodes base64url without padding; rejects `=`, characters outside the alphabet and
/// non-canonical encodings.
///
/// # Errors
/// [`JoseError::Malformed`] with `part` "base64url".
pub fn decode(s: &str) -> Result<Vec<u8>, JoseError> {
    decode_part(s, "base64url")
}

/// Like [`decode`], naming what was decoded in the error.
pub(crate) fn decode_part(s: &str, part: &'static str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode_to_vec(s)
        .map_err(|_| JoseError::malformed(part, refusal(s)))
}

/// Like [`decode_part`], into `buf` instead of a new vector (a JWS header is decoded, read and
/// dropped: no allocation for it); `Ok(None)` when `buf` might be too short for `s`.
pub(crate) fn decode_part_into<'b>(
    s: &str,
    part: &'static str,
    buf: &'b mut [u8],
) -> Result<Option<&'b [u8]>, JoseError> {
    // Unpadded base64url: every 4 characters give 3 bytes, a final 2 or 3 give 1 or 2.
    if (s.len() / 4) * 3 + 2 > buf.len() {
        return Ok(None);
    }
    URL_SAFE_NO_PAD
        .decode(s.as_bytes(), base64_simd::Out::from_slice(buf))
        .map(|decoded| Some(&*decoded))
        .map_err(|_| JoseError::malformed(part, refusal(s)))
}

/// Why `s` is not strict base64url: the `base64` crate's diagnosis. The reason never echoes
/// the offending byte: the input may be a private key member.
#[cold]
fn refusal(s: &str) -> String {
    match DIAGNOSE.decode(s) {
        // Not expected (both refuse the same inputs); still an answer, not a panic.
        Ok(_) => "not canonical base64url".to_owned(),
        Err(e) => match e {
            base64::DecodeError::InvalidByte(offset, b'=') => {
                format!("padding is not allowed (offset {offset})")
            }
            base64::DecodeError::InvalidByte(offset, _) => {
                format!("character outside the base64url alphabet at offset {offset}")
            }
            base64::DecodeError::InvalidLength(_) => "invalid length".to_owned(),
            base64::DecodeError::InvalidLastSymbol(offset, _) => {
                format!("non-canonical final character at offset {offset}")
            }
            base64::DecodeError::InvalidPadding => "padding is not allowed".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for len in 0..70 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let enc = encode(&data);
            assert!(!enc.contains('='));
            assert!(!enc.contains('+'));
            assert!(!enc.contains('/'));
            assert_eq!(decode(&enc).unwrap(), data);
        }
    }

    #[test]
    fn known_values() {
        // RFC 4648 §10 test vectors, unpadded.
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"f"), "Zg");
        assert_eq!(encode(b"fo"), "Zm8");
        assert_eq!(encode(b"foo"), "Zm9v");
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode("-_8").unwrap(), vec![0xfb, 0xff]);
    }

    #[test]
    fn rejects_padding_and_foreign_characters() {
        assert!(decode("Zg==").is_err());
        assert!(decode("Zm8=").is_err());
        assert!(decode("+/8").is_err());
        assert!(decode("Zm9v Zg").is_err());
        assert!(decode("Zm9v\n").is_err());
        assert!(decode("Z").is_err());
        assert!(decode("é").is_err());
        // Non-canonical: "Zh" decodes to 'f' with non-zero trailing bits.
        assert!(decode("Zh").is_err());
    }

    /// The fast decoder accepts exactly what the `base64` crate's strict engine accepts, with
    /// the same bytes: every string of up to 4 symbols over an alphabet with the edge cases
    /// (trailing bits, padding, the standard alphabet's `+`/`/`, whitespace, non-ASCII), and
    /// longer pseudo-random ones around the vector paths' block sizes.
    #[test]
    fn accepts_exactly_what_the_strict_engine_accepts() {
        let symbols: Vec<&str> = vec![
            "A", "Q", "g", "w", "_", "-", "8", "9", "+", "/", "=", " ", "\n", "é", "\0",
        ];
        let check = |s: &str| {
            assert_eq!(
                URL_SAFE_NO_PAD.decode_to_vec(s).ok(),
                DIAGNOSE.decode(s).ok(),
                "{s:?}"
            );
            // Into the shortest buffer decode_part_into takes: the same bytes, no panic.
            let mut buf = vec![0u8; s.len() / 4 * 3 + 2];
            let into = decode_part_into(s, "t", &mut buf).map(|d| d.map(<[u8]>::to_vec));
            assert_eq!(into.ok().flatten(), DIAGNOSE.decode(s).ok(), "{s:?}");
            assert!(matches!(decode_part_into(s, "t", &mut buf[1..]), Ok(None)));
        };
        let mut strings = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for s in &strings {
                for sym in &symbols {
                    let t = format!("{s}{sym}");
                    check(&t);
                    next.push(t);
                }
            }
            strings = next;
        }
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in 0..300 {
            for flip in [None, Some(b'='), Some(b'+'), Some(b' '), Some(b'.')] {
                let mut s: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        alphabet[(x % 64) as usize]
                    })
                    .collect();
                if let (Some(b), Some(last)) = (flip, s.len().checked_sub(1)) {
                    s[(x as usize) % (last + 1)] = b;
                }
                check(std::str::from_utf8(&s).unwrap());
            }
        }
    }

    #[test]
    fn error_does_not_echo_input() {
        let err = decode("AAAA$AAA").unwrap_err().to_string();
        assert!(!err.contains('$'));
        assert!(!err.contains("36"));
    }
}
