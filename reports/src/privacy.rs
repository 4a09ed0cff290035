//! The small-group rule (contract section 5): no breakdown by sector or organisation may
//! show, or let a reader subtract their way to, a group of fewer than `k` respondents.
//!
//! Groups under `k` are merged, smallest first (ties by name), into "Other (small groups)"
//! until every group shown, that one included, has at least `k`; if fewer than two groups
//! remain, the breakdown is withheld entirely. The groups shown always add up to the whole.

use std::collections::BTreeMap;

pub const OTHER_GROUP: &str = "Other (small groups)";
pub const NOT_GIVEN: &str = "Not given";

/// Decides which groups are shown: for each shown group, its name and the indexes of the
/// input groups it holds. `None` when the breakdown must be withheld.
///
/// `sizes` are (group name, respondents); groups of size zero are ignored.
pub fn plan(sizes: &[(&str, u64)], k: u64) -> Option<Vec<(String, Vec<usize>)>> {
    let mut order: Vec<usize> = (0..sizes.len()).filter(|&i| sizes[i].1 > 0).collect();
    // Smallest first, ties by name: the order in which groups are folded into "Other".
    order.sort_by(|&a, &b| {
        sizes[a]
            .1
            .cmp(&sizes[b].1)
            .then_with(|| sizes[a].0.cmp(sizes[b].0))
    });
    let mut other: Vec<usize> = Vec::new();
    let mut other_size = 0u64;
    let mut next = 0;
    while next < order.len() {
        let smallest = order[next];
        let needs_merge = sizes[smallest].1 < k || (!other.is_empty() && other_size < k);
        if !needs_merge {
            break;
        }
        other.push(smallest);
        other_size += sizes[smallest].1;
        next += 1;
    }
    if !other.is_empty() && other_size < k {
        return None;
    }
    let mut shown: Vec<(String, Vec<usize>)> = order[next..]
        .iter()
        .map(|&i| (sizes[i].0.to_owned(), vec![i]))
        .collect();
    shown.sort_by(|a, b| a.0.cmp(&b.0));
    if !other.is_empty() {
        shown.push((OTHER_GROUP.to_owned(), other));
    }
    (shown.len() >= 2).then_some(shown)
}

/// Applies [`plan`] to plain counts (for reports' breakdowns of answers by organisation).
pub fn merge_counts(counts: &BTreeMap<String, u64>, k: u64) -> BTreeMap<String, u64> {
    let sizes: Vec<(&str, u64)> = counts.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    plan(&sizes, k)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, members)| (name, members.iter().map(|&i| sizes[i].1).sum()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
    }

    #[test]
    fn large_groups_stand_alone() {
        let out = merge_counts(&counts(&[("Police", 6), ("Housing", 5)]), 5);
        assert_eq!(out, counts(&[("Police", 6), ("Housing", 5)]));
    }

    #[test]
    fn small_groups_merge_smallest_first_until_other_reaches_k() {
        // 2 + 3 = 5 reaches k: "Housing" (4) would still be small, so it joins too.
        let out = merge_counts(
            &counts(&[
                ("Police", 10),
                ("Housing", 4),
                ("Advocacy", 2),
                ("Education", 3),
            ]),
            5,
        );
        assert_eq!(out, counts(&[("Police", 10), (OTHER_GROUP, 9)]));
    }

    #[test]
    fn other_below_k_pulls_in_the_next_smallest_group() {
        // Advocacy (2) alone is under k, so the next smallest (Housing, 6) joins it.
        let out = merge_counts(
            &counts(&[("Police", 10), ("Housing", 6), ("Advocacy", 2)]),
            5,
        );
        assert_eq!(out, counts(&[("Police", 10), (OTHER_GROUP, 8)]));
    }

    #[test]
    fn ties_merge_by_name() {
        let out = merge_counts(
            &counts(&[("Zeta", 3), ("Alpha", 3), ("Police", 9), ("Mid", 3)]),
            5,
        );
        // Alpha(3)+Mid(3)=6 ≥ 5 and Zeta(3) remains small, so it joins as well.
        assert_eq!(out, counts(&[("Police", 9), (OTHER_GROUP, 9)]));
    }

    #[test]
    fn fewer_than_two_groups_withholds_the_breakdown() {
        assert!(merge_counts(&counts(&[("Police", 4), ("Housing", 3)]), 5).is_empty());
        assert!(merge_counts(&counts(&[("Police", 40)]), 5).is_empty());
        assert!(merge_counts(&counts(&[("Police", 40), ("Housing", 1)]), 5).is_empty());
    }

    #[test]
    fn shown_groups_add_up_to_the_whole_and_are_never_small() {
        // Exhaustive over small shapes: every group shown has at least k, and all add up.
        let k = 5;
        for a in 0..8u64 {
            for b in 0..8u64 {
                for c in 0..8u64 {
                    for d in [0u64, 1, 5, 12] {
                        let input = counts(&[("A", a), ("B", b), ("C", c), ("D", d)]);
                        let out = merge_counts(&input, k);
                        if out.is_empty() {
                            continue;
                        }
                        assert!(out.len() >= 2);
                        assert!(out.values().all(|&n| n >= k), "{input:?} -> {out:?}");
                        assert_eq!(out.values().sum::<u64>(), a + b + c + d);
                    }
                }
            }
        }
    }
}
