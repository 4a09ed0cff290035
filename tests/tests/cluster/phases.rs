//! An event's phases in a cluster: the owner's clock and the host's `end` move every node's
//! phones through live -> after -> closed. A host on the relaying node ends the live part,
//! a phone on the relaying node answers the evaluation, and when `closes_at` passes the
//! owner closes the phones of both nodes with 4000 and every node answers `closed`.

use serde_json::{Value, json};

use joinup::domain::clock;

use crate::harness::Cluster;
use crate::helpers::{Client, Closed};

/// An RFC 3339 date `secs` from now.
fn from_now(secs: i64) -> String {
    clock::format_unix(clock::now_unix() + secs)
}

/// A live event (started an hour ago) with a pre/post pair whose post half is for after
/// the day; the after window ends `closes_in` seconds from now.
fn spec(closes_in: i64) -> Value {
    json!({
        "title": "Phases across nodes",
        "starts_at": from_now(-3600),
        "closes_at": from_now(closes_in),
        "min_group_size": 3,
        "sessions": [
            {"key": "day", "title": "The day", "activities": [
                {"key": "pre-confidence", "kind": "scale", "prompt": "How confident?",
                 "min": 1, "max": 5, "pair": "confidence", "phase": "pre"}
            ]},
            {"key": "evaluation", "title": "Evaluation", "activities": [
                {"key": "post-confidence", "kind": "scale", "prompt": "How confident now?",
                 "min": 1, "max": 5, "pair": "confidence", "phase": "post", "window": "after"}
            ]}
        ]
    })
}

async fn phone_on(cluster: &Cluster, node: usize, code: &str) -> (Client, Value) {
    let url = cluster.nodes[node].ws_url(&format!("/ws/e/{code}"));
    let mut phone = Client::connect(&url).await;
    phone.send(&json!({"type": "hello"})).await;
    let welcome = phone.recv_type("welcome").await;
    (phone, welcome)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owners_clock_and_a_relayed_end_move_every_nodes_phones() {
    let cluster = Cluster::start(2).await;
    // Long enough for the live part and the evaluation's answer on a busy machine.
    const CLOSES_IN: u64 = 15;
    let closes = tokio::time::Instant::now() + std::time::Duration::from_secs(CLOSES_IN);
    let created = cluster.create_event(0, &spec(CLOSES_IN as i64)).await;
    let code = created.code.clone();
    let (mut owner_host, _) = cluster.host(0, &created).await;
    assert_eq!(
        cluster.owner().await,
        Some(0),
        "the first host's node runs it"
    );
    let open = json!({"type": "open", "activity": "pre-confidence"});
    assert_eq!(owner_host.command(open, 1).await["type"], "ok");

    let (mut near, welcome) = phone_on(&cluster, 0, &code).await;
    assert_eq!(welcome["phase"], "live");
    let (mut far, welcome) = phone_on(&cluster, 1, &code).await;
    assert_eq!(welcome["phase"], "live");
    assert_eq!(
        far.answer("pre", "pre-confidence", json!(2)).await["type"],
        "ack"
    );

    // A host on the relaying node ends the live part; a second press takes no second step.
    let (mut far_host, _) = cluster.host(1, &created).await;
    let end = json!({"type": "end", "from": "live"});
    assert_eq!(far_host.command(end.clone(), 2).await["type"], "ok");
    for phone in [&mut near, &mut far] {
        assert_eq!(phone.recv_type("phase").await["phase"], "after");
        phone
            .recv_where(|m| m["type"] == "opened" && m["activity"]["key"] == "post-confidence")
            .await;
    }
    assert_eq!(far_host.command(end, 3).await["type"], "ok");
    for node in 0..2 {
        let (status, facts) = cluster.get_json(node, &format!("/api/events/{code}")).await;
        assert_eq!(
            (status, facts["phase"].as_str()),
            (200, Some("after")),
            "{facts}"
        );
    }
    let refused = far.answer("late", "pre-confidence", json!(3)).await;
    assert_eq!(
        (refused["code"].as_str(), refused["phase"].as_str()),
        (Some("not_open"), Some("after")),
        "{refused}"
    );
    assert_eq!(
        far.answer("post", "post-confidence", json!(4)).await["type"],
        "ack"
    );

    // closes_at passes on the owner's clock: both nodes' phones are closed for good.
    tokio::time::sleep_until(closes).await;
    for phone in [&mut near, &mut far] {
        assert_eq!(phone.recv_type("phase").await["phase"], "closed");
        assert_eq!(phone.recv_type("error").await["code"], "event_ended");
        assert_eq!(phone.closed().await, Closed::Code(4000));
    }
    for node in 0..2 {
        let (status, facts) = cluster.get_json(node, &format!("/api/events/{code}")).await;
        assert_eq!(
            (status, facts["phase"].as_str(), facts["state"].as_str()),
            (200, Some("closed"), Some("ended")),
            "node {node}: {facts}"
        );
    }
    // A phone that comes back to the relaying node is told the event has ended.
    let url = cluster.nodes[1].ws_url(&format!("/ws/e/{code}"));
    let mut late = Client::connect(&url).await;
    assert_eq!(late.recv_type("error").await["code"], "event_ended");
    assert_eq!(late.closed().await, Closed::Code(4000));
}
