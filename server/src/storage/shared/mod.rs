//! The reads and the event-level writes (creating, purging) that are the same SQL for both
//! backends, written once: [`shared_queries!`] expands them into `SqliteBackend` and
//! `PgBackend` alike (each has a `pool`). Placeholders are `$N`, which both SQLite and
//! PostgreSQL take; a read whose order matters says `ORDER BY`, as PostgreSQL needs. What
//! differs (the writer's SQL, how `live_rows` opens its snapshot) stays in each backend;
//! [`read_live_rows!`] is what `live_rows` reads inside it.

//!
//! # Layout
//!
//! - `mod.rs` (here): [`shared_queries!`], which expands the three below, and
//!   [`read_live_rows!`].
//! - `events.rs`: an event's own rows, its tokens and theme names, the settings.
//! - `retention.rs`: purging and what is kept, attendance samples, the earlier edition.
//! - `links.rs`: role links.
//!
//! Each file holds one `macro_rules!` whose body is methods: the paths in them (`super::…`,
//! `StorageError`, `EventCode`) resolve where the macro is expanded, inside a backend.

pub(super) mod events;
pub(super) mod links;
pub(super) mod retention;

/// The methods both backends share, expanded inside each one's `impl` (`self.pool` is its
/// connection pool).
macro_rules! shared_queries {
    () => {
        $crate::storage::shared::events::event_queries!();
        $crate::storage::shared::retention::retention_queries!();
        $crate::storage::shared::links::link_queries!();
    };
}

pub(super) use shared_queries;

/// One event's live state, read inside the snapshot transaction `$tx` each backend opens
/// its own way (SQLite's read transaction, PostgreSQL's repeatable read): the same queries,
/// in the same order, for both. Evaluates to the rows, as stored (the latest answer per
/// attendee and activity is picked by the caller).
macro_rules! read_live_rows {
    ($tx:ident, $code:ident) => {{
            let mut rows = super::LiveRows::default();
            for r in sqlx::query(
                "SELECT activity, state, revealed FROM activity_states WHERE event = $1 ORDER BY activity",
            )
            .bind($code.clone())
            .fetch_all(&mut *$tx)
            .await?
            {
                rows.activity_states
                    .push((r.get(0), r.get(1), r.get::<i64, _>(2) != 0));
            }
            for r in sqlx::query(
                "SELECT id, token_hash, organisation, sector, room FROM attendees WHERE event = $1 ORDER BY id",
            )
            .bind($code.clone())
            .fetch_all(&mut *$tx)
            .await?
            {
                rows.attendees.push(super::AttendeeRow {
                    id: r.get(0),
                    token_hash: r.get(1),
                    organisation: r.get(2),
                    sector: r.get(3),
                    room: r.get(4),
                });
            }
            for r in sqlx::query(
                "SELECT attendee, activity, value, item, state, flagged, msg, organisation, sector
                 FROM answers WHERE event = $1 ORDER BY id",
            )
            .bind($code.clone())
            .fetch_all(&mut *$tx)
            .await?
            {
                rows.answers.push(super::AnswerRow {
                    attendee: r.get(0),
                    activity: r.get(1),
                    value: r.get(2),
                    item: r.get(3),
                    state: r.get(4),
                    flagged: r.get::<i64, _>(5) != 0,
                    organisation: r.get(7),
                    sector: r.get(8),
                });
                // An answer row is its message's receipt (since migration 0004).
                if let Some(msg) = r.get::<Option<String>, _>(6) {
                    rows.receipts.push((r.get(0), msg));
                }
            }
            for r in sqlx::query("SELECT attendee, msg FROM receipts WHERE event = $1 ORDER BY id")
                .bind($code.clone())
                .fetch_all(&mut *$tx)
                .await?
            {
                rows.receipts.push((r.get(0), r.get(1)));
            }
            for r in sqlx::query(
                "SELECT id, seq, attendee, text, state, flagged, session, advance FROM questions WHERE event = $1 ORDER BY seq",
            )
            .bind($code.clone())
            .fetch_all(&mut *$tx)
            .await?
            {
                rows.questions.push(super::QuestionRow {
                    id: r.get(0),
                    seq: r.get(1),
                    attendee: r.get(2),
                    text: r.get(3),
                    state: r.get(4),
                    flagged: r.get::<i64, _>(5) != 0,
                    session: r.get(6),
                    advance: r.get::<i64, _>(7) != 0,
                });
            }
            for r in sqlx::query(
                "SELECT question, attendee FROM votes WHERE event = $1 ORDER BY question, attendee",
            )
            .bind($code.clone())
            .fetch_all(&mut *$tx)
            .await?
            {
                rows.votes.push((r.get(0), r.get(1)));
            }
            for r in sqlx::query(
                "SELECT attendee, id, seq, card, state, flagged FROM cards WHERE event = $1 ORDER BY seq",
            )
            .bind($code.clone())
            .fetch_all(&mut *$tx)
            .await?
            {
                rows.cards.push(super::CardRow {
                    attendee: r.get(0),
                    id: r.get(1),
                    seq: r.get(2),
                    card: r.get(3),
                    state: r.get(4),
                    flagged: r.get::<i64, _>(5) != 0,
                });
            }
            rows.peak_present = sqlx::query_scalar(
                "SELECT COALESCE(MAX(peak), 0) FROM presence_samples WHERE event = $1",
            )
            .bind($code)
            .fetch_one(&mut *$tx)
            .await?;
            rows
    }};
}

pub(super) use read_live_rows;
