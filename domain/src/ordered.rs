//! The arithmetic of the ordered kinds, ranking and points: what a [`crate::Tally`] of a
//! ranking or a points activity holds, for the live hub and the report alike.
//!
//! A changed answer is `remove(old)` then `add(new)`: the counts always equal a count made
//! from scratch over the current answers.

use serde::{Deserialize, Serialize};

/// A ranking's counts: every respondent puts every option in order, 1 the most important.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RankingCounts {
    /// Respondents.
    pub total: u64,
    /// Per option, the sum of the ranks it was given.
    pub rank_sums: Vec<u64>,
    /// Per option, the respondents who ranked it first.
    pub first: Vec<u64>,
}

impl RankingCounts {
    pub fn new(options: usize) -> RankingCounts {
        RankingCounts {
            total: 0,
            rank_sums: vec![0; options],
            first: vec![0; options],
        }
    }

    /// Counts one respondent's order: option indexes, most important first.
    pub fn add(&mut self, order: impl IntoIterator<Item = usize>) {
        self.apply(order, true);
    }

    /// Takes back one respondent's order, exactly as it was added.
    pub fn remove(&mut self, order: impl IntoIterator<Item = usize>) {
        self.apply(order, false);
    }

    fn apply(&mut self, order: impl IntoIterator<Item = usize>, add: bool) {
        for (position, option) in order.into_iter().enumerate() {
            let rank = position as u64 + 1;
            if let Some(sum) = self.rank_sums.get_mut(option) {
                *sum = if add {
                    *sum + rank
                } else {
                    sum.saturating_sub(rank)
                };
            }
            if position == 0
                && let Some(n) = self.first.get_mut(option)
            {
                *n = if add { *n + 1 } else { n.saturating_sub(1) };
            }
        }
        self.total = if add {
            self.total + 1
        } else {
            self.total.saturating_sub(1)
        };
    }

    /// Adds the counts of another group of the same activity.
    pub fn merge(&mut self, other: &RankingCounts) {
        self.total += other.total;
        for (a, b) in self.rank_sums.iter_mut().zip(&other.rank_sums) {
            *a += b;
        }
        for (a, b) in self.first.iter_mut().zip(&other.first) {
            *a += b;
        }
    }

    /// Each option's mean rank (1 = first), unrounded; `None` with no respondents.
    pub fn mean_ranks(&self) -> Vec<Option<f64>> {
        self.rank_sums
            .iter()
            .map(|&sum| (self.total > 0).then(|| sum as f64 / self.total as f64))
            .collect()
    }
}

/// A points activity's counts: every respondent shares the same budget across the options.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PointsCounts {
    /// Respondents.
    pub total: u64,
    /// Per option, the points given to it, all respondents together.
    pub points: Vec<u64>,
}

impl PointsCounts {
    pub fn new(options: usize) -> PointsCounts {
        PointsCounts {
            total: 0,
            points: vec![0; options],
        }
    }

    /// Counts one respondent's points, one number per option in option order.
    pub fn add(&mut self, given: impl IntoIterator<Item = u64>) {
        self.apply(given, true);
    }

    /// Takes back one respondent's points, exactly as they were added.
    pub fn remove(&mut self, given: impl IntoIterator<Item = u64>) {
        self.apply(given, false);
    }

    fn apply(&mut self, given: impl IntoIterator<Item = u64>, add: bool) {
        for (sum, n) in self.points.iter_mut().zip(given) {
            *sum = if add { *sum + n } else { sum.saturating_sub(n) };
        }
        self.total = if add {
            self.total + 1
        } else {
            self.total.saturating_sub(1)
        };
    }

    pub fn merge(&mut self, other: &PointsCounts) {
        self.total += other.total;
        for (a, b) in self.points.iter_mut().zip(&other.points) {
            *a += b;
        }
    }

    /// Each option's share of all the points given, 0 to 1; `None` with no points given.
    pub fn shares(&self) -> Vec<Option<f64>> {
        let all: u64 = self.points.iter().sum();
        self.points
            .iter()
            .map(|&n| (all > 0).then(|| n as f64 / all as f64))
            .collect()
    }
}

/// A ranking as `answers.csv` writes it: `1. First; 2. Second; ...`.
pub fn ranking_text(options: &[String], order: impl Iterator<Item = usize>) -> String {
    order
        .enumerate()
        .filter_map(|(rank, i)| options.get(i).map(|o| format!("{}. {o}", rank + 1)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Points as `answers.csv` writes them: `Option: 40; Other: 60`, every option in order.
pub fn points_text(options: &[String], points: impl Iterator<Item = u64>) -> String {
    options
        .iter()
        .zip(points)
        .map(|(o, n)| format!("{o}: {n}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_ranking_moves_the_sums_and_the_first_choices() {
        let mut counts = RankingCounts::new(3);
        counts.add([2, 0, 1]);
        counts.add([0, 1, 2]);
        counts.remove([0, 1, 2]);
        counts.add([0, 2, 1]);
        assert_eq!(counts.total, 2);
        assert_eq!(counts.rank_sums, vec![3, 6, 3]);
        assert_eq!(counts.first, vec![1, 0, 1]);
        assert_eq!(counts.mean_ranks(), vec![Some(1.5), Some(3.0), Some(1.5)]);
        assert_eq!(RankingCounts::new(2).mean_ranks(), vec![None, None]);
    }

    #[test]
    fn points_add_up_and_share_out() {
        let mut counts = PointsCounts::new(3);
        counts.add([50, 50, 0]);
        counts.add([100, 0, 0]);
        counts.remove([100, 0, 0]);
        counts.add([0, 20, 80]);
        let mut other = PointsCounts::new(3);
        other.add([100, 0, 0]);
        counts.merge(&other);
        assert_eq!(counts.total, 3);
        assert_eq!(counts.points, vec![150, 70, 80]);
        assert_eq!(
            counts.shares(),
            vec![Some(0.5), Some(70.0 / 300.0), Some(80.0 / 300.0)]
        );
        assert_eq!(PointsCounts::new(2).shares(), vec![None, None]);
    }
}
