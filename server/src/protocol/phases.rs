//! The frames of an event's phases and sessions (docs/protocol.md, "Phases"): `phase`,
//! `session`, the presenter's per-room `questions`, and the `not_open` error that names
//! the phase a message was refused in.

use serde::Serialize;
use serde_json::Value;

use super::codes::ErrorCode;
use super::server::{Frame, PublicQuestion, encode};
use crate::domain::phase::{Current, EventPhase};

/// `{"type": "phase", "phase", "closes_at"?}`: the event moved to another phase.
#[derive(Serialize)]
struct Phase<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    closes_at: Option<&'a str>,
    phase: &'static str,
    r#type: &'static str,
}

/// The `phase` frame; `closes_at` (the end of the after window) only in `after`.
pub fn phase(phase: EventPhase, closes_at: Option<&str>) -> Frame {
    encode(&Phase {
        closes_at: closes_at.filter(|_| phase == EventPhase::After),
        phase: phase.as_str(),
        r#type: "phase",
    })
}

/// `{"type": "session", "current": {"plenary", "rooms"}}`: the sessions running now.
#[derive(Serialize)]
struct Session<'a> {
    current: &'a Current,
    r#type: &'static str,
}

pub fn session(current: &Current) -> Frame {
    encode(&Session {
        current,
        r#type: "session",
    })
}

/// `{"type": "error", "code": "not_open", "phase", "message", "id"?}`.
#[derive(Serialize)]
struct NotOpen<'a> {
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    message: &'a str,
    phase: &'static str,
    r#type: &'static str,
}

/// A message refused because of the phase the event is in.
pub fn not_open(id: Option<&Value>, phase: EventPhase, message: &str) -> Frame {
    encode(&NotOpen {
        code: ErrorCode::NotOpen.as_str(),
        id,
        message,
        phase: phase.as_str(),
        r#type: "error",
    })
}

/// `{"type": "questions", "questions", "room", "session", "total"}`: the top of one
/// session's visible questions, for the presenter of the main screen (`room` null) or of
/// a break-out room.
#[derive(Serialize)]
struct RoomQuestions<'a> {
    questions: &'a [PublicQuestion<'a>],
    room: Option<&'a str>,
    session: Option<&'a str>,
    total: usize,
    r#type: &'static str,
}

pub fn room_questions(
    room: Option<&str>,
    session: Option<&str>,
    questions: &[PublicQuestion<'_>],
    total: usize,
) -> Frame {
    encode(&RoomQuestions {
        questions,
        room,
        session,
        total,
        r#type: "questions",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(frame: &Frame) -> &str {
        std::str::from_utf8(frame).expect("utf-8")
    }

    #[test]
    fn frames_read_as_documented() {
        assert_eq!(
            text(&phase(EventPhase::After, Some("2026-11-24T17:00:00Z"))),
            r#"{"closes_at":"2026-11-24T17:00:00Z","phase":"after","type":"phase"}"#
        );
        assert_eq!(
            text(&phase(EventPhase::Live, Some("2026-11-24T17:00:00Z"))),
            r#"{"phase":"live","type":"phase"}"#
        );
        let mut current = Current::default();
        current.start("breakout-a", Some("Room A"));
        assert_eq!(
            text(&session(&current)),
            r#"{"current":{"plenary":null,"rooms":{"Room A":"breakout-a"}},"type":"session"}"#
        );
        assert_eq!(
            text(&not_open(
                Some(&Value::from("q1")),
                EventPhase::Before,
                "not yet"
            )),
            r#"{"code":"not_open","id":"q1","message":"not yet","phase":"before","type":"error"}"#
        );
    }
}
