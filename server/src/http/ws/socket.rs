//! The socket a connection's task shares with its event's actor, and writing to it: frames
//! queued together go out in one flush, long ones in fragments, and a write the client does
//! not take within the stall limit gives up. What to write and when is the session's.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, Utf8Bytes};
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};

use super::FRAGMENT;
use crate::http::upgrade::Socket;
use crate::hub::conn::{Direct, DropWatch, Wrote};
use crate::hub::{ConnSource, Out};
use crate::protocol::CloseCode;
use crate::protocol::server;

/// A connection's socket, shared by its task and, for replies written at once
/// ([`crate::hub::ConnSink::reply`]), by its event's actor.
///
/// Each read or write locks it for one poll only, never across a wait. On one thread the
/// two never meet; on several, the actor finds it locked now and then and queues its reply.
#[derive(Clone)]
pub(super) struct SharedSocket(pub(super) Arc<Mutex<Socket>>);

impl SharedSocket {
    pub(super) fn new(socket: Socket) -> SharedSocket {
        SharedSocket(Arc::new(Mutex::new(socket)))
    }

    fn lock(&self) -> MutexGuard<'_, Socket> {
        // Never held across anything that panics; a poisoned lock's socket is still whole.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Stream for SharedSocket {
    type Item = Result<Message, WsError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.lock().poll_next_unpin(cx)
    }
}

impl Sink<Message> for SharedSocket {
    type Error = WsError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.lock().poll_ready_unpin(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), WsError> {
        self.lock().start_send_unpin(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.lock().poll_flush_unpin(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.lock().poll_close_unpin(cx)
    }
}

impl Direct for Mutex<Socket> {
    /// Called only while the connection's task writes nothing and has nothing queued
    /// (see [`crate::hub::conn::ConnSource::attach`]), so the reply overtakes nothing.
    fn write_now(&self, frame: &Bytes, cx: &mut Context<'_>) -> Wrote {
        if frame.len() > FRAGMENT {
            // Sent in fragments by the connection's task.
            return Wrote::Refused;
        }
        let mut socket = match self.try_lock() {
            Ok(socket) => socket,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return Wrote::Refused,
        };
        // A buffer still waiting to go out: the task's write will take the reply after it.
        if socket.poll_ready_unpin(cx).is_pending() {
            return Wrote::Refused;
        }
        // Every frame the hub sends is JSON text; one that is not UTF-8 is skipped, as
        // `feed_text` skips it.
        let Ok(text) = Utf8Bytes::try_from(frame.clone()) else {
            return Wrote::Done;
        };
        if socket.start_send_unpin(Message::Text(text)).is_err() {
            // The socket failed: the task's next write finds out and ends the connection.
            return Wrote::Owed;
        }
        match socket.poll_flush_unpin(cx) {
            Poll::Ready(Ok(())) => Wrote::Done,
            Poll::Ready(Err(_)) | Poll::Pending => Wrote::Owed,
        }
    }
}
/// How a write to the client ended.
#[derive(Debug, PartialEq)]
pub(super) enum Written<T> {
    Done(T),
    /// It waited longer than the stall limit (`--write-stall-secs`).
    Stalled,
    /// The hub dropped the connection meanwhile (its queue filled up), with this code.
    Dropped(CloseCode),
}

/// Runs a write to the client until it completes, stalls for longer than `within`, or the
/// hub drops the connection. Nearly every write completes at once (the socket takes the
/// bytes), so it is polled once first, and a timer is set only for one that has to wait.
/// A client that stopped reading fills the socket's buffers, then its queue; the hub then
/// drops it, and the write gives up at once instead of holding the socket until the limit.
pub(super) async fn unless_stalled<F: Future>(
    within: Duration,
    dropped: &DropWatch,
    write: F,
) -> Written<F::Output> {
    use std::task::Poll;
    let mut write = std::pin::pin!(write);
    let first = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
    if let Poll::Ready(done) = first {
        return Written::Done(done);
    }
    let limit = tokio::time::sleep(within);
    let mut limit = std::pin::pin!(limit);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(done) = write.as_mut().poll(cx) {
            return Poll::Ready(Written::Done(done));
        }
        if let Poll::Ready(code) = dropped.poll(cx) {
            return Poll::Ready(Written::Dropped(code));
        }
        if limit.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Written::Stalled);
        }
        Poll::Pending
    })
    .await
}

/// Feeds every frame already queued for the connection, up to a queued close, whose code
/// it returns. Does not flush.
pub(super) async fn feed_queued(
    ws: &mut SharedSocket,
    rx: &mut ConnSource,
    welcomed: &mut bool,
) -> Result<Option<CloseCode>, WsError> {
    while let Some(out) = rx.try_recv() {
        match out {
            Out::Frame(frame) => {
                *welcomed |= server::is_welcome(&frame);
                feed_text(ws, frame).await?;
            }
            // The caller flushes.
            Out::Flush => {}
            Out::Close(code) => return Ok(Some(code)),
        }
    }
    Ok(None)
}

/// Queues one text message, in [`FRAGMENT`]-sized frames when it is longer than that.
pub(super) async fn feed_text(tx: &mut SharedSocket, frame: Bytes) -> Result<(), WsError> {
    if frame.len() <= FRAGMENT {
        // Every frame the hub queues is JSON text; a frame that is not UTF-8 is skipped.
        return match Utf8Bytes::try_from(frame) {
            Ok(text) => tx.feed(Message::Text(text)).await,
            Err(_) => Ok(()),
        };
    }
    if std::str::from_utf8(&frame).is_err() {
        return Ok(());
    }
    let pieces = frame.len().div_ceil(FRAGMENT);
    for i in 0..pieces {
        let piece = frame.slice(i * FRAGMENT..((i + 1) * FRAGMENT).min(frame.len()));
        let opcode = if i == 0 {
            OpCode::Data(Data::Text)
        } else {
            OpCode::Data(Data::Continue)
        };
        tx.feed(Message::Frame(Frame::message(
            piece,
            opcode,
            i + 1 == pieces,
        )))
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;

    use super::*;
    use crate::hub::conn;

    #[tokio::test]
    async fn a_write_that_completes_at_once_sets_no_timer_and_a_stalled_one_fails() {
        let short = Duration::from_millis(50);
        let (_sink, source) = conn::channel(4);
        let dropped = source.drop_watch();
        assert_eq!(
            unless_stalled(short, &dropped, async { 7 }).await,
            Written::Done(7)
        );
        // Waits once, then completes within the limit.
        let woken = unless_stalled(short, &dropped, async {
            tokio::task::yield_now().await;
            8
        });
        assert_eq!(woken.await, Written::Done(8));
        // Never completes: a client that stopped reading.
        let started = Instant::now();
        assert_eq!(
            unless_stalled(short, &dropped, std::future::pending::<()>()).await,
            Written::Stalled
        );
        assert!(started.elapsed() >= short);
    }

    #[tokio::test]
    async fn a_stalled_write_gives_up_as_soon_as_the_hub_drops_the_connection() {
        let (sink, source) = conn::channel(1);
        let dropped = source.drop_watch();
        let limit = Duration::from_secs(60);
        let write = tokio::spawn(async move {
            let started = Instant::now();
            let written = unless_stalled(limit, &dropped, std::future::pending::<()>()).await;
            (written, started.elapsed())
        });
        // The queue takes one frame; the second finds it full and the hub drops the
        // connection with 4008.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let frame = crate::protocol::server::ack("a");
        assert!(sink.send(frame.clone()));
        assert!(!sink.send(frame));
        let (written, waited) = write.await.expect("the write task");
        assert_eq!(written, Written::Dropped(CloseCode::TooSlow));
        assert!(waited < Duration::from_secs(5), "waited {waited:?}");
        assert_eq!(source.dropped_with(), Some(CloseCode::TooSlow));
    }
}
