//! The attacker's view of everything a report, and the host's live view, publish about
//! answers: random events, every published aggregate (a distribution, a total or a mean with
//! its n; a ranking's first choices and mean ranks, a points activity's points and shares;
//! from `summary.json` (what the HTML and PDF show), from `answers.csv`, and the live host
//! view's breakdown of a closed activity) turned back into the set of people it covers, and
//! every pair and triple of them added and subtracted. No combination may single out a set
//! of fewer than `k` people that none of its parts covered alone already.
//!
//! The model: each published aggregate is a sum over a set of people of one quantity: an
//! answer to the choice, the "before" answer, the "after" answer, the ranking, the points,
//! or the change (after minus before, which ties the two together). Every figure of one
//! group (each option's count, a mean, each option's mean rank or points) sums the same
//! people's answers, and each is checked against a count of those people's answers made
//! from scratch, so a figure over anyone else fails the test before any attack. A sum of
//! several aggregates with signs leaves some (person, quantity) terms uncancelled; the people
//! with one are the ones it isolates.

use std::collections::{BTreeMap, BTreeSet};

use joinup_domain::Tally;
use joinup_domain::ordered::{points_text, ranking_text};
use joinup_reports::privacy::{self, NOT_GIVEN, OTHER_GROUP};
use joinup_reports::snapshot::{ActivityDef, Answer, AnsweredAs, AttendeeRecord, Snapshot};
use joinup_reports::summary::{ActivityResult, GroupTally};
use joinup_reports::{Summary, answers_csv, summarise};
use proptest::prelude::*;

const SECTORS: [&str; 4] = ["Police", "Housing", "Mental health", "Advocacy"];
const ORGS: [&str; 4] = [
    "North Yorkshire Police",
    "Foundation",
    "York Mind",
    "Changing Lives",
];
const OPTIONS: [&str; 3] = ["Practitioner", "Manager", "Commissioner"];
/// The options of the ranking and of the points activity.
const PRIORITIES: [&str; 3] = ["Housing", "Training", "Outreach"];
/// The points each respondent shares out.
const BUDGET: u64 = 10;

/// One person: current organisation and sector (`None`: not given), and for each activity
/// the answer with the sector it was given under (`None`: the current one).
#[derive(Debug, Clone)]
struct Person {
    org: usize,
    sector: Option<usize>,
    role: Option<(usize, Option<Option<usize>>)>,
    pre: Option<(i64, Option<Option<usize>>)>,
    post: Option<(i64, Option<Option<usize>>)>,
    /// The priorities, most important first.
    rank: Option<(Vec<usize>, Option<Option<usize>>)>,
    /// Points per priority, [`BUDGET`] in all.
    points: Option<(Vec<u64>, Option<Option<usize>>)>,
}

fn sector_strategy() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![1 => Just(None), 4 => (0..SECTORS.len()).prop_map(Some)]
}

/// Mostly the current sector; sometimes another one (the attendee moved since).
fn moved_strategy() -> impl Strategy<Value = Option<Option<usize>>> {
    prop_oneof![4 => Just(None), 1 => sector_strategy().prop_map(Some)]
}

/// Every priority once, in any order.
fn ranking_strategy() -> impl Strategy<Value = Vec<usize>> {
    Just((0..PRIORITIES.len()).collect::<Vec<usize>>()).prop_shuffle()
}

/// The whole budget shared over the priorities, any way.
fn points_strategy() -> impl Strategy<Value = Vec<u64>> {
    (0..=BUDGET)
        .prop_flat_map(|a| (Just(a), 0..=BUDGET - a))
        .prop_map(|(a, b)| vec![a, b, BUDGET - a - b])
}

fn person_strategy() -> impl Strategy<Value = Person> {
    (
        0..ORGS.len(),
        sector_strategy(),
        prop::option::weighted(0.7, (0..OPTIONS.len(), moved_strategy())),
        prop::option::weighted(0.85, (1i64..=5, moved_strategy())),
        prop::option::weighted(0.75, (1i64..=5, moved_strategy())),
        prop::option::weighted(0.6, (ranking_strategy(), moved_strategy())),
        prop::option::weighted(0.6, (points_strategy(), moved_strategy())),
    )
        .prop_map(|(org, sector, role, pre, post, rank, points)| Person {
            org,
            sector,
            role,
            pre,
            post,
            rank,
            points,
        })
}

fn def(key: &str, kind: &str) -> ActivityDef {
    ActivityDef {
        key: key.to_owned(),
        kind: kind.to_owned(),
        prompt: key.to_owned(),
        session: "main".to_owned(),
        room: None,
        options: Vec::new(),
        multiple: false,
        min: None,
        max: None,
        label_min: None,
        label_max: None,
        pair: None,
        phase: None,
        pledge_text: None,
        budget: None,
        state: "closed".to_owned(),
        window: None,
    }
}

fn scale(key: &str, phase: &str) -> ActivityDef {
    ActivityDef {
        min: Some(1),
        max: Some(5),
        pair: Some("x".to_owned()),
        phase: Some(phase.to_owned()),
        ..def(key, "scale")
    }
}

fn snapshot(people: &[Person], k: u64) -> Snapshot {
    let name = |s: Option<usize>| s.map(|s| SECTORS[s].to_owned());
    let attendees = people
        .iter()
        .map(|p| {
            let mut answers = BTreeMap::new();
            let mut answered_as = BTreeMap::new();
            let mut put = |key: &str, answer: Answer, moved: Option<Option<usize>>| {
                answers.insert(key.to_owned(), answer);
                answered_as.insert(
                    key.to_owned(),
                    AnsweredAs {
                        organisation: Some(ORGS[p.org].to_owned()),
                        sector: name(moved.unwrap_or(p.sector)),
                    },
                );
            };
            if let Some((o, moved)) = p.role {
                put("role", Answer::Choice(vec![o]), moved);
            }
            if let Some((v, moved)) = p.pre {
                put("pre-x", Answer::Scale(v), moved);
            }
            if let Some((v, moved)) = p.post {
                put("post-x", Answer::Scale(v), moved);
            }
            if let Some((order, moved)) = &p.rank {
                put("prio", Answer::Ranking(order.clone()), *moved);
            }
            if let Some((given, moved)) = &p.points {
                put("budget", Answer::Points(given.clone()), *moved);
            }
            AttendeeRecord {
                organisation: Some(ORGS[p.org].to_owned()),
                sector: name(p.sector),
                room: None,
                answers,
                answered_as,
                text_states: BTreeMap::new(),
            }
        })
        .collect();
    Snapshot {
        code: "ABC234".to_owned(),
        title: "Attack".to_owned(),
        series: None,
        starts_at: None,
        created_at: "2026-11-23T09:00:00Z".to_owned(),
        ended_at: None,
        state: "ended".to_owned(),
        phase: "closed".to_owned(),
        min_group_size: k,
        organisations: Vec::new(),
        sectors: SECTORS.iter().map(|s| (*s).to_owned()).collect(),
        rooms: Vec::new(),
        sessions: Vec::new(),
        activities: vec![
            ActivityDef {
                options: OPTIONS.iter().map(|o| (*o).to_owned()).collect(),
                ..def("role", "choice")
            },
            scale("pre-x", "pre"),
            scale("post-x", "post"),
            ActivityDef {
                options: PRIORITIES.iter().map(|o| (*o).to_owned()).collect(),
                ..def("prio", "ranking")
            },
            ActivityDef {
                options: PRIORITIES.iter().map(|o| (*o).to_owned()).collect(),
                budget: Some(BUDGET),
                ..def("budget", "points")
            },
        ],
        attendees,
        peak_present: 0,
        presence: Vec::new(),
        questions: Vec::new(),
        cards: Vec::new(),
        introduction: None,
        next_steps: None,
        theme_names: Default::default(),
    }
}

/// The quantities a published figure can sum: an answer to each activity (its index in
/// [`KEYS`] and in the snapshot's activities)...
const ROLE: usize = 0;
const PRE: usize = 1;
const POST: usize = 2;
const RANK: usize = 3;
const POINTS: usize = 4;
const KEYS: [&str; 5] = ["role", "pre-x", "post-x", "prio", "budget"];
/// ... and the change, after minus before: no answer of its own, it ties [`PRE`] and [`POST`].
const CHANGE: usize = KEYS.len();

/// A published aggregate: where it was read, what it sums, over whom; `whole` for an
/// activity's whole tally, which the live view shows to everyone anyway.
#[derive(Debug, Clone)]
struct Aggregate {
    source: String,
    quantity: usize,
    people: BTreeSet<usize>,
    whole: bool,
}

/// Everything the attacker knows about each person: their answers' sectors and values.
struct Truth<'a> {
    snap: &'a Snapshot,
}

impl Truth<'_> {
    fn respondents(&self, q: usize) -> BTreeSet<usize> {
        (0..self.snap.attendees.len())
            .filter(|&p| self.snap.attendees[p].answers.contains_key(KEYS[q]))
            .collect()
    }

    fn sector(&self, p: usize, q: usize) -> &str {
        self.snap.attendees[p].answered_as[KEYS[q]]
            .sector
            .as_deref()
            .unwrap_or(NOT_GIVEN)
    }

    fn org(&self, p: usize, q: usize) -> &str {
        self.snap.attendees[p].answered_as[KEYS[q]]
            .organisation
            .as_deref()
            .unwrap_or(NOT_GIVEN)
    }

    fn value(&self, p: usize, q: usize) -> String {
        let options: Vec<String> = PRIORITIES.iter().map(|o| (*o).to_owned()).collect();
        match &self.snap.attendees[p].answers[KEYS[q]] {
            Answer::Choice(ix) => OPTIONS[ix[0]].to_owned(),
            Answer::Scale(v) => v.to_string(),
            Answer::Ranking(order) => ranking_text(&options, order.iter().copied()),
            Answer::Points(given) => points_text(&options, given.iter().copied()),
            other => format!("{other:?}"),
        }
    }

    /// Activity `q`'s answers of `people`, counted from scratch as the hub and the report
    /// count them.
    fn tally(&self, q: usize, people: &BTreeSet<usize>) -> Tally {
        let kind = self.snap.activities[q]
            .counted_kind()
            .expect("a kind the report counts");
        let mut tally = Tally::new(&kind);
        for &p in people {
            tally.add(&self.snap.attendees[p].answers[KEYS[q]], None);
        }
        tally
    }

    /// Checks every figure of a group's row against its people's answers: the number of
    /// them, and per option the count, first choices or points, the mean, the mean ranks.
    fn check_row(&self, q: usize, people: &BTreeSet<usize>, row: &GroupTally, what: &str) {
        let truth = self.tally(q, people);
        let (counts, mean, mean_rank) = figures(&truth);
        assert_eq!(row.total, people.len() as u64, "{what}: its n");
        assert_eq!(row.counts, counts, "{what}: per option");
        assert_eq!(row.mean, mean, "{what}: its mean");
        assert_eq!(row.mean_rank, mean_rank, "{what}: its mean ranks");
    }

    /// Checks an activity's whole result against every respondent's answers.
    fn check_whole(&self, q: usize, people: &BTreeSet<usize>, result: &ActivityResult) {
        let truth = self.tally(q, people);
        match (result, &truth) {
            (ActivityResult::Choice { counts, .. }, Tally::Choice { counts: c, .. }) => {
                assert_eq!(counts, c, "{} counts", KEYS[q]);
            }
            (ActivityResult::Scale { counts, mean, .. }, Tally::Scale { counts: c, .. }) => {
                assert_eq!((counts, *mean), (c, truth.mean()), "{} counts", KEYS[q]);
            }
            (
                ActivityResult::Ranking {
                    first, mean_rank, ..
                },
                Tally::Ranking(c),
            ) => {
                assert_eq!(
                    (first, mean_rank),
                    (&c.first, &c.mean_ranks()),
                    "{}",
                    KEYS[q]
                );
            }
            (ActivityResult::Points { points, shares, .. }, Tally::Points(c)) => {
                assert_eq!((points, shares), (&c.points, &c.shares()), "{}", KEYS[q]);
            }
            (result, _) => panic!("{}: an unexpected result {result:?}", KEYS[q]),
        }
    }

    /// The people a group label stands for among `within`: its own name, or "Other" for
    /// everyone whose name is not among the `named` groups shown beside it.
    fn group(
        &self,
        within: &BTreeSet<usize>,
        label: &str,
        named: &BTreeSet<&str>,
        name_of: impl Fn(usize) -> String,
    ) -> BTreeSet<usize> {
        within
            .iter()
            .copied()
            .filter(|&p| {
                let own = name_of(p);
                match label {
                    "" => true,
                    OTHER_GROUP => !named.contains(own.as_str()),
                    _ => own == label,
                }
            })
            .collect()
    }
}

/// A tally's figures as a group's row carries them: per option (a ranking's first choices,
/// a points activity's points), the mean (scale), the mean ranks (ranking).
fn figures(tally: &Tally) -> (Vec<u64>, Option<f64>, Option<Vec<Option<f64>>>) {
    match tally {
        Tally::Choice { counts, .. } => (counts.clone(), None, None),
        Tally::Scale { counts, .. } => (counts.clone(), tally.mean(), None),
        Tally::Ranking(c) => (c.first.clone(), None, Some(c.mean_ranks())),
        Tally::Points(c) => (c.points.clone(), None, None),
        other => panic!("no breakdown of {other:?}"),
    }
}

fn parse_csv_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                if let Some(f) = fields.last_mut() {
                    f.push('"');
                }
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    fields
}

/// Every aggregate the documents publish about the answers, each checked against the truth
/// (its n, and for the CSV its values), so a wrong reading cannot hide a leak.
fn published(snap: &Snapshot, summary: &Summary, csv: &str) -> Vec<Aggregate> {
    let t = Truth { snap };
    let mut out = Vec::new();
    for q in [ROLE, PRE, POST, RANK, POINTS] {
        let all = t.respondents(q);
        let a = &summary.activities[q];
        assert_eq!(a.respondents, all.len() as u64);
        t.check_whole(q, &all, &a.result);
        out.push(Aggregate {
            source: format!("{} overall", KEYS[q]),
            quantity: q,
            people: all.clone(),
            whole: true,
        });
        let groups = a.by_sector.clone().unwrap_or_default();
        let named: BTreeSet<&str> = groups
            .iter()
            .map(|g| g.group.as_str())
            .filter(|g| *g != OTHER_GROUP)
            .collect();
        for g in &groups {
            let people = t.group(&all, &g.group, &named, |p| t.sector(p, q).to_owned());
            t.check_row(q, &people, g, &format!("{} by sector {}", KEYS[q], g.group));
            out.push(Aggregate {
                source: format!("{} by sector {}", KEYS[q], g.group),
                quantity: q,
                people,
                whole: false,
            });
        }
        // The host's live view of the closed activity: its tally by the sector each answer
        // was given in, through the same rule (as server/src/hub/state.rs counts it).
        let kind = snap.activities[q].counted_kind().expect("a counted kind");
        let mut by_sector: BTreeMap<String, Tally> = BTreeMap::new();
        for &p in &all {
            by_sector
                .entry(t.sector(p, q).to_owned())
                .or_insert_with(|| Tally::new(&kind))
                .add(&snap.attendees[p].answers[KEYS[q]], None);
        }
        let live = privacy::breakdown(&by_sector, snap.min_group_size);
        let live_named: BTreeSet<&str> = live
            .keys()
            .map(String::as_str)
            .filter(|g| *g != OTHER_GROUP)
            .collect();
        for (group, tally) in &live {
            let people = t.group(&all, group, &live_named, |p| t.sector(p, q).to_owned());
            let (counts, mean, mean_rank) = figures(tally);
            let row = GroupTally {
                group: group.clone(),
                total: tally.total(),
                counts,
                mean,
                mean_rank,
            };
            t.check_row(
                q,
                &people,
                &row,
                &format!("{} live by sector {group}", KEYS[q]),
            );
            out.push(Aggregate {
                source: format!("{} live by sector {group}", KEYS[q]),
                quantity: q,
                people,
                whole: false,
            });
        }
        // answers.csv: rows by (organisation, sector) label.
        let rows: Vec<Vec<String>> = csv
            .split("\r\n")
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(parse_csv_line)
            .filter(|f| f[2] == KEYS[q])
            .collect();
        let sectors: BTreeSet<&str> = rows
            .iter()
            .map(|r| r[6].as_str())
            .filter(|s| !s.is_empty() && *s != OTHER_GROUP)
            .collect();
        let mut cells: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
        for r in &rows {
            cells
                .entry((r[6].as_str(), r[5].as_str()))
                .or_default()
                .push(r[4].as_str());
        }
        for ((sector, org), values) in cells {
            let in_sector = t.group(&all, sector, &sectors, |p| t.sector(p, q).to_owned());
            let orgs: BTreeSet<&str> = rows
                .iter()
                .filter(|r| r[6] == sector)
                .map(|r| r[5].as_str())
                .filter(|o| !o.is_empty() && *o != OTHER_GROUP)
                .collect();
            let people = t.group(&in_sector, org, &orgs, |p| t.org(p, q).to_owned());
            let mut truth: Vec<String> = people.iter().map(|&p| t.value(p, q)).collect();
            let mut shown: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
            truth.sort();
            shown.sort();
            assert_eq!(shown, truth, "{} csv cell ({org}, {sector})", KEYS[q]);
            out.push(Aggregate {
                source: format!("{} csv ({org}, {sector})", KEYS[q]),
                quantity: q,
                whole: people == all,
                people,
            });
        }
    }
    // "Between sectors": each named sector group against the rest of the respondents.
    for d in summary
        .sector_differences
        .iter()
        .filter(|d| d.kind != "gain")
    {
        let q = KEYS
            .iter()
            .position(|k| *k == d.key)
            .expect("a known activity");
        let all = t.respondents(q);
        let named: BTreeSet<&str> = summary.activities[q]
            .by_sector
            .iter()
            .flatten()
            .map(|g| g.group.as_str())
            .filter(|g| *g != OTHER_GROUP)
            .collect();
        let group = t.group(&all, &d.group, &named, |p| t.sector(p, q).to_owned());
        let rest: BTreeSet<usize> = all.difference(&group).copied().collect();
        assert_eq!((group.len() as u64, rest.len() as u64), (d.n, d.rest_n));
        for (people, what) in [(group, "group"), (rest, "rest")] {
            out.push(Aggregate {
                source: format!("{} difference {} {what}", d.key, d.group),
                quantity: q,
                people,
                whole: false,
            });
        }
    }
    let l = &summary.learning[0];
    let pre = t.respondents(PRE);
    let post = t.respondents(POST);
    let paired: BTreeSet<usize> = pre.intersection(&post).copied().collect();
    assert_eq!(l.paired, paired.len() as u64);
    if l.withheld || l.paired == 0 {
        assert_eq!((l.mean_pre, l.mean_post, l.mean_change), (None, None, None));
        assert!(l.change_counts.is_empty() || l.paired == 0);
        assert!(l.by_sector.is_empty());
        assert_eq!((l.pre_only_mean, l.post_only_mean), (None, None));
        return out;
    }
    for (quantity, what) in [(PRE, "mean before"), (POST, "mean after"), (CHANGE, "gain")] {
        out.push(Aggregate {
            source: format!("paired {what}"),
            quantity,
            people: paired.clone(),
            whole: false,
        });
    }
    if l.pre_only_mean.is_some() {
        out.push(Aggregate {
            source: "before-only mean".to_owned(),
            quantity: PRE,
            people: pre.difference(&post).copied().collect(),
            whole: false,
        });
    }
    if l.post_only_mean.is_some() {
        out.push(Aggregate {
            source: "after-only mean".to_owned(),
            quantity: POST,
            people: post.difference(&pre).copied().collect(),
            whole: false,
        });
    }
    let named: BTreeSet<&str> = l
        .by_sector
        .iter()
        .map(|g| g.group.as_str())
        .filter(|g| *g != OTHER_GROUP)
        .collect();
    for g in &l.by_sector {
        let people = t.group(&paired, &g.group, &named, |p| t.sector(p, PRE).to_owned());
        assert_eq!(people.len() as u64, g.paired, "gain {}", g.group);
        out.push(Aggregate {
            source: format!("gain by sector {}", g.group),
            quantity: CHANGE,
            people,
            whole: false,
        });
    }
    for d in summary
        .sector_differences
        .iter()
        .filter(|d| d.kind == "gain")
    {
        let group = t.group(&paired, &d.group, &named, |p| t.sector(p, PRE).to_owned());
        let rest: BTreeSet<usize> = paired.difference(&group).copied().collect();
        assert_eq!((group.len() as u64, rest.len() as u64), (d.n, d.rest_n));
        out.push(Aggregate {
            source: format!("gain difference {} rest", d.group),
            quantity: CHANGE,
            people: rest,
            whole: false,
        });
    }
    out
}

/// The people a signed sum of aggregates leaves uncancelled terms for.
fn isolated(parts: &[(&Aggregate, i64)], n: usize) -> usize {
    let per = KEYS.len();
    let mut coef = vec![0i64; n * per];
    for (a, sign) in parts {
        for &p in &a.people {
            match a.quantity {
                CHANGE => {
                    coef[p * per + POST] += sign;
                    coef[p * per + PRE] -= sign;
                }
                q => coef[p * per + q] += sign,
            }
        }
    }
    coef.chunks(per)
        .filter(|c| c.iter().any(|&x| x != 0))
        .count()
}

/// The answers a quantity sums: the change ties the "before" and the "after" answers into
/// one family; every other activity's answers are a family of their own.
fn family(quantity: usize) -> usize {
    match quantity {
        POST | CHANGE => PRE,
        q => q,
    }
}

/// The first combination that singles out fewer than `k` people, none of its parts having
/// done so alone.
fn attack(aggregates: &[Aggregate], n: usize, k: usize) -> Option<String> {
    for a in aggregates {
        if !a.whole && !a.people.is_empty() && a.people.len() < k {
            return Some(format!("{} alone covers {}", a.source, a.people.len()));
        }
    }
    let leak = |parts: &[(&Aggregate, i64)]| {
        let left = isolated(parts, n);
        let widest = parts.iter().map(|(a, _)| a.people.len()).max().unwrap_or(0);
        (left > 0 && left < k && left < widest).then(|| {
            let names: Vec<String> = parts
                .iter()
                .map(|(a, s)| format!("{}{}", if *s > 0 { "+" } else { "-" }, a.source))
                .collect();
            format!("{} isolates {left} people", names.join(" "))
        })
    };
    // Only sums over related answers are tried: a figure about one activity cancels nothing
    // of another's, so a pair that mixes them isolates everyone in either (never fewer than
    // the wider part), and a triple that does isolates no one its related pair would not
    // already, the pair being tried first.
    let related = |parts: &[&Aggregate]| {
        parts
            .iter()
            .all(|a| family(a.quantity) == family(parts[0].quantity))
    };
    for (i, a) in aggregates.iter().enumerate() {
        for b in aggregates[i + 1..].iter().filter(|b| related(&[a, b])) {
            for s in [1, -1] {
                if let Some(found) = leak(&[(a, 1), (b, s)]) {
                    return Some(found);
                }
            }
        }
    }
    for (i, a) in aggregates.iter().enumerate() {
        for (j, b) in aggregates.iter().enumerate().skip(i + 1) {
            if !related(&[a, b]) {
                continue;
            }
            for c in aggregates[j + 1..].iter().filter(|c| related(&[a, c])) {
                for (s, u) in [(1, 1), (1, -1), (-1, 1), (-1, -1)] {
                    if let Some(found) = leak(&[(a, 1), (b, s), (c, u)]) {
                        return Some(found);
                    }
                }
            }
        }
    }
    None
}

/// Identical aggregates (the same quantity over the same people) count once.
fn distinct(mut aggregates: Vec<Aggregate>) -> Vec<Aggregate> {
    let mut seen = BTreeSet::new();
    aggregates.retain(|a| seen.insert((a.quantity, a.people.clone())));
    aggregates
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn no_published_figures_subtract_to_fewer_than_k_people(
        people in prop::collection::vec(person_strategy(), 0..45),
        k in 3u64..=5,
    ) {
        let snap = snapshot(&people, k);
        let summary = summarise(&snap, None);
        let csv = answers_csv(&snap);
        let aggregates = distinct(published(&snap, &summary, &csv));
        let found = attack(&aggregates, people.len(), k as usize);
        prop_assert!(found.is_none(), "{}", found.unwrap_or_default());
    }
}

/// A text for each theme by construction (the test's own label, not the classifier's).
const THEMED: [(&str, &str); 4] = [
    (
        "Funding and commissioning",
        "We need recurrent funding for this",
    ),
    (
        "Access, thresholds and waiting",
        "Waiting lists are far too long",
    ),
    (
        "Housing and homelessness",
        "Nobody can find a housing place",
    ),
    ("Other topics", "Could the day be hybrid"),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Themes' counts are aggregates: every theme shown holds at least `k` approved texts, the
    /// themes shown add up to every approved text (so no difference of two figures is under
    /// `k`), a named theme's count is its true count, and texts not approved are never counted
    /// or quoted.
    #[test]
    fn no_theme_under_k_is_published_or_derivable(
        answers in prop::collection::vec((0..THEMED.len(), 0..4usize, 0..40usize), 0..40),
        k in 3u64..=6,
    ) {
        let mut snap = snapshot(&[], k);
        snap.activities.push(def("concern", "text"));
        let mut truth: BTreeMap<&str, u64> = BTreeMap::new();
        let mut approved = 0u64;
        for (theme, state, variant) in &answers {
            let state = ["approved", "approved", "pending", "hidden"][*state];
            let text = format!("{} ({variant})", THEMED[*theme].1);
            if state == "approved" {
                *truth.entry(THEMED[*theme].0).or_default() += 1;
                approved += 1;
            }
            snap.attendees.push(AttendeeRecord {
                organisation: None,
                sector: None,
                room: None,
                answers: BTreeMap::from([("concern".to_owned(), Answer::Text(text))]),
                answered_as: BTreeMap::new(),
                text_states: BTreeMap::from([("concern".to_owned(), state.to_owned())]),
            });
        }
        let summary = summarise(&snap, None);
        let set = summary.themes.iter().find(|t| t.source == "concern").expect("themes");
        prop_assert_eq!(set.total, approved);
        if set.withheld {
            prop_assert!(set.themes.is_empty());
        } else {
            prop_assert_eq!(set.themes.iter().map(|t| t.count).sum::<u64>(), approved);
            for t in &set.themes {
                prop_assert!(t.count >= k, "{} has {} < {}", t.name, t.count, k);
                if t.name != OTHER_GROUP {
                    prop_assert_eq!(Some(&t.count), truth.get(t.name.as_str()));
                }
                for q in &t.quotes {
                    let approved_text = snap.attendees.iter().any(|a| {
                        a.text_states["concern"] == "approved"
                            && a.answers["concern"] == Answer::Text(q.clone())
                    });
                    prop_assert!(approved_text, "{} is not an approved text", q);
                }
            }
            // What is not shown by name is under "Other": at least k, or nothing.
            let named: u64 = set.themes.iter().filter(|t| t.name != OTHER_GROUP).map(|t| t.count).sum();
            prop_assert!(approved - named == 0 || approved - named >= k);
        }
    }
}

/// The issue's own case, as a reader of the report would compute it: a sector with one person
/// who answered only "before". Their answer follows from the sector's before and after
/// figures and its gain, unless the plan withholds one of them.
#[test]
fn the_one_before_only_answer_of_a_sector_cannot_be_computed() {
    let mut people = Vec::new();
    // Police: 6 answer before, 5 of them after too; one answered 1 before and left.
    for i in 0..6 {
        people.push(Person {
            org: 0,
            sector: Some(0),
            role: None,
            pre: Some((if i == 5 { 1 } else { 3 }, None)),
            post: (i < 5).then_some((4, None)),
            rank: None,
            points: None,
        });
    }
    // Mental health: 7 answer both.
    for _ in 0..7 {
        people.push(Person {
            org: 2,
            sector: Some(2),
            role: None,
            pre: Some((2, None)),
            post: Some((3, None)),
            rank: None,
            points: None,
        });
    }
    // Others answered only before, so the overall before-only mean is shown.
    for _ in 0..6 {
        people.push(Person {
            org: 1,
            sector: Some(1),
            role: None,
            pre: Some((5, None)),
            post: None,
            rank: None,
            points: None,
        });
    }
    let snap = snapshot(&people, 5);
    let s = summarise(&snap, None);
    let before = |a: &joinup_reports::summary::ActivitySummary| {
        a.by_sector
            .iter()
            .flatten()
            .find(|g| g.group == "Police")
            .map(|g| g.mean.unwrap_or(0.0) * g.total as f64)
    };
    let gain = s.learning[0]
        .by_sector
        .iter()
        .find(|g| g.group == "Police")
        .map(|g| g.mean_change * g.paired as f64);
    let computed = match (before(&s.activities[1]), before(&s.activities[2]), gain) {
        (Some(pre), Some(post), Some(gain)) => Some((pre - (post - gain)).round()),
        _ => None,
    };
    assert_eq!(computed, None, "the before-only answer was 1");
    let aggregates = distinct(published(&snap, &s, &answers_csv(&snap)));
    assert_eq!(attack(&aggregates, people.len(), 5), None);
}

/// The attack itself, on ranking and points figures: a group under `k` is found alone, two
/// groups of one activity that differ by fewer than `k` people are found subtracted, and
/// figures of two different activities cancel nothing.
#[test]
fn the_attack_finds_a_small_ranking_or_points_group_alone_or_subtracted() {
    let agg =
        |source: &str, quantity: usize, people: std::ops::Range<usize>, whole: bool| Aggregate {
            source: source.to_owned(),
            quantity,
            people: people.collect(),
            whole,
        };
    let alone = [
        agg("prio overall", RANK, 0..12, true),
        agg("prio by sector Police", RANK, 0..2, false),
    ];
    assert_eq!(
        attack(&alone, 12, 5).as_deref(),
        Some("prio by sector Police alone covers 2")
    );
    let subtracted = [
        agg("budget by sector Police", POINTS, 0..6, false),
        agg("budget csv (Other, Police)", POINTS, 0..8, false),
    ];
    assert_eq!(
        attack(&subtracted, 12, 5).as_deref(),
        Some("+budget by sector Police -budget csv (Other, Police) isolates 2 people")
    );
    let unrelated = [
        agg("prio by sector Police", RANK, 0..6, false),
        agg("budget by sector Police", POINTS, 0..8, false),
    ];
    assert_eq!(attack(&unrelated, 12, 5), None);
}
