//! What nodes of a cluster say to each other over NATS.
//!
//! - `joinup.node.{N}`: batches to node N, each numbered per sender so N notices a lost one:
//!   frames and closes for the connections N holds (from an event's owner), and the
//!   commands of N's connections for events N owns (from the nodes that hold them).
//! - `joinup.rpc.{CODE}`: requests to whichever node owns event CODE (who owns it, a POSTed
//!   message, an SSE stream, ending the event, editing its spec), answered on NATS's reply subject.
//! - `joinup.spec`: an event's spec was edited (its code, as text): every node that keeps
//!   a copy of the event (a relay, its pages) reloads it from the database.
//! - `joinup.hb`: every node's heartbeat, once a second, with the last batch number it sent
//!   to each node, so a batch lost with nothing after it is noticed too.
//!
//! Batches are a small binary format (frames are sent as they are, once for every
//! connection on the receiving node that gets them); commands and requests are JSON.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::EventCode;
use crate::domain::phase::EventPhase;
use crate::hub::{ConnId, EndError, Role};
use crate::protocol::{ClientMsg, HostMsg};

const VERSION: u8 = 1;
const FRAME: u8 = 1;
const CLOSE: u8 = 2;
const COMMAND: u8 = 3;
const GONE: u8 = 4;
const PART: u8 = 5;

/// The largest piece of a frame in one entry. A frame longer than this (a host's snapshot
/// of a large event can pass NATS's 1 MB message limit) crosses as several [`Entry::Part`]s,
/// in order, and every batch stays under twice this.
pub const PART_BYTES: usize = 256 * 1024;

pub fn node_subject(node: u32) -> String {
    format!("joinup.node.{node}")
}

pub fn rpc_subject(code: EventCode) -> String {
    format!("joinup.rpc.{code}")
}

pub const HEARTBEAT_SUBJECT: &str = "joinup.hb";

pub const SPEC_SUBJECT: &str = "joinup.spec";

/// One item of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A frame for these connections of the receiving node.
    Frame { conns: Vec<ConnId>, frame: Bytes },
    /// Close this connection of the receiving node with this code.
    Close { conn: ConnId, code: u16 },
    /// A command from one of the sender's connections, for an event the receiver owns.
    Command {
        event: EventCode,
        command: RelayCommand,
    },
    /// The sender does not own this event (any more): whoever relays to it must look again.
    Gone { event: EventCode },
    /// A piece of a frame too long for one entry; the receiver joins the pieces from one
    /// sender, from a `first` one to the `last` one, and then delivers the frame.
    Part {
        conns: Vec<ConnId>,
        chunk: Bytes,
        first: bool,
        last: bool,
    },
}

/// What a connection on one node asks of an event owned by another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RelayCommand {
    Connect {
        conn: ConnId,
        role: Role,
        /// The role link that authorised the connection, if one did (see `Command::Connect`).
        #[serde(default)]
        link: Option<String>,
        /// The room a presenter link binds the connection to (see `Command::Connect`);
        /// absent from a node that predates it.
        #[serde(default)]
        room: Option<String>,
    },
    Disconnect {
        conn: ConnId,
    },
    Client {
        conn: ConnId,
        msg: ClientMsg,
    },
    Host {
        conn: ConnId,
        msg: HostMsg,
    },
}

impl RelayCommand {
    pub fn conn(&self) -> ConnId {
        match self {
            RelayCommand::Connect { conn, .. }
            | RelayCommand::Disconnect { conn }
            | RelayCommand::Client { conn, .. }
            | RelayCommand::Host { conn, .. } => *conn,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub from: u32,
    pub seq: u64,
    pub entries: Vec<Entry>,
}

/// A request to an event's owner.
#[derive(Debug, Serialize, Deserialize)]
pub enum Rpc {
    /// Which node owns the event.
    Attach,
    Post {
        token: Option<String>,
        msg: ClientMsg,
    },
    Stream {
        conn: ConnId,
        token: String,
    },
    End,
    /// `End` only while the event is still in phase `from` (answered `Left` when it has
    /// left it). Its own variant, so a plain `End` reads as it always did.
    EndFrom {
        from: EventPhase,
    },
    /// A role link was revoked: its connections, wherever they are relayed from, close.
    Revoke {
        link: String,
    },
    /// An organiser's edit, made by the owner's actor: the spec as JSON text.
    Respec {
        if_match: Option<String>,
        spec: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum RpcReply {
    Attached {
        node: u32,
    },
    Posted {
        frame: String,
        token: Option<String>,
    },
    Streamed(crate::hub::StreamOpen),
    Ended(Result<(), String>),
    /// An `EndFrom` whose phase the event had already left: nothing moved; where it is.
    Left {
        phase: EventPhase,
    },
    Revoked,
    Respecced(Result<crate::hub::Respecced, crate::hub::RespecError>),
    Unavailable,
}

impl Rpc {
    /// The request for [`crate::hub::Command::End`] with `from`.
    pub fn end(from: Option<EventPhase>) -> Rpc {
        match from {
            None => Rpc::End,
            Some(from) => Rpc::EndFrom { from },
        }
    }

    /// The `from` of an `End` or `EndFrom` request.
    pub fn end_from(&self) -> Option<EventPhase> {
        match self {
            Rpc::EndFrom { from } => Some(*from),
            _ => None,
        }
    }
}

impl RpcReply {
    /// The answer to an `End` or `EndFrom` request.
    pub fn ended(result: Result<(), EndError>) -> RpcReply {
        match result {
            Ok(()) => RpcReply::Ended(Ok(())),
            Err(EndError::Left(phase)) => RpcReply::Left { phase },
            Err(EndError::Failed(why)) => RpcReply::Ended(Err(why)),
        }
    }

    /// What an answer to an `End` or `EndFrom` request says; `None` for any other answer.
    pub fn into_ended(self) -> Option<Result<(), EndError>> {
        match self {
            RpcReply::Ended(result) => Some(result.map_err(EndError::Failed)),
            RpcReply::Left { phase } => Some(Err(EndError::Left(phase))),
            _ => None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Heartbeat {
    pub node: u32,
    /// (node, number of the last batch sent to it).
    pub sent: Vec<(u32, u64)>,
    /// The node is shutting down: the others move its clients on at once.
    #[serde(default)]
    pub leaving: bool,
}

#[derive(Debug, Error, PartialEq)]
pub enum WireError {
    #[error("batch cut short")]
    Short,
    #[error("unknown batch version {0}")]
    Version(u8),
    #[error("unknown entry tag {0}")]
    Tag(u8),
    #[error("bad event code in a batch")]
    Code,
    #[error("bad command in a batch: {0}")]
    Command(String),
}

/// The encoded size of an entry, near enough to keep batches under NATS's payload limit.
pub fn size(entry: &Entry) -> usize {
    match entry {
        Entry::Frame { conns, frame } => 9 + 8 * conns.len() + frame.len(),
        Entry::Close { .. } => 11,
        Entry::Command { command, .. } => {
            64 + match command {
                RelayCommand::Client { msg, .. } => match msg {
                    ClientMsg::Answer { value, .. } => value.to_string().len(),
                    ClientMsg::Card { card, .. } => card.to_string().len(),
                    ClientMsg::Ask { text, .. } => text.len(),
                    _ => 256,
                },
                _ => 256,
            }
        }
        Entry::Gone { .. } => 8,
        Entry::Part { conns, chunk, .. } => 10 + 8 * conns.len() + chunk.len(),
    }
}

/// Splits the entries into batches that each fit a NATS message: frames longer than
/// [`PART_BYTES`] become parts, and a batch closes before it would pass `max_bytes`.
pub fn into_batches(entries: Vec<Entry>, max_bytes: usize) -> Vec<Vec<Entry>> {
    let mut batches = Vec::new();
    let mut batch = Vec::new();
    let mut bytes = 0;
    let mut add = |entry: Entry, batches: &mut Vec<Vec<Entry>>| {
        let n = size(&entry);
        if !batch.is_empty() && bytes + n > max_bytes {
            batches.push(std::mem::take(&mut batch));
            bytes = 0;
        }
        bytes += n;
        batch.push(entry);
    };
    for entry in entries {
        match entry {
            Entry::Frame { conns, frame } if frame.len() > PART_BYTES => {
                let pieces = frame.len().div_ceil(PART_BYTES);
                for i in 0..pieces {
                    let chunk =
                        frame.slice(i * PART_BYTES..((i + 1) * PART_BYTES).min(frame.len()));
                    add(
                        Entry::Part {
                            conns: conns.clone(),
                            chunk,
                            first: i == 0,
                            last: i + 1 == pieces,
                        },
                        &mut batches,
                    );
                }
            }
            entry => add(entry, &mut batches),
        }
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    batches
}

pub fn encode(from: u32, seq: u64, entries: &[Entry]) -> Bytes {
    let mut buf = BytesMut::with_capacity(13 + entries.iter().map(size).sum::<usize>());
    buf.put_u8(VERSION);
    buf.put_u32(from);
    buf.put_u64(seq);
    for entry in entries {
        match entry {
            Entry::Frame { conns, frame } => {
                buf.put_u8(FRAME);
                put_conns(&mut buf, conns);
                put_bytes(&mut buf, frame);
            }
            Entry::Close { conn, code } => {
                buf.put_u8(CLOSE);
                buf.put_u64(conn.raw());
                buf.put_u16(*code);
            }
            Entry::Command { event, command } => {
                buf.put_u8(COMMAND);
                put_code(&mut buf, *event);
                // Serialising these plain enums cannot fail.
                put_bytes(&mut buf, &serde_json::to_vec(command).unwrap_or_default());
            }
            Entry::Gone { event } => {
                buf.put_u8(GONE);
                put_code(&mut buf, *event);
            }
            Entry::Part {
                conns,
                chunk,
                first,
                last,
            } => {
                buf.put_u8(PART);
                buf.put_u8(u8::from(*first) << 1 | u8::from(*last));
                put_conns(&mut buf, conns);
                put_bytes(&mut buf, chunk);
            }
        }
    }
    buf.freeze()
}

fn put_conns(buf: &mut BytesMut, conns: &[ConnId]) {
    buf.put_u32(conns.len() as u32);
    for conn in conns {
        buf.put_u64(conn.raw());
    }
}

/// A u32-length-prefixed run of bytes, as [`take`] reads it.
fn put_bytes(buf: &mut BytesMut, bytes: &[u8]) {
    buf.put_u32(bytes.len() as u32);
    buf.put_slice(bytes);
}

fn get_conns(buf: &mut Bytes) -> Result<Vec<ConnId>, WireError> {
    need(buf, 4)?;
    let n = buf.get_u32() as usize;
    need(buf, n.saturating_mul(8))?;
    Ok((0..n).map(|_| ConnId::from_raw(buf.get_u64())).collect())
}

fn put_code(buf: &mut BytesMut, code: EventCode) {
    let text = code.to_string();
    buf.put_u8(text.len() as u8);
    buf.put_slice(text.as_bytes());
}

pub fn decode(mut buf: Bytes) -> Result<Batch, WireError> {
    need(&buf, 13)?;
    let version = buf.get_u8();
    if version != VERSION {
        return Err(WireError::Version(version));
    }
    let from = buf.get_u32();
    let seq = buf.get_u64();
    let mut entries = Vec::new();
    while buf.has_remaining() {
        let entry = match buf.get_u8() {
            FRAME => Entry::Frame {
                conns: get_conns(&mut buf)?,
                frame: take(&mut buf)?,
            },
            CLOSE => {
                need(&buf, 10)?;
                Entry::Close {
                    conn: ConnId::from_raw(buf.get_u64()),
                    code: buf.get_u16(),
                }
            }
            COMMAND => {
                let event = get_code(&mut buf)?;
                let json = take(&mut buf)?;
                let command =
                    serde_json::from_slice(&json).map_err(|e| WireError::Command(e.to_string()))?;
                Entry::Command { event, command }
            }
            GONE => Entry::Gone {
                event: get_code(&mut buf)?,
            },
            PART => {
                need(&buf, 1)?;
                let flags = buf.get_u8();
                Entry::Part {
                    conns: get_conns(&mut buf)?,
                    chunk: take(&mut buf)?,
                    first: flags & 2 != 0,
                    last: flags & 1 != 0,
                }
            }
            tag => return Err(WireError::Tag(tag)),
        };
        entries.push(entry);
    }
    Ok(Batch { from, seq, entries })
}

fn need(buf: &Bytes, n: usize) -> Result<(), WireError> {
    if buf.remaining() < n {
        Err(WireError::Short)
    } else {
        Ok(())
    }
}

/// A u32-length-prefixed run of bytes.
fn take(buf: &mut Bytes) -> Result<Bytes, WireError> {
    need(buf, 4)?;
    let len = buf.get_u32() as usize;
    need(buf, len)?;
    Ok(buf.split_to(len))
}

fn get_code(buf: &mut Bytes) -> Result<EventCode, WireError> {
    need(buf, 1)?;
    let len = usize::from(buf.get_u8());
    need(buf, len)?;
    let text = buf.split_to(len);
    std::str::from_utf8(&text)
        .ok()
        .and_then(EventCode::parse)
        .ok_or(WireError::Code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Entry> {
        let code = EventCode::parse("ABC234").expect("code");
        vec![
            Entry::Frame {
                conns: vec![ConnId::from_raw(7 << 32 | 1), ConnId::from_raw(7 << 32 | 2)],
                frame: Bytes::from_static(br#"{"type":"tally"}"#),
            },
            Entry::Close {
                conn: ConnId::from_raw(9),
                code: 1012,
            },
            Entry::Command {
                event: code,
                command: RelayCommand::Client {
                    conn: ConnId::from_raw(5),
                    msg: ClientMsg::Answer {
                        id: "a-1".into(),
                        activity: "pre".into(),
                        value: serde_json::json!(3),
                    },
                },
            },
            Entry::Gone { event: code },
        ]
    }

    #[test]
    fn a_batch_round_trips() {
        let entries = sample();
        let batch = decode(encode(42, 7, &entries)).expect("decode");
        assert_eq!(batch.from, 42);
        assert_eq!(batch.seq, 7);
        assert_eq!(batch.entries.len(), entries.len());
        assert_eq!(batch.entries[0], entries[0]);
        assert_eq!(batch.entries[1], entries[1]);
        assert_eq!(batch.entries[3], entries[3]);
        let Entry::Command { command, .. } = &batch.entries[2] else {
            panic!("a command");
        };
        assert_eq!(command.conn(), ConnId::from_raw(5));
    }

    #[test]
    fn a_frame_longer_than_a_part_crosses_in_pieces_within_the_limit() {
        let big: Bytes = (0..(PART_BYTES * 2 + 1000))
            .map(|i| b'a' + (i % 26) as u8)
            .collect::<Vec<u8>>()
            .into();
        let conn = ConnId::from_raw(3);
        let entries = vec![
            Entry::Close { conn, code: 1012 },
            Entry::Frame {
                conns: vec![conn],
                frame: big.clone(),
            },
            Entry::Gone {
                event: EventCode::parse("ABC234").expect("code"),
            },
        ];
        let batches = into_batches(entries, PART_BYTES);
        let mut joined = Vec::new();
        let mut parts = 0;
        for batch in &batches {
            let encoded = encode(1, 1, batch);
            assert!(encoded.len() <= 2 * PART_BYTES + 64, "{}", encoded.len());
            for entry in decode(encoded).expect("decode").entries {
                if let Entry::Part {
                    conns,
                    chunk,
                    first,
                    last,
                } = entry
                {
                    assert_eq!(conns, vec![conn]);
                    assert_eq!(first, joined.is_empty());
                    joined.extend_from_slice(&chunk);
                    parts += 1;
                    assert_eq!(last, joined.len() == big.len());
                }
            }
        }
        assert_eq!(parts, 3);
        assert_eq!(joined, big);
    }

    #[test]
    fn every_cut_of_a_batch_is_an_error_never_a_panic() {
        let bytes = encode(1, 1, &sample());
        for len in 0..bytes.len() {
            let cut = bytes.slice(..len);
            // Cuts at an entry boundary are shorter valid batches; the rest are errors.
            if let Ok(batch) = decode(cut) {
                assert!(batch.entries.len() < 4);
            }
        }
        let mut bad = BytesMut::from(&bytes[..]);
        bad[0] = 9;
        assert_eq!(decode(bad.freeze()), Err(WireError::Version(9)));
    }
}
