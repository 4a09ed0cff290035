//! Batches on their way to one node: each node this one talks to has an [`Outbox`], a
//! bounded queue drained by one task that publishes as many entries a batch as are waiting,
//! numbered, so the receiver notices a lost one.
//!
//! An entry that cannot be queued is dropped and the next batch skips a number: the
//! receiver then resynchronises (1012 to the connections concerned). Nothing here waits for
//! the receiver; reading batches is `receive.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::mpsc;
use tracing::warn;

use super::wire::{self, Entry, RelayCommand};
use super::{Cluster, MAX_BATCH_BYTES, OUTBOX};
use crate::domain::EventCode;
use crate::hub::{ConnId, Out, RemoteOut};
use crate::metrics::METRICS;

/// The batches waiting for one node.
#[derive(Debug)]
pub(super) struct Outbox {
    pub(super) tx: mpsc::Sender<Entry>,
    /// Set when an entry could not be queued: the next batch skips a number, so the
    /// receiver notices and resynchronises.
    pub(super) lost: AtomicBool,
    /// The number of the last batch published.
    pub(super) sent: AtomicU64,
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
    /// Queues a connection's command for the owner of `event`; waits while the link is full.
    pub async fn relay(&self, owner: u32, event: EventCode, command: RelayCommand) -> bool {
        self.outbox(owner)
            .tx
            .send(Entry::Command { event, command })
            .await
            .is_ok()
    }

    /// The queue of batches to `node`, started on first use.
    pub(super) fn outbox(&self, node: u32) -> Arc<Outbox> {
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
    use bytes::Bytes;

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
