//! This node's relays and their connections: which event each relay stands in for and the
//! node it relays to, how to stop it, and where the owner's frames for each relayed
//! connection go. The relay itself is `relay.rs`; the frames arrive in `receive.rs`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::Notify;

use super::Cluster;
use crate::domain::EventCode;
use crate::hub::{ConnId, ConnSink};
use crate::metrics::METRICS;

impl Cluster {
    /// A relay for `code` to `owner` starts on this node; notified when it must stop.
    pub fn register_proxy(&self, code: EventCode, owner: u32) -> Arc<Notify> {
        let stop = Arc::new(Notify::new());
        self.inner.proxies.insert(code, (owner, stop.clone()));
        stop
    }

    pub fn unregister_proxy(&self, code: EventCode, stop: &Arc<Notify>) {
        self.inner
            .proxies
            .remove_if(&code, |_, (_, s)| Arc::ptr_eq(s, stop));
    }

    /// Frames from the owner for `conn` go to `sink` from now on.
    pub fn attach(&self, conn: ConnId, sink: ConnSink) {
        if self.inner.attached.insert(conn, sink).is_none() {
            METRICS.relayed_connections.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Frames for `conn` stop; its sink is handed back.
    pub fn detach(&self, conn: ConnId) -> Option<ConnSink> {
        let (_, sink) = self.inner.attached.remove(&conn)?;
        METRICS.relayed_connections.fetch_sub(1, Ordering::Relaxed);
        Some(sink)
    }

    /// Stops every relay to `owner`.
    pub(super) fn stop_proxy_of(&self, owner: u32) {
        let codes: Vec<EventCode> = self
            .inner
            .proxies
            .iter()
            .filter(|p| p.value().0 == owner)
            .map(|p| *p.key())
            .collect();
        for code in codes {
            self.stop_proxy(code, owner);
        }
    }

    /// Stops the relay for `code` if it relays to `owner`.
    pub(super) fn stop_proxy(&self, code: EventCode, owner: u32) {
        if let Some(p) = self.inner.proxies.get(&code)
            && p.0 == owner
        {
            p.1.notify_one();
        }
    }
}
