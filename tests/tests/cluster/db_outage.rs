//! PostgreSQL falls off the network mid-event. While it is gone no node acknowledges an
//! answer: they refuse with `unavailable`, or the event's owner, having lost its lease
//! session, gives the event up, its connections are closed with 1012 and new ones are
//! refused until the database is back. Once it returns every answer is acknowledged, a
//! fresh host on every node shows the truth, and the database holds exactly the last
//! answer each attendee sent. No node's heartbeat stops meanwhile, so no node is taken
//! for gone.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde_json::json;

use crate::harness::Cluster;
use crate::phone::{answering_until_stopped, fixture_phones, stop_after_outage};
use crate::socket::{Recv, Socket};

const PHONES: usize = 24;
const KEYS: &[&str] = &["role", "usefulness", "barrier-word"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_refuses_answers_and_the_cluster_recovers() {
    let cluster = Cluster::start_behind_pg_proxy(3).await;
    let proxy = cluster.pg_proxy.as_ref().expect("a relay to PostgreSQL");
    let (spec, created, host) = cluster.open_event(KEYS).await;
    let code = created.code.clone();
    host.close().await;

    let phones = fixture_phones(&spec, PHONES, &cluster.attendee_urls(&code));
    let stop = Arc::new(AtomicBool::new(false));
    let crowd = answering_until_stopped(&spec, phones, KEYS, 5000, &stop);

    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.cut();
    // Commits in flight fail; the owner notices its lease session is gone.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for node in 0..cluster.nodes.len() {
        probe_acknowledges_nothing(&cluster.attendee_urls(&code)[node], node).await;
    }
    proxy.restore();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mut phones = stop_after_outage(crowd, &stop, "the database outage").await;

    // The owner kept beating while its actor drained: no node took it for gone and closed
    // the connections it relayed.
    for node in &cluster.nodes {
        let silent = node.logged("a node went silent");
        assert!(
            silent.is_empty(),
            "node {} took a live node for gone during the database outage:\n{}",
            node.index,
            silent.join("\n")
        );
    }

    crate::node_loss::stale_resends(&mut phones, &spec).await;

    cluster
        .assert_settled(
            &[0, 1, 2],
            &created,
            &spec,
            &phones,
            KEYS,
            "the database outage",
        )
        .await;
}

/// A new attendee on `node` while the database is away: refused, closed, told
/// `unavailable` or left waiting, but never welcomed into a stored state nor acknowledged.
async fn probe_acknowledges_nothing(url: &str, node: usize) {
    let Ok(mut socket) = Socket::connect(url).await else {
        return; // refused at the door (503)
    };
    if !socket
        .send(&json!({"type": "hello", "attendee": null}))
        .await
    {
        return;
    }
    let mut welcomed = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while tokio::time::Instant::now() < deadline {
        match socket.recv(Duration::from_millis(500)).await {
            Recv::Message(message) if message["type"] == "welcome" => {
                welcomed = true;
                let answer = json!({"type": "answer", "id": format!("probe-{node}"),
                    "activity": "role", "value": [0]});
                if !socket.send(&answer).await {
                    return;
                }
            }
            Recv::Message(message) => assert_ne!(
                message["type"], "ack",
                "node {node} acknowledged an answer while the database was unreachable \
                 (welcomed: {welcomed}): {message}"
            ),
            Recv::Closed(_) => return,
            _ => {}
        }
    }
    assert!(
        !welcomed,
        "node {node} welcomed a new attendee it could not have stored"
    );
}
