//! The report's input: everything the report may show about one event, and nothing that
//! links an answer to a person. Attendees are anonymous records (no id, no token, no time).

use std::collections::BTreeMap;

use joinup_domain::AnswerValue;
use joinup_domain::kind::{ActivityKind, Kind, Labels, Phase};
use joinup_domain::tally::{Countable, Counted};
use serde::{Deserialize, Serialize};

/// One event as the report sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub code: String,
    pub title: String,
    pub series: Option<String>,
    /// RFC 3339, from the spec.
    pub starts_at: Option<String>,
    /// RFC 3339: when the event was created, and when it ended (if it has).
    pub created_at: String,
    pub ended_at: Option<String>,
    /// `live` or `ended`.
    pub state: String,
    /// The phase the event was in: `before`, `live`, `after` or `closed`
    /// (docs/protocol.md, "Phases"); empty in a snapshot from before phases.
    #[serde(default)]
    pub phase: String,
    /// The small-group threshold `k` of the event.
    pub min_group_size: u64,
    /// The registered organisations, in spec order.
    pub organisations: Vec<Organisation>,
    pub sectors: Vec<String>,
    /// Distinct break-out rooms in programme order.
    pub rooms: Vec<String>,
    pub sessions: Vec<SessionDef>,
    /// Every activity in programme order.
    pub activities: Vec<ActivityDef>,
    /// Every attendee ever welcomed, with their current profile and current answers.
    pub attendees: Vec<AttendeeRecord>,
    /// The most attendees connected at once, as far as anyone saw.
    pub peak_present: u64,
    /// Attendance over the day, one sample a minute (`minute` is `YYYY-MM-DDTHH:MMZ`).
    pub presence: Vec<PresenceSample>,
    /// Every question asked, with its votes and moderation state.
    pub questions: Vec<QuestionRecord>,
    /// Every service card shared, with its moderation state.
    pub cards: Vec<CardRecord>,
    /// The organiser's own words from the spec: an introduction, and what happens next.
    #[serde(default)]
    pub introduction: Option<String>,
    #[serde(default)]
    pub next_steps: Option<String>,
    /// The host's names for themes of open text, by theme id (`themes::LEXICON`, or
    /// `other-topics`): a theme renamed; two ids given the same name are merged.
    #[serde(default)]
    pub theme_names: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Organisation {
    pub name: String,
    pub sector: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionDef {
    pub key: String,
    pub title: String,
    pub room: Option<String>,
}

/// An activity's definition. Fields that do not apply to its kind are empty or `None`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ActivityDef {
    pub key: String,
    /// `choice`, `scale`, `words`, `text`, `pledge`, `ranking` or `points`.
    pub kind: String,
    pub prompt: String,
    pub session: String,
    pub room: Option<String>,
    /// choice, ranking and points: the option labels.
    pub options: Vec<String>,
    pub multiple: bool,
    /// scale: the range and its end labels.
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub label_min: Option<String>,
    pub label_max: Option<String>,
    /// scale: the topic that pairs a `pre` and a `post` scale, and which one this is.
    pub pair: Option<String>,
    pub phase: Option<String>,
    /// pledge: the pledge's text.
    pub pledge_text: Option<String>,
    /// points: the points each respondent shares out.
    #[serde(default)]
    pub budget: Option<u64>,
    /// `ready`, `open` or `closed`.
    pub state: String,
    /// `before` or `after` for an activity that opens by itself around the live part.
    #[serde(default)]
    pub window: Option<String>,
}

impl ActivityDef {
    /// The definition of a checked activity of `kind`, in `state` (`ready`, `open` or
    /// `closed`): [`ActivityDef::counted_kind`] reads the kind back.
    pub fn new(
        key: &str,
        prompt: &str,
        session: &str,
        room: Option<&str>,
        kind: &ActivityKind,
        state: &str,
    ) -> ActivityDef {
        let mut def = ActivityDef {
            key: key.to_owned(),
            kind: kind.name().to_owned(),
            prompt: prompt.to_owned(),
            session: session.to_owned(),
            room: room.map(str::to_owned),
            state: state.to_owned(),
            ..ActivityDef::default()
        };
        match kind {
            ActivityKind::Choice {
                options, multiple, ..
            } => {
                def.options = options.clone();
                def.multiple = *multiple;
            }
            ActivityKind::Scale {
                min,
                max,
                labels,
                pair,
            } => {
                def.min = Some(*min);
                def.max = Some(*max);
                def.label_min = labels.as_ref().and_then(|l| l.min.clone());
                def.label_max = labels.as_ref().and_then(|l| l.max.clone());
                if let Some((topic, phase)) = pair {
                    def.pair = Some(topic.clone());
                    def.phase = Some(phase.as_str().to_owned());
                }
            }
            ActivityKind::Pledge { text } => def.pledge_text = Some(text.clone()),
            ActivityKind::Ranking { options } => def.options = options.clone(),
            ActivityKind::Points { options, budget } => {
                def.options = options.clone();
                def.budget = Some(u64::from(*budget));
            }
            ActivityKind::Words { .. } | ActivityKind::Text { .. } => {}
        }
        def
    }

    /// The kind, typed; `None` for a name no kind has (nothing of it is counted).
    pub fn written_kind(&self) -> Option<Kind> {
        Kind::parse(&self.kind)
    }

    /// A scale's range, `min` to `max`: `None` unless it has 1 to 101 points.
    pub fn scale_range(&self) -> Option<(i64, i64)> {
        let (min, max) = (self.min?, self.max?);
        (0..=100)
            .contains(&max.checked_sub(min)?)
            .then_some((min, max))
    }

    /// The kind with the settings the live hub counts it by, so the report counts with the
    /// same [`joinup_domain::Tally`]. `None` for an unknown kind, or a scale without a range
    /// of 1 to 101 points: nothing of such an activity is counted. Limits the snapshot does
    /// not carry, which only matter when an answer is taken (a choice's most options, the
    /// most words, a text's length), are left open.
    pub fn counted_kind(&self) -> Option<ActivityKind> {
        Some(match self.written_kind()? {
            Kind::Choice => ActivityKind::Choice {
                options: self.options.clone(),
                multiple: self.multiple,
                max_choices: None,
            },
            Kind::Scale => {
                let (min, max) = self.scale_range()?;
                ActivityKind::Scale {
                    min,
                    max,
                    labels: (self.label_min.is_some() || self.label_max.is_some()).then(|| {
                        Labels {
                            min: self.label_min.clone(),
                            max: self.label_max.clone(),
                        }
                    }),
                    pair: self
                        .pair
                        .clone()
                        .zip(self.phase.as_deref().and_then(Phase::parse)),
                }
            }
            Kind::Words => ActivityKind::Words {
                max_words: u32::MAX,
            },
            Kind::Text => ActivityKind::Text { max_len: u32::MAX },
            Kind::Pledge => ActivityKind::Pledge {
                text: self.pledge_text.clone().unwrap_or_default(),
            },
            Kind::Ranking => ActivityKind::Ranking {
                options: self.options.clone(),
            },
            Kind::Points => ActivityKind::Points {
                options: self.options.clone(),
                budget: self
                    .budget
                    .map_or(u32::MAX, |b| u32::try_from(b).unwrap_or(u32::MAX)),
            },
        })
    }
}

/// One attendee, anonymous. The same record holds their pre and post answers, which is
/// what lets the report pair them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttendeeRecord {
    pub organisation: Option<String>,
    pub sector: Option<String>,
    pub room: Option<String>,
    /// Current answers by activity key.
    pub answers: BTreeMap<String, Answer>,
    /// The organisation and sector each current answer was given under, by activity key:
    /// an answer counts where its attendee was when they gave it, never where they moved
    /// later. An answer missing here counts under the attendee's current profile.
    #[serde(default)]
    pub answered_as: BTreeMap<String, AnsweredAs>,
    /// Moderation state of each current text answer, by activity key: `pending`,
    /// `approved` or `hidden`. Only approved texts are quoted in a report.
    pub text_states: BTreeMap<String, String>,
}

/// The profile an answer was given under.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AnsweredAs {
    pub organisation: Option<String>,
    pub sector: Option<String>,
}

/// An answer in its normal form.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Option indexes, sorted.
    Choice(Vec<usize>),
    Scale(i64),
    /// Normalised entries (lower-case, trimmed), distinct.
    Words(Vec<String>),
    Text(String),
    Pledge,
    /// Every option index once, most important first.
    Ranking(Vec<usize>),
    /// Points per option, in option order.
    Points(Vec<u64>),
}

/// A stored answer as the report holds it.
impl From<AnswerValue> for Answer {
    fn from(value: AnswerValue) -> Answer {
        match value {
            AnswerValue::Choice(indexes) => {
                Answer::Choice(indexes.into_iter().map(usize::from).collect())
            }
            AnswerValue::Scale(n) => Answer::Scale(n),
            AnswerValue::Words(words) => Answer::Words(words),
            AnswerValue::Text(text) => Answer::Text(text),
            AnswerValue::Pledge => Answer::Pledge,
            AnswerValue::Ranking(order) => {
                Answer::Ranking(order.into_iter().map(usize::from).collect())
            }
            AnswerValue::Points(points) => {
                Answer::Points(points.into_iter().map(u64::from).collect())
            }
        }
    }
}

/// A snapshot's answer is counted by the live hub's [`joinup_domain::Tally`].
impl Countable for Answer {
    type Index = usize;
    type Points = u64;

    fn counted(&self) -> Counted<'_, usize, u64> {
        match self {
            Answer::Choice(indexes) => Counted::Choice(indexes),
            Answer::Scale(n) => Counted::Scale(*n),
            Answer::Words(words) => Counted::Words(words),
            Answer::Text(_) => Counted::Text,
            Answer::Pledge => Counted::Pledge,
            Answer::Ranking(order) => Counted::Ranking(order),
            Answer::Points(points) => Counted::Points(points),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PresenceSample {
    pub minute: String,
    pub present: u64,
    pub peak: u64,
    pub joined: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuestionRecord {
    pub text: String,
    pub votes: u64,
    /// `pending`, `approved`, `hidden` or `answered`.
    pub state: String,
    pub flagged: bool,
    /// The session it was asked in; `None`: the event as a whole.
    #[serde(default)]
    pub session: Option<String>,
    /// Asked before the live part.
    #[serde(default)]
    pub advance: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CardRecord {
    pub name: Option<String>,
    pub role: Option<String>,
    pub organisation: String,
    pub service: String,
    pub offer: String,
    pub referral: String,
    pub contact: String,
    /// `pending`, `approved` or `hidden`: only approved cards are shared in a report.
    pub state: String,
}

#[cfg(test)]
mod tests {
    use joinup_domain::Tally;
    use joinup_domain::kind::Phase;

    use super::*;

    /// Every kind with the answers the live hub would count for it.
    fn kinds() -> Vec<(ActivityKind, Vec<AnswerValue>)> {
        let options: Vec<String> = ["a", "b", "c"].map(str::to_owned).to_vec();
        vec![
            (
                ActivityKind::Choice {
                    options: options.clone(),
                    multiple: true,
                    max_choices: Some(2),
                },
                vec![
                    AnswerValue::Choice(vec![0, 2]),
                    AnswerValue::Choice(vec![2]),
                ],
            ),
            (
                ActivityKind::Scale {
                    min: -2,
                    max: 2,
                    labels: Some(Labels {
                        min: Some("no".into()),
                        max: None,
                    }),
                    pair: Some(("confidence".into(), Phase::Post)),
                },
                vec![AnswerValue::Scale(-2), AnswerValue::Scale(1)],
            ),
            (
                ActivityKind::Words { max_words: 3 },
                vec![
                    AnswerValue::Words(vec!["trust".into(), "funding".into()]),
                    AnswerValue::Words(vec!["trust".into()]),
                ],
            ),
            (
                ActivityKind::Text { max_len: 280 },
                vec![AnswerValue::Text("more time".into())],
            ),
            (
                ActivityKind::Pledge {
                    text: "We will".into(),
                },
                vec![AnswerValue::Pledge, AnswerValue::Pledge],
            ),
            (
                ActivityKind::Ranking {
                    options: options.clone(),
                },
                vec![
                    AnswerValue::Ranking(vec![2, 0, 1]),
                    AnswerValue::Ranking(vec![0, 1, 2]),
                ],
            ),
            (
                ActivityKind::Points {
                    options,
                    budget: 100,
                },
                vec![
                    AnswerValue::Points(vec![60, 40, 0]),
                    AnswerValue::Points(vec![0, 0, 100]),
                ],
            ),
        ]
    }

    #[test]
    fn the_report_counts_every_kind_as_the_live_hub_does() {
        for (kind, answers) in kinds() {
            let def = ActivityDef::new("q", "Prompt?", "s", None, &kind, "closed");
            assert_eq!(def.written_kind(), Some(kind.written()));
            let counted = def.counted_kind().expect("a kind the report counts");
            let mut live = Tally::new(&kind);
            let mut report = Tally::new(&counted);
            for (n, value) in answers.into_iter().enumerate() {
                let organisation = ["York Mind", "Police"][n % 2];
                live.add(&value, Some(organisation));
                report.add(&Answer::from(value), Some(organisation));
            }
            assert_eq!(report, live, "{}", kind.name());
            assert!(live.total() > 0);
        }
    }

    #[test]
    fn a_scale_without_a_usable_range_is_not_counted() {
        let kind = ActivityKind::Scale {
            min: 1,
            max: 5,
            labels: None,
            pair: None,
        };
        let def = ActivityDef::new("q", "Prompt?", "s", None, &kind, "open");
        assert_eq!(def.scale_range(), Some((1, 5)));
        assert_eq!(def.counted_kind(), Some(kind));
        for (min, max) in [(Some(5), Some(1)), (Some(0), Some(101)), (None, Some(3))] {
            let bad = ActivityDef {
                min,
                max,
                ..def.clone()
            };
            assert_eq!(bad.counted_kind(), None, "{min:?} to {max:?}");
        }
        let unknown = ActivityDef {
            kind: "gain".into(),
            ..def
        };
        assert_eq!(unknown.counted_kind(), None);
    }
}
