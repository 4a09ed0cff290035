//! One activity as the spec writes it: its key, its prompt, and the fields of its kind
//! (options, scale range and labels, a pre/post pair, word and length limits, the pledge
//! text, the points budget), each checked apart. A field of another kind is refused.
//!
//! Rules across activities (keys used once, pairs whole) are `validate.rs`.

use std::collections::HashSet;

use super::validate::check_text;
use super::{
    Activity, ActivityKind, ActivitySpec, DEFAULT_BUDGET, Kind, LEAST_BUDGET, MAX_NAME, MAX_OPTION,
    MAX_PLEDGE, MAX_PROMPT, MOST_BUDGET, MOST_ORDERED_OPTIONS, SessionSpec, SpecError,
};
use crate::domain::code::ActivityKey;
use crate::domain::names::fold;

/// One activity: its key, its prompt and its kind's fields, each checked apart.
pub(super) fn validate_activity(
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
    refuse_other_kinds_fields(path, spec)?;
    let kind = spec.kind;
    let missing = |field: &str| {
        SpecError::new(
            format!("{path}.{field}"),
            format!("is required for a {} activity", kind.as_str()),
        )
    };
    let activity_kind = match kind {
        Kind::Choice => {
            let options = spec.options.clone().ok_or_else(|| missing("options"))?;
            choice(path, spec, options)?
        }
        Kind::Scale => {
            let min = spec.min.ok_or_else(|| missing("min"))?;
            let max = spec.max.ok_or_else(|| missing("max"))?;
            scale(path, spec, min, max)?
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

/// Fields that belong to other kinds are refused: a typo'd spec should not half-work.
fn refuse_other_kinds_fields(path: &str, spec: &ActivitySpec) -> Result<(), SpecError> {
    let kind = spec.kind;
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
    Ok(())
}

/// A choice: its options, and how many may be chosen when several may.
fn choice(
    path: &str,
    spec: &ActivitySpec,
    options: Vec<String>,
) -> Result<ActivityKind, SpecError> {
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
    Ok(ActivityKind::Choice {
        options,
        multiple,
        max_choices: spec.max_choices,
    })
}

/// A scale from `min` to `max`: 2 to 11 points, its end labels, and its pre/post pair.
fn scale(path: &str, spec: &ActivitySpec, min: i64, max: i64) -> Result<ActivityKind, SpecError> {
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
    Ok(ActivityKind::Scale {
        min,
        max,
        labels: spec.labels.clone(),
        pair,
    })
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
        if !seen.insert(fold(option)) {
            return Err(SpecError::new(
                opath,
                format!("option {option:?} is listed twice"),
            ));
        }
    }
    Ok(())
}
