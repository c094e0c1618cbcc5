//! A minimal, strict PEM reader and writer for private keys (RFC 7468).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::error::JoseError;

/// A PEM document may be at most this many bytes.
pub const MAX_PEM_BYTES: usize = 64 * 1024;

const PART: &str = "PEM";

/// The first PEM block of `pem` whose label satisfies `wanted`: its label and decoded
/// contents. Other blocks (e.g. a certificate chain in the same file) and text between blocks
/// are skipped (RFC 7468 §2 allows explanatory text); encapsulated headers (RFC 1421
/// "Proc-Type: 4,ENCRYPTED") are refused.
pub(crate) fn decode(
    pem: &str,
    wanted: impl Fn(&str) -> bool,
) -> Result<(String, Zeroizing<Vec<u8>>), JoseError> {
    if pem.len() > MAX_PEM_BYTES {
        return Err(JoseError::TooLarge {
            what: "PEM document",
            max: MAX_PEM_BYTES,
        });
    }
    let mut lines = pem.lines().map(str::trim);
    let mut skipping: Option<String> = None;
    let label = loop {
        let Some(line) = lines.next() else {
            return Err(JoseError::malformed(PART, "no private key block found"));
        };
        if let Some(end) = &skipping {
            if line == end {
                skipping = None;
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            let label = rest
                .strip_suffix("-----")
                .ok_or_else(|| JoseError::malformed(PART, "malformed BEGIN line"))?;
            if wanted(label) {
                break label.to_owned();
            }
            skipping = Some(format!("-----END {label}-----"));
        }
    };
    let end = format!("-----END {label}-----");
    let mut body = Zeroizing::new(String::new());
    let mut ended = false;
    for line in lines {
        if line == end {
            ended = true;
            break;
        }
        if line.contains(':') {
            return Err(JoseError::malformed(
                PART,
                "encapsulated headers (encrypted legacy PEM) are not supported",
            ));
        }
        body.push_str(line);
    }
    if !ended {
        return Err(JoseError::malformed(PART, "no matching END line"));
    }
    let mut der = Zeroizing::new(Vec::new());
    STANDARD
        .decode_vec(body.as_bytes(), &mut der)
        .map_err(|_| JoseError::malformed(PART, "invalid base64 body"))?;
    Ok((label, der))
}

/// Encodes `der` as a PEM block with 64-character lines (RFC 7468 §2).
pub(crate) fn encode(label: &str, der: &[u8]) -> Zeroizing<String> {
    let b64 = Zeroizing::new(STANDARD.encode(der));
    let mut out = Zeroizing::new(String::with_capacity(b64.len() + b64.len() / 64 + 64));
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    let mut rest: &str = &b64;
    while !rest.is_empty() {
        let cut = rest.len().min(64);
        let (line, tail) = rest.split_at_checked(cut).unwrap_or((rest, ""));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let data: Vec<u8> = (0..=255).collect();
        let pem = encode("PRIVATE KEY", &data);
        assert!(pem.lines().all(|l| l.len() <= 64));
        let (label, der) = decode(&pem, |_| true).unwrap();
        assert_eq!(label, "PRIVATE KEY");
        assert_eq!(der.as_slice(), data.as_slice());
    }

    #[test]
    fn leading_text_and_crlf() {
        let pem =
            "Key for tests\r\n-----BEGIN PRIVATE KEY-----\r\nAAEC\r\n-----END PRIVATE KEY-----\r\n";
        let (label, der) = decode(pem, |_| true).unwrap();
        assert_eq!(label, "PRIVATE KEY");
        assert_eq!(der.as_slice(), &[0, 1, 2]);
    }

    #[test]
    fn skips_unwanted_blocks() {
        let cert = encode("CERTIFICATE", b"cert");
        let key = encode("PRIVATE KEY", b"key");
        let both = format!("{}{}", cert.as_str(), key.as_str());
        let (label, der) = decode(&both, |l| l.ends_with("PRIVATE KEY")).unwrap();
        assert_eq!(label, "PRIVATE KEY");
        assert_eq!(der.as_slice(), b"key");
        assert!(decode(&cert, |l| l.ends_with("PRIVATE KEY")).is_err());
    }

    #[test]
    fn rejects_bad_documents() {
        let decode = |s: &str| decode(s, |_| true);
        assert!(decode("").is_err());
        assert!(decode("-----BEGIN PRIVATE KEY-----\nAAEC\n").is_err());
        assert!(
            decode("-----BEGIN PRIVATE KEY-----\nAAEC\n-----END RSA PRIVATE KEY-----").is_err()
        );
        assert!(decode("-----BEGIN PRIVATE KEY-----\nA*EC\n-----END PRIVATE KEY-----").is_err());
        assert!(
            decode(
                "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAEC\n-----END RSA PRIVATE KEY-----"
            )
            .is_err()
        );
        let huge = "A".repeat(MAX_PEM_BYTES + 1);
        assert!(matches!(decode(&huge), Err(JoseError::TooLarge { .. })));
    }
}
