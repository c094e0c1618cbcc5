//! Log lines on stderr: human-readable text, or one JSON object per line for an operator's log
//! pipeline (`log_format = "json"` in `relier serve`'s file, or `RELIER_LOG_FORMAT=json`).

use relier_gateway::config::{LOG_FORMAT_ENV, LogFormat};

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
/// `relier serve` logs at info without `-v`; other commands log nothing without it.
pub fn init(verbose: u8, serving: bool, format: LogFormat) {
    use std::io::IsTerminal as _;
    if verbose == 0 && !serving {
        return;
    }
    // `relier serve` is a daemon: it logs at info by default (logins, errors with correlation ids).
    let default = if verbose == 0 {
        "info"
    } else if verbose == 1 {
        "warn,relier=debug,relier_core=debug,relier_cli=debug"
    } else {
        "trace"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        // Every field at the top level (`flatten_event`), the span the event happened in under
        // `span` and the spans around it under `spans`; the timestamp is RFC 3339 in UTC.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
        _ => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
}
