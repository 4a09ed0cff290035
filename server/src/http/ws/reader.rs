//! What a connection's client sends: each message is counted against the connection's
//! allowance, decoded once, and turned into a [`Flow`] for the session's loop (a command
//! for the event's actor, a close, a key to check). Replies go to the connection's queue;
//! nothing here writes to the socket or waits on the actor.

use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::rate::{Allowance, CLIENT_RATE, HOST_RATE, Verdict};
use super::{JOIN_GRACE, WELCOME_WAIT};
use crate::domain::link::LinkRole;
use crate::http::keys::{self, KeyAccess};
use crate::hub::{Command, ConnId, ConnSink, EventHandle, Role};
use crate::metrics::METRICS;
use crate::protocol::server;
use crate::protocol::{
    ClientMsg, CloseCode, ErrorCode, HostMsg, MAX_FRAME, decode_client, decode_host,
};
use crate::storage::Storage;

/// What the reader wants after a frame.
pub(super) enum Flow {
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

pub(super) struct Reader {
    pub(super) conn: ConnId,
    pub(super) role: Role,
    pub(super) handle: EventHandle,
    pub(super) sink: ConnSink,
    /// Hosts and presenters: authorised and attached to the actor. Attendees: sent their
    /// `welcome`.
    pub(super) joined: bool,
    /// An attendee's `hello` was read within [`JOIN_GRACE`] of opening.
    pub(super) said_hello: bool,
    /// When the socket opened.
    pub(super) opened: Instant,
    pub(super) allowance: Allowance,
    /// Where role links are checked.
    pub(super) storage: Storage,
    /// What the host's or presenter's key lets it do, once authorised.
    pub(super) access: Option<LinkRole>,
    /// The role link that authorised it, if one did: checked again at every ping, so a link
    /// revoked where the event's actor could not be told (the command line, a cluster node
    /// out of reach) still closes its sockets within [`PING_EVERY`](super::PING_EVERY).
    pub(super) link: Option<String>,
}

impl Reader {
    pub(super) fn new(
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
    pub(super) async fn link_revoked(&self) -> bool {
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

    pub(super) fn on_message(&mut self, message: Message, now: Instant) -> Flow {
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
    pub(super) async fn authorise(&mut self, key: &str) -> Flow {
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
    pub(super) fn join_by(&self) -> Instant {
        if self.said_hello {
            self.opened + JOIN_GRACE + WELCOME_WAIT
        } else {
            self.opened + JOIN_GRACE
        }
    }

    pub(super) fn error(&self, id: Option<&serde_json::Value>, code: ErrorCode, message: &str) {
        METRICS
            .client_errors
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _ = self.sink.send(server::error(id, code, message));
    }
}
