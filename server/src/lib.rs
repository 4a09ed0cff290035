//! Joinup: live engagement for conferences.
//!
//! Attendees join on their phones by code or QR, with no account; hosts run live polls,
//! word clouds, open answers, Q&A, a pledge and a service directory from a dashboard; the
//! presenter screen shows it to the room; organisers take away a report.
//!
//! # Layout
//! - [`protocol`]: wire messages (serde-tagged enums), error and close codes; no I/O.
//! - [`domain`]: the event spec and its validation, codes, tokens, moderation; answers,
//!   tallies and the small-group rule come from the `joinup-domain` crate, which the report
//!   shares, re-exported here; pure and synchronous.
//! - [`hub`]: the live layer: one actor task per live event owning its state, a registry of
//!   handles, bounded queues to every connection.
//! - [`storage`]: the only place SQL appears: the pool, migrations and the group-commit writer.
//! - [`http`]: axum glue: routes, WebSocket and SSE transports, errors, pages.
//! - [`admin`]: creating events, the demo event, the organiser key.
//! - [`report`]: reads an event into the pure `joinup-reports` crate; purge.
//! - [`cli`]: the `joinup` command line.
//! - [`cluster`]: several processes serving the same events over NATS (`--nats`).
//!
//! Dependencies point one way: `http -> hub -> domain`, `hub -> storage`.

pub mod admin;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod domain;
pub mod http;
pub mod hub;
pub mod metrics;
pub mod notice;
pub mod protocol;
pub mod report;
pub mod storage;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tracing::info;

pub use config::Config;

/// How long shutdown may take before the process gives up waiting.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(9);

/// Runs the server on `listener` until `shutdown` resolves, then stops accepting, commits
/// and acknowledges what is in flight, closes every client with 1012 and returns.
///
/// `ready` is called once the database is open and migrated, with the public base URL.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let storage = storage::Storage::open(&config.database)
        .await
        .with_context(|| {
            format!(
                "opening the database {}",
                config::redact_url(&config.database)
            )
        })?;
    serve(config, listener, storage, shutdown).await
}

/// Like [`run`], with storage already open (the demo creates its event first).
pub async fn serve(
    config: Config,
    listener: TcpListener,
    storage: storage::Storage,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let bound = listener.local_addr().context("reading the bound address")?;
    let (organiser_key, generated) = admin::organiser_key(
        config.organiser_key.as_deref(),
        storage.data_folder().as_deref(),
    )
    .context("reading or creating the organiser key")?;
    if generated {
        // Printed once, on the start that generates it; it is never logged.
        println!("Organiser key (kept in the data folder as organiser-key): {organiser_key}");
    }
    let cluster = match &config.nats {
        Some(url) => {
            if !config.database.starts_with("postgres") {
                anyhow::bail!("--nats needs a PostgreSQL database (--database postgres://...)");
            }
            let cluster = cluster::Cluster::connect(url, &config.database)
                .await
                .with_context(|| {
                    format!("joining the cluster over {}", config::redact_userinfo(url))
                })?;
            Some(cluster)
        }
        None => None,
    };
    let placement = cluster
        .clone()
        .map(|c| Arc::new(c) as Arc<dyn hub::Placement>);
    let hub = hub::Hub::new(storage.clone(), config.idle_unload, placement);
    if let Some(cluster) = &cluster {
        cluster
            .start(hub.clone())
            .await
            .context("subscribing to the cluster's subjects")?;
        info!(node = cluster.node(), "joined the cluster");
    }
    if let Some(days) = config.retention_days {
        tokio::spawn(retention(hub.clone(), days));
    }
    let app = http::AppState::new(hub.clone(), &config, bound, &organiser_key);
    let router = http::router(app);
    info!(addr = %bound, "joinup listening");
    let hub_for_shutdown = hub.clone();
    // Every frame goes out as soon as it is written: an ack, a tally or a reveal is one
    // small write, and Nagle's algorithm would hold it back until the client acknowledged
    // the previous one (up to its delayed-ACK timer, 40 ms on Linux).
    let listener = http::stall::StallLimited::new(listener, config.write_stall).tap_io(|io| {
        if let Err(e) = io.get_ref().set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY on a connection");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        info!("shutting down: finishing in-flight writes, closing clients with 1012");
        hub_for_shutdown.shutdown().await;
    })
    .await
    .context("serving HTTP")?;
    if let Some(cluster) = &cluster {
        cluster.flush().await;
    }
    storage.close().await;
    info!("stopped");
    Ok(())
}

/// Purges events `days` after they end, checking at start and then every hour.
async fn retention(hub: hub::Hub, days: u32) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let cutoff = domain::clock::format_unix(now - i64::from(days) * 86_400);
        let codes = match hub.storage().ended_by(&cutoff).await {
            Ok(codes) => codes,
            Err(e) => {
                tracing::warn!(error = %e, "retention: could not list ended events");
                continue;
            }
        };
        for code in codes {
            match report::purge(hub.storage(), code).await {
                Ok(_) => {
                    hub.unload(code).await;
                    info!(event = %code, days, "retention: raw answers purged");
                }
                Err(e) => tracing::warn!(event = %code, error = %e, "retention: purge failed"),
            }
        }
    }
}
