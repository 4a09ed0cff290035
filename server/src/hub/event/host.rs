//! What hosts send: opening, closing and revealing an activity, focusing the presenter's
//! screen, moderating questions, texts and cards, and ending the event.
//!
//! A host command changes the live state at once and tells every client concerned, then
//! stores the change; the host gets `ok` once it is on disk ([`super::ledger`]).

use std::collections::HashMap;

use tokio::sync::oneshot;
use tokio::time::Instant;
use tracing::info;

use super::Actor;
use super::conns::Origin;
use super::ledger::{Effect, Reply};
use crate::domain::clock;
use crate::domain::phase::EventPhase;
use crate::hub::EndError;
use crate::hub::conn::ConnId;
use crate::hub::state::{ActState, EventState, ItemState};
use crate::protocol::phases;
use crate::protocol::server::{self, Frame};
use crate::protocol::{CloseCode, ErrorCode, HostMsg, ItemKind, ModAction};
use crate::storage::Write;
use crate::storage::writer::ItemTable;

/// The most items one `moderate` command may name in `targets`.
const MAX_BATCH: usize = 500;

/// Why a host command is refused: the error to send.
type Refused = (ErrorCode, String);

impl Actor {
    /// A host's command: applied, then stored; `ok` once stored, or `error` naming what is
    /// wrong.
    pub(super) async fn on_host(&mut self, conn: ConnId, msg: HostMsg) {
        let id = msg.id().cloned();
        let ok = server::ok(msg.type_name(), id.as_ref());
        if self.state.ended && !matches!(msg, HostMsg::Auth { .. } | HostMsg::Focus { .. }) {
            let frame = server::error(id.as_ref(), ErrorCode::EventEnded, "this event has ended");
            return self.send_to(conn, frame);
        }
        let err = server::error(
            id.as_ref(),
            ErrorCode::Unavailable,
            "the change could not be stored; try again",
        );
        let mut first = match self.host_phase(&msg) {
            Ok(writes) => writes,
            Err(message) => {
                let frame = phases::not_open(id.as_ref(), self.phases.phase, &message);
                return self.send_to(conn, frame);
            }
        };
        let writes = match msg {
            HostMsg::Auth { .. } => return self.send_to(conn, ok),
            HostMsg::Start { .. } => Ok(Vec::new()),
            HostMsg::Session { session, room, .. } => self.set_session(session, room),
            HostMsg::End { from, .. } => {
                let from = from.as_deref().map(|f| EventPhase::parse(f).ok_or(f));
                return match from {
                    Some(Err(f)) => {
                        let message =
                            format!("from: {f:?} is not a phase: before, live, after or closed");
                        let frame = server::error(id.as_ref(), ErrorCode::InvalidValue, &message);
                        self.send_to(conn, frame)
                    }
                    // Meant for a phase the event has already left: no second step.
                    Some(Ok(f)) if f != self.phases.phase => self.send_to(conn, ok),
                    _ => self.end(Some((conn, ok, err)), None).await,
                };
            }
            HostMsg::ShowReactions { show, .. } => {
                // Kept in memory only, like the counts: nothing to store, so `ok` at once.
                self.show_reactions(show);
                return self.send_to(conn, ok);
            }
            HostMsg::Open { activity, .. } => self
                .activity(&activity)
                .map(|act| self.set_state(act, ActState::Open)),
            HostMsg::Close { activity, .. } => self
                .activity(&activity)
                .map(|act| self.set_state(act, ActState::Closed)),
            HostMsg::Reveal { activity, show, .. } => self
                .activity(&activity)
                .map(|act| self.set_revealed(act, show)),
            HostMsg::Focus { activity, .. } => match activity {
                None => Ok(self.set_focus(None)),
                Some(key) => self.activity(&key).map(|act| self.set_focus(Some(act))),
            },
            HostMsg::Moderate {
                item,
                target,
                targets,
                action,
                ..
            } => self.moderate_all(item, target, targets, action),
        }
        .map(|mut writes| {
            let mut all = std::mem::take(&mut first);
            all.append(&mut writes);
            all
        });
        match writes {
            // The command was refused, but it may have started the event first (`open` or
            // `session` before the start): that start is stored all the same, and the
            // refusal goes once it is, so memory and disk never disagree on the phase.
            Err((code, message)) if !first.is_empty() => {
                let refused = server::error(id.as_ref(), code, &message);
                let reply = Reply::Frames { ok: refused, err };
                self.submit(Origin::Conn(conn), None, None, first, Effect::None, reply)
                    .await;
            }
            Err((code, message)) => {
                let frame = server::error(id.as_ref(), code, &message);
                self.send_to(conn, frame);
            }
            Ok(writes) if writes.is_empty() => self.send_to(conn, ok),
            Ok(writes) => {
                let reply = Reply::Frames { ok, err };
                self.submit(Origin::Conn(conn), None, None, writes, Effect::None, reply)
                    .await;
            }
        }
    }

    /// The activity with this key.
    fn activity(&self, key: &str) -> Result<usize, Refused> {
        self.info.event.index.get(key).copied().ok_or_else(|| {
            (
                ErrorCode::UnknownActivity,
                format!("this event has no activity {key:?}"),
            )
        })
    }

    /// `activity`: an activity's state, reveal and count, to hosts and presenters.
    fn activity_update(&mut self, act: usize) {
        let live = &self.state.activities[act];
        let frame = server::activity(
            self.info.event.activities[act].key.as_str(),
            live.state.as_str(),
            live.revealed,
            live.tally.total(),
        );
        self.send_hosts(&frame);
        self.send_presenters(&frame);
    }

    /// Opens or closes an activity: phones in its room are told, and at the close the
    /// hosts get the final tally with its breakdown.
    pub(super) fn set_state(&mut self, act: usize, target: ActState) -> Vec<Write> {
        let live = &mut self.state.activities[act];
        if live.state == target {
            return Vec::new();
        }
        self.state.breakdown_generation += 1;
        let was_open = live.state == ActState::Open;
        live.state = target;
        let revealed = live.revealed;
        let definition = &self.info.event.activities[act];
        let room = definition.room.clone();
        let key = definition.key.as_str().to_owned();
        let visible = move |s: &EventState, a: usize| room.is_none() || s.attendees[a].room == room;
        let mut writes = Vec::new();
        if target == ActState::Open {
            writes.extend(self.session_of(act));
            let frame = server::opened(&self.state.activities[act].json);
            self.send_attendees(&frame, &visible);
        } else if was_open {
            self.send_attendees(&server::closed(&key), &visible);
        }
        if target == ActState::Closed {
            // The final tally, with its sector breakdown, goes out now.
            let tally = self.state.host_tally(&self.info.event, act);
            self.send_hosts(&server::tally(&key, &tally));
            if revealed {
                let frame = server::results(&key, Some(&self.state.public_tally(act)));
                self.send_attendees(&frame, &visible);
                self.send_presenters(&frame);
            }
            self.dirty.tallies.remove(&act);
            self.paced.tally_sent[act] = Some(Instant::now());
            self.dirty.results.remove(&act);
        }
        self.activity_update(act);
        writes.push(Write::ActivityState {
            event: self.info.code,
            activity: key,
            state: target.as_str(),
            revealed,
        });
        writes
    }

    /// Shows or hides an activity's results on the phones in its room and the presenter.
    fn set_revealed(&mut self, act: usize, show: bool) -> Vec<Write> {
        let live = &mut self.state.activities[act];
        if live.revealed == show {
            return Vec::new();
        }
        live.revealed = show;
        let state = live.state;
        let definition = &self.info.event.activities[act];
        let room = definition.room.clone();
        let key = definition.key.as_str().to_owned();
        let tally = show.then(|| self.state.public_tally(act));
        let frame = server::results(&key, tally.as_ref());
        self.send_attendees(&frame, move |s, a| {
            room.is_none() || s.attendees[a].room == room
        });
        self.send_presenters(&frame);
        self.dirty.wall |= self.state.focus == Some(act);
        self.dirty.results.remove(&act);
        self.activity_update(act);
        vec![Write::ActivityState {
            event: self.info.code,
            activity: key,
            state: state.as_str(),
            revealed: show,
        }]
    }

    /// What the presenter's screen shows.
    pub(super) fn set_focus(&mut self, focus: Option<usize>) -> Vec<Write> {
        if self.state.focus == focus {
            return Vec::new();
        }
        self.state.focus = focus;
        let mut writes: Vec<Write> = focus
            .and_then(|act| self.session_of(act))
            .into_iter()
            .collect();
        let frame = server::focus(self.focus_activity().as_ref());
        self.send_hosts(&frame);
        self.send_presenters(&frame);
        self.dirty.wall = true;
        writes.push(Write::Focus {
            event: self.info.code,
            activity: focus.map(|f| self.info.event.activities[f].key.as_str().to_owned()),
        });
        writes
    }

    /// `moderate`: one item in `target` or a batch in `targets`, all or nothing: every target
    /// is checked before any changes.
    fn moderate_all(
        &mut self,
        item: ItemKind,
        target: Option<String>,
        targets: Option<Vec<String>>,
        action: ModAction,
    ) -> Result<Vec<Write>, Refused> {
        let targets = match (target, targets) {
            (Some(target), None) => vec![target],
            (None, Some(targets)) if (1..=MAX_BATCH).contains(&targets.len()) => targets,
            _ => {
                return Err((
                    ErrorCode::InvalidMessage,
                    format!(
                        "moderate names one item in \"target\", or 1 to {MAX_BATCH} in \"targets\""
                    ),
                ));
            }
        };
        if let Some(message) = targets
            .iter()
            .find_map(|target| self.moderation_refused(item, target, action))
        {
            return Err((ErrorCode::InvalidValue, message));
        }
        let state = match action {
            ModAction::Approve => ItemState::Approved,
            ModAction::Hide => ItemState::Hidden,
            ModAction::Answered => ItemState::Answered,
        };
        let mut writes = Vec::with_capacity(targets.len());
        for target in targets {
            // Checked above: every target exists and takes this action.
            let write = self
                .moderate(item, target, state)
                .map_err(|message| (ErrorCode::InvalidValue, message))?;
            writes.push(write);
        }
        Ok(writes)
    }

    /// The index of one kind of moderated item, and what the host calls it.
    fn items_of(&self, item: ItemKind) -> (&HashMap<String, usize>, &'static str) {
        match item {
            ItemKind::Question => (&self.state.question_index, "question"),
            ItemKind::Text => (&self.state.text_index, "text answer"),
            ItemKind::Card => (&self.state.card_index, "card"),
        }
    }

    /// Why the host may not moderate `target` so, if it may not.
    fn moderation_refused(
        &self,
        item: ItemKind,
        target: &str,
        action: ModAction,
    ) -> Option<String> {
        let (index, kind) = self.items_of(item);
        if item != ItemKind::Question && action == ModAction::Answered {
            return Some(format!("a {kind} can be approved or hidden, not answered"));
        }
        (!index.contains_key(target)).then(|| format!("no {kind} {target:?}"))
    }

    /// Puts one item in `state`: the hosts see it at once, attendees and the presenter
    /// with the next push of the list it is in (questions, the directory, the text wall).
    fn moderate(
        &mut self,
        item: ItemKind,
        target: String,
        state: ItemState,
    ) -> Result<Write, String> {
        let (index, kind) = self.items_of(item);
        let Some(&i) = index.get(&target) else {
            return Err(format!("no {kind} {target:?}"));
        };
        let (frame, table) = match item {
            ItemKind::Question => {
                let question = &mut self.state.questions[i];
                self.dirty.question_list |= question.state.visible() || state.visible();
                question.state = state;
                (server::question(question.host_view()), ItemTable::Questions)
            }
            ItemKind::Text => {
                self.state.texts[i].state = state;
                self.dirty.wall |= self.state.focus == Some(self.state.texts[i].activity);
                let view = self
                    .state
                    .text_view(&self.info.event, &self.state.texts[i], None);
                (server::text(&view), ItemTable::Answers)
            }
            ItemKind::Card => {
                let card = &mut self.state.cards[i];
                self.dirty.directory |= card.state.visible() || state.visible();
                card.state = state;
                (server::card(card.host_view()), ItemTable::Cards)
            }
        };
        self.send_hosts(&frame);
        Ok(Write::ItemState {
            event: self.info.code,
            table,
            id: target,
            state: state.as_str(),
        })
    }

    /// Ends the event: every activity closes, attendees get `event_ended` and close 4000,
    /// hosts and presenters get a fresh snapshot.
    pub(super) async fn end(
        &mut self,
        host: Option<(ConnId, Frame, Frame)>,
        reply: Option<oneshot::Sender<Result<(), EndError>>>,
    ) {
        if self.state.ended {
            if let Some((conn, ok, _)) = host {
                self.send_to(conn, ok);
            }
            if let Some(reply) = reply {
                let _ = reply.send(Ok(()));
            }
            return;
        }
        let now = clock::now_unix();
        let writes = match self.info.event.times.closes_at {
            Some(closes) if self.phases.phase != EventPhase::After && closes > now => {
                info!(event = %self.info.code, "live part ended: the after window is open");
                self.open_after_window(closes)
            }
            _ => {
                info!(event = %self.info.code, "event ended");
                self.close_event(clock::now_rfc3339())
            }
        };
        let (origin, ok, err) = match host {
            Some((conn, ok, err)) => (Origin::Conn(conn), ok, err),
            None => {
                // The HTTP route has no connection: its reply travels in the effect.
                let (tx, _rx) = oneshot::channel();
                (Origin::Reply(tx), Frame::new(), Frame::new())
            }
        };
        self.submit(
            origin,
            None,
            None,
            writes,
            Effect::End(reply),
            Reply::Frames { ok, err },
        )
        .await;
    }

    /// Closes every open activity, sends the attendees away (`event_ended`, close 4000) and
    /// the hosts and presenters a fresh snapshot: the writes that record it, with `at` as
    /// the event's end (the end of its after window, when the clock closes it).
    pub(super) fn close_event(&mut self, at: String) -> Vec<Write> {
        let mut writes = Vec::new();
        for act in 0..self.state.activities.len() {
            if self.state.activities[act].state == ActState::Open {
                writes.extend(self.set_state(act, ActState::Closed));
            }
        }
        self.enter_closed();
        self.state.ended = true;
        self.state.focus = None;
        writes.push(self.presence_sample());
        writes.push(Write::EventEnded {
            event: self.info.code,
            at,
        });
        let ended = server::error(
            None,
            ErrorCode::EventEnded,
            "this event has ended; thank you for taking part",
        );
        self.close_attendees(&ended, CloseCode::EventEnded);
        self.dirty.attendance = true;
        self.presence.sample_due = true;
        self.on_tick();
        let snapshot = self.host_snapshot();
        self.send_hosts(&snapshot);
        self.restart_presenters();
        writes
    }
}
