//! The pure core: event specs and their validation, answer values, tally arithmetic,
//! the small-group rule and name normalisation.
//!
//! Nothing here does I/O or knows about sockets, HTTP or SQL; everything is synchronous
//! and unit-tested beside the code. The hub and the storage layer build on these types.

pub mod answer;
pub mod card;
pub mod clock;
pub mod code;
pub mod edit;
pub mod link;
pub mod moderation;
pub mod names;
pub mod phase;
pub mod privacy;
pub mod reaction;
pub mod safeguarding;
pub mod spec;
pub mod tally;
pub mod token;

pub use answer::AnswerValue;
pub use code::{ActivityKey, EventCode};
pub use spec::{Activity, ActivityKind, Event, EventSpec, Moderation, SpecError};
pub use tally::Tally;
