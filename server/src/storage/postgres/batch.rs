//! The hot writes of a group commit (attendees, answers, receipts, votes), merged where
//! PostgreSQL needs it and sent as multi-row statements of a few prepared sizes, before the
//! batch's other writes (`apply.rs`), one by one, in order.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use sqlx::Postgres;
use sqlx::postgres::{PgArguments, PgConnection};

use super::apply::apply;
use crate::domain::EventCode;
use crate::storage::StatementCache;
use crate::storage::writer::Write;

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
pub(super) enum Batched {
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
    crate::storage::chunk_sizes(rows, ROWS_PER_STATEMENT)
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
pub(super) async fn apply_hot(
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
}
