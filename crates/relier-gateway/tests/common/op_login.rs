//! Logins through a gateway in front of the test OP (`tests/op`), and what the gateway then
//! shows: the session, `/auth/check`, the metrics.

use relier_tests::oidc_provider::{Browser, Callback};
use serde_json::Value;

use super::{form, location};

/// A browserless login through the gateway: gateway → OP (played by `op`) → callback
/// delivered to the gateway with `gw`'s cookie jar. Returns where the gateway sends the user.
pub async fn login(base: &str, gw: &reqwest::Client, op: &Browser, provider: &str) -> String {
    let r = gw
        .get(format!(
            "{base}/auth/login/{provider}?return_to=%2Fhome%3Fx%3D1"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let auth = location(r.headers());
    let cb = op
        .browse(&auth, &format!("{base}/auth/callback/"))
        .await
        .unwrap();
    let r = match cb {
        Callback::Query(url) => gw.get(url).send().await.unwrap(),
        Callback::FormPost { action, fields } => {
            let pairs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            gw.post(action)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&pairs))
                .send()
                .await
                .unwrap()
        }
    };
    let status = r.status();
    let loc = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(status, 302, "login failed: {}", r.text().await.unwrap());
    loc.unwrap()
}

/// `GET /auth/session` as JSON.
pub async fn session_json(base: &str, gw: &reqwest::Client) -> Value {
    let text = gw
        .get(format!("{base}/auth/session"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

pub async fn check(base: &str, gw: &reqwest::Client) -> reqwest::Response {
    gw.get(format!("{base}/auth/check")).send().await.unwrap()
}

pub async fn metrics(base: &str) -> String {
    reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

pub fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0)
}
