//! Reading `axum` responses in tests that drive a `Router` with `oneshot`.

use axum::body::Body;
use axum::http::{Response, header};

/// The body of a response as text (at most 1 MiB).
pub async fn text(resp: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// `Location` of a response.
pub fn loc(resp: &Response<Body>) -> String {
    resp.headers()
        .get(header::LOCATION)
        .expect("Location")
        .to_str()
        .unwrap()
        .to_owned()
}
