//! Which changes to an event's spec keep its stored answers meaning what they meant.
//!
//! Answers are stored by activity key, and a choice answer by the position of each option
//! chosen; a scale answer is a number on the scale. So once an activity has answers, its
//! kind, its scale's range and whether it takes several choices are fixed, and its options
//! may be reworded or added at the end, never removed or moved. Everything else (titles,
//! prompts, labels, new activities, sessions and organisations) may change at any time.
//! The small-group size may only go up once there are answers: a smaller one would let a
//! report published later show groups an earlier one hid. An event never becomes, or stops
//! being, a rehearsal by an edit.

use std::collections::{HashMap, HashSet};

use super::names::fold;
use super::spec::{ActivityKind, Event, SpecError};

/// Checks the change from `old` to `new`, where `answered` holds the keys of the activities
/// that have at least one stored answer or have been opened (an open activity may get one
/// at any moment). Each error names the field of `new` at fault (or the list an answered
/// activity was removed from) and says why: every rule broken, at most one an activity, in
/// the order of the old spec (never empty).
pub fn check_edit(
    old: &Event,
    new: &Event,
    answered: &HashSet<String>,
) -> Result<(), Vec<SpecError>> {
    let mut found = Vec::new();
    if old.spec.rehearsal != new.spec.rehearsal {
        found.push(refused(
            "rehearsal",
            if old.spec.rehearsal {
                "a rehearsal cannot become a real event: copy it instead"
            } else {
                "an event cannot become a rehearsal: rehearse it to make a practice copy"
            },
        ));
    }
    if !answered.is_empty() && new.spec.min_group_size < old.spec.min_group_size {
        found.push(refused(
            "min_group_size",
            format!(
                "the event has answers, so the small-group size may only go up (it is {}): \
                 a smaller one would show groups an earlier report hid",
                old.spec.min_group_size
            ),
        ));
    }
    let paths = activity_paths(new);
    for activity in &old.activities {
        let key = activity.key.as_str();
        if !answered.contains(key) {
            continue;
        }
        let Some(changed) = new.activity(key) else {
            found.push(refused(
                "sessions",
                format!("activity {key:?} is open or has answers: it cannot be removed"),
            ));
            continue;
        };
        let path = paths.get(key).cloned().unwrap_or_default();
        if let Err(e) = check_answered(&path, key, &activity.kind, &changed.kind) {
            found.push(e);
        }
    }
    if found.is_empty() { Ok(()) } else { Err(found) }
}

/// The rules for one activity that has answers.
fn check_answered(
    path: &str,
    key: &str,
    old: &ActivityKind,
    new: &ActivityKind,
) -> Result<(), SpecError> {
    if old.name() != new.name() {
        return Err(refused(
            format!("{path}.kind"),
            format!(
                "activity {key:?} is open or has answers as a {} activity: its kind cannot change \
                 (add a new activity instead)",
                old.name()
            ),
        ));
    }
    match (old, new) {
        (
            ActivityKind::Choice {
                options: before,
                multiple: was_multiple,
                ..
            },
            ActivityKind::Choice {
                options: after,
                multiple,
                ..
            },
        ) => {
            if was_multiple != multiple {
                return Err(refused(
                    format!("{path}.multiple"),
                    format!(
                        "activity {key:?} is open or has answers: whether it takes several choices cannot change"
                    ),
                ));
            }
            if after.len() < before.len() {
                return Err(refused(
                    format!("{path}.options"),
                    format!(
                        "activity {key:?} is open or has answers, which are stored by the position \
                         of the option chosen: options cannot be removed (it had {}, now {})",
                        before.len(),
                        after.len()
                    ),
                ));
            }
            // A reworded option keeps its place; an option now in another option's place
            // would have that one's answers counted for it.
            for (i, option) in after.iter().enumerate() {
                let moved_from = before
                    .iter()
                    .position(|b| fold(b) == fold(option))
                    .filter(|&j| j != i);
                if let Some(j) = moved_from {
                    return Err(refused(
                        format!("{path}.options[{i}]"),
                        format!(
                            "activity {key:?} is open or has answers, which are stored by the \
                             position of the option chosen: {option:?} was option {} and cannot move to {} \
                             (add new options at the end)",
                            j + 1,
                            i + 1
                        ),
                    ));
                }
            }
            Ok(())
        }
        (
            ActivityKind::Scale {
                min: old_min,
                max: old_max,
                ..
            },
            ActivityKind::Scale { min, max, .. },
        ) if (old_min, old_max) != (min, max) => Err(refused(
            format!("{path}.max"),
            format!(
                "activity {key:?} is open or has answers on a scale of {old_min} to {old_max}: its range \
                 cannot change"
            ),
        )),
        (ActivityKind::Ranking { options: before }, ActivityKind::Ranking { options: after }) => {
            same_options(path, key, before, after)
        }
        (
            ActivityKind::Points {
                options: before,
                budget: old_budget,
            },
            ActivityKind::Points {
                options: after,
                budget,
            },
        ) => {
            if old_budget != budget {
                return Err(refused(
                    format!("{path}.budget"),
                    format!(
                        "activity {key:?} is open or has answers sharing {old_budget} points: its budget cannot change"
                    ),
                ));
            }
            same_options(path, key, before, after)
        }
        _ => Ok(()),
    }
}

/// A ranking's or a points activity's options once answered: every answer names every
/// option by its position, so options may be reworded but not added, removed or moved.
fn same_options(
    path: &str,
    key: &str,
    before: &[String],
    after: &[String],
) -> Result<(), SpecError> {
    if after.len() != before.len() {
        return Err(refused(
            format!("{path}.options"),
            format!(
                "activity {key:?} is open or has answers, each of which covers every option: \
                 options cannot be added or removed (it had {}, now {})",
                before.len(),
                after.len()
            ),
        ));
    }
    for (i, option) in after.iter().enumerate() {
        let moved_from = before
            .iter()
            .position(|b| fold(b) == fold(option))
            .filter(|&j| j != i);
        if let Some(j) = moved_from {
            return Err(refused(
                format!("{path}.options[{i}]"),
                format!(
                    "activity {key:?} is open or has answers, which are stored by the position of \
                     each option: {option:?} was option {} and cannot move to {}",
                    j + 1,
                    i + 1
                ),
            ));
        }
    }
    Ok(())
}

fn refused(path: impl Into<String>, message: impl Into<String>) -> SpecError {
    SpecError {
        path: path.into(),
        message: message.into(),
    }
}

/// Each activity's path in the spec: `sessions[2].activities[0]`.
fn activity_paths(event: &Event) -> HashMap<String, String> {
    let mut paths = HashMap::new();
    for (si, session) in event.spec.sessions.iter().enumerate() {
        for (ai, activity) in session.activities.iter().enumerate() {
            paths.insert(
                activity.key.clone(),
                format!("sessions[{si}].activities[{ai}]"),
            );
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::domain::spec::parse_spec_value;

    fn fixture() -> Value {
        serde_json::from_str(include_str!("../../fixtures/dual-diagnosis-2026.json"))
            .expect("fixture is JSON")
    }

    fn event(value: Value) -> Event {
        parse_spec_value(value).expect("valid spec")
    }

    /// The error of changing the fixture by `edit` with `answered` activities answered.
    fn check(answered: &[&str], edit: impl FnOnce(&mut Value)) -> Result<(), SpecError> {
        let old = fixture();
        let mut new = old.clone();
        edit(&mut new);
        let answered = answered.iter().map(|k| (*k).to_owned()).collect();
        check_edit(&event(old), &event(new), &answered).map_err(|mut found| found.remove(0))
    }

    fn first_choice(spec: &mut Value) -> &mut Value {
        &mut spec["sessions"][0]["activities"][0]
    }

    #[test]
    fn the_fixture_starts_with_a_choice_and_a_paired_scale() {
        let spec = fixture();
        assert_eq!(spec["sessions"][0]["activities"][0]["kind"], "choice");
        assert_eq!(spec["sessions"][0]["activities"][1]["kind"], "scale");
    }

    #[test]
    fn safe_edits_are_accepted_on_answered_activities() {
        let key = fixture()["sessions"][0]["activities"][0]["key"]
            .as_str()
            .expect("key")
            .to_owned();
        check(&[&key], |s| {
            s["title"] = json!("A new title");
            first_choice(s)["prompt"] = json!("Reworded?");
            let options = first_choice(s)["options"].as_array_mut().expect("options");
            options[0] = json!("Reworded option");
            options.push(json!("A new last option"));
            let sector = s["sectors"][0].clone();
            s["organisations"]
                .as_array_mut()
                .expect("organisations")
                .push(json!({"name": "A new charity", "sector": sector}));
            s["sessions"][0]["activities"]
                .as_array_mut()
                .expect("activities")
                .push(json!({"key": "added-later", "kind": "words", "prompt": "One word?", "max_words": 1}));
            s["min_group_size"] = json!(7);
        })
        .expect("safe edits");
    }

    #[test]
    fn unanswered_activities_may_change_in_any_way() {
        check(&[], |s| {
            first_choice(s)["options"] = json!(["b", "a"]);
            s["sessions"][0]["activities"][1]["min"] = json!(0);
            s["sessions"][0]["activities"][1]["max"] = json!(5);
            s["sessions"][6]["activities"][1]["min"] = json!(0);
            s["sessions"][6]["activities"][1]["max"] = json!(5);
            s["min_group_size"] = json!(3);
        })
        .expect("nothing is answered");
    }

    /// The fixture's activity of `kind` and its path in the spec.
    fn first_of(spec: &Value, kind: &str) -> (usize, usize, String) {
        for (si, session) in spec["sessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .enumerate()
        {
            for (ai, activity) in session["activities"]
                .as_array()
                .expect("activities")
                .iter()
                .enumerate()
            {
                if activity["kind"] == kind {
                    return (si, ai, activity["key"].as_str().expect("key").to_owned());
                }
            }
        }
        panic!("the fixture has no {kind} activity");
    }

    #[test]
    fn answered_rankings_and_points_keep_their_options_and_budget() {
        for kind in ["ranking", "points"] {
            let (si, ai, key) = first_of(&fixture(), kind);
            let path = format!("sessions[{si}].activities[{ai}]");
            let reworded = check(&[&key], |s| {
                s["sessions"][si]["activities"][ai]["options"][0] = json!("Reworded");
            });
            assert!(reworded.is_ok(), "{kind}: {reworded:?}");
            let added = check(&[&key], |s| {
                s["sessions"][si]["activities"][ai]["options"]
                    .as_array_mut()
                    .expect("options")
                    .push(json!("One more"));
            })
            .expect_err("an option added to an answered one");
            assert_eq!(added.path, format!("{path}.options"), "{kind}");
            let moved = check(&[&key], |s| {
                s["sessions"][si]["activities"][ai]["options"]
                    .as_array_mut()
                    .expect("options")
                    .swap(0, 1);
            })
            .expect_err("options swapped");
            assert_eq!(moved.path, format!("{path}.options[0]"), "{kind}");
            // Not answered yet: anything goes.
            check(&[], |s| {
                s["sessions"][si]["activities"][ai]["options"]
                    .as_array_mut()
                    .expect("options")
                    .swap(0, 1);
            })
            .expect("an unanswered activity may change");
        }
        let (si, ai, key) = first_of(&fixture(), "points");
        let budget = check(&[&key], |s| {
            s["sessions"][si]["activities"][ai]["budget"] = json!(50);
        })
        .expect_err("the budget changed");
        assert_eq!(
            budget.path,
            format!("sessions[{si}].activities[{ai}].budget")
        );
    }

    #[test]
    fn edits_that_misread_answers_are_refused_naming_the_field() {
        let spec = fixture();
        let choice = spec["sessions"][0]["activities"][0]["key"]
            .as_str()
            .expect("key")
            .to_owned();
        let scale = spec["sessions"][0]["activities"][1]["key"]
            .as_str()
            .expect("key")
            .to_owned();
        type Edit = Box<dyn FnOnce(&mut Value)>;
        let cases: Vec<(&str, Edit, &str)> = vec![
            (
                choice.as_str(),
                Box::new(|s| {
                    first_choice(s)["options"]
                        .as_array_mut()
                        .expect("options")
                        .pop();
                }),
                "sessions[0].activities[0].options",
            ),
            (
                choice.as_str(),
                Box::new(|s| {
                    first_choice(s)["options"]
                        .as_array_mut()
                        .expect("options")
                        .swap(0, 1);
                }),
                "sessions[0].activities[0].options[0]",
            ),
            (
                choice.as_str(),
                Box::new(|s| {
                    let c = first_choice(s);
                    c["kind"] = json!("words");
                    c["max_words"] = json!(1);
                    let map = c.as_object_mut().expect("object");
                    map.remove("options");
                    map.remove("multiple");
                    map.remove("max_choices");
                }),
                "sessions[0].activities[0].kind",
            ),
            (
                choice.as_str(),
                Box::new(|s| {
                    let c = first_choice(s);
                    let multiple = c["multiple"].as_bool().unwrap_or(false);
                    c["multiple"] = json!(!multiple);
                    c.as_object_mut().expect("object").remove("max_choices");
                }),
                "sessions[0].activities[0].multiple",
            ),
            (
                choice.as_str(),
                Box::new(|s| {
                    s["sessions"][0]["activities"]
                        .as_array_mut()
                        .expect("activities")
                        .remove(0);
                }),
                "sessions",
            ),
            (
                scale.as_str(),
                Box::new(|s| {
                    s["sessions"][0]["activities"][1]["min"] = json!(0);
                    s["sessions"][6]["activities"][1]["min"] = json!(0);
                }),
                "sessions[0].activities[1].max",
            ),
            (
                scale.as_str(),
                Box::new(|s| s["min_group_size"] = json!(3)),
                "min_group_size",
            ),
            ("", Box::new(|s| s["rehearsal"] = json!(true)), "rehearsal"),
        ];
        for (answered, edit, path) in cases {
            let answered: Vec<&str> = [answered].into_iter().filter(|k| !k.is_empty()).collect();
            let error = check(&answered, edit).expect_err(path);
            assert_eq!(error.path, path, "{error}");
            assert!(!error.message.is_empty());
        }
    }
}
