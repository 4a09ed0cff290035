//! One connection's life, from upgrade to close: a single task reads the client's frames
//! (handing them to the [`Reader`]) and writes what the hub queues, pings, closes an idle
//! or unjoined socket, and ends with the closing handshake. It decides nothing about what a
//! frame means (that is the reader's) and writes only through [`super::socket`].

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Utf8Bytes;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};

use super::reader::{Flow, Reader};
use super::socket::{SharedSocket, Written, feed_queued, feed_text, unless_stalled};
use super::{IDLE, PING_EVERY};
use crate::http::limits::ConnectionSlot;
use crate::hub::conn::{self, ATTENDEE_QUEUE, DropWatch, HOST_QUEUE};
use crate::hub::{Command, ConnId, ConnSource, EventHandle, Offer, Out, Role};
use crate::protocol::server;
use crate::protocol::{CloseCode, ErrorCode};
use crate::storage::Storage;

/// How a session's loop ended.
enum Ending {
    /// Close the socket with this code, after what is already queued for it.
    Close(CloseCode),
    /// Close at once with this code: the queue is full (a slow reader) or was kicked.
    Kicked(CloseCode),
    /// The client sent its close frame: only the reply to it is still to go out.
    ClientClosed,
    /// The socket failed or ended: nothing more to send.
    Gone,
}
/// One connection, from upgrade to close; `_slot` counts it against its address.
///
/// One task per connection does both directions: it reads and handles the client's frames,
/// and writes what the hub queues for it (broadcasts, replies that could not be written at
/// once, its close), batching whatever is queued into one flush. A second task per
/// connection would cost a wake-up for every frame, and memory for every attendee. The
/// task tells the queue whenever it writes ([`ConnSource::written`]), so that a reply
/// written at once from the actor's turn never overtakes a frame queued before it.
///
/// A write the client's socket has not taken for `stall` means the client stopped reading
/// (its window stayed shut), and the connection is dropped. Without it, a client that
/// keeps its TCP connection open but never reads would hold its session forever.
pub(super) async fn session(
    mut ws: SharedSocket,
    handle: EventHandle,
    role: Role,
    mut slot: ConnectionSlot,
    stall: Duration,
    storage: Storage,
) {
    let conn = ConnId::next();
    let (sink, mut rx) = conn::channel(if role == Role::Attendee {
        ATTENDEE_QUEUE
    } else {
        HOST_QUEUE
    });
    rx.attach(ws.0.clone());
    let connected = role != Role::Attendee
        || handle
            .send(Command::Connect {
                conn,
                role: Role::Attendee,
                sink: sink.clone(),
                link: None,
                room: None,
            })
            .await
            .is_ok();
    let mut reader = Reader::new(conn, role, handle.clone(), sink, storage);
    let ending = if connected {
        run(&mut ws, &mut rx, &mut reader, &mut slot, stall).await
    } else {
        Ending::Close(CloseCode::Restarting)
    };
    // From here only this task writes: what is queued, then the close.
    rx.detach();
    if reader.joined || role == Role::Attendee {
        // Never wait on a full mailbox here: the connection is gone either way.
        let handle = handle.clone();
        tokio::spawn(async move {
            let _ = handle.send(Command::Disconnect { conn }).await;
        });
    }
    let code = match ending {
        Ending::Gone => return,
        Ending::ClientClosed => {
            // tungstenite queued the reply to the client's close; a flush sends it.
            let _ = tokio::time::timeout(Duration::from_secs(2), ws.flush()).await;
            return;
        }
        Ending::Kicked(code) => code,
        Ending::Close(code) => code,
    };
    // Send what is queued (unless the reader is too slow for it), then the close frame,
    // then read and discard what the client still sends until it answers the close (RFC
    // 6455 section 7.1.1): closing with unread data would reset the connection and lose
    // the close frame.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let mut code = code;
        if matches!(ending, Ending::Close(_)) {
            match feed_queued(&mut ws, &mut rx, &mut false).await {
                Ok(queued) => code = queued.unwrap_or(code),
                Err(_) => return,
            }
        }
        let frame = CloseFrame {
            code: WsCloseCode::from(code.code()),
            reason: Utf8Bytes::from_static(code.reason()),
        };
        if ws.send(Message::Close(Some(frame))).await.is_err() {
            return;
        }
        while let Some(Ok(message)) = ws.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
        let _ = ws.close().await;
    })
    .await;
}

/// The connection's loop: frames from the client go to the reader, frames from the hub go
/// out, a ping every [`PING_EVERY`], a close after [`IDLE`] of silence, or [`JOIN_GRACE`](super::JOIN_GRACE)
/// after opening for a socket that has not joined by then.
async fn run(
    ws: &mut SharedSocket,
    rx: &mut ConnSource,
    reader: &mut Reader,
    slot: &mut ConnectionSlot,
    stall: Duration,
) -> Ending {
    // One timer for the connection's life, for the ping, the idle close and the join grace,
    // moved on only when it fires: a fresh timeout around every read would register and
    // cancel a timer per message, and each timer is polled on every turn of the loop.
    let mut heard = Instant::now();
    let mut next_ping = heard + first_ping(reader.conn);
    let timer = tokio::time::sleep_until(next_ping.min(reader.join_by()));
    tokio::pin!(timer);
    let mut was_joined = false;
    // Once the reader has asked for a close, only what is queued still goes out.
    let mut reading = true;
    let dropped = rx.drop_watch();
    loop {
        // Dropped by the hub (its queue was full): close at once. The hub wakes this loop
        // when it does, and a write in progress gives up ([`unless_stalled`]).
        if let Some(code) = rx.dropped_with() {
            return Ending::Kicked(code);
        }
        if reader.joined && !was_joined {
            was_joined = true;
            slot.joined();
        }
        tokio::select! {
            biased;
            out = rx.recv() => {
                if let Some(ending) = write_out(ws, rx, &dropped, stall, out, &mut reader.joined).await {
                    return ending;
                }
            }
            next = ws.next(), if reading => {
                heard = Instant::now();
                let message = match next {
                    Some(Ok(Message::Close(_))) => return Ending::ClientClosed,
                    None | Some(Err(_)) => return Ending::Gone,
                    Some(Ok(message)) => message,
                };
                let mut flow = reader.on_message(message, heard);
                if let Flow::Authorise(key) = flow {
                    // Boxed: a database read's future is large, and unboxed it would sit in
                    // every connection's future (attendees' too) for the socket's whole life.
                    flow = Box::pin(reader.authorise(&key)).await;
                }
                match flow {
                    Flow::Continue | Flow::Authorise(_) => {}
                    Flow::Send(command) => {
                        if let Some(ending) = deliver(ws, rx, &dropped, stall, &reader.handle, command, &mut reader.joined).await {
                            return ending;
                        }
                        // Waiting for a full mailbox, the server did not read the client's
                        // later messages; they queued in the socket and now arrive at once.
                        reader.allowance.credit(heard, Instant::now());
                    }
                    Flow::Close(code) => {
                        reader.sink.close(code);
                        reading = false;
                    }
                }
            }
            () = &mut timer => {
                match on_timer(ws, rx, reader, &dropped, stall, heard, &mut next_ping).await {
                    Ok(due) => timer.as_mut().reset(due),
                    Err(ending) => return ending,
                }
            }
        }
    }
}

/// The connection's timer fired: close an idle socket or one that has not joined in time,
/// recheck its role link and ping when a ping is due. `Ok` with when the timer is next
/// due, `Err` when the connection ends.
async fn on_timer(
    ws: &mut SharedSocket,
    rx: &mut ConnSource,
    reader: &mut Reader,
    dropped: &DropWatch,
    stall: Duration,
    heard: Instant,
    next_ping: &mut Instant,
) -> Result<Instant, Ending> {
    let now = Instant::now();
    if now >= heard + IDLE {
        return Err(Ending::Close(CloseCode::TooSlow));
    }
    if !reader.joined && now >= reader.join_by() {
        let (code, message) = if reader.role == Role::Attendee {
            (
                ErrorCode::NotJoined,
                "no hello within 10 s of connecting; connect again and send hello first",
            )
        } else {
            (
                ErrorCode::Unauthorized,
                "no auth within 10 s of connecting; connect again and send auth first",
            )
        };
        reader.error(None, code, message);
        return Err(Ending::Close(CloseCode::TooSlow));
    }
    if now >= *next_ping && reader.link.is_some() && Box::pin(reader.link_revoked()).await {
        reader.error(None, ErrorCode::Unauthorized, "this link has been revoked");
        return Err(Ending::Close(CloseCode::Unauthorized));
    }
    if now >= *next_ping {
        rx.writing();
        match unless_stalled(stall, dropped, ws.send(Message::Ping(Bytes::new()))).await {
            Written::Done(Ok(())) => rx.written(),
            Written::Dropped(code) => return Err(Ending::Kicked(code)),
            Written::Done(Err(_)) | Written::Stalled => return Err(Ending::Gone),
        }
        *next_ping = now + PING_EVERY;
    }
    let mut due = (*next_ping).min(heard + IDLE);
    if !reader.joined {
        due = due.min(reader.join_by());
    }
    Ok(due)
}

/// When a connection's first ping is due: between half of [`PING_EVERY`] and all of it,
/// spread by connection. Connections that joined together (a room joining at the start
/// of a session) would otherwise be pinged together, every 25 s: 19,000 pings and pongs
/// at once, in the middle of the answers.
fn first_ping(conn: ConnId) -> Duration {
    const SPREAD: u64 = 1024;
    let step = (conn.raw() % SPREAD) as u32;
    PING_EVERY / 2 + (PING_EVERY / 2) * step / SPREAD as u32
}

/// Writes what the hub queued for the connection: `out` and everything queued behind it,
/// in one flush. `Some` when the connection ends.
async fn write_out(
    ws: &mut SharedSocket,
    rx: &mut ConnSource,
    dropped: &DropWatch,
    stall: Duration,
    out: Option<Out>,
    welcomed: &mut bool,
) -> Option<Ending> {
    let frame = match out {
        Some(Out::Frame(frame)) => {
            *welcomed |= server::is_welcome(&frame);
            Some(frame)
        }
        // What a reply written at once left in the socket's buffer.
        Some(Out::Flush) => None,
        Some(Out::Close(code)) => return Some(Ending::Close(code)),
        // The reader holds a sender while the loop runs.
        None => return Some(Ending::Close(CloseCode::Restarting)),
    };
    let written = unless_stalled(stall, dropped, async {
        if let Some(frame) = frame {
            feed_text(ws, frame).await?;
        }
        // Batch what is already queued into one flush.
        let close = feed_queued(ws, rx, welcomed).await?;
        ws.flush().await?;
        Ok::<_, WsError>(close)
    })
    .await;
    match written {
        Written::Done(Ok(Some(code))) => Some(Ending::Close(code)),
        Written::Done(Ok(None)) => {
            rx.written();
            None
        }
        Written::Dropped(code) => Some(Ending::Kicked(code)),
        Written::Done(Err(_)) | Written::Stalled => Some(Ending::Gone),
    }
}

/// Hands a command to the event's actor. While its mailbox is full, what the hub queued for
/// this connection keeps going out: a client that reads everything is never closed as too
/// slow (4008) because the server was too busy to take its next message. The client's
/// later messages wait in the socket meanwhile. `Some` when the connection ends.
async fn deliver(
    ws: &mut SharedSocket,
    rx: &mut ConnSource,
    dropped: &DropWatch,
    stall: Duration,
    handle: &EventHandle,
    command: Command,
    welcomed: &mut bool,
) -> Option<Ending> {
    let command = match handle.offer(command) {
        Offer::Taken => return None,
        Offer::Full(command) => command,
        Offer::Gone => return Some(Ending::Close(CloseCode::Restarting)),
    };
    let room = handle.room();
    tokio::pin!(room);
    loop {
        if let Some(code) = rx.dropped_with() {
            return Some(Ending::Kicked(code));
        }
        tokio::select! {
            biased;
            permit = &mut room => return match permit {
                Ok(permit) => {
                    permit.send(command);
                    None
                }
                Err(_) => Some(Ending::Close(CloseCode::Restarting)),
            },
            out = rx.recv() => {
                if let Some(ending) = write_out(ws, rx, dropped, stall, out, welcomed).await {
                    return Some(ending);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_pings_are_spread_over_the_second_half_of_the_interval() {
        let firsts: Vec<Duration> = (0..4096).map(|_| first_ping(ConnId::next())).collect();
        assert!(
            firsts
                .iter()
                .all(|&d| d >= PING_EVERY / 2 && d <= PING_EVERY)
        );
        // Consecutive connections (a join storm) land in every tenth of the window.
        let mut tenths = [0; 10];
        for d in firsts {
            let tenth = ((d - PING_EVERY / 2).as_secs_f64() / (PING_EVERY / 2).as_secs_f64() * 10.0)
                as usize;
            tenths[tenth.min(9)] += 1;
        }
        assert!(tenths.iter().all(|&n| n > 300), "{tenths:?}");
    }
}
