//! Answer values: checked against their activity and normalised, once, at the edge of the hub.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::kind::ActivityKind;
use crate::names::{clean_text, normalise_word};
use crate::ordered::{points_text, ranking_text};

/// A valid answer in its normal form. Choice indexes are sorted; words are normalised and
/// distinct, in the order first sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerValue {
    Choice(Vec<u8>),
    Scale(i64),
    Words(Vec<String>),
    Text(String),
    Pledge,
    /// Every option index once, most important first.
    Ranking(Vec<u8>),
    /// Points per option, in option order, adding up to the activity's budget.
    Points(Vec<u32>),
}

/// The wire shape, written once for both [`AnswerValue::to_json`] and
/// [`AnswerValue::to_json_text`].
impl serde::Serialize for AnswerValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AnswerValue::Choice(indexes) => indexes.serialize(serializer),
            AnswerValue::Scale(n) => serializer.serialize_i64(*n),
            AnswerValue::Words(words) => words.serialize(serializer),
            AnswerValue::Text(text) => serializer.serialize_str(text),
            AnswerValue::Pledge => serializer.serialize_bool(true),
            AnswerValue::Ranking(order) => order.serialize(serializer),
            AnswerValue::Points(points) => points.serialize(serializer),
        }
    }
}

impl AnswerValue {
    /// Checks `value` against the activity; the error is a sentence for the person.
    pub fn parse(kind: &ActivityKind, value: &Value) -> Result<AnswerValue, String> {
        match kind {
            ActivityKind::Choice {
                options,
                multiple,
                max_choices,
            } => {
                let Some(items) = value.as_array() else {
                    return Err("a choice answer is an array of option indexes, such as [0]".into());
                };
                let mut chosen = BTreeSet::new();
                for item in items {
                    let index = item
                        .as_u64()
                        .ok_or_else(|| format!("{item} is not an option index"))?;
                    if index >= options.len() as u64 {
                        return Err(format!(
                            "option {index} does not exist: this activity has options 0 to {}",
                            options.len() - 1
                        ));
                    }
                    if !chosen.insert(index as u8) {
                        return Err(format!("option {index} is chosen twice"));
                    }
                }
                if chosen.is_empty() {
                    return Err("choose at least one option".into());
                }
                let limit = if *multiple {
                    max_choices.map_or(options.len(), |m| m as usize)
                } else {
                    1
                };
                if chosen.len() > limit {
                    return Err(if *multiple {
                        format!("choose at most {limit} options, not {}", chosen.len())
                    } else {
                        "this activity takes exactly one option".into()
                    });
                }
                Ok(AnswerValue::Choice(chosen.into_iter().collect()))
            }
            ActivityKind::Scale { min, max, .. } => {
                let n = value.as_i64().ok_or_else(|| {
                    format!("a scale answer is a whole number from {min} to {max}")
                })?;
                if n < *min || n > *max {
                    return Err(format!("{n} is outside the scale {min} to {max}"));
                }
                Ok(AnswerValue::Scale(n))
            }
            ActivityKind::Words { max_words } => {
                let Some(items) = value.as_array() else {
                    return Err("a words answer is an array of words, such as [\"trust\"]".into());
                };
                if items.is_empty() {
                    return Err("send at least one word".into());
                }
                if items.len() > *max_words as usize {
                    return Err(format!(
                        "at most {max_words} word{} for this activity, not {}",
                        if *max_words == 1 { "" } else { "s" },
                        items.len()
                    ));
                }
                let mut words: Vec<String> = Vec::with_capacity(items.len());
                for item in items {
                    let raw = item
                        .as_str()
                        .ok_or_else(|| format!("{item} is not a word"))?;
                    let word = normalise_word(raw)
                        .ok_or_else(|| format!("{raw:?}: each entry must be 1 to 25 characters"))?;
                    if !words.contains(&word) {
                        words.push(word);
                    }
                }
                Ok(AnswerValue::Words(words))
            }
            ActivityKind::Text { max_len } => {
                let text = &clean_text(value.as_str().ok_or("a text answer is a string")?);
                if text.is_empty() {
                    return Err("the answer is empty".into());
                }
                let len = text.chars().count();
                if len > *max_len as usize {
                    return Err(format!("at most {max_len} characters, not {len}"));
                }
                Ok(AnswerValue::Text(text.to_owned()))
            }
            ActivityKind::Pledge { .. } => {
                if value == &Value::Bool(true) {
                    Ok(AnswerValue::Pledge)
                } else {
                    Err("a pledge is signed with true".into())
                }
            }
            ActivityKind::Ranking { options } => parse_ranking(options.len(), value),
            ActivityKind::Points { options, budget } => parse_points(options.len(), *budget, value),
        }
    }

    /// The answer in the wire shape of the `answer` message (words normalised).
    pub fn to_json(&self) -> Value {
        // Numbers, strings and booleans always make a JSON value.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// [`AnswerValue::to_json`] as text, as it is stored, without building the JSON value.
    pub fn to_json_text(&self) -> String {
        // Writing numbers and strings into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads back what [`AnswerValue::to_json`] stored, for an activity of `kind`.
    /// Stored values were valid when stored, so this only fails on a corrupt row.
    pub fn from_stored(kind: &ActivityKind, value: &Value) -> Option<AnswerValue> {
        match kind {
            // Stored words are already normalised; re-parsing them is the identity.
            ActivityKind::Words { .. } => value.as_array().map(|items| {
                AnswerValue::Words(
                    items
                        .iter()
                        .filter_map(|w| w.as_str().map(str::to_owned))
                        .collect(),
                )
            }),
            // The spec's limits may not be re-checked against a stored answer: keep what was
            // accepted.
            ActivityKind::Text { .. } => value.as_str().map(|t| AnswerValue::Text(t.to_owned())),
            _ => AnswerValue::parse(kind, value).ok(),
        }
    }

    /// The CSV form: option labels or words joined with `; `, the number, the text, `signed`.
    pub fn display(&self, kind: &ActivityKind) -> String {
        match (self, kind) {
            (AnswerValue::Choice(indexes), ActivityKind::Choice { options, .. }) => indexes
                .iter()
                .filter_map(|&i| options.get(usize::from(i)).map(String::as_str))
                .collect::<Vec<_>>()
                .join("; "),
            (AnswerValue::Scale(n), _) => n.to_string(),
            (AnswerValue::Words(words), _) => words.join("; "),
            (AnswerValue::Text(text), _) => text.clone(),
            (AnswerValue::Pledge, _) => "signed".to_owned(),
            (AnswerValue::Ranking(order), ActivityKind::Ranking { options }) => {
                ranking_text(options, order.iter().map(|&i| usize::from(i)))
            }
            (AnswerValue::Points(points), ActivityKind::Points { options, .. }) => {
                points_text(options, points.iter().map(|&n| u64::from(n)))
            }
            (AnswerValue::Choice(_) | AnswerValue::Ranking(_) | AnswerValue::Points(_), _) => {
                String::new()
            }
        }
    }
}

/// A ranking: every option index of `options` once, most important first.
fn parse_ranking(options: usize, value: &Value) -> Result<AnswerValue, String> {
    let Some(items) = value.as_array() else {
        return Err(format!(
            "a ranking answer is an array of every option index, most important first, such as {:?}",
            (0..options).rev().collect::<Vec<_>>()
        ));
    };
    let mut order: Vec<u8> = Vec::with_capacity(options);
    for item in items {
        let index = item
            .as_u64()
            .ok_or_else(|| format!("{item} is not an option index"))?;
        if index >= options as u64 {
            return Err(format!(
                "option {index} does not exist: this activity has options 0 to {}",
                options - 1
            ));
        }
        if order.contains(&(index as u8)) {
            return Err(format!("option {index} is ranked twice"));
        }
        order.push(index as u8);
    }
    let missing: Vec<String> = (0..options as u8)
        .filter(|i| !order.contains(i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "rank every option: option{} {} {} missing",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if missing.len() == 1 { "is" } else { "are" }
        ));
    }
    Ok(AnswerValue::Ranking(order))
}

/// Points: one whole number of at least 0 per option, in option order, adding up to `budget`.
fn parse_points(options: usize, budget: u32, value: &Value) -> Result<AnswerValue, String> {
    let Some(items) = value.as_array() else {
        return Err(format!(
            "a points answer is an array of whole numbers, one per option in order, adding up to {budget}"
        ));
    };
    if items.len() > options {
        return Err(format!(
            "option {options} does not exist: this activity has options 0 to {}, so {options} numbers",
            options - 1
        ));
    }
    let mut points = Vec::with_capacity(options);
    let mut spent = 0u64;
    for (i, item) in items.iter().enumerate() {
        let n = match item {
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(n), _, _) => n,
                (None, Some(_), _) => {
                    return Err(format!(
                        "{item} points for option {i}: points cannot be negative"
                    ));
                }
                (None, None, Some(f)) if f < 0.0 => {
                    return Err(format!(
                        "{item} points for option {i}: points cannot be negative"
                    ));
                }
                _ => {
                    return Err(format!(
                        "{item} points for option {i}: points are whole numbers"
                    ));
                }
            },
            _ => return Err(format!("{item} for option {i} is not a number of points")),
        };
        if n > u64::from(budget) {
            return Err(format!(
                "{n} points for option {i} is over the budget of {budget}"
            ));
        }
        spent += n;
        points.push(n as u32);
    }
    if items.len() < options {
        return Err(format!(
            "give a number for every option (0 for none): option {} is missing",
            items.len()
        ));
    }
    if spent > u64::from(budget) {
        return Err(format!(
            "these points add up to {spent}, over the budget of {budget}"
        ));
    }
    if spent < u64::from(budget) {
        return Err(format!(
            "spend all {budget} points: these add up to {spent}"
        ));
    }
    Ok(AnswerValue::Points(points))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_stored_text_is_the_json_value_written_out() {
        let values = [
            AnswerValue::Choice(vec![0, 3, 255]),
            AnswerValue::Scale(-4),
            AnswerValue::Words(vec!["waiting lists".into(), "trust \"us\"".into()]),
            AnswerValue::Text("line one\nline two \u{1F600} \\".into()),
            AnswerValue::Pledge,
        ];
        for value in values {
            assert_eq!(value.to_json_text(), value.to_json().to_string());
        }
    }

    fn choice(multiple: bool, max_choices: Option<u32>) -> ActivityKind {
        ActivityKind::Choice {
            options: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            multiple,
            max_choices,
        }
    }

    #[test]
    fn single_choice_takes_exactly_one() {
        let kind = choice(false, None);
        assert_eq!(
            AnswerValue::parse(&kind, &json!([2])),
            Ok(AnswerValue::Choice(vec![2]))
        );
        assert!(AnswerValue::parse(&kind, &json!([0, 1])).is_err());
        assert!(AnswerValue::parse(&kind, &json!([])).is_err());
        assert!(AnswerValue::parse(&kind, &json!([4])).is_err());
        assert!(AnswerValue::parse(&kind, &json!([-1])).is_err());
        assert!(AnswerValue::parse(&kind, &json!(1)).is_err());
        assert!(AnswerValue::parse(&kind, &json!(["1"])).is_err());
    }

    #[test]
    fn multiple_choice_respects_max_choices_and_distinctness() {
        let kind = choice(true, Some(2));
        assert_eq!(
            AnswerValue::parse(&kind, &json!([3, 0])),
            Ok(AnswerValue::Choice(vec![0, 3]))
        );
        assert!(AnswerValue::parse(&kind, &json!([0, 1, 2])).is_err());
        assert!(AnswerValue::parse(&kind, &json!([1, 1])).is_err());
        let unlimited = choice(true, None);
        assert!(AnswerValue::parse(&unlimited, &json!([0, 1, 2, 3])).is_ok());
    }

    #[test]
    fn scale_takes_integers_in_range() {
        let kind = ActivityKind::Scale {
            min: 1,
            max: 5,
            labels: None,
            pair: None,
        };
        assert_eq!(
            AnswerValue::parse(&kind, &json!(4)),
            Ok(AnswerValue::Scale(4))
        );
        for bad in [json!(0), json!(6), json!(4.5), json!("4"), json!(null)] {
            assert!(AnswerValue::parse(&kind, &bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn words_are_normalised_deduplicated_and_limited_as_sent() {
        let kind = ActivityKind::Words { max_words: 3 };
        assert_eq!(
            AnswerValue::parse(&kind, &json!([" Trust ", "waiting   LISTS", "trust"])),
            Ok(AnswerValue::Words(vec![
                "trust".into(),
                "waiting lists".into()
            ]))
        );
        assert!(AnswerValue::parse(&kind, &json!(["a", "b", "c", "d"])).is_err());
        assert!(AnswerValue::parse(&kind, &json!(["  "])).is_err());
        assert!(AnswerValue::parse(&kind, &json!([])).is_err());
        assert!(AnswerValue::parse(&kind, &json!(["x".repeat(26)])).is_err());
        assert!(AnswerValue::parse(&kind, &json!("trust")).is_err());
    }

    #[test]
    fn text_is_trimmed_and_bounded_in_characters() {
        let kind = ActivityKind::Text { max_len: 5 };
        assert_eq!(
            AnswerValue::parse(&kind, &json!(" héllo ")),
            Ok(AnswerValue::Text("héllo".into()))
        );
        assert!(AnswerValue::parse(&kind, &json!("toolong")).is_err());
        assert!(AnswerValue::parse(&kind, &json!("   ")).is_err());
    }

    #[test]
    fn pledge_is_true_only() {
        let kind = ActivityKind::Pledge {
            text: "We will".into(),
        };
        assert_eq!(
            AnswerValue::parse(&kind, &json!(true)),
            Ok(AnswerValue::Pledge)
        );
        assert!(AnswerValue::parse(&kind, &json!(false)).is_err());
    }

    fn ranking() -> ActivityKind {
        ActivityKind::Ranking {
            options: vec!["a".into(), "b".into(), "c".into()],
        }
    }

    fn points() -> ActivityKind {
        ActivityKind::Points {
            options: vec!["a".into(), "b".into(), "c".into()],
            budget: 100,
        }
    }

    fn refusal(kind: &ActivityKind, value: Value) -> String {
        AnswerValue::parse(kind, &value).expect_err("should be refused")
    }

    #[test]
    fn a_ranking_puts_every_option_once() {
        let kind = ranking();
        assert_eq!(
            AnswerValue::parse(&kind, &json!([2, 0, 1])),
            Ok(AnswerValue::Ranking(vec![2, 0, 1]))
        );
        assert_eq!(refusal(&kind, json!([2, 2, 1])), "option 2 is ranked twice");
        assert_eq!(
            refusal(&kind, json!([2, 0])),
            "rank every option: option 1 is missing"
        );
        assert_eq!(
            refusal(&kind, json!([])),
            "rank every option: options 0, 1, 2 are missing"
        );
        assert_eq!(
            refusal(&kind, json!([2, 0, 3])),
            "option 3 does not exist: this activity has options 0 to 2"
        );
        assert_eq!(
            refusal(&kind, json!([2, 0, -1])),
            "-1 is not an option index"
        );
        assert!(refusal(&kind, json!("a > b")).contains("array of every option index"));
    }

    #[test]
    fn points_spend_the_whole_budget_in_whole_positive_numbers() {
        let kind = points();
        assert_eq!(
            AnswerValue::parse(&kind, &json!([60, 40, 0])),
            Ok(AnswerValue::Points(vec![60, 40, 0]))
        );
        assert_eq!(
            refusal(&kind, json!([60, 50, 0])),
            "these points add up to 110, over the budget of 100"
        );
        assert_eq!(
            refusal(&kind, json!([60, 30, 0])),
            "spend all 100 points: these add up to 90"
        );
        assert_eq!(
            refusal(&kind, json!([120, -20, 0])),
            "120 points for option 0 is over the budget of 100"
        );
        assert_eq!(
            refusal(&kind, json!([60, 60, -20])),
            "-20 points for option 2: points cannot be negative"
        );
        assert_eq!(
            refusal(&kind, json!([50.5, 49.5, 0])),
            "50.5 points for option 0: points are whole numbers"
        );
        assert_eq!(
            refusal(&kind, json!([60, 40])),
            "give a number for every option (0 for none): option 2 is missing"
        );
        assert_eq!(
            refusal(&kind, json!([60, 40, 0, 0])),
            "option 3 does not exist: this activity has options 0 to 2, so 3 numbers"
        );
        assert_eq!(
            refusal(&kind, json!([60, "40", 0])),
            "\"40\" for option 1 is not a number of points"
        );
    }

    #[test]
    fn ordered_kinds_read_back_and_display_for_the_csv() {
        let value = AnswerValue::Ranking(vec![2, 0, 1]);
        assert_eq!(
            AnswerValue::from_stored(&ranking(), &value.to_json()),
            Some(value.clone())
        );
        assert_eq!(value.display(&ranking()), "1. c; 2. a; 3. b");
        let value = AnswerValue::Points(vec![60, 40, 0]);
        assert_eq!(
            AnswerValue::from_stored(&points(), &value.to_json()),
            Some(value.clone())
        );
        assert_eq!(value.display(&points()), "a: 60; b: 40; c: 0");
    }

    #[test]
    fn stored_values_round_trip() {
        let kind = choice(true, None);
        let value = AnswerValue::Choice(vec![1, 3]);
        assert_eq!(
            AnswerValue::from_stored(&kind, &value.to_json()),
            Some(value.clone())
        );
        assert_eq!(value.display(&kind), "b; d");
    }
}
