//! The fallback for networks that block WebSocket: POSTed messages and an SSE stream reach
//! the same hub.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, fixture_2026};

/// Reads SSE `data:` lines from a streaming response until `predicate` matches one.
async fn next_event(
    response: &mut reqwest::Response,
    buffer: &mut String,
    predicate: impl Fn(&Value) -> bool,
) -> Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                for line in block.lines() {
                    if let Some(data) = line.strip_prefix("data: ")
                        && let Ok(value) = serde_json::from_str::<Value>(data)
                        && predicate(&value)
                    {
                        return value;
                    }
                }
            }
            let chunk = response
                .chunk()
                .await
                .expect("stream")
                .expect("stream open");
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .expect("event in time")
}

#[tokio::test]
async fn an_attendee_without_websocket_answers_and_the_host_sees_it() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let (mut host, _) = app.host(&created).await;
    assert_eq!(
        host.command(json!({"type": "open", "activity": "role"}), 1)
            .await["type"],
        "ok"
    );
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let messages = format!("{}/api/events/{}/messages", app.base, created.code);

    // Without a hello, there is no attendee.
    let stream_url = format!("{}/api/events/{}/stream", app.base, created.code);
    assert_eq!(
        http.get(&stream_url)
            .send()
            .await
            .expect("request")
            .status()
            .as_u16(),
        401
    );
    let reply: Value = http
        .post(&messages)
        .json(&json!({"type": "answer", "id": "x", "activity": "role", "value": [0]}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(reply["code"], "not_joined");

    let response = http
        .post(&messages)
        .json(&json!({"type": "hello", "attendee": null, "organisation": "York Mind"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let welcome: Value = response.json().await.expect("json");
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["open"][0]["key"], "role");

    let mut stream = http.get(&stream_url).send().await.expect("stream");
    assert_eq!(stream.status().as_u16(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/event-stream")
    );
    let mut buffer = String::new();
    let again = next_event(&mut stream, &mut buffer, |m| m["type"] == "welcome").await;
    assert_eq!(again["attendee"], welcome["attendee"]);
    assert!(buffer.is_empty() || !buffer.contains("data:"));

    let ack: Value = http
        .post(&messages)
        .json(&json!({"type": "answer", "id": "f1", "activity": "role", "value": [2]}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(ack, json!({"type": "ack", "id": "f1"}));
    let tally = host
        .recv_where(|m| m["type"] == "tally" && m["activity"] == "role")
        .await;
    assert_eq!(tally["tally"]["counts"][2], 1);

    // Server messages arrive on the stream.
    assert_eq!(
        host.command(
            json!({"type": "reveal", "activity": "role", "show": true}),
            2
        )
        .await["type"],
        "ok"
    );
    let results = next_event(&mut stream, &mut buffer, |m| m["type"] == "results").await;
    assert_eq!(results["tally"]["counts"][2], 1);
    let (_second_host, snapshot) = app.host(&created).await;
    assert_eq!(
        (
            snapshot["attendance"]["present"].as_u64(),
            snapshot["attendance"]["joined"].as_u64()
        ),
        (Some(1), Some(1))
    );

    // A bad frame gets the same error a socket would.
    let reply: Value = http
        .post(&messages)
        .body("{oops")
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(reply["code"], "invalid_message");
}

/// An event whose attendee page other sites may frame: the page names exactly those sites in
/// `frame-ancestors` (the host page none), and the fallback's cookie is partitioned, since in a
/// frame on another site a SameSite=Strict cookie would never come back.
#[tokio::test]
async fn an_event_framed_by_allowed_sites_says_so_and_partitions_the_fallback_cookie() {
    let app = TestApp::spawn().await;
    let mut spec = fixture_2026();
    spec["embed"] =
        json!({"allowed_origins": ["https://stream.example.org", "http://localhost:8080"]});
    let framed = app.create_event(&spec).await;
    let plain = app.create_event(&fixture_2026()).await;
    let csp = |path: String| {
        let http = app.http.clone();
        async move {
            let response = http.get(path).send().await.expect("request");
            assert_eq!(response.status().as_u16(), 200);
            response.headers()["content-security-policy"]
                .to_str()
                .expect("ascii")
                .to_owned()
        }
    };
    let policy = csp(format!("{}/e/{}", app.base, framed.code)).await;
    assert!(
        policy.ends_with("frame-ancestors 'self' https://stream.example.org http://localhost:8080"),
        "{policy}"
    );
    assert!(policy.starts_with("default-src 'self'"), "{policy}");
    for path in [
        format!("{}/e/{}", app.base, plain.code),
        format!("{}/host/{}", app.base, framed.code),
        format!("{}/present/{}", app.base, framed.code),
        format!("{}/", app.base),
    ] {
        let policy = csp(path.clone()).await;
        assert!(
            policy.ends_with("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
    }

    let hello = |code: String| {
        let http = app.http.clone();
        let url = format!("{}/api/events/{code}/messages", app.base);
        async move {
            let response = http
                .post(url)
                .json(&json!({"type": "hello", "attendee": null, "organisation": "York Mind"}))
                .send()
                .await
                .expect("request");
            response.headers()["set-cookie"]
                .to_str()
                .expect("cookie")
                .to_owned()
        }
    };
    let cookie = hello(framed.code.clone()).await;
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=None")
            && cookie.contains("Secure")
            && cookie.contains("Partitioned"),
        "{cookie}"
    );
    let cookie = hello(plain.code.clone()).await;
    assert!(
        cookie.contains("SameSite=Strict") && !cookie.contains("Partitioned"),
        "{cookie}"
    );

    // A spec with an origin that is not exactly an origin is refused, naming it.
    spec["embed"] = json!({"allowed_origins": ["https://stream.example.org/live"]});
    let response = app
        .http
        .post(format!("{}/api/events", app.base))
        .bearer_auth(crate::helpers::ORGANISER_KEY)
        .json(&spec)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("embed.allowed_origins[0]:")),
        "{body}"
    );
}
