//! What arrives from other nodes on this node's subject: numbered batches of frames and
//! closes for the connections this node relays, pieces of long frames, "gone" notices, and
//! relayed connections' commands for the events this node owns.
//!
//! One task reads both this node's batches and every heartbeat, batches first, so a
//! heartbeat never overtakes the batches sent before it. It never waits for an actor:
//! commands go on the owned event's unbounded queue (`owned.rs`).

use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tracing::warn;

use super::Cluster;
use super::peers::Peer;
use super::wire::{self, Batch, Entry, RelayCommand};
use crate::domain::EventCode;
use crate::hub::{Command, ConnId, ConnSink, Out, RemoteOut};
use crate::metrics::METRICS;
use crate::protocol::CloseCode;

impl Cluster {
    /// Reads this node's batches and every heartbeat until NATS ends both subscriptions.
    pub(super) async fn receive(
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
                    if let Some(frame) = self.reassemble(from, &chunk, first, last) {
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

    /// Adds a piece of a long frame from `from`; the whole frame once its last piece is in.
    fn reassemble(&self, from: u32, chunk: &[u8], first: bool, last: bool) -> Option<Bytes> {
        let mut partial = self.inner.partial.lock().unwrap_or_else(|e| e.into_inner());
        if first {
            partial.insert(from, BytesMut::new());
        }
        // A piece whose first part was lost is dropped (the gap that lost it has already
        // sent its connections to reconnect).
        if let Some(buf) = partial.get_mut(&from) {
            buf.extend_from_slice(chunk);
        }
        if last {
            partial.remove(&from).map(BytesMut::freeze)
        } else {
            None
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
}
