//! A node killed with SIGKILL (or stopped with SIGTERM) in the middle of a burst of answers:
//! every attendee moves to a surviving node, resumes, resends what was not acknowledged, and
//! in the end the survivors and PostgreSQL hold exactly the last answer each attendee sent,
//! once; the event is owned by a surviving node.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::harness::Cluster;
use crate::helpers::{Created, Rng, WAIT};
use crate::host::HostWatch;
use crate::phone::{Crowd, Phone, assert_none_refused, fixture_phones, truth};
use crate::truth::random_value;

const PHONES: usize = 45;
const KEYS: &[&str] = &["role", "pre-prescribing", "barrier-word"];

/// Which node dies.
#[derive(Debug, Clone, Copy)]
enum Victim {
    /// The node that owns the event (by its `/metrics`; if that cannot be told, node 0,
    /// which had the first host and served the first attendee).
    Owner,
    /// A node that only relays attendees to the owner.
    NotOwner,
    /// The owner again, stopped gracefully (SIGTERM), as an upgrade or a restart would.
    OwnerStopped,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_burst_loses_nothing_acknowledged() {
    burst_and_kill(Victim::Owner).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_owner_node_killed_mid_burst_loses_nothing_acknowledged() {
    burst_and_kill(Victim::NotOwner).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_stopped_mid_burst_hands_the_event_over() {
    burst_and_kill(Victim::OwnerStopped).await;
}

async fn burst_and_kill(victim: Victim) {
    let mut cluster = Cluster::start(3).await;
    let (spec, created, host) = cluster.open_event(KEYS).await;
    host.close().await;

    // The first attendee joins on node 0 before anyone else; then all answer in a burst,
    // each with up to one answer per activity in flight, until told to stop.
    let mut phones = fixture_phones(&spec, PHONES, &cluster.attendee_urls(&created.code));
    phones[0].join().await;
    let stop = Arc::new(AtomicBool::new(false));
    let crowd = Crowd::spawn(phones, |i, mut phone| {
        let spec = spec.clone();
        let stop = stop.clone();
        async move {
            if phone.token.is_none() {
                phone.join().await;
            }
            let mut rng = Rng::seeded(1000 + i as u64);
            // About 15 answers a second: a burst, within the documented rate limit.
            let pause = Duration::from_millis(60);
            phone
                .answer_until(&spec, KEYS, &mut rng, 2 * KEYS.len(), pause, &stop)
                .await;
            phone
        }
    });

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let owner = cluster.owner().await;
    println!("the event's owner, by /metrics: {owner:?}");
    let owner = owner.unwrap_or(0);
    let (victim, graceful) = match victim {
        Victim::Owner => (owner, false),
        Victim::NotOwner => ((owner + 2) % 3, false),
        Victim::OwnerStopped => (owner, true),
    };
    if graceful {
        cluster.nodes[victim].stop().await;
    } else {
        cluster.nodes[victim].kill_9().await;
    }
    // The burst goes on through the failover (3 s to declare the node gone) and after.
    tokio::time::sleep(Duration::from_secs(6)).await;
    stop.store(true, Ordering::Relaxed);
    let mut phones = crowd.finish().await;
    let survivors: Vec<usize> = (0..3).filter(|&n| n != victim).collect();
    report_moves(&phones, victim);
    stale_resends(&mut phones, &spec).await;
    check_truth(&cluster, &created, &spec, &phones, &survivors, victim).await;
}

fn report_moves(phones: &[Phone], victim: usize) {
    let moved = phones.iter().filter(|p| p.moves() > 0).count();
    println!(
        "node {victim} killed: {moved} of {} phones changed node",
        phones.len()
    );
    for phone in phones.iter().filter(|p| p.moves() > 0) {
        println!("  {}: {:?}", phone.label, phone.history);
    }
    assert!(
        moved > 0,
        "nobody noticed node {victim} die: the kill was not mid-burst"
    );
    assert_none_refused(phones);
    for phone in phones {
        assert_ne!(
            phone.node, victim,
            "{} ended on the killed node",
            phone.label
        );
        assert_eq!(
            phone.answers.len(),
            KEYS.len(),
            "{}: answered {:?}",
            phone.label,
            phone.answers.keys()
        );
    }
}

/// Every phone sends its first acknowledged id again, with another value, on the node it
/// ended on: acknowledged again, and (as the checks that follow show) without effect.
pub async fn stale_resends(phones: &mut [Phone], spec: &Value) {
    for phone in phones {
        let (_, activity) = phone.acked[0].clone();
        let stale = random_value(spec, &activity, &mut Rng::seeded(99));
        let reply = phone.resend_first_answer(stale).await;
        assert_eq!(
            reply["type"], "ack",
            "{} on node {}: a resent, already acknowledged id: {reply}",
            phone.label, phone.node
        );
    }
}

async fn check_truth(
    cluster: &Cluster,
    created: &Created,
    spec: &Value,
    phones: &[Phone],
    survivors: &[usize],
    victim: usize,
) {
    let after = format!("node {victim} died");
    cluster
        .assert_settled(survivors, created, spec, phones, KEYS, &after)
        .await;
    let (expected, attendance) = truth(spec, phones, KEYS, &[]);

    // Attendance forgets the dead node's connections and counts each attendee once.
    let urls: Vec<(usize, String)> = survivors
        .iter()
        .map(|&n| (n, cluster.host_urls(&created.code)[n].clone()))
        .collect();
    let watch = HostWatch::start(urls, &created.host_token);
    if let Err(why) = watch
        .converge(2 * WAIT, &expected, false, Some(&attendance))
        .await
    {
        panic!("after node {victim} died, the host on a survivor did not converge:{why}");
    }

    // Exactly one survivor runs the event now.
    let owner = cluster.owner().await;
    assert!(
        owner.is_some_and(|n| n != victim),
        "after node {victim} died, the event's owner is {owner:?}"
    );
}
