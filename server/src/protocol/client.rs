//! Messages from attendees and hosts. Decoding never panics: a frame that does not decode
//! becomes a [`DecodeError`] that the connection answers with `error invalid_message`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The longest client message id accepted (a UUID is 36 characters).
pub const MAX_ID: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    Hello {
        #[serde(default)]
        attendee: Option<String>,
        #[serde(default)]
        organisation: Option<String>,
        #[serde(default)]
        sector: Option<String>,
        #[serde(default)]
        room: Option<String>,
    },
    Profile {
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        organisation: Option<String>,
        #[serde(default)]
        sector: Option<String>,
        #[serde(default)]
        room: Option<String>,
    },
    Answer {
        id: String,
        activity: String,
        value: Value,
    },
    Ask {
        id: String,
        text: String,
        /// The session the question is for: absent, the attendee's current session; null,
        /// the event as a whole; else a session key.
        #[serde(
            default,
            deserialize_with = "present",
            skip_serializing_if = "Option::is_none"
        )]
        session: Option<Option<String>>,
    },
    Upvote {
        id: String,
        question: String,
    },
    Card {
        id: String,
        card: Value,
    },
    /// A reaction ("slow down", "agree"): counted for the host, never stored.
    React {
        #[serde(default)]
        id: Option<String>,
        reaction: String,
    },
}

impl ClientMsg {
    /// The client's id for this message, when it has one.
    pub fn id(&self) -> Option<&str> {
        match self {
            ClientMsg::Hello { .. } => None,
            ClientMsg::Profile { id, .. } | ClientMsg::React { id, .. } => id.as_deref(),
            ClientMsg::Answer { id, .. }
            | ClientMsg::Ask { id, .. }
            | ClientMsg::Upvote { id, .. }
            | ClientMsg::Card { id, .. } => Some(id),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Question,
    Text,
    Card,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModAction {
    Approve,
    Hide,
    Answered,
}

/// Host commands. `id` is echoed in the `ok` or `error` that answers the command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum HostMsg {
    Auth {
        token: String,
    },
    Open {
        #[serde(default)]
        id: Option<Value>,
        activity: String,
    },
    Close {
        #[serde(default)]
        id: Option<Value>,
        activity: String,
    },
    Reveal {
        #[serde(default)]
        id: Option<Value>,
        activity: String,
        show: bool,
    },
    Focus {
        #[serde(default)]
        id: Option<Value>,
        activity: Option<String>,
    },
    /// One item in `target`, or several of one kind in `targets` (a batch: all are changed,
    /// or, if any is unknown, none).
    Moderate {
        #[serde(default)]
        id: Option<Value>,
        item: ItemKind,
        #[serde(default)]
        target: Option<String>,
        #[serde(default)]
        targets: Option<Vec<String>>,
        action: ModAction,
    },
    End {
        #[serde(default)]
        id: Option<Value>,
        /// The phase this `end` is meant to leave (`before`, `live` or `after`): when the
        /// event has already left it (a second press, a retry), `ok` and no further step.
        #[serde(default)]
        from: Option<String>,
    },
    /// Shows the reactions on the presenter's screen, or takes them off.
    ShowReactions {
        #[serde(default)]
        id: Option<Value>,
        show: bool,
    },
    /// Starts the live part of an event before its `starts_at`.
    Start {
        #[serde(default)]
        id: Option<Value>,
    },
    /// Makes a session current (a talk without activities has a Q&A too); `null` clears
    /// the plenary's current session, or with `room` that room's.
    Session {
        #[serde(default)]
        id: Option<Value>,
        session: Option<String>,
        #[serde(default)]
        room: Option<String>,
    },
}

impl HostMsg {
    /// Whether the command changes the event's phase (ends it): what a moderator may not
    /// do. Every command must say, so a new one is never open to moderators by accident.
    pub fn changes_phase(&self) -> bool {
        match self {
            HostMsg::End { .. } | HostMsg::Start { .. } => true,
            // Like opening an activity, a session runs the show (and may start the
            // event before its day, as an `open` does).
            HostMsg::Session { .. } => false,
            HostMsg::Auth { .. }
            | HostMsg::Open { .. }
            | HostMsg::Close { .. }
            | HostMsg::Reveal { .. }
            | HostMsg::Focus { .. }
            | HostMsg::Moderate { .. }
            | HostMsg::ShowReactions { .. } => false,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            HostMsg::Auth { .. } => "auth",
            HostMsg::Open { .. } => "open",
            HostMsg::Close { .. } => "close",
            HostMsg::Reveal { .. } => "reveal",
            HostMsg::Focus { .. } => "focus",
            HostMsg::Moderate { .. } => "moderate",
            HostMsg::End { .. } => "end",
            HostMsg::ShowReactions { .. } => "show_reactions",
            HostMsg::Start { .. } => "start",
            HostMsg::Session { .. } => "session",
        }
    }

    pub fn id(&self) -> Option<&Value> {
        match self {
            HostMsg::Auth { .. } => None,
            HostMsg::Open { id, .. }
            | HostMsg::Close { id, .. }
            | HostMsg::Reveal { id, .. }
            | HostMsg::Focus { id, .. }
            | HostMsg::Moderate { id, .. }
            | HostMsg::End { id, .. }
            | HostMsg::Start { id }
            | HostMsg::Session { id, .. }
            | HostMsg::ShowReactions { id, .. } => id.as_ref(),
        }
    }
}

/// Why a frame did not decode, with the message id when one could be read.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    pub id: Option<Value>,
    pub message: String,
}

const CLIENT_TYPES: &[&str] = &[
    "hello", "profile", "answer", "ask", "upvote", "card", "react",
];
const HOST_TYPES: &[&str] = &[
    "auth",
    "open",
    "close",
    "reveal",
    "focus",
    "moderate",
    "end",
    "show_reactions",
    "start",
    "session",
];

pub fn decode_client(text: &str) -> Result<ClientMsg, DecodeError> {
    let decoded = match serde_json::from_str::<Flat>(text)
        .ok()
        .and_then(Flat::assemble)
    {
        Some(msg) => Ok(msg),
        // Not one well-formed message: serde's own reading gives the reason.
        None => serde_json::from_str::<ClientMsg>(text),
    };
    match decoded {
        Ok(msg) => {
            if let Some(id) = msg.id()
                && (id.is_empty() || id.len() > MAX_ID || id.chars().any(char::is_control))
            {
                return Err(DecodeError {
                    id: None,
                    message: format!(
                        "id must be 1 to {MAX_ID} characters, with no control characters"
                    ),
                });
            }
            Ok(msg)
        }
        Err(error) => Err(explain(text, &error, CLIENT_TYPES)),
    }
}

/// Every field of every client message, read in one pass.
///
/// serde reads an internally tagged enum (`"type"` beside the fields) twice: into a buffer of
/// its own, allocating for every key and string, then from the buffer into the variant. A
/// plain struct is read straight from the text. [`Flat::assemble`] accepts only a message
/// whose fields are exactly its type's; anything else is read again as a [`ClientMsg`], so
/// what is accepted, and every error, stays serde's.
///
/// Each field is `None` when absent and `Some(None)` when null: a null field of another
/// type is still a field serde refuses.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Flat<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(default, deserialize_with = "present")]
    id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    activity: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    value: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    attendee: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    organisation: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    sector: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    room: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    text: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    question: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    card: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    reaction: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    session: Option<Option<String>>,
}

/// A field that is in the message, null or not.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl Flat<'_> {
    fn assemble(self) -> Option<ClientMsg> {
        const ID: u16 = 1;
        const ACTIVITY: u16 = 1 << 1;
        const VALUE: u16 = 1 << 2;
        const ATTENDEE: u16 = 1 << 3;
        const PROFILE: u16 = 1 << 4;
        const TEXT: u16 = 1 << 5;
        const QUESTION: u16 = 1 << 6;
        const CARD: u16 = 1 << 7;
        const REACTION: u16 = 1 << 8;
        const SESSION: u16 = 1 << 9;
        let Flat {
            kind,
            id,
            activity,
            value,
            attendee,
            organisation,
            sector,
            room,
            text,
            question,
            card,
            reaction,
            session,
        } = self;
        let fields = [
            (id.is_some(), ID),
            (activity.is_some(), ACTIVITY),
            (value.is_some(), VALUE),
            (attendee.is_some(), ATTENDEE),
            (organisation.is_some(), PROFILE),
            (sector.is_some(), PROFILE),
            (room.is_some(), PROFILE),
            (text.is_some(), TEXT),
            (question.is_some(), QUESTION),
            (card.is_some(), CARD),
            (reaction.is_some(), REACTION),
            (session.is_some(), SESSION),
        ];
        let given = fields
            .iter()
            .filter(|(is, _)| *is)
            .fold(0, |given, (_, bit)| given | bit);
        let only = |allowed: u16| given & !allowed == 0;
        // Optional fields may be absent or null; a required one must hold a value (serde
        // refuses, or for `value` accepts, a null: that is left to it).
        match &*kind {
            "hello" if only(ATTENDEE | PROFILE) => Some(ClientMsg::Hello {
                attendee: attendee.flatten(),
                organisation: organisation.flatten(),
                sector: sector.flatten(),
                room: room.flatten(),
            }),
            "profile" if only(ID | PROFILE) => Some(ClientMsg::Profile {
                id: id.flatten(),
                organisation: organisation.flatten(),
                sector: sector.flatten(),
                room: room.flatten(),
            }),
            "answer" if only(ID | ACTIVITY | VALUE) => Some(ClientMsg::Answer {
                id: id??,
                activity: activity??,
                value: value??,
            }),
            "ask" if only(ID | TEXT | SESSION) => Some(ClientMsg::Ask {
                id: id??,
                text: text??,
                session,
            }),
            "upvote" if only(ID | QUESTION) => Some(ClientMsg::Upvote {
                id: id??,
                question: question??,
            }),
            "card" if only(ID | CARD) => Some(ClientMsg::Card {
                id: id??,
                card: card??,
            }),
            "react" if only(ID | REACTION) => Some(ClientMsg::React {
                id: id.flatten(),
                reaction: reaction??,
            }),
            _ => None,
        }
    }
}

pub fn decode_host(text: &str) -> Result<HostMsg, DecodeError> {
    serde_json::from_str::<HostMsg>(text).map_err(|error| explain(text, &error, HOST_TYPES))
}

/// Turns serde's error into a sentence a developer can act on, naming what was wrong.
fn explain(text: &str, error: &serde_json::Error, known: &[&str]) -> DecodeError {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => {
            return DecodeError {
                id: None,
                message: format!("not valid JSON: {}", strip_position(&e.to_string())),
            };
        }
    };
    let Some(object) = value.as_object() else {
        return DecodeError {
            id: None,
            message: "a message is a JSON object with a \"type\"".to_owned(),
        };
    };
    let id = object
        .get("id")
        .filter(|v| v.is_string() || v.is_number())
        .cloned();
    let message = match object.get("type") {
        None => "missing field \"type\"".to_owned(),
        Some(Value::String(t)) if !known.contains(&t.as_str()) => {
            format!(
                "unknown message type {t:?}; expected one of {}",
                known.join(", ")
            )
        }
        Some(Value::String(t)) => format!("{t}: {}", strip_position(&error.to_string())),
        Some(_) => "\"type\" must be a string".to_owned(),
    };
    DecodeError { id, message }
}

fn strip_position(message: &str) -> String {
    message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_client_message() {
        let frames = [
            r#"{"type":"hello","attendee":null}"#,
            r#"{"type":"hello","attendee":"abc","organisation":"York Mind","sector":"Mental health","room":"Room A"}"#,
            r#"{"type":"profile","id":"p1","organisation":"York Mind","sector":"Mental health"}"#,
            r#"{"type":"answer","id":"a1","activity":"role","value":[1]}"#,
            r#"{"type":"ask","id":"q1","text":"Why?"}"#,
            r#"{"type":"ask","id":"q2","text":"Why?","session":"keynote"}"#,
            r#"{"type":"ask","id":"q3","text":"Why?","session":null}"#,
            r#"{"type":"upvote","id":"u1","question":"abc"}"#,
            r#"{"type":"card","id":"c1","card":{"organisation":"x"}}"#,
            r#"{"type":"react","id":"r1","reaction":"slow_down"}"#,
            r#"{"type":"react","reaction":"agree"}"#,
        ];
        for frame in frames {
            assert!(decode_client(frame).is_ok(), "{frame}");
        }
    }

    #[test]
    fn the_one_pass_reading_takes_exactly_what_serde_takes() {
        let frames = [
            r#"{"type":"hello","attendee":null}"#,
            r#"{"type":"hello","attendee":"abc","organisation":"York Mind","sector":"Mental health","room":"Room A"}"#,
            r#"{"type":"profile","id":"p1","organisation":"York Mind","sector":"Mental health"}"#,
            r#"{"type":"profile","id":null}"#,
            r#"{"type":"answer","id":"a1","activity":"role","value":[1]}"#,
            r#"{"type":"answer","id":"a\u0031","activity":"r\"ole","value":{"a":[1,"x"]}}"#,
            r#"{"type":"ask","id":"q1","text":"Why?"}"#,
            r#"{"type":"upvote","id":"u1","question":"abc"}"#,
            r#"{"type":"card","id":"c1","card":{"organisation":"x"}}"#,
            // Fields of another type, nulls where a value is required, and repeats: each
            // is left to serde, which refuses or (for a null value) accepts it.
            r#"{"type":"answer","id":"a1","activity":"role","value":null}"#,
            r#"{"type":"answer","id":"a1","activity":"role","value":[1],"text":"x"}"#,
            r#"{"type":"ask","id":"q1","text":"Why?","question":"abc"}"#,
            r#"{"type":"hello","id":"h1"}"#,
            r#"{"type":"answer","id":"a1","id":"a2","activity":"role","value":[1]}"#,
            r#"{"type":"upvote","id":null,"question":"abc"}"#,
            r#"{"type":"answer","id":"a1","activity":"role","value":[1],"text":null}"#,
            r#"{"type":"hello","attendee":null,"card":null}"#,
            r#"{"type":"react","id":"r1","reaction":"agree"}"#,
            r#"{"type":"react","id":null,"reaction":"agree"}"#,
            r#"{"type":"react","reaction":null}"#,
            r#"{"type":"react","reaction":"agree","value":1}"#,
            r#"{"type":"ask","id":"q1","text":"Why?","session":"keynote"}"#,
            r#"{"type":"ask","id":"q1","text":"Why?","session":null}"#,
            r#"{"type":"ask","id":"q1","text":"Why?","session":3}"#,
            r#"{"type":"upvote","id":"u1","question":"abc","session":"keynote"}"#,
        ];
        for frame in frames {
            let fast = serde_json::from_str::<Flat>(frame)
                .ok()
                .and_then(Flat::assemble);
            let serde = serde_json::from_str::<ClientMsg>(frame).ok();
            if fast.is_some() {
                assert_eq!(fast, serde, "{frame}");
            }
            assert_eq!(
                decode_client(frame).ok(),
                serde.filter(|m| m.id().is_none_or(|id| !id.is_empty())),
                "{frame}"
            );
        }
        assert!(matches!(
            serde_json::from_str::<Flat>(
                r#"{"type":"answer","id":"a1","activity":"role","value":[1]}"#
            )
            .ok()
            .and_then(Flat::assemble),
            Some(ClientMsg::Answer { .. })
        ));
    }

    #[test]
    fn explains_what_is_wrong() {
        let cases = [
            ("{nope", "not valid JSON"),
            ("[1,2]", "JSON object"),
            (r#"{"id":"x"}"#, "missing field \"type\""),
            (r#"{"type":"dance"}"#, "unknown message type \"dance\""),
            (
                r#"{"type":"answer","activity":"role","value":[1]}"#,
                "missing field `id`",
            ),
            (
                r#"{"type":"answer","id":7,"activity":"role","value":[1]}"#,
                "answer: invalid type",
            ),
            (r#"{"type":5}"#, "must be a string"),
        ];
        for (frame, expected) in cases {
            let error = decode_client(frame).expect_err(frame);
            assert!(
                error.message.contains(expected),
                "{frame}: {}",
                error.message
            );
        }
    }

    #[test]
    fn keeps_the_id_of_a_message_that_fails() {
        let error =
            decode_client(r#"{"type":"answer","id":"a9","value":[1]}"#).expect_err("no activity");
        assert_eq!(error.id, Some(Value::from("a9")));
    }

    #[test]
    fn refuses_empty_or_huge_ids() {
        assert!(decode_client(r#"{"type":"ask","id":"","text":"x"}"#).is_err());
        let long = format!(r#"{{"type":"ask","id":"{}","text":"x"}}"#, "i".repeat(101));
        assert!(decode_client(&long).is_err());
    }

    #[test]
    fn decodes_host_commands() {
        assert!(matches!(
            decode_host(r#"{"type":"auth","token":"t"}"#),
            Ok(HostMsg::Auth { .. })
        ));
        assert!(matches!(
            decode_host(
                r#"{"type":"moderate","id":3,"item":"question","target":"q","action":"approve"}"#
            ),
            Ok(HostMsg::Moderate {
                item: ItemKind::Question,
                action: ModAction::Approve,
                ..
            })
        ));
        assert!(matches!(
            decode_host(r#"{"type":"focus","activity":null}"#),
            Ok(HostMsg::Focus { activity: None, .. })
        ));
        assert!(decode_host(r#"{"type":"reveal","activity":"x"}"#).is_err());
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const VALID: &[&str] = &[
        r#"{"type":"hello","attendee":null,"organisation":"York Mind","room":"Room A"}"#,
        r#"{"type":"profile","id":"p1","organisation":"York Mind","sector":"Mental health"}"#,
        r#"{"type":"answer","id":"a1","activity":"role","value":[1]}"#,
        r#"{"type":"answer","id":"a2","activity":"barrier-word","value":["trust","waiting lists"]}"#,
        r#"{"type":"ask","id":"q1","text":"Why?"}"#,
        r#"{"type":"upvote","id":"u1","question":"abc"}"#,
        r#"{"type":"card","id":"c1","card":{"organisation":"x","service":"s","offer":"o","referral":"r","contact":"c"}}"#,
        r#"{"type":"auth","token":"t"}"#,
        r#"{"type":"moderate","id":3,"item":"question","target":"q","action":"approve"}"#,
        r#"{"type":"reveal","id":"r","activity":"role","show":true}"#,
    ];

    /// A valid frame with bytes cut out, characters put in, or a span replaced.
    fn mutated() -> impl Strategy<Value = String> {
        (
            0..VALID.len(),
            0usize..400,
            0usize..8,
            any::<char>(),
            prop::collection::vec(any::<u8>(), 0..6),
        )
            .prop_map(|(which, at, cut, ch, junk)| {
                let mut chars: Vec<char> = VALID[which].chars().collect();
                let at = at % (chars.len() + 1);
                let end = (at + cut).min(chars.len());
                chars.drain(at..end);
                chars.insert(at.min(chars.len()), ch);
                let mut text: String = chars.into_iter().collect();
                text.push_str(&String::from_utf8_lossy(&junk));
                text
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_text_never_panics_and_always_explains(text in ".{0,300}") {
            if let Err(e) = decode_client(&text) {
                prop_assert!(!e.message.is_empty());
            }
            if let Err(e) = decode_host(&text) {
                prop_assert!(!e.message.is_empty());
            }
        }

        #[test]
        fn mutated_frames_decode_or_explain(text in mutated()) {
            match decode_client(&text) {
                Ok(msg) => {
                    if let Some(id) = msg.id() {
                        prop_assert!(!id.is_empty() && id.len() <= MAX_ID);
                    }
                }
                Err(e) => prop_assert!(!e.message.is_empty()),
            }
            if let Err(e) = decode_host(&text) {
                prop_assert!(!e.message.is_empty());
            }
        }

        #[test]
        fn the_one_pass_reading_agrees_with_serde(text in mutated()) {
            if let Some(fast) = serde_json::from_str::<Flat>(&text).ok().and_then(Flat::assemble) {
                prop_assert_eq!(Some(fast), serde_json::from_str::<ClientMsg>(&text).ok(), "{}", text);
            }
        }

        #[test]
        fn deep_nesting_is_refused_not_overflowed(depth in 1usize..5000) {
            let text = format!(r#"{{"type":"answer","id":"x","activity":"role","value":{}1{}}}"#, "[".repeat(depth), "]".repeat(depth));
            let _ = decode_client(&text);
        }
    }
}
