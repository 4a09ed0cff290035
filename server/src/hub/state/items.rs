//! The pieces of an event's live state: activity and moderation states, the attendees,
//! and the items attendees post (questions, text answers, cards) with the views of them
//! each audience is sent. No counting or choosing happens here: that is `views.rs` and
//! the actor.

use serde_json::Value;

use crate::domain::card::Card;
use crate::domain::safeguarding::Concern;
use crate::domain::spec::Moderation;
use crate::domain::{AnswerValue, Tally};
use crate::hub::{NumMap, NumSet};
use crate::protocol::server::{CardView, HostQuestion, PublicQuestion};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActState {
    Ready,
    Open,
    Closed,
}

impl ActState {
    pub fn as_str(self) -> &'static str {
        match self {
            ActState::Ready => "ready",
            ActState::Open => "open",
            ActState::Closed => "closed",
        }
    }

    pub(super) fn parse(s: &str) -> ActState {
        match s {
            "open" => ActState::Open,
            "closed" => ActState::Closed,
            _ => ActState::Ready,
        }
    }
}

/// Moderation state of a question, text answer or card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    Pending,
    Approved,
    Hidden,
    Answered,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::Approved => "approved",
            ItemState::Hidden => "hidden",
            ItemState::Answered => "answered",
        }
    }

    pub fn parse(s: &str) -> ItemState {
        match s {
            "approved" => ItemState::Approved,
            "hidden" => ItemState::Hidden,
            "answered" => ItemState::Answered,
            _ => ItemState::Pending,
        }
    }

    /// The state a new item starts in under the event's moderation rule.
    pub fn initial(moderation: Moderation) -> ItemState {
        match moderation {
            Moderation::Pre => ItemState::Pending,
            Moderation::Post | Moderation::None => ItemState::Approved,
        }
    }

    /// The state a new item starts in: held `pending` for a person to read when it may
    /// disclose a risk ([`crate::domain::safeguarding`]), whatever the moderation rule,
    /// else as [`ItemState::initial`].
    pub fn held(moderation: Moderation, concern: Option<Concern>) -> ItemState {
        if concern.is_some() {
            ItemState::Pending
        } else {
            ItemState::initial(moderation)
        }
    }

    /// Whether attendees and the presenter may see an item in this state.
    pub fn visible(self) -> bool {
        matches!(self, ItemState::Approved | ItemState::Answered)
    }
}

/// The organisation and sector an answer was given under: where it counts, for good. A
/// profile changed later moves the attendee's attendance, never their answers
/// (docs/privacy.md), so a closed activity's breakdown by sector never changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Under {
    pub organisation: Option<String>,
    pub sector: Option<String>,
}

pub struct ActivityLive {
    pub state: ActState,
    pub revealed: bool,
    pub tally: Tally,
    /// The activity's wire definition, encoded once.
    pub json: Value,
}

pub struct Attendee {
    pub id: i64,
    pub token_hash: String,
    pub organisation: Option<String>,
    pub sector: Option<String>,
    pub room: Option<String>,
    /// Current committed answers by activity index.
    pub answers: NumMap<usize, AnswerValue>,
    /// Hashes of every message id committed for this attendee.
    pub seen: NumSet<u64>,
    /// Open connections (WebSocket or stream).
    pub conns: u32,
    pub voted: NumSet<usize>,
}

pub struct Question {
    pub id: String,
    pub seq: i64,
    pub text: String,
    pub state: ItemState,
    pub flagged: bool,
    /// A risk the text may disclose ([`crate::domain::safeguarding`]): held for the lead,
    /// never automatic.
    pub concern: Option<Concern>,
    pub votes: u64,
    /// The session it belongs to; `None`: the event as a whole.
    pub session: Option<String>,
    /// Asked before the live part.
    pub advance: bool,
}

impl Question {
    pub fn host_view(&self) -> HostQuestion<'_> {
        HostQuestion {
            concern: self.concern.map(Concern::as_str),
            flagged: self.flagged,
            id: &self.id,
            session: self.session.as_deref(),
            advance: self.advance,
            state: self.state.as_str(),
            text: &self.text,
            votes: self.votes,
        }
    }

    pub fn public_view(&self) -> PublicQuestion<'_> {
        PublicQuestion {
            advance: self.advance,
            answered: self.state == ItemState::Answered,
            id: &self.id,
            session: self.session.as_deref(),
            text: &self.text,
            votes: self.votes,
        }
    }
}

pub struct TextItem {
    pub id: String,
    pub attendee: usize,
    pub activity: usize,
    pub state: ItemState,
    pub flagged: bool,
    pub concern: Option<Concern>,
    /// When it arrived among the event's texts; stamped by [`EventState::add_text`].
    pub arrived: u64,
}

pub struct CardItem {
    pub id: String,
    pub seq: i64,
    pub card: Card,
    pub state: ItemState,
    pub flagged: bool,
    pub concern: Option<Concern>,
}

impl CardItem {
    pub fn public_view(&self) -> CardView<'_> {
        CardView::public(&self.card, &self.id)
    }

    pub fn host_view(&self) -> CardView<'_> {
        CardView::host(&self.card, &self.id, self.state.as_str(), self.flagged)
            .with_concern(self.concern)
    }
}
