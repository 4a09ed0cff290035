//! One batch's way to disk. Jobs whose actor has gone are refused before every attempt; an
//! attempt that fails on a busy database (or a lost connection) is retried for up to
//! [`BUSY_RETRY_FOR`]; a stale fence refuses that event's jobs and commits the rest; any other
//! failure falls back to committing the jobs one by one, so one bad job cannot fail the
//! others. Then each actor gets one message with its jobs' outcome.
//!
//! The loop that gathers the batch is `mod.rs`; the SQL of one attempt is the backend's
//! [`WriteBackend::commit_once`], not here.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tracing::{error, warn};

use super::{ATTEMPT_TIMEOUT, BUSY_RETRY_FOR, Committed, Fence, Job, WriteBackend};
use crate::metrics::METRICS;
use crate::storage::CommitSender;

/// Commits one batch, retrying and falling back as the module header says, then tells each
/// actor which of its jobs are on disk.
pub(super) async fn commit<B: WriteBackend>(backend: &B, conn: &mut B::Conn, batch: &mut Vec<Job>) {
    let started = Instant::now();
    let rows: usize = batch.iter().map(|j| j.writes.len()).sum();
    let jobs = batch.len();
    // Each job once it is settled, with whether it was committed; jobs settled as refused
    // leave `batch`, which keeps the rest in order.
    let mut settled: Vec<(Job, bool)> = Vec::with_capacity(batch.len());
    loop {
        let abandoned = refuse(
            batch,
            &mut settled,
            Job::abandoned,
            "their actor has stopped",
        );
        METRICS
            .writes_abandoned
            .fetch_add(abandoned as u64, Relaxed);
        if batch.is_empty() {
            break;
        }
        match commit_with_retry(backend, conn, batch).await {
            Ok(()) => {
                settled.extend(batch.drain(..).map(|job| (job, true)));
                break;
            }
            // Dropped at the top of the loop.
            Err(Failed::Abandoned) => {}
            Err(Failed::Stale(fences)) => {
                let stale = |job: &Job| job.fence.is_some_and(|f| fences.contains(&f));
                let refused = refuse(batch, &mut settled, stale, "their event has a new owner");
                METRICS.writes_fenced.fetch_add(refused as u64, Relaxed);
                if refused == 0 {
                    // Cannot happen (a stale fence is some job's); never loop on it.
                    settled.extend(batch.drain(..).map(|job| (job, false)));
                    break;
                }
            }
            Err(Failed::TimedOut) => {
                warn!(
                    jobs = batch.len(),
                    "the database did not answer for {BUSY_RETRY_FOR:?}: these writes failed"
                );
                settled.extend(batch.drain(..).map(|job| (job, false)));
                break;
            }
            Err(Failed::Sql(e)) => {
                warn!(error = %e, jobs = batch.len(), "group commit failed; committing jobs one by one");
                reconnect(backend, conn).await;
                one_by_one(backend, conn, batch, &mut settled).await;
                break;
            }
        }
    }
    METRICS.record_commit(jobs, rows, started.elapsed());
    reply(settled);
    backend.after_commit(conn).await;
}

/// Commits each job of `batch` in a transaction of its own, after the group's commit failed
/// for a reason no retry cures, so one bad job cannot fail the others.
async fn one_by_one<B: WriteBackend>(
    backend: &B,
    conn: &mut B::Conn,
    batch: &mut Vec<Job>,
    settled: &mut Vec<(Job, bool)>,
) {
    for job in batch.drain(..) {
        let ok = if job.abandoned() {
            METRICS.writes_abandoned.fetch_add(1, Relaxed);
            Err(Failed::Abandoned)
        } else {
            commit_with_retry(backend, conn, std::slice::from_ref(&job)).await
        };
        let ok = match ok {
            Ok(()) => true,
            Err(Failed::Sql(e)) => {
                error!(error = %e, "a write could not be committed");
                reconnect(backend, conn).await;
                false
            }
            Err(Failed::Stale(_)) => {
                METRICS.writes_fenced.fetch_add(1, Relaxed);
                false
            }
            Err(Failed::Abandoned) => false,
            Err(Failed::TimedOut) => false,
        };
        settled.push((job, ok));
    }
}

/// Tells each actor which of its settled jobs are committed and which failed: one message
/// per actor per batch.
fn reply(settled: Vec<(Job, bool)>) {
    let mut replies: Vec<(CommitSender, Committed)> = Vec::new();
    for (job, ok) in settled {
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
            METRICS.write_failures.fetch_add(1, Relaxed);
            committed.failed.push(ticket.seq);
        }
    }
    for (tx, committed) in replies {
        // An actor that has gone away no longer needs to know.
        let _ = tx.send(committed);
    }
}

/// Moves the jobs of `batch` that `refused` picks to `settled` as not committed, keeping
/// the others in order; says so once, with `why`. How many moved.
fn refuse(
    batch: &mut Vec<Job>,
    settled: &mut Vec<(Job, bool)>,
    refused: impl Fn(&Job) -> bool,
    why: &str,
) -> usize {
    if !batch.iter().any(&refused) {
        return 0;
    }
    let before = settled.len();
    let mut kept = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        if refused(&job) {
            settled.push((job, false));
        } else {
            kept.push(job);
        }
    }
    *batch = kept;
    let moved = settled.len() - before;
    warn!(
        jobs = moved,
        "not committing writes (none was acknowledged): {why}"
    );
    moved
}

/// Replaces the writer's connection after a failure, so no half-open transaction or stale
/// state can survive into the next commit.
async fn reconnect<B: WriteBackend>(backend: &B, conn: &mut B::Conn) {
    match backend.connect().await {
        Ok(fresh) => {
            let old = std::mem::replace(conn, fresh);
            // Closing says goodbye to the server; over a connection that hangs, that too
            // could wait forever.
            let _ = tokio::time::timeout(Duration::from_secs(1), B::close(old)).await;
        }
        Err(e) => {
            warn!(error = %e, "could not reopen the writer's connection; keeping the old one")
        }
    }
}

/// Why a group of jobs was not committed.
enum Failed<E> {
    Sql(E),
    /// Some job's actor has stopped (an event unloaded because its node lost the database
    /// or its lease): it is dropped, and the others retried.
    Abandoned,
    /// These fences are stale: their events have a new owner.
    Stale(Vec<Fence>),
    /// The database did not answer, attempt after attempt, for [`BUSY_RETRY_FOR`].
    TimedOut,
}

async fn commit_with_retry<B: WriteBackend>(
    backend: &B,
    conn: &mut B::Conn,
    jobs: &[Job],
) -> Result<(), Failed<B::Error>> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        let attempt = tokio::time::timeout(ATTEMPT_TIMEOUT, backend.commit_once(conn, jobs)).await;
        let reconnect_first = match attempt {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => {
                if let Some(fences) = backend.stale(&e) {
                    return Err(Failed::Stale(fences));
                }
                if !backend.is_retryable(&e) || started.elapsed() >= BUSY_RETRY_FOR {
                    return Err(Failed::Sql(e));
                }
                backend.reconnect_before_retry(&e)
            }
            Err(_) => {
                warn!(
                    jobs = jobs.len(),
                    "a commit took longer than {ATTEMPT_TIMEOUT:?}: retrying on a new connection"
                );
                if started.elapsed() >= BUSY_RETRY_FOR {
                    return Err(Failed::TimedOut);
                }
                true
            }
        };
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
        if reconnect_first {
            reconnect(backend, conn).await;
        }
        if jobs.iter().any(Job::abandoned) {
            return Err(Failed::Abandoned);
        }
    }
}
