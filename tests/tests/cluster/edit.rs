//! An organiser's edit of a live event in a cluster: made on the node that only relays the
//! event, carried out by the node that runs it, and seen by a phone on the relaying node
//! without reconnecting; the relaying node's own copy of the spec (its pages) follows.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::Cluster;
use crate::helpers::{Client, WAIT, activity, export_spec, put_spec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_on_the_relaying_node_reaches_a_phone_there_without_a_reconnect() {
    let cluster = Cluster::start(2).await;
    let (_, created, mut host) = cluster.open_event(&["role"]).await;
    let code = created.code.clone();
    assert_eq!(
        cluster.owner().await,
        Some(0),
        "the host's node runs the event"
    );

    let mut phone = Client::connect(&cluster.nodes[1].ws_url(&format!("/ws/e/{code}"))).await;
    phone
        .send(&json!({"type": "hello", "organisation": "York Mind"}))
        .await;
    phone.recv_type("welcome").await;
    assert_eq!(phone.answer("a1", "role", json!([1])).await["type"], "ack");

    // The edit goes to node 1, which only relays the event.
    let base = cluster.nodes[1].base();
    let (spec, etag) = export_spec(&cluster.http, &base, &code).await;
    let mut spec: Value = serde_json::from_str(&spec).expect("JSON");
    let role = &mut spec["sessions"][0]["activities"][0];
    role["prompt"] = json!("Which best describes your role?");
    role["options"]
        .as_array_mut()
        .expect("options")
        .push(json!("Volunteer"));
    let sector = spec["sectors"][0].clone();
    spec["organisations"]
        .as_array_mut()
        .expect("organisations")
        .push(json!({"name": "Leeds Recovery Hub", "sector": sector}));
    let (status, body) = put_spec(&cluster.http, &base, &code, Some(&etag), &spec).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["changed"], true, "{body}");

    // The phone on node 1 is sent the new prompt on the socket it had.
    let event = phone.recv_type("event").await;
    assert_eq!(
        activity(&event["event"], "role")["prompt"],
        "Which best describes your role?"
    );
    // The host on node 0 gets a fresh snapshot with the answer kept.
    let snapshot = host.recv_type("snapshot").await;
    assert_eq!(
        activity(&snapshot["event"], "role")["options"][6],
        "Volunteer"
    );
    // The added option counts, from the same socket.
    assert_eq!(phone.answer("a2", "role", json!([6])).await["type"], "ack");

    // What node 1 serves without asking the owner follows the edit (it is told over NATS).
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, facts) = cluster.get_json(1, &format!("/api/events/{code}")).await;
        assert_eq!(status, 200, "{facts}");
        let listed = facts["organisations"]
            .as_array()
            .is_some_and(|orgs| orgs.iter().any(|o| o["name"] == "Leeds Recovery Hub"));
        if listed {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "node 1 still serves the spec before the edit: {facts}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A newcomer on node 1 can pick the organisation the edit added.
    let mut second = Client::connect(&cluster.nodes[1].ws_url(&format!("/ws/e/{code}"))).await;
    second
        .send(&json!({"type": "hello", "organisation": "Leeds Recovery Hub"}))
        .await;
    let welcome = second.recv_type("welcome").await;
    assert_eq!(
        welcome["profile"]["organisation"], "Leeds Recovery Hub",
        "{welcome}"
    );
}
