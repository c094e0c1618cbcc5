//! The HTTP driver: sends the core's [`HttpRequest`] values with reqwest + rustls, with a
//! client-certificate identity for mTLS, body-size caps, timeouts and no redirects.

use std::time::Duration;

use relier_core::claims_sources::{EndpointGuard, EndpointRefusal};
use relier_core::http::{HttpRequest, HttpResponse, MAX_BODY_BYTES, Method, TlsIdentity};
use zeroize::Zeroizing;

use crate::Error;

/// How to build the HTTP clients.
#[derive(Clone, Default)]
pub struct HttpConfig {
    /// Extra trusted CA certificates (PEM), e.g. a private PKI or a test CA.
    pub ca_pem: Option<Vec<u8>>,
    /// Client certificate chain + private key (PEM) for RFC 8705 mTLS.
    pub client_identity_pem: Option<Zeroizing<Vec<u8>>>,
    /// Whole-request timeout (default 30 s).
    pub timeout: Option<Duration>,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("ca_pem", &self.ca_pem.is_some())
            .field("client_identity", &self.client_identity_pem.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Sends requests. Cheap to clone (reqwest clients are reference-counted).
#[derive(Clone, Debug)]
pub struct HttpClient {
    /// What the clients were built from (the guarded one-off clients of
    /// [`HttpClient::send_guarded`] too).
    config: HttpConfig,
    plain: reqwest::Client,
    mtls: Option<reqwest::Client>,
    /// RFC 8705 §3.1 `x5t#S256` of the client certificate (the chain's first).
    client_x5t_s256: Option<String>,
}

fn builder(cfg: &HttpConfig) -> Result<reqwest::ClientBuilder, Error> {
    let mut b = reqwest::Client::builder()
        // Back-channel calls never follow redirects: an OP endpoint that redirects is misconfigured
        // or hostile (RFC 9700 §4.11).
        .redirect(reqwest::redirect::Policy::none())
        .timeout(cfg.timeout.unwrap_or(Duration::from_secs(30)))
        .connect_timeout(Duration::from_secs(10))
        .tcp_nodelay(true)
        .user_agent(concat!("relier/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = &cfg.ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| Error::Config(format!("CA file: {e}")))?;
        if certs.is_empty() {
            return Err(Error::Config("CA file: no certificate found".into()));
        }
        b = b.tls_certs_merge(certs);
    }
    Ok(b)
}

impl HttpClient {
    /// Build the clients.
    pub fn new(cfg: &HttpConfig) -> Result<Self, Error> {
        let plain = builder(cfg)?
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        let client_x5t_s256 = cfg.client_identity_pem.as_deref().and_then(|pem| {
            use rustls_pki_types::CertificateDer;
            use rustls_pki_types::pem::PemObject as _;
            let first = CertificateDer::pem_slice_iter(pem).next()?.ok()?;
            Some(relier_core::certificate_binding::x5t_s256(&first))
        });
        let mtls = match &cfg.client_identity_pem {
            Some(pem) => {
                let id = reqwest::Identity::from_pem(pem)
                    .map_err(|e| Error::Config(format!("TLS client certificate/key: {e}")))?;
                Some(
                    builder(cfg)?
                        .identity(id)
                        .build()
                        .map_err(|e| Error::Config(format!("mTLS HTTP client: {e}")))?,
                )
            }
            None => None,
        };
        Ok(Self {
            config: cfg.clone(),
            plain,
            mtls,
            client_x5t_s256,
        })
    }

    /// Whether a client certificate is configured.
    pub fn has_client_certificate(&self) -> bool {
        self.mtls.is_some()
    }

    /// The `x5t#S256` (RFC 8705 §3.1) of the configured client certificate.
    pub fn client_certificate_x5t_s256(&self) -> Option<&str> {
        self.client_x5t_s256.as_deref()
    }

    /// Send one request; the body is read up to [`MAX_BODY_BYTES`].
    pub async fn send(&self, req: HttpRequest) -> Result<HttpResponse, Error> {
        Ok(self.send_inner(req, None).await?.0)
    }

    /// [`Self::send`], also returning the value of the response header `header_name` (e.g.
    /// `DPoP-Nonce`, RFC 9449 §8), if present.
    pub async fn send_reading(
        &self,
        req: HttpRequest,
        header_name: &str,
    ) -> Result<(HttpResponse, Option<String>), Error> {
        self.send_inner(req, Some(header_name)).await
    }

    /// Sends a request to a URL a token named (OIDC Core §5.6.2 claims sources): the URL and
    /// every address its host resolves to must pass `guard`, the connection goes to exactly
    /// those addresses (no DNS rebinding between check and connect, no proxy), within
    /// `timeout`, and the body is read up to `max_body` bytes. Never with a client certificate.
    ///
    /// # Errors
    /// [`Error::Http`] for a refused URL or address and every transport failure.
    pub async fn send_guarded(
        &self,
        req: HttpRequest,
        guard: &EndpointGuard,
        timeout: Duration,
        max_body: usize,
    ) -> Result<HttpResponse, Error> {
        let refused = |reason: String| Error::Http {
            url: req.url.clone(),
            reason,
        };
        let url = url::Url::parse(&req.url).map_err(|e| refused(e.to_string()))?;
        guard.check_url(&url).map_err(|e| refused(e.to_string()))?;
        let mut b = builder(&self.config)?.no_proxy().timeout(timeout);
        if let Some(url::Host::Domain(host)) = url.host() {
            let port = url.port_or_known_default().unwrap_or(443);
            let addrs: Vec<std::net::SocketAddr> =
                tokio::time::timeout(timeout, tokio::net::lookup_host((host, port)))
                    .await
                    .map_err(|_| refused(format!("{host}: name resolution timed out")))?
                    .map_err(|e| refused(format!("{host}: {e}")))?
                    .collect();
            if addrs.is_empty() {
                return Err(refused(
                    EndpointRefusal::Unresolved {
                        host: host.to_owned(),
                    }
                    .to_string(),
                ));
            }
            for a in &addrs {
                guard
                    .check_addr(host, a.ip())
                    .map_err(|e| refused(e.to_string()))?;
            }
            b = b.resolve_to_addrs(host, &addrs);
        }
        let client = b
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        let mut req = req;
        req.tls_identity = TlsIdentity::None;
        Ok(self.send_with(&client, req, None, max_body).await?.0)
    }

    async fn send_inner(
        &self,
        req: HttpRequest,
        header_name: Option<&str>,
    ) -> Result<(HttpResponse, Option<String>), Error> {
        let client = match req.tls_identity {
            TlsIdentity::None => &self.plain,
            TlsIdentity::ClientCertificate => self.mtls.as_ref().ok_or_else(|| {
                Error::Config("mTLS client authentication needs a client certificate and key (HttpConfig::client_identity_pem)".into())
            })?,
        };
        self.send_with(client, req, header_name, MAX_BODY_BYTES)
            .await
    }

    async fn send_with(
        &self,
        client: &reqwest::Client,
        req: HttpRequest,
        header_name: Option<&str>,
        max_body: usize,
    ) -> Result<(HttpResponse, Option<String>), Error> {
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
            _ => return Err(Error::Config("unsupported HTTP method".into())),
        };
        let url = req.url.clone();
        let mut rb = client.request(method, &req.url);
        for (k, v) in &req.headers {
            rb = rb.header(k, v);
        }
        if !req.body.is_empty() {
            rb = rb.body(req.body);
        }
        let http_err = |e: reqwest::Error| Error::Http {
            url: url.clone(),
            reason: error_chain(&e),
        };
        let mut resp = rb.send().await.map_err(http_err)?;
        let status = resp.status().as_u16();
        let header = |name: reqwest::header::HeaderName| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let www_authenticate = header(reqwest::header::WWW_AUTHENTICATE);
        let cache_control = header(reqwest::header::CACHE_CONTROL);
        let extra = header_name
            .and_then(|name| resp.headers().get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if resp.content_length().is_some_and(|l| l > max_body as u64) {
            return Err(Error::Http {
                url,
                reason: format!("response larger than {max_body} bytes"),
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(http_err)? {
            if body.len().saturating_add(chunk.len()) > max_body {
                return Err(Error::Http {
                    url,
                    reason: format!("response larger than {max_body} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok((
            HttpResponse {
                status,
                content_type,
                www_authenticate,
                cache_control,
                body,
            },
            extra,
        ))
    }
}

/// reqwest's Display hides the cause ("error sending request"); walk the chain for a useful line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}
