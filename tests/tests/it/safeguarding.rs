//! Safeguarding: a question, text or card that may disclose a risk is flagged as a concern
//! for the host, held back from the presenter and other attendees until a person approves
//! it (whatever the moderation rule), never deleted, and its writer is shown the event's
//! support card at once.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, fixture_2026};

/// The 2026 fixture under post-moderation (items visible at once), with a safeguarding
/// section.
fn spec() -> Value {
    let mut spec = fixture_2026();
    spec["qa"]["moderation"] = json!("post");
    spec["safeguarding"] = json!({
        "lead": "Sam Patel",
        "lead_contact": "07700 900123",
        "support": {
            "title": "If you or someone else is not safe",
            "text": "Thank you for telling us. The event's safeguarding lead will read this today.",
            "lines": [
                {"name": "Samaritans", "contact": "116 123", "note": "24 hours, free"},
                {"name": "York crisis team", "contact": "0800 051 6171"}
            ]
        }
    });
    spec
}

#[tokio::test]
async fn a_concern_is_held_flagged_and_its_writer_shown_the_support_card() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&spec()).await;
    let (mut host, snapshot) = app.host(&created).await;
    assert_eq!(snapshot["safeguarding"]["lead"], "Sam Patel");
    let (mut presenter, _) = app.presenter(&created).await;
    let (mut writer, _) = app
        .attendee(&created.code, json!({"organisation": "York Mind"}))
        .await;
    let (mut other, _) = app
        .attendee(&created.code, json!({"organisation": "Humankind"}))
        .await;

    // An ordinary question goes up at once under post-moderation ...
    writer
        .send(&json!({"type": "ask", "id": "q1", "text": "How do I refer to my therapist?"}))
        .await;
    assert_eq!(writer.recv_type("ack").await["id"], "q1");
    let plain = host.recv_where(|m| m["type"] == "question").await;
    assert_eq!(plain["question"]["state"], "approved");
    assert!(plain["question"].get("concern").is_none(), "{plain}");

    // ... a concern is held, flagged, and the writer gets the support card.
    writer
        .send(&json!({"type": "ask", "id": "q2", "text": "My friend Jo is in danger at home"}))
        .await;
    assert_eq!(writer.recv_type("ack").await["id"], "q2");
    let support = writer.recv_type("support").await;
    assert_eq!(support["support"]["lines"][0]["contact"], "116 123");
    let held = host
        .recv_where(|m| m["type"] == "question" && m["question"]["concern"].is_string())
        .await;
    assert_eq!(held["question"]["concern"], "danger");
    assert_eq!(held["question"]["state"], "pending");
    let held_id = held["question"]["id"].as_str().expect("id").to_owned();

    // A text answer that discloses self-harm: flagged, held, card shown.
    let opened = host
        .command(json!({"type": "open", "activity": "concern"}), 1)
        .await;
    assert_eq!(opened["type"], "ok");
    host.command(
        json!({"type": "reveal", "activity": "concern", "show": true}),
        2,
    )
    .await;
    host.command(json!({"type": "focus", "activity": "concern"}), 3)
        .await;
    assert_eq!(
        writer
            .answer("t1", "concern", json!("I have been self-harming again"))
            .await["type"],
        "ack"
    );
    writer.recv_type("support").await;
    let text = host
        .recv_where(|m| m["type"] == "text" && m["concern"].is_string())
        .await;
    assert_eq!(text["concern"], "self_harm");
    assert_eq!(text["state"], "pending");
    assert_eq!(
        other
            .answer("t2", "concern", json!("Nobody picks up the phone"))
            .await["type"],
        "ack"
    );

    // The presenter and the other attendee see the ordinary items, never the concerns.
    let seen_presenter = presenter.drain(Duration::from_millis(1500)).await;
    let seen_other = other.drain(Duration::from_millis(300)).await;
    let everything = format!("{seen_presenter:?}{seen_other:?}");
    assert!(everything.contains("my therapist"), "{everything}");
    assert!(
        everything.contains("Nobody picks up the phone"),
        "{everything}"
    );
    assert!(!everything.contains("in danger"), "{everything}");
    assert!(!everything.contains("self-harming"), "{everything}");
    assert!(
        !other
            .drain(Duration::from_millis(100))
            .await
            .iter()
            .any(|m| m["type"] == "support"),
        "the support card went to someone else"
    );

    // Never deleted: a new host still sees both, flagged, and approving shows the question.
    let (_again, snapshot) = app.host(&created).await;
    let concerns = |list: &Value| {
        list.as_array()
            .expect("list")
            .iter()
            .filter(|i| i["concern"].is_string())
            .count()
    };
    assert_eq!(concerns(&snapshot["questions"]), 1);
    assert_eq!(concerns(&snapshot["texts"]), 1);
    let approved = host
        .command(
            json!({"type": "moderate", "item": "question", "target": held_id, "action": "approve"}),
            4,
        )
        .await;
    assert_eq!(approved["type"], "ok");
    presenter
        .recv_where(|m| m["type"] == "questions" && m.to_string().contains("in danger"))
        .await;
}

#[tokio::test]
async fn an_event_without_a_safeguarding_section_still_holds_a_concern() {
    let app = TestApp::spawn().await;
    let mut spec = fixture_2026();
    spec["qa"]["moderation"] = json!("none");
    let created = app.create_event(&spec).await;
    let (mut host, snapshot) = app.host(&created).await;
    assert!(snapshot.get("safeguarding").is_none());
    let (mut writer, _) = app.attendee(&created.code, json!({})).await;
    writer
        .send(&json!({"type": "ask", "id": "q1", "text": "I feel suicidal today"}))
        .await;
    writer.recv_type("ack").await;
    let held = host.recv_type("question").await;
    assert_eq!(held["question"]["concern"], "suicide");
    assert_eq!(held["question"]["state"], "pending");
    let seen = writer.drain(Duration::from_millis(1200)).await;
    assert!(!seen.iter().any(|m| m["type"] == "support"), "{seen:?}");
    assert!(!format!("{seen:?}").contains("suicidal"), "{seen:?}");
}

#[tokio::test]
async fn a_bad_safeguarding_section_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let mut spec = spec();
    spec["safeguarding"]["support"]["lines"] = json!([]);
    let response = reqwest::Client::new()
        .post(format!("{}/api/events", app.base))
        .bearer_auth(crate::helpers::ORGANISER_KEY)
        .json(&spec)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 400);
    let body = response.text().await.expect("body");
    assert!(body.contains("safeguarding.support.lines"), "{body}");
}
