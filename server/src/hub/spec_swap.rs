//! An event's spec changed while it may be live: the hub's side of an organiser's edit.
//!
//! The edit itself goes to the event's actor ([`Command::Respec`]), which checks it against
//! what the event holds at that moment, stores it and carries on under it without closing a
//! connection (`event/respec.rs`). Here: what it answers, and how the other holders of the
//! event's [`EventInfo`] (relays and pages on other nodes of a cluster) learn of it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Command, Hub, HubError};
use crate::admin::EditError;
use crate::domain::{Event, EventCode, SpecError};

/// An edit stored and applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Respecced {
    /// The stored spec's new tag (`ETag`).
    pub etag: String,
    /// `false` when the new spec was the stored one: nothing was written or sent.
    pub changed: bool,
}

/// Why an edit was not made. It crosses the cluster as it is (a relay's edit is made by the
/// event's owner), so it holds text, not the errors it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum RespecError {
    #[error("there is no such event")]
    NoEvent,
    /// Someone else changed the spec since it was read: the current tag.
    #[error("the event was changed by someone else since it was read")]
    Stale(String),
    /// The change would misread stored answers ([`crate::domain::edit`]): each reason.
    #[error("the change would misread stored answers")]
    Refused(Vec<SpecError>),
    /// Writes on their way to disk did not land in time: nothing was changed.
    #[error("the event is busy writing answers; try again")]
    Busy,
    /// The database or the cluster failed; the cause is logged where it happened.
    #[error("the edit could not be saved")]
    Failed,
}

impl From<EditError> for RespecError {
    fn from(e: EditError) -> RespecError {
        match e {
            EditError::NoEvent(_) => RespecError::NoEvent,
            EditError::Stale(etag) => RespecError::Stale(etag),
            EditError::Refused(e) => RespecError::Refused(vec![e]),
            EditError::Unsafe(found) => RespecError::Refused(found),
            EditError::NotRehearsal(_) | EditError::Storage(_) => {
                tracing::error!(error = %e, "an edit could not be saved");
                RespecError::Failed
            }
        }
    }
}

impl Hub {
    /// An organiser's edit of event `code`'s spec, `event` already validated: made by the
    /// event's actor (here, or on the node that owns it), which keeps every connection,
    /// answer and state and sends the new spec to everyone connected.
    pub async fn respec(
        &self,
        code: EventCode,
        if_match: Option<String>,
        event: Event,
    ) -> Result<Respecced, RespecError> {
        let handle = match self.event(code).await {
            Ok(Some(handle)) => handle,
            Ok(None) => return Err(RespecError::NoEvent),
            Err(e) => {
                tracing::warn!(event = %code, error = %e, "an edit could not reach the event");
                return Err(RespecError::Failed);
            }
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let command = Command::Respec {
            if_match,
            event: Box::new(event),
            reply,
        };
        if handle.send(command).await.is_err() {
            return Err(RespecError::Busy);
        }
        let done = answer.await.map_err(|_| RespecError::Busy)??;
        if done.changed {
            self.spec_changed(code);
        }
        Ok(done)
    }

    /// The stored spec of `code` changed: in a cluster, every node reloads what it keeps of
    /// the event ([`Hub::refresh_info`]); the actor that made the change already has it.
    pub fn spec_changed(&self, code: EventCode) {
        if let Some(cluster) = &self.inner.cluster {
            cluster.spec_changed(code);
        }
    }

    /// Reloads the stored spec of `code` into the handle this node keeps for it, if any
    /// (a relay's: its pages and its connections' token checks then read the new one).
    pub(crate) async fn refresh_info(&self, code: EventCode) -> Result<(), HubError> {
        let handle = self
            .inner
            .events
            .get(&code)
            .and_then(|cell| cell.value().get().cloned().flatten());
        let Some(handle) = handle else {
            return Ok(());
        };
        if let Some(info) = self.event_info(code).await? {
            handle.shared_info().set(Arc::new(info));
        }
        Ok(())
    }
}
