//! The actor's connection registry: who is connected in which role, which attendee each
//! attendee socket speaks for, and sending to them.
//!
//! Every send here is a bounded queue's `try_send` ([`ConnSink`]): a connection that cannot
//! keep up is dropped from the registry at once (its task closes it 4008), and never slows
//! the actor or anyone else.

use std::sync::atomic::Ordering::Relaxed;

use tokio::sync::oneshot;
use tracing::info;

use super::Actor;
use crate::hub::conn::{ConnId, ConnSink};
use crate::hub::state::EventState;
use crate::hub::{NumMap, PostReply, Role, id_value};
use crate::metrics::METRICS;
use crate::protocol::server::{self, Frame};
use crate::protocol::{CloseCode, ErrorCode};

/// Where a reply goes: a connection, or the HTTP request of a POSTed message.
pub(super) enum Origin {
    Conn(ConnId),
    Reply(oneshot::Sender<PostReply>),
}

pub(super) struct AttendeeConn {
    pub(super) sink: ConnSink,
    /// The attendee this socket has joined as; `None` until its `hello`.
    pub(super) attendee: Option<usize>,
}

/// The event's connections, by role.
#[derive(Default)]
pub(super) struct Conns {
    pub(super) attendees: NumMap<ConnId, AttendeeConn>,
    /// The connections each attendee is bound to (usually one), so sending to one attendee
    /// never walks every connection.
    pub(super) of_attendee: NumMap<usize, Vec<ConnId>>,
    pub(super) hosts: NumMap<ConnId, ConnSink>,
    pub(super) presenters: NumMap<ConnId, ConnSink>,
    /// The break-out room each presenter bound to one shows (its link was issued for that
    /// room): it is sent that room's questions only, never another room's or the plenary's.
    pub(super) presenter_rooms: NumMap<ConnId, String>,
    /// The role link that authorised each host or presenter connection that came with one.
    pub(super) links: NumMap<ConnId, String>,
    /// Role links revoked while the event was loaded: a connection they authorised that
    /// arrives after the revocation (its check of the database came just before) is refused.
    pub(super) revoked: std::collections::HashSet<String>,
}

impl Conns {
    pub(super) fn is_empty(&self) -> bool {
        self.attendees.is_empty() && self.hosts.is_empty() && self.presenters.is_empty()
    }

    /// The sink of a connection of any role.
    fn sink(&self, conn: ConnId) -> Option<&ConnSink> {
        self.attendees
            .get(&conn)
            .map(|c| &c.sink)
            .or_else(|| self.hosts.get(&conn))
            .or_else(|| self.presenters.get(&conn))
    }

    /// An attendee socket, not yet joined.
    pub(super) fn add_attendee(&mut self, conn: ConnId, sink: ConnSink) {
        METRICS.attendee_connections.fetch_add(1, Relaxed);
        self.attendees.insert(
            conn,
            AttendeeConn {
                sink,
                attendee: None,
            },
        );
    }
}

/// Sends `frame` to each of `sinks`; gives back those that could not keep up.
fn send_each(sinks: &NumMap<ConnId, ConnSink>, frame: &Frame) -> Vec<ConnId> {
    sinks
        .iter()
        .filter(|(_, sink)| !sink.send(frame.clone()))
        .map(|(conn, _)| *conn)
        .collect()
}

impl Actor {
    pub(super) fn on_connect(
        &mut self,
        conn: ConnId,
        role: Role,
        sink: ConnSink,
        link: Option<String>,
        room: Option<String>,
    ) {
        if let Some(link) = link {
            if self.conns.revoked.contains(&link) {
                let _ = sink.send(server::error(
                    None,
                    ErrorCode::Unauthorized,
                    "this link has been revoked",
                ));
                sink.close(CloseCode::Unauthorized);
                return;
            }
            self.conns.links.insert(conn, link);
        }
        match role {
            Role::Attendee => {
                if self.state.ended {
                    let _ = sink.send(server::error(
                        None,
                        ErrorCode::EventEnded,
                        "this event has ended",
                    ));
                    sink.close(CloseCode::EventEnded);
                    return;
                }
                self.conns.add_attendee(conn, sink);
            }
            Role::Host => {
                METRICS.host_connections.fetch_add(1, Relaxed);
                if sink.send(self.host_snapshot()) && sink.send(self.reactions.frame()) {
                    self.conns.hosts.insert(conn, sink);
                }
            }
            Role::Presenter => {
                METRICS.host_connections.fetch_add(1, Relaxed);
                if self
                    .presenter_start(room.as_deref())
                    .into_iter()
                    .all(|f| sink.send(f))
                {
                    if let Some(wall) = self.wall_frame() {
                        let _ = sink.send(wall);
                    }
                    if self.reactions.shown() {
                        let _ = sink.send(self.reactions.presenter_frame());
                    }
                    self.conns.presenters.insert(conn, sink);
                    if let Some(room) = room {
                        self.conns.presenter_rooms.insert(conn, room);
                    }
                }
            }
        }
    }

    /// Closes (4001) and forgets every connection the role link `link` authorised, and
    /// refuses any that comes with it later.
    pub(super) fn revoke(&mut self, link: String) {
        let conns: Vec<ConnId> = self
            .conns
            .links
            .iter()
            .filter(|(_, l)| **l == link)
            .map(|(conn, _)| *conn)
            .collect();
        info!(
            event = %self.info.code,
            conns = conns.len(),
            "closing the connections of a revoked link"
        );
        for conn in conns {
            if let Some(sink) = self.conns.sink(conn) {
                let _ = sink.send(server::error(
                    None,
                    ErrorCode::Unauthorized,
                    "this link has been revoked",
                ));
            }
            self.close_conn(conn, CloseCode::Unauthorized);
        }
        self.conns.revoked.insert(link);
    }

    /// Forgets a connection (closed by its client, or dropped for being too slow).
    pub(super) fn drop_conn(&mut self, conn: ConnId) {
        self.conns.links.remove(&conn);
        self.conns.presenter_rooms.remove(&conn);
        if let Some(c) = self.conns.attendees.remove(&conn) {
            METRICS.attendee_connections.fetch_sub(1, Relaxed);
            if let Some(attendee) = c.attendee {
                self.unbind(conn, attendee);
            }
        } else if self.conns.hosts.remove(&conn).is_some()
            || self.conns.presenters.remove(&conn).is_some()
        {
            METRICS.host_connections.fetch_sub(1, Relaxed);
        }
    }

    /// Closes (1012) and forgets every connection relayed by cluster node `node`.
    pub(super) fn drop_node(&mut self, node: u32) {
        let conns: Vec<ConnId> = self
            .conns
            .attendees
            .keys()
            .chain(self.conns.hosts.keys())
            .chain(self.conns.presenters.keys())
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

    /// Binds an attendee socket to `attendee` (after its `hello`): it is present.
    pub(super) fn bind(&mut self, conn: ConnId, attendee: usize) {
        let Some(c) = self.conns.attendees.get_mut(&conn) else {
            return;
        };
        if c.attendee == Some(attendee) {
            return;
        }
        let previous = c.attendee.replace(attendee);
        if let Some(previous) = previous {
            self.unbind(conn, previous);
        }
        self.conns
            .of_attendee
            .entry(attendee)
            .or_default()
            .push(conn);
        let a = &mut self.state.attendees[attendee];
        a.conns += 1;
        if a.conns == 1 {
            self.state.present += 1;
            self.state.peak = self.state.peak.max(self.state.present);
            self.presence.minute_peak = self.presence.minute_peak.max(self.state.present);
            self.dirty.attendance = true;
            self.presence.sample_due = true;
        }
    }

    fn unbind(&mut self, conn: ConnId, attendee: usize) {
        if let Some(conns) = self.conns.of_attendee.get_mut(&attendee) {
            conns.retain(|c| *c != conn);
            if conns.is_empty() {
                self.conns.of_attendee.remove(&attendee);
            }
        }
        let a = &mut self.state.attendees[attendee];
        a.conns = a.conns.saturating_sub(1);
        if a.conns == 0 {
            self.state.present = self.state.present.saturating_sub(1);
            self.dirty.attendance = true;
            self.presence.sample_due = true;
        }
    }

    /// Sends to one connection of any role; a connection that cannot keep up is dropped.
    pub(super) fn send_to(&mut self, conn: ConnId, frame: Frame) {
        self.deliver(conn, frame, ConnSink::send);
    }

    /// Sends a reply to what `conn` sent, written at once when its transport allows
    /// ([`ConnSink::reply`]).
    fn reply_to(&mut self, conn: ConnId, frame: Frame) {
        self.deliver(conn, frame, ConnSink::reply);
    }

    fn deliver(&mut self, conn: ConnId, frame: Frame, send: fn(&ConnSink, Frame) -> bool) {
        let Some(sink) = self.conns.sink(conn) else {
            return;
        };
        if !send(sink, frame) {
            self.drop_conn(conn);
        }
    }

    /// Sends the reply to a message to where it came from.
    pub(super) fn respond(&mut self, origin: Origin, frame: Frame) {
        match origin {
            Origin::Conn(conn) => self.reply_to(conn, frame),
            Origin::Reply(reply) => {
                let _ = reply.send(PostReply { frame, token: None });
            }
        }
    }

    /// Answers a message with an `error` frame.
    pub(super) fn reject(
        &mut self,
        origin: Origin,
        id: Option<&str>,
        code: ErrorCode,
        message: &str,
    ) {
        METRICS.client_errors.fetch_add(1, Relaxed);
        self.respond(origin, server::error(id_value(id).as_ref(), code, message));
    }

    /// Sends a frame to every attendee connection for which `to` holds, in the order the
    /// connections were opened (each connection's task then writes in that order).
    ///
    /// In the hash table's order the same broadcast to 19,000 phones took about half as long
    /// again, nearly all of it in the kernel's `sendto` (BENCHMARKS.md): in
    /// this order the sockets' kernel structures are visited as they were allocated.
    pub(super) fn send_attendees(
        &mut self,
        frame: &Frame,
        to: impl Fn(&EventState, usize) -> bool,
    ) {
        let mut targets: Vec<(ConnId, &ConnSink)> = self
            .conns
            .attendees
            .iter()
            .filter(|(_, c)| c.attendee.is_some_and(|a| to(&self.state, a)))
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
    pub(super) fn send_attendee(&mut self, attendee: usize, frame: &Frame) {
        let conns = self
            .conns
            .of_attendee
            .get(&attendee)
            .cloned()
            .unwrap_or_default();
        for conn in conns {
            self.send_to(conn, frame.clone());
        }
    }

    pub(super) fn send_hosts(&mut self, frame: &Frame) {
        for conn in send_each(&self.conns.hosts, frame) {
            self.drop_conn(conn);
        }
    }

    pub(super) fn send_presenters(&mut self, frame: &Frame) {
        for conn in send_each(&self.conns.presenters, frame) {
            self.drop_conn(conn);
        }
    }

    /// Sends a frame for one screen (`room`; `None`: the main screen) to the presenters
    /// that may show it: every presenter not bound to a room (its page picks the screen it
    /// shows), and those bound to `room`.
    pub(super) fn send_screen(&mut self, frame: &Frame, room: Option<&str>) {
        let bound = &self.conns.presenter_rooms;
        let dropped: Vec<ConnId> = (self.conns.presenters.iter())
            .filter(|(conn, _)| bound.get(*conn).is_none_or(|b| Some(b.as_str()) == room))
            .filter(|(_, sink)| !sink.send(frame.clone()))
            .map(|(conn, _)| *conn)
            .collect();
        for conn in dropped {
            self.drop_conn(conn);
        }
    }

    /// What a presenter starts from, on connecting and whenever every screen starts afresh
    /// (an edit of the spec, the end of the event): its `snapshot`, then the question
    /// frames of the rooms it may show (only `room`'s for a presenter bound to it).
    pub(super) fn presenter_start(&self, room: Option<&str>) -> Vec<Frame> {
        let rooms = self.presenter_room_questions(room).into_iter();
        std::iter::once(self.presenter_snapshot(room))
            .chain(rooms.map(|(_, frame)| frame))
            .collect()
    }

    /// Sends every presenter a fresh start ([`Actor::presenter_start`]).
    pub(super) fn restart_presenters(&mut self) {
        let mut starts: std::collections::HashMap<Option<String>, Vec<Frame>> =
            std::collections::HashMap::new();
        let mut dropped = Vec::new();
        for (conn, sink) in &self.conns.presenters {
            let room = self.conns.presenter_rooms.get(conn).cloned();
            let frames = starts
                .entry(room)
                .or_insert_with_key(|room| self.presenter_start(room.as_deref()));
            if !frames.iter().all(|f| sink.send(f.clone())) {
                dropped.push(*conn);
            }
        }
        for conn in dropped {
            self.drop_conn(conn);
        }
    }

    pub(super) fn close_everyone(&mut self, code: CloseCode) {
        self.conns.of_attendee.clear();
        for (_, c) in self.conns.attendees.drain() {
            c.sink.close(code);
            METRICS.attendee_connections.fetch_sub(1, Relaxed);
        }
        self.conns.presenter_rooms.clear();
        for (_, sink) in self
            .conns
            .hosts
            .drain()
            .chain(self.conns.presenters.drain())
        {
            sink.close(code);
            METRICS.host_connections.fetch_sub(1, Relaxed);
        }
    }

    /// Sends `frame` to every attendee socket and closes it with `code`: nobody is present
    /// any more (the event has ended).
    pub(super) fn close_attendees(&mut self, frame: &Frame, code: CloseCode) {
        for (_, c) in self.conns.attendees.drain() {
            let _ = c.sink.send(frame.clone());
            c.sink.close(code);
            METRICS.attendee_connections.fetch_sub(1, Relaxed);
            if let Some(attendee) = c.attendee {
                self.state.attendees[attendee].conns = 0;
            }
        }
        self.state.present = 0;
    }

    pub(super) fn close_conn(&mut self, conn: ConnId, code: CloseCode) {
        if let Some(sink) = self.conns.sink(conn) {
            sink.close(code);
        }
        self.drop_conn(conn);
    }
}
