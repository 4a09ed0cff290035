//! What the hub knows of a connection: a bounded outbound queue and a way to close it.
//!
//! The transport (WebSocket or Server-Sent Events) owns the socket and drains the queue; the
//! event actor never waits to queue a frame. A connection whose queue is full cannot keep
//! up: the actor drops it, marks it 4008, and the transport closes it. Memory never grows
//! with a slow reader. A WebSocket also lets the actor write its replies (acks, errors)
//! straight to the socket while it has nothing of its own to write ([`ConnSink::reply`]).

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll};

use futures_util::task::{ArcWake, AtomicWaker};

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
    /// A reply written at once ([`ConnSink::reply`]) left part of itself in the transport's
    /// buffer: write that out. Only a transport that took replies at once
    /// ([`ConnSource::attach`]) is ever given this.
    Flush,
}

/// How a transport took a reply written from the hub's turn.
#[derive(Debug, PartialEq, Eq)]
pub enum Wrote {
    /// All of it is on the socket.
    Done,
    /// Taken, but part of it still waits in the transport's buffer (or the socket failed,
    /// which the transport will find): the transport must write it out.
    Owed,
    /// Not taken (the socket is in use, or not ready): queue it.
    Refused,
}

/// A transport that can write a reply at once, from the hub's turn, while it has nothing of
/// its own to write (see [`ConnSink::reply`]).
pub trait Direct: Send + Sync {
    /// Writes `frame` without waiting. `cx` wakes the connection's transport task.
    fn write_now(&self, frame: &Frame, cx: &mut Context<'_>) -> Wrote;
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

#[derive(Default)]
struct Queue {
    frames: VecDeque<Out>,
    /// The transport has gone: sends fail.
    closed: bool,
    /// Where a reply may be written at once ([`ConnSink::reply`]), while `writing` is false.
    direct: Option<Arc<dyn Direct>>,
    /// The transport is writing: it holds frames it took from the queue that are not all
    /// in its socket's buffer yet, or is writing one of its own (a ping, a pong, its close).
    /// A reply written at once then could overtake a frame queued before it, or split a
    /// message sent in fragments.
    writing: bool,
    /// A reply written at once left part of itself in the transport's buffer: the
    /// transport is given [`Out::Flush`] before any frame.
    owed: bool,
}

impl Queue {
    /// What the transport has to take: frames, and the flush a reply left owing.
    fn waiting(&self) -> usize {
        self.frames.len() + usize::from(self.owed)
    }
}

impl fmt::Debug for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("frames", &self.frames)
            .field("closed", &self.closed)
            .field("direct", &self.direct.is_some())
            .field("writing", &self.writing)
            .field("owed", &self.owed)
            .finish()
    }
}

/// Queues wider than this after a burst (a reveal, a commit's acks) give their memory back
/// once drained.
const KEEP_CAPACITY: usize = 16;

fn lock(shared: &Shared) -> MutexGuard<'_, Queue> {
    // The lock is never held across anything that can panic; a poisoned one is still whole.
    shared.queue.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A reply's write, when its socket's buffer is full, wakes the connection's task.
impl ArcWake for Shared {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.waker.wake();
    }
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
            self.0.queued.store(queue.waiting(), Ordering::Release);
        }
        self.0.waker.wake();
        Ok(())
    }

    /// Writes `frame` to the socket now if the transport can take it without waiting and
    /// without overtaking anything: nothing queued, nothing in the transport's hands. The
    /// queue stays locked for the write (one `sendto`), so the transport cannot take a
    /// frame meanwhile.
    ///
    /// The socket's write buffer may keep the waker given here, which holds this queue; the
    /// queue holds the socket until [`ConnSource::detach`] or the source's drop, which
    /// every transport reaches, so the two never keep each other alive.
    fn write_now(&self, frame: &Frame) -> bool {
        let mut queue = lock(&self.0);
        let Some(direct) = queue.direct.as_ref() else {
            return false;
        };
        if queue.writing
            || queue.owed
            || !queue.frames.is_empty()
            || dropped_with(&self.0).is_some()
        {
            return false;
        }
        let waker = futures_util::task::waker_ref(&self.0);
        match direct.write_now(frame, &mut Context::from_waker(&waker)) {
            Wrote::Done => true,
            Wrote::Owed => {
                queue.owed = true;
                self.0.queued.store(queue.waiting(), Ordering::Release);
                drop(queue);
                self.0.waker.wake();
                true
            }
            Wrote::Refused => false,
        }
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

    /// Sends a reply to something this connection sent (an `ack`, an `error`): written to
    /// the socket at once, from the caller's turn, when the transport allows it and has
    /// nothing queued or in hand ([`ConnSource::attach`]); queued as [`ConnSink::send`]
    /// queues otherwise. Written at once, the reply skips the wake-up, the poll and the
    /// queue of the connection's task: about 3% more answers a second on one core
    /// (BENCHMARKS.md). Never waits: a socket in use is not waited for.
    #[must_use]
    pub fn reply(&self, frame: Frame) -> bool {
        if let SinkKind::Local(tx) = &self.kind
            && tx.write_now(&frame)
        {
            METRICS.frames_out.fetch_add(1, Ordering::Relaxed);
            METRICS.replies_at_once.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        self.send(frame)
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

    /// The next frame if one is queued. A transport that took replies at once
    /// ([`ConnSource::attach`]) is writing from then until it calls
    /// [`ConnSource::written`].
    pub fn try_recv(&mut self) -> Option<Out> {
        if self.shared.queued.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut queue = lock(&self.shared);
        let out = if std::mem::take(&mut queue.owed) {
            Out::Flush
        } else {
            queue.frames.pop_front()?
        };
        queue.writing = true;
        if queue.frames.is_empty() && queue.frames.capacity() > KEEP_CAPACITY {
            queue.frames = VecDeque::new();
        }
        self.shared.queued.store(queue.waiting(), Ordering::Release);
        Some(out)
    }

    /// Lets the hub write replies straight to the transport ([`ConnSink::reply`]) whenever
    /// the transport is not writing. The transport marks each write of its own with
    /// [`ConnSource::writing`] and [`ConnSource::written`] (frames it takes from the queue
    /// mark themselves), and is given [`Out::Flush`] when a reply leaves part of itself
    /// unwritten.
    pub fn attach(&self, direct: Arc<dyn Direct>) {
        lock(&self.shared).direct = Some(direct);
    }

    /// No more replies at once: the transport is closing (and the hub lets go of it).
    pub fn detach(&self) {
        let direct = {
            let mut queue = lock(&self.shared);
            queue.writing = true;
            queue.direct.take()
        };
        drop(direct);
    }

    /// The transport is about to write something of its own (a ping).
    pub fn writing(&self) {
        lock(&self.shared).writing = true;
    }

    /// Everything the transport took or wrote is on the socket: replies may be written at
    /// once again.
    pub fn written(&self) {
        lock(&self.shared).writing = false;
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
    /// Later sends fail, what was queued is freed, and the hub lets go of the transport.
    fn drop(&mut self) {
        let (frames, direct) = {
            let mut queue = lock(&self.shared);
            queue.closed = true;
            self.shared.queued.store(0, Ordering::Release);
            (std::mem::take(&mut queue.frames), queue.direct.take())
        };
        drop((frames, direct));
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

    /// A transport that takes replies as told and keeps what it took.
    struct Socket {
        answer: Mutex<Wrote>,
        took: Mutex<Vec<Frame>>,
    }

    impl Socket {
        fn attached(source: &ConnSource, answer: Wrote) -> Arc<Socket> {
            let socket = Arc::new(Socket {
                answer: Mutex::new(answer),
                took: Mutex::new(Vec::new()),
            });
            source.attach(socket.clone());
            socket
        }

        fn took(&self) -> Vec<Frame> {
            std::mem::take(&mut self.took.lock().unwrap())
        }
    }

    impl Direct for Socket {
        fn write_now(&self, frame: &Frame, _: &mut Context<'_>) -> Wrote {
            let answer = std::mem::replace(&mut *self.answer.lock().unwrap(), Wrote::Done);
            if answer != Wrote::Refused {
                self.took.lock().unwrap().push(frame.clone());
            }
            answer
        }
    }

    fn drain(source: &mut ConnSource) -> Vec<String> {
        std::iter::from_fn(|| source.try_recv())
            .map(|out| match out {
                Out::Frame(f) => String::from_utf8(f.to_vec()).unwrap(),
                Out::Flush => "(flush)".to_owned(),
                Out::Close(code) => format!("(close {})", code.code()),
            })
            .collect()
    }

    #[test]
    fn a_reply_is_written_at_once_only_when_it_overtakes_nothing() {
        let (sink, mut source) = channel(8);
        // No transport attached: queued.
        assert!(sink.reply(Frame::from_static(b"queued")));
        assert_eq!(drain(&mut source), ["queued"]);
        source.written();
        let socket = Socket::attached(&source, Wrote::Done);
        assert!(sink.reply(Frame::from_static(b"a")));
        assert_eq!(socket.took(), [Frame::from_static(b"a")]);
        assert!(source.try_recv().is_none());

        // A frame queued before the reply goes first: the reply queues behind it.
        assert!(sink.send(Frame::from_static(b"b")));
        assert!(sink.reply(Frame::from_static(b"c")));
        assert!(socket.took().is_empty());
        // The transport has taken every frame and not yet written them all.
        assert_eq!(drain(&mut source), ["b", "c"]);
        assert!(sink.reply(Frame::from_static(b"d")));
        assert!(socket.took().is_empty());
        assert_eq!(drain(&mut source), ["d"]);
        // Written: replies go at once again.
        source.written();
        assert!(sink.reply(Frame::from_static(b"e")));
        assert_eq!(socket.took(), [Frame::from_static(b"e")]);

        // The transport writes something of its own (a ping).
        source.writing();
        assert!(sink.reply(Frame::from_static(b"f")));
        source.written();
        assert!(socket.took().is_empty());
        assert_eq!(drain(&mut source), ["f"]);
        source.written();

        // Plain sends (broadcasts) are always queued.
        assert!(sink.send(Frame::from_static(b"g")));
        assert!(socket.took().is_empty());
        assert_eq!(drain(&mut source), ["g"]);
        source.written();

        // Closing: nothing more at once, and the hub lets go of the socket.
        source.detach();
        source.written();
        assert!(sink.reply(Frame::from_static(b"h")));
        assert!(socket.took().is_empty());
        assert_eq!(drain(&mut source), ["h"]);
        assert_eq!(Arc::strong_count(&socket), 1);
    }

    #[test]
    fn a_reply_the_socket_refuses_is_queued_and_one_half_written_is_flushed_first() {
        let (sink, mut source) = channel(8);
        let socket = Socket::attached(&source, Wrote::Refused);
        assert!(sink.reply(Frame::from_static(b"a")));
        assert!(socket.took().is_empty());
        assert_eq!(drain(&mut source), ["a"]);
        source.written();

        *socket.answer.lock().unwrap() = Wrote::Owed;
        assert!(sink.reply(Frame::from_static(b"b")));
        assert_eq!(socket.took(), [Frame::from_static(b"b")]);
        // Until the transport has written the rest out, replies queue behind it.
        assert!(sink.reply(Frame::from_static(b"c")));
        assert!(socket.took().is_empty());
        assert_eq!(drain(&mut source), ["(flush)", "c"]);
    }

    #[tokio::test]
    async fn a_half_written_reply_wakes_the_waiting_transport() {
        let (sink, mut source) = channel(8);
        let _socket = Socket::attached(&source, Wrote::Owed);
        let waiting = tokio::spawn(async move { source.recv().await });
        tokio::task::yield_now().await;
        assert!(sink.reply(Frame::from_static(b"a")));
        let out = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("the reply woke the waiting transport")
            .unwrap();
        assert!(matches!(out, Some(Out::Flush)));
    }

    #[test]
    fn a_dropped_connection_takes_no_reply_and_its_socket_is_let_go() {
        let (sink, source) = channel(1);
        let socket = Socket::attached(&source, Wrote::Done);
        assert!(sink.send(Frame::from_static(b"1")));
        // Full: dropped with 4008.
        assert!(!sink.send(Frame::from_static(b"2")));
        assert!(!sink.reply(Frame::from_static(b"3")));
        assert!(socket.took().is_empty());
        drop(source);
        assert_eq!(Arc::strong_count(&socket), 1);
        assert!(!sink.reply(Frame::from_static(b"4")));
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
