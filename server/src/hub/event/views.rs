//! The frames that carry the whole state a client is shown: an attendee's `welcome`, the
//! host's and the presenter's `snapshot`, the presenter's focused activity and text
//! `wall`. Built from the live state, never stored; the small changes that follow each of
//! them are sent by [`super::push`] and the handlers.

use std::collections::BTreeMap;

use super::Actor;
use crate::domain::spec::ActivityKind;
use crate::hub::state::{ActState, CardItem, Question};
use crate::protocol::server::{self, ActivityRow, FocusActivity, Frame};

impl Actor {
    /// `welcome`: the event and, for this attendee, what is open, revealed results, their
    /// answers and votes, the questions and the directory.
    pub(super) fn welcome(&self, attendee: usize, token: &str) -> Frame {
        let event = &self.info.event;
        let a = &self.state.attendees[attendee];
        let mut open = Vec::new();
        let mut results = BTreeMap::new();
        for (act, definition) in event.activities.iter().enumerate() {
            if !self.state.can_see(attendee, definition) {
                continue;
            }
            let live = &self.state.activities[act];
            if live.state == ActState::Open {
                open.push(&live.json);
            }
            if live.revealed {
                results.insert(definition.key.as_str(), self.state.public_tally(act));
            }
        }
        let answers = a
            .answers
            .iter()
            .map(|(act, value)| (event.activities[*act].key.as_str(), value.to_json()))
            .collect();
        let voted = a
            .voted
            .iter()
            .map(|&q| self.state.questions[q].id.as_str())
            .collect();
        let (questions, questions_total) = self.attendee_questions(a.room.as_deref());
        let directory = if event.spec.directory.enabled {
            self.state.visible_cards()
        } else {
            Vec::new()
        };
        let rest = server::Welcome {
            answers,
            current: &self.current,
            directory,
            open,
            phase: self.phases.phase.as_str(),
            profile: server::Profile {
                organisation: a.organisation.as_deref(),
                room: a.room.as_deref(),
                sector: a.sector.as_deref(),
            },
            questions,
            questions_total,
            results,
            voted,
        };
        server::welcome(token, &self.info.event_json, &rest)
    }

    /// Every activity's row: the host's with its full tally, the presenter's with the
    /// public one only while revealed.
    fn activity_rows(&self, presenter: bool) -> Vec<ActivityRow<'_>> {
        let event = &self.info.event;
        event
            .activities
            .iter()
            .enumerate()
            .map(|(act, definition)| {
                let live = &self.state.activities[act];
                let tally = if !presenter {
                    Some(self.state.host_tally(event, act))
                } else if live.revealed {
                    Some(self.state.public_tally(act))
                } else {
                    None
                };
                ActivityRow {
                    key: definition.key.as_str(),
                    revealed: live.revealed,
                    state: live.state.as_str(),
                    tally,
                    total: live.tally.total(),
                }
            })
            .collect()
    }

    fn focus_key(&self) -> Option<&str> {
        self.state
            .focus
            .map(|f| self.info.event.activities[f].key.as_str())
    }

    /// The host's `snapshot`: everything, moderation queues included.
    pub(super) fn host_snapshot(&self) -> Frame {
        let rest = server::HostSnapshot {
            activities: self.activity_rows(false),
            attendance: self.state.attendance(),
            cards: self.state.cards.iter().map(CardItem::host_view).collect(),
            current: &self.current,
            focus: self.focus_key(),
            phase: self.phases.phase.as_str(),
            questions: self
                .state
                .questions
                .iter()
                .map(Question::host_view)
                .collect(),
            safeguarding: self.info.event.spec.safeguarding.as_ref(),
            texts: self.state.current_texts(&self.info.event),
        };
        server::snapshot(self.state.ended, &self.info.event_json, &rest)
    }

    /// The presenter's `snapshot`: what the room's screen may show. Its questions are the
    /// main screen's, or for a presenter bound to break-out room `room`, that room's.
    pub(super) fn presenter_snapshot(&self, room: Option<&str>) -> Frame {
        let (questions, questions_total) = match room {
            None => self.presenter_questions(),
            Some(room) => self.room_screen_questions(room),
        };
        let rest = server::PresenterSnapshot {
            activities: self.activity_rows(true),
            attendance: self.state.presenter_attendance(),
            current: &self.current,
            focus: self.focus_key(),
            phase: self.phases.phase.as_str(),
            questions,
            questions_total,
        };
        server::snapshot(self.state.ended, &self.info.event_json, &rest)
    }

    /// The focused activity as the presenter shows it: definition, state, response count,
    /// and the tally only while revealed.
    pub(super) fn focus_activity(&self) -> Option<FocusActivity<'_>> {
        let act = self.state.focus?;
        let live = &self.state.activities[act];
        Some(FocusActivity {
            definition: &live.json,
            revealed: live.revealed,
            state: live.state.as_str(),
            tally: live.revealed.then(|| self.state.public_tally(act)),
            total: live.tally.total(),
        })
    }

    /// The presenter's text wall (`wall`): the focused text activity's approved texts while
    /// it is revealed; `None` for any other focus.
    pub(super) fn wall_frame(&self) -> Option<Frame> {
        let act = self.state.focus?;
        let definition = &self.info.event.activities[act];
        if !matches!(definition.kind, ActivityKind::Text { .. })
            || !self.state.activities[act].revealed
        {
            return None;
        }
        let texts = self.state.wall_texts(&self.info.event, act);
        Some(server::wall(definition.key.as_str(), &texts))
    }
}
