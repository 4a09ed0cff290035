//! Rebuilding an event's live state from the database ([`LiveRows`]): the activities'
//! states, the attendees and the profile counts, every committed answer counted again, the
//! receipts, questions, votes and cards. Rows that no longer match the spec (an activity
//! edited away, a value that does not decode) are skipped, never fatal.
//!
//! Loading writes nothing; what happens live is the actor's (`hub/event/`).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::{
    ActState, ActivityLive, Attendee, CardItem, EventState, ItemState, Question, TextItem, Under,
    msg_hash,
};
use crate::domain::card::Card;
use crate::domain::safeguarding;
use crate::domain::{AnswerValue, Event, Tally};
use crate::hub::{NumMap, NumSet};
use crate::storage::{AnswerRow, AttendeeRow, CardRow, LiveRows, QuestionRow};

/// A stored attendee id to the attendee's index in [`EventState::attendees`].
type ById = HashMap<i64, usize>;

impl EventState {
    pub fn load(event: &Event, ended: bool, focus: Option<&str>, rows: LiveRows) -> EventState {
        let mut state = EventState {
            ended,
            focus: focus.and_then(|k| event.index.get(k).copied()),
            activities: live_activities(event, rows.activity_states),
            attendees: Vec::with_capacity(rows.attendees.len()),
            by_token: HashMap::with_capacity(rows.attendees.len()),
            questions: Vec::new(),
            question_index: HashMap::new(),
            asked_by: NumMap::default(),
            texts: Vec::new(),
            text_index: HashMap::new(),
            text_of: NumMap::default(),
            texts_arrived: 0,
            cards: Vec::new(),
            card_index: HashMap::new(),
            card_of: NumMap::default(),
            other_organisations: HashMap::new(),
            other_sectors: HashMap::new(),
            by_organisation: BTreeMap::new(),
            by_sector: BTreeMap::new(),
            answered_under: NumMap::default(),
            answers_in_flight: NumMap::default(),
            present: 0,
            breakdown_generation: 0,
            breakdowns: RefCell::new(HashMap::new()),
            peak: u64::try_from(rows.peak_present).unwrap_or(0),
        };
        let by_id = state.load_attendees(event, rows.attendees);
        state.load_answers(event, &by_id, rows.answers);
        for (attendee, msg) in rows.receipts {
            if let Some(&who) = by_id.get(&attendee) {
                state.attendees[who].seen.insert(msg_hash(&msg));
            }
        }
        state.load_questions(&by_id, rows.questions);
        for (question, attendee) in rows.votes {
            if let (Some(&q), Some(&who)) =
                (state.question_index.get(&question), by_id.get(&attendee))
                && state.attendees[who].voted.insert(q)
            {
                state.questions[q].votes += 1;
            }
        }
        state.load_cards(&by_id, rows.cards);
        state
    }

    /// The attendees, counted by profile; typed names not in the event's lists are kept
    /// for the caps on how many there may be.
    fn load_attendees(&mut self, event: &Event, rows: Vec<AttendeeRow>) -> ById {
        let mut by_id = HashMap::with_capacity(rows.len());
        for row in rows {
            let index = self.attendees.len();
            by_id.insert(row.id, index);
            self.by_token.insert(row.token_hash.clone(), index);
            if let Some(org) = &row.organisation
                && event.registered_organisation(org).is_none()
            {
                self.other_organisations
                    .entry(crate::domain::names::fold(org))
                    .or_insert_with(|| org.clone());
            }
            if let Some(sector) = &row.sector
                && event.sector(sector).is_none()
            {
                self.other_sectors
                    .entry(crate::domain::names::fold(sector))
                    .or_insert_with(|| sector.clone());
            }
            self.attendees.push(Attendee {
                id: row.id,
                token_hash: row.token_hash,
                organisation: row.organisation,
                sector: row.sector,
                room: row.room,
                answers: NumMap::default(),
                seen: NumSet::default(),
                conns: 0,
                voted: NumSet::default(),
            });
            self.count_profile(index, true);
        }
        by_id
    }

    /// Each attendee's current answers, counted in the tallies under the profile they were
    /// given with; a text answer also takes its slot among the texts.
    fn load_answers(&mut self, event: &Event, by_id: &ById, rows: Vec<AnswerRow>) {
        for row in rows {
            let (Some(&who), Some(&act)) =
                (by_id.get(&row.attendee), event.index.get(&row.activity))
            else {
                continue;
            };
            let Ok(json) = serde_json::from_str::<Value>(&row.value) else {
                continue;
            };
            let Some(value) = AnswerValue::from_stored(&event.activities[act].kind, &json) else {
                continue;
            };
            let attendee = &mut self.attendees[who];
            self.activities[act]
                .tally
                .add(&value, attendee.organisation.as_deref());
            attendee.answers.insert(act, value);
            self.answered_under.insert(
                (who, act),
                Under {
                    organisation: row.organisation,
                    sector: row.sector,
                },
            );
            if let Some(item) = row.item {
                let concern = match self.attendees[who].answers.get(&act) {
                    Some(AnswerValue::Text(text)) => safeguarding::concern(text),
                    _ => None,
                };
                self.add_text(TextItem {
                    concern,
                    id: item,
                    attendee: who,
                    activity: act,
                    state: ItemState::parse(row.state.as_deref().unwrap_or("pending")),
                    flagged: row.flagged,
                    arrived: 0,
                });
            }
        }
    }

    /// The questions, in the order they were asked, each noted against its asker.
    fn load_questions(&mut self, by_id: &ById, rows: Vec<QuestionRow>) {
        for row in rows {
            if let Some(&who) = by_id.get(&row.attendee) {
                self.asked_by
                    .entry(who)
                    .or_default()
                    .push(self.questions.len());
            }
            self.question_index
                .insert(row.id.clone(), self.questions.len());
            self.questions.push(Question {
                concern: safeguarding::concern(&row.text),
                id: row.id,
                seq: row.seq,
                text: row.text,
                state: ItemState::parse(&row.state),
                flagged: row.flagged,
                votes: 0,
                session: row.session,
                advance: row.advance,
            });
        }
    }

    /// Each attendee's current card; one that no longer decodes is skipped.
    fn load_cards(&mut self, by_id: &ById, rows: Vec<CardRow>) {
        for row in rows {
            let (Some(&who), Ok(card)) = (
                by_id.get(&row.attendee),
                serde_json::from_str::<Card>(&row.card),
            ) else {
                continue;
            };
            self.put_card(
                who,
                CardItem {
                    concern: safeguarding::concern(&card.all_text()),
                    id: row.id,
                    seq: row.seq,
                    card,
                    state: ItemState::parse(&row.state),
                    flagged: row.flagged,
                },
            );
        }
    }
}

/// Every activity of the spec, ready with an empty tally, in the state stored for it.
fn live_activities(event: &Event, states: Vec<(String, String, bool)>) -> Vec<ActivityLive> {
    let mut activities: Vec<ActivityLive> = event
        .activities
        .iter()
        .map(|a| ActivityLive {
            state: ActState::Ready,
            revealed: false,
            tally: Tally::new(&a.kind),
            json: crate::protocol::event::activity(a),
        })
        .collect();
    for (key, state, revealed) in states {
        if let Some(&i) = event.index.get(&key) {
            activities[i].state = ActState::parse(&state);
            activities[i].revealed = revealed;
        }
    }
    activities
}
