//! The writes that are not batched (`batch.rs`), each its own statement inside the writer's
//! open transaction: questions, cards and moderation states; the event's own row (focus,
//! start, end, the after window, the current sessions); activity states and presence. A hot
//! write that reaches here alone goes through its multi-row statement for one row.
//!
//! Every statement here is an upsert, an update, or an insert that ignores a duplicate, so
//! a batch retried after a commit whose outcome was unknown leaves the same rows.

use super::batch::{Batched, bind_row};
use crate::domain::EventCode;
use crate::storage::writer::{ItemTable, Write};

/// Applies one write inside the writer's open transaction.
pub(super) fn apply(conn: &rusqlite::Connection, write: &Write) -> rusqlite::Result<()> {
    match write {
        Write::Attendee { .. }
        | Write::Answer { .. }
        | Write::Receipt { .. }
        | Write::Vote { .. } => {
            // The hot kinds have one SQL shape each: the multi-row statement, for one row.
            if let Some(kind) = Batched::of(write) {
                let mut statement = conn.prepare_cached(kind.cached_sql(1))?;
                bind_row(&mut statement, 1, write)?;
                statement.raw_execute()?;
            }
            Ok(())
        }
        Write::Question { .. } | Write::Card { .. } | Write::ItemState { .. } => {
            apply_item(conn, write)
        }
        Write::ActivityState { .. }
        | Write::Focus { .. }
        | Write::Started { .. }
        | Write::AfterWindow { .. }
        | Write::CurrentSessions { .. }
        | Write::EventEnded { .. }
        | Write::Presence { .. } => apply_event(conn, write),
    }
}

/// A question, a card, or a moderation state.
fn apply_item(conn: &rusqlite::Connection, write: &Write) -> rusqlite::Result<()> {
    use rusqlite::params;
    match write {
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
            conn.prepare_cached(
                "INSERT INTO questions (event, id, seq, attendee, text, state, flagged, session, advance)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (event, id) DO NOTHING",
            )?
            .execute(params![
                event.as_str(),
                id,
                seq,
                attendee,
                text,
                state,
                flagged,
                session,
                advance
            ])?;
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
            conn.prepare_cached(
                "INSERT INTO cards (event, attendee, id, seq, card, state, flagged) VALUES (?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (event, attendee) DO UPDATE SET id = excluded.id, seq = excluded.seq,
                 card = excluded.card, state = excluded.state, flagged = excluded.flagged",
            )?
            .execute(params![event.as_str(), attendee, id, seq, card, state, flagged])?;
        }
        Write::ItemState {
            event,
            table,
            id,
            state,
        } => {
            let sql = match table {
                ItemTable::Questions => "UPDATE questions SET state = ? WHERE event = ? AND id = ?",
                ItemTable::Answers => "UPDATE answers SET state = ? WHERE event = ? AND item = ?",
                ItemTable::Cards => "UPDATE cards SET state = ? WHERE event = ? AND id = ?",
            };
            conn.prepare_cached(sql)?
                .execute(params![state, event.as_str(), id])?;
        }
        _ => {}
    }
    Ok(())
}

/// The event's own row (focus, start, end, the after window, the current sessions), an
/// activity's state, or a presence sample.
fn apply_event(conn: &rusqlite::Connection, write: &Write) -> rusqlite::Result<()> {
    use rusqlite::params;
    match write {
        Write::ActivityState {
            event,
            activity,
            state,
            revealed,
        } => {
            conn.prepare_cached(
                "INSERT INTO activity_states (event, activity, state, revealed) VALUES (?, ?, ?, ?)
                 ON CONFLICT (event, activity) DO UPDATE SET state = excluded.state, revealed = excluded.revealed",
            )?
            .execute(params![event.as_str(), activity, state, revealed])?;
        }
        Write::Focus { event, activity } => {
            conn.prepare_cached("UPDATE events SET focus = ? WHERE code = ?")?
                .execute(params![activity, event.as_str()])?;
        }
        Write::EventEnded { event, at } => end_live_part(conn, event, "ended", at)?,
        Write::Started { event, at } => {
            conn.prepare_cached("UPDATE events SET started_at = ? WHERE code = ?")?
                .execute(params![at, event.as_str()])?;
        }
        Write::AfterWindow { event, until } => end_live_part(conn, event, "after", until)?,
        Write::CurrentSessions { event, current } => {
            conn.prepare_cached("UPDATE events SET current_sessions = ? WHERE code = ?")?
                .execute(params![current, event.as_str()])?;
        }
        Write::Presence {
            event,
            minute,
            present,
            peak,
            joined,
        } => {
            conn.prepare_cached(
                "INSERT INTO presence_samples (event, minute, present, peak, joined) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (event, minute) DO UPDATE SET present = excluded.present,
                 peak = MAX(peak, excluded.peak), joined = excluded.joined",
            )?
            .execute(params![event.as_str(), minute, present, peak, joined])?;
        }
        _ => {}
    }
    Ok(())
}

/// The live part of an event over: for good (`ended`, at `ended_at`), or into the after
/// window (`after`, open until `ended_at`). Nothing is in focus any more either way. Once
/// per event, so the state is a parameter of one statement rather than two statements.
fn end_live_part(
    conn: &rusqlite::Connection,
    event: &EventCode,
    state: &str,
    ended_at: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE events SET state = ?, ended_at = ?, focus = NULL WHERE code = ?")?
        .execute(rusqlite::params![state, ended_at, event.as_str()])?;
    Ok(())
}
