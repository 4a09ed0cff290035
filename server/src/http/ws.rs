//! The WebSocket transport for attendees, hosts and presenters.
//!
//! One task per socket does both directions: it reads, enforcing frame size, rate and idle
//! limits, decodes each frame once and forwards it to the event's actor; and it drains the
//! connection's bounded queue, batching frames into one flush. A frame that does not decode
//! gets a typed `error` reply and the connection stays usable. Replies (acks, errors) the
//! actor sends while the task has nothing to write go straight to the socket from the
//! actor's turn ([`SharedSocket`]).

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{
    CloseCode as WsCloseCode, Data, OpCode,
};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, Utf8Bytes};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};

use super::keys::{self, KeyAccess};
use super::limits::ConnectionSlot;
use super::upgrade::{Socket, WsUpgrade};
use super::{ApiError, AppState};
use crate::domain::link::LinkRole;
use crate::hub::allowance::{self, Bucket, Rate};
use crate::hub::conn::{self, ATTENDEE_QUEUE, Direct, DropWatch, HOST_QUEUE, Wrote};
use crate::hub::{Command, ConnId, ConnSink, ConnSource, EventHandle, Offer, Out, Role};
use crate::metrics::METRICS;
use crate::protocol::server;
use crate::protocol::{
    ClientMsg, CloseCode, ErrorCode, HostMsg, MAX_FRAME, decode_client, decode_host,
};
use crate::storage::Storage;

/// Frames larger than this are refused by the WebSocket layer itself; frames between
/// [`MAX_FRAME`] and this get a clean close 4009.
const HARD_LIMIT: usize = 256 * 1024;
/// A connection that sends nothing (not even a pong) for this long is closed.
const IDLE: Duration = Duration::from_secs(75);
/// How often the server pings, so that idle phones and proxies keep the socket open.
const PING_EVERY: Duration = Duration::from_secs(25);
/// A socket that has not joined (an attendee's `hello` answered by its `welcome`) or
/// authorised (a host's or presenter's `auth`) this long after it opened is closed: pings
/// and pongs do not count, so a socket that only keeps itself alive is not kept.
const JOIN_GRACE: Duration = Duration::from_secs(10);
/// How much longer a socket that sent its `hello` within [`JOIN_GRACE`] may wait for its
/// `welcome`: an event far behind (a join storm) can take more than the grace to answer.
const WELCOME_WAIT: Duration = Duration::from_secs(50);
/// Refusals a connection may earn before it is closed with 4029, and how fast that
/// allowance comes back: a client that overshoots now and then is never closed, one that
/// keeps flooding is.
const REFUSALS: f64 = 200.0;
const REFUSALS_FORGIVEN_PER_SECOND: f64 = 10.0;
/// A host's connection: a moderator clearing a queue of hundreds of questions one click
/// (or one keypress) at a time is never refused; a batch `moderate` with `targets` is one
/// message however many items it names.
const HOST_RATE: Limits = Limits {
    rate: Rate {
        burst: 1000.0,
        per_second: 200.0,
    },
    refusals: 2000.0,
};
/// An attendee's or presenter's connection: an attendee's numbers.
const CLIENT_RATE: Limits = Limits {
    rate: allowance::ATTENDEE,
    refusals: REFUSALS,
};

/// Messages longer than this go out as fragments of this size (RFC 6455 section 5.4), so
/// the socket's write buffer, which keeps its largest size, stays small.
const FRAGMENT: usize = 2 * 1024;

fn config() -> WebSocketConfig {
    // Frames queued together go out in one write: the writer feeds them, then flushes; the
    // buffer is written out whenever it passes one fragment. Reads go into a 1 KiB buffer
    // (tungstenite zero-fills all of it; most client messages are well under 1 KiB).
    WebSocketConfig::default()
        .read_buffer_size(1024)
        .write_buffer_size(FRAGMENT)
        .max_message_size(Some(HARD_LIMIT))
        .max_frame_size(Some(HARD_LIMIT))
}

/// What every upgrade shares: the request's parts that are checked before the handshake.
pub struct Upgrade {
    ws: WsUpgrade,
    app: AppState,
    code: String,
    peer: std::net::SocketAddr,
    headers: HeaderMap,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Upgrade
where
    AppState: axum::extract::FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let ws = WsUpgrade::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(code) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let ConnectInfo(peer) =
            ConnectInfo::<std::net::SocketAddr>::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
        let State(app) = State::<AppState>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Upgrade {
            ws,
            app,
            code,
            peer,
            headers: parts.headers.clone(),
        })
    }
}

impl Upgrade {
    /// Checks the origin, finds the event, applies the per-address limits (a join counts
    /// only for attendees), then hands the socket to a session.
    async fn accept(self, role: Role) -> Result<Response, ApiError> {
        self.app.check_origin(&self.headers)?;
        let handle = self.app.event(&self.code).await?;
        let client = self.app.client_ip(self.peer.ip(), &self.headers);
        if role == Role::Attendee {
            self.app.join(client)?;
        }
        let slot = self.app.connection_slot(client)?;
        let stall = self.app.write_stall();
        let storage = self.app.hub().storage().clone();
        Ok(self.ws.on_upgrade(config(), move |socket| {
            // Moved to the heap here, not in `session`: an async function's arguments stay
            // in its future for its whole life, and the socket would be held twice.
            session(
                SharedSocket::new(socket),
                handle,
                role,
                slot,
                stall,
                storage,
            )
        }))
    }
}

pub async fn attendee(upgrade: Upgrade) -> Result<Response, ApiError> {
    upgrade.accept(Role::Attendee).await
}

pub async fn host(upgrade: Upgrade) -> Result<Response, ApiError> {
    upgrade.accept(Role::Host).await
}

pub async fn presenter(upgrade: Upgrade) -> Result<Response, ApiError> {
    upgrade.accept(Role::Presenter).await
}

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

/// A connection's socket, shared by its task and, for replies written at once
/// ([`crate::hub::ConnSink::reply`]), by its event's actor.
///
/// Each read or write locks it for one poll only, never across a wait. On one thread the
/// two never meet; on several, the actor finds it locked now and then and queues its reply.
#[derive(Clone)]
struct SharedSocket(Arc<Mutex<Socket>>);

impl SharedSocket {
    fn new(socket: Socket) -> SharedSocket {
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
async fn session(
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
/// out, a ping every [`PING_EVERY`], a close after [`IDLE`] of silence, or [`JOIN_GRACE`]
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
                let now = Instant::now();
                if now >= heard + IDLE {
                    return Ending::Close(CloseCode::TooSlow);
                }
                if !reader.joined && now >= reader.join_by() {
                    let (code, message) = if reader.role == Role::Attendee {
                        (ErrorCode::NotJoined, "no hello within 10 s of connecting; connect again and send hello first")
                    } else {
                        (ErrorCode::Unauthorized, "no auth within 10 s of connecting; connect again and send auth first")
                    };
                    reader.error(None, code, message);
                    return Ending::Close(CloseCode::TooSlow);
                }
                if now >= next_ping && reader.link.is_some() && Box::pin(reader.link_revoked()).await {
                    reader.error(None, ErrorCode::Unauthorized, "this link has been revoked");
                    return Ending::Close(CloseCode::Unauthorized);
                }
                if now >= next_ping {
                    rx.writing();
                    match unless_stalled(stall, &dropped, ws.send(Message::Ping(Bytes::new()))).await {
                        Written::Done(Ok(())) => rx.written(),
                        Written::Dropped(code) => return Ending::Kicked(code),
                        Written::Done(Err(_)) | Written::Stalled => return Ending::Gone,
                    }
                    next_ping = now + PING_EVERY;
                }
                let mut due = next_ping.min(heard + IDLE);
                if !reader.joined {
                    due = due.min(reader.join_by());
                }
                timer.as_mut().reset(due);
            }
        }
    }
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

/// What the reader wants after a frame.
enum Flow {
    Continue,
    /// Hand this command to the event's actor.
    Send(Command),
    /// Close with this code once what is queued has gone out.
    Close(CloseCode),
    /// A host's or presenter's `auth` with this key, to check ([`Reader::authorise`]).
    Authorise(String),
}

/// Just the `id` of a message, read without decoding the rest.
#[derive(serde::Deserialize)]
struct IdOnly {
    id: Option<serde_json::Value>,
}

struct Reader {
    conn: ConnId,
    role: Role,
    handle: EventHandle,
    sink: ConnSink,
    /// Hosts and presenters: authorised and attached to the actor. Attendees: sent their
    /// `welcome`.
    joined: bool,
    /// An attendee's `hello` was read within [`JOIN_GRACE`] of opening.
    said_hello: bool,
    /// When the socket opened.
    opened: Instant,
    allowance: Allowance,
    /// Where role links are checked.
    storage: Storage,
    /// What the host's or presenter's key lets it do, once authorised.
    access: Option<LinkRole>,
    /// The role link that authorised it, if one did: checked again at every ping, so a link
    /// revoked where the event's actor could not be told (the command line, a cluster node
    /// out of reach) still closes its sockets within [`PING_EVERY`].
    link: Option<String>,
}

impl Reader {
    fn new(
        conn: ConnId,
        role: Role,
        handle: EventHandle,
        sink: ConnSink,
        storage: Storage,
    ) -> Reader {
        Reader {
            conn,
            role,
            handle,
            sink,
            joined: false,
            said_hello: false,
            opened: Instant::now(),
            allowance: Allowance::new(
                Instant::now(),
                if role == Role::Host {
                    HOST_RATE
                } else {
                    CLIENT_RATE
                },
            ),
            storage,
            access: None,
            link: None,
        }
    }

    /// Whether the role link that authorised this socket has been revoked since.
    async fn link_revoked(&self) -> bool {
        let Some(id) = &self.link else {
            return false;
        };
        match self.storage.role_links(self.handle.info().code).await {
            Ok(links) => links
                .iter()
                .find(|l| &l.id == id)
                .is_none_or(|l| l.revoked_at.is_some()),
            // Not known to be revoked: the next ping asks again.
            Err(_) => false,
        }
    }

    fn on_message(&mut self, message: Message, now: Instant) -> Flow {
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => {
                self.error(
                    None,
                    ErrorCode::InvalidMessage,
                    "messages are JSON text frames, not binary",
                );
                return Flow::Continue;
            }
            Message::Close(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {
                return Flow::Continue;
            }
        };
        METRICS
            .frames_in
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if text.len() > MAX_FRAME {
            return Flow::Close(CloseCode::TooLarge);
        }
        match self.allowance.take(now) {
            Verdict::Take => {}
            Verdict::Close => return Flow::Close(CloseCode::TooMany),
            Verdict::Refuse => {
                // Name the refused message, so the client knows what to send again.
                let id = serde_json::from_str::<IdOnly>(&text)
                    .ok()
                    .and_then(|m| m.id);
                self.error(
                    id.as_ref(),
                    ErrorCode::RateLimited,
                    "too many messages; slow down and send again",
                );
                return Flow::Continue;
            }
        }
        self.handle_text(&text, now)
    }

    /// Handles one text frame.
    fn handle_text(&mut self, text: &str, now: Instant) -> Flow {
        match self.role {
            Role::Attendee => match decode_client(text) {
                Ok(msg) => {
                    if matches!(msg, ClientMsg::Hello { .. }) && now < self.opened + JOIN_GRACE {
                        self.said_hello = true;
                    }
                    Flow::Send(Command::Client {
                        conn: self.conn,
                        msg,
                        at: now,
                    })
                }
                Err(e) => {
                    self.error(e.id.as_ref(), ErrorCode::InvalidMessage, &e.message);
                    Flow::Continue
                }
            },
            Role::Host | Role::Presenter => {
                let msg = match decode_host(text) {
                    Ok(msg) => msg,
                    Err(e) => {
                        let code = if self.joined {
                            ErrorCode::InvalidMessage
                        } else {
                            ErrorCode::Unauthorized
                        };
                        let message = if self.joined {
                            e.message
                        } else {
                            "authenticate first with {\"type\":\"auth\",\"token\":...}".to_owned()
                        };
                        self.error(e.id.as_ref(), code, &message);
                        return Flow::Continue;
                    }
                };
                if !self.joined {
                    return self.authenticate(msg);
                }
                if self.role == Role::Presenter {
                    self.error(
                        msg.id(),
                        ErrorCode::Unauthorized,
                        "the presenter screen is read-only",
                    );
                    return Flow::Continue;
                }
                if self.access == Some(LinkRole::Moderator) && msg.changes_phase() {
                    self.error(
                        msg.id(),
                        ErrorCode::Unauthorized,
                        "a moderator link cannot end the event or change its phase; ask the host or the organiser",
                    );
                    return Flow::Continue;
                }
                Flow::Send(Command::Host {
                    conn: self.conn,
                    msg,
                })
            }
        }
    }

    fn authenticate(&mut self, msg: HostMsg) -> Flow {
        let HostMsg::Auth { token } = msg else {
            self.error(
                msg.id(),
                ErrorCode::Unauthorized,
                "authenticate first with {\"type\":\"auth\",\"token\":...}",
            );
            return Flow::Continue;
        };
        Flow::Authorise(token)
    }

    /// Checks a host's or presenter's key: the event's own tokens, or a role link not
    /// revoked that opens this kind of socket. A key that opens nothing closes it with 4001.
    async fn authorise(&mut self, key: &str) -> Flow {
        let found = match keys::access(&self.storage, &self.handle.info(), key).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(event = %self.handle.info().code, error = %e, "could not check a key");
                self.error(
                    None,
                    ErrorCode::Unavailable,
                    "the server could not check this key right now; connect again",
                );
                return Flow::Close(CloseCode::Restarting);
            }
        };
        let opens = |a: &KeyAccess| self.role == Role::Presenter || a.role.is_staff();
        let Some(access) = found.filter(opens) else {
            self.error(
                None,
                ErrorCode::Unauthorized,
                "that token does not open this event",
            );
            return Flow::Close(CloseCode::Unauthorized);
        };
        self.joined = true;
        self.access = Some(access.role);
        self.link = access.link.as_ref().map(|l| l.id.clone());
        // A presenter link issued for a break-out room binds its screen to that room,
        // whatever room the page's address names.
        let room = access.link.as_ref().and_then(|l| l.room.clone());
        let _ = self.sink.send(server::authorised(
            access.role.as_str(),
            access.label(),
            room.as_deref(),
        ));
        Flow::Send(Command::Connect {
            conn: self.conn,
            role: self.role,
            sink: self.sink.clone(),
            link: access.link.map(|l| l.id),
            room,
        })
    }

    /// When the socket must have joined: [`JOIN_GRACE`] after it opened, or
    /// [`WELCOME_WAIT`] more for an attendee whose `hello` came in time.
    fn join_by(&self) -> Instant {
        if self.said_hello {
            self.opened + JOIN_GRACE + WELCOME_WAIT
        } else {
            self.opened + JOIN_GRACE
        }
    }

    fn error(&self, id: Option<&serde_json::Value>, code: ErrorCode, message: &str) {
        METRICS
            .client_errors
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _ = self.sink.send(server::error(id, code, message));
    }
}

/// How many messages a kind of connection may send, and the refusals it may earn.
#[derive(Clone, Copy)]
struct Limits {
    rate: Rate,
    /// Refusals earned before a close with 4029.
    refusals: f64,
}

/// A connection's message allowance: a bucket ([`allowance::Bucket`], the type the event's
/// per-attendee allowance uses too), and the refusals it may earn before it is closed.
struct Allowance {
    bucket: Bucket,
    /// What is left of the refusal allowance, and when it was last forgiven.
    refusals: f64,
    most_refusals: f64,
    forgiven: Instant,
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Take,
    Refuse,
    /// Refused once too often: close the connection.
    Close,
}

impl Allowance {
    fn new(now: Instant, limits: Limits) -> Allowance {
        Allowance {
            bucket: Bucket::new(now, limits.rate),
            refusals: limits.refusals,
            most_refusals: limits.refusals,
            forgiven: now,
        }
    }

    /// One message, read at `now`.
    fn take(&mut self, now: Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.forgiven).as_secs_f64();
        self.forgiven = self.forgiven.max(now);
        self.refusals =
            (self.refusals + elapsed * REFUSALS_FORGIVEN_PER_SECOND).min(self.most_refusals);
        if self.bucket.take(now) {
            return Verdict::Take;
        }
        self.refusals -= 1.0;
        if self.refusals < 0.0 {
            Verdict::Close
        } else {
            Verdict::Refuse
        }
    }

    /// The server kept this connection unread from `since` until `now` (its event's mailbox
    /// was full): what the client sent meanwhile at the allowed rate arrives in one burst,
    /// and is not held against it ([`Bucket::credit`]).
    fn credit(&mut self, since: Instant, now: Instant) {
        self.bucket.credit(since, now);
    }
}

/// How a write to the client ended.
#[derive(Debug, PartialEq)]
enum Written<T> {
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
async fn unless_stalled<F: Future>(
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
async fn feed_queued(
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
async fn feed_text(tx: &mut SharedSocket, frame: Bytes) -> Result<(), WsError> {
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
    use super::*;

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

    const BURST: f64 = allowance::ATTENDEE.burst;
    const PER_SECOND: f64 = allowance::ATTENDEE.per_second;

    #[test]
    fn a_burst_is_taken_and_a_flood_refused_then_closed() {
        let now = Instant::now();
        let mut allowance = Allowance::new(now, CLIENT_RATE);
        for _ in 0..BURST as usize {
            assert_eq!(allowance.take(now), Verdict::Take);
        }
        for _ in 0..REFUSALS as usize {
            assert_eq!(allowance.take(now), Verdict::Refuse);
        }
        assert_eq!(allowance.take(now), Verdict::Close);
    }

    #[test]
    fn the_allowance_refills_at_the_sustained_rate() {
        let start = Instant::now();
        let mut allowance = Allowance::new(start, CLIENT_RATE);
        for _ in 0..BURST as usize {
            assert_eq!(allowance.take(start), Verdict::Take);
        }
        let later = start + Duration::from_secs(1);
        for _ in 0..PER_SECOND as usize {
            assert_eq!(allowance.take(later), Verdict::Take);
        }
        assert_eq!(allowance.take(later), Verdict::Refuse);
    }

    #[test]
    fn a_backlog_the_server_left_unread_is_not_refused() {
        // A client at 20 messages a second while the server did not read its socket for
        // 8 s: 160 messages arrive at once.
        let start = Instant::now();
        let mut allowance = Allowance::new(start, CLIENT_RATE);
        assert_eq!(allowance.take(start), Verdict::Take);
        let later = start + Duration::from_secs(8);
        allowance.credit(start, later);
        for _ in 0..160 {
            assert_eq!(allowance.take(later), Verdict::Take);
        }
        // The credit is for the wait only: a flood past it is refused as before.
        let mut refused = 0;
        for _ in 0..200 {
            if allowance.take(later) != Verdict::Take {
                refused += 1;
            }
        }
        assert!(refused > 0);
    }

    #[test]
    fn short_waits_earn_nothing() {
        let now = Instant::now();
        let mut allowance = Allowance::new(now, CLIENT_RATE);
        allowance.credit(now, now + Duration::from_millis(5));
        for _ in 0..BURST as usize {
            assert_eq!(allowance.take(now), Verdict::Take);
        }
        assert_eq!(allowance.take(now), Verdict::Refuse);
    }
}
