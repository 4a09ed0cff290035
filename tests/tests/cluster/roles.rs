//! A role link revoked through any node closes, at once, every socket it opened: on the
//! node that owns the event and on the nodes that relay to it.

use serde_json::json;

use crate::harness::Cluster;
use crate::helpers::{Client, Closed, ORGANISER_KEY, fixture_2026, issue_link, link_secret};

/// A host socket on `node` that sends `auth` with `key`.
async fn staff(cluster: &Cluster, node: usize, code: &str, key: &str) -> Client {
    Client::auth(
        &cluster.nodes[node].ws_url(&format!("/ws/host/{code}")),
        key,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_revoked_through_one_node_closes_its_sockets_on_every_node() {
    let cluster = Cluster::start(2).await;
    let created = cluster.create_event(0, &fixture_2026()).await;
    let code = created.code.as_str();
    // The event's own host on node 0 loads it there: node 0 owns it, node 1 relays.
    let (_host, _) = cluster.host(0, &created).await;

    let moderator = json!({"role": "moderator", "label": "Room B moderator"});
    let (status, issued) =
        issue_link(&cluster.http, &cluster.nodes[1].base(), code, &moderator).await;
    assert_eq!(status, 201, "{issued}");
    let secret = link_secret(&issued);
    let id = issued["id"].as_str().expect("id");

    let mut on_owner = staff(&cluster, 0, code, &secret).await;
    let mut relayed = staff(&cluster, 1, code, &secret).await;
    for socket in [&mut on_owner, &mut relayed] {
        assert_eq!(socket.recv_type("authorised").await["role"], "moderator");
        socket.recv_type("snapshot").await;
    }
    assert_eq!(cluster.owner().await, Some(0), "node 0 runs the event");
    // The relayed moderator's commands reach the owner.
    let opened = relayed
        .command(json!({"type": "open", "activity": "role"}), 1)
        .await;
    assert_eq!(opened["type"], "ok", "{opened}");
    let refused = relayed.command(json!({"type": "end"}), 2).await;
    assert_eq!(refused["code"], "unauthorized", "{refused}");

    // Revoked through node 1, which does not run the event: both close with 4001, well
    // before either socket's own check of its link at its first ping (12.5 s at the
    // soonest), so the owner was told through the cluster.
    let response = cluster
        .http
        .delete(format!(
            "{}/api/events/{code}/links/{id}",
            cluster.nodes[1].base()
        ))
        .bearer_auth(ORGANISER_KEY)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(relayed.closed().await, Closed::Code(4001));
    assert_eq!(on_owner.closed().await, Closed::Code(4001));
    for node in [0, 1] {
        let mut again = staff(&cluster, node, code, &secret).await;
        assert_eq!(again.recv_type("error").await["code"], "unauthorized");
        assert_eq!(again.closed().await, Closed::Code(4001));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_link_relayed_by_another_node_is_bound_to_its_room() {
    let cluster = Cluster::start(2).await;
    let mut spec = fixture_2026();
    spec["qa"] = json!({"enabled": true, "moderation": "post"});
    let created = cluster.create_event(0, &spec).await;
    let code = created.code.as_str();
    // The host on node 0 loads the event there; sessions run in two rooms.
    let (mut host, _) = cluster.host(0, &created).await;
    let rooms: Vec<(String, String)> = spec["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter_map(|s| {
            Some((
                s["room"].as_str()?.to_owned(),
                s["key"].as_str()?.to_owned(),
            ))
        })
        .collect();
    assert!(rooms.len() >= 2, "the fixture has two break-out rooms");
    let (ours, theirs) = (&rooms[0], &rooms[1]);
    assert_ne!(ours.0, theirs.0);
    for (id, (_, session)) in [ours, theirs].into_iter().enumerate() {
        let reply = host
            .command(
                json!({"type": "session", "session": session}),
                id as u64 + 1,
            )
            .await;
        assert_eq!(reply["type"], "ok", "{reply}");
    }
    assert_eq!(cluster.owner().await, Some(0), "node 0 runs the event");

    let ours_link = json!({"role": "presenter", "label": "Our screen", "room": ours.0});
    let (status, issued) =
        issue_link(&cluster.http, &cluster.nodes[1].base(), code, &ours_link).await;
    assert_eq!(status, 201, "{issued}");
    let secret = link_secret(&issued);
    // On node 1, which relays to the owner, at the other room's address.
    let url = cluster.nodes[1].ws_url(&format!(
        "/ws/present/{code}?room={}",
        theirs.0.replace(' ', "%20")
    ));
    let mut screen = Client::connect(&url).await;
    screen.send(&json!({"type": "auth", "token": secret})).await;
    assert_eq!(screen.recv_type("authorised").await["room"], ours.0);
    screen.recv_type("snapshot").await;

    // A question in each room: ours reaches the screen, theirs never does.
    for (room, text) in [(&theirs.0, "Theirs only"), (&ours.0, "Ours only")] {
        let url = cluster.nodes[1].ws_url(&format!("/ws/e/{code}"));
        let mut phone = Client::connect(&url).await;
        phone
            .send(&json!({"type": "hello", "attendee": null, "room": room}))
            .await;
        phone.recv_type("welcome").await;
        phone
            .send(&json!({"type": "ask", "id": "q", "text": text}))
            .await;
        let reply = phone
            .recv_where(|m| m["id"] == "q" && (m["type"] == "ack" || m["type"] == "error"))
            .await;
        assert_eq!(reply["type"], "ack", "{reply}");
    }
    let ours_frame = screen
        .recv_where(|m| m["type"] == "questions" && m.to_string().contains("Ours only"))
        .await;
    assert_eq!(ours_frame["room"], ours.0);
    let later = screen.drain(std::time::Duration::from_millis(800)).await;
    for frame in later.iter().chain([&ours_frame]) {
        assert!(!frame.to_string().contains("Theirs only"), "{frame}");
        if frame["type"] == "questions" {
            assert_eq!(frame["room"], ours.0, "{frame}");
        }
    }
}
