//! Device authorization responses (RFC 8628 §3.2): `DeviceAuthorization::from_response` on the
//! input as the OP's JSON.
//!
//! Invariants: an accepted response has a device code, a printable user code, an https (or
//! loopback http) verification URI, and a positive interval.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_core::device::DeviceAuthorization;
use relier_core::http::HttpResponse;

fuzz_target!(|data: &[u8]| {
    let resp = HttpResponse {
        status: 200,
        content_type: Some("application/json".into()),
        www_authenticate: None,
        cache_control: None,
        body: data.to_vec(),
    };
    if let Ok(a) = DeviceAuthorization::from_response(&resp) {
        assert!(!a.user_code.is_empty());
        assert!(!a.user_code.chars().any(char::is_control));
        assert!(
            a.verification_uri.starts_with("https://") || a.verification_uri.starts_with("http://")
        );
        assert!(a.interval > 0);
    }
});
