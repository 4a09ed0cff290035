//! The single writer: group commit.
//!
//! Every write of the live hub arrives here as a [`Job`]. The writer takes the first job,
//! then everything already queued behind it (up to [`MAX_BATCH`] jobs), commits them in one
//! transaction, and only then reports the jobs' tickets as committed. While one commit is
//! being synced to disk the next batch queues up, so batches grow with load and the cost of
//! each fsync is shared. A busy database is retried, never dropped; if a batch fails for
//! another reason its jobs are retried one by one, so one bad job cannot fail the others.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;
use tokio::sync::{Mutex, mpsc, oneshot};
use tracing::{error, warn};

use super::sqlite::{self, SqliteBackend};
use super::{CommitSender, StorageError};
use crate::domain::EventCode;
use crate::metrics::METRICS;

/// The most jobs committed in one transaction.
pub const MAX_BATCH: usize = 1024;
/// Jobs that may wait for the writer before submitters are made to wait.
pub const QUEUE: usize = 16 * 1024;
/// How long a busy database is retried before the jobs fail.
const BUSY_RETRY_FOR: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemTable {
    Questions,
    Answers,
    Cards,
}

/// One row-level change. Each variant is one statement.
#[derive(Debug, Clone)]
pub enum Write {
    Attendee {
        event: EventCode,
        id: i64,
        token_hash: String,
        organisation: Option<String>,
        sector: Option<String>,
        room: Option<String>,
    },
    Answer {
        event: EventCode,
        attendee: i64,
        activity: String,
        value: String,
        item: Option<String>,
        state: Option<&'static str>,
        flagged: bool,
    },
    Receipt {
        event: EventCode,
        attendee: i64,
        msg: String,
    },
    Question {
        event: EventCode,
        id: String,
        seq: i64,
        attendee: i64,
        text: String,
        state: &'static str,
        flagged: bool,
    },
    Vote {
        event: EventCode,
        question: String,
        attendee: i64,
    },
    Card {
        event: EventCode,
        attendee: i64,
        id: String,
        seq: i64,
        card: String,
        state: &'static str,
        flagged: bool,
    },
    ItemState {
        event: EventCode,
        table: ItemTable,
        id: String,
        state: &'static str,
    },
    ActivityState {
        event: EventCode,
        activity: String,
        state: &'static str,
        revealed: bool,
    },
    Focus {
        event: EventCode,
        activity: Option<String>,
    },
    EventEnded {
        event: EventCode,
        at: String,
    },
    Presence {
        event: EventCode,
        minute: String,
        present: i64,
        peak: i64,
        joined: i64,
    },
}

/// Where to report a job's outcome: the submitting actor's commit channel and its own number.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub reply: CommitSender,
    pub seq: u64,
}

/// The outcome of the jobs of one batch that belong to one actor.
#[derive(Debug, Default)]
pub struct Committed {
    pub ok: Vec<u64>,
    pub failed: Vec<u64>,
}

#[derive(Debug)]
pub struct Job {
    pub writes: Vec<Write>,
    pub ticket: Option<Ticket>,
}

enum Msg {
    Job(Job),
    /// Answered once every job queued before it is committed; `stop` ends the writer.
    Flush {
        done: oneshot::Sender<()>,
        stop: bool,
    },
}

#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Msg>,
    task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl WriterHandle {
    /// Queues a job; waits only when the writer is [`QUEUE`] jobs behind.
    pub async fn submit(
        &self,
        writes: Vec<Write>,
        ticket: Option<Ticket>,
    ) -> Result<(), StorageError> {
        self.tx
            .send(Msg::Job(Job { writes, ticket }))
            .await
            .map_err(|_| StorageError::WriterGone)
    }

    /// Waits until everything submitted so far is committed (or has failed).
    pub async fn flush(&self) -> Result<(), StorageError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Msg::Flush { done, stop: false })
            .await
            .map_err(|_| StorageError::WriterGone)?;
        wait.await.map_err(|_| StorageError::WriterGone)
    }

    /// Commits what is queued, then stops the writer.
    pub async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush { done, stop: true }).await.is_ok() {
            let _ = wait.await;
        }
        if let Some(task) = self.task.lock().await.take() {
            let _ = task.await;
        }
    }
}

pub async fn spawn(backend: Arc<SqliteBackend>) -> Result<WriterHandle, StorageError> {
    let conn = backend.writer_connection().await?;
    let (tx, rx) = mpsc::channel(QUEUE);
    let task = tokio::spawn(run(backend, conn, rx));
    Ok(WriterHandle {
        tx,
        task: Arc::new(Mutex::new(Some(task))),
    })
}

async fn run(backend: Arc<SqliteBackend>, mut conn: SqliteConnection, mut rx: mpsc::Receiver<Msg>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut flushes: Vec<(oneshot::Sender<()>, bool)> = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        // Take what is already queued: the group of this commit.
        while let Some(msg) = next.take() {
            match msg {
                Msg::Job(job) => batch.push(job),
                Msg::Flush { done, stop } => {
                    flushes.push((done, stop));
                    break;
                }
            }
            if batch.len() >= MAX_BATCH {
                break;
            }
            next = rx.try_recv().ok();
        }
        if !batch.is_empty() {
            commit(&backend, &mut conn, &mut batch).await;
        }
        let mut stop = false;
        for (done, s) in flushes.drain(..) {
            stop |= s;
            let _ = done.send(());
        }
        if stop {
            break;
        }
    }
    let _ = conn.close().await;
}

async fn commit(backend: &SqliteBackend, conn: &mut SqliteConnection, batch: &mut Vec<Job>) {
    let started = Instant::now();
    let rows: usize = batch.iter().map(|j| j.writes.len()).sum();
    let outcome: Vec<bool> = match commit_with_retry(conn, batch.iter()).await {
        Ok(()) => vec![true; batch.len()],
        Err(e) => {
            warn!(error = %e, jobs = batch.len(), "group commit failed; committing jobs one by one");
            reconnect(backend, conn).await;
            let mut outcome = Vec::with_capacity(batch.len());
            for job in batch.iter() {
                let ok = commit_with_retry(conn, std::iter::once(job)).await;
                if let Err(e) = &ok {
                    error!(error = %e, "a write could not be committed");
                    reconnect(backend, conn).await;
                }
                outcome.push(ok.is_ok());
            }
            outcome
        }
    };
    METRICS.record_commit(batch.len(), rows, started.elapsed());
    // One message per actor per batch.
    let mut replies: Vec<(CommitSender, Committed)> = Vec::new();
    for (job, ok) in batch.drain(..).zip(outcome) {
        let Some(ticket) = job.ticket else { continue };
        let slot = match replies
            .iter()
            .position(|(tx, _)| tx.same_channel(&ticket.reply))
        {
            Some(i) => i,
            None => {
                replies.push((ticket.reply.clone(), Committed::default()));
                replies.len() - 1
            }
        };
        let committed = &mut replies[slot].1;
        if ok {
            committed.ok.push(ticket.seq);
        } else {
            METRICS
                .write_failures
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            committed.failed.push(ticket.seq);
        }
    }
    for (tx, committed) in replies {
        // An actor that has gone away no longer needs to know.
        let _ = tx.send(committed);
    }
}

/// Replaces the writer's connection after a failure, so no half-open transaction or stale
/// state can survive into the next commit.
async fn reconnect(backend: &SqliteBackend, conn: &mut SqliteConnection) {
    match backend.writer_connection().await {
        Ok(fresh) => {
            let old = std::mem::replace(conn, fresh);
            let _ = old.close().await;
        }
        Err(e) => {
            warn!(error = %e, "could not reopen the writer's connection; keeping the old one")
        }
    }
}

async fn commit_with_retry<'a>(
    conn: &mut SqliteConnection,
    jobs: impl Iterator<Item = &'a Job> + Clone,
) -> Result<(), sqlx::Error> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match commit_once(conn, jobs.clone()).await {
            Ok(()) => return Ok(()),
            Err(e) if sqlite::is_busy(&e) && started.elapsed() < BUSY_RETRY_FOR => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            Err(e) => return Err(e),
        }
    }
}

/// One transaction over `jobs`. Plain `BEGIN IMMEDIATE` / `COMMIT` statements, not sqlx's
/// transaction guard: when a `COMMIT` fails (a full disk), SQLite may leave the transaction
/// open, and a guard that believes it is still inside one would turn the next `BEGIN` into a
/// savepoint whose "commit" never reaches the disk. Here a failure always ends in an explicit
/// `ROLLBACK`, and the caller reconnects, so every success is a real commit.
async fn commit_once<'a>(
    conn: &mut SqliteConnection,
    jobs: impl Iterator<Item = &'a Job>,
) -> Result<(), sqlx::Error> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let result = async {
        sqlite::apply_all(&mut *conn, jobs.flat_map(|job| job.writes.iter())).await?;
        sqlx::query("COMMIT").execute(&mut *conn).await.map(|_| ())
    }
    .await;
    if result.is_err() {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    result
}
