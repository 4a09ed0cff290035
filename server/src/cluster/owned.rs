//! The events this node runs: answering for them once loaded, renewing their leases every
//! [`RENEW_EVERY`] while the node hears NATS, and giving up (1012) those whose lease is lost.
//!
//! Taking a lease is `ownership.rs`; starting the actor under it is `placement.rs`. The
//! renewal task waits for nothing but the lease session, so one slow unload never keeps
//! the other events' leases from being renewed.

use std::time::Instant;

use tokio::sync::mpsc;
use tracing::{info, warn};

use super::ownership::{Lease, within};
use super::wire::{self, Entry};
use super::{Cluster, ClusterError, LEASE, RENEW_EVERY, RENEWS_WHILE_HEARD, UNLOAD_RETRY};
use crate::domain::EventCode;
use crate::hub::{Command, EventHandle, Hub};
use crate::storage::Fence;
use crate::storage::lease;

/// An event this node runs.
pub(super) struct Owned {
    /// The lease this event runs under: an event counts as owned, and its lease is given
    /// back, only under the fence it was taken with.
    pub(super) fence: Fence,
    /// When this node last confirmed the event is still its own (the lease taken, renewed,
    /// or found unchanged), by the time the statement was sent. Unconfirmed for [`LEASE`],
    /// it is given up: another node may hold it.
    pub(super) confirmed: Instant,
    /// Relayed commands, in the order they arrived, on their way to the actor: the receiving
    /// loop never waits for a busy actor, so heartbeats and other events keep flowing.
    pub(super) relayed: mpsc::UnboundedSender<Command>,
    pub(super) rpc: tokio::task::AbortHandle,
}

impl Cluster {
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
    pub(super) fn announce_gone(&self, code: EventCode) {
        let peers: Vec<u32> = self.inner.outboxes.iter().map(|o| *o.key()).collect();
        for node in peers {
            let _ = self.outbox(node).tx.try_send(Entry::Gone { event: code });
        }
    }

    /// Renews this node's leases every [`RENEW_EVERY`] (while it hears NATS), and unloads
    /// the events whose lease is lost: taken by another node, or possibly run out. The
    /// unloading runs beside this task, which must keep renewing the others meanwhile.
    pub(super) async fn keep_leases(self, hub: Hub) {
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
