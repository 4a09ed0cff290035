//! Changes made straight to the database while the event is loaded: `joinup event update`
//! (a new spec) and `joinup event reset` (a closed rehearsal cleared). The command line
//! cannot reach a running server's memory, so the actor looks: every [`SPEC_CHECK`], while
//! it is loaded, it reads the stored event off its own turn (a spawned read, so a slow
//! database never holds up its commands). A spec whose tag it did not store itself is
//! applied as an organiser's edit is ([`Actor::swap`]); an event it holds as ended that is
//! stored as live again was reset, and the actor unloads so the next connection loads the
//! fresh one.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{info, warn};

use super::{Actor, DRAIN_FOR};
use crate::domain::spec::{SpecFormat, parse_spec};
use crate::storage::{Committed, StoredEvent};

/// How often a loaded event looks at what is stored.
pub(super) const SPEC_CHECK: Duration = Duration::from_secs(3);

/// How long the actor must have held the event as ended before a stored state that is not
/// `ended` means a reset: until then it may be its own end, still on its way to disk.
const END_SETTLES: Duration = Duration::from_secs(5);

/// What the actor knows of the stored event, and the read under way.
pub(super) struct SpecWatch {
    /// The tag ([`crate::admin::etag`]) of the stored spec the actor runs.
    pub(super) tag: String,
    next: Instant,
    reading: Option<oneshot::Receiver<StoredEvent>>,
    /// Since when the actor has held the event as ended, as first seen here.
    ended_since: Option<Instant>,
    /// Whether the read under way began once the end had settled ([`END_SETTLES`]).
    read_after_end: bool,
}

impl SpecWatch {
    pub(super) fn new(spec: &str) -> SpecWatch {
        SpecWatch {
            tag: crate::admin::etag(spec),
            next: Instant::now() + SPEC_CHECK,
            reading: None,
            ended_since: None,
            read_after_end: false,
        }
    }

    /// The actor stored a spec itself (`tag` is its tag): a read begun before that may
    /// hold the one before, which must not be taken for someone else's edit.
    pub(super) fn stored(&mut self, tag: &str) {
        tag.clone_into(&mut self.tag);
        self.reading = None;
    }
}

/// What the actor should do after a look at the stored event.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Seen {
    Nothing,
    /// The event was reset under it: unload.
    Reset,
}

impl Actor {
    /// On the tick: takes a finished read, or starts one when it is time.
    pub(super) async fn watch_stored(
        &mut self,
        commits: &mut mpsc::UnboundedReceiver<Committed>,
    ) -> Seen {
        if let Some(reading) = &mut self.spec_watch.reading {
            return match reading.try_recv() {
                Ok(stored) => {
                    self.spec_watch.reading = None;
                    self.stored_seen(stored, commits).await
                }
                Err(oneshot::error::TryRecvError::Empty) => Seen::Nothing,
                Err(oneshot::error::TryRecvError::Closed) => {
                    self.spec_watch.reading = None;
                    Seen::Nothing
                }
            };
        }
        let now = Instant::now();
        if now < self.spec_watch.next {
            return Seen::Nothing;
        }
        self.spec_watch.next = now + SPEC_CHECK;
        let watch = &mut self.spec_watch;
        if self.state.ended {
            let since = *watch.ended_since.get_or_insert(now);
            watch.read_after_end = now.duration_since(since) >= END_SETTLES;
        }
        let (tx, rx) = oneshot::channel();
        let (storage, code) = (self.storage.clone(), self.info.code);
        tokio::spawn(async move {
            match storage.event(code).await {
                Ok(Some(stored)) => {
                    let _ = tx.send(stored);
                }
                Ok(None) => {}
                Err(e) => warn!(event = %code, error = %e, "could not look at the stored event"),
            }
        });
        self.spec_watch.reading = Some(rx);
        Seen::Nothing
    }

    async fn stored_seen(
        &mut self,
        stored: StoredEvent,
        commits: &mut mpsc::UnboundedReceiver<Committed>,
    ) -> Seen {
        if self.spec_watch.read_after_end && stored.state != "ended" {
            info!(event = %self.info.code, "the event was reset in the database: unloading");
            return Seen::Reset;
        }
        let tag = crate::admin::etag(&stored.spec);
        if tag == self.spec_watch.tag {
            return Seen::Nothing;
        }
        self.spec_watch.tag = tag;
        let event = match parse_spec(&stored.spec, SpecFormat::Json) {
            Ok(event) => event,
            Err(e) => {
                warn!(event = %self.info.code, error = %e, "the stored spec does not read: the event carries on under the one it has");
                return Seen::Nothing;
            }
        };
        // As for an edit through the API: what is on its way to disk lands first, under
        // the positions of the spec it was checked against.
        let deadline = Instant::now() + DRAIN_FOR;
        while !self.ledger.is_empty() {
            match tokio::time::timeout_at(deadline, commits.recv()).await {
                Ok(Some(committed)) => self.on_committed(committed),
                _ => {
                    // Looked at again at the next check.
                    self.spec_watch.tag.clear();
                    return Seen::Nothing;
                }
            }
        }
        // The command line checked the edit against the stored answers; this actor may
        // know of more (an activity opened, an answer on its way). An edit that would
        // misread them is put back, and the event carries on under the spec it runs.
        let live = self.state.answered_keys(&self.info.event);
        if let Err(found) = crate::domain::edit::check_edit(&self.info.event, &event, &live) {
            let reasons: Vec<String> = found.iter().map(ToString::to_string).collect();
            warn!(event = %self.info.code, reasons = %reasons.join("; "), "an edit made in the database would misread answers the live event holds: putting back the spec it runs");
            self.put_back(&stored.spec).await;
            return Seen::Nothing;
        }
        info!(event = %self.info.code, "the spec was changed in the database: applying it");
        let mut writes: Vec<_> = self.swap(event).into_iter().collect();
        writes.extend(self.dates_changed());
        if !writes.is_empty() {
            self.write_behind(writes).await;
        }
        Seen::Nothing
    }

    /// Stores the spec the actor runs in place of `found`, if `found` is still stored.
    async fn put_back(&mut self, found: &str) {
        let spec = &self.info.event.spec;
        let Ok(text) = crate::admin::spec_text(&self.info.event) else {
            return;
        };
        let replaced = self
            .storage
            .replace_spec(
                self.info.code,
                found,
                &text,
                &spec.title,
                spec.series.as_deref(),
                spec.starts_at.as_deref(),
            )
            .await;
        match replaced {
            Ok(true) => self.spec_watch.stored(&crate::admin::etag(&text)),
            // Changed again meanwhile: the next check looks at that.
            Ok(false) => {}
            Err(e) => {
                warn!(event = %self.info.code, error = %e, "could not put the running spec back")
            }
        }
    }
}
