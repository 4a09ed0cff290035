//! The report's input: everything the report may show about one event, and nothing that
//! links an answer to a person. Attendees are anonymous records (no id, no token, no time).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One event as the report sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub code: String,
    pub title: String,
    pub series: Option<String>,
    /// RFC 3339, from the spec.
    pub starts_at: Option<String>,
    /// RFC 3339: when the event was created, and when it ended (if it has).
    pub created_at: String,
    pub ended_at: Option<String>,
    /// `live` or `ended`.
    pub state: String,
    /// The phase the event was in: `before`, `live`, `after` or `closed`
    /// (docs/protocol.md, "Phases"); empty in a snapshot from before phases.
    #[serde(default)]
    pub phase: String,
    /// The small-group threshold `k` of the event.
    pub min_group_size: u64,
    /// The registered organisations, in spec order.
    pub organisations: Vec<Organisation>,
    pub sectors: Vec<String>,
    /// Distinct break-out rooms in programme order.
    pub rooms: Vec<String>,
    pub sessions: Vec<SessionDef>,
    /// Every activity in programme order.
    pub activities: Vec<ActivityDef>,
    /// Every attendee ever welcomed, with their current profile and current answers.
    pub attendees: Vec<AttendeeRecord>,
    /// The most attendees connected at once, as far as anyone saw.
    pub peak_present: u64,
    /// Attendance over the day, one sample a minute (`minute` is `YYYY-MM-DDTHH:MMZ`).
    pub presence: Vec<PresenceSample>,
    /// Every question asked, with its votes and moderation state.
    pub questions: Vec<QuestionRecord>,
    /// Every service card shared, with its moderation state.
    pub cards: Vec<CardRecord>,
    /// The organiser's own words from the spec: an introduction, and what happens next.
    #[serde(default)]
    pub introduction: Option<String>,
    #[serde(default)]
    pub next_steps: Option<String>,
    /// The host's names for themes of open text, by theme id (`themes::LEXICON`, or
    /// `other-topics`): a theme renamed; two ids given the same name are merged.
    #[serde(default)]
    pub theme_names: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Organisation {
    pub name: String,
    pub sector: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionDef {
    pub key: String,
    pub title: String,
    pub room: Option<String>,
}

/// An activity's definition. Fields that do not apply to its kind are empty or `None`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActivityDef {
    pub key: String,
    /// `choice`, `scale`, `words`, `text`, `pledge`, `ranking` or `points`.
    pub kind: String,
    pub prompt: String,
    pub session: String,
    pub room: Option<String>,
    /// choice, ranking and points: the option labels.
    pub options: Vec<String>,
    pub multiple: bool,
    /// scale: the range and its end labels.
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub label_min: Option<String>,
    pub label_max: Option<String>,
    /// scale: the topic that pairs a `pre` and a `post` scale, and which one this is.
    pub pair: Option<String>,
    pub phase: Option<String>,
    /// pledge: the pledge's text.
    pub pledge_text: Option<String>,
    /// points: the points each respondent shares out.
    #[serde(default)]
    pub budget: Option<u64>,
    /// `ready`, `open` or `closed`.
    pub state: String,
    /// `before` or `after` for an activity that opens by itself around the live part.
    #[serde(default)]
    pub window: Option<String>,
}

/// One attendee, anonymous. The same record holds their pre and post answers, which is
/// what lets the report pair them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttendeeRecord {
    pub organisation: Option<String>,
    pub sector: Option<String>,
    pub room: Option<String>,
    /// Current answers by activity key.
    pub answers: BTreeMap<String, Answer>,
    /// The organisation and sector each current answer was given under, by activity key:
    /// an answer counts where its attendee was when they gave it, never where they moved
    /// later. An answer missing here counts under the attendee's current profile.
    #[serde(default)]
    pub answered_as: BTreeMap<String, AnsweredAs>,
    /// Moderation state of each current text answer, by activity key: `pending`,
    /// `approved` or `hidden`. Only approved texts are quoted in a report.
    pub text_states: BTreeMap<String, String>,
}

/// The profile an answer was given under.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AnsweredAs {
    pub organisation: Option<String>,
    pub sector: Option<String>,
}

/// An answer in its normal form.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Option indexes, sorted.
    Choice(Vec<usize>),
    Scale(i64),
    /// Normalised entries (lower-case, trimmed), distinct.
    Words(Vec<String>),
    Text(String),
    Pledge,
    /// Every option index once, most important first.
    Ranking(Vec<usize>),
    /// Points per option, in option order.
    Points(Vec<u64>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PresenceSample {
    pub minute: String,
    pub present: u64,
    pub peak: u64,
    pub joined: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuestionRecord {
    pub text: String,
    pub votes: u64,
    /// `pending`, `approved`, `hidden` or `answered`.
    pub state: String,
    pub flagged: bool,
    /// The session it was asked in; `None`: the event as a whole.
    #[serde(default)]
    pub session: Option<String>,
    /// Asked before the live part.
    #[serde(default)]
    pub advance: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CardRecord {
    pub name: Option<String>,
    pub role: Option<String>,
    pub organisation: String,
    pub service: String,
    pub offer: String,
    pub referral: String,
    pub contact: String,
    /// `pending`, `approved` or `hidden`: only approved cards are shared in a report.
    pub state: String,
}
