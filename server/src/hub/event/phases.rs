//! The event's phase in the live actor (docs/protocol.md, "Phases"): what each phase
//! refuses, the clock that moves `before` to `live` at `starts_at` and `after` to `closed`
//! at `closes_at`, the host's `start`, and the host's `end` of the live part, which opens
//! the after window.
//!
//! The phase itself follows from what is stored and the clock ([`Times::phase`]): an actor
//! loaded after a restart, or after being unloaded, finds the phase a running one would.

use super::Actor;
use crate::domain::clock;
use crate::domain::phase::{EventPhase, Progress, Times, Window};
use crate::hub::state::ActState;
use crate::protocol::phases;
use crate::protocol::{ClientMsg, HostMsg};
use crate::storage::{StoredEvent, Write};

/// The actor's view of the phase.
pub(super) struct Phases {
    pub(super) phase: EventPhase,
    /// A host started the event before its `starts_at` (stored).
    started: bool,
    /// In `after`: the end of the window, as stored.
    pub(super) until: Option<String>,
    /// The `window: "before"` activities still `ready` have been opened, once `opens_at`
    /// passed (once per load: one a host has closed since stays closed).
    early_opened: bool,
}

impl Phases {
    pub(super) fn load(times: &Times, stored: &StoredEvent) -> Phases {
        let progress = Progress {
            state: &stored.state,
            started: stored.started_at.is_some(),
            ended_at: stored.ended_at.as_deref(),
        };
        let phase = times.phase(progress, clock::now_unix());
        Phases {
            phase,
            started: progress.started,
            until: (phase == EventPhase::After)
                .then(|| stored.ended_at.clone())
                .flatten(),
            early_opened: false,
        }
    }
}

impl Actor {
    /// Why an attendee's message is refused in this phase (`not_open`), if it is.
    pub(super) fn phase_refusal(&self, msg: &ClientMsg) -> Option<String> {
        let event = &self.info.event;
        match self.phases.phase {
            EventPhase::Live | EventPhase::Closed => None,
            EventPhase::Before => {
                let starts = event.spec.starts_at.as_deref().unwrap_or_default();
                let early = event.times.open_early(clock::now_unix());
                let not_yet = || match &event.spec.opens_at {
                    Some(opens) => format!("the event has not started: questions open at {opens}"),
                    None => format!(
                        "the event has not started: questions open when it starts at {starts}"
                    ),
                };
                match msg {
                    ClientMsg::Hello { .. } | ClientMsg::Profile { .. } => None,
                    ClientMsg::React { .. } => {
                        Some(format!("reactions open when the event starts at {starts}"))
                    }
                    ClientMsg::Ask { .. } | ClientMsg::Upvote { .. } | ClientMsg::Card { .. } => {
                        (!early).then(not_yet)
                    }
                    ClientMsg::Answer { activity, .. } => {
                        let window = event.activity(activity)?.window;
                        match (window, &event.spec.opens_at) {
                            (Some(Window::Before), _) if early => None,
                            (Some(Window::Before), Some(opens)) => Some(format!(
                                "the event has not started: this activity opens at {opens}"
                            )),
                            _ => Some("this activity opens when the event starts".to_owned()),
                        }
                    }
                }
            }
            EventPhase::After => match msg {
                ClientMsg::Ask { .. } | ClientMsg::Upvote { .. } => {
                    Some("questions closed when the event ended".to_owned())
                }
                ClientMsg::React { .. } => {
                    Some("the event has ended: reactions are closed".to_owned())
                }
                ClientMsg::Answer { activity, .. } => {
                    let act = *event.index.get(activity)?;
                    (self.state.activities[act].state != ActState::Open).then(|| {
                        "the event has ended: only the activities for after the event are open"
                            .to_owned()
                    })
                }
                _ => None,
            },
        }
    }

    /// What a host's command needs first in this phase: `Ok` with the writes of starting
    /// the event (a `start`, a `session` or an `open` before it starts), or `Err` with why
    /// the phase refuses it.
    pub(super) fn host_phase(&mut self, msg: &HostMsg) -> Result<Vec<Write>, String> {
        let event = &self.info.event;
        let window = |key: &str| event.activity(key).and_then(|a| a.window);
        match (self.phases.phase, msg) {
            (EventPhase::After, HostMsg::Start { .. } | HostMsg::Session { .. }) => {
                Err("the live part has ended: the event is in its after window".to_owned())
            }
            (EventPhase::After, HostMsg::Open { activity, .. })
                if event.activity(activity).is_some()
                    && window(activity) != Some(Window::After) =>
            {
                Err(
                    "the event has ended: only the activities for after the event can open"
                        .to_owned(),
                )
            }
            (EventPhase::Before | EventPhase::Live, HostMsg::Open { activity, .. })
                if window(activity) == Some(Window::After) =>
            {
                Err(
                    "this activity is for after the event: it opens when the live part ends"
                        .to_owned(),
                )
            }
            (EventPhase::Before, HostMsg::Start { .. } | HostMsg::Session { .. }) => {
                Ok(self.start_live())
            }
            (EventPhase::Before, HostMsg::Open { activity, .. })
                if event.activity(activity).is_some()
                    && window(activity) != Some(Window::Before) =>
            {
                Ok(self.start_live())
            }
            _ => Ok(Vec::new()),
        }
    }

    /// The live part starts (a host's start before `starts_at`, or the clock reaching it):
    /// stored, so it stays live.
    fn start_live(&mut self) -> Vec<Write> {
        self.phases.started = true;
        self.enter(EventPhase::Live);
        vec![Write::Started {
            event: self.info.code,
            at: clock::now_rfc3339(),
        }]
    }

    /// The phase changes: every connection is told, and the phones' question lists follow.
    fn enter(&mut self, phase: EventPhase) {
        self.phases.phase = phase;
        let frame = phases::phase(phase, self.phases.until.as_deref());
        self.send_attendees(&frame, |_, _| true);
        self.send_hosts(&frame);
        self.send_presenters(&frame);
        self.dirty.question_list = true;
    }

    /// The clock, on every tick: `before` becomes `live` at `starts_at`, `after` becomes
    /// `closed` at the end of its window, and the before-activities open at `opens_at`.
    pub(super) async fn follow_clock(&mut self) {
        if self.state.ended {
            return;
        }
        let now = clock::now_unix();
        let times = self.info.event.times;
        let mut writes = Vec::new();
        match self.phases.phase {
            // Stored like a host's start, so an edit that later moves `starts_at` on
            // cannot put a live event back before its start.
            EventPhase::Before if times.starts_at.is_none_or(|s| s <= now) => {
                writes = self.start_live();
            }
            EventPhase::After => {
                let until = self.phases.until.clone().unwrap_or_else(clock::now_rfc3339);
                if clock::parse_unix(&until).is_none_or(|u| u <= now) {
                    writes = self.close_event(until);
                }
            }
            _ => {}
        }
        if !self.phases.early_opened
            && matches!(self.phases.phase, EventPhase::Before | EventPhase::Live)
            && times.open_early(now)
        {
            self.phases.early_opened = true;
            writes.extend(self.open_window(Window::Before, |state| state == ActState::Ready));
        }
        if !writes.is_empty() {
            self.write_behind(writes).await;
        }
    }

    /// Opens the activities of `window` whose state `which` accepts.
    fn open_window(&mut self, window: Window, which: impl Fn(ActState) -> bool) -> Vec<Write> {
        let acts: Vec<usize> = (0..self.info.event.activities.len())
            .filter(|&act| {
                self.info.event.activities[act].window == Some(window)
                    && which(self.state.activities[act].state)
            })
            .collect();
        acts.into_iter()
            .flat_map(|act| self.set_state(act, ActState::Open))
            .collect()
    }

    /// The host ends the live part of an event with an after window: every open activity
    /// closes, the after-activities open, attendees stay. The writes that record it.
    pub(super) fn open_after_window(&mut self, closes_at: i64) -> Vec<Write> {
        let mut writes = Vec::new();
        for act in 0..self.state.activities.len() {
            if self.state.activities[act].state == ActState::Open {
                writes.extend(self.set_state(act, ActState::Closed));
            }
        }
        writes.extend(self.set_focus(None));
        let until = clock::format_unix(closes_at);
        self.phases.until = Some(until.clone());
        self.enter(EventPhase::After);
        writes.extend(self.open_window(Window::After, |_| true));
        writes.push(Write::AfterWindow {
            event: self.info.code,
            until,
        });
        writes
    }

    /// The spec was edited in place: its dates may have moved. The clock's next tick moves
    /// the phase if `starts_at` did; a new `closes_at` moves the end of an open after
    /// window (the writes that store it); activities newly for before the day may open.
    pub(super) fn dates_changed(&mut self) -> Vec<Write> {
        self.phases.early_opened = false;
        let closes = self.info.event.times.closes_at.map(clock::format_unix);
        if self.phases.phase != EventPhase::After || closes.is_none() || closes == self.phases.until
        {
            return Vec::new();
        }
        self.phases.until = closes.clone();
        let frame = phases::phase(EventPhase::After, closes.as_deref());
        self.send_attendees(&frame, |_, _| true);
        self.send_hosts(&frame);
        self.send_presenters(&frame);
        vec![Write::AfterWindow {
            event: self.info.code,
            until: closes.unwrap_or_default(),
        }]
    }

    /// The event closes for good: every connection is told before the phones are let go.
    pub(super) fn enter_closed(&mut self) {
        self.enter(EventPhase::Closed);
    }
}
