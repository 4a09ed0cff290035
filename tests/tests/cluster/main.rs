//! Black-box tests of Joinup's cluster mode, `joinup serve --nats`: three server processes on
//! one PostgreSQL database and one private NATS server, with real WebSocket clients spread
//! over the nodes (or, in `shared_port`, sharing one address through SO_REUSEPORT).
//!
//! They need a PostgreSQL server and `nats-server` (found or started by `services`: a
//! missing one ends the suite with one line saying what to install).
//! `cargo test --workspace` runs them; alone: `cargo test -p joinup-tests --test cluster`.
//!
//! # Layout
//! - `harness`: the cluster (nodes, NATS, database), started and stopped per test;
//! - `phone`: a resilient attendee (reconnect to another node, resume, resend unacked);
//! - `host`: a host dashboard watched in the background, reconnecting after a close;
//! - `truth`: the ground truth, computed from what the attendees sent;
//! - `stored`: what PostgreSQL holds, compared with what the attendees sent;
//! - `pg_proxy`: a relay to PostgreSQL the test can cut or hold;
//! - `missing`: a machine without nats-server gets one line, not a panic;
//! - the tests: `live`, `edit`, `node_loss`, `nats_outage`, `db_outage`, `phases`, `privacy`,
//!   `roles`, `shared_port`, `stall`.

#[allow(dead_code)]
#[path = "../it/helpers.rs"]
mod helpers;
#[path = "../it/services.rs"]
mod services;

mod harness;
mod host;
mod pg_proxy;
mod phone;
mod socket;
mod stored;
mod truth;

mod db_outage;
mod edit;
mod live;
mod missing;
mod nats_outage;
mod node_loss;
mod phases;
mod privacy;
mod roles;
mod shared_port;
mod stall;
