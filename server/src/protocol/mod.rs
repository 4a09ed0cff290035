//! The wire: client and host messages decoded once at the edge, server messages encoded,
//! error and close codes. No I/O lives here.

pub mod client;
pub mod codes;
pub mod event;
pub mod phases;
pub mod server;
pub mod tally;

pub use client::{
    ClientMsg, DecodeError, HostMsg, ItemKind, ModAction, decode_client, decode_host,
};
pub use codes::{CloseCode, ErrorCode};

/// The largest text frame accepted from any client (docs/protocol.md).
pub const MAX_FRAME: usize = 16 * 1024;
