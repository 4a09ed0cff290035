//! One attendee must not break the event: one attendee per connection, caps on attendees,
//! typed organisation names and open questions, one message allowance per attendee whatever
//! the transport, a bounded question list for phones, and a host who can clear a queue of
//! hundreds at once.

use std::time::Instant;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestApp, fixture_2026};

/// The attendance a fresh host connection sees.
async fn joined(app: &TestApp, created: &crate::helpers::Created) -> Value {
    let (_host, snapshot) = app.host(created).await;
    snapshot["attendance"]["joined"].clone()
}

#[tokio::test]
async fn a_second_hello_on_a_joined_socket_is_refused_and_makes_no_attendee() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut phone, welcome) = app.attendee(&created.code, json!({})).await;
    let token = welcome["attendee"].as_str().expect("token").to_owned();
    let (_other, other_welcome) = app.attendee(&created.code, json!({})).await;
    let other_token = other_welcome["attendee"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(joined(&app, &created).await, 2);

    // A fresh attendee, another attendee's token, an unknown token: all refused.
    for attendee in [Value::Null, json!(other_token), json!("a".repeat(32))] {
        for _ in 0..10 {
            phone
                .send(&json!({"type": "hello", "attendee": attendee}))
                .await;
        }
        for _ in 0..10 {
            let reply = phone
                .recv_where(|m| m["type"] == "error" || m["type"] == "welcome")
                .await;
            assert_eq!(reply["type"], "error", "{attendee}: {reply}");
            assert_eq!(reply["code"], "invalid_message");
            assert!(
                reply["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("already joined")),
                "{reply}"
            );
        }
    }
    assert_eq!(joined(&app, &created).await, 2, "no attendee was made");

    // The same attendee may say hello again (a resume, or a new profile).
    phone
        .send(&json!({"type": "hello", "attendee": token, "organisation": "York Mind"}))
        .await;
    let again = phone.recv_type("welcome").await;
    assert_eq!(again["attendee"], token.as_str());
    assert_eq!(again["profile"]["organisation"], "York Mind");
    assert_eq!(joined(&app, &created).await, 2);
}

#[tokio::test]
async fn an_event_takes_at_most_its_max_attendees_and_resumes_are_never_refused() {
    let app = TestApp::spawn().await;
    let mut spec = fixture_2026();
    spec["max_attendees"] = json!(3);
    let created = app.create_event(&spec).await;
    let mut tokens = Vec::new();
    let mut phones = Vec::new();
    for _ in 0..3 {
        let (phone, welcome) = app.attendee(&created.code, json!({})).await;
        tokens.push(welcome["attendee"].as_str().expect("token").to_owned());
        phones.push(phone);
    }
    // The fourth, by WebSocket or by the fallback, is told the event is full.
    let mut fourth = app.connect(&created.code).await;
    fourth
        .send(&json!({"type": "hello", "attendee": null}))
        .await;
    let refused = fourth.recv_type("error").await;
    assert_eq!(refused["code"], "limit_reached", "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("at most 3 attendees")),
        "{refused}"
    );
    let posted: Value = app
        .http
        .post(format!("{}/api/events/{}/messages", app.base, created.code))
        .json(&json!({"type": "hello", "attendee": null}))
        .send()
        .await
        .expect("POST hello")
        .json()
        .await
        .expect("json");
    assert_eq!(posted["code"], "limit_reached", "{posted}");
    assert_eq!(joined(&app, &created).await, 3);

    // A known attendee coming back is not a new one.
    drop(phones);
    let mut back = app.connect(&created.code).await;
    back.send(&json!({"type": "hello", "attendee": tokens[0]}))
        .await;
    assert_eq!(
        back.recv_type("welcome").await["attendee"],
        tokens[0].as_str()
    );

    // A spec with a cap out of range is refused by name.
    let mut bad = fixture_2026();
    bad["max_attendees"] = json!(0);
    let response = app
        .http
        .post(format!("{}/api/events", app.base))
        .bearer_auth(crate::helpers::ORGANISER_KEY)
        .json(&bad)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("max_attendees")),
        "{body}"
    );
}

#[tokio::test]
async fn typed_organisation_names_are_capped_per_event() {
    let app = TestApp::spawn().await;
    let mut spec = fixture_2026();
    spec["max_other_organisations"] = json!(2);
    let created = app.create_event(&spec).await;
    for typed in ["Alpha Housing Trust", "Beta Recovery CIC"] {
        let (_, welcome) = app
            .attendee(&created.code, json!({"organisation": typed}))
            .await;
        assert_eq!(welcome["profile"]["organisation"], typed);
    }
    // A third new name is refused on hello and on profile; names already given, and the
    // event's own organisations, are still taken.
    let mut third = app.connect(&created.code).await;
    third
        .send(&json!({"type": "hello", "attendee": null, "organisation": "Gamma Outreach"}))
        .await;
    let refused = third.recv_type("error").await;
    assert_eq!(refused["code"], "limit_reached", "{refused}");
    let (mut phone, _) = app
        .attendee(
            &created.code,
            json!({"organisation": " alpha housing trust "}),
        )
        .await;
    phone
        .send(&json!({"type": "profile", "id": "p1", "organisation": "Delta Advocacy", "sector": "Housing"}))
        .await;
    let refused = phone.recv_where(|m| m["id"] == "p1").await;
    assert_eq!(refused["code"], "limit_reached", "{refused}");
    phone
        .send(&json!({"type": "profile", "id": "p2", "organisation": "York Mind", "sector": "Mental health"}))
        .await;
    assert_eq!(phone.recv_where(|m| m["id"] == "p2").await["type"], "ack");
    let (_host, snapshot) = app.host(&created).await;
    let names: Vec<&String> = snapshot["attendance"]["by_organisation"]
        .as_object()
        .expect("by_organisation")
        .keys()
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.as_str() == "Gamma Outreach" || n.as_str() == "Delta Advocacy"),
        "{names:?}"
    );
}

/// POSTs one message to the fallback with the client's cookie; the server's reply.
async fn post(http: &reqwest::Client, url: &str, message: Value) -> Value {
    http.post(url)
        .json(&message)
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("json")
}

fn answer(id: String) -> Value {
    json!({"type": "answer", "id": id, "activity": "role", "value": [0]})
}

/// How many of `replies` are acks and how many `rate_limited`.
fn count(replies: &[Value]) -> (usize, usize) {
    let acks = replies.iter().filter(|r| r["type"] == "ack").count();
    let limited = replies
        .iter()
        .filter(|r| r["type"] == "error" && r["code"] == "rate_limited")
        .count();
    assert_eq!(acks + limited, replies.len(), "{replies:?}");
    (acks, limited)
}

#[tokio::test]
async fn the_fallback_has_the_same_message_allowance_as_a_socket() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    host.command(json!({"type": "open", "activity": "role"}), 1)
        .await;
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let url = format!("{}/api/events/{}/messages", app.base, created.code);
    let welcome = post(&http, &url, json!({"type": "hello", "attendee": null})).await;
    assert_eq!(welcome["type"], "welcome");
    // 300 answers at once: no more than the allowance (60 at once, 30 a second) is stored.
    let started = Instant::now();
    let replies = join_all((0..300).map(|n| post(&http, &url, answer(format!("f-{n}"))))).await;
    let elapsed = started.elapsed().as_secs_f64();
    let (acks, limited) = count(&replies);
    assert!(limited > 0, "{acks} acked, none refused");
    assert!(
        acks as f64 <= 60.0 + 30.0 * elapsed + 1.0,
        "{acks} acked in {elapsed:.2} s"
    );
    assert!(
        replies
            .iter()
            .filter(|r| r["type"] == "error")
            .all(|r| r["id"].as_str().is_some_and(|id| id.starts_with("f-"))),
        "refusals name their message"
    );
}

#[tokio::test]
async fn one_attendee_has_one_allowance_on_several_sockets_and_the_fallback() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    host.command(json!({"type": "open", "activity": "role"}), 1)
        .await;
    let (first, welcome) = app.attendee(&created.code, json!({})).await;
    let token = welcome["attendee"].as_str().expect("token").to_owned();
    // The same attendee on three more sockets and on the fallback.
    let mut sockets = vec![first];
    for _ in 0..3 {
        let (socket, _) = app
            .attendee(&created.code, json!({"attendee": token}))
            .await;
        sockets.push(socket);
    }
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let url = format!("{}/api/events/{}/messages", app.base, created.code);
    let resumed = post(&http, &url, json!({"type": "hello", "attendee": token})).await;
    assert_eq!(resumed["attendee"], token.as_str());

    // 40 answers on each socket (each within a socket's own burst of 60) and 40 POSTed.
    let started = Instant::now();
    for (s, socket) in sockets.iter_mut().enumerate() {
        for n in 0..40 {
            socket.send(&answer(format!("s{s}-{n}"))).await;
        }
    }
    let posted = join_all((0..40).map(|n| post(&http, &url, answer(format!("p-{n}"))))).await;
    let mut replies = posted;
    for (s, socket) in sockets.iter_mut().enumerate() {
        for _ in 0..40 {
            let prefix = format!("s{s}-");
            let reply = socket
                .recv_where(|m| {
                    m["id"].as_str().is_some_and(|id| id.starts_with(&prefix))
                        && (m["type"] == "ack" || m["type"] == "error")
                })
                .await;
            replies.push(reply);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (acks, limited) = count(&replies);
    assert_eq!(replies.len(), 200);
    assert!(limited > 0, "all {acks} acknowledged");
    assert!(
        acks as f64 <= 60.0 + 30.0 * elapsed + 1.0,
        "{acks} acked in {elapsed:.2} s"
    );
}

/// Attendees who each ask `per` questions, paced under the message allowance.
async fn ask_many(app: &TestApp, code: &str, askers: usize, per: usize) {
    for a in 0..askers {
        let (mut asker, _) = app.attendee(code, json!({})).await;
        for n in 0..per {
            let id = format!("q-{a}-{n}");
            asker
                .send(&json!({"type": "ask", "id": id, "text": format!("Question {n} from {a}: who funds what?")}))
                .await;
            let reply = asker.recv_where(|m| m["id"] == id.as_str()).await;
            assert_eq!(reply["type"], "ack", "{reply}");
        }
    }
}

#[tokio::test]
async fn open_questions_are_capped_per_attendee_per_session() {
    let app = TestApp::spawn().await;
    let mut spec = fixture_2026();
    spec["qa"] = json!({"enabled": true, "moderation": "none"});
    let created = app.create_event(&spec).await;
    let (mut host, _) = app.host(&created).await;
    host.command(json!({"type": "open", "activity": "role"}), 1)
        .await;
    let (mut phone, _) = app.attendee(&created.code, json!({})).await;
    let ask = |id: &str| json!({"type": "ask", "id": id, "text": format!("What about {id}?")});
    // Five at once (the default cap), sent together with a sixth: the sixth is refused even
    // before the five are stored.
    let ids = ["a1", "a2", "a3", "a4", "a5", "a6"];
    for id in ids {
        phone.send(&ask(id)).await;
    }
    let mut replies = Vec::new();
    for id in ids {
        replies.push(phone.recv_where(|m| m["id"] == id).await);
    }
    for reply in &replies[..5] {
        assert_eq!(reply["type"], "ack", "{reply}");
    }
    assert_eq!(replies[5]["code"], "limit_reached", "{}", replies[5]);
    assert!(
        replies[5]["message"]
            .as_str()
            .is_some_and(|m| m.contains("5 open questions")),
        "{}",
        replies[5]
    );
    // Once the host has answered one, there is room for one more.
    let (_, snapshot) = app.host(&created).await;
    let first = snapshot["questions"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let reply = host
        .command(
            json!({"type": "moderate", "item": "question", "target": first, "action": "answered"}),
            2,
        )
        .await;
    assert_eq!(reply["type"], "ok");
    phone.send(&ask("a7")).await;
    assert_eq!(phone.recv_where(|m| m["id"] == "a7").await["type"], "ack");
    phone.send(&ask("a8")).await;
    assert_eq!(
        phone.recv_where(|m| m["id"] == "a8").await["code"],
        "limit_reached"
    );
    // A new session (the host opens an activity of another one) starts a fresh count.
    host.command(json!({"type": "open", "activity": "barriers"}), 3)
        .await;
    phone.send(&ask("b1")).await;
    assert_eq!(phone.recv_where(|m| m["id"] == "b1").await["type"], "ack");
}

#[tokio::test]
async fn phones_get_the_top_questions_and_a_count_while_hosts_get_them_all() {
    let app = TestApp::spawn().await;
    let mut spec = fixture_2026();
    spec["qa"] = json!({"enabled": true, "moderation": "none"});
    let created = app.create_event(&spec).await;
    let (mut listener, _) = app.attendee(&created.code, json!({})).await;
    ask_many(&app, &created.code, 24, 5).await;
    let list = listener
        .recv_where(|m| m["type"] == "questions" && m["total"] == 120)
        .await;
    let shown = list["questions"].as_array().expect("questions");
    assert_eq!(shown.len(), 50, "phones get the top 50");
    for q in shown {
        for field in ["id", "text", "votes", "answered"] {
            assert!(q.get(field).is_some(), "{q}");
        }
    }
    // A vote lifts a question from outside the top into first place.
    let (_, snapshot) = app.host(&created).await;
    let all = snapshot["questions"].as_array().expect("questions");
    assert_eq!(all.len(), 120, "hosts get every question");
    let shown_ids: Vec<&Value> = shown.iter().map(|q| &q["id"]).collect();
    let outside = all
        .iter()
        .map(|q| &q["id"])
        .find(|id| !shown_ids.contains(id))
        .expect("a question outside the top 50")
        .clone();
    let (mut voter, welcome) = app.attendee(&created.code, json!({})).await;
    assert_eq!(welcome["questions"].as_array().map(Vec::len), Some(50));
    assert_eq!(welcome["questions_total"], 120);
    voter
        .send(&json!({"type": "upvote", "id": "v1", "question": outside}))
        .await;
    assert_eq!(voter.recv_where(|m| m["id"] == "v1").await["type"], "ack");
    let list = listener
        .recv_where(|m| m["type"] == "questions" && m["questions"][0]["id"] == outside)
        .await;
    assert_eq!(list["questions"][0]["votes"], 1);
    assert_eq!(list["questions"].as_array().map(Vec::len), Some(50));
    // What a phone is sent about questions is bounded: at most one list a second, each at
    // most 50 items, whatever the number of questions.
    let (_, presenter) = app.presenter(&created).await;
    assert_eq!(presenter["questions"].as_array().map(Vec::len), Some(50));
}

#[tokio::test]
async fn a_moderator_clears_hundreds_of_questions_at_once() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    ask_many(&app, &created.code, 40, 5).await;
    let (mut host, snapshot) = app.host(&created).await;
    let ids: Vec<String> = snapshot["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .map(|q| q["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 200);
    // 150 single approvals, sent as fast as the socket takes them: none refused.
    for (n, id) in ids.iter().take(150).enumerate() {
        host.send(&json!({"type": "moderate", "id": n, "item": "question", "target": id, "action": "approve"}))
            .await;
    }
    for n in 0..150 {
        let reply = host
            .recv_where(|m| m["id"] == n && (m["type"] == "ok" || m["type"] == "error"))
            .await;
        assert_eq!(reply["type"], "ok", "{reply}");
    }
    // A batch naming an unknown item changes nothing.
    let mut with_unknown: Vec<&str> = ids.iter().map(String::as_str).collect();
    with_unknown.push("no-such-question");
    let reply = host
        .command(
            json!({"type": "moderate", "item": "question", "targets": with_unknown, "action": "hide"}),
            1000,
        )
        .await;
    assert_eq!(reply["code"], "invalid_value", "{reply}");
    assert!(
        reply["message"]
            .as_str()
            .is_some_and(|m| m.contains("no-such-question")),
        "{reply}"
    );
    let (_, snapshot) = app.host(&created).await;
    assert!(
        snapshot["questions"]
            .as_array()
            .expect("questions")
            .iter()
            .all(|q| q["state"] != "hidden")
    );
    // One batch hides all 200.
    let reply = host
        .command(
            json!({"type": "moderate", "item": "question", "targets": ids, "action": "hide"}),
            1001,
        )
        .await;
    assert_eq!(reply["type"], "ok", "{reply}");
    let (_, snapshot) = app.host(&created).await;
    let states: Vec<&Value> = snapshot["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .map(|q| &q["state"])
        .collect();
    assert_eq!(states.len(), 200);
    assert!(states.iter().all(|s| *s == "hidden"), "{states:?}");
    // Neither both nor neither of target and targets.
    let reply = host
        .command(
            json!({"type": "moderate", "item": "question", "action": "hide"}),
            1002,
        )
        .await;
    assert_eq!(reply["code"], "invalid_message", "{reply}");
}

#[tokio::test]
async fn resuming_hellos_share_the_attendees_allowance() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (first, welcome) = app.attendee(&created.code, json!({})).await;
    let token = welcome["attendee"].as_str().expect("token").to_owned();
    let mut sockets = vec![first];
    for _ in 0..2 {
        let (socket, _) = app
            .attendee(&created.code, json!({"attendee": token}))
            .await;
        sockets.push(socket);
    }
    // 3 sockets, 30 hellos each as the same attendee (each socket within its own burst),
    // every one a profile change the server would write.
    let started = Instant::now();
    for socket in &mut sockets {
        for n in 0..30 {
            socket
                .send(&json!({"type": "hello", "attendee": token, "organisation": format!("Org {n}")}))
                .await;
        }
    }
    let mut welcomes = 0;
    let mut limited = 0;
    for socket in &mut sockets {
        for _ in 0..30 {
            let reply = socket
                .recv_where(|m| m["type"] == "welcome" || m["type"] == "error")
                .await;
            match reply["code"].as_str() {
                None => welcomes += 1,
                Some("rate_limited") => limited += 1,
                Some(other) => panic!("{other}: {reply}"),
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert!(limited > 0, "all {welcomes} hellos answered");
    // The three joins above took 3 from the allowance too.
    assert!(
        welcomes as f64 <= 60.0 + 30.0 * elapsed,
        "{welcomes} welcomes in {elapsed:.2} s"
    );
}
