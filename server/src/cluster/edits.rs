//! A spec edited on any node (`joinup.spec`): the owner's actor made the edit and runs under
//! it; every other node that keeps a copy of the event (a relay, the pages it serves)
//! reloads it from the database.

use bytes::Bytes;
use futures_util::StreamExt;
use tracing::warn;

use super::Cluster;
use super::wire;
use crate::domain::EventCode;
use crate::hub::Hub;

impl Cluster {
    /// Tells every node that `code`'s spec was edited (this one included).
    pub(super) fn announce_edit(&self, code: EventCode) {
        let nats = self.inner.nats.clone();
        tokio::spawn(async move {
            let payload = Bytes::copy_from_slice(code.as_str().as_bytes());
            if let Err(e) = nats.publish(wire::SPEC_SUBJECT, payload).await {
                warn!(event = %code, error = %e, "could not announce an edit");
            }
        });
    }

    /// Edits announced by any node: an event this node keeps but does not run (a relay, and
    /// the pages it serves) is reloaded from the database. The owner's actor made the edit
    /// and already runs under it.
    pub(super) async fn reload_edited(self, mut edits: async_nats::Subscriber, hub: Hub) {
        while let Some(message) = edits.next().await {
            let Some(code) = std::str::from_utf8(&message.payload)
                .ok()
                .and_then(EventCode::parse)
            else {
                continue;
            };
            if self.owns(code) {
                continue;
            }
            if let Err(e) = hub.refresh_info(code).await {
                warn!(event = %code, error = %e, "could not reload an edited event");
            }
        }
    }
}
