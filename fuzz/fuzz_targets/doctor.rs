//! `relier doctor`'s grading (relier_core::doctor): arbitrary bytes as the discovery response
//! body, and the same bytes as the JWKS body, graded with and without the FAPI 2.0 profile.
//!
//! Invariants: grading never panics; every finding names a check and a rule; the profile only
//! makes grades stricter (no finding that fails without it passes with it), and the report
//! fails exactly when a finding does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_core::doctor::{self, Grade, JwksInput};
use relier_core::http::HttpResponse;
use relier_core::profile::Profile;
use relier_fuzz::issuer;

fuzz_target!(|data: &[u8]| {
    let issuer = issuer();
    let resp = HttpResponse {
        status: 200,
        content_type: Some("application/json".into()),
        www_authenticate: None,
        cache_control: None,
        body: data.to_vec(),
    };
    let Ok(md) = doctor::metadata_from_response(&issuer, &resp) else {
        return;
    };
    let plain = doctor::examine(&issuer, &md, JwksInput::Body(data), None);
    let fapi = doctor::examine(&issuer, &md, JwksInput::Body(data), Some(Profile::Fapi2));
    for r in [&plain, &fapi] {
        assert!(
            r.findings
                .iter()
                .all(|f| !f.check.is_empty() && !f.rule.is_empty())
        );
        assert_eq!(
            r.failed(),
            r.findings.iter().any(|f| f.grade == Grade::Fail)
        );
    }
    assert!(fapi.count(Grade::Fail) >= plain.count(Grade::Fail));
});
