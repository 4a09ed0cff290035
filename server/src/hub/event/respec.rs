//! An organiser's edit of the spec, applied to the running event in place.
//!
//! The edit is a command like any other, so it falls between two of them: what came before
//! it was checked against the old spec, what comes after against the new one. Writes still
//! on their way to disk land first (their effects name activities by position, and the edit
//! may move them), then the edit is checked by the one judge, [`crate::domain::edit`],
//! against everything the event holds (stored answers and states, and what this actor knows
//! beyond them), stored, and applied: activities are matched by key, so answers, tallies,
//! states, texts and the focus carry over; added ones start `ready`. Every connection stays
//! open: attendees get an `event` frame, hosts and presenters a fresh `snapshot`.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{Actor, DRAIN_FOR};
use crate::domain::Event;
use crate::hub::reactions::Reactions;
use crate::hub::state::{ActState, ActivityLive, EventState};
use crate::hub::{RespecError, Respecced};
use crate::protocol::server;
use crate::storage::{Committed, Write};

impl Actor {
    /// `Command::Respec`: checks, stores and applies an edit of the spec.
    pub(super) async fn respec(
        &mut self,
        if_match: Option<String>,
        event: Event,
        commits: &mut mpsc::UnboundedReceiver<Committed>,
    ) -> Result<Respecced, RespecError> {
        let deadline = Instant::now() + DRAIN_FOR;
        while !self.ledger.is_empty() {
            match tokio::time::timeout_at(deadline, commits.recv()).await {
                Ok(Some(committed)) => self.on_committed(committed),
                _ => return Err(RespecError::Busy),
            }
        }
        let live = self.state.answered_keys(&self.info.event);
        let updated = crate::admin::update(
            &self.storage,
            self.info.code,
            if_match.as_deref(),
            &event,
            &live,
        )
        .await?;
        // Its own edit: not to be taken for someone else's at the next look at storage.
        self.spec_watch.stored(&updated.etag);
        if updated.changed {
            let mut writes: Vec<_> = self.swap(event).into_iter().collect();
            writes.extend(self.dates_changed());
            if !writes.is_empty() {
                self.write_behind(writes).await;
            }
        }
        Ok(Respecced {
            etag: updated.etag,
            changed: updated.changed,
        })
    }

    /// The event carries on under `event`, already checked and stored. A current session
    /// the new spec no longer has (where it ran) ends: the write that stores that, if so.
    pub(super) fn swap(&mut self, event: Event) -> Option<Write> {
        // What is held back goes out under the old activities' positions.
        self.flush();
        let info = Arc::new(self.info.respecced(event));
        self.state.respec(&self.info.event, &info.event);
        self.paced.restart(info.event.activities.len());
        if info.event.spec.reactions != self.info.event.spec.reactions {
            self.reactions = Reactions::new(&info.event.spec.reactions, Instant::now());
        }
        self.info = Arc::clone(&info);
        self.shared.set(info);
        tracing::info!(event = %self.info.code, "spec edited in place");
        // Before the snapshots, so none names a session that is gone.
        let ended = (self.current).keep_sessions_of(&self.info.event.spec.sessions);

        let frame = server::event(&self.info.event_json);
        self.send_attendees(&frame, |_, _| true);
        let snapshot = self.host_snapshot();
        self.send_hosts(&snapshot);
        self.restart_presenters();
        // Held-back pushes went out in the flush; revealed results go again, by the new
        // positions.
        self.dirty.tallies.clear();
        self.dirty.results = (self.state.activities.iter().enumerate())
            .filter(|(_, a)| a.revealed)
            .map(|(act, _)| act)
            .collect();
        self.dirty.wall = true;
        self.dirty.question_list = true;
        self.dirty.directory = true;
        // Told as any change of the current sessions is, once everyone has the new spec.
        ended.then(|| self.current_changed())
    }
}

impl EventState {
    /// The keys of the activities whose spec an edit may no longer change freely: open or
    /// closed, or holding an answer (stored, or on its way to disk).
    pub fn answered_keys(&self, event: &Event) -> HashSet<String> {
        let mut acts: HashSet<usize> = self
            .activities
            .iter()
            .enumerate()
            .filter(|(_, a)| a.state != ActState::Ready || a.tally.total() > 0)
            .map(|(act, _)| act)
            .collect();
        acts.extend(self.answers_in_flight.keys());
        acts.extend(self.texts.iter().map(|t| t.activity));
        for attendee in &self.attendees {
            acts.extend(attendee.answers.keys());
        }
        acts.into_iter()
            .filter_map(|act| event.activities.get(act))
            .map(|a| a.key.as_str().to_owned())
            .collect()
    }

    /// The state of `old`'s activities under `new`, matched by key. [`crate::domain::edit`]
    /// let no activity with an answer go; whatever names one that did is dropped all the
    /// same, so no position can point past the new list.
    pub fn respec(&mut self, old: &Event, new: &Event) {
        let moved: Vec<Option<usize>> = old
            .activities
            .iter()
            .map(|a| new.index.get(a.key.as_str()).copied())
            .collect();
        let to = |act: usize| moved.get(act).copied().flatten();
        let mut before: Vec<Option<ActivityLive>> = std::mem::take(&mut self.activities)
            .into_iter()
            .map(Some)
            .collect();
        self.activities = new
            .activities
            .iter()
            .map(|a| {
                let json = crate::protocol::event::activity(a);
                let kept = old
                    .index
                    .get(a.key.as_str())
                    .and_then(|&i| before.get_mut(i).and_then(Option::take));
                match kept {
                    Some(mut live) => {
                        live.tally.fit(&a.kind);
                        live.json = json;
                        live
                    }
                    None => ActivityLive {
                        state: ActState::Ready,
                        revealed: false,
                        tally: crate::domain::Tally::new(&a.kind),
                        json,
                    },
                }
            })
            .collect();
        self.focus = self.focus.and_then(to);
        for attendee in &mut self.attendees {
            attendee.answers = std::mem::take(&mut attendee.answers)
                .into_iter()
                .filter_map(|(act, value)| Some((to(act)?, value)))
                .collect();
        }
        self.answered_under = std::mem::take(&mut self.answered_under)
            .into_iter()
            .filter_map(|((who, act), under)| Some(((who, to(act)?), under)))
            .collect();
        self.answers_in_flight = std::mem::take(&mut self.answers_in_flight)
            .into_iter()
            .filter_map(|(act, n)| Some((to(act)?, n)))
            .collect();
        self.texts.retain_mut(|t| match to(t.activity) {
            Some(act) => {
                t.activity = act;
                true
            }
            None => false,
        });
        self.text_index.clear();
        self.text_of.clear();
        for (slot, t) in self.texts.iter().enumerate() {
            self.text_index.insert(t.id.clone(), slot);
            self.text_of.insert((t.attendee, t.activity), slot);
        }
        // An organisation or sector typed by attendees may now be on the event's list.
        self.other_organisations
            .retain(|_, name| new.registered_organisation(name).is_none());
        self.other_sectors
            .retain(|_, name| new.sector(name).is_none());
        self.forget_breakdowns();
    }
}
