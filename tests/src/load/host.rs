//! The orchestrator's own sockets: the host (which watches tallies) and the probe attendee
//! (which moves a probe tally at intervals, so the host can time answer-to-tally).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::hist::Hist;
use super::net::{self, Ws};
use super::scenario::PROBES;

const HOST_SOURCE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);

/// A probe answer sent and not yet seen in a host tally: when, and which option.
type Pending = [Option<(Instant, usize)>; PROBES.len()];

#[derive(Default)]
pub struct Watch {
    pending: Mutex<Pending>,
    pub tally_latency: Hist,
    pub probe_ack_latency: Hist,
    pub missed: AtomicU64,
    pub frames: AtomicU64,
    pub present: AtomicU64,
    pub closed: Mutex<Option<String>>,
    /// The probe's answers the server refused, by error code.
    pub probe_refused: Mutex<BTreeMap<String, u64>>,
}

fn probe_counts_match(tally: &Value, option: usize) -> bool {
    let want = if option == 0 {
        json!([1, 0])
    } else {
        json!([0, 1])
    };
    tally["counts"] == want || tally["last"] == json!([option])
}

pub struct Host {
    sink: SplitSink<Ws, Message>,
    next_id: u64,
    pub watch: Arc<Watch>,
    pub snapshot: Value,
    acks: tokio::sync::mpsc::UnboundedReceiver<Value>,
}

impl Host {
    /// Connects, authenticates and starts watching tallies.
    pub async fn connect(server: SocketAddr, code: &str, token: &str) -> anyhow::Result<Host> {
        let (mut ws, _) =
            net::connect(server, HOST_SOURCE, &format!("/ws/host/{code}"), 10).await?;
        ws.send(net::text(
            json!({"type": "auth", "token": token}).to_string(),
        ))
        .await?;
        let snapshot = net::expect_type(&mut ws, "snapshot", Duration::from_secs(60)).await?;
        let (sink, stream) = ws.split();
        let watch = Arc::new(Watch::default());
        let (tx, acks) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(read_host(stream, watch.clone(), tx));
        Ok(Host {
            sink,
            next_id: 0,
            watch,
            snapshot,
            acks,
        })
    }

    /// Sends a command and waits for its `ok` (or `error`, returned as Err).
    pub async fn command(&mut self, mut command: Value) -> anyhow::Result<()> {
        self.next_id += 1;
        let id = self.next_id;
        command["id"] = json!(id);
        self.sink.send(net::text(command.to_string())).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let reply = tokio::time::timeout_at(deadline, self.acks.recv())
                .await
                .context("no reply to a host command within 30 s")?
                .context("host socket closed")?;
            if reply["id"] == json!(id) {
                if reply["type"] == "ok" {
                    return Ok(());
                }
                bail!("host command {command} refused: {reply}");
            }
        }
    }

    pub async fn send_now(&mut self, command: Value) -> anyhow::Result<()> {
        self.sink.send(net::text(command.to_string())).await?;
        Ok(())
    }

    pub async fn close(mut self) {
        let _ = self.sink.close().await;
    }
}

async fn read_host(
    mut stream: SplitStream<Ws>,
    watch: Arc<Watch>,
    acks: tokio::sync::mpsc::UnboundedSender<Value>,
) {
    while let Some(frame) = stream.next().await {
        let text = match frame {
            Ok(Message::Text(t)) => t,
            Ok(Message::Close(c)) => {
                *watch.closed.lock().expect("closed") = Some(format!("{c:?}"));
                return;
            }
            Ok(_) => continue,
            Err(e) => {
                *watch.closed.lock().expect("closed") = Some(e.to_string());
                return;
            }
        };
        watch.frames.fetch_add(1, Relaxed);
        let s = text.as_str();
        // Texts and questions arrive by the thousand: only decode what is needed.
        // The server writes keys in either order: `type` first, or (sorted) last.
        let wanted = ["tally", "ok", "error", "attendance"].iter().any(|t| {
            s.starts_with(&format!(r#"{{"type":"{t}""#))
                || s.ends_with(&format!(r#""type":"{t}"}}"#))
        });
        if !wanted {
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(s) else {
            continue;
        };
        match v["type"].as_str() {
            Some("tally") => {
                let key = v["activity"].as_str().unwrap_or("");
                if let Some(p) = PROBES.iter().position(|k| *k == key) {
                    let mut pending = watch.pending.lock().expect("pending");
                    if let Some((at, option)) = pending[p]
                        && probe_counts_match(&v["tally"], option)
                    {
                        watch.tally_latency.record(at.elapsed().as_micros() as u64);
                        pending[p] = None;
                    }
                }
            }
            Some("attendance") => {
                watch
                    .present
                    .store(v["present"].as_u64().unwrap_or(0), Relaxed);
            }
            Some("ok") | Some("error") => {
                let _ = acks.send(v);
            }
            _ => {}
        }
    }
}

/// Runs the probe attendee for `length`: every `every`, the next probe activity flips its
/// answer. Returns the probe's acknowledged answers (activity -> value) and how many of its
/// answers were never acknowledged.
pub async fn probe(
    server: SocketAddr,
    code: &str,
    organisation: &str,
    watch: Arc<Watch>,
    every: Duration,
    length: Duration,
) -> anyhow::Result<(BTreeMap<String, Value>, usize)> {
    let (mut ws, _) = net::connect(server, HOST_SOURCE, &format!("/ws/e/{code}"), 10).await?;
    ws.send(net::text(
        json!({"type": "hello", "attendee": null, "organisation": organisation}).to_string(),
    ))
    .await?;
    net::expect_type(&mut ws, "welcome", Duration::from_secs(60)).await?;
    let (mut sink, mut stream) = ws.split();
    // Message id -> (sent at, probe activity, option).
    type Sent = BTreeMap<String, (Instant, usize, usize)>;
    let sent: Arc<Mutex<Sent>> = Arc::default();
    let acked: Arc<Mutex<BTreeMap<String, Value>>> = Arc::default();
    let reader = {
        let sent = sent.clone();
        let acked = acked.clone();
        let watch = watch.clone();
        tokio::spawn(async move {
            loop {
                let frame = match stream.next().await {
                    Some(Ok(frame)) => frame,
                    end => {
                        // Said once, so a probe that stops hearing acks is explained.
                        eprintln!("[load] the probe's socket ended: {end:?}");
                        break;
                    }
                };
                if let Message::Close(close) = &frame {
                    eprintln!("[load] the server closed the probe's socket: {close:?}");
                }
                let Message::Text(t) = frame else { continue };
                let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else {
                    continue;
                };
                if v["type"] == "ack"
                    && let Some((at, p, option)) = v["id"]
                        .as_str()
                        .and_then(|id| sent.lock().expect("sent").remove(id))
                {
                    watch
                        .probe_ack_latency
                        .record(at.elapsed().as_micros() as u64);
                    acked
                        .lock()
                        .expect("acked")
                        .insert(PROBES[p].to_owned(), json!([option]));
                } else if v["type"] == "error"
                    && v["id"]
                        .as_str()
                        .and_then(|id| sent.lock().expect("sent").remove(id))
                        .is_some()
                {
                    // Refused (say, rate_limited when the server read a backlog at once):
                    // resolved, and counted as a refusal.
                    let code = v["code"].as_str().unwrap_or("unknown").to_owned();
                    *watch
                        .probe_refused
                        .lock()
                        .expect("refused")
                        .entry(code)
                        .or_default() += 1;
                }
            }
        })
    };
    let started = Instant::now();
    let mut options = [1usize; PROBES.len()];
    let mut tick = tokio::time::interval(every);
    let mut n = 0usize;
    while started.elapsed() < length {
        tick.tick().await;
        let p = n % PROBES.len();
        n += 1;
        options[p] = 1 - options[p];
        let id = format!("probe-{n}");
        let now = Instant::now();
        {
            let mut pending = watch.pending.lock().expect("pending");
            if pending[p].is_some() {
                watch.missed.fetch_add(1, Relaxed);
            }
            pending[p] = Some((now, options[p]));
        }
        sent.lock()
            .expect("sent")
            .insert(id.clone(), (now, p, options[p]));
        let frame =
            json!({"type": "answer", "id": id, "activity": PROBES[p], "value": [options[p]]});
        sink.send(net::text(frame.to_string())).await?;
    }
    // Let the last answers be acknowledged and seen.
    let drain = Instant::now();
    while !sent.lock().expect("sent").is_empty() && drain.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    {
        let mut pending = watch.pending.lock().expect("pending");
        for p in pending.iter_mut() {
            if p.take().is_some() {
                watch.missed.fetch_add(1, Relaxed);
            }
        }
    }
    let unresolved = sent.lock().expect("sent").len();
    let _ = sink.close().await;
    reader.abort();
    let acked = acked.lock().expect("acked").clone();
    Ok((acked, unresolved))
}
