//! NATS dies mid-event and comes back on the same port. Attendees whose answers go
//! unacknowledged time out, move to another node and resend; after NATS returns, a host on
//! every node converges to the truth, every answer is acknowledged, and PostgreSQL holds
//! exactly the last answer each attendee sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::harness::Cluster;
use crate::helpers::Rng;
use crate::host::HostWatch;
use crate::phone::{Crowd, assert_none_refused, fixture_phones, truth};
use crate::truth::random_value;

const PHONES: usize = 30;
const KEYS: &[&str] = &["role", "usefulness", "barrier-word"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_restarted_mid_event_the_cluster_converges() {
    let mut cluster = Cluster::start(3).await;
    let (spec, created, host) = cluster.open_event(KEYS).await;
    let code = created.code.clone();
    host.close().await;
    // A host dashboard on each node, kept open throughout, reconnecting to its own node.
    let watches: Vec<HostWatch> = cluster
        .host_urls(&code)
        .into_iter()
        .enumerate()
        .map(|(node, url)| HostWatch::start(vec![(node, url)], &created.host_token))
        .collect();

    let phones = fixture_phones(&spec, PHONES, &cluster.attendee_urls(&code));
    let stop = Arc::new(AtomicBool::new(false));
    let crowd = Crowd::spawn(phones, |i, mut phone| {
        let spec = spec.clone();
        let stop = stop.clone();
        async move {
            phone.join().await;
            let mut rng = Rng::seeded(2000 + i as u64);
            for key in KEYS {
                phone.answer(key, random_value(&spec, key, &mut rng)).await;
            }
            phone.settle().await;
            // Keep changing answers, a few a second, through the outage and after.
            let pause = Duration::from_millis(300);
            phone
                .answer_until(&spec, KEYS, &mut rng, 0, pause, &stop)
                .await;
            phone
        }
    });

    tokio::time::sleep(Duration::from_millis(2000)).await;
    cluster.nats.kill().await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    cluster.nats.restart().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let mut phones = crowd.finish().await;
    let moved = phones.iter().filter(|p| p.moves() > 0).count();
    println!("NATS outage: {moved} of {PHONES} phones changed node");
    assert_none_refused(&phones);
    for phone in &phones {
        assert!(phone.unacknowledged().is_empty());
    }

    crate::node_loss::stale_resends(&mut phones, &spec).await;

    let (expected, attendance) = truth(&spec, &phones, KEYS, &[]);
    let mut failures = Vec::new();
    for (node, watch) in watches.iter().enumerate() {
        let wait = Duration::from_secs(20);
        if let Err(why) = watch
            .converge(wait, &expected, false, Some(&attendance))
            .await
        {
            failures.push(format!("host on node {node}:{why}"));
        }
    }
    for (node, watch) in watches.iter().enumerate() {
        let view = watch.view();
        println!(
            "host on node {node}: {} snapshots; {:?}",
            view.snapshots, view.history
        );
    }
    assert!(
        failures.is_empty(),
        "20 s after NATS came back, not every host shows the truth:\n{}",
        failures.join("\n")
    );
    for node in 0..3 {
        let view = cluster.host_view(node, &created).await;
        assert!(
            view.differences(&expected, false).is_empty(),
            "fresh snapshot on node {node}:{}",
            view.explain(&expected, false, None)
        );
    }
    let wrong = crate::stored::differences(&cluster.database, &code, &spec, &phones).await;
    assert!(
        wrong.is_empty(),
        "after the NATS outage, the database differs from what was sent:\n{}",
        wrong.join("\n")
    );
}
