//! Realistic synthetic snapshots, built from an event spec (the fixtures' JSON shape) with a
//! seeded generator: shared by the tests, `examples/render.rs` and `examples/bench.rs`.

#![allow(dead_code)]

use std::collections::BTreeMap;

use joinup_reports::snapshot::{
    ActivityDef, Answer, AttendeeRecord, CardRecord, Organisation, PresenceSample, QuestionRecord,
    SessionDef, Snapshot,
};
use serde_json::Value;

/// A small, seeded generator (xorshift64*), so runs are reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() % 10_000) as f64 / 10_000.0 < p
    }
    /// An index drawn with the given weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut r = (self.next() % 1_000_000) as f64 / 1_000_000.0 * total;
        for (i, w) in weights.iter().enumerate() {
            if r < *w {
                return i;
            }
            r -= w;
        }
        weights.len() - 1
    }
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

/// The event's definition from a spec: organisations, sectors, rooms, sessions, activities.
pub fn definition(spec: &Value, code: &str, state: &str) -> Snapshot {
    let organisations = spec["organisations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| Organisation {
            name: s(o, "name").unwrap_or_default(),
            sector: s(o, "sector").unwrap_or_default(),
        })
        .collect();
    let sectors = spec["sectors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect();
    let mut sessions = Vec::new();
    let mut activities = Vec::new();
    let mut rooms: Vec<String> = Vec::new();
    for sess in spec["sessions"].as_array().into_iter().flatten() {
        let key = s(sess, "key").unwrap_or_default();
        let room = s(sess, "room");
        if let Some(r) = &room
            && !rooms.contains(r)
        {
            rooms.push(r.clone());
        }
        sessions.push(SessionDef {
            key: key.clone(),
            title: s(sess, "title").unwrap_or_default(),
            room: room.clone(),
        });
        for a in sess["activities"].as_array().into_iter().flatten() {
            activities.push(ActivityDef {
                key: s(a, "key").unwrap_or_default(),
                kind: s(a, "kind").unwrap_or_default(),
                prompt: s(a, "prompt").unwrap_or_default(),
                session: key.clone(),
                room: room.clone(),
                options: a["options"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect(),
                multiple: a["multiple"].as_bool().unwrap_or(false),
                min: a["min"].as_i64(),
                max: a["max"].as_i64(),
                label_min: a["labels"]["min"].as_str().map(str::to_owned),
                label_max: a["labels"]["max"].as_str().map(str::to_owned),
                pair: s(a, "pair"),
                phase: s(a, "phase"),
                pledge_text: s(a, "text"),
                budget: a["budget"]
                    .as_u64()
                    .or((s(a, "kind").as_deref() == Some("points")).then_some(100)),
                state: "closed".to_owned(),
                window: s(a, "window"),
            });
        }
    }
    let starts_at = s(spec, "starts_at");
    Snapshot {
        code: code.to_owned(),
        title: s(spec, "title").unwrap_or_default(),
        series: s(spec, "series"),
        created_at: starts_at
            .clone()
            .unwrap_or_else(|| "2026-11-01T09:00:00Z".to_owned()),
        ended_at: starts_at
            .as_ref()
            .map(|d| format!("{}T16:45:00Z", &d[..10])),
        starts_at,
        state: state.to_owned(),
        phase: if state == "ended" { "closed" } else { "live" }.to_owned(),
        min_group_size: spec["min_group_size"].as_u64().unwrap_or(5),
        organisations,
        sectors,
        rooms,
        sessions,
        activities,
        attendees: Vec::new(),
        peak_present: 0,
        presence: Vec::new(),
        questions: Vec::new(),
        cards: Vec::new(),
        introduction: s(spec, "introduction"),
        next_steps: s(spec, "next_steps"),
        theme_names: Default::default(),
    }
}

const WORDS: &[&str] = &[
    "funding",
    "waiting lists",
    "thresholds",
    "silos",
    "stigma",
    "information sharing",
    "capacity",
    "commissioning",
    "trust",
    "time",
    "referral criteria",
    "communication",
    "culture",
    "staff turnover",
    "housing",
    "data sharing",
    "bureaucracy",
    "caseloads",
];

const CONNECTED: &[&str] = &[
    "phone-a-friend",
    "shared training",
    "named contacts",
    "joint visits",
    "trust",
    "co-location",
    "shared records",
    "time",
];

const CONCERNS: &[&str] = &[
    "People are bounced between services because each one says the other must go first.",
    "Waiting lists for mental health assessment are too long for someone who is still using.",
    "We need joint commissioning so that drug and alcohol and mental health budgets stop competing.",
    "Peer workers are the glue of the system but are paid the least and funded year to year.",
    "Discharge from prison on a Friday afternoon with no prescription and no bed is still happening.",
    "Please fund trauma-informed training for reception and frontline staff, not just clinicians.",
    "Information sharing agreements take months: people fall through the gaps while we wait.",
    "Thresholds for secondary care exclude people whose distress is driven by substance use.",
    "Housing first works: it needs recurrent funding, not pilots.",
    "Carers are rarely asked what they know, and they often know the most.",
    "\"Dual diagnosis\" should be everyone's business, not a specialist team's.",
    "Young people transitioning to adult services lose their worker, their plan and their trust.",
];

const NEXT_YEAR: &[&str] = &[
    "More on commissioning for co-existing conditions, with the commissioners in the room.",
    "A session led by people with lived experience on what good looks like.",
    "Practical workshops on joint care plans.",
    "Women's services and domestic abuse.",
    "Medication and harm reduction: naloxone, prescribing and mental health.",
    "Outcomes data: what the network has changed since last year.",
];

const QUESTIONS: &[&str] = &[
    "How will the ICB make sure joint commissioning actually happens this year?",
    "What can frontline staff do when a service refuses a referral because of alcohol use?",
    "Will the information sharing agreement cover the voluntary sector?",
    "How do we keep peer workers in post when funding is year to year?",
    "Is there a plan for people released from prison without a GP?",
    "Can the phone-a-friend list be kept up to date after today?",
    "How are people with lived experience involved in designing services?",
    "What does trauma-informed mean for a police custody suite?",
    "Why are thresholds for community mental health teams so different across the county?",
    "Could next year's conference be hybrid?",
    "Who owns the action plan from today?",
    "How will we know if the pledge made a difference?",
];

fn presence(date: &str, n: usize, rng: &mut Rng) -> (Vec<PresenceSample>, u64) {
    let mut out = Vec::new();
    let mut peak = 0u64;
    let mut joined = 0u64;
    // 09:15 to 16:45, one sample a minute.
    for m in 0..=450u32 {
        let minute = 9 * 60 + 15 + m;
        let t = m as f64 / 450.0;
        // Arrivals in the first hour, a dip at lunch (12:30-13:15), drift away at the end.
        let mut level = (m as f64 / 45.0).min(1.0) * 0.92;
        if (195..240).contains(&m) {
            level *= 0.55;
        }
        if t > 0.85 {
            level *= 1.0 - (t - 0.85) * 3.0;
        }
        let present =
            ((n as f64 * level) as i64 + rng.below(5) as i64 - 2).clamp(0, n as i64) as u64;
        peak = peak.max(present);
        joined = joined.max(present).min(n as u64);
        out.push(PresenceSample {
            minute: format!("{date}T{:02}:{:02}Z", minute / 60, minute % 60),
            present,
            peak,
            joined,
        });
    }
    (out, peak)
}

/// The activities of the demo's evaluation (as tests/browser/phases.test.mjs runs it).
pub const EVALUATION: [&str; 2] = ["usefulness", "next-year"];

/// The spec with an evaluation after the day: the [`EVALUATION`] activities marked
/// `window: "after"`, and the after window closing at `closes_at`.
pub fn with_evaluation(spec: &mut Value, closes_at: &str) {
    for session in spec["sessions"].as_array_mut().into_iter().flatten() {
        for a in session["activities"].as_array_mut().into_iter().flatten() {
            if EVALUATION.contains(&a["key"].as_str().unwrap_or_default()) {
                a["window"] = Value::from("after");
            }
        }
    }
    spec["closes_at"] = Value::from(closes_at);
}

/// The snapshot as a report taken in the after window sees it: the event `live` in phase
/// `after`, its stored end the window's close (`closes_at`), the activities for after the
/// event still open.
pub fn in_after_window(snap: &mut Snapshot, closes_at: &str) {
    snap.state = "live".to_owned();
    snap.phase = "after".to_owned();
    snap.ended_at = Some(closes_at.to_owned());
    for a in &mut snap.activities {
        if a.window.as_deref() == Some("after") {
            a.state = "open".to_owned();
        }
    }
}

/// A whole event: `n` attendees answering the spec's activities realistically.
/// `gain` shifts the post answers of paired scales up (learning).
pub fn snapshot(spec: &Value, code: &str, n: usize, seed: u64, gain: f64) -> Snapshot {
    snapshot_with(spec, code, n, seed, gain, false)
}

/// As [`snapshot`]; `busy` makes nearly everyone answer everything (for the benchmark).
pub fn snapshot_with(
    spec: &Value,
    code: &str,
    n: usize,
    seed: u64,
    gain: f64,
    busy: bool,
) -> Snapshot {
    let mut snap = definition(spec, code, "ended");
    let mut rng = Rng::new(seed);
    let orgs = snap.organisations.clone();
    // Larger NHS and drug and alcohol services bring more people; some organisations few.
    let weights: Vec<f64> = orgs
        .iter()
        .enumerate()
        .map(|(i, o)| match o.sector.as_str() {
            "Mental health" | "Drug and alcohol" => 9.0,
            "Education" => 0.6,
            "Advocacy" => 0.8,
            _ => 2.0 + (i % 4) as f64,
        })
        .collect();
    let rooms = snap.rooms.clone();
    for _ in 0..n {
        let (organisation, sector) = if rng.chance(0.03) {
            (None, None)
        } else if rng.chance(0.05) {
            let typed = ["Leeds Recovery Hub", "Self-employed", "NHS England"][rng.below(3)];
            (
                Some(typed.to_owned()),
                Some(snap.sectors[rng.below(snap.sectors.len())].clone()),
            )
        } else {
            let o = &orgs[rng.weighted(&weights)];
            (Some(o.name.clone()), Some(o.sector.clone()))
        };
        let room = if rooms.is_empty() || rng.chance(0.08) {
            None
        } else {
            Some(rooms[rng.below(rooms.len())].clone())
        };
        let mut answers = BTreeMap::new();
        let mut text_states = BTreeMap::new();
        let engaged = 0.55 + (rng.below(45) as f64) / 100.0;
        let mut pre_values: BTreeMap<String, i64> = BTreeMap::new();
        for a in &snap.activities {
            if let Some(r) = &a.room
                && room.as_ref() != Some(r)
            {
                continue;
            }
            let p = match a.kind.as_str() {
                _ if busy => 0.99,
                "text" => engaged * 0.35,
                "pledge" => engaged * 0.75,
                _ => engaged,
            };
            if !rng.chance(p) {
                continue;
            }
            let answer = match a.kind.as_str() {
                "choice" => {
                    let n_opts = a.options.len();
                    let w: Vec<f64> = (0..n_opts)
                        .map(|i| (n_opts - i) as f64 + (i % 3) as f64)
                        .collect();
                    if a.multiple {
                        let mut picks: Vec<usize> =
                            (0..1 + rng.below(3)).map(|_| rng.weighted(&w)).collect();
                        picks.sort_unstable();
                        picks.dedup();
                        Answer::Choice(picks)
                    } else {
                        Answer::Choice(vec![rng.weighted(&w)])
                    }
                }
                "scale" => {
                    let (lo, hi) = (a.min.unwrap_or(1), a.max.unwrap_or(5));
                    let span = (hi - lo + 1) as usize;
                    let base = lo
                        + rng.weighted(
                            &(0..span)
                                .map(|i| 1.0 + (i as f64 - 1.5).abs().max(0.5).recip())
                                .collect::<Vec<_>>(),
                        ) as i64;
                    let v = match (a.phase.as_deref(), &a.pair) {
                        (Some("pre"), Some(p)) => {
                            let v = (base - 1).max(lo);
                            pre_values.insert(p.clone(), v);
                            v
                        }
                        (Some("post"), Some(p)) => match pre_values.get(p) {
                            Some(pre) => {
                                let up = if rng.chance(gain) {
                                    1 + rng.below(2) as i64
                                } else if rng.chance(0.12) {
                                    -1
                                } else {
                                    0
                                };
                                (pre + up).clamp(lo, hi)
                            }
                            None => base,
                        },
                        _ => (base + 1).min(hi),
                    };
                    Answer::Scale(v)
                }
                "words" => {
                    let pool = if a.key.contains("connect") {
                        CONNECTED
                    } else {
                        WORDS
                    };
                    let limit = if a.key.contains("connect") {
                        1
                    } else {
                        1 + rng.below(3)
                    };
                    let w: Vec<f64> = (0..pool.len())
                        .map(|i| 1.0 / (1.0 + i as f64 * 0.6))
                        .collect();
                    let mut ws: Vec<String> = (0..limit)
                        .map(|_| pool[rng.weighted(&w)].to_owned())
                        .collect();
                    ws.sort();
                    ws.dedup();
                    Answer::Words(ws)
                }
                "text" => {
                    let pool = if a.key.contains("next") {
                        NEXT_YEAR
                    } else {
                        CONCERNS
                    };
                    let state = match rng.below(10) {
                        0 => "hidden",
                        1 | 2 => "pending",
                        _ => "approved",
                    };
                    text_states.insert(a.key.clone(), state.to_owned());
                    Answer::Text(pool[rng.below(pool.len())].to_owned())
                }
                "ranking" => {
                    // Options drawn one by one, earlier ones likelier: a shared view of
                    // priorities with personal variation.
                    let mut left: Vec<usize> = (0..a.options.len()).collect();
                    let mut order = Vec::with_capacity(left.len());
                    while !left.is_empty() {
                        let w: Vec<f64> = left.iter().map(|&i| 1.0 / (1.0 + i as f64)).collect();
                        order.push(left.remove(rng.weighted(&w)));
                    }
                    Answer::Ranking(order)
                }
                "points" => {
                    // The budget in tens, each ten to an option, earlier ones likelier.
                    let budget = a.budget.unwrap_or(100);
                    let w: Vec<f64> = (0..a.options.len())
                        .map(|i| 1.0 + ((i * 7 + 3) % 5) as f64)
                        .collect();
                    let mut given = vec![0u64; a.options.len()];
                    for _ in 0..budget / 10 {
                        given[rng.weighted(&w)] += 10;
                    }
                    given[0] += budget % 10;
                    Answer::Points(given)
                }
                _ => Answer::Pledge,
            };
            answers.insert(a.key.clone(), answer);
        }
        snap.attendees.push(AttendeeRecord {
            organisation,
            sector,
            room,
            answers,
            answered_as: Default::default(),
            text_states,
        });
    }
    let date = snap.starts_at.clone().unwrap_or_default();
    let (presence, peak) = presence(date.get(..10).unwrap_or("2026-11-23"), n, &mut rng);
    snap.presence = presence;
    snap.peak_present = peak;
    for (i, q) in QUESTIONS.iter().enumerate() {
        snap.questions.push(QuestionRecord {
            text: (*q).to_owned(),
            votes: (n as u64 / 4).saturating_sub(i as u64 * 3) + rng.below(5) as u64,
            state: match i % 6 {
                0 | 3 => "answered",
                5 => "pending",
                4 if i > 8 => "hidden",
                _ => "approved",
            }
            .to_owned(),
            flagged: false,
            // Spread over the event as a whole and its first two sessions; some sent in
            // advance.
            session: (i % 3 != 2)
                .then(|| snap.sessions.get(i % 3).map(|s| s.key.clone()))
                .flatten(),
            advance: i % 5 == 0,
        });
    }
    for (i, o) in orgs.iter().enumerate().step_by(3) {
        snap.cards.push(CardRecord {
            name: (i % 2 == 0).then(|| {
                [
                    "Sam Patel",
                    "Jo Whitaker",
                    "Ali Hussain",
                    "Chris Dunn",
                    "Morgan Lee",
                ][i % 5]
                    .to_owned()
            }),
            role: Some(
                [
                    "Service manager",
                    "Dual diagnosis lead",
                    "Peer support coordinator",
                    "Senior nurse",
                ][i % 4]
                    .to_owned(),
            ),
            organisation: o.name.clone(),
            service: format!("{} service", o.sector),
            offer: "Advice on shared cases, joint visits and quick consultations.".to_owned(),
            referral: "Self-referral or professional referral by phone or email.".to_owned(),
            contact: format!("duty line 01904 {:06}", 100_000 + i * 7919),
            state: if i % 9 == 6 { "pending" } else { "approved" }.to_owned(),
        });
    }
    snap
}
