//! The sessions running now and the Q&A of each: which session is current (in the plenary
//! and in each break-out room), which session a question goes to, and which questions each
//! phone and each screen is sent (docs/protocol.md, "A Q&A per session").
//!
//! The current sessions change when a host opens or focuses an activity, or names a session
//! with the `session` command; they are stored with the event, like the focus.

use std::collections::HashMap;

use super::Actor;
use crate::domain::phase::{EventPhase, QaScope};
use crate::protocol::ErrorCode;
use crate::protocol::phases;
use crate::protocol::server::{self, Frame};
use crate::storage::Write;

/// The last `questions` frames sent, so an unchanged one is not sent again: attendees' by
/// room (`None`: attendees without one), and the presenters' by screen (`None`: the main
/// screen's).
#[derive(Default)]
pub(super) struct QuestionsSent {
    attendees: HashMap<Option<String>, Frame>,
    presenters: Vec<(Option<String>, Frame)>,
}

impl Actor {
    /// The sessions whose questions a phone in `room` is sent, in programme order with the
    /// event as a whole (`None`) first: before the event, every session the phone may see;
    /// then the sessions running now (the plenary's and the room's).
    fn listed_sessions(&self, room: Option<&str>) -> Vec<Option<&str>> {
        let event = &self.info.event;
        let mut listed = vec![None];
        if event.spec.qa.scope == QaScope::Event {
            return listed;
        }
        if self.phases.phase == EventPhase::Before {
            listed.extend(
                event
                    .spec
                    .sessions
                    .iter()
                    .filter(|s| s.room.is_none() || s.room.as_deref() == room)
                    .map(|s| Some(s.key.as_str())),
            );
            return listed;
        }
        let current = &self.current;
        let own = room.and_then(|r| current.rooms.get(r)).map(String::as_str);
        for session in [current.plenary.as_deref(), own] {
            if session.is_some() && !listed.contains(&session) {
                listed.push(session);
            }
        }
        listed
    }

    /// The `questions` a phone in `room` is sent, and how many it may see in those sessions.
    pub(super) fn attendee_questions(
        &self,
        room: Option<&str>,
    ) -> (Vec<server::PublicQuestion<'_>>, usize) {
        if !self.info.event.spec.qa.enabled {
            return (Vec::new(), 0);
        }
        self.state.top_questions(&self.listed_sessions(room))
    }

    /// The main screen's questions: the event's as a whole (all of them when the Q&A is
    /// for the whole event), then the current plenary session's.
    pub(super) fn presenter_questions(&self) -> (Vec<server::PublicQuestion<'_>>, usize) {
        let plenary = match self.info.event.spec.qa.scope {
            QaScope::Event => None,
            QaScope::Session => self.current.plenary.as_deref(),
        };
        match plenary {
            None => self.state.top_questions(&[None]),
            Some(session) => self.state.top_questions(&[None, Some(session)]),
        }
    }

    /// The questions of break-out room `room`'s screen: its current session's (none while
    /// no session runs there, and none when the Q&A is for the whole event: a room's
    /// screen shows only its own room's).
    pub(super) fn room_screen_questions(
        &self,
        room: &str,
    ) -> (Vec<server::PublicQuestion<'_>>, usize) {
        match self.current.rooms.get(room) {
            Some(session) if self.info.event.spec.qa.scope == QaScope::Session => {
                self.state.top_questions(&[Some(session.as_str())])
            }
            _ => (Vec::new(), 0),
        }
    }

    /// What presenters are sent about questions besides the snapshot's: one frame per
    /// break-out room with a session running, for that room's screen; for a presenter
    /// bound to a room (`bound`), only that room's.
    pub(super) fn presenter_room_questions(&self, bound: Option<&str>) -> Vec<(String, Frame)> {
        if self.info.event.spec.qa.scope == QaScope::Event {
            return Vec::new();
        }
        self.current
            .rooms
            .iter()
            .filter(|(room, _)| bound.is_none_or(|b| b == room.as_str()))
            .map(|(room, session)| {
                let (questions, total) = self.room_screen_questions(room);
                let frame = phases::room_questions(Some(room), Some(session), &questions, total);
                (room.clone(), frame)
            })
            .collect()
    }

    /// The presenters' question frames by screen: the main screen's (`None`), then each
    /// room's.
    fn presenter_question_frames(&self) -> Vec<(Option<String>, Frame)> {
        let (questions, total) = self.presenter_questions();
        let main = match self.info.event.spec.qa.scope {
            QaScope::Event => server::questions(&questions, total),
            QaScope::Session => {
                phases::room_questions(None, self.current.plenary.as_deref(), &questions, total)
            }
        };
        let rooms = self.presenter_room_questions(None).into_iter();
        std::iter::once((None, main))
            .chain(rooms.map(|(room, frame)| (Some(room), frame)))
            .collect()
    }

    /// Each room's list as phones have it now (`None`: phones without a room).
    fn attendee_question_frames(&self) -> Vec<(Option<String>, Frame)> {
        std::iter::once(None)
            .chain(self.info.event.rooms.iter().cloned().map(Some))
            .map(|room| {
                let (questions, total) = self.attendee_questions(room.as_deref());
                let frame = server::questions(&questions, total);
                (room, frame)
            })
            .collect()
    }

    /// At load, the lists as every `welcome` and `snapshot` will show them: only a change
    /// from these is pushed.
    pub(super) fn prime_question_lists(&mut self) {
        self.questions_sent.attendees = self.attendee_question_frames().into_iter().collect();
        self.questions_sent.presenters = self.presenter_question_frames();
    }

    /// The tops of the question lists, to phones (each room its own) and presenters:
    /// bounded however many questions there are, and not sent again when unchanged.
    pub(super) fn push_questions(&mut self) {
        if !self.dirty.question_list {
            return;
        }
        self.dirty.question_list = false;
        for (room, frame) in self.attendee_question_frames() {
            if self.questions_sent.attendees.get(&room) != Some(&frame) {
                self.questions_sent
                    .attendees
                    .insert(room.clone(), frame.clone());
                self.send_attendees(&frame, move |s, a| s.attendees[a].room == room);
            }
        }
        // Each screen's frame goes when it changed, and only to the presenters that show
        // that screen.
        let frames = self.presenter_question_frames();
        for (room, frame) in &frames {
            if !self
                .questions_sent
                .presenters
                .contains(&(room.clone(), frame.clone()))
            {
                self.send_screen(frame, room.as_deref());
            }
        }
        self.questions_sent.presenters = frames;
    }

    /// The session a new question goes to: the one asked for (absent: the attendee's
    /// current session; null: the event as a whole), checked against the attendee's room.
    pub(super) fn ask_session(
        &self,
        attendee: usize,
        asked: Option<Option<String>>,
    ) -> Result<Option<String>, String> {
        let event = &self.info.event;
        let room = self.state.attendees[attendee].room.as_deref();
        if event.spec.qa.scope == QaScope::Event {
            return match asked.flatten() {
                None => Ok(None),
                Some(key) => Err(format!(
                    "this event has one Q&A for the whole day: ask without a session, not {key:?}"
                )),
            };
        }
        let key = match asked {
            None => return Ok(self.current.for_room(room).map(str::to_owned)),
            Some(None) => return Ok(None),
            Some(Some(key)) => key,
        };
        let Some(session) = event.spec.sessions.iter().find(|s| s.key == key) else {
            return Err(format!("no session {key:?}"));
        };
        match session.room.as_deref() {
            Some(own) if Some(own) != room => Err(format!("session {key:?} is for {own}")),
            _ => Ok(Some(key)),
        }
    }

    /// The host opened or focused activity `act`: its session becomes current in its room
    /// (or the plenary), during the live part only. An activity that opens by itself (a
    /// `window`) starts no session: the before-activities open ahead of the day, the
    /// evaluation after it. The write that stores it, if it changed.
    pub(super) fn session_of(&mut self, act: usize) -> Option<Write> {
        let definition = &self.info.event.activities[act];
        if definition.window.is_some() {
            return None;
        }
        let (key, room) = (definition.session.clone(), definition.room.clone());
        (self.phases.phase == EventPhase::Live && self.current.start(&key, room.as_deref()))
            .then(|| self.current_changed())
    }

    /// The host's `session`: `key` becomes current in its room (or the plenary), or with
    /// `None` the plenary's (or `room`'s) current session ends.
    pub(super) fn set_session(
        &mut self,
        key: Option<String>,
        room: Option<String>,
    ) -> Result<Vec<Write>, (ErrorCode, String)> {
        let event = &self.info.event;
        let changed = match key {
            Some(key) => {
                let Some(session) = event.spec.sessions.iter().find(|s| s.key == key) else {
                    return Err((ErrorCode::InvalidValue, format!("no session {key:?}")));
                };
                if room.is_some() && room != session.room {
                    let message = format!(
                        "session {key:?} is not a session of room {:?}",
                        room.unwrap_or_default()
                    );
                    return Err((ErrorCode::InvalidValue, message));
                }
                let room = session.room.clone();
                self.current.start(&key, room.as_deref())
            }
            None => {
                if let Some(room) = room.as_deref().filter(|r| !event.has_room(r)) {
                    let message = format!(
                        "{room:?} is not a room of this event: {}",
                        event.rooms.join(", ")
                    );
                    return Err((ErrorCode::InvalidValue, message));
                }
                self.current.clear(room.as_deref())
            }
        };
        Ok(if changed {
            vec![self.current_changed()]
        } else {
            Vec::new()
        })
    }

    /// The current sessions changed: everyone is told, the question lists follow, and the
    /// write that stores them.
    pub(super) fn current_changed(&mut self) -> Write {
        let frame = phases::session(&self.current);
        self.send_attendees(&frame, |_, _| true);
        self.send_hosts(&frame);
        self.send_presenters(&frame);
        self.dirty.question_list = true;
        Write::CurrentSessions {
            event: self.info.code,
            current: serde_json::to_string(&self.current).unwrap_or_default(),
        }
    }
}
