//! The live hub, message by message: resume, idempotent resends, reveal, the small-group
//! rule, Q&A with moderation, the directory, attendance and the presenter.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, fixture_2026};

async fn open(host: &mut Client, key: &str) {
    let reply = host
        .command(json!({"type": "open", "activity": key}), 1)
        .await;
    assert_eq!(reply["type"], "ok", "{reply}");
}

#[tokio::test]
async fn welcome_carries_the_event_and_open_activities() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, snapshot) = app.host(&created).await;
    assert_eq!(snapshot["state"], "live");
    assert_eq!(snapshot["activities"].as_array().map(Vec::len), Some(15));
    assert!(
        snapshot["activities"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|a| a["state"] == "ready")
    );
    open(&mut host, "role").await;
    let (_phone, welcome) = app
        .attendee(&created.code, json!({"organisation": "York Mind"}))
        .await;
    assert_eq!(
        welcome["event"]["title"],
        "Dual Diagnosis Network Annual Conference 2026"
    );
    assert_eq!(
        welcome["event"]["sessions"][0]["activities"][0]["key"],
        "role"
    );
    assert_eq!(welcome["open"].as_array().map(Vec::len), Some(1));
    assert_eq!(welcome["open"][0]["key"], "role");
    assert_eq!(welcome["open"][0]["session"], "welcome");
    assert_eq!(
        welcome["open"][0]["options"][0],
        "Practitioner or clinician"
    );
    assert_eq!(welcome["answers"], json!({}));
    assert_eq!(
        welcome["profile"],
        json!({"organisation": "York Mind", "sector": "Mental health", "room": null})
    );
    assert!(welcome["attendee"].as_str().is_some_and(|t| t.len() >= 32));
}

#[tokio::test]
async fn a_client_that_closes_has_its_close_answered() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (phone, _) = app
        .attendee(&created.code, json!({"organisation": "York Mind"}))
        .await;
    assert!(
        phone.close_handshake().await,
        "the server answers a client's close frame"
    );
}

#[tokio::test]
async fn an_attendee_who_reconnects_is_one_attendee_with_its_answers() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    for key in ["role", "barrier-word", "pre-prescribing"] {
        open(&mut host, key).await;
    }
    let (mut phone, welcome) = app
        .attendee(
            &created.code,
            json!({"organisation": "changing lives", "room": "Room A"}),
        )
        .await;
    let token = welcome["attendee"].as_str().expect("token").to_owned();
    assert_eq!(phone.answer("a1", "role", json!([1])).await["type"], "ack");
    assert_eq!(
        phone
            .answer("a2", "barrier-word", json!(["  Trust ", "WAITING   lists"]))
            .await["type"],
        "ack"
    );
    phone.close().await;

    let (mut again, welcome) = app
        .attendee(&created.code, json!({"attendee": token}))
        .await;
    assert_eq!(welcome["attendee"], token.as_str());
    assert_eq!(
        welcome["answers"],
        json!({"role": [1], "barrier-word": ["trust", "waiting lists"]})
    );
    assert_eq!(welcome["profile"]["organisation"], "Changing Lives");
    assert_eq!(welcome["profile"]["room"], "Room A");

    // A resend of an acknowledged id is acknowledged again and changes nothing, even with
    // a different value: a late resend never overwrites a newer answer.
    assert_eq!(again.answer("a3", "role", json!([4])).await["type"], "ack");
    assert_eq!(again.answer("a1", "role", json!([0])).await["type"], "ack");
    let tally = host
        .recv_where(|m| {
            m["type"] == "tally" && m["activity"] == "role" && m["tally"]["counts"][4] == 1
        })
        .await;
    assert_eq!(
        tally["tally"],
        json!({"total": 1, "counts": [0, 0, 0, 0, 1, 0]})
    );
    let later = host.drain(Duration::from_millis(300)).await;
    assert!(
        later.iter().all(|m| m["type"] != "tally"
            || m["activity"] != "role"
            || m["tally"]["counts"][0] == 0),
        "{later:?}"
    );

    let (_second_host, snapshot) = app.host(&created).await;
    assert_eq!(snapshot["attendance"]["joined"], 1, "one attendee, not two");
    assert_eq!(snapshot["attendance"]["present"], 1);

    // An unknown token starts a new attendee.
    let (_other, welcome) = app
        .attendee(&created.code, json!({"attendee": "not-a-real-token"}))
        .await;
    assert_ne!(welcome["attendee"], "not-a-real-token");
    assert_eq!(welcome["answers"], json!({}));
}

#[tokio::test]
async fn answers_sent_twice_at_once_are_counted_once() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    open(&mut host, "pre-prescribing").await;
    let (mut phone, _) = app.attendee(&created.code, json!({})).await;
    let answer = json!({"type": "answer", "id": "same", "activity": "pre-prescribing", "value": 4});
    for _ in 0..5 {
        phone.send(&answer).await;
    }
    for _ in 0..5 {
        assert_eq!(phone.recv_type("ack").await["id"], "same");
    }
    let tally = host
        .recv_where(|m| m["type"] == "tally" && m["activity"] == "pre-prescribing")
        .await;
    assert_eq!(
        tally["tally"],
        json!({"total": 1, "counts": [0, 0, 0, 1, 0], "mean": 4.0})
    );
}

#[tokio::test]
async fn reveal_shows_results_to_phones_and_closing_adds_a_safe_sector_breakdown() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    open(&mut host, "usefulness").await;
    // 6 from Mental health, 5 from Drug and alcohol, 2 from Police: Police is merged with
    // the next smallest group so that no group shown is under 5.
    let people = [
        ("York Mind", 6, 5),
        ("Changing Lives", 5, 4),
        ("North Yorkshire Police", 2, 1),
    ];
    let mut phones = Vec::new();
    for (org, n, value) in people {
        for i in 0..n {
            let (mut phone, _) = app
                .attendee(&created.code, json!({"organisation": org}))
                .await;
            assert_eq!(
                phone
                    .answer(&format!("{org}-{i}"), "usefulness", json!(value))
                    .await["type"],
                "ack"
            );
            phones.push(phone);
        }
    }
    let live = host
        .recv_where(|m| m["type"] == "tally" && m["tally"]["total"] == 13)
        .await;
    assert!(
        live["tally"].get("by_sector").is_none(),
        "open tallies never carry by_sector"
    );

    let reply = host
        .command(
            json!({"type": "reveal", "activity": "usefulness", "show": true}),
            2,
        )
        .await;
    assert_eq!(reply["type"], "ok");
    let results = phones[0].recv_type("results").await;
    assert_eq!(results["activity"], "usefulness");
    assert_eq!(results["tally"]["counts"], json!([2, 0, 0, 5, 6]));

    let reply = host
        .command(json!({"type": "close", "activity": "usefulness"}), 3)
        .await;
    assert_eq!(reply["type"], "ok");
    let closed = phones[1].recv_type("closed").await;
    assert_eq!(closed["activity"], "usefulness");
    let final_tally = host
        .recv_where(|m| m["type"] == "tally" && m["tally"].get("by_sector").is_some())
        .await;
    let by_sector = &final_tally["tally"]["by_sector"];
    assert_eq!(by_sector["Mental health"]["total"], 6);
    assert_eq!(by_sector["Other (small groups)"]["total"], 7, "{by_sector}");
    assert!(by_sector.get("Police").is_none());
    assert!(by_sector.get("Drug and alcohol").is_none());
    let sum: u64 = by_sector
        .as_object()
        .expect("map")
        .values()
        .map(|t| t["total"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(sum, 13, "the groups add up to the whole");

    let reply = host
        .command(
            json!({"type": "reveal", "activity": "usefulness", "show": false}),
            4,
        )
        .await;
    assert_eq!(reply["type"], "ok");
    let hidden = phones[2]
        .recv_where(|m| m["type"] == "results" && m["tally"].is_null())
        .await;
    assert_eq!(hidden["activity"], "usefulness");

    // Reopening keeps the answers, which can be changed again.
    open(&mut host, "usefulness").await;
    assert_eq!(
        phones[0].recv_type("opened").await["activity"]["key"],
        "usefulness"
    );
    assert_eq!(
        phones[0].answer("change", "usefulness", json!(1)).await["type"],
        "ack"
    );
    let moved = host
        .recv_where(|m| m["type"] == "tally" && m["tally"]["counts"][0] == 3)
        .await;
    assert_eq!(moved["tally"]["total"], 13);
}

#[tokio::test]
async fn questions_wait_for_approval_then_collect_one_vote_per_attendee() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    let (mut asker, _) = app.attendee(&created.code, json!({})).await;
    let (mut voter, _) = app.attendee(&created.code, json!({})).await;
    asker.send(&json!({"type": "ask", "id": "q-1", "text": "How do we share care plans across services?"})).await;
    assert_eq!(asker.recv_type("ack").await["id"], "q-1");
    let question = host.recv_type("question").await["question"].clone();
    assert_eq!(question["state"], "pending");
    assert_eq!(question["flagged"], false);
    let id = question["id"].as_str().expect("id").to_owned();
    // Not visible yet: an upvote is refused.
    voter
        .send(&json!({"type": "upvote", "id": "v-0", "question": id}))
        .await;
    assert_eq!(voter.recv_type("error").await["code"], "invalid_value");

    let reply = host
        .command(
            json!({"type": "moderate", "item": "question", "target": id, "action": "approve"}),
            5,
        )
        .await;
    assert_eq!(reply["type"], "ok");
    let list = voter.recv_type("questions").await;
    assert_eq!(
        list["questions"][0]["text"],
        "How do we share care plans across services?"
    );
    assert_eq!(list["questions"][0]["answered"], false);

    for vid in ["v-1", "v-2"] {
        voter
            .send(&json!({"type": "upvote", "id": vid, "question": id}))
            .await;
        assert_eq!(voter.recv_type("ack").await["id"], vid);
    }
    let list = asker
        .recv_where(|m| m["type"] == "questions" && m["questions"][0]["votes"] == 1)
        .await;
    assert_eq!(list["questions"].as_array().map(Vec::len), Some(1));
    assert!(
        voter
            .drain(Duration::from_millis(1300))
            .await
            .iter()
            .all(|m| m["type"] != "questions" || m["questions"][0]["votes"] == 1)
    );

    let reply = host
        .command(
            json!({"type": "moderate", "item": "question", "target": id, "action": "answered"}),
            6,
        )
        .await;
    assert_eq!(reply["type"], "ok");
    let list = asker
        .recv_where(|m| m["type"] == "questions" && m["questions"][0]["answered"] == true)
        .await;
    assert_eq!(list["questions"][0]["votes"], 1);

    // Abusive text is flagged for the host, never dropped.
    asker
        .send(&json!({"type": "ask", "id": "q-2", "text": "This is shit"}))
        .await;
    asker.recv_type("ack").await;
    let flagged = host
        .recv_where(|m| m["type"] == "question" && m["question"]["flagged"] == true)
        .await;
    assert_eq!(flagged["question"]["state"], "pending");

    // A hidden question leaves the attendees' list.
    let reply = host
        .command(
            json!({"type": "moderate", "item": "question", "target": id, "action": "hide"}),
            7,
        )
        .await;
    assert_eq!(reply["type"], "ok");
    let list = voter
        .recv_where(|m| {
            m["type"] == "questions" && m["questions"].as_array().is_some_and(Vec::is_empty)
        })
        .await;
    assert_eq!(list["questions"], json!([]));
}

#[tokio::test]
async fn service_cards_follow_moderation_and_replace_each_other() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    let (mut sharer, _) = app
        .attendee(&created.code, json!({"organisation": "York Mind"}))
        .await;
    let (mut reader, _) = app.attendee(&created.code, json!({})).await;
    let card = json!({"name": "Sam", "organisation": "York Mind", "service": "Crisis café",
                      "offer": "Evening drop-in", "referral": "Self-referral", "contact": "01904 000000"});
    sharer
        .send(&json!({"type": "card", "id": "c-1", "card": card}))
        .await;
    sharer.recv_type("ack").await;
    let first = host.recv_type("card").await["card"].clone();
    assert_eq!(
        (first["state"].as_str(), first["service"].as_str()),
        (Some("pending"), Some("Crisis café"))
    );
    let mut changed = card.clone();
    changed["offer"] = json!("Evening and weekend drop-in");
    sharer
        .send(&json!({"type": "card", "id": "c-2", "card": changed}))
        .await;
    sharer.recv_type("ack").await;
    let second = host.recv_type("card").await["card"].clone();
    let reply = host
        .command(json!({"type": "moderate", "item": "card", "target": second["id"], "action": "approve"}), 8)
        .await;
    assert_eq!(reply["type"], "ok");
    let directory = reader.recv_type("directory").await;
    assert_eq!(
        directory["cards"].as_array().map(Vec::len),
        Some(1),
        "a later card replaces the earlier one"
    );
    assert_eq!(
        directory["cards"][0]["offer"],
        "Evening and weekend drop-in"
    );
    let (_late, welcome) = app.attendee(&created.code, json!({})).await;
    assert_eq!(welcome["directory"][0]["service"], "Crisis café");
}

#[tokio::test]
async fn text_answers_reach_the_host_for_moderation_with_replaces() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    open(&mut host, "concern").await;
    let (mut phone, _) = app.attendee(&created.code, json!({})).await;
    assert_eq!(
        phone
            .answer("t1", "concern", json!("  Waiting lists for assessments  "))
            .await["type"],
        "ack"
    );
    let first = host.recv_type("text").await;
    assert_eq!(first["text"], "Waiting lists for assessments");
    assert_eq!(first["activity"], "concern");
    assert_eq!(first["flagged"], false);
    assert_eq!(
        phone
            .answer("t2", "concern", json!("Nobody picks up the phone"))
            .await["type"],
        "ack"
    );
    let second = host.recv_type("text").await;
    assert_eq!(second["replaces"], first["id"]);
    let reply = host
        .command(json!({"type": "moderate", "item": "text", "target": second["id"], "action": "approve"}), 9)
        .await;
    assert_eq!(reply["type"], "ok");
    // The replaced text is gone: moderating it is refused, naming it.
    let reply = host
        .command(
            json!({"type": "moderate", "item": "text", "target": first["id"], "action": "hide"}),
            10,
        )
        .await;
    assert_eq!(reply["type"], "error");
    assert_eq!(reply["code"], "invalid_value");
    assert!(
        reply["message"]
            .as_str()
            .is_some_and(|m| m.contains(first["id"].as_str().unwrap_or("?"))),
        "{reply}"
    );
    let tally = host
        .recv_where(|m| m["type"] == "tally" && m["activity"] == "concern")
        .await;
    assert_eq!(tally["tally"], json!({"total": 1}));
}

#[tokio::test]
async fn attendance_counts_people_and_normalises_typed_organisations() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    let (_a, _) = app
        .attendee(&created.code, json!({"organisation": "york mind "}))
        .await;
    let (_b, _) = app
        .attendee(&created.code, json!({"organisation": "YORK   MIND"}))
        .await;
    let (_c, _) = app
        .attendee(
            &created.code,
            json!({"organisation": "Selby Recovery Café", "sector": "third sector"}),
        )
        .await;
    let (d, _) = app
        .attendee(
            &created.code,
            json!({"organisation": "selby recovery café "}),
        )
        .await;
    let attendance = host
        .recv_where(|m| m["type"] == "attendance" && m["present"] == 4)
        .await;
    assert_eq!(attendance["joined"], 4);
    assert_eq!(
        attendance["by_organisation"],
        json!({"York Mind": 2, "Selby Recovery Café": 2})
    );
    assert_eq!(
        attendance["by_sector"],
        json!({"Mental health": 2, "Third sector": 1, "Not given": 1})
    );
    d.close().await;
    let attendance = host
        .recv_where(|m| m["type"] == "attendance" && m["present"] == 3)
        .await;
    assert_eq!(
        attendance["joined"], 4,
        "joined counts everyone ever welcomed"
    );
}

#[tokio::test]
async fn pledges_list_the_signing_organisations() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    open(&mut host, "pledge").await;
    for (i, org) in ["York Mind", "Changing Lives", "York Mind"]
        .iter()
        .enumerate()
    {
        let (mut phone, _) = app
            .attendee(&created.code, json!({"organisation": org}))
            .await;
        assert_eq!(
            phone.answer(&format!("p{i}"), "pledge", json!(true)).await["type"],
            "ack"
        );
    }
    let tally = host
        .recv_where(|m| m["type"] == "tally" && m["tally"]["total"] == 3)
        .await;
    assert_eq!(
        tally["tally"]["organisations"],
        json!(["Changing Lives", "York Mind"])
    );
    assert_eq!(
        tally["tally"]["signatures"],
        json!({"Changing Lives": 1, "York Mind": 2})
    );
}

#[tokio::test]
async fn the_presenter_follows_focus_and_sees_tallies_only_when_revealed() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    let (mut presenter, snapshot) = app.presenter(&created).await;
    assert!(
        snapshot.get("texts").is_none(),
        "the presenter never sees unmoderated text"
    );
    open(&mut host, "role").await;
    let reply = host
        .command(json!({"type": "focus", "activity": "role"}), 2)
        .await;
    assert_eq!(reply["type"], "ok");
    let focus = presenter.recv_type("focus").await;
    assert_eq!(focus["activity"]["key"], "role");
    assert_eq!(focus["activity"]["tally"], Value::Null);
    let (mut phone, _) = app.attendee(&created.code, json!({})).await;
    assert_eq!(phone.answer("r", "role", json!([0])).await["type"], "ack");
    let count = presenter.recv_type("count").await;
    assert_eq!(
        (count["activity"].as_str(), count["total"].as_u64()),
        (Some("role"), Some(1))
    );
    let reply = host
        .command(
            json!({"type": "reveal", "activity": "role", "show": true}),
            3,
        )
        .await;
    assert_eq!(reply["type"], "ok");
    let results = presenter.recv_type("results").await;
    assert_eq!(results["tally"]["counts"][0], 1);
}

#[tokio::test]
async fn the_presenter_walls_only_approved_texts_of_the_focused_revealed_activity() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    let (mut presenter, _) = app.presenter(&created).await;
    open(&mut host, "concern").await;
    let mut ids = Vec::new();
    let mut phones = Vec::new();
    for (i, words) in ["Waiting lists", "Nobody picks up", "Housing first"]
        .iter()
        .enumerate()
    {
        let (mut phone, _) = app.attendee(&created.code, json!({})).await;
        assert_eq!(
            phone
                .answer(&format!("t{i}"), "concern", json!(words))
                .await["type"],
            "ack"
        );
        ids.push(host.recv_type("text").await["id"].clone());
        phones.push(phone);
    }
    for (n, id) in [&ids[0], &ids[2]].into_iter().enumerate() {
        let approve =
            json!({"type": "moderate", "item": "text", "target": id, "action": "approve"});
        assert_eq!(host.command(approve, 10 + n as u64).await["type"], "ok");
    }
    let focus = json!({"type": "focus", "activity": "concern"});
    assert_eq!(host.command(focus, 20).await["type"], "ok");
    presenter.recv_type("focus").await;
    let reveal = json!({"type": "reveal", "activity": "concern", "show": true});
    assert_eq!(host.command(reveal, 21).await["type"], "ok");
    let wall = presenter.recv_type("wall").await;
    assert_eq!(wall["activity"], "concern");
    assert_eq!(
        wall["texts"],
        json!([{"id": ids[2], "text": "Housing first"}, {"id": ids[0], "text": "Waiting lists"}]),
        "approved texts only, newest first"
    );
    // Approving another moves the wall; a reconnecting presenter gets it after its snapshot.
    let approve =
        json!({"type": "moderate", "item": "text", "target": ids[1], "action": "approve"});
    assert_eq!(host.command(approve, 22).await["type"], "ok");
    let wall = presenter.recv_type("wall").await;
    assert_eq!(wall["texts"].as_array().map(Vec::len), Some(3));
    let hide = json!({"type": "moderate", "item": "text", "target": ids[2], "action": "hide"});
    assert_eq!(host.command(hide, 23).await["type"], "ok");
    let wall = presenter.recv_type("wall").await;
    assert_eq!(
        wall["texts"],
        json!([{"id": ids[1], "text": "Nobody picks up"}, {"id": ids[0], "text": "Waiting lists"}])
    );
    let (mut again, _) = app.presenter(&created).await;
    assert_eq!(again.recv_type("wall").await["texts"], wall["texts"]);
}
