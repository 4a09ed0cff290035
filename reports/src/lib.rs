//! Joinup's post-event report: an event snapshot in, documents out.
//!
//! This crate is pure: no I/O, no async, no axum, no sqlx. The server reads the database
//! into a [`Snapshot`] (or, after `joinup purge`, reads the kept [`Summary`]); this crate
//! turns it into `report.html`, `report.pdf`, `answers.csv` and `summary.json`.
//!
//! # Layout
//! - [`snapshot`]: the input: an event's definition and its anonymous answers.
//! - [`privacy`]: the small-group rule, shared with the live hub so they never disagree.

pub mod privacy;
pub mod snapshot;

pub use snapshot::{ActivityDef, Answer, AttendeeRecord, Snapshot};
