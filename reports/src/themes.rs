//! Themes of open text: concerns, open answers and questions grouped by what they are about,
//! locally and deterministically (no network service, no model): a fixed list of themes, each
//! with the word stems that mark it. A text goes to the theme whose stems it holds most (ties
//! to the theme listed first); a text holding none goes to "Other topics".
//!
//! Only approved text (visible questions) is classified, and a theme's count is published
//! only through [`privacy::theme_plan`]: themes under `k` are merged into "Other (small
//! groups)", so no theme smaller than `k` is shown or can be found by subtraction.
//!
//! The host may rename or merge themes before the report is final: `Snapshot::theme_names`
//! maps a theme's id to the name it should carry (two ids given one name are merged).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::privacy;

/// The theme of a text that holds none of the listed stems.
pub const OTHER_TOPICS: &str = "other-topics";

/// A theme's id, its default name, and the word stems that mark it (lower case; a stem
/// matches a word that starts with it; a stem with a space matches that phrase).
pub const LEXICON: &[(&str, &str, &[&str])] = &[
    (
        "funding",
        "Funding and commissioning",
        &[
            "fund",
            "budget",
            "commission",
            "money",
            "pilot",
            "recurrent",
            "icb",
            "cost",
            "resourc",
            "invest",
            "contract",
        ],
    ),
    (
        "access",
        "Access, thresholds and waiting",
        &[
            "wait",
            "threshold",
            "eligib",
            "exclud",
            "refus",
            "bounced",
            "access",
            "referr",
            "criteria",
            "gap",
        ],
    ),
    (
        "information",
        "Information sharing",
        &[
            "information",
            "data",
            "consent",
            "record",
            "confidential",
            "sharing agreement",
        ],
    ),
    (
        "workforce",
        "Workforce and training",
        &[
            "train",
            "staff",
            "workforce",
            "skill",
            "workshop",
            "supervision",
            "recruit",
            "retain",
            "burnout",
            "frontline",
        ],
    ),
    (
        "lived-experience",
        "Lived experience, peers and carers",
        &[
            "lived experience",
            "peer",
            "carer",
            "famil",
            "service user",
            "co-produc",
        ],
    ),
    (
        "transitions",
        "Transitions, discharge and prison",
        &[
            "discharg",
            "prison",
            "releas",
            "transition",
            "young people",
            "custody",
            "probation",
        ],
    ),
    (
        "housing",
        "Housing and homelessness",
        &[
            "housing",
            "homeless",
            "bed",
            "accommodation",
            "tenanc",
            "hostel",
        ],
    ),
    (
        "trauma",
        "Trauma-informed practice",
        &["trauma", "abuse", "domestic", "safeguard"],
    ),
    (
        "joint-working",
        "Joint working and partnership",
        &[
            "joint",
            "partnership",
            "together",
            "everyone's business",
            "network",
            "shared care",
            "join",
            "pathway",
            "integrat",
            "phone-a-friend",
            "action plan",
        ],
    ),
    (
        "medication",
        "Medication and harm reduction",
        &[
            "medicat",
            "prescri",
            "naloxone",
            "harm reduction",
            "detox",
            "opioid",
            "methadone",
        ],
    ),
];

/// The default name of the theme `id`.
pub fn default_name(id: &str) -> &str {
    LEXICON
        .iter()
        .find(|(i, _, _)| *i == id)
        .map_or("Other topics", |(_, name, _)| name)
}

/// Every theme id, in lexicon order, "other-topics" last.
pub fn ids() -> impl Iterator<Item = &'static str> {
    LEXICON
        .iter()
        .map(|(id, _, _)| *id)
        .chain(std::iter::once(OTHER_TOPICS))
}

/// The theme id of one text.
pub fn classify(text: &str) -> &'static str {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut best: Option<(&'static str, usize)> = None;
    for (id, _, stems) in LEXICON {
        let hits: usize = stems
            .iter()
            .map(|stem| {
                if stem.contains(' ') {
                    lower.matches(stem).count()
                } else {
                    words.iter().filter(|w| w.starts_with(stem)).count()
                }
            })
            .sum();
        if hits > 0 && best.is_none_or(|(_, b)| hits > b) {
            best = Some((id, hits));
        }
    }
    best.map_or(OTHER_TOPICS, |(id, _)| id)
}

/// One source of open text grouped into themes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ThemeSet {
    /// The text activity's key, or `questions` for the questions from the floor.
    pub source: String,
    pub prompt: String,
    /// Texts grouped: the approved answers (visible questions).
    pub total: u64,
    /// True when too few texts to show any theme's count safely: `themes` is then empty.
    pub withheld: bool,
    /// Largest first (ties by name), "Other (small groups)" last. Their counts add up to
    /// `total`.
    pub themes: Vec<Theme>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Theme {
    /// The theme's name as shown (after the host's renames), or "Other (small groups)".
    pub name: String,
    /// The theme ids it holds (several when the host merged them or small ones were merged).
    pub ids: Vec<String>,
    pub count: u64,
    /// Its texts, alphabetically (the same text given twice is there twice).
    pub quotes: Vec<String>,
}

/// One shown name's theme ids and texts.
type Group<'a> = (Vec<String>, Vec<&'a str>);

/// Groups `texts` (approved, any order) into themes under the small-group rule.
pub fn theme_set(
    source: &str,
    prompt: &str,
    texts: &[&str],
    names: &BTreeMap<String, String>,
    k: u64,
) -> ThemeSet {
    // By shown name: its theme ids and texts.
    let mut groups: BTreeMap<String, Group<'_>> = BTreeMap::new();
    for t in texts {
        let id = classify(t);
        let name = names
            .get(id)
            .filter(|n| !n.trim().is_empty())
            .map_or_else(|| default_name(id).to_owned(), |n| n.trim().to_owned());
        let entry = groups.entry(name).or_default();
        if !entry.0.iter().any(|i| i == id) {
            entry.0.push(id.to_owned());
        }
        entry.1.push(t);
    }
    let sizes: Vec<(&str, u64)> = groups
        .iter()
        .map(|(n, (_, t))| (n.as_str(), t.len() as u64))
        .collect();
    let entries: Vec<&Group<'_>> = groups.values().collect();
    let shown = privacy::theme_plan(&sizes, k);
    let withheld = shown.is_none();
    let mut themes: Vec<Theme> = shown
        .unwrap_or_default()
        .into_iter()
        .map(|(name, members)| {
            let mut ids: Vec<String> = Vec::new();
            let mut quotes: Vec<String> = Vec::new();
            for m in members {
                ids.extend(entries[m].0.iter().cloned());
                quotes.extend(entries[m].1.iter().map(|s| (*s).to_owned()));
            }
            ids.sort_by_key(|id| ids_order(id));
            let count = quotes.len() as u64;
            quotes.sort();
            Theme {
                name,
                ids,
                count,
                quotes,
            }
        })
        .collect();
    themes.sort_by(|a, b| {
        (a.name == privacy::OTHER_GROUP)
            .cmp(&(b.name == privacy::OTHER_GROUP))
            .then(b.count.cmp(&a.count))
            .then_with(|| a.name.cmp(&b.name))
    });
    ThemeSet {
        source: source.to_owned(),
        prompt: prompt.to_owned(),
        total: texts.len() as u64,
        withheld,
        themes,
    }
}

fn ids_order(id: &str) -> usize {
    ids().position(|i| i == id).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_go_to_the_theme_they_mention_most() {
        assert_eq!(
            classify("Housing first works: it needs recurrent funding, not pilots."),
            "funding"
        );
        assert_eq!(
            classify("Waiting lists for mental health assessment are too long."),
            "access"
        );
        assert_eq!(
            classify("Could next year's conference be hybrid?"),
            OTHER_TOPICS
        );
        // A tie goes to the theme listed first.
        assert_eq!(classify("Funding for waiting"), "funding");
    }

    #[test]
    fn renames_merge_and_small_themes_fold_into_other() {
        let texts = [
            "fund a", "fund b", "fund c", "wait a", "wait b", "wait c", "peer a",
        ];
        let none = BTreeMap::new();
        let set = theme_set("c", "p", &texts, &none, 3);
        let got: Vec<(&str, u64)> = set
            .themes
            .iter()
            .map(|t| (t.name.as_str(), t.count))
            .collect();
        // "peer" alone (1) is under k; with the smallest of the rest it makes "Other".
        assert_eq!(
            got,
            vec![("Funding and commissioning", 3), (privacy::OTHER_GROUP, 4)]
        );
        let mut names = BTreeMap::new();
        names.insert("funding".to_owned(), "Money".to_owned());
        names.insert("lived-experience".to_owned(), "Money".to_owned());
        let set = theme_set("c", "p", &texts, &names, 3);
        let got: Vec<(&str, u64)> = set
            .themes
            .iter()
            .map(|t| (t.name.as_str(), t.count))
            .collect();
        assert_eq!(
            got,
            vec![("Money", 4), ("Access, thresholds and waiting", 3)]
        );
        assert_eq!(set.themes[0].ids, vec!["funding", "lived-experience"]);
    }
}
