//! The ledger of writes on their way to disk: what is handed to the storage writer, what
//! each write does once committed, and who is then told.
//!
//! A write leaves with a [`Ticket`]; the writer answers on the ledger's channel once the
//! batch holding it is committed ([`Actor::on_committed`]), and only then does its
//! [`Effect`] touch the live state ([`super::apply`]) and its origin get `ack` (or, for a
//! host, `ok`). A message id sent again while its first copy is still here is answered
//! with the first; one already stored is answered at once ([`Actor::dedupe`]).

use std::sync::atomic::Ordering::Relaxed;

use serde_json::Value;
use tokio::sync::oneshot;
use tracing::warn;

use super::Actor;
use super::conns::Origin;
use crate::domain::AnswerValue;
use crate::domain::safeguarding;
use crate::hub::by_seq::BySeq;
use crate::hub::state::{CardItem, Question, TextItem, Under, msg_hash};
use crate::hub::{EndError, NumMap};
use crate::metrics::METRICS;
use crate::protocol::ErrorCode;
use crate::protocol::server::{self, Frame};
use crate::storage::{CommitSender, Committed, Ticket, Write, WriterHandle};

/// What a write does to the live state once it is committed.
pub(super) enum Effect {
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
    End(Option<oneshot::Sender<Result<(), EndError>>>),
}

impl Effect {
    /// The risk a new question, text or card may disclose ([`safeguarding`]).
    pub(super) fn concern(&self) -> Option<safeguarding::Concern> {
        match self {
            Effect::Answer {
                text: Some(item), ..
            } => item.concern,
            Effect::Question(question) => question.concern,
            Effect::Card(item) => item.concern,
            _ => None,
        }
    }
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
pub(super) enum Reply {
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

/// The writes handed to the storage writer and not yet reported committed.
pub(super) struct Ledger {
    pub(super) writer: WriterHandle,
    /// Where the writer reports commits: each ticket carries a clone.
    commits: CommitSender,
    pending: BySeq<Pending>,
    /// (attendee, message id hash) of changes not yet committed, to their pending number.
    inflight: NumMap<(usize, u64), u64>,
    next_seq: u64,
}

impl Ledger {
    pub(super) fn new(writer: WriterHandle, commits: CommitSender) -> Ledger {
        Ledger {
            writer,
            commits,
            pending: BySeq::default(),
            inflight: NumMap::default(),
            next_seq: 1,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.pending.len()
    }
}

impl Actor {
    /// Hands `writes` to the storage writer; `effect` applies and `reply`'s `ok` goes to
    /// `origin` once they are committed, its `err` if they cannot be.
    pub(super) async fn submit(
        &mut self,
        origin: Origin,
        attendee: Option<usize>,
        msg: Option<u64>,
        writes: Vec<Write>,
        effect: Effect,
        reply: Reply,
    ) {
        let seq = self.ledger.next_seq;
        self.ledger.next_seq += 1;
        let ticket = Ticket {
            reply: self.ledger.commits.clone(),
            seq,
        };
        if self
            .ledger
            .writer
            .submit(writes, Some(ticket))
            .await
            .is_err()
        {
            self.asked(attendee, &effect);
            METRICS.client_errors.fetch_add(1, Relaxed);
            self.respond(origin, reply.err());
            if let Effect::End(Some(reply)) = effect {
                let _ = reply.send(Err(EndError::Failed("storage unavailable".into())));
            }
            return;
        }
        if let (Some(attendee), Some(msg)) = (attendee, msg) {
            self.ledger.inflight.insert((attendee, msg), seq);
        }
        if let Effect::Answer { act, .. } = &effect {
            *self.state.answers_in_flight.entry(*act).or_insert(0) += 1;
        }
        self.ledger.pending.insert(
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
    pub(super) async fn submit_acked(
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
    pub(super) async fn write_behind(&mut self, writes: Vec<Write>) {
        if let Err(e) = self.ledger.writer.submit(writes, None).await {
            warn!(error = %e, "could not queue a write");
        }
    }

    /// A message id already seen is acknowledged again and has no further effect; one still
    /// in flight is acknowledged with the first. `Some` gives the origin back for a new id.
    pub(super) fn dedupe(&mut self, attendee: usize, id: &str, origin: Origin) -> Option<Origin> {
        let hash = msg_hash(id);
        if self.state.attendees[attendee].seen.contains(&hash) {
            self.respond(origin, server::ack(id));
            return None;
        }
        let ledger = &mut self.ledger;
        if let Some(pending) = ledger
            .inflight
            .get(&(attendee, hash))
            .and_then(|&seq| ledger.pending.get_mut(seq))
        {
            pending.more_targets.push(origin);
            return None;
        }
        Some(origin)
    }

    /// The writer's report on a batch: each committed write takes effect and its origins
    /// are told `ok`; each that could not be stored has its origins told `err`.
    pub(super) fn on_committed(&mut self, committed: Committed) {
        for seq in committed.ok {
            let Some(pending) = self.ledger.pending.remove(seq) else {
                continue;
            };
            self.settle(&pending);
            if let (Some(attendee), Some(msg)) = (pending.attendee, pending.msg) {
                self.state.attendees[attendee].seen.insert(msg);
            }
            self.apply(pending.attendee, pending.effect);
            let ok = pending.reply.ok();
            for target in pending.more_targets {
                self.respond(target, ok.clone());
            }
            self.respond(pending.target, ok);
        }
        for seq in committed.failed {
            let Some(pending) = self.ledger.pending.remove(seq) else {
                continue;
            };
            self.settle(&pending);
            if let Effect::End(Some(reply)) = pending.effect {
                let _ = reply.send(Err(EndError::Failed(
                    "the event's end could not be stored".into(),
                )));
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

    /// A pending write has left the ledger, stored or not: it no longer counts as in flight.
    fn settle(&mut self, pending: &Pending) {
        self.asked(pending.attendee, &pending.effect);
        self.answer_settled(&pending.effect);
        if let (Some(attendee), Some(msg)) = (pending.attendee, pending.msg) {
            self.ledger.inflight.remove(&(attendee, msg));
        }
    }

    /// A question of `attendee`'s has been stored, or could not be.
    fn asked(&mut self, attendee: Option<usize>, effect: &Effect) {
        if let (Some(attendee), Effect::Question(question)) = (attendee, effect) {
            let key = (attendee, question.session.clone());
            if let Some(n) = self.items.asking.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.items.asking.remove(&key);
                }
            }
        }
    }

    /// An answer to `effect`'s activity has been stored, or could not be: once none is left
    /// on its way, a closed activity's breakdown may go to the hosts.
    fn answer_settled(&mut self, effect: &Effect) {
        if let Effect::Answer { act, .. } = effect
            && let Some(n) = self.state.answers_in_flight.get_mut(act)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.state.answers_in_flight.remove(act);
                self.dirty.tallies.insert(*act);
            }
        }
    }
}
