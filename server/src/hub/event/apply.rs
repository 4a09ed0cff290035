//! What a committed write does to the live state: an answer counted in its tally, a
//! question, vote or card put in its list. Called by the ledger once the writer reports the
//! write on disk, never before, so what hosts and phones are shown is always committed.
//!
//! Nothing is sent to attendees from here: the changes are marked [`super::push::Dirty`]
//! and go out coalesced; hosts get the one item that changed at once.

use std::sync::atomic::Ordering::Relaxed;

use super::Actor;
use super::ledger::Effect;
use crate::domain::AnswerValue;
use crate::hub::state::{ActState, CardItem, Question, TextItem, Under};
use crate::metrics::METRICS;
use crate::protocol::server;

impl Actor {
    /// Applies a committed change to the live state.
    pub(super) fn apply(&mut self, attendee: Option<usize>, effect: Effect) {
        // Safeguarding: whoever wrote a concern is shown the support card at once.
        if let (Some(attendee), Some(support)) = (attendee, &self.info.support_frame)
            && effect.concern().is_some()
        {
            let frame = support.clone();
            self.send_attendee(attendee, &frame);
        }
        match effect {
            Effect::None => {}
            Effect::Answer {
                act,
                value,
                text,
                under,
            } => {
                if let Some(attendee) = attendee {
                    self.count_answer(attendee, act, value, text, under);
                }
            }
            Effect::Question(question) => self.add_question(attendee, question),
            Effect::Vote(question) => {
                if let Some(attendee) = attendee {
                    self.add_vote(attendee, question);
                }
            }
            Effect::Card(item) => {
                if let Some(attendee) = attendee {
                    self.put_card(attendee, item);
                }
            }
            Effect::End(reply) => {
                if let Some(reply) = reply {
                    let _ = reply.send(Ok(()));
                }
            }
        }
    }

    /// An answer counts in its activity's tally, in place of the attendee's earlier one; a
    /// text answer also takes its slot among the texts the host moderates.
    fn count_answer(
        &mut self,
        attendee: usize,
        act: usize,
        value: AnswerValue,
        text: Option<TextItem>,
        under: Under,
    ) {
        METRICS.answers_acked.fetch_add(1, Relaxed);
        let state = &mut self.state;
        state.answered_under.insert((attendee, act), under);
        let live = &mut state.activities[act];
        if live.state != ActState::Open {
            // Stored after its activity closed: a closed breakdown changes.
            state.breakdown_generation += 1;
        }
        // The old answer leaves the tally and the new one enters it (`joinup_domain::tally`,
        // the report's own counting), then replaces it: neither is copied.
        let a = &mut state.attendees[attendee];
        let organisation = a.organisation.as_deref();
        if let Some(old) = a.answers.get(&act) {
            live.tally.remove(old, organisation);
        }
        live.tally.add(&value, organisation);
        a.answers.insert(act, value);
        self.dirty.tallies.insert(act);
        if self.state.activities[act].revealed {
            self.dirty.results.insert(act);
        }
        if let Some(item) = text {
            self.dirty.wall |= self.state.focus == Some(act);
            let (slot, replaces) = self.state.add_text(item);
            let frame = server::text(&self.state.text_view(
                &self.info.event,
                &self.state.texts[slot],
                replaces.as_deref(),
            ));
            self.send_hosts(&frame);
        }
    }

    fn add_question(&mut self, attendee: Option<usize>, question: Question) {
        let visible = question.state.visible();
        let frame = server::question(question.host_view());
        self.state
            .question_index
            .insert(question.id.clone(), self.state.questions.len());
        if let Some(attendee) = attendee {
            self.state
                .asked_by
                .entry(attendee)
                .or_default()
                .push(self.state.questions.len());
        }
        self.state.questions.push(question);
        self.send_hosts(&frame);
        self.dirty.question_list |= visible;
    }

    fn add_vote(&mut self, attendee: usize, question: usize) {
        if self.state.attendees[attendee].voted.insert(question) {
            self.state.questions[question].votes += 1;
            self.dirty.voted_questions.insert(question);
            self.dirty.question_list |= self.state.questions[question].state.visible();
        }
    }

    /// An attendee's card, in place of their earlier one.
    fn put_card(&mut self, attendee: usize, item: CardItem) {
        let frame = server::card(item.host_view());
        let was_visible = self
            .state
            .card_of
            .get(&attendee)
            .is_some_and(|&i| self.state.cards[i].state.visible());
        self.dirty.directory |= was_visible || item.state.visible();
        self.state.put_card(attendee, item);
        self.send_hosts(&frame);
    }
}
