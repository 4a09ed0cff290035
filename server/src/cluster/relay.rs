//! A relay for an event that another node of the cluster owns.
//!
//! It takes the same [`Command`]s as an event's actor, so the transports cannot tell the
//! difference: connections' messages go to the owner over NATS, and the owner's frames for
//! them come back through [`Cluster::attach`]. When the owner is gone, stops owning the
//! event, or messages between the two were lost, the relay closes its connections with 1012
//! and leaves the registry: the clients reconnect and the next one finds the event afresh.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};
use tracing::info;

use super::Cluster;
use super::wire::{RelayCommand, Rpc, RpcReply};
use crate::domain::phase::EventPhase;
use crate::domain::{Event, EventCode};
use crate::hub::{
    Command, ConnId, EndError, EventHandle, EventInfo, MAILBOX, PostReply, RespecError, Respecced,
    SharedInfo, StreamOpen,
};
use crate::protocol::server;
use crate::protocol::{ClientMsg, CloseCode, ErrorCode};

pub(super) fn start(
    cluster: Cluster,
    info: Arc<EventInfo>,
    owner: u32,
    idle_unload: Duration,
    forget: Box<dyn FnOnce() + Send>,
) -> EventHandle {
    let (tx, rx) = mpsc::channel(MAILBOX);
    let stop = cluster.register_proxy(info.code, owner);
    info!(event = %info.code, owner, "relaying an event to the node that owns it");
    let relay = Relay {
        cluster,
        code: info.code,
        owner,
        conns: HashSet::new(),
    };
    tokio::spawn(relay.run(rx, stop, idle_unload, forget));
    EventHandle::new(SharedInfo::new(info), tx)
}

struct Relay {
    cluster: Cluster,
    code: EventCode,
    owner: u32,
    /// This node's connections to the event (their sinks are in [`Cluster::attach`]).
    conns: HashSet<ConnId>,
}

impl Relay {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        stop: Arc<Notify>,
        idle_unload: Duration,
        forget: Box<dyn FnOnce() + Send>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut idle_for = Duration::ZERO;
        let mut forget = Some(forget);
        loop {
            tokio::select! {
                command = rx.recv() => match command {
                    Some(Command::Shutdown { done }) => {
                        self.close_all().await;
                        let _ = done.send(());
                        break;
                    }
                    Some(command) => self.on_command(command).await,
                    None => break,
                },
                () = stop.notified() => {
                    info!(event = %self.code, owner = self.owner, "relay stopped: clients reconnect");
                    break;
                }
                _ = tick.tick() => {
                    idle_for = if self.conns.is_empty() { idle_for + Duration::from_secs(1) } else { Duration::ZERO };
                    if idle_for >= idle_unload {
                        break;
                    }
                }
            }
        }
        // Leave the registry first, so clients arriving now look for the owner afresh;
        // whoever got here meanwhile is closed with 1012 and reconnects.
        if let Some(forget) = forget.take() {
            forget();
        }
        rx.close();
        while let Some(command) = rx.recv().await {
            turn_away(command);
        }
        self.close_all().await;
        self.cluster.unregister_proxy(self.code, &stop);
    }

    async fn on_command(&mut self, command: Command) {
        let relayed = match command {
            Command::Connect {
                conn,
                role,
                sink,
                link,
                room,
            } => {
                self.cluster.attach(conn, sink);
                self.conns.insert(conn);
                // The room goes with it: the owner binds the screen, not this node.
                RelayCommand::Connect {
                    conn,
                    role,
                    link,
                    room,
                }
            }
            Command::Disconnect { conn } => {
                if !self.conns.remove(&conn) {
                    return;
                }
                self.cluster.detach(conn);
                RelayCommand::Disconnect { conn }
            }
            Command::Client { conn, msg, .. } => RelayCommand::Client { conn, msg },
            Command::Host { conn, msg } => RelayCommand::Host { conn, msg },
            Command::Post {
                token, msg, reply, ..
            } => {
                tokio::spawn(post(self.cluster.clone(), self.code, token, msg, reply));
                return;
            }
            Command::Stream {
                conn,
                token,
                sink,
                reply,
            } => {
                self.cluster.attach(conn, sink);
                self.conns.insert(conn);
                let stream = stream(self.cluster.clone(), self.code, conn, token, reply);
                tokio::spawn(stream);
                return;
            }
            Command::End { from, reply } => {
                tokio::spawn(end(self.cluster.clone(), self.code, from, reply));
                return;
            }
            Command::Revoke { link } => {
                tokio::spawn(revoke(self.cluster.clone(), self.code, link));
                return;
            }
            Command::Respec {
                if_match,
                event,
                reply,
            } => {
                let respec = respec(self.cluster.clone(), self.code, if_match, event, reply);
                tokio::spawn(respec);
                return;
            }
            Command::NodeGone { .. } | Command::Shutdown { .. } => return,
        };
        if !self.cluster.relay(self.owner, self.code, relayed).await {
            tracing::warn!(event = %self.code, "could not queue a relayed message");
        }
    }

    /// Closes every connection with 1012 and tells the owner they are gone.
    async fn close_all(&mut self) {
        for conn in self.conns.drain() {
            if let Some(sink) = self.cluster.detach(conn) {
                sink.close(CloseCode::Restarting);
            }
            let _ = self
                .cluster
                .relay(self.owner, self.code, RelayCommand::Disconnect { conn })
                .await;
        }
    }
}

/// A message POSTed to this node, asked of the owner; `unavailable` if it cannot answer.
async fn post(
    cluster: Cluster,
    code: EventCode,
    token: Option<String>,
    msg: ClientMsg,
    reply: oneshot::Sender<PostReply>,
) {
    let id = msg.id().map(serde_json::Value::from);
    let answer = cluster.rpc(code, &Rpc::Post { token, msg }).await;
    let reply_frame = match answer {
        Ok(RpcReply::Posted { frame, token }) => PostReply {
            frame: frame.into(),
            token,
        },
        _ => PostReply {
            frame: unavailable(id.as_ref()),
            token: None,
        },
    };
    let _ = reply.send(reply_frame);
}

/// An SSE stream opened on this node, bound on the owner to its attendee.
async fn stream(
    cluster: Cluster,
    code: EventCode,
    conn: ConnId,
    token: String,
    reply: oneshot::Sender<StreamOpen>,
) {
    let answer = cluster.rpc(code, &Rpc::Stream { conn, token }).await;
    let _ = reply.send(match answer {
        Ok(RpcReply::Streamed(open)) => open,
        _ => StreamOpen::Unknown,
    });
}

/// The host's end of the live part, made by the owner's actor.
async fn end(
    cluster: Cluster,
    code: EventCode,
    from: Option<EventPhase>,
    reply: oneshot::Sender<Result<(), EndError>>,
) {
    let answer = match cluster.rpc(code, &Rpc::end(from)).await {
        Ok(answer) => answer
            .into_ended()
            .unwrap_or_else(|| Err(EndError::Failed("the event's node could not end it".into()))),
        Err(e) => Err(EndError::Failed(e.to_string())),
    };
    let _ = reply.send(answer);
}

/// A revoked role link: the owner closes its connections, wherever they are relayed from.
async fn revoke(cluster: Cluster, code: EventCode, link: String) {
    if let Err(e) = cluster.rpc(code, &Rpc::Revoke { link }).await {
        tracing::warn!(event = %code, error = %e, "could not pass a revocation on to the event's node");
    }
}

/// An organiser's edit, sent to the owner as the spec's JSON and judged by its actor.
async fn respec(
    cluster: Cluster,
    code: EventCode,
    if_match: Option<String>,
    event: Box<Event>,
    reply: oneshot::Sender<Result<Respecced, RespecError>>,
) {
    let Ok(spec) = serde_json::to_string(&event.spec) else {
        let _ = reply.send(Err(RespecError::Failed));
        return;
    };
    let answer = match cluster.rpc(code, &Rpc::Respec { if_match, spec }).await {
        Ok(RpcReply::Respecced(result)) => result,
        Ok(_) => Err(RespecError::Busy),
        Err(e) => {
            tracing::warn!(event = %code, error = %e, "an edit could not reach the event's node");
            Err(RespecError::Failed)
        }
    };
    let _ = reply.send(answer);
}

/// Answers a command that reached a relay after it stopped: connections are closed with
/// 1012 (they reconnect and find the owner afresh), requests get `unavailable`.
fn turn_away(command: Command) {
    match command {
        Command::Connect { sink, .. } | Command::Stream { sink, .. } => {
            sink.close(CloseCode::Restarting);
        }
        Command::Post { msg, reply, .. } => {
            let id = msg.id().map(serde_json::Value::from);
            let _ = reply.send(PostReply {
                frame: unavailable(id.as_ref()),
                token: None,
            });
        }
        Command::End { reply, .. } => {
            let _ = reply.send(Err(EndError::Failed(
                "the event is moving to another server; try again".into(),
            )));
        }
        Command::Respec { reply, .. } => {
            let _ = reply.send(Err(RespecError::Busy));
        }
        Command::Shutdown { done } => {
            let _ = done.send(());
        }
        Command::Disconnect { .. }
        | Command::Client { .. }
        | Command::Host { .. }
        | Command::Revoke { .. }
        | Command::NodeGone { .. } => {}
    }
}

fn unavailable(id: Option<&serde_json::Value>) -> server::Frame {
    server::error(
        id,
        ErrorCode::Unavailable,
        "the server could not reach this event right now; send it again",
    )
}
