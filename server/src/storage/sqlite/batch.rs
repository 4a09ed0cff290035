//! The hot writes of a group commit (attendees, answers, receipts, votes), sent as
//! multi-row statements of a few prepared sizes, before the batch's other writes
//! (`apply.rs`), one by one, in order. The statements' text is built once per process; no
//! write here allocates per row beyond the grouping vectors of one commit.

use super::apply::apply;
use crate::storage::StatementCache;
use crate::storage::writer::Write;

/// The hot writes, batched into multi-row statements: one statement per up to
/// [`ROWS_PER_STATEMENT`] rows instead of one per row. Rows of one kind keep their order, so
/// a later answer to the same activity still wins.
#[derive(Clone, Copy)]
pub(super) enum Batched {
    Attendee,
    Answer,
    Receipt,
    Vote,
}

pub(super) const ROWS_PER_STATEMENT: usize = 512;
const _: () = assert!(ROWS_PER_STATEMENT.is_power_of_two());

impl Batched {
    pub(super) fn of(write: &Write) -> Option<Batched> {
        match write {
            Write::Attendee { .. } => Some(Batched::Attendee),
            Write::Answer { .. } => Some(Batched::Answer),
            Write::Receipt { .. } => Some(Batched::Receipt),
            Write::Vote { .. } => Some(Batched::Vote),
            _ => None,
        }
    }

    /// The statement for `rows` rows (a power of two up to [`ROWS_PER_STATEMENT`]), built
    /// once per process. Chunks are powers of two, so only a few distinct statements exist
    /// and each stays prepared in the connection's cache.
    pub(super) fn cached_sql(self, rows: usize) -> &'static str {
        static CACHE: StatementCache<{ ROWS_PER_STATEMENT.trailing_zeros() as usize + 1 }> =
            StatementCache::new();
        debug_assert!(rows <= ROWS_PER_STATEMENT);
        CACHE.get(self as usize, rows, || self.sql(rows))
    }

    /// The statement for `rows` rows.
    ///
    /// Answers and receipts are inserted `OR ROLLBACK`: a multi-row statement inside a
    /// transaction that could fail part-way (a `NOT NULL` column is enough) makes SQLite
    /// keep a statement journal, a temporary file created, written and deleted for every
    /// such statement, so that the statement alone can be undone. The writer never keeps
    /// a transaction whose statement failed (it rolls back and retries the jobs one by
    /// one), so the whole transaction may as well be rolled back at once, and with no
    /// statement able to abort alone, no statement journal is kept.
    fn sql(self, rows: usize) -> String {
        let (head, row, tail) = match self {
            Batched::Attendee => (
                "INSERT INTO attendees (event, id, token_hash, organisation, sector, room) VALUES ",
                "(?, ?, ?, ?, ?, ?)",
                " ON CONFLICT (event, id) DO UPDATE SET organisation = excluded.organisation, \
                 sector = excluded.sector, room = excluded.room",
            ),
            Batched::Answer => (
                "INSERT OR ROLLBACK INTO answers \
                 (event, attendee, activity, value, item, state, flagged, msg, organisation, sector) \
                 VALUES ",
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                "",
            ),
            Batched::Receipt => (
                "INSERT OR ROLLBACK INTO receipts (event, attendee, msg) VALUES ",
                "(?, ?, ?)",
                "",
            ),
            Batched::Vote => (
                "INSERT INTO votes (event, question, attendee) VALUES ",
                "(?, ?, ?)",
                " ON CONFLICT DO NOTHING",
            ),
        };
        let mut sql = String::with_capacity(head.len() + rows * (row.len() + 2) + tail.len());
        sql.push_str(head);
        for i in 0..rows {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(row);
        }
        sql.push_str(tail);
        sql
    }
}

/// Binds one hot row's values from parameter `at` on; returns the next free parameter.
/// Values are bound from the write itself: SQLite takes its own copy of each string.
pub(super) fn bind_row(
    statement: &mut rusqlite::Statement<'_>,
    at: usize,
    write: &Write,
) -> rusqlite::Result<usize> {
    use rusqlite::ToSql;
    let values: &[&dyn ToSql] = match write {
        Write::Attendee {
            event,
            id,
            token_hash,
            organisation,
            sector,
            room,
        } => &[&event.as_str(), id, token_hash, organisation, sector, room],
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
        } => &[
            &event.as_str(),
            attendee,
            activity,
            value,
            item,
            state,
            flagged,
            msg,
            organisation,
            sector,
        ],
        Write::Receipt {
            event,
            attendee,
            msg,
        } => &[&event.as_str(), attendee, msg],
        Write::Vote {
            event,
            question,
            attendee,
        } => &[&event.as_str(), question, attendee],
        _ => &[],
    };
    for (i, value) in values.iter().enumerate() {
        statement.raw_bind_parameter(at + i, value)?;
    }
    Ok(at + values.len())
}

/// Applies every write of a group commit inside the writer's open transaction: the hot
/// kinds (attendees, answers, receipts, votes) as multi-row statements, first, in that
/// order; then the rest one by one, in order. Nothing among the rest depends on a later
/// hot row: a text's moderation follows its answer, a vote follows its question.
pub(super) fn apply_all<'a>(
    conn: &rusqlite::Connection,
    writes: impl Iterator<Item = &'a Write>,
) -> rusqlite::Result<()> {
    let mut hot: [Vec<&Write>; 4] = Default::default();
    let mut rest: Vec<&Write> = Vec::new();
    for write in writes {
        match Batched::of(write) {
            Some(kind) => hot[kind as usize].push(write),
            None => rest.push(write),
        }
    }
    for (kind, rows) in [
        Batched::Attendee,
        Batched::Answer,
        Batched::Receipt,
        Batched::Vote,
    ]
    .into_iter()
    .zip(&hot)
    {
        let mut left: &[&Write] = rows;
        for take in crate::storage::chunk_sizes(rows.len(), ROWS_PER_STATEMENT) {
            let (chunk, tail) = left.split_at(take);
            let mut statement = conn.prepare_cached(kind.cached_sql(take))?;
            let mut at = 1;
            for write in chunk {
                at = bind_row(&mut statement, at, write)?;
            }
            statement.raw_execute()?;
            left = tail;
        }
    }
    for write in rest {
        apply(conn, write)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_statements_are_the_built_ones() {
        for kind in [
            Batched::Attendee,
            Batched::Answer,
            Batched::Receipt,
            Batched::Vote,
        ] {
            for rows in [1, 2, 64, ROWS_PER_STATEMENT] {
                assert_eq!(kind.cached_sql(rows), kind.sql(rows));
                assert_eq!(kind.sql(rows).matches("(?").count(), rows);
            }
        }
    }

    #[test]
    fn the_append_only_logs_need_no_statement_journal() {
        assert!(
            Batched::Answer
                .sql(2)
                .starts_with("INSERT OR ROLLBACK INTO answers")
        );
        assert!(
            Batched::Receipt
                .sql(2)
                .starts_with("INSERT OR ROLLBACK INTO receipts")
        );
    }
}
