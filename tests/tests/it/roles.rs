//! Role links over real sockets: issued, listed and revoked by the organiser; a moderator
//! who moderates and presents but can neither end the event nor download raw answers; a
//! revocation that closes every socket the link opened with 4001, and refuses it after.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};

use crate::helpers::{
    Client, Closed, Created, ORGANISER_KEY, TestApp, fixture_2026, joinup, link_secret,
    printed_code, status_json,
};

/// A link issued with `role` and `label`: its id, the secret in its URL's fragment, and
/// the link as the organiser is shown it.
async fn issued(app: &TestApp, code: &str, role: &str, label: &str) -> (String, String, Value) {
    let (status, link) = app
        .issue_link(code, &json!({"role": role, "label": label}))
        .await;
    assert_eq!(status, 201, "{link}");
    (
        link["id"].as_str().expect("an id").to_owned(),
        link_secret(&link),
        link,
    )
}

/// `GET /api/events/{code}/links`, as the organiser: status and body, as text.
async fn list(app: &TestApp, code: &str) -> (u16, String) {
    download(app, code, "links", ORGANISER_KEY).await
}

async fn revoke(app: &TestApp, code: &str, id: &str) -> (u16, Value) {
    let url = format!("{}/api/events/{code}/links/{id}", app.base);
    status_json(app.http.delete(url).bearer_auth(ORGANISER_KEY)).await
}

/// A socket on `path` that sends `auth` with `key`.
async fn staff(app: &TestApp, path: &str, code: &str, key: &str) -> Client {
    Client::auth(&app.ws_url(&format!("/ws/{path}/{code}")), key).await
}

/// GET `/api/events/{code}/{file}` with `key` as the Bearer token: status and body.
async fn download(app: &TestApp, code: &str, file: &str, key: &str) -> (u16, String) {
    let response = app
        .http
        .get(format!("{}/api/events/{code}/{file}", app.base))
        .bearer_auth(key)
        .send()
        .await
        .expect("GET");
    (
        response.status().as_u16(),
        response.text().await.expect("body"),
    )
}

async fn end_over_http(app: &TestApp, code: &str, key: &str) -> (u16, Value) {
    let url = format!("{}/api/events/{code}/end", app.base);
    status_json(app.http.post(url).bearer_auth(key)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_moderates_and_presents_but_cannot_end_or_take_raw_answers_until_revoked() {
    let app = TestApp::spawn().await;
    let created: Created = app.create_event(&fixture_2026()).await;
    let code = created.code.as_str();
    let (id, secret, link) = issued(&app, code, "moderator", "  Room B moderator ").await;
    assert_eq!(link["role"], "moderator");
    assert_eq!(link["label"], "Room B moderator");
    assert_eq!(link["revoked_at"], Value::Null);
    assert!(
        link["url"]
            .as_str()
            .is_some_and(|u| u.contains(&format!("/host/{code}#"))),
        "{link}"
    );

    // The list names it, and never shows its secret again.
    let (status, listed) = list(&app, code).await;
    assert_eq!(status, 200);
    assert!(!listed.contains(&secret), "{listed}");
    let listed: Value = serde_json::from_str(&listed).expect("json");
    assert_eq!(listed["links"][0]["id"], id.as_str());
    assert_eq!(listed["links"][0]["label"], "Room B moderator");
    assert!(listed["links"][0].get("url").is_none(), "{listed}");

    // The host's socket opens with it, told its role; the moderator moderates...
    let mut moderator = staff(&app, "host", code, &secret).await;
    let told = moderator.recv_type("authorised").await;
    assert_eq!(told["role"], "moderator");
    assert_eq!(told["label"], "Room B moderator");
    moderator.recv_type("snapshot").await;
    let opened = moderator
        .command(json!({"type": "open", "activity": "role"}), 1)
        .await;
    assert_eq!(opened["type"], "ok", "{opened}");
    let (mut phone, _) = app
        .attendee(code, json!({"organisation": "York Mind"}))
        .await;
    assert_eq!(phone.answer("a1", "role", json!([0])).await["type"], "ack");
    // ... but cannot end the event, on the socket or over HTTP.
    let refused = moderator.command(json!({"type": "end"}), 2).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["code"], "unauthorized");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("moderator")),
        "{refused}"
    );
    let (status, body) = end_over_http(&app, code, &secret).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "unauthorized");
    // Reports yes, raw answers no.
    let (status, _) = download(&app, code, "summary.json", &secret).await;
    assert_eq!(status, 200);
    let (status, body) = download(&app, code, "answers.csv", &secret).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("raw answers"), "{body}");
    let (status, _) = download(&app, code, "answers.csv", &created.host_token).await;
    assert_eq!(status, 200, "the host's own token still downloads them");

    // It opens the presenter's screen too.
    let mut screen = staff(&app, "present", code, &secret).await;
    screen.recv_type("snapshot").await;

    // Revoked: both sockets close with 4001 at once; the event carries on.
    let (status, body) = revoke(&app, code, &id).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["revoked_at"].is_string(), "{body}");
    assert_eq!(moderator.closed().await, Closed::Code(4001));
    assert_eq!(screen.closed().await, Closed::Code(4001));
    let mut again = staff(&app, "host", code, &secret).await;
    assert_eq!(again.recv_type("error").await["code"], "unauthorized");
    assert_eq!(again.closed().await, Closed::Code(4001));
    let (status, _) = download(&app, code, "summary.json", &secret).await;
    assert_eq!(status, 401);
    assert_eq!(phone.answer("a2", "role", json!([1])).await["type"], "ack");
    let (status, listed) = list(&app, code).await;
    assert_eq!(status, 200);
    assert!(listed.contains("\"revoked_at\":\"20"), "{listed}");
    // Revoking again is harmless and keeps the first time.
    let (status, twice) = revoke(&app, code, &id).await;
    assert_eq!(status, 200);
    assert_eq!(twice["revoked_at"], body["revoked_at"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_links_end_the_event_and_presenter_links_open_only_the_screen() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let code = created.code.as_str();
    let screen = json!({"role": "presenter", "label": "Room B screen", "room": "Room B"});
    let (status, link) = app.issue_link(code, &screen).await;
    assert_eq!(status, 201, "{link}");
    let url = link["url"].as_str().expect("url");
    assert!(
        url.contains(&format!("/present/{code}?room=Room%20B#")),
        "{url}"
    );
    assert_eq!(link["room"], "Room B");
    let presenter = &link_secret(&link);

    let mut screen = staff(&app, "present", code, presenter).await;
    assert_eq!(screen.recv_type("authorised").await["role"], "presenter");
    screen.recv_type("snapshot").await;
    let mut not_a_host = staff(&app, "host", code, presenter).await;
    assert_eq!(not_a_host.recv_type("error").await["code"], "unauthorized");
    assert_eq!(not_a_host.closed().await, Closed::Code(4001));
    let (status, _) = download(&app, code, "summary.json", presenter).await;
    assert_eq!(status, 401);

    let (_, host_key, _) = issued(&app, code, "host", "Second host").await;
    let mut host = staff(&app, "host", code, &host_key).await;
    assert_eq!(host.recv_type("authorised").await["role"], "host");
    host.recv_type("snapshot").await;
    let (status, _) = download(&app, code, "answers.csv", &host_key).await;
    assert_eq!(status, 200);
    let ended = host.command(json!({"type": "end"}), 1).await;
    assert_eq!(ended["type"], "ok", "{ended}");
}

#[tokio::test]
async fn refused_links_name_the_field_at_fault() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let code = created.code.as_str();
    let cases = [
        (json!({"role": "owner", "label": "x"}), "role"),
        (json!({"label": "x"}), "role"),
        (json!({"role": "moderator"}), "label"),
        (json!({"role": "moderator", "label": "   "}), "label"),
        (
            json!({"role": "moderator", "label": "x".repeat(81)}),
            "label",
        ),
        (json!({"role": "moderator", "label": 7}), "label"),
        (
            json!({"role": "moderator", "label": "x", "room": "Room B"}),
            "room",
        ),
        (
            json!({"role": "presenter", "label": "x", "room": "Room Z"}),
            "room",
        ),
        (
            json!({"role": "host", "label": "x", "secret": "mine"}),
            "secret",
        ),
    ];
    for (body, field) in cases {
        let (status, refused) = app.issue_link(code, &body).await;
        assert_eq!(status, 400, "{body}: {refused}");
        assert_eq!(refused["error"], "invalid_link", "{refused}");
        assert_eq!(refused["path"], field, "{body}: {refused}");
        assert!(
            refused["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(field)),
            "{refused}"
        );
    }
    let (status, listed) = list(&app, code).await;
    assert_eq!(status, 200);
    assert_eq!(listed, r#"{"links":[]}"#, "nothing refused was stored");
    let (status, body) = revoke(&app, code, "0123456789abcdef0123").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    let (status, body) = app
        .issue_link("ZZZZZZ", &json!({"role": "host", "label": "x"}))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("no_such_event"))
    );

    // Only the organiser: the host's token is not enough, nor a session without Origin.
    let as_host = app
        .http
        .post(format!("{}/api/events/{code}/links", app.base))
        .bearer_auth(&created.host_token)
        .json(&json!({"role": "host", "label": "x"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(as_host.status(), StatusCode::UNAUTHORIZED);
    let signed_in = app
        .http
        .post(format!("{}/api/organiser/session", app.base))
        .header(ORIGIN, app.base.as_str())
        .json(&json!({"key": ORGANISER_KEY}))
        .send()
        .await
        .expect("sign in");
    let cookie = signed_in
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("cookie")
        .to_owned();
    let no_origin = app
        .http
        .post(format!("{}/api/events/{code}/links", app.base))
        .header(COOKIE, &cookie)
        .json(&json!({"role": "host", "label": "x"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(no_origin.status(), StatusCode::FORBIDDEN);
    let with_origin = app
        .http
        .post(format!("{}/api/events/{code}/links", app.base))
        .header(COOKIE, &cookie)
        .header(ORIGIN, app.base.as_str())
        .json(&json!({"role": "host", "label": "From the page"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(with_origin.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_issues_lists_and_revokes_links_and_resets_a_rehearsal() {
    let (_data, database) = crate::helpers::temp_database();
    let app = TestApp::spawn_on(database.clone()).await;
    let created = app.create_event(&fixture_2026()).await;
    let code = created.code.as_str();
    let (status, out, stderr) = joinup(
        &database,
        &[
            "event",
            "link",
            code,
            "--role",
            "moderator",
            "--label",
            "Room B moderator",
        ],
    );
    assert_eq!(status, Some(0), "{stderr}");
    let url = out
        .lines()
        .find_map(|l| l.strip_prefix("url: "))
        .expect("the url");
    let secret = url.split_once('#').expect("fragment").1.to_owned();
    let id = out.split('\t').next().expect("id").to_owned();

    // The server that is running takes it at once.
    let mut moderator = staff(&app, "host", code, &secret).await;
    assert_eq!(moderator.recv_type("authorised").await["role"], "moderator");
    moderator.recv_type("snapshot").await;

    let (status, listed, _) = joinup(&database, &["event", "links", code]);
    assert_eq!(status, Some(0));
    assert!(
        listed.contains(&format!("{id}\tmoderator\tRoom B moderator\t-\t")),
        "{listed}"
    );
    assert!(listed.trim_end().ends_with("active"), "{listed}");
    assert!(!listed.contains(&secret));
    let (status, _, stderr) = joinup(
        &database,
        &["event", "link", code, "--role", "boss", "--label", "x"],
    );
    assert_eq!(status, Some(2));
    assert!(stderr.contains("--role"), "{stderr}");

    let (status, out, stderr) = joinup(&database, &["event", "revoke", code, &id]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(out.contains("revoked 20"), "{out}");
    // A new socket with it is refused at once; the open one at its next check.
    let mut again = staff(&app, "host", code, &secret).await;
    assert_eq!(again.recv_type("error").await["code"], "unauthorized");
    assert_eq!(again.closed().await, Closed::Code(4001));
    // The server was not told (the command line works on the database): the open socket
    // finds out at its next ping, within 25 s.
    let closed = loop {
        match moderator
            .recv_or_close_within(std::time::Duration::from_secs(40))
            .await
        {
            Some(Ok(_)) => continue,
            Some(Err(closed)) => break Some(closed),
            None => break None,
        }
    };
    assert_eq!(closed, Some(Closed::Code(4001)));

    // Reset: a real event is refused, a rehearsal cleared.
    let (status, _, stderr) = joinup(&database, &["event", "reset", code]);
    assert_eq!(status, Some(2));
    assert!(stderr.contains("real event"), "{stderr}");
    let (status, out, _) = joinup(&database, &["event", "rehearse", code]);
    assert_eq!(status, Some(0));
    let rehearsal = printed_code(&out);
    let (phone, _) = app
        .attendee(&rehearsal, json!({"organisation": "York Mind"}))
        .await;
    phone.close().await;
    // Live, it may be running: refused, naming the page and the API to use instead.
    let (status, _, stderr) = joinup(&database, &["event", "reset", &rehearsal]);
    assert_eq!(status, Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("is live"), "{stderr}");
    assert!(
        stderr.contains("/organise") && stderr.contains(&format!("/api/events/{rehearsal}/reset")),
        "{stderr}"
    );
    drop(app);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let reset = ["event", "reset", &rehearsal, "--offline"];
    let (status, out, stderr) = joinup(&database, &reset);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(out.contains("reset"), "{out}");
    let (_, listed, _) = joinup(&database, &["event", "list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&rehearsal) && l.contains("0 joined")),
        "{listed}"
    );
}
