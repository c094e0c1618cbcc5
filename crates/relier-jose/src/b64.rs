//! base64url without padding (RFC 7515 §2 "Base64url Encoding", RFC 4648 §5).
//!
//! Decoding is strict: padding, characters outside the URL-safe alphabet (including
//! whitespace) and non-canonical trailing bits are all rejected.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::JoseError;

/// Encodes `data` as base64url without padding.
#[must_use]
pub fn encode(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Appends the base64url encoding of `data` (no padding) to `out`.
pub fn encode_into(data: &[u8], out: &mut String) {
    URL_SAFE_NO_PAD.encode_string(data, out);
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
    // The reason never echoes the offending byte: the input may be a private key member.
    URL_SAFE_NO_PAD.decode(s).map_err(|e| {
        let reason = match e {
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
        };
        JoseError::malformed(part, reason)
    })
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

    #[test]
    fn error_does_not_echo_input() {
        let err = decode("AAAA$AAA").unwrap_err().to_string();
        assert!(!err.contains('$'));
        assert!(!err.contains("36"));
    }
}
