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

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, Row};

use super::lease;
use super::writer::{Fence, ItemTable, Job, Write, WriteBackend};
use super::{LiveRows, StatementCache, StorageError, StoredEvent};
use crate::domain::EventCode;

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

type PgQuery = sqlx::query::Query<'static, Postgres, PgArguments>;

/// PostgreSQL refuses a statement with more bind parameters than this.
pub const MAX_BIND_PARAMETERS: usize = 65_535;

/// The most rows in one multi-row statement. Chunks are powers of two up to this, so only a
/// few distinct statements exist per kind and each stays prepared on the connection. The
/// widest row has 10 columns: 10,240 parameters, far below [`MAX_BIND_PARAMETERS`].
pub const ROWS_PER_STATEMENT: usize = 1024;

const _: () = assert!(ROWS_PER_STATEMENT.is_power_of_two());
const _: () = assert!(ROWS_PER_STATEMENT * Batched::WIDEST <= MAX_BIND_PARAMETERS);

/// The hot writes, batched into multi-row statements, as on SQLite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Batched {
    Attendee,
    Answer,
    Receipt,
    Vote,
}

impl Batched {
    const ALL: [Batched; 4] = [
        Batched::Attendee,
        Batched::Answer,
        Batched::Receipt,
        Batched::Vote,
    ];
    const WIDEST: usize = 10;

    fn columns(self) -> usize {
        match self {
            Batched::Attendee => 6,
            Batched::Answer => 10,
            Batched::Receipt | Batched::Vote => 3,
        }
    }

    /// The statement for `rows` rows, with numbered placeholders `$1 … $n`.
    fn sql(self, rows: usize) -> String {
        let (head, tail) = match self {
            Batched::Attendee => (
                "INSERT INTO attendees (event, id, token_hash, organisation, sector, room) VALUES ",
                " ON CONFLICT (event, id) DO UPDATE SET organisation = excluded.organisation, \
                 sector = excluded.sector, room = excluded.room",
            ),
            Batched::Answer => (
                "INSERT INTO answers \
                 (event, attendee, activity, value, item, state, flagged, msg, organisation, sector) \
                 VALUES ",
                "",
            ),
            Batched::Receipt => ("INSERT INTO receipts (event, attendee, msg) VALUES ", ""),
            Batched::Vote => (
                "INSERT INTO votes (event, question, attendee) VALUES ",
                " ON CONFLICT DO NOTHING",
            ),
        };
        let columns = self.columns();
        let mut sql = String::with_capacity(head.len() + rows * columns * 7 + tail.len());
        sql.push_str(head);
        let mut n = 0;
        for row in 0..rows {
            sql.push_str(if row == 0 { "(" } else { ", (" });
            for column in 0..columns {
                n += 1;
                if column > 0 {
                    sql.push_str(", ");
                }
                sql.push('$');
                sql.push_str(&n.to_string());
            }
            sql.push(')');
        }
        sql.push_str(tail);
        sql
    }

    /// The statement for `rows` rows (a power of two up to [`ROWS_PER_STATEMENT`]), built
    /// once per process.
    fn cached_sql(self, rows: usize) -> &'static str {
        static CACHE: StatementCache<{ ROWS_PER_STATEMENT.trailing_zeros() as usize + 1 }> =
            StatementCache::new();
        debug_assert!(rows <= ROWS_PER_STATEMENT);
        CACHE.get(self as usize, rows, || self.sql(rows))
    }
}

/// What identifies a hot row: its table's primary key.
#[derive(Hash, PartialEq, Eq)]
enum Key<'a> {
    Attendee(EventCode, i64),
    Answer(EventCode, i64, &'a str),
    Receipt(EventCode, i64, &'a str),
    Vote(EventCode, &'a str, i64),
}

fn hot_key(write: &Write) -> Option<(Batched, Key<'_>)> {
    match write {
        Write::Attendee { event, id, .. } => Some((Batched::Attendee, Key::Attendee(*event, *id))),
        Write::Answer {
            event,
            attendee,
            msg,
            ..
        } => Some((Batched::Answer, Key::Answer(*event, *attendee, msg))),
        Write::Receipt {
            event,
            attendee,
            msg,
        } => Some((Batched::Receipt, Key::Receipt(*event, *attendee, msg))),
        Write::Vote {
            event,
            question,
            attendee,
        } => Some((Batched::Vote, Key::Vote(*event, question, *attendee))),
        _ => None,
    }
}

/// The writes of a batch to one row: the first and the last.
#[derive(Clone, Copy)]
struct Merged<'a> {
    first: &'a Write,
    last: &'a Write,
}

/// A batch, sorted for applying: the hot rows of each kind (in [`Batched::ALL`] order),
/// each key once, in order of first appearance; then the rest, in order.
///
/// PostgreSQL refuses an `INSERT … ON CONFLICT DO UPDATE` that touches one row twice, which
/// SQLite allows (the later row wins). So writes to the same key are merged into one row
/// that leaves the same result as applying them in turn: an attendee keeps the token hash it
/// was first inserted with and takes the last profile; a vote is the same row again.
/// Answers and receipts are append-only logs with nothing to conflict. An answer row is
/// also its message's receipt, so answers are keyed by message id and never merged: two
/// answers to one activity in one batch are two rows, in order, and the later one is the
/// answer; a message id written twice is one receipt.
struct Plan<'a> {
    hot: [Vec<Merged<'a>>; 4],
    rest: Vec<&'a Write>,
}

impl<'a> Plan<'a> {
    fn of(writes: impl Iterator<Item = &'a Write>) -> Plan<'a> {
        let mut hot: [Vec<Merged<'a>>; 4] = Default::default();
        let mut rest = Vec::new();
        let mut seen: HashMap<Key<'a>, usize> = HashMap::new();
        for write in writes {
            match hot_key(write) {
                Some((kind, key)) => {
                    let rows = &mut hot[kind as usize];
                    match seen.entry(key) {
                        Entry::Occupied(at) => rows[*at.get()].last = write,
                        Entry::Vacant(slot) => {
                            slot.insert(rows.len());
                            rows.push(Merged {
                                first: write,
                                last: write,
                            });
                        }
                    }
                }
                None => rest.push(write),
            }
        }
        Plan { hot, rest }
    }
}

/// The sizes of the statements that carry `rows` rows, up to [`ROWS_PER_STATEMENT`] each.
fn chunk_sizes(rows: usize) -> impl Iterator<Item = usize> {
    super::chunk_sizes(rows, ROWS_PER_STATEMENT)
}

fn bind_row(query: PgQuery, row: Merged<'_>) -> PgQuery {
    match (row.first, row.last) {
        (
            Write::Attendee {
                event,
                id,
                token_hash,
                ..
            },
            Write::Attendee {
                organisation,
                sector,
                room,
                ..
            },
        ) => query
            .bind(event.as_str().to_owned())
            .bind(*id)
            .bind(token_hash.clone())
            .bind(organisation.clone())
            .bind(sector.clone())
            .bind(room.clone()),
        (
            _,
            Write::Answer {
                event,
                attendee,
                activity,
                value,
                item,
                state,
                flagged,
                msg,
                organisation,
                sector,
            },
        ) => query
            .bind(event.as_str().to_owned())
            .bind(*attendee)
            .bind(activity.clone())
            .bind(value.clone())
            .bind(item.clone())
            .bind(state.map(str::to_owned))
            .bind(i64::from(*flagged))
            .bind(msg.clone())
            .bind(organisation.clone())
            .bind(sector.clone()),
        (
            Write::Receipt {
                event,
                attendee,
                msg,
            },
            _,
        ) => query
            .bind(event.as_str().to_owned())
            .bind(*attendee)
            .bind(msg.clone()),
        (
            Write::Vote {
                event,
                question,
                attendee,
            },
            _,
        ) => query
            .bind(event.as_str().to_owned())
            .bind(question.clone())
            .bind(*attendee),
        _ => query,
    }
}

/// Applies every write of a group commit inside the writer's open transaction: the hot
/// kinds (attendees, answers, receipts, votes) as multi-row statements, first, in that
/// order; then the rest one by one, in order, exactly as on SQLite.
pub async fn apply_all<'a>(
    conn: &mut PgConnection,
    writes: impl Iterator<Item = &'a Write>,
) -> Result<(), sqlx::Error> {
    let plan = Plan::of(writes);
    for (kind, rows) in Batched::ALL.into_iter().zip(&plan.hot) {
        let mut left: &[Merged<'_>] = rows;
        for take in chunk_sizes(rows.len()) {
            let (chunk, tail) = left.split_at(take);
            let query: PgQuery = sqlx::query(kind.cached_sql(take));
            chunk
                .iter()
                .fold(query, |q, row| bind_row(q, *row))
                .execute(&mut *conn)
                .await?;
            left = tail;
        }
    }
    for write in plan.rest {
        apply(&mut *conn, write).await?;
    }
    Ok(())
}

/// Applies one hot write on its own, as a one-row statement.
async fn apply_hot(
    conn: &mut PgConnection,
    kind: Batched,
    write: &Write,
) -> Result<(), sqlx::Error> {
    let row = Merged {
        first: write,
        last: write,
    };
    bind_row(sqlx::query(kind.cached_sql(1)), row)
        .execute(conn)
        .await?;
    Ok(())
}

/// Applies one write inside the writer's open transaction.
pub async fn apply(conn: &mut PgConnection, write: &Write) -> Result<(), sqlx::Error> {
    match write {
        Write::Attendee { .. } => apply_hot(conn, Batched::Attendee, write).await?,
        Write::Answer { .. } => apply_hot(conn, Batched::Answer, write).await?,
        Write::Receipt { .. } => apply_hot(conn, Batched::Receipt, write).await?,
        Write::Vote { .. } => apply_hot(conn, Batched::Vote, write).await?,
        Write::Question {
            event,
            id,
            seq,
            attendee,
            text,
            state,
            flagged,
            session,
            advance,
        } => {
            sqlx::query(
                "INSERT INTO questions (event, id, seq, attendee, text, state, flagged, session, advance)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (event, id) DO NOTHING",
            )
            .bind(event.as_str().to_owned())
            .bind(id.clone())
            .bind(*seq)
            .bind(*attendee)
            .bind(text.clone())
            .bind(state.to_owned())
            .bind(i64::from(*flagged))
            .bind(session.clone())
            .bind(i64::from(*advance))
            .execute(&mut *conn)
            .await?;
        }
        Write::Card {
            event,
            attendee,
            id,
            seq,
            card,
            state,
            flagged,
        } => {
            sqlx::query(
                "INSERT INTO cards (event, attendee, id, seq, card, state, flagged) VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (event, attendee) DO UPDATE SET id = excluded.id, seq = excluded.seq,
                 card = excluded.card, state = excluded.state, flagged = excluded.flagged",
            )
            .bind(event.as_str().to_owned())
            .bind(*attendee)
            .bind(id.clone())
            .bind(*seq)
            .bind(card.clone())
            .bind(state.to_owned())
            .bind(i64::from(*flagged))
            .execute(&mut *conn)
            .await?;
        }
        Write::ItemState {
            event,
            table,
            id,
            state,
        } => {
            let sql = match table {
                ItemTable::Questions => {
                    "UPDATE questions SET state = $1 WHERE event = $2 AND id = $3"
                }
                ItemTable::Answers => {
                    "UPDATE answers SET state = $1 WHERE event = $2 AND item = $3"
                }
                ItemTable::Cards => "UPDATE cards SET state = $1 WHERE event = $2 AND id = $3",
            };
            sqlx::query(sql)
                .bind(state.to_owned())
                .bind(event.as_str().to_owned())
                .bind(id.clone())
                .execute(&mut *conn)
                .await?;
        }
        Write::ActivityState {
            event,
            activity,
            state,
            revealed,
        } => {
            sqlx::query(
                "INSERT INTO activity_states (event, activity, state, revealed) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (event, activity) DO UPDATE SET state = excluded.state, revealed = excluded.revealed",
            )
            .bind(event.as_str().to_owned())
            .bind(activity.clone())
            .bind(state.to_owned())
            .bind(i64::from(*revealed))
            .execute(&mut *conn)
            .await?;
        }
        Write::Focus { event, activity } => {
            sqlx::query("UPDATE events SET focus = $1 WHERE code = $2")
                .bind(activity.clone())
                .bind(event.as_str().to_owned())
                .execute(&mut *conn)
                .await?;
        }
        Write::Started { event, at } => {
            sqlx::query("UPDATE events SET started_at = $1 WHERE code = $2")
                .bind(at.clone())
                .bind(event.as_str().to_owned())
                .execute(&mut *conn)
                .await?;
        }
        Write::AfterWindow { event, until } => {
            sqlx::query(
                "UPDATE events SET state = 'after', ended_at = $1, focus = NULL WHERE code = $2",
            )
            .bind(until.clone())
            .bind(event.as_str().to_owned())
            .execute(&mut *conn)
            .await?;
        }
        Write::CurrentSessions { event, current } => {
            sqlx::query("UPDATE events SET current_sessions = $1 WHERE code = $2")
                .bind(current.clone())
                .bind(event.as_str().to_owned())
                .execute(&mut *conn)
                .await?;
        }
        Write::EventEnded { event, at } => {
            sqlx::query(
                "UPDATE events SET state = 'ended', ended_at = $1, focus = NULL WHERE code = $2",
            )
            .bind(at.clone())
            .bind(event.as_str().to_owned())
            .execute(&mut *conn)
            .await?;
        }
        Write::Presence {
            event,
            minute,
            present,
            peak,
            joined,
        } => {
            sqlx::query(
                "INSERT INTO presence_samples (event, minute, present, peak, joined) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (event, minute) DO UPDATE SET present = excluded.present,
                 peak = GREATEST(presence_samples.peak, excluded.peak), joined = excluded.joined",
            )
            .bind(event.as_str().to_owned())
            .bind(minute.clone())
            .bind(*present)
            .bind(*peak)
            .bind(*joined)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> EventCode {
        EventCode::parse("ABCDEF").expect("a valid code")
    }

    fn answer(attendee: i64, activity: &str, value: &str, msg: &str) -> Write {
        Write::Answer {
            event: code(),
            attendee,
            activity: activity.to_owned(),
            value: value.to_owned(),
            item: None,
            state: None,
            flagged: false,
            msg: msg.to_owned(),
            organisation: None,
            sector: None,
        }
    }

    fn attendee(id: i64, token_hash: &str, room: &str) -> Write {
        Write::Attendee {
            event: code(),
            id,
            token_hash: token_hash.to_owned(),
            organisation: None,
            sector: None,
            room: Some(room.to_owned()),
        }
    }

    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(
            Batched::Receipt.sql(2),
            "INSERT INTO receipts (event, attendee, msg) VALUES ($1, $2, $3), ($4, $5, $6)"
        );
        let sql = Batched::Answer.sql(3);
        assert!(
            sql.ends_with("($21, $22, $23, $24, $25, $26, $27, $28, $29, $30)"),
            "{sql}"
        );
        assert!(!sql.contains('?'));
        assert!(!sql.contains("$31"));
    }

    #[test]
    fn every_statement_fits_the_bind_parameter_limit() {
        for kind in Batched::ALL {
            assert!(kind.columns() <= Batched::WIDEST);
            let sql = kind.sql(ROWS_PER_STATEMENT);
            let last = ROWS_PER_STATEMENT * kind.columns();
            assert!(last <= MAX_BIND_PARAMETERS);
            assert!(sql.contains(&format!("${last})")), "{kind:?}");
            assert!(!sql.contains(&format!("${}", last + 1)), "{kind:?}");
            assert_eq!(sql.matches('$').count(), last, "{kind:?}");
        }
    }

    #[test]
    fn cached_statements_are_the_built_ones() {
        for kind in Batched::ALL {
            for rows in [1, 2, 64, ROWS_PER_STATEMENT] {
                assert_eq!(kind.cached_sql(rows), kind.sql(rows));
            }
        }
    }

    #[test]
    fn chunks_cover_every_row_in_powers_of_two() {
        for rows in [0, 1, 2, 3, 7, 1023, 1024, 1025, 3000, 5000] {
            let sizes: Vec<usize> = chunk_sizes(rows).collect();
            assert_eq!(sizes.iter().sum::<usize>(), rows, "{rows}");
            assert!(
                sizes
                    .iter()
                    .all(|s| s.is_power_of_two() && *s <= ROWS_PER_STATEMENT)
            );
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
        }
        assert_eq!(chunk_sizes(2049).collect::<Vec<_>>(), vec![1024, 1024, 1]);
        assert_eq!(chunk_sizes(13).collect::<Vec<_>>(), vec![8, 4, 1]);
    }

    #[test]
    fn every_answer_is_its_own_row_in_order_and_a_repeated_message_is_one() {
        let writes = [
            answer(1, "role", "[1]", "m1"),
            answer(2, "role", "[2]", "m2"),
            answer(1, "role", "[3]", "m3"),
            answer(1, "other", "[4]", "m4"),
            answer(1, "other", "[4]", "m4"),
        ];
        let plan = Plan::of(writes.iter());
        let answers = &plan.hot[Batched::Answer as usize];
        // Each row is its message's receipt: the first answer to "role" keeps its row (and
        // so its id), and the later one, stored after it, is the answer.
        assert_eq!(answers.len(), 4);
        let values: Vec<&str> = answers
            .iter()
            .map(|m| match m.last {
                Write::Answer { value, .. } => value.as_str(),
                _ => panic!("not an answer"),
            })
            .collect();
        assert_eq!(values, ["[1]", "[2]", "[3]", "[4]"]);
        assert!(plan.rest.is_empty());
    }

    #[test]
    fn a_repeated_attendee_keeps_its_first_token_and_takes_its_last_profile() {
        let writes = [attendee(7, "first", "A"), attendee(7, "second", "B")];
        let plan = Plan::of(writes.iter());
        let rows = &plan.hot[Batched::Attendee as usize];
        assert_eq!(rows.len(), 1);
        match (rows[0].first, rows[0].last) {
            (Write::Attendee { token_hash, .. }, Write::Attendee { room, .. }) => {
                assert_eq!(token_hash, "first");
                assert_eq!(room.as_deref(), Some("B"));
            }
            _ => panic!("not attendees"),
        }
    }

    #[test]
    fn other_writes_keep_their_order_after_the_hot_ones() {
        let writes = [
            Write::Focus {
                event: code(),
                activity: Some("a".to_owned()),
            },
            Write::Receipt {
                event: code(),
                attendee: 1,
                msg: "m".to_owned(),
            },
            Write::Focus {
                event: code(),
                activity: None,
            },
            Write::Receipt {
                event: code(),
                attendee: 1,
                msg: "m".to_owned(),
            },
        ];
        let plan = Plan::of(writes.iter());
        assert_eq!(plan.hot[Batched::Receipt as usize].len(), 1);
        let focus: Vec<Option<&str>> = plan
            .rest
            .iter()
            .map(|w| match w {
                Write::Focus { activity, .. } => activity.as_deref(),
                _ => panic!("not a focus"),
            })
            .collect();
        assert_eq!(focus, [Some("a"), None]);
    }

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
