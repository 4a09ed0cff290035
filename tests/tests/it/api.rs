//! The HTTP API: events, errors in the API's shape, health, metrics, QR, origins.

use serde_json::{Value, json};

use crate::helpers::{ORGANISER_KEY, TestApp, fixture_2026};

#[tokio::test]
async fn creating_an_event_needs_the_organiser_key() {
    let app = TestApp::spawn().await;
    for auth in [None, Some("wrong-key")] {
        let mut request = app
            .http
            .post(format!("{}/api/events", app.base))
            .json(&fixture_2026());
        if let Some(key) = auth {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status().as_u16(), 401);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], "unauthorized");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn a_created_event_has_urls_and_public_facts() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .post(format!("{}/api/events", app.base))
        .bearer_auth(ORGANISER_KEY)
        .json(&fixture_2026())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 201);
    let created: Value = response.json().await.expect("json");
    let code = created["code"].as_str().expect("code");
    assert_eq!(code.len(), 6);
    assert_eq!(created["attend_url"], format!("{}/e/{code}", app.base));
    let host_token = created["host_token"].as_str().expect("host token");
    assert!(host_token.len() >= 32, "a token carries at least 128 bits");
    assert_eq!(
        created["host_url"],
        format!("{}/host/{code}#{host_token}", app.base)
    );
    assert!(
        created["present_url"]
            .as_str()
            .expect("present url")
            .contains('#')
    );

    // Codes are case-insensitive on input.
    let facts: Value = app
        .get_json(
            format!("{}/api/events/{}", app.base, code.to_lowercase()),
            None,
        )
        .await;
    assert_eq!(facts["code"], code);
    assert_eq!(facts["state"], "live");
    assert_eq!(
        facts["title"],
        "Dual Diagnosis Network Annual Conference 2026"
    );
    assert_eq!(facts["organisations"].as_array().map(Vec::len), Some(27));
    assert_eq!(facts["sectors"].as_array().map(Vec::len), Some(12));
    assert_eq!(facts["rooms"], json!(["Room A", "Room B"]));
    assert_eq!(
        facts["sessions"][4],
        json!({"key": "breakout-a", "title": "Break-out A: partnership working for better outcomes", "room": "Room A"})
    );
    // Public facts never include tokens or answers.
    let text = facts.to_string();
    assert!(!text.contains(host_token));
    assert!(facts["sessions"][0].get("activities").is_none());
}

#[tokio::test]
async fn a_bad_spec_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let mut spec = fixture_2026();
    spec["sessions"][0]["activities"][2]["max"] = json!(50);
    let response = app
        .http
        .post(format!("{}/api/events", app.base))
        .bearer_auth(ORGANISER_KEY)
        .json(&spec)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "invalid_spec");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .starts_with("sessions[0].activities[2].max:"),
        "{body}"
    );

    for (bad, expected) in [("{not json", "invalid_json"), ("[]", "invalid_spec")] {
        let response = app
            .http
            .post(format!("{}/api/events", app.base))
            .bearer_auth(ORGANISER_KEY)
            .header("content-type", "application/json")
            .body(bad)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 400, "{bad}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], expected);
    }
}

#[tokio::test]
async fn unknown_events_and_routes_are_404_in_json() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/events/ZZZZZZ",
        "/api/events/not-a-code",
        "/api/nothing",
    ] {
        let response = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 404, "{path}");
        let body: Value = response.json().await.expect("json");
        assert!(body["error"].is_string() && body["message"].is_string());
    }
}

#[tokio::test]
async fn health_metrics_and_qr() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let health = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(health.status().as_u16(), 200);
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(metrics.status().as_u16(), 200);
    let text = metrics.text().await.expect("text");
    assert!(text.contains("# TYPE joinup_commits_total counter"));
    let qr = app
        .http
        .get(format!("{}/api/events/{}/qr.svg", app.base, created.code))
        .send()
        .await
        .expect("request");
    assert_eq!(qr.status().as_u16(), 200);
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    assert!(qr.text().await.expect("svg").contains("<svg"));
}

#[tokio::test]
async fn a_foreign_origin_may_not_open_a_socket() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let mut request = app
        .ws_url(&format!("/ws/e/{}", created.code))
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().expect("header"));
    let error = tokio_tungstenite::connect_async(request)
        .await
        .expect_err("refused");
    match error {
        tokio_tungstenite::tungstenite::Error::Http(response) => {
            assert_eq!(response.status().as_u16(), 403)
        }
        other => panic!("expected HTTP 403, got {other}"),
    }
    // The server's own origin is accepted.
    let mut request = app
        .ws_url(&format!("/ws/e/{}", created.code))
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert("origin", app.base.parse().expect("header"));
    tokio_tungstenite::connect_async(request)
        .await
        .expect("same origin accepted");
}

#[tokio::test]
async fn ending_over_http_needs_the_host_token() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let url = format!("{}/api/events/{}/end", app.base, created.code);
    let response = app
        .http
        .post(&url)
        .bearer_auth(&created.presenter_token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 401);
    let (mut attendee, _) = app.attendee(&created.code, json!({})).await;
    let response = app
        .http
        .post(&url)
        .bearer_auth(&created.host_token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let error = attendee.recv_type("error").await;
    assert_eq!(error["code"], "event_ended");
    assert_eq!(attendee.closed().await, crate::helpers::Closed::Code(4000));
    let facts: Value = app
        .get_json(format!("{}/api/events/{}", app.base, created.code), None)
        .await;
    assert_eq!(facts["state"], "ended");
}

#[tokio::test]
async fn both_editions_of_the_series_can_be_created() {
    let app = TestApp::spawn().await;
    let last_year = app.create_event(&crate::helpers::fixture_2025()).await;
    let this_year = app.create_event(&fixture_2026()).await;
    assert_ne!(last_year.code, this_year.code);
    for code in [&last_year.code, &this_year.code] {
        let facts: Value = app
            .get_json(format!("{}/api/events/{code}", app.base), None)
            .await;
        assert_eq!(facts["series"], "dual-diagnosis-annual");
    }
}
