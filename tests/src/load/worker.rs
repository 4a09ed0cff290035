//! A worker process: plays `count` attendees on their own sockets, driven phase by phase by
//! the orchestrator over stdin (one JSON command a line) and answering on stdout (one JSON
//! reply a line).

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::io::Write;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use super::hist::{Hist, Sparse};
use super::net::{self, Ws};
use super::scenario::{self, Activity, Rng};
use super::sys;

/// What the orchestrator tells a worker to do.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    Join,
    /// Answers at `rate` a second in total for this worker (0: closed loop, keeping
    /// `window` answers in flight) for `secs`, then waits for every ack.
    Answers {
        rate: f64,
        secs: f64,
        window: u64,
    },
    /// Waits until every connected attendee saw `results` for `activity`; latencies are
    /// measured from `sent_unix_micros`.
    Reveal {
        activity: String,
        sent_unix_micros: u64,
        wait_secs: f64,
    },
    Reconnect {
        check_resume: bool,
    },
    State,
    Quit,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct JoinReply {
    pub welcomed: u64,
    pub failed: u64,
    pub refused_429: u64,
    pub secs: f64,
    pub latency: Sparse,
    pub resume_mismatches: u64,
    pub first_errors: Vec<String>,
    pub cpu_secs: f64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct AnswersReply {
    pub sent: u64,
    pub not_sent: u64,
    pub acked: u64,
    pub acked_while_sending: u64,
    pub errors: BTreeMap<String, u64>,
    pub unresolved: i64,
    pub send_secs: f64,
    pub drain_secs: f64,
    pub dropped_connections: u64,
    pub ack_latency: Sparse,
    /// The acks of the answers sent in each second of the phase.
    pub ack_by_second: Vec<Second>,
    pub cpu_secs: f64,
}

/// The acks of the answers sent in one second: how many, the slowest, and how many took
/// over 50 ms (the target's p99).
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
pub struct Second {
    pub acked: u64,
    pub max_micros: u64,
    pub over_50ms: u64,
}

/// Seconds of answering tracked one by one; answers sent later count in the last.
const SECONDS: usize = 600;

/// [`Second`]s as counters that any connection task can bump.
struct Seconds {
    started: std::sync::OnceLock<Instant>,
    acked: Vec<AtomicU64>,
    max_micros: Vec<AtomicU64>,
    over_50ms: Vec<AtomicU64>,
}

impl Default for Seconds {
    fn default() -> Seconds {
        let counters = || (0..SECONDS).map(|_| AtomicU64::new(0)).collect();
        Seconds {
            started: std::sync::OnceLock::new(),
            acked: counters(),
            max_micros: counters(),
            over_50ms: counters(),
        }
    }
}

impl Seconds {
    /// An answer sent at `sent`, acknowledged `micros` later.
    fn record(&self, sent: Instant, micros: u64) {
        let Some(started) = self.started.get() else {
            return;
        };
        let second = (sent.saturating_duration_since(*started).as_secs() as usize).min(SECONDS - 1);
        self.acked[second].fetch_add(1, Relaxed);
        self.max_micros[second].fetch_max(micros, Relaxed);
        if micros > 50_000 {
            self.over_50ms[second].fetch_add(1, Relaxed);
        }
    }

    /// Every second up to the last with an ack.
    fn snapshot(&self) -> Vec<Second> {
        let mut seconds: Vec<Second> = (0..SECONDS)
            .map(|i| Second {
                acked: self.acked[i].load(Relaxed),
                max_micros: self.max_micros[i].load(Relaxed),
                over_50ms: self.over_50ms[i].load(Relaxed),
            })
            .collect();
        while seconds.last().is_some_and(|s| s.acked == 0) {
            seconds.pop();
        }
        seconds
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RevealReply {
    pub seen: u64,
    pub missing: u64,
    pub latency: Sparse,
}

/// One attendee's acknowledged state.
#[derive(Debug, Serialize, Deserialize)]
pub struct AttendeeState {
    pub index: usize,
    pub organisation: String,
    pub room: String,
    pub answers: BTreeMap<String, Value>,
    pub unresolved: usize,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct StateReply {
    pub attendees: Vec<AttendeeState>,
}

#[derive(Debug, Clone)]
pub struct Setup {
    pub server: SocketAddr,
    pub code: String,
    pub worker: usize,
    pub first: usize,
    pub count: usize,
    pub sources: Vec<Ipv4Addr>,
    pub join_concurrency: usize,
}

#[derive(Default)]
struct Stats {
    acked: AtomicU64,
    sent: AtomicU64,
    outstanding: AtomicI64,
    dropped: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    ack_latency: Hist,
    ack_seconds: Seconds,
    join_latency: Hist,
    reveals: Mutex<Vec<(String, u64)>>,
}

impl Stats {
    /// Counts an answer that failed, by its error code.
    fn count_error(&self, code: &str) {
        *self
            .errors
            .lock()
            .expect("errors")
            .entry(code.to_owned())
            .or_default() += 1;
    }
}

enum Cmd {
    Join(oneshot::Sender<Result<(u32, u64), String>>),
    Reconnect(bool, oneshot::Sender<Result<(u32, u64), String>>),
    Answer,
    Report(oneshot::Sender<AttendeeState>),
    Quit,
}

struct Pending {
    at: Instant,
    activity: usize,
    serial: u64,
    value: Value,
}

struct Attendee {
    index: usize,
    worker: usize,
    setup: Arc<Setup>,
    organisation: String,
    sector: String,
    room: &'static str,
    activities: Arc<Vec<Activity>>,
    rng: Rng,
    token: Option<String>,
    ws: Option<Ws>,
    serial: u64,
    pending: HashMap<String, Pending>,
    acked: BTreeMap<usize, (u64, Value)>,
    seen_results: Vec<String>,
    stats: Arc<Stats>,
    gate: Arc<Semaphore>,
}

/// An answer as the phone sends it.
#[derive(Serialize)]
struct AnswerFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    activity: &'a str,
    value: &'a Value,
}

#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(default)]
    id: Option<&'a str>,
    #[serde(default)]
    code: Option<&'a str>,
    #[serde(default)]
    activity: Option<&'a str>,
    #[serde(default)]
    tally: Option<serde::de::IgnoredAny>,
}

fn unix_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

impl Attendee {
    async fn run(mut self, mut rx: mpsc::Receiver<Cmd>) {
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    None | Some(Cmd::Quit) => break,
                    Some(Cmd::Join(done)) => {
                        let r = self.join(false).await;
                        let _ = done.send(r);
                    }
                    Some(Cmd::Reconnect(check, done)) => {
                        // Dropped, as a phone losing its network or reloading drops it.
                        drop(self.ws.take());
                        let r = self.join(check).await;
                        let _ = done.send(r);
                    }
                    Some(Cmd::Answer) => self.answer().await,
                    Some(Cmd::Report(done)) => {
                        let _ = done.send(self.report());
                    }
                },
                frame = async {
                    match self.ws.as_mut() {
                        Some(ws) => ws.next().await,
                        None => std::future::pending().await,
                    }
                } => self.incoming(frame),
            }
        }
        if let Some(mut ws) = self.ws.take() {
            let _ = ws.close(None).await;
        }
    }

    /// Connects and says hello (resuming with the token when it has one); with `check`,
    /// compares the welcome's answers with what was acknowledged. Ok((429s, mismatches)).
    async fn join(&mut self, check: bool) -> Result<(u32, u64), String> {
        let _permit = self.gate.clone().acquire_owned().await;
        let started = Instant::now();
        let source = self.setup.sources[self.index % self.setup.sources.len()];
        let path = format!("/ws/e/{}", self.setup.code);
        let (mut ws, attempts) = net::connect(self.setup.server, source, &path, 30)
            .await
            .map_err(|e| e.to_string())?;
        let hello = json!({"type": "hello", "attendee": self.token, "organisation": self.organisation,
            "sector": self.sector, "room": self.room});
        ws.send(net::text(hello.to_string()))
            .await
            .map_err(|e| format!("hello: {e}"))?;
        let welcome = net::expect_type(&mut ws, "welcome", Duration::from_secs(60))
            .await
            .map_err(|e| e.to_string())?;
        self.stats
            .join_latency
            .record(started.elapsed().as_micros() as u64);
        if let Some(token) = welcome["attendee"].as_str() {
            self.token = Some(token.to_owned());
        }
        let mut mismatches = 0;
        if check {
            let answers = welcome["answers"].as_object().cloned().unwrap_or_default();
            for (i, (_, value)) in &self.acked {
                if answers.get(&self.activities[*i].key) != Some(value) {
                    mismatches += 1;
                }
            }
            mismatches += answers.len().saturating_sub(self.acked.len()) as u64;
        }
        self.ws = Some(ws);
        Ok((attempts.refused_429, mismatches))
    }

    async fn answer(&mut self) {
        let Some(ws) = self.ws.as_mut() else {
            self.stats.outstanding.fetch_sub(1, Relaxed);
            self.stats.count_error("not_connected");
            return;
        };
        self.serial += 1;
        let activity = self.rng.below(self.activities.len());
        let a = &self.activities[activity];
        let value = scenario::value(&a.kind, &mut self.rng, self.serial);
        let id = format!("w{}a{}s{}", self.worker, self.index, self.serial);
        // Written straight from its parts: a `json!` object would copy each of them into a
        // map first, then format the map.
        let frame = serde_json::to_string(&AnswerFrame {
            kind: "answer",
            id: &id,
            activity: &a.key,
            value: &value,
        });
        let Ok(frame) = frame else {
            // A `Value` always serializes; counted like any other error if it ever did not.
            self.stats.outstanding.fetch_sub(1, Relaxed);
            self.stats.count_error("encode");
            return;
        };
        self.pending.insert(
            id,
            Pending {
                at: Instant::now(),
                activity,
                serial: self.serial,
                value,
            },
        );
        self.stats.sent.fetch_add(1, Relaxed);
        if ws.send(net::text(frame)).await.is_err() {
            self.lost();
        }
    }

    fn lost(&mut self) {
        if self.ws.take().is_some() {
            self.stats.dropped.fetch_add(1, Relaxed);
        }
    }

    fn incoming(&mut self, frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>) {
        let text = match frame {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return self.lost(),
            Some(Ok(_)) => return,
        };
        let Ok(head) = serde_json::from_str::<Head>(text.as_str()) else {
            return;
        };
        match head.kind {
            "ack" => {
                if let Some(p) = head.id.and_then(|id| self.pending.remove(id)) {
                    let micros = p.at.elapsed().as_micros() as u64;
                    self.stats.ack_latency.record(micros);
                    self.stats.ack_seconds.record(p.at, micros);
                    self.stats.acked.fetch_add(1, Relaxed);
                    self.stats.outstanding.fetch_sub(1, Relaxed);
                    let newer = self
                        .acked
                        .get(&p.activity)
                        .is_none_or(|(serial, _)| *serial < p.serial);
                    if newer {
                        self.acked.insert(p.activity, (p.serial, p.value));
                    }
                }
            }
            "error" => {
                if head.id.and_then(|id| self.pending.remove(id)).is_some() {
                    self.stats.outstanding.fetch_sub(1, Relaxed);
                }
                self.stats.count_error(head.code.unwrap_or("unknown"));
            }
            "results" if head.tally.is_some() => {
                if let Some(activity) = head.activity
                    && !self.seen_results.iter().any(|a| a == activity)
                {
                    self.seen_results.push(activity.to_owned());
                    self.stats
                        .reveals
                        .lock()
                        .expect("reveals")
                        .push((activity.to_owned(), unix_micros()));
                }
            }
            _ => {}
        }
    }

    fn report(&self) -> AttendeeState {
        AttendeeState {
            index: self.index,
            organisation: self.organisation.clone(),
            room: self.room.to_owned(),
            answers: self
                .acked
                .iter()
                .map(|(i, (_, v))| (self.activities[*i].key.clone(), v.clone()))
                .collect(),
            unresolved: self.pending.len(),
        }
    }
}

/// Runs a worker until `quit` or the end of stdin.
pub async fn run(setup: Setup) -> anyhow::Result<()> {
    let setup = Arc::new(setup);
    let spec = scenario::event_spec();
    let all = scenario::activities(&spec);
    let by_room: HashMap<&str, Arc<Vec<Activity>>> = scenario::ROOMS
        .iter()
        .map(|room| (*room, Arc::new(scenario::answerable(&all, room))))
        .collect();
    let stats = Arc::new(Stats::default());
    let gate = Arc::new(Semaphore::new(setup.join_concurrency.max(1)));
    let mut senders = Vec::with_capacity(setup.count);
    let mut tasks = Vec::with_capacity(setup.count);
    for index in setup.first..setup.first + setup.count {
        let profile = scenario::profile(&spec, index);
        let (tx, rx) = mpsc::channel(8);
        let attendee = Attendee {
            index,
            worker: setup.worker,
            setup: setup.clone(),
            organisation: profile.organisation,
            sector: profile.sector,
            room: profile.room,
            activities: by_room[profile.room].clone(),
            rng: Rng::new(index as u64),
            token: None,
            ws: None,
            serial: 0,
            pending: HashMap::new(),
            acked: BTreeMap::new(),
            seen_results: Vec::new(),
            stats: stats.clone(),
            gate: gate.clone(),
        };
        senders.push(tx);
        tasks.push(tokio::spawn(attendee.run(rx)));
    }
    // Commands come on stdin, read by a plain thread (the workspace's tokio has no io-std).
    let (lines_tx, mut lines) = mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = std::io::stdout();
    reply(&mut out, &json!({"ready": true}))?;
    while let Some(line) = lines.recv().await {
        let command: Command =
            serde_json::from_str(&line).with_context(|| format!("bad command {line}"))?;
        match command {
            Command::Join => {
                let r = join_all(&senders, &stats, None).await;
                reply(&mut out, &r)?;
            }
            Command::Reconnect { check_resume } => {
                let r = join_all(&senders, &stats, Some(check_resume)).await;
                reply(&mut out, &r)?;
            }
            Command::Answers { rate, secs, window } => {
                let r = answers(&senders, &stats, rate, secs, window).await;
                reply(&mut out, &r)?;
            }
            Command::Reveal {
                activity,
                sent_unix_micros,
                wait_secs,
            } => {
                let r = reveal(&stats, setup.count, &activity, sent_unix_micros, wait_secs).await;
                reply(&mut out, &r)?;
            }
            Command::State => {
                let mut attendees = Vec::with_capacity(senders.len());
                for tx in &senders {
                    let (done, rx) = oneshot::channel();
                    if tx.send(Cmd::Report(done)).await.is_ok()
                        && let Ok(state) = rx.await
                    {
                        attendees.push(state);
                    }
                }
                reply(&mut out, &StateReply { attendees })?;
            }
            Command::Quit => break,
        }
    }
    for tx in &senders {
        let _ = tx.try_send(Cmd::Quit);
    }
    drop(senders);
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
    Ok(())
}

fn reply(out: &mut std::io::Stdout, value: &impl Serialize) -> anyhow::Result<()> {
    let mut line = serde_json::to_vec(value)?;
    line.push(b'\n');
    let mut out = out.lock();
    out.write_all(&line)?;
    out.flush()?;
    Ok(())
}

async fn join_all(senders: &[mpsc::Sender<Cmd>], stats: &Stats, resume: Option<bool>) -> JoinReply {
    let before = stats.join_latency.snapshot();
    let started = Instant::now();
    let mut waiting = Vec::with_capacity(senders.len());
    for tx in senders {
        let (done, rx) = oneshot::channel();
        let cmd = match resume {
            None => Cmd::Join(done),
            Some(check) => Cmd::Reconnect(check, done),
        };
        if tx.send(cmd).await.is_ok() {
            waiting.push(rx);
        }
    }
    let mut r = JoinReply::default();
    for rx in waiting {
        match rx.await {
            Ok(Ok((refused, mismatches))) => {
                r.welcomed += 1;
                r.refused_429 += u64::from(refused);
                r.resume_mismatches += mismatches;
            }
            Ok(Err(e)) => {
                r.failed += 1;
                if r.first_errors.len() < 5 {
                    r.first_errors.push(e);
                }
            }
            Err(_) => r.failed += 1,
        }
    }
    r.secs = started.elapsed().as_secs_f64();
    let after = stats.join_latency.snapshot();
    r.latency = difference(&after, &before);
    r.cpu_secs = sys::self_cpu_secs();
    r
}

/// `after` minus `before`, bucket by bucket.
fn difference(after: &Sparse, before: &Sparse) -> Sparse {
    let old: HashMap<u32, u64> = before.buckets.iter().copied().collect();
    Sparse {
        buckets: after
            .buckets
            .iter()
            .filter_map(|(i, n)| {
                let d = n - old.get(i).copied().unwrap_or(0);
                (d > 0).then_some((*i, d))
            })
            .collect(),
    }
}

async fn answers(
    senders: &[mpsc::Sender<Cmd>],
    stats: &Stats,
    rate: f64,
    secs: f64,
    window: u64,
) -> AnswersReply {
    let mut r = AnswersReply::default();
    if senders.is_empty() {
        return r;
    }
    let acked0 = stats.acked.load(Relaxed);
    let dropped0 = stats.dropped.load(Relaxed);
    let started = Instant::now();
    let _ = stats.ack_seconds.started.set(started);
    let length = Duration::from_secs_f64(secs.max(0.0));
    let mut tick = tokio::time::interval(Duration::from_millis(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut next = 0usize;
    let mut issued = 0u64;
    while started.elapsed() < length {
        tick.tick().await;
        let target = if rate > 0.0 {
            (rate * started.elapsed().as_secs_f64()) as u64
        } else {
            let in_flight = stats.outstanding.load(Relaxed).max(0) as u64;
            issued + window.saturating_sub(in_flight)
        };
        while issued < target {
            let tx = &senders[next % senders.len()];
            next += 1;
            issued += 1;
            stats.outstanding.fetch_add(1, Relaxed);
            if tx.try_send(Cmd::Answer).is_err() {
                stats.outstanding.fetch_sub(1, Relaxed);
                r.not_sent += 1;
            }
        }
    }
    r.send_secs = started.elapsed().as_secs_f64();
    r.acked_while_sending = stats.acked.load(Relaxed) - acked0;
    let drain = Instant::now();
    while stats.outstanding.load(Relaxed) > 0 && drain.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    r.drain_secs = drain.elapsed().as_secs_f64();
    r.sent = stats.sent.load(Relaxed);
    r.acked = stats.acked.load(Relaxed) - acked0;
    r.unresolved = stats.outstanding.load(Relaxed);
    r.errors = stats.errors.lock().expect("errors").clone();
    r.dropped_connections = stats.dropped.load(Relaxed) - dropped0;
    r.ack_latency = stats.ack_latency.snapshot();
    r.ack_by_second = stats.ack_seconds.snapshot();
    r.cpu_secs = sys::self_cpu_secs();
    r
}

async fn reveal(
    stats: &Stats,
    expected: usize,
    activity: &str,
    sent: u64,
    wait_secs: f64,
) -> RevealReply {
    let deadline = Instant::now() + Duration::from_secs_f64(wait_secs);
    let connected = expected as u64 - stats.dropped.load(Relaxed).min(expected as u64);
    loop {
        let seen = stats
            .reveals
            .lock()
            .expect("reveals")
            .iter()
            .filter(|(a, _)| a == activity)
            .count() as u64;
        if seen >= connected || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let hist = Hist::default();
    let mut seen = 0;
    for (a, at) in stats.reveals.lock().expect("reveals").iter() {
        if a == activity {
            seen += 1;
            hist.record(at.saturating_sub(sent));
        }
    }
    RevealReply {
        seen,
        missing: expected as u64 - seen.min(expected as u64),
        latency: hist.snapshot(),
    }
}
