//! More ways to take part, end to end over real sockets: a ranking and 100 points counted
//! exactly (live, closed by sector under the small-group rule, and in the report), bad values
//! refused naming what is wrong, and reactions counted for the host, rate limited, shown on
//! the presenter only when the host asks, and unable to hold up the room.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, fixture_2026};

const RANKING: &str = "commissioner-priorities";
const POINTS: &str = "network-budget";

/// Mean ranks, first choices and points of `rankings` and `points`, computed here from
/// scratch.
fn expected(rankings: &[Vec<u64>], points: &[Vec<u64>]) -> (Value, Value) {
    let n = rankings[0].len();
    let mut sums = vec![0u64; n];
    let mut first = vec![0u64; n];
    for order in rankings {
        for (pos, &o) in order.iter().enumerate() {
            sums[o as usize] += pos as u64 + 1;
        }
        first[order[0] as usize] += 1;
    }
    let total = rankings.len() as f64;
    let mean: Vec<f64> = sums.iter().map(|&s| s as f64 / total).collect();
    let m = points[0].len();
    let mut given = vec![0u64; m];
    for p in points {
        for (sum, n) in given.iter_mut().zip(p) {
            *sum += n;
        }
    }
    let all: u64 = given.iter().sum();
    let shares: Vec<f64> = given.iter().map(|&g| g as f64 / all as f64).collect();
    (
        json!({"total": rankings.len(), "first": first, "mean_rank": mean}),
        json!({"total": points.len(), "points": given, "shares": shares}),
    )
}

/// Without `by_sector`, for comparing a live tally.
fn plain(tally: &Value) -> Value {
    let mut tally = tally.clone();
    if let Some(map) = tally.as_object_mut() {
        map.remove("by_sector");
    }
    tally
}

async fn open(host: &mut Client, keys: &[&str]) {
    for (i, key) in keys.iter().enumerate() {
        let reply = host
            .command(json!({"type": "open", "activity": key}), 100 + i as u64)
            .await;
        assert_eq!(reply["type"], "ok", "{reply}");
    }
}

/// Waits until the host's latest tally of each key equals its `want` (tallies are coalesced,
/// and those of different activities arrive in any order).
async fn host_tallies_become(host: &mut Client, wants: &[(&str, &Value)]) {
    let mut latest: std::collections::BTreeMap<String, Value> = Default::default();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !wants
        .iter()
        .all(|(key, want)| latest.get(*key) == Some(*want))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(frame) = host.try_recv(left).await else {
            panic!("the host's tallies never became {wants:?}; last seen {latest:?}");
        };
        if frame["type"] == "tally"
            && let Some(key) = frame["activity"].as_str()
        {
            latest.insert(key.to_owned(), plain(&frame["tally"]));
        }
    }
}

#[tokio::test]
async fn rankings_and_points_are_counted_exactly_and_bad_values_are_refused_by_name() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, snapshot) = app.host(&created).await;
    let activity = snapshot["event"]["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .flat_map(|s| s["activities"].as_array().expect("activities"))
        .find(|a| a["key"] == POINTS)
        .expect("the points activity")
        .clone();
    assert_eq!(activity["budget"], 100);
    assert_eq!(activity["options"].as_array().map(Vec::len), Some(5));
    open(&mut host, &[RANKING, POINTS]).await;

    // Five from mental health, three from drug and alcohol, two police: the small groups
    // merge into "Other (small groups)" of five.
    let people = [
        ("York Mind", 5),
        ("Changing Lives", 3),
        ("North Yorkshire Police", 2),
    ];
    let mut phones = Vec::new();
    for (org, count) in people {
        for _ in 0..count {
            let (phone, _) = app
                .attendee(&created.code, json!({"organisation": org}))
                .await;
            phones.push(phone);
        }
    }
    // Everyone sends a first answer, then a changed one, without waiting between them: the
    // last one each sent is the one that counts.
    let mut rankings = Vec::new();
    let mut points = Vec::new();
    for (i, phone) in phones.iter_mut().enumerate() {
        let i = i as u64;
        let first_try = json!([0, 1, 2, 3, 4]);
        let order: Vec<u64> = (0..5).map(|p| (p + i) % 5).collect();
        let split: Vec<u64> = (0..5)
            .map(|o| match (o + i) % 5 {
                0 => 40,
                1 => 30,
                2 => 20,
                3 => 10,
                _ => 0,
            })
            .collect();
        for (id, key, value) in [
            (format!("r{i}a"), RANKING, first_try),
            (format!("r{i}b"), RANKING, json!(order)),
            (format!("p{i}a"), POINTS, json!([100, 0, 0, 0, 0])),
            (format!("p{i}b"), POINTS, json!(split)),
        ] {
            phone
                .send(&json!({"type": "answer", "id": id, "activity": key, "value": value}))
                .await;
        }
        rankings.push(order);
        points.push(split);
    }
    for (i, phone) in phones.iter_mut().enumerate() {
        for id in ["r{}a", "r{}b", "p{}a", "p{}b"] {
            let id = id.replace("{}", &i.to_string());
            let reply = phone.recv_where(|m| m["id"] == id.as_str()).await;
            assert_eq!(reply["type"], "ack", "{reply}");
        }
    }
    let (want_ranking, want_points) = expected(&rankings, &points);
    host_tallies_become(
        &mut host,
        &[(RANKING, &want_ranking), (POINTS, &want_points)],
    )
    .await;

    // Bad values: refused with invalid_value, the message naming what is wrong, and nothing
    // counted.
    let phone = &mut phones[0];
    for (value, says) in [
        (json!([0, 1, 1, 3, 4]), "option 1 is ranked twice"),
        (json!([0, 1, 2, 3]), "option 4 is missing"),
        (json!([0, 1, 2, 3, 9]), "option 9 does not exist"),
        (json!("first"), "array of every option index"),
    ] {
        let reply = phone.answer("bad-r", RANKING, value.clone()).await;
        assert_eq!(reply["code"], "invalid_value", "{value}: {reply}");
        assert!(
            reply["message"].as_str().unwrap_or("").contains(says),
            "{value}: {reply}"
        );
    }
    for (value, says) in [
        (json!([60, 50, 0, 0, 0]), "over the budget of 100"),
        (json!([60, 30, 0, 0, 0]), "spend all 100 points"),
        (json!([110, -10, 0, 0, 0]), "over the budget"),
        (json!([50, 60, -10, 0, 0]), "cannot be negative"),
        (json!([50.5, 49.5, 0, 0, 0]), "whole numbers"),
        (json!([50, 50, 0, 0]), "option 4 is missing"),
        (json!([50, 50, 0, 0, 0, 0]), "option 5 does not exist"),
    ] {
        let reply = phone.answer("bad-p", POINTS, value.clone()).await;
        assert_eq!(reply["code"], "invalid_value", "{value}: {reply}");
        assert!(
            reply["message"].as_str().unwrap_or("").contains(says),
            "{value}: {reply}"
        );
    }

    // Closed: the host's tallies carry a breakdown by sector under the small-group rule.
    for (i, key) in [RANKING, POINTS].iter().enumerate() {
        let reply = host
            .command(json!({"type": "close", "activity": key}), 200 + i as u64)
            .await;
        assert_eq!(reply["type"], "ok", "{reply}");
    }
    let closed = host
        .recv_where(|m| {
            m["type"] == "tally" && m["activity"] == RANKING && m["tally"]["by_sector"].is_object()
        })
        .await;
    let groups = &closed["tally"]["by_sector"];
    let names: Vec<&String> = groups.as_object().expect("groups").keys().collect();
    assert_eq!(names, ["Mental health", "Other (small groups)"], "{groups}");
    let (mental_health, _) = expected(&rankings[..5], &points[..5]);
    assert_eq!(groups["Mental health"], mental_health);
    let (other, _) = expected(&rankings[5..], &points[5..]);
    assert_eq!(groups["Other (small groups)"], other);
    let closed = host
        .recv_where(|m| {
            m["type"] == "tally" && m["activity"] == POINTS && m["tally"]["by_sector"].is_object()
        })
        .await;
    let (_, other) = expected(&rankings[5..], &points[5..]);
    assert_eq!(closed["tally"]["by_sector"]["Other (small groups)"], other);

    // The report counts the same answers the same way, and its CSV writes them out.
    let summary = app
        .get_json(
            format!("{}/api/events/{}/summary.json", app.base, created.code),
            Some(&created.host_token),
        )
        .await;
    let find = |key: &str| {
        summary["activities"]
            .as_array()
            .expect("activities")
            .iter()
            .find(|a| a["key"] == key)
            .expect("activity")
            .clone()
    };
    let ranking = find(RANKING);
    assert_eq!(ranking["result"]["kind"], "ranking");
    assert_eq!(ranking["result"]["first"], want_ranking["first"]);
    assert_eq!(ranking["result"]["mean_rank"], want_ranking["mean_rank"]);
    let groups: Vec<&str> = ranking["by_sector"]
        .as_array()
        .expect("by sector")
        .iter()
        .map(|g| g["group"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(groups, ["Mental health", "Other (small groups)"]);
    let budget = find(POINTS);
    assert_eq!(budget["result"]["points"], want_points["points"]);
    assert_eq!(budget["result"]["budget"], 100);
    let csv = app
        .http
        .get(format!(
            "{}/api/events/{}/answers.csv",
            app.base, created.code
        ))
        .bearer_auth(&created.host_token)
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("text");
    let first_option = activity["options"][0].as_str().expect("option");
    let ranking_rows: Vec<&str> = csv.lines().filter(|l| l.contains(RANKING)).collect();
    assert_eq!(ranking_rows.len(), 10, "{csv}");
    assert!(
        ranking_rows
            .iter()
            .all(|row| row.contains("1. ") && row.contains("; 5. ")),
        "{csv}"
    );
    let points_rows: Vec<&str> = csv.lines().filter(|l| l.contains(POINTS)).collect();
    assert_eq!(points_rows.len(), 10, "{csv}");
    assert!(
        points_rows
            .iter()
            .all(|row| row.contains(&format!("{first_option}: "))),
        "{csv}"
    );
    // The police pair never shows by name: their rows say "Other (small groups)".
    assert!(!csv.contains("North Yorkshire Police"), "{csv}");
}

async fn reactions_frame(client: &mut Client) -> Value {
    client.recv_type("reactions").await
}

#[tokio::test]
async fn reactions_reach_the_host_rate_limited_and_the_presenter_only_when_shown() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    let first = reactions_frame(&mut host).await;
    assert_eq!(first["shown"], false);
    assert_eq!(first["window"], 60);
    assert_eq!(
        first["counts"],
        json!({"agree": 0, "not_sure": 0, "slow_down": 0, "need_a_break": 0, "cant_hear": 0, "thanks": 0})
    );
    let (mut presenter, _) = app.presenter(&created).await;
    let (mut phone, welcome) = app
        .attendee(&created.code, json!({"organisation": "York Mind"}))
        .await;
    assert_eq!(
        welcome["event"]["reactions"],
        json!([
            "agree",
            "not_sure",
            "slow_down",
            "need_a_break",
            "cant_hear",
            "thanks"
        ])
    );
    let (mut other, _) = app.attendee(&created.code, json!({})).await;

    phone
        .send(&json!({"type": "react", "id": "x1", "reaction": "slow_down"}))
        .await;
    assert_eq!(phone.recv_where(|m| m["id"] == "x1").await["type"], "ack");
    phone
        .send(&json!({"type": "react", "id": "x2", "reaction": "slow_down"}))
        .await;
    let again = phone.recv_where(|m| m["id"] == "x2").await;
    assert_eq!(again["code"], "rate_limited", "{again}");
    phone
        .send(&json!({"type": "react", "id": "x3", "reaction": "boo"}))
        .await;
    let unknown = phone.recv_where(|m| m["id"] == "x3").await;
    assert_eq!(unknown["code"], "invalid_value", "{unknown}");
    assert!(
        unknown["message"]
            .as_str()
            .unwrap_or("")
            .contains("slow_down"),
        "{unknown}"
    );
    // Without an id, nothing comes back; the reaction still counts.
    other
        .send(&json!({"type": "react", "reaction": "slow_down"}))
        .await;
    other
        .send(&json!({"type": "react", "id": "y1", "reaction": "agree"}))
        .await;
    assert_eq!(other.recv_where(|m| m["id"] == "y1").await["type"], "ack");

    let seen = host
        .recv_where(|m| {
            m["type"] == "reactions" && m["counts"]["slow_down"] == 2 && m["counts"]["agree"] == 1
        })
        .await;
    assert_eq!(seen["shown"], false);
    // Hidden: the presenter gets none of it.
    assert!(
        presenter
            .drain(Duration::from_millis(700))
            .await
            .iter()
            .all(|m| m["type"] != "reactions"),
        "the presenter got reactions before the host showed them"
    );

    let ok = host
        .command(json!({"type": "show_reactions", "show": true}), 1)
        .await;
    assert_eq!(ok["type"], "ok", "{ok}");
    let shown = presenter.recv_type("reactions").await;
    assert_eq!(shown["shown"], true);
    assert_eq!(shown["counts"]["slow_down"], 2);
    phone
        .send(&json!({"type": "react", "id": "x4", "reaction": "need_a_break"}))
        .await;
    assert_eq!(phone.recv_where(|m| m["id"] == "x4").await["type"], "ack");
    let moved = presenter
        .recv_where(|m| m["type"] == "reactions" && m["counts"]["need_a_break"] == 1)
        .await;
    assert_eq!(moved["shown"], true);
    // A presenter that connects now gets the reactions straight away.
    let (mut late, _) = app.presenter(&created).await;
    assert_eq!(late.recv_type("reactions").await["shown"], true);

    let ok = host
        .command(json!({"type": "show_reactions", "show": false}), 2)
        .await;
    assert_eq!(ok["type"], "ok", "{ok}");
    let hidden = presenter
        .recv_where(|m| m["type"] == "reactions" && m["shown"] == false)
        .await;
    assert_eq!(hidden["counts"], json!({}));
    // The presenter's socket is read-only.
    let refused = presenter
        .command(json!({"type": "show_reactions", "show": true}), 3)
        .await;
    assert_eq!(refused["code"], "unauthorized", "{refused}");
}

#[tokio::test]
async fn one_attendee_flooding_reactions_moves_a_count_by_one_and_holds_up_nobody() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    reactions_frame(&mut host).await;
    open(&mut host, &[RANKING]).await;
    let (mut flooder, _) = app.attendee(&created.code, json!({})).await;
    let (mut answerer, _) = app.attendee(&created.code, json!({})).await;

    // 150 reactions as fast as the socket takes them, every kind.
    let kinds = ["agree", "slow_down", "need_a_break", "cant_hear"];
    for i in 0..150 {
        flooder
            .send(&json!({"type": "react", "id": format!("f{i}"), "reaction": kinds[i % kinds.len()]}))
            .await;
    }
    // Someone else's answer meanwhile is stored and acknowledged promptly.
    let started = Instant::now();
    let reply = answerer.answer("a1", RANKING, json!([4, 3, 2, 1, 0])).await;
    assert_eq!(reply["type"], "ack", "{reply}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "an answer waited {:?} behind a flood of reactions",
        started.elapsed()
    );

    // The flooder: each kind counted once, everything else refused.
    let mut acked = 0;
    let mut limited = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while acked + limited < 150 && Instant::now() < deadline {
        match flooder.try_recv(Duration::from_secs(2)).await {
            Some(m) if m["type"] == "ack" => acked += 1,
            Some(m) if m["type"] == "error" => {
                assert_eq!(m["code"], "rate_limited", "{m}");
                limited += 1;
            }
            Some(_) => {}
            None => break,
        }
    }
    assert_eq!(acked, kinds.len(), "one of each kind counts");
    assert_eq!(limited, 150 - kinds.len());

    // The host sees each count move by one, in a handful of coalesced frames.
    let frames: Vec<Value> = host
        .drain(Duration::from_millis(1500))
        .await
        .into_iter()
        .filter(|m| m["type"] == "reactions")
        .collect();
    let last = frames.last().expect("a reactions frame");
    for kind in kinds {
        assert_eq!(last["counts"][kind], 1, "{last}");
    }
    assert!(
        frames.len() <= 4,
        "{} reactions frames for one burst",
        frames.len()
    );
}
