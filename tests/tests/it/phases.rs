//! An event's phases over real sockets (docs/protocol.md, "Phases"): questions and a
//! before-activity in advance, the Q&A of each session and each break-out room, the
//! evaluation after the day on the same token, and the clock closing the after window.

use serde_json::{Value, json};

use joinup::domain::clock;

use crate::helpers::{Closed, TestApp};

/// An RFC 3339 date `secs` from now.
fn from_now(secs: i64) -> String {
    clock::format_unix(clock::now_unix() + secs)
}

/// A day with a plenary keynote, two break-out rooms, a before-activity, a pre/post pair
/// whose post half is for after the event, and open Q&A (`post` moderation, so questions
/// are visible at once); it started an hour ago unless `edit` says otherwise.
fn day(edit: impl FnOnce(&mut Value)) -> Value {
    let mut spec = json!({
        "title": "Phases day",
        "opens_at": from_now(-7200),
        "starts_at": from_now(-3600),
        "closes_at": from_now(7200),
        "min_group_size": 3,
        "qa": {"enabled": true, "moderation": "post", "max_open_questions": 1},
        "sessions": [
            {"key": "keynote", "title": "Keynote", "activities": [
                {"key": "hopes", "kind": "text", "prompt": "What do you hope to take away?",
                 "max_len": 200, "window": "before"},
                {"key": "poll", "kind": "choice", "prompt": "Which?", "options": ["A", "B"]},
                {"key": "pre-confidence", "kind": "scale", "prompt": "How confident?", "min": 1,
                 "max": 5, "pair": "confidence", "phase": "pre"}
            ]},
            {"key": "breakout-a", "title": "Break-out A", "room": "Room A", "activities": [
                {"key": "a-word", "kind": "words", "prompt": "One word", "max_words": 1}
            ]},
            {"key": "breakout-b", "title": "Break-out B", "room": "Room B", "activities": []},
            {"key": "evaluation", "title": "Evaluation", "activities": [
                {"key": "post-confidence", "kind": "scale", "prompt": "How confident now?",
                 "min": 1, "max": 5, "pair": "confidence", "phase": "post", "window": "after"}
            ]}
        ]
    });
    edit(&mut spec);
    spec
}

fn is_not_open(reply: &Value, phase: &str) -> bool {
    reply["type"] == "error" && reply["code"] == "not_open" && reply["phase"] == phase
}

#[tokio::test]
async fn questions_and_a_before_activity_come_in_advance() {
    let app = TestApp::spawn().await;
    let spec = day(|s| {
        s["opens_at"] = json!(from_now(-3600));
        s["starts_at"] = json!(from_now(6));
        s["closes_at"] = json!(from_now(7200));
    });
    let created = app.create_event(&spec).await;
    let facts = app.facts(&created.code).await;
    assert_eq!(
        (facts["phase"].as_str(), facts["state"].as_str()),
        (Some("before"), Some("live"))
    );

    let (mut asker, welcome) = app.attendee(&created.code, json!({})).await;
    assert_eq!(welcome["phase"], "before");
    assert_eq!(welcome["current"], json!({"plenary": null, "rooms": {}}));
    let open: Vec<&str> = welcome["open"]
        .as_array()
        .expect("open")
        .iter()
        .map(|a| a["key"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        open,
        ["hopes"],
        "the before-activity opened at opens_at, nothing else"
    );

    let refused = asker.answer("p1", "poll", json!([0])).await;
    assert!(is_not_open(&refused, "before"), "{refused}");
    assert_eq!(
        refused["message"],
        "this activity opens when the event starts"
    );
    let refused = asker
        .request(json!({"type": "react", "reaction": "agree"}), "r1")
        .await;
    assert!(is_not_open(&refused, "before"), "{refused}");
    assert_eq!(
        asker.answer("h1", "hopes", json!("Practical tools")).await["type"],
        "ack"
    );

    let ask = json!({"type": "ask", "text": "Will the slides be shared?", "session": "keynote"});
    assert_eq!(asker.request(ask, "q1").await["type"], "ack");
    let general = json!({"type": "ask", "text": "Is there parking?"});
    assert_eq!(asker.request(general, "q2").await["type"], "ack");

    // Another attendee sees the advance questions of every session and votes on one.
    let (mut voter, welcome) = app.attendee(&created.code, json!({})).await;
    let questions = welcome["questions"].as_array().expect("questions");
    assert_eq!(welcome["questions_total"], 2);
    let keynote = questions
        .iter()
        .find(|q| q["session"] == "keynote")
        .expect("keynote's");
    assert_eq!(keynote["advance"], true);
    assert!(
        questions
            .iter()
            .any(|q| q["session"].is_null() && q["advance"] == true)
    );
    let id = keynote["id"].as_str().expect("id").to_owned();
    let vote = json!({"type": "upvote", "question": id});
    assert_eq!(voter.request(vote, "v1").await["type"], "ack");

    let (mut host, snapshot) = app.host(&created).await;
    assert_eq!(snapshot["phase"], "before");
    let seen = snapshot["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .find(|q| q["id"] == id.as_str())
        .expect("the host sees it")
        .clone();
    assert_eq!(
        (seen["votes"].as_u64(), seen["advance"].as_bool()),
        (Some(1), Some(true))
    );
    assert_eq!(seen["session"], "keynote");

    // starts_at passes: every connection is told, and the keynote starts with its
    // questions already voted on.
    for client in [&mut asker, &mut voter, &mut host] {
        let phase = client.recv_type("phase").await;
        assert_eq!(phase["phase"], "live");
    }
    assert_eq!(app.facts(&created.code).await["phase"], "live");
    assert_eq!(
        host.command(json!({"type": "open", "activity": "poll"}), 1)
            .await["type"],
        "ok"
    );
    let session = voter.recv_type("session").await;
    assert_eq!(
        session["current"],
        json!({"plenary": "keynote", "rooms": {}})
    );
    let list = voter
        .recv_where(|m| {
            m["type"] == "questions"
                && m["questions"]
                    .as_array()
                    .is_some_and(|q| q.iter().any(|q| q["votes"] == 1))
        })
        .await;
    let first_of_keynote = list["questions"]
        .as_array()
        .expect("list")
        .iter()
        .find(|q| q["session"] == "keynote")
        .expect("keynote's");
    assert_eq!(first_of_keynote["id"], id.as_str());
    assert_eq!(asker.answer("p2", "poll", json!([1])).await["type"], "ack");
    // The before-activity stays open into the live part.
    assert_eq!(
        asker.answer("h2", "hopes", json!("Contacts")).await["type"],
        "ack"
    );
}

#[tokio::test]
async fn questions_wait_for_opens_at_and_a_host_may_start_early() {
    let app = TestApp::spawn().await;
    let spec = day(|s| {
        s["opens_at"] = json!(from_now(3600));
        s["starts_at"] = json!(from_now(7200));
        s["closes_at"] = json!(from_now(10_800));
    });
    let created = app.create_event(&spec).await;
    let (mut phone, welcome) = app.attendee(&created.code, json!({})).await;
    assert_eq!(welcome["open"], json!([]), "opens_at has not come");
    let refused = phone
        .request(json!({"type": "ask", "text": "Early?"}), "q1")
        .await;
    assert!(is_not_open(&refused, "before"), "{refused}");
    let opens = spec["opens_at"].as_str().expect("opens_at");
    assert_eq!(
        refused["message"],
        format!("the event has not started: questions open at {opens}")
    );
    let refused = phone.answer("h1", "hopes", json!("x")).await;
    assert!(is_not_open(&refused, "before"), "{refused}");

    let (mut host, _) = app.host(&created).await;
    assert_eq!(
        host.command(json!({"type": "start"}), 1).await["type"],
        "ok"
    );
    assert_eq!(phone.recv_type("phase").await["phase"], "live");
    assert_eq!(app.facts(&created.code).await["phase"], "live");
    let asked = phone
        .request(json!({"type": "ask", "text": "Now?"}), "q2")
        .await;
    assert_eq!(asked["type"], "ack");
    // Started early and stored: a new phone finds it live, before starts_at.
    let (_phone2, welcome) = app.attendee(&created.code, json!({})).await;
    assert_eq!(welcome["phase"], "live");
    let question = host.recv_type("question").await;
    assert_eq!(question["question"]["advance"], false);
}

#[tokio::test]
async fn a_refused_session_that_started_the_event_is_stored_as_started() {
    let app = TestApp::spawn().await;
    let spec = day(|s| {
        s["opens_at"] = json!(from_now(3600));
        s["starts_at"] = json!(from_now(7200));
        s["closes_at"] = json!(from_now(10_800));
    });
    let created = app.create_event(&spec).await;
    let (mut host, _) = app.host(&created).await;
    // `session` before the start starts the event first; the unknown key is refused, but
    // the start is stored, so what the server says and what it stored agree.
    let refused = host
        .command(json!({"type": "session", "session": "nope"}), 1)
        .await;
    assert_eq!(refused["code"], "invalid_value", "{refused}");
    assert_eq!(app.facts(&created.code).await["phase"], "live");
}

#[tokio::test]
async fn each_session_and_each_room_has_its_own_questions() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&day(|_| {})).await;
    let (mut host, snapshot) = app.host(&created).await;
    assert_eq!(snapshot["phase"], "live", "no starts_at: live at once");
    let (mut presenter, _) = app.presenter(&created).await;
    let (mut a, _) = app.attendee(&created.code, json!({"room": "Room A"})).await;
    let (mut b, _) = app.attendee(&created.code, json!({"room": "Room B"})).await;

    // A talk with nothing to answer still has its Q&A.
    let ok = host
        .command(json!({"type": "session", "session": "keynote"}), 1)
        .await;
    assert_eq!(ok["type"], "ok", "{ok}");
    assert_eq!(
        a.recv_type("session").await["current"]["plenary"],
        "keynote"
    );
    let asked = a
        .request(json!({"type": "ask", "text": "Keynote question"}), "qa1")
        .await;
    assert_eq!(asked["type"], "ack");
    let question = host.recv_type("question").await;
    assert_eq!(question["question"]["session"], "keynote");
    assert_eq!(question["question"]["advance"], false);
    // One open question per session (max_open_questions 1) ...
    let refused = a
        .request(json!({"type": "ask", "text": "Another"}), "qa2")
        .await;
    assert_eq!(refused["code"], "limit_reached");

    // ... and the break-out is another session, with its own Q&A.
    assert_eq!(
        host.command(json!({"type": "open", "activity": "a-word"}), 2)
            .await["type"],
        "ok"
    );
    let session = b
        .recv_where(|m| m["type"] == "session" && m["current"]["rooms"] != json!({}))
        .await;
    assert_eq!(
        session["current"],
        json!({"plenary": "keynote", "rooms": {"Room A": "breakout-a"}})
    );
    let asked = a
        .request(json!({"type": "ask", "text": "Room A only"}), "qa3")
        .await;
    assert_eq!(asked["type"], "ack");
    let question = host
        .recv_where(|m| m["type"] == "question" && m["question"]["text"] == "Room A only")
        .await;
    assert_eq!(question["question"]["session"], "breakout-a");
    let wrong = json!({"type": "ask", "text": "Sneaking in", "session": "breakout-a"});
    let refused = b.request(wrong, "qb1").await;
    assert_eq!(refused["code"], "invalid_value");
    assert_eq!(refused["message"], "session \"breakout-a\" is for Room A");
    let unknown = json!({"type": "ask", "text": "?", "session": "nope"});
    assert_eq!(
        b.request(unknown, "qb2").await["message"],
        "no session \"nope\""
    );
    let plenary = json!({"type": "ask", "text": "For the keynote", "session": "keynote"});
    assert_eq!(b.request(plenary, "qb3").await["type"], "ack");

    // Room A's phones list Room A's question; Room B's never receive it.
    a.recv_where(|m| m["type"] == "questions" && m.to_string().contains("Room A only"))
        .await;
    b.recv_where(|m| m["type"] == "questions" && m.to_string().contains("For the keynote"))
        .await;
    let later = b.drain(std::time::Duration::from_millis(1500)).await;
    assert!(
        !later.iter().any(|m| m.to_string().contains("Room A only")),
        "{later:?}"
    );
    // The presenter: the main screen's list is the keynote's, Room A's screen its own.
    let room = presenter
        .recv_where(|m| m["type"] == "questions" && m["room"] == "Room A")
        .await;
    assert_eq!(room["session"], "breakout-a");
    assert_eq!(room["questions"][0]["text"], "Room A only");
    let main = presenter
        .recv_where(|m| m["type"] == "questions" && m["room"].is_null() && m["total"] == 2)
        .await;
    assert_eq!(main["session"], "keynote");

    // A plenary activity ends the break-out.
    assert_eq!(
        host.command(json!({"type": "open", "activity": "poll"}), 3)
            .await["type"],
        "ok"
    );
    let session = a
        .recv_where(|m| m["type"] == "session" && m["current"]["rooms"] == json!({}))
        .await;
    assert_eq!(session["current"]["plenary"], "keynote");
    let unknown = host
        .command(json!({"type": "session", "session": "nope"}), 4)
        .await;
    assert_eq!(unknown["code"], "invalid_value");
}

#[tokio::test]
async fn an_event_wide_qa_takes_no_session() {
    let app = TestApp::spawn().await;
    let created = app
        .create_event(&day(|s| s["qa"]["scope"] = json!("event")))
        .await;
    let (mut host, _) = app.host(&created).await;
    let (mut phone, _) = app.attendee(&created.code, json!({})).await;
    assert_eq!(
        host.command(json!({"type": "open", "activity": "poll"}), 1)
            .await["type"],
        "ok"
    );
    let refused = phone
        .request(
            json!({"type": "ask", "text": "x", "session": "keynote"}),
            "q1",
        )
        .await;
    assert_eq!(refused["code"], "invalid_value");
    assert_eq!(
        phone
            .request(json!({"type": "ask", "text": "x"}), "q2")
            .await["type"],
        "ack"
    );
    let question = host.recv_type("question").await;
    assert!(question["question"]["session"].is_null(), "{question}");
}

#[tokio::test]
async fn the_evaluation_after_pairs_on_the_same_token_then_closes() {
    let app = TestApp::spawn().await;
    let created = app
        .create_event(&day(|s| s["closes_at"] = json!(from_now(8))))
        .await;
    let (mut host, _) = app.host(&created).await;
    let (mut phone, welcome) = app.attendee(&created.code, json!({})).await;
    let token = welcome["attendee"].as_str().expect("token").to_owned();
    let early = host
        .command(json!({"type": "open", "activity": "post-confidence"}), 9)
        .await;
    assert!(is_not_open(&early, "live"), "{early}");
    let open = json!({"type": "open", "activity": "pre-confidence"});
    assert_eq!(host.command(open, 1).await["type"], "ok");
    assert_eq!(
        phone.answer("pre", "pre-confidence", json!(2)).await["type"],
        "ack"
    );

    // The host ends the live part: the phone stays, the live activity closes, the
    // evaluation opens.
    assert_eq!(host.command(json!({"type": "end"}), 2).await["type"], "ok");
    let phase = phone.recv_type("phase").await;
    assert_eq!(phase["phase"], "after");
    assert!(phase["closes_at"].is_string());
    phone
        .recv_where(|m| m["type"] == "closed" && m["activity"] == "pre-confidence")
        .await;
    phone
        .recv_where(|m| m["type"] == "opened" && m["activity"]["key"] == "post-confidence")
        .await;
    let facts = app.facts(&created.code).await;
    assert_eq!(
        (facts["phase"].as_str(), facts["state"].as_str()),
        (Some("after"), Some("live"))
    );
    let refused = phone.answer("late", "pre-confidence", json!(3)).await;
    assert!(is_not_open(&refused, "after"), "{refused}");
    let refused = phone
        .request(json!({"type": "ask", "text": "Too late?"}), "q1")
        .await;
    assert!(is_not_open(&refused, "after"), "{refused}");
    assert_eq!(refused["message"], "questions closed when the event ended");
    let refused = host
        .command(json!({"type": "open", "activity": "poll"}), 3)
        .await;
    assert!(is_not_open(&refused, "after"), "{refused}");
    // The answer stored before the end, sent again (its ack lost with a socket): it
    // counted, so it is acknowledged again, never refused as out of phase.
    assert_eq!(
        phone.answer("pre", "pre-confidence", json!(2)).await["type"],
        "ack"
    );
    // A second press of "End the live part" (or a retry) takes no second step.
    let again = host
        .command(json!({"type": "end", "from": "live"}), 4)
        .await;
    assert_eq!(again["type"], "ok", "{again}");
    assert_eq!(app.facts(&created.code).await["phase"], "after");
    let bad = host
        .command(json!({"type": "end", "from": "later"}), 5)
        .await;
    assert_eq!(bad["code"], "invalid_value", "{bad}");
    phone.close().await;

    // The day after: the same token, on a new connection, finds the evaluation open.
    let (mut phone, welcome) = app
        .attendee(&created.code, json!({"attendee": token}))
        .await;
    assert_eq!(welcome["attendee"], token.as_str());
    assert_eq!(welcome["phase"], "after");
    assert_eq!(welcome["open"][0]["key"], "post-confidence");
    assert_eq!(welcome["answers"]["pre-confidence"], 2);
    assert_eq!(
        phone.answer("post", "post-confidence", json!(4)).await["type"],
        "ack"
    );

    // closes_at passes: closed for good.
    let phase = phone.recv_type("phase").await;
    assert_eq!(phase["phase"], "closed");
    assert_eq!(phone.recv_type("error").await["code"], "event_ended");
    assert_eq!(phone.closed().await, Closed::Code(4000));
    let facts = app.facts(&created.code).await;
    assert_eq!(
        (facts["phase"].as_str(), facts["state"].as_str()),
        (Some("closed"), Some("ended"))
    );
    assert_eq!(
        host.recv_where(|m| m["type"] == "snapshot").await["phase"],
        "closed"
    );
    let summary = app
        .get_json(
            format!("{}/api/events/{}/summary.json", app.base, created.code),
            Some(&created.host_token),
        )
        .await;
    assert_eq!(summary["event"]["phase"], "closed", "{}", summary["event"]);
}

#[tokio::test]
async fn the_after_window_survives_a_restart() {
    let mut app = TestApp::spawn().await;
    let created = app
        .create_event(&day(|s| s["closes_at"] = json!(from_now(3600))))
        .await;
    let (mut host, _) = app.host(&created).await;
    let (_phone, welcome) = app.attendee(&created.code, json!({})).await;
    let token = welcome["attendee"].as_str().expect("token").to_owned();
    assert_eq!(
        host.command(json!({"type": "session", "session": "keynote"}), 1)
            .await["type"],
        "ok"
    );
    // Ending over HTTP moves the event one step too, and says where it is.
    let ended: Value = app
        .http
        .post(format!("{}/api/events/{}/end", app.base, created.code))
        .bearer_auth(&created.host_token)
        .send()
        .await
        .expect("POST end")
        .json()
        .await
        .expect("json");
    assert_eq!(
        ended,
        json!({"code": created.code, "state": "live", "phase": "after"})
    );
    assert_eq!(host.recv_type("phase").await["phase"], "after");
    drop(host);
    let data = app.stop().await;
    let app = TestApp::spawn_on(app.database.clone()).await;
    let (mut phone, welcome) = app
        .attendee(&created.code, json!({"attendee": token}))
        .await;
    assert_eq!(welcome["phase"], "after");
    assert_eq!(
        welcome["current"]["plenary"], "keynote",
        "the current session is stored"
    );
    assert_eq!(
        phone.answer("post", "post-confidence", json!(5)).await["type"],
        "ack"
    );
    // A second end closes it.
    let (mut host, snapshot) = app.host(&created).await;
    assert_eq!(snapshot["phase"], "after");
    assert_eq!(host.command(json!({"type": "end"}), 3).await["type"], "ok");
    assert_eq!(phone.closed().await, Closed::Code(4000));
    assert_eq!(app.facts(&created.code).await["phase"], "closed");
    drop(data);
}

#[tokio::test]
async fn the_screens_follow_the_evaluation_after_the_live_part() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&day(|_| {})).await;
    let (mut host, _) = app.host(&created).await;
    let (mut presenter, _) = app.presenter(&created).await;
    let mut phones = Vec::new();
    for _ in 0..2 {
        phones.push(app.attendee(&created.code, json!({})).await.0);
    }
    assert_eq!(host.command(json!({"type": "end"}), 1).await["type"], "ok");
    assert_eq!(presenter.recv_type("phase").await["phase"], "after");
    presenter
        .recv_where(|m| {
            m["type"] == "activity" && m["activity"] == "post-confidence" && m["state"] == "open"
        })
        .await;

    // Nobody focuses it (the end took the focus off): the screens follow its count all the
    // same, and see no results until a host reveals them.
    assert_eq!(
        phones[0].answer("p1", "post-confidence", json!(4)).await["type"],
        "ack"
    );
    let count = presenter
        .recv_where(|m| m["type"] == "count" && m["activity"] == "post-confidence")
        .await;
    assert_eq!(count["total"], 1);
    let early = presenter.drain(std::time::Duration::from_millis(400)).await;
    assert!(
        !early.iter().any(|m| m["type"] == "results"),
        "no results before the reveal: {early:?}"
    );

    // Revealed: the results reach the screens, then follow each answer, with no breakdown.
    let reveal = json!({"type": "reveal", "activity": "post-confidence", "show": true});
    assert_eq!(host.command(reveal, 2).await["type"], "ok");
    let results = presenter
        .recv_where(|m| m["type"] == "results" && m["activity"] == "post-confidence")
        .await;
    assert_eq!(results["tally"]["total"], 1);
    assert_eq!(
        phones[1].answer("p2", "post-confidence", json!(5)).await["type"],
        "ack"
    );
    let results = presenter
        .recv_where(|m| {
            m["type"] == "results" && m["activity"] == "post-confidence" && m["tally"]["total"] == 2
        })
        .await;
    assert_eq!(results["tally"]["counts"], json!([0, 0, 0, 1, 1]));
    assert!(results["tally"].get("by_sector").is_none(), "{results}");
}
