//! The TALLY shape on the wire: a view of a domain [`Tally`] (which computes the numbers),
//! serialised without copying its counts. Hosts' tallies of a closed choice or scale carry
//! `by_sector`, the breakdown with the small-group rule applied; everyone else's never do.

use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::domain::Tally;

/// A tally as sent: `{"total", "counts"}` (choice), `{"total", "counts", "mean"}` (scale),
/// `{"total", "top": [[word, n], ...]}` (words), `{"total"}` (text),
/// `{"total", "organisations", "signatures"}` (pledge), `{"total", "first", "mean_rank"}`
/// (ranking), `{"total", "points", "shares"}` (points), with `by_sector` (a map of sector to
/// tally) on hosts' closed choices, scales, rankings and points.
pub struct TallyView<'a> {
    pub tally: &'a Tally,
    pub by_sector: Option<BTreeMap<String, Tally>>,
}

impl<'a> TallyView<'a> {
    /// The tally as attendees and the presenter see it: never a breakdown by sector.
    pub fn public(tally: &'a Tally) -> TallyView<'a> {
        TallyView {
            tally,
            by_sector: None,
        }
    }
}

/// A breakdown's tally: the public shape.
struct Public<'a>(&'a Tally);

impl Serialize for Public<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        TallyView::public(self.0).serialize(serializer)
    }
}

impl Serialize for TallyView<'_> {
    // Keys in alphabetical order, the order these frames have always had on the wire.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(by_sector) = &self.by_sector {
            let shown: BTreeMap<&str, Public<'_>> = by_sector
                .iter()
                .map(|(sector, tally)| (sector.as_str(), Public(tally)))
                .collect();
            map.serialize_entry("by_sector", &shown)?;
        }
        match self.tally {
            Tally::Choice { counts, total } => {
                map.serialize_entry("counts", counts)?;
                map.serialize_entry("total", total)?;
            }
            Tally::Scale { counts, total, .. } => {
                map.serialize_entry("counts", counts)?;
                map.serialize_entry("mean", &self.tally.mean())?;
                map.serialize_entry("total", total)?;
            }
            Tally::Words { total, .. } => {
                map.serialize_entry("top", &self.tally.top_words())?;
                map.serialize_entry("total", total)?;
            }
            Tally::Text { total } => map.serialize_entry("total", total)?,
            Tally::Pledge { signatures, total } => {
                let organisations: Vec<&str> = signatures.keys().map(String::as_str).collect();
                map.serialize_entry("organisations", &organisations)?;
                map.serialize_entry("signatures", signatures)?;
                map.serialize_entry("total", total)?;
            }
            Tally::Ranking(counts) => {
                map.serialize_entry("first", &counts.first)?;
                map.serialize_entry("mean_rank", &counts.mean_ranks())?;
                map.serialize_entry("total", &counts.total)?;
            }
            Tally::Points(counts) => {
                map.serialize_entry("points", &counts.points)?;
                map.serialize_entry("shares", &counts.shares())?;
                map.serialize_entry("total", &counts.total)?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::domain::AnswerValue;
    use crate::domain::spec::ActivityKind;

    trait Wire {
        fn wire(&self) -> Value;
    }

    impl Wire for Tally {
        fn wire(&self) -> Value {
            serde_json::to_value(TallyView::public(self)).unwrap_or_default()
        }
    }

    fn scale() -> ActivityKind {
        ActivityKind::Scale {
            min: 1,
            max: 5,
            labels: None,
            pair: None,
        }
    }

    #[test]
    fn a_breakdown_comes_first_and_in_the_public_shape() {
        let mut tally = Tally::new(&scale());
        tally.add(&AnswerValue::Scale(2), None);
        let by_sector = BTreeMap::from([("Police".to_owned(), tally.clone())]);
        let view = TallyView {
            tally: &tally,
            by_sector: Some(by_sector),
        };
        assert_eq!(
            serde_json::to_string(&view).unwrap_or_default(),
            r#"{"by_sector":{"Police":{"counts":[0,1,0,0,0],"mean":2.0,"total":1}},"counts":[0,1,0,0,0],"mean":2.0,"total":1}"#
        );
    }

    #[test]
    fn a_changed_answer_moves_the_count() {
        let mut tally = Tally::new(&scale());
        tally.add(&AnswerValue::Scale(2), None);
        tally.add(&AnswerValue::Scale(4), None);
        tally.remove(&AnswerValue::Scale(2), None);
        tally.add(&AnswerValue::Scale(5), None);
        assert_eq!(
            tally.wire(),
            json!({"total": 2, "counts": [0, 0, 0, 1, 1], "mean": 4.5})
        );
    }

    #[test]
    fn empty_scale_has_null_mean() {
        assert_eq!(Tally::new(&scale()).wire()["mean"], Value::Null);
    }

    #[test]
    fn choice_counts_each_option_and_each_attendee_once() {
        let kind = ActivityKind::Choice {
            options: vec!["a".into(), "b".into(), "c".into()],
            multiple: true,
            max_choices: None,
        };
        let mut tally = Tally::new(&kind);
        tally.add(&AnswerValue::Choice(vec![0, 2]), None);
        tally.add(&AnswerValue::Choice(vec![2]), None);
        assert_eq!(tally.wire(), json!({"total": 2, "counts": [1, 0, 2]}));
    }

    #[test]
    fn words_rank_by_count_then_alphabetically_and_forget_zeroes() {
        let mut tally = Tally::new(&ActivityKind::Words { max_words: 3 });
        tally.add(
            &AnswerValue::Words(vec!["trust".into(), "funding".into()]),
            None,
        );
        tally.add(
            &AnswerValue::Words(vec!["trust".into(), "apathy".into()]),
            None,
        );
        tally.remove(
            &AnswerValue::Words(vec!["trust".into(), "apathy".into()]),
            None,
        );
        tally.add(&AnswerValue::Words(vec!["trust".into()]), None);
        assert_eq!(
            tally.wire(),
            json!({"total": 2, "top": [["trust", 2], ["funding", 1]]})
        );
    }

    #[test]
    fn pledge_lists_signing_organisations() {
        let mut tally = Tally::new(&ActivityKind::Pledge { text: "x".into() });
        tally.add(&AnswerValue::Pledge, Some("York Mind"));
        tally.add(&AnswerValue::Pledge, Some("Changing Lives"));
        tally.add(&AnswerValue::Pledge, Some("York Mind"));
        tally.add(&AnswerValue::Pledge, None);
        tally.remove(&AnswerValue::Pledge, Some("Changing Lives"));
        assert_eq!(tally.total(), 3);
        assert_eq!(tally.wire()["organisations"], json!(["York Mind"]));
        assert_eq!(tally.wire()["signatures"], json!({"York Mind": 2}));
    }

    #[test]
    fn ranking_and_points_have_their_wire_shapes() {
        let options = vec!["a".to_owned(), "b".to_owned()];
        let mut ranking = Tally::new(&ActivityKind::Ranking {
            options: options.clone(),
        });
        assert_eq!(
            ranking.wire(),
            json!({"total": 0, "first": [0, 0], "mean_rank": [null, null]})
        );
        ranking.add(&AnswerValue::Ranking(vec![1, 0]), None);
        ranking.add(&AnswerValue::Ranking(vec![0, 1]), None);
        ranking.add(&AnswerValue::Ranking(vec![1, 0]), None);
        assert_eq!(
            ranking.wire(),
            json!({"total": 3, "first": [1, 2], "mean_rank": [5.0 / 3.0, 4.0 / 3.0]})
        );
        let mut points = Tally::new(&ActivityKind::Points {
            options,
            budget: 100,
        });
        points.add(&AnswerValue::Points(vec![75, 25]), None);
        points.add(&AnswerValue::Points(vec![25, 75]), None);
        points.add(&AnswerValue::Points(vec![100, 0]), None);
        assert_eq!(
            points.wire(),
            json!({"total": 3, "points": [200, 100], "shares": [200.0 / 300.0, 100.0 / 300.0]})
        );
    }

    #[test]
    fn merge_adds_groups() {
        let mut a = Tally::new(&scale());
        let mut b = Tally::new(&scale());
        a.add(&AnswerValue::Scale(1), None);
        b.add(&AnswerValue::Scale(5), None);
        b.add(&AnswerValue::Scale(3), None);
        a.merge(&b);
        assert_eq!(
            a.wire(),
            json!({"total": 3, "counts": [1, 0, 1, 0, 1], "mean": 3.0})
        );
    }
}
