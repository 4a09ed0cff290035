//! Frames about what attendees post for others: questions (as hosts and as everyone see
//! them), cards and the directory, free texts and the presenter's wall, and the support
//! card. Moderation and who may see what are the hub's; these only carry the result.

use serde::Serialize;

use super::{Frame, Tagged, encode};
use crate::domain::card::Card;

/// A question as hosts see it, with its moderation state.
#[derive(Serialize)]
pub struct HostQuestion<'a> {
    /// Asked before the live part.
    pub advance: bool,
    /// What risk the text may disclose (`self_harm`, `suicide`, `abuse`, `danger`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concern: Option<&'static str>,
    pub flagged: bool,
    pub id: &'a str,
    /// The session it belongs to; `None` (null): the event as a whole.
    pub session: Option<&'a str>,
    pub state: &'a str,
    pub text: &'a str,
    pub votes: u64,
}

/// A question as attendees and the presenter see it.
#[derive(Serialize)]
pub struct PublicQuestion<'a> {
    pub advance: bool,
    pub answered: bool,
    pub id: &'a str,
    pub session: Option<&'a str>,
    pub text: &'a str,
    pub votes: u64,
}

/// `{"type": "question", "question": QUESTION}`: a new or changed question, to hosts.
#[derive(Serialize)]
pub struct Question<'a> {
    pub question: HostQuestion<'a>,
    r#type: &'static str,
}

pub fn question(question: HostQuestion<'_>) -> Frame {
    encode(&Question {
        question,
        r#type: "question",
    })
}

/// `{"type": "questions", "questions": [...], "total": N}`: the top of the visible list.
#[derive(Serialize)]
pub struct Questions<'a> {
    pub questions: &'a [PublicQuestion<'a>],
    pub total: usize,
    r#type: &'static str,
}

pub fn questions(questions: &[PublicQuestion<'_>], total: usize) -> Frame {
    encode(&Questions {
        questions,
        total,
        r#type: "questions",
    })
}

/// A card as attendees see it (`flagged` and `state` absent) or as hosts see it.
#[derive(Serialize)]
pub struct CardView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concern: Option<&'static str>,
    pub contact: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flagged: Option<bool>,
    pub id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    pub offer: &'a str,
    pub organisation: &'a str,
    pub referral: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'a str>,
    pub service: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'a str>,
}

impl<'a> CardView<'a> {
    /// The card as attendees see it in the directory.
    pub fn public(card: &'a Card, id: &'a str) -> CardView<'a> {
        CardView {
            concern: None,
            contact: &card.contact,
            flagged: None,
            id,
            name: card.name.as_deref(),
            offer: &card.offer,
            organisation: &card.organisation,
            referral: &card.referral,
            role: card.role.as_deref(),
            service: &card.service,
            state: None,
        }
    }

    /// The card as hosts see it, with its moderation state.
    pub fn host(card: &'a Card, id: &'a str, state: &'a str, flagged: bool) -> CardView<'a> {
        CardView {
            flagged: Some(flagged),
            state: Some(state),
            ..CardView::public(card, id)
        }
    }

    /// The host's view with the risk its text may disclose.
    pub fn with_concern(self, concern: Option<crate::domain::safeguarding::Concern>) -> Self {
        CardView {
            concern: concern.map(|c| c.as_str()),
            ..self
        }
    }
}

/// `{"type": "card", "card": CARD}`: a new or changed card, to hosts.
#[derive(Serialize)]
pub struct CardMsg<'a> {
    pub card: CardView<'a>,
    r#type: &'static str,
}

pub fn card(card: CardView<'_>) -> Frame {
    encode(&CardMsg {
        card,
        r#type: "card",
    })
}

/// `{"type": "directory", "cards": [...]}`: the visible cards, to attendees.
#[derive(Serialize)]
pub struct Directory<'a> {
    pub cards: &'a [CardView<'a>],
    r#type: &'static str,
}

pub fn directory(cards: &[CardView<'_>]) -> Frame {
    encode(&Directory {
        cards,
        r#type: "directory",
    })
}

/// A text answer as hosts see it, with its moderation state (in a snapshot).
#[derive(Serialize)]
pub struct Text<'a> {
    pub activity: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concern: Option<&'static str>,
    pub flagged: bool,
    pub id: &'a str,
    /// In a frame, the earlier text of the same attendee this one replaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<&'a str>,
    pub state: &'a str,
    pub text: &'a str,
}

/// `{"type": "text", ...TEXT}`: a new or changed text answer, to hosts.
pub fn text(text: &Text<'_>) -> Frame {
    encode(&Tagged {
        body: text,
        r#type: "text",
    })
}

#[derive(Serialize)]
struct Support<'a> {
    support: &'a crate::domain::safeguarding::SupportCard,
    r#type: &'static str,
}

/// `{"type": "support", "support": {"title", "text", "lines": [...]}}`: the event's support
/// card, to the attendee whose question, text or card may disclose a risk.
pub fn support(card: &crate::domain::safeguarding::SupportCard) -> Frame {
    encode(&Support {
        support: card,
        r#type: "support",
    })
}

/// One text on the presenter's wall: an approved text answer, without its moderation state.
#[derive(Serialize)]
pub struct WallText<'a> {
    pub id: &'a str,
    pub text: &'a str,
}

#[derive(Serialize)]
struct Wall<'a> {
    activity: &'a str,
    texts: &'a [WallText<'a>],
    r#type: &'static str,
}

/// `{"type": "wall", "activity": KEY, "texts": [...]}`: the focused, revealed text activity's
/// approved texts, newest first, to the presenter.
pub fn wall(activity: &str, texts: &[WallText<'_>]) -> Frame {
    encode(&Wall {
        activity,
        texts,
        r#type: "wall",
    })
}
