//! The orchestrator: starts (or finds) the server or a cluster of servers, creates the event,
//! runs the host and the probe itself, drives worker processes phase by phase, measures the
//! server processes from /proc and checks correctness at the end.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

use super::RunArgs;
use super::check::{self, Outcome};
use super::cluster::Cluster;
use super::hist::{Latency, Sparse};
use super::host::{self, Host};
use super::scenario;
use super::sys::{self, Spawned};
use super::worker::{
    self, AnswersReply, AttendeeState, Command, JoinReply, RevealReply, StateReply,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flavour {
    Joinup,
    Baseline,
}

/// Everything measured against one server.
#[derive(Debug, Default, Serialize)]
pub struct Figures {
    pub server: String,
    /// Server processes measured together (their RSS and CPU summed): a cluster's nodes.
    pub nodes: usize,
    /// A cluster's NATS server.
    pub nats: Option<String>,
    pub attendees: u64,
    pub workers: usize,
    pub sources: usize,
    pub join_welcomed: u64,
    pub join_failed: u64,
    pub join_refused_429: u64,
    pub join_secs: f64,
    pub join_latency: Latency,
    pub connected_after_join: Option<u64>,
    pub rss_before_bytes: Option<u64>,
    pub rss_after_join_bytes: Option<u64>,
    /// Each node's RSS after the join storm, in a cluster.
    pub node_rss_after_join_bytes: Vec<u64>,
    /// The private NATS server's RSS after the join storm (not in the server RSS).
    pub nats_rss_after_join_bytes: Option<u64>,
    pub rss_per_attendee_bytes: Option<f64>,
    pub socket_bytes_per_attendee: Option<f64>,
    pub slab_bytes_per_attendee: Option<f64>,
    pub kernel_bytes_per_attendee: Option<f64>,
    pub offered_rate: f64,
    pub answer_secs: f64,
    pub answers_sent: u64,
    pub answers_not_sent: u64,
    pub answers_acked: u64,
    pub acked_per_sec: f64,
    pub answer_errors: BTreeMap<String, u64>,
    pub answers_unresolved: i64,
    pub dropped_connections: u64,
    pub ack_latency: Latency,
    /// The acks of the answers sent in each second of answering, all workers together: where
    /// in the run the slow acks were.
    pub ack_by_second: Vec<worker::Second>,
    pub tally_latency: Latency,
    pub tally_probes_missed: u64,
    pub probe_ack_latency: Latency,
    pub server_cores_while_answering: Option<f64>,
    pub nats_cores_while_answering: Option<f64>,
    pub load_cores_while_answering: f64,
    pub rss_after_answers_bytes: Option<u64>,
    pub nats_rss_after_answers_bytes: Option<u64>,
    pub commits: Option<f64>,
    pub jobs_per_commit: Option<f64>,
    pub commit_ms_mean: Option<f64>,
    /// SQLite checkpoints while answering: how many, their mean, and the longest since the
    /// server started (no commit runs during one, so it delays every ack waiting on it).
    pub checkpoints: Option<f64>,
    pub checkpoint_ms_mean: Option<f64>,
    pub checkpoint_ms_max: Option<f64>,
    pub host_frames: u64,
    pub reveal_seen: u64,
    pub reveal_missing: u64,
    pub reveal_latency: Latency,
    pub reconnect_welcomed: u64,
    pub reconnect_failed: u64,
    pub reconnect_secs: f64,
    pub resume_mismatches: u64,
    pub host_closed: Option<String>,
    pub checks: Option<Outcome>,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Worker {
    async fn send(&mut self, command: &Command) -> anyhow::Result<()> {
        let mut line = serde_json::to_vec(command)?;
        line.push(b'\n');
        self.stdin.write_all(&line).await?;
        self.stdin.flush().await?;
        Ok(())
    }

    async fn recv<T: DeserializeOwned>(&mut self) -> anyhow::Result<T> {
        let line = self
            .lines
            .next_line()
            .await?
            .context("a worker exited before replying")?;
        serde_json::from_str(&line).context("a worker's reply")
    }
}

/// Sends `command` to every worker, then reads every reply.
async fn all<T: DeserializeOwned>(
    workers: &mut [Worker],
    command: &Command,
) -> anyhow::Result<Vec<T>> {
    for w in workers.iter_mut() {
        w.send(command).await?;
    }
    let mut out = Vec::with_capacity(workers.len());
    for w in workers.iter_mut() {
        out.push(w.recv().await?);
    }
    Ok(out)
}

/// The workers' seconds added up, second by second.
fn by_second<'a>(workers: impl Iterator<Item = &'a [worker::Second]>) -> Vec<worker::Second> {
    let mut all: Vec<worker::Second> = Vec::new();
    for seconds in workers {
        if all.len() < seconds.len() {
            all.resize(seconds.len(), worker::Second::default());
        }
        for (sum, s) in all.iter_mut().zip(seconds) {
            sum.acked += s.acked;
            sum.max_micros = sum.max_micros.max(s.max_micros);
            sum.over_50ms += s.over_50ms;
        }
    }
    all
}

/// The seconds in which more than 1% of the acks took over 50 ms, as "12 s (40%, max
/// 560 ms)", worst first, at most five.
fn slow_seconds(seconds: &[worker::Second]) -> String {
    let mut slow: Vec<(usize, f64, u64)> = seconds
        .iter()
        .enumerate()
        .filter(|(_, s)| s.acked > 0 && s.over_50ms * 100 > s.acked)
        .map(|(i, s)| (i, s.over_50ms as f64 / s.acked as f64, s.max_micros))
        .collect();
    if slow.is_empty() {
        return format!("none of {}", seconds.len());
    }
    let count = slow.len();
    slow.sort_by(|a, b| b.1.total_cmp(&a.1));
    let worst: Vec<String> = slow
        .iter()
        .take(5)
        .map(|(i, share, max)| {
            format!(
                "{i} s ({:.0}%, max {:.0} ms)",
                share * 100.0,
                *max as f64 / 1000.0
            )
        })
        .collect();
    format!("{count} of {}: {}", seconds.len(), worst.join(", "))
}

fn merged<'a>(hists: impl Iterator<Item = &'a Sparse>) -> Sparse {
    let mut all = Sparse::default();
    for h in hists {
        all.merge(h);
    }
    all
}

/// The server's /metrics page, read once for as many figures as are needed from it.
struct MetricsPage(Option<String>);

impl MetricsPage {
    async fn read(http: &reqwest::Client, server: SocketAddr) -> MetricsPage {
        let text = async {
            http.get(format!("http://{server}/metrics"))
                .send()
                .await
                .ok()?
                .text()
                .await
                .ok()
        };
        MetricsPage(text.await)
    }

    /// One counter or gauge from the page.
    fn get(&self, name: &str) -> Option<f64> {
        self.0
            .as_deref()?
            .lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    }
}

/// The storage writer's counters at one moment.
#[derive(Clone, Copy)]
struct WriterCounters {
    commits: Option<f64>,
    jobs: Option<f64>,
    commit_secs: Option<f64>,
    checkpoints: Option<f64>,
    checkpoint_secs: Option<f64>,
    checkpoint_max_secs: Option<f64>,
}

impl WriterCounters {
    fn from(page: &MetricsPage) -> WriterCounters {
        WriterCounters {
            commits: page.get("joinup_commits_total"),
            jobs: page.get("joinup_commit_jobs_total"),
            commit_secs: page.get("joinup_commit_seconds_total"),
            checkpoints: page.get("joinup_checkpoints_total"),
            checkpoint_secs: page.get("joinup_checkpoint_seconds_total"),
            checkpoint_max_secs: page.get("joinup_checkpoint_max_seconds"),
        }
    }

    /// Fills in the commit and checkpoint figures for the time from `self` to `later`.
    fn figures_until(&self, later: &WriterCounters, f: &mut Figures) {
        if let (Some(c0), Some(j0), Some(m0), Some(c1), Some(j1), Some(m1)) = (
            self.commits,
            self.jobs,
            self.commit_secs,
            later.commits,
            later.jobs,
            later.commit_secs,
        ) {
            let c = (c1 - c0).max(1.0);
            f.commits = Some(c1 - c0);
            f.jobs_per_commit = Some((j1 - j0) / c);
            f.commit_ms_mean = Some((m1 - m0) / c * 1000.0);
        }
        if let (Some(n0), Some(s0), Some(n1), Some(s1)) = (
            self.checkpoints,
            self.checkpoint_secs,
            later.checkpoints,
            later.checkpoint_secs,
        ) {
            f.checkpoints = Some(n1 - n0);
            f.checkpoint_ms_mean = Some((s1 - s0) / (n1 - n0).max(1.0) * 1000.0);
            f.checkpoint_ms_max = later.checkpoint_max_secs.map(|s| s * 1000.0);
        }
    }
}

/// The server under test as found or started.
pub struct Target {
    pub flavour: Flavour,
    pub server: SocketAddr,
    /// Its process, or a cluster's nodes (all listening on `server`).
    pub pids: Vec<u32>,
    pub database: Option<String>,
    pub organiser_key: Option<String>,
    pub code: Option<String>,
    pub host_token: Option<String>,
    /// A cluster's NATS server, and its process when this tool started it.
    pub nats: Option<String>,
    pub nats_pid: Option<u32>,
}

impl Target {
    /// A server (or a cluster without NATS figures) on which to create a fresh event.
    fn new(
        flavour: Flavour,
        server: SocketAddr,
        pids: Vec<u32>,
        database: Option<String>,
        organiser_key: Option<&str>,
    ) -> Target {
        Target {
            flavour,
            server,
            pids,
            database,
            organiser_key: organiser_key.map(str::to_owned),
            code: None,
            host_token: None,
            nats: None,
            nats_pid: None,
        }
    }

    /// Several processes share the address: `/metrics` then answers for whichever node took
    /// the connection, so its counters are not the cluster's.
    fn cluster(&self) -> bool {
        self.pids.len() > 1 || self.nats.is_some()
    }
}

pub async fn measure(args: &RunArgs, target: &Target) -> anyhow::Result<Figures> {
    let http = reqwest::Client::new();
    let spec = scenario::event_spec();
    let activities = scenario::activities(&spec);
    let joinup = target.flavour == Flavour::Joinup;
    let (code, host_token, fresh) = match (&target.code, &target.host_token) {
        (Some(c), Some(t)) => (c.clone(), t.clone(), false),
        _ if !joinup => ("BASE23".to_owned(), "baseline".to_owned(), true),
        _ => {
            let key = target
                .organiser_key
                .as_deref()
                .context("--organiser-key (or --code and --host-token) is needed")?;
            let response = http
                .post(format!("http://{}/api/events", target.server))
                .bearer_auth(key)
                .json(&spec)
                .send()
                .await?;
            if response.status().as_u16() != 201 {
                bail!(
                    "POST /api/events: {} {}",
                    response.status(),
                    response.text().await?
                );
            }
            let body: Value = response.json().await?;
            (
                body["code"].as_str().context("code")?.to_owned(),
                body["host_token"]
                    .as_str()
                    .context("host_token")?
                    .to_owned(),
                true,
            )
        }
    };
    eprintln!(
        "[load] {:?} on {} event {code}",
        target.flavour, target.server
    );

    let mut host = Host::connect(target.server, &code, &host_token).await?;
    for a in &activities {
        let state = host.snapshot["activities"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["key"] == a.key.as_str()))
            .map(|r| r["state"].clone());
        if state.as_ref().and_then(Value::as_str) != Some("open") {
            host.command(json!({"type": "open", "activity": a.key}))
                .await?;
        }
    }

    let mut f = Figures {
        server: format!("{:?}", target.flavour).to_lowercase(),
        nodes: target.pids.len().max(1),
        nats: target.nats.clone(),
        attendees: args.attendees as u64,
        workers: args.workers,
        sources: args.sources,
        offered_rate: args.rate,
        ..Figures::default()
    };
    let rss = || sys::summed(&target.pids, sys::rss_bytes);
    let nats_rss = || target.nats_pid.and_then(sys::rss_bytes);
    // Metrics only from a single server: a cluster's /metrics is one node's.
    let metrics = joinup && !target.cluster();
    f.rss_before_bytes = rss();
    let slab0 = sys::socket_slab_bytes();
    let sock0 = sys::server_socket_bytes(target.server.port());

    // Workers, each with its share of attendees.
    let exe = std::env::current_exe()?;
    let mut workers = Vec::new();
    let per = args.attendees.div_ceil(args.workers.max(1));
    for w in 0..args.workers.max(1) {
        let first = w * per;
        let count = per.min(args.attendees.saturating_sub(first));
        let mut child = tokio::process::Command::new(&exe)
            .args([
                "worker",
                "--server",
                &target.server.to_string(),
                "--code",
                &code,
            ])
            .args(["--worker", &w.to_string(), "--first", &first.to_string()])
            .args([
                "--count",
                &count.to_string(),
                "--sources",
                &args.sources.to_string(),
            ])
            .args(["--join-concurrency", &args.join_concurrency.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child.stdin.take().context("stdin")?;
        let lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let mut worker = Worker {
            child,
            stdin,
            lines,
        };
        let ready: Value = worker.recv().await?;
        if ready["ready"] != true {
            bail!("worker {w} did not start: {ready}");
        }
        workers.push(worker);
    }

    // 1. Join storm.
    let started = Instant::now();
    let joins: Vec<JoinReply> = all(&mut workers, &Command::Join).await?;
    f.join_secs = started.elapsed().as_secs_f64();
    f.join_welcomed = joins.iter().map(|j| j.welcomed).sum();
    f.join_failed = joins.iter().map(|j| j.failed).sum();
    f.join_refused_429 = joins.iter().map(|j| j.refused_429).sum();
    f.join_latency = merged(joins.iter().map(|j| &j.latency)).summary();
    for j in &joins {
        for e in &j.first_errors {
            eprintln!("[load] join failure: {e}");
        }
    }
    eprintln!(
        "[load] join: {} welcomed, {} failed in {:.2} s",
        f.join_welcomed, f.join_failed, f.join_secs
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    f.rss_after_join_bytes = rss();
    if target.cluster() {
        f.node_rss_after_join_bytes = target
            .pids
            .iter()
            .filter_map(|&p| sys::rss_bytes(p))
            .collect();
    }
    f.nats_rss_after_join_bytes = nats_rss();
    let n = f.join_welcomed.max(1) as f64;
    if let (Some(a), Some(b)) = (f.rss_before_bytes, f.rss_after_join_bytes) {
        f.rss_per_attendee_bytes = Some((b as f64 - a as f64) / n);
    }
    if let (Some(a), Some(b)) = (sock0, sys::server_socket_bytes(target.server.port())) {
        f.socket_bytes_per_attendee = Some((b as f64 - a as f64) / n);
    }
    f.connected_after_join = sys::attendee_sockets(target.server.port());
    if let (Some(a), Some(b)) = (slab0, sys::socket_slab_bytes()) {
        // Both ends of each loopback connection live on this machine: half is the server's.
        f.slab_bytes_per_attendee = Some((b as f64 - a as f64) / 2.0 / n);
    }
    f.kernel_bytes_per_attendee = match (f.socket_bytes_per_attendee, f.slab_bytes_per_attendee) {
        (Some(s), Some(l)) => Some(s + l),
        (s, l) => s.or(l),
    };
    // The baseline and a cluster have no single /metrics page to read.
    let page = if metrics {
        MetricsPage::read(&http, target.server).await
    } else {
        MetricsPage(None)
    };
    if let Some(c) = page.get("joinup_attendee_connections") {
        f.connected_after_join = Some(c as u64);
    }

    // 2. Answers at the offered rate, with the probe timing answer-to-tally.
    let writer0 = WriterCounters::from(&page);
    let load_cpu0: f64 = sys::self_cpu_secs();
    let worker_cpu0: f64 = joins.iter().map(|j| j.cpu_secs).sum();
    let cpu = {
        let (pids, nats) = (target.pids.clone(), target.nats_pid);
        move || {
            (
                sys::summed(&pids, sys::cpu_secs),
                nats.and_then(sys::cpu_secs),
            )
        }
    };
    let cpu0 = cpu();
    let length = Duration::from_secs_f64(args.secs);
    let sampler = {
        let cpu = cpu.clone();
        tokio::spawn(async move {
            let t = Instant::now();
            tokio::time::sleep(length).await;
            (cpu(), t.elapsed().as_secs_f64())
        })
    };
    let probe = {
        let (server, code, watch) = (target.server, code.clone(), host.watch.clone());
        let organisation = scenario::profile(&spec, 0).organisation;
        let every = Duration::from_millis(args.probe_ms);
        tokio::spawn(async move {
            host::probe(server, &code, &organisation, watch, every, length).await
        })
    };
    let per_worker_rate = args.rate / workers.len() as f64;
    let window = args.window / workers.len() as u64;
    let answers: Vec<AnswersReply> = all(
        &mut workers,
        &Command::Answers {
            rate: per_worker_rate,
            secs: args.secs,
            window,
        },
    )
    .await?;
    let (cpu1, wall) = sampler.await?;
    let cores = |a: Option<f64>, b: Option<f64>| Some((b? - a?) / wall);
    f.server_cores_while_answering = cores(cpu0.0, cpu1.0);
    f.nats_cores_while_answering = cores(cpu0.1, cpu1.1);
    let worker_cpu1: f64 = answers.iter().map(|a| a.cpu_secs).sum();
    f.load_cores_while_answering =
        ((worker_cpu1 - worker_cpu0) + (sys::self_cpu_secs() - load_cpu0)) / wall;
    let (probe_answers, probe_unresolved) = probe.await??;
    f.answer_secs = answers.iter().map(|a| a.send_secs).fold(0.0, f64::max);
    f.answers_sent = answers.iter().map(|a| a.sent).sum();
    f.answers_not_sent = answers.iter().map(|a| a.not_sent).sum();
    f.answers_acked = answers.iter().map(|a| a.acked).sum();
    f.acked_per_sec =
        answers.iter().map(|a| a.acked_while_sending).sum::<u64>() as f64 / f.answer_secs.max(1e-9);
    for a in &answers {
        for (k, v) in &a.errors {
            *f.answer_errors.entry(k.clone()).or_default() += v;
        }
    }
    for (k, v) in host.watch.probe_refused.lock().expect("refused").iter() {
        *f.answer_errors.entry(format!("{k} (probe)")).or_default() += v;
    }
    f.answers_unresolved =
        answers.iter().map(|a| a.unresolved).sum::<i64>() + probe_unresolved as i64;
    f.dropped_connections = answers.iter().map(|a| a.dropped_connections).sum();
    f.ack_latency = merged(answers.iter().map(|a| &a.ack_latency)).summary();
    f.ack_by_second = by_second(answers.iter().map(|a| a.ack_by_second.as_slice()));
    f.tally_latency = host.watch.tally_latency.snapshot().summary();
    f.tally_probes_missed = host.watch.missed.load(Relaxed);
    f.probe_ack_latency = host.watch.probe_ack_latency.snapshot().summary();
    f.rss_after_answers_bytes = rss();
    f.nats_rss_after_answers_bytes = nats_rss();
    if metrics {
        let writer1 = WriterCounters::from(&MetricsPage::read(&http, target.server).await);
        writer0.figures_until(&writer1, &mut f);
    }
    eprintln!(
        "[load] answers: {} acked ({:.0}/s), ack p99 {:?} ms, tally p50 {:?} p99 {:?} ms",
        f.answers_acked,
        f.acked_per_sec,
        f.ack_latency.p99_ms,
        f.tally_latency.p50_ms,
        f.tally_latency.p99_ms
    );

    // 3. Reveal to every phone.
    if !args.no_reveal {
        let activity = args.reveal_activity.clone();
        let sent = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_micros() as u64;
        host.send_now(
            json!({"type": "reveal", "id": "reveal-1", "activity": activity, "show": true}),
        )
        .await?;
        let reveals: Vec<RevealReply> = all(
            &mut workers,
            &Command::Reveal {
                activity: activity.clone(),
                sent_unix_micros: sent,
                wait_secs: 20.0,
            },
        )
        .await?;
        f.reveal_seen = reveals.iter().map(|r| r.seen).sum();
        f.reveal_missing = reveals.iter().map(|r| r.missing).sum();
        f.reveal_latency = merged(reveals.iter().map(|r| &r.latency)).summary();
        host.command(json!({"type": "reveal", "activity": activity, "show": false}))
            .await?;
        eprintln!(
            "[load] reveal: {} phones, p99 {:?} ms",
            f.reveal_seen, f.reveal_latency.p99_ms
        );
    }

    // 4. Reconnect storm: every attendee drops and resumes with its token.
    if !args.no_reconnect {
        let started = Instant::now();
        let again: Vec<JoinReply> = all(
            &mut workers,
            &Command::Reconnect {
                check_resume: joinup,
            },
        )
        .await?;
        f.reconnect_secs = started.elapsed().as_secs_f64();
        f.reconnect_welcomed = again.iter().map(|j| j.welcomed).sum();
        f.reconnect_failed = again.iter().map(|j| j.failed).sum();
        f.resume_mismatches = again.iter().map(|j| j.resume_mismatches).sum();
        eprintln!(
            "[load] reconnect: {} welcomed in {:.2} s",
            f.reconnect_welcomed, f.reconnect_secs
        );
    }
    f.host_frames = host.watch.frames.load(Relaxed);
    f.host_closed = host.watch.closed.lock().expect("closed").clone();

    // 5. Correctness.
    if joinup && !args.no_check {
        let mut states: Vec<AttendeeState> = Vec::new();
        for reply in all::<StateReply>(&mut workers, &Command::State).await? {
            states.extend(reply.attendees);
        }
        states.push(AttendeeState {
            index: usize::MAX,
            organisation: scenario::profile(&spec, 0).organisation,
            room: String::new(),
            answers: probe_answers,
            unresolved: probe_unresolved,
        });
        let mut outcome = Outcome::default();
        let unresolved: usize = states.iter().map(|s| s.unresolved).sum();
        outcome.check(
            "every answer acknowledged or refused",
            unresolved == 0 && f.answers_unresolved == 0,
            format!("{unresolved} answers neither acknowledged nor refused"),
        );
        outcome.check(
            "every attendee welcomed",
            f.join_failed == 0 && f.join_welcomed == args.attendees as u64,
            format!("{} of {} welcomed", f.join_welcomed, args.attendees),
        );
        let refused: u64 = f.answer_errors.values().sum();
        outcome.check(
            "no answer refused",
            refused == 0,
            format!("{:?}", f.answer_errors),
        );
        if !args.no_reconnect {
            outcome.check(
                "resumed attendees get their acknowledged answers back",
                f.resume_mismatches == 0 && f.reconnect_failed == 0,
                format!(
                    "{} mismatches, {} reconnects failed",
                    f.resume_mismatches, f.reconnect_failed
                ),
            );
        }
        if fresh {
            // A fresh host connection: its snapshot carries every activity's tally now.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let differ = match Host::connect(target.server, &code, &host_token).await {
                Ok(checker) => {
                    let differ = check::tallies(&activities, &states, &checker.snapshot);
                    checker.close().await;
                    differ
                }
                Err(e) => vec![format!("no snapshot from a fresh host connection: {e:#}")],
            };
            outcome.check(
                "host tallies count every acknowledged answer exactly once",
                differ.is_empty(),
                differ.join("; "),
            );
            if let Some(database) = &target.database {
                let stored = check::stored(database, &code).await?;
                let differ = check::database(&activities, &states, &stored);
                outcome.check(
                    "the database holds every acknowledged answer exactly once",
                    differ.is_empty(),
                    differ.join("; "),
                );
                let acked = f.answers_acked + f.probe_ack_latency.count;
                outcome.check(
                    "one receipt per acknowledged message",
                    stored.receipts == acked,
                    format!("{} receipts, {acked} acknowledged", stored.receipts),
                );
            }
        }
        f.checks = Some(outcome);
    }

    for w in workers.iter_mut() {
        let _ = w.send(&Command::Quit).await;
    }
    for mut w in workers {
        let _ = tokio::time::timeout(Duration::from_secs(10), w.child.wait()).await;
    }
    host.close().await;
    Ok(f)
}

/// `run`: one whole row, against Joinup and, when asked, the baseline.
pub async fn run(args: RunArgs) -> anyhow::Result<bool> {
    let nofile = sys::raise_nofile();
    eprintln!("[load] open files allowed: {nofile}");
    // With --keep-dir the folder outlives a failed run too: its logs say why.
    let dir = tempfile::Builder::new()
        .prefix("joinup-load-")
        .disable_cleanup(args.keep_dir)
        .tempdir()?;
    if args.keep_dir {
        eprintln!("[load] keeping {}", dir.path().display());
    }
    let mut results = Vec::new();

    let key = "load-organiser-key-0123456789abcdef";
    if let (Some(binary), Some(n)) = (&args.spawn_server, args.spawn_cluster) {
        let cluster = Cluster::start(
            binary,
            n,
            dir.path(),
            key,
            &args.postgres,
            args.nats.as_deref(),
        )
        .await?;
        let target = Target {
            nats: Some(cluster.nats_url.clone()),
            nats_pid: cluster.nats.as_ref().map(|nats| nats.pid),
            ..Target::new(
                Flavour::Joinup,
                cluster.addr,
                cluster.pids(),
                Some(cluster.database.url()),
                Some(key),
            )
        };
        let figures = measure(&args, &target).await;
        cluster.stop(args.keep_dir).await?;
        results.push(figures?);
    } else if let Some(binary) = &args.spawn_server {
        let server = Spawned::joinup(binary, dir.path(), key).await?;
        let target = Target::new(
            Flavour::Joinup,
            server.addr,
            vec![server.pid],
            Some(format!(
                "sqlite://{}",
                dir.path().join("joinup.db").display()
            )),
            Some(key),
        );
        let figures = measure(&args, &target).await;
        let clean = server.stop().await?;
        if !clean {
            eprintln!("[load] the server did not stop cleanly on SIGTERM");
        }
        results.push(figures?);
    } else if let Some(url) = &args.url {
        let server = super::net::loopback(parse_addr(url)?)?;
        let target = Target {
            code: args.code.clone(),
            host_token: args.host_token.clone(),
            ..Target::new(
                Flavour::Joinup,
                server,
                args.server_pid.clone(),
                args.database.clone(),
                args.organiser_key.as_deref(),
            )
        };
        results.push(measure(&args, &target).await?);
    }
    if let Some(binary) = &args.spawn_baseline {
        let server = Spawned::baseline(binary, dir.path()).await?;
        let target = Target::new(Flavour::Baseline, server.addr, vec![server.pid], None, None);
        let figures = measure(&args, &target).await;
        server.stop().await?;
        results.push(figures?);
    }
    if results.is_empty() {
        bail!("nothing to measure: give --spawn-server, --url or --spawn-baseline");
    }

    let report = json!({
        "date": unix_date(),
        "args": format!("{args:?}"),
        "results": results,
        "ratios": ratios(&results),
    });
    let text = serde_json::to_string_pretty(&report)?;
    println!("{text}");
    if let Some(path) = &args.json_out {
        std::fs::write(path, &text)?;
    }
    let table = markdown(&results);
    println!("\n{table}");
    if let Some(path) = &args.markdown_out {
        std::fs::write(path, &table)?;
    }
    let mut ok = true;
    for r in &results {
        if let Some(c) = &r.checks {
            for p in &c.passed {
                println!("PASS {p}");
            }
            for fail in &c.failed {
                println!("FAIL {fail}");
            }
            println!(
                "correctness: {} passed, {} failed",
                c.passed.len(),
                c.failed.len()
            );
            ok &= c.failed.is_empty();
        }
    }
    Ok(ok)
}

fn parse_addr(url: &str) -> anyhow::Result<SocketAddr> {
    let rest = url
        .trim_start_matches("http://")
        .trim_start_matches("ws://")
        .trim_end_matches('/');
    rest.parse()
        .with_context(|| format!("{url}: expected http://127.0.0.x:PORT"))
}

fn unix_date() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn ratios(results: &[Figures]) -> Value {
    let (Some(j), Some(b)) = (
        results.iter().find(|r| r.server == "joinup"),
        results.iter().find(|r| r.server == "baseline"),
    ) else {
        return Value::Null;
    };
    let div = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => Some(a / b),
        _ => None,
    };
    json!({
        "throughput": div(Some(j.acked_per_sec), Some(b.acked_per_sec)),
        "rss_per_attendee": div(j.rss_per_attendee_bytes, b.rss_per_attendee_bytes),
        "join_secs": div(Some(j.join_secs), Some(b.join_secs)),
        "ack_p99": div(j.ack_latency.p99_ms, b.ack_latency.p99_ms),
        "tally_p99": div(j.tally_latency.p99_ms, b.tally_latency.p99_ms),
        "reveal_p99": div(j.reveal_latency.p99_ms, b.reveal_latency.p99_ms),
    })
}

fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1} ms"))
}

fn kb(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.1} KB", v / 1024.0))
}

fn mb(v: Option<u64>) -> String {
    v.map_or("-".into(), |v| {
        format!("{:.1} MB", v as f64 / (1024.0 * 1024.0))
    })
}

fn cores(v: Option<f64>) -> String {
    v.map_or("-".into(), |c| format!("{c:.2} cores"))
}

/// A column's title: the server, and a cluster's nodes.
fn column(f: &Figures) -> String {
    match &f.nats {
        Some(_) => format!("{} cluster, {} nodes", f.server, f.nodes),
        None if f.nodes > 1 => format!("{}, {} processes", f.server, f.nodes),
        None => f.server.clone(),
    }
}

/// A markdown table: one row per figure, one column per server, and the ratio.
pub fn markdown(results: &[Figures]) -> String {
    type Show = Box<dyn Fn(&Figures) -> String>;
    type Ratio = Option<Box<dyn Fn(&Figures) -> Option<f64>>>;
    let mut rows: Vec<(&str, Show, Ratio)> = vec![
        (
            "attendees welcomed (join storm)",
            Box::new(|f: &Figures| format!("{} of {}", f.join_welcomed, f.attendees)),
            Some(Box::new(|f: &Figures| Some(f.join_welcomed as f64))),
        ),
        (
            "join storm time",
            Box::new(|f: &Figures| format!("{:.2} s", f.join_secs)),
            Some(Box::new(|f: &Figures| Some(f.join_secs))),
        ),
        (
            "join p99 (connect to welcome)",
            Box::new(|f: &Figures| ms(f.join_latency.p99_ms)),
            Some(Box::new(|f: &Figures| f.join_latency.p99_ms)),
        ),
        (
            "connected after join",
            Box::new(|f: &Figures| f.connected_after_join.map_or("-".into(), |c| c.to_string())),
            None,
        ),
        (
            "server RSS per attendee",
            Box::new(|f: &Figures| kb(f.rss_per_attendee_bytes)),
            Some(Box::new(|f: &Figures| f.rss_per_attendee_bytes)),
        ),
        (
            "+ kernel per attendee (skmem + half slab)",
            Box::new(|f: &Figures| kb(f.kernel_bytes_per_attendee)),
            None,
        ),
        (
            "answers offered / s",
            Box::new(|f: &Figures| {
                if f.offered_rate > 0.0 {
                    format!("{:.0}", f.offered_rate)
                } else {
                    "closed loop".into()
                }
            }),
            None,
        ),
        (
            "answers acked / s (while sending)",
            Box::new(|f: &Figures| format!("{:.0}", f.acked_per_sec)),
            Some(Box::new(|f: &Figures| Some(f.acked_per_sec))),
        ),
        (
            "answers acked (total)",
            Box::new(|f: &Figures| format!("{} of {} sent", f.answers_acked, f.answers_sent)),
            None,
        ),
        (
            "server CPU while answering",
            Box::new(|f: &Figures| cores(f.server_cores_while_answering)),
            Some(Box::new(|f: &Figures| f.server_cores_while_answering)),
        ),
        (
            "load generator CPU",
            Box::new(|f: &Figures| format!("{:.2} cores", f.load_cores_while_answering)),
            None,
        ),
        (
            "answer to ack p50",
            Box::new(|f: &Figures| ms(f.ack_latency.p50_ms)),
            Some(Box::new(|f: &Figures| f.ack_latency.p50_ms)),
        ),
        (
            "answer to ack p99",
            Box::new(|f: &Figures| ms(f.ack_latency.p99_ms)),
            Some(Box::new(|f: &Figures| f.ack_latency.p99_ms)),
        ),
        (
            "seconds with over 1% of acks past 50 ms",
            Box::new(|f: &Figures| slow_seconds(&f.ack_by_second)),
            None,
        ),
        (
            "answer to host tally p50",
            Box::new(|f: &Figures| ms(f.tally_latency.p50_ms)),
            Some(Box::new(|f: &Figures| f.tally_latency.p50_ms)),
        ),
        (
            "answer to host tally p99",
            Box::new(|f: &Figures| {
                format!(
                    "{} ({} probes, {} missed)",
                    ms(f.tally_latency.p99_ms),
                    f.tally_latency.count,
                    f.tally_probes_missed
                )
            }),
            Some(Box::new(|f: &Figures| f.tally_latency.p99_ms)),
        ),
        (
            "reveal to phones p99",
            Box::new(|f: &Figures| {
                format!("{} ({} phones)", ms(f.reveal_latency.p99_ms), f.reveal_seen)
            }),
            Some(Box::new(|f: &Figures| f.reveal_latency.p99_ms)),
        ),
        (
            "reconnect storm time",
            Box::new(|f: &Figures| {
                format!(
                    "{:.2} s ({} welcomed)",
                    f.reconnect_secs, f.reconnect_welcomed
                )
            }),
            Some(Box::new(|f: &Figures| Some(f.reconnect_secs))),
        ),
        (
            "jobs per commit / mean commit",
            Box::new(|f: &Figures| match (f.jobs_per_commit, f.commit_ms_mean) {
                (Some(j), Some(m)) => format!("{j:.0} / {m:.1} ms"),
                _ => "-".into(),
            }),
            None,
        ),
        (
            "checkpoints / mean / longest",
            Box::new(|f: &Figures| {
                match (f.checkpoints, f.checkpoint_ms_mean, f.checkpoint_ms_max) {
                    (Some(n), Some(m), Some(x)) => format!("{n:.0} / {m:.1} ms / {x:.1} ms"),
                    _ => "-".into(),
                }
            }),
            None,
        ),
    ];
    if results.iter().any(|r| r.nats.is_some()) {
        rows.push((
            "NATS server RSS after join / after answers",
            Box::new(|f: &Figures| {
                format!(
                    "{} / {}",
                    mb(f.nats_rss_after_join_bytes),
                    mb(f.nats_rss_after_answers_bytes)
                )
            }),
            None,
        ));
        rows.push((
            "NATS server CPU while answering",
            Box::new(|f: &Figures| cores(f.nats_cores_while_answering)),
            None,
        ));
    }
    let mut out = String::from("| figure |");
    for r in results {
        out.push_str(&format!(" {} |", column(r)));
    }
    let both = results.len() == 2;
    if both {
        out.push_str(" ratio |");
    }
    out.push_str("\n|---|");
    for _ in results {
        out.push_str("---|");
    }
    if both {
        out.push_str("---|");
    }
    out.push('\n');
    for (name, show, value) in &rows {
        out.push_str(&format!("| {name} |"));
        for r in results {
            out.push_str(&format!(" {} |", show(r)));
        }
        if both {
            let ratio = value
                .as_ref()
                .and_then(|v| match (v(&results[0]), v(&results[1])) {
                    (Some(a), Some(b)) if b != 0.0 => Some(a / b),
                    _ => None,
                })
                .map_or("-".into(), |r| format!("{r:.2}"));
            out.push_str(&format!(" {ratio} |"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn second(acked: u64, max_ms: u64, over_50ms: u64) -> worker::Second {
        worker::Second {
            acked,
            max_micros: max_ms * 1000,
            over_50ms,
        }
    }

    #[test]
    fn seconds_add_up_across_workers_and_the_slow_ones_are_named_worst_first() {
        let a = [second(100, 20, 0), second(100, 300, 30)];
        let b = [second(50, 40, 0), second(50, 90, 1), second(10, 5, 0)];
        let all = by_second([&a[..], &b[..]].into_iter());
        assert_eq!(all.len(), 3);
        assert_eq!(
            (all[0].acked, all[0].max_micros, all[0].over_50ms),
            (150, 40_000, 0)
        );
        assert_eq!(
            (all[1].acked, all[1].max_micros, all[1].over_50ms),
            (150, 300_000, 31)
        );
        assert_eq!(slow_seconds(&all), "1 of 3: 1 s (21%, max 300 ms)");
        // Exactly 1% over 50 ms is not "over 1%".
        assert_eq!(slow_seconds(&[second(100, 60, 1)]), "none of 1");
        assert_eq!(slow_seconds(&[]), "none of 0");
    }
}
