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
//! Two kinds of job are never committed. A job whose actor has gone (its ticket's channel is
//! closed) is dropped before every attempt, the first included: nobody can be told, and in
//! a cluster the event may already run elsewhere. And a job carrying a [`Fence`] (an event
//! of a cluster, run under a lease) is committed only if, inside the same transaction, the
//! event's fencing number is still the one the job was made under (PostgreSQL's
//! `commit_once` checks it); otherwise the transaction rolls back, the jobs of that event are
//! reported failed, and the others are committed without them. Each attempt is bounded by
//! [`ATTEMPT_TIMEOUT`], so a connection that hangs (a network that holds packets rather
//! than refusing them) is given up and replaced, and the checks above run again.
//!
//! The loop is shared by every backend; what differs (the connection, the SQL of one
//! transaction, which errors are retried) sits behind [`WriteBackend`].
//!
//! # Layout
//!
//! - `mod.rs` (here): what is written ([`Write`], [`Job`], [`Ticket`], [`Fence`]), the handle
//!   the hub submits through, what a backend provides ([`WriteBackend`]), and the
//!   group-commit loop: gather a batch, commit it, answer the flushes.
//! - `commit.rs`: one batch's way to disk: the jobs refused before an attempt, the retries,
//!   the fallback to one job at a time, and the one reply per actor.
//!
//! No SQL here: each backend's statements are in `storage/sqlite/` and `storage/postgres/`.

mod commit;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, mpsc, oneshot};

use super::{CommitSender, StorageError};
#[cfg(doc)]
use super::{postgres, sqlite};
use crate::domain::EventCode;
use commit::commit;

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
/// The longest one attempt at a commit may take before its connection is given up as hung
/// and the batch retried on a new one. A commit of [`MAX_BATCH`] jobs takes well under a
/// second; PostgreSQL's own `statement_timeout` on the writer's connection is the same.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

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
        /// counts, for good (docs/privacy.md).
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
        /// The session it belongs to; `None`: the event as a whole.
        session: Option<String>,
        /// Asked before the live part.
        advance: bool,
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
    /// A host started the event before its `starts_at`.
    Started {
        event: EventCode,
        at: String,
    },
    /// The host ended the live part: the after window is open `until` (then the event's
    /// end time, from which retention counts).
    AfterWindow {
        event: EventCode,
        until: String,
    },
    /// The sessions running now, as JSON.
    CurrentSessions {
        event: EventCode,
        current: String,
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

/// The event a job writes for and the fencing number its actor runs under: the number the
/// event's lease had when this node took it, changed at every change of owner
/// (`storage::lease`). Only the events of a cluster have one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fence {
    pub event: EventCode,
    pub epoch: i64,
}

#[derive(Debug)]
pub struct Job {
    pub writes: Vec<Write>,
    pub ticket: Option<Ticket>,
    /// Committed only while the event's fencing number is still this one.
    pub fence: Option<Fence>,
}

impl Job {
    /// Whether the actor waiting for this job has gone: nobody would be told of its commit.
    fn abandoned(&self) -> bool {
        self.ticket.as_ref().is_some_and(|t| t.reply.is_closed())
    }
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
    /// Put on every job submitted through this handle.
    fence: Option<Fence>,
}

impl WriterHandle {
    /// The same writer, with every job submitted through the copy fenced by `fence`.
    pub fn fenced(&self, fence: Fence) -> WriterHandle {
        WriterHandle {
            fence: Some(fence),
            ..self.clone()
        }
    }

    /// Queues a job; waits only when the writer is [`QUEUE`] jobs behind.
    pub async fn submit(
        &self,
        writes: Vec<Write>,
        ticket: Option<Ticket>,
    ) -> Result<(), StorageError> {
        let job = Job {
            writes,
            ticket,
            fence: self.fence,
        };
        self.tx
            .send(Msg::Job(job))
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
    /// unusable, and the caller replaces it). A backend that runs clustered events checks
    /// the jobs' fences inside the transaction, before `COMMIT`, and fails with an error
    /// that [`WriteBackend::stale`] recognises when any is stale.
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

    /// The fences `error` found stale: those events have a new owner, and their jobs must
    /// never be committed. `None` for every other error (and always, for a backend that
    /// checks no fence).
    fn stale(&self, _error: &Self::Error) -> Option<Vec<Fence>> {
        None
    }

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
        fence: None,
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
