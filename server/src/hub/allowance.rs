//! Each attendee's message allowance inside its event, whatever the transport.
//!
//! A WebSocket has its own allowance per connection (`http::ws`), but an attendee can also
//! POST messages to the fallback route, or open several sockets with one token: without a
//! limit inside the event, one attendee POSTing as fast as the server answers had 2,000
//! questions acknowledged (each a committed write) in under 7 seconds. So the event's actor
//! holds one token bucket per attendee, with the same numbers as a connection's (60 at once,
//! 30 a second), and every message of that attendee takes from it, however it came.
//!
//! The time a message waited for the actor (its mailbox full, or the connection's reader
//! blocked on it) is not held against the attendee: what a client sent at the allowed rate
//! while the server was behind arrives in one burst, and the bucket may then hold up to that
//! wait's worth (at most 10 s) above its burst. Refilling still comes only from time
//! passing, so a client gains nothing by making the server wait.

use std::time::Duration;

use tokio::time::Instant;

/// Messages an attendee may send at once, and per second sustained (as a connection:
/// the contract's floor is 50 and 20).
pub const BURST: f64 = 60.0;
pub const PER_SECOND: f64 = 30.0;
/// The longest wait of the server's own that is made up for.
const MOST_CREDITED: Duration = Duration::from_secs(10);
/// Waits shorter than this are ordinary and earn nothing.
const LEAST_CREDITED: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, Copy)]
pub struct Allowance {
    tokens: f64,
    refilled: Instant,
}

impl Allowance {
    pub fn new(now: Instant) -> Allowance {
        Allowance {
            tokens: BURST,
            refilled: now,
        }
    }

    /// One message, read by its transport at `sent` and handled at `now`: `true` when the
    /// attendee may send it.
    pub fn take(&mut self, sent: Instant, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        let waited = now.saturating_duration_since(sent);
        let cap = if waited >= LEAST_CREDITED {
            BURST + waited.min(MOST_CREDITED).as_secs_f64() * PER_SECOND
        } else {
            BURST
        };
        if self.tokens < cap {
            self.tokens = (self.tokens + elapsed * PER_SECOND).min(cap);
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let start = Instant::now();
        let mut allowance = Allowance::new(start);
        let taken = (0..100).filter(|_| allowance.take(start, start)).count();
        assert_eq!(taken, BURST as usize);
        let later = start + Duration::from_secs(1);
        let taken = (0..100).filter(|_| allowance.take(later, later)).count();
        assert_eq!(taken, PER_SECOND as usize);
    }

    #[test]
    fn a_backlog_the_server_held_is_not_refused_but_a_flood_still_is() {
        // 20 messages a second for 8 s, held by the server and handled at once.
        let start = Instant::now();
        let mut allowance = Allowance::new(start);
        let handled = start + Duration::from_secs(8);
        let taken = (0..160)
            .filter(|n| allowance.take(start + Duration::from_millis(50 * n), handled))
            .count();
        assert_eq!(taken, 160);
        // Nothing more came from the wait: a flood now is refused after what is left.
        let refused = (0..200)
            .filter(|_| !allowance.take(handled, handled))
            .count();
        assert!(refused > 0);
    }
}
