//! What the hub knows of a connection: a bounded outbound queue and a way to close it.
//!
//! The transport (WebSocket or Server-Sent Events) owns the socket and drains the queue; the
//! event actor only ever `try_send`s. A connection whose queue is full cannot keep up: the
//! actor drops it, marks it 4008, and the transport closes it. Memory never grows with a
//! slow reader.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};

use tokio::sync::{Notify, mpsc};

use crate::metrics::METRICS;
use crate::protocol::CloseCode;
use crate::protocol::server::Frame;

/// Frames queued for an attendee before it counts as too slow.
pub const ATTENDEE_QUEUE: usize = 128;
/// Hosts receive every tally, question and text: a deeper queue.
pub const HOST_QUEUE: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(u64);

impl ConnId {
    pub fn next() -> ConnId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ConnId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

#[derive(Debug)]
pub enum Out {
    Frame(Frame),
    Close(CloseCode),
}

/// The hub's end of a connection.
#[derive(Debug, Clone)]
pub struct ConnSink {
    tx: mpsc::Sender<Out>,
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    /// The close code to use when the queue could not take a `Close`.
    closed_with: AtomicU16,
    kicked: Notify,
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
            tx,
            shared: shared.clone(),
        },
        ConnSource { rx, shared },
    )
}

impl ConnSink {
    /// Queues a frame; `false` when the connection is gone or too slow (then it is marked
    /// 4008 and the caller must forget it).
    #[must_use]
    pub fn send(&self, frame: Frame) -> bool {
        match self.tx.try_send(Out::Frame(frame)) {
            Ok(()) => {
                METRICS.frames_out.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                METRICS
                    .slow_consumers_closed
                    .fetch_add(1, Ordering::Relaxed);
                self.kick(CloseCode::TooSlow);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Asks the transport to close with `code` once the frames before it are written.
    pub fn close(&self, code: CloseCode) {
        if self.tx.try_send(Out::Close(code)).is_err() {
            self.kick(code);
        }
    }

    /// Closes at once, past whatever is queued.
    fn kick(&self, code: CloseCode) {
        self.shared
            .closed_with
            .store(code.code(), Ordering::Relaxed);
        self.shared.kicked.notify_one();
    }
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
    /// The close code the hub set when it dropped this connection without a `Close` frame.
    pub fn dropped_with(&self) -> Option<CloseCode> {
        match self.shared.closed_with.load(Ordering::Relaxed) {
            4008 => Some(CloseCode::TooSlow),
            1012 => Some(CloseCode::Restarting),
            4000 => Some(CloseCode::EventEnded),
            4001 => Some(CloseCode::Unauthorized),
            4009 => Some(CloseCode::TooLarge),
            4029 => Some(CloseCode::TooMany),
            _ => None,
        }
    }

    /// Resolves when the hub drops the connection without queueing a `Close`: the
    /// transport should close with [`ConnSource::dropped_with`] at once.
    pub async fn kicked(&self) -> CloseCode {
        self.shared.kicked.notified().await;
        self.dropped_with().unwrap_or(CloseCode::TooSlow)
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
        assert_eq!(kick.kicked().await, CloseCode::TooSlow);
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
