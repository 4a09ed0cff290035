//! What the day found, computed from figures the Summary already publishes (so nothing here
//! can reveal more than they do): the learning gains with their uncertainty, the answers
//! most given (ties named as ties), the largest shifts since the previous edition, reach
//! against the register, the themes raised, and how sectors differ from the rest.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::privacy::{NOT_GIVEN, OTHER_GROUP};
use crate::summary::{ActivityResult, GroupCount, LearningGain, Summary};
use crate::themes::ThemeSet;

/// The key findings, in the order the report tells them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Findings {
    /// One per learning topic whose paired figures are shown.
    pub gains: Vec<GainFinding>,
    /// The most given answers of each choice and words activity, ties included.
    pub top_answers: Vec<TopAnswer>,
    /// The largest differences since the previous edition, largest first.
    pub shifts: Vec<Shift>,
    pub reach: Reach,
    /// The largest theme of each source of open text (ties included).
    pub themes: Vec<ThemeFinding>,
}

/// A learning gain with its uncertainty.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GainFinding {
    pub topic: String,
    pub paired: u64,
    pub mean_change: f64,
    /// The 95% confidence interval of the mean change (Student's t on the paired changes);
    /// `None` with fewer than two paired attendees.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Improved, as a share of paired attendees (0 to 1).
    pub improved_share: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TopAnswer {
    pub key: String,
    pub prompt: String,
    /// `choice` or `words`.
    pub kind: String,
    /// Respondents (choice) or entries given (words).
    pub out_of: u64,
    /// Up to three ranks; each rank lists every answer tied at its count.
    pub ranks: Vec<Rank>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Rank {
    pub labels: Vec<String>,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Shift {
    pub key: String,
    pub prompt: String,
    /// The option whose share moved, or empty for a scale's mean.
    pub label: String,
    /// `share` (0 to 1) or `mean`.
    pub unit: String,
    pub previous: f64,
    pub current: f64,
}

/// Reach against the register. Attendance is not an answer: shown whole.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Reach {
    pub missing_sectors: Vec<String>,
    pub missing_organisations: Vec<String>,
    /// Registered sectors present with fewer attendees than the small-group size.
    pub small_sectors: Vec<GroupCount>,
    /// Registered organisations present with fewer attendees than the small-group size.
    pub small_organisations: Vec<GroupCount>,
    /// Organisations that came to the previous edition but not to this one.
    pub lapsed_organisations: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ThemeFinding {
    pub source: String,
    pub prompt: String,
    pub total: u64,
    /// The largest themes (all tied at the top), with their count.
    pub names: Vec<String>,
    pub count: u64,
    /// Up to two quotes of the first of them.
    pub quotes: Vec<String>,
}

/// How one sector group answered compared with everyone else, for one activity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SectorDifference {
    pub key: String,
    pub prompt: String,
    /// `scale`, `choice` or `gain` (a learning topic's change; `key` is the topic).
    pub kind: String,
    pub group: String,
    pub n: u64,
    pub rest_n: u64,
    /// Scale and gain: the mean; choice: the share choosing `label`.
    pub label: String,
    pub group_value: f64,
    pub rest_value: f64,
}

impl SectorDifference {
    pub fn difference(&self) -> f64 {
        self.group_value - self.rest_value
    }
}

/// The two-sided 97.5% point of Student's t with `df` degrees of freedom.
pub fn t_975(df: u64) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => T[df as usize - 1],
        31..=40 => 2.021,
        41..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

/// The mean change and its 95% interval from the distribution of changes.
pub fn interval(l: &LearningGain) -> Option<(f64, Option<(f64, f64)>)> {
    let n: u64 = l.change_counts.iter().map(|c| c.count).sum();
    if l.withheld || n == 0 {
        return None;
    }
    let sum: i64 = l
        .change_counts
        .iter()
        .map(|c| c.change * c.count as i64)
        .sum();
    let mean = sum as f64 / n as f64;
    if n < 2 {
        return Some((mean, None));
    }
    let ss: f64 = l
        .change_counts
        .iter()
        .map(|c| (c.change as f64 - mean).powi(2) * c.count as f64)
        .sum();
    let se = (ss / (n - 1) as f64).sqrt() / (n as f64).sqrt();
    let half = t_975(n - 1) * se;
    Some((mean, Some((mean - half, mean + half))))
}

/// Up to three ranks of `(label, count)`, largest first; every label tied at a rank is named.
pub fn ranks(items: &[(String, u64)], limit: usize) -> Vec<Rank> {
    let mut by_count: BTreeMap<std::cmp::Reverse<u64>, Vec<String>> = BTreeMap::new();
    for (label, c) in items.iter().filter(|(_, c)| *c > 0) {
        by_count
            .entry(std::cmp::Reverse(*c))
            .or_default()
            .push(label.clone());
    }
    by_count
        .into_iter()
        .take(limit)
        .map(|(std::cmp::Reverse(count), labels)| Rank { labels, count })
        .collect()
}

pub(crate) fn findings(s: &Summary, previous: Option<&Summary>) -> Findings {
    let gains = s
        .learning
        .iter()
        .filter_map(|l| {
            let (mean, ci) = interval(l)?;
            Some(GainFinding {
                topic: l.topic.clone(),
                paired: l.paired,
                mean_change: mean,
                ci_low: ci.map(|c| c.0),
                ci_high: ci.map(|c| c.1),
                improved_share: l.improved as f64 / l.paired.max(1) as f64,
            })
        })
        .collect();
    let mut top_answers = Vec::new();
    for a in &s.activities {
        let (items, out_of): (Vec<(String, u64)>, u64) = match &a.result {
            ActivityResult::Choice {
                options, counts, ..
            } => (
                options
                    .iter()
                    .cloned()
                    .zip(counts.iter().copied())
                    .collect(),
                a.respondents,
            ),
            ActivityResult::Words { top, entries, .. } => (
                top.iter().map(|g| (g.name.clone(), g.count)).collect(),
                *entries,
            ),
            _ => continue,
        };
        let ranks = ranks(&items, 3);
        if !ranks.is_empty() {
            top_answers.push(TopAnswer {
                key: a.key.clone(),
                prompt: a.prompt.clone(),
                kind: a.kind().to_owned(),
                out_of,
                ranks,
            });
        }
    }
    Findings {
        gains,
        top_answers,
        shifts: shifts(s),
        reach: reach(s, previous),
        themes: theme_findings(&s.themes),
    }
}

fn shifts(s: &Summary) -> Vec<Shift> {
    let Some(c) = &s.comparison else {
        return Vec::new();
    };
    let mut out: Vec<(f64, Shift)> = Vec::new();
    for a in &c.activities {
        if let (Some(p), Some(q)) = (a.previous_mean, a.current_mean) {
            // A mean's move, weighed against a share's as points on a 0-1 scale of its range.
            let range = s
                .activities
                .iter()
                .find(|x| x.key == a.key)
                .and_then(|x| match &x.result {
                    ActivityResult::Scale { min, max, .. } => Some((max - min).max(1) as f64),
                    _ => None,
                })
                .unwrap_or(1.0);
            out.push((
                (q - p).abs() / range,
                Shift {
                    key: a.key.clone(),
                    prompt: a.prompt.clone(),
                    label: String::new(),
                    unit: "mean".to_owned(),
                    previous: p,
                    current: q,
                },
            ));
        }
        for o in &a.options {
            if let (Some(p), Some(q)) = (o.previous_share, o.current_share) {
                out.push((
                    (q - p).abs(),
                    Shift {
                        key: a.key.clone(),
                        prompt: a.prompt.clone(),
                        label: o.label.clone(),
                        unit: "share".to_owned(),
                        previous: p,
                        current: q,
                    },
                ));
            }
        }
    }
    out.retain(|(d, _)| *d >= 0.02);
    out.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| a.1.key.cmp(&b.1.key))
            .then_with(|| a.1.label.cmp(&b.1.label))
    });
    out.into_iter().take(4).map(|(_, s)| s).collect()
}

fn reach(s: &Summary, previous: Option<&Summary>) -> Reach {
    let k = s.min_group_size;
    let h = &s.headline;
    let small_sectors = s
        .attendance
        .by_sector
        .iter()
        .filter(|g| g.name != NOT_GIVEN && g.count < k)
        .cloned()
        .collect();
    let small_organisations = s
        .attendance
        .by_organisation
        .iter()
        .filter(|o| o.registered && o.count < k)
        .map(|o| GroupCount {
            name: o.name.clone(),
            count: o.count,
        })
        .collect();
    let lapsed_organisations = previous
        .map(|p| {
            let now: BTreeSet<String> = s
                .attendance
                .by_organisation
                .iter()
                .map(|o| org_key(&o.name))
                .collect();
            p.attendance
                .by_organisation
                .iter()
                .filter(|o| o.name != NOT_GIVEN && !now.contains(&org_key(&o.name)))
                .map(|o| o.name.clone())
                .collect()
        })
        .unwrap_or_default();
    Reach {
        missing_sectors: h.missing_sectors.clone(),
        missing_organisations: h.missing_organisations.clone(),
        small_sectors,
        small_organisations,
        lapsed_organisations,
    }
}

/// An organisation's name for matching: lower case, letters and digits only, a leading
/// "the" dropped, "and" for "&". "St. Mary's Trust" and "st marys trust" are one.
pub fn org_key(name: &str) -> String {
    let lower = name.to_lowercase().replace('&', " and ");
    let words: Vec<String> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let start = usize::from(words.first().is_some_and(|w| w == "the"));
    words[start.min(words.len())..].join(" ")
}

fn theme_findings(sets: &[ThemeSet]) -> Vec<ThemeFinding> {
    sets.iter()
        .filter_map(|set| {
            let named: Vec<_> = set
                .themes
                .iter()
                .filter(|t| t.name != OTHER_GROUP)
                .collect();
            let top = named.first()?.count;
            let tied: Vec<_> = named.iter().filter(|t| t.count == top).collect();
            Some(ThemeFinding {
                source: set.source.clone(),
                prompt: set.prompt.clone(),
                total: set.total,
                names: tied.iter().map(|t| t.name.clone()).collect(),
                count: top,
                quotes: {
                    let mut q: Vec<String> = tied[0].quotes.clone();
                    q.dedup();
                    q.truncate(2);
                    q
                },
            })
        })
        .collect()
}

/// For each scale and choice activity broken down by sector, and each learning topic broken
/// down by sector, how each named group differs from the rest of the respondents. Built
/// only from the published breakdowns: "the rest" is the whole less the group, both shown.
pub(crate) fn sector_differences(s: &Summary) -> Vec<SectorDifference> {
    let mut out = Vec::new();
    for a in &s.activities {
        let Some(groups) = &a.by_sector else {
            continue;
        };
        if groups.len() < 2 {
            continue;
        }
        match &a.result {
            ActivityResult::Scale { min, counts, .. } => {
                let sum = |c: &[u64]| -> f64 {
                    c.iter()
                        .enumerate()
                        .map(|(i, n)| (min + i as i64) as f64 * *n as f64)
                        .sum()
                };
                let (all_sum, all_n) = (sum(counts), a.respondents);
                for g in groups.iter().filter(|g| g.group != OTHER_GROUP) {
                    let rest_n = all_n - g.total.min(all_n);
                    if g.total == 0 || rest_n == 0 {
                        continue;
                    }
                    let gs = sum(&g.counts);
                    out.push(SectorDifference {
                        key: a.key.clone(),
                        prompt: a.prompt.clone(),
                        kind: "scale".to_owned(),
                        group: g.group.clone(),
                        n: g.total,
                        rest_n,
                        label: "mean".to_owned(),
                        group_value: gs / g.total as f64,
                        rest_value: (all_sum - gs) / rest_n as f64,
                    });
                }
            }
            ActivityResult::Choice {
                options, counts, ..
            } => {
                let all_n = a.respondents;
                for g in groups.iter().filter(|g| g.group != OTHER_GROUP) {
                    let rest_n = all_n - g.total.min(all_n);
                    if g.total == 0 || rest_n == 0 {
                        continue;
                    }
                    // The option on which this group differs most (ties: first option).
                    let mut best: Option<(f64, usize)> = None;
                    for (i, (&gc, &ac)) in g.counts.iter().zip(counts).enumerate() {
                        let d =
                            gc as f64 / g.total as f64 - (ac - gc.min(ac)) as f64 / rest_n as f64;
                        if best.is_none_or(|(b, _)| d.abs() > b.abs() + 1e-12) {
                            best = Some((d, i));
                        }
                    }
                    let Some((_, i)) = best else { continue };
                    let (gc, ac) = (g.counts[i], counts[i]);
                    out.push(SectorDifference {
                        key: a.key.clone(),
                        prompt: a.prompt.clone(),
                        kind: "choice".to_owned(),
                        group: g.group.clone(),
                        n: g.total,
                        rest_n,
                        label: options.get(i).cloned().unwrap_or_default(),
                        group_value: gc as f64 / g.total as f64,
                        rest_value: (ac - gc.min(ac)) as f64 / rest_n as f64,
                    });
                }
            }
            _ => {}
        }
    }
    for l in &s.learning {
        let Some(all) = l.mean_change else { continue };
        if l.by_sector.len() < 2 {
            continue;
        }
        let all_sum = all * l.paired as f64;
        for g in l.by_sector.iter().filter(|g| g.group != OTHER_GROUP) {
            let rest_n = l.paired - g.paired.min(l.paired);
            if rest_n == 0 {
                continue;
            }
            out.push(SectorDifference {
                key: l.topic.clone(),
                prompt: l.post_prompt.clone(),
                kind: "gain".to_owned(),
                group: g.group.clone(),
                n: g.paired,
                rest_n,
                label: "mean change".to_owned(),
                group_value: g.mean_change,
                rest_value: (all_sum - g.mean_change * g.paired as f64) / rest_n as f64,
            });
        }
    }
    out
}
