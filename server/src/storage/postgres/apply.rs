//! The writes that are not batched (`batch.rs`), each its own statement inside the writer's
//! open transaction: questions, cards and moderation states; the event's own row (focus,
//! start, end, the after window, the current sessions); activity states and presence.
//!
//! Every statement here is an upsert, an update, or an insert that ignores a duplicate, so
//! a batch retried after a commit whose outcome was unknown leaves the same rows.

use sqlx::postgres::PgConnection;

use super::batch::{Batched, apply_hot};
use crate::storage::writer::{ItemTable, Write};

/// Applies one write inside the writer's open transaction.
pub async fn apply(conn: &mut PgConnection, write: &Write) -> Result<(), sqlx::Error> {
    match write {
        Write::Attendee { .. } => apply_hot(conn, Batched::Attendee, write).await,
        Write::Answer { .. } => apply_hot(conn, Batched::Answer, write).await,
        Write::Receipt { .. } => apply_hot(conn, Batched::Receipt, write).await,
        Write::Vote { .. } => apply_hot(conn, Batched::Vote, write).await,
        Write::Question { .. } | Write::Card { .. } | Write::ItemState { .. } => {
            apply_item(conn, write).await
        }
        Write::ActivityState { .. }
        | Write::Focus { .. }
        | Write::Started { .. }
        | Write::AfterWindow { .. }
        | Write::CurrentSessions { .. }
        | Write::EventEnded { .. }
        | Write::Presence { .. } => apply_event(conn, write).await,
    }
}

/// A question, a card, or a moderation state.
async fn apply_item(conn: &mut PgConnection, write: &Write) -> Result<(), sqlx::Error> {
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
        // The other writes are not items: [`apply`] sends them elsewhere.
        _ => {}
    }
    Ok(())
}

/// The event's own state: its row, its activities' states, its presence samples.
async fn apply_event(conn: &mut PgConnection, write: &Write) -> Result<(), sqlx::Error> {
    match write {
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
        // The other writes are not the event's own: [`apply`] sends them elsewhere.
        _ => {}
    }
    Ok(())
}
