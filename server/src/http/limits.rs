//! Limits per source address: joins per minute and connections open at once.
//!
//! A venue or an NHS trust puts hundreds of people behind one address, so the floors are
//! generous (the contract asks for at least 2,000 joins a minute from one address): these
//! limits exist to stop a runaway script, never a real audience. A refused join gets HTTP
//! 429 with `Retry-After`, which the pages show as "busy, retrying".

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use dashmap::DashMap;

/// Joins one address may make at once, and per second after that.
const JOIN_BURST: f64 = 5000.0;
const JOINS_PER_SECOND: f64 = 100.0;
/// Connections (WebSocket or stream) one address may hold open at once.
const MAX_CONNECTIONS: u32 = 20_000;

#[derive(Clone, Default)]
pub struct Limits {
    joins: Arc<DashMap<IpAddr, Bucket>>,
    open: Arc<DashMap<IpAddr, Arc<AtomicU32>>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Held for as long as a connection is open; counts it against its address.
pub struct ConnectionSlot {
    counter: Arc<AtomicU32>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Limits {
    /// Takes one join from the address's allowance; `Err(retry after)` when it has none.
    pub fn join(&self, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let mut bucket = self.joins.entry(ip).or_insert(Bucket {
            tokens: JOIN_BURST,
            at: now,
        });
        let elapsed = now.duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * JOINS_PER_SECOND).min(JOIN_BURST);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(
                Duration::from_secs_f64((1.0 - bucket.tokens) / JOINS_PER_SECOND)
                    .max(Duration::from_secs(1)),
            )
        }
    }

    /// A slot for one more open connection from `ip`, if it has fewer than the maximum.
    pub fn connect(&self, ip: IpAddr) -> Option<ConnectionSlot> {
        let counter = self.open.entry(ip).or_default().clone();
        if counter.fetch_add(1, Ordering::Relaxed) >= MAX_CONNECTIONS {
            counter.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(ConnectionSlot { counter })
    }

    /// Forgets addresses that are idle: full allowance and nothing open.
    pub fn sweep(&self) {
        let now = Instant::now();
        self.joins.retain(|_, b| {
            b.tokens + now.duration_since(b.at).as_secs_f64() * JOINS_PER_SECOND < JOIN_BURST
        });
        self.open.retain(|_, c| c.load(Ordering::Relaxed) > 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_venue_behind_one_address_can_join_two_thousand_at_once() {
        let limits = Limits::default();
        let ip: IpAddr = "10.1.2.3".parse().expect("ip");
        for _ in 0..2000 {
            assert!(limits.join(ip).is_ok());
        }
    }

    #[test]
    fn a_runaway_script_is_told_when_to_retry() {
        let limits = Limits::default();
        let ip: IpAddr = "10.1.2.4".parse().expect("ip");
        let refused = (0..6000).filter(|_| limits.join(ip).is_err()).count();
        assert!(refused > 0);
        let other: IpAddr = "10.1.2.5".parse().expect("ip");
        assert!(
            limits.join(other).is_ok(),
            "one address's storm does not touch another's"
        );
        assert!(limits.join(ip).expect_err("still limited") >= Duration::from_secs(1));
    }

    #[test]
    fn connection_slots_are_returned() {
        let limits = Limits::default();
        let ip: IpAddr = "10.1.2.6".parse().expect("ip");
        let slots: Vec<_> = (0..10).filter_map(|_| limits.connect(ip)).collect();
        assert_eq!(slots.len(), 10);
        drop(slots);
        limits.sweep();
        assert!(limits.open.is_empty());
    }
}
