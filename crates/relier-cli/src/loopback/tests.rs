use super::*;

#[test]
fn loopback_redirects() {
    let r = RedirectSpec::parse("http://127.0.0.1:8765/cb").unwrap();
    assert_eq!(r.port(), 8765);
    assert_eq!(r.path(), "/cb");
    assert_eq!(r.bind, "127.0.0.1:8765".parse().unwrap());
    let r = RedirectSpec::parse("http://[::1]:9000/callback").unwrap();
    assert_eq!(r.bind, "[::1]:9000".parse().unwrap());
    let r = RedirectSpec::parse("http://localhost:9000/").unwrap();
    assert_eq!(r.bind, "127.0.0.1:9000".parse().unwrap());
    assert_eq!(r.path(), "/");
    // default port of http
    assert_eq!(
        RedirectSpec::parse("http://127.0.0.1/cb").unwrap().port(),
        80
    );
    // port 0: ephemeral
    assert_eq!(
        RedirectSpec::parse("http://127.0.0.1:0/cb").unwrap().port(),
        0
    );
}

#[test]
fn non_loopback_or_https_refused() {
    for bad in [
        "http://example.com:8080/cb",
        "http://127.0.0.2:8080/cb",
        "http://10.0.0.1:8080/cb",
        "https://127.0.0.1:8080/cb",
        "https://app.example.com/cb",
        "http://127.0.0.1:8080/cb#frag",
        "ftp://127.0.0.1/cb",
        "not a url",
        "",
    ] {
        assert!(RedirectSpec::parse(bad).is_err(), "{bad}");
    }
    let msg = RedirectSpec::parse("https://127.0.0.1:1/cb")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("RFC 8252"), "{msg}");
}

#[test]
fn page_escapes() {
    let html = render_page("Login failed", "error <script>alert('x')</script> & \"q\"");
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"));
}

#[test]
fn form_content_type() {
    let mut h = HeaderMap::new();
    assert!(!is_form(&h));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
    );
    assert!(is_form(&h));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    assert!(!is_form(&h));
}

async fn get(addr: &str, path_and_query: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

#[tokio::test]
async fn serves_callback_and_404s() {
    let mut l = Listener::bind(&RedirectSpec::default_ephemeral())
        .await
        .unwrap();
    let uri = l.redirect_uri().url().unwrap();
    assert!(uri.as_str().starts_with("http://127.0.0.1:"));
    assert_eq!(uri.path(), "/callback");
    let addr = format!("127.0.0.1:{}", uri.port().unwrap());

    // favicon and other paths do not end the login
    assert_eq!(get(&addr, "/favicon.ico").await.0, 404);

    let a2 = addr.clone();
    let browser = tokio::spawn(async move { get(&a2, "/callback?code=c&state=s").await });
    let cb = l.next_callback(Duration::from_secs(5)).await.unwrap();
    assert!(cb.params.is_ok());
    cb.reply.send(Err("state <mismatch>".into())).unwrap();
    let (status, body) = browser.await.unwrap();
    assert_eq!(status, 400);
    assert!(body.contains("state &lt;mismatch&gt;"));

    // a second response is not accepted
    assert_eq!(get(&addr, "/callback?code=c&state=s").await.0, 409);
    l.shutdown().await;
}

#[tokio::test]
async fn times_out() {
    let mut l = Listener::bind(&RedirectSpec::default_ephemeral())
        .await
        .unwrap();
    let err = l
        .next_callback(Duration::from_millis(50))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--timeout"));
    l.shutdown().await;
}
