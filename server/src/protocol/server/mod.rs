//! Server messages, encoded once into frames. A broadcast frame is encoded once and shared
//! by reference count among every connection that receives it.
//!
//! # Layout
//! Callers use `protocol::server::*` whichever file a frame lives in.
//! - `mod.rs`: [`Frame`], [`encode`], and the replies to one message: `ack`, `ok`,
//!   `error`, `authorised`. The golden tests pinning every frame's bytes are here too.
//! - `activity`: an activity's life and counts: opened, closed, results, tally, count,
//!   activity, focus, reactions.
//! - `posts`: what attendees post for others: questions, cards and the directory, texts
//!   and the wall, the support card.
//! - `state`: whole-state frames: attendance, `welcome`, `event`, host and presenter
//!   `snapshot`.
//!
//! Every file here only builds frames: no I/O, no state of its own.

mod activity;
mod posts;
mod state;

use bytes::Bytes;

use serde::Serialize;
use serde_json::Value;

use super::codes::ErrorCode;

pub use self::activity::*;
pub use self::posts::*;
pub use self::state::*;

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

/// A body with `"type"` added after its fields (which sort before `type`).
#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(flatten)]
    body: &'a T,
    r#type: &'static str,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::card::Card;
    use crate::domain::phase::Current;
    use crate::protocol::tally::TallyView;

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
