//! `[telemetry]`: OpenTelemetry traces sent over OTLP/HTTP to a collector.
//!
//! ```toml
//! [telemetry]
//! otlp_endpoint = "http://127.0.0.1:4318"   # traces go to {otlp_endpoint}/v1/traces
//! # otlp_protocol = "http/protobuf"         # or "http/json"
//! # sample_ratio = 1.0                      # parent-based
//! service_name = "relier"
//! ```

use serde::Deserialize;
use url::Url;

/// The default `service_name`.
pub const DEFAULT_SERVICE_NAME: &str = "relier";

/// `otlp_protocol`: how spans are encoded on the wire (OTLP/HTTP).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub enum OtlpProtocol {
    /// Protobuf (`application/x-protobuf`), the OTLP default.
    #[default]
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    /// JSON (`application/json`).
    #[serde(rename = "http/json")]
    HttpJson,
}

/// `[telemetry]`, checked: an http(s) endpoint without query or fragment, a ratio in [0, 1].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawTelemetry")]
pub struct TelemetryConfig {
    /// The collector's OTLP/HTTP base URL.
    pub otlp_endpoint: Url,
    /// The encoding.
    pub otlp_protocol: OtlpProtocol,
    /// The share of new traces sampled (a trace continued from a `traceparent` follows its
    /// parent's decision).
    pub sample_ratio: f64,
    /// `service.name` of every span.
    pub service_name: String,
}

impl TelemetryConfig {
    /// Where spans are posted: `{otlp_endpoint}/v1/traces` (OTLP/HTTP's path for traces).
    pub fn traces_url(&self) -> String {
        format!(
            "{}/v1/traces",
            self.otlp_endpoint.as_str().trim_end_matches('/')
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTelemetry {
    otlp_endpoint: String,
    #[serde(default)]
    otlp_protocol: OtlpProtocol,
    #[serde(default = "one")]
    sample_ratio: f64,
    #[serde(default)]
    service_name: Option<String>,
}

fn one() -> f64 {
    1.0
}

impl TryFrom<RawTelemetry> for TelemetryConfig {
    type Error = String;

    fn try_from(raw: RawTelemetry) -> Result<Self, String> {
        let url = Url::parse(&raw.otlp_endpoint)
            .map_err(|e| format!("telemetry.otlp_endpoint: not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https")
            || url.host_str().is_none()
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(
                "telemetry.otlp_endpoint: an http(s) base URL without credentials, query or fragment (e.g. http://127.0.0.1:4318)"
                    .into(),
            );
        }
        if !(0.0..=1.0).contains(&raw.sample_ratio) {
            return Err("telemetry.sample_ratio: a number from 0.0 to 1.0".into());
        }
        let service_name = raw
            .service_name
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned());
        if service_name.trim().is_empty() || service_name.chars().any(char::is_control) {
            return Err(
                "telemetry.service_name: a non-empty name without control characters".into(),
            );
        }
        Ok(TelemetryConfig {
            otlp_endpoint: url,
            otlp_protocol: raw.otlp_protocol,
            sample_ratio: raw.sample_ratio,
            service_name,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn parse(toml_text: &str) -> Result<TelemetryConfig, String> {
        toml::from_str::<TelemetryConfig>(toml_text).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_the_traces_url() {
        let t = parse("otlp_endpoint = \"http://127.0.0.1:4318\"").unwrap();
        assert_eq!(t.otlp_protocol, OtlpProtocol::HttpProtobuf);
        assert!((t.sample_ratio - 1.0).abs() < f64::EPSILON);
        assert_eq!(t.service_name, "relier");
        assert_eq!(t.traces_url(), "http://127.0.0.1:4318/v1/traces");
        let t = parse(
            "otlp_endpoint = \"https://otel.example/base/\"\notlp_protocol = \"http/json\"\nsample_ratio = 0.25\nservice_name = \"gw\"",
        )
        .unwrap();
        assert_eq!(t.otlp_protocol, OtlpProtocol::HttpJson);
        assert_eq!(t.traces_url(), "https://otel.example/base/v1/traces");
        assert_eq!(t.service_name, "gw");
    }

    #[test]
    fn refusals_name_the_key() {
        for (bad, key) in [
            ("otlp_endpoint = \"grpc://x:4317\"", "otlp_endpoint"),
            ("otlp_endpoint = \"http://u:p@x:4318\"", "otlp_endpoint"),
            ("otlp_endpoint = \"http://x:4318/?a=1\"", "otlp_endpoint"),
            ("otlp_endpoint = \"x\"", "otlp_endpoint"),
            (
                "otlp_endpoint = \"http://x:4318\"\nsample_ratio = 1.5",
                "sample_ratio",
            ),
            (
                "otlp_endpoint = \"http://x:4318\"\notlp_protocol = \"grpc\"",
                "otlp_protocol",
            ),
            (
                "otlp_endpoint = \"http://x:4318\"\nservice_name = \"\"",
                "service_name",
            ),
            (
                "otlp_endpoint = \"http://x:4318\"\nendpoint = \"y\"",
                "endpoint",
            ),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(key), "{bad}: {e}");
        }
    }
}
