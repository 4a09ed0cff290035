//! The actor that owns one live event: its struct, its start, and its loop.
//!
//! It takes commands from connections over a bounded mailbox, validates them against the
//! event, hands durable changes to the storage writer with a ticket, and applies them to the
//! tallies only when the writer reports them committed: the tally a host sees is always the
//! committed truth, and an `ack` always follows the commit. Hosts get tallies and attendance
//! coalesced on a 100 ms tick; attendees get revealed results at most once a second.
//!
//! One actor, one task, one `impl Actor` spread over the files of this folder by duty:
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | the [`Actor`] struct, [`start`], the loop ([`Actor::run`]) and the command dispatch |
//! | [`conns`] | the connection registry: who is connected, binding sockets to attendees, sending |
//! | [`attendee`] | what attendees send: `hello`, `answer`, `profile`; the message allowance |
//! | [`items`] | what attendees post for others: `ask`, `upvote`, `card`; the open-question cap |
//! | [`profile`] | an attendee's organisation, sector and room: checking and applying a change |
//! | [`host`] | what hosts send: open, close, reveal, focus, moderate, end |
//! | [`ledger`] | writes on their way to disk; on commit, who is told `ack` or `ok` |
//! | [`apply`] | what a committed write does to the live state (an answer counted, ...) |
//! | [`push`] | what changed since it last went out, and the tick that sends it (coalescing) |
//! | [`phases`] | the event's phase: what each refuses, the clock that moves it, `start`, `end` into the after window |
//! | [`sessions`] | the sessions running now, which session a question goes to, who is sent which questions |
//! | [`views`] | the whole-state frames: `welcome`, the host's and presenter's `snapshot`, `wall` |
//! | [`respec`] | an organiser's edit of the spec, checked, stored and applied in place |
//! | [`spec_watch`] | a spec or reset the command line stored while the event is loaded, noticed and applied |

mod apply;
mod attendee;
mod conns;
mod host;
mod items;
mod ledger;
mod phases;
mod profile;
mod push;
mod reacting;
mod respec;
mod sessions;
mod spec_watch;
mod views;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{info, instrument, warn};

use super::allowance::Allowance;
use super::reactions::Reactions;
use super::state::EventState;
use super::{Command, EndError, EventHandle, EventInfo, HubError, MAILBOX, NumMap, SharedInfo};
use crate::domain::phase::{Current, EventPhase};
use crate::domain::spec::{SpecFormat, parse_spec};
use crate::domain::{Event, EventCode};
use crate::metrics::METRICS;
use crate::protocol::CloseCode;
use crate::storage::{Committed, Storage, StoredEvent};
use conns::{Conns, Origin};
use items::Items;
use ledger::Ledger;
use phases::Phases;
use push::{Dirty, Paced, Presence, TICK};
use sessions::QuestionsSent;
use spec_watch::{Seen, SpecWatch};

/// How long shutdown waits for in-flight writes before closing anyway. What is still in the
/// writer then is never committed: once the actor has gone its tickets' channel is closed,
/// and the writer drops such jobs before every attempt (none was acknowledged; the phones
/// resend them, to whichever node runs the event next).
const DRAIN_FOR: Duration = Duration::from_secs(5);
/// The most commands the actor takes from its mailbox at once.
const COMMANDS_PER_TURN: usize = 64;

/// The live event: everything one task owns. Each field is one duty's state; the methods
/// that use it live in the file of that duty.
struct Actor {
    /// The event as this actor runs it; `shared` is the copy every handle reads, replaced
    /// with it when an edit is applied ([`respec`]).
    info: Arc<EventInfo>,
    shared: SharedInfo,
    /// For an organiser's edit ([`respec`]); every other write goes through the ledger.
    storage: Storage,
    /// The event's live state: activities, attendees, tallies, questions, texts, cards.
    state: EventState,
    /// Who is connected, and in which role ([`conns`]).
    conns: Conns,
    /// Writes handed to the storage writer and not yet committed ([`ledger`]).
    ledger: Ledger,
    /// Each attendee's message allowance, whatever the transport ([`super::allowance`]);
    /// only for attendees who have sent something since the event was loaded.
    allowances: NumMap<usize, Allowance>,
    /// Reactions of the last minute, in memory only ([`crate::hub::reactions`]).
    reactions: Reactions,
    /// Numbering of questions and cards, and the per-session cap on open questions
    /// ([`attendee`]).
    items: Items,
    /// What changed since it last went out ([`push`]).
    dirty: Dirty,
    /// When each coalesced broadcast last went or may next go ([`push`]).
    paced: Paced,
    /// Attendance sampling for the report ([`push`]).
    presence: Presence,
    /// The event's phase ([`phases`]).
    phases: Phases,
    /// The sessions running now ([`sessions`]).
    current: Current,
    /// The last question lists sent ([`sessions`]).
    questions_sent: QuestionsSent,
    /// What is stored of the event, looked at while it is loaded (`spec_watch`).
    spec_watch: SpecWatch,
}

/// The event as stored, with its spec parsed.
async fn load(
    storage: &Storage,
    code: EventCode,
) -> Result<Option<(StoredEvent, Event)>, HubError> {
    let Some(stored) = storage.event(code).await? else {
        return Ok(None);
    };
    let event = parse_spec(&stored.spec, SpecFormat::Json)
        .map_err(|e| HubError::BadSpec(code, e.to_string()))?;
    Ok(Some((stored, event)))
}

/// Loads event `code` from storage and spawns its actor; `None` if there is no such event.
pub(super) async fn start(
    code: EventCode,
    storage: Storage,
    idle_unload: Duration,
    forget: Box<dyn FnOnce() + Send>,
    stopped: Box<dyn FnOnce() + Send>,
) -> Result<Option<EventHandle>, HubError> {
    let Some((stored, event)) = load(&storage, code).await? else {
        return Ok(None);
    };
    let rows = storage.live_rows(code).await?;
    let phases = Phases::load(&event.times, &stored);
    let spec_watch = SpecWatch::new(&stored.spec);
    let mut current: Current = stored
        .current_sessions
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default();
    // The spec may have been changed while the event was not loaded (`joinup event
    // update`): a session it no longer has is not current. Stored with the next change.
    current.keep_sessions_of(&event.spec.sessions);
    let state = EventState::load(
        &event,
        phases.phase == EventPhase::Closed,
        stored.focus.as_deref(),
        rows,
    );
    let info = Arc::new(EventInfo::new(
        code,
        event,
        stored.host_token_hash,
        stored.presenter_token_hash,
    ));
    let (tx, rx) = mpsc::channel(MAILBOX);
    let (commit_tx, commit_rx) = mpsc::unbounded_channel();
    info!(event = %code, attendees = state.attendees.len(), "event loaded");
    let activities = info.event.activities.len();
    let shared = SharedInfo::new(Arc::clone(&info));
    let actor = Actor {
        info: info.clone(),
        shared: shared.clone(),
        conns: Conns::default(),
        ledger: Ledger::new(storage.writer().clone(), commit_tx),
        allowances: NumMap::default(),
        reactions: Reactions::new(&info.event.spec.reactions, Instant::now()),
        items: Items::new(&state),
        dirty: Dirty::default(),
        paced: Paced::new(activities),
        presence: Presence::new(state.peak),
        phases,
        current,
        questions_sent: QuestionsSent::default(),
        spec_watch,
        state,
        storage,
    };
    METRICS.live_events.fetch_add(1, Relaxed);
    tokio::spawn(async move {
        actor.run(rx, commit_rx, idle_unload, forget).await;
        stopped();
    });
    Ok(Some(EventHandle::new(shared, tx)))
}

/// What connections read without asking the actor, for an event whose actor runs on
/// another node of the cluster.
pub(super) async fn info(
    storage: &Storage,
    code: EventCode,
) -> Result<Option<EventInfo>, HubError> {
    Ok(load(storage, code).await?.map(|(stored, event)| {
        EventInfo::new(
            code,
            event,
            stored.host_token_hash,
            stored.presenter_token_hash,
        )
    }))
}

impl Actor {
    /// The actor's loop: the timers, the writer's commits and the mailbox, until the event
    /// is unloaded for being idle, the server shuts down, or every sender is gone.
    #[instrument(skip_all, fields(event = %self.info.code))]
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        mut commits: mpsc::UnboundedReceiver<Committed>,
        idle_unload: Duration,
        forget: Box<dyn FnOnce() + Send>,
    ) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutdown: Option<(oneshot::Sender<()>, Instant)> = None;
        let mut idle_ticks: u32 = 0;
        let mut commands = Vec::with_capacity(COMMANDS_PER_TURN);
        // One timer for the tallies held back by the rate limit, moved only when their
        // time changes.
        let tallies = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(tallies);
        let mut tallies_at = None;
        // Before the first connection is served: a phase the clock moved while the event
        // was not loaded, and the before-activities `opens_at` opened.
        self.prime_question_lists();
        self.follow_clock().await;
        loop {
            if self.paced.tally_due != tallies_at {
                tallies_at = self.paced.tally_due;
                if let Some(due) = tallies_at {
                    tallies.as_mut().reset(due);
                }
            }
            tokio::select! {
                biased;
                // The timers first: under steady load commands are always ready, and a timer
                // polled after them would wait for a lull, holding back the hosts' updates.
                () = &mut tallies, if tallies_at.is_some() => self.send_tallies(Instant::now(), false),
                _ = tick.tick() => {
                    self.follow_clock().await;
                    self.on_tick();
                    idle_ticks = if self.is_idle() { idle_ticks + 1 } else { 0 };
                    // A closed rehearsal reset in the database under it: the next connection
                    // loads the fresh one.
                    let reset = self.watch_stored(&mut commits).await == Seen::Reset;
                    if reset || idle_ticks * TICK >= idle_unload {
                        // Leave the registry first: a connection arriving now loads a fresh
                        // actor from the database instead of finding this one gone.
                        forget();
                        self.unload(&mut rx, &mut commits).await;
                        break;
                    }
                }
                Some(committed) = commits.recv() => self.on_committed(committed),
                // Several commands per wake-up: under load the mailbox is never empty, and
                // each turn of this loop polls the tick's timer and the commit channel.
                received = rx.recv_many(&mut commands, COMMANDS_PER_TURN), if shutdown.is_none() => {
                    if received == 0 {
                        break;
                    }
                    for command in commands.drain(..) {
                        match command {
                            Command::Shutdown { done } => {
                                shutdown = Some((done, Instant::now() + DRAIN_FOR));
                            }
                            Command::Respec { if_match, event, reply } => {
                                let done = self.respec(if_match, *event, &mut commits).await;
                                let _ = reply.send(done);
                            }
                            command => self.on_command(command).await,
                        }
                    }
                }
            }
            // Whatever this turn changed (a commit applied, a profile moved a pledge): the
            // tallies that may go now go now.
            if !self.dirty.tallies.is_empty() {
                self.send_tallies(Instant::now(), false);
            }
            if let Some((_, deadline)) = &shutdown
                && (self.ledger.is_empty() || Instant::now() >= *deadline)
            {
                self.shut_down().await;
                if let Some((done, _)) = shutdown.take() {
                    let _ = done.send(());
                }
                break;
            }
        }
        METRICS.live_events.fetch_sub(1, Relaxed);
    }

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::Connect {
                conn,
                role,
                sink,
                link,
                room,
            } => self.on_connect(conn, role, sink, link, room),
            Command::Revoke { link } => self.revoke(link),
            Command::Disconnect { conn } => self.drop_conn(conn),
            Command::Client { conn, msg, at } => {
                let Some(attendee) = self.conns.attendees.get(&conn).map(|c| c.attendee) else {
                    return;
                };
                self.on_client(Origin::Conn(conn), Some(conn), attendee, msg, at)
                    .await;
            }
            Command::Host { conn, msg } => {
                if self.conns.hosts.contains_key(&conn) {
                    self.on_host(conn, msg).await;
                }
            }
            Command::Post {
                token,
                msg,
                reply,
                at,
            } => self.on_post(token, msg, reply, at).await,
            Command::Stream {
                conn,
                token,
                sink,
                reply,
            } => self.on_stream(conn, token, sink, reply),
            Command::End { from, reply } => match from {
                // Meant for a phase the event has already left: no second step, and the
                // caller hears where the event is now.
                Some(from) if from != self.phases.phase => {
                    let _ = reply.send(Err(EndError::Left(self.phases.phase)));
                }
                _ => self.end(None, Some(reply)).await,
            },
            Command::NodeGone { node } => self.drop_node(node),
            // Handled by the loop, which holds the writer's commits; one that reaches here
            // (the idle unload's last turn) finds the event going away.
            Command::Respec { reply, .. } => {
                let _ = reply.send(Err(crate::hub::RespecError::Busy));
            }
            Command::Shutdown { .. } => {}
        }
    }

    /// Nobody connected, nothing on its way to disk, nothing left to push.
    fn is_idle(&self) -> bool {
        self.conns.is_empty()
            && self.ledger.is_empty()
            && self.dirty.tallies.is_empty()
            && self.dirty.results.is_empty()
    }

    /// The idle actor's last turn, once it has left the registry: what is already in the
    /// mailbox is handled, committed and acknowledged, then its connections are sent to the
    /// fresh actor with 1012.
    async fn unload(
        &mut self,
        rx: &mut mpsc::Receiver<Command>,
        commits: &mut mpsc::UnboundedReceiver<Committed>,
    ) {
        rx.close();
        while let Some(command) = rx.recv().await {
            self.on_command(command).await;
        }
        let deadline = Instant::now() + DRAIN_FOR;
        while !self.ledger.is_empty() {
            match tokio::time::timeout_at(deadline, commits.recv()).await {
                Ok(Some(committed)) => self.on_committed(committed),
                _ => break,
            }
        }
        self.flush();
        if self.presence.sample_due {
            let sample = self.presence_sample();
            self.write_behind(vec![sample]).await;
        }
        self.close_everyone(CloseCode::Restarting);
        info!(event = %self.info.code, "idle event unloaded");
    }

    /// The server is shutting down and what was in flight is committed (or the wait is
    /// over): everything still to push goes, then every client is closed with 1012.
    async fn shut_down(&mut self) {
        if !self.ledger.is_empty() {
            warn!(
                pending = self.ledger.len(),
                "closing with writes still in flight"
            );
        }
        self.flush();
        if self.presence.sample_due || self.state.present > 0 {
            let sample = self.presence_sample();
            self.write_behind(vec![sample]).await;
        }
        self.close_everyone(CloseCode::Restarting);
    }
}
