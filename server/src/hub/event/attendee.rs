//! What attendees send, whatever the transport (WebSocket, POST, or the SSE stream's
//! opening): joining (`hello`), answering, changing their profile; and the per-attendee
//! message allowance every message takes from. Questions, votes and cards are in
//! [`super::items`].
//!
//! Each handler checks the message against the event and the attendee, answers a bad one
//! with a typed `error` naming what is wrong, and hands a good one to the ledger
//! ([`Actor::submit_acked`]): the `ack` leaves once it is on disk, never here.

use serde_json::Value;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::Actor;
use super::conns::Origin;
use super::ledger::Effect;
use crate::domain::spec::ActivityKind;
use crate::domain::{AnswerValue, moderation, safeguarding, token};
use crate::hub::allowance::Allowance;
use crate::hub::conn::{ConnId, ConnSink};
use crate::hub::state::{ActState, Attendee, ItemState, TextItem, Under};
use crate::hub::{NumMap, PostReply, StreamOpen};
use crate::metrics::METRICS;
use crate::protocol::{ClientMsg, CloseCode, ErrorCode, phases};
use crate::storage::Write;
use std::sync::atomic::Ordering::Relaxed;

impl Actor {
    /// A message from an attendee: from a socket (`conn`), or POSTed (`conn` is `None`).
    /// `attendee` is who the socket or cookie has joined as, if anyone yet.
    pub(super) async fn on_client(
        &mut self,
        origin: Origin,
        conn: Option<ConnId>,
        attendee: Option<usize>,
        msg: ClientMsg,
        at: Instant,
    ) {
        if self.state.ended {
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
            let profile = [organisation, sector, room];
            return self.on_hello(origin, conn, token, profile, at).await;
        }
        let Some(attendee) = attendee else {
            return self.reject(origin, msg.id(), ErrorCode::NotJoined, "send hello first");
        };
        if !self.allowed(attendee, at) {
            return self.reject(
                origin,
                msg.id(),
                ErrorCode::RateLimited,
                "too many messages from this attendee; slow down and send again",
            );
        }
        if let Some(message) = self.phase_refusal(&msg) {
            // A message already stored (its `ack` lost with a dropped socket) and sent again
            // after the phase changed is acknowledged again, never refused: it counted.
            let stored_kind = !matches!(msg, ClientMsg::React { .. });
            let origin = match msg.id().filter(|_| stored_kind) {
                Some(id) => match self.dedupe(attendee, id, origin) {
                    Some(origin) => origin,
                    None => return,
                },
                None => origin,
            };
            METRICS.client_errors.fetch_add(1, Relaxed);
            let id = msg.id().map(Value::from);
            let frame = phases::not_open(id.as_ref(), self.phases.phase, &message);
            return self.respond(origin, frame);
        }
        match msg {
            ClientMsg::Hello { .. } => {}
            ClientMsg::Profile {
                id,
                organisation,
                sector,
                room,
            } => {
                let profile = [organisation, sector, room];
                self.on_profile(origin, attendee, id, profile).await;
            }
            ClientMsg::Answer {
                id,
                activity,
                value,
            } => self.on_answer(origin, attendee, id, activity, value).await,
            ClientMsg::Ask { id, text, session } => {
                self.on_ask(origin, attendee, id, text, session).await;
            }
            ClientMsg::Upvote { id, question } => {
                self.on_upvote(origin, attendee, id, question).await;
            }
            ClientMsg::Card { id, card } => self.on_card(origin, attendee, id, card).await,
            ClientMsg::React { id, reaction } => self.on_react(origin, attendee, id, &reaction),
        }
    }

    /// A message POSTed without WebSocket; `token` is the cookie's.
    pub(super) async fn on_post(
        &mut self,
        token: Option<String>,
        msg: ClientMsg,
        reply: oneshot::Sender<PostReply>,
        at: Instant,
    ) {
        let attendee = token.as_deref().and_then(|t| self.attendee_of(t));
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

    /// An SSE stream opened for the attendee with `token`: it gets a fresh `welcome`.
    pub(super) fn on_stream(
        &mut self,
        conn: ConnId,
        token: String,
        sink: ConnSink,
        reply: oneshot::Sender<StreamOpen>,
    ) {
        let attendee = self.attendee_of(&token);
        let Some(attendee) = attendee.filter(|_| !self.state.ended) else {
            let _ = reply.send(StreamOpen::Unknown);
            return;
        };
        // A stream opened is a resume: its `welcome` costs what a `hello` does, from
        // the same allowance, or one token could have welcomes built without end.
        if !self.allowed(attendee, Instant::now()) {
            let _ = reply.send(StreamOpen::TooMany);
            return;
        }
        let _ = reply.send(StreamOpen::Opened);
        self.conns.add_attendee(conn, sink);
        self.bind(conn, attendee);
        let welcome = self.welcome(attendee, &token);
        self.send_to(conn, welcome);
    }

    /// The attendee whose token this is, if any.
    fn attendee_of(&self, token: &str) -> Option<usize> {
        self.state.by_token.get(&token::hash_token(token)).copied()
    }

    /// Takes one message sent at `at` from `attendee`'s allowance: `false` when it has none
    /// left ([`crate::hub::allowance`]).
    fn allowed(&mut self, attendee: usize, at: Instant) -> bool {
        let now = Instant::now();
        self.allowances
            .entry(attendee)
            .or_insert_with(|| Allowance::new(now))
            .take(at, now)
    }

    /// `hello`: a new attendee joins, or a known one (by `token`) resumes, perhaps with a
    /// changed profile (organisation, sector, room); the answer is `welcome`.
    async fn on_hello(
        &mut self,
        origin: Origin,
        conn: Option<ConnId>,
        token: Option<String>,
        [organisation, sector, room]: [Option<String>; 3],
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
        let known = token.as_deref().and_then(|t| self.attendee_of(t));
        if let Err((code, message)) = self.may_join(conn, known, at) {
            return self.reject(origin, None, code, &message);
        }
        let (attendee, token, writes) = match (known, token) {
            (Some(attendee), Some(token)) => {
                let writes = self.apply_profile(attendee, change);
                (attendee, token, writes)
            }
            _ => {
                let (attendee, token) = self.new_attendee();
                let mut writes = self.apply_profile(attendee, change);
                if writes.is_empty() {
                    writes.push(self.attendee_row(attendee));
                }
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

    /// Why a `hello` from `conn` (as the `known` attendee, or a new one) may not join now.
    fn may_join(
        &mut self,
        conn: Option<ConnId>,
        known: Option<usize>,
        at: Instant,
    ) -> Result<(), (ErrorCode, String)> {
        // One attendee per connection: a socket that has joined may say hello again only
        // as the same attendee (to resume, or change its profile), never start another.
        let bound = conn.and_then(|conn| self.conns.attendees.get(&conn).and_then(|c| c.attendee));
        if let Some(bound) = bound
            && known != Some(bound)
        {
            return Err((
                ErrorCode::InvalidMessage,
                "this connection has already joined as an attendee; one connection is one attendee, so open a new connection to join as another".into(),
            ));
        }
        // A known attendee's hello (a resume, or a profile change written behind) takes from
        // its allowance like any message; a new attendee's counts against its address's
        // joins instead.
        if let Some(known) = known
            && !self.allowed(known, at)
        {
            return Err((
                ErrorCode::RateLimited,
                "too many messages from this attendee; slow down and send again".into(),
            ));
        }
        let most = self.info.event.spec.max_attendees as usize;
        if known.is_none() && self.state.attendees.len() >= most {
            return Err((
                ErrorCode::LimitReached,
                format!("this event is full: it takes at most {most} attendees"),
            ));
        }
        Ok(())
    }

    /// A new attendee, with a fresh token: counted at once, stored behind.
    fn new_attendee(&mut self) -> (usize, String) {
        let token = token::new_token();
        let attendee = self.state.attendees.len();
        let token_hash = token::hash_token(&token);
        self.state.by_token.insert(token_hash.clone(), attendee);
        self.state.attendees.push(Attendee {
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
        self.state.count_profile(attendee, true);
        self.dirty.attendance = true;
        self.presence.sample_due = true;
        (attendee, token)
    }

    /// `profile`: a change of organisation, sector or room; acknowledged once stored when it
    /// has an id, written behind when not.
    async fn on_profile(
        &mut self,
        origin: Origin,
        attendee: usize,
        id: Option<String>,
        [organisation, sector, room]: [Option<String>; 3],
    ) {
        let change =
            match self.resolve_profile(organisation.as_deref(), sector.as_deref(), room.as_deref())
            {
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

    /// `answer`: checked against the activity (known, visible to the attendee, open, a value
    /// of its kind), then stored; it counts in the tally once committed
    /// ([`super::apply`]).
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
        let (act, value) = match self.check_answer(attendee, &activity, &value) {
            Ok(checked) => checked,
            Err((code, message)) => return self.reject(origin, Some(&id), code, &message),
        };
        let event = &self.info.event;
        let text = match (&event.activities[act].kind, &value) {
            (ActivityKind::Text { .. }, AnswerValue::Text(t)) => Some(TextItem {
                id: token::new_item_id(),
                attendee,
                activity: act,
                state: ItemState::held(event.spec.qa.moderation, safeguarding::concern(t)),
                flagged: moderation::is_flagged(t),
                concern: safeguarding::concern(t),
                arrived: 0,
            }),
            _ => None,
        };
        let who = &self.state.attendees[attendee];
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

    /// The activity an answer is for and its value, or why it cannot be taken.
    fn check_answer(
        &self,
        attendee: usize,
        activity: &str,
        value: &Value,
    ) -> Result<(usize, AnswerValue), (ErrorCode, String)> {
        let event = &self.info.event;
        let Some(&act) = event.index.get(activity) else {
            let message = format!("this event has no activity {activity:?}");
            return Err((ErrorCode::UnknownActivity, message));
        };
        let definition = &event.activities[act];
        if !self.state.can_see(attendee, definition) {
            let message = format!(
                "activity {activity:?} belongs to {}, and you are not in that room",
                definition.room.as_deref().unwrap_or("another room")
            );
            return Err((ErrorCode::UnknownActivity, message));
        }
        let state = self.state.activities[act].state;
        if state != ActState::Open {
            let message = format!("activity {activity:?} is {}, not open", state.as_str());
            return Err((ErrorCode::ActivityClosed, message));
        }
        match AnswerValue::parse(&definition.kind, value) {
            Ok(value) => Ok((act, value)),
            Err(message) => Err((ErrorCode::InvalidValue, message)),
        }
    }

    /// The stored row of an attendee (written behind on every profile change).
    pub(super) fn attendee_row(&self, attendee: usize) -> Write {
        let a = &self.state.attendees[attendee];
        Write::Attendee {
            event: self.info.code,
            id: a.id,
            token_hash: a.token_hash.clone(),
            organisation: a.organisation.clone(),
            sector: a.sector.clone(),
            room: a.room.clone(),
        }
    }

    /// The record that `attendee`'s message `id` is stored, written with its change so a
    /// resent copy is acknowledged again, never applied twice.
    pub(super) fn receipt(&self, attendee: usize, id: &str) -> Write {
        Write::Receipt {
            event: self.info.code,
            attendee: self.state.attendees[attendee].id,
            msg: id.to_owned(),
        }
    }
}
