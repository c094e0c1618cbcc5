//! `[telemetry]` for `relier serve`: the OpenTelemetry SDK with an OTLP/HTTP exporter
//! (protobuf or JSON), a parent-based ratio sampler and the W3C Trace Context propagator.
//! The gateway's spans reach it through the `tracing-opentelemetry` layer set up in
//! [`crate::logging`].
//!
//! Spans are batched and exported from the SDK's own thread (a blocking HTTP client: built here,
//! before the async runtime starts); [`Traces::shutdown`] flushes what is left when `serve`
//! returns. `OTEL_BSP_SCHEDULE_DELAY` (milliseconds, default 5000) sets how often a batch goes.

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, Tracer};
use relier_gateway::config::{OtlpProtocol, TelemetryConfig};

/// The tracer provider of a running `relier serve`.
#[derive(Debug)]
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// Builds the exporter and the provider for `cfg` and installs the W3C `traceparent`
    /// propagator; returns them with the tracer the log layer records spans with.
    ///
    /// # Errors
    /// The exporter cannot be built (e.g. its HTTP client).
    pub fn start(cfg: &TelemetryConfig) -> anyhow::Result<(Traces, Tracer)> {
        let protocol = match cfg.otlp_protocol {
            OtlpProtocol::HttpJson => Protocol::HttpJson,
            _ => Protocol::HttpBinary,
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(protocol)
            .with_endpoint(cfg.traces_url())
            .build()
            .context("telemetry: building the OTLP/HTTP exporter")?;
        let resource = Resource::builder()
            .with_service_name(cfg.service_name.clone())
            .with_attribute(opentelemetry::KeyValue::new(
                "service.version",
                env!("CARGO_PKG_VERSION"),
            ))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                cfg.sample_ratio,
            ))))
            .with_resource(resource)
            .build();
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let tracer = provider.tracer("relier");
        Ok((Traces { provider }, tracer))
    }

    /// Exports the spans still batched and stops the exporter.
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!(error = %e, "telemetry: the last spans could not be exported");
        }
    }
}
