//! A WebSocket connection's message allowance: how many messages a host's and a client's
//! connection may send, and the refusals (`rate_limited` errors) each may earn before it is
//! closed with 4029. Pure arithmetic on instants; nothing here touches the socket.

use tokio::time::Instant;

use crate::hub::allowance::{self, Bucket, Rate};

/// Refusals a connection may earn before it is closed with 4029, and how fast that
/// allowance comes back: a client that overshoots now and then is never closed, one that
/// keeps flooding is.
const REFUSALS: f64 = 200.0;
const REFUSALS_FORGIVEN_PER_SECOND: f64 = 10.0;
/// A host's connection: a moderator clearing a queue of hundreds of questions one click
/// (or one keypress) at a time is never refused; a batch `moderate` with `targets` is one
/// message however many items it names.
pub(super) const HOST_RATE: Limits = Limits {
    rate: Rate {
        burst: 1000.0,
        per_second: 200.0,
    },
    refusals: 2000.0,
};
/// An attendee's or presenter's connection: an attendee's numbers.
pub(super) const CLIENT_RATE: Limits = Limits {
    rate: allowance::ATTENDEE,
    refusals: REFUSALS,
};

/// How many messages a kind of connection may send, and the refusals it may earn.
#[derive(Clone, Copy)]
pub(super) struct Limits {
    rate: Rate,
    /// Refusals earned before a close with 4029.
    refusals: f64,
}

/// A connection's message allowance: a bucket ([`allowance::Bucket`], the type the event's
/// per-attendee allowance uses too), and the refusals it may earn before it is closed.
pub(super) struct Allowance {
    bucket: Bucket,
    /// What is left of the refusal allowance, and when it was last forgiven.
    refusals: f64,
    most_refusals: f64,
    forgiven: Instant,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Take,
    Refuse,
    /// Refused once too often: close the connection.
    Close,
}

impl Allowance {
    pub(super) fn new(now: Instant, limits: Limits) -> Allowance {
        Allowance {
            bucket: Bucket::new(now, limits.rate),
            refusals: limits.refusals,
            most_refusals: limits.refusals,
            forgiven: now,
        }
    }

    /// One message, read at `now`.
    pub(super) fn take(&mut self, now: Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.forgiven).as_secs_f64();
        self.forgiven = self.forgiven.max(now);
        self.refusals =
            (self.refusals + elapsed * REFUSALS_FORGIVEN_PER_SECOND).min(self.most_refusals);
        if self.bucket.take(now) {
            return Verdict::Take;
        }
        self.refusals -= 1.0;
        if self.refusals < 0.0 {
            Verdict::Close
        } else {
            Verdict::Refuse
        }
    }

    /// The server kept this connection unread from `since` until `now` (its event's mailbox
    /// was full): what the client sent meanwhile at the allowed rate arrives in one burst,
    /// and is not held against it ([`Bucket::credit`]).
    pub(super) fn credit(&mut self, since: Instant, now: Instant) {
        self.bucket.credit(since, now);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const BURST: f64 = allowance::ATTENDEE.burst;
    const PER_SECOND: f64 = allowance::ATTENDEE.per_second;

    #[test]
    fn a_burst_is_taken_and_a_flood_refused_then_closed() {
        let now = Instant::now();
        let mut allowance = Allowance::new(now, CLIENT_RATE);
        for _ in 0..BURST as usize {
            assert_eq!(allowance.take(now), Verdict::Take);
        }
        for _ in 0..REFUSALS as usize {
            assert_eq!(allowance.take(now), Verdict::Refuse);
        }
        assert_eq!(allowance.take(now), Verdict::Close);
    }

    #[test]
    fn the_allowance_refills_at_the_sustained_rate() {
        let start = Instant::now();
        let mut allowance = Allowance::new(start, CLIENT_RATE);
        for _ in 0..BURST as usize {
            assert_eq!(allowance.take(start), Verdict::Take);
        }
        let later = start + Duration::from_secs(1);
        for _ in 0..PER_SECOND as usize {
            assert_eq!(allowance.take(later), Verdict::Take);
        }
        assert_eq!(allowance.take(later), Verdict::Refuse);
    }

    #[test]
    fn a_backlog_the_server_left_unread_is_not_refused() {
        // A client at 20 messages a second while the server did not read its socket for
        // 8 s: 160 messages arrive at once.
        let start = Instant::now();
        let mut allowance = Allowance::new(start, CLIENT_RATE);
        assert_eq!(allowance.take(start), Verdict::Take);
        let later = start + Duration::from_secs(8);
        allowance.credit(start, later);
        for _ in 0..160 {
            assert_eq!(allowance.take(later), Verdict::Take);
        }
        // The credit is for the wait only: a flood past it is refused as before.
        let mut refused = 0;
        for _ in 0..200 {
            if allowance.take(later) != Verdict::Take {
                refused += 1;
            }
        }
        assert!(refused > 0);
    }

    #[test]
    fn short_waits_earn_nothing() {
        let now = Instant::now();
        let mut allowance = Allowance::new(now, CLIENT_RATE);
        allowance.credit(now, now + Duration::from_millis(5));
        for _ in 0..BURST as usize {
            assert_eq!(allowance.take(now), Verdict::Take);
        }
        assert_eq!(allowance.take(now), Verdict::Refuse);
    }
}
