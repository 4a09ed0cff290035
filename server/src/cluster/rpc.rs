//! Requests to an event's owner over NATS (`joinup.rpc.{CODE}`): who owns it, a POSTed
//! message, an SSE stream, an edit of its spec, its end, a revoked link; and the owner's
//! side, which answers them from its actor.
//!
//! A request is answered by whichever node subscribed to the event's subject (its owner);
//! "no responders" means no node runs it. Relayed WebSocket traffic does not come this way:
//! it goes in numbered batches (`outbox.rs`, `receive.rs`).

use std::time::Instant;

use futures_util::StreamExt;
use tokio::sync::oneshot;
use tracing::warn;

use super::wire::{self, Rpc, RpcReply};
use super::{Cluster, ClusterError, RPC_TIMEOUT};
use crate::domain::EventCode;
use crate::domain::spec::parse_spec_value;
use crate::hub::{Command, ConnId, ConnSink, EndError, EventHandle, RespecError, StreamOpen};
use crate::protocol::ClientMsg;

/// Why a request to an event's owner got no reply.
enum RequestFailed {
    NoResponders,
    Other(ClusterError),
}

impl Cluster {
    /// The node that owns `code`, asked over NATS; `None` when no node answers for it.
    pub async fn owner(&self, code: EventCode) -> Result<Option<u32>, ClusterError> {
        let asked = self.request(code, &Rpc::Attach).await;
        if !matches!(asked, Ok(RpcReply::Attached { .. })) {
            self.inner.unserved.insert(code, Instant::now());
        }
        match asked {
            Ok(RpcReply::Attached { node }) => {
                self.inner.unserved.remove(&code);
                self.seen(node);
                Ok(Some(node))
            }
            Ok(_) => Err(ClusterError::NoAnswer),
            Err(RequestFailed::NoResponders) => Ok(None),
            Err(RequestFailed::Other(e)) => Err(e),
        }
    }

    /// Asks the owner of `code`.
    pub async fn rpc(&self, code: EventCode, rpc: &Rpc) -> Result<RpcReply, ClusterError> {
        self.request(code, rpc).await.map_err(|e| match e {
            RequestFailed::NoResponders => ClusterError::NoAnswer,
            RequestFailed::Other(e) => e,
        })
    }

    async fn request(&self, code: EventCode, rpc: &Rpc) -> Result<RpcReply, RequestFailed> {
        let payload = serde_json::to_vec(rpc).unwrap_or_default();
        let reply = tokio::time::timeout(
            RPC_TIMEOUT,
            self.inner
                .nats
                .request(wire::rpc_subject(code), payload.into()),
        )
        .await
        .map_err(|_| RequestFailed::Other(ClusterError::NoAnswer))?;
        match reply {
            Ok(message) => serde_json::from_slice(&message.payload)
                .map_err(|e| RequestFailed::Other(ClusterError::Nats(e.to_string()))),
            Err(e) if e.kind() == async_nats::RequestErrorKind::NoResponders => {
                Err(RequestFailed::NoResponders)
            }
            Err(e) => Err(RequestFailed::Other(ClusterError::Nats(e.to_string()))),
        }
    }

    /// Answers the requests for an owned event until it is disowned.
    pub(super) async fn answer(
        self,
        code: EventCode,
        handle: EventHandle,
        mut requests: async_nats::Subscriber,
    ) {
        while let Some(message) = requests.next().await {
            let Some(reply_to) = message.reply else {
                continue;
            };
            let rpc: Rpc = match serde_json::from_slice(&message.payload) {
                Ok(rpc) => rpc,
                Err(e) => {
                    warn!(event = %code, error = %e, "a request that does not decode");
                    continue;
                }
            };
            let cluster = self.clone();
            let handle = handle.clone();
            tokio::spawn(async move {
                let reply = cluster.on_rpc(code, &handle, rpc).await;
                let payload = serde_json::to_vec(&reply).unwrap_or_default();
                if let Err(e) = cluster.inner.nats.publish(reply_to, payload.into()).await {
                    warn!(error = %e, "could not answer a request");
                }
            });
        }
    }

    async fn on_rpc(&self, code: EventCode, handle: &EventHandle, rpc: Rpc) -> RpcReply {
        match rpc {
            Rpc::Attach => RpcReply::Attached {
                node: self.inner.node,
            },
            Rpc::Post { token, msg } => post(handle, token, msg).await,
            Rpc::Stream { conn, token } => self.stream(code, handle, conn, token).await,
            Rpc::Respec { if_match, spec } => respec(code, handle, if_match, &spec).await,
            rpc @ (Rpc::End | Rpc::EndFrom { .. }) => {
                let (reply, answer) = oneshot::channel();
                let from = rpc.end_from();
                if handle.send(Command::End { from, reply }).await.is_err() {
                    return RpcReply::Unavailable;
                }
                let stopped = || Err(EndError::Failed("stopped".into()));
                RpcReply::ended(answer.await.unwrap_or_else(|_| stopped()))
            }
            Rpc::Revoke { link } => {
                if handle.send(Command::Revoke { link }).await.is_err() {
                    return RpcReply::Unavailable;
                }
                RpcReply::Revoked
            }
        }
    }

    /// A relayed SSE stream: the owner's frames for it go back through the outbox to the
    /// node holding it.
    async fn stream(
        &self,
        code: EventCode,
        handle: &EventHandle,
        conn: ConnId,
        token: String,
    ) -> RpcReply {
        self.inner.relayed.insert(conn, code);
        let sink = ConnSink::remote(conn, self.outbox(conn.node()));
        let (reply, answer) = oneshot::channel();
        let command = Command::Stream {
            conn,
            token,
            sink,
            reply,
        };
        if handle.send(command).await.is_err() {
            return RpcReply::Unavailable;
        }
        RpcReply::Streamed(answer.await.unwrap_or(StreamOpen::Unknown))
    }
}

/// A relayed POST of one message, answered with the frame the actor replied.
async fn post(handle: &EventHandle, token: Option<String>, msg: ClientMsg) -> RpcReply {
    let (reply, answer) = oneshot::channel();
    if handle
        .send(Command::Post {
            token,
            msg,
            reply,
            at: tokio::time::Instant::now(),
        })
        .await
        .is_err()
    {
        return RpcReply::Unavailable;
    }
    match answer.await {
        Ok(posted) => RpcReply::Posted {
            frame: String::from_utf8_lossy(&posted.frame).into_owned(),
            token: posted.token,
        },
        Err(_) => RpcReply::Unavailable,
    }
}

/// A relayed edit of the spec, validated again here before the actor judges it.
async fn respec(
    code: EventCode,
    handle: &EventHandle,
    if_match: Option<String>,
    spec: &str,
) -> RpcReply {
    let event = serde_json::from_str(spec)
        .map_err(|e| e.to_string())
        .and_then(|value| parse_spec_value(value).map_err(|e| e.to_string()));
    let event = match event {
        Ok(event) => event,
        Err(e) => {
            // The relay sent a spec it had validated: only a different version of the
            // server could get here.
            warn!(event = %code, error = %e, "a relayed edit did not validate here");
            return RpcReply::Respecced(Err(RespecError::Failed));
        }
    };
    let (reply, answer) = oneshot::channel();
    let command = Command::Respec {
        if_match,
        event: Box::new(event),
        reply,
    };
    if handle.send(command).await.is_err() {
        return RpcReply::Unavailable;
    }
    RpcReply::Respecced(answer.await.unwrap_or(Err(RespecError::Busy)))
}
