//! Requests and responses as plain values. The core builds [`HttpRequest`]s and consumes
//! [`HttpResponse`]s; a driver (the `relier` crate) moves them over the network.

use std::fmt;

/// Largest response body the core will parse (discovery, JWKS, token, userinfo, introspection).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
}

/// Which TLS identity the driver must present for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsIdentity {
    /// No client certificate.
    None,
    /// Present the RP's client certificate (RFC 8705 §2).
    ClientCertificate,
}

/// A request the driver must send. `Debug` shows the method and URL only: bodies and
/// `Authorization` headers carry secrets.
#[derive(Clone)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Headers (name, value).
    pub headers: Vec<(String, String)>,
    /// Body bytes (form-encoded or JSON).
    pub body: Vec<u8>,
    /// Whether to present the client certificate.
    pub tls_identity: TlsIdentity,
}

impl HttpRequest {
    /// A GET with `Accept`.
    pub fn get(url: impl Into<String>, accept: &str) -> Self {
        Self {
            method: Method::Get,
            url: url.into(),
            headers: vec![("accept".into(), accept.into())],
            body: Vec::new(),
            tls_identity: TlsIdentity::None,
        }
    }

    /// A form POST (`application/x-www-form-urlencoded`).
    pub fn form_post(url: impl Into<String>, form: &Form) -> Self {
        Self {
            method: Method::Post,
            url: url.into(),
            headers: vec![
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("accept".into(), "application/json".into()),
            ],
            body: form.encode().into_bytes(),
            tls_identity: TlsIdentity::None,
        }
    }

    /// The value of a header, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("tls_identity", &self.tls_identity)
            .finish_non_exhaustive()
    }
}

/// A response as received by the driver (body already capped at [`MAX_BODY_BYTES`]).
#[derive(Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The `WWW-Authenticate` header, if any (RFC 6750 §3 errors at userinfo).
    pub www_authenticate: Option<String>,
    /// The `Cache-Control` header, if any (RFC 9111 §5.2; the OP's JWKS lifetime).
    pub cache_control: Option<String>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// An `application/json` response, for tests of the response parsers.
    #[cfg(test)]
    pub(crate) fn json(status: u16, body: &str) -> Self {
        HttpResponse {
            status,
            content_type: Some("application/json".into()),
            www_authenticate: None,
            cache_control: None,
            body: body.as_bytes().to_vec(),
        }
    }

    /// Media type without parameters, lower-cased (`application/json; charset=utf-8` → `application/json`).
    pub fn media_type(&self) -> Option<String> {
        self.content_type.as_deref().map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
    }

    /// 2xx?
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// An `application/x-www-form-urlencoded` body under construction. Values are zeroized on drop
/// because they include codes, tokens and secrets.
#[derive(Default, Clone)]
pub struct Form {
    pairs: Vec<(String, zeroize::Zeroizing<String>)>,
}

impl Form {
    /// Empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append a pair.
    pub fn push(&mut self, name: &str, value: &str) -> &mut Self {
        self.pairs
            .push((name.to_owned(), zeroize::Zeroizing::new(value.to_owned())));
        self
    }

    /// The value of the first pair named `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Encode per the WHATWG URL standard's form serializer.
    pub fn encode(&self) -> String {
        // Values made only of bytes the serializer leaves as they are (every JWS, every
        // base64url token) are appended directly: the byte-wise encoder was the largest
        // non-crypto cost of building a client assertion request.
        fn plain(v: &str) -> bool {
            v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_'))
        }
        let cap = self.pairs.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
        let mut out = String::with_capacity(cap);
        for (n, v) in &self.pairs {
            if !out.is_empty() {
                out.push('&');
            }
            out.extend(url::form_urlencoded::byte_serialize(n.as_bytes()));
            out.push('=');
            if plain(v) {
                out.push_str(v);
            } else {
                out.extend(url::form_urlencoded::byte_serialize(v.as_bytes()));
            }
        }
        out
    }
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.pairs.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Form").field("names", &names).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Form;

    #[test]
    fn encode_matches_the_whatwg_serializer() {
        let cases = [
            ("a", "b.c-d_e*f"),
            ("client_secret", "p@ss w%rd:+/~"),
            ("redirect_uri", "http://127.0.0.1:8080/cb?x=1&y=2"),
            ("é", "ü ñ"),
            ("empty", ""),
        ];
        let mut f = Form::new();
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (n, v) in cases {
            f.push(n, v);
            ser.append_pair(n, v);
        }
        assert_eq!(f.encode(), ser.finish());
    }
}
