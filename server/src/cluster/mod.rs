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

mod relay;
pub mod wire;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use crate::storage::lease::LEASE;
use bytes::{Bytes, BytesMut};
use dashmap::DashMap;
use futures_util::StreamExt;
use thiserror::Error;
use tokio::sync::{Notify, mpsc, oneshot};
use tracing::{info, warn};

use crate::domain::EventCode;
use crate::domain::spec::parse_spec_value;
use crate::hub::{
    Command, ConnId, ConnSink, EndError, EventHandle, Hub, HubError, Out, Placement, RemoteOut,
    RespecError, StreamOpen, local_node,
};
use crate::metrics::METRICS;
use crate::protocol::CloseCode;
use crate::storage::Fence;
use crate::storage::lease;
use wire::{Batch, Entry, Heartbeat, RelayCommand, Rpc, RpcReply};

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

/// What [`Cluster::try_own`] found.
#[derive(Debug)]
pub enum Claim {
    /// This node holds the event's lease now: run it under the lease's fence.
    Taken(Lease),
    /// Another node's live lease holds it. `answering`: whether that node's heartbeats
    /// still arrive (if not, its lease runs out within [`LEASE`]: ask again, not it).
    Held { node: u32, answering: bool },
    /// No event has this code.
    Unknown,
}

/// A lease this node has taken: the fence its actor's writes carry, and when it was taken.
#[derive(Debug, Clone, Copy)]
pub struct Lease {
    pub fence: Fence,
    taken: Instant,
}

struct Owned {
    /// The lease this event runs under: an event counts as owned, and its lease is given
    /// back, only under the fence it was taken with.
    fence: Fence,
    /// When this node last confirmed the event is still its own (the lease taken, renewed,
    /// or found unchanged), by the time the statement was sent. Unconfirmed for [`LEASE`],
    /// it is given up: another node may hold it.
    confirmed: Instant,
    /// Relayed commands, in the order they arrived, on their way to the actor: the receiving
    /// loop never waits for a busy actor, so heartbeats and other events keep flowing.
    relayed: mpsc::UnboundedSender<Command>,
    rpc: tokio::task::AbortHandle,
}

struct Peer {
    last_seen: Instant,
    /// The number of the last batch received from it.
    received: u64,
    gone: bool,
}

impl Peer {
    fn new() -> Peer {
        Peer {
            last_seen: Instant::now(),
            received: 0,
            gone: false,
        }
    }
}

/// The batches waiting for one node.
#[derive(Debug)]
struct Outbox {
    tx: mpsc::Sender<Entry>,
    /// Set when an entry could not be queued: the next batch skips a number, so the
    /// receiver notices and resynchronises.
    lost: AtomicBool,
    /// The number of the last batch published.
    sent: AtomicU64,
}

impl RemoteOut for Outbox {
    fn send(&self, conn: ConnId, out: Out) -> bool {
        let entry = match out {
            Out::Frame(frame) => Entry::Frame {
                conns: vec![conn],
                frame,
            },
            Out::Close(code) => Entry::Close {
                conn,
                code: code.code(),
            },
            // Only a local transport's own reply leaves a flush owing; nothing to relay.
            Out::Flush => return true,
        };
        if self.tx.try_send(entry).is_ok() {
            true
        } else {
            self.lost.store(true, Ordering::Relaxed);
            false
        }
    }
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

    // ------------------------------------------------------------------ ownership

    /// Takes the lease on `code` if no live lease holds it. A node cut off from NATS takes
    /// nothing: nobody could reach the event there.
    pub async fn try_own(&self, code: EventCode) -> Result<Claim, ClusterError> {
        if !self.hears_nats() {
            return Err(ClusterError::Deaf);
        }
        let taken = Instant::now();
        let may_take_expired = |holder: u32| self.may_take_expired(code, holder);
        let mut lock = self.inner.lock.lock().await;
        let conn = self.session(&mut lock).await?;
        let claim = within(lease::take(conn, code, self.inner.node, may_take_expired)).await;
        let claim = self.checked(&mut lock, claim)?;
        Ok(match claim {
            lease::Claim::Taken(fence) => Claim::Taken(Lease { fence, taken }),
            lease::Claim::Held { node } => Claim::Held {
                node,
                answering: node == self.inner.node || self.answering(node),
            },
            lease::Claim::Unknown => Claim::Unknown,
        })
    }

    /// Gives back the lease `fence` names, if it is still the event's: the next node asked
    /// takes the event at once rather than after [`LEASE`].
    pub async fn release(&self, fence: Fence) {
        let mut lock = self.inner.lock.lock().await;
        let released = match self.session(&mut lock).await {
            Ok(conn) => within(lease::release(conn, fence)).await,
            Err(e) => Err(e),
        };
        if let Err(e) = self.checked(&mut lock, released) {
            warn!(event = %fence.event, error = %e, "could not give back an event's lease");
        }
    }

    /// The lease session, opened again if it was lost.
    async fn session<'a>(
        &self,
        lock: &'a mut Option<lease::Session>,
    ) -> Result<&'a mut lease::Session, ClusterError> {
        if lock.is_none() {
            *lock = Some(lock_connection(&self.inner.database).await?);
        }
        lock.as_mut().ok_or(ClusterError::LockTimeout)
    }

    /// Passes on a statement's outcome on the lease session, forgetting the session if it
    /// failed (a session in doubt is replaced, never reused).
    fn checked<T>(
        &self,
        lock: &mut Option<lease::Session>,
        outcome: Result<T, ClusterError>,
    ) -> Result<T, ClusterError> {
        match outcome {
            Ok(value) => {
                *self
                    .inner
                    .lease_ok
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Instant::now();
                Ok(value)
            }
            Err(e) => {
                *lock = None;
                Err(e)
            }
        }
    }

    /// Whether this node may take over `code` from `holder`, whose lease has run out but
    /// whose session lives. Only if this node has heard NATS steadily for [`PEER_TIMEOUT`]
    /// (just back from a NATS outage, it cannot yet tell a silent owner from one that is
    /// about to renew), and `holder` is silent or no node answered for the event lately.
    fn may_take_expired(&self, code: EventCode, holder: u32) -> bool {
        let steady = {
            let since = *self
                .inner
                .hearing_since
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            self.hears_nats() && since.elapsed() >= PEER_TIMEOUT
        };
        let unserved = self
            .inner
            .unserved
            .get(&code)
            .is_some_and(|at| at.elapsed() <= RPC_TIMEOUT + PEER_TIMEOUT);
        holder == self.inner.node || (steady && (!self.answering(holder) || unserved))
    }

    /// Whether this node has heard its own heartbeat come back from NATS lately.
    fn hears_nats(&self) -> bool {
        self.heard_within(PEER_TIMEOUT)
    }

    fn heard_within(&self, within: Duration) -> bool {
        let echo = *self.inner.echo.lock().unwrap_or_else(|e| e.into_inner());
        echo.elapsed() <= within
    }

    /// Whether `node`'s heartbeats still arrive (a node never heard from counts as
    /// answering: ask it).
    fn answering(&self, node: u32) -> bool {
        let peers = self.inner.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers.get(&node).is_none_or(|peer| !peer.gone)
    }

    /// Whether this node can serve: it hears NATS, and its lease session has answered
    /// within [`LEASE`]. A node that cannot (cut off from either, or just woken from a
    /// stall) says so on `/healthz`, so a health-checked load balancer sends phones elsewhere.
    pub fn healthy(&self) -> bool {
        let lease_ok = *self
            .inner
            .lease_ok
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        self.hears_nats() && lease_ok.elapsed() <= LEASE
    }

    /// Starts answering requests for an event this node has just loaded under `lease`.
    pub async fn serve_owned(
        &self,
        code: EventCode,
        lease: Lease,
        handle: EventHandle,
    ) -> Result<(), ClusterError> {
        let requests = self
            .inner
            .nats
            .subscribe(wire::rpc_subject(code))
            .await
            .map_err(|e| ClusterError::Nats(e.to_string()))?;
        let task = tokio::spawn(self.clone().answer(code, handle.clone(), requests));
        let (relayed, mut queue) = mpsc::unbounded_channel();
        let actor = handle.clone();
        tokio::spawn(async move {
            while let Some(command) = queue.recv().await {
                if actor.send(command).await.is_err() {
                    break;
                }
            }
        });
        self.inner.owned.insert(
            code,
            Owned {
                fence: lease.fence,
                confirmed: lease.taken,
                relayed,
                rpc: task.abort_handle(),
            },
        );
        info!(event = %code, "event owned by this node");
        Ok(())
    }

    /// Whether an actor for `code` still runs here (it may be stopping).
    pub fn owns(&self, code: EventCode) -> bool {
        self.inner.owned.contains_key(&code)
    }

    /// The owned event's actor, started under `fence`, has stopped: stop answering for it
    /// and give back its lease.
    pub async fn disown(&self, fence: Fence) {
        let code = fence.event;
        if let Some((_, owned)) = self
            .inner
            .owned
            .remove_if(&code, |_, owned| owned.fence == fence)
        {
            owned.rpc.abort();
            self.inner.unloading.remove(&code);
        }
        self.inner.relayed.retain(|_, event| *event != code);
        self.announce_gone(code);
        self.release(fence).await;
    }

    /// Tells every other node this one no longer runs `code`: their relays to it stop at
    /// once (1012) rather than after a heartbeat's silence, and their clients ask again.
    fn announce_gone(&self, code: EventCode) {
        let peers: Vec<u32> = self.inner.outboxes.iter().map(|o| *o.key()).collect();
        for node in peers {
            let _ = self.outbox(node).tx.try_send(Entry::Gone { event: code });
        }
    }

    /// The node that owns `code`, asked over NATS; `None` when no node answers for it.
    pub async fn owner(&self, code: EventCode) -> Result<Option<u32>, ClusterError> {
        let asked = self.request(code, &Rpc::Attach).await;
        if !matches!(asked, Ok(RpcReply::Attached { .. })) {
            self.inner.unserved.insert(code, Instant::now());
        }
        match asked {
            Ok(RpcReply::Attached { node }) => {
                self.inner.unserved.remove(&code);
                self.seen(node);
                Ok(Some(node))
            }
            Ok(_) => Err(ClusterError::NoAnswer),
            Err(RequestFailed::NoResponders) => Ok(None),
            Err(RequestFailed::Other(e)) => Err(e),
        }
    }

    /// Asks the owner of `code`.
    pub async fn rpc(&self, code: EventCode, rpc: &Rpc) -> Result<RpcReply, ClusterError> {
        self.request(code, rpc).await.map_err(|e| match e {
            RequestFailed::NoResponders => ClusterError::NoAnswer,
            RequestFailed::Other(e) => e,
        })
    }

    async fn request(&self, code: EventCode, rpc: &Rpc) -> Result<RpcReply, RequestFailed> {
        let payload = serde_json::to_vec(rpc).unwrap_or_default();
        let reply = tokio::time::timeout(
            RPC_TIMEOUT,
            self.inner
                .nats
                .request(wire::rpc_subject(code), payload.into()),
        )
        .await
        .map_err(|_| RequestFailed::Other(ClusterError::NoAnswer))?;
        match reply {
            Ok(message) => serde_json::from_slice(&message.payload)
                .map_err(|e| RequestFailed::Other(ClusterError::Nats(e.to_string()))),
            Err(e) if e.kind() == async_nats::RequestErrorKind::NoResponders => {
                Err(RequestFailed::NoResponders)
            }
            Err(e) => Err(RequestFailed::Other(ClusterError::Nats(e.to_string()))),
        }
    }

    /// Answers the requests for an owned event until it is disowned.
    async fn answer(
        self,
        code: EventCode,
        handle: EventHandle,
        mut requests: async_nats::Subscriber,
    ) {
        while let Some(message) = requests.next().await {
            let Some(reply_to) = message.reply else {
                continue;
            };
            let rpc: Rpc = match serde_json::from_slice(&message.payload) {
                Ok(rpc) => rpc,
                Err(e) => {
                    warn!(event = %code, error = %e, "a request that does not decode");
                    continue;
                }
            };
            let cluster = self.clone();
            let handle = handle.clone();
            tokio::spawn(async move {
                let reply = cluster.on_rpc(code, &handle, rpc).await;
                let payload = serde_json::to_vec(&reply).unwrap_or_default();
                if let Err(e) = cluster.inner.nats.publish(reply_to, payload.into()).await {
                    warn!(error = %e, "could not answer a request");
                }
            });
        }
    }

    async fn on_rpc(&self, code: EventCode, handle: &EventHandle, rpc: Rpc) -> RpcReply {
        match rpc {
            Rpc::Attach => RpcReply::Attached {
                node: self.inner.node,
            },
            Rpc::Post { token, msg } => {
                let (reply, answer) = oneshot::channel();
                if handle
                    .send(Command::Post {
                        token,
                        msg,
                        reply,
                        at: tokio::time::Instant::now(),
                    })
                    .await
                    .is_err()
                {
                    return RpcReply::Unavailable;
                }
                match answer.await {
                    Ok(posted) => RpcReply::Posted {
                        frame: String::from_utf8_lossy(&posted.frame).into_owned(),
                        token: posted.token,
                    },
                    Err(_) => RpcReply::Unavailable,
                }
            }
            Rpc::Stream { conn, token } => {
                self.inner.relayed.insert(conn, code);
                let sink = ConnSink::remote(conn, self.outbox(conn.node()));
                let (reply, answer) = oneshot::channel();
                let command = Command::Stream {
                    conn,
                    token,
                    sink,
                    reply,
                };
                if handle.send(command).await.is_err() {
                    return RpcReply::Unavailable;
                }
                RpcReply::Streamed(answer.await.unwrap_or(StreamOpen::Unknown))
            }
            Rpc::Respec { if_match, spec } => {
                let event = serde_json::from_str(&spec)
                    .map_err(|e| e.to_string())
                    .and_then(|value| parse_spec_value(value).map_err(|e| e.to_string()));
                let event = match event {
                    Ok(event) => event,
                    Err(e) => {
                        // The relay sent a spec it had validated: only a different version
                        // of the server could get here.
                        warn!(event = %code, error = %e, "a relayed edit did not validate here");
                        return RpcReply::Respecced(Err(RespecError::Failed));
                    }
                };
                let (reply, answer) = oneshot::channel();
                let command = Command::Respec {
                    if_match,
                    event: Box::new(event),
                    reply,
                };
                if handle.send(command).await.is_err() {
                    return RpcReply::Unavailable;
                }
                RpcReply::Respecced(answer.await.unwrap_or(Err(RespecError::Busy)))
            }
            rpc @ (Rpc::End | Rpc::EndFrom { .. }) => {
                let (reply, answer) = oneshot::channel();
                let from = rpc.end_from();
                if handle.send(Command::End { from, reply }).await.is_err() {
                    return RpcReply::Unavailable;
                }
                let stopped = || Err(EndError::Failed("stopped".into()));
                RpcReply::ended(answer.await.unwrap_or_else(|_| stopped()))
            }
            Rpc::Revoke { link } => {
                if handle.send(Command::Revoke { link }).await.is_err() {
                    return RpcReply::Unavailable;
                }
                RpcReply::Revoked
            }
        }
    }

    // ------------------------------------------------------------------ edits

    /// Tells every node that `code`'s spec was edited (this one included).
    fn announce_edit(&self, code: EventCode) {
        let nats = self.inner.nats.clone();
        tokio::spawn(async move {
            let payload = Bytes::copy_from_slice(code.as_str().as_bytes());
            if let Err(e) = nats.publish(wire::SPEC_SUBJECT, payload).await {
                warn!(event = %code, error = %e, "could not announce an edit");
            }
        });
    }

    /// Edits announced by any node: an event this node keeps but does not run (a relay, and
    /// the pages it serves) is reloaded from the database. The owner's actor made the edit
    /// and already runs under it.
    async fn reload_edited(self, mut edits: async_nats::Subscriber, hub: Hub) {
        while let Some(message) = edits.next().await {
            let Some(code) = std::str::from_utf8(&message.payload)
                .ok()
                .and_then(EventCode::parse)
            else {
                continue;
            };
            if self.owns(code) {
                continue;
            }
            if let Err(e) = hub.refresh_info(code).await {
                warn!(event = %code, error = %e, "could not reload an edited event");
            }
        }
    }

    // ------------------------------------------------------------------ relaying

    /// A relay for `code` to `owner` starts on this node; notified when it must stop.
    pub fn register_proxy(&self, code: EventCode, owner: u32) -> Arc<Notify> {
        let stop = Arc::new(Notify::new());
        self.inner.proxies.insert(code, (owner, stop.clone()));
        stop
    }

    pub fn unregister_proxy(&self, code: EventCode, stop: &Arc<Notify>) {
        self.inner
            .proxies
            .remove_if(&code, |_, (_, s)| Arc::ptr_eq(s, stop));
    }

    /// Frames from the owner for `conn` go to `sink` from now on.
    pub fn attach(&self, conn: ConnId, sink: ConnSink) {
        if self.inner.attached.insert(conn, sink).is_none() {
            METRICS.relayed_connections.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Frames for `conn` stop; its sink is handed back.
    pub fn detach(&self, conn: ConnId) -> Option<ConnSink> {
        let (_, sink) = self.inner.attached.remove(&conn)?;
        METRICS.relayed_connections.fetch_sub(1, Ordering::Relaxed);
        Some(sink)
    }

    /// Queues a connection's command for the owner of `event`; waits while the link is full.
    pub async fn relay(&self, owner: u32, event: EventCode, command: RelayCommand) -> bool {
        self.outbox(owner)
            .tx
            .send(Entry::Command { event, command })
            .await
            .is_ok()
    }

    /// The queue of batches to `node`, started on first use.
    fn outbox(&self, node: u32) -> Arc<Outbox> {
        if let Some(outbox) = self.inner.outboxes.get(&node) {
            return outbox.clone();
        }
        self.inner
            .outboxes
            .entry(node)
            .or_insert_with(|| {
                let (tx, rx) = mpsc::channel(OUTBOX);
                let outbox = Arc::new(Outbox {
                    tx,
                    lost: AtomicBool::new(false),
                    sent: AtomicU64::new(0),
                });
                tokio::spawn(self.clone().send_batches(node, rx, outbox.clone()));
                outbox
            })
            .clone()
    }

    /// Publishes what is queued for `node`, as many entries a batch as are waiting.
    async fn send_batches(self, node: u32, mut rx: mpsc::Receiver<Entry>, outbox: Arc<Outbox>) {
        let subject = wire::node_subject(node);
        let mut seq = 0u64;
        while let Some(first) = rx.recv().await {
            let mut bytes = wire::size(&first);
            let mut entries = vec![first];
            while bytes < MAX_BATCH_BYTES {
                let Ok(entry) = rx.try_recv() else { break };
                bytes += wire::size(&entry);
                push_merged(&mut entries, entry);
            }
            for batch in wire::into_batches(entries, MAX_BATCH_BYTES) {
                seq += 1;
                if outbox.lost.swap(false, Ordering::Relaxed) {
                    // Something for this node was dropped: a gap makes it resynchronise.
                    seq += 1;
                }
                let payload = wire::encode(self.inner.node, seq, &batch);
                if let Err(e) = self.inner.nats.publish(subject.clone(), payload).await {
                    warn!(node, error = %e, "could not publish a batch");
                    seq += 1;
                }
                METRICS.cluster_batches_out.fetch_add(1, Ordering::Relaxed);
                outbox.sent.store(seq, Ordering::Relaxed);
            }
        }
    }

    // ------------------------------------------------------------------ receiving

    async fn receive(
        self,
        mut batches: async_nats::Subscriber,
        mut heartbeats: async_nats::Subscriber,
    ) {
        loop {
            // Batches first: a heartbeat must never overtake the batches sent before it.
            tokio::select! {
                biased;
                Some(message) = batches.next() => self.on_batch(message.payload).await,
                Some(message) = heartbeats.next() => self.on_heartbeat(&message.payload).await,
                else => break,
            }
        }
    }

    async fn on_batch(&self, payload: Bytes) {
        let batch = match wire::decode(payload) {
            Ok(batch) => batch,
            Err(e) => {
                warn!(error = %e, "a batch that does not decode");
                return;
            }
        };
        let Batch { from, seq, entries } = batch;
        METRICS.cluster_batches_in.fetch_add(1, Ordering::Relaxed);
        let gap = {
            let mut peers = self.inner.peers.lock().unwrap_or_else(|e| e.into_inner());
            let peer = peers.entry(from).or_insert_with(Peer::new);
            peer.last_seen = Instant::now();
            let gap = seq != peer.received + 1;
            peer.received = seq;
            gap
        };
        if gap {
            warn!(
                node = from,
                seq, "messages from a node were lost: resynchronising"
            );
            self.reset_peer(from);
        }
        for entry in entries {
            match entry {
                Entry::Frame { conns, frame } => self.deliver(conns, &frame),
                Entry::Part {
                    conns,
                    chunk,
                    first,
                    last,
                } => {
                    let whole = {
                        let mut partial =
                            self.inner.partial.lock().unwrap_or_else(|e| e.into_inner());
                        if first {
                            partial.insert(from, BytesMut::new());
                        }
                        // A piece whose first part was lost is dropped (the gap that lost it
                        // has already sent its connections to reconnect).
                        if let Some(buf) = partial.get_mut(&from) {
                            buf.extend_from_slice(&chunk);
                        }
                        if last {
                            partial.remove(&from).map(BytesMut::freeze)
                        } else {
                            None
                        }
                    };
                    if let Some(frame) = whole {
                        self.deliver(conns, &frame);
                    }
                }
                Entry::Close { conn, code } => {
                    if let Some(sink) = self.inner.attached.get(&conn) {
                        sink.close(CloseCode::from_code(code).unwrap_or(CloseCode::Restarting));
                    }
                }
                // Only a relay to the sender: a relay to a newer owner stays.
                Entry::Gone { event } => self.stop_proxy(event, from),
                Entry::Command { event, command } => self.on_command(from, event, command),
            }
        }
    }

    /// A frame from an owner for connections of this node.
    fn deliver(&self, conns: Vec<ConnId>, frame: &Bytes) {
        for conn in conns {
            if let Some(sink) = self.inner.attached.get(&conn) {
                // A full queue kicks the connection; its transport reports it.
                let _ = sink.send(frame.clone());
            }
        }
    }

    /// A relayed connection's command for an event this node should own.
    fn on_command(&self, from: u32, event: EventCode, command: RelayCommand) {
        let queue = self.inner.owned.get(&event).map(|o| o.relayed.clone());
        let conn = command.conn();
        let Some(queue) = queue else {
            // Not ours (any more): the relay must look for the owner again.
            let outbox = self.outbox(from);
            let _ = outbox.tx.try_send(Entry::Gone { event });
            let _ = outbox.send(conn, Out::Close(CloseCode::Restarting));
            return;
        };
        let command = match command {
            RelayCommand::Connect {
                conn,
                role,
                link,
                room,
            } => {
                self.inner.relayed.insert(conn, event);
                Command::Connect {
                    conn,
                    role,
                    sink: ConnSink::remote(conn, self.outbox(from)),
                    link,
                    room,
                }
            }
            RelayCommand::Disconnect { conn } => {
                self.inner.relayed.remove(&conn);
                Command::Disconnect { conn }
            }
            RelayCommand::Client { conn, .. } | RelayCommand::Host { conn, .. }
                if !self.inner.relayed.contains_key(&conn) =>
            {
                let _ = self
                    .outbox(from)
                    .send(conn, Out::Close(CloseCode::Restarting));
                return;
            }
            RelayCommand::Client { conn, msg } => Command::Client {
                conn,
                msg,
                at: tokio::time::Instant::now(),
            },
            RelayCommand::Host { conn, msg } => Command::Host { conn, msg },
        };
        if queue.send(command).is_err() {
            let _ = self
                .outbox(from)
                .send(conn, Out::Close(CloseCode::Restarting));
        }
    }

    async fn on_heartbeat(&self, payload: &[u8]) {
        let Ok(beat) = serde_json::from_slice::<Heartbeat>(payload) else {
            return;
        };
        if beat.node == self.inner.node {
            // This node's own heartbeat, back through NATS: the link works both ways.
            let now = Instant::now();
            let last = std::mem::replace(
                &mut *self.inner.echo.lock().unwrap_or_else(|e| e.into_inner()),
                now,
            );
            if now.duration_since(last) > PEER_TIMEOUT {
                *self
                    .inner
                    .hearing_since
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = now;
            }
            return;
        }
        let sent_to_me = beat
            .sent
            .iter()
            .find(|(node, _)| *node == self.inner.node)
            .map(|(_, seq)| *seq)
            .unwrap_or(0);
        let gap = {
            let mut peers = self.inner.peers.lock().unwrap_or_else(|e| e.into_inner());
            let peer = peers.entry(beat.node).or_insert_with(Peer::new);
            peer.last_seen = Instant::now();
            if peer.gone {
                info!(node = beat.node, "a node is back");
                peer.gone = false;
            }
            let gap = sent_to_me > peer.received;
            peer.received = peer.received.max(sent_to_me);
            gap
        };
        if gap {
            warn!(
                node = beat.node,
                "a batch from a node was lost: resynchronising"
            );
            self.reset_peer(beat.node);
        }
    }

    /// Treats everything between this node and `node` as lost: relays to it stop (their
    /// clients reconnect with 1012) and connections it relayed here are closed and forgotten.
    fn reset_peer(&self, node: u32) {
        METRICS.cluster_resyncs.fetch_add(1, Ordering::Relaxed);
        // A frame half received from it will never be finished.
        self.inner
            .partial
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&node);
        self.stop_proxy_of(node);
        self.inner.relayed.retain(|conn, _| conn.node() != node);
        for owned in self.inner.owned.iter() {
            // Behind the commands already queued from that node, so none of them revives
            // a connection after it is dropped.
            let _ = owned.relayed.send(Command::NodeGone { node });
        }
    }

    fn stop_proxy_of(&self, owner: u32) {
        let codes: Vec<EventCode> = self
            .inner
            .proxies
            .iter()
            .filter(|p| p.value().0 == owner)
            .map(|p| *p.key())
            .collect();
        for code in codes {
            self.stop_proxy(code, owner);
        }
    }

    /// Stops the relay for `code` if it relays to `owner`.
    fn stop_proxy(&self, code: EventCode, owner: u32) {
        if let Some(p) = self.inner.proxies.get(&code)
            && p.0 == owner
        {
            p.1.notify_one();
        }
    }

    fn seen(&self, node: u32) {
        let mut peers = self.inner.peers.lock().unwrap_or_else(|e| e.into_inner());
        let peer = peers.entry(node).or_insert_with(Peer::new);
        if peer.gone {
            peer.last_seen = Instant::now();
            peer.gone = false;
        }
    }

    // ------------------------------------------------------------------ heartbeat

    /// Says this node is alive and notices nodes that are not. Nothing here waits for the
    /// database, so a node's heartbeats never stop while its database is slow.
    async fn beat(self) {
        let mut every = tokio::time::interval(HEARTBEAT);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let beat = self.heartbeat(false);
            if let Err(e) = self.inner.nats.publish(wire::HEARTBEAT_SUBJECT, beat).await {
                warn!(error = %e, "could not publish a heartbeat");
            }
            let silent: Vec<u32> = {
                let mut peers = self.inner.peers.lock().unwrap_or_else(|e| e.into_inner());
                peers
                    .iter_mut()
                    .filter(|(_, p)| !p.gone && p.last_seen.elapsed() > PEER_TIMEOUT)
                    .map(|(node, p)| {
                        p.gone = true;
                        *node
                    })
                    .collect()
            };
            for node in silent {
                warn!(node, "a node went silent: closing what it relayed");
                let relayed: Vec<EventCode> = self
                    .inner
                    .proxies
                    .iter()
                    .filter(|p| p.value().0 == node)
                    .map(|p| *p.key())
                    .collect();
                self.reset_peer(node);
                for code in relayed {
                    let _ = self.inner.orphans.send((code, node));
                }
            }
        }
    }

    /// Asks for `code`, relayed to `silent` until that node went silent, again and again
    /// until it runs here, or is relayed to a node that answers, or `silent` is heard
    /// again: so an event whose owner stalled moves once its lease runs out, whether or not
    /// a client happens to be waiting at that moment (clients give up an unanswered
    /// connection after a few seconds, and may all end up on the stalled owner itself).
    async fn adopt(self, hub: Hub, code: EventCode, silent: u32) {
        let deadline = Instant::now() + LEASE + PEER_TIMEOUT + RPC_TIMEOUT;
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let settled = self.owns(code)
                || self
                    .inner
                    .proxies
                    .get(&code)
                    .is_some_and(|p| p.value().0 != silent || self.answering(silent));
            if settled {
                return;
            }
            if !self.hears_nats() {
                // All of NATS is down (every node went silent at once): nobody can take
                // anything until it is back.
                continue;
            }
            // Runs the event here if its lease is free, or relays to whoever took it;
            // otherwise waits (up to ten seconds) and fails, and this loop asks again.
            let _ = hub.event(code).await;
        }
    }

    fn heartbeat(&self, leaving: bool) -> Bytes {
        let beat = Heartbeat {
            node: self.inner.node,
            sent: self
                .inner
                .outboxes
                .iter()
                .map(|o| (*o.key(), o.sent.load(Ordering::Relaxed)))
                .collect(),
            leaving,
        };
        serde_json::to_vec(&beat).unwrap_or_default().into()
    }

    /// Renews this node's leases every [`RENEW_EVERY`] (while it hears NATS), and unloads
    /// the events whose lease is lost: taken by another node, or possibly run out. The
    /// unloading runs beside this task, which must keep renewing the others meanwhile.
    async fn keep_leases(self, hub: Hub) {
        let mut every = tokio::time::interval(RENEW_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            self.renew(&hub).await;
        }
    }

    async fn renew(&self, hub: &Hub) {
        // Unconfirmed for a whole LEASE (a statement that hangs must not keep this node from
        // noticing), an event may have been taken.
        self.give_up(hub, self.expired());
        let held: Vec<Fence> = self
            .inner
            .owned
            .iter()
            .filter(|owned| !self.inner.unloading.contains(owned.key()))
            .map(|owned| owned.fence)
            .collect();
        // Deaf to NATS, it renews nothing: nobody can reach its events through it, and if
        // the other nodes hear NATS they take them once the leases run out. It only checks
        // that they are still its own, and keeps running them while they are (when all of
        // NATS is down, nobody can take them, and its own phones still get answers).
        let hears = self.heard_within(RENEWS_WHILE_HEARD);
        let sent = Instant::now();
        let outcome = {
            let mut lock = self.inner.lock.lock().await;
            let outcome = match self.session(&mut lock).await {
                Ok(conn) if hears => within(lease::renew(conn, &held)).await,
                Ok(conn) => within(lease::current(conn, &held)).await,
                Err(e) => Err(e),
            };
            self.checked(&mut lock, outcome)
        };
        let mut lost = Vec::new();
        match outcome {
            Ok(kept) => {
                for fence in &held {
                    if kept.contains(&fence.event) {
                        if let Some(mut owned) = self.inner.owned.get_mut(&fence.event)
                            && owned.fence == *fence
                        {
                            owned.confirmed = sent;
                        }
                    } else {
                        warn!(event = %fence.event, "another node has taken an event this node ran");
                        lost.push(fence.event);
                    }
                }
            }
            Err(e) => {
                // The session that holds the leases is gone or in doubt: any node asked may
                // take them at once.
                warn!(error = %e, "lost the lease session: giving up this node's events");
                lost.extend(held.iter().map(|fence| fence.event));
            }
        }
        lost.extend(self.expired());
        self.give_up(hub, lost);
    }

    /// The owned events not confirmed as this node's for [`LEASE`].
    fn expired(&self) -> Vec<EventCode> {
        self.inner
            .owned
            .iter()
            .filter(|owned| owned.confirmed.elapsed() >= LEASE)
            .map(|owned| *owned.key())
            .collect()
    }

    /// Stops running events whose lease is lost: at once, this node stops answering for
    /// them and tells the others, so their clients find the next owner; then their actors
    /// are unloaded (1012), beside the lease task, which must keep renewing the others.
    fn give_up(&self, hub: &Hub, mut lost: Vec<EventCode>) {
        // Each lost event is given up once: `unloading` holds it until it is disowned.
        lost.retain(|code| self.inner.unloading.insert(*code));
        if lost.is_empty() {
            return;
        }
        warn!(
            events = lost.len(),
            "lost the lease of events this node ran: unloading them"
        );
        for code in lost {
            if let Some(owned) = self.inner.owned.get(&code) {
                owned.rpc.abort();
            }
            self.announce_gone(code);
            let (cluster, hub) = (self.clone(), hub.clone());
            tokio::spawn(async move {
                hub.unload(code).await;
                // The stopped actor's end disowns the event, which clears the mark. Should
                // nothing have been left running to do that, a later round tries again.
                tokio::time::sleep(UNLOAD_RETRY).await;
                cluster.inner.unloading.remove(&code);
            });
        }
    }
}

impl From<ClusterError> for HubError {
    fn from(e: ClusterError) -> HubError {
        HubError::Cluster(Box::new(e))
    }
}

impl Placement for Cluster {
    fn healthy(&self) -> bool {
        Cluster::healthy(self)
    }

    fn place<'a>(
        &'a self,
        hub: &'a Hub,
        code: EventCode,
        forget: Box<dyn FnOnce() + Send>,
    ) -> futures_util::future::BoxFuture<'a, Result<Option<EventHandle>, HubError>> {
        Box::pin(self.place(hub, code, forget))
    }

    fn spec_changed(&self, code: EventCode) {
        self.announce_edit(code);
    }
}

impl Cluster {
    /// Runs the event here if no node owns it, or relays to the node that does.
    async fn place(
        &self,
        hub: &Hub,
        code: EventCode,
        forget: Box<dyn FnOnce() + Send>,
    ) -> Result<Option<EventHandle>, HubError> {
        // The owner may be between giving up its lease and stopping (here or on another
        // node), or stalled until its lease runs out: ask a few times. A stopping actor here
        // is waited for rather than run beside a new one.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if self.owns(code) {
                if tokio::time::Instant::now() >= deadline {
                    return Err(ClusterError::NoAnswer.into());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            match self.try_own(code).await? {
                Claim::Unknown => return Ok(None),
                Claim::Taken(lease) => return self.run_here(hub, code, lease, forget).await,
                // Silent, its lease runs out soon: ask the database again, not the node.
                Claim::Held {
                    answering: false, ..
                } => {}
                Claim::Held { .. } => match self.owner(code).await {
                    Ok(Some(owner)) => {
                        let Some(info) = hub.event_info(code).await? else {
                            return Ok(None);
                        };
                        return Ok(Some(relay::start(
                            self.clone(),
                            Arc::new(info),
                            owner,
                            hub.idle_unload(),
                            forget,
                        )));
                    }
                    // Not serving it (yet, or any more), or stalled: ask again.
                    Ok(None) | Err(ClusterError::NoAnswer) => {}
                    Err(e) => return Err(e.into()),
                },
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ClusterError::NoAnswer.into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Starts the event's actor here under the lease just taken, and answers for it.
    async fn run_here(
        &self,
        hub: &Hub,
        code: EventCode,
        lease: Lease,
        forget: Box<dyn FnOnce() + Send>,
    ) -> Result<Option<EventHandle>, HubError> {
        let fence = lease.fence;
        let disown = self.clone();
        let stopped = Box::new(move || {
            tokio::spawn(async move { disown.disown(fence).await });
        });
        match hub.start_actor(code, Some(fence), forget, stopped).await {
            Ok(Some(handle)) => {
                if let Err(e) = self.serve_owned(code, lease, handle.clone()).await {
                    // Nobody else could reach it: stop rather than run it unreachable.
                    let (done, wait) = oneshot::channel();
                    if handle.send(Command::Shutdown { done }).await.is_ok() {
                        let _ = wait.await;
                    }
                    return Err(e.into());
                }
                Ok(Some(handle))
            }
            other => {
                self.release(fence).await;
                other
            }
        }
    }
}

enum RequestFailed {
    NoResponders,
    Other(ClusterError),
}

/// Opens a lease session ([`lease::connect`]), within [`LOCK_TIMEOUT`].
async fn lock_connection(database: &str) -> Result<lease::Session, ClusterError> {
    within(lease::connect(database)).await
}

/// A statement on the lease session, bounded by [`LOCK_TIMEOUT`].
async fn within<T>(
    statement: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, ClusterError> {
    match tokio::time::timeout(LOCK_TIMEOUT, statement).await {
        Ok(done) => Ok(done?),
        Err(_) => Err(ClusterError::LockTimeout),
    }
}

/// Adds an entry to a batch, merging a frame with the one before it when it is the same
/// frame (a broadcast) so it crosses the network once per node.
fn push_merged(entries: &mut Vec<Entry>, entry: Entry) {
    if let (Some(Entry::Frame { conns, frame: last }), Entry::Frame { conns: more, frame }) =
        (entries.last_mut(), &entry)
        && last.as_ptr() == frame.as_ptr()
        && last.len() == frame.len()
    {
        conns.extend_from_slice(more);
        return;
    }
    entries.push(entry);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broadcast_crosses_once_per_node() {
        let shared = Bytes::from(r#"{"type":"results"}"#.to_owned());
        let other = Bytes::from(r#"{"type":"ack"}"#.to_owned());
        let mut entries = Vec::new();
        for (i, frame) in [&shared, &shared, &other, &shared].into_iter().enumerate() {
            push_merged(
                &mut entries,
                Entry::Frame {
                    conns: vec![ConnId::from_raw(i as u64)],
                    frame: frame.clone(),
                },
            );
        }
        assert_eq!(entries.len(), 3);
        let Entry::Frame { conns, .. } = &entries[0] else {
            panic!("a frame");
        };
        assert_eq!(conns, &[ConnId::from_raw(0), ConnId::from_raw(1)]);
    }
}
