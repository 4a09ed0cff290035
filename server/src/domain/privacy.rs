//! The small-group rule applied to live tallies. The rule itself lives in
//! [`joinup_reports::privacy`], so the live view and the report can never disagree: a closed
//! activity's `by_sector` here is the sector part of that activity's plan
//! (`privacy::activity_plan`), over the same respondents counted in the sector they had when
//! they answered. The learning gain, which only the report shows, has its own plan there.

use std::collections::BTreeMap;

pub use joinup_reports::privacy::{NOT_GIVEN, OTHER_GROUP, plan};

use super::tally::Tally;

/// Applies [`plan`] to tallies by group: the `by_sector` of a closed activity.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::answer::AnswerValue;
    use crate::domain::spec::ActivityKind;

    #[test]
    fn breakdown_merges_tallies() {
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
