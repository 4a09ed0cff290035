//! Bad input: each gets its documented error code and a message that says what was wrong,
//! and the connection stays usable.

use serde_json::{Value, json};

use crate::helpers::{Client, Closed, TestApp, fixture_2026};

async fn open(host: &mut Client, keys: &[&str]) {
    for (i, key) in keys.iter().enumerate() {
        let reply = host
            .command(json!({"type": "open", "activity": key}), 1000 + i as u64)
            .await;
        assert_eq!(reply["type"], "ok", "{reply}");
    }
}

#[tokio::test]
async fn every_bad_attendee_message_gets_its_error_and_the_socket_stays_usable() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    open(
        &mut host,
        &[
            "role",
            "barriers",
            "pre-prescribing",
            "barrier-word",
            "concern",
            "pledge",
            "next-year",
            "partnership-priority",
        ],
    )
    .await;
    let reply = host
        .command(json!({"type": "close", "activity": "next-year"}), 1)
        .await;
    assert_eq!(reply["type"], "ok");

    // A message before hello.
    let mut early = app.connect(&created.code).await;
    early
        .send(&json!({"type": "answer", "id": "e1", "activity": "role", "value": [0]}))
        .await;
    let error = early.recv_type("error").await;
    assert_eq!(
        (error["code"].as_str(), error["id"].as_str()),
        (Some("not_joined"), Some("e1"))
    );

    let (mut phone, _) = app
        .attendee(
            &created.code,
            json!({"organisation": "York Mind", "room": "Room B"}),
        )
        .await;
    let long_text = "x".repeat(501);
    let cases: Vec<(String, &str, &str)> = vec![
        ("{nope".into(), "invalid_message", "not valid JSON"),
        ("[1,2,3]".into(), "invalid_message", "JSON object"),
        (
            r#"{"type":"dance","id":"d1"}"#.into(),
            "invalid_message",
            "unknown message type",
        ),
        (
            r#"{"type":"answer","activity":"role","value":[0]}"#.into(),
            "invalid_message",
            "id",
        ),
        (
            r#"{"type":"answer","id":5,"activity":"role","value":[0]}"#.into(),
            "invalid_message",
            "invalid type",
        ),
        (
            json!({"type":"answer","id":"v1","activity":"role","value":"1"}).to_string(),
            "invalid_value",
            "array",
        ),
        (
            json!({"type":"answer","id":"v2","activity":"role","value":[9]}).to_string(),
            "invalid_value",
            "option 9 does not exist",
        ),
        (
            json!({"type":"answer","id":"v3","activity":"role","value":[0,1]}).to_string(),
            "invalid_value",
            "exactly one",
        ),
        (
            json!({"type":"answer","id":"v4","activity":"barriers","value":[0,1,2,3]}).to_string(),
            "invalid_value",
            "at most 3",
        ),
        (
            json!({"type":"answer","id":"v5","activity":"barriers","value":[1,1]}).to_string(),
            "invalid_value",
            "twice",
        ),
        (
            json!({"type":"answer","id":"v6","activity":"barrier-word","value":["a","b","c","d"]})
                .to_string(),
            "invalid_value",
            "at most 3 words",
        ),
        (
            json!({"type":"answer","id":"v7","activity":"barrier-word","value":["x".repeat(26)]})
                .to_string(),
            "invalid_value",
            "1 to 25 characters",
        ),
        (
            json!({"type":"answer","id":"v8","activity":"concern","value":long_text}).to_string(),
            "invalid_value",
            "at most 500 characters",
        ),
        (
            json!({"type":"answer","id":"v9","activity":"pre-prescribing","value":6}).to_string(),
            "invalid_value",
            "outside the scale",
        ),
        (
            json!({"type":"answer","id":"v10","activity":"pre-prescribing","value":3.5})
                .to_string(),
            "invalid_value",
            "whole number",
        ),
        (
            json!({"type":"answer","id":"v11","activity":"pledge","value":false}).to_string(),
            "invalid_value",
            "true",
        ),
        (
            json!({"type":"answer","id":"u1","activity":"no-such-thing","value":1}).to_string(),
            "unknown_activity",
            "no activity",
        ),
        (
            json!({"type":"answer","id":"u2","activity":"partnership-priority","value":[0]})
                .to_string(),
            "unknown_activity",
            "Room A",
        ),
        (
            json!({"type":"answer","id":"c1","activity":"usefulness","value":3}).to_string(),
            "activity_closed",
            "ready",
        ),
        (
            json!({"type":"answer","id":"c2","activity":"next-year","value":"more on housing"})
                .to_string(),
            "activity_closed",
            "closed",
        ),
        (
            json!({"type":"ask","id":"q1","text":long_text}).to_string(),
            "invalid_value",
            "1 to 500 characters",
        ),
        (
            json!({"type":"upvote","id":"q2","question":"nothing"}).to_string(),
            "invalid_value",
            "no question",
        ),
        (
            json!({"type":"card","id":"k1","card":{"organisation":"York Mind"}}).to_string(),
            "invalid_value",
            "card",
        ),
        (
            json!({"type":"profile","id":"p1","organisation":"York Mind","sector":"Astrology"})
                .to_string(),
            "invalid_value",
            "not one of this event's sectors",
        ),
        (
            json!({"type":"profile","id":"p2","room":"Room Z"}).to_string(),
            "invalid_value",
            "not a room",
        ),
    ];
    for (frame, code, words) in &cases {
        phone.send_text(frame).await;
        let error = phone.recv_type("error").await;
        assert_eq!(error["code"], *code, "{frame} -> {error}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(words),
            "{frame}: message {message:?} should mention {words:?}"
        );
        // The id comes back whenever the frame had a readable one.
        if let Ok(sent) = serde_json::from_str::<Value>(frame)
            && let Some(id) = sent.get("id").filter(|id| id.is_string())
        {
            assert_eq!(&error["id"], id, "{frame}");
        }
    }
    // A binary frame is refused in words, too.
    phone.send_binary(vec![1, 2, 3]).await;
    assert_eq!(phone.recv_type("error").await["code"], "invalid_message");

    // Still usable: a valid answer is acknowledged, and nothing bad was counted.
    let ack = phone.answer("good-1", "role", json!([2])).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let tally = host
        .recv_where(|m| m["type"] == "tally" && m["activity"] == "role")
        .await;
    assert_eq!(
        tally["tally"],
        json!({"total": 1, "counts": [0, 0, 1, 0, 0, 0]})
    );
}

#[tokio::test]
async fn a_frame_over_16_kib_closes_with_4009() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut phone, _) = app.attendee(&created.code, json!({})).await;
    let big = json!({"type": "ask", "id": "big", "text": "x".repeat(17 * 1024)});
    phone.send(&big).await;
    assert_eq!(phone.closed().await, Closed::Code(4009));
}

#[tokio::test]
async fn hosts_must_authenticate_and_a_wrong_token_closes_with_4001() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let url = app.ws_url(&format!("/ws/host/{}", created.code));
    let mut host = Client::connect(&url).await;
    host.send(&json!({"type": "open", "id": 1, "activity": "role"}))
        .await;
    let error = host.recv_type("error").await;
    assert_eq!(error["code"], "unauthorized");
    // Still open: a right token now works.
    host.send(&json!({"type": "auth", "token": created.host_token}))
        .await;
    host.recv_type("snapshot").await;

    let mut intruder = Client::connect(&url).await;
    intruder
        .send(&json!({"type": "auth", "token": created.presenter_token}))
        .await;
    assert_eq!(intruder.recv_type("error").await["code"], "unauthorized");
    assert_eq!(intruder.closed().await, Closed::Code(4001));

    // The presenter token opens the presenter socket, which is read-only.
    let (mut presenter, snapshot) = app.presenter(&created).await;
    assert_eq!(snapshot["type"], "snapshot");
    presenter
        .send(&json!({"type": "open", "id": 9, "activity": "role"}))
        .await;
    let error = presenter.recv_type("error").await;
    assert_eq!(
        (error["code"].as_str(), error["id"].as_i64()),
        (Some("unauthorized"), Some(9))
    );
}

#[tokio::test]
async fn host_commands_name_what_is_wrong() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    let cases = [
        (
            json!({"type": "open", "activity": "nope"}),
            "unknown_activity",
        ),
        (
            json!({"type": "reveal", "activity": "role"}),
            "invalid_message",
        ),
        (
            json!({"type": "moderate", "item": "question", "target": "nope", "action": "approve"}),
            "invalid_value",
        ),
        (
            json!({"type": "moderate", "item": "poem", "target": "x", "action": "approve"}),
            "invalid_message",
        ),
        (
            json!({"type": "focus", "activity": "nope"}),
            "unknown_activity",
        ),
        (json!({"type": "launch"}), "invalid_message"),
    ];
    for (i, (command, code)) in cases.into_iter().enumerate() {
        let reply = host.command(command.clone(), i as u64).await;
        assert_eq!(reply["type"], "error", "{command}");
        assert_eq!(reply["code"], code, "{command} -> {reply}");
    }
    let reply = host
        .command(json!({"type": "open", "activity": "role"}), 99)
        .await;
    assert_eq!(reply, json!({"type": "ok", "for": "open", "id": 99}));
}

#[tokio::test]
async fn turned_off_features_answer_not_available() {
    let app = TestApp::spawn().await;
    let mut spec = fixture_2026();
    spec["qa"] = json!({"enabled": false});
    spec["directory"] = json!({"enabled": false});
    let created = app.create_event(&spec).await;
    let (mut phone, welcome) = app.attendee(&created.code, json!({})).await;
    assert_eq!(welcome["questions"], json!([]));
    phone
        .send(&json!({"type": "ask", "id": "a", "text": "Why?"}))
        .await;
    assert_eq!(phone.recv_type("error").await["code"], "not_available");
    let card = json!({"organisation": "York Mind", "service": "s", "offer": "o", "referral": "r", "contact": "c"});
    phone
        .send(&json!({"type": "card", "id": "b", "card": card}))
        .await;
    assert_eq!(phone.recv_type("error").await["code"], "not_available");
}
