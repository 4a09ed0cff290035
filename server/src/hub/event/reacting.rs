//! Reactions ("slow down", "need a break"...): counted in memory by
//! [`crate::hub::reactions::Reactions`], never stored; the actor only routes them.

use tokio::time::Instant;

use super::Actor;
use super::conns::Origin;
use crate::protocol::server;

impl Actor {
    /// An attendee's reaction: `ack` once counted (nothing is stored), or an error naming
    /// what is wrong (an unknown reaction, or the same one again too soon).
    pub(super) fn on_react(
        &mut self,
        origin: Origin,
        attendee: usize,
        id: Option<String>,
        reaction: &str,
    ) {
        match self.reactions.react(attendee, reaction, Instant::now()) {
            Ok(()) => {
                if let Some(id) = id {
                    self.respond(origin, server::ack(&id));
                }
            }
            Err((code, message)) => self.reject(origin, id.as_deref(), code, &message),
        }
    }

    /// The host shows or hides the reactions on the presenter's screen.
    pub(super) fn show_reactions(&mut self, show: bool) {
        self.reactions.set_shown(show);
        let frame = self.reactions.frame();
        self.send_hosts(&frame);
        let frame = self.reactions.presenter_frame();
        self.send_presenters(&frame);
    }

    /// The counts, when they changed (at most every 500 ms), to hosts, and to presenters
    /// while shown.
    pub(super) fn push_reactions(&mut self) {
        if let Some(frame) = self.reactions.due(Instant::now()) {
            self.send_hosts(&frame);
            if self.reactions.shown() {
                self.send_presenters(&frame);
            }
        }
    }
}
