//! The event spec (docs/protocol.md, "The event spec"): parsing from JSON or TOML, and every rule enforced,
//! with errors that name the field by its path (`sessions[0].activities[2].options`).
//!
//! [`EventSpec`] is the wire shape as written by an organiser; [`Event`] is the validated
//! form the rest of the server works with. The spec is kept verbatim in the database, so an
//! event always rebuilds exactly as it was created.
//!
//! # Layout
//!
//! - `mod.rs` (here): [`SpecError`], the limits a spec must keep to, and the validated
//!   [`Event`] and [`Activity`].
//! - `types.rs`: the wire shape ([`EventSpec`] and its parts) and the defaults of absent
//!   fields; no rule is checked there.
//! - `parse.rs`: decoding JSON, TOML or a decoded value, with the failing field's path.
//! - `validate.rs`: the event-wide rules, in the order a reader checks them, and the
//!   programme (sessions, activity keys, rooms, pre/post pairs).
//! - `activity.rs`: one activity's key, prompt and the fields of its kind.
//! - `embed.rs`: the origins that may frame the attendee page.
//!
//! Only the rules live here; what an edit of a running event may change is `domain/edit.rs`,
//! and the phases and dates `domain/phase.rs`.

mod activity;
mod embed;
mod parse;
mod types;
mod validate;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::code::ActivityKey;
use super::phase::{Times, Window};

pub use embed::MAX_EMBED_ORIGINS;
pub use joinup_domain::kind::{ActivityKind, Kind, Labels, Phase};
pub use parse::{SpecFormat, parse_spec, parse_spec_value, parse_spec_value_all};
pub use types::{
    ActivitySpec, DirectorySpec, EmbedSpec, EventSpec, Moderation, OrganisationSpec, QaSpec,
    SessionSpec,
};
pub use validate::{validate, validate_all};

/// A rule the spec breaks: `path` names the field, `message` says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecError {
    pub path: String,
    pub message: String,
}

impl SpecError {
    /// A rule broken at `path`.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> SpecError {
        SpecError::new(path, message)
    }

    fn new(path: impl Into<String>, message: impl Into<String>) -> SpecError {
        SpecError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for SpecError {}

/// Forty times a large conference; the load tests set their own.
pub const DEFAULT_MAX_ATTENDEES: u32 = 10_000;
const MOST_ATTENDEES: u32 = 1_000_000;
const MOST_OTHER_ORGANISATIONS: u32 = 10_000;
const MOST_OPEN_QUESTIONS: u32 = 1_000;

/// Limits on free text in a spec, so that one file cannot make every page heavy.
pub const MAX_TITLE: usize = 200;
const MAX_PROMPT: usize = 500;
const MAX_NAME: usize = 120;
const MAX_OPTION: usize = 200;
const MAX_PLEDGE: usize = 2000;
/// The organiser's introduction and next steps, each.
const MAX_REPORT_TEXT: usize = 4000;
const MAX_ORGANISATIONS: usize = 500;
const MAX_SECTORS: usize = 50;
const MAX_SESSIONS: usize = 100;
const MAX_ACTIVITIES: usize = 200;
/// A ranking or a points activity has 2 to this many options: more is a chore on a phone.
const MOST_ORDERED_OPTIONS: usize = 10;
/// The points a points activity shares out unless its spec says otherwise.
pub const DEFAULT_BUDGET: u32 = 100;
const LEAST_BUDGET: u32 = 10;
const MOST_BUDGET: u32 = 1000;

/// A validated activity and where it sits in the programme.
#[derive(Debug, Clone)]
pub struct Activity {
    pub key: ActivityKey,
    pub prompt: String,
    pub session: String,
    pub room: Option<String>,
    pub kind: ActivityKind,
    /// When it opens by itself, if it does ([`super::phase`]).
    pub window: Option<Window>,
}

/// A validated event: the spec, plus the indexes the hub needs.
#[derive(Debug, Clone)]
pub struct Event {
    pub spec: EventSpec,
    /// Activities in programme order.
    pub activities: Vec<Activity>,
    /// Activity key to its index in `activities`.
    pub index: HashMap<String, usize>,
    /// Distinct rooms in programme order.
    pub rooms: Vec<String>,
    /// The spec's dates, read once.
    pub times: Times,
}

impl Event {
    pub fn activity(&self, key: &str) -> Option<&Activity> {
        self.index.get(key).map(|&i| &self.activities[i])
    }

    /// The registered organisation whose name matches `name`, ignoring case and spacing.
    pub fn registered_organisation(&self, name: &str) -> Option<&OrganisationSpec> {
        let wanted = super::names::fold(name);
        self.spec
            .organisations
            .iter()
            .find(|o| super::names::fold(&o.name) == wanted)
    }

    /// The sector spelled as the event spells it, matched ignoring case and spacing.
    pub fn sector(&self, name: &str) -> Option<&str> {
        let wanted = super::names::fold(name);
        self.spec
            .sectors
            .iter()
            .find(|s| super::names::fold(s) == wanted)
            .map(String::as_str)
    }

    pub fn has_room(&self, room: &str) -> bool {
        self.rooms.iter().any(|r| r == room)
    }
}
