//! A WebSocket that reports a close, a failure or silence instead of panicking: in a cluster
//! a node can vanish under a client, and the client must notice and move on. (The `it`
//! helpers' `Client` panics on a close, which is right for a single healthy server.)

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

const CONNECT_WAIT: Duration = Duration::from_secs(5);
const SEND_WAIT: Duration = Duration::from_secs(3);

/// What a read brought.
#[derive(Debug)]
pub enum Recv {
    Message(Value),
    /// The server closed the socket (with its close code, if it sent one) or it broke.
    Closed(Option<u16>),
    /// Nothing arrived in time.
    Silent,
}

pub struct Socket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Socket {
    pub async fn connect(url: &str) -> Result<Socket, String> {
        match tokio::time::timeout(CONNECT_WAIT, connect_async(url)).await {
            Ok(Ok((ws, _))) => Ok(Socket { ws }),
            Ok(Err(e)) => Err(format!("could not connect: {e}")),
            Err(_) => Err(format!("no connection within {CONNECT_WAIT:?}")),
        }
    }

    /// Sends one JSON message; `false` if the socket is gone.
    pub async fn send(&mut self, value: &Value) -> bool {
        let sent = tokio::time::timeout(SEND_WAIT, self.ws.send(Message::text(value.to_string())));
        matches!(sent.await, Ok(Ok(())))
    }

    /// The next JSON message within `wait`, or how the socket ended, or silence.
    pub async fn recv(&mut self, wait: Duration) -> Recv {
        let deadline = Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Recv::Silent,
                Ok(None | Some(Err(_))) => return Recv::Closed(None),
                Ok(Some(Ok(Message::Text(text)))) => {
                    let value = serde_json::from_str(&text).unwrap_or_else(|e| {
                        panic!("the server sent text that is not JSON ({e}): {text}")
                    });
                    return Recv::Message(value);
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Recv::Closed(frame.map(|f| f.code.into()));
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Reads until a message satisfies `predicate`; the others are handed to `passed`.
    pub async fn recv_where(
        &mut self,
        wait: Duration,
        predicate: impl Fn(&Value) -> bool,
        mut passed: impl FnMut(Value),
    ) -> Result<Value, Recv> {
        let deadline = Instant::now() + wait;
        loop {
            match self
                .recv(deadline.saturating_duration_since(Instant::now()))
                .await
            {
                Recv::Message(m) if predicate(&m) => return Ok(m),
                Recv::Message(m) => passed(m),
                other => return Err(other),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.ws.close(None)).await;
    }
}
