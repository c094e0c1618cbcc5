//! `relier`: an OpenID Connect relying party on the command line.

mod args;
mod clock;
mod commands;
mod credentials;
mod logging;
mod loopback;
mod output;
mod preset;
mod store;
mod telemetry;

use std::process::ExitCode;

/// mimalloc instead of glibc's allocator: the gateway allocates and frees per request (header
/// maps, bodies, futures), which glibc's malloc served at a tenth of a proxied request's CPU
/// (docs/benchmarks.md, "Reverse proxy beside Apache + mod_auth_openidc").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser as _;
use clap::error::ErrorKind;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    // `relier serve` reads its file first: `log_format` decides how everything after is logged.
    let serve_config = match &cli.command {
        args::Command::Serve(a) => match relier_gateway::Config::from_file(&a.config) {
            Ok(config) => Some(config),
            Err(e) => {
                report(&anyhow::Error::new(e));
                return ExitCode::FAILURE;
            }
        },
        _ => None,
    };
    let format = match logging::format(serve_config.as_ref().map(|c| c.log_format)) {
        Ok(f) => f,
        Err(e) => {
            report(&e);
            return ExitCode::FAILURE;
        }
    };
    // `[telemetry]`: the exporter's blocking HTTP client is built here, outside the runtime.
    let traces = match serve_config.as_ref().and_then(|c| c.telemetry.as_ref()) {
        Some(cfg) => match telemetry::Traces::start(cfg) {
            Ok(t) => Some(t),
            Err(e) => {
                report(&e);
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let (traces, tracer) = traces.unzip();
    let level = serve_config.as_ref().and_then(|c| c.log_level.as_deref());
    logging::init(cli.verbose, serve_config.is_some(), level, format, tracer);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            report(&anyhow::Error::new(e).context("starting the async runtime"));
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(commands::run(cli, serve_config));
    if let Some(traces) = traces {
        traces.shutdown();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

fn report(e: &anyhow::Error) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{}", output::error_line(e));
}

/// Help and version go to stdout as usual; a usage error becomes one `relier: error:` line.
fn usage_error(e: &clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr().lock(),
                "relier: error: {}",
                output::one_line(&clap_one_line(&render_redacted(e)))
            );
            ExitCode::from(2)
        }
    }
}

/// clap's message, where it repeats an invalid `--store` / `RELIER_STORE` value, with the URL's
/// password redacted (issue 20 §3: no password in any message).
fn render_redacted(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    let rendered = e.render().to_string();
    let store = matches!(
        e.get(ContextKind::InvalidArg),
        Some(ContextValue::String(arg)) if arg.starts_with("--store")
    );
    match e.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(raw)) if store && !raw.is_empty() => {
            rendered.replace(raw.as_str(), &relier_store::redact_url(raw))
        }
        _ => rendered,
    }
}

/// clap's message without its `error: ` prefix and usage block, tips kept, on one line. The
/// indented lines right after the error (e.g. the missing arguments) stay with it.
fn clap_one_line(rendered: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut in_error = false;
    for line in rendered.lines() {
        let l = line.trim();
        if let Some(first) = l.strip_prefix("error: ") {
            parts.push(first.to_owned());
            in_error = true;
        } else if l.is_empty() {
            in_error = false;
        } else if in_error && line.starts_with(char::is_whitespace) {
            if let Some(last) = parts.last_mut() {
                last.push(' ');
                last.push_str(l);
            }
        } else if l.starts_with("tip:") {
            parts.push(l.to_owned());
        }
    }
    parts.push("see 'relier --help'".to_owned());
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_errors_become_one_line() {
        let e = args::Cli::try_parse_from(["relier", "login", "--client-idd", "x"]).unwrap_err();
        let line = clap_one_line(&e.render().to_string());
        assert!(!line.contains('\n'));
        assert!(line.contains("--client-idd"), "{line}");
        assert!(line.contains("--client-id"), "{line}");
        let e = args::Cli::try_parse_from(["relier", "login", "--client-id", "x"]).unwrap_err();
        let line = clap_one_line(&e.render().to_string());
        assert!(
            line.contains("not provided: --issuer") || line.contains("--provider"),
            "{line}"
        );
        assert!(!line.contains("Usage"), "{line}");
    }

    #[test]
    fn an_invalid_store_url_is_repeated_without_its_password() {
        for url in [
            "postgres://rp:hunter2@db.example/relier?max_connections=0",
            "postgres://rp@db.example/relier?password=hunter2&sslmod=disable",
            "postgres://rp:hun/ter2@db.example/relier",
        ] {
            let e =
                args::Cli::try_parse_from(["relier", "--store", url, "keys", "list"]).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ValueValidation);
            assert!(
                e.render().to_string().contains("hun"),
                "clap repeats the value"
            );
            let line = clap_one_line(&render_redacted(&e));
            assert!(line.contains("--store"), "{line}");
            assert!(!line.contains("hun"), "{line}");
        }
    }
}
