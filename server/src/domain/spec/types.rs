//! The spec as an organiser writes it: every field, its serde name and its default when
//! absent. Decoding refuses unknown fields (a typo'd spec should not half-work), but checks
//! no rule: that is `validate.rs` and `activity.rs`, which turn an [`EventSpec`] into an
//! [`Event`](super::Event).

use serde::{Deserialize, Serialize};

use super::{DEFAULT_MAX_ATTENDEES, Kind, Labels, Phase};
use crate::domain::phase::{QaScope, Window};
use crate::domain::safeguarding::SafeguardingSpec;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<String>,
    /// From when, before `starts_at`, the event takes questions and opens its
    /// `window: "before"` activities ([`crate::domain::phase`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<String>,
    /// The end of the after window the host's `end` opens ([`crate::domain::phase`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes_at: Option<String>,
    /// A rehearsal (a dry run, a copy for testing) is never compared with other editions of
    /// its series, in either direction.
    #[serde(default, skip_serializing_if = "is_false")]
    pub rehearsal: bool,
    /// Who runs the event and answers for its data (the privacy notice's "who we are").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organiser: Option<String>,
    /// How attendees reach the organiser about their data: an email address, a phone
    /// number or a web page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default)]
    pub organisations: Vec<OrganisationSpec>,
    #[serde(default)]
    pub sectors: Vec<String>,
    #[serde(default = "default_true")]
    pub allow_other_organisation: bool,
    #[serde(default = "default_min_group_size")]
    pub min_group_size: u32,
    /// The most attendees the event takes; a `hello` past it is refused with
    /// `limit_reached`. Resuming attendees are never refused.
    #[serde(default = "default_max_attendees")]
    pub max_attendees: u32,
    /// The most distinct organisation names attendees may type that are not in
    /// `organisations` (with `allow_other_organisation`); a new one past it is refused with
    /// `limit_reached`. Names already typed can still be chosen.
    #[serde(default = "default_max_other_organisations")]
    pub max_other_organisations: u32,
    /// The most distinct sector names attendees may type when the event has no list of
    /// `sectors`; a new one past it is refused with `limit_reached`. Names already typed
    /// can still be chosen.
    #[serde(default = "default_max_other_sectors")]
    pub max_other_sectors: u32,
    #[serde(default)]
    pub qa: QaSpec,
    #[serde(default)]
    pub directory: DirectorySpec,
    /// The safeguarding lead and the support card (see [`crate::domain::safeguarding`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safeguarding: Option<SafeguardingSpec>,
    /// The reactions attendees may send at any time (keys of
    /// [`crate::domain::reaction::REACTIONS`]), in the order their buttons show; `[]` turns
    /// reactions off.
    #[serde(default = "crate::domain::reaction::default_reactions")]
    pub reactions: Vec<String>,
    /// Where the attendee page may be shown inside a frame (beside a video stream).
    #[serde(default, skip_serializing_if = "EmbedSpec::is_empty")]
    pub embed: EmbedSpec,
    pub sessions: Vec<SessionSpec>,
    /// The organiser's introduction to the post-event report, in their own words (plain
    /// text; a blank line starts a new paragraph).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduction: Option<String>,
    /// What the organiser says will happen next, for the report; the next edition's report
    /// shows it beside that edition's findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_steps: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationSpec {
    pub name: String,
    pub sector: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QaSpec {
    #[serde(default = "default_true")]
    pub enabled: bool,
    #[serde(default)]
    pub moderation: Moderation,
    /// The most open questions (waiting for the host, or shown and not yet answered) one
    /// attendee may have in the current session at once.
    #[serde(default = "default_max_open_questions")]
    pub max_open_questions: u32,
    /// Whether each question belongs to a session (the default) or to the event as a whole.
    #[serde(default)]
    pub scope: QaScope,
}

impl Default for QaSpec {
    fn default() -> Self {
        QaSpec {
            enabled: true,
            moderation: Moderation::Pre,
            max_open_questions: default_max_open_questions(),
            scope: QaScope::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DirectorySpec {
    #[serde(default = "default_true")]
    pub enabled: bool,
}

impl Default for DirectorySpec {
    fn default() -> Self {
        DirectorySpec { enabled: true }
    }
}

/// The sites whose pages may frame the attendee page. Empty: no site may (only Joinup's own
/// pages). Each entry is an `https` origin, `https://host` or `https://host:port`, nothing
/// more (no path, wildcard or query), so it can go into `frame-ancestors` as written;
/// `http` is accepted only for this machine (`http://localhost`, `http://127.0.0.1`), for
/// trying an embedding out.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedSpec {
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

impl EmbedSpec {
    fn is_empty(&self) -> bool {
        self.allowed_origins.is_empty()
    }
}

/// When a question (or text, or card) becomes visible to attendees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Moderation {
    /// Visible once the host approves it.
    #[default]
    Pre,
    /// Visible at once unless the host hides it.
    Post,
    /// Visible at once.
    None,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSpec {
    pub key: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default)]
    pub activities: Vec<ActivitySpec>,
}

/// One activity as written in a spec: every kind's fields, checked against the kind later.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ActivitySpec {
    pub key: String,
    pub kind: Kind,
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_choices: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_words: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_len: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Points: the budget each attendee shares out (default [`super::DEFAULT_BUDGET`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<u32>,
    /// Opens by itself before the event (`before`) or after it (`after`); absent, a host
    /// opens it during the live part. Not to be confused with `phase`, a pair's pre or post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
}

fn is_false(b: &bool) -> bool {
    !b
}

fn default_true() -> bool {
    true
}

fn default_min_group_size() -> u32 {
    5
}

fn default_max_attendees() -> u32 {
    DEFAULT_MAX_ATTENDEES
}

fn default_max_other_organisations() -> u32 {
    500
}

fn default_max_other_sectors() -> u32 {
    100
}

fn default_max_open_questions() -> u32 {
    5
}
