//! Joinup's domain, shared by the live server and the report so the two never count or
//! publish differently: activity kinds, answer values, tallies and the small-group rule.
//!
//! Pure: no I/O, no async, nothing of tokio, axum or sqlx; everything synchronous and
//! unit-tested beside the code. What only the server needs (the spec's parsing and
//! validation, codes, tokens, the clock, moderation, safeguarding) stays in its `domain`
//! module, which re-exports this crate's modules.
//!
//! # Layout
//! - [`kind`]: an activity's kind as written ([`Kind`]) and checked, with its settings
//!   ([`ActivityKind`]).
//! - [`answer`]: an answer checked against its activity and normalised ([`AnswerValue`]).
//! - [`tally`]: the one place an answer is counted ([`Tally`]): add, remove, merge, the
//!   figures read from it. The live hub counts every committed answer with it, the report
//!   every answer in its snapshot, through the [`tally::Countable`] view of each.
//! - [`ordered`]: the arithmetic of rankings and points, under [`Tally`].
//! - [`privacy`]: the small-group rule and the plans every published figure comes from.
//! - [`names`]: normalising what people type (names, words, free text).

pub mod answer;
pub mod kind;
pub mod names;
pub mod ordered;
pub mod privacy;
pub mod tally;

pub use answer::AnswerValue;
pub use kind::{ActivityKind, Kind};
pub use tally::Tally;
