//! Reports end to end: from answers sent over real sockets to the documents served to the
//! host and written by `joinup report`, purge, retention, and last year beside this year.

use serde_json::{Value, json};

use crate::helpers::{Db, ORGANISER_KEY, TestApp, fixture_2025, fixture_2026, temp_database};

fn activity<'a>(summary: &'a Value, key: &str) -> &'a Value {
    summary["activities"]
        .as_array()
        .expect("activities")
        .iter()
        .find(|a| a["key"] == key)
        .expect("activity")
}

/// Twelve attendees from three sectors answer `usefulness` and `role`; the host ends the event.
async fn run_small_event(app: &TestApp, created: &crate::helpers::Created) -> Vec<i64> {
    let (mut host, _) = app.host(created).await;
    for (i, key) in ["usefulness", "role", "concern"].iter().enumerate() {
        assert_eq!(
            host.command(json!({"type": "open", "activity": key}), i as u64)
                .await["type"],
            "ok"
        );
    }
    let people = [
        ("York Mind", 5),
        ("Changing Lives", 5),
        ("North Yorkshire Police", 2),
    ];
    let mut values = Vec::new();
    let mut n = 0;
    for (org, count) in people {
        for _ in 0..count {
            n += 1;
            let (mut phone, _) = app
                .attendee(&created.code, json!({"organisation": org}))
                .await;
            let value = 1 + (n % 5);
            assert_eq!(
                phone
                    .answer(&format!("u{n}"), "usefulness", json!(value))
                    .await["type"],
                "ack"
            );
            assert_eq!(
                phone.answer(&format!("r{n}"), "role", json!([n % 2])).await["type"],
                "ack"
            );
            values.push(value);
        }
    }
    assert_eq!(host.command(json!({"type": "end"}), 99).await["type"], "ok");
    values
}

#[tokio::test]
async fn the_host_downloads_every_document_and_the_figures_match_the_answers() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let values = run_small_event(&app, &created).await;
    let url = |name: &str| format!("{}/api/events/{}/{name}", app.base, created.code);

    let denied = app
        .http
        .get(url("summary.json"))
        .bearer_auth(&created.presenter_token)
        .send()
        .await
        .expect("request");
    assert_eq!(denied.status().as_u16(), 401);

    let summary: Value = app
        .get_json(url("summary.json"), Some(&created.host_token))
        .await;
    assert!(summary["version"].is_number());
    assert_eq!(summary["headline"]["attendees"], 12);
    let usefulness = activity(&summary, "usefulness");
    assert_eq!(usefulness["respondents"], 12);
    let mut counts = vec![0u64; 5];
    for v in &values {
        counts[(v - 1) as usize] += 1;
    }
    assert_eq!(usefulness["result"]["counts"], json!(counts));
    let mean = values.iter().sum::<i64>() as f64 / values.len() as f64;
    assert!((usefulness["result"]["mean"].as_f64().expect("mean") - mean).abs() < 1e-9);
    // Police (2) is under k = 5: it never appears alone in a breakdown.
    let groups: Vec<&str> = usefulness["by_sector"]
        .as_array()
        .expect("by_sector")
        .iter()
        .filter_map(|g| g["group"].as_str())
        .collect();
    assert!(!groups.contains(&"Police"), "{groups:?}");
    let total: u64 = usefulness["by_sector"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["total"].as_u64().unwrap_or(0))
        .sum();
    assert!(
        total == 12 || groups.is_empty(),
        "the groups shown add up to the whole"
    );

    let csv = app
        .http
        .get(url("answers.csv"))
        .bearer_auth(&created.host_token)
        .send()
        .await
        .expect("request");
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    let csv = csv.text().await.expect("text");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("session,room,activity,kind,value,organisation,sector")
    );
    assert_eq!(lines.count(), 24, "one row per current answer");
    assert!(
        !csv.contains("North Yorkshire Police"),
        "a group of two is never named in the CSV"
    );

    let pdf = app
        .http
        .get(url("report.pdf"))
        .bearer_auth(&created.host_token)
        .send()
        .await
        .expect("request");
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.expect("bytes").starts_with(b"%PDF"));
    let html = app
        .http
        .get(url("report.html"))
        .bearer_auth(&created.host_token)
        .send()
        .await
        .expect("request");
    let html = html.text().await.expect("text");
    assert!(html.contains("Dual Diagnosis Network Annual Conference 2026"));
    assert!(
        !html.contains("http://") && !html.contains("https://") || !html.contains("<script src"),
        "self-contained"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_purge_and_retention_from_the_command_line() {
    let (_dir, database) = temp_database();
    let app = TestApp::spawn_on(database.clone()).await;
    let created = app.create_event(&fixture_2026()).await;
    let live = app.create_event(&fixture_2026()).await;
    run_small_event(&app, &created).await;
    drop(app);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let joinup = env!("CARGO_BIN_EXE_joinup-under-test");
    let out = tempfile::tempdir().expect("out dir");
    let status = std::process::Command::new(joinup)
        .args(["report", &created.code, "--out"])
        .arg(out.path())
        .args(["--database", &database])
        .status()
        .expect("joinup report");
    assert!(status.success());
    for name in ["report.html", "report.pdf", "answers.csv", "summary.json"] {
        let len = std::fs::metadata(out.path().join(name)).expect(name).len();
        assert!(len > 50, "{name} has content");
    }

    // Bad input: exit 2 and one line naming what is wrong.
    for (args, words) in [
        (
            vec!["report", "NOPE", "--out", "/tmp/x"],
            "not an event code",
        ),
        (vec!["report", "ZZZZZZ", "--out", "/tmp/x"], "no event"),
        (vec!["purge", live.code.as_str()], "still live"),
    ] {
        let output = std::process::Command::new(joinup)
            .args(&args)
            .args(["--database", &database])
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(words), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }

    let output = std::process::Command::new(joinup)
        .args(["purge", &created.code, "--database", &database])
        .output()
        .expect("purge");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut db = Db::connect(&database).await;
    for table in ["answers", "attendees", "receipts"] {
        let n = db.count(table, &created.code).await;
        assert_eq!(n, 0, "{table} purged");
    }
    let status = std::process::Command::new(joinup)
        .args(["report", &created.code, "--out"])
        .arg(out.path())
        .args(["--database", &database])
        .status()
        .expect("joinup report");
    assert!(status.success());
    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("summary.json")).expect("summary"))
            .expect("json");
    assert_eq!(summary["purged"], true);
    assert_eq!(
        summary["headline"]["attendees"], 12,
        "the aggregates survive the purge"
    );
    let csv = std::fs::read_to_string(out.path().join("answers.csv")).expect("csv");
    assert_eq!(
        csv.trim(),
        "session,room,activity,kind,value,organisation,sector"
    );
    let html = std::fs::read_to_string(out.path().join("report.html")).expect("html");
    assert!(
        html.contains("aggregates"),
        "the report says it was built from kept aggregates"
    );

    // Retention: a server told to keep ended events for 0 days purges them at start.
    let app = TestApp::spawn_on(database.clone()).await;
    let second = app.create_event(&fixture_2026()).await;
    run_small_event(&app, &second).await;
    drop(app);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut server = tokio::process::Command::new(joinup)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--database",
            &database,
            "--retention-days",
            "0",
        ])
        .env("JOINUP_ORGANISER_KEY", ORGANISER_KEY)
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("serve");
    let mut purged = false;
    for _ in 0..100 {
        let n = db.count("answers", &second.code).await;
        if n == 0 {
            purged = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = server.kill().await;
    assert!(purged, "retention purged the ended event");
}

#[tokio::test]
async fn this_year_is_reported_beside_last_year() {
    let app = TestApp::spawn().await;
    let last = app.create_event(&fixture_2025()).await;
    run_small_event(&app, &last).await;
    let this = app.create_event(&fixture_2026()).await;
    run_small_event(&app, &this).await;
    let summary: Value = app
        .get_json(
            format!("{}/api/events/{}/summary.json", app.base, this.code),
            Some(&this.host_token),
        )
        .await;
    assert!(
        summary["comparison"].is_object(),
        "{}",
        summary["comparison"]
    );
    let last_summary: Value = app
        .get_json(
            format!("{}/api/events/{}/summary.json", app.base, last.code),
            Some(&last.host_token),
        )
        .await;
    assert!(
        last_summary["comparison"].is_null(),
        "the first edition has nothing to compare with"
    );
}

/// The host renames and merges the report's themes over HTTP; the report applies the names,
/// shows no theme under the small-group size, and bad names or other tokens are refused.
#[tokio::test]
async fn the_host_renames_and_merges_themes_before_the_report_is_final() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    assert_eq!(
        host.command(json!({"type": "open", "activity": "concern"}), 1)
            .await["type"],
        "ok"
    );
    // Six about funding, five about waiting, one about housing: k = 5.
    let texts = [
        ("Recurrent funding for peer workers", 6),
        ("Waiting lists are far too long", 5),
        ("Nobody can find a housing place", 1),
    ];
    let mut n = 0;
    let mut phones = Vec::new();
    for (text, count) in texts {
        for _ in 0..count {
            n += 1;
            let (mut phone, _) = app.attendee(&created.code, json!({})).await;
            let said = format!("{text} ({n})");
            let ack = phone.answer(&format!("t{n}"), "concern", json!(said)).await;
            assert_eq!(ack["type"], "ack");
            // The host also hears of each approval: wait for this text itself.
            let id = loop {
                let t = host.recv_type("text").await;
                if t["text"] == said.as_str() {
                    break t["id"].clone();
                }
            };
            let approve =
                json!({"type": "moderate", "item": "text", "target": id, "action": "approve"});
            assert_eq!(host.command(approve, 10 + n).await["type"], "ok");
            phones.push(phone);
        }
    }
    let url = format!("{}/api/events/{}/themes", app.base, created.code);
    let put = |token: &str, body: Value| {
        app.http
            .put(&url)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .json(&body)
            .send()
    };
    // The presenter may not; an unknown theme and a blank name are refused, naming them.
    let denied = put(
        &created.presenter_token,
        json!({"names": {"funding": "Money"}}),
    )
    .await
    .expect("request");
    assert_eq!(denied.status().as_u16(), 401);
    for (body, path) in [
        (json!({"names": {"weather": "Rain"}}), "names.weather"),
        (json!({"names": {"funding": "  "}}), "names.funding"),
        (json!({"names": ["funding"]}), "names"),
    ] {
        let refused = put(&created.host_token, body).await.expect("request");
        assert_eq!(refused.status().as_u16(), 400);
        let error: Value = refused.json().await.expect("json");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(path)),
            "{error}"
        );
    }
    let before: Value = app.get_json(url.clone(), Some(&created.host_token)).await;
    let set = before["sets"]
        .as_array()
        .expect("sets")
        .iter()
        .find(|s| s["source"] == "concern")
        .expect("concern");
    // Housing (1) is under k = 5: merged with waiting (5) into "Other (small groups)".
    assert_eq!(set["themes"][0]["name"], "Funding and commissioning");
    assert_eq!(set["themes"][0]["count"], 6);
    assert_eq!(set["themes"][1]["name"], "Other (small groups)", "{set}");
    assert_eq!(set["themes"][1]["count"], 6);
    // The host merges housing into waiting under one name, and renames funding.
    let renamed = put(
        &created.host_token,
        json!({"names": {"access": "Getting a service", "housing": "Getting a service",
                         "funding": "Money"}}),
    )
    .await
    .expect("request");
    assert_eq!(renamed.status().as_u16(), 200);
    let after: Value = renamed.json().await.expect("json");
    let theme = |id: &str| {
        after["themes"]
            .as_array()
            .expect("themes")
            .iter()
            .find(|t| t["id"] == id)
            .expect("theme")
            .clone()
    };
    assert_eq!(theme("funding")["name"], "Money");
    assert_eq!(
        theme("funding")["default_name"],
        "Funding and commissioning"
    );
    let summary: Value = app
        .get_json(
            format!("{}/api/events/{}/summary.json", app.base, created.code),
            Some(&created.host_token),
        )
        .await;
    let set = summary["themes"]
        .as_array()
        .expect("themes")
        .iter()
        .find(|s| s["source"] == "concern")
        .expect("concern");
    let shown: Vec<(String, u64)> = set["themes"]
        .as_array()
        .expect("themes")
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_owned(),
                t["count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![("Getting a service".to_owned(), 6), ("Money".to_owned(), 6)]
    );
    let html = app
        .http
        .get(format!(
            "{}/api/events/{}/report.html",
            app.base, created.code
        ))
        .bearer_auth(&created.host_token)
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("html");
    assert!(html.contains("Getting a service (6)"));
    drop(phones);
}
