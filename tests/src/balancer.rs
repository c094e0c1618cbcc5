//! A round-robin TCP load balancer on 127.0.0.1 for the multi-instance tests: each new
//! connection goes to the next backend in turn; a backend that refuses the connection (e.g. a
//! killed instance) is skipped, as a load balancer's health check would. Bytes are copied both
//! ways until either side closes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A running balancer (stopped when dropped).
pub struct Balancer {
    addr: SocketAddr,
    served: Arc<Vec<AtomicUsize>>,
    task: JoinHandle<()>,
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Balancer {
    /// Listens on `listener` and spreads its connections over `backends`.
    pub fn start(listener: TcpListener, backends: Vec<SocketAddr>) -> Self {
        let addr = listener.local_addr().unwrap();
        let served: Arc<Vec<AtomicUsize>> =
            Arc::new(backends.iter().map(|_| AtomicUsize::new(0)).collect());
        let counts = served.clone();
        let task = tokio::spawn(async move {
            let next = AtomicUsize::new(0);
            while let Ok((client, _)) = listener.accept().await {
                let first = next.fetch_add(1, Ordering::Relaxed);
                let backends = backends.clone();
                let counts = counts.clone();
                tokio::spawn(async move {
                    for i in 0..backends.len() {
                        let idx = (first + i) % backends.len();
                        if let Ok(upstream) = TcpStream::connect(backends[idx]).await {
                            counts[idx].fetch_add(1, Ordering::Relaxed);
                            pipe(client, upstream).await;
                            return;
                        }
                    }
                });
            }
        });
        Balancer { addr, served, task }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections each backend has been given so far.
    pub fn served(&self) -> Vec<usize> {
        self.served
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .collect()
    }
}

async fn pipe(mut client: TcpStream, mut upstream: TcpStream) {
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}
