//! Whole-state frames: attendance (host and presenter), an attendee's `welcome`, the
//! `event` spec, and the host's and presenter's `snapshot`. The spec's JSON is spliced in
//! as already encoded, never parsed and encoded again.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use super::{CardView, Frame, HostQuestion, PublicQuestion, Tagged, Text, encode};
use crate::domain::phase::Current;
use crate::protocol::tally::TallyView;

/// Attendance as hosts see it: totals, the peak, and joined attendees by their current
/// organisation and sector (in a snapshot).
#[derive(Serialize)]
pub struct HostAttendance<'a> {
    pub by_organisation: &'a BTreeMap<String, u64>,
    pub by_sector: &'a BTreeMap<String, u64>,
    pub joined: usize,
    pub peak: u64,
    pub present: u64,
    /// Attendees connected now, by the room they chose (only those who chose one); absent
    /// when nobody has.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub rooms: BTreeMap<String, u64>,
}

/// Attendance as the presenter sees it: the totals only (in a snapshot).
#[derive(Serialize)]
pub struct PresenterAttendance {
    pub joined: usize,
    pub present: u64,
}

/// `{"type": "attendance", ...}` to hosts.
pub fn host_attendance(attendance: &HostAttendance<'_>) -> Frame {
    encode(&Tagged {
        body: attendance,
        r#type: "attendance",
    })
}

/// `{"type": "attendance", "present", "joined"}` to presenters.
pub fn presenter_attendance(attendance: &PresenterAttendance) -> Frame {
    encode(&Tagged {
        body: attendance,
        r#type: "attendance",
    })
}

/// An attendee's own profile, in their welcome.
#[derive(Serialize)]
pub struct Profile<'a> {
    pub organisation: Option<&'a str>,
    pub room: Option<&'a str>,
    pub sector: Option<&'a str>,
}

/// What a welcome carries after the event's definition: the attendee's open activities,
/// answers, revealed results, questions, votes, the directory and their profile.
#[derive(Serialize)]
pub struct Welcome<'a> {
    pub answers: BTreeMap<&'a str, Value>,
    pub current: &'a Current,
    pub directory: Vec<CardView<'a>>,
    pub open: Vec<&'a Value>,
    pub phase: &'static str,
    pub profile: Profile<'a>,
    pub questions: Vec<PublicQuestion<'a>>,
    pub questions_total: usize,
    pub results: BTreeMap<&'a str, TallyView<'a>>,
    pub voted: Vec<&'a str>,
}

/// How every `welcome` begins, byte for byte.
const WELCOME_HEAD: &[u8] = br#"{"type":"welcome","attendee":"#;

/// Whether a frame is an attendee's `welcome`: the socket has joined. Whichever node of a
/// cluster built it, it begins with [`WELCOME_HEAD`].
pub fn is_welcome(frame: &[u8]) -> bool {
    frame.starts_with(WELCOME_HEAD)
}

/// `{"type": "welcome", "attendee": TOKEN, "state": "live", "event": EVENT, ...}`. The
/// event's definition is encoded once per event and spliced in as `event_json`.
pub fn welcome(token: &str, event_json: &str, rest: &Welcome<'_>) -> Frame {
    let mut head = Vec::with_capacity(event_json.len() + token.len() + 64);
    head.extend_from_slice(WELCOME_HEAD);
    // The token as a JSON string; writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut head, token);
    head.extend_from_slice(br#","state":"live","event":"#);
    head.extend_from_slice(event_json.as_bytes());
    splice(head, rest)
}

/// `{"type": "event", "event": EVENT}`: the event's spec was edited while it runs; EVENT
/// is as in `welcome` and `snapshot`, and every answer, state and tally carries on.
pub fn event(event_json: &str) -> Frame {
    let mut frame = Vec::with_capacity(event_json.len() + 32);
    frame.extend_from_slice(br#"{"type":"event","event":"#);
    frame.extend_from_slice(event_json.as_bytes());
    frame.push(b'}');
    Bytes::from(frame)
}

/// One activity's row in a snapshot. `tally` is the hosts' tally, or for the presenter the
/// public tally once revealed, else null.
#[derive(Serialize)]
pub struct ActivityRow<'a> {
    pub key: &'a str,
    pub revealed: bool,
    pub state: &'a str,
    pub tally: Option<TallyView<'a>>,
    pub total: u64,
}

/// What a host's snapshot carries after the event's definition.
#[derive(Serialize)]
pub struct HostSnapshot<'a> {
    pub activities: Vec<ActivityRow<'a>>,
    pub attendance: HostAttendance<'a>,
    pub cards: Vec<CardView<'a>>,
    pub current: &'a Current,
    pub focus: Option<&'a str>,
    pub phase: &'static str,
    pub questions: Vec<HostQuestion<'a>>,
    /// The spec's `safeguarding` section (its lead and support card), for the host only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safeguarding: Option<&'a crate::domain::safeguarding::SafeguardingSpec>,
    pub texts: Vec<Text<'a>>,
}

/// What a presenter's snapshot carries after the event's definition.
#[derive(Serialize)]
pub struct PresenterSnapshot<'a> {
    pub activities: Vec<ActivityRow<'a>>,
    pub attendance: PresenterAttendance,
    pub current: &'a Current,
    pub focus: Option<&'a str>,
    pub phase: &'static str,
    pub questions: Vec<PublicQuestion<'a>>,
    pub questions_total: usize,
}

/// `{"type": "snapshot", "state": "live" or "ended", "event": EVENT, ...}` for a host
/// ([`HostSnapshot`]) or a presenter ([`PresenterSnapshot`]).
pub fn snapshot<T: Serialize>(ended: bool, event_json: &str, rest: &T) -> Frame {
    let mut head = Vec::with_capacity(event_json.len() + 64);
    head.extend_from_slice(br#"{"type":"snapshot","state":""#);
    head.extend_from_slice(if ended { b"ended" } else { b"live" });
    head.extend_from_slice(br#"","event":"#);
    head.extend_from_slice(event_json.as_bytes());
    splice(head, rest)
}

/// `head` (an object opened and not closed), then the members of `rest` (an object with at
/// least one member).
fn splice<T: Serialize>(mut head: Vec<u8>, rest: &T) -> Frame {
    let rest = serde_json::to_vec(rest).unwrap_or_default();
    head.push(b',');
    head.extend_from_slice(rest.get(1..).unwrap_or_default());
    Bytes::from(head)
}
