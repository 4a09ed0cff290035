//! The screens and the steps that run an event, over real sockets: a presenter link issued
//! for a break-out room binds its screen to that room on the server (whatever `?room=` the
//! page says); `POST /api/events/{code}/end` names the phase it leaves, so a retry takes no
//! second step; a live edit that removes the current session ends it, and says so; an
//! update made on the command line reaches the running event within a few seconds.

use std::time::Duration;

use reqwest::header::{ETAG, IF_MATCH};
use serde_json::{Value, json};

use joinup::domain::clock;

use crate::helpers::{Client, Created, ORGANISER_KEY, TestApp, joinup, temp_database};

/// A day with a plenary keynote and two break-out rooms, each with an activity, and open
/// Q&A per session (`post` moderation: a question is visible at once); an after window.
fn day() -> Value {
    json!({
        "title": "Screens day",
        "closes_at": clock::format_unix(clock::now_unix() + 7200),
        "min_group_size": 3,
        "qa": {"enabled": true, "moderation": "post", "max_open_questions": 5},
        "sessions": [
            {"key": "keynote", "title": "Keynote", "activities": [
                {"key": "poll", "kind": "choice", "prompt": "Which?", "options": ["A", "B"]}
            ]},
            {"key": "breakout-a", "title": "Break-out A", "room": "Room A", "activities": [
                {"key": "a-word", "kind": "words", "prompt": "One word", "max_words": 1}
            ]},
            {"key": "breakout-b", "title": "Break-out B", "room": "Room B", "activities": [
                {"key": "b-word", "kind": "words", "prompt": "One word", "max_words": 1}
            ]}
        ]
    })
}

/// Asks `text` from `phone` (in its current session) and waits for the `ack`.
async fn ask(phone: &mut Client, text: &str) {
    let id = format!("ask-{text}");
    phone
        .send(&json!({"type": "ask", "id": id, "text": text}))
        .await;
    let reply = phone
        .recv_where(|m| m["id"] == id && (m["type"] == "ack" || m["type"] == "error"))
        .await;
    assert_eq!(reply["type"], "ack", "{reply}");
}

/// A host command that must be `ok`.
async fn command(host: &mut Client, command: Value, id: u64) {
    let reply = host.command(command.clone(), id).await;
    assert_eq!(reply["type"], "ok", "{command}: {reply}");
}

/// The texts of the questions a `questions` frame or a presenter's `snapshot` lists.
fn texts(frame: &Value) -> Vec<&str> {
    frame["questions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|q| q["text"].as_str())
        .collect()
}

/// The secret of a presenter link the organiser issues for `room`.
async fn room_link(app: &TestApp, code: &str, room: &str) -> String {
    let response = app
        .http
        .post(format!("{}/api/events/{code}/links", app.base))
        .bearer_auth(ORGANISER_KEY)
        .json(&json!({"role": "presenter", "label": format!("{room} screen"), "room": room}))
        .send()
        .await
        .expect("POST links");
    assert_eq!(response.status().as_u16(), 201);
    let link: Value = response.json().await.expect("json");
    assert_eq!(link["room"], room, "{link}");
    let url = link["url"].as_str().expect("a url");
    assert!(
        url.contains("room="),
        "the page's link names its room: {url}"
    );
    let (_, secret) = url.split_once('#').expect("the secret in the fragment");
    secret.to_owned()
}

/// A presenter socket on `/ws/present/{code}` plus `query`, authorised with `key`: the
/// socket, its `authorised` frame and its `snapshot`.
async fn presenter(app: &TestApp, code: &str, query: &str, key: &str) -> (Client, Value, Value) {
    let url = app.ws_url(&format!("/ws/present/{code}{query}"));
    let mut client = Client::connect(&url).await;
    client.send(&json!({"type": "auth", "token": key})).await;
    let authorised = client.recv_type("authorised").await;
    let snapshot = client.recv_type("snapshot").await;
    (client, authorised, snapshot)
}

/// Two rooms with a session running in each, and a question from each room and from the
/// event as a whole.
async fn two_rooms_asking(app: &TestApp, created: &Created) -> (Client, Client, Client) {
    let (mut host, _) = app.host(created).await;
    command(
        &mut host,
        json!({"type": "session", "session": "breakout-a"}),
        1,
    )
    .await;
    command(
        &mut host,
        json!({"type": "session", "session": "breakout-b"}),
        2,
    )
    .await;
    let (mut a, _) = app.attendee(&created.code, json!({"room": "Room A"})).await;
    let (mut b, _) = app.attendee(&created.code, json!({"room": "Room B"})).await;
    let (mut everyone, _) = app.attendee(&created.code, json!({})).await;
    ask(&mut a, "From Room A").await;
    ask(&mut b, "From Room B").await;
    ask(&mut everyone, "For everyone").await;
    (host, a, b)
}

#[tokio::test]
async fn a_room_link_binds_its_screen_to_its_room_whatever_the_address_says() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&day()).await;
    let (_host, mut a, mut b) = two_rooms_asking(&app, &created).await;
    let secret = room_link(&app, &created.code, "Room A").await;

    // Opened at Room B's address: the server binds it to Room A all the same.
    let (mut screen, authorised, snapshot) =
        presenter(&app, &created.code, "?room=Room%20B", &secret).await;
    assert_eq!(
        (&authorised["role"], &authorised["room"]),
        (&json!("presenter"), &json!("Room A")),
        "{authorised}"
    );
    assert_eq!(texts(&snapshot), ["From Room A"], "{snapshot}");
    assert_eq!(snapshot["questions_total"], 1);
    // The event's own presenter token is bound to nothing: the main screen, and every
    // room's list for the page to pick from.
    let (mut main, authorised, snapshot) =
        presenter(&app, &created.code, "", &created.presenter_token).await;
    assert!(authorised["room"].is_null(), "{authorised}");
    assert_eq!(texts(&snapshot), ["For everyone"], "{snapshot}");
    for room in ["Room A", "Room B"] {
        main.recv_where(|m| m["type"] == "questions" && m["room"] == room)
            .await;
    }

    // New questions in both rooms: each reaches the unbound screen, only A's the bound one.
    ask(&mut b, "Room B again").await;
    ask(&mut a, "Room A again").await;
    main.recv_where(|m| m["type"] == "questions" && texts(m).contains(&"Room B again"))
        .await;
    let latest = screen
        .recv_where(|m| m["type"] == "questions" && texts(m).contains(&"Room A again"))
        .await;
    assert_eq!(latest["room"], "Room A");
    assert_eq!(latest["session"], "breakout-a");
    let mut seen = screen.drain(Duration::from_millis(800)).await;
    seen.push(latest);
    let questions: Vec<&Value> = seen.iter().filter(|m| m["type"] == "questions").collect();
    assert!(!questions.is_empty());
    for frame in &seen {
        if frame["type"] == "questions" {
            assert_eq!(frame["room"], "Room A", "{frame}");
        }
        for other in ["From Room B", "Room B again", "For everyone"] {
            assert!(
                !frame.to_string().contains(other),
                "{other} reached Room A: {frame}"
            );
        }
    }
}

#[tokio::test]
async fn ending_over_http_names_the_phase_it_leaves_and_a_retry_moves_nothing() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&day()).await;
    let (mut host, _) = app.host(&created).await;
    let end = |body: Option<Value>| {
        let mut request = app
            .http
            .post(format!("{}/api/events/{}/end", app.base, created.code))
            .bearer_auth(&created.host_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.expect("POST end");
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let phase = || async {
        app.get_json(format!("{}/api/events/{}", app.base, created.code), None)
            .await["phase"]
            .clone()
    };

    // Wrong or unknown: refused, nothing moves.
    let (status, body) = end(Some(json!({"from": "after"}))).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "phase_changed");
    assert_eq!(body["phase"], "live");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("after")),
        "{body}"
    );
    let (status, body) = end(Some(json!({"from": "soon"}))).await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("invalid_value")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("from:"))
    );
    let (status, body) = end(Some(json!({"form": "live"}))).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(phase().await, "live");

    // The first press leaves live; its retry is told where the event is, and moves nothing.
    let (status, body) = end(Some(json!({"from": "live"}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["phase"], "after");
    assert_eq!(host.recv_type("phase").await["phase"], "after");
    let (status, body) = end(Some(json!({"from": "live"}))).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["phase"], "after");
    assert_eq!(phase().await, "after");
    let later = host.drain(Duration::from_millis(500)).await;
    assert!(!later.iter().any(|m| m["type"] == "phase"), "{later:?}");

    // Leaving after closes it; without a body, as before, a step from wherever it is.
    let (status, body) = end(Some(json!({"from": "after"}))).await;
    assert_eq!((status, &body["phase"]), (200, &json!("closed")), "{body}");
    let (status, body) = end(Some(json!({"from": "after"}))).await;
    assert_eq!((status, &body["phase"]), (409, &json!("closed")), "{body}");
    let (status, body) = end(None).await;
    assert_eq!((status, &body["state"]), (200, &json!("ended")), "{body}");
}

/// The stored spec of `code` and its ETag.
async fn export(app: &TestApp, code: &str) -> (Value, String) {
    let response = app
        .http
        .get(format!("{}/api/events/{code}/spec", app.base))
        .bearer_auth(ORGANISER_KEY)
        .send()
        .await
        .expect("GET spec");
    let etag = response
        .headers()
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned();
    (response.json().await.expect("JSON"), etag)
}

/// Stores `spec` as an organiser's edit, which must be taken.
async fn edit(app: &TestApp, code: &str, spec: &Value) {
    let (_, etag) = export(app, code).await;
    let response = app
        .http
        .put(format!("{}/api/events/{code}/spec", app.base))
        .bearer_auth(ORGANISER_KEY)
        .header(IF_MATCH, etag)
        .json(spec)
        .send()
        .await
        .expect("PUT spec");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!((status, &body["changed"]), (200, &json!(true)), "{body}");
}

#[tokio::test]
async fn a_live_edit_that_removes_the_current_session_ends_it() {
    let mut app = TestApp::spawn().await;
    let created = app.create_event(&day()).await;
    let code = created.code.as_str();
    let (mut host, mut a, _b) = two_rooms_asking(&app, &created).await;
    command(
        &mut host,
        json!({"type": "session", "session": "keynote"}),
        3,
    )
    .await;
    command(
        &mut host,
        json!({"type": "session", "session": "breakout-a"}),
        4,
    )
    .await;
    command(
        &mut host,
        json!({"type": "session", "session": "breakout-b"}),
        5,
    )
    .await;
    let all =
        json!({"plenary": "keynote", "rooms": {"Room A": "breakout-a", "Room B": "breakout-b"}});
    host.recv_where(|m| m["type"] == "session" && m["current"] == all)
        .await;

    // Room B's break-out goes from the programme, the keynote into Room A.
    let (original, _) = export(&app, code).await;
    let mut spec = original.clone();
    spec["sessions"][0]["room"] = json!("Room A");
    spec["sessions"].as_array_mut().expect("sessions").remove(2);
    edit(&app, code, &spec).await;
    let left = json!({"plenary": null, "rooms": {"Room A": "breakout-a"}});
    let snapshot = host.recv_type("snapshot").await;
    assert_eq!(
        snapshot["current"], left,
        "the snapshot names no session that is gone"
    );
    let told = host.recv_type("session").await;
    assert_eq!(told["current"], left);
    a.recv_where(|m| m["type"] == "session" && m["current"] == left)
        .await;
    // Questions now go where the sessions run: Room A's phone asks in its break-out.
    ask(&mut a, "After the edit").await;
    let question = host
        .recv_where(|m| m["type"] == "question" && m["question"]["text"] == "After the edit")
        .await;
    assert_eq!(question["question"]["session"], "breakout-a");

    // Stored like any change: with the programme put back and the server restarted, the
    // sessions that ended stay ended.
    edit(&app, code, &original).await;
    drop((host, a));
    let data = app.stop().await;
    let app = TestApp::spawn_on(app.database.clone()).await;
    let (_host, snapshot) = app.host(&created).await;
    assert_eq!(snapshot["current"], left);
    drop(data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_from_the_command_line_reaches_the_running_event() {
    let (_data, database) = temp_database();
    let app = TestApp::spawn_on(database.clone()).await;
    let created = app.create_event(&day()).await;
    let (mut host, _) = app.host(&created).await;
    let (mut phone, _) = app.attendee(&created.code, json!({})).await;
    let (mut screen, _) = app.presenter(&created).await;

    let mut spec = day();
    spec["title"] = json!("Screens day, renamed");
    let file = std::env::temp_dir().join(format!("joinup-screens-{}.json", created.code));
    std::fs::write(&file, spec.to_string()).expect("write the spec file");
    let path = file.to_str().expect("a path in UTF-8");
    let (status, out, stderr) = joinup(&database, &["event", "update", &created.code, path]);
    std::fs::remove_file(&file).ok();
    assert_eq!(status, Some(0), "{stderr}");
    assert!(out.contains("updated"), "{out}");

    // The server was not told: the event's actor finds the new spec in the database
    // (within 3 s) and applies it as an organiser's edit, nobody disconnected.
    let snapshot = host.recv_type("snapshot").await;
    assert_eq!(snapshot["event"]["title"], "Screens day, renamed");
    let event = phone.recv_type("event").await;
    assert_eq!(event["event"]["title"], "Screens day, renamed");
    let shown = screen.recv_type("snapshot").await;
    assert_eq!(shown["event"]["title"], "Screens day, renamed");
    // Its own edits are not taken for someone else's: one more edit, one more snapshot.
    let (mut exported, _) = export(&app, &created.code).await;
    exported["title"] = json!("Screens day, again");
    edit(&app, &created.code, &exported).await;
    host.recv_where(|m| m["type"] == "snapshot" && m["event"]["title"] == "Screens day, again")
        .await;
    let later = host.drain(Duration::from_secs(4)).await;
    assert!(!later.iter().any(|m| m["type"] == "snapshot"), "{later:?}");
}
