//! The WebSocket transport for attendees, hosts and presenters.
//!
//! Each socket is split: a reader that enforces frame size, rate and idle limits, decodes
//! each frame once and forwards it to the event's actor; and a writer that drains the
//! connection's bounded queue, batching frames into one flush. A frame that does not decode
//! gets a typed `error` reply and the connection stays usable.

use std::time::Duration;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{
    CloseCode as WsCloseCode, Data, OpCode,
};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, Utf8Bytes};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Bytes, Message};

use super::limits::ConnectionSlot;
use super::upgrade::{Socket, WsUpgrade};
use super::{ApiError, AppState};
use crate::hub::conn::{self, ATTENDEE_QUEUE, HOST_QUEUE};
use crate::hub::{Command, ConnId, ConnSink, ConnSource, EventHandle, Out, Role};
use crate::metrics::METRICS;
use crate::protocol::server;
use crate::protocol::{CloseCode, ErrorCode, HostMsg, MAX_FRAME, decode_client, decode_host};

/// Frames larger than this are refused by the WebSocket layer itself; frames between
/// [`MAX_FRAME`] and this get a clean close 4009.
const HARD_LIMIT: usize = 256 * 1024;
/// A connection that sends nothing (not even a pong) for this long is closed.
const IDLE: Duration = Duration::from_secs(75);
/// How often the server pings, so that idle phones and proxies keep the socket open.
const PING_EVERY: Duration = Duration::from_secs(25);
/// Messages a connection may send in a burst, and per second sustained (the contract's
/// floor is 50 and 20).
const BURST: f64 = 60.0;
const PER_SECOND: f64 = 30.0;
/// Refusals a connection may earn before it is closed with 4029, and how fast that
/// allowance comes back: a client that overshoots now and then is never closed, one that
/// keeps flooding is.
const REFUSALS: f64 = 200.0;
const REFUSALS_FORGIVEN_PER_SECOND: f64 = 10.0;

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
    async fn accept(self, kind: Kind) -> Result<Response, ApiError> {
        self.app.check_origin(&self.headers)?;
        let handle = self.app.event(&self.code).await?;
        if kind == Kind::Attendee {
            self.app.join(self.peer.ip())?;
        }
        let slot = self.app.connection_slot(self.peer.ip())?;
        Ok(self
            .ws
            .on_upgrade(config(), move |socket| session(socket, handle, kind, slot)))
    }
}

pub async fn attendee(upgrade: Upgrade) -> Result<Response, ApiError> {
    upgrade.accept(Kind::Attendee).await
}

pub async fn host(upgrade: Upgrade) -> Result<Response, ApiError> {
    upgrade.accept(Kind::Host).await
}

pub async fn presenter(upgrade: Upgrade) -> Result<Response, ApiError> {
    upgrade.accept(Kind::Presenter).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Attendee,
    Host,
    Presenter,
}

/// One connection, from upgrade to close; `_slot` counts it against its address.
async fn session(socket: Socket, handle: EventHandle, kind: Kind, _slot: ConnectionSlot) {
    let conn = ConnId::next();
    let (sink, source) = conn::channel(if kind == Kind::Attendee {
        ATTENDEE_QUEUE
    } else {
        HOST_QUEUE
    });
    let (ws_tx, mut ws_rx) = socket.split();
    let mut writer = tokio::spawn(write_loop(ws_tx, source));
    if kind == Kind::Attendee
        && handle
            .send(Command::Connect {
                conn,
                role: Role::Attendee,
                sink: sink.clone(),
            })
            .await
            .is_err()
    {
        sink.close(CloseCode::Restarting);
    }
    let mut reader = Reader::new(conn, kind, handle.clone(), sink.clone());
    let writer_done = tokio::select! {
        _ = reader.run(&mut ws_rx) => false,
        _ = &mut writer => true,
    };
    if reader.joined || kind == Kind::Attendee {
        // Never wait on a full mailbox here: the connection is gone either way.
        let handle = handle.clone();
        tokio::spawn(async move {
            let _ = handle.send(Command::Disconnect { conn }).await;
        });
    }
    // Let the writer send what is queued, a close frame included, while reading and
    // discarding what the client still sends until it answers the close (RFC 6455 section
    // 7.1.1): closing with unread data would reset the connection and lose the close frame.
    drop(reader);
    drop(sink);
    let write = async {
        if !writer_done {
            let _ = (&mut writer).await;
        }
    };
    let drain = async {
        while let Some(Ok(message)) = ws_rx.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        tokio::join!(write, drain);
    })
    .await;
    if !writer.is_finished() {
        writer.abort();
    }
}

/// Just the `id` of a message, read without decoding the rest.
#[derive(serde::Deserialize)]
struct IdOnly {
    id: Option<serde_json::Value>,
}

struct Reader {
    conn: ConnId,
    kind: Kind,
    handle: EventHandle,
    sink: ConnSink,
    /// Hosts and presenters: authorised and attached to the actor.
    joined: bool,
    tokens: f64,
    refilled: Instant,
    /// What is left of the refusal allowance.
    refusals: f64,
}

impl Reader {
    fn new(conn: ConnId, kind: Kind, handle: EventHandle, sink: ConnSink) -> Reader {
        Reader {
            conn,
            kind,
            handle,
            sink,
            joined: false,
            tokens: BURST,
            refilled: Instant::now(),
            refusals: REFUSALS,
        }
    }

    async fn run(&mut self, ws_rx: &mut SplitStream<Socket>) {
        loop {
            let message = match tokio::time::timeout(IDLE, ws_rx.next()).await {
                Err(_) => return self.sink.close(CloseCode::TooSlow),
                Ok(None) | Ok(Some(Err(_))) => return,
                Ok(Some(Ok(message))) => message,
            };
            let text = match message {
                Message::Text(text) => text,
                Message::Binary(_) => {
                    self.error(
                        None,
                        ErrorCode::InvalidMessage,
                        "messages are JSON text frames, not binary",
                    );
                    continue;
                }
                Message::Close(_) => return,
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            };
            METRICS
                .frames_in
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if text.len() > MAX_FRAME {
                return self.sink.close(CloseCode::TooLarge);
            }
            if !self.take_token() {
                self.refusals -= 1.0;
                if self.refusals < 0.0 {
                    return self.sink.close(CloseCode::TooMany);
                }
                // Name the refused message, so the client knows what to send again.
                let id = serde_json::from_str::<IdOnly>(&text)
                    .ok()
                    .and_then(|m| m.id);
                self.error(
                    id.as_ref(),
                    ErrorCode::RateLimited,
                    "too many messages; slow down and send again",
                );
                continue;
            }
            if !self.handle_text(&text).await {
                return;
            }
        }
    }

    /// Handles one text frame; `false` ends the connection.
    async fn handle_text(&mut self, text: &str) -> bool {
        match self.kind {
            Kind::Attendee => match decode_client(text) {
                Ok(msg) => self
                    .handle
                    .send(Command::Client {
                        conn: self.conn,
                        msg,
                    })
                    .await
                    .is_ok(),
                Err(e) => {
                    self.error(e.id.as_ref(), ErrorCode::InvalidMessage, &e.message);
                    true
                }
            },
            Kind::Host | Kind::Presenter => {
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
                        return true;
                    }
                };
                if !self.joined {
                    return self.authenticate(msg).await;
                }
                if self.kind == Kind::Presenter {
                    self.error(
                        msg.id(),
                        ErrorCode::Unauthorized,
                        "the presenter screen is read-only",
                    );
                    return true;
                }
                self.handle
                    .send(Command::Host {
                        conn: self.conn,
                        msg,
                    })
                    .await
                    .is_ok()
            }
        }
    }

    async fn authenticate(&mut self, msg: HostMsg) -> bool {
        let HostMsg::Auth { token } = msg else {
            self.error(
                msg.id(),
                ErrorCode::Unauthorized,
                "authenticate first with {\"type\":\"auth\",\"token\":...}",
            );
            return true;
        };
        let (allowed, role) = match self.kind {
            Kind::Host => (self.handle.info.is_host(&token), Role::Host),
            _ => (self.handle.info.is_presenter(&token), Role::Presenter),
        };
        if !allowed {
            self.error(
                None,
                ErrorCode::Unauthorized,
                "that token does not open this event",
            );
            self.sink.close(CloseCode::Unauthorized);
            return false;
        }
        self.joined = true;
        self.handle
            .send(Command::Connect {
                conn: self.conn,
                role,
                sink: self.sink.clone(),
            })
            .await
            .is_ok()
    }

    fn error(&self, id: Option<&serde_json::Value>, code: ErrorCode, message: &str) {
        METRICS
            .client_errors
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _ = self.sink.send(server::error(id, code, message));
    }

    /// A token bucket: [`BURST`] at once, refilled at [`PER_SECOND`].
    fn take_token(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.tokens = (self.tokens + elapsed * PER_SECOND).min(BURST);
        self.refusals = (self.refusals + elapsed * REFUSALS_FORGIVEN_PER_SECOND).min(REFUSALS);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

type WsSink = SplitSink<Socket, Message>;

async fn write_loop(mut tx: WsSink, source: ConnSource) {
    let (mut rx, kick) = source.split();
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        let out = tokio::select! {
            out = rx.recv() => out,
            code = kick.kicked() => return close(tx, code).await,
            _ = ping.tick() => {
                if tx.send(Message::Ping(Bytes::new())).await.is_err() {
                    return;
                }
                continue;
            }
        };
        match out {
            Some(Out::Frame(frame)) => {
                if feed_text(&mut tx, frame).await.is_err() {
                    return;
                }
                // Batch what is already queued into one flush.
                while let Ok(next) = rx.try_recv() {
                    match next {
                        Out::Frame(frame) => {
                            if feed_text(&mut tx, frame).await.is_err() {
                                return;
                            }
                        }
                        Out::Close(code) => return close(tx, code).await,
                    }
                }
                if tx.flush().await.is_err() {
                    return;
                }
            }
            Some(Out::Close(code)) => return close(tx, code).await,
            None => {
                match kick.dropped_with() {
                    Some(code) => close(tx, code).await,
                    None => {
                        let _ = tx.close().await;
                    }
                }
                return;
            }
        }
    }
}

/// Queues one text message, in [`FRAGMENT`]-sized frames when it is longer than that.
async fn feed_text(
    tx: &mut WsSink,
    frame: Bytes,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
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

async fn close(mut tx: WsSink, code: CloseCode) {
    let frame = CloseFrame {
        code: WsCloseCode::from(code.code()),
        reason: Utf8Bytes::from_static(code.reason()),
    };
    let _ = tx.send(Message::Close(Some(frame))).await;
    let _ = tx.close().await;
}
