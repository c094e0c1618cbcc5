#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "a benchmark driver, not library code"
)]
//! An open-loop load for `GET /auth/check`: requests are scheduled at a fixed rate whatever
//! the server does, and each one's latency counts from when it was *due*, not from when a
//! connection became free — so a stall shows in the percentiles instead of slowing the
//! load down (wrk's closed loop, where C connections each wait for their answer before the
//! next request, measures the queue it builds itself once the server is saturated).
//!
//! ```sh
//! cargo build --release -p relier-gateway --example open_loop
//! target/release/examples/open_loop URL COOKIE_IDS_FILE RATE SECONDS [CONNECTIONS]
//! ```
//!
//! Each request carries `Cookie: relier_session=<id>` with an id drawn at random from the
//! file (one per line). Prints one line of JSON: the achieved rate, non-200 answers, errors,
//! and p50/p90/p99/p99.9/max in milliseconds. Used by `bench/check/scale.mjs --rate`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http_body_util::BodyExt as _;
use hyper::Request;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};

struct Job {
    due: Instant,
    cookie: String,
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    non_200: u64,
    errors: u64,
}

async fn connection(
    addr: String,
    host: String,
    jobs: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>,
) -> Tally {
    let mut tally = Tally::default();
    let stream = TcpStream::connect(&addr).await.expect("connect");
    stream.set_nodelay(true).unwrap();
    let (mut sender, conn) = http1::handshake::<_, Body>(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    loop {
        let Some(job) = jobs.lock().await.recv().await else {
            return tally;
        };
        let req = Request::get("/auth/check")
            .header("host", &host)
            .header("cookie", format!("relier_session={}", job.cookie))
            .body(Body::empty())
            .unwrap();
        match sender.send_request(req).await {
            Ok(res) => {
                let ok = res.status() == 200;
                if res.into_body().collect().await.is_err() {
                    tally.errors += 1;
                    continue;
                }
                tally.non_200 += u64::from(!ok);
            }
            Err(_) => {
                tally.errors += 1;
                continue;
            }
        }
        let us = job.due.elapsed().as_micros();
        tally
            .latencies_us
            .push(u64::try_from(us).unwrap_or(u64::MAX));
    }
}

fn percentile_ms(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, ids_file, rate, seconds, rest @ ..] = args.as_slice() else {
        panic!("usage: open_loop URL COOKIE_IDS_FILE RATE SECONDS [CONNECTIONS]");
    };
    let url = url::Url::parse(url).expect("URL");
    let host = format!(
        "{}:{}",
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap()
    );
    let ids: Vec<String> = std::fs::read_to_string(ids_file)
        .expect("cookie ids file")
        .lines()
        .map(str::to_owned)
        .collect();
    let rate: f64 = rate.parse().expect("RATE");
    let seconds: f64 = seconds.parse().expect("SECONDS");
    let connections: usize = rest.first().map_or(64, |c| c.parse().expect("CONNECTIONS"));

    let (tx, rx) = mpsc::unbounded_channel();
    let rx = Arc::new(Mutex::new(rx));
    let workers: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(connection(host.clone(), host.clone(), rx.clone())))
        .collect();
    // Let the connections open before the clock starts.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Requests fall due on a 1 ms grid, sent by a thread of their own that sleeps with the
    // OS's fine-grained timer (the async runtime's wakes up to 1 ms late, which would count
    // against every latency); a late wake-up of that thread still counts, as it should.
    let ticks = (seconds * 1000.0) as u64;
    let per_tick = rate / 1000.0;
    let start = Instant::now();
    let dispatcher = std::thread::spawn(move || {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ u64::from(std::process::id());
        let mut sent: u64 = 0;
        for k in 0..ticks {
            let due = start + Duration::from_millis(k);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            let until = ((k + 1) as f64 * per_tick) as u64;
            while sent < until {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let cookie = ids[(x % ids.len() as u64) as usize].clone();
                tx.send(Job { due, cookie }).unwrap();
                sent += 1;
            }
        }
    });
    // The workers end when the dispatcher is done (its sender dropped); only then join it,
    // as joining blocks this runtime's only thread.
    let mut all = Tally::default();
    for w in workers {
        let t = w.await.unwrap();
        all.latencies_us.extend(t.latencies_us);
        all.non_200 += t.non_200;
        all.errors += t.errors;
    }
    dispatcher.join().unwrap();
    let elapsed = start.elapsed().as_secs_f64();
    let mut l = all.latencies_us;
    l.sort_unstable();
    println!(
        "{{\"requests\":{},\"rate\":{:.0},\"non_200\":{},\"errors\":{},\"p50\":{:.3},\"p90\":{:.3},\"p99\":{:.3},\"p999\":{:.3},\"max\":{:.3}}}",
        l.len(),
        l.len() as f64 / elapsed,
        all.non_200,
        all.errors,
        percentile_ms(&l, 0.5),
        percentile_ms(&l, 0.9),
        percentile_ms(&l, 0.99),
        percentile_ms(&l, 0.999),
        l.last().map_or(f64::NAN, |m| *m as f64 / 1000.0),
    );
}
