//! Anonymity against a motivated attendee (contract v1.1): a closed activity's breakdown
//! counts each answer where it was given and never moves, across profile changes and
//! restarts; attendees and the presenter never get a breakdown; the presenter's attendance
//! is totals only; the report's peak is never below what was seen.

use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, WAIT, fixture_2026};

async fn command(host: &mut Client, command: Value, id: u64) {
    let reply = host.command(command, id).await;
    assert_eq!(reply["type"], "ok", "{reply}");
}

fn by_sector_of(snapshot: &Value, key: &str) -> Value {
    snapshot["activities"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["key"] == key))
        .map(|a| a["tally"]["by_sector"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn moving_fake_attendees_after_the_close_never_changes_the_breakdown() {
    let mut app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    command(
        &mut host,
        json!({"type": "open", "activity": "usefulness"}),
        1,
    )
    .await;
    command(
        &mut host,
        json!({"type": "reveal", "activity": "usefulness", "show": true}),
        2,
    )
    .await;
    // One real police officer; five from Mental health, five from Drug and alcohol; and
    // four fakes, in Drug and alcohol while they answer.
    let (mut target, _) = app
        .attendee(
            &created.code,
            json!({"organisation": "North Yorkshire Police"}),
        )
        .await;
    assert_eq!(
        target.answer("t", "usefulness", json!(5)).await["type"],
        "ack"
    );
    let mut phones = Vec::new();
    for (org, n, value) in [("York Mind", 5, 3), ("Changing Lives", 5, 4)] {
        for i in 0..n {
            let (mut phone, _) = app
                .attendee(&created.code, json!({"organisation": org}))
                .await;
            let id = format!("{org}{i}");
            assert_eq!(
                phone.answer(&id, "usefulness", json!(value)).await["type"],
                "ack"
            );
            phones.push(phone);
        }
    }
    let mut fakes = Vec::new();
    for i in 0..4 {
        let (mut fake, _) = app
            .attendee(&created.code, json!({"organisation": "Changing Lives"}))
            .await;
        assert_eq!(
            fake.answer(&format!("f{i}"), "usefulness", json!(1)).await["type"],
            "ack"
        );
        fakes.push(fake);
    }
    command(
        &mut host,
        json!({"type": "close", "activity": "usefulness"}),
        3,
    )
    .await;
    let closed = host
        .recv_where(|m| m["type"] == "tally" && m["tally"].get("by_sector").is_some())
        .await;
    let at_close = closed["tally"]["by_sector"].clone();
    assert_eq!(at_close["Drug and alcohol"]["total"], 9, "{at_close}");
    assert_eq!(at_close["Other (small groups)"]["total"], 6, "{at_close}");
    assert!(at_close.get("Police").is_none(), "{at_close}");

    // Attendees see the revealed results, never a breakdown.
    let results = target
        .recv_where(|m| m["type"] == "results" && m["tally"]["total"] == 15)
        .await;
    assert!(results["tally"].get("by_sector").is_none(), "{results}");

    // The fakes move into the target's sector after the close.
    for (i, fake) in fakes.iter_mut().enumerate() {
        fake.send(&json!({"type": "profile", "id": format!("move{i}"),
                          "organisation": "North Yorkshire Police", "sector": "Police"}))
            .await;
        assert_eq!(fake.recv_type("ack").await["id"], format!("move{i}"));
    }
    let (_late, welcome) = app
        .attendee(
            &created.code,
            json!({"organisation": "North Yorkshire Police"}),
        )
        .await;
    let revealed = &welcome["results"]["usefulness"];
    assert_eq!(revealed["total"], 15, "{welcome}");
    assert!(revealed.get("by_sector").is_none(), "{revealed}");

    // A host connecting now, the report, and the host after a restart all see the
    // breakdown as it was at the close: the fakes still count in Drug and alcohol.
    let (_host2, snapshot) = app.host(&created).await;
    assert_eq!(by_sector_of(&snapshot, "usefulness"), at_close);
    let summary = app
        .get_json(
            format!("{}/api/events/{}/summary.json", app.base, created.code),
            Some(&created.host_token),
        )
        .await;
    let usefulness = summary["activities"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["key"] == "usefulness"))
        .expect("usefulness")
        .clone();
    let groups: Vec<(String, u64)> = usefulness["by_sector"]
        .as_array()
        .expect("by_sector")
        .iter()
        .map(|g| {
            (
                g["group"].as_str().unwrap_or("").to_owned(),
                g["total"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        groups,
        vec![
            ("Drug and alcohol".to_owned(), 9),
            ("Other (small groups)".to_owned(), 6)
        ]
    );

    let database = app.database.clone();
    let _data = app.stop().await;
    let app = TestApp::spawn_on(database).await;
    let (_host3, snapshot) = app.host(&created).await;
    assert_eq!(
        by_sector_of(&snapshot, "usefulness"),
        at_close,
        "each answer's sector is stored with it and read back"
    );
}

#[tokio::test]
async fn the_presenter_gets_attendance_totals_and_results_without_a_breakdown() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    let (mut presenter, snapshot) = app.presenter(&created).await;
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(keys(&snapshot["attendance"]), ["joined", "present"]);
    command(
        &mut host,
        json!({"type": "focus", "activity": "usefulness"}),
        1,
    )
    .await;
    command(
        &mut host,
        json!({"type": "open", "activity": "usefulness"}),
        2,
    )
    .await;
    command(
        &mut host,
        json!({"type": "reveal", "activity": "usefulness", "show": true}),
        3,
    )
    .await;
    // One attendee from a sector of one, beside five others.
    let (mut lone, _) = app
        .attendee(
            &created.code,
            json!({"organisation": "HM Prison and Probation Service"}),
        )
        .await;
    assert_eq!(
        lone.answer("l", "usefulness", json!(2)).await["type"],
        "ack"
    );
    let mut phones = Vec::new();
    for i in 0..5 {
        let (mut phone, _) = app
            .attendee(&created.code, json!({"organisation": "York Mind"}))
            .await;
        assert_eq!(
            phone.answer(&format!("p{i}"), "usefulness", json!(4)).await["type"],
            "ack"
        );
        phones.push(phone);
    }
    let attendance = presenter
        .recv_where(|m| m["type"] == "attendance" && m["joined"] == 6)
        .await;
    assert_eq!(
        keys(&attendance),
        ["joined", "present", "type"],
        "{attendance}"
    );
    assert_eq!(attendance["present"], 6);
    // The host still sees attendance whole.
    let hosted = host
        .recv_where(|m| m["type"] == "attendance" && m["joined"] == 6)
        .await;
    assert_eq!(hosted["by_sector"]["Probation and justice"], 1, "{hosted}");

    command(
        &mut host,
        json!({"type": "close", "activity": "usefulness"}),
        4,
    )
    .await;
    let closed = host
        .recv_where(|m| m["type"] == "tally" && m["tally"].get("by_sector").is_some())
        .await;
    assert_eq!(closed["tally"]["total"], 6);
    let results = presenter
        .recv_where(|m| m["type"] == "results" && m["tally"]["total"] == 6)
        .await;
    assert!(results["tally"].get("by_sector").is_none(), "{results}");
    let (_p2, snapshot) = app.presenter(&created).await;
    assert_eq!(keys(&snapshot["attendance"]), ["joined", "present"]);
    let row = snapshot["activities"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["key"] == "usefulness"))
        .expect("row");
    assert!(row["tally"].get("by_sector").is_none(), "{row}");
    assert!(snapshot["focus"].is_string());
}

#[tokio::test]
async fn a_report_taken_while_live_never_shows_a_peak_below_what_was_seen() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    let mut phones = Vec::new();
    for _ in 0..3 {
        let (phone, _) = app
            .attendee(&created.code, json!({"organisation": "York Mind"}))
            .await;
        phones.push(phone);
    }
    host.recv_where(|m| m["type"] == "attendance" && m["present"] == 3)
        .await;
    // The peak goes to disk at the next tick, well within a minute's sample: poll the
    // report (within the usual wait) until it shows. A new attendee's row is written
    // behind its `welcome` (committed before any answer of theirs is acknowledged), so a
    // report taken at once may still count fewer attendees; never more.
    let url = format!("{}/api/events/{}/summary.json", app.base, created.code);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let summary = app.get_json(&url, Some(&created.host_token)).await;
        let headline = &summary["headline"];
        let attendees = headline["attendees"].as_u64().expect("attendees");
        assert!(attendees <= 3, "{headline}");
        if attendees == 3 && headline["peak_present"] == 3 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "3 attendees seen, the report's peak is {} of {attendees}",
            headline["peak_present"]
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
