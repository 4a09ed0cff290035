//! Server messages, encoded once into frames. A broadcast frame is encoded once and shared
//! by reference count among every connection that receives it.

use bytes::Bytes;
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::tally::TallyView;
use crate::domain::card::Card;
use crate::domain::phase::Current;

use super::codes::ErrorCode;

/// One encoded JSON text message, ready for a WebSocket text frame or an SSE `data:` line.
pub type Frame = Bytes;

pub fn ack(id: &str) -> Frame {
    let mut out = Vec::with_capacity(id.len() + 32);
    out.extend_from_slice(br#"{"type":"ack","id":"#);
    // The id as a JSON string, escaped; writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, id);
    out.push(b'}');
    Bytes::from(out)
}

/// Encodes a typed message. Written straight into bytes: `to_string` goes through
/// `Display`, a formatter call per token. The messages here have string keys and a `Vec`
/// takes every write, so this never fails.
pub fn encode<T: Serialize + ?Sized>(message: &T) -> Frame {
    Bytes::from(serde_json::to_vec(message).unwrap_or_default())
}

// Every message below is a struct borrowed from the state it shows, encoded once per send.
// Fields are declared in alphabetical order, `type` among them: the order the frames had
// when they were built as `serde_json::Value`s, kept so the bytes on the wire stay the same.

/// `{"type": "error", "code", "message", "id"?}`: a refused message, or why a socket closes.
#[derive(Serialize)]
pub struct Error<'a> {
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a Value>,
    pub message: &'a str,
    r#type: &'static str,
}

pub fn error(id: Option<&Value>, code: ErrorCode, message: &str) -> Frame {
    encode(&Error {
        code: code.as_str(),
        id,
        message,
        r#type: "error",
    })
}

/// `{"type": "authorised", "role", "label", "room"}`: sent to a host or presenter right
/// after its `auth`, before the snapshot: what its key lets it do (`host`, `moderator` or
/// `presenter`), for a role link the label the organiser gave it, and for a presenter link
/// issued for a break-out room that room, which the screen is then bound to.
pub fn authorised(role: &str, label: Option<&str>, room: Option<&str>) -> Frame {
    #[derive(Serialize)]
    struct Authorised<'a> {
        r#type: &'static str,
        role: &'a str,
        label: Option<&'a str>,
        room: Option<&'a str>,
    }
    encode(&Authorised {
        r#type: "authorised",
        role,
        label,
        room,
    })
}

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

/// `{"type": "ok", "for", "id"?}`: a host command done.
#[derive(Serialize)]
pub struct Ok<'a> {
    #[serde(rename = "for")]
    pub for_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a Value>,
    r#type: &'static str,
}

pub fn ok(for_type: &str, id: Option<&Value>) -> Frame {
    encode(&Ok {
        for_type,
        id,
        r#type: "ok",
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

/// A question as hosts see it, with its moderation state.
#[derive(Serialize)]
pub struct HostQuestion<'a> {
    /// Asked before the live part.
    pub advance: bool,
    /// What risk the text may disclose (`self_harm`, `suicide`, `abuse`, `danger`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concern: Option<&'static str>,
    pub flagged: bool,
    pub id: &'a str,
    /// The session it belongs to; `None` (null): the event as a whole.
    pub session: Option<&'a str>,
    pub state: &'a str,
    pub text: &'a str,
    pub votes: u64,
}

/// A question as attendees and the presenter see it.
#[derive(Serialize)]
pub struct PublicQuestion<'a> {
    pub advance: bool,
    pub answered: bool,
    pub id: &'a str,
    pub session: Option<&'a str>,
    pub text: &'a str,
    pub votes: u64,
}

/// `{"type": "question", "question": QUESTION}`: a new or changed question, to hosts.
#[derive(Serialize)]
pub struct Question<'a> {
    pub question: HostQuestion<'a>,
    r#type: &'static str,
}

pub fn question(question: HostQuestion<'_>) -> Frame {
    encode(&Question {
        question,
        r#type: "question",
    })
}

/// `{"type": "questions", "questions": [...], "total": N}`: the top of the visible list.
#[derive(Serialize)]
pub struct Questions<'a> {
    pub questions: &'a [PublicQuestion<'a>],
    pub total: usize,
    r#type: &'static str,
}

pub fn questions(questions: &[PublicQuestion<'_>], total: usize) -> Frame {
    encode(&Questions {
        questions,
        total,
        r#type: "questions",
    })
}

/// A card as attendees see it (`flagged` and `state` absent) or as hosts see it.
#[derive(Serialize)]
pub struct CardView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concern: Option<&'static str>,
    pub contact: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flagged: Option<bool>,
    pub id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    pub offer: &'a str,
    pub organisation: &'a str,
    pub referral: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'a str>,
    pub service: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'a str>,
}

impl<'a> CardView<'a> {
    /// The card as attendees see it in the directory.
    pub fn public(card: &'a Card, id: &'a str) -> CardView<'a> {
        CardView {
            concern: None,
            contact: &card.contact,
            flagged: None,
            id,
            name: card.name.as_deref(),
            offer: &card.offer,
            organisation: &card.organisation,
            referral: &card.referral,
            role: card.role.as_deref(),
            service: &card.service,
            state: None,
        }
    }

    /// The card as hosts see it, with its moderation state.
    pub fn host(card: &'a Card, id: &'a str, state: &'a str, flagged: bool) -> CardView<'a> {
        CardView {
            flagged: Some(flagged),
            state: Some(state),
            ..CardView::public(card, id)
        }
    }

    /// The host's view with the risk its text may disclose.
    pub fn with_concern(self, concern: Option<crate::domain::safeguarding::Concern>) -> Self {
        CardView {
            concern: concern.map(|c| c.as_str()),
            ..self
        }
    }
}

/// `{"type": "card", "card": CARD}`: a new or changed card, to hosts.
#[derive(Serialize)]
pub struct CardMsg<'a> {
    pub card: CardView<'a>,
    r#type: &'static str,
}

pub fn card(card: CardView<'_>) -> Frame {
    encode(&CardMsg {
        card,
        r#type: "card",
    })
}

/// `{"type": "directory", "cards": [...]}`: the visible cards, to attendees.
#[derive(Serialize)]
pub struct Directory<'a> {
    pub cards: &'a [CardView<'a>],
    r#type: &'static str,
}

pub fn directory(cards: &[CardView<'_>]) -> Frame {
    encode(&Directory {
        cards,
        r#type: "directory",
    })
}

/// A text answer as hosts see it, with its moderation state (in a snapshot).
#[derive(Serialize)]
pub struct Text<'a> {
    pub activity: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concern: Option<&'static str>,
    pub flagged: bool,
    pub id: &'a str,
    /// In a frame, the earlier text of the same attendee this one replaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<&'a str>,
    pub state: &'a str,
    pub text: &'a str,
}

/// `{"type": "text", ...TEXT}`: a new or changed text answer, to hosts.
pub fn text(text: &Text<'_>) -> Frame {
    encode(&Tagged {
        body: text,
        r#type: "text",
    })
}

#[derive(Serialize)]
struct Support<'a> {
    support: &'a crate::domain::safeguarding::SupportCard,
    r#type: &'static str,
}

/// `{"type": "support", "support": {"title", "text", "lines": [...]}}`: the event's support
/// card, to the attendee whose question, text or card may disclose a risk.
pub fn support(card: &crate::domain::safeguarding::SupportCard) -> Frame {
    encode(&Support {
        support: card,
        r#type: "support",
    })
}

/// One text on the presenter's wall: an approved text answer, without its moderation state.
#[derive(Serialize)]
pub struct WallText<'a> {
    pub id: &'a str,
    pub text: &'a str,
}

#[derive(Serialize)]
struct Wall<'a> {
    activity: &'a str,
    texts: &'a [WallText<'a>],
    r#type: &'static str,
}

/// `{"type": "wall", "activity": KEY, "texts": [...]}`: the focused, revealed text activity's
/// approved texts, newest first, to the presenter.
pub fn wall(activity: &str, texts: &[WallText<'_>]) -> Frame {
    encode(&Wall {
        activity,
        texts,
        r#type: "wall",
    })
}

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

/// A body with `"type"` added after its fields (which sort before `type`).
#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(flatten)]
    body: &'a T,
    r#type: &'static str,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ack_names_its_id_escaped() {
        assert_eq!(ack(r#"a"b"#), Bytes::from(r#"{"type":"ack","id":"a\"b"}"#));
    }

    /// Each frame's exact bytes: keys in alphabetical order (as when the frames were built
    /// as `serde_json::Value`s), `type` among them.
    #[track_caller]
    fn pinned(frame: Frame, want: &str) {
        assert_eq!(std::str::from_utf8(&frame).unwrap_or_default(), want);
    }

    #[test]
    fn golden_bytes_of_small_frames() {
        let id = Value::from(7);
        pinned(
            error(Some(&id), ErrorCode::InvalidValue, "no"),
            r#"{"code":"invalid_value","id":7,"message":"no","type":"error"}"#,
        );
        pinned(
            error(None, ErrorCode::InvalidValue, "no"),
            r#"{"code":"invalid_value","message":"no","type":"error"}"#,
        );
        pinned(
            ok("open", Some(&id)),
            r#"{"for":"open","id":7,"type":"ok"}"#,
        );
        pinned(ok("end", None), r#"{"for":"end","type":"ok"}"#);
        pinned(closed("role"), r#"{"activity":"role","type":"closed"}"#);
        pinned(
            opened(&serde_json::json!({"key": "role"})),
            r#"{"activity":{"key":"role"},"type":"opened"}"#,
        );
        pinned(
            results("role", None),
            r#"{"activity":"role","tally":null,"type":"results"}"#,
        );
        pinned(
            count("role", 3),
            r#"{"activity":"role","total":3,"type":"count"}"#,
        );
        pinned(
            activity("role", "open", true, 3),
            r#"{"activity":"role","revealed":true,"state":"open","total":3,"type":"activity"}"#,
        );
        pinned(focus(None), r#"{"activity":null,"type":"focus"}"#);
    }

    #[test]
    fn golden_bytes_of_tally_results_and_focus() {
        use crate::domain::spec::ActivityKind;
        use crate::domain::{AnswerValue, Tally};
        let mut tally = Tally::new(&ActivityKind::Choice {
            options: vec!["a".into(), "b".into()],
            multiple: false,
            max_choices: None,
        });
        tally.add(&AnswerValue::Choice(vec![1]), None);
        let view = TallyView::public(&tally);
        pinned(
            super::tally("role", &view),
            r#"{"activity":"role","tally":{"counts":[0,1],"total":1},"type":"tally"}"#,
        );
        pinned(
            results("role", Some(&view)),
            r#"{"activity":"role","tally":{"counts":[0,1],"total":1},"type":"results"}"#,
        );
        let definition = serde_json::json!({"key": "role", "kind": "choice", "options": ["a", "b"],
            "prompt": "P", "room": null, "session": "welcome"});
        let focused = FocusActivity {
            definition: &definition,
            revealed: true,
            state: "closed",
            tally: Some(TallyView::public(&tally)),
            total: 1,
        };
        pinned(
            focus(Some(&focused)),
            concat!(
                r#"{"activity":{"key":"role","kind":"choice","options":["a","b"],"prompt":"P","#,
                r#""revealed":true,"room":null,"session":"welcome","state":"closed","#,
                r#""tally":{"counts":[0,1],"total":1},"total":1},"type":"focus"}"#
            ),
        );
    }

    #[test]
    fn golden_bytes_of_questions_cards_texts_and_attendance() {
        let host = HostQuestion {
            advance: true,
            concern: None,
            flagged: false,
            id: "q1",
            session: Some("keynote"),
            state: "pending",
            text: "Why?",
            votes: 2,
        };
        pinned(
            question(host),
            r#"{"question":{"advance":true,"flagged":false,"id":"q1","session":"keynote","state":"pending","text":"Why?","votes":2},"type":"question"}"#,
        );
        let public = [PublicQuestion {
            advance: false,
            answered: true,
            id: "q1",
            session: None,
            text: "Why?",
            votes: 2,
        }];
        pinned(
            questions(&public, 4),
            r#"{"questions":[{"advance":false,"answered":true,"id":"q1","session":null,"text":"Why?","votes":2}],"total":4,"type":"questions"}"#,
        );
        let card_value = Card {
            name: None,
            role: Some("Peer worker".into()),
            organisation: "York Mind".into(),
            service: "Café".into(),
            offer: "Drop-in".into(),
            referral: "Self".into(),
            contact: "01904".into(),
        };
        pinned(
            card(CardView::host(&card_value, "c1", "approved", true)),
            concat!(
                r#"{"card":{"contact":"01904","flagged":true,"id":"c1","offer":"Drop-in","#,
                r#""organisation":"York Mind","referral":"Self","role":"Peer worker","#,
                r#""service":"Café","state":"approved"},"type":"card"}"#
            ),
        );
        pinned(
            directory(&[CardView::public(&card_value, "c1")]),
            concat!(
                r#"{"cards":[{"contact":"01904","id":"c1","offer":"Drop-in","#,
                r#""organisation":"York Mind","referral":"Self","role":"Peer worker","#,
                r#""service":"Café"}],"type":"directory"}"#
            ),
        );
        let item = Text {
            activity: "concern",
            concern: None,
            flagged: false,
            id: "t2",
            replaces: Some("t1"),
            state: "pending",
            text: "Hi",
        };
        pinned(
            text(&item),
            r#"{"activity":"concern","flagged":false,"id":"t2","replaces":"t1","state":"pending","text":"Hi","type":"text"}"#,
        );
        pinned(
            wall(
                "concern",
                &[WallText {
                    id: "t2",
                    text: "Hi",
                }],
            ),
            r#"{"activity":"concern","texts":[{"id":"t2","text":"Hi"}],"type":"wall"}"#,
        );
        let by_organisation = BTreeMap::from([("York Mind".to_owned(), 2)]);
        let by_sector = BTreeMap::from([("Mental health".to_owned(), 2)]);
        pinned(
            host_attendance(&HostAttendance {
                by_organisation: &by_organisation,
                by_sector: &by_sector,
                joined: 3,
                peak: 2,
                present: 2,
                rooms: BTreeMap::from([("Room A".to_owned(), 1)]),
            }),
            concat!(
                r#"{"by_organisation":{"York Mind":2},"by_sector":{"Mental health":2},"#,
                r#""joined":3,"peak":2,"present":2,"rooms":{"Room A":1},"type":"attendance"}"#
            ),
        );
        pinned(
            presenter_attendance(&PresenterAttendance {
                joined: 3,
                present: 2,
            }),
            r#"{"joined":3,"present":2,"type":"attendance"}"#,
        );
    }

    #[test]
    fn a_welcome_is_known_by_its_beginning() {
        let current = Current::default();
        let rest = Welcome {
            answers: BTreeMap::new(),
            current: &current,
            directory: Vec::new(),
            open: Vec::new(),
            phase: "live",
            profile: Profile {
                organisation: None,
                room: None,
                sector: None,
            },
            questions: Vec::new(),
            questions_total: 0,
            results: BTreeMap::new(),
            voted: Vec::new(),
        };
        let frame = welcome("ab", r#"{"title":"T"}"#, &rest);
        pinned(
            frame.clone(),
            concat!(
                r#"{"type":"welcome","attendee":"ab","state":"live","event":{"title":"T"},"#,
                r#""answers":{},"current":{"plenary":null,"rooms":{}},"directory":[],"open":[],"#,
                r#""phase":"live","profile":{"organisation":null,"room":null,"sector":null},"#,
                r#""questions":[],"questions_total":0,"results":{},"voted":[]}"#
            ),
        );
        assert!(is_welcome(&frame));
        assert!(!is_welcome(&ok("open", None)));
    }
}
