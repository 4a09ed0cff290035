//! A TCP relay between the nodes and PostgreSQL (or NATS) that the test can cut or hold. Cut: every
//! connection through it is reset and new ones are refused until it is restored, as when
//! the database host falls off the network. Held: nothing is refused or reset, but no byte
//! goes through either way (new connections are accepted and wait too) until it is
//! released, and then everything held goes through in order, as when a network path
//! stalls and heals.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;

pub struct PgProxy {
    pub port: u16,
    cut: Arc<AtomicBool>,
    /// `true` while held.
    held: watch::Sender<bool>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl PgProxy {
    /// Relays 127.0.0.1:PORT to `target` (host:port).
    pub async fn start(target: &str) -> PgProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let cut = Arc::new(AtomicBool::new(false));
        let (held, _) = watch::channel(false);
        let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let target = target.to_owned();
        let accept = {
            let (cut, links, held) = (cut.clone(), links.clone(), held.clone());
            tokio::spawn(async move {
                while let Ok((inbound, _)) = listener.accept().await {
                    if cut.load(Ordering::SeqCst) {
                        continue; // dropped: the client sees the connection closed
                    }
                    let target = target.clone();
                    let held = held.subscribe();
                    let link = tokio::spawn(async move {
                        if let Ok(outbound) = TcpStream::connect(&target).await {
                            let (from_client, to_client) = inbound.into_split();
                            let (from_server, to_server) = outbound.into_split();
                            // Both ways in this one task, so aborting it resets both.
                            tokio::join!(
                                pump(from_client, to_server, held.clone()),
                                pump(from_server, to_client, held)
                            );
                        }
                    });
                    links.lock().expect("links").push(link.abort_handle());
                }
            })
            .abort_handle()
        };
        PgProxy {
            port,
            cut,
            held,
            links,
            accept,
        }
    }

    /// Resets every connection through the relay and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }

    /// Stops every byte, both ways, on every connection, old and new, without closing any.
    pub fn hold(&self) {
        self.held.send_replace(true);
    }

    /// Lets everything held go through, in order.
    pub fn release(&self) {
        self.held.send_replace(false);
    }
}

/// Copies `from` to `to`, waiting whenever the relay is held (a chunk read just before the
/// hold waits too).
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut held: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if held.wait_for(|held| !*held).await.is_err() {
            return;
        }
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return;
            }
            Ok(n) => n,
        };
        if held.wait_for(|held| !*held).await.is_err() || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.accept.abort();
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }
}
