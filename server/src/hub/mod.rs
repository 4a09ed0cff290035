//! The live layer: one actor task per live event, and the registry that finds it.
//!
//! Each event's live state (activity states, attendees, tallies, questions, cards) is owned
//! by exactly one task ([`event`]) that takes [`Command`]s over a bounded channel. The
//! registry is a `DashMap` of handles and nothing more: no lock is ever held across an
//! `.await`, and no state is shared between events, so a result can never reach the wrong
//! room. An actor is started on first use from what the database holds, so a restarted
//! server carries on exactly where the last acknowledged write left it.

pub mod allowance;
mod by_seq;
pub mod conn;
mod event;
mod reactions;
mod rooms;
mod spec_swap;
mod state;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use dashmap::DashMap;
use serde_json::Value;
use thiserror::Error;
use tokio::sync::{OnceCell, mpsc, oneshot};

use crate::domain::phase::EventPhase;
use crate::domain::{Event, EventCode, token};
use crate::protocol::server::Frame;
use crate::protocol::{ClientMsg, HostMsg};
use crate::storage::{Fence, Storage, StorageError};
pub use conn::{ConnId, ConnSink, ConnSource, Out, RemoteOut, local_node};
pub use spec_swap::{RespecError, Respecced};

/// A map keyed by numbers the server itself assigns (attendee indexes, connection ids,
/// pending numbers, message-id hashes), hashed with foldhash (seeded per process) at a
/// fraction of SipHash's cost: these are looked up several times per answer. Maps keyed by
/// text a client chose keep the standard library's SipHash.
type NumMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// A set of such numbers; see [`NumMap`].
type NumSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

/// Commands waiting for an event's actor before senders are made to wait.
pub(crate) const MAILBOX: usize = 8192;

#[derive(Debug, Error)]
pub enum HubError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("event {0} has a stored spec that no longer validates: {1}")]
    BadSpec(EventCode, String),
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("the cluster cannot reach this event right now: {0}")]
    Cluster(Box<dyn std::error::Error + Send + Sync>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Role {
    Attendee,
    Host,
    Presenter,
}

/// Why a [`Command::End`] did not move the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndError {
    /// Its `from` is a phase the event has already left: nothing moved. The phase it is in.
    Left(EventPhase),
    /// The step could not be taken or stored now: the sentence says why.
    Failed(String),
}

/// The direct answer to a message POSTed by a client without WebSocket.
#[derive(Debug)]
pub struct PostReply {
    pub frame: Frame,
    /// Set when the reply is a `welcome`: the attendee's token, for the cookie.
    pub token: Option<String>,
}

/// Whether an event stream was opened ([`Command::Stream`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StreamOpen {
    Opened,
    /// The token is unknown to the event, or the event has ended.
    Unknown,
    /// The attendee has used up their message allowance: a stream's `welcome` costs what a
    /// resuming `hello` does.
    TooMany,
}

pub enum Command {
    /// A new connection. Attendees then send `hello`; hosts and presenters are already
    /// authorised by the transport and get a snapshot at once.
    Connect {
        conn: ConnId,
        role: Role,
        sink: ConnSink,
        /// The role link that authorised a host or presenter, if one did (not the event's
        /// own token): the connection is closed with 4001 when that link is revoked.
        link: Option<String>,
        /// The break-out room a presenter link was issued for: the connection is that
        /// room's screen, sent only its room's questions (`None`: every screen's).
        room: Option<String>,
    },
    Disconnect {
        conn: ConnId,
    },
    Client {
        conn: ConnId,
        msg: ClientMsg,
        /// When the transport read it: the event's per-attendee allowance does not hold the
        /// time it then waited for the actor against the attendee.
        at: tokio::time::Instant,
    },
    Host {
        conn: ConnId,
        msg: HostMsg,
    },
    /// A client message POSTed without WebSocket; `token` comes from the cookie.
    Post {
        token: Option<String>,
        msg: ClientMsg,
        reply: oneshot::Sender<PostReply>,
        /// When the request arrived (see `Client`).
        at: tokio::time::Instant,
    },
    /// An SSE stream for the attendee with `token`: it gets a fresh `welcome`, then every
    /// message a WebSocket would.
    Stream {
        conn: ConnId,
        token: String,
        sink: ConnSink,
        reply: oneshot::Sender<StreamOpen>,
    },
    /// A role link was revoked: every connection it authorised is closed with 4001 at once,
    /// and a connection it authorised that arrives later is refused.
    Revoke {
        link: String,
    },
    /// Moves the event one step on, as the host's `end` does (the HTTP `end` route);
    /// answered once stored. With `from`, only if the event is still in that phase: a
    /// retried request takes no second step that cannot be undone.
    End {
        from: Option<EventPhase>,
        reply: oneshot::Sender<Result<(), EndError>>,
    },
    /// A node of the cluster is gone or lost messages: close (1012) and forget every
    /// connection it relayed, so its clients reconnect and resume with a fresh state.
    NodeGone {
        node: u32,
    },
    /// An organiser's edit of the event's spec: checked against what the event holds now
    /// (its answers, what is open, what is on its way to disk), stored if `if_match` is the
    /// stored spec's tag, then applied in place ([`spec_swap`]).
    Respec {
        if_match: Option<String>,
        event: Box<Event>,
        reply: oneshot::Sender<Result<Respecced, RespecError>>,
    },
    /// Server shutdown: finish what is in flight, close every client with 1012.
    Shutdown {
        done: oneshot::Sender<()>,
    },
}

/// What every connection to an event may read without asking the actor.
#[derive(Debug)]
pub struct EventInfo {
    pub code: EventCode,
    pub event: Event,
    /// EVENT as sent in `welcome` and `snapshot`, encoded once.
    pub event_json: String,
    /// `support`, sent to the writer of a concern: `None` without a `safeguarding` section.
    pub support_frame: Option<crate::protocol::server::Frame>,
    host_token_hash: String,
    presenter_token_hash: String,
}

impl EventInfo {
    /// The same event (code and tokens) under an edited spec.
    pub(crate) fn respecced(&self, event: Event) -> EventInfo {
        EventInfo::new(
            self.code,
            event,
            self.host_token_hash.clone(),
            self.presenter_token_hash.clone(),
        )
    }

    fn new(
        code: EventCode,
        event: Event,
        host_token_hash: String,
        presenter_token_hash: String,
    ) -> EventInfo {
        EventInfo {
            code,
            event_json: crate::protocol::event::full(&event),
            support_frame: event
                .spec
                .safeguarding
                .as_ref()
                .map(|section| crate::protocol::server::support(&section.support)),
            event,
            host_token_hash,
            presenter_token_hash,
        }
    }

    pub fn is_host(&self, token: &str) -> bool {
        token::token_matches(token, &self.host_token_hash)
    }

    /// The presenter token, or the host token, which can do everything the presenter can.
    pub fn is_presenter(&self, token: &str) -> bool {
        token::token_matches(token, &self.presenter_token_hash) || self.is_host(token)
    }
}

/// The event's current [`EventInfo`], shared by its handles and its actor: an edit of the
/// spec replaces it for every holder at once ([`spec_swap`]). Readers take a copy of the
/// `Arc` and never hold the lock.
#[derive(Clone)]
pub struct SharedInfo(Arc<std::sync::RwLock<Arc<EventInfo>>>);

impl SharedInfo {
    pub(crate) fn new(info: Arc<EventInfo>) -> SharedInfo {
        SharedInfo(Arc::new(std::sync::RwLock::new(info)))
    }

    pub fn get(&self) -> Arc<EventInfo> {
        // A writer cannot panic while holding the lock (it only swaps an Arc).
        Arc::clone(
            &self
                .0
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    pub(crate) fn set(&self, info: Arc<EventInfo>) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = info;
    }
}

#[derive(Clone)]
pub struct EventHandle {
    info: SharedInfo,
    tx: mpsc::Sender<Command>,
}

impl EventHandle {
    /// A handle whose commands go to `tx`: an actor's, or a relay's that stands in for it.
    pub(crate) fn new(info: SharedInfo, tx: mpsc::Sender<Command>) -> EventHandle {
        EventHandle { info, tx }
    }

    /// The event as it is now: an edit replaces it while connections carry on.
    pub fn info(&self) -> Arc<EventInfo> {
        self.info.get()
    }

    /// Where the event's current info is kept, to replace it.
    pub(crate) fn shared_info(&self) -> &SharedInfo {
        &self.info
    }

    pub async fn send(&self, command: Command) -> Result<(), HubError> {
        self.tx
            .send(command)
            .await
            .map_err(|_| HubError::ShuttingDown)
    }

    /// Like [`EventHandle::send`] but never waits: used from `Drop`-like paths.
    pub fn try_send(&self, command: Command) -> bool {
        self.tx.try_send(command).is_ok()
    }

    /// Hands a command over if the mailbox has room, and gives it back if not.
    pub fn offer(&self, command: Command) -> Offer {
        match self.tx.try_send(command) {
            Ok(()) => Offer::Taken,
            Err(mpsc::error::TrySendError::Full(command)) => Offer::Full(command),
            Err(mpsc::error::TrySendError::Closed(_)) => Offer::Gone,
        }
    }

    /// Waits for room in the mailbox, for one command.
    pub async fn room(&self) -> Result<mpsc::Permit<'_, Command>, HubError> {
        self.tx.reserve().await.map_err(|_| HubError::ShuttingDown)
    }
}

/// What became of a command [`EventHandle::offer`]ed to an event's actor.
pub enum Offer {
    /// In the mailbox.
    Taken,
    /// The mailbox is full: the command, to send once there is room.
    Full(Command),
    /// The event's actor is gone.
    Gone,
}

#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubInner>,
}

struct HubInner {
    storage: Storage,
    /// How long an event with nobody connected stays loaded.
    idle_unload: std::time::Duration,
    events: DashMap<EventCode, Arc<OnceCell<Option<EventHandle>>>>,
    shutting_down: AtomicBool,
    /// Set when this process is one node of a cluster.
    cluster: Option<Arc<dyn Placement>>,
}

/// Where an event runs when this process is one node of several: what the hub needs from a
/// cluster, defined here so the hub never names one (`crate::cluster` implements it).
pub trait Placement: Send + Sync {
    /// Whether this node can serve now (on `/healthz`).
    fn healthy(&self) -> bool;

    /// The event with `code`: its actor started here ([`Hub::start_actor`]) if no node runs
    /// it, or a handle that relays to the node that does; `None` when no such event exists.
    /// `forget` removes the handle from the hub's registry when it stops.
    fn place<'a>(
        &'a self,
        hub: &'a Hub,
        code: EventCode,
        forget: Box<dyn FnOnce() + Send>,
    ) -> futures_util::future::BoxFuture<'a, Result<Option<EventHandle>, HubError>>;

    /// An event's spec was edited: every node holding the event (its owner, the nodes that
    /// relay its connections or serve its pages) reloads what it keeps of it
    /// ([`Hub::refresh_info`]).
    fn spec_changed(&self, code: EventCode);
}

impl Hub {
    pub fn new(
        storage: Storage,
        idle_unload: std::time::Duration,
        cluster: Option<Arc<dyn Placement>>,
    ) -> Hub {
        Hub {
            inner: Arc::new(HubInner {
                storage,
                idle_unload,
                events: DashMap::new(),
                shutting_down: AtomicBool::new(false),
                cluster,
            }),
        }
    }

    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    /// Whether this process can serve: always on its own; in a cluster, while it hears
    /// NATS and reaches its lease database.
    pub fn healthy(&self) -> bool {
        self.inner.cluster.as_ref().is_none_or(|c| c.healthy())
    }

    /// The live event with `code`, started from the database on first use; `None` when no
    /// such event exists.
    pub async fn event(&self, code: EventCode) -> Result<Option<EventHandle>, HubError> {
        if self.inner.shutting_down.load(Ordering::Acquire) {
            return Err(HubError::ShuttingDown);
        }
        // Clone the cell out of the map: the DashMap guard is dropped before any await.
        let cell = self.inner.events.entry(code).or_default().value().clone();
        let handle = cell
            .get_or_try_init(|| async {
                let registry = Arc::downgrade(&self.inner);
                let this_start = Arc::downgrade(&cell);
                // Only this start's entry: a later one for the same code stays.
                let forget = Box::new(move || {
                    if let Some(inner) = registry.upgrade() {
                        inner.events.remove_if(&code, |_, entry| {
                            std::ptr::eq(Arc::as_ptr(entry), this_start.as_ptr())
                        });
                    }
                });
                match &self.inner.cluster {
                    None => self.start_actor(code, None, forget, Box::new(|| {})).await,
                    Some(cluster) => {
                        let started = cluster.place(self, code, forget).await;
                        if let Err(e) = &started {
                            tracing::warn!(event = %code, error = %e, "could not reach the event");
                        }
                        started
                    }
                }
            })
            .await?;
        if handle.is_none() {
            // Unknown codes must not fill the registry.
            self.inner
                .events
                .remove_if(&code, |_, c| c.get().is_some_and(Option::is_none));
        }
        Ok(handle.clone())
    }

    /// Starts the event's actor here, from the database: the ones in [`event`] never run
    /// anywhere else. `fence`: the lease a cluster took for it (every write of the actor is
    /// then refused once the event has a new owner); `stopped` runs when the actor ends.
    pub(crate) async fn start_actor(
        &self,
        code: EventCode,
        fence: Option<Fence>,
        forget: Box<dyn FnOnce() + Send>,
        stopped: Box<dyn FnOnce() + Send>,
    ) -> Result<Option<EventHandle>, HubError> {
        let storage = match fence {
            Some(fence) => self.inner.storage.fenced(fence),
            None => self.inner.storage.clone(),
        };
        event::start(code, storage, self.inner.idle_unload, forget, stopped).await
    }

    /// What connections read without asking the actor, for an event whose actor runs
    /// elsewhere; `None` when no such event exists.
    pub(crate) async fn event_info(&self, code: EventCode) -> Result<Option<EventInfo>, HubError> {
        event::info(&self.inner.storage, code).await
    }

    /// How long an event with nobody connected stays loaded (a relay too).
    pub(crate) fn idle_unload(&self) -> std::time::Duration {
        self.inner.idle_unload
    }

    /// Stops an event's actor, if it is live here, so the next use reloads it from the
    /// database (after a purge). Its hosts and presenters are closed with 1012 and reconnect.
    pub async fn unload(&self, code: EventCode) {
        let Some((_, cell)) = self.inner.events.remove(&code) else {
            return;
        };
        // A start in flight is waited for, and its actor stopped too: one left running
        // outside the registry would keep the event from every later connection here.
        let started = cell
            .get_or_try_init(|| std::future::ready(Err::<Option<EventHandle>, ()>(())))
            .await;
        if let Ok(Some(handle)) = started {
            let (done, wait) = oneshot::channel();
            if handle.send(Command::Shutdown { done }).await.is_ok() {
                let _ = wait.await;
            }
        }
    }

    /// Closes every live event: in-flight writes are committed and acknowledged, then every
    /// client is closed with 1012 so it reconnects to the next server.
    pub async fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::Release);
        let handles: Vec<EventHandle> = self
            .inner
            .events
            .iter()
            .filter_map(|entry| entry.value().get().cloned().flatten())
            .collect();
        let mut waits = Vec::new();
        for handle in handles {
            let (done, wait) = oneshot::channel();
            if handle.send(Command::Shutdown { done }).await.is_ok() {
                waits.push(wait);
            }
        }
        for wait in waits {
            let _ = wait.await;
        }
    }
}

/// Whether a value is a usable client id, for error replies.
pub(crate) fn id_value(id: Option<&str>) -> Option<Value> {
    id.map(Value::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::StoredEvent;
    use crate::storage::tests::{TempDb, stored};

    /// An unload that lands while the event is still starting stops the actor that start
    /// brings up: an actor left running outside the registry would be a second copy of the
    /// event beside the next one loaded (in a cluster, one that keeps the event's lock).
    #[tokio::test]
    async fn an_unload_during_a_start_stops_the_actor_that_start_brings_up() {
        let db = TempDb::sqlite();
        let storage = Storage::open(&db.url()).await.expect("open");
        let code = EventCode::parse("BCDFGH").expect("a valid code");
        let event = StoredEvent {
            spec: include_str!("../../fixtures/dual-diagnosis-2026.json").to_owned(),
            ..stored(code, "2026-11-01T10:00:00Z")
        };
        let inserted = storage.insert_event(&event, "2026", None, None).await;
        assert!(inserted.expect("insert"), "the code was free");
        let hub = Hub::new(storage.clone(), std::time::Duration::from_secs(600), None);

        let starting = tokio::spawn({
            let hub = hub.clone();
            async move { hub.event(code).await }
        });
        // The start has begun once its cell is in the registry; still empty, it is waiting
        // for the database.
        let in_flight = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            loop {
                if let Some(cell) = hub.inner.events.get(&code) {
                    return cell.get().is_none();
                }
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the start began");
        assert!(
            in_flight,
            "the start ended before the unload could land in it"
        );
        hub.unload(code).await;

        let started = starting
            .await
            .expect("the start ran")
            .expect("the start succeeded")
            .expect("the event exists");
        let stopped = tokio::time::timeout(std::time::Duration::from_secs(5), started.tx.closed());
        assert!(
            stopped.await.is_ok(),
            "the actor started during the unload is still running"
        );
        assert!(
            hub.inner.events.get(&code).is_none(),
            "the unload left the event in the registry"
        );
        // The next use loads the event afresh.
        let again = hub.event(code).await.expect("reload").expect("the event");
        assert!(!again.tx.is_closed());

        storage.close().await;
        db.remove().await;
    }
}
