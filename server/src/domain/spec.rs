//! The event spec (docs/protocol.md, "The event spec"): parsing from JSON or TOML, and every rule enforced,
//! with errors that name the field by its path (`sessions[0].activities[2].options`).
//!
//! [`EventSpec`] is the wire shape as written by an organiser; [`Event`] is the validated
//! form the rest of the server works with. The spec is kept verbatim in the database, so an
//! event always rebuilds exactly as it was created.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::code::{ActivityKey, is_key};
use super::phase::{QaScope, Times, Window};
use super::safeguarding::{self, SafeguardingSpec};

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

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<String>,
    /// From when, before `starts_at`, the event takes questions and opens its
    /// `window: "before"` activities ([`super::phase`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<String>,
    /// The end of the after window the host's `end` opens ([`super::phase`]).
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
    /// The safeguarding lead and the support card (see [`super::safeguarding`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safeguarding: Option<SafeguardingSpec>,
    /// The reactions attendees may send at any time (keys of [`super::reaction::REACTIONS`]),
    /// in the order their buttons show; `[]` turns reactions off.
    #[serde(default = "super::reaction::default_reactions")]
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

/// The most origins an event may allow to frame its attendee page.
pub const MAX_EMBED_ORIGINS: usize = 10;

/// Whether `origin` is exactly `https://host` or `https://host:port`, lower case: a host of
/// DNS labels (letters, digits, hyphens; not starting or ending with a hyphen) with a dot, or
/// `localhost`, and a port of 1 to 65535. `http` only for `localhost` and `127.0.0.1`.
fn is_embed_origin(origin: &str) -> bool {
    let (rest, loopback_only) = if let Some(rest) = origin.strip_prefix("https://") {
        (rest, false)
    } else if let Some(rest) = origin.strip_prefix("http://") {
        (rest, true)
    } else {
        return false;
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && !p.starts_with('0')
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n))
    });
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let host_ok = host.len() <= 253
        && (host == "localhost" || (host.contains('.') && host.split('.').all(label_ok)));
    port_ok && host_ok && (!loopback_only || host == "localhost" || host == "127.0.0.1")
}

fn check_embed(embed: &EmbedSpec) -> Result<(), SpecError> {
    if embed.allowed_origins.len() > MAX_EMBED_ORIGINS {
        return Err(SpecError::new(
            "embed.allowed_origins",
            format!("at most {MAX_EMBED_ORIGINS} origins"),
        ));
    }
    let mut seen = HashSet::new();
    for (i, origin) in embed.allowed_origins.iter().enumerate() {
        let path = format!("embed.allowed_origins[{i}]");
        if !is_embed_origin(origin) {
            return Err(SpecError::new(
                path,
                format!(
                    "{origin:?} is not an https origin: write it as https://host or https://host:port, \
                     in lower case, with no path, wildcard or trailing slash"
                ),
            ));
        }
        if !seen.insert(origin.as_str()) {
            return Err(SpecError::new(
                path,
                format!("origin {origin:?} is listed twice"),
            ));
        }
    }
    Ok(())
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

/// An activity's `kind` as written in a spec, before the fields that go with it are
/// checked. Once checked, an activity's kind with its settings is an [`ActivityKind`]: the
/// rest of the server sees only that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Choice,
    Scale,
    Words,
    Text,
    Pledge,
    /// Put every option in order of preference.
    Ranking,
    /// Share a budget of points (100 by default) across the options.
    Points,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Choice => "choice",
            Kind::Scale => "scale",
            Kind::Words => "words",
            Kind::Text => "text",
            Kind::Pledge => "pledge",
            Kind::Ranking => "ranking",
            Kind::Points => "points",
        }
    }

    /// Kinds whose closed tallies hosts see by sector, under the small-group rule.
    pub fn has_breakdown(self) -> bool {
        matches!(
            self,
            Kind::Choice | Kind::Scale | Kind::Ranking | Kind::Points
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Pre,
    Post,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
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
    /// Points: the budget each attendee shares out (default [`DEFAULT_BUDGET`]).
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

/// Forty times a large conference; the load tests set their own.
pub const DEFAULT_MAX_ATTENDEES: u32 = 10_000;
const MOST_ATTENDEES: u32 = 1_000_000;
const MOST_OTHER_ORGANISATIONS: u32 = 10_000;
const MOST_OPEN_QUESTIONS: u32 = 1_000;

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

#[derive(Debug, Clone, PartialEq)]
pub enum ActivityKind {
    Choice {
        options: Vec<String>,
        multiple: bool,
        max_choices: Option<u32>,
    },
    Scale {
        min: i64,
        max: i64,
        labels: Option<Labels>,
        pair: Option<(String, Phase)>,
    },
    Words {
        max_words: u32,
    },
    Text {
        max_len: u32,
    },
    Pledge {
        text: String,
    },
    /// Every option put in order, first the most important.
    Ranking {
        options: Vec<String>,
    },
    /// `budget` points shared across the options, all of them spent.
    Points {
        options: Vec<String>,
        budget: u32,
    },
}

impl ActivityKind {
    /// The kind's name, as written in a spec and sent to clients: `"choice"`, `"scale"`...
    pub fn name(&self) -> &'static str {
        self.written().as_str()
    }

    /// Whether hosts see this kind's closed tallies by sector, under the small-group rule.
    pub fn has_breakdown(&self) -> bool {
        self.written().has_breakdown()
    }

    /// The kind as written in a spec.
    fn written(&self) -> Kind {
        match self {
            ActivityKind::Choice { .. } => Kind::Choice,
            ActivityKind::Scale { .. } => Kind::Scale,
            ActivityKind::Words { .. } => Kind::Words,
            ActivityKind::Text { .. } => Kind::Text,
            ActivityKind::Pledge { .. } => Kind::Pledge,
            ActivityKind::Ranking { .. } => Kind::Ranking,
            ActivityKind::Points { .. } => Kind::Points,
        }
    }
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

/// Which format a spec file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecFormat {
    Json,
    Toml,
}

/// Parses and validates a spec written as JSON or TOML.
pub fn parse_spec(text: &str, format: SpecFormat) -> Result<Event, SpecError> {
    let spec: EventSpec = match format {
        SpecFormat::Json => {
            let de = &mut serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                SpecError::new(path_of(e.path()), describe_serde(&e.inner().to_string()))
            })?
        }
        SpecFormat::Toml => {
            let de = toml::Deserializer::parse(text)
                .map_err(|e| SpecError::new("", format!("not valid TOML: {}", e.message())))?;
            serde_path_to_error::deserialize(de)
                .map_err(|e| SpecError::new(path_of(e.path()), e.inner().message().to_owned()))?
        }
    };
    validate(spec)
}

/// Validates a spec already decoded (the body of `POST /api/events`).
pub fn parse_spec_value(value: Value) -> Result<Event, SpecError> {
    let spec: EventSpec = serde_path_to_error::deserialize(value)
        .map_err(|e| SpecError::new(path_of(e.path()), describe_serde(&e.inner().to_string())))?;
    validate(spec)
}

/// Like [`parse_spec_value`], with every rule broken ([`validate_all`]); a body that does
/// not decode as a spec gives the one error decoding stops at.
pub fn parse_spec_value_all(value: Value) -> Result<Event, Vec<SpecError>> {
    let spec: EventSpec = serde_path_to_error::deserialize(value).map_err(|e| {
        vec![SpecError::new(
            path_of(e.path()),
            describe_serde(&e.inner().to_string()),
        )]
    })?;
    validate_all(spec)
}

fn path_of(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    if text == "." { String::new() } else { text }
}

/// serde_json appends " at line L column C" to its messages; the path already says where.
fn describe_serde(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

fn check_text(path: &str, value: &str, what: &str, max: usize) -> Result<(), SpecError> {
    if value.trim().is_empty() {
        return Err(SpecError::new(path, format!("{what} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(SpecError::new(
            path,
            format!("{what} must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// One end of a pre/post pair: the activity's path and its scale's range.
type PairEnd = (String, i64, i64);

/// Every rule of the event spec; the first rule broken, for callers that show one.
pub fn validate(spec: EventSpec) -> Result<Event, SpecError> {
    validate_all(spec).map_err(|found| {
        found
            .into_iter()
            .next()
            .unwrap_or_else(|| SpecError::new("", "the spec is not valid"))
    })
}

/// What [`validate_all`] has found so far.
#[derive(Default)]
struct Found(Vec<SpecError>);

impl Found {
    fn push(&mut self, e: SpecError) {
        self.0.push(e);
    }

    fn note(&mut self, checked: Result<(), SpecError>) {
        if let Err(e) = checked {
            self.0.push(e);
        }
    }
}

/// Every rule of the event spec, in the order a reader would check them: every rule broken,
/// each with the path of its field, in that order (never empty), so a form can show each
/// beside its field. Within one activity, a broken key or prompt and the first broken rule
/// of its kind.
pub fn validate_all(spec: EventSpec) -> Result<Event, Vec<SpecError>> {
    let mut errs = Found::default();
    errs.note(check_text("title", &spec.title, "the title", MAX_TITLE));
    if let Some(section) = &spec.safeguarding {
        errs.note(
            safeguarding::validate(section)
                .map_err(|(path, message)| SpecError::new(path, message)),
        );
    }
    if let Some(series) = &spec.series {
        errs.note(check_text("series", series, "the series", MAX_NAME));
    }
    if let Some(organiser) = &spec.organiser {
        errs.note(check_text(
            "organiser",
            organiser,
            "the organiser",
            MAX_TITLE,
        ));
    }
    if let Some(contact) = &spec.contact {
        errs.note(check_text("contact", contact, "the contact", MAX_TITLE));
    }
    if let Some(text) = &spec.introduction {
        errs.note(check_text(
            "introduction",
            text,
            "the introduction",
            MAX_REPORT_TEXT,
        ));
    }
    if let Some(text) = &spec.next_steps {
        errs.note(check_text(
            "next_steps",
            text,
            "the next steps",
            MAX_REPORT_TEXT,
        ));
    }
    for (path, date) in [
        ("starts_at", &spec.starts_at),
        ("opens_at", &spec.opens_at),
        ("closes_at", &spec.closes_at),
    ] {
        if date.as_deref().is_some_and(|d| !is_rfc3339(d)) {
            errs.push(SpecError::new(
                path,
                "must be a date and time such as 2026-11-23T09:30:00Z",
            ));
        }
    }
    errs.note(super::phase::check(&spec));
    if spec.min_group_size < 3 {
        errs.push(SpecError::new("min_group_size", "must be at least 3"));
    }
    if spec.min_group_size > 1000 {
        errs.push(SpecError::new("min_group_size", "must be at most 1000"));
    }
    for (path, value, least, most) in [
        ("max_attendees", spec.max_attendees, 1, MOST_ATTENDEES),
        (
            "max_other_organisations",
            spec.max_other_organisations,
            0,
            MOST_OTHER_ORGANISATIONS,
        ),
        (
            "max_other_sectors",
            spec.max_other_sectors,
            0,
            MOST_OTHER_ORGANISATIONS,
        ),
        (
            "qa.max_open_questions",
            spec.qa.max_open_questions,
            1,
            MOST_OPEN_QUESTIONS,
        ),
    ] {
        if !(least..=most).contains(&value) {
            errs.push(SpecError::new(
                path,
                format!("must be {least} to {most}, not {value}"),
            ));
        }
    }
    errs.note(
        super::reaction::check_spec(&spec.reactions).map_err(|(path, message)| {
            SpecError::new(
                if path.is_empty() {
                    "reactions".to_owned()
                } else {
                    format!("reactions{path}")
                },
                message,
            )
        }),
    );
    errs.note(check_embed(&spec.embed));
    if spec.sectors.len() > MAX_SECTORS {
        errs.push(SpecError::new(
            "sectors",
            format!("at most {MAX_SECTORS} sectors"),
        ));
    }
    let mut sectors_seen = HashSet::new();
    for (i, sector) in spec.sectors.iter().enumerate() {
        let path = format!("sectors[{i}]");
        errs.note(check_text(&path, sector, "a sector", MAX_NAME));
        if !sectors_seen.insert(super::names::fold(sector)) {
            errs.push(SpecError::new(
                path,
                format!("sector {sector:?} is listed twice"),
            ));
        }
    }
    if spec.organisations.len() > MAX_ORGANISATIONS {
        errs.push(SpecError::new(
            "organisations",
            format!("at most {MAX_ORGANISATIONS} organisations"),
        ));
    }
    let mut orgs_seen = HashSet::new();
    for (i, org) in spec.organisations.iter().enumerate() {
        let path = format!("organisations[{i}]");
        errs.note(check_text(
            &format!("{path}.name"),
            &org.name,
            "a name",
            MAX_NAME,
        ));
        if !orgs_seen.insert(super::names::fold(&org.name)) {
            errs.push(SpecError::new(
                format!("{path}.name"),
                format!("organisation {:?} is listed twice", org.name),
            ));
        }
        if !sectors_seen.contains(&super::names::fold(&org.sector)) {
            errs.push(SpecError::new(
                format!("{path}.sector"),
                format!("{:?} is not one of the event's sectors", org.sector),
            ));
        }
    }

    if spec.sessions.is_empty() {
        errs.push(SpecError::new(
            "sessions",
            "an event needs at least one session",
        ));
    }
    if spec.sessions.len() > MAX_SESSIONS {
        errs.push(SpecError::new(
            "sessions",
            format!("at most {MAX_SESSIONS} sessions"),
        ));
    }
    let mut session_keys = HashSet::new();
    let mut activities = Vec::new();
    let mut index = HashMap::new();
    let mut rooms: Vec<String> = Vec::new();
    // pair topic -> (pre, post) activity paths, with the scale's range.
    let mut pairs: BTreeMap<String, [Option<PairEnd>; 2]> = BTreeMap::new();
    // The topics of paired activities found invalid.
    let mut unpaired: HashSet<String> = HashSet::new();

    for (si, session) in spec.sessions.iter().enumerate() {
        let spath = format!("sessions[{si}]");
        if !is_key(&session.key) {
            errs.push(SpecError::new(
                format!("{spath}.key"),
                "must be 1 to 40 characters of a-z, 0-9 and '-', starting with a letter or digit",
            ));
        }
        if !session_keys.insert(session.key.clone()) {
            errs.push(SpecError::new(
                format!("{spath}.key"),
                format!("session key {:?} is used twice", session.key),
            ));
        }
        errs.note(check_text(
            &format!("{spath}.title"),
            &session.title,
            "the title",
            MAX_TITLE,
        ));
        if let Some(room) = &session.room {
            errs.note(check_text(
                &format!("{spath}.room"),
                room,
                "the room",
                MAX_NAME,
            ));
            if !rooms.contains(room) {
                rooms.push(room.clone());
            }
        }
        for (ai, spec) in session.activities.iter().enumerate() {
            let apath = format!("{spath}.activities[{ai}]");
            let activity = match validate_activity(&apath, spec, session) {
                Ok(activity) => activity,
                Err(found) => {
                    errs.0.extend(found);
                    // Its pair is not said to lack it as well.
                    unpaired.extend(spec.pair.clone());
                    continue;
                }
            };
            if index.contains_key(activity.key.as_str()) {
                errs.push(SpecError::new(
                    format!("{apath}.key"),
                    format!("activity key {:?} is used twice in this event", spec.key),
                ));
                continue;
            }
            if let ActivityKind::Scale {
                min,
                max,
                pair: Some((topic, phase)),
                ..
            } = &activity.kind
            {
                let slot = &mut pairs.entry(topic.clone()).or_default()[*phase as usize];
                if slot.is_some() {
                    errs.push(SpecError::new(
                        format!("{apath}.phase"),
                        format!("pair {topic:?} already has a {phase:?} activity").to_lowercase(),
                    ));
                } else {
                    *slot = Some((apath.clone(), *min, *max));
                }
            }
            index.insert(activity.key.as_str().to_owned(), activities.len());
            activities.push(activity);
            if activities.len() == MAX_ACTIVITIES + 1 {
                errs.push(SpecError::new(
                    apath,
                    format!("an event has at most {MAX_ACTIVITIES} activities"),
                ));
            }
        }
    }
    pairs.retain(|topic, _| !unpaired.contains(topic));
    for (topic, [pre, post]) in &pairs {
        match (pre, post) {
            (Some((_, pmin, pmax)), Some((path, qmin, qmax))) => {
                if (pmin, pmax) != (qmin, qmax) {
                    errs.push(SpecError::new(
                        format!("{path}.max"),
                        format!(
                            "the pre and post scales of pair {topic:?} must have the same range"
                        ),
                    ));
                }
            }
            (Some((path, ..)), None) => {
                errs.push(SpecError::new(
                    format!("{path}.pair"),
                    format!("pair {topic:?} has a pre activity but no post activity"),
                ));
            }
            (None, Some((path, ..))) => {
                errs.push(SpecError::new(
                    format!("{path}.pair"),
                    format!("pair {topic:?} has a post activity but no pre activity"),
                ));
            }
            (None, None) => {}
        }
    }
    if !errs.0.is_empty() {
        return Err(errs.0);
    }
    Ok(Event {
        times: Times::of(&spec),
        spec,
        activities,
        index,
        rooms,
    })
}

/// One activity: its key, its prompt and its kind's fields, each checked apart.
fn validate_activity(
    path: &str,
    spec: &ActivitySpec,
    session: &SessionSpec,
) -> Result<Activity, Vec<SpecError>> {
    let key = ActivityKey::parse(&spec.key).ok_or_else(|| {
        SpecError::new(
            format!("{path}.key"),
            "must be 1 to 40 characters of a-z, 0-9 and '-', starting with a letter or digit",
        )
    });
    let prompt = check_text(
        &format!("{path}.prompt"),
        &spec.prompt,
        "the prompt",
        MAX_PROMPT,
    );
    match (key, prompt, activity_kind(path, spec)) {
        (Ok(key), Ok(()), Ok(kind)) => Ok(Activity {
            key,
            prompt: spec.prompt.clone(),
            session: session.key.clone(),
            room: session.room.clone(),
            kind,
            window: spec.window,
        }),
        (key, prompt, kind) => Err([key.err(), prompt.err(), kind.err()]
            .into_iter()
            .flatten()
            .collect()),
    }
}

/// An activity's kind and the fields that belong to it: the first rule broken.
fn activity_kind(path: &str, spec: &ActivitySpec) -> Result<ActivityKind, SpecError> {
    let kind = spec.kind;
    // Fields that belong to other kinds are refused: a typo'd spec should not half-work.
    let present: [(&str, bool, &[Kind]); 12] = [
        (
            "options",
            spec.options.is_some(),
            &[Kind::Choice, Kind::Ranking, Kind::Points],
        ),
        ("multiple", spec.multiple.is_some(), &[Kind::Choice]),
        ("max_choices", spec.max_choices.is_some(), &[Kind::Choice]),
        ("min", spec.min.is_some(), &[Kind::Scale]),
        ("max", spec.max.is_some(), &[Kind::Scale]),
        ("labels", spec.labels.is_some(), &[Kind::Scale]),
        ("pair", spec.pair.is_some(), &[Kind::Scale]),
        ("phase", spec.phase.is_some(), &[Kind::Scale]),
        ("max_words", spec.max_words.is_some(), &[Kind::Words]),
        ("max_len", spec.max_len.is_some(), &[Kind::Text]),
        ("text", spec.text.is_some(), &[Kind::Pledge]),
        ("budget", spec.budget.is_some(), &[Kind::Points]),
    ];
    for (field, is_present, kinds) in present {
        if is_present && !kinds.contains(&kind) {
            return Err(SpecError::new(
                format!("{path}.{field}"),
                format!("is not a field of a {} activity", kind.as_str()),
            ));
        }
    }
    let missing = |field: &str| {
        SpecError::new(
            format!("{path}.{field}"),
            format!("is required for a {} activity", kind.as_str()),
        )
    };
    let activity_kind = match kind {
        Kind::Choice => {
            let options = spec.options.clone().ok_or_else(|| missing("options"))?;
            check_options(path, &options, 20)?;
            let multiple = spec.multiple.unwrap_or(false);
            if let Some(max_choices) = spec.max_choices {
                if !multiple {
                    return Err(SpecError::new(
                        format!("{path}.max_choices"),
                        "only applies when multiple is true",
                    ));
                }
                if max_choices < 1 || max_choices as usize > options.len() {
                    return Err(SpecError::new(
                        format!("{path}.max_choices"),
                        format!(
                            "must be from 1 to the number of options ({})",
                            options.len()
                        ),
                    ));
                }
            }
            ActivityKind::Choice {
                options,
                multiple,
                max_choices: spec.max_choices,
            }
        }
        Kind::Scale => {
            let min = spec.min.ok_or_else(|| missing("min"))?;
            let max = spec.max.ok_or_else(|| missing("max"))?;
            if min >= max {
                return Err(SpecError::new(
                    format!("{path}.max"),
                    format!("must be greater than min ({min})"),
                ));
            }
            if max - min + 1 > 11 {
                return Err(SpecError::new(
                    format!("{path}.max"),
                    format!(
                        "a scale has at most 11 points; {min} to {max} has {}",
                        max - min + 1
                    ),
                ));
            }
            if let Some(labels) = &spec.labels {
                for (field, label) in [("min", &labels.min), ("max", &labels.max)] {
                    if let Some(label) = label {
                        check_text(
                            &format!("{path}.labels.{field}"),
                            label,
                            "a label",
                            MAX_OPTION,
                        )?;
                    }
                }
            }
            let pair = match (&spec.pair, spec.phase) {
                (Some(topic), Some(phase)) => {
                    check_text(&format!("{path}.pair"), topic, "the pair", MAX_NAME)?;
                    Some((topic.clone(), phase))
                }
                (Some(_), None) => {
                    return Err(SpecError::new(
                        format!("{path}.phase"),
                        "is required with pair: \"pre\" or \"post\"",
                    ));
                }
                (None, Some(_)) => {
                    return Err(SpecError::new(
                        format!("{path}.pair"),
                        "is required with phase: the topic that pairs pre and post",
                    ));
                }
                (None, None) => None,
            };
            ActivityKind::Scale {
                min,
                max,
                labels: spec.labels.clone(),
                pair,
            }
        }
        Kind::Words => {
            let max_words = spec.max_words.ok_or_else(|| missing("max_words"))?;
            if !(1..=5).contains(&max_words) {
                return Err(SpecError::new(
                    format!("{path}.max_words"),
                    format!("must be from 1 to 5, not {max_words}"),
                ));
            }
            ActivityKind::Words { max_words }
        }
        Kind::Text => {
            let max_len = spec.max_len.ok_or_else(|| missing("max_len"))?;
            if !(1..=1000).contains(&max_len) {
                return Err(SpecError::new(
                    format!("{path}.max_len"),
                    format!("must be from 1 to 1000, not {max_len}"),
                ));
            }
            ActivityKind::Text { max_len }
        }
        Kind::Pledge => {
            let text = spec.text.clone().ok_or_else(|| missing("text"))?;
            check_text(
                &format!("{path}.text"),
                &text,
                "the pledge text",
                MAX_PLEDGE,
            )?;
            ActivityKind::Pledge { text }
        }
        Kind::Ranking => {
            let options = spec.options.clone().ok_or_else(|| missing("options"))?;
            check_options(path, &options, MOST_ORDERED_OPTIONS)?;
            ActivityKind::Ranking { options }
        }
        Kind::Points => {
            let options = spec.options.clone().ok_or_else(|| missing("options"))?;
            check_options(path, &options, MOST_ORDERED_OPTIONS)?;
            let budget = spec.budget.unwrap_or(DEFAULT_BUDGET);
            if !(LEAST_BUDGET..=MOST_BUDGET).contains(&budget) {
                return Err(SpecError::new(
                    format!("{path}.budget"),
                    format!("must be from {LEAST_BUDGET} to {MOST_BUDGET}, not {budget}"),
                ));
            }
            ActivityKind::Points { options, budget }
        }
    };
    Ok(activity_kind)
}

/// 2 to `most` options, each a non-empty text, none listed twice (ignoring case and spacing).
fn check_options(path: &str, options: &[String], most: usize) -> Result<(), SpecError> {
    if !(2..=most).contains(&options.len()) {
        return Err(SpecError::new(
            format!("{path}.options"),
            format!("must have 2 to {most} options, not {}", options.len()),
        ));
    }
    let mut seen = HashSet::new();
    for (i, option) in options.iter().enumerate() {
        let opath = format!("{path}.options[{i}]");
        check_text(&opath, option, "an option", MAX_OPTION)?;
        if !seen.insert(super::names::fold(option)) {
            return Err(SpecError::new(
                opath,
                format!("option {option:?} is listed twice"),
            ));
        }
    }
    Ok(())
}

/// A strict check of the RFC 3339 shape `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
            .then(|| s[range].parse::<u32>().unwrap_or(u32::MAX))
    };
    let (Some(_year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19),
    ) else {
        return false;
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return false;
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest {
        "Z" | "z" => true,
        offset => {
            let o = offset.as_bytes();
            o.len() == 6
                && matches!(o[0], b'+' | b'-')
                && o[1..3].iter().all(u8::is_ascii_digit)
                && o[3] == b':'
                && o[4..6].iter().all(u8::is_ascii_digit)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fixture() -> Value {
        serde_json::from_str(include_str!("../../fixtures/dual-diagnosis-2026.json"))
            .expect("fixture is JSON")
    }

    fn error_of(mut edit: impl FnMut(&mut Value)) -> SpecError {
        let mut spec = fixture();
        edit(&mut spec);
        parse_spec_value(spec).expect_err("spec should be refused")
    }

    /// Every rule broken is reported, in the order of the spec, each with its field's path;
    /// the first is the one `validate` gives alone.
    #[test]
    fn every_error_is_found_with_its_path() {
        let mut spec = fixture();
        spec["title"] = json!(" ");
        spec["min_group_size"] = json!(1);
        spec["sessions"][0]["activities"][0]["prompt"] = json!("");
        spec["sessions"][0]["activities"][0]["options"][2] = json!("");
        spec["sessions"][0]["activities"][1]["key"] = json!("Not A Key");
        let found = parse_spec_value_all(spec.clone()).expect_err("refused");
        let paths: Vec<&str> = found.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "title",
                "min_group_size",
                "sessions[0].activities[0].prompt",
                "sessions[0].activities[0].options[2]",
                "sessions[0].activities[1].key",
            ]
        );
        let first = parse_spec_value(spec).expect_err("refused");
        assert_eq!(first, found[0]);
        assert!(parse_spec_value_all(fixture()).is_ok());
    }

    #[test]
    fn both_fixtures_are_valid() {
        let event = parse_spec_value(fixture()).expect("2026 fixture");
        assert_eq!(event.spec.organisations.len(), 27);
        assert_eq!(event.rooms, vec!["Room A".to_owned(), "Room B".to_owned()]);
        assert_eq!(
            event
                .activity("partnership-priority")
                .map(|a| a.room.as_deref()),
            Some(Some("Room A"))
        );
        let last: Value =
            serde_json::from_str(include_str!("../../fixtures/dual-diagnosis-2025.json"))
                .expect("json");
        parse_spec_value(last).expect("2025 fixture");
    }

    #[test]
    fn embed_origins_are_exact_https_origins() {
        let ok = |origins: Value| {
            let mut spec = fixture();
            spec["embed"] = json!({ "allowed_origins": origins });
            parse_spec_value(spec).map(|e| e.spec.embed.allowed_origins)
        };
        assert_eq!(
            ok(json!([
                "https://stream.example.org",
                "https://live.example.com:8443"
            ]))
            .expect("valid origins"),
            vec![
                "https://stream.example.org".to_owned(),
                "https://live.example.com:8443".to_owned()
            ]
        );
        ok(json!(["http://localhost:8080", "http://127.0.0.1:9000"])).expect("loopback http");
        for bad in [
            "http://stream.example.org",
            "https://stream.example.org/",
            "https://stream.example.org/live",
            "https://*.example.org",
            "https://Stream.example.org",
            "https://example",
            "https://stream.example.org:0",
            "https://stream.example.org:70000",
            "https://stream.example.org:",
            "https://-bad.example.org",
            "https://a b.example.org",
            "*",
            "'self'",
            "https://stream.example.org; script-src *",
            "",
        ] {
            let e = ok(json!([bad])).expect_err(bad);
            assert_eq!(e.path, "embed.allowed_origins[0]", "{bad}");
            assert!(e.message.contains("not an https origin"), "{bad}: {e}");
        }
        let e = ok(json!(["https://a.example.org", "https://a.example.org"])).expect_err("twice");
        assert_eq!(e.path, "embed.allowed_origins[1]");
        let many: Vec<String> = (0..=MAX_EMBED_ORIGINS)
            .map(|i| format!("https://s{i}.example.org"))
            .collect();
        assert_eq!(
            ok(json!(many)).expect_err("too many").path,
            "embed.allowed_origins"
        );
        let mut spec = fixture();
        spec["embed"] = json!({ "origins": [] });
        assert!(parse_spec_value(spec).is_err(), "unknown field refused");
    }

    #[test]
    fn toml_specs_are_accepted() {
        let toml = r#"
            title = "Small event"
            sectors = ["Police"]
            [[organisations]]
            name = "North Yorkshire Police"
            sector = "Police"
            [[sessions]]
            key = "only"
            title = "Only session"
            [[sessions.activities]]
            key = "mood"
            kind = "scale"
            prompt = "How are you?"
            min = 1
            max = 5
        "#;
        let event = parse_spec(toml, SpecFormat::Toml).expect("valid TOML spec");
        assert_eq!(event.spec.min_group_size, 5);
        assert!(event.spec.qa.enabled);
        assert_eq!(event.spec.qa.moderation, Moderation::Pre);
        assert!(event.spec.allow_other_organisation);
    }

    #[test]
    fn errors_name_the_field_by_its_path() {
        type Edit = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(Edit, &str)> = vec![
            (
                Box::new(|s| s["sessions"][0]["activities"][0]["options"] = json!(["only one"])),
                "sessions[0].activities[0].options",
            ),
            (
                Box::new(|s| s["sessions"][0]["activities"][1]["max"] = json!(20)),
                "sessions[0].activities[1].max",
            ),
            (
                Box::new(|s| s["sessions"][0]["activities"][1]["max"] = json!(1)),
                "sessions[0].activities[1].max",
            ),
            (
                Box::new(|s| s["sessions"][0]["activities"][3]["max_words"] = json!(6)),
                "sessions[0].activities[3].max_words",
            ),
            (
                Box::new(|s| s["sessions"][2]["activities"][0]["max_len"] = json!(1001)),
                "sessions[2].activities[0].max_len",
            ),
            (
                Box::new(|s| s["sessions"][1]["activities"][0]["key"] = json!("role")),
                "sessions[1].activities[0].key",
            ),
            (
                Box::new(|s| s["sessions"][1]["activities"][0]["key"] = json!("Bad Key")),
                "sessions[1].activities[0].key",
            ),
            (
                Box::new(|s| s["sessions"][0]["activities"][0]["kind"] = json!("quiz")),
                "sessions[0].activities[0].kind",
            ),
            (
                Box::new(|s| s["sessions"][0]["activities"][0]["options"] = json!("yes, no")),
                "sessions[0].activities[0].options",
            ),
            (
                Box::new(|s| s["sessions"][0]["activities"][0]["min"] = json!(1)),
                "sessions[0].activities[0].min",
            ),
            (
                Box::new(|s| s["min_group_size"] = json!(2)),
                "min_group_size",
            ),
            (Box::new(|s| s["rehearsal"] = json!("yes")), "rehearsal"),
            (
                Box::new(|s| s["qa"]["moderation"] = json!("later")),
                "qa.moderation",
            ),
            (Box::new(|s| s["max_attendees"] = json!(0)), "max_attendees"),
            (
                Box::new(|s| s["max_other_organisations"] = json!(20_000)),
                "max_other_organisations",
            ),
            (
                Box::new(|s| s["max_other_sectors"] = json!(20_000)),
                "max_other_sectors",
            ),
            (
                Box::new(|s| s["qa"]["max_open_questions"] = json!(0)),
                "qa.max_open_questions",
            ),
            (
                Box::new(|s| s["organisations"][3]["sector"] = json!("Astronomy")),
                "organisations[3].sector",
            ),
            (Box::new(|s| s["title"] = json!("  ")), "title"),
            (Box::new(|s| s["introduction"] = json!(" ")), "introduction"),
            (
                Box::new(|s| s["next_steps"] = json!("x".repeat(4001))),
                "next_steps",
            ),
            (
                Box::new(|s| s["starts_at"] = json!("tomorrow")),
                "starts_at",
            ),
            (
                Box::new(|s| s["sessions"][0]["activities"][0]["max_choices"] = json!(2)),
                "sessions[0].activities[0].max_choices",
            ),
            (
                Box::new(|s| s["sessions"][1]["activities"][0]["max_choices"] = json!(7)),
                "sessions[1].activities[0].max_choices",
            ),
            (
                Box::new(|s| s["sessions"][0]["activities"][1]["phase"] = json!("during")),
                "sessions[0].activities[1].phase",
            ),
            (
                Box::new(|s| {
                    s["sessions"][6]["activities"]
                        .as_array_mut()
                        .map(|a| a.remove(1));
                }),
                "sessions[0].activities[1].pair",
            ),
            (
                Box::new(|s| s["sessions"][0]["colour"] = json!("red")),
                "sessions[0].colour",
            ),
            (
                Box::new(|s| s["sessions"][6]["activities"][0]["text"] = json!("")),
                "sessions[6].activities[0].text",
            ),
            (Box::new(|s| s["sessions"] = json!([])), "sessions"),
            (
                Box::new(|s| {
                    s["sessions"][6]["activities"][5]["options"] =
                        json!((0..11).map(|i| format!("option {i}")).collect::<Vec<_>>());
                }),
                "sessions[6].activities[5].options",
            ),
            (
                Box::new(|s| {
                    s["sessions"][6]["activities"][5]["options"][1] =
                        json!("JOINT commissioning of mental health and drug and alcohol services")
                }),
                "sessions[6].activities[5].options[1]",
            ),
            (
                Box::new(|s| s["sessions"][6]["activities"][5]["budget"] = json!(100)),
                "sessions[6].activities[5].budget",
            ),
            (
                Box::new(|s| s["sessions"][6]["activities"][6]["budget"] = json!(5)),
                "sessions[6].activities[6].budget",
            ),
            (
                Box::new(|s| s["sessions"][6]["activities"][6]["budget"] = json!(-5)),
                "sessions[6].activities[6].budget",
            ),
            (
                Box::new(|s| s["sessions"][6]["activities"][6]["options"] = json!(["only"])),
                "sessions[6].activities[6].options",
            ),
            (
                Box::new(|s| s["reactions"] = json!(["agree", "boo"])),
                "reactions[1]",
            ),
            (
                Box::new(|s| s["reactions"] = json!(["agree", "thanks", "agree"])),
                "reactions[2]",
            ),
        ];
        for (edit, path) in cases {
            let error = error_of(edit);
            assert_eq!(error.path, path, "{error}");
            assert!(!error.message.is_empty());
        }
    }

    #[test]
    fn sessions_may_have_no_activities_and_activities_default_well() {
        let event = parse_spec_value(json!({
            "title": "T",
            "sessions": [{"key": "talk", "title": "A talk"},
                         {"key": "poll", "title": "Poll", "activities": [
                            {"key": "q", "kind": "choice", "prompt": "?", "options": ["a", "b"]}]}]
        }))
        .expect("valid");
        assert_eq!(event.activities.len(), 1);
        assert!(matches!(
            event.activities[0].kind,
            ActivityKind::Choice {
                multiple: false,
                ..
            }
        ));
    }

    #[test]
    fn the_organisers_words_round_trip() {
        let event = parse_spec_value(json!({
            "title": "T",
            "introduction": "Why we met.\n\nWhat we hoped for.",
            "next_steps": "We will meet the ICB in January.",
            "sessions": [{"key": "talk", "title": "A talk"}]
        }))
        .expect("valid");
        assert_eq!(
            event.spec.introduction.as_deref(),
            Some("Why we met.\n\nWhat we hoped for.")
        );
        let again: EventSpec =
            serde_json::from_value(serde_json::to_value(&event.spec).expect("serialise"))
                .expect("round trip");
        assert_eq!(
            again.next_steps.as_deref(),
            Some("We will meet the ICB in January.")
        );
        let none = parse_spec_value(json!({
            "title": "T", "sessions": [{"key": "talk", "title": "A talk"}]
        }))
        .expect("valid");
        let text = serde_json::to_string(&none.spec).expect("serialise");
        assert!(!text.contains("introduction") && !text.contains("next_steps"));
    }

    #[test]
    fn ordered_kinds_and_reactions_default_well() {
        let event = parse_spec_value(json!({
            "title": "T",
            "sessions": [{"key": "s", "title": "S", "activities": [
                {"key": "r", "kind": "ranking", "prompt": "?", "options": ["a", "b"]},
                {"key": "p", "kind": "points", "prompt": "?", "options": ["a", "b"]}]}]
        }))
        .expect("valid");
        assert_eq!(
            event.activities[1].kind,
            ActivityKind::Points {
                options: vec!["a".into(), "b".into()],
                budget: DEFAULT_BUDGET
            }
        );
        assert_eq!(
            event.spec.reactions,
            super::super::reaction::default_reactions()
        );
        let event = parse_spec(
            include_str!("../../fixtures/dual-diagnosis-2026.json"),
            SpecFormat::Json,
        )
        .expect("fixture");
        assert!(matches!(
            event.activity("commissioner-priorities").map(|a| &a.kind),
            Some(ActivityKind::Ranking { .. })
        ));
    }

    #[test]
    fn rfc3339_shapes() {
        assert!(is_rfc3339("2026-11-23T09:30:00Z"));
        assert!(is_rfc3339("2026-11-23T09:30:00.123+01:00"));
        assert!(!is_rfc3339("2026-13-23T09:30:00Z"));
        assert!(!is_rfc3339("2026-11-23"));
        assert!(!is_rfc3339("2026-11-23T09:30:00"));
    }
}
