//! `joinup serve` and `joinup demo`: bind the listener, open the database, run the server
//! until SIGTERM or Ctrl-C. What the server does is `crate::serve`'s.

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

use super::Failure;
use crate::config::{self, Config};
use crate::storage::Storage;

pub(super) async fn serve(config: Config, demo: bool) -> Result<(), Failure> {
    if config.nats.is_some() && !config.database.starts_with("postgres") {
        return Err(Failure::Input(
            "--nats: a cluster needs a PostgreSQL database (--database postgres://...)".into(),
        ));
    }
    let listener = listen(config.addr, config.nats.is_some())
        .with_context(|| format!("listening on {}", config.addr))?;
    let bound = listener.local_addr().context("reading the bound address")?;
    let storage = Storage::open(&config.database).await.with_context(|| {
        format!(
            "opening the database {}",
            config::redact_url(&config.database)
        )
    })?;
    if demo {
        let created = crate::admin::ensure_demo(&storage, &config.public_url(bound))
            .await
            .context("creating the demo event")?;
        println!("Joinup demo: Dual Diagnosis Network Annual Conference 2026");
        println!("  code:      {}", created.code);
        println!("  attendees: {}", created.attend_url);
        println!("  host:      {}", created.host_url);
        println!("  presenter: {}", created.present_url);
    }
    println!("Joinup is listening on {}", config.public_url(bound));
    crate::serve(config, listener, storage, shutdown_signal()).await?;
    Ok(())
}

/// SIGTERM or Ctrl-C. Shutdown then has [`crate::SHUTDOWN_GRACE`] before the process exits
/// regardless.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tokio::spawn(async {
        tokio::time::sleep(crate::SHUTDOWN_GRACE).await;
        eprintln!("shutdown is taking too long; exiting");
        std::process::exit(1);
    });
}

/// Binds with a deep accept queue: a join storm of thousands of phones must not overflow
/// it (an overflow costs each refused phone a one-second SYN retry).
/// `shared`: several processes of a cluster may listen on the same port (SO_REUSEPORT); the
/// kernel spreads new connections over them.
fn listen(addr: SocketAddr, shared: bool) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    #[cfg(unix)]
    if shared {
        socket.set_reuseport(true)?;
    }
    #[cfg(not(unix))]
    let _ = shared;
    socket.bind(addr)?;
    socket.listen(8192)
}
