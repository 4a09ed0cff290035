//! Process-wide counters, rendered in the Prometheus text format at `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

#[derive(Default)]
pub struct Metrics {
    pub attendee_connections: AtomicU64,
    pub host_connections: AtomicU64,
    pub live_events: AtomicU64,
    pub frames_in: AtomicU64,
    pub frames_out: AtomicU64,
    pub replies_at_once: AtomicU64,
    pub answers_acked: AtomicU64,
    pub client_errors: AtomicU64,
    pub slow_consumers_closed: AtomicU64,
    pub commits: AtomicU64,
    pub commit_jobs: AtomicU64,
    pub commit_rows: AtomicU64,
    pub commit_micros: AtomicU64,
    pub checkpoints: AtomicU64,
    pub checkpoint_micros: AtomicU64,
    pub checkpoint_max_micros: AtomicU64,
    pub write_failures: AtomicU64,
    pub writes_fenced: AtomicU64,
    pub writes_abandoned: AtomicU64,
    pub relayed_connections: AtomicU64,
    pub cluster_batches_out: AtomicU64,
    pub cluster_batches_in: AtomicU64,
    pub cluster_resyncs: AtomicU64,
}

pub static METRICS: Metrics = Metrics {
    attendee_connections: AtomicU64::new(0),
    host_connections: AtomicU64::new(0),
    live_events: AtomicU64::new(0),
    frames_in: AtomicU64::new(0),
    frames_out: AtomicU64::new(0),
    replies_at_once: AtomicU64::new(0),
    answers_acked: AtomicU64::new(0),
    client_errors: AtomicU64::new(0),
    slow_consumers_closed: AtomicU64::new(0),
    commits: AtomicU64::new(0),
    commit_jobs: AtomicU64::new(0),
    commit_rows: AtomicU64::new(0),
    commit_micros: AtomicU64::new(0),
    checkpoints: AtomicU64::new(0),
    checkpoint_micros: AtomicU64::new(0),
    checkpoint_max_micros: AtomicU64::new(0),
    write_failures: AtomicU64::new(0),
    writes_fenced: AtomicU64::new(0),
    writes_abandoned: AtomicU64::new(0),
    relayed_connections: AtomicU64::new(0),
    cluster_batches_out: AtomicU64::new(0),
    cluster_batches_in: AtomicU64::new(0),
    cluster_resyncs: AtomicU64::new(0),
};

impl Metrics {
    pub fn record_commit(&self, jobs: usize, rows: usize, took: Duration) {
        self.commits.fetch_add(1, Relaxed);
        self.commit_jobs.fetch_add(jobs as u64, Relaxed);
        self.commit_rows.fetch_add(rows as u64, Relaxed);
        self.commit_micros
            .fetch_add(took.as_micros() as u64, Relaxed);
    }

    /// A checkpoint the writer ran between two commits: no commit ran while it did.
    pub fn record_checkpoint(&self, took: Duration) {
        let micros = took.as_micros() as u64;
        self.checkpoints.fetch_add(1, Relaxed);
        self.checkpoint_micros.fetch_add(micros, Relaxed);
        self.checkpoint_max_micros.fetch_max(micros, Relaxed);
    }

    pub fn render(&self) -> String {
        let rows: [(&str, &str, &str, &AtomicU64); 23] = [
            (
                "joinup_attendee_connections",
                "gauge",
                "Attendee connections open now (WebSocket and stream).",
                &self.attendee_connections,
            ),
            (
                "joinup_host_connections",
                "gauge",
                "Host and presenter connections open now.",
                &self.host_connections,
            ),
            (
                "joinup_live_events",
                "gauge",
                "Events with a live actor in this process.",
                &self.live_events,
            ),
            (
                "joinup_frames_in_total",
                "counter",
                "Client frames received.",
                &self.frames_in,
            ),
            (
                "joinup_frames_out_total",
                "counter",
                "Frames sent or queued to clients.",
                &self.frames_out,
            ),
            (
                "joinup_replies_at_once_total",
                "counter",
                "Replies (acks, errors) written straight to the socket from the event's turn, of joinup_frames_out_total.",
                &self.replies_at_once,
            ),
            (
                "joinup_answers_acked_total",
                "counter",
                "Answers acknowledged after a durable commit.",
                &self.answers_acked,
            ),
            (
                "joinup_client_errors_total",
                "counter",
                "Error replies sent to clients.",
                &self.client_errors,
            ),
            (
                "joinup_slow_consumers_closed_total",
                "counter",
                "Connections closed with 4008 for not keeping up.",
                &self.slow_consumers_closed,
            ),
            (
                "joinup_commits_total",
                "counter",
                "Group commits by the storage writer.",
                &self.commits,
            ),
            (
                "joinup_commit_jobs_total",
                "counter",
                "Jobs committed by the storage writer.",
                &self.commit_jobs,
            ),
            (
                "joinup_commit_rows_total",
                "counter",
                "Row writes committed by the storage writer.",
                &self.commit_rows,
            ),
            (
                "joinup_commit_seconds_total",
                "counter",
                "Time spent committing, in seconds.",
                &self.commit_micros,
            ),
            (
                "joinup_checkpoints_total",
                "counter",
                "Checkpoints of the SQLite write-ahead log by the storage writer.",
                &self.checkpoints,
            ),
            (
                "joinup_checkpoint_seconds_total",
                "counter",
                "Time the storage writer spent checkpointing, in seconds (no commit runs meanwhile).",
                &self.checkpoint_micros,
            ),
            (
                "joinup_checkpoint_max_seconds",
                "gauge",
                "The longest checkpoint by the storage writer since the start, in seconds.",
                &self.checkpoint_max_micros,
            ),
            (
                "joinup_write_failures_total",
                "counter",
                "Jobs that could not be committed.",
                &self.write_failures,
            ),
            (
                "joinup_writes_fenced_total",
                "counter",
                "Jobs refused inside their transaction because their event has a new owner (cluster).",
                &self.writes_fenced,
            ),
            (
                "joinup_writes_abandoned_total",
                "counter",
                "Jobs dropped uncommitted because the actor waiting for them had stopped.",
                &self.writes_abandoned,
            ),
            (
                "joinup_relayed_connections",
                "gauge",
                "Connections on this node relayed to another node that owns their event.",
                &self.relayed_connections,
            ),
            (
                "joinup_cluster_batches_out_total",
                "counter",
                "Batches published to other nodes.",
                &self.cluster_batches_out,
            ),
            (
                "joinup_cluster_batches_in_total",
                "counter",
                "Batches received from other nodes.",
                &self.cluster_batches_in,
            ),
            (
                "joinup_cluster_resyncs_total",
                "counter",
                "Times messages between this node and another were lost and their clients moved on.",
                &self.cluster_resyncs,
            ),
        ];
        let mut out = String::new();
        for (name, kind, help, value) in rows {
            let v = value.load(Relaxed);
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            if name.contains("_seconds") {
                let _ = writeln!(out, "{name} {}", v as f64 / 1e6);
            } else {
                let _ = writeln!(out, "{name} {v}");
            }
        }
        out
    }
}
