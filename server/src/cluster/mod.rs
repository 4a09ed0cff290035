//! Several `joinup serve` processes serving the same events, tied together by NATS.
//!
//! Each live event is owned by one node at a time: the node holding its lease
//! ([`crate::storage::lease`]) runs its actor, exactly as a single server does, so every
//! rule of the hub (receipts, tallies applied on commit, rooms, the small-group rule) holds
//! unchanged. A connection that lands on any other node is relayed: its messages go to the
//! owner over NATS, and the owner's frames for it come back the same way ([`wire`]). The
//! database stays the source of truth; NATS carries only what changed.
//!
//! Faults. Every batch between two nodes is numbered, and heartbeats say the last number
//! sent, so a node that misses messages (NATS restarting, a slow consumer) notices: it
//! closes the connections concerned with 1012, and their clients resume with a fresh
//! `welcome` or `snapshot`. A node silent for [`PEER_TIMEOUT`] is treated as gone the same
//! way. The owner renews its leases every second ([`RENEW_EVERY`]), but only while it hears
//! its own heartbeats come back through NATS: an owner that stalls however it stalls
//! (frozen, cut from PostgreSQL, cut from NATS) stops renewing, and [`LEASE`] later the next
//! node asked for its events takes them and reloads them from the database. The owner gives
//! up an event (1012) when a renewal finds it taken, when its lease session fails (a node
//! may take a lease whose session has ended), or when it could not confirm the event as
//! its own for a whole [`LEASE`]; until it notices, its writes are refused by the event's
//! fencing number, checked inside every write transaction, so a stale owner never stores
//! anything after its successor.
//!
//! # Layout
//!
//! - `mod.rs` (here): the [`Cluster`] handle and what it shares between its duties, the
//!   timings, connecting, starting the node's tasks, and leaving.
//! - `ownership.rs`: taking and giving back an event's lease on the lease session.
//! - `owned.rs`: the events this node runs: answering for them, renewing their leases,
//!   giving them up.
//! - `rpc.rs`: requests to an event's owner, and the owner's answers.
//! - `placement.rs`: where an event runs (the hub's [`Placement`]): here, or relayed.
//! - `outbox.rs`: batches on their way to one node.
//! - `receive.rs`: batches arriving from other nodes, and relayed commands for events
//!   owned here.
//! - `peers.rs`: heartbeats, the nodes heard from, what happens when one goes silent.
//! - `proxies.rs`: this node's relays and its connections attached to them.
//! - `edits.rs`: a spec edited on any node, reloaded on the others.
//! - `relay.rs`: the stand-in for an event another node owns; `wire.rs`: what crosses NATS.

mod edits;
mod outbox;
mod owned;
mod ownership;
mod peers;
mod placement;
mod proxies;
mod receive;
mod relay;
mod rpc;
pub mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use crate::storage::lease::LEASE;
use bytes::BytesMut;
use dashmap::DashMap;
use thiserror::Error;
use tokio::sync::{Notify, mpsc};
use tracing::{info, warn};

use crate::domain::EventCode;
use crate::hub::{ConnId, ConnSink, Hub, HubError, local_node};
use crate::storage::lease;
use outbox::Outbox;
use owned::Owned;
use ownership::lock_connection;
pub use ownership::{Claim, Lease};
use peers::Peer;

/// How often a node says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// A node silent for this long is treated as gone.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a request to an event's owner may take.
const RPC_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a statement on the lease session may take before the session counts as lost.
const LOCK_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the owner renews its leases (each for [`LEASE`]).
pub const RENEW_EVERY: Duration = Duration::from_secs(1);
/// The owner renews only if its own heartbeat came back through NATS within this long (two
/// heartbeats): an owner cut from NATS stops renewing soon, and its events move about
/// `RENEWS_WHILE_HEARD + LEASE` after the cut. A renewal skipped for a late heartbeat costs
/// nothing while the lease lasts.
const RENEWS_WHILE_HEARD: Duration = Duration::from_secs(2);
/// After unloading an event whose lease is lost, how long before the lease task may try
/// again if the event was not disowned meanwhile.
const UNLOAD_RETRY: Duration = Duration::from_secs(2);
/// Entries waiting for one node before the sender treats the link as lost.
const OUTBOX: usize = 1 << 18;
/// The largest batch, well under NATS's default 1 MB payload limit.
const MAX_BATCH_BYTES: usize = 256 * 1024;

#[derive(Debug, Error)]
pub enum ClusterError {
    #[error("NATS: {0}")]
    Nats(String),
    #[error("the lease database: {0}")]
    Lock(#[from] sqlx::Error),
    #[error("the lease database did not answer in time")]
    LockTimeout,
    #[error("the node that owns this event did not answer")]
    NoAnswer,
    #[error("this node hears nothing from NATS: it takes no event")]
    Deaf,
}

#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    node: u32,
    nats: async_nats::Client,
    database: String,
    /// The PostgreSQL session this node takes and renews its leases on.
    lock: tokio::sync::Mutex<Option<lease::Session>>,
    /// When this node last heard its own heartbeat back from NATS: a node that does not is
    /// cut off, renews no lease and takes no event.
    echo: Mutex<Instant>,
    /// Since when it has heard its heartbeats come back without a gap.
    hearing_since: Mutex<Instant>,
    /// Events no node answered for when asked, and when: a lease whose holder still beats
    /// but no longer serves the event may be taken once it has run out.
    unserved: DashMap<EventCode, Instant>,
    /// When a statement on the lease session last succeeded.
    lease_ok: Mutex<Instant>,
    outboxes: DashMap<u32, Arc<Outbox>>,
    peers: Mutex<HashMap<u32, Peer>>,
    /// Connections of this node relayed to another node's event: where their frames go.
    attached: DashMap<ConnId, ConnSink>,
    /// Relays on this node, by event: the owner they relay to, and how to stop them.
    proxies: DashMap<EventCode, (u32, Arc<Notify>)>,
    /// Events this node owns, with the task answering their requests.
    owned: DashMap<EventCode, Owned>,
    /// Owned events whose lease is lost and whose actors are being stopped, until they are
    /// disowned.
    unloading: dashmap::DashSet<EventCode>,
    /// Connections of other nodes this node's events know, so a command from a connection
    /// the owner has dropped gets a 1012 instead of silence.
    relayed: DashMap<ConnId, EventCode>,
    /// Pieces of a long frame received so far, by sender (only the receiving task uses it).
    partial: Mutex<HashMap<u32, BytesMut>>,
    /// Events this node relayed to a node that went silent, with that node: this node asks
    /// for them again until they run somewhere that answers (see [`Cluster::adopt`]).
    orphans: mpsc::UnboundedSender<(EventCode, u32)>,
    /// Their receiving end, until [`Cluster::start`] takes it.
    orphans_rx: Mutex<Option<mpsc::UnboundedReceiver<(EventCode, u32)>>>,
}

impl Cluster {
    /// Connects to NATS (retrying in the background if it is not up yet) and checks the
    /// lock database. Call [`Cluster::start`] once the hub exists.
    pub async fn connect(nats_url: &str, database: &str) -> Result<Cluster, ClusterError> {
        let node = local_node();
        let addr: async_nats::ServerAddr = nats_url
            .parse()
            .map_err(|e: std::io::Error| ClusterError::Nats(e.to_string()))?;
        let mut options = async_nats::ConnectOptions::new()
            .name(format!("joinup-{node}"))
            .retry_on_initial_connect()
            .event_callback(|event| async move {
                match event {
                    async_nats::Event::Connected => info!("NATS connected"),
                    async_nats::Event::Disconnected => warn!("NATS disconnected"),
                    other => info!(event = %other, "NATS"),
                }
            });
        // Credentials in the URL: nats://USER:PASSWORD@HOST, or nats://TOKEN@HOST.
        match (addr.username(), addr.password()) {
            (Some(user), Some(password)) => {
                options = options.user_and_password(user.to_owned(), password.to_owned());
            }
            (Some(token), None) => options = options.token(token.to_owned()),
            _ => {}
        }
        let nats = options
            .connect(addr)
            .await
            .map_err(|e| ClusterError::Nats(e.to_string()))?;
        let lock = lock_connection(database).await?;
        let (orphans, orphans_rx) = mpsc::unbounded_channel();
        info!(node, "cluster node");
        Ok(Cluster {
            inner: Arc::new(Inner {
                node,
                nats,
                database: database.to_owned(),
                lock: tokio::sync::Mutex::new(Some(lock)),
                echo: Mutex::new(Instant::now()),
                hearing_since: Mutex::new(Instant::now()),
                unserved: DashMap::new(),
                lease_ok: Mutex::new(Instant::now()),
                outboxes: DashMap::new(),
                peers: Mutex::new(HashMap::new()),
                attached: DashMap::new(),
                proxies: DashMap::new(),
                owned: DashMap::new(),
                unloading: dashmap::DashSet::new(),
                relayed: DashMap::new(),
                partial: Mutex::new(HashMap::new()),
                orphans,
                orphans_rx: Mutex::new(Some(orphans_rx)),
            }),
        })
    }

    pub fn node(&self) -> u32 {
        self.inner.node
    }

    /// Subscribes to this node's subjects and starts the heartbeat.
    pub async fn start(&self, hub: Hub) -> Result<(), ClusterError> {
        let nats = &self.inner.nats;
        let batches = nats
            .subscribe(wire::node_subject(self.inner.node))
            .await
            .map_err(|e| ClusterError::Nats(e.to_string()))?;
        let heartbeats = nats
            .subscribe(wire::HEARTBEAT_SUBJECT)
            .await
            .map_err(|e| ClusterError::Nats(e.to_string()))?;
        let edits = nats
            .subscribe(wire::SPEC_SUBJECT)
            .await
            .map_err(|e| ClusterError::Nats(e.to_string()))?;
        tokio::spawn(self.clone().receive(batches, heartbeats));
        tokio::spawn(self.clone().reload_edited(edits, hub.clone()));
        tokio::spawn(self.clone().beat());
        tokio::spawn(self.clone().keep_leases(hub.clone()));
        let orphans = self
            .inner
            .orphans_rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(mut orphans) = orphans {
            let cluster = self.clone();
            tokio::spawn(async move {
                while let Some((code, silent)) = orphans.recv().await {
                    tokio::spawn(cluster.clone().adopt(hub.clone(), code, silent));
                }
            });
        }
        Ok(())
    }

    /// Sends what is queued before the process exits, then says goodbye so the other nodes
    /// move this node's clients on at once instead of after a heartbeat's silence.
    pub async fn flush(&self) {
        // Give the outboxes a moment to hand their last batches to the client.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let bye = self.heartbeat(true);
        let _ = self.inner.nats.publish(wire::HEARTBEAT_SUBJECT, bye).await;
        match tokio::time::timeout(Duration::from_secs(1), self.inner.nats.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(error = %e, "NATS flush at shutdown"),
            Err(_) => warn!("NATS flush at shutdown took too long"),
        }
    }
}

impl From<ClusterError> for HubError {
    fn from(e: ClusterError) -> HubError {
        HubError::Cluster(Box::new(e))
    }
}
