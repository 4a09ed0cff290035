//! Taking and giving back an event's lease, on this node's lease session
//! ([`crate::storage::lease`]), and when a lease that has run out may be taken from its holder.
//!
//! Every statement on the session is bounded by [`LOCK_TIMEOUT`], and a session in doubt is
//! replaced, never reused. What this node does with the events it has taken (answering,
//! renewing, giving up) lives in `owned.rs`, not here.

use std::time::Instant;

use tracing::warn;

use super::{Cluster, ClusterError, LEASE, LOCK_TIMEOUT, PEER_TIMEOUT, RPC_TIMEOUT};
use crate::domain::EventCode;
use crate::storage::Fence;
use crate::storage::lease;

/// What [`Cluster::try_own`] found.
#[derive(Debug)]
pub enum Claim {
    /// This node holds the event's lease now: run it under the lease's fence.
    Taken(Lease),
    /// Another node's live lease holds it. `answering`: whether that node's heartbeats
    /// still arrive (if not, its lease runs out within [`LEASE`]: ask again, not it).
    Held { node: u32, answering: bool },
    /// No event has this code.
    Unknown,
}

/// A lease this node has taken: the fence its actor's writes carry, and when it was taken.
#[derive(Debug, Clone, Copy)]
pub struct Lease {
    pub fence: Fence,
    pub(super) taken: Instant,
}

impl Cluster {
    /// Takes the lease on `code` if no live lease holds it. A node cut off from NATS takes
    /// nothing: nobody could reach the event there.
    pub async fn try_own(&self, code: EventCode) -> Result<Claim, ClusterError> {
        if !self.hears_nats() {
            return Err(ClusterError::Deaf);
        }
        let taken = Instant::now();
        let may_take_expired = |holder: u32| self.may_take_expired(code, holder);
        let mut lock = self.inner.lock.lock().await;
        let conn = self.session(&mut lock).await?;
        let claim = within(lease::take(conn, code, self.inner.node, may_take_expired)).await;
        let claim = self.checked(&mut lock, claim)?;
        Ok(match claim {
            lease::Claim::Taken(fence) => Claim::Taken(Lease { fence, taken }),
            lease::Claim::Held { node } => Claim::Held {
                node,
                answering: node == self.inner.node || self.answering(node),
            },
            lease::Claim::Unknown => Claim::Unknown,
        })
    }

    /// Gives back the lease `fence` names, if it is still the event's: the next node asked
    /// takes the event at once rather than after [`LEASE`].
    pub async fn release(&self, fence: Fence) {
        let mut lock = self.inner.lock.lock().await;
        let released = match self.session(&mut lock).await {
            Ok(conn) => within(lease::release(conn, fence)).await,
            Err(e) => Err(e),
        };
        if let Err(e) = self.checked(&mut lock, released) {
            warn!(event = %fence.event, error = %e, "could not give back an event's lease");
        }
    }

    /// The lease session, opened again if it was lost.
    pub(super) async fn session<'a>(
        &self,
        lock: &'a mut Option<lease::Session>,
    ) -> Result<&'a mut lease::Session, ClusterError> {
        if lock.is_none() {
            *lock = Some(lock_connection(&self.inner.database).await?);
        }
        lock.as_mut().ok_or(ClusterError::LockTimeout)
    }

    /// Passes on a statement's outcome on the lease session, forgetting the session if it
    /// failed (a session in doubt is replaced, never reused).
    pub(super) fn checked<T>(
        &self,
        lock: &mut Option<lease::Session>,
        outcome: Result<T, ClusterError>,
    ) -> Result<T, ClusterError> {
        match outcome {
            Ok(value) => {
                *self
                    .inner
                    .lease_ok
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Instant::now();
                Ok(value)
            }
            Err(e) => {
                *lock = None;
                Err(e)
            }
        }
    }

    /// Whether this node may take over `code` from `holder`, whose lease has run out but
    /// whose session lives. Only if this node has heard NATS steadily for [`PEER_TIMEOUT`]
    /// (just back from a NATS outage, it cannot yet tell a silent owner from one that is
    /// about to renew), and `holder` is silent or no node answered for the event lately.
    fn may_take_expired(&self, code: EventCode, holder: u32) -> bool {
        let steady = {
            let since = *self
                .inner
                .hearing_since
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            self.hears_nats() && since.elapsed() >= PEER_TIMEOUT
        };
        let unserved = self
            .inner
            .unserved
            .get(&code)
            .is_some_and(|at| at.elapsed() <= RPC_TIMEOUT + PEER_TIMEOUT);
        holder == self.inner.node || (steady && (!self.answering(holder) || unserved))
    }

    /// Whether this node can serve: it hears NATS, and its lease session has answered
    /// within [`LEASE`]. A node that cannot (cut off from either, or just woken from a
    /// stall) says so on `/healthz`, so a health-checked load balancer sends phones elsewhere.
    pub fn healthy(&self) -> bool {
        let lease_ok = *self
            .inner
            .lease_ok
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        self.hears_nats() && lease_ok.elapsed() <= LEASE
    }
}

/// Opens a lease session ([`lease::connect`]), within [`LOCK_TIMEOUT`].
pub(super) async fn lock_connection(database: &str) -> Result<lease::Session, ClusterError> {
    within(lease::connect(database)).await
}

/// A statement on the lease session, bounded by [`LOCK_TIMEOUT`].
pub(super) async fn within<T>(
    statement: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, ClusterError> {
    match tokio::time::timeout(LOCK_TIMEOUT, statement).await {
        Ok(done) => Ok(done?),
        Err(_) => Err(ClusterError::LockTimeout),
    }
}
