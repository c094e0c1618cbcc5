//! The `WWW-Authenticate` header (RFC 9110 §11.6.1) as far as DPoP needs it: the `DPoP`
//! challenge's `error`, `error_description` and `algs` (RFC 9449 §7.1, §9). Input, challenge
//! and parameter counts are capped; the parser never panics (fuzzed: `fuzz_targets/dpop_challenge`).

/// Longest header value parsed.
pub const MAX_HEADER_BYTES: usize = 4096;
/// Most challenges in one header value.
pub const MAX_CHALLENGES: usize = 16;
/// Most parameters in one challenge.
pub const MAX_PARAMS: usize = 32;

/// Why a `WWW-Authenticate` value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChallengeError {
    /// Longer than [`MAX_HEADER_BYTES`].
    #[error("WWW-Authenticate: longer than {max} bytes")]
    TooLong {
        /// The cap.
        max: usize,
    },
    /// More than [`MAX_CHALLENGES`] challenges or [`MAX_PARAMS`] parameters in one.
    #[error("WWW-Authenticate: too many challenges or parameters")]
    TooMany,
    /// Not the RFC 9110 §11.6.1 syntax.
    #[error("WWW-Authenticate: malformed at byte {at}")]
    Malformed {
        /// Where.
        at: usize,
    },
    /// RFC 9110 §11.2: "Each parameter name MUST only occur once per challenge."
    #[error("WWW-Authenticate: parameter {name} repeated in one challenge")]
    DuplicateParameter {
        /// The parameter.
        name: String,
    },
}

/// One challenge: its scheme and auth-params (names lower-cased; a token68 is skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The auth-scheme as sent.
    pub scheme: String,
    /// `name=value` pairs, names lower-cased (RFC 9110 §11.2: case-insensitive).
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The `DPoP` challenge of a resource server's 401 (RFC 9449 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopChallenge {
    /// `error`, e.g. `use_dpop_nonce` (§9) or `invalid_dpop_proof` (§7.1).
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
    /// `algs`: the proof algorithms the server accepts (space-separated in the header).
    pub algs: Vec<String>,
}

/// RFC 9110 §5.6.2 tchar; `/` is accepted too so a token68 (`Basic dXNlcjpw/w==`) is skipped.
fn tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/".contains(&b)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip(&mut self, what: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&what) {
            self.i = self.i.saturating_add(1);
        }
    }

    fn ws(&mut self) {
        self.skip(|b| b == b' ' || b == b'\t');
    }

    fn token(&mut self) -> Option<&'a str> {
        let start = self.i;
        self.skip(tchar);
        let t = self.s.get(start..self.i)?;
        if t.is_empty() {
            return None;
        }
        std::str::from_utf8(t).ok()
    }

    /// RFC 9110 §5.6.4 quoted-string, the opening quote already seen.
    fn quoted(&mut self) -> Result<String, ChallengeError> {
        let mut out = Vec::new();
        loop {
            let b = self
                .peek()
                .ok_or(ChallengeError::Malformed { at: self.i })?;
            self.i = self.i.saturating_add(1);
            match b {
                b'"' => break,
                b'\\' => {
                    let e = self
                        .peek()
                        .ok_or(ChallengeError::Malformed { at: self.i })?;
                    self.i = self.i.saturating_add(1);
                    out.push(e);
                }
                b'\r' | b'\n' | 0 => return Err(ChallengeError::Malformed { at: self.i }),
                _ => out.push(b),
            }
        }
        String::from_utf8(out).map_err(|_| ChallengeError::Malformed { at: self.i })
    }
}

/// Every challenge of a `WWW-Authenticate` value (RFC 9110 §11.6.1):
/// `challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`, challenges comma-separated.
///
/// # Errors
/// [`ChallengeError`].
pub fn parse_www_authenticate(value: &str) -> Result<Vec<Challenge>, ChallengeError> {
    if value.len() > MAX_HEADER_BYTES {
        return Err(ChallengeError::TooLong {
            max: MAX_HEADER_BYTES,
        });
    }
    let mut c = Cursor {
        s: value.as_bytes(),
        i: 0,
    };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        c.skip(|b| matches!(b, b' ' | b'\t' | b','));
        let Some(first) = c.token() else {
            return match c.peek() {
                None => Ok(out),
                Some(_) => Err(ChallengeError::Malformed { at: c.i }),
            };
        };
        c.ws();
        // `name=`: a parameter of the current challenge (or a token68 ending in `=`).
        if c.peek() == Some(b'=') {
            let current = out
                .last_mut()
                .ok_or(ChallengeError::Malformed { at: c.i })?;
            param(&mut c, current, first)?;
            continue;
        }
        if out.len() >= MAX_CHALLENGES {
            return Err(ChallengeError::TooMany);
        }
        out.push(Challenge {
            scheme: first.to_owned(),
            params: Vec::new(),
        });
    }
}

/// `name BWS "=" BWS ( token / quoted-string )`, the cursor on the `=`; a token68's padding
/// (`=` not followed by a value) is skipped.
fn param(c: &mut Cursor<'_>, current: &mut Challenge, name: &str) -> Result<(), ChallengeError> {
    c.skip(|b| b == b'=');
    c.ws();
    let value = match c.peek() {
        Some(b'"') => {
            c.i = c.i.saturating_add(1);
            c.quoted()?
        }
        Some(b) if tchar(b) => c.token().unwrap_or_default().to_owned(),
        // token68 padding, e.g. `Basic YQ==`.
        None | Some(b',') => return Ok(()),
        Some(_) => return Err(ChallengeError::Malformed { at: c.i }),
    };
    let name = name.to_ascii_lowercase();
    if current.params.iter().any(|(n, _)| *n == name) {
        return Err(ChallengeError::DuplicateParameter { name });
    }
    if current.params.len() >= MAX_PARAMS {
        return Err(ChallengeError::TooMany);
    }
    current.params.push((name, value));
    Ok(())
}

/// The `DPoP` challenge (scheme compared case-insensitively, RFC 9110 §11.1), if any.
///
/// # Errors
/// [`ChallengeError`] when the value does not parse.
pub fn dpop_challenge(value: &str) -> Result<Option<DpopChallenge>, ChallengeError> {
    Ok(parse_www_authenticate(value)?
        .into_iter()
        .find(|c| c.scheme.eq_ignore_ascii_case("DPoP"))
        .map(|c| DpopChallenge {
            error: c.param("error").map(str::to_owned),
            error_description: c.param("error_description").map(str::to_owned),
            algs: c
                .param("algs")
                .map(|a| a.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_9449_examples() {
        // RFC 9449 §7.1 (line breaks removed).
        let c = dpop_challenge(
            r#"DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256""#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.error.as_deref(), Some("invalid_token"));
        assert_eq!(
            c.error_description.as_deref(),
            Some("Invalid DPoP key binding")
        );
        assert_eq!(c.algs, ["ES256"]);
        // RFC 9449 §9 (Figure 20).
        let c = dpop_challenge(
            r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.error.as_deref(), Some("use_dpop_nonce"));
        // RFC 9449 §7.2: Bearer and DPoP side by side; §7.1: algs with several values.
        let c =
            dpop_challenge(r#"Bearer realm="x", dpop ALGS="ES256 PS256",error="use_dpop_nonce""#)
                .unwrap()
                .unwrap();
        assert_eq!(c.algs, ["ES256", "PS256"]);
        assert_eq!(c.error.as_deref(), Some("use_dpop_nonce"));
    }

    #[test]
    fn other_schemes_and_token68() {
        assert_eq!(
            dpop_challenge(r#"Bearer error="invalid_token""#).unwrap(),
            None
        );
        let all =
            parse_www_authenticate(r#"Basic YQ==, Negotiate, DPoP error=use_dpop_nonce"#).unwrap();
        let schemes: Vec<&str> = all.iter().map(|c| c.scheme.as_str()).collect();
        assert!(schemes.contains(&"Basic") && schemes.contains(&"DPoP"));
        assert_eq!(all.last().unwrap().param("error"), Some("use_dpop_nonce"));
        let c = dpop_challenge(r#"DPoP error_description="a \"quoted\" \\ text""#)
            .unwrap()
            .unwrap();
        assert_eq!(c.error_description.as_deref(), Some(r#"a "quoted" \ text"#));
        assert_eq!(parse_www_authenticate("").unwrap(), Vec::new());
    }

    #[test]
    fn malformed_and_capped() {
        for bad in [
            r#"DPoP error="unterminated"#,
            r#"="x""#,
            "DPoP error=\"a\nb\"",
            r#"DPoP error=(x)"#,
            "DPoP ()",
        ] {
            assert!(parse_www_authenticate(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_www_authenticate(r#"DPoP error="a", ERROR="b""#),
            Err(ChallengeError::DuplicateParameter {
                name: "error".into()
            })
        );
        let long = format!("DPoP error=\"{}\"", "x".repeat(MAX_HEADER_BYTES));
        assert!(matches!(
            parse_www_authenticate(&long),
            Err(ChallengeError::TooLong { .. })
        ));
        let many = "A, ".repeat(MAX_CHALLENGES + 1);
        assert_eq!(parse_www_authenticate(&many), Err(ChallengeError::TooMany));
        let params: Vec<String> = (0..=MAX_PARAMS).map(|i| format!("p{i}=v")).collect();
        assert_eq!(
            parse_www_authenticate(&format!("DPoP {}", params.join(", "))),
            Err(ChallengeError::TooMany)
        );
    }
}
