//! Fills a store with live sessions, for the gateway's scale measurements
//! (docs/benchmarks.md, "Sessions that miss the cache"):
//!
//! ```sh
//! RELIER_MASTER_KEY=$(head -c32 /dev/urandom | base64) \
//!   cargo run --release -p relier-store --example seed_sessions -- \
//!   sqlite:///tmp/relier-scale/relier.db 1000000 /tmp/relier-scale/ids.txt 10000
//! ```
//!
//! Arguments: the store URL, how many sessions, a file that receives the first ids (one per
//! line, for a load generator to send as cookies), and how many of them to write there. The
//! sessions belong to provider `local`, live for 24 hours, and look like a login's (tokens,
//! identity, CSRF token, all encrypted under `RELIER_MASTER_KEY`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a measurement tool: a failure should stop it loudly"
)]

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use relier_core::Secret;
use relier_store::{MasterKeySource, SessionRecord, Store, StoreUrl};
use serde_json::json;
use zeroize::Zeroizing;

const TASKS: usize = 8;

fn session(now: u64, i: usize) -> SessionRecord {
    let sub = format!("user-{i}");
    SessionRecord {
        provider: "local".into(),
        iss: "http://127.0.0.1".into(),
        sid: Some(format!("sid-{i}")),
        email: Some(format!("{sub}@example.com")),
        name: Some(format!("User {i}")),
        claims: json!({"sub": sub, "email": format!("{sub}@example.com"), "email_verified": true}),
        access_token: Some(Secret::new(format!("at-{i}-{}", "x".repeat(40)))),
        refresh_token: None,
        id_token: Some(Secret::new(format!("idt-{i}-{}", "y".repeat(600)))),
        dpop_key: None,
        access_expires_at: Some(now + 86_400),
        csrf_token: Secret::new(format!("csrf-{i}")),
        created_at: now,
        last_seen_at: now,
        idle_expires_at: now + 86_400,
        absolute_expires_at: now + 86_400,
        version: 0,
        app_data: None,
        sub,
    }
}

/// A session id in the cookie's format (43 base64url characters), from its number.
fn id(i: usize) -> String {
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("seed-{i}").as_bytes());
    relier_jose::b64::encode(digest.as_ref())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = StoreUrl::parse(&args[1]).unwrap();
    let count: usize = args[2].parse().unwrap();
    let ids_out = &args[3];
    let ids_count: usize = args[4].parse().unwrap();
    let key = Zeroizing::new(std::env::var("RELIER_MASTER_KEY").expect("RELIER_MASTER_KEY"));
    let store: Arc<dyn Store> = Arc::from(
        relier_store::open(&url, MasterKeySource::Env(key))
            .await
            .unwrap()
            .0,
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in (t..count).step_by(TASKS) {
                store
                    .create_session(&Secret::new(id(i)), &session(now, i))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(ids_out).unwrap());
    for i in 0..ids_count.min(count) {
        writeln!(out, "{}", id(i)).unwrap();
    }
    out.flush().unwrap();
    store.close().await;
    eprintln!(
        "{count} sessions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
