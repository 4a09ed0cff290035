//! Golden frames: one short event driven through real sockets, and the JSON of every kind
//! of server frame each role receives pinned against `golden/frames.json`.
//!
//! Random ids (attendee tokens, question, text and card ids) are replaced by `"<hex>"` before
//! the comparison; everything else must match exactly. To re-record after an intended change
//! of the wire, run with `JOINUP_BLESS_GOLDEN=1` and review the diff of the file.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, fixture_2026};

const SETTLE: Duration = Duration::from_millis(400);
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/golden/frames.json");

/// Random hex ids (16 characters or more) become `"<hex>"`.
fn normalise(value: &mut Value) {
    match value {
        Value::String(s) if s.len() >= 16 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
            *s = "<hex>".to_owned();
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        Value::Object(map) => map.values_mut().for_each(normalise),
        _ => {}
    }
}

#[derive(Default)]
struct Seen(BTreeMap<String, Value>);

impl Seen {
    /// Keeps the last frame of each kind per role under `role.kind` (or `role.kind.tag`).
    fn record(&mut self, role: &str, mut frame: Value) {
        normalise(&mut frame);
        let kind = frame["type"].as_str().unwrap_or("?").to_owned();
        self.0.insert(format!("{role}.{kind}"), frame);
    }

    async fn drain(&mut self, role: &str, client: &mut Client) {
        for frame in client.drain(SETTLE).await {
            self.record(role, frame);
        }
    }
}

async fn command(seen: &mut Seen, host: &mut Client, command: Value, id: u64) {
    let reply = host.command(command, id).await;
    assert_eq!(reply["type"], "ok", "{reply}");
    seen.record("host", reply);
}

#[tokio::test]
async fn every_server_frame_kind_matches_its_golden_json() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let mut seen = Seen::default();

    let (mut host, snapshot) = app.host(&created).await;
    seen.record("host", snapshot);
    let (mut presenter, snapshot) = app.presenter(&created).await;
    seen.record("presenter", snapshot);

    command(
        &mut seen,
        &mut host,
        json!({"type": "open", "activity": "role"}),
        1,
    )
    .await;
    command(
        &mut seen,
        &mut host,
        json!({"type": "open", "activity": "concern"}),
        2,
    )
    .await;
    let (mut phone, welcome) = app
        .attendee(
            &created.code,
            json!({"organisation": "York Mind", "room": "Room A"}),
        )
        .await;
    seen.record("attendee", welcome);

    let ack = phone.answer("a1", "role", json!([1])).await;
    seen.record("attendee", ack);
    phone
        .send(&json!({"type": "answer", "id": "a2", "activity": "role", "value": [9]}))
        .await;
    let error = phone.recv_type("error").await;
    seen.record("attendee", error);
    let ack = phone
        .answer("a3", "concern", json!("Nobody picks up the phone"))
        .await;
    seen.record("attendee", ack);
    phone
        .send(&json!({"type": "ask", "id": "q1", "text": "How do we share care plans?"}))
        .await;
    seen.record("attendee", phone.recv_type("ack").await);
    phone
        .send(
            &json!({"type": "card", "id": "c1", "card": {"name": "Sam", "role": "Peer worker",
            "organisation": "York Mind", "service": "Crisis café", "offer": "Evening drop-in",
            "referral": "Self-referral", "contact": "01904 000000"}}),
        )
        .await;
    seen.record("attendee", phone.recv_type("ack").await);
    seen.drain("host", &mut host).await;
    seen.drain("presenter", &mut presenter).await;
    seen.drain("attendee", &mut phone).await;

    // The ids were normalised: read them again from a fresh host snapshot.
    let (second_host, snapshot) = app.host(&created).await;
    let question_id = snapshot["questions"][0]["id"].clone();
    let card_id = snapshot["cards"][0]["id"].clone();
    second_host.close().await;

    command(
        &mut seen,
        &mut host,
        json!({"type": "moderate", "item": "question",
        "target": question_id, "action": "approve"}),
        3,
    )
    .await;
    command(
        &mut seen,
        &mut host,
        json!({"type": "moderate", "item": "card",
        "target": card_id, "action": "approve"}),
        4,
    )
    .await;
    command(
        &mut seen,
        &mut host,
        json!({"type": "reveal", "activity": "role", "show": true}),
        5,
    )
    .await;
    command(
        &mut seen,
        &mut host,
        json!({"type": "focus", "activity": "role"}),
        6,
    )
    .await;
    // `count` reaches the presenter for the activity in focus.
    let (mut second_phone, _) = app
        .attendee(&created.code, json!({"organisation": "York Mind"}))
        .await;
    let ack = second_phone.answer("b1", "role", json!([2])).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    seen.drain("presenter", &mut presenter).await;
    command(
        &mut seen,
        &mut host,
        json!({"type": "close", "activity": "role"}),
        7,
    )
    .await;
    seen.drain("host", &mut host).await;
    seen.drain("presenter", &mut presenter).await;
    seen.drain("attendee", &mut phone).await;

    // `opened` reaches an attendee already present when an activity opens.
    command(
        &mut seen,
        &mut host,
        json!({"type": "open", "activity": "pledge"}),
        8,
    )
    .await;
    seen.drain("attendee", &mut phone).await;
    seen.drain("host", &mut host).await;
    seen.drain("presenter", &mut presenter).await;

    // Back to the session the question was asked in: the phones and the main screen list
    // its questions again (docs/protocol.md, "A Q&A per session").
    command(
        &mut seen,
        &mut host,
        json!({"type": "session", "session": "lived-experience"}),
        9,
    )
    .await;
    // The phones' list follows within a second: wait for it, then take the rest.
    let listed = phone
        .recv_where(|m| m["type"] == "questions" && m["total"] == 1)
        .await;
    seen.drain("attendee", &mut phone).await;
    seen.record("attendee", listed);
    seen.drain("host", &mut host).await;
    seen.drain("presenter", &mut presenter).await;

    let got = Value::Object(seen.0.into_iter().collect());
    if std::env::var_os("JOINUP_BLESS_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&got).expect("json") + "\n";
        std::fs::write(GOLDEN, text).expect("write golden");
        return;
    }
    let want: Value = serde_json::from_str(&std::fs::read_to_string(GOLDEN).expect("golden file"))
        .expect("golden json");
    let (Value::Object(got), Value::Object(want)) = (&got, &want) else {
        unreachable!("both are objects");
    };
    let mut kinds: Vec<&String> = got.keys().chain(want.keys()).collect();
    kinds.sort();
    kinds.dedup();
    for kind in kinds {
        assert_eq!(
            got.get(kind),
            want.get(kind),
            "frame {kind} differs from its golden JSON"
        );
    }
}
