//! Hostile input at the edges: random and mutated frames thrown at a live event, and
//! malformed HTTP. Always a documented error, never a panic or a hang, and state unchanged.

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

use crate::helpers::{ORGANISER_KEY, TestApp, fixture_2026};

const CODES: &[&str] = &[
    "invalid_message",
    "invalid_value",
    "not_joined",
    "unknown_activity",
    "activity_closed",
    "not_available",
    "rate_limited",
    "unauthorized",
    "event_ended",
    "unavailable",
];

/// Frames that are wrong in every way a phone, a proxy or an attacker could make them.
fn hostile_frames(count: usize) -> Vec<String> {
    let templates = [
        json!({"type": "answer", "id": "a", "activity": "role", "value": [1]}),
        json!({"type": "answer", "id": "b", "activity": "barrier-word", "value": ["trust"]}),
        json!({"type": "answer", "id": "c", "activity": "usefulness", "value": 3}),
        json!({"type": "answer", "id": "d", "activity": "pledge", "value": true}),
        json!({"type": "profile", "id": "e", "organisation": "York Mind", "sector": "Mental health"}),
        json!({"type": "upvote", "id": "f", "question": "x"}),
    ];
    let junk = proptest::prop_oneof![
        proptest::strategy::Just(Value::Null),
        proptest::num::i64::ANY.prop_map(Value::from),
        proptest::num::f64::NORMAL.prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        proptest::collection::vec(proptest::num::i64::ANY.prop_map(Value::from), 0..8)
            .prop_map(Value::from),
        proptest::collection::vec(".{0,30}".prop_map(Value::from), 0..8).prop_map(Value::from),
        proptest::strategy::Just(json!({"nested": {"deeper": [1, {"x": null}]}})),
    ];
    let field = proptest::sample::select(vec![
        "type",
        "id",
        "activity",
        "value",
        "organisation",
        "sector",
        "room",
        "question",
        "extra",
    ]);
    let strategy = (0..templates.len(), field, junk, ".{0,60}", 0u8..4);
    let mut runner = TestRunner::deterministic();
    (0..count)
        .map(|_| {
            let (which, field, junk, text, how) =
                strategy.new_tree(&mut runner).expect("tree").current();
            let mut frame = templates[which].clone();
            match how {
                // A field of the wrong type or value.
                0 | 1 => frame[field] = junk,
                // A field missing.
                2 => {
                    frame.as_object_mut().map(|m| m.remove(field));
                }
                // Not JSON, or JSON broken part-way.
                _ => {
                    let whole = frame.to_string();
                    let cut = text.len() % whole.len().max(1);
                    return format!("{}{text}", &whole[..cut]);
                }
            }
            frame.to_string()
        })
        .collect()
}

#[tokio::test]
async fn random_and_mutated_frames_get_documented_errors_and_change_nothing() {
    let app = TestApp::spawn().await;
    let mut spec = fixture_2026();
    spec["qa"] = json!({"enabled": false});
    spec["directory"] = json!({"enabled": false});
    let created = app.create_event(&spec).await;
    let (_host, before) = app.host(&created).await;
    let (mut phone, _) = app
        .attendee(
            &created.code,
            json!({"organisation": "York Mind", "sector": "Mental health"}),
        )
        .await;
    // Every activity stays ready, so no frame, however mutated, may change a tally.
    for (n, frame) in hostile_frames(150).into_iter().enumerate() {
        // Two messages per round at a pace under the per-connection rate (30 a second).
        tokio::time::sleep(std::time::Duration::from_millis(70)).await;
        phone.send_text(&frame).await;
        // A sentinel that always gets an answer: proves the frame before it did not hang
        // the connection.
        let sentinel = format!("sentinel-{n}");
        phone
            .send(&json!({"type": "answer", "id": sentinel, "activity": "role", "value": [0]}))
            .await;
        loop {
            let reply = phone.recv_where(|_| true).await;
            match reply["type"].as_str() {
                Some("error") => {
                    let code = reply["code"].as_str().unwrap_or_default();
                    assert!(CODES.contains(&code), "{frame} -> {reply}");
                    assert!(
                        reply["message"].as_str().is_some_and(|m| !m.is_empty()),
                        "{frame} -> {reply}"
                    );
                    if reply["id"] == sentinel.as_str() {
                        assert!(
                            code == "activity_closed" || code == "rate_limited",
                            "{reply}"
                        );
                        break;
                    }
                }
                // A mutated profile can still be a valid profile.
                Some("ack") => assert_eq!(reply["id"], "e", "{frame} -> {reply}"),
                _ => panic!("{frame} -> unexpected {reply}"),
            }
        }
    }
    let (_host, after) = app.host(&created).await;
    assert_eq!(after["activities"], before["activities"], "no tally moved");
    assert_eq!(after["questions"], json!([]));
    assert_eq!(after["cards"], json!([]));
    assert_eq!(after["attendance"]["joined"], 1);
}

#[tokio::test]
async fn malformed_http_gets_a_clear_4xx() {
    let app = TestApp::spawn().await;
    let url = format!("{}/api/events", app.base);
    let post = |body: Vec<u8>| {
        app.http
            .post(&url)
            .bearer_auth(ORGANISER_KEY)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{".to_vec(), 400, "invalid_json"),
        (b"".to_vec(), 400, "invalid_json"),
        (vec![0xff, 0xfe, 0x00], 400, "invalid_json"),
        (deep.into_bytes(), 400, "invalid_json"),
        (
            json!({"title": 5, "sessions": []}).to_string().into_bytes(),
            400,
            "invalid_spec",
        ),
        (
            json!({"title": "T", "sessions": "many"})
                .to_string()
                .into_bytes(),
            400,
            "invalid_spec",
        ),
        (vec![b' '; 300 * 1024], 413, "too_large"),
    ];
    for (body, status, code) in cases {
        let len = body.len();
        let response = post(body).await.expect("request");
        assert_eq!(response.status().as_u16(), status, "body of {len} bytes");
        let body: Value = response.json().await.expect("JSON error body");
        assert_eq!(body["error"], code);
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Unknown codes and wrong methods.
    let created = app.create_event(&fixture_2026()).await;
    for (method, path, status) in [
        ("GET", "/api/events/ABCDE1".to_owned(), 404),
        ("POST", "/api/events/QQQQQQ/end".to_owned(), 404),
        ("POST", format!("/api/events/{}/end", created.code), 401),
        ("GET", "/api/events/QQQQQQ/qr.svg".to_owned(), 404),
        ("POST", "/api/events/QQQQQQ/messages".to_owned(), 404),
    ] {
        let request = app.http.request(
            method.parse().expect("method"),
            format!("{}{path}", app.base),
        );
        let response = request.send().await.expect("request");
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        let body: Value = response.json().await.expect("JSON error body");
        assert!(body["error"].is_string(), "{method} {path}");
    }
    // A fallback message over 16 KiB is refused with 413.
    let response = app
        .http
        .post(format!("{}/api/events/{}/messages", app.base, created.code))
        .body(vec![b'x'; 17 * 1024])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 413);
}

#[tokio::test]
async fn a_message_flood_is_rate_limited_then_closed_with_4029() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut phone, _) = app.attendee(&created.code, json!({})).await;
    let frame = |n: usize| {
        json!({"type": "answer", "id": format!("flood-{n}"), "activity": "role", "value": [0]})
            .to_string()
    };
    // A burst past 60 at once: the excess is refused by name with rate_limited, and the
    // connection stays open.
    for n in 0..100 {
        phone.send_text(&frame(n)).await;
    }
    let mut limited = Vec::new();
    for _ in 0..100 {
        let reply = phone.recv_type("error").await;
        if reply["code"] == "rate_limited" {
            limited.push(reply["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    assert!(
        !limited.is_empty() && limited.len() < 100,
        "{} of 100 limited",
        limited.len()
    );
    assert!(
        limited.iter().all(|id| id.starts_with("flood-")),
        "refusals name their message"
    );
    // A flood that keeps going is closed with 4029; the client reads as it sends.
    let mut n = 100;
    let closed = 'flood: loop {
        for _ in 0..50 {
            n += 1;
            if !phone.try_send_text(&frame(n)).await {
                break;
            }
        }
        loop {
            match phone
                .recv_or_close_within(std::time::Duration::from_millis(20))
                .await
            {
                Some(Ok(_)) => continue,
                Some(Err(closed)) => break 'flood closed,
                None => break,
            }
        }
        assert!(n < 5000, "the flood was never stopped");
    };
    assert_eq!(closed, crate::helpers::Closed::Code(4029));
    let (mut calm, _) = app.attendee(&created.code, json!({})).await;
    let reply = calm.answer("calm-1", "role", json!([0])).await;
    assert_eq!(
        reply["code"], "activity_closed",
        "other attendees are untouched"
    );
}
