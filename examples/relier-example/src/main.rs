//! `relier-example --config relier.toml [--db FILE]`: the example application on the
//! configuration's `listen` address until Ctrl-C or SIGTERM.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use relier_example::App;
use relier_gateway::Config;

/// Local accounts with passwords and "Login with …" through relier, with account linking.
#[derive(Debug, Parser)]
#[command(name = "relier-example", version)]
struct Args {
    /// relier's configuration (as for `relier serve`): listen, public_url, store, [session],
    /// [[providers]].
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The application's own database (default: relier-example.db beside the SQLite store).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = Config::from_file(&args.config)
        .with_context(|| format!("reading {}", args.config.display()))?;
    let db = match args.db {
        Some(db) => db,
        None => relier_example::default_db_path(&config)?,
    };
    let listen = config.listen;
    let app = App::build(config, &db).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    tracing::info!(%listen, public_url = %app.origin, db = %db.display(), "relier-example listening");
    let router = app.router();
    // The TCP peer: what the password attempt limits count against (through relier's
    // trusted_proxies rules).
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(relier_gateway::shutdown_signal())
        .await
        .context("serving")?;
    app.shutdown().await;
    tracing::info!("relier-example stopped");
    Ok(())
}
