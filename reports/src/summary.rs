//! The [`Summary`]: every figure the report shows, with the small-group rule already applied.
//!
//! After `joinup purge` the raw answers are gone and the Summary is all that is kept, so the
//! documents are built from it alone. Its JSON form is documented in `docs/report.md`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::findings::{self, Findings, SectorDifference, org_key};
use crate::privacy::{self, NOT_GIVEN, PairMember};
pub use crate::questions::{QuestionItem, Questions, SessionQuestions};
use crate::snapshot::{ActivityDef, Answer, AttendeeRecord, Snapshot};
use crate::tallies::{PointsCounts, RankingCounts};
use crate::themes::{self, ThemeSet};

/// The version of the Summary's JSON schema. Bump it when a field changes meaning.
pub const SUMMARY_VERSION: u32 = 1;

/// How many words a words activity keeps (as the live tally does).
pub const TOP_WORDS: usize = 50;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub version: u32,
    pub event: EventInfo,
    /// The small-group threshold `k` used for every breakdown in this Summary.
    pub min_group_size: u64,
    /// True once the raw answers were deleted and only this Summary is kept.
    pub purged: bool,
    /// When the raw answers were deleted (RFC 3339), if they were.
    pub purged_at: Option<String>,
    pub headline: Headline,
    pub attendance: Attendance,
    pub sessions: Vec<SessionInfo>,
    /// Every activity in programme order.
    pub activities: Vec<ActivitySummary>,
    pub rooms: Vec<RoomSummary>,
    pub learning: Vec<LearningGain>,
    pub questions: Questions,
    pub pledges: Vec<PledgeSummary>,
    pub directory: Vec<CardItem>,
    /// This edition beside the previous one of the same series, when one was given.
    pub comparison: Option<Comparison>,
    /// The organiser's own words from the spec.
    #[serde(default)]
    pub introduction: Option<String>,
    #[serde(default)]
    pub next_steps: Option<String>,
    /// Open text grouped into themes: each text activity, then the questions.
    #[serde(default)]
    pub themes: Vec<ThemeSet>,
    /// How each sector group differs from the rest, activity by activity.
    #[serde(default)]
    pub sector_differences: Vec<SectorDifference>,
    /// What the day found, from the figures above.
    #[serde(default)]
    pub findings: Findings,
}

impl Summary {
    /// Records that the raw answers were deleted at `at` (RFC 3339): the documents built from
    /// this Summary from now on say so.
    pub fn mark_purged(&mut self, at: &str) {
        self.purged = true;
        self.purged_at = Some(at.to_owned());
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EventInfo {
    pub code: String,
    pub title: String,
    pub series: Option<String>,
    pub starts_at: Option<String>,
    pub created_at: String,
    pub ended_at: Option<String>,
    /// `live` or `ended` when summarised.
    pub state: String,
    /// The phase it was in when summarised: `before`, `live`, `after` or `closed`
    /// (empty in a Summary kept from before phases).
    #[serde(default)]
    pub phase: String,
    /// The event's day, `YYYY-MM-DD` (from `starts_at`, else `created_at`).
    pub date: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Headline {
    /// Every attendee ever welcomed.
    pub attendees: u64,
    /// The most attendees connected at once.
    pub peak_present: u64,
    /// Distinct organisations given by attendees, registered or typed.
    pub organisations_represented: u64,
    pub registered_organisations: u64,
    pub registered_organisations_represented: u64,
    /// Registered organisations with no attendee, in spec order.
    pub missing_organisations: Vec<String>,
    /// Distinct sectors given by attendees.
    pub sectors_represented: u64,
    pub registered_sectors: u64,
    /// Registered sectors with no attendee, in spec order.
    pub missing_sectors: Vec<String>,
    /// Attendees who answered at least one activity.
    pub respondents: u64,
    /// Current answers, all activities together.
    pub answers: u64,
    /// Questions asked in the Q&A, whatever their moderation state.
    pub questions_asked: u64,
    /// Pledge signatures, all pledge activities together.
    pub pledge_signatures: u64,
    /// Distinct organisations (named) that signed a pledge.
    pub pledge_organisations: u64,
}

/// A named count. Attendance and pledge signatures are shown whole.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GroupCount {
    pub name: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OrganisationCount {
    pub name: String,
    /// The registered sector of the organisation; `None` for a typed (unregistered) name.
    pub sector: Option<String>,
    pub registered: bool,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attendance {
    /// Attendees by their current sector, largest first, `Not given` last.
    pub by_sector: Vec<GroupCount>,
    /// Attendees by their current organisation, largest first, `Not given` last.
    pub by_organisation: Vec<OrganisationCount>,
    /// Attendees by their chosen break-out room, in programme order, then `Not given`.
    pub by_room: Vec<GroupCount>,
    /// Attendees connected, one point a minute.
    pub over_time: Vec<PresencePoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PresencePoint {
    /// `YYYY-MM-DDTHH:MMZ`.
    pub minute: String,
    pub present: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionInfo {
    pub key: String,
    pub title: String,
    pub room: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ActivitySummary {
    pub key: String,
    pub prompt: String,
    pub session: String,
    pub room: Option<String>,
    /// `ready`, `open` or `closed` when summarised.
    pub state: String,
    /// Attendees who could see the activity: everyone, or for a room's activity the
    /// attendees in that room (plus anyone who answered it before moving room).
    pub audience: u64,
    /// Attendees who answered.
    pub respondents: u64,
    /// `respondents / audience`, from 0 to 1; `None` with no audience.
    pub response_rate: Option<f64>,
    pub result: ActivityResult,
    /// Choice, scale, ranking and points: the tally by respondents' sector after the
    /// small-group rule.
    /// `None` for other kinds; an empty list when the rule withholds the breakdown.
    pub by_sector: Option<Vec<GroupTally>>,
    /// An activity for after the event (`window: "after"`), which opens only once the
    /// live part has ended: its respondents, who all answered after the day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_after: Option<u64>,
}

impl ActivitySummary {
    pub fn kind(&self) -> &'static str {
        self.result.kind()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActivityResult {
    Choice {
        options: Vec<String>,
        multiple: bool,
        /// Respondents who chose each option.
        counts: Vec<u64>,
    },
    Scale {
        min: i64,
        max: i64,
        label_min: Option<String>,
        label_max: Option<String>,
        /// Respondents for each point `min..=max`.
        counts: Vec<u64>,
        mean: Option<f64>,
        pair: Option<String>,
        phase: Option<String>,
    },
    Words {
        /// Entries given, all respondents together.
        entries: u64,
        /// Distinct entries.
        distinct: u64,
        /// At most 50, by count then alphabetically.
        top: Vec<GroupCount>,
    },
    Text {
        /// The approved answers, sorted alphabetically (never in answer order).
        approved: Vec<String>,
        /// Answers not quoted: pending or hidden by moderation.
        not_quoted: u64,
    },
    Pledge {
        text: Option<String>,
        /// Signatures by organisation, largest first (`Not given` last): shown whole.
        organisations: Vec<GroupCount>,
    },
    Ranking {
        options: Vec<String>,
        /// Each option's mean rank (1 = most important), unrounded; `None` with no answers.
        mean_rank: Vec<Option<f64>>,
        /// Respondents who ranked each option first.
        first: Vec<u64>,
    },
    Points {
        options: Vec<String>,
        /// The points each respondent shared out.
        budget: u64,
        /// Points given to each option, all respondents together.
        points: Vec<u64>,
        /// Each option's share of all points given (0 to 1); `None` with no answers.
        shares: Vec<Option<f64>>,
    },
}

impl ActivityResult {
    pub fn kind(&self) -> &'static str {
        match self {
            ActivityResult::Choice { .. } => "choice",
            ActivityResult::Scale { .. } => "scale",
            ActivityResult::Words { .. } => "words",
            ActivityResult::Text { .. } => "text",
            ActivityResult::Pledge { .. } => "pledge",
            ActivityResult::Ranking { .. } => "ranking",
            ActivityResult::Points { .. } => "points",
        }
    }
}

/// One group of a breakdown by sector: its respondents and their tally.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GroupTally {
    pub group: String,
    pub total: u64,
    /// As the activity's `counts`; for a ranking its `first`, for points its `points`.
    pub counts: Vec<u64>,
    /// Scale only.
    pub mean: Option<f64>,
    /// Ranking only: each option's mean rank in this group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_rank: Option<Vec<Option<f64>>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RoomSummary {
    pub name: String,
    /// Attendees whose chosen room this is.
    pub attendees: u64,
    /// Session keys held in this room, in programme order.
    pub sessions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LearningGain {
    /// The `pair` topic.
    pub topic: String,
    pub pre_key: String,
    pub post_key: String,
    pub pre_prompt: String,
    pub post_prompt: String,
    pub min: i64,
    pub max: i64,
    /// Attendees who answered both.
    pub paired: u64,
    /// True when the small-group rule withholds the paired figures (means, changes, by
    /// sector): shown beside the two questions' own results, they would let a reader work
    /// out the answers of fewer than `k` people. They are then `null`, `0` or empty.
    #[serde(default)]
    pub withheld: bool,
    /// Means over the paired attendees only.
    pub mean_pre: Option<f64>,
    pub mean_post: Option<f64>,
    pub mean_change: Option<f64>,
    pub improved: u64,
    pub stayed: u64,
    pub fell: u64,
    /// Paired attendees by change (post minus pre), every change from `min-max` to `max-min`.
    pub change_counts: Vec<ChangeCount>,
    /// Attendees who answered only the pre (or only the post) question: never in the gain.
    pub pre_only: u64,
    pub post_only: u64,
    /// Their mean, only when there are at least `k` of them and the paired figures are shown.
    pub pre_only_mean: Option<f64>,
    pub post_only_mean: Option<f64>,
    /// The gain by the sector of paired attendees' `pre` answers, after the small-group rule
    /// for pairs (`privacy::pair_plan`); empty when withheld.
    pub by_sector: Vec<GainGroup>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChangeCount {
    pub change: i64,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GainGroup {
    pub group: String,
    pub paired: u64,
    pub mean_change: f64,
    pub improved: u64,
    pub stayed: u64,
    pub fell: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PledgeSummary {
    pub key: String,
    pub prompt: String,
    pub text: Option<String>,
    pub signatures: u64,
    /// Signatures by organisation, largest first (`Not given` last).
    pub organisations: Vec<GroupCount>,
    /// Registered organisations with an attendee in the audience but no signature.
    pub registered_not_signed: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CardItem {
    pub name: Option<String>,
    pub role: Option<String>,
    pub organisation: String,
    pub service: String,
    pub offer: String,
    pub referral: String,
    pub contact: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Comparison {
    pub previous_code: String,
    pub previous_title: String,
    pub previous_date: String,
    pub attendees: Change,
    pub peak_present: Change,
    pub organisations_represented: Change,
    pub sectors_represented: Change,
    /// Attendance by sector in both editions (shown whole), in this year's order then
    /// sectors only last year had.
    pub sector_mix: Vec<SectorMix>,
    /// Activities whose key is in both editions with the same kind, in this year's order.
    pub activities: Vec<ActivityComparison>,
    pub learning: Vec<LearningComparison>,
    /// Keys only this edition has, only the previous one had, or whose kind changed.
    pub only_current: Vec<String>,
    pub only_previous: Vec<String>,
    pub kind_changed: Vec<String>,
    /// Organisations at both editions, only at this one, only at the previous one (names
    /// matched ignoring case and punctuation), alphabetically.
    #[serde(default)]
    pub organisations_returning: Vec<String>,
    #[serde(default)]
    pub organisations_new: Vec<String>,
    #[serde(default)]
    pub organisations_lapsed: Vec<String>,
    /// Words activities in both editions: their top entries side by side.
    #[serde(default)]
    pub words: Vec<WordsComparison>,
    /// Pledges with the same key in both: per organisation, who signed of who attended.
    #[serde(default)]
    pub pledge: Vec<PledgeComparison>,
    /// What the previous edition's organiser said would happen next.
    #[serde(default)]
    pub previous_next_steps: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WordsComparison {
    pub key: String,
    pub prompt: String,
    /// The ten most given entries of each edition.
    pub previous_top: Vec<GroupCount>,
    pub current_top: Vec<GroupCount>,
}

/// One organisation's pledge in both editions: signatures of its attendees. Attendance and
/// signatures are shown whole.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PledgeComparison {
    pub organisation: String,
    pub previous_signed: u64,
    pub previous_attendees: u64,
    pub current_signed: u64,
    pub current_attendees: u64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Change {
    pub previous: u64,
    pub current: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SectorMix {
    pub sector: String,
    pub previous: u64,
    pub current: u64,
    /// Shares of each edition's attendees, 0 to 1.
    pub previous_share: f64,
    pub current_share: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ActivityComparison {
    pub key: String,
    pub kind: String,
    pub prompt: String,
    pub previous_respondents: u64,
    pub current_respondents: u64,
    pub previous_rate: Option<f64>,
    pub current_rate: Option<f64>,
    /// Scale only.
    pub previous_mean: Option<f64>,
    pub current_mean: Option<f64>,
    /// Choice only: each option's share of respondents, matched by label.
    pub options: Vec<OptionShare>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OptionShare {
    pub label: String,
    pub previous_share: Option<f64>,
    pub current_share: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LearningComparison {
    pub topic: String,
    pub previous_paired: u64,
    pub current_paired: u64,
    pub previous_mean_change: Option<f64>,
    pub current_mean_change: Option<f64>,
}

/// The sector a respondent is counted under.
pub(crate) fn sector_of(s: &Option<String>) -> &str {
    s.as_deref()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(NOT_GIVEN)
}

/// The (organisation, sector) an answer counts under: the attendee's profile when they gave
/// it (`Not given` for none).
pub(crate) fn answered_under<'a>(att: &'a AttendeeRecord, key: &str) -> (&'a str, &'a str) {
    match att.answered_as.get(key) {
        Some(p) => (sector_of(&p.organisation), sector_of(&p.sector)),
        None => (sector_of(&att.organisation), sector_of(&att.sector)),
    }
}

/// The plan of an activity ([`privacy::activity_plan`]) with its respondents:
/// (attendee index, answer) in attendee order. `answers.csv` makes the same plan from the
/// same respondents.
pub(crate) fn planned<'a>(
    snapshot: &'a Snapshot,
    def: &ActivityDef,
) -> (Vec<(usize, &'a Answer)>, privacy::ActivityPlan<'a>) {
    let mut who = Vec::new();
    let mut under = Vec::new();
    for (i, att) in snapshot.attendees.iter().enumerate() {
        if let Some(answer) = att.answers.get(&def.key)
            && answer_fits(def, answer)
        {
            who.push((i, answer));
            under.push(answered_under(att, &def.key));
        }
    }
    let plan = privacy::activity_plan(&under, snapshot.min_group_size);
    (who, plan)
}

/// Can this attendee see the activity? Plenary activities go to everyone; a room's only to
/// that room's attendees (and anyone who answered it before moving room).
fn in_audience(
    activity: &ActivityDef,
    room: &Option<String>,
    answers: &BTreeMap<String, Answer>,
) -> bool {
    match &activity.room {
        None => true,
        Some(r) => room.as_deref() == Some(r.as_str()) || answers.contains_key(&activity.key),
    }
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// Sorts counts largest first, then by name, with `Not given` last.
fn sorted_counts(map: HashMap<&str, u64>) -> Vec<GroupCount> {
    let mut v: Vec<GroupCount> = map
        .into_iter()
        .map(|(n, c)| GroupCount {
            name: n.to_owned(),
            count: c,
        })
        .collect();
    v.sort_by(|a, b| {
        (a.name == NOT_GIVEN)
            .cmp(&(b.name == NOT_GIVEN))
            .then(b.count.cmp(&a.count))
            .then_with(|| a.name.cmp(&b.name))
    });
    v
}

fn date_of(s: &str) -> String {
    s.get(..10).unwrap_or(s).to_owned()
}

/// A tally being built: per option (choice) or per point (scale).
#[derive(Default, Clone)]
struct Acc {
    total: u64,
    counts: Vec<u64>,
    sum: i64,
}

/// Builds every figure the report shows. `previous` is the previous edition of the same
/// series, already summarised, for the year-on-year comparison.
pub fn summarise(snapshot: &Snapshot, previous: Option<&Summary>) -> Summary {
    let k = snapshot.min_group_size;
    let n_act = snapshot.activities.len();
    let index: HashMap<&str, usize> = snapshot
        .activities
        .iter()
        .enumerate()
        .map(|(i, a)| (a.key.as_str(), i))
        .collect();

    // Per activity: audience, overall tally, tally per sector.
    let mut audience = vec![0u64; n_act];
    let mut overall: Vec<Acc> = snapshot
        .activities
        .iter()
        .map(|a| Acc {
            counts: vec![0; slots(a)],
            ..Acc::default()
        })
        .collect();
    let mut words: Vec<HashMap<&str, u64>> = vec![HashMap::new(); n_act];
    let mut word_entries = vec![0u64; n_act];
    let mut texts: Vec<Vec<&str>> = vec![Vec::new(); n_act];
    let mut not_quoted = vec![0u64; n_act];
    let mut pledge_orgs: Vec<HashMap<&str, u64>> = vec![HashMap::new(); n_act];
    let mut rankings: Vec<RankingCounts> = snapshot
        .activities
        .iter()
        .map(|a| RankingCounts::new(a.options.len()))
        .collect();
    let mut points: Vec<PointsCounts> = snapshot
        .activities
        .iter()
        .map(|a| PointsCounts::new(a.options.len()))
        .collect();

    let mut by_sector: HashMap<&str, u64> = HashMap::new();
    let mut by_org: HashMap<&str, u64> = HashMap::new();
    let mut by_room: HashMap<&str, u64> = HashMap::new();
    let mut respondents = 0u64;
    let mut answers_total = 0u64;

    for att in &snapshot.attendees {
        let sector = sector_of(&att.sector);
        let org = sector_of(&att.organisation);
        *by_sector.entry(sector).or_default() += 1;
        *by_org.entry(org).or_default() += 1;
        *by_room.entry(sector_of(&att.room)).or_default() += 1;
        for (i, a) in snapshot.activities.iter().enumerate() {
            if in_audience(a, &att.room, &att.answers) {
                audience[i] += 1;
            }
        }
        let mut answered_any = false;
        for (key, answer) in &att.answers {
            let Some(&i) = index.get(key.as_str()) else {
                continue;
            };
            let def = &snapshot.activities[i];
            if !answer_fits(def, answer) {
                continue;
            }
            answered_any = true;
            answers_total += 1;
            match answer {
                Answer::Choice(_) | Answer::Scale(_) => add(&mut overall[i], def, answer),
                Answer::Words(ws) => {
                    overall[i].total += 1;
                    for w in ws {
                        word_entries[i] += 1;
                        *words[i].entry(w.as_str()).or_default() += 1;
                    }
                }
                Answer::Text(t) => {
                    overall[i].total += 1;
                    if att.text_states.get(key).map(String::as_str) == Some("approved") {
                        texts[i].push(t.as_str());
                    } else {
                        not_quoted[i] += 1;
                    }
                }
                Answer::Pledge => {
                    overall[i].total += 1;
                    *pledge_orgs[i].entry(org).or_default() += 1;
                }
                Answer::Ranking(order) => {
                    overall[i].total += 1;
                    rankings[i].add(order.iter().copied());
                }
                Answer::Points(given) => {
                    overall[i].total += 1;
                    points[i].add(given.iter().copied());
                }
            }
        }
        if answered_any {
            respondents += 1;
        }
    }

    // Organisations typed differently ("St Mary's", "st marys") are one.
    let by_org = one_spelling(by_org, snapshot);
    let mut pledge_orgs: Vec<HashMap<&str, u64>> = pledge_orgs
        .into_iter()
        .map(|m| one_spelling(m, snapshot))
        .collect();

    let mut activities = Vec::with_capacity(n_act);
    for (i, def) in snapshot.activities.iter().enumerate() {
        let acc = &overall[i];
        let result = match def.kind.as_str() {
            "choice" => ActivityResult::Choice {
                options: def.options.clone(),
                multiple: def.multiple,
                counts: acc.counts.clone(),
            },
            "scale" => ActivityResult::Scale {
                min: def.min.unwrap_or(0),
                max: def.max.unwrap_or(0),
                label_min: def.label_min.clone(),
                label_max: def.label_max.clone(),
                counts: acc.counts.clone(),
                mean: mean(acc),
                pair: def.pair.clone(),
                phase: def.phase.clone(),
            },
            "words" => {
                let distinct = words[i].len() as u64;
                let mut top = sorted_counts(std::mem::take(&mut words[i]));
                top.truncate(TOP_WORDS);
                ActivityResult::Words {
                    entries: word_entries[i],
                    distinct,
                    top,
                }
            }
            "text" => {
                let mut approved: Vec<String> = texts[i].iter().map(|s| (*s).to_owned()).collect();
                approved.sort();
                ActivityResult::Text {
                    approved,
                    not_quoted: not_quoted[i],
                }
            }
            "ranking" => ActivityResult::Ranking {
                options: def.options.clone(),
                mean_rank: rankings[i].mean_ranks(),
                first: rankings[i].first.clone(),
            },
            "points" => ActivityResult::Points {
                options: def.options.clone(),
                budget: def.budget.unwrap_or(0),
                points: points[i].points.clone(),
                shares: points[i].shares(),
            },
            _ => ActivityResult::Pledge {
                text: def.pledge_text.clone(),
                organisations: sorted_counts(std::mem::take(&mut pledge_orgs[i])),
            },
        };
        let by_sector = matches!(def.kind.as_str(), "choice" | "scale" | "ranking" | "points")
            .then(|| sector_breakdown(snapshot, def));
        activities.push(ActivitySummary {
            key: def.key.clone(),
            prompt: def.prompt.clone(),
            session: def.session.clone(),
            room: def.room.clone(),
            state: def.state.clone(),
            audience: audience[i],
            respondents: acc.total,
            response_rate: ratio(acc.total, audience[i]),
            result,
            by_sector,
            answered_after: (def.window.as_deref() == Some("after")).then_some(acc.total),
        });
    }

    let headline = headline(
        snapshot,
        &by_sector,
        &by_org,
        respondents,
        answers_total,
        &activities,
    );
    let attendance = attendance(snapshot, &by_sector, &by_org, &by_room);
    let learning = learning(snapshot, k);
    let pledges = pledges(snapshot, &activities);

    let rooms = snapshot
        .rooms
        .iter()
        .map(|r| RoomSummary {
            name: r.clone(),
            attendees: by_room.get(r.as_str()).copied().unwrap_or(0),
            sessions: snapshot
                .sessions
                .iter()
                .filter(|s| s.room.as_deref() == Some(r.as_str()))
                .map(|s| s.key.clone())
                .collect(),
        })
        .collect();

    let questions = crate::questions::summarise(snapshot);

    let mut directory: Vec<CardItem> = snapshot
        .cards
        .iter()
        .filter(|c| c.state == "approved")
        .map(|c| CardItem {
            name: c.name.clone(),
            role: c.role.clone(),
            organisation: c.organisation.clone(),
            service: c.service.clone(),
            offer: c.offer.clone(),
            referral: c.referral.clone(),
            contact: c.contact.clone(),
        })
        .collect();
    directory.sort_by(|a, b| {
        (a.organisation.to_lowercase(), a.service.to_lowercase())
            .cmp(&(b.organisation.to_lowercase(), b.service.to_lowercase()))
    });

    let event = EventInfo {
        code: snapshot.code.clone(),
        title: snapshot.title.clone(),
        series: snapshot.series.clone(),
        starts_at: snapshot.starts_at.clone(),
        created_at: snapshot.created_at.clone(),
        ended_at: snapshot.ended_at.clone(),
        state: snapshot.state.clone(),
        phase: snapshot.phase.clone(),
        date: date_of(
            snapshot
                .starts_at
                .as_deref()
                .unwrap_or(&snapshot.created_at),
        ),
    };

    let mut summary = Summary {
        version: SUMMARY_VERSION,
        event,
        min_group_size: k,
        purged: false,
        purged_at: None,
        headline,
        attendance,
        sessions: snapshot
            .sessions
            .iter()
            .map(|s| SessionInfo {
                key: s.key.clone(),
                title: s.title.clone(),
                room: s.room.clone(),
            })
            .collect(),
        activities,
        rooms,
        learning,
        questions,
        pledges,
        directory,
        comparison: None,
        introduction: clean(&snapshot.introduction),
        next_steps: clean(&snapshot.next_steps),
        themes: theme_sets(snapshot, &texts_by_activity(snapshot)),
        sector_differences: Vec::new(),
        findings: Findings::default(),
    };
    summary.comparison = previous.map(|p| compare(p, &summary));
    summary.sector_differences = findings::sector_differences(&summary);
    summary.findings = findings::findings(&summary, previous);
    summary
}

fn clean(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// Merges counts of organisation names that are one organisation typed differently, under
/// the registered name when one matches, else the most used spelling (ties: the first in
/// byte order).
fn one_spelling<'a>(
    counts: HashMap<&'a str, u64>,
    snapshot: &'a Snapshot,
) -> HashMap<&'a str, u64> {
    let registered: HashMap<String, &str> = snapshot
        .organisations
        .iter()
        .map(|o| (org_key(&o.name), o.name.as_str()))
        .collect();
    let mut groups: BTreeMap<String, Vec<(&'a str, u64)>> = BTreeMap::new();
    for (name, c) in counts {
        let key = if name == NOT_GIVEN {
            NOT_GIVEN.to_owned()
        } else {
            org_key(name)
        };
        groups.entry(key).or_default().push((name, c));
    }
    let mut out = HashMap::new();
    for (key, mut spellings) in groups {
        spellings.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let name = registered.get(&key).copied().unwrap_or(spellings[0].0);
        out.insert(name, spellings.iter().map(|s| s.1).sum());
    }
    out
}

/// The approved answers of each text activity, by activity index.
fn texts_by_activity(snapshot: &Snapshot) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = vec![Vec::new(); snapshot.activities.len()];
    for att in &snapshot.attendees {
        for (i, def) in snapshot.activities.iter().enumerate() {
            if def.kind != "text" {
                continue;
            }
            if let Some(Answer::Text(t)) = att.answers.get(&def.key)
                && att.text_states.get(&def.key).map(String::as_str) == Some("approved")
            {
                out[i].push(t.as_str());
            }
        }
    }
    out
}

/// Themes of each text activity's approved answers, then of the visible questions.
fn theme_sets(snapshot: &Snapshot, texts: &[Vec<&str>]) -> Vec<ThemeSet> {
    let k = snapshot.min_group_size;
    let names = &snapshot.theme_names;
    let mut out: Vec<ThemeSet> = snapshot
        .activities
        .iter()
        .zip(texts)
        .filter(|(def, _)| def.kind == "text")
        .map(|(def, t)| themes::theme_set(&def.key, &def.prompt, t, names, k))
        .collect();
    let questions: Vec<&str> = snapshot
        .questions
        .iter()
        .filter(|q| q.state == "approved" || q.state == "answered")
        .map(|q| q.text.as_str())
        .collect();
    if !questions.is_empty() {
        out.push(themes::theme_set(
            "questions",
            "Questions from the floor",
            &questions,
            names,
            k,
        ));
    }
    out
}

/// Slots of a tally: options for a choice, points for a scale.
fn slots(def: &ActivityDef) -> usize {
    match def.kind.as_str() {
        "choice" => def.options.len(),
        "scale" => match (def.min, def.max) {
            (Some(lo), Some(hi)) if hi >= lo && hi - lo <= 100 => (hi - lo + 1) as usize,
            _ => 0,
        },
        _ => 0,
    }
}

/// Does the answer fit its activity? Answers that do not (a stale shape) are left out.
pub(crate) fn answer_fits(def: &ActivityDef, answer: &Answer) -> bool {
    match (def.kind.as_str(), answer) {
        ("choice", Answer::Choice(ix)) => {
            !ix.is_empty() && ix.iter().all(|&i| i < def.options.len())
        }
        ("scale", Answer::Scale(v)) => match (def.min, def.max) {
            (Some(lo), Some(hi)) => (lo..=hi).contains(v) && slots(def) > 0,
            _ => false,
        },
        ("words", Answer::Words(_)) | ("text", Answer::Text(_)) | ("pledge", Answer::Pledge) => {
            true
        }
        // Every option once.
        ("ranking", Answer::Ranking(order)) => {
            let mut seen = vec![false; def.options.len()];
            order.len() == seen.len()
                && order
                    .iter()
                    .all(|&i| i < seen.len() && !std::mem::replace(&mut seen[i], true))
        }
        // One number per option, the whole budget spent.
        ("points", Answer::Points(given)) => {
            given.len() == def.options.len()
                && def.budget.is_none_or(|b| {
                    given.iter().try_fold(0u64, |a, &n| a.checked_add(n)) == Some(b)
                })
        }
        _ => false,
    }
}

fn add(acc: &mut Acc, def: &ActivityDef, answer: &Answer) {
    acc.total += 1;
    match answer {
        Answer::Choice(ix) => {
            for &i in ix {
                if let Some(c) = acc.counts.get_mut(i) {
                    *c += 1;
                }
            }
        }
        Answer::Scale(v) => {
            let lo = def.min.unwrap_or(0);
            if let Some(c) = acc.counts.get_mut((v - lo) as usize) {
                *c += 1;
            }
            acc.sum += v;
        }
        _ => {}
    }
}

fn mean(acc: &Acc) -> Option<f64> {
    (acc.total > 0).then(|| acc.sum as f64 / acc.total as f64)
}

/// The activity's tally by sector group, as its plan publishes it.
fn sector_breakdown(snapshot: &Snapshot, def: &ActivityDef) -> Vec<GroupTally> {
    let (who, plan) = planned(snapshot, def);
    plan.sector_groups()
        .into_iter()
        .map(|(group, members)| {
            match def.kind.as_str() {
                "ranking" => {
                    let mut counts = RankingCounts::new(def.options.len());
                    for m in &members {
                        if let Answer::Ranking(order) = who[*m].1 {
                            counts.add(order.iter().copied());
                        }
                    }
                    return GroupTally {
                        group,
                        total: counts.total,
                        mean: None,
                        mean_rank: Some(counts.mean_ranks()),
                        counts: counts.first,
                    };
                }
                "points" => {
                    let mut counts = PointsCounts::new(def.options.len());
                    for m in &members {
                        if let Answer::Points(given) = who[*m].1 {
                            counts.add(given.iter().copied());
                        }
                    }
                    return GroupTally {
                        group,
                        total: counts.total,
                        mean: None,
                        mean_rank: None,
                        counts: counts.points,
                    };
                }
                _ => {}
            }
            let mut acc = Acc {
                counts: vec![0; slots(def)],
                ..Acc::default()
            };
            for m in members {
                add(&mut acc, def, who[m].1);
            }
            GroupTally {
                group,
                total: acc.total,
                mean: if def.kind == "scale" {
                    mean(&acc)
                } else {
                    None
                },
                mean_rank: None,
                counts: acc.counts,
            }
        })
        .collect()
}

fn headline(
    snapshot: &Snapshot,
    by_sector: &HashMap<&str, u64>,
    by_org: &HashMap<&str, u64>,
    respondents: u64,
    answers: u64,
    activities: &[ActivitySummary],
) -> Headline {
    let registered_present = snapshot
        .organisations
        .iter()
        .filter(|o| by_org.contains_key(o.name.as_str()))
        .count() as u64;
    let mut pledge_signatures = 0;
    let mut pledge_orgs: BTreeSet<&str> = BTreeSet::new();
    for a in activities {
        if let ActivityResult::Pledge { organisations, .. } = &a.result {
            pledge_signatures += a.respondents;
            pledge_orgs.extend(
                organisations
                    .iter()
                    .filter(|g| g.name != NOT_GIVEN)
                    .map(|g| g.name.as_str()),
            );
        }
    }
    Headline {
        attendees: snapshot.attendees.len() as u64,
        peak_present: snapshot.peak_present.max(
            snapshot
                .presence
                .iter()
                .map(|p| p.present)
                .max()
                .unwrap_or(0),
        ),
        organisations_represented: by_org.keys().filter(|n| **n != NOT_GIVEN).count() as u64,
        registered_organisations: snapshot.organisations.len() as u64,
        registered_organisations_represented: registered_present,
        missing_organisations: snapshot
            .organisations
            .iter()
            .filter(|o| !by_org.contains_key(o.name.as_str()))
            .map(|o| o.name.clone())
            .collect(),
        sectors_represented: by_sector.keys().filter(|n| **n != NOT_GIVEN).count() as u64,
        registered_sectors: snapshot.sectors.len() as u64,
        missing_sectors: snapshot
            .sectors
            .iter()
            .filter(|s| !by_sector.contains_key(s.as_str()))
            .cloned()
            .collect(),
        respondents,
        answers,
        questions_asked: snapshot.questions.len() as u64,
        pledge_signatures,
        pledge_organisations: pledge_orgs.len() as u64,
    }
}

fn attendance(
    snapshot: &Snapshot,
    by_sector: &HashMap<&str, u64>,
    by_org: &HashMap<&str, u64>,
    by_room: &HashMap<&str, u64>,
) -> Attendance {
    let registered: HashMap<&str, &str> = snapshot
        .organisations
        .iter()
        .map(|o| (o.name.as_str(), o.sector.as_str()))
        .collect();
    let by_organisation = sorted_counts(by_org.clone())
        .into_iter()
        .map(|g| OrganisationCount {
            sector: registered.get(g.name.as_str()).map(|s| (*s).to_owned()),
            registered: registered.contains_key(g.name.as_str()),
            name: g.name,
            count: g.count,
        })
        .collect();
    let mut rooms: Vec<GroupCount> = snapshot
        .rooms
        .iter()
        .filter_map(|r| {
            by_room.get(r.as_str()).map(|&c| GroupCount {
                name: r.clone(),
                count: c,
            })
        })
        .collect();
    // Rooms an attendee chose that the programme no longer lists, then no room.
    let mut extra: Vec<(&str, u64)> = by_room
        .iter()
        .filter(|(r, _)| **r != NOT_GIVEN && !snapshot.rooms.iter().any(|x| x == *r))
        .map(|(r, c)| (*r, *c))
        .collect();
    extra.sort_unstable();
    rooms.extend(extra.into_iter().map(|(r, c)| GroupCount {
        name: r.to_owned(),
        count: c,
    }));
    if let Some(&c) = by_room.get(NOT_GIVEN) {
        rooms.push(GroupCount {
            name: NOT_GIVEN.to_owned(),
            count: c,
        });
    }
    Attendance {
        by_sector: sorted_counts(by_sector.clone()),
        by_organisation,
        by_room: rooms,
        over_time: snapshot
            .presence
            .iter()
            .map(|p| PresencePoint {
                minute: p.minute.clone(),
                present: p.present,
            })
            .collect(),
    }
}

fn learning(snapshot: &Snapshot, k: u64) -> Vec<LearningGain> {
    // Topics in programme order of their pre question.
    let mut topics: Vec<&str> = Vec::new();
    for a in &snapshot.activities {
        if let Some(p) = &a.pair
            && a.kind == "scale"
            && !topics.contains(&p.as_str())
        {
            topics.push(p);
        }
    }
    let mut out = Vec::new();
    for topic in topics {
        let find = |phase: &str| {
            snapshot.activities.iter().find(|a| {
                a.kind == "scale"
                    && a.pair.as_deref() == Some(topic)
                    && a.phase.as_deref() == Some(phase)
            })
        };
        let (Some(pre), Some(post)) = (find("pre"), find("post")) else {
            continue;
        };
        out.push(gain(snapshot, topic, pre, post, k));
    }
    out
}

/// One person's part in a pair: their pre and post answers, if any.
#[derive(Clone, Copy, Default)]
struct PairAnswers {
    pre: Option<i64>,
    post: Option<i64>,
}

/// Figures of the change over some paired people: (paired, sum of change, improved, stayed,
/// fell).
fn change_totals<'a>(people: impl Iterator<Item = &'a PairAnswers>) -> (u64, i64, u64, u64, u64) {
    let mut g = (0u64, 0i64, 0u64, 0u64, 0u64);
    for p in people {
        let (Some(a), Some(b)) = (p.pre, p.post) else {
            continue;
        };
        let d = b - a;
        g.0 += 1;
        g.1 += d;
        match d.cmp(&0) {
            std::cmp::Ordering::Greater => g.2 += 1,
            std::cmp::Ordering::Equal => g.3 += 1,
            std::cmp::Ordering::Less => g.4 += 1,
        }
    }
    g
}

/// The learning gain of one topic, under the pair's plan ([`privacy::pair_plan`]): the same
/// plans of the two activities as their own figures and `answers.csv` use.
fn gain(
    snapshot: &Snapshot,
    topic: &str,
    pre: &ActivityDef,
    post: &ActivityDef,
    k: u64,
) -> LearningGain {
    let (lo, hi) = (pre.min.unwrap_or(0), pre.max.unwrap_or(0));
    let span = (hi - lo)
        .max(post.max.unwrap_or(0) - post.min.unwrap_or(0))
        .max(0);
    let (pre_who, pre_plan) = planned(snapshot, pre);
    let (post_who, post_plan) = planned(snapshot, post);
    let (pre_cells, post_cells) = (pre_plan.cells(), post_plan.cells());
    // Everyone who answered either, by attendee, in attendee order.
    let mut people: BTreeMap<usize, (PairAnswers, PairMember<'_>)> = BTreeMap::new();
    let blank = || {
        (
            PairAnswers::default(),
            PairMember {
                pre: None,
                post: None,
                pre_group: "",
            },
        )
    };
    for (n, (att, answer)) in pre_who.iter().enumerate() {
        let entry = people.entry(*att).or_insert_with(blank);
        if let Answer::Scale(v) = answer {
            entry.0.pre = Some(*v);
        }
        entry.1.pre = Some(pre_cells[n]);
        entry.1.pre_group = pre_plan.sector[n];
    }
    for (n, (att, answer)) in post_who.iter().enumerate() {
        let entry = people.entry(*att).or_insert_with(blank);
        if let Answer::Scale(v) = answer {
            entry.0.post = Some(*v);
        }
        entry.1.post = Some(post_cells[n]);
    }
    let (answers, members): (Vec<PairAnswers>, Vec<PairMember<'_>>) = people.into_values().unzip();
    let plan = privacy::pair_plan(&members, k);

    let mut changes: BTreeMap<i64, u64> = (-span..=span).map(|c| (c, 0)).collect();
    let (mut sum_pre, mut sum_post) = (0i64, 0i64);
    let (mut pre_only, mut post_only, mut sum_pre_only, mut sum_post_only) =
        (0u64, 0u64, 0i64, 0i64);
    for p in &answers {
        match (p.pre, p.post) {
            (Some(a), Some(b)) => {
                sum_pre += a;
                sum_post += b;
                *changes.entry(b - a).or_default() += 1;
            }
            (Some(a), None) => {
                pre_only += 1;
                sum_pre_only += a;
            }
            (None, Some(b)) => {
                post_only += 1;
                sum_post_only += b;
            }
            (None, None) => {}
        }
    }
    let (paired, _, improved, stayed, fell) = change_totals(answers.iter());
    let by_sector = plan
        .groups
        .iter()
        .map(|(group, held)| {
            let g = change_totals(held.iter().map(|&i| &answers[i]));
            GainGroup {
                group: group.clone(),
                paired: g.0,
                mean_change: g.1 as f64 / g.0.max(1) as f64,
                improved: g.2,
                stayed: g.3,
                fell: g.4,
            }
        })
        .collect();
    let avg = |s: i64, n: u64| (n > 0).then(|| s as f64 / n as f64);
    let shown = plan.paired;
    LearningGain {
        topic: topic.to_owned(),
        pre_key: pre.key.clone(),
        post_key: post.key.clone(),
        pre_prompt: pre.prompt.clone(),
        post_prompt: post.prompt.clone(),
        min: lo,
        max: hi,
        paired,
        withheld: paired > 0 && !shown,
        mean_pre: avg(sum_pre, paired).filter(|_| shown),
        mean_post: avg(sum_post, paired).filter(|_| shown),
        mean_change: avg(sum_post - sum_pre, paired).filter(|_| shown),
        improved: if shown { improved } else { 0 },
        stayed: if shown { stayed } else { 0 },
        fell: if shown { fell } else { 0 },
        change_counts: if shown {
            changes
                .into_iter()
                .map(|(change, count)| ChangeCount { change, count })
                .collect()
        } else {
            Vec::new()
        },
        pre_only,
        post_only,
        pre_only_mean: avg(sum_pre_only, pre_only).filter(|_| plan.pre_only),
        post_only_mean: avg(sum_post_only, post_only).filter(|_| plan.post_only),
        by_sector,
    }
}

fn pledges(snapshot: &Snapshot, activities: &[ActivitySummary]) -> Vec<PledgeSummary> {
    activities
        .iter()
        .zip(&snapshot.activities)
        .filter_map(|(a, def)| match &a.result {
            ActivityResult::Pledge {
                text,
                organisations,
            } => {
                // Registered organisations with someone who could sign, who did not.
                let present: BTreeSet<&str> = snapshot
                    .attendees
                    .iter()
                    .filter(|att| in_audience(def, &att.room, &att.answers))
                    .filter_map(|att| att.organisation.as_deref())
                    .collect();
                let signed: BTreeSet<&str> =
                    organisations.iter().map(|g| g.name.as_str()).collect();
                Some(PledgeSummary {
                    key: a.key.clone(),
                    prompt: a.prompt.clone(),
                    text: text.clone(),
                    signatures: a.respondents,
                    organisations: organisations.clone(),
                    registered_not_signed: snapshot
                        .organisations
                        .iter()
                        .filter(|o| {
                            present.contains(o.name.as_str()) && !signed.contains(o.name.as_str())
                        })
                        .map(|o| o.name.clone())
                        .collect(),
                })
            }
            _ => None,
        })
        .collect()
}

fn compare(prev: &Summary, cur: &Summary) -> Comparison {
    let change = |p: u64, c: u64| Change {
        previous: p,
        current: c,
    };
    let share = |n: u64, d: u64| ratio(n, d).unwrap_or(0.0);
    let (pa, ca) = (prev.headline.attendees, cur.headline.attendees);
    let mut sector_mix: Vec<SectorMix> = cur
        .attendance
        .by_sector
        .iter()
        .map(|g| {
            let p = prev
                .attendance
                .by_sector
                .iter()
                .find(|x| x.name == g.name)
                .map_or(0, |x| x.count);
            SectorMix {
                sector: g.name.clone(),
                previous: p,
                current: g.count,
                previous_share: share(p, pa),
                current_share: share(g.count, ca),
            }
        })
        .collect();
    for g in &prev.attendance.by_sector {
        if !sector_mix.iter().any(|m| m.sector == g.name) {
            sector_mix.push(SectorMix {
                sector: g.name.clone(),
                previous: g.count,
                current: 0,
                previous_share: share(g.count, pa),
                current_share: 0.0,
            });
        }
    }

    let mut activities = Vec::new();
    let mut only_current = Vec::new();
    let mut kind_changed = Vec::new();
    for a in &cur.activities {
        let Some(p) = prev.activities.iter().find(|p| p.key == a.key) else {
            only_current.push(a.key.clone());
            continue;
        };
        if p.kind() != a.kind() {
            kind_changed.push(a.key.clone());
            continue;
        }
        let (previous_mean, current_mean) = match (&p.result, &a.result) {
            (ActivityResult::Scale { mean: pm, .. }, ActivityResult::Scale { mean: cm, .. }) => {
                (*pm, *cm)
            }
            _ => (None, None),
        };
        let options = match (&p.result, &a.result) {
            (
                ActivityResult::Choice {
                    options: po,
                    counts: pc,
                    ..
                },
                ActivityResult::Choice {
                    options: co,
                    counts: cc,
                    ..
                },
            ) => {
                let mut labels: Vec<&String> = co.iter().collect();
                labels.extend(po.iter().filter(|l| !co.contains(l)));
                labels
                    .into_iter()
                    .map(|l| {
                        let of = |opts: &[String], counts: &[u64], n: u64| {
                            opts.iter()
                                .position(|o| o == l)
                                .and_then(|i| ratio(counts.get(i).copied().unwrap_or(0), n))
                        };
                        OptionShare {
                            label: l.clone(),
                            previous_share: of(po, pc, p.respondents),
                            current_share: of(co, cc, a.respondents),
                        }
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        activities.push(ActivityComparison {
            key: a.key.clone(),
            kind: a.kind().to_owned(),
            prompt: a.prompt.clone(),
            previous_respondents: p.respondents,
            current_respondents: a.respondents,
            previous_rate: p.response_rate,
            current_rate: a.response_rate,
            previous_mean,
            current_mean,
            options,
        });
    }
    let only_previous = prev
        .activities
        .iter()
        .filter(|p| !cur.activities.iter().any(|a| a.key == p.key))
        .map(|p| p.key.clone())
        .collect();
    let learning = cur
        .learning
        .iter()
        .filter_map(|l| {
            prev.learning
                .iter()
                .find(|p| p.topic == l.topic)
                .map(|p| LearningComparison {
                    topic: l.topic.clone(),
                    previous_paired: p.paired,
                    current_paired: l.paired,
                    previous_mean_change: p.mean_change,
                    current_mean_change: l.mean_change,
                })
        })
        .collect();
    let (returning, new, lapsed) = organisations_compared(prev, cur);
    Comparison {
        previous_code: prev.event.code.clone(),
        previous_title: prev.event.title.clone(),
        previous_date: prev.event.date.clone(),
        attendees: change(pa, ca),
        peak_present: change(prev.headline.peak_present, cur.headline.peak_present),
        organisations_represented: change(
            prev.headline.organisations_represented,
            cur.headline.organisations_represented,
        ),
        sectors_represented: change(
            prev.headline.sectors_represented,
            cur.headline.sectors_represented,
        ),
        sector_mix,
        activities,
        learning,
        only_current,
        only_previous,
        kind_changed,
        organisations_returning: returning,
        organisations_new: new,
        organisations_lapsed: lapsed,
        words: words_compared(prev, cur),
        pledge: pledge_compared(prev, cur),
        previous_next_steps: prev.next_steps.clone(),
    }
}

/// Named organisations at each edition, by matching key: (returning, new, lapsed).
fn organisations_compared(
    prev: &Summary,
    cur: &Summary,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let names = |s: &Summary| -> BTreeMap<String, String> {
        s.attendance
            .by_organisation
            .iter()
            .filter(|o| o.name != NOT_GIVEN)
            .map(|o| (org_key(&o.name), o.name.clone()))
            .collect()
    };
    let (p, c) = (names(prev), names(cur));
    let sorted = |mut v: Vec<String>| {
        v.sort_by_key(|n| n.to_lowercase());
        v
    };
    (
        sorted(
            c.iter()
                .filter(|(k, _)| p.contains_key(*k))
                .map(|(_, n)| n.clone())
                .collect(),
        ),
        sorted(
            c.iter()
                .filter(|(k, _)| !p.contains_key(*k))
                .map(|(_, n)| n.clone())
                .collect(),
        ),
        sorted(
            p.iter()
                .filter(|(k, _)| !c.contains_key(*k))
                .map(|(_, n)| n.clone())
                .collect(),
        ),
    )
}

fn words_compared(prev: &Summary, cur: &Summary) -> Vec<WordsComparison> {
    cur.activities
        .iter()
        .filter_map(|a| {
            let ActivityResult::Words { top: ct, .. } = &a.result else {
                return None;
            };
            let p = prev.activities.iter().find(|p| p.key == a.key)?;
            let ActivityResult::Words { top: pt, .. } = &p.result else {
                return None;
            };
            Some(WordsComparison {
                key: a.key.clone(),
                prompt: a.prompt.clone(),
                previous_top: pt.iter().take(10).cloned().collect(),
                current_top: ct.iter().take(10).cloned().collect(),
            })
        })
        .collect()
}

fn pledge_compared(prev: &Summary, cur: &Summary) -> Vec<PledgeComparison> {
    let attendees = |s: &Summary| -> BTreeMap<String, u64> {
        s.attendance
            .by_organisation
            .iter()
            .filter(|o| o.name != NOT_GIVEN)
            .map(|o| (org_key(&o.name), o.count))
            .collect()
    };
    let (pa, ca) = (attendees(prev), attendees(cur));
    let mut out: BTreeMap<String, PledgeComparison> = BTreeMap::new();
    for c in &cur.pledges {
        let Some(p) = prev.pledges.iter().find(|p| p.key == c.key) else {
            continue;
        };
        let signed = |ps: &PledgeSummary| -> BTreeMap<String, (String, u64)> {
            ps.organisations
                .iter()
                .filter(|g| g.name != NOT_GIVEN)
                .map(|g| (org_key(&g.name), (g.name.clone(), g.count)))
                .collect()
        };
        let (ps, cs) = (signed(p), signed(c));
        for (key, (name, _)) in cs.iter().chain(ps.iter()) {
            let e = out.entry(key.clone()).or_insert_with(|| PledgeComparison {
                organisation: name.clone(),
                previous_signed: 0,
                previous_attendees: pa.get(key).copied().unwrap_or(0),
                current_signed: 0,
                current_attendees: ca.get(key).copied().unwrap_or(0),
            });
            e.previous_signed = ps.get(key).map_or(0, |x| x.1);
            e.current_signed = cs.get(key).map_or(0, |x| x.1);
        }
    }
    let mut v: Vec<PledgeComparison> = out.into_values().collect();
    v.sort_by_key(|p| p.organisation.to_lowercase());
    v
}

/// `summary.json`: the Summary as pretty JSON, with its `"version"`.
pub fn summary_json(summary: &Summary) -> String {
    // A Summary holds only strings, numbers, lists and maps with string keys: it always
    // serialises. Non-finite floats cannot arise (every ratio has a non-zero divisor).
    serde_json::to_string_pretty(summary)
        .unwrap_or_else(|e| format!("{{\"version\":{SUMMARY_VERSION},\"error\":\"{e}\"}}"))
}
