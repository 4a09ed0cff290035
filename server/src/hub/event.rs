//! The actor that owns one live event.
//!
//! It takes commands from connections over a bounded mailbox, validates them against the
//! event, hands durable changes to the storage writer with a ticket, and applies them to the
//! tallies only when the writer reports them committed: the tally a host sees is always the
//! committed truth, and an `ack` always follows the commit. Hosts get tallies and attendance
//! coalesced on a 100 ms tick; attendees get revealed results at most once a second.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{info, instrument, warn};

use super::allowance::Allowance;
use super::by_seq::BySeq;
use super::conn::{ConnId, ConnSink};
use super::reactions::Reactions;
use super::state::{
    ActState, Attendee, CardItem, EventState, ItemState, Question, TextItem, Under, msg_hash,
};
use super::{
    Command, EventHandle, EventInfo, HubError, MAILBOX, NumMap, PostReply, Role, StreamOpen,
    id_value,
};
use crate::domain::card::Card;
use crate::domain::spec::{ActivityKind, Kind, SpecFormat, parse_spec};
use crate::domain::{AnswerValue, EventCode, clock, moderation, names, token};
use crate::metrics::METRICS;
use crate::protocol::server::{self, ActivityRow, FocusActivity, Frame};
use crate::protocol::{ClientMsg, CloseCode, ErrorCode, HostMsg, ItemKind, ModAction};
use crate::storage::writer::ItemTable;
use crate::storage::{CommitSender, Committed, Storage, Ticket, Write, WriterHandle};

/// The coalescing interval. A change to an activity's tally goes to the hosts at once if
/// none went in the last `TICK`, else `TICK` after the last one: at most 10 a second per
/// activity, and the final state within 100 ms of the last change. Attendance and
/// questions go out on a tick of this length.
const TICK: Duration = Duration::from_millis(100);
/// Attendee-facing updates (results, questions, directory) go out every this many ticks.
const SLOW_TICKS: u64 = 10;
/// Attendance is sampled for the report every this many ticks (one minute).
const SAMPLE_TICKS: u64 = 600;
/// How long shutdown waits for in-flight writes before closing anyway. What is still in the
/// writer then is never committed: once the actor has gone its tickets' channel is closed,
/// and the writer drops such jobs before every attempt (none was acknowledged; the phones
/// resend them, to whichever node runs the event next).
const DRAIN_FOR: Duration = Duration::from_secs(5);
/// The most commands the actor takes from its mailbox at once.
const COMMANDS_PER_TURN: usize = 64;
const MAX_QUESTION: usize = 500;
/// What the directory, and each revealed activity's results, may cost each phone, in bytes a
/// second on average: they go out whole, so a bigger one goes out less often (at most once a
/// second). Without this, one attendee replacing a visible card every second had the whole
/// directory sent to every phone every second, however many cards it held; and one signer
/// signing a pledge again and again did the same with its signatures by organisation.
const BROADCAST_BYTES_PER_SECOND: u64 = 16 * 1024;
/// The most items one `moderate` command may name in `targets`.
const MAX_BATCH: usize = 500;
const MAX_PROFILE_FIELD: usize = 120;

pub(super) async fn start(
    code: EventCode,
    storage: Storage,
    idle_unload: Duration,
    forget: Box<dyn FnOnce() + Send>,
    stopped: Box<dyn FnOnce() + Send>,
) -> Result<Option<EventHandle>, HubError> {
    let Some(stored) = storage.event(code).await? else {
        return Ok(None);
    };
    let event = parse_spec(&stored.spec, SpecFormat::Json)
        .map_err(|e| HubError::BadSpec(code, e.to_string()))?;
    let rows = storage.live_rows(code).await?;
    let state = EventState::load(
        &event,
        stored.state == "ended",
        stored.focus.as_deref(),
        rows,
    );
    let next_item_seq = state
        .questions
        .iter()
        .map(|q| q.seq)
        .chain(state.cards.iter().map(|c| c.seq))
        .max()
        .unwrap_or(0)
        + 1;
    let info = Arc::new(EventInfo::new(
        code,
        event,
        stored.host_token_hash,
        stored.presenter_token_hash,
    ));
    let (tx, rx) = mpsc::channel(MAILBOX);
    let (commit_tx, commit_rx) = mpsc::unbounded_channel();
    info!(event = %code, attendees = state.attendees.len(), "event loaded");
    let peak_stored = state.peak;
    let actor = Actor {
        info: info.clone(),
        writer: storage.writer().clone(),
        commit_tx,
        s: state,
        attendee_conns: NumMap::default(),
        conns_of: NumMap::default(),
        hosts: NumMap::default(),
        presenters: NumMap::default(),
        pending: BySeq::default(),
        inflight: NumMap::default(),
        next_seq: 1,
        next_item_seq,
        allowances: NumMap::default(),
        asking: NumMap::default(),
        current_session: None,
        session_from_seq: 0,
        questions_sent: Frame::new(),
        dirty_tallies: BTreeSet::new(),
        tally_sent: vec![None; info.event.activities.len()],
        tally_due: None,
        dirty_results: BTreeSet::new(),
        dirty_questions: BTreeSet::new(),
        attendance_dirty: false,
        questions_dirty: false,
        wall_dirty: false,
        directory_dirty: false,
        directory_next: Instant::now(),
        results_next: vec![Instant::now(); info.event.activities.len()],
        minute_peak: 0,
        sample_due: false,
        peak_stored,
        ticks: 0,
        reactions: Reactions::new(&info.event.spec.reactions, Instant::now()),
    };
    METRICS.live_events.fetch_add(1, Relaxed);
    tokio::spawn(async move {
        actor.run(rx, commit_rx, idle_unload, forget).await;
        stopped();
    });
    Ok(Some(EventHandle { info, tx }))
}

/// What connections read without asking the actor, for an event whose actor runs on
/// another node of the cluster.
pub(super) async fn info(
    storage: &Storage,
    code: EventCode,
) -> Result<Option<EventInfo>, HubError> {
    let Some(stored) = storage.event(code).await? else {
        return Ok(None);
    };
    let event = parse_spec(&stored.spec, SpecFormat::Json)
        .map_err(|e| HubError::BadSpec(code, e.to_string()))?;
    Ok(Some(EventInfo::new(
        code,
        event,
        stored.host_token_hash,
        stored.presenter_token_hash,
    )))
}

/// Where a reply goes: a connection, or the HTTP request of a POSTed message.
enum Origin {
    Conn(ConnId),
    Reply(oneshot::Sender<PostReply>),
}

enum Effect {
    None,
    Answer {
        act: usize,
        value: AnswerValue,
        text: Option<TextItem>,
        /// The profile the answer was given under, where it counts for good.
        under: Under,
    },
    Question(Question),
    Vote(usize),
    Card(CardItem),
    End(Option<oneshot::Sender<Result<(), String>>>),
}

/// A durable change on its way to disk.
struct Pending {
    attendee: Option<usize>,
    msg: Option<u64>,
    reply: Reply,
    /// Who is told: the origin, then any that sent the same message again meanwhile.
    target: Origin,
    more_targets: Vec<Origin>,
    effect: Effect,
}

/// What a pending write's origins are told once it is committed, or once it cannot be.
enum Reply {
    /// An attendee's message: `ack` with its id, or `error unavailable`. Built only when
    /// sent, since nearly every write succeeds.
    Ack(String),
    /// Both frames, built up front (host commands and the event's end; rare).
    Frames { ok: Frame, err: Frame },
}

impl Reply {
    fn ok(&self) -> Frame {
        match self {
            Reply::Ack(id) => server::ack(id),
            Reply::Frames { ok, .. } => ok.clone(),
        }
    }

    fn err(&self) -> Frame {
        match self {
            Reply::Ack(id) => server::error(
                Some(&Value::from(id.as_str())),
                ErrorCode::Unavailable,
                "the server could not store this right now; it was not saved, send it again",
            ),
            Reply::Frames { err, .. } => err.clone(),
        }
    }
}

struct AttendeeConn {
    sink: ConnSink,
    attendee: Option<usize>,
}

/// A profile change, resolved against the event: `None` leaves a field as it is.
#[derive(Default)]
struct ProfileChange {
    organisation: Option<Option<String>>,
    sector: Option<Option<String>>,
    room: Option<Option<String>>,
}

struct Actor {
    info: Arc<EventInfo>,
    writer: WriterHandle,
    commit_tx: CommitSender,
    s: EventState,
    attendee_conns: NumMap<ConnId, AttendeeConn>,
    /// The connections each attendee is bound to (usually one), so sending to one attendee
    /// never walks every connection.
    conns_of: NumMap<usize, Vec<ConnId>>,
    hosts: NumMap<ConnId, ConnSink>,
    presenters: NumMap<ConnId, ConnSink>,
    pending: BySeq<Pending>,
    /// (attendee, message id hash) of changes not yet committed, to their pending number.
    inflight: NumMap<(usize, u64), u64>,
    next_seq: u64,
    next_item_seq: i64,
    /// Each attendee's message allowance, whatever the transport ([`super::allowance`]);
    /// only for attendees who have sent something since the event was loaded.
    allowances: NumMap<usize, Allowance>,
    /// Questions each attendee has asked that are still on their way to disk: they count
    /// toward the attendee's open questions as soon as they are sent.
    asking: NumMap<usize, u32>,
    /// The session of the activity the host last opened or focused; `None` until then (and
    /// after a restart, until the host next does), or in an event without activities.
    current_session: Option<String>,
    /// The first item number of the current session: an attendee's open questions count
    /// toward the cap from here on.
    session_from_seq: i64,
    /// The last `questions` frame sent to attendees, so an unchanged one is not sent again.
    questions_sent: Frame,
    dirty_tallies: BTreeSet<usize>,
    /// When each activity's tally last went to the hosts.
    tally_sent: Vec<Option<Instant>>,
    /// When the next of the dirty tallies may go (see [`TICK`]).
    tally_due: Option<Instant>,
    dirty_results: BTreeSet<usize>,
    dirty_questions: BTreeSet<usize>,
    attendance_dirty: bool,
    questions_dirty: bool,
    /// The focused text activity's wall may have changed (see [`Actor::wall_frame`]).
    wall_dirty: bool,
    directory_dirty: bool,
    /// The directory goes to attendees again no earlier than this ([`broadcast_gap`]).
    directory_next: Instant,
    /// Each activity's results go to attendees again no earlier than this.
    results_next: Vec<Instant>,
    minute_peak: u64,
    sample_due: bool,
    /// The highest peak sent to disk: a higher one goes at the next tick.
    peak_stored: u64,
    ticks: u64,
    /// Reactions of the last minute, in memory only ([`super::reactions`]).
    reactions: Reactions,
}

impl Actor {
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
        let mut shutdown: Option<(oneshot::Sender<()>, tokio::time::Instant)> = None;
        let mut idle_ticks: u32 = 0;
        let mut commands = Vec::with_capacity(COMMANDS_PER_TURN);
        // One timer for the tallies held back by the rate limit, moved only when their
        // time changes.
        let tallies = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(tallies);
        let mut tallies_at = None;
        loop {
            if self.tally_due != tallies_at {
                tallies_at = self.tally_due;
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
                    self.on_tick();
                    if self.is_idle() {
                        idle_ticks += 1;
                    } else {
                        idle_ticks = 0;
                    }
                    if idle_ticks * TICK >= idle_unload {
                        // Leave the registry first: a connection arriving now loads a fresh
                        // actor from the database instead of finding this one gone.
                        forget();
                        rx.close();
                        while let Some(command) = rx.recv().await {
                            self.on_command(command).await;
                        }
                        // Whatever arrived in the meantime is committed and acknowledged,
                        // then its connections are sent to the fresh actor with 1012.
                        let deadline = tokio::time::Instant::now() + DRAIN_FOR;
                        while !self.pending.is_empty() {
                            match tokio::time::timeout_at(deadline, commits.recv()).await {
                                Ok(Some(committed)) => self.on_committed(committed),
                                _ => break,
                            }
                        }
                        self.send_tallies(Instant::now(), true);
                        self.on_tick();
                        if self.sample_due {
                            let sample = self.presence_sample();
                            self.write_behind(vec![sample]).await;
                        }
                        self.close_everyone(CloseCode::Restarting);
                        info!(event = %self.info.code, "idle event unloaded");
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
                                shutdown = Some((done, tokio::time::Instant::now() + DRAIN_FOR));
                            }
                            command => self.on_command(command).await,
                        }
                    }
                }
            }
            // Whatever this turn changed (a commit applied, a profile moved a pledge): the
            // tallies that may go now go now.
            if !self.dirty_tallies.is_empty() {
                self.send_tallies(Instant::now(), false);
            }
            if let Some((_, deadline)) = &shutdown
                && (self.pending.is_empty() || tokio::time::Instant::now() >= *deadline)
            {
                if !self.pending.is_empty() {
                    warn!(
                        pending = self.pending.len(),
                        "closing with writes still in flight"
                    );
                }
                self.send_tallies(Instant::now(), true);
                self.on_tick();
                if self.sample_due || self.s.present > 0 {
                    let sample = self.presence_sample();
                    self.write_behind(vec![sample]).await;
                }
                self.close_everyone(CloseCode::Restarting);
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
            Command::Connect { conn, role, sink } => self.on_connect(conn, role, sink),
            Command::Disconnect { conn } => self.drop_conn(conn),
            Command::Client { conn, msg, at } => {
                let Some(attendee) = self.attendee_conns.get(&conn).map(|c| c.attendee) else {
                    return;
                };
                self.on_client(Origin::Conn(conn), Some(conn), attendee, msg, at)
                    .await;
            }
            Command::Host { conn, msg } => {
                if self.hosts.contains_key(&conn) {
                    self.on_host(conn, msg).await;
                }
            }
            Command::Post {
                token,
                msg,
                reply,
                at,
            } => {
                let attendee = token
                    .as_deref()
                    .and_then(|t| self.s.by_token.get(&token::hash_token(t)).copied());
                let msg = match (msg, token) {
                    // A POSTed hello without a token in its body resumes the cookie's attendee.
                    (
                        ClientMsg::Hello {
                            attendee: None,
                            organisation,
                            sector,
                            room,
                        },
                        Some(t),
                    ) => ClientMsg::Hello {
                        attendee: Some(t),
                        organisation,
                        sector,
                        room,
                    },
                    (msg, _) => msg,
                };
                self.on_client(Origin::Reply(reply), None, attendee, msg, at)
                    .await;
            }
            Command::Stream {
                conn,
                token,
                sink,
                reply,
            } => {
                let attendee = self.s.by_token.get(&token::hash_token(&token)).copied();
                let Some(attendee) = attendee.filter(|_| !self.s.ended) else {
                    let _ = reply.send(StreamOpen::Unknown);
                    return;
                };
                // A stream opened is a resume: its `welcome` costs what a `hello` does, from
                // the same allowance, or one token could have welcomes built without end.
                let now = Instant::now();
                if !self.allowed(attendee, now) {
                    let _ = reply.send(StreamOpen::TooMany);
                    return;
                }
                let _ = reply.send(StreamOpen::Opened);
                self.attendee_conns.insert(
                    conn,
                    AttendeeConn {
                        sink,
                        attendee: None,
                    },
                );
                METRICS.attendee_connections.fetch_add(1, Relaxed);
                self.bind(conn, attendee);
                let welcome = self.welcome(attendee, &token);
                self.send_to(conn, welcome);
            }
            Command::End { reply } => self.end(None, Some(reply)).await,
            Command::NodeGone { node } => self.drop_node(node),
            Command::Shutdown { .. } => {}
        }
    }

    // ---------------------------------------------------------------- connections

    /// Nobody connected, nothing on its way to disk, nothing left to push.
    fn is_idle(&self) -> bool {
        self.attendee_conns.is_empty()
            && self.hosts.is_empty()
            && self.presenters.is_empty()
            && self.pending.is_empty()
            && self.dirty_tallies.is_empty()
            && self.dirty_results.is_empty()
    }

    fn on_connect(&mut self, conn: ConnId, role: Role, sink: ConnSink) {
        match role {
            Role::Attendee => {
                if self.s.ended {
                    let _ = sink.send(server::error(
                        None,
                        ErrorCode::EventEnded,
                        "this event has ended",
                    ));
                    sink.close(CloseCode::EventEnded);
                    return;
                }
                METRICS.attendee_connections.fetch_add(1, Relaxed);
                self.attendee_conns.insert(
                    conn,
                    AttendeeConn {
                        sink,
                        attendee: None,
                    },
                );
            }
            Role::Host => {
                METRICS.host_connections.fetch_add(1, Relaxed);
                if sink.send(self.host_snapshot()) && sink.send(self.reactions.frame()) {
                    self.hosts.insert(conn, sink);
                }
            }
            Role::Presenter => {
                METRICS.host_connections.fetch_add(1, Relaxed);
                if sink.send(self.presenter_snapshot()) {
                    if let Some(wall) = self.wall_frame() {
                        let _ = sink.send(wall);
                    }
                    if self.reactions.shown() {
                        let _ = sink.send(self.reactions.presenter_frame());
                    }
                    self.presenters.insert(conn, sink);
                }
            }
        }
    }

    /// Forgets a connection (closed by its client, or dropped for being too slow).
    fn drop_conn(&mut self, conn: ConnId) {
        if let Some(c) = self.attendee_conns.remove(&conn) {
            METRICS.attendee_connections.fetch_sub(1, Relaxed);
            if let Some(attendee) = c.attendee {
                self.unbind(conn, attendee);
            }
        } else if self.hosts.remove(&conn).is_some() || self.presenters.remove(&conn).is_some() {
            METRICS.host_connections.fetch_sub(1, Relaxed);
        }
    }

    /// Closes (1012) and forgets every connection relayed by cluster node `node`.
    fn drop_node(&mut self, node: u32) {
        let conns: Vec<ConnId> = self
            .attendee_conns
            .keys()
            .chain(self.hosts.keys())
            .chain(self.presenters.keys())
            .copied()
            .filter(|conn| conn.node() == node)
            .collect();
        if !conns.is_empty() {
            info!(
                node,
                conns = conns.len(),
                "dropping the connections of a cluster node"
            );
        }
        for conn in conns {
            self.close_conn(conn, CloseCode::Restarting);
        }
    }

    fn bind(&mut self, conn: ConnId, attendee: usize) {
        let Some(c) = self.attendee_conns.get_mut(&conn) else {
            return;
        };
        if c.attendee == Some(attendee) {
            return;
        }
        let previous = c.attendee.replace(attendee);
        if let Some(previous) = previous {
            self.unbind(conn, previous);
        }
        self.conns_of.entry(attendee).or_default().push(conn);
        let a = &mut self.s.attendees[attendee];
        a.conns += 1;
        if a.conns == 1 {
            self.s.present += 1;
            self.s.peak = self.s.peak.max(self.s.present);
            self.minute_peak = self.minute_peak.max(self.s.present);
            self.attendance_dirty = true;
            self.sample_due = true;
        }
    }

    fn unbind(&mut self, conn: ConnId, attendee: usize) {
        if let Some(conns) = self.conns_of.get_mut(&attendee) {
            conns.retain(|c| *c != conn);
            if conns.is_empty() {
                self.conns_of.remove(&attendee);
            }
        }
        let a = &mut self.s.attendees[attendee];
        a.conns = a.conns.saturating_sub(1);
        if a.conns == 0 {
            self.s.present = self.s.present.saturating_sub(1);
            self.attendance_dirty = true;
            self.sample_due = true;
        }
    }

    /// Sends to one connection of any role; a connection that cannot keep up is dropped.
    fn send_to(&mut self, conn: ConnId, frame: Frame) {
        self.deliver(conn, frame, ConnSink::send);
    }

    /// Sends a reply to what `conn` sent, written at once when its transport allows
    /// ([`ConnSink::reply`]).
    fn reply_to(&mut self, conn: ConnId, frame: Frame) {
        self.deliver(conn, frame, ConnSink::reply);
    }

    fn deliver(&mut self, conn: ConnId, frame: Frame, send: fn(&ConnSink, Frame) -> bool) {
        let sink = if let Some(c) = self.attendee_conns.get(&conn) {
            &c.sink
        } else if let Some(sink) = self.hosts.get(&conn).or_else(|| self.presenters.get(&conn)) {
            sink
        } else {
            return;
        };
        if !send(sink, frame) {
            self.drop_conn(conn);
        }
    }

    fn respond(&mut self, origin: Origin, frame: Frame) {
        match origin {
            Origin::Conn(conn) => self.reply_to(conn, frame),
            Origin::Reply(reply) => {
                let _ = reply.send(PostReply { frame, token: None });
            }
        }
    }

    fn reject(&mut self, origin: Origin, id: Option<&str>, code: ErrorCode, message: &str) {
        METRICS.client_errors.fetch_add(1, Relaxed);
        self.respond(origin, server::error(id_value(id).as_ref(), code, message));
    }

    /// Sends a frame to every attendee connection for which `to` holds, in the order the
    /// connections were opened (each connection's task then writes in that order).
    ///
    /// In the hash table's order the same broadcast to 19,000 phones took about half as long
    /// again, nearly all of it in the kernel's `sendto` (BENCHMARKS.md): in
    /// this order the sockets' kernel structures are visited as they were allocated.
    fn send_attendees(&mut self, frame: &Frame, to: impl Fn(&EventState, usize) -> bool) {
        let mut targets: Vec<(ConnId, &ConnSink)> = self
            .attendee_conns
            .iter()
            .filter(|(_, c)| c.attendee.is_some_and(|a| to(&self.s, a)))
            .map(|(conn, c)| (*conn, &c.sink))
            .collect();
        targets.sort_unstable_by_key(|(conn, _)| *conn);
        let mut dropped = Vec::new();
        for (conn, sink) in targets {
            if !sink.send(frame.clone()) {
                dropped.push(conn);
            }
        }
        for conn in dropped {
            self.drop_conn(conn);
        }
    }

    /// Sends to the connections of one attendee.
    fn send_attendee(&mut self, attendee: usize, frame: &Frame) {
        let conns = self.conns_of.get(&attendee).cloned().unwrap_or_default();
        for conn in conns {
            self.send_to(conn, frame.clone());
        }
    }

    fn send_hosts(&mut self, frame: &Frame) {
        let dropped: Vec<ConnId> = self
            .hosts
            .iter()
            .filter(|(_, sink)| !sink.send(frame.clone()))
            .map(|(conn, _)| *conn)
            .collect();
        for conn in dropped {
            self.drop_conn(conn);
        }
    }

    fn send_presenters(&mut self, frame: &Frame) {
        let dropped: Vec<ConnId> = self
            .presenters
            .iter()
            .filter(|(_, sink)| !sink.send(frame.clone()))
            .map(|(conn, _)| *conn)
            .collect();
        for conn in dropped {
            self.drop_conn(conn);
        }
    }

    fn close_everyone(&mut self, code: CloseCode) {
        self.conns_of.clear();
        for (_, c) in self.attendee_conns.drain() {
            c.sink.close(code);
            METRICS.attendee_connections.fetch_sub(1, Relaxed);
        }
        for (_, sink) in self.hosts.drain().chain(self.presenters.drain()) {
            sink.close(code);
            METRICS.host_connections.fetch_sub(1, Relaxed);
        }
    }

    // ---------------------------------------------------------------- writes

    /// Hands `writes` to the storage writer; `effect` applies and `reply`'s `ok` goes to
    /// `origin` once they are committed, its `err` if they cannot be.
    async fn submit(
        &mut self,
        origin: Origin,
        attendee: Option<usize>,
        msg: Option<u64>,
        writes: Vec<Write>,
        effect: Effect,
        reply: Reply,
    ) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let ticket = Ticket {
            reply: self.commit_tx.clone(),
            seq,
        };
        if self.writer.submit(writes, Some(ticket)).await.is_err() {
            self.asked(attendee, &effect);
            METRICS.client_errors.fetch_add(1, Relaxed);
            self.respond(origin, reply.err());
            if let Effect::End(Some(reply)) = effect {
                let _ = reply.send(Err("storage unavailable".into()));
            }
            return;
        }
        if let (Some(attendee), Some(msg)) = (attendee, msg) {
            self.inflight.insert((attendee, msg), seq);
        }
        if let Effect::Answer { act, .. } = &effect {
            *self.s.answers_in_flight.entry(*act).or_insert(0) += 1;
        }
        self.pending.insert(
            seq,
            Pending {
                attendee,
                msg,
                reply,
                target: origin,
                more_targets: Vec::new(),
                effect,
            },
        );
    }

    /// [`Actor::submit`] for an attendee's message with an id: `ack` once stored, or
    /// `error unavailable` if it cannot be.
    async fn submit_acked(
        &mut self,
        origin: Origin,
        attendee: usize,
        id: String,
        writes: Vec<Write>,
        effect: Effect,
    ) {
        self.submit(
            origin,
            Some(attendee),
            Some(msg_hash(&id)),
            writes,
            effect,
            Reply::Ack(id),
        )
        .await;
    }

    /// Writes that need no acknowledgement (profile and presence bookkeeping).
    async fn write_behind(&mut self, writes: Vec<Write>) {
        if let Err(e) = self.writer.submit(writes, None).await {
            warn!(error = %e, "could not queue a write");
        }
    }

    /// A message id already seen is acknowledged again and has no further effect; one still
    /// in flight is acknowledged with the first. `Some` gives the origin back for a new id.
    fn dedupe(&mut self, attendee: usize, id: &str, origin: Origin) -> Option<Origin> {
        let hash = msg_hash(id);
        if self.s.attendees[attendee].seen.contains(&hash) {
            self.respond(origin, server::ack(id));
            return None;
        }
        if let Some(pending) = self
            .inflight
            .get(&(attendee, hash))
            .and_then(|&seq| self.pending.get_mut(seq))
        {
            pending.more_targets.push(origin);
            return None;
        }
        Some(origin)
    }

    /// A question of `attendee`'s has been stored, or could not be.
    fn asked(&mut self, attendee: Option<usize>, effect: &Effect) {
        if let (Some(attendee), Effect::Question(_)) = (attendee, effect)
            && let Some(n) = self.asking.get_mut(&attendee)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.asking.remove(&attendee);
            }
        }
    }

    /// An answer to `effect`'s activity has been stored, or could not be: once none is left
    /// on its way, a closed activity's breakdown may go to the hosts.
    fn answer_settled(&mut self, effect: &Effect) {
        if let Effect::Answer { act, .. } = effect
            && let Some(n) = self.s.answers_in_flight.get_mut(act)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.s.answers_in_flight.remove(act);
                self.dirty_tallies.insert(*act);
            }
        }
    }

    /// `attendee`'s open questions (waiting for the host, or shown and not yet answered)
    /// asked in the current session, those still on their way to disk included.
    fn open_questions(&self, attendee: usize) -> usize {
        let stored = self.s.asked_by.get(&attendee).map_or(0, |asked| {
            asked
                .iter()
                .map(|&q| &self.s.questions[q])
                .filter(|q| {
                    q.seq >= self.session_from_seq
                        && matches!(q.state, ItemState::Pending | ItemState::Approved)
                })
                .count()
        });
        stored + self.asking.get(&attendee).copied().unwrap_or(0) as usize
    }

    /// The host opened or focused an activity of `act`'s session: when that is another
    /// session than before, attendees' earlier questions stop counting toward their cap.
    fn session_of(&mut self, act: usize) {
        let session = &self.info.event.activities[act].session;
        if self.current_session.as_ref() != Some(session) {
            self.current_session = Some(session.clone());
            self.session_from_seq = self.next_item_seq;
        }
    }

    fn on_committed(&mut self, committed: Committed) {
        for seq in committed.ok {
            let Some(pending) = self.pending.remove(seq) else {
                continue;
            };
            self.asked(pending.attendee, &pending.effect);
            self.answer_settled(&pending.effect);
            if let (Some(attendee), Some(msg)) = (pending.attendee, pending.msg) {
                self.s.attendees[attendee].seen.insert(msg);
                self.inflight.remove(&(attendee, msg));
            }
            self.apply(pending.attendee, pending.effect);
            let ok = pending.reply.ok();
            for target in pending.more_targets {
                self.respond(target, ok.clone());
            }
            self.respond(pending.target, ok);
        }
        for seq in committed.failed {
            let Some(pending) = self.pending.remove(seq) else {
                continue;
            };
            self.asked(pending.attendee, &pending.effect);
            self.answer_settled(&pending.effect);
            if let (Some(attendee), Some(msg)) = (pending.attendee, pending.msg) {
                self.inflight.remove(&(attendee, msg));
            }
            if let Effect::End(Some(reply)) = pending.effect {
                let _ = reply.send(Err("the event's end could not be stored".into()));
            }
            let err = pending.reply.err();
            for target in pending.more_targets {
                METRICS.client_errors.fetch_add(1, Relaxed);
                self.respond(target, err.clone());
            }
            METRICS.client_errors.fetch_add(1, Relaxed);
            self.respond(pending.target, err);
        }
    }

    /// Applies a committed change to the live state.
    fn apply(&mut self, attendee: Option<usize>, effect: Effect) {
        match effect {
            Effect::None => {}
            Effect::Answer {
                act,
                value,
                text,
                under,
            } => {
                let Some(attendee) = attendee else { return };
                METRICS.answers_acked.fetch_add(1, Relaxed);
                self.s.answered_under.insert((attendee, act), under);
                let a = &mut self.s.attendees[attendee];
                let organisation = a.organisation.clone();
                let old = a.answers.insert(act, value.clone());
                if self.s.activities[act].state != ActState::Open {
                    // Stored after its activity closed: a closed breakdown changes.
                    self.s.breakdown_generation += 1;
                }
                let tally = &mut self.s.activities[act].tally;
                if let Some(old) = &old {
                    tally.remove(old, organisation.as_deref());
                }
                tally.add(&value, organisation.as_deref());
                self.dirty_tallies.insert(act);
                if self.s.activities[act].revealed {
                    self.dirty_results.insert(act);
                }
                if let Some(item) = text {
                    self.wall_dirty |= self.s.focus == Some(act);
                    let (slot, replaces) = self.s.add_text(item);
                    let frame = server::text(&self.s.text_view(
                        &self.info.event,
                        &self.s.texts[slot],
                        replaces.as_deref(),
                    ));
                    self.send_hosts(&frame);
                }
            }
            Effect::Question(question) => {
                let visible = question.state.visible();
                let frame = server::question(question.host_view());
                self.s
                    .question_index
                    .insert(question.id.clone(), self.s.questions.len());
                if let Some(attendee) = attendee {
                    self.s
                        .asked_by
                        .entry(attendee)
                        .or_default()
                        .push(self.s.questions.len());
                }
                self.s.questions.push(question);
                self.send_hosts(&frame);
                self.questions_dirty |= visible;
            }
            Effect::Vote(question) => {
                let Some(attendee) = attendee else { return };
                if self.s.attendees[attendee].voted.insert(question) {
                    self.s.questions[question].votes += 1;
                    self.dirty_questions.insert(question);
                    self.questions_dirty |= self.s.questions[question].state.visible();
                }
            }
            Effect::Card(item) => {
                let Some(attendee) = attendee else { return };
                let frame = server::card(item.host_view());
                let was_visible = self
                    .s
                    .card_of
                    .get(&attendee)
                    .is_some_and(|&i| self.s.cards[i].state.visible());
                self.directory_dirty |= was_visible || item.state.visible();
                self.s.put_card(attendee, item);
                self.send_hosts(&frame);
            }
            Effect::End(reply) => {
                if let Some(reply) = reply {
                    let _ = reply.send(Ok(()));
                }
            }
        }
    }

    // ---------------------------------------------------------------- attendees

    async fn on_client(
        &mut self,
        origin: Origin,
        conn: Option<ConnId>,
        attendee: Option<usize>,
        msg: ClientMsg,
        at: Instant,
    ) {
        if self.s.ended {
            self.reject(
                origin,
                msg.id(),
                ErrorCode::EventEnded,
                "this event has ended",
            );
            if let Some(conn) = conn {
                self.close_conn(conn, CloseCode::EventEnded);
            }
            return;
        }
        if let ClientMsg::Hello {
            attendee: token,
            organisation,
            sector,
            room,
        } = msg
        {
            self.on_hello(origin, conn, token, organisation, sector, room, at)
                .await;
            return;
        }
        let Some(attendee) = attendee else {
            self.reject(origin, msg.id(), ErrorCode::NotJoined, "send hello first");
            return;
        };
        if !self.allowed(attendee, at) {
            return self.reject(
                origin,
                msg.id(),
                ErrorCode::RateLimited,
                "too many messages from this attendee; slow down and send again",
            );
        }
        match msg {
            ClientMsg::Hello { .. } => {}
            ClientMsg::Profile {
                id,
                organisation,
                sector,
                room,
            } => {
                let change = match self.resolve_profile(
                    organisation.as_deref(),
                    sector.as_deref(),
                    room.as_deref(),
                ) {
                    Ok(change) => change,
                    Err((code, message)) => {
                        return self.reject(origin, id.as_deref(), code, &message);
                    }
                };
                let origin = match &id {
                    Some(id) => match self.dedupe(attendee, id, origin) {
                        Some(origin) => origin,
                        None => return,
                    },
                    None => origin,
                };
                let mut writes = self.apply_profile(attendee, change);
                match id {
                    Some(id) => {
                        writes.push(self.receipt(attendee, &id));
                        self.submit_acked(origin, attendee, id, writes, Effect::None)
                            .await;
                    }
                    None => self.write_behind(writes).await,
                }
            }
            ClientMsg::Answer {
                id,
                activity,
                value,
            } => self.on_answer(origin, attendee, id, activity, value).await,
            ClientMsg::Ask { id, text } => {
                if !self.info.event.spec.qa.enabled {
                    return self.reject(
                        origin,
                        Some(&id),
                        ErrorCode::NotAvailable,
                        "Q&A is turned off for this event",
                    );
                }
                let text = names::tidy(&text);
                let len = text.chars().count();
                if len == 0 || len > MAX_QUESTION {
                    let message =
                        format!("a question is 1 to {MAX_QUESTION} characters, not {len}");
                    return self.reject(origin, Some(&id), ErrorCode::InvalidValue, &message);
                }
                let Some(origin) = self.dedupe(attendee, &id, origin) else {
                    return;
                };
                let most = self.info.event.spec.qa.max_open_questions as usize;
                if self.open_questions(attendee) >= most {
                    let message = format!(
                        "you already have {most} open questions in this session; ask again once the host has answered or removed one"
                    );
                    return self.reject(origin, Some(&id), ErrorCode::LimitReached, &message);
                }
                *self.asking.entry(attendee).or_insert(0) += 1;
                let question = Question {
                    id: token::new_item_id(),
                    seq: self.item_seq(),
                    flagged: moderation::is_flagged(&text),
                    state: ItemState::initial(self.info.event.spec.qa.moderation),
                    text,
                    votes: 0,
                };
                let writes = vec![
                    Write::Question {
                        event: self.info.code,
                        id: question.id.clone(),
                        seq: question.seq,
                        attendee: self.s.attendees[attendee].id,
                        text: question.text.clone(),
                        state: question.state.as_str(),
                        flagged: question.flagged,
                    },
                    self.receipt(attendee, &id),
                ];
                self.submit_acked(origin, attendee, id, writes, Effect::Question(question))
                    .await;
            }
            ClientMsg::Upvote { id, question } => {
                if !self.info.event.spec.qa.enabled {
                    return self.reject(
                        origin,
                        Some(&id),
                        ErrorCode::NotAvailable,
                        "Q&A is turned off for this event",
                    );
                }
                let Some(&q) = self
                    .s
                    .question_index
                    .get(&question)
                    .filter(|&&q| self.s.questions[q].state.visible())
                else {
                    let message = format!("no question {question:?} to upvote");
                    return self.reject(origin, Some(&id), ErrorCode::InvalidValue, &message);
                };
                let Some(origin) = self.dedupe(attendee, &id, origin) else {
                    return;
                };
                let mut writes = vec![self.receipt(attendee, &id)];
                if !self.s.attendees[attendee].voted.contains(&q) {
                    writes.push(Write::Vote {
                        event: self.info.code,
                        question,
                        attendee: self.s.attendees[attendee].id,
                    });
                }
                self.submit_acked(origin, attendee, id, writes, Effect::Vote(q))
                    .await;
            }
            ClientMsg::React { id, reaction } => {
                match self.reactions.react(attendee, &reaction, Instant::now()) {
                    Ok(()) => {
                        if let Some(id) = id {
                            self.respond(origin, server::ack(&id));
                        }
                    }
                    Err((code, message)) => self.reject(origin, id.as_deref(), code, &message),
                }
            }
            ClientMsg::Card { id, card } => {
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
                let item = CardItem {
                    id: token::new_item_id(),
                    seq: self.item_seq(),
                    flagged: moderation::is_flagged(&card.all_text()),
                    state: ItemState::initial(self.info.event.spec.qa.moderation),
                    card,
                };
                let writes = vec![
                    Write::Card {
                        event: self.info.code,
                        attendee: self.s.attendees[attendee].id,
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
        }
    }

    async fn on_answer(
        &mut self,
        origin: Origin,
        attendee: usize,
        id: String,
        activity: String,
        value: Value,
    ) {
        let Some(origin) = self.dedupe(attendee, &id, origin) else {
            return;
        };
        let event = &self.info.event;
        let Some(&act) = event.index.get(&activity) else {
            let message = format!("this event has no activity {activity:?}");
            return self.reject(origin, Some(&id), ErrorCode::UnknownActivity, &message);
        };
        let definition = &event.activities[act];
        if !self.s.can_see(attendee, definition) {
            let message = format!(
                "activity {activity:?} belongs to {}, and you are not in that room",
                definition.room.as_deref().unwrap_or("another room")
            );
            return self.reject(origin, Some(&id), ErrorCode::UnknownActivity, &message);
        }
        let state = self.s.activities[act].state;
        if state != ActState::Open {
            let message = format!("activity {activity:?} is {}, not open", state.as_str());
            return self.reject(origin, Some(&id), ErrorCode::ActivityClosed, &message);
        }
        let value = match AnswerValue::parse(&definition.kind, &value) {
            Ok(value) => value,
            Err(message) => {
                return self.reject(origin, Some(&id), ErrorCode::InvalidValue, &message);
            }
        };
        let text = match (&definition.kind, &value) {
            (ActivityKind::Text { .. }, AnswerValue::Text(t)) => Some(TextItem {
                id: token::new_item_id(),
                attendee,
                activity: act,
                state: ItemState::initial(event.spec.qa.moderation),
                flagged: moderation::is_flagged(t),
                arrived: 0,
            }),
            _ => None,
        };
        let who = &self.s.attendees[attendee];
        let under = Under {
            organisation: who.organisation.clone(),
            sector: who.sector.clone(),
        };
        let writes = vec![Write::Answer {
            event: self.info.code,
            attendee: who.id,
            activity,
            value: value.to_json_text(),
            item: text.as_ref().map(|t| t.id.clone()),
            state: text.as_ref().map(|t| t.state.as_str()),
            flagged: text.as_ref().is_some_and(|t| t.flagged),
            msg: id.clone(),
            organisation: under.organisation.clone(),
            sector: under.sector.clone(),
        }];
        let effect = Effect::Answer {
            act,
            value,
            text,
            under,
        };
        self.submit_acked(origin, attendee, id, writes, effect)
            .await;
    }

    /// Takes one message sent at `at` from `attendee`'s allowance: `false` when it has none
    /// left ([`super::allowance`]).
    fn allowed(&mut self, attendee: usize, at: Instant) -> bool {
        let now = Instant::now();
        self.allowances
            .entry(attendee)
            .or_insert_with(|| Allowance::new(now))
            .take(at, now)
    }

    #[expect(clippy::too_many_arguments, reason = "a hello's fields, as decoded")]
    async fn on_hello(
        &mut self,
        origin: Origin,
        conn: Option<ConnId>,
        token: Option<String>,
        organisation: Option<String>,
        sector: Option<String>,
        room: Option<String>,
        at: Instant,
    ) {
        let change =
            match self.resolve_profile(organisation.as_deref(), sector.as_deref(), room.as_deref())
            {
                Ok(change) => change,
                Err((code, message)) => {
                    return self.reject(origin, None, code, &message);
                }
            };
        let known = token
            .as_deref()
            .and_then(|t| self.s.by_token.get(&token::hash_token(t)).copied());
        // One attendee per connection: a socket that has joined may say hello again only
        // as the same attendee (to resume, or change its profile), never start another.
        let bound = conn.and_then(|conn| self.attendee_conns.get(&conn).and_then(|c| c.attendee));
        if let Some(bound) = bound
            && known != Some(bound)
        {
            return self.reject(
                origin,
                None,
                ErrorCode::InvalidMessage,
                "this connection has already joined as an attendee; one connection is one attendee, so open a new connection to join as another",
            );
        }
        // A known attendee's hello (a resume, or a profile change written behind) takes from
        // its allowance like any message; a new attendee's counts against its address's
        // joins instead.
        if let Some(known) = known
            && !self.allowed(known, at)
        {
            return self.reject(
                origin,
                None,
                ErrorCode::RateLimited,
                "too many messages from this attendee; slow down and send again",
            );
        }
        let most = self.info.event.spec.max_attendees as usize;
        if known.is_none() && self.s.attendees.len() >= most {
            return self.reject(
                origin,
                None,
                ErrorCode::LimitReached,
                &format!("this event is full: it takes at most {most} attendees"),
            );
        }
        let (attendee, token, writes) = match (known, token) {
            (Some(attendee), Some(token)) => {
                let writes = self.apply_profile(attendee, change);
                (attendee, token, writes)
            }
            _ => {
                let token = token::new_token();
                let attendee = self.s.attendees.len();
                let token_hash = token::hash_token(&token);
                self.s.by_token.insert(token_hash.clone(), attendee);
                self.s.attendees.push(Attendee {
                    id: token::new_id(),
                    token_hash,
                    organisation: None,
                    sector: None,
                    room: None,
                    answers: NumMap::default(),
                    seen: Default::default(),
                    conns: 0,
                    voted: Default::default(),
                });
                self.s.count_profile(attendee, true);
                let mut writes = self.apply_profile(attendee, change);
                if writes.is_empty() {
                    writes.push(self.attendee_row(attendee));
                }
                self.attendance_dirty = true;
                self.sample_due = true;
                (attendee, token, writes)
            }
        };
        if !writes.is_empty() {
            self.write_behind(writes).await;
        }
        if let Some(conn) = conn {
            self.bind(conn, attendee);
        }
        let welcome = self.welcome(attendee, &token);
        match origin {
            Origin::Conn(conn) => self.send_to(conn, welcome),
            Origin::Reply(reply) => {
                let _ = reply.send(PostReply {
                    frame: welcome,
                    token: Some(token),
                });
            }
        }
    }

    /// Checks the organisation, sector and room an attendee chose against the event:
    /// `Err` with the error to send when they do not fit.
    fn resolve_profile(
        &self,
        organisation: Option<&str>,
        sector: Option<&str>,
        room: Option<&str>,
    ) -> Result<ProfileChange, (ErrorCode, String)> {
        let invalid = |message: String| (ErrorCode::InvalidValue, message);
        let event = &self.info.event;
        let mut change = ProfileChange::default();
        if let Some(typed) = organisation {
            let tidy = names::tidy(typed);
            if tidy.is_empty() {
                change.organisation = Some(None);
            } else if let Some(registered) = event.registered_organisation(&tidy) {
                change.organisation = Some(Some(registered.name.clone()));
                if sector.is_none() {
                    change.sector = Some(Some(registered.sector.clone()));
                }
            } else if !event.spec.allow_other_organisation {
                return Err(invalid(format!(
                    "{tidy:?} is not one of this event's organisations"
                )));
            } else if tidy.chars().count() > MAX_PROFILE_FIELD {
                return Err(invalid(format!(
                    "an organisation name is at most {MAX_PROFILE_FIELD} characters"
                )));
            } else {
                let known = self.s.other_organisations.get(&names::fold(&tidy)).cloned();
                let most = event.spec.max_other_organisations as usize;
                if known.is_none() && self.s.other_organisations.len() >= most {
                    return Err((
                        ErrorCode::LimitReached,
                        format!(
                            "this event already has {most} organisation names typed by attendees; choose one of the event's organisations or one already given"
                        ),
                    ));
                }
                change.organisation = Some(Some(known.unwrap_or(tidy)));
            }
        }
        if let Some(typed) = sector {
            let tidy = names::tidy(typed);
            if tidy.is_empty() {
                change.sector = Some(None);
            } else if let Some(known) = event.sector(&tidy) {
                change.sector = Some(Some(known.to_owned()));
            } else if event.spec.sectors.is_empty() && tidy.chars().count() <= MAX_PROFILE_FIELD {
                let known = self.s.other_sectors.get(&names::fold(&tidy)).cloned();
                let most = event.spec.max_other_sectors as usize;
                if known.is_none() && self.s.other_sectors.len() >= most {
                    return Err((
                        ErrorCode::LimitReached,
                        format!(
                            "this event already has {most} sector names typed by attendees; choose one already given"
                        ),
                    ));
                }
                change.sector = Some(Some(known.unwrap_or(tidy)));
            } else {
                return Err(invalid(format!(
                    "{tidy:?} is not one of this event's sectors: {}",
                    event.spec.sectors.join(", ")
                )));
            }
        }
        if let Some(room) = room {
            if room.is_empty() {
                change.room = Some(None);
            } else if event.has_room(room) {
                change.room = Some(Some(room.to_owned()));
            } else {
                return Err(invalid(format!(
                    "{room:?} is not a room of this event: {}",
                    event.rooms.join(", ")
                )));
            }
        }
        Ok(change)
    }

    /// Applies a resolved profile change at once: attendance counts, pledge signatures and,
    /// for a room change, `closed` and `opened` for the activities that leave or enter view.
    fn apply_profile(&mut self, attendee: usize, change: ProfileChange) -> Vec<Write> {
        let a = &self.s.attendees[attendee];
        let new_org = change
            .organisation
            .clone()
            .unwrap_or_else(|| a.organisation.clone());
        let new_sector = change.sector.clone().unwrap_or_else(|| a.sector.clone());
        let new_room = change.room.clone().unwrap_or_else(|| a.room.clone());
        if new_org == a.organisation && new_sector == a.sector && new_room == a.room {
            return Vec::new();
        }
        let old_org = a.organisation.clone();
        let old_room = a.room.clone();
        self.s.count_profile(attendee, false);
        {
            let a = &mut self.s.attendees[attendee];
            a.organisation = new_org.clone();
            a.sector = new_sector.clone();
            a.room = new_room.clone();
        }
        self.s.count_profile(attendee, true);
        self.attendance_dirty = true;
        if let Some(org) = &new_org
            && self.info.event.registered_organisation(org).is_none()
        {
            self.s
                .other_organisations
                .entry(names::fold(org))
                .or_insert_with(|| org.clone());
        }
        if let Some(sector) = &new_sector
            && self.info.event.sector(sector).is_none()
        {
            self.s
                .other_sectors
                .entry(names::fold(sector))
                .or_insert_with(|| sector.clone());
        }
        if old_org != new_org {
            // A pledge is signed on behalf of the signer's current organisation.
            for (act, value) in &self.s.attendees[attendee].answers {
                if matches!(value, AnswerValue::Pledge) {
                    let live = &mut self.s.activities[*act];
                    live.tally.remove(value, old_org.as_deref());
                    live.tally.add(value, new_org.as_deref());
                    self.dirty_tallies.insert(*act);
                    if live.revealed {
                        // Phones shown the signatures by organisation see the move too.
                        self.dirty_results.insert(*act);
                    }
                }
            }
        }
        if old_room != new_room {
            let info = Arc::clone(&self.info);
            let event = &info.event;
            for (act, definition) in event.activities.iter().enumerate() {
                let Some(room) = &definition.room else {
                    continue;
                };
                let live = &self.s.activities[act];
                if live.state != ActState::Open && !live.revealed {
                    continue;
                }
                if old_room.as_ref() == Some(room) && live.state == ActState::Open {
                    self.send_attendee(attendee, &server::closed(definition.key.as_str()));
                }
                if new_room.as_ref() == Some(room) {
                    let live = &self.s.activities[act];
                    let mut frames = Vec::new();
                    if live.state == ActState::Open {
                        frames.push(server::opened(&live.json));
                    }
                    if live.revealed {
                        frames.push(server::results(
                            definition.key.as_str(),
                            Some(&self.s.public_tally(act)),
                        ));
                    }
                    for frame in frames {
                        self.send_attendee(attendee, &frame);
                    }
                }
            }
        }
        vec![self.attendee_row(attendee)]
    }

    fn attendee_row(&self, attendee: usize) -> Write {
        let a = &self.s.attendees[attendee];
        Write::Attendee {
            event: self.info.code,
            id: a.id,
            token_hash: a.token_hash.clone(),
            organisation: a.organisation.clone(),
            sector: a.sector.clone(),
            room: a.room.clone(),
        }
    }

    fn receipt(&self, attendee: usize, id: &str) -> Write {
        Write::Receipt {
            event: self.info.code,
            attendee: self.s.attendees[attendee].id,
            msg: id.to_owned(),
        }
    }

    fn item_seq(&mut self) -> i64 {
        let seq = self.next_item_seq;
        self.next_item_seq += 1;
        seq
    }

    fn close_conn(&mut self, conn: ConnId, code: CloseCode) {
        if let Some(sink) = self
            .attendee_conns
            .get(&conn)
            .map(|c| &c.sink)
            .or_else(|| self.hosts.get(&conn))
            .or_else(|| self.presenters.get(&conn))
        {
            sink.close(code);
        }
        self.drop_conn(conn);
    }

    fn welcome(&self, attendee: usize, token: &str) -> Frame {
        let event = &self.info.event;
        let a = &self.s.attendees[attendee];
        let mut open = Vec::new();
        let mut results = BTreeMap::new();
        for (act, definition) in event.activities.iter().enumerate() {
            if !self.s.can_see(attendee, definition) {
                continue;
            }
            let live = &self.s.activities[act];
            if live.state == ActState::Open {
                open.push(&live.json);
            }
            if live.revealed {
                results.insert(definition.key.as_str(), self.s.public_tally(act));
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
            .map(|&q| self.s.questions[q].id.as_str())
            .collect();
        let (questions, questions_total) = if event.spec.qa.enabled {
            self.s.top_questions()
        } else {
            (Vec::new(), 0)
        };
        let directory = if event.spec.directory.enabled {
            self.s.visible_cards()
        } else {
            Vec::new()
        };
        let rest = server::Welcome {
            answers,
            directory,
            open,
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

    // ---------------------------------------------------------------- hosts

    fn activity_rows(&self, presenter: bool) -> Vec<ActivityRow<'_>> {
        let event = &self.info.event;
        event
            .activities
            .iter()
            .enumerate()
            .map(|(act, definition)| {
                let live = &self.s.activities[act];
                let tally = if !presenter {
                    Some(self.s.host_tally(event, act))
                } else if live.revealed {
                    Some(self.s.public_tally(act))
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
        self.s
            .focus
            .map(|f| self.info.event.activities[f].key.as_str())
    }

    fn host_snapshot(&self) -> Frame {
        let rest = server::HostSnapshot {
            activities: self.activity_rows(false),
            attendance: self.s.attendance(),
            cards: self.s.cards.iter().map(CardItem::host_view).collect(),
            focus: self.focus_key(),
            questions: self.s.questions.iter().map(Question::host_view).collect(),
            texts: self.s.current_texts(&self.info.event),
        };
        server::snapshot(self.s.ended, &self.info.event_json, &rest)
    }

    fn presenter_snapshot(&self) -> Frame {
        let (questions, questions_total) = self.s.top_questions();
        let rest = server::PresenterSnapshot {
            activities: self.activity_rows(true),
            attendance: self.s.presenter_attendance(),
            focus: self.focus_key(),
            questions,
            questions_total,
        };
        server::snapshot(self.s.ended, &self.info.event_json, &rest)
    }

    async fn on_host(&mut self, conn: ConnId, msg: HostMsg) {
        let id = msg.id().cloned();
        let for_type = msg.type_name();
        let ok = server::ok(for_type, id.as_ref());
        let err = server::error(
            id.as_ref(),
            ErrorCode::Unavailable,
            "the change could not be stored; try again",
        );
        let fail = |code: ErrorCode, message: &str| server::error(id.as_ref(), code, message);
        if self.s.ended && !matches!(msg, HostMsg::Auth { .. } | HostMsg::Focus { .. }) {
            let frame = fail(ErrorCode::EventEnded, "this event has ended");
            return self.send_to(conn, frame);
        }
        let info = Arc::clone(&self.info);
        let event = &info.event;
        let find = |key: &str| event.index.get(key).copied();
        let writes = match msg {
            HostMsg::Auth { .. } => return self.send_to(conn, ok),
            HostMsg::Open { activity, .. } | HostMsg::Close { activity, .. } => {
                let Some(act) = find(&activity) else {
                    let frame = fail(
                        ErrorCode::UnknownActivity,
                        &format!("this event has no activity {activity:?}"),
                    );
                    return self.send_to(conn, frame);
                };
                let target = if for_type == "open" {
                    ActState::Open
                } else {
                    ActState::Closed
                };
                self.set_state(act, target)
            }
            HostMsg::Reveal { activity, show, .. } => {
                let Some(act) = find(&activity) else {
                    let frame = fail(
                        ErrorCode::UnknownActivity,
                        &format!("this event has no activity {activity:?}"),
                    );
                    return self.send_to(conn, frame);
                };
                self.set_revealed(act, show)
            }
            HostMsg::Focus { activity, .. } => {
                let focus = match activity {
                    None => None,
                    Some(key) => match find(&key) {
                        Some(act) => Some(act),
                        None => {
                            let frame = fail(
                                ErrorCode::UnknownActivity,
                                &format!("this event has no activity {key:?}"),
                            );
                            return self.send_to(conn, frame);
                        }
                    },
                };
                self.set_focus(focus)
            }
            HostMsg::Moderate {
                item,
                target,
                targets,
                action,
                ..
            } => {
                let targets = match (target, targets) {
                    (Some(target), None) => vec![target],
                    (None, Some(targets)) if (1..=MAX_BATCH).contains(&targets.len()) => targets,
                    _ => {
                        let frame = fail(
                            ErrorCode::InvalidMessage,
                            &format!(
                                "moderate names one item in \"target\", or 1 to {MAX_BATCH} in \"targets\""
                            ),
                        );
                        return self.send_to(conn, frame);
                    }
                };
                // All or nothing: every target is checked before any changes.
                if let Some(message) = targets
                    .iter()
                    .find_map(|target| self.moderation_refused(item, target, action))
                {
                    let frame = fail(ErrorCode::InvalidValue, &message);
                    return self.send_to(conn, frame);
                }
                let mut writes = Vec::with_capacity(targets.len());
                for target in &targets {
                    match self.moderate(item, target, action) {
                        Ok(more) => writes.extend(more),
                        // Checked above: every target exists and takes this action.
                        Err(message) => {
                            let frame = fail(ErrorCode::InvalidValue, &message);
                            return self.send_to(conn, frame);
                        }
                    }
                }
                writes
            }
            HostMsg::ShowReactions { show, .. } => {
                // Kept in memory only, like the counts: nothing to store, so `ok` at once.
                self.reactions.set_shown(show);
                let frame = self.reactions.frame();
                self.send_hosts(&frame);
                let frame = self.reactions.presenter_frame();
                self.send_presenters(&frame);
                return self.send_to(conn, ok);
            }
            HostMsg::End { .. } => {
                self.end(Some((conn, ok, err)), None).await;
                return;
            }
        };
        if writes.is_empty() {
            self.send_to(conn, ok);
        } else {
            self.submit(
                Origin::Conn(conn),
                None,
                None,
                writes,
                Effect::None,
                Reply::Frames { ok, err },
            )
            .await;
        }
    }

    fn activity_update(&mut self, act: usize) {
        let live = &self.s.activities[act];
        let frame = server::activity(
            self.info.event.activities[act].key.as_str(),
            live.state.as_str(),
            live.revealed,
            live.tally.total(),
        );
        self.send_hosts(&frame);
        self.send_presenters(&frame);
    }

    fn set_state(&mut self, act: usize, target: ActState) -> Vec<Write> {
        let live = &mut self.s.activities[act];
        if live.state == target {
            return Vec::new();
        }
        self.s.breakdown_generation += 1;
        let was_open = live.state == ActState::Open;
        live.state = target;
        let revealed = live.revealed;
        let definition = &self.info.event.activities[act];
        let room = definition.room.clone();
        let key = definition.key.as_str().to_owned();
        let visible = move |s: &EventState, a: usize| room.is_none() || s.attendees[a].room == room;
        if target == ActState::Open {
            self.session_of(act);
            let frame = server::opened(&self.s.activities[act].json);
            self.send_attendees(&frame, &visible);
        } else if was_open {
            self.send_attendees(&server::closed(&key), &visible);
        }
        if target == ActState::Closed {
            // The final tally, with its sector breakdown, goes out now.
            let tally = self.s.host_tally(&self.info.event, act);
            self.send_hosts(&server::tally(&key, &tally));
            if revealed {
                let frame = server::results(&key, Some(&self.s.public_tally(act)));
                self.send_attendees(&frame, &visible);
                self.send_presenters(&frame);
            }
            self.dirty_tallies.remove(&act);
            self.tally_sent[act] = Some(Instant::now());
            self.dirty_results.remove(&act);
        }
        self.activity_update(act);
        vec![Write::ActivityState {
            event: self.info.code,
            activity: key,
            state: target.as_str(),
            revealed,
        }]
    }

    fn set_revealed(&mut self, act: usize, show: bool) -> Vec<Write> {
        let live = &mut self.s.activities[act];
        if live.revealed == show {
            return Vec::new();
        }
        live.revealed = show;
        let state = live.state;
        let definition = &self.info.event.activities[act];
        let room = definition.room.clone();
        let key = definition.key.as_str().to_owned();
        let tally = show.then(|| self.s.public_tally(act));
        let frame = server::results(&key, tally.as_ref());
        self.send_attendees(&frame, move |s, a| {
            room.is_none() || s.attendees[a].room == room
        });
        self.send_presenters(&frame);
        self.wall_dirty |= self.s.focus == Some(act);
        self.dirty_results.remove(&act);
        self.activity_update(act);
        vec![Write::ActivityState {
            event: self.info.code,
            activity: key,
            state: state.as_str(),
            revealed: show,
        }]
    }

    fn set_focus(&mut self, focus: Option<usize>) -> Vec<Write> {
        if self.s.focus == focus {
            return Vec::new();
        }
        self.s.focus = focus;
        if let Some(act) = focus {
            self.session_of(act);
        }
        let frame = server::focus(self.focus_activity().as_ref());
        self.send_hosts(&frame);
        self.send_presenters(&frame);
        self.wall_dirty = true;
        vec![Write::Focus {
            event: self.info.code,
            activity: focus.map(|f| self.info.event.activities[f].key.as_str().to_owned()),
        }]
    }

    /// The focused activity as the presenter shows it: definition, state, response count,
    /// and the tally only while revealed.
    fn focus_activity(&self) -> Option<FocusActivity<'_>> {
        let act = self.s.focus?;
        let live = &self.s.activities[act];
        Some(FocusActivity {
            definition: &live.json,
            revealed: live.revealed,
            state: live.state.as_str(),
            tally: live.revealed.then(|| self.s.public_tally(act)),
            total: live.tally.total(),
        })
    }

    /// The presenter's text wall (`wall`): the focused text activity's approved texts while
    /// it is revealed; `None` for any other focus.
    fn wall_frame(&self) -> Option<Frame> {
        let act = self.s.focus?;
        let definition = &self.info.event.activities[act];
        if definition.kind.kind() != Kind::Text || !self.s.activities[act].revealed {
            return None;
        }
        let texts = self.s.wall_texts(&self.info.event, act);
        Some(server::wall(definition.key.as_str(), &texts))
    }

    /// Why the host may not moderate `target` so, if it may not.
    fn moderation_refused(
        &self,
        item: ItemKind,
        target: &str,
        action: ModAction,
    ) -> Option<String> {
        let (index, kind) = match item {
            ItemKind::Question => (&self.s.question_index, "question"),
            ItemKind::Text => (&self.s.text_index, "text answer"),
            ItemKind::Card => (&self.s.card_index, "card"),
        };
        if item != ItemKind::Question && action == ModAction::Answered {
            return Some(format!("a {kind} can be approved or hidden, not answered"));
        }
        (!index.contains_key(target)).then(|| format!("no {kind} {target:?}"))
    }

    fn moderate(
        &mut self,
        item: ItemKind,
        target: &str,
        action: ModAction,
    ) -> Result<Vec<Write>, String> {
        let state = match action {
            ModAction::Approve => ItemState::Approved,
            ModAction::Hide => ItemState::Hidden,
            ModAction::Answered => ItemState::Answered,
        };
        let code = self.info.code;
        match item {
            ItemKind::Question => {
                let &q = self
                    .s
                    .question_index
                    .get(target)
                    .ok_or_else(|| format!("no question {target:?}"))?;
                let question = &mut self.s.questions[q];
                let was_visible = question.state.visible();
                question.state = state;
                let frame = server::question(question.host_view());
                self.questions_dirty |= was_visible || state.visible();
                self.send_hosts(&frame);
                Ok(vec![Write::ItemState {
                    event: code,
                    table: ItemTable::Questions,
                    id: target.to_owned(),
                    state: state.as_str(),
                }])
            }
            ItemKind::Text => {
                if action == ModAction::Answered {
                    return Err("a text answer can be approved or hidden, not answered".into());
                }
                let &t = self
                    .s
                    .text_index
                    .get(target)
                    .ok_or_else(|| format!("no text answer {target:?}"))?;
                self.s.texts[t].state = state;
                self.wall_dirty |= self.s.focus == Some(self.s.texts[t].activity);
                let frame =
                    server::text(&self.s.text_view(&self.info.event, &self.s.texts[t], None));
                self.send_hosts(&frame);
                Ok(vec![Write::ItemState {
                    event: code,
                    table: ItemTable::Answers,
                    id: target.to_owned(),
                    state: state.as_str(),
                }])
            }
            ItemKind::Card => {
                if action == ModAction::Answered {
                    return Err("a card can be approved or hidden, not answered".into());
                }
                let &c = self
                    .s
                    .card_index
                    .get(target)
                    .ok_or_else(|| format!("no card {target:?}"))?;
                let card = &mut self.s.cards[c];
                let was_visible = card.state.visible();
                card.state = state;
                let frame = server::card(card.host_view());
                self.directory_dirty |= was_visible || state.visible();
                self.send_hosts(&frame);
                Ok(vec![Write::ItemState {
                    event: code,
                    table: ItemTable::Cards,
                    id: target.to_owned(),
                    state: state.as_str(),
                }])
            }
        }
    }

    /// Ends the event: every activity closes, attendees get `event_ended` and close 4000,
    /// hosts and presenters get a fresh snapshot.
    async fn end(
        &mut self,
        host: Option<(ConnId, Frame, Frame)>,
        reply: Option<oneshot::Sender<Result<(), String>>>,
    ) {
        if self.s.ended {
            if let Some((conn, ok, _)) = host {
                self.send_to(conn, ok);
            }
            if let Some(reply) = reply {
                let _ = reply.send(Ok(()));
            }
            return;
        }
        let mut writes = Vec::new();
        for act in 0..self.s.activities.len() {
            if self.s.activities[act].state == ActState::Open {
                writes.extend(self.set_state(act, ActState::Closed));
            }
        }
        self.s.ended = true;
        self.s.focus = None;
        writes.push(self.presence_sample());
        writes.push(Write::EventEnded {
            event: self.info.code,
            at: clock::now_rfc3339(),
        });
        let ended = server::error(
            None,
            ErrorCode::EventEnded,
            "this event has ended; thank you for taking part",
        );
        for (_, c) in self.attendee_conns.drain() {
            let _ = c.sink.send(ended.clone());
            c.sink.close(CloseCode::EventEnded);
            METRICS.attendee_connections.fetch_sub(1, Relaxed);
            if let Some(attendee) = c.attendee {
                self.s.attendees[attendee].conns = 0;
            }
        }
        self.s.present = 0;
        self.attendance_dirty = true;
        self.sample_due = true;
        self.on_tick();
        let snapshot = self.host_snapshot();
        self.send_hosts(&snapshot);
        let snapshot = self.presenter_snapshot();
        self.send_presenters(&snapshot);
        info!(event = %self.info.code, "event ended");
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

    // ---------------------------------------------------------------- coalescing

    /// Attendance for the report: the current minute's sample (peak within the minute).
    fn presence_sample(&mut self) -> Write {
        self.sample_due = false;
        let write = Write::Presence {
            event: self.info.code,
            minute: clock::now_minute(),
            present: self.s.present as i64,
            peak: self.minute_peak.max(self.s.present) as i64,
            joined: self.s.attendees.len() as i64,
        };
        self.minute_peak = self.s.present;
        write
    }

    /// Sends the hosts (and a presenter showing it) each changed activity's tally that may
    /// go now, or every one if `all`; the rest wait for [`Actor::tally_due`].
    fn send_tallies(&mut self, now: Instant, all: bool) {
        let (ready, due) = if all {
            (self.dirty_tallies.iter().copied().collect(), None)
        } else {
            tallies_due(&self.dirty_tallies, &self.tally_sent, now)
        };
        self.tally_due = due;
        let info = Arc::clone(&self.info);
        let event = &info.event;
        for act in ready {
            self.dirty_tallies.remove(&act);
            self.tally_sent[act] = Some(now);
            let key = event.activities[act].key.as_str();
            let tally = self.s.host_tally(event, act);
            self.send_hosts(&server::tally(key, &tally));
            if !self.presenters.is_empty() && self.s.focus == Some(act) {
                let total = self.s.activities[act].tally.total();
                let frame = server::count(key, total);
                self.send_presenters(&frame);
                if self.s.activities[act].revealed {
                    let public = self.s.public_tally(act);
                    self.send_presenters(&server::results(key, Some(&public)));
                }
            }
        }
    }

    fn on_tick(&mut self) {
        self.ticks += 1;
        let info = Arc::clone(&self.info);
        let event = &info.event;
        if let Some(frame) = self.reactions.due(Instant::now()) {
            self.send_hosts(&frame);
            if self.reactions.shown() {
                self.send_presenters(&frame);
            }
        }
        if self.wall_dirty {
            self.wall_dirty = false;
            if !self.presenters.is_empty()
                && let Some(frame) = self.wall_frame()
            {
                self.send_presenters(&frame);
            }
        }
        if self.attendance_dirty {
            self.attendance_dirty = false;
            let frame = server::host_attendance(&self.s.attendance());
            self.send_hosts(&frame);
            let frame = server::presenter_attendance(&self.s.presenter_attendance());
            self.send_presenters(&frame);
        }
        for q in std::mem::take(&mut self.dirty_questions) {
            let frame = server::question(self.s.questions[q].host_view());
            self.send_hosts(&frame);
        }
        if self.ticks.is_multiple_of(SLOW_TICKS) || self.s.ended {
            let now = Instant::now();
            let mut held = Vec::new();
            for act in std::mem::take(&mut self.dirty_results) {
                let live = &self.s.activities[act];
                if !live.revealed {
                    continue;
                }
                if now < self.results_next[act] && !self.s.ended {
                    held.push(act);
                    continue;
                }
                let definition = &event.activities[act];
                let frame =
                    server::results(definition.key.as_str(), Some(&self.s.public_tally(act)));
                self.results_next[act] = now + broadcast_gap(frame.len());
                let room = definition.room.clone();
                self.send_attendees(&frame, move |s, a| {
                    room.is_none() || s.attendees[a].room == room
                });
            }
            self.dirty_results.extend(held);
            if self.questions_dirty {
                self.questions_dirty = false;
                // The top of the list and its length: bounded however many questions there
                // are, and not sent again when a change fell outside it.
                let (questions, total) = self.s.top_questions();
                let frame = server::questions(&questions, total);
                if frame != self.questions_sent {
                    self.questions_sent = frame.clone();
                    self.send_attendees(&frame, |_, _| true);
                    self.send_presenters(&frame);
                }
            }
            if self.directory_dirty && (now >= self.directory_next || self.s.ended) {
                self.directory_dirty = false;
                let frame = server::directory(&self.s.visible_cards());
                self.directory_next = now + broadcast_gap(frame.len());
                self.send_attendees(&frame, |_, _| true);
            }
        }
        // A new peak goes to disk at once (with the minute's sample so far), not a minute
        // later: a report taken while the event is live never shows a peak below what was seen.
        let peak_grew = self.s.peak > self.peak_stored;
        if peak_grew
            || (self.ticks.is_multiple_of(SAMPLE_TICKS) && (self.sample_due || self.s.present > 0))
        {
            self.peak_stored = self.s.peak;
            let write = self.presence_sample();
            // Never wait inside a tick: a full writer queue just skips this sample.
            let writer = self.writer.clone();
            tokio::spawn(async move {
                let _ = writer.submit(vec![write], None).await;
            });
        }
    }
}

/// Which changed activities' tallies may go at `now` (none went in the last [`TICK`]), and
/// when the first of the rest may.
fn tallies_due(
    dirty: &BTreeSet<usize>,
    sent: &[Option<Instant>],
    now: Instant,
) -> (Vec<usize>, Option<Instant>) {
    let held = |act: usize| sent[act].map(|sent| sent + TICK).filter(|&due| due > now);
    let ready = dirty
        .iter()
        .copied()
        .filter(|&act| held(act).is_none())
        .collect();
    (ready, dirty.iter().filter_map(|&act| held(act)).min())
}

/// How long after sending a directory or results frame of `bytes` the next may go: at least
/// a second, and long enough that each phone receives [`BROADCAST_BYTES_PER_SECOND`] on
/// average.
fn broadcast_gap(bytes: usize) -> Duration {
    let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
    Duration::from_millis(bytes.saturating_mul(1000) / BROADCAST_BYTES_PER_SECOND)
        .max(Duration::from_secs(1))
        - TICK / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bigger_directory_goes_out_less_often() {
        // Half a tick less than the gap, so a slow tick landing on it is not missed.
        assert_eq!(broadcast_gap(2_000), Duration::from_millis(950));
        let big = 160 * 1024;
        assert_eq!(broadcast_gap(big), Duration::from_millis(9_950));
    }

    #[test]
    fn a_tally_goes_at_once_unless_one_went_in_the_last_tick() {
        let now = Instant::now();
        let ms = Duration::from_millis;
        // Never sent; sent 150 ms ago; 40 ms ago; 90 ms ago; exactly a tick ago.
        let sent = [
            None,
            Some(now - ms(150)),
            Some(now - ms(40)),
            Some(now - ms(90)),
            Some(now - TICK),
        ];
        let dirty: BTreeSet<usize> = (0..5).collect();
        let (ready, due) = tallies_due(&dirty, &sent, now);
        assert_eq!(ready, vec![0, 1, 4]);
        // The one sent 90 ms ago may go in 10 ms, before the one sent 40 ms ago.
        assert_eq!(due, Some(now + ms(10)));
        // Nothing held back: no timer.
        let dirty: BTreeSet<usize> = [0, 1].into_iter().collect();
        assert_eq!(tallies_due(&dirty, &sent, now), (vec![0, 1], None));
        // Nothing changed: nothing to send.
        assert_eq!(tallies_due(&BTreeSet::new(), &sent, now), (vec![], None));
    }
}
