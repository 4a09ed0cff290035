//! The single writer: group commit.
//!
//! Every write of the live hub arrives here as a [`Job`]. The writer takes the first job,
//! then everything already queued behind it (up to [`MAX_BATCH`] jobs; under load, what
//! arrived within [`GROUP_EVERY`] of the last commit's start), commits them in one
//! transaction, and only then reports the jobs' tickets as committed. While one commit is
//! being synced to disk the next batch queues up, so batches grow with load and the cost of
//! each fsync is shared. A busy database is retried, never dropped; if a batch fails for
//! another reason its jobs are retried one by one, so one bad job cannot fail the others.
//!
//! The loop is shared by every backend; what differs (the connection, the SQL of one
//! transaction, which errors are retried) sits behind [`WriteBackend`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, mpsc, oneshot};
use tracing::{error, warn};

use super::{CommitSender, StorageError};
#[cfg(doc)]
use super::{postgres, sqlite};
use crate::domain::EventCode;
use crate::metrics::METRICS;

/// The most jobs committed in one transaction.
pub const MAX_BATCH: usize = 4096;
/// The least time between the starts of two commits. A job arriving after a pause is
/// committed at once; under load, the jobs of up to this long go into one commit, instead
/// of a small commit (and an fsync, and a trip through every statement) as soon as the last
/// one returns. Measured on SQLite at 19,000 attendees on one core: about 25 jobs a commit
/// and 33,000 answers/s without it, 190 jobs and 38,000-40,000/s with it; it adds at most
/// this much to an acknowledgement.
pub const GROUP_EVERY: Duration = Duration::from_millis(2);
/// Jobs that may wait for the writer before submitters are made to wait.
pub const QUEUE: usize = 16 * 1024;
/// How long a busy database (or, for PostgreSQL, a lost connection) is retried before the
/// jobs fail.
pub const BUSY_RETRY_FOR: Duration = Duration::from_secs(30);

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
    /// An answer, with the id of the message that gave it: the answer row is that
    /// message's receipt.
    Answer {
        event: EventCode,
        attendee: i64,
        activity: String,
        value: String,
        item: Option<String>,
        state: Option<&'static str>,
        flagged: bool,
        msg: String,
        /// The attendee's organisation and sector when they gave the answer: where it
        /// counts, for good (contract v1.1).
        organisation: Option<String>,
        sector: Option<String>,
    },
    /// The receipt of a message other than an answer.
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
    /// Resolves when the writer's thread has finished.
    stopped: Arc<Mutex<Option<oneshot::Receiver<()>>>>,
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
        if let Some(stopped) = self.stopped.lock().await.take() {
            let _ = stopped.await;
        }
    }
}

/// What the writer needs from a database: a connection of its own, one transaction over a
/// group of jobs, and which failures are worth retrying. One implementation per backend
/// ([`sqlite::SqliteBackend`], [`postgres::PgBackend`]); the loop below is shared.
pub trait WriteBackend: Send + Sync + 'static {
    type Conn: Send + 'static;
    /// What a failed statement reports.
    type Error: std::fmt::Display + Send + 'static;

    /// A fresh connection for the writer.
    fn connect(&self) -> impl Future<Output = Result<Self::Conn, StorageError>> + Send;

    /// Every write of `jobs` in one transaction. `Ok` only when the `COMMIT` itself
    /// succeeded; on any error the transaction has been rolled back (or the connection is
    /// unusable, and the caller replaces it).
    fn commit_once(
        &self,
        conn: &mut Self::Conn,
        jobs: &[Job],
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// A busy or locked database, a serialization failure, a dropped connection: worth
    /// retrying (for up to [`BUSY_RETRY_FOR`]), never dropping.
    fn is_retryable(&self, error: &Self::Error) -> bool;

    /// Whether the connection must be replaced before the retry after `error`.
    fn reconnect_before_retry(&self, error: &Self::Error) -> bool;

    fn close(conn: Self::Conn) -> impl Future<Output = ()> + Send;

    /// Upkeep between commits, once their tickets have been answered (SQLite checkpoints
    /// its log here).
    fn after_commit(&self, _conn: &mut Self::Conn) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// Starts the writer on a thread of its own, with its own single-threaded runtime: a commit
/// is a chain of statements, and on the shared runtime each step would wait behind
/// thousands of socket tasks, stretching every commit (and every ack) under load.
pub async fn spawn<B: WriteBackend>(backend: Arc<B>) -> Result<WriterHandle, StorageError> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let (ready_tx, ready) = oneshot::channel::<Result<(), StorageError>>();
    let (stopped_tx, stopped) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("joinup-writer".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(StorageError::Thread(e)));
                    return;
                }
            };
            runtime.block_on(async move {
                // Connect here, so the connection belongs to this runtime.
                match backend.connect().await {
                    Ok(conn) => {
                        let _ = ready_tx.send(Ok(()));
                        run(backend, conn, rx).await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
            let _ = stopped_tx.send(());
        })
        .map_err(StorageError::Thread)?;
    ready.await.map_err(|_| StorageError::WriterGone)??;
    Ok(WriterHandle {
        tx,
        stopped: Arc::new(Mutex::new(Some(stopped))),
    })
}

async fn run<B: WriteBackend>(backend: Arc<B>, mut conn: B::Conn, mut rx: mpsc::Receiver<Msg>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut flushes: Vec<(oneshot::Sender<()>, bool)> = Vec::new();
    let mut last_commit: Option<Instant> = None;
    while let Some(first) = rx.recv().await {
        // Under load, let the group gather: see [`GROUP_EVERY`].
        if let Some(due) = last_commit.map(|last| last + GROUP_EVERY)
            && due > Instant::now()
        {
            tokio::time::sleep_until(due.into()).await;
        }
        last_commit = Some(Instant::now());
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
            commit(&*backend, &mut conn, &mut batch).await;
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
    B::close(conn).await;
}

async fn commit<B: WriteBackend>(backend: &B, conn: &mut B::Conn, batch: &mut Vec<Job>) {
    let started = Instant::now();
    let rows: usize = batch.iter().map(|j| j.writes.len()).sum();
    let outcome: Vec<bool> = match commit_with_retry(backend, conn, batch).await {
        Ok(()) => vec![true; batch.len()],
        Err(Failed::Abandoned) => {
            warn!(
                jobs = batch.len(),
                "the database is unreachable and every actor waiting for these writes has \
                 stopped: dropping them (none was acknowledged)"
            );
            vec![false; batch.len()]
        }
        Err(Failed::Sql(e)) => {
            warn!(error = %e, jobs = batch.len(), "group commit failed; committing jobs one by one");
            reconnect(backend, conn).await;
            let mut outcome = Vec::with_capacity(batch.len());
            for job in batch.iter() {
                let ok = commit_with_retry(backend, conn, std::slice::from_ref(job)).await;
                if let Err(Failed::Sql(e)) = &ok {
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
    backend.after_commit(conn).await;
}

/// Replaces the writer's connection after a failure, so no half-open transaction or stale
/// state can survive into the next commit.
async fn reconnect<B: WriteBackend>(backend: &B, conn: &mut B::Conn) {
    match backend.connect().await {
        Ok(fresh) => {
            let old = std::mem::replace(conn, fresh);
            B::close(old).await;
        }
        Err(e) => {
            warn!(error = %e, "could not reopen the writer's connection; keeping the old one")
        }
    }
}

/// Why a group of jobs was not committed.
enum Failed<E> {
    Sql(E),
    /// Every job had an actor waiting for it, and all of those actors have stopped (an event
    /// unloaded because its node lost the database): retrying them later could land an old
    /// answer after a newer one stored by the node that took the event over.
    Abandoned,
}

async fn commit_with_retry<B: WriteBackend>(
    backend: &B,
    conn: &mut B::Conn,
    jobs: &[Job],
) -> Result<(), Failed<B::Error>> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match backend.commit_once(conn, jobs).await {
            Ok(()) => return Ok(()),
            Err(e) if backend.is_retryable(&e) && started.elapsed() < BUSY_RETRY_FOR => {
                if jobs
                    .iter()
                    .all(|j| j.ticket.as_ref().is_some_and(|t| t.reply.is_closed()))
                {
                    return Err(Failed::Abandoned);
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
                if backend.reconnect_before_retry(&e) {
                    reconnect(backend, conn).await;
                }
            }
            Err(e) => return Err(Failed::Sql(e)),
        }
    }
}
