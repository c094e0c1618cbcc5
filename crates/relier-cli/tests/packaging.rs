//! What a package of `relier` ships beside the binary: `--version` with the git revision, shell
//! completions, the manual page; and `relier config check` on a good and a broken file.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::relier;

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn run(args: &[&str]) -> Out {
    let out = relier().args(args).output().await.unwrap();
    Out {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The subcommands every description of the command line must name.
const SUBCOMMANDS: [&str; 8] = [
    "discover",
    "login",
    "token",
    "keys",
    "providers",
    "serve",
    "config",
    "completions",
];

#[tokio::test]
async fn version_names_the_package_version_and_the_git_revision() {
    let out = run(&["--version"]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let line = out.stdout.trim();
    let expected = format!("relier {}", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(&expected), "{line}");
    // Built from this checkout: the revision git names for HEAD.
    let head = std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_owned());
    match head {
        Some(head) => {
            let rev = line
                .strip_prefix(&format!("{expected} (git "))
                .and_then(|r| r.strip_suffix(')'))
                .unwrap_or_else(|| panic!("no revision: {line}"));
            assert!(rev.len() >= 7, "{rev}");
            assert!(head.starts_with(rev), "{rev} is not HEAD {head}");
        }
        None => assert_eq!(line, expected),
    }
    let sub = run(&["serve", "--version"]).await;
    assert_eq!(
        sub.stdout.trim().split_once(' ').unwrap().1,
        line.split_once(' ').unwrap().1
    );
}

#[tokio::test]
async fn completions_for_bash_zsh_and_fish_name_every_subcommand() {
    for (shell, marker, option) in [
        ("bash", "complete -F", "--config"),
        ("zsh", "#compdef relier", "--config"),
        ("fish", "complete -c relier", "-l config"),
    ] {
        let out = run(&["completions", shell]).await;
        assert_eq!(out.code, Some(0), "{shell}: {}", out.stderr);
        assert!(out.stdout.contains(marker), "{shell}: {}", out.stdout);
        for sub in SUBCOMMANDS {
            assert!(out.stdout.contains(sub), "{shell} lacks {sub}");
        }
        assert!(out.stdout.contains(option), "{shell}");
    }
    let out = run(&["completions", "tcsh"]).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
}

#[tokio::test]
async fn man_prints_a_roff_page_naming_every_subcommand() {
    let out = run(&["man"]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let page = out.stdout;
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH relier 1"),
        "{page}"
    );
    assert!(page.contains(".TH relier 1"), "{page}");
    assert!(page.contains(".SH NAME"), "{page}");
    assert!(page.contains(".SH SUBCOMMANDS"), "{page}");
    for sub in SUBCOMMANDS {
        assert!(page.contains(&format!("relier\\-{sub}")), "lacks {sub}");
    }
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn config_check_accepts_a_good_file_with_a_one_line_summary() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens at the issuers, and the listen address is taken: neither matters.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let good = write(
        dir.path(),
        "good.toml",
        &format!(
            "listen = \"{}\"\npublic_url = \"https://gw.example.com\"\nlog_format = \"json\"\n\
             [[providers]]\nname = \"corp\"\nissuer = \"https://127.0.0.1:1\"\nclient_id = \"c\"\nclient_secret = \"s3cret-s3cret\"\n\
             [[providers]]\nname = \"gh\"\npreset = \"github\"\nclient_id = \"c\"\nclient_secret = \"s3cret-s3cret\"\n",
            taken.local_addr().unwrap()
        ),
    );
    let out = run(&["config", "check", "--config", &good]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert!(
        out.stdout.starts_with(&format!("{good}: ok")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("2 providers (corp, gh)"),
        "{}",
        out.stdout
    );
    assert!(!dir.path().join("relier.db").exists(), "no store opened");
    // The documented example passes too.
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/relier.toml");
    let out = relier()
        .args(["config", "check", "--config", example])
        .env("LOCAL_CLIENT_SECRET", "s3cret-s3cret")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Its provider's secret comes from the environment: without it, the provider's line.
    let out = relier()
        .args(["config", "check", "--config", example])
        .env_remove("LOCAL_CLIENT_SECRET")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let line = stderr.lines().next().unwrap();
    // The provider's `name = "local"` line.
    let name_line = std::fs::read_to_string(example)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("name = \"local\""))
        .unwrap()
        + 1;
    assert!(
        line.starts_with(&format!(
            "{example}:{name_line}: provider local: client_secret_env"
        )),
        "{line}"
    );
}

#[tokio::test]
async fn config_check_names_each_error_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let syntax = write(
        dir.path(),
        "syntax.toml",
        "public_url = \"https://gw.example.com\"\n\n[session]\nidle_timeout = \n",
    );
    let out = run(&["config", "check", "--config", &syntax]).await;
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    assert!(
        out.stderr.contains(&format!("{syntax}:4: ")),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());

    let unknown = write(
        dir.path(),
        "unknown.toml",
        "public_url = \"https://gw.example.com\"\nlisten_addr = \"127.0.0.1:1\"\n",
    );
    let out = run(&["config", "check", "--config", &unknown]).await;
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains(&format!("{unknown}:2: ")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("listen_addr"), "{}", out.stderr);

    // Three mistakes past parsing, each reported.
    let broken = write(
        dir.path(),
        "broken.toml",
        "public_url = \"http://gw.example.com\"\n\
         [limits]\nmax_headers = 0\n\
         [[providers]]\nname = \"a\"\nissuer = \"https://op.example.com\"\nclient_id = \"c\"\nclient_secret = \"s3cret-s3cret\"\n\
         [[providers]]\nname = \"a\"\nissuer = \"https://op.example.com\"\nclient_id = \"c\"\nclient_secret = \"s3cret-s3cret\"\n",
    );
    let out = run(&["config", "check", "--config", &broken]).await;
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{broken}:1: ")) && l.contains("public_url")),
        "{}",
        out.stderr
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{broken}:2: ")) && l.contains("max_headers")),
        "{}",
        out.stderr
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{broken}:10: ")) && l.contains("configured twice")),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
    assert!(out.stderr.contains("3 errors"), "{}", out.stderr);

    let missing = dir.path().join("missing.toml").display().to_string();
    let out = run(&["config", "check", "--config", &missing]).await;
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains(&missing), "{}", out.stderr);
}
