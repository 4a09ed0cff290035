//! The pure core: event specs and their validation, codes and tokens, the clock,
//! moderation and safeguarding, cards and reactions.
//!
//! What the report shares with the live hub (activity kinds, answer values, tallies, the
//! small-group rule, name normalisation) lives in the `joinup-domain` crate, re-exported
//! here under the same paths (`domain::tally`, `domain::privacy`...), so the live view and
//! the report count and publish with one code.
//!
//! Nothing here does I/O or knows about sockets, HTTP or SQL; everything is synchronous
//! and unit-tested beside the code. The hub and the storage layer build on these types.

pub use joinup_domain::{answer, names, privacy, tally};

pub mod card;
pub mod clock;
pub mod code;
pub mod edit;
pub mod link;
pub mod moderation;
pub mod phase;
pub mod reaction;
pub mod safeguarding;
pub mod spec;
pub mod token;

pub use answer::AnswerValue;
pub use code::{ActivityKey, EventCode};
pub use spec::{Activity, ActivityKind, Event, EventSpec, Moderation, SpecError};
pub use tally::Tally;
