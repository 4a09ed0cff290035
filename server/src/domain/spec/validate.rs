//! Every rule of the event spec that is not one activity's own: the event's words, dates
//! and limits, its sectors and organisations, and the programme (sessions, activity keys
//! used once, rooms, each pre/post pair whole and on one range). Rules are checked in the
//! order a reader would check them, and every rule broken is reported with its field's path.
//!
//! One activity's key, prompt and kind are `activity.rs`; the framing origins `embed.rs`.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::activity::validate_activity;
use super::embed::check_embed;
use super::{
    Activity, ActivityKind, ActivitySpec, Event, EventSpec, MAX_ACTIVITIES, MAX_NAME,
    MAX_ORGANISATIONS, MAX_REPORT_TEXT, MAX_SECTORS, MAX_SESSIONS, MAX_TITLE, MOST_ATTENDEES,
    MOST_OPEN_QUESTIONS, MOST_OTHER_ORGANISATIONS, SessionSpec, SpecError,
};
use crate::domain::code::is_key;
use crate::domain::names::fold;
use crate::domain::phase::{self, Times};
use crate::domain::{reaction, safeguarding};

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
    check_words_and_dates(&spec, &mut errs);
    check_limits(&spec, &mut errs);
    check_directory(&spec, &mut errs);
    let programme = check_programme(&spec, &mut errs);
    if !errs.0.is_empty() {
        return Err(errs.0);
    }
    Ok(Event {
        times: Times::of(&spec),
        spec,
        activities: programme.activities,
        index: programme.index,
        rooms: programme.rooms,
    })
}

/// The event's own words (title, safeguarding section, series, organiser, contact, the
/// report's introduction and next steps) and its dates.
fn check_words_and_dates(spec: &EventSpec, errs: &mut Found) {
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
    errs.note(phase::check(spec));
}

/// The group size, the caps on attendees, typed names and open questions, the reactions
/// and the framing origins.
fn check_limits(spec: &EventSpec, errs: &mut Found) {
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
        reaction::check_spec(&spec.reactions).map_err(|(path, message)| {
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
}

/// The event's sectors and organisations: each named once (ignoring case and spacing), and
/// each organisation in one of the sectors.
fn check_directory(spec: &EventSpec, errs: &mut Found) {
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
        if !sectors_seen.insert(fold(sector)) {
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
        if !orgs_seen.insert(fold(&org.name)) {
            errs.push(SpecError::new(
                format!("{path}.name"),
                format!("organisation {:?} is listed twice", org.name),
            ));
        }
        if !sectors_seen.contains(&fold(&org.sector)) {
            errs.push(SpecError::new(
                format!("{path}.sector"),
                format!("{:?} is not one of the event's sectors", org.sector),
            ));
        }
    }
}

/// One end of a pre/post pair: the activity's path and its scale's range.
type PairEnd = (String, i64, i64);

/// The programme as [`check_programme`] reads it: the valid activities, in order.
#[derive(Default)]
struct Programme {
    activities: Vec<Activity>,
    /// Activity key to its index in `activities`.
    index: HashMap<String, usize>,
    /// Distinct rooms in programme order.
    rooms: Vec<String>,
    /// Pair topic -> (pre, post) activity paths, with the scale's range.
    pairs: BTreeMap<String, [Option<PairEnd>; 2]>,
    /// The topics of paired activities found invalid.
    unpaired: HashSet<String>,
}

/// The sessions, in order, and every activity in them; then the pre/post pairs.
fn check_programme(spec: &EventSpec, errs: &mut Found) -> Programme {
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
    let mut programme = Programme::default();
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
            if !programme.rooms.contains(room) {
                programme.rooms.push(room.clone());
            }
        }
        for (ai, activity) in session.activities.iter().enumerate() {
            let apath = format!("{spath}.activities[{ai}]");
            programme.add(apath, activity, session, errs);
        }
    }
    programme.check_pairs(errs);
    programme
}

impl Programme {
    /// One activity of `session`: checked, then indexed by its key and, if it is one end of
    /// a pair, noted as that end.
    fn add(&mut self, apath: String, spec: &ActivitySpec, session: &SessionSpec, errs: &mut Found) {
        let activity = match validate_activity(&apath, spec, session) {
            Ok(activity) => activity,
            Err(found) => {
                errs.0.extend(found);
                // Its pair is not said to lack it as well.
                self.unpaired.extend(spec.pair.clone());
                return;
            }
        };
        if self.index.contains_key(activity.key.as_str()) {
            errs.push(SpecError::new(
                format!("{apath}.key"),
                format!("activity key {:?} is used twice in this event", spec.key),
            ));
            return;
        }
        if let ActivityKind::Scale {
            min,
            max,
            pair: Some((topic, phase)),
            ..
        } = &activity.kind
        {
            let slot = &mut self.pairs.entry(topic.clone()).or_default()[*phase as usize];
            if slot.is_some() {
                errs.push(SpecError::new(
                    format!("{apath}.phase"),
                    format!("pair {topic:?} already has a {phase:?} activity").to_lowercase(),
                ));
            } else {
                *slot = Some((apath.clone(), *min, *max));
            }
        }
        self.index
            .insert(activity.key.as_str().to_owned(), self.activities.len());
        self.activities.push(activity);
        if self.activities.len() == MAX_ACTIVITIES + 1 {
            errs.push(SpecError::new(
                apath,
                format!("an event has at most {MAX_ACTIVITIES} activities"),
            ));
        }
    }

    /// Every pair has a pre and a post activity on the same range (a pair with an invalid
    /// end aside: that end's own error says enough).
    fn check_pairs(&mut self, errs: &mut Found) {
        let unpaired = &self.unpaired;
        self.pairs.retain(|topic, _| !unpaired.contains(topic));
        for (topic, [pre, post]) in &self.pairs {
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
    }
}

/// A text the organiser wrote: not blank, at most `max` characters.
pub(super) fn check_text(path: &str, value: &str, what: &str, max: usize) -> Result<(), SpecError> {
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
    use super::*;

    #[test]
    fn rfc3339_shapes() {
        assert!(is_rfc3339("2026-11-23T09:30:00Z"));
        assert!(is_rfc3339("2026-11-23T09:30:00.123+01:00"));
        assert!(!is_rfc3339("2026-13-23T09:30:00Z"));
        assert!(!is_rfc3339("2026-11-23"));
        assert!(!is_rfc3339("2026-11-23T09:30:00"));
    }
}
