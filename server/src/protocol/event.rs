//! The event's definition on the wire: EVENT (in `welcome` and `snapshot`, encoded once per
//! event and spliced into each), ACTIVITY (in `opened`, `welcome` and `focus`, built once per
//! activity when the event loads) and the public facts of `GET /api/events/{code}`.
//!
//! Built as `serde_json::Value`s, so their keys come out in alphabetical order; they are
//! built once per event, never per frame.

use serde_json::{Map, Value, json};

use crate::domain::Event;
use crate::domain::spec::{Activity, ActivityKind};

/// ACTIVITY: the activity's full definition, the spec's fields plus `session` and `room`.
pub fn activity(activity: &Activity) -> Value {
    let mut map = Map::new();
    map.insert("key".into(), json!(activity.key.as_str()));
    map.insert("kind".into(), json!(activity.kind.name()));
    map.insert("prompt".into(), json!(activity.prompt));
    map.insert("session".into(), json!(activity.session));
    map.insert("room".into(), json!(activity.room));
    if let Some(window) = activity.window {
        map.insert("window".into(), json!(window.as_str()));
    }
    match &activity.kind {
        ActivityKind::Choice {
            options,
            multiple,
            max_choices,
        } => {
            map.insert("options".into(), json!(options));
            map.insert("multiple".into(), json!(multiple));
            map.insert("max_choices".into(), json!(max_choices));
        }
        ActivityKind::Scale {
            min,
            max,
            labels,
            pair,
        } => {
            map.insert("min".into(), json!(min));
            map.insert("max".into(), json!(max));
            map.insert("labels".into(), json!(labels));
            map.insert("pair".into(), json!(pair.as_ref().map(|p| &p.0)));
            map.insert("phase".into(), json!(pair.as_ref().map(|p| p.1)));
        }
        ActivityKind::Words { max_words } => {
            map.insert("max_words".into(), json!(max_words));
        }
        ActivityKind::Text { max_len } => {
            map.insert("max_len".into(), json!(max_len));
        }
        ActivityKind::Pledge { text } => {
            map.insert("text".into(), json!(text));
        }
        ActivityKind::Ranking { options } => {
            map.insert("options".into(), json!(options));
        }
        ActivityKind::Points { options, budget } => {
            map.insert("options".into(), json!(options));
            map.insert("budget".into(), json!(budget));
        }
    }
    Value::Object(map)
}

/// The public facts: what `GET /api/events/{code}` shows (plus `code` and `state`, which the
/// caller adds).
pub fn public(event: &Event) -> Value {
    let spec = &event.spec;
    json!({
        "title": spec.title,
        "series": spec.series,
        "starts_at": spec.starts_at,
        "opens_at": spec.opens_at,
        "closes_at": spec.closes_at,
        "rehearsal": spec.rehearsal,
        "organisations": spec.organisations,
        "sectors": spec.sectors,
        "allow_other_organisation": spec.allow_other_organisation,
        "rooms": event.rooms,
        "qa": spec.qa,
        "directory": spec.directory,
        "sessions": spec.sessions.iter().map(|s| json!({
            "key": s.key, "title": s.title, "room": s.room,
        })).collect::<Vec<_>>(),
    })
}

/// EVENT, encoded: the public facts with every session's activities in full and the
/// event's `min_group_size`.
pub fn full(event: &Event) -> String {
    let mut out = public(event);
    let sessions: Vec<Value> = event
        .spec
        .sessions
        .iter()
        .map(|s| {
            json!({
                "key": s.key,
                "title": s.title,
                "room": s.room,
                "activities": event.activities.iter()
                    .filter(|a| a.session == s.key)
                    .map(activity)
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    if let Some(map) = out.as_object_mut() {
        map.insert("sessions".into(), Value::Array(sessions));
        map.insert("min_group_size".into(), json!(event.spec.min_group_size));
        map.insert("reactions".into(), json!(event.spec.reactions));
    }
    out.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::spec::{SpecFormat, parse_spec};

    #[test]
    fn activity_json_carries_session_and_room() {
        let text = include_str!("../../fixtures/dual-diagnosis-2026.json");
        let event = parse_spec(text, SpecFormat::Json).expect("valid");
        let json = activity(event.activity("connected-word").expect("exists"));
        assert_eq!(json["session"], "breakout-b");
        assert_eq!(json["room"], "Room B");
        assert_eq!(json["kind"], "words");
        assert_eq!(json["max_words"], 1);
    }
}
