//! Break-out rooms: an attendee in one room never receives another room's activities.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, fixture_2026};

fn mentions(messages: &[Value], key: &str) -> bool {
    messages
        .iter()
        .any(|m| m.to_string().contains(&format!("\"{key}\"")))
}

#[tokio::test]
async fn room_activities_reach_only_that_room() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    let (mut a, _) = app
        .attendee(
            &created.code,
            json!({"organisation": "York Mind", "room": "Room A"}),
        )
        .await;
    let (mut b, _) = app
        .attendee(
            &created.code,
            json!({"organisation": "Humankind", "room": "Room B"}),
        )
        .await;
    let (mut plenary, _) = app
        .attendee(&created.code, json!({"organisation": "Foundation"}))
        .await;

    for (i, key) in ["partnership-priority", "connected-word", "role"]
        .iter()
        .enumerate()
    {
        let reply = host
            .command(json!({"type": "open", "activity": key}), i as u64)
            .await;
        assert_eq!(reply["type"], "ok");
    }
    let reply = host
        .command(
            json!({"type": "reveal", "activity": "connected-word", "show": true}),
            9,
        )
        .await;
    assert_eq!(reply["type"], "ok");
    assert_eq!(
        b.answer("b1", "connected-word", json!(["Trust"])).await["type"],
        "ack"
    );
    assert_eq!(
        a.answer("a1", "partnership-priority", json!([0])).await["type"],
        "ack"
    );
    let refused = a.answer("a2", "connected-word", json!(["nope"])).await;
    assert_eq!(refused["code"], "unknown_activity");

    let seen_a = a.drain(Duration::from_millis(1500)).await;
    let seen_b = b.drain(Duration::from_millis(300)).await;
    let seen_plenary = plenary.drain(Duration::from_millis(300)).await;
    assert!(mentions(&seen_a, "partnership-priority") && mentions(&seen_a, "role"));
    assert!(
        !mentions(&seen_a, "connected-word"),
        "room A saw room B: {seen_a:?}"
    );
    assert!(mentions(&seen_b, "connected-word") && mentions(&seen_b, "role"));
    assert!(
        !mentions(&seen_b, "partnership-priority"),
        "room B saw room A: {seen_b:?}"
    );
    assert!(mentions(&seen_plenary, "role"));
    assert!(
        !mentions(&seen_plenary, "partnership-priority")
            && !mentions(&seen_plenary, "connected-word")
    );

    // A welcome holds only what the attendee's room may see.
    let (_late, welcome) = app.attendee(&created.code, json!({"room": "Room A"})).await;
    let open: Vec<&str> = welcome["open"]
        .as_array()
        .expect("open")
        .iter()
        .filter_map(|a| a["key"].as_str())
        .collect();
    assert_eq!(open, vec!["role", "partnership-priority"]);
    assert_eq!(welcome["results"], json!({}));

    // Moving rooms closes the old room's activities and opens the new room's.
    a.send(&json!({"type": "profile", "id": "move", "room": "Room B"}))
        .await;
    // Everything up to the change's ack (which waits for the disk, so no fixed wait), and
    // whatever follows it at once.
    let ack = a
        .recv_where(|m| m["type"] == "ack" && m["id"] == "move")
        .await;
    let mut moved = a.drain(Duration::from_millis(300)).await;
    moved.push(ack);
    assert!(
        moved
            .iter()
            .any(|m| m["type"] == "closed" && m["activity"] == "partnership-priority"),
        "{moved:?}"
    );
    assert!(
        moved
            .iter()
            .any(|m| m["type"] == "opened" && m["activity"]["key"] == "connected-word"),
        "{moved:?}"
    );
    assert!(
        moved
            .iter()
            .any(|m| m["type"] == "results" && m["activity"] == "connected-word"),
        "{moved:?}"
    );
    assert!(
        moved
            .iter()
            .any(|m| m["type"] == "ack" && m["id"] == "move"),
        "{moved:?}"
    );
    assert_eq!(
        a.answer("a3", "connected-word", json!(["trust"])).await["type"],
        "ack"
    );
}

/// A room's own screen (`/present/{code}?room=NAME`) follows its activity from the count and
/// results every presenter is sent for break-out activities, focused or not.
#[tokio::test]
async fn presenters_follow_break_out_counts_and_hosts_see_who_is_in_each_room() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    let (mut presenter, _) = app.presenter(&created).await;
    let (mut a, _) = app.attendee(&created.code, json!({"room": "Room A"})).await;
    let (_b1, _) = app.attendee(&created.code, json!({"room": "Room B"})).await;
    let (_b2, _) = app.attendee(&created.code, json!({"room": "Room B"})).await;
    let attendance = host
        .recv_where(|m| m["type"] == "attendance" && m["present"] == 3)
        .await;
    assert_eq!(attendance["rooms"], json!({"Room A": 1, "Room B": 2}));

    // Room A's activity is not the focus, yet every presenter is told its count and results.
    host.command(
        json!({"type": "open", "activity": "partnership-priority"}),
        1,
    )
    .await;
    host.command(
        json!({"type": "reveal", "activity": "partnership-priority", "show": true}),
        2,
    )
    .await;
    assert_eq!(
        a.answer("a1", "partnership-priority", json!([1])).await["type"],
        "ack"
    );
    let count = presenter
        .recv_where(|m| m["type"] == "count" && m["activity"] == "partnership-priority")
        .await;
    assert_eq!(count["total"], 1);
    let results = presenter
        .recv_where(|m| {
            m["type"] == "results"
                && m["activity"] == "partnership-priority"
                && m["tally"]["total"] == 1
        })
        .await;
    assert_eq!(results["tally"]["counts"][1], 1);
}
