//! Sockets: WebSocket clients bound to a chosen 127.0.0.x source address, with the server's
//! per-address join limit (HTTP 429 + Retry-After) honoured.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Error as WsError};
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

pub type Ws = WebSocketStream<TcpStream>;

/// Refuses anything but a loopback address: load is only ever sent to this machine.
pub fn loopback(addr: SocketAddr) -> anyhow::Result<SocketAddr> {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_loopback() => Ok(addr),
        _ => bail!("{addr}: the load tool only targets 127.0.0.0/8"),
    }
}

/// Source addresses 127.0.0.2 .. 127.0.0.(1+n); 127.0.0.1 is left to the host and probe.
pub fn sources(n: usize) -> Vec<Ipv4Addr> {
    (0..n.clamp(1, 250))
        .map(|i| Ipv4Addr::new(127, 0, 0, 2 + i as u8))
        .collect()
}

/// Reads go through a 1 KiB buffer, as on the server: tungstenite zero-fills the whole
/// buffer before every read, and nearly every frame a phone gets (an ack) is far smaller.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20))
}

/// What connecting cost: HTTP 429 refusals waited out.
#[derive(Debug, Default, Clone, Copy)]
pub struct Attempts {
    pub refused_429: u32,
}

/// Opens `ws://server/path` from `source`, retrying a 429 after its Retry-After (at most
/// `tries` times) and a failed TCP connect after a short pause.
pub async fn connect(
    server: SocketAddr,
    source: Ipv4Addr,
    path: &str,
    tries: u32,
) -> anyhow::Result<(Ws, Attempts)> {
    let mut attempts = Attempts::default();
    let url = format!("ws://{server}{path}");
    let mut last = String::new();
    for _ in 0..tries.max(1) {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
        let stream =
            match tokio::time::timeout(Duration::from_secs(10), socket.connect(server)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    last = format!("tcp connect: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                Err(_) => {
                    last = "tcp connect timed out".into();
                    continue;
                }
            };
        stream.set_nodelay(true)?;
        match tokio::time::timeout(
            Duration::from_secs(20),
            client_async_with_config(url.as_str(), stream, Some(config())),
        )
        .await
        {
            Ok(Ok((ws, _))) => return Ok((ws, attempts)),
            Ok(Err(WsError::Http(response))) if response.status().as_u16() == 429 => {
                attempts.refused_429 += 1;
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(1)
                    .clamp(1, 30);
                last = "429".into();
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
            Ok(Err(e)) => {
                last = format!("upgrade: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(_) => last = "upgrade timed out".into(),
        }
    }
    bail!("could not connect to {url} from {source}: {last}")
}

pub fn text(s: String) -> tungstenite::Message {
    tungstenite::Message::text(s)
}

/// Reads frames until one whose `type` is `want` (skipping others), within `wait`.
pub async fn expect_type(
    ws: &mut Ws,
    want: &str,
    wait: Duration,
) -> anyhow::Result<serde_json::Value> {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .with_context(|| format!("no {want} within {wait:?}"))?
            .with_context(|| format!("socket closed before {want}"))??;
        if let tungstenite::Message::Text(t) = frame {
            let v: serde_json::Value = serde_json::from_str(t.as_str())?;
            if v["type"] == want {
                return Ok(v);
            }
            if v["type"] == "error" && want != "error" {
                bail!("server error while waiting for {want}: {v}");
            }
        } else if let tungstenite::Message::Close(c) = frame {
            bail!("closed while waiting for {want}: {c:?}");
        }
    }
}
