//! The WebSocket transport for attendees, hosts and presenters.
//!
//! One task per socket does both directions: it reads, enforcing frame size, rate and idle
//! limits, decodes each frame once and forwards it to the event's actor; and it drains the
//! connection's bounded queue, batching frames into one flush. A frame that does not decode
//! gets a typed `error` reply and the connection stays usable. Replies (acks, errors) the
//! actor sends while the task has nothing to write go straight to the socket from the
//! actor's turn ([`SharedSocket`]).
//!
//! # Layout
//! - `mod.rs`: the limits every socket shares, the upgrade (origin, event, per-address
//!   limits) and the three handlers. Nothing here runs per message.
//! - [`session`]: one connection from upgrade to close: the loop that reads, writes, pings
//!   and notices stalls, and the closing handshake.
//! - [`reader`]: what the client sends: allowance, decoding, the join grace, host and
//!   presenter `auth`. It queues replies; it never writes to the socket.
//! - [`rate`]: how many messages a connection may send, and the refusals it may earn.
//! - [`socket`]: the socket shared with the event's actor, and writing to it: batching,
//!   fragmenting, giving up on a stalled client. It decides nothing about the session.

mod rate;
mod reader;
mod session;
mod socket;

use std::time::Duration;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use self::session::session;
use self::socket::SharedSocket;
use super::upgrade::WsUpgrade;
use super::{ApiError, AppState};
use crate::hub::Role;

/// Frames larger than this are refused by the WebSocket layer itself; frames between
/// [`MAX_FRAME`](crate::protocol::MAX_FRAME) and this get a clean close 4009.
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
