//! PostgreSQL: the same seam as [`super::sqlite`], for `postgres://` URLs. One writer
//! connection (owned by the writer task) and a small read pool. Every connection runs with
//! `synchronous_commit=on`, so a `COMMIT` returns only once the commit is flushed to the
//! server's WAL: an `ack` means committed, as with SQLite.
//!
//! The schema (`migrations/postgres/`) mirrors the SQLite one: BIGINT for every integer, so
//! rows decode as `i64` the same way, and byte-order (`"C"`) collation for text, so string
//! comparisons and `ORDER BY` agree with SQLite's. Reads that SQLite answers in primary-key
//! order (it walks the `WITHOUT ROWID` key) say so with an explicit `ORDER BY` here, so the
//! hub sees rows in the same order from either database.
//!
//! # Layout
//!
//! - `mod.rs` (here): the backend: the pool and the writer's connection and its limits, one
//!   group commit ([`WriteBackend::commit_once`]) and which failures are retried.
//! - `batch.rs`: the hot writes (attendees, answers, receipts, votes) merged and sent as
//!   multi-row statements.
//! - `apply.rs`: every other write, one statement each.
//!
//! The reads both backends run word for word are `storage/shared/`, not here.

mod apply;
mod batch;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Row};

use super::lease;
use super::writer::{Fence, Job, WriteBackend};
use super::{LiveRows, StorageError, StoredEvent};
use crate::domain::EventCode;
pub use apply::apply;
pub use batch::{MAX_BIND_PARAMETERS, ROWS_PER_STATEMENT, apply_all};

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PgBackend {
    /// The writer's connection options (the pool has its own).
    writer_options: PgConnectOptions,
    pool: PgPool,
}

/// How long opening the writer's connection may take: over a network that holds packets
/// rather than refusing them, a connection attempt would otherwise wait for the kernel's
/// own timeout, minutes later.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The writer connection's limits, set by PostgreSQL's end. A transaction the writer leaves
/// open without a word (its process frozen, its network holding packets) is ended after 3 s
/// and its row locks released, so it cannot hold up the event's next owner; no statement
/// runs longer than the writer waits for it ([`ATTEMPT_TIMEOUT`]); and the server notices a
/// vanished writer by TCP keepalives (5 s idle, 3 probes 2 s apart; 10 s for data sent and
/// never acknowledged) rather than after hours.
///
/// [`ATTEMPT_TIMEOUT`]: super::writer::ATTEMPT_TIMEOUT
const WRITER_SETTINGS: [(&str, &str); 6] = [
    ("idle_in_transaction_session_timeout", "3000"),
    ("statement_timeout", "10000"),
    ("tcp_keepalives_idle", "5"),
    ("tcp_keepalives_interval", "2"),
    ("tcp_keepalives_count", "3"),
    ("tcp_user_timeout", "10000"),
];

impl PgBackend {
    /// Connects to an existing database and applies the PostgreSQL migrations.
    pub async fn open(url: &str) -> Result<PgBackend, StorageError> {
        let options = PgConnectOptions::from_str(url)?
            .application_name("joinup")
            // The default, made explicit: a server or database configured with
            // `synchronous_commit=off` would otherwise let a commit be acknowledged before
            // it is durable.
            .options([("synchronous_commit", "on")]);
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        let writer_options = options
            .application_name(&format!("joinup writer (pid {})", std::process::id()))
            .options(WRITER_SETTINGS);
        Ok(PgBackend {
            writer_options,
            pool,
        })
    }

    /// The writer task's own connection (see [`WRITER_SETTINGS`]).
    pub async fn writer_connection(&self) -> Result<PgConnection, StorageError> {
        match tokio::time::timeout(
            CONNECT_TIMEOUT,
            PgConnection::connect_with(&self.writer_options),
        )
        .await
        {
            Ok(conn) => Ok(conn?),
            Err(_) => Err(StorageError::TimedOut(CONNECT_TIMEOUT)),
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    super::shared::shared_queries!();

    /// Reads one event's live state in a single repeatable-read transaction: every query
    /// sees the same snapshot, as SQLite's read transaction does.
    pub async fn live_rows(&self, code: EventCode) -> Result<LiveRows, StorageError> {
        let code = code.as_str().to_owned();
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
        let mut rows = super::shared::read_live_rows!(tx, code);
        tx.commit().await?;
        rows.answers = super::latest_answers(std::mem::take(&mut rows.answers));
        rows.receipts = super::distinct_receipts(std::mem::take(&mut rows.receipts));
        Ok(rows)
    }
}

/// Why a PostgreSQL commit failed.
#[derive(Debug)]
pub enum WriteError {
    Sql(sqlx::Error),
    /// These fences are stale: their events have a new owner. Rolled back.
    Stale(Vec<Fence>),
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> WriteError {
        WriteError::Sql(e)
    }
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Sql(e) => e.fmt(f),
            WriteError::Stale(fences) => write!(f, "{} events have a new owner", fences.len()),
        }
    }
}

impl WriteBackend for PgBackend {
    type Conn = PgConnection;
    type Error = WriteError;

    async fn connect(&self) -> Result<PgConnection, StorageError> {
        self.writer_connection().await
    }

    /// One transaction over `jobs`, with plain `BEGIN` / `COMMIT` statements as on SQLite.
    /// Every statement's error is returned before `COMMIT` is sent, so a `COMMIT` is never
    /// sent into an aborted transaction (where PostgreSQL would answer it with a silent
    /// `ROLLBACK`). A failure ends in an explicit `ROLLBACK`, and the writer reconnects.
    ///
    /// The jobs' fences (the events of a cluster) are checked last, just before `COMMIT`,
    /// by [`lease::stale`]: if any event has a new owner the transaction rolls back and the
    /// writer learns which, by [`WriteBackend::stale`].
    ///
    /// If the connection drops while `COMMIT` is in flight, the outcome is unknown; the
    /// writer retries the batch on a new connection. Every write is an upsert, an update,
    /// an insert that ignores a duplicate, or an append to the answer and receipt logs,
    /// whose readers keep each message once, so a retry of a batch that did commit is
    /// reported committed, as it was (its answers appended a second time, next to the
    /// first). A retry after the event has changed owner is refused by its fence.
    async fn commit_once(&self, conn: &mut PgConnection, jobs: &[Job]) -> Result<(), WriteError> {
        sqlx::query("BEGIN").execute(&mut *conn).await?;
        let result = async {
            apply_all(&mut *conn, jobs.iter().flat_map(|job| job.writes.iter())).await?;
            let mut fences: Vec<Fence> = jobs.iter().filter_map(|job| job.fence).collect();
            fences.sort_by(|a, b| (a.event.as_str(), a.epoch).cmp(&(b.event.as_str(), b.epoch)));
            fences.dedup();
            if !fences.is_empty() {
                let stale = lease::stale(&mut *conn, &fences).await?;
                if !stale.is_empty() {
                    return Err(WriteError::Stale(stale));
                }
            }
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            Ok(())
        }
        .await;
        if result.is_err() {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        }
        result
    }

    fn is_retryable(&self, error: &WriteError) -> bool {
        match error {
            WriteError::Sql(e) => is_retryable(e),
            WriteError::Stale(_) => false,
        }
    }

    /// A serialization failure or deadlock leaves the connection usable after the
    /// `ROLLBACK`; anything else (a dropped connection, a server restarting) gets a new one.
    fn reconnect_before_retry(&self, error: &WriteError) -> bool {
        match error {
            WriteError::Sql(e) => {
                !matches!(sql_state(e).as_deref(), Some("40001" | "40P01" | "55P03"))
            }
            WriteError::Stale(_) => false,
        }
    }

    fn stale(&self, error: &WriteError) -> Option<Vec<Fence>> {
        match error {
            WriteError::Stale(fences) => Some(fences.clone()),
            WriteError::Sql(_) => None,
        }
    }

    async fn close(conn: PgConnection) {
        let _ = conn.close().await;
    }
}

fn sql_state(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(e) => e.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// Whether a write is worth retrying rather than failing: a serialization failure, a
/// deadlock, a lock not granted, too many connections, a server shutting down or starting
/// up, a statement cancelled by `statement_timeout`, a session ended for idling in its
/// transaction, or a connection that dropped.
pub fn is_retryable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(_) => sql_state(error).is_some_and(|code| {
            matches!(
                code.as_str(),
                "40001"
                    | "40P01"
                    | "55P03"
                    | "53300"
                    | "57014"
                    | "57P01"
                    | "57P02"
                    | "57P03"
                    | "25P03"
            ) || code.starts_with("08")
        }),
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Needs the PostgreSQL server every cluster test uses. A writer left mid-transaction
    /// (its process frozen, its network holding packets) must not hold rows for long, nor
    /// a statement run longer than the writer waits for it, nor a vanished writer's session
    /// linger for hours.
    #[tokio::test]
    async fn the_writers_connection_is_bounded_by_the_database() {
        let Some(db) = crate::storage::tests::TempDb::postgres().await else {
            return;
        };
        let backend = PgBackend::open(&db.url()).await.expect("open");
        let mut conn = backend
            .writer_connection()
            .await
            .expect("writer connection");
        for (setting, value) in [
            ("idle_in_transaction_session_timeout", "3s"),
            ("statement_timeout", "10s"),
            ("tcp_keepalives_idle", "5"),
            ("tcp_keepalives_interval", "2"),
            ("tcp_keepalives_count", "3"),
            ("tcp_user_timeout", "10000"),
            ("synchronous_commit", "on"),
        ] {
            let shown: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SHOW {setting}")))
                .fetch_one(&mut conn)
                .await
                .expect("show");
            assert_eq!(shown, value, "{setting}");
        }
        let _ = conn.close().await;
        backend.close().await;
        db.remove().await;
    }

    #[test]
    fn lost_connections_and_conflicts_are_retried_other_errors_are_not() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(is_retryable(&io));
        assert!(is_retryable(&sqlx::Error::PoolTimedOut));
        assert!(!is_retryable(&sqlx::Error::RowNotFound));
        assert!(!is_retryable(&sqlx::Error::Protocol("bad".to_owned())));
    }
}
