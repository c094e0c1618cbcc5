//! [`ConfigError`]: why a configuration cannot be used, as it is read and checked.

use std::path::PathBuf;

/// Why `relier.toml` (or a configuration given otherwise) cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not TOML, a key its table does not take — a `[[providers]]` key its kind of provider
    /// does not take among them ([`super::UnknownKey`]) — or a value of the wrong type.
    #[error("{report}")]
    Toml {
        /// What is wrong.
        message: String,
        /// The 1-based line of the file it is on, when toml tells.
        line: Option<usize>,
        /// toml's report: the message with the line and its text.
        report: String,
    },
    /// A `[[providers]]` table the gateway cannot read: a key its kind does not take
    /// ([`super::UnknownKey`]), a value of the wrong type, a missing `name`.
    #[error("provider {name}: {reason}")]
    Provider {
        /// The provider's name (empty when the table has none).
        name: String,
        /// The key, when one is to blame.
        key: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// The file is larger than the gateway reads.
    #[error("{}: larger than {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// An error of the file `path`.
    #[error("{}: configuration: {error}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// The error.
        error: Box<ConfigError>,
    },
    /// A value, or values together, that the gateway cannot use.
    #[error("{0}")]
    Invalid(String),
}

impl ConfigError {
    /// toml's error `e` in `text`; `prefix`, if given, goes before what toml says.
    pub(crate) fn toml(text: &str, e: &toml::de::Error, prefix: Option<&str>) -> ConfigError {
        let with = |s: &str| match prefix {
            Some(p) => format!("{p}; {s}"),
            None => s.to_owned(),
        };
        ConfigError::Toml {
            message: with(e.message().trim()),
            line: e.span().map(|s| line_of(text, s.start)),
            report: with(e.to_string().trim()),
        }
    }

    /// The line of the file the error is on, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Toml { line, .. } => *line,
            ConfigError::InFile { error, .. } => error.line(),
            _ => None,
        }
    }

    /// The error without toml's quotation of the line (for a report that gives the line
    /// itself).
    pub fn brief(self) -> ConfigError {
        match self {
            ConfigError::Toml { message, line, .. } => ConfigError::Toml {
                report: message.clone(),
                message,
                line,
            },
            other => other,
        }
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}
