//! The phases of an event (docs/protocol.md, "Phases"): `before` its start, `live`,
//! `after` (the evaluation window the host's `end` opens) and `closed`; the spec's dates
//! that bound them, the activities' `window`, and the Q&A's `scope`.
//!
//! Which phase an event is in follows from what is stored (its state, whether a host
//! started it early, the end of its after window) and the clock, so a restart or an
//! unloaded event finds the same phase a running one would.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::clock;
use super::spec::{EventSpec, SessionSpec, SpecError};

/// Where an event is in its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventPhase {
    /// `starts_at` is ahead and no host has started it: questions and `window: "before"`
    /// activities from `opens_at`, nothing else.
    Before,
    Live,
    /// The host ended the live part and the after window (`closes_at`) is still open.
    After,
    /// Ended for good.
    Closed,
}

impl EventPhase {
    /// A phase by its name on the wire (`before`, `live`, `after`, `closed`).
    pub fn parse(text: &str) -> Option<EventPhase> {
        [
            EventPhase::Before,
            EventPhase::Live,
            EventPhase::After,
            EventPhase::Closed,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventPhase::Before => "before",
            EventPhase::Live => "live",
            EventPhase::After => "after",
            EventPhase::Closed => "closed",
        }
    }

    /// The stored `state` column of an event in this phase, before it is closed.
    pub fn state(self) -> &'static str {
        if self == EventPhase::Closed {
            "ended"
        } else {
            "live"
        }
    }
}

/// When an activity opens by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// From `opens_at`, before the live part, until a host closes it.
    Before,
    /// From the host's `end` of the live part until `closes_at`.
    After,
}

impl Window {
    pub fn as_str(self) -> &'static str {
        match self {
            Window::Before => "before",
            Window::After => "after",
        }
    }
}

/// Whether each question belongs to a session or the event has one Q&A for the day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QaScope {
    #[default]
    Session,
    Event,
}

/// The spec's dates, as seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    pub opens_at: Option<i64>,
    pub starts_at: Option<i64>,
    pub closes_at: Option<i64>,
    /// A rehearsal is a practice run held now, whatever its dates: never `before`.
    pub rehearsal: bool,
}

/// What is stored about an event's progress: its `state` column (`live`, `after` or
/// `ended`), whether a host started it, and `ended_at` (for `after`, the end of the window).
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    pub state: &'a str,
    pub started: bool,
    pub ended_at: Option<&'a str>,
}

impl Times {
    pub fn of(spec: &EventSpec) -> Times {
        let at = |d: &Option<String>| d.as_deref().and_then(clock::parse_unix);
        Times {
            opens_at: at(&spec.opens_at),
            starts_at: at(&spec.starts_at),
            closes_at: at(&spec.closes_at),
            rehearsal: spec.rehearsal,
        }
    }

    /// The phase at `now` of an event whose progress is stored as `progress`.
    pub fn phase(&self, progress: Progress<'_>, now: i64) -> EventPhase {
        match progress.state {
            "ended" => EventPhase::Closed,
            "after" => match progress.ended_at.and_then(clock::parse_unix) {
                Some(until) if until > now => EventPhase::After,
                _ => EventPhase::Closed,
            },
            _ if !progress.started
                && !self.rehearsal
                && self.starts_at.is_some_and(|s| s > now) =>
            {
                EventPhase::Before
            }
            _ => EventPhase::Live,
        }
    }

    /// Whether an event before its start takes questions, cards and its before-activities'
    /// answers at `now`.
    pub fn open_early(&self, now: i64) -> bool {
        self.opens_at.is_some_and(|o| o <= now)
    }

    /// Whether ending the live part at `now` leads to an after window.
    pub fn has_after(&self, now: i64) -> bool {
        self.closes_at.is_some_and(|c| c > now)
    }
}

/// The sessions running now: the plenary's and each break-out room's. Stored as JSON
/// with the event (like the focus) and sent as `current` in the `session` frame.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Current {
    pub plenary: Option<String>,
    #[serde(default)]
    pub rooms: BTreeMap<String, String>,
}

impl Current {
    /// Session `key` (in `room`, for a break-out) starts: a plenary session ends every
    /// room's (the break-out is over). Whether anything changed.
    pub fn start(&mut self, key: &str, room: Option<&str>) -> bool {
        let before = self.clone();
        match room {
            None => {
                self.plenary = Some(key.to_owned());
                self.rooms.clear();
            }
            Some(room) => {
                self.rooms.insert(room.to_owned(), key.to_owned());
            }
        }
        *self != before
    }

    /// No session runs in `room` (or, for `None`, in the plenary) any more.
    pub fn clear(&mut self, room: Option<&str>) -> bool {
        match room {
            None => self.plenary.take().is_some(),
            Some(room) => self.rooms.remove(room).is_some(),
        }
    }

    /// Forgets every current session that `sessions` (a new spec's) no longer has where it
    /// runs: a plenary session gone or moved to a room, a room's session gone or moved
    /// elsewhere. Whether anything changed.
    pub fn keep_sessions_of(&mut self, sessions: &[SessionSpec]) -> bool {
        let room_of = |key: &str| sessions.iter().find(|s| s.key == key).map(|s| &s.room);
        let before = self.clone();
        if let Some(key) = &self.plenary
            && room_of(key) != Some(&None)
        {
            self.plenary = None;
        }
        self.rooms
            .retain(|room, key| room_of(key).is_some_and(|r| r.as_deref() == Some(room.as_str())));
        *self != before
    }

    /// The session an attendee in `room` asks in by default: their room's current session,
    /// else the plenary's, else none.
    pub fn for_room(&self, room: Option<&str>) -> Option<&str> {
        room.and_then(|r| self.rooms.get(r))
            .or(self.plenary.as_ref())
            .map(String::as_str)
    }
}

/// The spec's rules on dates and windows: `opens_at` needs `starts_at` and comes before it;
/// `closes_at` comes after both; a `window` activity needs its date.
pub fn check(spec: &EventSpec) -> Result<(), SpecError> {
    let times = Times::of(spec);
    if spec.opens_at.is_some() {
        let Some(starts) = times.starts_at else {
            return Err(SpecError::at(
                "opens_at",
                "needs starts_at: the questions open before the event starts",
            ));
        };
        if times.opens_at >= Some(starts) {
            return Err(SpecError::at(
                "opens_at",
                format!("must be before starts_at ({})", clock::format_unix(starts)),
            ));
        }
    }
    if let Some(closes) = times.closes_at {
        for (field, date) in [("starts_at", times.starts_at), ("opens_at", times.opens_at)] {
            if let Some(date) = date.filter(|&d| d >= closes) {
                return Err(SpecError::at(
                    "closes_at",
                    format!("must be after {field} ({})", clock::format_unix(date)),
                ));
            }
        }
    }
    for (si, session) in spec.sessions.iter().enumerate() {
        for (ai, activity) in session.activities.iter().enumerate() {
            let path = format!("sessions[{si}].activities[{ai}].window");
            match activity.window {
                Some(Window::Before) if spec.opens_at.is_none() => {
                    return Err(SpecError::at(
                        path,
                        "an activity for before the event needs opens_at",
                    ));
                }
                Some(Window::After) if spec.closes_at.is_none() => {
                    return Err(SpecError::at(
                        path,
                        "an activity for after the event needs closes_at",
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::spec::{SpecFormat, parse_spec};
    use serde_json::{Value, json};

    #[test]
    fn current_sessions_a_new_spec_no_longer_has_where_they_ran_are_forgotten() {
        let session = |key: &str, room: Option<&str>| SessionSpec {
            key: key.into(),
            title: key.into(),
            room: room.map(str::to_owned),
            activities: Vec::new(),
        };
        let mut current = Current {
            plenary: Some("keynote".into()),
            rooms: [("Room A", "a"), ("Room B", "b"), ("Room C", "c")]
                .into_iter()
                .map(|(r, k)| (r.to_owned(), k.to_owned()))
                .collect(),
        };
        let same = current.clone();
        let all = [
            session("keynote", None),
            session("a", Some("Room A")),
            session("b", Some("Room B")),
            session("c", Some("Room C")),
        ];
        assert!(!current.keep_sessions_of(&all));
        assert_eq!(current, same);
        // b is gone, c moved to another room, the keynote into a room.
        let edited = [
            session("keynote", Some("Room A")),
            session("a", Some("Room A")),
            session("c", Some("Room D")),
        ];
        assert!(current.keep_sessions_of(&edited));
        assert_eq!(current.plenary, None);
        assert_eq!(
            current.rooms.into_iter().collect::<Vec<_>>(),
            [("Room A".to_owned(), "a".to_owned())]
        );
    }

    #[test]
    fn phases_round_trip_by_name_and_unknown_names_are_none() {
        for phase in [
            EventPhase::Before,
            EventPhase::Live,
            EventPhase::After,
            EventPhase::Closed,
        ] {
            assert_eq!(EventPhase::parse(phase.as_str()), Some(phase));
        }
        assert_eq!(EventPhase::parse("Live"), None);
        assert_eq!(EventPhase::parse("ended"), None);
    }

    fn spec(edit: impl FnOnce(&mut Value)) -> Result<crate::domain::Event, SpecError> {
        let mut value = json!({
            "title": "Day", "starts_at": "2026-11-23T09:30:00Z",
            "sessions": [{"key": "s", "title": "S", "activities": [
                {"key": "a", "kind": "text", "prompt": "What?", "max_len": 100}]}]
        });
        edit(&mut value);
        parse_spec(&value.to_string(), SpecFormat::Json)
    }

    fn refused(edit: impl FnOnce(&mut Value)) -> String {
        spec(edit).expect_err("refused").to_string()
    }

    #[test]
    fn dates_bound_the_windows() {
        assert!(
            spec(|s| {
                s["opens_at"] = json!("2026-11-01T09:00:00Z");
                s["closes_at"] = json!("2026-11-30T17:00:00+01:00");
            })
            .is_ok()
        );
        assert_eq!(
            refused(|s| {
                s["opens_at"] = json!("2026-11-01T09:00:00Z");
                s.as_object_mut().map(|m| m.remove("starts_at"));
            }),
            "opens_at: needs starts_at: the questions open before the event starts"
        );
        assert_eq!(
            refused(|s| s["opens_at"] = json!("2026-11-23T10:30:00+01:00")),
            "opens_at: must be before starts_at (2026-11-23T09:30:00Z)"
        );
        assert_eq!(
            refused(|s| s["closes_at"] = json!("2026-11-23T09:00:00Z")),
            "closes_at: must be after starts_at (2026-11-23T09:30:00Z)"
        );
        assert_eq!(
            refused(|s| s["closes_at"] = json!("next week")),
            "closes_at: must be a date and time such as 2026-11-23T09:30:00Z"
        );
    }

    #[test]
    fn windows_need_their_dates() {
        assert_eq!(
            refused(|s| s["sessions"][0]["activities"][0]["window"] = json!("after")),
            "sessions[0].activities[0].window: an activity for after the event needs closes_at"
        );
        assert_eq!(
            refused(|s| s["sessions"][0]["activities"][0]["window"] = json!("before")),
            "sessions[0].activities[0].window: an activity for before the event needs opens_at"
        );
        assert!(
            refused(|s| s["sessions"][0]["activities"][0]["window"] = json!("during"))
                .starts_with("sessions[0].activities[0].window: unknown variant `during`")
        );
        let event = spec(|s| {
            s["closes_at"] = json!("2026-11-24T17:00:00Z");
            s["sessions"][0]["activities"][0]["window"] = json!("after");
        })
        .expect("valid");
        assert_eq!(event.activities[0].window, Some(Window::After));
    }

    #[test]
    fn qa_scope_defaults_to_sessions() {
        assert_eq!(spec(|_| {}).expect("valid").spec.qa.scope, QaScope::Session);
        let event = spec(|s| s["qa"] = json!({"scope": "event"})).expect("valid");
        assert_eq!(event.spec.qa.scope, QaScope::Event);
        assert!(refused(|s| s["qa"] = json!({"scope": "room"})).starts_with("qa.scope: "));
    }

    #[test]
    fn a_plenary_session_ends_the_break_outs() {
        let mut current = Current::default();
        assert_eq!(current.for_room(Some("Room A")), None);
        assert!(current.start("keynote", None));
        assert!(!current.start("keynote", None));
        assert!(current.start("breakout-a", Some("Room A")));
        assert_eq!(current.for_room(Some("Room A")), Some("breakout-a"));
        assert_eq!(current.for_room(Some("Room B")), Some("keynote"));
        assert_eq!(current.for_room(None), Some("keynote"));
        assert!(current.start("panel", None));
        assert!(current.rooms.is_empty());
        assert!(current.clear(None));
        assert!(!current.clear(Some("Room A")));
        assert_eq!(
            serde_json::to_value(&current).expect("json"),
            json!({"plenary": null, "rooms": {}})
        );
    }

    #[test]
    fn phase_follows_progress_and_clock() {
        let event = spec(|s| s["closes_at"] = json!("2026-11-24T17:00:00Z")).expect("valid");
        let times = event.times;
        let start = times.starts_at.expect("starts");
        let live = Progress {
            state: "live",
            started: false,
            ended_at: None,
        };
        assert_eq!(times.phase(live, start - 1), EventPhase::Before);
        assert_eq!(times.phase(live, start), EventPhase::Live);
        let early = Progress {
            started: true,
            ..live
        };
        assert_eq!(times.phase(early, start - 3600), EventPhase::Live);
        let after = Progress {
            state: "after",
            started: true,
            ended_at: Some("2026-11-24T17:00:00Z"),
        };
        let closes = times.closes_at.expect("closes");
        assert_eq!(times.phase(after, closes - 1), EventPhase::After);
        assert_eq!(times.phase(after, closes), EventPhase::Closed);
        let ended = Progress {
            state: "ended",
            started: true,
            ended_at: None,
        };
        assert_eq!(times.phase(ended, start - 1), EventPhase::Closed);
        assert!(times.has_after(start));
        assert!(!times.has_after(closes));
        assert!(!times.open_early(start));
        let none = Times::default();
        assert_eq!(none.phase(live, 0), EventPhase::Live);
        let rehearsal = Times {
            rehearsal: true,
            ..times
        };
        assert_eq!(rehearsal.phase(live, start - 1), EventPhase::Live);
    }
}
