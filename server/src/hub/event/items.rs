//! What attendees post for others to see: questions (`ask`), votes on them (`upvote`) and
//! directory cards (`card`); their numbering, and the cap on each attendee's open questions
//! in each session (which session a question goes to is [`super::sessions`]').
//!
//! A posted item is stored first and joins its list once committed ([`super::apply`]);
//! the host moderates it ([`super::host`]).

use super::Actor;
use super::conns::Origin;
use super::ledger::Effect;
use crate::domain::card::Card;
use crate::domain::{moderation, names, safeguarding, token};
use std::collections::HashMap;

use crate::domain::phase::EventPhase;
use crate::hub::state::{CardItem, EventState, ItemState, Question};
use crate::protocol::ErrorCode;
use crate::storage::Write;

/// The longest question, in characters.
const MAX_QUESTION: usize = 500;

/// Numbering of questions and cards, and what the cap on open questions counts.
pub(super) struct Items {
    /// The number the next question or card gets (their order on screen).
    next_seq: i64,
    /// Questions each attendee has asked in each session that are still on their way to
    /// disk: they count toward the attendee's open questions as soon as they are sent.
    pub(super) asking: HashMap<(usize, Option<String>), u32>,
}

impl Items {
    /// Numbering carries on after the items already stored.
    pub(super) fn new(state: &EventState) -> Items {
        let last = state
            .questions
            .iter()
            .map(|q| q.seq)
            .chain(state.cards.iter().map(|c| c.seq))
            .max()
            .unwrap_or(0);
        Items {
            next_seq: last + 1,
            asking: HashMap::new(),
        }
    }

    fn next(&mut self) -> i64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }
}

impl Actor {
    /// `ask`: a question, checked (Q&A on, length, the attendee's open questions under the
    /// cap) and stored.
    pub(super) async fn on_ask(
        &mut self,
        origin: Origin,
        attendee: usize,
        id: String,
        text: String,
        session: Option<Option<String>>,
    ) {
        if let Some(message) = self.qa_off() {
            return self.reject(origin, Some(&id), ErrorCode::NotAvailable, message);
        }
        let text = names::tidy(&text);
        let len = text.chars().count();
        if len == 0 || len > MAX_QUESTION {
            let message = format!("a question is 1 to {MAX_QUESTION} characters, not {len}");
            return self.reject(origin, Some(&id), ErrorCode::InvalidValue, &message);
        }
        let session = match self.ask_session(attendee, session) {
            Ok(session) => session,
            Err(message) => {
                return self.reject(origin, Some(&id), ErrorCode::InvalidValue, &message);
            }
        };
        let Some(origin) = self.dedupe(attendee, &id, origin) else {
            return;
        };
        let most = self.info.event.spec.qa.max_open_questions as usize;
        if self.open_questions(attendee, session.as_deref()) >= most {
            let message = format!(
                "you already have {most} open questions in this session; ask again once the host has answered or removed one"
            );
            return self.reject(origin, Some(&id), ErrorCode::LimitReached, &message);
        }
        *self
            .items
            .asking
            .entry((attendee, session.clone()))
            .or_insert(0) += 1;
        let advance = self.phases.phase == EventPhase::Before;
        let concern = safeguarding::concern(&text);
        let question = Question {
            id: token::new_item_id(),
            seq: self.items.next(),
            flagged: moderation::is_flagged(&text),
            state: ItemState::held(self.info.event.spec.qa.moderation, concern),
            concern,
            text,
            votes: 0,
            session,
            advance,
        };
        let writes = vec![
            Write::Question {
                event: self.info.code,
                id: question.id.clone(),
                seq: question.seq,
                attendee: self.state.attendees[attendee].id,
                text: question.text.clone(),
                state: question.state.as_str(),
                flagged: question.flagged,
                session: question.session.clone(),
                advance,
            },
            self.receipt(attendee, &id),
        ];
        self.submit_acked(origin, attendee, id, writes, Effect::Question(question))
            .await;
    }

    /// `upvote`: a vote on a visible question; a second vote by the same attendee is
    /// acknowledged and not counted.
    pub(super) async fn on_upvote(
        &mut self,
        origin: Origin,
        attendee: usize,
        id: String,
        question: String,
    ) {
        if let Some(message) = self.qa_off() {
            return self.reject(origin, Some(&id), ErrorCode::NotAvailable, message);
        }
        let Some(&q) = self
            .state
            .question_index
            .get(&question)
            .filter(|&&q| self.state.questions[q].state.visible())
        else {
            let message = format!("no question {question:?} to upvote");
            return self.reject(origin, Some(&id), ErrorCode::InvalidValue, &message);
        };
        let Some(origin) = self.dedupe(attendee, &id, origin) else {
            return;
        };
        let mut writes = vec![self.receipt(attendee, &id)];
        if !self.state.attendees[attendee].voted.contains(&q) {
            writes.push(Write::Vote {
                event: self.info.code,
                question,
                attendee: self.state.attendees[attendee].id,
            });
        }
        self.submit_acked(origin, attendee, id, writes, Effect::Vote(q))
            .await;
    }

    /// `card`: an attendee's directory card, in place of their earlier one.
    pub(super) async fn on_card(
        &mut self,
        origin: Origin,
        attendee: usize,
        id: String,
        card: serde_json::Value,
    ) {
        if !self.info.event.spec.directory.enabled {
            return self.reject(
                origin,
                Some(&id),
                ErrorCode::NotAvailable,
                "the directory is turned off for this event",
            );
        }
        let card = match Card::parse(&card) {
            Ok(card) => card,
            Err(message) => {
                return self.reject(origin, Some(&id), ErrorCode::InvalidValue, &message);
            }
        };
        let Some(origin) = self.dedupe(attendee, &id, origin) else {
            return;
        };
        let concern = safeguarding::concern(&card.all_text());
        let item = CardItem {
            id: token::new_item_id(),
            seq: self.items.next(),
            flagged: moderation::is_flagged(&card.all_text()),
            state: ItemState::held(self.info.event.spec.qa.moderation, concern),
            concern,
            card,
        };
        let writes = vec![
            Write::Card {
                event: self.info.code,
                attendee: self.state.attendees[attendee].id,
                id: item.id.clone(),
                seq: item.seq,
                card: serde_json::to_string(&item.card).unwrap_or_default(),
                state: item.state.as_str(),
                flagged: item.flagged,
            },
            self.receipt(attendee, &id),
        ];
        self.submit_acked(origin, attendee, id, writes, Effect::Card(item))
            .await;
    }

    /// Why questions and votes are refused: Q&A is off for this event.
    fn qa_off(&self) -> Option<&'static str> {
        (!self.info.event.spec.qa.enabled).then_some("Q&A is turned off for this event")
    }

    /// `attendee`'s open questions (waiting for the host, or shown and not yet answered)
    /// in `session`, those still on their way to disk included.
    fn open_questions(&self, attendee: usize, session: Option<&str>) -> usize {
        let stored = self.state.asked_by.get(&attendee).map_or(0, |asked| {
            asked
                .iter()
                .map(|&q| &self.state.questions[q])
                .filter(|q| {
                    q.session.as_deref() == session
                        && matches!(q.state, ItemState::Pending | ItemState::Approved)
                })
                .count()
        });
        let key = (attendee, session.map(str::to_owned));
        stored + self.items.asking.get(&key).copied().unwrap_or(0) as usize
    }
}
