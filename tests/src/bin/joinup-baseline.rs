//! The bare baseline: a tokio-tungstenite server that does only the transport part of
//! Joinup's work, so Joinup's figures can be read as ratios to it. It receives each
//! frame, decodes it, replies (a canned welcome of the same size as Joinup's, an `ack`, an
//! `ok`), keeps a running count and last value per activity for the host's 100 ms tally
//! frames, and broadcasts `results` to every attendee on `reveal`. No validation, no
//! attendees, no storage.
//!
//! `joinup-baseline --addr 127.0.0.1:PORT` (loopback only).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::Utf8Bytes;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The same allocator as Joinup's, so the comparison is like with like.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const FIXTURE: &str = include_str!("../../../server/fixtures/dual-diagnosis-2026.json");
const TOKEN_SLOT: &str = "@@TOKEN@@";

struct Tally {
    total: u64,
    last: Value,
    dirty: bool,
}

struct Shared {
    welcome: (String, String),
    tallies: Mutex<HashMap<String, Tally>>,
    results: broadcast::Sender<Utf8Bytes>,
    next_token: AtomicU64,
}

#[derive(Deserialize)]
struct Incoming {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    activity: Option<String>,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    show: Option<bool>,
}

fn welcome_parts() -> (String, String) {
    let event: Value = serde_json::from_str(FIXTURE).expect("fixture");
    let open: Vec<Value> = event["sessions"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["activities"].as_array().cloned().unwrap_or_default())
        .collect();
    let text = json!({"type": "welcome", "attendee": TOKEN_SLOT, "state": "live", "event": event,
        "open": open, "answers": {}, "results": {}, "questions": [], "voted": [], "directory": [],
        "profile": {"organisation": null, "sector": null, "room": null}})
    .to_string();
    let at = text.find(TOKEN_SLOT).expect("slot");
    (
        text[..at].to_owned(),
        text[at + TOKEN_SLOT.len()..].to_owned(),
    )
}

fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(256 * 1024))
        .max_frame_size(Some(256 * 1024))
}

fn main() -> std::process::ExitCode {
    let mut addr: SocketAddr = "127.0.0.1:8090".parse().expect("addr");
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--addr") {
        match args.get(i + 1).and_then(|a| a.parse().ok()) {
            Some(a) => addr = a,
            None => {
                eprintln!("joinup-baseline: --addr takes 127.0.0.x:PORT");
                return std::process::ExitCode::from(2);
            }
        }
    }
    if !addr.ip().is_loopback() {
        eprintln!("joinup-baseline: listens on loopback addresses only");
        return std::process::ExitCode::from(2);
    }
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    // The same runtime as Joinup's, so a one-core run compares like with like.
    let runtime = joinup::cli::runtime(None).expect("runtime");
    match runtime.block_on(serve(addr)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("joinup-baseline: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    println!("joinup-baseline listening on {addr}");
    let (results, _) = broadcast::channel(64);
    let shared = Arc::new(Shared {
        welcome: welcome_parts(),
        tallies: Mutex::new(HashMap::new()),
        results,
        next_token: AtomicU64::new(1),
    });
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                tokio::spawn(connection(stream, shared.clone()));
            }
            _ = term.recv() => return Ok(()),
        }
    }
}

// The handshake callback's error type is tungstenite's, not ours to shrink.
#[allow(clippy::result_large_err)]
async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let mut path = String::new();
    let callback = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        path = request.uri().path().to_owned();
        Ok(response)
    };
    let Ok(ws) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config())).await
    else {
        return;
    };
    if path.starts_with("/ws/host/") {
        host(ws, shared).await;
    } else {
        attendee(ws, shared).await;
    }
}

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

fn ack(kind: &str, id: &Value) -> Message {
    let frame = if kind == "ok" {
        json!({"type": "ok", "id": id})
    } else {
        json!({"type": "ack", "id": id})
    };
    Message::text(frame.to_string())
}

async fn attendee(mut ws: Ws, shared: Arc<Shared>) {
    let mut results = shared.results.subscribe();
    loop {
        tokio::select! {
            frame = ws.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                    Some(Ok(_)) => continue,
                };
                let Ok(msg) = serde_json::from_str::<Incoming>(text.as_str()) else { continue };
                let reply = if msg.kind == "hello" {
                    let n = shared.next_token.fetch_add(1, Ordering::Relaxed);
                    let (head, tail) = &shared.welcome;
                    Some(Message::text(format!("{head}{n:048x}{tail}")))
                } else {
                    if msg.kind == "answer"
                        && let Some(activity) = msg.activity
                    {
                        let mut tallies = shared.tallies.lock().expect("tallies");
                        let t = tallies.entry(activity).or_insert(Tally { total: 0, last: Value::Null, dirty: false });
                        t.total += 1;
                        t.last = msg.value.unwrap_or(Value::Null);
                        t.dirty = true;
                    }
                    msg.id.map(|id| ack("ack", &id))
                };
                if let Some(reply) = reply
                    && ws.send(reply).await.is_err()
                {
                    return;
                }
            }
            frame = results.recv() => match frame {
                Ok(frame) => {
                    if ws.send(Message::Text(frame)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

async fn host(mut ws: Ws, shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            frame = ws.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                    Some(Ok(_)) => continue,
                };
                let Ok(msg) = serde_json::from_str::<Incoming>(text.as_str()) else { continue };
                if msg.kind == "auth" {
                    let snapshot = json!({"type": "snapshot", "state": "live", "activities": []});
                    if ws.send(Message::text(snapshot.to_string())).await.is_err() {
                        return;
                    }
                    continue;
                }
                if msg.kind == "reveal"
                    && msg.show == Some(true)
                    && let Some(activity) = &msg.activity
                {
                    let total = shared
                        .tallies
                        .lock()
                        .expect("tallies")
                        .get(activity)
                        .map_or(0, |t| t.total);
                    let frame = json!({"type": "results", "activity": activity, "tally": {"total": total}});
                    let _ = shared.results.send(Utf8Bytes::from(frame.to_string()));
                }
                if let Some(id) = msg.id
                    && ws.send(ack("ok", &id)).await.is_err()
                {
                    return;
                }
            }
            _ = tick.tick() => {
                let frames: Vec<String> = shared
                    .tallies
                    .lock()
                    .expect("tallies")
                    .iter_mut()
                    .filter(|(_, t)| t.dirty)
                    .map(|(key, t)| {
                        t.dirty = false;
                        json!({"type": "tally", "activity": key, "tally": {"total": t.total, "last": t.last}}).to_string()
                    })
                    .collect();
                for frame in frames {
                    if ws.send(Message::text(frame)).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}
