//! The small-group rule (docs/privacy.md): no breakdown by sector or organisation may
//! show, or let a reader subtract their way to, a group of fewer than `k` respondents.
//!
//! Groups under `k` are merged, smallest first (ties by name), into "Other (small groups)"
//! until every group shown, that one included, has at least `k`; if fewer than two groups
//! remain, the breakdown is withheld entirely. The groups shown always add up to the whole.
//!
//! Every figure published about an activity's answers, anywhere (the live host view, the
//! report's HTML and PDF, `summary.json`, `answers.csv`), comes from one plan per activity and
//! one per before/after pair, both made here:
//! - [`activity_plan`] gives each respondent of an activity the sector and organisation
//!   labels their answer may be published under. Every (organisation, sector) cell it makes
//!   holds at least `k` respondents, and every figure about the activity is over a union of
//!   its cells, so subtracting any two figures leaves 0 or at least `k` people. The sector
//!   labels are exactly [`plan`]'s groups, which the live hub applies to its tallies.
//! - [`pair_plan`] decides which learning-gain figures may be shown beside the two
//!   activities' own (see its documentation for the attack it stops and why the check holds).

use std::collections::{BTreeMap, HashMap};

use crate::tally::Tally;

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

/// Applies [`plan`] to tallies by group: the live hub's `by_sector` of a closed activity,
/// the sector part of that activity's [`activity_plan`] over the same respondents.
pub fn breakdown(groups: &BTreeMap<String, Tally>, k: u64) -> BTreeMap<String, Tally> {
    let entries: Vec<(&String, &Tally)> = groups.iter().collect();
    let sizes: Vec<(&str, u64)> = entries
        .iter()
        .map(|(n, t)| (n.as_str(), t.total()))
        .collect();
    let Some(shown) = plan(&sizes, k) else {
        return BTreeMap::new();
    };
    shown
        .into_iter()
        .filter_map(|(name, members)| {
            let mut iter = members.into_iter();
            let mut tally = entries[iter.next()?].1.clone();
            for i in iter {
                tally.merge(entries[i].1);
            }
            Some((name, tally))
        })
        .collect()
}

/// The themes of some open texts that may be published, as [`plan`] groups them: each
/// theme shown holds at least `k` texts, small ones merged into "Other (small groups)"; the
/// shown themes add up to all the texts. One theme of at least `k` holding every text may be
/// shown alone (it isolates nobody). `None`: too few texts to show any theme's count.
pub fn theme_plan(sizes: &[(&str, u64)], k: u64) -> Option<Vec<(String, Vec<usize>)>> {
    if let Some(shown) = plan(sizes, k) {
        return Some(shown);
    }
    let present: Vec<usize> = (0..sizes.len()).filter(|&i| sizes[i].1 > 0).collect();
    match present.as_slice() {
        [only] if sizes[*only].1 >= k => Some(vec![(sizes[*only].0.to_owned(), vec![*only])]),
        _ => None,
    }
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

/// The labels one activity's answers may be published under: for each respondent, in the
/// order given, its sector label and its organisation label. A label is the respondent's own
/// sector (organisation), [`OTHER_GROUP`], or `""` where the breakdown is withheld.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityPlan<'a> {
    pub sector: Vec<&'a str>,
    pub organisation: Vec<&'a str>,
}

impl ActivityPlan<'_> {
    /// The sector groups this plan publishes, with the respondents (indexes) each holds; empty
    /// when fewer than two groups remain (the breakdown is withheld).
    pub fn sector_groups(&self) -> Vec<(String, Vec<usize>)> {
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, label) in self.sector.iter().enumerate() {
            if !label.is_empty() {
                groups.entry(label).or_default().push(i);
            }
        }
        if groups.len() < 2 {
            return Vec::new();
        }
        // Named groups by name, "Other (small groups)" last, as [`plan`] orders them.
        let mut out: Vec<(String, Vec<usize>)> = groups
            .into_iter()
            .map(|(name, members)| (name.to_owned(), members))
            .collect();
        out.sort_by_key(|(name, _)| name == OTHER_GROUP);
        out
    }

    /// The cell of each respondent: an id shared by the respondents with the same
    /// (organisation label, sector label). Every cell holds at least `k` respondents, except
    /// the one cell of an activity with fewer than `k` respondents in all.
    pub fn cells(&self) -> Vec<usize> {
        let mut ids: HashMap<(&str, &str), usize> = HashMap::new();
        self.sector
            .iter()
            .zip(&self.organisation)
            .map(|(s, o)| {
                let next = ids.len();
                *ids.entry((*o, *s)).or_insert(next)
            })
            .collect()
    }
}

/// The plan of one activity from its respondents' (organisation, sector) at answer time
/// (`Not given` for none): sector groups first, then organisations inside each sector group
/// (the whole activity when the sector breakdown is withheld). Where [`plan`] withholds a
/// breakdown only because one group of at least `k` holds every respondent, that group's
/// name is kept: naming it isolates nobody.
pub fn activity_plan<'a>(respondents: &[(&'a str, &'a str)], k: u64) -> ActivityPlan<'a> {
    let sector = relabel(respondents.iter().map(|r| r.1), k);
    let mut organisation = vec![""; respondents.len()];
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (n, s) in sector.iter().enumerate() {
        groups.entry(s).or_default().push(n);
    }
    for members in groups.values() {
        let labels = relabel(members.iter().map(|&n| respondents[n].0), k);
        for (&n, label) in members.iter().zip(labels) {
            organisation[n] = label;
        }
    }
    ActivityPlan {
        sector,
        organisation,
    }
}

/// For each value, the label the rule allows: its own name, [`OTHER_GROUP`] or empty.
fn relabel<'a>(values: impl Iterator<Item = &'a str> + Clone, k: u64) -> Vec<&'a str> {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for v in values.clone() {
        *counts.entry(v).or_default() += 1;
    }
    let mut names: Vec<&str> = counts.keys().copied().collect();
    names.sort_unstable();
    let sizes: Vec<(&str, u64)> = names.iter().map(|n| (*n, counts[n])).collect();
    let mut label: HashMap<&str, &'a str> = HashMap::new();
    match plan(&sizes, k) {
        Some(shown) => {
            for (group, members) in shown {
                for m in members {
                    let own = names[m];
                    let as_shown = if group == OTHER_GROUP {
                        OTHER_GROUP
                    } else {
                        own
                    };
                    label.insert(own, as_shown);
                }
            }
        }
        // One group of at least k holds every respondent: naming it isolates nobody.
        None if sizes.len() == 1 && sizes[0].1 >= k => {
            label.insert(names[0], names[0]);
        }
        None => {}
    }
    values
        .map(|v| label.get(v).copied().unwrap_or(""))
        .collect()
}

/// One person of a before/after pair: the cell ([`ActivityPlan::cells`]) of their `pre`
/// answer and of their `post` answer, if they gave it, and the sector group their `pre`
/// answer is published under (`""` when withheld).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairMember<'a> {
    pub pre: Option<usize>,
    pub post: Option<usize>,
    pub pre_group: &'a str,
}

/// Which learning-gain figures of a pair may be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairPlan {
    /// The paired figures (means, changes) may be shown.
    pub paired: bool,
    /// The mean of those who answered only before (only after) may be shown.
    pub pre_only: bool,
    pub post_only: bool,
    /// The gain by sector group: each group's name and the members (indexes) it holds, the
    /// paired ones only; empty when withheld.
    pub groups: Vec<(String, Vec<usize>)>,
}

/// Decides what a pair's learning gain may show beside what its two activities show.
///
/// **The attack.** The `pre` activity publishes, for each of its cells (and every union of
/// them: sectors, the whole), a distribution and a mean with its n: a total. So does the
/// `post` activity. The gain publishes totals of the change (`post - pre`) over the paired
/// people, and the paired people's `pre` and `post` means. For a sector where one person
/// answered only before, `before total - (after total - mean change x paired n)` is that
/// person's answer; overall, `mean x n - paired mean x paired n` is the total of everyone who
/// answered only before.
///
/// **The check.** The gain's groups are built so that no activity cell holds paired people
/// of two gain groups (a cell ties together the groups its people fall in; tied groups go
/// into one). Inside one group `G`, a reader combining any published totals either cancels
/// whole cells, or leaves, in each cell `c` of `G`, either its paired people or its
/// before-only people: at least `sum over cells of min(paired in c, before-only in c)`,
/// the same with after-only people and the `post` cells. So a group is shown only if it has
/// at least `k` paired people and both sums are 0 or at least `k`; groups that fail are
/// merged into "Other (small groups)" (then the smallest named ones, until "Other" passes);
/// fewer than two groups withhold the breakdown. The paired figures overall are the same
/// check on one group holding everyone. Any published combination then involves 0 or at
/// least `k` people.
pub fn pair_plan(members: &[PairMember<'_>], k: u64) -> PairPlan {
    let paired: Vec<usize> = (0..members.len())
        .filter(|&i| members[i].pre.is_some() && members[i].post.is_some())
        .collect();
    let all = Block::of(members, paired.iter().copied());
    let paired_ok = all.passes(k);
    let count = |f: fn(&PairMember<'_>) -> bool| members.iter().filter(|m| f(m)).count() as u64;
    let pre_only = count(|m| m.pre.is_some() && m.post.is_none());
    let post_only = count(|m| m.pre.is_none() && m.post.is_some());
    PairPlan {
        paired: paired_ok,
        pre_only: paired_ok && pre_only >= k,
        post_only: paired_ok && post_only >= k,
        groups: if paired_ok {
            gain_groups(members, &paired, k)
        } else {
            Vec::new()
        },
    }
}

/// The people of some gain groups, and what the check needs to know about them.
struct Block {
    members: Vec<usize>,
    paired: u64,
    /// Sum over the `pre` (`post`) cells these people are in of min(paired, before-only).
    pre_mixed: u64,
    post_mixed: u64,
}

impl Block {
    /// `paired` must be closed under cells: every paired person sharing a cell with one of
    /// them is one of them.
    fn of(members: &[PairMember<'_>], paired: impl Iterator<Item = usize>) -> Block {
        let ids: Vec<usize> = paired.collect();
        // Per cell: (paired in it, of this block).
        let mut pre: HashMap<usize, u64> = HashMap::new();
        let mut post: HashMap<usize, u64> = HashMap::new();
        for &i in &ids {
            if let (Some(a), Some(b)) = (members[i].pre, members[i].post) {
                *pre.entry(a).or_default() += 1;
                *post.entry(b).or_default() += 1;
            }
        }
        let mut pre_only: HashMap<usize, u64> = HashMap::new();
        let mut post_only: HashMap<usize, u64> = HashMap::new();
        for m in members {
            match (m.pre, m.post) {
                (Some(a), None) if pre.contains_key(&a) => *pre_only.entry(a).or_default() += 1,
                (None, Some(b)) if post.contains_key(&b) => *post_only.entry(b).or_default() += 1,
                _ => {}
            }
        }
        let mixed = |cells: &HashMap<usize, u64>, only: &HashMap<usize, u64>| {
            cells
                .iter()
                .map(|(c, &n)| n.min(only.get(c).copied().unwrap_or(0)))
                .sum()
        };
        Block {
            paired: ids.len() as u64,
            pre_mixed: mixed(&pre, &pre_only),
            post_mixed: mixed(&post, &post_only),
            members: ids,
        }
    }

    fn passes(&self, k: u64) -> bool {
        let safe = |n: u64| n == 0 || n >= k;
        self.paired >= k && safe(self.pre_mixed) && safe(self.post_mixed)
    }
}

/// The gain's groups by sector (see [`pair_plan`]); empty when withheld.
fn gain_groups(members: &[PairMember<'_>], paired: &[usize], k: u64) -> Vec<(String, Vec<usize>)> {
    // Start from the sector groups of the `pre` answers; tie the groups sharing a cell.
    let mut names: Vec<&str> = paired.iter().map(|&i| members[i].pre_group).collect();
    names.sort_unstable();
    names.dedup();
    let group_of = |i: usize| names.binary_search(&members[i].pre_group).unwrap_or(0);
    let mut parent: Vec<usize> = (0..names.len()).collect();
    fn root(parent: &mut [usize], mut g: usize) -> usize {
        while parent[g] != g {
            parent[g] = parent[parent[g]];
            g = parent[g];
        }
        g
    }
    let sides: [fn(&PairMember<'_>) -> Option<usize>; 2] = [|m| m.pre, |m| m.post];
    for side in sides {
        let mut first: HashMap<usize, usize> = HashMap::new();
        for &i in paired {
            let Some(cell) = side(&members[i]) else {
                continue;
            };
            let g = group_of(i);
            let other = *first.entry(cell).or_insert(g);
            let (a, b) = (root(&mut parent, g), root(&mut parent, other));
            parent[a] = b;
        }
    }
    let mut tied: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for g in 0..names.len() {
        let r = root(&mut parent, g);
        tied.entry(r).or_default().push(g);
    }
    // A block named after a sector holds that sector's group alone; the rest go to "Other".
    let mut named: Vec<(String, Block)> = Vec::new();
    let mut other: Vec<usize> = Vec::new();
    for groups in tied.values() {
        let people: Vec<usize> = paired
            .iter()
            .copied()
            .filter(|&i| groups.contains(&group_of(i)))
            .collect();
        let name = names[groups[0]];
        let block = Block::of(members, people.iter().copied());
        if groups.len() == 1 && !name.is_empty() && name != OTHER_GROUP && block.passes(k) {
            named.push((name.to_owned(), block));
        } else {
            other.extend(people);
        }
    }
    // "Other" must pass too: fold in the smallest named groups (ties by name) until it does.
    named.sort_by(|a, b| a.1.paired.cmp(&b.1.paired).then_with(|| a.0.cmp(&b.0)));
    let mut named = std::collections::VecDeque::from(named);
    while !other.is_empty() && !Block::of(members, other.iter().copied()).passes(k) {
        let Some((_, block)) = named.pop_front() else {
            break;
        };
        other.extend(block.members);
    }
    let mut out: Vec<(String, Vec<usize>)> = named
        .into_iter()
        .map(|(name, block)| (name, block.members))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    if !other.is_empty() {
        other.sort_unstable();
        out.push((OTHER_GROUP.to_owned(), other));
    }
    if out.len() < 2 {
        return Vec::new();
    }
    out
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

    /// `n` people with the given pre cell, post cell and pre group.
    fn members<'a>(spec: &[(usize, Option<usize>, Option<usize>, &'a str)]) -> Vec<PairMember<'a>> {
        spec.iter()
            .flat_map(|&(n, pre, post, group)| {
                (0..n).map(move |_| PairMember {
                    pre,
                    post,
                    pre_group: group,
                })
            })
            .collect()
    }

    #[test]
    fn one_before_only_person_in_a_cell_of_paired_people_withholds_the_gain() {
        // Cell 0 (Police): 5 paired and 1 before-only; cell 1 (Housing): 7 paired.
        let people = members(&[
            (5, Some(0), Some(10), "Police"),
            (1, Some(0), None, "Police"),
            (7, Some(1), Some(11), "Housing"),
        ]);
        let plan = pair_plan(&people, 5);
        assert!(!plan.paired && !plan.pre_only && plan.groups.is_empty());
        // With 5 before-only people there, nothing smaller than k can be subtracted out.
        let people = members(&[
            (5, Some(0), Some(10), "Police"),
            (5, Some(0), None, "Police"),
            (7, Some(1), Some(11), "Housing"),
        ]);
        let plan = pair_plan(&people, 5);
        assert!(plan.paired && plan.pre_only && !plan.post_only);
        let groups: Vec<(&str, usize)> = plan
            .groups
            .iter()
            .map(|(g, m)| (g.as_str(), m.len()))
            .collect();
        assert_eq!(groups, vec![("Housing", 7), ("Police", 5)]);
    }

    #[test]
    fn groups_sharing_an_after_cell_are_merged_and_other_must_pass_too() {
        // Police and Housing share after-cell 10; Advocacy stands alone; Mental health too.
        let people = members(&[
            (5, Some(0), Some(10), "Police"),
            (5, Some(1), Some(10), "Housing"),
            (6, Some(2), Some(12), "Advocacy"),
            (7, Some(3), Some(13), "Mental health"),
        ]);
        let plan = pair_plan(&people, 5);
        let groups: Vec<(&str, usize)> = plan
            .groups
            .iter()
            .map(|(g, m)| (g.as_str(), m.len()))
            .collect();
        assert_eq!(
            groups,
            vec![("Advocacy", 6), ("Mental health", 7), (OTHER_GROUP, 10)]
        );
        // One after-cell holds 2 paired beside 3 after-only people: the paired "after" total
        // less the other cells' would be those 2 people's. Nothing paired is shown.
        let people = members(&[
            (2, Some(0), Some(10), OTHER_GROUP),
            (3, None, Some(10), ""),
            (6, Some(2), Some(12), "Advocacy"),
            (7, Some(3), Some(13), "Mental health"),
        ]);
        let plan = pair_plan(&people, 5);
        assert!(!plan.paired, "2 paired beside 3 after-only in one cell");
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

    #[test]
    fn breakdown_merges_tallies() {
        use crate::answer::AnswerValue;
        use crate::kind::ActivityKind;

        let kind = ActivityKind::Scale {
            min: 1,
            max: 3,
            labels: None,
            pair: None,
        };
        let mut groups = BTreeMap::new();
        for (sector, values) in [
            ("Police", vec![1, 1, 2, 3, 3]),
            ("Housing", vec![2, 2]),
            ("Advocacy", vec![3, 3, 3]),
        ] {
            let mut tally = Tally::new(&kind);
            for v in values {
                tally.add(&AnswerValue::Scale(v), None);
            }
            groups.insert(sector.to_owned(), tally);
        }
        let out = breakdown(&groups, 5);
        assert_eq!(out.keys().collect::<Vec<_>>(), vec![OTHER_GROUP, "Police"]);
        let Tally::Scale { counts, .. } = &out[OTHER_GROUP] else {
            panic!("a scale tally");
        };
        assert_eq!(counts, &[0, 2, 3]);
    }
}
