//! NATS dies mid-event and comes back on the same port. Attendees whose answers go
//! unacknowledged time out, move to another node and resend; after NATS returns, a host on
//! every node converges to the truth, every answer is acknowledged, and PostgreSQL holds
//! exactly the last answer each attendee sent.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::harness::Cluster;
use crate::host::HostWatch;
use crate::phone::{answering_until_stopped, fixture_phones, stop_after_outage, truth};

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
    let crowd = answering_until_stopped(&spec, phones, KEYS, 2000, &stop);

    tokio::time::sleep(Duration::from_millis(2000)).await;
    cluster.nats.kill().await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    cluster.nats.restart().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut phones = stop_after_outage(crowd, &stop, "the NATS outage").await;

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
    cluster
        .assert_settled(
            &[0, 1, 2],
            &created,
            &spec,
            &phones,
            KEYS,
            "the NATS outage",
        )
        .await;
}
