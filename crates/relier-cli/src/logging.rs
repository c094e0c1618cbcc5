//! Log lines on stderr: human-readable text, or one JSON object per line for an operator's log
//! pipeline (`log_format = "json"` in `relier serve`'s file, or `RELIER_LOG_FORMAT=json`) — and,
//! under `[telemetry]`, the same spans exported as OpenTelemetry traces ([`crate::telemetry`]).

use std::fmt;
use std::sync::OnceLock;

use opentelemetry_sdk::trace::Tracer;
use relier_gateway::config::{LOG_FORMAT_ENV, LogFormat};
use serde_json::{Map, Value};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The format to log in: `RELIER_LOG_FORMAT` when set (and not empty), else the file's
/// `log_format` (`relier serve`), else text.
///
/// # Errors
/// A `RELIER_LOG_FORMAT` that is neither `text` nor `json`.
pub fn format(file: Option<LogFormat>) -> anyhow::Result<LogFormat> {
    match std::env::var(LOG_FORMAT_ENV) {
        Ok(v) if !v.trim().is_empty() => Ok(v.parse()?),
        _ => Ok(file.unwrap_or_default()),
    }
}

/// `-v`: debug logs of relier on stderr; `-vv`: everything at trace. RUST_LOG overrides.
/// `relier serve` logs at info without `-v`; other commands log nothing without it. With a
/// `tracer` (`[telemetry]`), spans at info and above are also recorded as traces, whatever the
/// log filter says.
///
/// `relier serve` without `RUST_LOG` or `-v` logs what the file's `log_level` says (`level`;
/// info without it), and [`set_level`] changes it when the file is reloaded.
pub fn init(
    verbose: u8,
    serving: bool,
    level: Option<&str>,
    format: LogFormat,
    tracer: Option<Tracer>,
) {
    use std::io::IsTerminal as _;
    if verbose == 0 && !serving {
        return;
    }
    let from_env = std::env::var(EnvFilter::DEFAULT_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| EnvFilter::try_new(v).ok());
    let from_file = from_env.is_none() && verbose == 0;
    let filter = match from_env {
        Some(filter) => filter,
        // `relier serve` is a daemon: it logs at info by default (logins, errors with
        // correlation ids).
        None if verbose == 0 => file_filter(level).unwrap_or_else(|_| EnvFilter::new("info")),
        None if verbose == 1 => {
            EnvFilter::new("warn,relier=debug,relier_core=debug,relier_cli=debug")
        }
        None => EnvFilter::new("trace"),
    };
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    if from_file {
        let _ = FILE_LEVEL.set(Box::new(move |f| {
            handle.reload(f).map_err(|e| e.to_string())
        }));
    }
    let traces = tracer.map(|t| {
        tracing_opentelemetry::layer()
            .with_tracer(t)
            .with_filter(LevelFilter::INFO)
    });
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(traces);
    let _ = match format {
        // Every field at the top level (`flatten_event`), the span the event happened in under
        // `span` and the spans around it under `spans`; the timestamp is RFC 3339 in UTC; the
        // request's `trace_id` and `span_id` at the top level when traces are on.
        LogFormat::Json => registry
            .with(
                fmt.event_format(WithTraceIds(
                    tracing_subscriber::fmt::format()
                        .json()
                        .flatten_event(true)
                        .with_current_span(true)
                        .with_span_list(true),
                ))
                .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
                .with_filter(filter),
            )
            .try_init(),
        _ => registry
            .with(
                fmt.with_ansi(std::io::stderr().is_terminal())
                    .with_filter(filter),
            )
            .try_init(),
    };
}

/// Swaps the log filter, when it comes from the file's `log_level`.
type SetFilter = Box<dyn Fn(EnvFilter) -> Result<(), String> + Send + Sync>;

static FILE_LEVEL: OnceLock<SetFilter> = OnceLock::new();

/// The filter `log_level` sets (info without it).
fn file_filter(level: Option<&str>) -> Result<EnvFilter, tracing_subscriber::filter::ParseError> {
    EnvFilter::try_new(level.unwrap_or("info"))
}

/// A reloaded file's `log_level`: the new filter, unless `RUST_LOG` or `-v` chose it.
pub fn set_level(level: Option<&str>) {
    let Some(set) = FILE_LEVEL.get() else {
        return;
    };
    match file_filter(level).map_err(|e| e.to_string()).and_then(set) {
        Ok(()) => tracing::info!(log_level = level.unwrap_or("info"), "log level set"),
        Err(e) => tracing::warn!(error = %e, "log_level not applied"),
    }
}

/// A JSON line with the `trace_id` and `span_id` of the request it belongs to lifted to the
/// top level (from the request's span, `http.request`, which records them).
struct WithTraceIds<F>(F);

impl<S, N, F> FormatEvent<S, N> for WithTraceIds<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        match lift_trace_ids(&line) {
            Some(lifted) => writer.write_str(&lifted),
            None => writer.write_str(&line),
        }
    }
}

/// `line` with `trace_id`/`span_id` of its outermost span that has them copied to the top
/// level; `None` when there are none (the line is written as it is).
fn lift_trace_ids(line: &str) -> Option<String> {
    if !line.contains("\"trace_id\"") {
        return None;
    }
    let mut obj: Map<String, Value> = serde_json::from_str(line.trim_end()).ok()?;
    let ids = obj
        .get("spans")?
        .as_array()?
        .iter()
        .find_map(|s| Some((s.get("trace_id")?.clone(), s.get("span_id")?.clone())))?;
    obj.entry("trace_id").or_insert(ids.0);
    obj.entry("span_id").or_insert(ids.1);
    let mut out = serde_json::to_string(&obj).ok()?;
    out.push('\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn trace_ids_are_lifted_from_the_request_span() {
        let line = r#"{"message":"m","spans":[{"name":"http.request","trace_id":"t1","span_id":"s1"},{"name":"auth_check"}]}"#;
        let out: Value = serde_json::from_str(&lift_trace_ids(line).unwrap()).unwrap();
        assert_eq!(out["trace_id"], "t1");
        assert_eq!(out["span_id"], "s1");
        assert_eq!(out["message"], "m");
        assert_eq!(lift_trace_ids(r#"{"message":"no spans"}"#), None);
        // A message that mentions the word is left alone.
        assert_eq!(lift_trace_ids(r#"{"message":"\"trace_id\""}"#), None);
    }
}
