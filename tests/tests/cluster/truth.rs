//! The ground truth, computed by the test from what its attendees sent and the event spec
//! alone (the tally shapes and the small-group rule as `docs/protocol.md` states them),
//! never from anything the server reported. What the `it` scenario also needs (a tally
//! without a breakdown, attendance, the generator) is in `helpers`; here is the rest: the
//! small-group rule, answers generated from the spec, and answers as the server returns them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::helpers::{NOT_GIVEN, Person, Rng, activity, normalise_words, scale_range, tally};

pub const OTHER_GROUP: &str = "Other (small groups)";

/// The `hello` fields of the `i`-th attendee from the fixture's organisations (typed in
/// lower case, as people do), with the registered name and sector the server should make
/// of them.
pub fn fixture_profile(spec: &Value, i: usize) -> (Value, String, String) {
    let organisations = spec["organisations"].as_array().expect("organisations");
    let pick = &organisations[i % organisations.len().min(14)];
    let name = pick["name"].as_str().expect("name");
    let sector = pick["sector"].as_str().expect("sector");
    (
        json!({"organisation": name.to_lowercase()}),
        name.to_owned(),
        sector.to_owned(),
    )
}

/// A random valid answer to an activity, by its kind.
pub fn random_value(spec: &Value, key: &str, rng: &mut Rng) -> Value {
    let def = activity(spec, key);
    match def["kind"].as_str().expect("kind") {
        "choice" => {
            let options = def["options"].as_array().expect("options").len() as u64;
            if def["multiple"].as_bool().unwrap_or(false) {
                let max = def["max_choices"].as_u64().unwrap_or(options);
                let mut chosen = BTreeSet::new();
                for _ in 0..1 + rng.below(max) {
                    chosen.insert(rng.below(options));
                }
                json!(chosen.into_iter().collect::<Vec<_>>())
            } else {
                json!([rng.below(options)])
            }
        }
        "scale" => {
            let (min, max) = scale_range(def);
            json!(min + rng.below((max - min + 1) as u64) as i64)
        }
        "words" => {
            let n = 1 + rng.below(def["max_words"].as_u64().unwrap_or(1));
            json!((0..n).map(|_| rng.typed_word()).collect::<Vec<_>>())
        }
        "text" => json!(format!("Answer number {}", rng.below(100_000))),
        "pledge" => json!(true),
        other => panic!("no values for kind {other}"),
    }
}

/// An answer in the shape the server gives back (`welcome.answers`, the stored value).
pub fn normalise(spec: &Value, key: &str, value: &Value) -> Value {
    match activity(spec, key)["kind"].as_str() {
        Some("words") => json!(normalise_words(value)),
        Some("text") => json!(value.as_str().expect("text").trim()),
        _ => value.clone(),
    }
}

/// Every current answer of one attendee, normalised.
pub fn normalised_answers(spec: &Value, person: &Person) -> Value {
    let answers: BTreeMap<&String, Value> = person
        .answers
        .iter()
        .map(|(key, value)| (key, normalise(spec, key, value)))
        .collect();
    json!(answers)
}

/// The tally of a closed activity: a closed choice or scale also carries `by_sector`.
pub fn closed_tally(spec: &Value, key: &str, people: &[&Person]) -> Value {
    let mut tally = tally(spec, key, people);
    if matches!(
        activity(spec, key)["kind"].as_str(),
        Some("choice" | "scale")
    ) {
        tally["by_sector"] = by_sector(spec, key, people);
    }
    tally
}

/// The breakdown by respondents' sector under the small-group rule.
pub fn by_sector(spec: &Value, key: &str, people: &[&Person]) -> Value {
    let k = spec["min_group_size"].as_u64().unwrap_or(5);
    let mut groups: BTreeMap<&str, Vec<&Person>> = BTreeMap::new();
    for person in people.iter().filter(|p| p.answers.contains_key(key)) {
        groups
            .entry(person.sector.as_deref().unwrap_or(NOT_GIVEN))
            .or_default()
            .push(person);
    }
    let sizes: Vec<(&str, u64)> = groups.iter().map(|(n, g)| (*n, g.len() as u64)).collect();
    let Some(shown) = small_groups(&sizes, k) else {
        return json!({});
    };
    let mut out = serde_json::Map::new();
    for (name, members) in shown {
        let people: Vec<&Person> = members
            .iter()
            .flat_map(|&i| groups[sizes[i].0].iter().copied())
            .collect();
        out.insert(name, tally(spec, key, &people));
    }
    Value::Object(out)
}

/// The small-group rule, from its statement in `docs/protocol.md`: groups under `k` are
/// merged, smallest first (ties by name), into "Other (small groups)" until every group
/// shown, that one included, has at least `k`; fewer than two groups left: no breakdown.
/// Returns the groups shown with the indexes of the `sizes` each holds.
pub fn small_groups(sizes: &[(&str, u64)], k: u64) -> Option<Vec<(String, Vec<usize>)>> {
    let mut order: Vec<usize> = (0..sizes.len()).filter(|&i| sizes[i].1 > 0).collect();
    order.sort_by(|&a, &b| sizes[a].1.cmp(&sizes[b].1).then(sizes[a].0.cmp(sizes[b].0)));
    let mut other = Vec::new();
    let mut other_size = 0;
    let mut rest = order.as_slice();
    while let Some((&smallest, tail)) = rest.split_first() {
        if sizes[smallest].1 >= k && (other.is_empty() || other_size >= k) {
            break;
        }
        other.push(smallest);
        other_size += sizes[smallest].1;
        rest = tail;
    }
    if !other.is_empty() && other_size < k {
        return None;
    }
    let mut shown: Vec<(String, Vec<usize>)> = rest
        .iter()
        .map(|&i| (sizes[i].0.to_owned(), vec![i]))
        .collect();
    if !other.is_empty() {
        shown.push((OTHER_GROUP.to_owned(), other));
    }
    (shown.len() >= 2).then_some(shown)
}

/// The expected tally of each of `keys`, open or closed.
pub fn tallies(
    spec: &Value,
    keys: &[&str],
    closed: &[&str],
    people: &[&Person],
) -> BTreeMap<String, Value> {
    keys.iter()
        .map(|key| {
            let tally = if closed.contains(key) {
                closed_tally(spec, key, people)
            } else {
                tally(spec, key, people)
            };
            ((*key).to_owned(), tally)
        })
        .collect()
}

#[test]
fn the_small_group_rule_as_documented() {
    let k = 5;
    let names = |shown: Option<Vec<(String, Vec<usize>)>>| {
        shown.map(|s| s.into_iter().map(|(n, m)| (n, m.len())).collect::<Vec<_>>())
    };
    // Smallest first, ties by name, until Other reaches k.
    let sizes = [("A", 1), ("B", 1), ("C", 2), ("D", 2), ("E", 5), ("F", 6)];
    assert_eq!(
        names(small_groups(&sizes, k)),
        Some(vec![
            ("E".into(), 1),
            ("F".into(), 1),
            (OTHER_GROUP.into(), 4)
        ])
    );
    // Other below k pulls in the next smallest group, even one of k or more.
    let sizes = [("A", 2), ("B", 6), ("C", 7)];
    assert_eq!(
        names(small_groups(&sizes, k)),
        Some(vec![("C".into(), 1), (OTHER_GROUP.into(), 2)])
    );
    // Fewer than two groups: no breakdown.
    assert_eq!(names(small_groups(&[("A", 2), ("B", 4)], k)), None);
    assert_eq!(names(small_groups(&[("A", 9)], k)), None);
    assert_eq!(
        names(small_groups(&[("A", 5), ("B", 5)], k)),
        Some(vec![("A".into(), 1), ("B".into(), 1)])
    );
}
