//! The organiser's API over real HTTP: the cookie session, the list of events, a spec
//! exported, updated (with If-Match), copied, rehearsed and reset; every refused edit.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, IF_MATCH, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};

use crate::helpers::{
    Closed, ORGANISER_KEY, TestApp, fixture_2025, fixture_2026, joinup, printed_code, status_json,
};

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let request = app
        .http
        .post(format!("{}{path}", app.base))
        .bearer_auth(ORGANISER_KEY)
        .json(&body);
    status_json(request).await
}

#[tokio::test]
async fn the_organiser_key_is_exchanged_once_for_a_strict_http_only_session() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let sign_in = |key: &str| {
        app.http
            .post(format!("{}/api/organiser/session", app.base))
            .header(ORIGIN, app.base.as_str())
            .json(&json!({ "key": key }))
            .send()
    };
    let wrong = sign_in("not-the-key").await.expect("sign in");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(SET_COOKIE).is_none());

    let right = sign_in(ORGANISER_KEY).await.expect("sign in");
    assert_eq!(right.status(), StatusCode::OK);
    let set_cookie = right
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("a cookie")
        .to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Max-Age=43200", "Path=/"] {
        assert!(set_cookie.contains(part), "{part} in {set_cookie}");
    }
    assert!(
        !set_cookie.contains(ORGANISER_KEY),
        "the key is not the cookie"
    );
    let cookie = set_cookie.split(';').next().expect("name=value").to_owned();

    // The session reads the list of events...
    let list = app
        .http
        .get(format!("{}/api/events", app.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("list");
    assert_eq!(list.status(), StatusCode::OK);
    let list: Value = list.json().await.expect("json");
    let row = &list["events"][0];
    assert_eq!(row["code"], created.code.as_str());
    assert_eq!(
        row["title"],
        "Dual Diagnosis Network Annual Conference 2026"
    );
    assert_eq!(row["state"], "live");
    assert_eq!(row["rehearsal"], false);
    assert_eq!(row["joined"], 0);
    assert_eq!(
        row["reports"]["pdf"],
        format!("/api/events/{}/report.pdf", created.code)
    );
    // ... and a report, as the organiser.
    let report = app
        .http
        .get(format!(
            "{}/api/events/{}/summary.json",
            app.base, created.code
        ))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("report");
    assert_eq!(report.status(), StatusCode::OK);

    // A change made with the cookie needs this server's Origin: a forged request from
    // another site (or one that names none) is refused.
    let (spec, etag) = app.export_text(&created.code).await;
    for origin in [None, Some("https://evil.example")] {
        let mut request = app
            .http
            .put(format!("{}/api/events/{}/spec", app.base, created.code))
            .header(COOKIE, &cookie)
            .header(IF_MATCH, &etag)
            .body(spec.clone());
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        let refused = request.send().await.expect("PUT");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "origin {origin:?}");
    }
    let allowed = app
        .http
        .put(format!("{}/api/events/{}/spec", app.base, created.code))
        .header(COOKIE, &cookie)
        .header(ORIGIN, app.base.as_str())
        .header(IF_MATCH, &etag)
        .body(spec.clone())
        .send()
        .await
        .expect("PUT");
    assert_eq!(allowed.status(), StatusCode::OK);

    // Without a session or the key: 401. After signing out the cookie is worthless.
    let anonymous = app
        .http
        .get(format!("{}/api/events", app.base))
        .send()
        .await
        .expect("list");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let out = app
        .http
        .delete(format!("{}/api/organiser/session", app.base))
        .header(COOKIE, &cookie)
        .header(ORIGIN, app.base.as_str())
        .send()
        .await
        .expect("sign out");
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let after = app
        .http
        .get(format!("{}/api/events", app.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("list");
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_spec_exported_and_imported_again_is_the_same_spec() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (spec, etag) = app.export_text(&created.code).await;
    let value: Value = serde_json::from_str(&spec).expect("JSON");
    let (status, body) = app.put_spec(&created.code, Some(&etag), &value).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["changed"], false);
    assert_eq!(body["etag"], etag.as_str());
    let (again, etag_again) = app.export_text(&created.code).await;
    assert_eq!(again, spec);
    assert_eq!(etag_again, etag);
}

#[tokio::test]
async fn concurrent_edits_never_overwrite_each_other_silently() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (spec, etag) = app.export(&created.code).await;

    // No If-Match: refused, 428.
    let (status, body) = app.put_spec(&created.code, None, &spec).await;
    assert_eq!(status, 428, "{body}");
    assert_eq!(body["error"], "precondition_required");

    // Two organisers read the same version; the first change lands...
    let mut first = spec.clone();
    first["title"] = json!("Dual Diagnosis Network Conference 2026");
    let (status, body) = app.put_spec(&created.code, Some(&etag), &first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["changed"], true);
    let new_etag = body["etag"].as_str().expect("etag").to_owned();
    assert_ne!(new_etag, etag);

    // ... the second, made on the version they read, is refused with the current tag.
    let mut second = spec.clone();
    second["sessions"][0]["title"] = json!("Welcome and introductions");
    let (status, body) = app.put_spec(&created.code, Some(&etag), &second).await;
    assert_eq!(status, 412, "{body}");
    assert_eq!(body["error"], "stale");
    assert_eq!(body["etag"], new_etag.as_str());
    let (stored, _) = app.export(&created.code).await;
    assert_eq!(stored["title"], "Dual Diagnosis Network Conference 2026");
    assert_ne!(stored["sessions"][0]["title"], "Welcome and introductions");

    // The public facts follow the stored spec.
    let facts = app.facts(&created.code).await;
    assert_eq!(facts["title"], "Dual Diagnosis Network Conference 2026");
}

#[tokio::test]
async fn edits_that_would_misread_stored_answers_are_refused_saying_why() {
    let app = TestApp::spawn().await;
    let (created, _host) = app.open_event(&["role", "pre-prescribing"]).await;
    let (mut phone, _) = app
        .attendee(&created.code, json!({"organisation": "York Mind"}))
        .await;
    assert_eq!(phone.answer("a1", "role", json!([1])).await["type"], "ack");
    assert_eq!(
        phone.answer("a2", "pre-prescribing", json!(4)).await["type"],
        "ack"
    );
    let (spec, etag) = app.export(&created.code).await;

    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "an option removed",
            Box::new(|s| {
                s["sessions"][0]["activities"][0]["options"]
                    .as_array_mut()
                    .expect("options")
                    .pop();
            }),
            "sessions[0].activities[0].options",
        ),
        (
            "options reordered",
            Box::new(|s| {
                s["sessions"][0]["activities"][0]["options"]
                    .as_array_mut()
                    .expect("options")
                    .swap(0, 1);
            }),
            "sessions[0].activities[0].options[0]",
        ),
        (
            "a kind changed",
            Box::new(|s| {
                s["sessions"][0]["activities"][0] = json!({
                    "key": "role", "kind": "words", "prompt": "Your role?", "max_words": 1
                });
            }),
            "sessions[0].activities[0].kind",
        ),
        (
            "several choices allowed",
            Box::new(|s| s["sessions"][0]["activities"][0]["multiple"] = json!(true)),
            "sessions[0].activities[0].multiple",
        ),
        (
            "an answered activity removed",
            Box::new(|s| {
                s["sessions"][0]["activities"]
                    .as_array_mut()
                    .expect("activities")
                    .remove(0);
            }),
            "sessions",
        ),
        (
            "a scale's range changed",
            Box::new(|s| {
                s["sessions"][0]["activities"][1]["max"] = json!(7);
                s["sessions"][6]["activities"][1]["max"] = json!(7);
            }),
            "sessions[0].activities[1].max",
        ),
        (
            "the small-group size lowered",
            Box::new(|s| s["min_group_size"] = json!(3)),
            "min_group_size",
        ),
        (
            "made a rehearsal",
            Box::new(|s| s["rehearsal"] = json!(true)),
            "rehearsal",
        ),
    ];
    for (what, edit, path) in cases {
        let mut changed = spec.clone();
        edit(&mut changed);
        let (status, body) = app.put_spec(&created.code, Some(&etag), &changed).await;
        assert_eq!(status, 409, "{what}: {body}");
        assert_eq!(body["error"], "unsafe_edit", "{what}");
        assert_eq!(body["path"], path, "{what}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| m.len() > 20),
            "{what}: a reason: {body}"
        );
    }
    // An invalid spec: 400 naming the field, the validator's own words.
    let mut invalid = spec.clone();
    invalid["sessions"][0]["activities"][0]["options"] = json!(["only one"]);
    let (status, body) = app.put_spec(&created.code, Some(&etag), &invalid).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_spec");
    assert_eq!(body["path"], "sessions[0].activities[0].options");

    // Nothing refused was stored: the tag is unchanged, and safe edits still land.
    assert_eq!(app.export_text(&created.code).await.1, etag);
    let mut safe = spec.clone();
    safe["sessions"][0]["activities"][0]["options"][1] = json!("Team leader or service manager");
    safe["sessions"][0]["activities"][0]["options"]
        .as_array_mut()
        .expect("options")
        .push(json!("Volunteer"));
    safe["min_group_size"] = json!(6);
    let (status, body) = app.put_spec(&created.code, Some(&etag), &safe).await;
    assert_eq!(status, 200, "{body}");

    // The answer given before still reads as the same (reworded) option.
    let summary = app
        .get_json(
            format!("{}/api/events/{}/summary.json", app.base, created.code),
            Some(ORGANISER_KEY),
        )
        .await;
    assert!(
        summary
            .to_string()
            .contains("Team leader or service manager"),
        "the report reads the stored answer under the new wording"
    );
}

#[tokio::test]
async fn the_validator_names_the_field_for_the_form() {
    let app = TestApp::spawn().await;
    let mut spec = fixture_2026();
    let (status, body) = post(&app, "/api/spec/validate", spec.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"valid": true, "errors": []}));
    spec["sessions"][1]["activities"][0]["max_choices"] = json!(9);
    let (status, body) = post(&app, "/api/spec/validate", spec.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(body["valid"], false);
    assert_eq!(
        body["errors"][0]["path"],
        "sessions[1].activities[0].max_choices"
    );
    // Every error at once, each with its path; the first also alone, as before.
    spec["title"] = json!("");
    spec["sessions"][0]["activities"][0]["prompt"] = json!(" ");
    let (status, body) = post(&app, "/api/spec/validate", spec.clone()).await;
    assert_eq!(status, 200);
    let paths: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "title",
            "sessions[0].activities[0].prompt",
            "sessions[1].activities[0].max_choices"
        ],
        "{body}"
    );
    assert_eq!(body["path"], "title");
    assert_eq!(body["message"], body["errors"][0]["message"]);
    // Creating the event is refused with the same list.
    let (status, body) = post(&app, "/api/events", spec).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(3), "{body}");
    assert_eq!(body["path"], "title");
    let anonymous = app
        .http
        .post(format!("{}/api/spec/validate", app.base))
        .json(&fixture_2026())
        .send()
        .await
        .expect("validate");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_edition_is_copied_rehearsed_and_the_rehearsal_reset() {
    let app = TestApp::spawn().await;
    let last_year = app.create_event(&fixture_2025()).await;
    let (status, copied) = post(
        &app,
        &format!("/api/events/{}/copy", last_year.code),
        json!({"title": "Dual Diagnosis Network Annual Conference 2026",
               "starts_at": "2026-11-23T09:30:00Z"}),
    )
    .await;
    assert_eq!(status, 201, "{copied}");
    let code = copied["code"].as_str().expect("code").to_owned();
    assert_ne!(code, last_year.code);
    assert!(copied["host_url"].as_str().is_some_and(|u| u.contains('#')));
    let (mut old, _) = app.export(&last_year.code).await;
    let (new, _) = app.export(&code).await;
    assert_eq!(new["starts_at"], "2026-11-23T09:30:00Z");
    assert_eq!(new["series"], old["series"]);
    old["title"] = new["title"].clone();
    old["starts_at"] = new["starts_at"].clone();
    assert_eq!(new, old, "everything else is copied as it was");

    // A rehearsal of the new edition, used by a phone, then reset.
    let (status, rehearsal) = post(&app, &format!("/api/events/{code}/rehearse"), json!({})).await;
    assert_eq!(status, 201, "{rehearsal}");
    let practice = crate::helpers::Created::of(&rehearsal);
    let (spec, _) = app.export(&practice.code).await;
    assert_eq!(spec["rehearsal"], true);
    assert!(
        spec["title"]
            .as_str()
            .is_some_and(|t| t.ends_with("(rehearsal)"))
    );

    let (mut host, _) = app.host(&practice).await;
    let reply = host
        .command(json!({"type": "open", "activity": "role"}), 1)
        .await;
    assert_eq!(reply["type"], "ok");
    let (mut phone, _) = app
        .attendee(&practice.code, json!({"organisation": "York Mind"}))
        .await;
    assert_eq!(phone.answer("a1", "role", json!([2])).await["type"], "ack");
    let joined = |list: &Value, code: &str| {
        list["events"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["code"] == code))
            .map(|r| (r["joined"].clone(), r["rehearsal"].clone()))
    };
    let list = app
        .get_json(format!("{}/api/events", app.base), Some(ORGANISER_KEY))
        .await;
    assert_eq!(joined(&list, &practice.code), Some((json!(1), json!(true))));

    let (status, body) = post(
        &app,
        &format!("/api/events/{}/reset", practice.code),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Its host and phone are sent to the fresh event, which has nobody and nothing.
    assert_eq!(phone.closed().await, Closed::Code(1012));
    assert_eq!(host.closed().await, Closed::Code(1012));
    let list = app
        .get_json(format!("{}/api/events", app.base), Some(ORGANISER_KEY))
        .await;
    assert_eq!(joined(&list, &practice.code), Some((json!(0), json!(true))));
    let (_, snapshot) = app.host(&practice).await;
    assert!(
        snapshot["activities"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|a| a["state"] == "ready"),
        "{snapshot}"
    );

    // A real event is never reset.
    let (status, body) = post(&app, &format!("/api/events/{code}/reset"), json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "not_rehearsal");
}

#[tokio::test]
async fn a_live_edit_reaches_connected_phones_without_a_reload() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut phone, welcome) = app
        .attendee(&created.code, json!({"organisation": "York Mind"}))
        .await;
    let token = welcome["attendee"].as_str().expect("token").to_owned();
    let (mut spec, etag) = app.export(&created.code).await;
    spec["sessions"][0]["title"] = json!("Welcome, and who is here");
    let (status, body) = app.put_spec(&created.code, Some(&etag), &spec).await;
    assert_eq!(status, 200, "{body}");
    // The phone stays connected and is sent the new programme.
    let event = phone.recv_type("event").await;
    assert_eq!(
        event["event"]["sessions"][0]["title"],
        "Welcome, and who is here"
    );
    // One that comes back finds it too, under its own token.
    let (_again, welcome) = app
        .attendee(&created.code, json!({"attendee": token}))
        .await;
    assert_eq!(
        welcome["event"]["sessions"][0]["title"],
        "Welcome, and who is here"
    );
    assert_eq!(welcome["attendee"], token.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_lists_exports_updates_copies_and_rehearses() {
    let (_data, database) = crate::helpers::temp_database();
    let app = TestApp::spawn_on(database.clone()).await;
    let (created, _host) = app.open_event(&["role"]).await;
    let (mut phone, _) = app
        .attendee(&created.code, json!({"organisation": "York Mind"}))
        .await;
    assert_eq!(phone.answer("a1", "role", json!([0])).await["type"], "ack");
    let (_, http_etag) = app.export_text(&created.code).await;
    drop(app);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let code = created.code.as_str();

    // Export: the spec as JSON, its tag (the API's) on stderr.
    let (status, exported, stderr) = joinup(&database, &["event", "export", code]);
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(stderr.trim(), format!("etag: {http_etag}"));
    let spec: Value = serde_json::from_str(&exported).expect("the export is JSON");
    assert_eq!(
        spec["title"],
        "Dual Diagnosis Network Annual Conference 2026"
    );
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("spec.json");
    let file = file.to_str().expect("utf-8 path");

    // Imported again unchanged: the same spec, the same tag, the same export.
    std::fs::write(file, &exported).expect("write");
    let (status, out, stderr) = joinup(&database, &["event", "update", code, file]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(out.contains("already has this spec"), "{out}");
    assert_eq!(joinup(&database, &["event", "export", code]).1, exported);

    // A change, naming the version it replaces; then a second one on the old version.
    let mut changed = spec.clone();
    changed["title"] = json!("Dual Diagnosis Network Conference 2026");
    std::fs::write(file, changed.to_string()).expect("write");
    let (status, out, stderr) = joinup(
        &database,
        &["event", "update", code, file, "--if-match", &http_etag],
    );
    assert_eq!(status, Some(0), "{stderr}");
    assert!(out.contains("updated"), "{out}");
    let (status, _, stderr) = joinup(
        &database,
        &["event", "update", code, file, "--if-match", &http_etag],
    );
    assert_eq!(status, Some(2));
    assert!(stderr.contains("changed since it was exported"), "{stderr}");

    // An edit that would misread the stored answer: exit 2, one line naming the field.
    let mut unsafe_edit = changed.clone();
    unsafe_edit["sessions"][0]["activities"][0]["options"]
        .as_array_mut()
        .expect("options")
        .swap(0, 1);
    std::fs::write(file, unsafe_edit.to_string()).expect("write");
    let (status, _, stderr) = joinup(&database, &["event", "update", code, file]);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("sessions[0].activities[0].options[0]"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    // Copy and rehearse print the new event's code and links; the list shows all three.
    let (status, out, stderr) = joinup(
        &database,
        &[
            "event",
            "copy",
            code,
            "--title",
            "Dual Diagnosis Network Conference 2027",
            "--starts-at",
            "2027-11-22T09:30:00Z",
        ],
    );
    assert_eq!(status, Some(0), "{stderr}");
    assert!(out.starts_with("code: ") && out.contains("/host/"), "{out}");
    let (status, out, stderr) = joinup(&database, &["event", "rehearse", code]);
    assert_eq!(status, Some(0), "{stderr}");
    let rehearsal = printed_code(&out);
    let (status, list, stderr) = joinup(&database, &["event", "list"]);
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(list.lines().count(), 3, "{list}");
    assert!(
        list.contains("2027-11-22T09:30:00Z\t0 joined\tDual Diagnosis Network Conference 2027"),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with(&rehearsal) && l.contains("live (rehearsal)")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with(code) && l.contains("1 joined")),
        "{list}"
    );
}

#[tokio::test]
async fn the_privacy_notice_and_records_follow_the_event_settings() {
    let app = TestApp::spawn().await;
    let mut spec = fixture_2026();
    spec["min_group_size"] = json!(6);
    spec["organiser"] = json!("Dual Diagnosis Network");
    spec["contact"] = json!("dpo@ddn.example");
    spec["qa"]["moderation"] = json!("post");
    let created = app.create_event(&spec).await;
    let code = created.code.as_str();

    let notice = app
        .http
        .get(format!("{}/e/{code}/privacy", app.base))
        .send()
        .await
        .expect("notice");
    assert_eq!(notice.status(), StatusCode::OK);
    assert!(notice.headers().contains_key("content-security-policy"));
    let html = notice.text().await.expect("html");
    for words in [
        "run by Dual Diagnosis Network",
        "fewer than <strong>6</strong>",
        "dpo@ddn.example",
        "a host can hide any",
        "kept until the organisers delete them",
        "service card",
    ] {
        assert!(html.contains(words), "{words:?} in the notice");
    }
    let missing = app
        .http
        .get(format!("{}/e/ZZZZZZ/privacy", app.base))
        .send()
        .await
        .expect("notice");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // The attendee page links to this event's notice.
    let page = app
        .http
        .get(format!("{}/e/{code}", app.base))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains(&format!("href=\"/e/{code}/privacy\"")));

    // The organiser's records: the organiser only, filled in from the same settings.
    let anonymous = app
        .http
        .get(format!("{}/api/events/{code}/records.html", app.base))
        .send()
        .await
        .expect("records");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let records = app
        .http
        .get(format!("{}/api/events/{code}/records.html", app.base))
        .bearer_auth(ORGANISER_KEY)
        .send()
        .await
        .expect("records");
    assert_eq!(records.status(), StatusCode::OK);
    assert!(
        records
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("attachment"))
    );
    let records = records.text().await.expect("html");
    assert!(records.contains("<td>Dual Diagnosis Network</td>"));
    assert!(records.contains("fewer than 6 people"));
    assert!(records.contains(&format!("/e/{code}/privacy")));

    // An edit shows at once.
    let (mut stored, etag) = app.export(code).await;
    stored["min_group_size"] = json!(8);
    let (status, body) = app.put_spec(code, Some(&etag), &stored).await;
    assert_eq!(status, 200, "{body}");
    let html = app
        .http
        .get(format!("{}/e/{code}/privacy", app.base))
        .send()
        .await
        .expect("notice")
        .text()
        .await
        .expect("html");
    assert!(html.contains("fewer than <strong>8</strong>"));
}
