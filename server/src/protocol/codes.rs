//! Error codes (the `code` of an `error` message) and WebSocket close codes.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Bad JSON, an unknown `type`, or a missing or mistyped envelope field.
    InvalidMessage,
    /// A value or field that does not fit its activity or its limits.
    InvalidValue,
    /// A message before `hello`.
    NotJoined,
    /// No such activity, or one for another room.
    UnknownActivity,
    /// The activity is not open.
    ActivityClosed,
    /// Q&A or directory turned off.
    NotAvailable,
    RateLimited,
    Unauthorized,
    EventEnded,
    /// Extension: the server could not store the message durably (database full, read-only or
    /// unreachable). Nothing was acknowledged; the client should resend later.
    Unavailable,
    /// Extension: one of the event's caps is reached (attendees, typed organisation names, an
    /// attendee's open questions). Sending the same again will not help until it changes.
    LimitReached,
    /// Extension: refused because of the event's phase (`before` or `after`); the error
    /// carries the phase.
    NotOpen,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidMessage => "invalid_message",
            ErrorCode::InvalidValue => "invalid_value",
            ErrorCode::NotJoined => "not_joined",
            ErrorCode::UnknownActivity => "unknown_activity",
            ErrorCode::ActivityClosed => "activity_closed",
            ErrorCode::NotAvailable => "not_available",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::EventEnded => "event_ended",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::LimitReached => "limit_reached",
            ErrorCode::NotOpen => "not_open",
        }
    }
}

/// WebSocket close codes (docs/protocol.md, "Close codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCode {
    /// 1012: server restarting; reconnect with jitter.
    Restarting,
    /// 4000: the event ended; stop.
    EventEnded,
    /// 4001: not authorised; stop.
    Unauthorized,
    /// 4008: too slow to keep up; reconnect and take a fresh snapshot.
    TooSlow,
    /// 4009: message too large.
    TooLarge,
    /// 4029: too many messages; back off and reconnect.
    TooMany,
}

impl CloseCode {
    pub fn code(self) -> u16 {
        match self {
            CloseCode::Restarting => 1012,
            CloseCode::EventEnded => 4000,
            CloseCode::Unauthorized => 4001,
            CloseCode::TooSlow => 4008,
            CloseCode::TooLarge => 4009,
            CloseCode::TooMany => 4029,
        }
    }

    /// The close code with this number, if it is one of ours.
    pub fn from_code(code: u16) -> Option<CloseCode> {
        [
            CloseCode::Restarting,
            CloseCode::EventEnded,
            CloseCode::Unauthorized,
            CloseCode::TooSlow,
            CloseCode::TooLarge,
            CloseCode::TooMany,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }

    pub fn reason(self) -> &'static str {
        match self {
            CloseCode::Restarting => "server restarting",
            CloseCode::EventEnded => "event ended",
            CloseCode::Unauthorized => "not authorised",
            CloseCode::TooSlow => "too slow to keep up",
            CloseCode::TooLarge => "message too large",
            CloseCode::TooMany => "too many messages",
        }
    }
}
