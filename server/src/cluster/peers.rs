//! Heartbeats and the other nodes: this node says it is alive every [`HEARTBEAT`], with the
//! last batch number it sent each node; it hears its own heartbeat come back (it hears NATS),
//! notices a batch lost from another node, and a node silent for [`PEER_TIMEOUT`].
//!
//! Everything between this node and a lost or silent one is reset ([`Cluster::reset_peer`]):
//! relays to it close with 1012, and the events it served are asked for again until they run
//! somewhere that answers ([`Cluster::adopt`]). Nothing here waits for the database.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tracing::{info, warn};

use super::wire::{self, Heartbeat};
use super::{Cluster, HEARTBEAT, LEASE, PEER_TIMEOUT, RPC_TIMEOUT};
use crate::domain::EventCode;
use crate::hub::{Command, Hub};
use crate::metrics::METRICS;

/// What this node knows of another node.
pub(super) struct Peer {
    pub(super) last_seen: Instant,
    /// The number of the last batch received from it.
    pub(super) received: u64,
    pub(super) gone: bool,
}

impl Peer {
    pub(super) fn new() -> Peer {
        Peer {
            last_seen: Instant::now(),
            received: 0,
            gone: false,
        }
    }
}

impl Cluster {
    /// Whether this node has heard its own heartbeat come back from NATS lately.
    pub(super) fn hears_nats(&self) -> bool {
        self.heard_within(PEER_TIMEOUT)
    }

    pub(super) fn heard_within(&self, within: Duration) -> bool {
        let echo = *self.inner.echo.lock().unwrap_or_else(|e| e.into_inner());
        echo.elapsed() <= within
    }

    /// Whether `node`'s heartbeats still arrive (a node never heard from counts as
    /// answering: ask it).
    pub(super) fn answering(&self, node: u32) -> bool {
        let peers = self.inner.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers.get(&node).is_none_or(|peer| !peer.gone)
    }

    pub(super) async fn on_heartbeat(&self, payload: &[u8]) {
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
    pub(super) fn reset_peer(&self, node: u32) {
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

    pub(super) fn seen(&self, node: u32) {
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
    pub(super) async fn beat(self) {
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
    pub(super) async fn adopt(self, hub: Hub, code: EventCode, silent: u32) {
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

    pub(super) fn heartbeat(&self, leaving: bool) -> Bytes {
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
}
