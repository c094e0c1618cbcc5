//! `relier completions bash|zsh|fish` and `relier man`: the command line described for shells
//! (clap_complete) and for `man` (clap_mangen, one roff page for `relier` listing every
//! subcommand), both generated from the same definitions the parser uses, so they cannot fall
//! behind it.

use clap::CommandFactory as _;

use crate::args::{Cli, CompletionShell};
use crate::output;

/// Writes the completion script for `shell` on stdout.
///
/// # Errors
/// Stdout cannot be written (a closed pipe).
pub fn completions(shell: CompletionShell) -> anyhow::Result<()> {
    use clap_complete::Shell;
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "relier", &mut script);
    output::stdout(&String::from_utf8_lossy(&script))
}

/// Writes the manual page (roff) on stdout.
///
/// # Errors
/// Stdout cannot be written.
pub fn man() -> anyhow::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    output::stdout(&String::from_utf8_lossy(&page))
}
