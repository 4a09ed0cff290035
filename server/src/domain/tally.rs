//! Tallies: exact, incremental counts of the current answers to one activity.
//!
//! A changed answer is `remove(old)` then `add(new)`, so the tally always equals a count
//! made from scratch over the current answers. The JSON shapes are TALLY in docs/protocol.md.

use std::collections::{BTreeMap, HashMap};

pub use joinup_reports::tallies::{PointsCounts, RankingCounts};

use super::answer::AnswerValue;
use super::spec::ActivityKind;

/// How many words a words tally shows.
pub const TOP_WORDS: usize = 50;

#[derive(Debug, Clone, PartialEq)]
pub enum Tally {
    Choice {
        counts: Vec<u64>,
        total: u64,
    },
    Scale {
        min: i64,
        counts: Vec<u64>,
        total: u64,
        sum: i64,
    },
    Words {
        counts: HashMap<String, u64>,
        total: u64,
    },
    Text {
        total: u64,
    },
    /// Signatures per organisation; attendees with no organisation count in `total` only.
    Pledge {
        signatures: BTreeMap<String, u64>,
        total: u64,
    },
    /// Rank sums and first choices per option (the arithmetic is the report's own).
    Ranking(RankingCounts),
    /// Points per option.
    Points(PointsCounts),
}

impl Tally {
    pub fn new(kind: &ActivityKind) -> Tally {
        match kind {
            ActivityKind::Choice { options, .. } => Tally::Choice {
                counts: vec![0; options.len()],
                total: 0,
            },
            ActivityKind::Scale { min, max, .. } => Tally::Scale {
                min: *min,
                counts: vec![0; (max - min + 1) as usize],
                total: 0,
                sum: 0,
            },
            ActivityKind::Words { .. } => Tally::Words {
                counts: HashMap::new(),
                total: 0,
            },
            ActivityKind::Text { .. } => Tally::Text { total: 0 },
            ActivityKind::Pledge { .. } => Tally::Pledge {
                signatures: BTreeMap::new(),
                total: 0,
            },
            ActivityKind::Ranking { options } => Tally::Ranking(RankingCounts::new(options.len())),
            ActivityKind::Points { options, .. } => Tally::Points(PointsCounts::new(options.len())),
        }
    }

    /// The tally of an activity whose spec was edited (an edit the rules of
    /// [`crate::domain::edit`] allow): a choice's options added at the end start at zero; an
    /// activity without answers starts afresh under its new kind.
    pub fn fit(&mut self, kind: &ActivityKind) {
        if let (Tally::Choice { counts, .. }, ActivityKind::Choice { options, .. }) =
            (&mut *self, kind)
            && counts.len() <= options.len()
        {
            counts.resize(options.len(), 0);
        } else if self.total() == 0 {
            *self = Tally::new(kind);
        }
    }

    /// Counts one respondent's answer. `organisation` matters only for pledges.
    pub fn add(&mut self, value: &AnswerValue, organisation: Option<&str>) {
        self.apply(value, organisation, true);
    }

    /// Takes back one respondent's answer, exactly as it was added.
    pub fn remove(&mut self, value: &AnswerValue, organisation: Option<&str>) {
        self.apply(value, organisation, false);
    }

    fn apply(&mut self, value: &AnswerValue, organisation: Option<&str>, add: bool) {
        fn step(n: &mut u64, add: bool) {
            *n = if add { *n + 1 } else { n.saturating_sub(1) };
        }
        match (self, value) {
            (Tally::Choice { counts, total }, AnswerValue::Choice(indexes)) => {
                for &i in indexes {
                    if let Some(n) = counts.get_mut(usize::from(i)) {
                        step(n, add);
                    }
                }
                step(total, add);
            }
            (
                Tally::Scale {
                    min,
                    counts,
                    total,
                    sum,
                },
                AnswerValue::Scale(v),
            ) => {
                if let Some(n) = usize::try_from(v - *min)
                    .ok()
                    .and_then(|i| counts.get_mut(i))
                {
                    step(n, add);
                    step(total, add);
                    *sum += if add { *v } else { -*v };
                }
            }
            (Tally::Words { counts, total }, AnswerValue::Words(words)) => {
                for word in words {
                    if add {
                        *counts.entry(word.clone()).or_insert(0) += 1;
                    } else if let Some(n) = counts.get_mut(word) {
                        *n -= 1;
                        if *n == 0 {
                            counts.remove(word);
                        }
                    }
                }
                step(total, add);
            }
            (Tally::Text { total }, AnswerValue::Text(_)) => step(total, add),
            (Tally::Pledge { signatures, total }, AnswerValue::Pledge) => {
                if let Some(org) = organisation {
                    if add {
                        *signatures.entry(org.to_owned()).or_insert(0) += 1;
                    } else if let Some(n) = signatures.get_mut(org) {
                        *n -= 1;
                        if *n == 0 {
                            signatures.remove(org);
                        }
                    }
                }
                step(total, add);
            }
            (Tally::Ranking(counts), AnswerValue::Ranking(order)) => {
                let order = order.iter().map(|&i| usize::from(i));
                if add {
                    counts.add(order);
                } else {
                    counts.remove(order);
                }
            }
            (Tally::Points(counts), AnswerValue::Points(points)) => {
                let points = points.iter().map(|&n| u64::from(n));
                if add {
                    counts.add(points);
                } else {
                    counts.remove(points);
                }
            }
            // A value of another kind never reaches a tally: the hub parses answers against
            // the activity first.
            _ => {}
        }
    }

    /// Adds another tally of the same activity into this one (merging sector groups).
    pub fn merge(&mut self, other: &Tally) {
        match (self, other) {
            (
                Tally::Choice { counts, total },
                Tally::Choice {
                    counts: c,
                    total: t,
                },
            ) => {
                for (a, b) in counts.iter_mut().zip(c) {
                    *a += b;
                }
                *total += t;
            }
            (
                Tally::Scale {
                    counts, total, sum, ..
                },
                Tally::Scale {
                    counts: c,
                    total: t,
                    sum: s,
                    ..
                },
            ) => {
                for (a, b) in counts.iter_mut().zip(c) {
                    *a += b;
                }
                *total += t;
                *sum += s;
            }
            (
                Tally::Words { counts, total },
                Tally::Words {
                    counts: c,
                    total: t,
                },
            ) => {
                for (word, n) in c {
                    *counts.entry(word.clone()).or_insert(0) += n;
                }
                *total += t;
            }
            (Tally::Text { total }, Tally::Text { total: t }) => *total += t,
            (
                Tally::Pledge { signatures, total },
                Tally::Pledge {
                    signatures: s,
                    total: t,
                },
            ) => {
                for (org, n) in s {
                    *signatures.entry(org.clone()).or_insert(0) += n;
                }
                *total += t;
            }
            (Tally::Ranking(counts), Tally::Ranking(other)) => counts.merge(other),
            (Tally::Points(counts), Tally::Points(other)) => counts.merge(other),
            _ => {}
        }
    }

    /// Attendees who answered.
    pub fn total(&self) -> u64 {
        match self {
            Tally::Choice { total, .. }
            | Tally::Scale { total, .. }
            | Tally::Words { total, .. }
            | Tally::Text { total }
            | Tally::Pledge { total, .. } => *total,
            Tally::Ranking(counts) => counts.total,
            Tally::Points(counts) => counts.total,
        }
    }

    /// The mean of a scale, unrounded; `None` with no answers or for other kinds.
    pub fn mean(&self) -> Option<f64> {
        match self {
            Tally::Scale { total, sum, .. } if *total > 0 => Some(*sum as f64 / *total as f64),
            _ => None,
        }
    }

    /// The most frequent words, by count then alphabetically, at most [`TOP_WORDS`].
    pub fn top_words(&self) -> Vec<(&str, u64)> {
        let Tally::Words { counts, .. } = self else {
            return Vec::new();
        };
        let mut top: Vec<(&str, u64)> = counts.iter().map(|(w, n)| (w.as_str(), *n)).collect();
        top.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        top.truncate(TOP_WORDS);
        top
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_and_points_tallies_follow_changed_answers() {
        let options = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let mut ranking = Tally::new(&ActivityKind::Ranking {
            options: options.clone(),
        });
        ranking.add(&AnswerValue::Ranking(vec![1, 0, 2]), None);
        ranking.add(&AnswerValue::Ranking(vec![2, 1, 0]), None);
        ranking.remove(&AnswerValue::Ranking(vec![2, 1, 0]), None);
        ranking.add(&AnswerValue::Ranking(vec![1, 2, 0]), None);
        let Tally::Ranking(counts) = &ranking else {
            panic!("a ranking tally");
        };
        assert_eq!((counts.total, counts.first.clone()), (2, vec![0, 2, 0]));
        assert_eq!(counts.rank_sums, vec![5, 2, 5]);
        let mut points = Tally::new(&ActivityKind::Points {
            options,
            budget: 10,
        });
        points.add(&AnswerValue::Points(vec![5, 5, 0]), None);
        points.add(&AnswerValue::Points(vec![0, 0, 10]), None);
        points.remove(&AnswerValue::Points(vec![5, 5, 0]), None);
        let Tally::Points(counts) = &points else {
            panic!("a points tally");
        };
        assert_eq!((counts.total, counts.points.clone()), (1, vec![0, 0, 10]));
    }

    #[test]
    fn words_show_at_most_fifty() {
        let mut tally = Tally::new(&ActivityKind::Words { max_words: 1 });
        for i in 0..60 {
            tally.add(&AnswerValue::Words(vec![format!("w{i:02}")]), None);
        }
        assert_eq!(tally.top_words().len(), TOP_WORDS);
        assert_eq!(tally.top_words()[0].0, "w00");
    }
}
