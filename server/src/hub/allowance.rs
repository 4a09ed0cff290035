//! Message allowances: one token bucket type for a connection's limit (`http::ws`) and for
//! each attendee's limit inside its event, whatever the transport.
//!
//! A WebSocket has its own allowance per connection, but an attendee can also POST messages
//! to the fallback route, or open several sockets with one token: without a limit inside the
//! event, one attendee POSTing as fast as the server answers had 2,000 questions
//! acknowledged (each a committed write) in under 7 seconds. So the event's actor holds one
//! bucket per attendee, with the same numbers as a connection's (60 at once, 30 a second),
//! and every message of that attendee takes from it, however it came.
//!
//! **The server's own holds are not held against anyone.** When the server is behind, a
//! client's messages wait: in the event's mailbox, or in the socket while the connection's
//! reader waits for room in that mailbox. What the client sent at the allowed rate meanwhile
//! then arrives in bursts, and the last of it (read from the socket once the overload ends)
//! arrives with no wait of its own at all. So a bucket is *credited* the time the server held
//! its sender's messages, at the sustained rate, above its burst, and keeps that credit until
//! it is used:
//! - the time is counted once: a hold that overlaps one already credited (messages of the
//!   same attendee from several sockets, or waiting in the mailbox together) earns only what
//!   it adds, so credit never grows faster than the clock;
//! - holds under 10 ms are ordinary and earn nothing;
//! - the credit kept is at most a minute's worth, so what an attendee can send in one burst
//!   after an overload is bounded.
//!
//! Refilling otherwise comes only from time passing, up to the burst: a client gains nothing
//! by making the server wait, since the server's holds are real time it would have been
//! allowed to send in anyway.

use std::time::Duration;

use tokio::time::Instant;

/// How many messages a sender may send.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// At once.
    pub burst: f64,
    /// Sustained, a second.
    pub per_second: f64,
}

/// An attendee's, or an attendee's connection's, numbers (at least the 50 at once and 20 a
/// second every Joinup client may count on).
pub const ATTENDEE: Rate = Rate {
    burst: 60.0,
    per_second: 30.0,
};

/// Holds shorter than this are ordinary and earn nothing.
const LEAST_CREDITED: Duration = Duration::from_millis(10);
/// The most credit a bucket keeps, as time at the sustained rate.
const MOST_KEPT: Duration = Duration::from_secs(60);

/// A token bucket of `burst` refilled at `per_second`, with credit above the burst for the
/// server's own holds.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    rate: Rate,
    tokens: f64,
    refilled: Instant,
    /// Holds up to here are credited already.
    credited_to: Instant,
}

impl Bucket {
    pub fn new(now: Instant, rate: Rate) -> Bucket {
        Bucket {
            rate,
            tokens: rate.burst,
            refilled: now,
            credited_to: now,
        }
    }

    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// The server held a message of this sender from `since` until `now`: credits the part
    /// of that time not credited before.
    pub fn credit(&mut self, since: Instant, now: Instant) {
        let from = since.max(self.credited_to);
        let held = now.saturating_duration_since(from);
        if held < LEAST_CREDITED {
            return;
        }
        self.credited_to = now;
        let most = self.rate.burst + MOST_KEPT.as_secs_f64() * self.rate.per_second;
        if self.tokens < most {
            self.tokens = (self.tokens + held.as_secs_f64() * self.rate.per_second).min(most);
        }
    }

    /// One message at `now`: `true` when the sender may send it. Time passing refills the
    /// bucket up to its burst; credit above the burst is kept until used.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.refilled = self.refilled.max(now);
        if self.tokens < self.rate.burst {
            self.tokens = (self.tokens + elapsed * self.rate.per_second).min(self.rate.burst);
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// An attendee's allowance inside its event.
#[derive(Debug, Clone, Copy)]
pub struct Allowance(Bucket);

impl Allowance {
    pub fn new(now: Instant) -> Allowance {
        Allowance(Bucket::new(now, ATTENDEE))
    }

    /// One message, read by its transport at `sent` and handled at `now`: `true` when the
    /// attendee may send it. The time between is the server's hold, and is credited.
    pub fn take(&mut self, sent: Instant, now: Instant) -> bool {
        self.0.credit(sent, now);
        self.0.take(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BURST: usize = ATTENDEE.burst as usize;
    const PER_SECOND: usize = ATTENDEE.per_second as usize;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let start = Instant::now();
        let mut allowance = Allowance::new(start);
        let taken = (0..100).filter(|_| allowance.take(start, start)).count();
        assert_eq!(taken, BURST);
        let later = start + Duration::from_secs(1);
        let taken = (0..100).filter(|_| allowance.take(later, later)).count();
        assert_eq!(taken, PER_SECOND);
    }

    #[test]
    fn a_backlog_the_server_held_is_not_refused_but_a_flood_still_is() {
        // 20 messages a second for 8 s, held by the server and handled at once.
        let start = Instant::now();
        let mut allowance = Allowance::new(start);
        let handled = start + Duration::from_secs(8);
        let taken = (0..160)
            .filter(|n| allowance.take(start + ms(50 * n), handled))
            .count();
        assert_eq!(taken, 160);
        // Nothing more came from the wait: a flood now is refused after what is left.
        let refused = (0..400)
            .filter(|_| !allowance.take(handled, handled))
            .count();
        assert!(refused > 0);
    }

    /// What the load tool's probe met at saturation (BENCHMARKS.md, the trust fixes against
    /// the build before them): an attendee answering 10 times a second into an overloaded
    /// event. For 30 s the connection's reader got one message into the full mailbox a
    /// second, each held about a second (its wait for room and then the queue); the rest
    /// queued in the socket. When the overload ended the reader read that backlog, 270
    /// messages, at once, each with no hold of its own. The allowance of the build before
    /// this one credited only each message's own hold and refused most of the backlog.
    #[test]
    fn the_backlog_read_after_an_overload_is_not_refused() {
        let start = Instant::now();
        let mut allowance = Allowance::new(start);
        for second in 1..=30u64 {
            let handled = start + Duration::from_secs(second);
            assert!(
                allowance.take(handled - ms(990), handled),
                "second {second}"
            );
        }
        let end = start + Duration::from_secs(30);
        let refused = (0..270)
            .filter(|n| {
                let read = end + Duration::from_micros(100 * n);
                !allowance.take(read, read + Duration::from_micros(50))
            })
            .count();
        assert_eq!(refused, 0);
    }

    #[test]
    fn holds_that_overlap_are_credited_once() {
        // Ten sockets of one attendee, each with a message held for the same 5 s: the
        // server held the attendee for 5 s, not 50.
        let start = Instant::now();
        let mut allowance = Allowance::new(start);
        let handled = start + Duration::from_secs(5);
        let taken = (0..1000).filter(|_| allowance.take(start, handled)).count();
        // The burst (refilled over those 5 s, up to itself) and 5 s of credit.
        assert_eq!(taken, BURST + 5 * PER_SECOND);
    }

    #[test]
    fn short_holds_earn_nothing() {
        let start = Instant::now();
        let mut allowance = Allowance::new(start);
        let taken = (0..100)
            .filter(|_| allowance.take(start, start + ms(5)))
            .count();
        assert_eq!(taken, BURST);
    }

    #[test]
    fn credit_kept_is_at_most_a_minute() {
        let start = Instant::now();
        let mut bucket = Bucket::new(start, ATTENDEE);
        let later = start + Duration::from_secs(600);
        bucket.credit(start, later);
        let taken = (0..100_000).filter(|_| bucket.take(later)).count();
        assert_eq!(taken, BURST + 60 * PER_SECOND);
    }
}
