//! What the simulated audience does: the demo event (plus probe activities only the
//! orchestrator answers), who each attendee is, and which answers it gives.

use std::collections::BTreeMap;

use serde_json::{Value, json};

pub const FIXTURE: &str = include_str!("../../../server/fixtures/dual-diagnosis-2026.json");

/// Activities only the probe attendee answers, so their tallies move by exactly one.
pub const PROBES: [&str; 4] = [
    "load-probe-0",
    "load-probe-1",
    "load-probe-2",
    "load-probe-3",
];

pub const ROOMS: [&str; 2] = ["Room A", "Room B"];

const WORDS: [&str; 12] = [
    "access",
    "funding",
    "stigma",
    "thresholds",
    "trust",
    "waiting lists",
    "housing",
    "referrals",
    "staffing",
    "silos",
    "consent",
    "time",
];

/// The demo event with a session of probe activities added.
pub fn event_spec() -> Value {
    let mut spec: Value = serde_json::from_str(FIXTURE).expect("the demo fixture is JSON");
    let probes: Vec<Value> = PROBES
        .iter()
        .map(|key| {
            json!({"key": key, "kind": "choice", "prompt": "Load probe", "options": ["a", "b"], "multiple": false})
        })
        .collect();
    spec["sessions"]
        .as_array_mut()
        .expect("sessions")
        .push(json!({"key": "load-probe", "title": "Load probe", "activities": probes}));
    // Far more phones than a conference: past the default cap on attendees.
    spec["max_attendees"] = json!(1_000_000);
    spec
}

/// One activity as the load tool needs it.
#[derive(Debug, Clone)]
pub struct Activity {
    pub key: String,
    pub kind: Kind,
    pub room: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Choice {
        options: usize,
        multiple: bool,
        max_choices: usize,
    },
    Scale {
        min: i64,
        max: i64,
    },
    Words {
        max_words: usize,
    },
    Text {
        max_len: usize,
    },
    Pledge,
    /// Every option put in order.
    Ranking {
        options: usize,
    },
    /// A budget shared across the options.
    Points {
        options: usize,
        budget: u64,
    },
}

/// Every activity of the spec, in order.
pub fn activities(spec: &Value) -> Vec<Activity> {
    let mut out = Vec::new();
    for session in spec["sessions"].as_array().into_iter().flatten() {
        let room = session["room"].as_str().map(str::to_owned);
        for a in session["activities"].as_array().into_iter().flatten() {
            let kind = match a["kind"].as_str().unwrap_or("") {
                "choice" => {
                    let options = a["options"].as_array().map_or(0, Vec::len);
                    let multiple = a["multiple"].as_bool().unwrap_or(false);
                    Kind::Choice {
                        options,
                        multiple,
                        max_choices: a["max_choices"].as_u64().map_or(options, |n| n as usize),
                    }
                }
                "scale" => Kind::Scale {
                    min: a["min"].as_i64().unwrap_or(1),
                    max: a["max"].as_i64().unwrap_or(5),
                },
                "words" => Kind::Words {
                    max_words: a["max_words"].as_u64().unwrap_or(1) as usize,
                },
                "text" => Kind::Text {
                    max_len: a["max_len"].as_u64().unwrap_or(100) as usize,
                },
                "ranking" => Kind::Ranking {
                    options: a["options"].as_array().map_or(0, Vec::len),
                },
                "points" => Kind::Points {
                    options: a["options"].as_array().map_or(0, Vec::len),
                    budget: a["budget"].as_u64().unwrap_or(100),
                },
                _ => Kind::Pledge,
            };
            out.push(Activity {
                key: a["key"].as_str().unwrap_or("").to_owned(),
                kind,
                room: room.clone(),
            });
        }
    }
    out
}

/// SplitMix64: a tiny deterministic generator, seeded per attendee.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Who attendee `index` is: a registered organisation (with its sector) and a room.
pub struct Profile {
    pub organisation: String,
    pub sector: String,
    pub room: &'static str,
}

pub fn profile(spec: &Value, index: usize) -> Profile {
    let orgs = spec["organisations"].as_array().expect("organisations");
    let org = &orgs[index % orgs.len()];
    Profile {
        organisation: org["name"].as_str().unwrap_or("").to_owned(),
        sector: org["sector"].as_str().unwrap_or("").to_owned(),
        room: ROOMS[index % ROOMS.len()],
    }
}

/// The activities an attendee in `room` answers under load (no probes).
pub fn answerable(all: &[Activity], room: &str) -> Vec<Activity> {
    all.iter()
        .filter(|a| !PROBES.contains(&a.key.as_str()))
        .filter(|a| a.room.as_deref().is_none_or(|r| r == room))
        .cloned()
        .collect()
}

/// A valid value for `kind`, in the normalised form the server stores (sorted distinct
/// choices, lower-case distinct words in vocabulary order).
pub fn value(kind: &Kind, rng: &mut Rng, serial: u64) -> Value {
    match kind {
        Kind::Choice {
            options,
            multiple,
            max_choices,
        } => {
            if *multiple {
                let want = 1 + rng.below((*max_choices).min(*options));
                let mut picked: Vec<usize> = Vec::new();
                while picked.len() < want {
                    let o = rng.below(*options);
                    if !picked.contains(&o) {
                        picked.push(o);
                    }
                }
                picked.sort_unstable();
                json!(picked)
            } else {
                json!([rng.below(*options)])
            }
        }
        Kind::Scale { min, max } => json!(min + rng.below((max - min + 1) as usize) as i64),
        Kind::Words { max_words } => {
            let want = 1 + rng.below(*max_words);
            let mut picked: Vec<usize> = Vec::new();
            while picked.len() < want {
                let w = rng.below(WORDS.len());
                if !picked.contains(&w) {
                    picked.push(w);
                }
            }
            picked.sort_unstable();
            json!(picked.iter().map(|w| WORDS[*w]).collect::<Vec<_>>())
        }
        Kind::Text { max_len } => {
            let text = format!(
                "We need better joint working between services, note {serial} from the floor"
            );
            json!(text.chars().take(*max_len).collect::<String>())
        }
        Kind::Pledge => json!(true),
        Kind::Ranking { options } => {
            let mut left: Vec<usize> = (0..*options).collect();
            let mut order = Vec::with_capacity(*options);
            while !left.is_empty() {
                order.push(left.remove(rng.below(left.len())));
            }
            json!(order)
        }
        Kind::Points { options, budget } => {
            let mut given = vec![0u64; *options];
            for _ in 0..*budget {
                given[rng.below(*options)] += 1;
            }
            json!(given)
        }
    }
}

/// What a tally of `kind` must be, given every attendee's current answer to it.
pub fn expected_tally(kind: &Kind, answers: &[(&Value, &str)]) -> BTreeMap<&'static str, Value> {
    let mut out = BTreeMap::new();
    out.insert("total", json!(answers.len()));
    match kind {
        Kind::Choice { options, .. } => {
            let mut counts = vec![0u64; *options];
            for (v, _) in answers {
                for o in v.as_array().into_iter().flatten() {
                    if let Some(c) = o.as_u64().and_then(|o| counts.get_mut(o as usize)) {
                        *c += 1;
                    }
                }
            }
            out.insert("counts", json!(counts));
        }
        Kind::Scale { min, max } => {
            let mut counts = vec![0u64; (max - min + 1) as usize];
            for (v, _) in answers {
                if let Some(c) = v.as_i64().and_then(|n| counts.get_mut((n - min) as usize)) {
                    *c += 1;
                }
            }
            out.insert("counts", json!(counts));
        }
        Kind::Words { .. } => {
            let mut words: BTreeMap<String, u64> = BTreeMap::new();
            for (v, _) in answers {
                for w in v.as_array().into_iter().flatten() {
                    *words
                        .entry(w.as_str().unwrap_or("").to_owned())
                        .or_default() += 1;
                }
            }
            let mut top: Vec<(String, u64)> = words.into_iter().collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            top.truncate(50);
            out.insert("top", json!(top));
        }
        Kind::Text { .. } => {}
        Kind::Ranking { options } => {
            let mut first = vec![0u64; *options];
            for (v, _) in answers {
                if let Some(c) = v[0].as_u64().and_then(|o| first.get_mut(o as usize)) {
                    *c += 1;
                }
            }
            out.insert("first", json!(first));
        }
        Kind::Points { options, .. } => {
            let mut points = vec![0u64; *options];
            for (v, _) in answers {
                for (sum, n) in points.iter_mut().zip(v.as_array().into_iter().flatten()) {
                    *sum += n.as_u64().unwrap_or(0);
                }
            }
            out.insert("points", json!(points));
        }
        Kind::Pledge => {
            let mut signatures: BTreeMap<&str, u64> = BTreeMap::new();
            for (_, org) in answers {
                *signatures.entry(org).or_default() += 1;
            }
            out.insert("signatures", json!(signatures));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_exercised_and_values_fit() {
        let spec = event_spec();
        let all = activities(&spec);
        let mut rng = Rng::new(7);
        for room in ROOMS {
            let mine = answerable(&all, room);
            assert!(mine.iter().all(|a| !a.key.starts_with("load-probe")));
            for kind in ["choice", "scale", "words", "text", "pledge"] {
                assert!(
                    mine.iter()
                        .any(|a| format!("{:?}", a.kind).to_lowercase().starts_with(kind)),
                    "{room} has a {kind}"
                );
            }
            for a in &mine {
                let v = value(&a.kind, &mut rng, 1);
                if let Kind::Choice {
                    multiple: false, ..
                } = a.kind
                {
                    assert_eq!(v.as_array().map(Vec::len), Some(1));
                }
            }
        }
    }

    #[test]
    fn expected_tallies_count_each_answer_once() {
        let kind = Kind::Choice {
            options: 3,
            multiple: true,
            max_choices: 2,
        };
        let a = json!([0, 2]);
        let b = json!([2]);
        let t = expected_tally(&kind, &[(&a, "x"), (&b, "y")]);
        assert_eq!(t["total"], json!(2));
        assert_eq!(t["counts"], json!([1, 0, 2]));
        let words = Kind::Words { max_words: 3 };
        let c = json!(["trust", "time"]);
        let d = json!(["time"]);
        let t = expected_tally(&words, &[(&c, "x"), (&d, "y")]);
        assert_eq!(t["top"], json!([["time", 2], ["trust", 1]]));
    }
}
