//! A whole conference in miniature: 200 attendees from many organisations answer every kind
//! of activity, change their answers, drop and reconnect, and resend. The host's live
//! tallies and attendance must equal the ground truth this test computes on its own.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Attendance, Client, Person, Rng, TestApp, fixture_2026, tally};

const ATTENDEES: usize = 200;

fn activities_for(room: Option<&str>) -> Vec<&'static str> {
    let mut keys = vec![
        "role",
        "pre-prescribing",
        "pre-trauma",
        "barrier-word",
        "barriers",
        "concern",
        "pledge",
        "post-prescribing",
        "post-trauma",
        "usefulness",
        "next-year",
    ];
    match room {
        Some("Room A") => keys.push("partnership-priority"),
        Some("Room B") => keys.push("connected-word"),
        _ => {}
    }
    keys
}

fn value_for(key: &str, rng: &mut Rng) -> Value {
    match key {
        "role" => json!([rng.below(6)]),
        "partnership-priority" => json!([rng.below(5)]),
        "barriers" => {
            let mut chosen = BTreeSet::new();
            for _ in 0..=rng.below(3) {
                chosen.insert(rng.below(6));
            }
            json!(chosen.into_iter().collect::<Vec<_>>())
        }
        "pre-prescribing" | "pre-trauma" | "post-prescribing" | "post-trauma" | "usefulness" => {
            json!(1 + rng.below(5))
        }
        "barrier-word" => {
            let n = 1 + rng.below(3) as usize;
            json!((0..n).map(|_| rng.typed_word()).collect::<Vec<_>>())
        }
        "connected-word" => json!([rng.typed_word()]),
        "concern" | "next-year" => json!(format!("answer {}", rng.next() % 1000)),
        "pledge" => json!(true),
        other => panic!("no value for {other}"),
    }
}

async fn ack(client: &mut Client, id: &str, key: &str, value: &Value) {
    let reply = client.answer(id, key, value.clone()).await;
    assert_eq!(reply["type"], "ack", "{id} {key} {value}: {reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_attendees_tallies_and_attendance_equal_the_ground_truth() {
    let app = TestApp::spawn().await;
    let spec = fixture_2026();
    let created = app.create_event(&spec).await;
    let (mut host, _) = app.host(&created).await;
    let mut all_keys: Vec<&'static str> = activities_for(None);
    all_keys.extend(["partnership-priority", "connected-word"]);
    for (i, key) in all_keys.iter().enumerate() {
        let reply = host
            .command(json!({"type": "open", "activity": key}), i as u64)
            .await;
        assert_eq!(reply["type"], "ok");
    }

    // The host's view, kept current in the background: the newest tally per activity and
    // the newest attendance.
    let (seen_tx, seen_rx) =
        tokio::sync::watch::channel((HashMap::<String, Value>::new(), Value::Null));
    let watcher = tokio::spawn(async move {
        loop {
            let Some(message) = host.try_recv(Duration::from_secs(60)).await else {
                break;
            };
            seen_tx.send_modify(|(tallies, attendance)| match message["type"].as_str() {
                Some("tally") => {
                    tallies.insert(
                        message["activity"].as_str().unwrap_or_default().to_owned(),
                        message["tally"].clone(),
                    );
                }
                Some("attendance") => *attendance = message.clone(),
                _ => {}
            });
        }
    });

    let organisations: Vec<(String, String)> = spec["organisations"]
        .as_array()
        .expect("organisations")
        .iter()
        .take(14)
        .map(|o| {
            (
                o["name"].as_str().unwrap_or_default().to_owned(),
                o["sector"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();

    let mut tasks = Vec::new();
    for i in 0..ATTENDEES {
        let app_code = created.code.clone();
        let url = app.ws_url(&format!("/ws/e/{app_code}"));
        // Every tenth attendee types an organisation that is not on the list, spaced
        // carelessly; the others type a listed one in lower case.
        let (typed, organisation, sector) = if i % 10 == 9 {
            let typed = if i % 20 == 9 {
                "  Selby   Recovery Café "
            } else {
                "Selby Recovery Café"
            };
            (
                typed.to_owned(),
                "Selby Recovery Café".to_owned(),
                "Third sector".to_owned(),
            )
        } else {
            let (name, sector) = organisations[i % organisations.len()].clone();
            (name.to_lowercase(), name, sector)
        };
        let room = match i % 3 {
            0 => Some("Room A"),
            1 => Some("Room B"),
            _ => None,
        };
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::seeded(i as u64);
            let mut client = Client::connect(&url).await;
            let mut hello = json!({"type": "hello", "attendee": null, "organisation": typed, "room": room});
            if i % 10 == 9 {
                hello["sector"] = json!("third sector");
            }
            client.send(&hello).await;
            let welcome = client.recv_type("welcome").await;
            let token = welcome["attendee"].as_str().expect("token").to_owned();
            let mut person = Person {
                organisation: Some(organisation),
                sector: Some(sector),
                answers: BTreeMap::new(),
            };
            let mut first_ids: HashMap<&str, String> = HashMap::new();
            for key in activities_for(room) {
                let value = value_for(key, &mut rng);
                let id = format!("{i}-{key}-1");
                ack(&mut client, &id, key, &value).await;
                first_ids.insert(key, id);
                person.answers.insert(key.to_owned(), value);
            }
            // Change some answers: the tally moves, it never adds.
            for key in ["role", "barrier-word", "usefulness", "barriers"] {
                if rng.below(2) == 0 {
                    let value = value_for(key, &mut rng);
                    ack(&mut client, &format!("{i}-{key}-2"), key, &value).await;
                    person.answers.insert(key.to_owned(), value);
                }
            }
            // Some send the same message several times without waiting, as a flaky phone does.
            if i % 7 == 0 {
                let value = value_for("pre-trauma", &mut rng);
                let frame = json!({"type": "answer", "id": format!("{i}-burst"), "activity": "pre-trauma", "value": value});
                for _ in 0..3 {
                    client.send(&frame).await;
                }
                for _ in 0..3 {
                    client.recv_where(|m| m["type"] == "ack" && m["id"] == frame["id"]).await;
                }
                person.answers.insert("pre-trauma".to_owned(), value);
            }
            // A quarter drop the connection, come back with their token, resend an old
            // message (which must change nothing) and answer again.
            if i % 4 == 0 {
                client.close().await;
                let mut again = Client::connect(&url).await;
                again.send(&json!({"type": "hello", "attendee": token})).await;
                let welcome = again.recv_type("welcome").await;
                assert_eq!(welcome["attendee"], token.as_str());
                let stale = value_for("role", &mut rng);
                ack(&mut again, &first_ids["role"], "role", &stale).await;
                let value = value_for("usefulness", &mut rng);
                ack(&mut again, &format!("{i}-usefulness-3"), "usefulness", &value).await;
                person.answers.insert("usefulness".to_owned(), value);
                client = again;
            }
            (person, client)
        }));
    }
    let mut people = Vec::new();
    let mut clients = Vec::new();
    for task in tasks {
        let (person, client) = task.await.expect("attendee task");
        people.push(person);
        clients.push(client);
    }

    let everyone: Vec<&Person> = people.iter().collect();
    let mut expected: HashMap<String, Value> = HashMap::new();
    for key in &all_keys {
        expected.insert((*key).to_owned(), tally(&spec, key, &everyone));
    }
    let expected_attendance = Attendance::all_present(&everyone);
    let mut rx = seen_rx.clone();
    let converged = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            {
                let (tallies, attendance) = &*rx.borrow_and_update();
                let tallies_match = all_keys.iter().all(|k| tallies.get(*k) == expected.get(*k));
                if tallies_match && expected_attendance.matches(attendance) {
                    return;
                }
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    })
    .await;
    if converged.is_err() {
        let (tallies, attendance) = &*seen_rx.borrow();
        for key in &all_keys {
            assert_eq!(
                tallies.get(*key),
                expected.get(*key),
                "host tally for {key}"
            );
        }
        panic!("attendance did not converge: got {attendance}, expected {expected_attendance:?}");
    }
    assert!(
        expected_attendance.by_organisation.len() >= 10,
        "at least 10 organisations took part"
    );

    // A host that connects now sees the same committed truth in its snapshot.
    let (_late_host, snapshot) = app.host(&created).await;
    for row in snapshot["activities"].as_array().expect("rows") {
        let key = row["key"].as_str().expect("key");
        if let Some(tally) = expected.get(key) {
            assert_eq!(&row["tally"], tally, "snapshot tally for {key}");
        }
    }
    assert_eq!(snapshot["attendance"]["joined"], ATTENDEES);
    watcher.abort();
    drop(clients);
}
