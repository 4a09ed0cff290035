//! Limits per source address: joins per minute, connections open at once (and, of those,
//! connections not yet joined or authorised), and lookups of event codes that do not exist.
//!
//! A venue or an NHS trust puts hundreds of people behind one address, so the floors are
//! generous (at least 2,000 joins a minute from one address must get in): these
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
/// Of those, sockets that have not yet joined (attendee `hello` answered by a `welcome`) or
/// authorised (host or presenter `auth`). A phone holds such a socket for the moment between
/// its upgrade and its `welcome`; a script that opens sockets and says nothing holds them
/// for the 10 s grace each ([`crate::http`]'s WebSocket transport closes them after that).
/// The load generator keeps up to 500 joins in flight per worker process, several workers
/// to an address.
const MAX_UNJOINED: u32 = 2_000;
/// Lookups of event codes that do not exist (404 `no_such_event`) one address may make at
/// once, and per second after that. A room of people mistyping a code stays far below; a
/// script guessing codes is held to 2 a second, all its lookups refused meanwhile (a refusal
/// for misses only would still tell a hit from a miss).
const MISS_BURST: f64 = 200.0;
const MISSES_PER_SECOND: f64 = 2.0;

/// The source the limits count for `ip`: an IPv4 address as it is (also when mapped into
/// IPv6), an IPv6 address by its /64. One network gets a /64 and its hosts pick addresses
/// in it at will (privacy addresses): counted one by one, a single laptop could make every
/// guess of an event code, every join and every socket from a fresh address.
fn source(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(v6) & !u128::from(u64::MAX),
            )),
        },
    }
}

#[derive(Clone, Default)]
pub struct Limits {
    joins: Arc<DashMap<IpAddr, Bucket>>,
    open: Arc<DashMap<IpAddr, Arc<AtomicU32>>>,
    unjoined: Arc<DashMap<IpAddr, Arc<AtomicU32>>>,
    misses: Arc<DashMap<IpAddr, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Held for as long as a connection is open; counts it against its address, and against
/// its address's unjoined connections until [`ConnectionSlot::joined`].
pub struct ConnectionSlot {
    counter: Arc<AtomicU32>,
    unjoined: Option<Arc<AtomicU32>>,
}

impl ConnectionSlot {
    /// The connection has joined (or authorised): it no longer counts as unjoined.
    pub fn joined(&mut self) {
        if let Some(unjoined) = self.unjoined.take() {
            unjoined.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::Relaxed);
        self.joined();
    }
}

impl Bucket {
    /// Refills at `rate` up to `burst`, then takes `take` tokens if there are that many:
    /// `Err(retry after)` when there are not.
    fn take(&mut self, take: f64, burst: f64, rate: f64, now: Instant) -> Result<(), Duration> {
        let elapsed = now.duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        self.at = now;
        if self.tokens >= take {
            self.tokens -= take;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((take - self.tokens) / rate).max(Duration::from_secs(1)))
        }
    }
}

impl Limits {
    /// Takes one join from the address's allowance; `Err(retry after)` when it has none.
    pub fn join(&self, ip: IpAddr) -> Result<(), Duration> {
        let ip = source(ip);
        let now = Instant::now();
        self.joins
            .entry(ip)
            .or_insert(Bucket {
                tokens: JOIN_BURST,
                at: now,
            })
            .take(1.0, JOIN_BURST, JOINS_PER_SECOND, now)
    }

    /// Whether `ip` may look an event code up now: `Err(retry after)` while it has used up
    /// its allowance of misses.
    pub fn may_look_up(&self, ip: IpAddr) -> Result<(), Duration> {
        let ip = source(ip);
        match self.misses.get_mut(&ip) {
            Some(mut bucket) => {
                bucket.take(0.0, MISS_BURST, MISSES_PER_SECOND, Instant::now())?;
                if bucket.tokens < 1.0 {
                    return Err(
                        Duration::from_secs_f64((1.0 - bucket.tokens) / MISSES_PER_SECOND)
                            .max(Duration::from_secs(1)),
                    );
                }
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Counts a lookup of a code that does not exist against `ip`.
    pub fn missed(&self, ip: IpAddr) {
        let ip = source(ip);
        let now = Instant::now();
        let mut bucket = self.misses.entry(ip).or_insert(Bucket {
            tokens: MISS_BURST,
            at: now,
        });
        if bucket
            .take(1.0, MISS_BURST, MISSES_PER_SECOND, now)
            .is_err()
        {
            bucket.tokens = 0.0;
        }
    }

    /// A slot for one more open connection from `ip`, if it has fewer than the maximum; it
    /// counts as unjoined (of which an address may hold fewer) until
    /// [`ConnectionSlot::joined`].
    pub fn connect(&self, ip: IpAddr) -> Option<ConnectionSlot> {
        let ip = source(ip);
        let counter = self.open.entry(ip).or_default().clone();
        if counter.fetch_add(1, Ordering::Relaxed) >= MAX_CONNECTIONS {
            counter.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        let unjoined = self.unjoined.entry(ip).or_default().clone();
        if unjoined.fetch_add(1, Ordering::Relaxed) >= MAX_UNJOINED {
            unjoined.fetch_sub(1, Ordering::Relaxed);
            counter.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(ConnectionSlot {
            counter,
            unjoined: Some(unjoined),
        })
    }

    /// A slot for a connection that is already authorised (an event stream, opened with an
    /// attendee's cookie).
    pub fn connect_joined(&self, ip: IpAddr) -> Option<ConnectionSlot> {
        let ip = source(ip);
        let counter = self.open.entry(ip).or_default().clone();
        if counter.fetch_add(1, Ordering::Relaxed) >= MAX_CONNECTIONS {
            counter.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(ConnectionSlot {
            counter,
            unjoined: None,
        })
    }

    /// Forgets addresses that are idle: full allowance and nothing open.
    pub fn sweep(&self) {
        let now = Instant::now();
        self.joins.retain(|_, b| {
            b.tokens + now.duration_since(b.at).as_secs_f64() * JOINS_PER_SECOND < JOIN_BURST
        });
        self.misses.retain(|_, b| {
            b.tokens + now.duration_since(b.at).as_secs_f64() * MISSES_PER_SECOND < MISS_BURST
        });
        self.open.retain(|_, c| c.load(Ordering::Relaxed) > 0);
        self.unjoined.retain(|_, c| c.load(Ordering::Relaxed) > 0);
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
        assert!(limits.unjoined.is_empty());
    }

    #[test]
    fn unjoined_connections_are_capped_lower_and_joining_frees_the_place() {
        let limits = Limits::default();
        let ip: IpAddr = "10.1.2.7".parse().expect("ip");
        let mut slots: Vec<_> = (0..MAX_UNJOINED)
            .filter_map(|_| limits.connect(ip))
            .collect();
        assert_eq!(slots.len(), MAX_UNJOINED as usize);
        assert!(limits.connect(ip).is_none(), "one unjoined socket too many");
        slots[0].joined();
        assert!(limits.connect(ip).is_some(), "a joined socket leaves room");
        assert!(limits.connect_joined(ip).is_some(), "streams start joined");
    }

    #[test]
    fn an_ipv6_network_counts_as_one_source() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert_eq!(source(ip("2001:db8:1:2::9")), ip("2001:db8:1:2::"));
        assert_eq!(source(ip("2001:db8:1:2:ffff::1")), ip("2001:db8:1:2::"));
        assert_ne!(source(ip("2001:db8:1:3::9")), ip("2001:db8:1:2::"));
        assert_eq!(source(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(source(ip("192.0.2.7")), ip("192.0.2.7"));
    }

    #[test]
    fn misses_are_limited_and_then_every_lookup_waits() {
        let limits = Limits::default();
        let ip: IpAddr = "10.1.2.8".parse().expect("ip");
        for _ in 0..MISS_BURST as usize {
            assert!(limits.may_look_up(ip).is_ok());
            limits.missed(ip);
        }
        assert!(limits.may_look_up(ip).expect_err("limited") >= Duration::from_secs(1));
        let other: IpAddr = "10.1.2.9".parse().expect("ip");
        assert!(limits.may_look_up(other).is_ok());
    }
}
