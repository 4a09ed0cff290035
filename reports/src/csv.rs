//! `answers.csv` (docs/report.md): one row per current answer, with nothing that links a
//! row to a person, and the small-group rule applied to the organisation and sector columns.
//!
//! How the rule applies to rows, per activity (pledge rows excepted, see below): the
//! activity's plan ([`privacy::activity_plan`], the same plan the report's figures come from)
//! labels each row with the organisation and sector its answer was given under, or
//! `Other (small groups)`, or nothing where the breakdown is withheld:
//! 1. **Sector.** The activity's respondents are grouped by sector (`Not given` for none) and
//!    [`privacy::plan`] decides the groups: a sector shown alone keeps its name; a merged one
//!    becomes `Other (small groups)`; if the breakdown is withheld, the column is empty for
//!    every row of the activity.
//! 2. **Organisation, inside each sector group.** The rows of each sector group (step 1; the
//!    whole activity when withheld) are grouped by organisation and `plan` is applied again:
//!    an organisation shown alone keeps its name, merged ones become `Other (small groups)`,
//!    and a withheld breakdown leaves the column empty for that sector group.
//!
//! Where `plan` withholds a breakdown only because a single group of at least `k` holds every
//! row (say, all of a sector group's respondents are from one organisation), that group's
//! name is kept: naming it isolates nobody.
//!
//! So every distinct (organisation, sector) pair of an activity's rows stands for at least
//! `k` respondents, the groups add up to the whole, and filtering or subtracting rows never
//! isolates fewer than `k` people (the one exception is an activity with fewer than `k`
//! respondents in all, whose rows carry neither column).
//!
//! A ranking's value is its options in the order given, `1. First; 2. Second; ...`; a points
//! answer's is every option with its points, `First: 60; Second: 40`.
//!
//! Pledge rows carry the signer's current organisation and sector whole: signatures are not
//! answers, and the report shows them whole too (docs/privacy.md).
//!
//! Text answers hidden by moderation are left out; pending and approved ones are kept (the
//! CSV is for the organisers, who see pending texts on their dashboard already).
//!
//! Every field a spreadsheet would run as a formula (one starting with `=`, `+`, `-`, `@`,
//! tab or CR), whatever its column, gets a leading `'`; fields are quoted as RFC 4180 says;
//! lines end with CRLF.

use std::collections::HashMap;

use joinup_domain::Kind;
use joinup_domain::ordered::{points_text, ranking_text};

use crate::privacy;
use crate::snapshot::{Answer, Snapshot};
use crate::summary::{answer_fits, answered_under, sector_of};

pub const CSV_HEADER: &str = "session,room,activity,kind,value,organisation,sector";

struct Row<'a> {
    activity: usize,
    value: String,
    organisation: &'a str,
    sector: &'a str,
}

/// `answers.csv`: see the module documentation for how the small-group rule applies.
pub fn answers_csv(snapshot: &Snapshot) -> String {
    let k = snapshot.min_group_size;
    let index: HashMap<&str, usize> = snapshot
        .activities
        .iter()
        .enumerate()
        .map(|(i, a)| (a.key.as_str(), i))
        .collect();
    let mut rows: Vec<Vec<Row>> = (0..snapshot.activities.len()).map(|_| Vec::new()).collect();
    for att in &snapshot.attendees {
        for (key, answer) in &att.answers {
            let Some(&i) = index.get(key.as_str()) else {
                continue;
            };
            let def = &snapshot.activities[i];
            if !answer_fits(def, answer) {
                continue;
            }
            let value = match answer {
                Answer::Choice(ix) => ix
                    .iter()
                    .filter_map(|&o| def.options.get(o).map(String::as_str))
                    .collect::<Vec<_>>()
                    .join("; "),
                Answer::Scale(v) => v.to_string(),
                Answer::Words(ws) => ws.join("; "),
                Answer::Text(t) => {
                    if att.text_states.get(key).map(String::as_str) == Some("hidden") {
                        continue;
                    }
                    t.clone()
                }
                Answer::Pledge => "signed".to_owned(),
                Answer::Ranking(order) => ranking_text(&def.options, order.iter().copied()),
                Answer::Points(given) => points_text(&def.options, given.iter().copied()),
            };
            // An answer counts under the profile it was given with; a pledge is signed on
            // behalf of the signer's organisation as it stands.
            let (organisation, sector) = match answer {
                Answer::Pledge => (sector_of(&att.organisation), sector_of(&att.sector)),
                _ => answered_under(att, key),
            };
            rows[i].push(Row {
                activity: i,
                value,
                organisation,
                sector,
            });
        }
    }

    let mut out: Vec<(usize, Row)> = Vec::new();
    for (i, mut act_rows) in rows.into_iter().enumerate() {
        if snapshot.activities[i].written_kind() != Some(Kind::Pledge) {
            suppress(&mut act_rows, k);
        }
        out.extend(act_rows.into_iter().map(|r| (i, r)));
    }
    out.sort_by(|(a, ra), (b, rb)| {
        snapshot.activities[*a]
            .key
            .cmp(&snapshot.activities[*b].key)
            .then_with(|| ra.value.cmp(&rb.value))
            .then_with(|| ra.organisation.cmp(rb.organisation))
            .then_with(|| ra.sector.cmp(rb.sector))
    });

    let mut csv = String::with_capacity(64 * (out.len() + 1));
    csv.push_str(CSV_HEADER);
    csv.push_str("\r\n");
    for (_, r) in &out {
        let def = &snapshot.activities[r.activity];
        let session = &def.session;
        let room = def.room.as_deref().unwrap_or("");
        for (n, field) in [
            session.as_str(),
            room,
            def.key.as_str(),
            def.kind.as_str(),
            r.value.as_str(),
            r.organisation,
            r.sector,
        ]
        .into_iter()
        .enumerate()
        {
            if n > 0 {
                csv.push(',');
            }
            push_field(&mut csv, field);
        }
        csv.push_str("\r\n");
    }
    csv
}

/// Rewrites the rows' organisation and sector columns by the activity's plan. An empty
/// string is a withheld column.
fn suppress(rows: &mut [Row<'_>], k: u64) {
    let under: Vec<(&str, &str)> = rows.iter().map(|r| (r.organisation, r.sector)).collect();
    let plan = privacy::activity_plan(&under, k);
    for ((r, s), o) in rows.iter_mut().zip(plan.sector).zip(plan.organisation) {
        r.sector = s;
        r.organisation = o;
    }
}

/// Whether a spreadsheet would run the field as a formula: it starts with `=`, `+`, `-`,
/// `@`, tab or CR (OWASP's list against CSV injection). A plain negative number (a scale's
/// `-2`) is a number, not a formula, and stays one.
fn is_formula(field: &str) -> bool {
    let number = field
        .strip_prefix('-')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    !number && field.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Writes one field: a formula gets a leading `'`; then, as RFC 4180 says, a field with a
/// comma, quote, CR or LF is quoted, quotes doubled.
fn push_field(out: &mut String, field: &str) {
    let quote = if is_formula(field) { "'" } else { "" };
    if field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(quote);
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(quote);
        out.push_str(field);
    }
}
