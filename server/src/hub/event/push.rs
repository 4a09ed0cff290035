//! Pushes and coalescing: what changed since it last went out ([`Dirty`]), when each
//! broadcast may next go ([`Paced`]), and the tick that sends them.
//!
//! Handlers and commits only mark what changed; the frames go from here. A changed tally
//! goes to the hosts at once if none went in the last [`TICK`], else [`TICK`] after the
//! last one; attendance, votes and the presenter's wall go on every tick; attendees get
//! revealed results, the question list and the directory at most once a second, and less
//! often the bigger they are ([`BROADCAST_BYTES_PER_SECOND`]).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::Actor;
use crate::domain::Activity;
use crate::domain::clock;
use crate::domain::phase::Window;
use crate::hub::rooms;
use crate::protocol::server;
use crate::storage::Write;

/// The coalescing interval. A change to an activity's tally goes to the hosts at once if
/// none went in the last `TICK`, else `TICK` after the last one: at most 10 a second per
/// activity, and the final state within 100 ms of the last change. Attendance and
/// questions go out on a tick of this length.
pub(super) const TICK: Duration = Duration::from_millis(100);
/// Attendee-facing updates (results, questions, directory) go out every this many ticks.
const SLOW_TICKS: u64 = 10;
/// Attendance is sampled for the report every this many ticks (one minute).
const SAMPLE_TICKS: u64 = 600;
/// What the directory, and each revealed activity's results, may cost each phone, in bytes a
/// second on average: they go out whole, so a bigger one goes out less often (at most once a
/// second). Without this, one attendee replacing a visible card every second had the whole
/// directory sent to every phone every second, however many cards it held; and one signer
/// signing a pledge again and again did the same with its signatures by organisation.
const BROADCAST_BYTES_PER_SECOND: u64 = 16 * 1024;

/// What changed since it last went out.
#[derive(Default)]
pub(super) struct Dirty {
    /// Activities whose tally the hosts have not seen.
    pub(super) tallies: BTreeSet<usize>,
    /// Revealed activities whose results the phones have not seen.
    pub(super) results: BTreeSet<usize>,
    /// Questions whose vote count the hosts have not seen.
    pub(super) voted_questions: BTreeSet<usize>,
    /// The attendees' (and presenter's) list of questions may have changed.
    pub(super) question_list: bool,
    /// Attendance, for hosts and presenters.
    pub(super) attendance: bool,
    /// The focused text activity's wall may have changed (see [`Actor::wall_frame`]).
    pub(super) wall: bool,
    /// The directory of visible cards may have changed.
    pub(super) directory: bool,
}

/// When each coalesced broadcast last went, or may next go.
pub(super) struct Paced {
    /// Ticks since the actor started.
    ticks: u64,
    /// When each activity's tally last went to the hosts.
    pub(super) tally_sent: Vec<Option<Instant>>,
    /// When the next of the dirty tallies may go (see [`TICK`]).
    pub(super) tally_due: Option<Instant>,
    /// Each activity's results go to attendees again no earlier than this.
    results_next: Vec<Instant>,
    /// The directory goes to attendees again no earlier than this ([`broadcast_gap`]).
    directory_next: Instant,
}

impl Paced {
    pub(super) fn new(activities: usize) -> Paced {
        Paced {
            ticks: 0,
            tally_sent: vec![None; activities],
            tally_due: None,
            results_next: vec![Instant::now(); activities],
            directory_next: Instant::now(),
        }
    }
}

impl Paced {
    /// The event's activities changed ([`super::respec`]), everything held back having just
    /// gone out: each activity's pacing starts afresh.
    pub(super) fn restart(&mut self, activities: usize) {
        let now = Instant::now();
        self.tally_sent = vec![None; activities];
        self.tally_due = None;
        self.results_next = vec![now; activities];
    }
}

/// Attendance sampling for the report.
pub(super) struct Presence {
    /// The most present at once in the current minute.
    pub(super) minute_peak: u64,
    /// Attendance changed since the last sample went to disk.
    pub(super) sample_due: bool,
    /// The highest peak sent to disk: a higher one goes at the next tick.
    peak_stored: u64,
}

impl Presence {
    /// `peak_stored`: the peak the database already holds.
    pub(super) fn new(peak_stored: u64) -> Presence {
        Presence {
            minute_peak: 0,
            sample_due: false,
            peak_stored,
        }
    }
}

impl Actor {
    /// Attendance for the report: the current minute's sample (peak within the minute).
    pub(super) fn presence_sample(&mut self) -> Write {
        self.presence.sample_due = false;
        let write = Write::Presence {
            event: self.info.code,
            minute: clock::now_minute(),
            present: self.state.present as i64,
            peak: self.presence.minute_peak.max(self.state.present) as i64,
            joined: self.state.attendees.len() as i64,
        };
        self.presence.minute_peak = self.state.present;
        write
    }

    /// Sends the hosts (and a presenter showing it) each changed activity's tally that may
    /// go now, or every one if `all`; the rest wait for [`Paced::tally_due`].
    pub(super) fn send_tallies(&mut self, now: Instant, all: bool) {
        let (ready, due) = if all {
            (self.dirty.tallies.iter().copied().collect(), None)
        } else {
            tallies_due(&self.dirty.tallies, &self.paced.tally_sent, now)
        };
        self.paced.tally_due = due;
        let info = Arc::clone(&self.info);
        let event = &info.event;
        for act in ready {
            self.dirty.tallies.remove(&act);
            self.paced.tally_sent[act] = Some(now);
            let key = event.activities[act].key.as_str();
            let tally = self.state.host_tally(event, act);
            self.send_hosts(&server::tally(key, &tally));
            if !self.conns.presenters.is_empty()
                && (self.state.focus == Some(act) || screens_follow(&event.activities[act]))
            {
                let total = self.state.activities[act].tally.total();
                let frame = server::count(key, total);
                self.send_presenters(&frame);
                if self.state.activities[act].revealed {
                    let public = self.state.public_tally(act);
                    self.send_presenters(&server::results(key, Some(&public)));
                }
            }
        }
    }

    /// Everything still to push goes now, held back or not (before the actor stops).
    pub(super) fn flush(&mut self) {
        self.send_tallies(Instant::now(), true);
        self.on_tick();
    }

    /// The coalescing tick: what is due goes out.
    pub(super) fn on_tick(&mut self) {
        self.paced.ticks += 1;
        self.push_reactions();
        self.push_wall();
        self.push_attendance();
        for q in std::mem::take(&mut self.dirty.voted_questions) {
            let frame = server::question(self.state.questions[q].host_view());
            self.send_hosts(&frame);
        }
        if self.paced.ticks.is_multiple_of(SLOW_TICKS) || self.state.ended {
            let now = Instant::now();
            self.push_results(now);
            self.push_questions();
            self.push_directory(now);
        }
        self.store_presence();
    }

    fn push_wall(&mut self) {
        if self.dirty.wall {
            self.dirty.wall = false;
            if !self.conns.presenters.is_empty()
                && let Some(frame) = self.wall_frame()
            {
                self.send_presenters(&frame);
            }
        }
    }

    fn push_attendance(&mut self) {
        if self.dirty.attendance {
            self.dirty.attendance = false;
            let frame = server::host_attendance(&self.state.attendance());
            self.send_hosts(&frame);
            let frame = server::presenter_attendance(&self.state.presenter_attendance());
            self.send_presenters(&frame);
        }
    }

    /// Revealed results to the phones in each activity's room, each no sooner than its
    /// [`broadcast_gap`] after the last (at once when the event has ended).
    fn push_results(&mut self, now: Instant) {
        let info = Arc::clone(&self.info);
        let event = &info.event;
        let mut held = Vec::new();
        for act in std::mem::take(&mut self.dirty.results) {
            let live = &self.state.activities[act];
            if !live.revealed {
                continue;
            }
            if now < self.paced.results_next[act] && !self.state.ended {
                held.push(act);
                continue;
            }
            let definition = &event.activities[act];
            let frame =
                server::results(definition.key.as_str(), Some(&self.state.public_tally(act)));
            self.paced.results_next[act] = now + broadcast_gap(frame.len());
            let room = definition.room.clone();
            self.send_attendees(&frame, move |s, a| {
                room.is_none() || s.attendees[a].room == room
            });
        }
        self.dirty.results.extend(held);
    }

    fn push_directory(&mut self, now: Instant) {
        if self.dirty.directory && (now >= self.paced.directory_next || self.state.ended) {
            self.dirty.directory = false;
            let frame = server::directory(&self.state.visible_cards());
            self.paced.directory_next = now + broadcast_gap(frame.len());
            self.send_attendees(&frame, |_, _| true);
        }
    }

    /// A new peak goes to disk at once (with the minute's sample so far), not a minute
    /// later: a report taken while the event is live never shows a peak below what was seen.
    fn store_presence(&mut self) {
        let peak_grew = self.state.peak > self.presence.peak_stored;
        if peak_grew
            || (self.paced.ticks.is_multiple_of(SAMPLE_TICKS)
                && (self.presence.sample_due || self.state.present > 0))
        {
            self.presence.peak_stored = self.state.peak;
            let write = self.presence_sample();
            // Never wait inside a tick: a full writer queue just skips this sample.
            let writer = self.ledger.writer.clone();
            tokio::spawn(async move {
                let _ = writer.submit(vec![write], None).await;
            });
        }
    }
}

/// Whether presenters follow an activity's count and results whatever the focus: a
/// break-out's, which its room's own screen follows instead of the focus (rooms.rs), and one
/// for after the event, which every screen shows in turn once the live part has ended, with
/// nobody at the host's page to focus it (docs/protocol.md, "WebSocket: presenter").
fn screens_follow(activity: &Activity) -> bool {
    rooms::follows(activity) || activity.window == Some(Window::After)
}

/// Which changed activities' tallies may go at `now` (none went in the last [`TICK`]), and
/// when the first of the rest may.
fn tallies_due(
    dirty: &BTreeSet<usize>,
    sent: &[Option<Instant>],
    now: Instant,
) -> (Vec<usize>, Option<Instant>) {
    let held = |act: usize| sent[act].map(|sent| sent + TICK).filter(|&due| due > now);
    let ready = dirty
        .iter()
        .copied()
        .filter(|&act| held(act).is_none())
        .collect();
    (ready, dirty.iter().filter_map(|&act| held(act)).min())
}

/// How long after sending a directory or results frame of `bytes` the next may go: at least
/// a second, and long enough that each phone receives [`BROADCAST_BYTES_PER_SECOND`] on
/// average.
fn broadcast_gap(bytes: usize) -> Duration {
    let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
    Duration::from_millis(bytes.saturating_mul(1000) / BROADCAST_BYTES_PER_SECOND)
        .max(Duration::from_secs(1))
        - TICK / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bigger_directory_goes_out_less_often() {
        // Half a tick less than the gap, so a slow tick landing on it is not missed.
        assert_eq!(broadcast_gap(2_000), Duration::from_millis(950));
        let big = 160 * 1024;
        assert_eq!(broadcast_gap(big), Duration::from_millis(9_950));
    }

    #[test]
    fn a_tally_goes_at_once_unless_one_went_in_the_last_tick() {
        let now = Instant::now();
        let ms = Duration::from_millis;
        // Never sent; sent 150 ms ago; 40 ms ago; 90 ms ago; exactly a tick ago.
        let sent = [
            None,
            Some(now - ms(150)),
            Some(now - ms(40)),
            Some(now - ms(90)),
            Some(now - TICK),
        ];
        let dirty: BTreeSet<usize> = (0..5).collect();
        let (ready, due) = tallies_due(&dirty, &sent, now);
        assert_eq!(ready, vec![0, 1, 4]);
        // The one sent 90 ms ago may go in 10 ms, before the one sent 40 ms ago.
        assert_eq!(due, Some(now + ms(10)));
        // Nothing held back: no timer.
        let dirty: BTreeSet<usize> = [0, 1].into_iter().collect();
        assert_eq!(tallies_due(&dirty, &sent, now), (vec![0, 1], None));
        // Nothing changed: nothing to send.
        assert_eq!(tallies_due(&BTreeSet::new(), &sent, now), (vec![], None));
    }
}
