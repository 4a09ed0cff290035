//! What the hub knows of a connection: a bounded outbound queue and a way to close it.
//!
//! The transport (WebSocket or Server-Sent Events) owns the socket and drains the queue; the
//! event actor never waits to queue a frame. A connection whose queue is full cannot keep
//! up: the actor drops it, marks it 4008, and the transport closes it. Memory never grows
//! with a slow reader.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::Poll;

use futures_util::task::AtomicWaker;

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
    Local(Sender),
    Remote {
        conn: ConnId,
        out: Arc<dyn RemoteOut>,
    },
}

/// A connection's outbound queue, shared by its sinks and its transport.
///
/// A lock around a `VecDeque` rather than a channel: the queue holds memory only while
/// frames wait in it (an idle attendee's is empty and unallocated, where a channel keeps a
/// block of 32 slots, over 1 KB, for each of 19,000 sockets), and a send or a receive is
/// one uncontended lock. The transport looks at an atomic count before taking the lock, so
/// finding the queue empty (as it does at least once per frame) costs no lock at all.
#[derive(Debug)]
struct Shared {
    queue: Mutex<Queue>,
    /// Frames in the queue, as of its last change.
    queued: AtomicUsize,
    /// Live [`ConnSink`]s of this connection; at 0 the transport sees the end of the queue.
    senders: AtomicUsize,
    /// The transport's task, when it waits for a frame.
    waker: AtomicWaker,
    capacity: usize,
    /// The close code to use when the queue could not take a `Close`; 0 until then.
    ///
    /// The hub only ever sets it when the connection's queue is full. The transport looks
    /// here before taking each frame ([`ConnSource::dropped_with`]), and a write it is
    /// waiting on gives up when it is set ([`DropWatch`]): a full queue usually means the
    /// client has stopped reading, and that write would otherwise wait out its stall limit.
    closed_with: AtomicU16,
}

#[derive(Debug, Default)]
struct Queue {
    frames: VecDeque<Out>,
    /// The transport has gone: sends fail.
    closed: bool,
}

/// Queues wider than this after a burst (a reveal, a commit's acks) give their memory back
/// once drained.
const KEEP_CAPACITY: usize = 16;

fn lock(shared: &Shared) -> MutexGuard<'_, Queue> {
    // The lock is never held across anything that can panic; a poisoned one is still whole.
    shared.queue.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One counted handle on the queue (cloning a [`ConnSink`] counts another).
#[derive(Debug)]
struct Sender(Arc<Shared>);

impl Clone for Sender {
    fn clone(&self) -> Sender {
        self.0.senders.fetch_add(1, Ordering::Relaxed);
        Sender(self.0.clone())
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        if self.0.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.waker.wake();
        }
    }
}

enum Refused {
    Full,
    Closed,
}

impl Sender {
    fn push(&self, out: Out) -> Result<(), Refused> {
        {
            let mut queue = lock(&self.0);
            if queue.closed {
                return Err(Refused::Closed);
            }
            if queue.frames.len() >= self.0.capacity {
                return Err(Refused::Full);
            }
            queue.frames.push_back(out);
            self.0.queued.store(queue.frames.len(), Ordering::Release);
        }
        self.0.waker.wake();
        Ok(())
    }
}

/// The transport's end: frames to write, and why the hub dropped the connection.
#[derive(Debug)]
pub struct ConnSource {
    shared: Arc<Shared>,
}

/// A queue of `capacity` frames: the hub's end and the transport's.
pub fn channel(capacity: usize) -> (ConnSink, ConnSource) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(Queue::default()),
        queued: AtomicUsize::new(0),
        senders: AtomicUsize::new(1),
        waker: AtomicWaker::new(),
        capacity,
        closed_with: AtomicU16::new(0),
    });
    (
        ConnSink {
            kind: SinkKind::Local(Sender(shared.clone())),
        },
        ConnSource { shared },
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
        let sent = match &self.kind {
            SinkKind::Local(tx) => match tx.push(Out::Frame(frame)) {
                Ok(()) => true,
                Err(Refused::Full) => {
                    METRICS
                        .slow_consumers_closed
                        .fetch_add(1, Ordering::Relaxed);
                    kick(&tx.0, CloseCode::TooSlow);
                    false
                }
                Err(Refused::Closed) => false,
            },
            SinkKind::Remote { conn, out } => out.send(*conn, Out::Frame(frame)),
        };
        if sent {
            METRICS.frames_out.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// Asks the transport to close with `code` once the frames before it are written.
    pub fn close(&self, code: CloseCode) {
        match &self.kind {
            SinkKind::Local(tx) => {
                if tx.push(Out::Close(code)).is_err() {
                    kick(&tx.0, code);
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
    shared.closed_with.store(code.code(), Ordering::Release);
    // The transport may be waiting on a write the client does not take: wake it.
    shared.waker.wake();
}

/// The code [`kick`] set, if it has.
fn dropped_with(shared: &Shared) -> Option<CloseCode> {
    CloseCode::from_code(shared.closed_with.load(Ordering::Acquire))
}

impl ConnSource {
    /// The next frame, waiting for one; `None` once every sink is gone and the queue is
    /// empty.
    pub async fn recv(&mut self) -> Option<Out> {
        std::future::poll_fn(|cx| {
            if let Some(out) = self.try_recv() {
                return Poll::Ready(Some(out));
            }
            self.shared.waker.register(cx.waker());
            // Read before the queue: a sink's last frame is counted before the sink goes.
            let ended = self.shared.senders.load(Ordering::Acquire) == 0;
            match self.try_recv() {
                Some(out) => Poll::Ready(Some(out)),
                None if ended => Poll::Ready(None),
                None => Poll::Pending,
            }
        })
        .await
    }

    /// The next frame if one is queued.
    pub fn try_recv(&mut self) -> Option<Out> {
        if self.shared.queued.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut queue = lock(&self.shared);
        let out = queue.frames.pop_front()?;
        if queue.frames.is_empty() && queue.frames.capacity() > KEEP_CAPACITY {
            queue.frames = VecDeque::new();
        }
        self.shared
            .queued
            .store(queue.frames.len(), Ordering::Release);
        Some(out)
    }

    /// The close code the hub set when it dropped this connection without a `Close` frame:
    /// the transport should close with it at once, past whatever is queued. Checked before
    /// each frame is taken from the queue (see [`Shared::closed_with`]).
    pub fn dropped_with(&self) -> Option<CloseCode> {
        dropped_with(&self.shared)
    }

    /// A handle that tells when the hub drops this connection, for use while the source
    /// itself is borrowed (by a write in progress).
    pub fn drop_watch(&self) -> DropWatch {
        DropWatch(self.shared.clone())
    }
}

/// Tells the transport that the hub dropped its connection (see [`ConnSource::drop_watch`]).
#[derive(Debug)]
pub struct DropWatch(Arc<Shared>);

impl DropWatch {
    /// Ready with the close code once the hub has dropped the connection; until then the
    /// calling task is woken when it does.
    pub fn poll(&self, cx: &mut std::task::Context<'_>) -> Poll<CloseCode> {
        if let Some(code) = dropped_with(&self.0) {
            return Poll::Ready(code);
        }
        self.0.waker.register(cx.waker());
        match dropped_with(&self.0) {
            Some(code) => Poll::Ready(code),
            None => Poll::Pending,
        }
    }
}

impl Drop for ConnSource {
    /// Later sends fail, and what was queued is freed.
    fn drop(&mut self) {
        let frames = {
            let mut queue = lock(&self.shared);
            queue.closed = true;
            self.shared.queued.store(0, Ordering::Release);
            std::mem::take(&mut queue.frames)
        };
        drop(frames);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_drops_the_connection_with_4008_and_never_grows() {
        let (sink, mut source) = channel(2);
        assert!(sink.send(Frame::from_static(b"1")));
        assert!(sink.send(Frame::from_static(b"2")));
        // The third frame does not fit: the sender is told to forget the connection.
        assert!(!sink.send(Frame::from_static(b"3")));
        assert_eq!(source.dropped_with(), Some(CloseCode::TooSlow));
        // Only what fitted was ever queued.
        assert!(matches!(source.try_recv(), Some(Out::Frame(f)) if f == "1"));
        assert!(matches!(source.try_recv(), Some(Out::Frame(f)) if f == "2"));
        assert!(source.try_recv().is_none());
    }

    #[tokio::test]
    async fn close_goes_after_what_is_queued() {
        let (sink, mut source) = channel(4);
        assert!(sink.send(Frame::from_static(b"bye")));
        sink.close(CloseCode::EventEnded);
        assert!(matches!(source.recv().await, Some(Out::Frame(_))));
        assert!(matches!(
            source.recv().await,
            Some(Out::Close(CloseCode::EventEnded))
        ));
        assert_eq!(source.dropped_with(), None);
    }

    #[tokio::test]
    async fn a_waiting_transport_is_woken_by_a_send_from_another_task() {
        let (sink, mut source) = channel(4);
        let waiting = tokio::spawn(async move { source.recv().await });
        tokio::task::yield_now().await;
        let sent = tokio::spawn(async move {
            assert!(sink.send(Frame::from_static(b"late")));
            sink
        });
        let _sink = sent.await.unwrap();
        let out = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("the send woke the waiting transport")
            .unwrap();
        assert!(matches!(out, Some(Out::Frame(f)) if f == "late"));
    }

    #[tokio::test]
    async fn the_queue_ends_when_the_last_sink_goes_and_refuses_once_the_source_goes() {
        let (sink, mut source) = channel(4);
        let copy = sink.clone();
        assert!(copy.send(Frame::from_static(b"1")));
        drop(sink);
        let waiting = tokio::spawn(async move {
            let first = source.recv().await;
            (first, source.recv().await)
        });
        tokio::task::yield_now().await;
        drop(copy);
        let (first, end) = waiting.await.unwrap();
        assert!(matches!(first, Some(Out::Frame(f)) if f == "1"));
        assert!(end.is_none());

        let (sink, source) = channel(4);
        drop(source);
        assert!(!sink.send(Frame::from_static(b"nobody")));
    }

    #[test]
    fn a_drained_burst_gives_its_memory_back() {
        let (sink, mut source) = channel(1024);
        for _ in 0..500 {
            assert!(sink.send(Frame::from_static(b"ack")));
        }
        assert!(lock(&source.shared).frames.capacity() >= 500);
        while source.try_recv().is_some() {}
        assert!(lock(&source.shared).frames.capacity() <= KEEP_CAPACITY);
    }
}
