//! Reactions ("slow down", "need a break", "agree"): counted in the event's memory for the
//! hosts (and the presenter, when a host shows them), never written down and never kept
//! against a person.
//!
//! What is kept: per second, how many of each reaction arrived, for the last [`WINDOW`];
//! and, for the rate limit only, when each attendee last sent each reaction, forgotten
//! [`GAP`] later. Hosts get a `reactions` frame with the counts of the window, coalesced: at
//! most one every [`PUSH_GAP`], and one more when counts leave the window.
//!
//! One attendee cannot flood the room: past their message allowance (shared with
//! answers) every message is refused, and each reaction counts at most once per [`GAP`] for
//! them, so one person moves any count by at most one in five seconds.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use crate::protocol::ErrorCode;
use crate::protocol::server::{self, Frame};

/// How far back the counts reach.
pub(super) const WINDOW: Duration = Duration::from_secs(60);
/// The least time between two counted reactions of one kind from one attendee.
pub(super) const GAP: Duration = Duration::from_secs(5);
/// The least time between two `reactions` frames.
pub(super) const PUSH_GAP: Duration = Duration::from_millis(500);

pub(super) struct Reactions {
    /// The event's reactions, in the spec's order.
    keys: Vec<String>,
    start: Instant,
    /// (second since `start`, count per key), oldest first, the last [`WINDOW`] only.
    buckets: VecDeque<(u64, Vec<u64>)>,
    /// (attendee, key index) to when it last counted, for [`GAP`].
    last: HashMap<(usize, usize), Instant>,
    dirty: bool,
    sent: Option<Instant>,
    /// Whether the presenter shows the reactions (a host's choice, kept in memory).
    shown: bool,
}

impl Reactions {
    pub(super) fn new(keys: &[String], now: Instant) -> Reactions {
        Reactions {
            keys: keys.to_vec(),
            start: now,
            buckets: VecDeque::new(),
            last: HashMap::new(),
            dirty: false,
            sent: None,
            shown: false,
        }
    }

    pub(super) fn shown(&self) -> bool {
        self.shown
    }

    /// Counts `key` from `attendee`, or says why not (an error code and a sentence).
    pub(super) fn react(
        &mut self,
        attendee: usize,
        key: &str,
        now: Instant,
    ) -> Result<(), (ErrorCode, String)> {
        let Some(k) = self.keys.iter().position(|r| r == key) else {
            let message = if self.keys.is_empty() {
                "reactions are turned off for this event".to_owned()
            } else {
                format!(
                    "unknown reaction {key:?}; this event takes {}",
                    self.keys.join(", ")
                )
            };
            return Err((ErrorCode::InvalidValue, message));
        };
        if let Some(&at) = self.last.get(&(attendee, k))
            && now.saturating_duration_since(at) < GAP
        {
            return Err((
                ErrorCode::RateLimited,
                format!(
                    "one {key:?} every {} seconds counts; this one did not",
                    GAP.as_secs()
                ),
            ));
        }
        self.last.insert((attendee, k), now);
        let second = self.second(now);
        match self.buckets.back_mut() {
            Some((s, counts)) if *s == second => counts[k] += 1,
            _ => {
                let mut counts = vec![0; self.keys.len()];
                counts[k] = 1;
                self.buckets.push_back((second, counts));
            }
        }
        self.dirty = true;
        Ok(())
    }

    fn second(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.start).as_secs()
    }

    /// Drops what fell out of the window (marking the counts changed if any did) and the
    /// rate limit's entries older than [`GAP`].
    fn expire(&mut self, now: Instant) {
        let oldest = (self.second(now) + 1).saturating_sub(WINDOW.as_secs());
        while let Some((s, counts)) = self.buckets.front() {
            if *s >= oldest {
                break;
            }
            if counts.iter().any(|&n| n > 0) {
                self.dirty = true;
            }
            self.buckets.pop_front();
        }
        if !self.last.is_empty() {
            self.last
                .retain(|_, at| now.saturating_duration_since(*at) < GAP);
        }
    }

    /// The counts of the window, by key.
    fn counts(&self) -> BTreeMap<&str, u64> {
        let mut out: BTreeMap<&str, u64> = self.keys.iter().map(|k| (k.as_str(), 0)).collect();
        for (_, counts) in &self.buckets {
            for (key, n) in self.keys.iter().zip(counts) {
                if let Some(total) = out.get_mut(key.as_str()) {
                    *total += n;
                }
            }
        }
        out
    }

    /// The `reactions` frame as it stands.
    pub(super) fn frame(&self) -> Frame {
        server::reactions(&self.counts(), self.shown, WINDOW.as_secs())
    }

    /// The frame a presenter gets: the counts while shown, else none (`shown: false`).
    pub(super) fn presenter_frame(&self) -> Frame {
        if self.shown {
            self.frame()
        } else {
            server::reactions(&BTreeMap::new(), false, WINDOW.as_secs())
        }
    }

    /// Called every tick: the frame to push if the counts changed and none went in the last
    /// [`PUSH_GAP`].
    pub(super) fn due(&mut self, now: Instant) -> Option<Frame> {
        self.expire(now);
        if !self.dirty
            || self
                .sent
                .is_some_and(|sent| now.saturating_duration_since(sent) < PUSH_GAP)
        {
            return None;
        }
        self.dirty = false;
        self.sent = Some(now);
        Some(self.frame())
    }

    pub(super) fn set_shown(&mut self, show: bool) {
        self.shown = show;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn keys() -> Vec<String> {
        vec!["agree".to_owned(), "slow_down".to_owned()]
    }

    fn counts(frame: Option<Frame>) -> Value {
        let frame = frame.expect("a frame is due");
        let value: Value = serde_json::from_slice(&frame).unwrap_or_default();
        value["counts"].clone()
    }

    #[test]
    fn one_attendee_counts_once_per_kind_per_gap() {
        let t0 = Instant::now();
        let mut r = Reactions::new(&keys(), t0);
        assert!(r.react(1, "agree", t0).is_ok());
        let again = r.react(1, "agree", t0 + Duration::from_secs(1));
        assert_eq!(again.map_err(|e| e.0), Err(ErrorCode::RateLimited));
        assert!(r.react(1, "slow_down", t0 + Duration::from_secs(1)).is_ok());
        assert!(r.react(2, "agree", t0 + Duration::from_secs(1)).is_ok());
        assert!(r.react(1, "agree", t0 + GAP).is_ok());
        let unknown = r.react(1, "boo", t0);
        assert_eq!(unknown.map_err(|e| e.0), Err(ErrorCode::InvalidValue));
        assert_eq!(counts(r.due(t0 + GAP)), json!({"agree": 3, "slow_down": 1}));
    }

    #[test]
    fn frames_are_coalesced_and_counts_leave_the_window() {
        let t0 = Instant::now();
        let mut r = Reactions::new(&keys(), t0);
        assert!(r.due(t0).is_none(), "nothing changed");
        assert!(r.react(1, "agree", t0).is_ok());
        assert_eq!(counts(r.due(t0)), json!({"agree": 1, "slow_down": 0}));
        assert!(r.react(2, "agree", t0).is_ok());
        assert!(r.due(t0 + Duration::from_millis(100)).is_none(), "too soon");
        assert_eq!(
            counts(r.due(t0 + PUSH_GAP)),
            json!({"agree": 2, "slow_down": 0})
        );
        assert!(r.due(t0 + Duration::from_secs(30)).is_none());
        assert_eq!(
            counts(r.due(t0 + WINDOW)),
            json!({"agree": 0, "slow_down": 0})
        );
        assert!(r.last.is_empty(), "the rate limit forgets");
    }
}
