//! `relier config check`: a configuration file parsed and validated as `relier serve` would,
//! without binding its addresses, opening its store or contacting its OPs. Every error found is
//! reported with the file's line it comes from where one can be told.

use std::net::SocketAddr;
use std::path::Path;

use crate::config::{Config, ConfigError, MAX_CONFIG_BYTES};
use crate::error::GatewayError;
use crate::providers::check_static;

/// One mistake in the file.
#[derive(Debug)]
#[non_exhaustive]
pub struct Finding {
    /// The 1-based line it is on, when it can be told.
    pub line: Option<usize>,
    /// What is wrong.
    pub error: GatewayError,
}

impl Finding {
    pub(crate) fn new(line: Option<usize>, error: GatewayError) -> Finding {
        Finding { line, error }
    }

    /// `error` of a file whose text is `text`, at the line it is about when one can be told.
    pub(crate) fn located(text: &str, error: GatewayError) -> Finding {
        Finding {
            line: locate(text, &error),
            error,
        }
    }
}

/// What a valid file sets up.
#[derive(Debug)]
#[non_exhaustive]
pub struct Summary {
    /// `listen`.
    pub listen: SocketAddr,
    /// `public_url`.
    pub public_url: String,
    /// The providers' names, in order.
    pub providers: Vec<String>,
    /// Whether `[upstream]` makes the gateway a reverse proxy (else forward auth).
    pub proxy: bool,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.providers.len();
        write!(
            f,
            "ok: {} on {} for {}, {n} provider{} ({})",
            if self.proxy {
                "reverse proxy"
            } else {
                "forward auth"
            },
            self.listen,
            self.public_url,
            if n == 1 { "" } else { "s" },
            self.providers.join(", ")
        )
    }
}

/// Reads and checks `path`.
///
/// # Errors
/// Every mistake found (a file that cannot be read or parsed: that one alone).
pub fn check_file(path: &Path) -> Result<Summary, Vec<Finding>> {
    let read = || -> Result<String, GatewayError> {
        let io = |source| GatewayError::ConfigFile {
            path: path.to_path_buf(),
            source,
        };
        if std::fs::metadata(path).map_err(io)?.len() > MAX_CONFIG_BYTES {
            return Err(GatewayError::config(format!(
                "larger than {MAX_CONFIG_BYTES} bytes"
            )));
        }
        std::fs::read_to_string(path).map_err(io)
    };
    let text = read().map_err(|error| vec![Finding { line: None, error }])?;
    let mut config = Config::parse(&text).map_err(|e| {
        vec![Finding {
            line: e.line(),
            error: GatewayError::Config(e.brief()),
        }]
    })?;
    config.base_dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf);
    check(config).map_err(|errors| {
        errors
            .into_iter()
            .map(|error| Finding {
                line: locate(&text, &error),
                error,
            })
            .collect()
    })
}

/// Checks a parsed configuration: presets, settings, limits, `[upstream]`, and each provider as
/// far as it can be set up without its OP or the store (names, keys, credential files).
///
/// # Errors
/// Every mistake found.
pub fn check(config: Config) -> Result<Summary, Vec<GatewayError>> {
    let config = crate::presets::expand(config).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    match crate::settings::settings(&config) {
        Ok(settings) => {
            if let Err(e) = crate::proxy::Routes::from_config(&config, &settings) {
                errors.push(e);
            }
        }
        Err(e) => errors.push(e),
    }
    if let Err(e) = crate::server::ServerLimits::new(&config.limits) {
        errors.push(e);
    }
    let mut names: Vec<String> = Vec::new();
    for p in &config.providers {
        if names.contains(&p.name) {
            errors.push(GatewayError::provider(&p.name, "configured twice"));
            continue;
        }
        names.push(p.name.clone());
        if let Err(e) = relier_store::validate_provider_name(&p.name) {
            errors.push(GatewayError::provider(&p.name, e));
        } else if let Err(e) = check_static(&config, p) {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(Summary {
            listen: config.listen,
            public_url: config.public_url.clone(),
            providers: names,
            proxy: config.is_reverse_proxy(),
        })
    } else {
        Err(errors)
    }
}

/// The line an error is about: a provider's `name = "…"` line; else the first key or table
/// the message names.
fn locate(text: &str, error: &GatewayError) -> Option<usize> {
    let (name, message) = match error {
        GatewayError::Provider { provider, reason } => (Some(provider.as_str()), reason.as_str()),
        GatewayError::Config(ConfigError::Invalid(m)) => (None, m.as_str()),
        _ => return None,
    };
    let lines = || text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
    if let Some(name) = name {
        let quoted = format!("\"{name}\"");
        let names: Vec<usize> = lines()
            .filter(|(_, l)| {
                key_of(l) == Some("name")
                    && l.split_once('=')
                        .is_some_and(|(_, v)| v.trim_start().starts_with(&quoted))
            })
            .map(|(n, _)| n)
            .collect();
        // "configured twice": the second one.
        let at = if message.contains("twice") {
            names.get(1)
        } else {
            names.first()
        };
        return at.copied();
    }
    lines()
        .find(|(_, l)| key_of(l).is_some_and(|k| names_word(message, k)))
        .map(|(n, _)| n)
}

/// The key a line sets (`key = …`) or the table it opens (`[table]`, `[[table]]`).
fn key_of(line: &str) -> Option<&str> {
    if line.starts_with('#') {
        return None;
    }
    if let Some(table) = line.strip_prefix('[') {
        return Some(table.trim_matches(|c| c == '[' || c == ']').trim());
    }
    let (key, _) = line.split_once('=')?;
    Some(key.trim())
}

/// Whether `message` has `word` as a word of its own (not part of a longer name).
fn names_word(message: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    !word.is_empty()
        && message.match_indices(word).any(|(i, _)| {
            let before = message.get(..i).and_then(|s| s.chars().next_back());
            let after = message.get(i + word.len()..).and_then(|s| s.chars().next());
            !before.is_some_and(ident) && !after.is_some_and(ident)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::line_of;

    #[test]
    fn lines_are_found_for_keys_and_providers() {
        let text = "public_url = \"x\"\n[limits]\nmax_headers = 0\n[[providers]]\nname = \"a\"  # A\n[[providers]]\nname = \"a\"\n";
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, text.find("max_headers").unwrap()), 3);
        let e = GatewayError::config("[limits] max_headers must be at least 1");
        assert_eq!(locate(text, &e), Some(2), "the table it names first");
        let e = GatewayError::config("max_headers must be at least 1");
        assert_eq!(locate(text, &e), Some(3));
        let e = GatewayError::provider("a", "configured twice");
        assert_eq!(locate(text, &e), Some(7));
        let e = GatewayError::provider("a", "client_id is required with issuer");
        assert_eq!(locate(text, &e), Some(5));
        let e = GatewayError::config("nothing named here");
        assert_eq!(locate(text, &e), None);
    }

    #[test]
    fn upstream_routes_are_checked_with_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("relier.toml");
        let head = "public_url = \"http://127.0.0.1:8088\"\n";
        std::fs::write(
            &file,
            format!("{head}[upstream]\nurl = \"http://a\"\n[[upstream]]\nurl = \"http://b\"\n"),
        )
        .unwrap();
        let found = check_file(&file).unwrap_err();
        assert!(
            found[0]
                .error
                .to_string()
                .contains("both [upstream] and [[upstream]]"),
            "{found:?}"
        );
        assert!(found[0].line.is_some(), "{found:?}");
        std::fs::write(
            &file,
            format!(
                "{head}[[upstream]]\npath = \"/a\"\nurl = \"http://a\"\n\
                 [[upstream]]\npath = \"/A/\"\nurl = \"http://b\"\n"
            ),
        )
        .unwrap();
        let found = check_file(&file).unwrap_err();
        assert!(
            found[0]
                .error
                .to_string()
                .contains("upstream[1]: another route"),
            "{found:?}"
        );
        std::fs::write(
            &file,
            format!("{head}[[upstream]]\nhost = \"a.example\"\nurl = \"http://a\"\n"),
        )
        .unwrap();
        let summary = check_file(&file).unwrap();
        assert!(summary.proxy, "routes make a reverse proxy");
    }

    /// A `[[providers]]` key its kind does not take is found as the file is read, at the
    /// table's line, naming the provider and the key.
    #[test]
    fn a_key_of_another_kind_is_found_at_its_tables_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("relier.toml");
        std::fs::write(
            &file,
            "public_url = \"http://127.0.0.1:8088\"\n\n[[providers]]\nname = \"gh\"\n\
             preset = \"github\"\nclient_id = \"c\"\nteam_id = \"T\"\n",
        )
        .unwrap();
        let found = check_file(&file).unwrap_err();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].line, Some(3), "{found:?}");
        let e = found[0].error.to_string();
        assert!(
            e.starts_with("configuration: provider gh: unknown field `team_id` (team_id goes with preset = \"apple\"")
                && !e.contains("TOML parse error"),
            "{e}"
        );
    }

    #[test]
    fn words_are_whole() {
        assert!(names_word("public_url must be https", "public_url"));
        assert!(!names_word("public_url_x must be", "public_url"));
        assert!(!names_word("listen_address", "listen"));
    }
}
