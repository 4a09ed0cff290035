//! A node that stalls rather than dies, mid-event: frozen (SIGSTOP) while its writer has a
//! transaction open, or cut from PostgreSQL or from NATS by a network that holds packets
//! instead of refusing them. Its kernel keeps its sockets open, so nothing looks closed; the cluster
//! must notice by itself, move the event within the documented bound, and the stalled
//! node, once it wakes or its network heals, must store nothing for the event it lost.
//!
//! Each test asserts that every acknowledged answer is the attendee's latest in the
//! database and no older one is stored after it; that nothing is stored twice (not even by
//! the documented retry, which these faults leave no room for); that a fresh host on every
//! node shows the truth, and again after a cold restart of every node; and that the event
//! moved (or, for a non-owner, stayed) within the bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tokio::time::Instant;

use crate::harness::Cluster;
use crate::phone::{answering_until_stopped, fixture_phones, stop_after_outage};

const PHONES: usize = 24;
const KEYS: &[&str] = &["role", "usefulness", "barrier-word"];

/// How soon the event must run elsewhere once its owner stalls (docs/deployment.md): the
/// lease (5 s), plus 2 s for an owner cut from NATS to stop renewing, plus the time another
/// node takes to ask for the event.
const MOVE_BOUND: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stall {
    /// The owner frozen while its writer has a transaction open; 11 s later its lease
    /// session is dropped, as TCP keepalives drop a vanished machine's; thawed at 17 s.
    OwnerFrozen,
    /// Every byte between the owner and PostgreSQL held for 20 s, then let through.
    OwnerCutFromDatabase,
    /// Every byte between the owner and NATS held for 15 s, then let through.
    OwnerCutFromNats,
    /// A node that runs no event frozen for 10 s.
    NonOwnerFrozen,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_owner_is_replaced_and_stores_nothing_when_it_wakes() {
    stall_mid_event(Stall::OwnerFrozen).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_cut_from_the_database_is_replaced_and_its_held_writes_are_refused() {
    stall_mid_event(Stall::OwnerCutFromDatabase).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_cut_from_nats_is_replaced() {
    stall_mid_event(Stall::OwnerCutFromNats).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_non_owner_costs_nothing() {
    stall_mid_event(Stall::NonOwnerFrozen).await;
}

async fn stall_mid_event(stall: Stall) {
    let mut cluster = match stall {
        Stall::OwnerCutFromDatabase => Cluster::start_behind_a_pg_proxy_each(3).await,
        Stall::OwnerCutFromNats => Cluster::start_behind_a_nats_proxy_each(3).await,
        _ => Cluster::start(3).await,
    };
    let (spec, created, host) = cluster.open_event(KEYS).await;
    host.close().await;
    let phones = fixture_phones(&spec, PHONES, &cluster.attendee_urls(&created.code));
    let stop = Arc::new(AtomicBool::new(false));
    let crowd = answering_until_stopped(&spec, phones, KEYS, 7000, &stop);

    tokio::time::sleep(Duration::from_secs(2)).await;
    let owner = only_owner(&cluster).await;
    let victim = match stall {
        Stall::NonOwnerFrozen => (owner + 1) % 3,
        _ => owner,
    };
    let before = lease_row(&cluster.database, &created.code).await;
    let pid = cluster.nodes[victim].pid();
    let stalled_at = match stall {
        Stall::OwnerFrozen => freeze_mid_transaction(&cluster, victim).await,
        Stall::OwnerCutFromDatabase => {
            cluster.node_proxies[victim].hold();
            Instant::now()
        }
        Stall::OwnerCutFromNats => {
            cluster.nats_proxies[victim].hold();
            Instant::now()
        }
        Stall::NonOwnerFrozen => {
            cluster.nodes[victim].freeze();
            Instant::now()
        }
    };
    println!(
        "{stall:?}: node {victim} (pid {pid}) stalled; the owner was node {owner}, lease {before:?}"
    );
    let watch = OwnerWatch::start(&cluster, victim, stalled_at);

    match stall {
        Stall::OwnerFrozen => {
            tokio::time::sleep_until(stalled_at + Duration::from_secs(11)).await;
            let dropped = drop_lease_session(&cluster.database, pid).await;
            println!("dropped {dropped} lease session(s) of the frozen node");
            tokio::time::sleep_until(stalled_at + Duration::from_secs(17)).await;
            cluster.nodes[victim].thaw();
        }
        Stall::OwnerCutFromDatabase => {
            // It tells a health-checking load balancer it cannot serve.
            tokio::time::sleep_until(stalled_at + Duration::from_secs(10)).await;
            let health = health(&cluster, victim).await;
            assert_eq!(
                health,
                Some(503),
                "/healthz of node {victim}, cut from the database for 10 s"
            );
            tokio::time::sleep_until(stalled_at + Duration::from_secs(20)).await;
            cluster.node_proxies[victim].release();
        }
        Stall::OwnerCutFromNats => {
            tokio::time::sleep_until(stalled_at + Duration::from_secs(6)).await;
            let health = health(&cluster, victim).await;
            assert_eq!(
                health,
                Some(503),
                "/healthz of node {victim}, cut from NATS"
            );
            tokio::time::sleep_until(stalled_at + Duration::from_secs(15)).await;
            cluster.nats_proxies[victim].release();
        }
        Stall::NonOwnerFrozen => {
            tokio::time::sleep_until(stalled_at + Duration::from_secs(10)).await;
            cluster.nodes[victim].thaw();
        }
    }
    // Time for the woken node to find it has lost the event, and for its writer to try
    // what it held.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let moved = watch.stop();
    assert_eq!(
        health(&cluster, victim).await,
        Some(200),
        "/healthz of node {victim}, 4 s after the {stall:?} ended"
    );
    let mut phones = stop_after_outage(crowd, &stop, &format!("{stall:?}")).await;
    crate::node_loss::stale_resends(&mut phones, &spec).await;

    let after = lease_row(&cluster.database, &created.code).await;
    let victim_metrics = fetch_metrics(&cluster.http, &cluster.nodes[victim].base())
        .await
        .unwrap_or_default();
    println!(
        "{stall:?}: lease {before:?} -> {after:?}; on node {victim}: {} writes refused by \
         fencing, {} dropped with their stopped actor",
        metric(&victim_metrics, "joinup_writes_fenced_total"),
        metric(&victim_metrics, "joinup_writes_abandoned_total"),
    );
    let (wrong, retried) =
        crate::stored::log_differences(&cluster.database, &created.code, &phones).await;
    assert!(
        wrong.is_empty(),
        "after {stall:?}, the answer log contradicts what was acknowledged:\n{}",
        wrong.join("\n")
    );
    // The documented retry (a batch whose COMMIT's reply was lost, committed again) stores
    // twice only if the retry reaches the database before the event changes owner. Here it
    // cannot: the frozen writer's COMMIT reply waits in its socket, read when it wakes, and
    // the held one's retry reaches the database only once the event has moved, where its
    // fence refuses it. So nothing may be stored twice at all.
    assert_eq!(
        retried, 0,
        "after {stall:?}, {retried} answers were stored twice, side by side"
    );
    let after_fault = format!("{stall:?}");
    cluster
        .assert_settled(&[0, 1, 2], &created, &spec, &phones, KEYS, &after_fault)
        .await;

    match stall {
        Stall::NonOwnerFrozen => {
            assert_eq!(
                moved.elsewhere, None,
                "the event moved although its owner, node {owner}, never stalled"
            );
            assert!(
                moved.owner_missed.is_none(),
                "the owner, node {owner}, stopped running the event at {:?}",
                moved.owner_missed
            );
        }
        _ => {
            let (node, took) = moved
                .elsewhere
                .unwrap_or_else(|| panic!("no other node took the event from node {victim}"));
            println!("{stall:?}: node {node} ran the event {took:?} after node {victim} stalled");
            assert!(
                took <= MOVE_BOUND,
                "the event moved {took:?} after its owner stalled, more than {MOVE_BOUND:?}"
            );
        }
    }

    cluster.cold_restart().await;
    let after_restart = format!("{stall:?} and a cold restart of every node");
    cluster
        .assert_settled(&[0, 1, 2], &created, &spec, &phones, KEYS, &after_restart)
        .await;
}

/// Freezes node `victim` at a moment its writer has a transaction open (it is tried until
/// one is caught: frozen, and if no transaction of its writer is open, thawed at once):
/// when it was frozen.
async fn freeze_mid_transaction(cluster: &Cluster, victim: usize) -> Instant {
    let node = &cluster.nodes[victim];
    let writer = format!("joinup writer (pid {})", node.pid());
    let mut db = PgConnection::connect(&cluster.database).await.expect("db");
    for _ in 0..400 {
        node.freeze();
        let frozen = Instant::now();
        // A statement already sent finishes; then the backend waits for a frozen client.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let open: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                 WHERE application_name = $1 AND state = 'idle in transaction')",
        )
        .bind(&writer)
        .fetch_one(&mut db)
        .await
        .expect("pg_stat_activity");
        if open {
            return frozen;
        }
        node.thaw();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    panic!("node {victim}'s writer never had a transaction open when frozen");
}

/// Ends the frozen node's lease session from the database's side, as TCP keepalives end
/// the session of a machine that vanished.
async fn drop_lease_session(database: &str, pid: u32) -> i64 {
    let mut db = PgConnection::connect(database).await.expect("db");
    sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE application_name = $1) AS ended",
    )
    .bind(format!("joinup lease (pid {pid})"))
    .fetch_one(&mut db)
    .await
    .expect("terminate")
}

/// The event's lease as stored: (epoch, node).
async fn lease_row(database: &str, code: &str) -> Option<(i64, i64)> {
    let mut db = PgConnection::connect(database).await.expect("db");
    sqlx::query_as("SELECT epoch, node FROM event_owners WHERE event = $1")
        .bind(code)
        .fetch_optional(&mut db)
        .await
        .ok()
        .flatten()
}

/// The one node that runs the event, by every node's `/metrics`.
async fn only_owner(cluster: &Cluster) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut live = Vec::new();
        for node in 0..cluster.nodes.len() {
            if live_events(cluster, node).await.is_some_and(|n| n > 0) {
                live.push(node);
            }
        }
        if let [owner] = live[..] {
            return owner;
        }
        assert!(Instant::now() < deadline, "the event runs on {live:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A counter or gauge in a `/metrics` text (0 if absent).
fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

async fn live_events(cluster: &Cluster, node: usize) -> Option<u64> {
    let text = fetch_metrics(&cluster.http, &cluster.nodes[node].base()).await?;
    text.lines()
        .find_map(|l| l.strip_prefix("joinup_live_events "))
        .and_then(|v| v.trim().parse().ok())
}

/// The status of a node's `/healthz`, if it answers within a second.
async fn health(cluster: &Cluster, node: usize) -> Option<u16> {
    let response = cluster
        .http
        .get(format!("{}/healthz", cluster.nodes[node].base()))
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .ok()?;
    Some(response.status().as_u16())
}

/// `/metrics` within a second (a stalled node's socket accepts but never answers).
async fn fetch_metrics(http: &reqwest::Client, base: &str) -> Option<String> {
    let response = http
        .get(format!("{base}/metrics"))
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .ok()?;
    response.text().await.ok()
}

/// Watches, from the stall on, which node runs the event.
struct OwnerWatch {
    done: Arc<AtomicBool>,
    seen: Arc<std::sync::Mutex<Moved>>,
}

#[derive(Debug, Default, Clone)]
struct Moved {
    /// The first node other than the stalled one seen running the event, and when.
    elsewhere: Option<(usize, Duration)>,
    /// When the first owner was first seen not running it (the stalled node is not asked).
    owner_missed: Option<Duration>,
}

impl OwnerWatch {
    fn start(cluster: &Cluster, stalled: usize, since: Instant) -> OwnerWatch {
        let done = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(std::sync::Mutex::new(Moved::default()));
        let bases: Vec<(usize, String)> = (0..cluster.nodes.len())
            .filter(|&n| n != stalled)
            .map(|n| (n, cluster.nodes[n].base()))
            .collect();
        let http = cluster.http.clone();
        let (stop, record) = (done.clone(), seen.clone());
        tokio::spawn(async move {
            // Which of the others ran it before the stall (the owner, when a non-owner stalls).
            let mut first: Vec<usize> = Vec::new();
            for (node, base) in &bases {
                if live_on(&http, base).await == Some(true) {
                    first.push(*node);
                }
            }
            while !stop.load(Ordering::Relaxed) {
                for (node, base) in &bases {
                    let live = live_on(&http, base).await;
                    let at = since.elapsed();
                    let mut seen = record.lock().expect("watch");
                    if first.contains(node) {
                        if live == Some(false) && seen.owner_missed.is_none() {
                            seen.owner_missed = Some(at);
                        }
                    } else if live == Some(true) && seen.elsewhere.is_none() {
                        seen.elsewhere = Some((*node, at));
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        OwnerWatch { done, seen }
    }

    fn stop(self) -> Moved {
        self.done.store(true, Ordering::Relaxed);
        self.seen.lock().expect("watch").clone()
    }
}

async fn live_on(http: &reqwest::Client, base: &str) -> Option<bool> {
    let text = fetch_metrics(http, base).await?;
    let live: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("joinup_live_events "))
        .and_then(|v| v.trim().parse().ok())?;
    Some(live > 0)
}
