//! The HTTP client a test uses as a browser against relier's gateway.

use std::time::Duration;

/// A browser: a cookie jar, redirects not followed (a test reads each `Location`), no proxy
/// from the environment, 30 s per request.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The `Location` header of `r`.
pub fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}
