//! Frames about an activity's life and its counts: opened, closed, results, tally, count,
//! activity (a host's row), focus (what the room is looking at), and reactions. Each is a
//! struct borrowed from the live state, encoded once; nothing here decides who is sent what.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::{Frame, encode};
use crate::protocol::tally::TallyView;

/// `{"type": "reactions", "counts", "shown", "window"}`: the reactions of the last `window`
/// seconds by key (every key the event offers), and whether the presenter shows them.
#[derive(Serialize)]
pub struct Reactions<'a> {
    pub counts: &'a BTreeMap<&'a str, u64>,
    pub shown: bool,
    r#type: &'static str,
    pub window: u64,
}

pub fn reactions(counts: &BTreeMap<&str, u64>, shown: bool, window: u64) -> Frame {
    encode(&Reactions {
        counts,
        shown,
        r#type: "reactions",
        window,
    })
}

/// `{"type": "opened", "activity": ACTIVITY}`: an activity an attendee may now answer.
#[derive(Serialize)]
pub struct Opened<'a> {
    pub activity: &'a Value,
    r#type: &'static str,
}

pub fn opened(activity: &Value) -> Frame {
    encode(&Opened {
        activity,
        r#type: "opened",
    })
}

/// `{"type": "closed", "activity": KEY}`.
#[derive(Serialize)]
pub struct Closed<'a> {
    pub activity: &'a str,
    r#type: &'static str,
}

pub fn closed(key: &str) -> Frame {
    encode(&Closed {
        activity: key,
        r#type: "closed",
    })
}

/// `{"type": "results", "activity": KEY, "tally": TALLY or null}`: a revealed tally, public
/// shape (never a breakdown by sector).
#[derive(Serialize)]
pub struct Results<'a> {
    pub activity: &'a str,
    pub tally: Option<&'a TallyView<'a>>,
    r#type: &'static str,
}

pub fn results(key: &str, tally: Option<&TallyView<'_>>) -> Frame {
    encode(&Results {
        activity: key,
        tally,
        r#type: "results",
    })
}

/// `{"type": "tally", "activity": KEY, "tally": TALLY}`: the live tally, as hosts see it.
#[derive(Serialize)]
pub struct Tally<'a> {
    pub activity: &'a str,
    pub tally: &'a TallyView<'a>,
    r#type: &'static str,
}

pub fn tally(key: &str, tally: &TallyView<'_>) -> Frame {
    encode(&Tally {
        activity: key,
        tally,
        r#type: "tally",
    })
}

/// `{"type": "count", "activity": KEY, "total": N}`: the presenter's live count.
#[derive(Serialize)]
pub struct Count<'a> {
    pub activity: &'a str,
    pub total: u64,
    r#type: &'static str,
}

pub fn count(key: &str, total: u64) -> Frame {
    encode(&Count {
        activity: key,
        total,
        r#type: "count",
    })
}

/// `{"type": "activity", "activity": KEY, "state", "revealed", "total"}`: an activity's state
/// changed (hosts and presenters).
#[derive(Serialize)]
pub struct Activity<'a> {
    pub activity: &'a str,
    pub revealed: bool,
    pub state: &'a str,
    pub total: u64,
    r#type: &'static str,
}

pub fn activity(key: &str, state: &str, revealed: bool, total: u64) -> Frame {
    encode(&Activity {
        activity: key,
        revealed,
        state,
        total,
        r#type: "activity",
    })
}

/// The focused activity as hosts and the presenter show it: its definition (ACTIVITY, an
/// object) with `state`, `revealed`, `total` and, only while revealed, `tally` (else null).
pub struct FocusActivity<'a> {
    pub definition: &'a Value,
    pub revealed: bool,
    pub state: &'a str,
    pub tally: Option<TallyView<'a>>,
    pub total: u64,
}

impl Serialize for FocusActivity<'_> {
    // One object, its keys in alphabetical order as they have always been on the wire.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        enum Member<'b> {
            Definition(&'b Value),
            Revealed(bool),
            State(&'b str),
            Tally(Option<&'b TallyView<'b>>),
            Total(u64),
        }
        const ADDED: [&str; 4] = ["revealed", "state", "tally", "total"];
        let mut members: Vec<(&str, Member<'_>)> = vec![
            ("revealed", Member::Revealed(self.revealed)),
            ("state", Member::State(self.state)),
            ("tally", Member::Tally(self.tally.as_ref())),
            ("total", Member::Total(self.total)),
        ];
        if let Value::Object(definition) = self.definition {
            members.extend(
                definition
                    .iter()
                    .filter(|(key, _)| !ADDED.contains(&key.as_str()))
                    .map(|(key, value)| (key.as_str(), Member::Definition(value))),
            );
        }
        members.sort_unstable_by_key(|(key, _)| *key);
        let mut map = serializer.serialize_map(Some(members.len()))?;
        for (key, member) in members {
            match member {
                Member::Definition(value) => map.serialize_entry(key, value)?,
                Member::Revealed(revealed) => map.serialize_entry(key, &revealed)?,
                Member::State(state) => map.serialize_entry(key, state)?,
                Member::Tally(tally) => map.serialize_entry(key, &tally)?,
                Member::Total(total) => map.serialize_entry(key, &total)?,
            }
        }
        map.end()
    }
}

/// `{"type": "focus", "activity": FOCUS_ACTIVITY or null}`.
#[derive(Serialize)]
pub struct Focus<'a> {
    pub activity: Option<&'a FocusActivity<'a>>,
    r#type: &'static str,
}

pub fn focus(activity: Option<&FocusActivity<'_>>) -> Frame {
    encode(&Focus {
        activity,
        r#type: "focus",
    })
}
