use serde_json::json;

use super::*;

/// RFC 8628 §3.2's example response.
fn rfc_response() -> serde_json::Value {
    json!({
        "device_code": "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
        "user_code": "WDJB-MJHT",
        "verification_uri": "https://example.com/device",
        "verification_uri_complete": "https://example.com/device?user_code=WDJB-MJHT",
        "expires_in": 1800,
        "interval": 5
    })
}

fn parse(v: &serde_json::Value) -> Result<DeviceAuthorization, DeviceError> {
    DeviceAuthorization::from_response(&HttpResponse::json(200, &v.to_string()))
}

fn oauth(error: &str) -> HttpResponse {
    HttpResponse::json(400, &json!({ "error": error }).to_string())
}

#[test]
fn rfc8628_example_response_and_token_request() {
    let a = parse(&rfc_response()).unwrap();
    assert_eq!(a.user_code, "WDJB-MJHT");
    assert_eq!(a.verification_uri, "https://example.com/device");
    assert_eq!(a.expires_in, 1800);
    assert_eq!(a.interval, 5);
    assert!(
        !format!("{a:?}").contains("GmRhmhcx"),
        "Debug hides the device code"
    );
    // §3.4's example request body.
    assert_eq!(
        token_form(&a).encode(),
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code\
         &device_code=GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS"
    );
    assert_eq!(
        authorization_form("openid email").encode(),
        "scope=openid+email"
    );
    // §3.2: interval defaults to 5.
    let mut v = rfc_response();
    v.as_object_mut().unwrap().remove("interval");
    assert_eq!(parse(&v).unwrap().interval, DEFAULT_INTERVAL);
}

#[test]
fn unusable_responses_are_refused() {
    for (member, value) in [
        ("device_code", json!("")),
        ("user_code", json!("")),
        ("user_code", json!("AB\u{1b}[2J")),
        ("verification_uri", json!("http://example.com/device")),
        ("verification_uri_complete", json!("javascript:alert(1)")),
        ("expires_in", json!(0)),
        ("expires_in", json!(MAX_EXPIRES_IN + 1)),
        ("interval", json!(MAX_INTERVAL + 1)),
    ] {
        let mut v = rfc_response();
        v[member] = value.clone();
        assert!(
            matches!(parse(&v), Err(DeviceError::InvalidResponse { .. })),
            "{member} = {value}"
        );
    }
    let mut v = rfc_response();
    v.as_object_mut().unwrap().remove("expires_in");
    assert!(parse(&v).is_err());
    let err = DeviceAuthorization::from_response(&oauth("unauthorized_client")).unwrap_err();
    assert!(err.to_string().contains("unauthorized_client"), "{err}");
}

/// RFC 8628 §3.5: pending keeps the interval, slow_down adds 5 s for this and every later
/// request, access_denied and expired_token end the flow.
#[test]
fn poll_decisions() {
    let a = parse(&rfc_response()).unwrap();
    let mut p = DevicePolling::new(&a, UnixTime(1000));
    assert_eq!(p.first_wait().unwrap(), 5);
    let pending = oauth("authorization_pending");
    assert!(matches!(
        p.on_response(&pending, UnixTime(1005)),
        Ok(PollStep::Wait(5))
    ));
    assert!(matches!(
        p.on_response(&oauth("slow_down"), UnixTime(1010)),
        Ok(PollStep::Wait(10))
    ));
    assert!(matches!(
        p.on_response(&pending, UnixTime(1020)),
        Ok(PollStep::Wait(10))
    ));
    assert!(matches!(
        p.on_response(&oauth("slow_down"), UnixTime(1030)),
        Ok(PollStep::Wait(15))
    ));
    assert_eq!(p.interval(), 15);
    assert!(matches!(
        p.on_response(&oauth("access_denied"), UnixTime(1045)),
        Err(DeviceError::AccessDenied)
    ));
    let err = p
        .on_response(&oauth("expired_token"), UnixTime(1045))
        .unwrap_err();
    assert!(matches!(err, DeviceError::Expired));
    assert!(err.to_string().contains("expired"), "{err}");
    assert!(matches!(
        p.on_response(&oauth("invalid_client"), UnixTime(1045)),
        Err(DeviceError::Token(TokenError::OAuth { .. }))
    ));
    let ok = HttpResponse::json(
        200,
        r#"{"access_token":"at","token_type":"Bearer","id_token":"x.y.z"}"#,
    );
    assert!(matches!(
        p.on_response(&ok, UnixTime(1045)),
        Ok(PollStep::Tokens(_))
    ));
}

/// The code's lifetime bounds the polling even when the OP keeps saying pending.
#[test]
fn polling_stops_when_the_code_runs_out() {
    let mut v = rfc_response();
    v["expires_in"] = json!(12);
    let a = parse(&v).unwrap();
    let mut p = DevicePolling::new(&a, UnixTime(1000));
    let pending = oauth("authorization_pending");
    assert!(matches!(
        p.on_response(&pending, UnixTime(1005)),
        Ok(PollStep::Wait(5))
    ));
    assert!(matches!(
        p.on_response(&pending, UnixTime(1007)),
        Err(DeviceError::Expired)
    ));
    v["expires_in"] = json!(5);
    let short = DevicePolling::new(&parse(&v).unwrap(), UnixTime(1000));
    assert!(matches!(short.first_wait(), Err(DeviceError::Expired)));
    // slow_down is capped.
    let mut v = rfc_response();
    v["interval"] = json!(MAX_INTERVAL);
    v["expires_in"] = json!(MAX_EXPIRES_IN);
    let mut p = DevicePolling::new(&parse(&v).unwrap(), UnixTime(0));
    assert!(matches!(
        p.on_response(&oauth("slow_down"), UnixTime(0)),
        Ok(PollStep::Wait(MAX_INTERVAL))
    ));
}
