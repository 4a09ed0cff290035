//! The rows storage hands back, as the hub, the HTTP layer and the reports read them: an
//! event as stored, a line of the organiser's list, an event's live rows; and the small
//! pure steps both backends apply to rows they read (the latest answer of each, receipts
//! once each, the earlier edition that is not a rehearsal). No SQL and no I/O here: the
//! queries are `shared/` and each backend's.

use crate::domain::link::RoleLink;
use crate::domain::phase::{EventPhase, Progress, Times};
use crate::domain::{EventCode, EventSpec, clock};

/// An event as stored: its spec verbatim and what changes during the event.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub code: EventCode,
    pub spec: String,
    pub host_token_hash: String,
    pub presenter_token_hash: String,
    pub state: String,
    pub focus: Option<String>,
    pub created_at: String,
    /// For an event in its after window (`state` `after`), the end of that window.
    pub ended_at: Option<String>,
    pub purged_at: Option<String>,
    /// When a host started the event before its `starts_at`.
    pub started_at: Option<String>,
    /// The sessions running now, as JSON (`hub::sessions`).
    pub current_sessions: Option<String>,
}

/// One line of the organiser's list of events.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub code: String,
    pub spec: String,
    pub state: String,
    pub created_at: String,
    pub ended_at: Option<String>,
    pub purged_at: Option<String>,
    /// Attendees who have joined.
    pub joined: i64,
    /// When a host started the event before its `starts_at`.
    pub started_at: Option<String>,
}

impl StoredEvent {
    /// The phase the event is in now (docs/protocol.md, "Phases"), `times` being its spec's.
    pub fn phase(&self, times: &Times) -> EventPhase {
        let progress = Progress {
            state: &self.state,
            started: self.started_at.is_some(),
            ended_at: self.ended_at.as_deref(),
        };
        times.phase(progress, clock::now_unix())
    }
}

impl EventRow {
    /// The phase the event is in now, read from its stored spec's dates.
    pub fn phase(&self) -> EventPhase {
        let times = serde_json::from_str::<EventSpec>(&self.spec)
            .map(|spec| Times::of(&spec))
            .unwrap_or_default();
        let progress = Progress {
            state: &self.state,
            started: self.started_at.is_some(),
            ended_at: self.ended_at.as_deref(),
        };
        times.phase(progress, clock::now_unix())
    }
}

/// A role link read back from `SELECT id, role, label, room, created_at, revoked_at`: with no
/// `url`, which only the answer that issues it carries.
pub(super) fn role_link<R: sqlx::Row>(row: &R) -> RoleLink
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    RoleLink {
        id: row.get(0),
        role: row.get(1),
        label: row.get(2),
        room: row.get(3),
        created_at: row.get(4),
        revoked_at: row.get(5),
        url: None,
    }
}

#[derive(Debug, Clone)]
pub struct AttendeeRow {
    pub id: i64,
    pub token_hash: String,
    pub organisation: Option<String>,
    pub sector: Option<String>,
    pub room: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AnswerRow {
    pub attendee: i64,
    pub activity: String,
    pub value: String,
    pub item: Option<String>,
    pub state: Option<String>,
    pub flagged: bool,
    /// The organisation and sector the answer was given under.
    pub organisation: Option<String>,
    pub sector: Option<String>,
}

#[derive(Debug, Clone)]
pub struct QuestionRow {
    pub id: String,
    pub seq: i64,
    pub attendee: i64,
    pub text: String,
    pub state: String,
    pub flagged: bool,
    /// The session it belongs to; `None`: the event as a whole.
    pub session: Option<String>,
    /// Asked before the live part.
    pub advance: bool,
}

#[derive(Debug, Clone)]
pub struct CardRow {
    pub attendee: i64,
    pub id: String,
    pub seq: i64,
    pub card: String,
    pub state: String,
    pub flagged: bool,
}

/// Everything the hub needs to bring an event back to life, exactly as committed.
#[derive(Debug, Default)]
pub struct LiveRows {
    /// (activity, state, revealed)
    pub activity_states: Vec<(String, String, bool)>,
    pub attendees: Vec<AttendeeRow>,
    /// The latest answer of each attendee to each activity, in (attendee, activity) order.
    pub answers: Vec<AnswerRow>,
    /// (attendee, message id), each once, in the order they were stored
    pub receipts: Vec<(i64, String)>,
    pub questions: Vec<QuestionRow>,
    /// (question, attendee)
    pub votes: Vec<(String, i64)>,
    pub cards: Vec<CardRow>,
    /// The highest attendance seen so far.
    pub peak_present: i64,
}

/// Answers are an append-only log: from an event's rows read in the order they were
/// stored, keeps the newest of each (attendee, activity), in (attendee, activity) order.
pub(super) fn latest_answers(mut rows: Vec<AnswerRow>) -> Vec<AnswerRow> {
    rows.reverse();
    // A stable sort: within one (attendee, activity) the newest stays first.
    rows.sort_by(|a, b| (a.attendee, &a.activity).cmp(&(b.attendee, &b.activity)));
    rows.dedup_by(|later, kept| later.attendee == kept.attendee && later.activity == kept.activity);
    rows
}

/// From the candidate editions (code, spec, this edition's spec), latest first, the first that
/// is not a rehearsal; none when this edition is a rehearsal itself.
pub(super) fn latest_not_rehearsal(rows: &[(String, String, String)]) -> Option<EventCode> {
    let rehearsal = |spec: &str| {
        serde_json::from_str::<serde_json::Value>(spec)
            .is_ok_and(|v| v.get("rehearsal") == Some(&serde_json::Value::Bool(true)))
    };
    if rows.first().is_some_and(|(_, _, this)| rehearsal(this)) {
        return None;
    }
    rows.iter()
        .find(|(_, spec, _)| !rehearsal(spec))
        .and_then(|(code, _, _)| EventCode::parse(code))
}

/// Receipts are an append-only log too: the same message stored twice (by two owners of an
/// event for a moment, in a cluster) reads as one receipt, in the order first stored.
pub(super) fn distinct_receipts(mut rows: Vec<(i64, String)>) -> Vec<(i64, String)> {
    let mut seen = std::collections::HashSet::with_capacity(rows.len());
    rows.retain(|row| seen.insert(row.clone()));
    rows
}
