//! What the hub knows of a connection: a bounded outbound queue and a way to close it.
//!
//! The transport (WebSocket or Server-Sent Events) owns the socket and drains the queue; the
//! event actor only ever `try_send`s. A connection whose queue is full cannot keep up: the
//! actor drops it, marks it 4008, and the transport closes it. Memory never grows with a
//! slow reader.

use std::fmt;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::mpsc;

use crate::metrics::METRICS;
use crate::protocol::CloseCode;
use crate::protocol::server::Frame;

/// Frames queued for an attendee before it counts as too slow.
///
/// Enough for the acknowledgements of every message a client may have in flight while the
/// server is far behind: an event's actor answers a whole commit's worth in one turn, and a
/// client that pipelines (at most 30 messages a second, with acks 10 s late in an overload)
/// has hundreds in flight. At 128, the load generator's probe, which reads everything, was
/// closed 4008 at 40,000 answers/s. The queue takes memory only for what is in it (the
/// channel grows by blocks of 32), and broadcast frames are shared, not copied.
pub const ATTENDEE_QUEUE: usize = 1024;
/// Hosts receive every tally, question and text: a deeper queue.
pub const HOST_QUEUE: usize = 4096;

/// A connection, unique across a cluster: the high 32 bits name the process (node) that holds
/// its socket, so an event's owner knows where to send a relayed connection's frames.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ConnId(u64);

/// This process's node number: random, never zero, fixed for the life of the process.
pub fn local_node() -> u32 {
    static NODE: OnceLock<u32> = OnceLock::new();
    *NODE.get_or_init(|| {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        u32::from_le_bytes(bytes).max(1)
    })
}

impl ConnId {
    pub fn next() -> ConnId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed) & u64::from(u32::MAX);
        ConnId(u64::from(local_node()) << 32 | n)
    }

    /// The node whose process holds this connection's socket.
    pub fn node(self) -> u32 {
        (self.0 >> 32) as u32
    }

    pub fn from_raw(raw: u64) -> ConnId {
        ConnId(raw)
    }

    pub fn raw(self) -> u64 {
        self.0
    }
}

#[derive(Debug)]
pub enum Out {
    Frame(Frame),
    Close(CloseCode),
}

/// Where a relayed connection's frames go: the cluster's outbound queue to the node that
/// holds the socket. `false` when that queue is full (the node is then told to resync).
pub trait RemoteOut: Send + Sync + fmt::Debug {
    fn send(&self, conn: ConnId, out: Out) -> bool;
}

/// The hub's end of a connection: a socket in this process, or one relayed from another
/// node of a cluster.
#[derive(Debug, Clone)]
pub struct ConnSink {
    kind: SinkKind,
}

#[derive(Debug, Clone)]
enum SinkKind {
    Local {
        tx: mpsc::Sender<Out>,
        shared: Arc<Shared>,
    },
    Remote {
        conn: ConnId,
        out: Arc<dyn RemoteOut>,
    },
}

#[derive(Debug, Default)]
struct Shared {
    /// The close code to use when the queue could not take a `Close`; 0 until then.
    ///
    /// The hub only ever sets it when the connection's queue is full, so the transport
    /// always has a queued frame to wake up for, and needs no wake-up of its own: it looks
    /// here before taking each frame ([`Kick::dropped_with`]). A `Notify` polled on every
    /// turn of the transport's loop cost a lock (and a cache miss) twice per message.
    closed_with: AtomicU16,
}

/// The transport's end: frames to write, and why the hub dropped the connection.
pub struct ConnSource {
    pub rx: mpsc::Receiver<Out>,
    shared: Arc<Shared>,
}

pub fn channel(capacity: usize) -> (ConnSink, ConnSource) {
    let (tx, rx) = mpsc::channel(capacity);
    let shared = Arc::new(Shared::default());
    (
        ConnSink {
            kind: SinkKind::Local {
                tx,
                shared: shared.clone(),
            },
        },
        ConnSource { rx, shared },
    )
}

impl ConnSink {
    /// The sink of a connection another node holds.
    pub fn remote(conn: ConnId, out: Arc<dyn RemoteOut>) -> ConnSink {
        ConnSink {
            kind: SinkKind::Remote { conn, out },
        }
    }

    /// Queues a frame; `false` when the connection is gone or too slow (then it is marked
    /// 4008 and the caller must forget it).
    #[must_use]
    pub fn send(&self, frame: Frame) -> bool {
        let (tx, shared) = match &self.kind {
            SinkKind::Local { tx, shared } => (tx, shared),
            SinkKind::Remote { conn, out } => {
                let sent = out.send(*conn, Out::Frame(frame));
                if sent {
                    METRICS.frames_out.fetch_add(1, Ordering::Relaxed);
                }
                return sent;
            }
        };
        match tx.try_send(Out::Frame(frame)) {
            Ok(()) => {
                METRICS.frames_out.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                METRICS
                    .slow_consumers_closed
                    .fetch_add(1, Ordering::Relaxed);
                kick(shared, CloseCode::TooSlow);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Asks the transport to close with `code` once the frames before it are written.
    pub fn close(&self, code: CloseCode) {
        match &self.kind {
            SinkKind::Local { tx, shared } => {
                if tx.try_send(Out::Close(code)).is_err() {
                    kick(shared, code);
                }
            }
            SinkKind::Remote { conn, out } => {
                let _ = out.send(*conn, Out::Close(code));
            }
        }
    }
}

/// Closes at once, past whatever is queued.
fn kick(shared: &Shared, code: CloseCode) {
    shared.closed_with.store(code.code(), Ordering::Relaxed);
}

/// The transport's view of why the hub dropped a connection.
pub struct Kick {
    shared: Arc<Shared>,
}

impl ConnSource {
    pub fn split(self) -> (mpsc::Receiver<Out>, Kick) {
        (
            self.rx,
            Kick {
                shared: self.shared,
            },
        )
    }
}

impl Kick {
    /// The close code the hub set when it dropped this connection without a `Close` frame:
    /// the transport should close with it at once, past whatever is queued. Checked before
    /// each frame is taken from the queue (see [`Shared::closed_with`]).
    pub fn dropped_with(&self) -> Option<CloseCode> {
        CloseCode::from_code(self.shared.closed_with.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_drops_the_connection_with_4008_and_never_grows() {
        let (sink, source) = channel(2);
        let (mut rx, kick) = source.split();
        assert!(sink.send(Frame::from_static(b"1")));
        assert!(sink.send(Frame::from_static(b"2")));
        // The third frame does not fit: the sender is told to forget the connection.
        assert!(!sink.send(Frame::from_static(b"3")));
        assert_eq!(kick.dropped_with(), Some(CloseCode::TooSlow));
        // Only what fitted was ever queued.
        assert!(matches!(rx.try_recv(), Ok(Out::Frame(f)) if f == "1"));
        assert!(matches!(rx.try_recv(), Ok(Out::Frame(f)) if f == "2"));
        assert!(rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn close_goes_after_what_is_queued() {
        let (sink, source) = channel(4);
        let (mut rx, kick) = source.split();
        assert!(sink.send(Frame::from_static(b"bye")));
        sink.close(CloseCode::EventEnded);
        assert!(matches!(rx.recv().await, Some(Out::Frame(_))));
        assert!(matches!(
            rx.recv().await,
            Some(Out::Close(CloseCode::EventEnded))
        ));
        assert_eq!(kick.dropped_with(), None);
    }
}
