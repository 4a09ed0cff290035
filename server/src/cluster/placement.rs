//! Where an event runs, as the hub asks through its [`Placement`] trait: here, under a
//! lease just taken, or relayed to the node whose lease holds it; and whether this node
//! may serve at all.
//!
//! An owner between giving up its lease and stopping, or stalled until its lease runs out,
//! is asked again for up to ten seconds; never are two actors run for one event here.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::ownership::{Claim, Lease};
use super::{Cluster, ClusterError, relay};
use crate::domain::EventCode;
use crate::hub::{Command, EventHandle, Hub, HubError, Placement};

impl Placement for Cluster {
    fn healthy(&self) -> bool {
        Cluster::healthy(self)
    }

    fn place<'a>(
        &'a self,
        hub: &'a Hub,
        code: EventCode,
        forget: Box<dyn FnOnce() + Send>,
    ) -> futures_util::future::BoxFuture<'a, Result<Option<EventHandle>, HubError>> {
        Box::pin(self.place(hub, code, forget))
    }

    fn spec_changed(&self, code: EventCode) {
        self.announce_edit(code);
    }
}

impl Cluster {
    /// Runs the event here if no node owns it, or relays to the node that does.
    async fn place(
        &self,
        hub: &Hub,
        code: EventCode,
        forget: Box<dyn FnOnce() + Send>,
    ) -> Result<Option<EventHandle>, HubError> {
        // The owner may be between giving up its lease and stopping (here or on another
        // node), or stalled until its lease runs out: ask a few times. A stopping actor here
        // is waited for rather than run beside a new one.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if self.owns(code) {
                if tokio::time::Instant::now() >= deadline {
                    return Err(ClusterError::NoAnswer.into());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            match self.try_own(code).await? {
                Claim::Unknown => return Ok(None),
                Claim::Taken(lease) => return self.run_here(hub, code, lease, forget).await,
                // Silent, its lease runs out soon: ask the database again, not the node.
                Claim::Held {
                    answering: false, ..
                } => {}
                Claim::Held { .. } => match self.owner(code).await {
                    Ok(Some(owner)) => {
                        let Some(info) = hub.event_info(code).await? else {
                            return Ok(None);
                        };
                        return Ok(Some(relay::start(
                            self.clone(),
                            Arc::new(info),
                            owner,
                            hub.idle_unload(),
                            forget,
                        )));
                    }
                    // Not serving it (yet, or any more), or stalled: ask again.
                    Ok(None) | Err(ClusterError::NoAnswer) => {}
                    Err(e) => return Err(e.into()),
                },
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ClusterError::NoAnswer.into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Starts the event's actor here under the lease just taken, and answers for it.
    async fn run_here(
        &self,
        hub: &Hub,
        code: EventCode,
        lease: Lease,
        forget: Box<dyn FnOnce() + Send>,
    ) -> Result<Option<EventHandle>, HubError> {
        let fence = lease.fence;
        let disown = self.clone();
        let stopped = Box::new(move || {
            tokio::spawn(async move { disown.disown(fence).await });
        });
        match hub.start_actor(code, Some(fence), forget, stopped).await {
            Ok(Some(handle)) => {
                if let Err(e) = self.serve_owned(code, lease, handle.clone()).await {
                    // Nobody else could reach it: stop rather than run it unreachable.
                    let (done, wait) = oneshot::channel();
                    if handle.send(Command::Shutdown { done }).await.is_ok() {
                        let _ = wait.await;
                    }
                    return Err(e.into());
                }
                Ok(Some(handle))
            }
            other => {
                self.release(fence).await;
                other
            }
        }
    }
}
