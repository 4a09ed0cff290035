//! The edge of the server: sockets that never join, DNS rebinding, guessed event codes,
//! `nosniff` on every response, and data files nobody else can read.

use std::time::Duration;

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{Client, Closed, ORGANISER_KEY, TestApp, fixture_2026};

/// Waits up to `within` for the socket's close, answering nothing but sending a pong and a
/// ping every half second meanwhile: what it received, and how it ended.
async fn keep_alive_until_closed(client: &mut Client, within: Duration) -> (Vec<Value>, Closed) {
    let deadline = tokio::time::Instant::now() + within;
    let mut received = Vec::new();
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still open after {within:?}; received {received:?}"
        );
        client.send_message(Message::Pong(Vec::new().into())).await;
        client.send_message(Message::Ping(Vec::new().into())).await;
        match client
            .recv_or_close_within(Duration::from_millis(500))
            .await
        {
            Some(Ok(message)) => received.push(message),
            Some(Err(closed)) => return (received, closed),
            None => {}
        }
    }
}

#[tokio::test]
async fn a_socket_that_never_joins_is_closed_after_a_short_grace() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let started = std::time::Instant::now();
    let mut phone = app.connect(&created.code).await;
    let mut host = Client::connect(&app.ws_url(&format!("/ws/host/{}", created.code))).await;
    // The phone sends messages, but never hello; the host never authenticates.
    phone
        .send(&json!({"type": "answer", "id": "a", "activity": "role", "value": [0]}))
        .await;
    host.send(&json!({"type": "open", "activity": "role"}))
        .await;
    let (phone_got, phone_closed) =
        keep_alive_until_closed(&mut phone, Duration::from_secs(20)).await;
    let (host_got, host_closed) = keep_alive_until_closed(&mut host, Duration::from_secs(5)).await;
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "closed too soon"
    );
    assert_eq!(phone_closed, Closed::Code(4008));
    assert_eq!(host_closed, Closed::Code(4008));
    assert!(
        phone_got.iter().any(|m| m["code"] == "not_joined"
            && m["message"].as_str().is_some_and(|t| t.contains("10 s"))),
        "{phone_got:?}"
    );
    assert!(
        host_got.iter().any(|m| m["code"] == "unauthorized"
            && m["message"].as_str().is_some_and(|t| t.contains("10 s"))),
        "{host_got:?}"
    );
    // Sockets that joined in time stay open past the grace.
    let (mut joined, _) = app.attendee(&created.code, json!({})).await;
    let (mut authorised, _) = app.host(&created).await;
    tokio::time::sleep(Duration::from_secs(11)).await;
    let reply = joined.answer("late", "role", json!([0])).await;
    assert_eq!(reply["code"], "activity_closed");
    let reply = authorised
        .command(json!({"type": "open", "activity": "role"}), 1)
        .await;
    assert_eq!(reply["type"], "ok");
}

#[tokio::test]
async fn sockets_that_have_not_joined_are_capped_per_address_lower_than_joined_ones() {
    use tokio_tungstenite::connect_async;
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let url = app.ws_url(&format!("/ws/host/{}", created.code));
    // Two thousand silent host sockets (which count no joins) from one address...
    let mut silent = Vec::new();
    for _ in 0..2000 {
        silent.push(Client::connect(&url).await);
    }
    // ...and the next is refused with 429, before any WebSocket is opened.
    match connect_async(url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 429);
        }
        Ok(_) => panic!("the 2,001st silent socket was accepted"),
        Err(other) => panic!("expected HTTP 429, got {other}"),
    }
    // A socket that authenticates leaves the unjoined count: there is room again, and
    // joined sockets are not held to that cap.
    let mut first = silent.remove(0);
    let created_token = created.host_token.clone();
    first
        .send(&json!({"type": "auth", "token": created_token}))
        .await;
    first.recv_type("snapshot").await;
    let (mut next, _) = app.host(&created).await;
    let reply = next
        .command(json!({"type": "open", "activity": "role"}), 1)
        .await;
    assert_eq!(reply["type"], "ok");
    drop(silent);
}

/// The status of a WebSocket upgrade to `path` with these `Host` and `Origin` headers.
async fn upgrade_status(app: &TestApp, path: &str, host: &str, origin: &str) -> u16 {
    let mut request = app.ws_url(path).into_client_request().expect("request");
    let headers = request.headers_mut();
    headers.insert("host", host.parse().expect("header"));
    headers.insert("origin", origin.parse().expect("header"));
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("upgrade failed: {other}"),
    }
}

#[tokio::test]
async fn dns_rebinding_cannot_pass_the_origin_check() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let port = app.addr.port();
    let path = format!("/ws/e/{}", created.code);
    let messages = format!("{}/api/events/{}/messages", app.base, created.code);
    let post = |host: String, origin: String| {
        app.http
            .post(&messages)
            .header("host", host)
            .header("origin", origin)
            .json(&json!({"type": "hello", "attendee": null}))
            .send()
    };
    // A name that resolves to this server now: Host and Origin agree, and are refused.
    for host in ["evil.example".to_owned(), format!("evil.example:{port}")] {
        let origin = format!("http://{host}");
        assert_eq!(
            upgrade_status(&app, &path, &host, &origin).await,
            403,
            "{host}"
        );
        let response = post(host.clone(), origin).await.expect("POST");
        assert_eq!(response.status().as_u16(), 403, "{host}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], "forbidden_origin");
    }
    // Without a public URL, an IP address or a loopback name in Host still works.
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let origin = format!("http://{host}");
        assert_eq!(
            upgrade_status(&app, &path, &host, &origin).await,
            101,
            "{host}"
        );
        let response = post(host.clone(), origin).await.expect("POST");
        assert_eq!(response.status().as_u16(), 200, "{host}");
    }
}

#[tokio::test]
async fn with_a_public_url_only_its_origin_and_the_allow_list_pass() {
    let (data, database) = crate::helpers::temp_database();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut config = joinup::Config::new(addr, database);
    config.organiser_key = Some(ORGANISER_KEY.to_owned());
    config.public_url = Some("https://joinup.example.org".to_owned());
    config.allowed_origins = vec!["https://partner.example.net".to_owned()];
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(joinup::run(config, listener, async move {
        let _ = stopped.await;
    }));
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let mut healthy = false;
    for _ in 0..200 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(healthy);
    let created = crate::helpers::create_event(&http, &base, &fixture_2026()).await;
    let url = format!("{base}/api/events/{}/messages", created.code);
    for (host, origin, status) in [
        (addr.to_string(), format!("http://{addr}"), 403),
        (
            "joinup.example.org".to_owned(),
            "https://joinup.example.org".to_owned(),
            200,
        ),
        (
            "evil.example".to_owned(),
            "https://partner.example.net".to_owned(),
            200,
        ),
        (
            "evil.example".to_owned(),
            "http://evil.example".to_owned(),
            403,
        ),
    ] {
        let response = http
            .post(&url)
            .header("host", &host)
            .header("origin", &origin)
            .json(&json!({"type": "hello", "attendee": null}))
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status().as_u16(), status, "{host} {origin}");
    }
    let _ = stop.send(());
    let _ = server.await;
    drop(data);
}

#[tokio::test]
async fn guessing_event_codes_is_rate_limited_per_address() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut first_refusal = None;
    for n in 0..400usize {
        let code: String = (0..6)
            .map(|i| ALPHABET[(n * 7 + i * 13 + n / 31) % ALPHABET.len()] as char)
            .collect();
        if code == created.code {
            continue;
        }
        let response = app
            .http
            .get(format!("{}/api/events/{code}", app.base))
            .send()
            .await
            .expect("GET");
        match response.status().as_u16() {
            404 => {}
            429 => {
                assert!(response.headers().get("retry-after").is_some());
                first_refusal = Some(n);
                break;
            }
            other => panic!("{code}: {other}"),
        }
    }
    let refused_at = first_refusal.expect("misses were never limited");
    assert!(refused_at >= 150, "refused after only {refused_at} misses");
    // While limited, a real code gets no answer either (a hit would tell from a miss), on
    // every route that names a code.
    for path in [
        format!("/api/events/{}", created.code),
        format!("/api/events/{}/qr.svg", created.code),
        format!("/api/events/{}/report.pdf", created.code),
    ] {
        let response = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status().as_u16(), 429, "{path}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], "rate_limited");
    }
    // Another address is untouched.
    let other = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .expect("client");
    let response = other
        .get(format!("{}/api/events/{}", app.base, created.code))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn every_response_says_nosniff() {
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let base = &app.base;
    let code = &created.code;
    let requests = [
        app.http.get(format!("{base}/healthz")),
        app.http.get(format!("{base}/metrics")),
        app.http.get(format!("{base}/")),
        app.http.get(format!("{base}/api/events/{code}")),
        app.http.get(format!("{base}/api/events/{code}/qr.svg")),
        app.http.get(format!("{base}/api/events/ZZZZZZ")),
        app.http.get(format!("{base}/no/such/page")),
        app.http.post(format!("{base}/api/events")).body("{}"),
        app.http
            .get(format!("{base}/api/events/{code}/summary.json"))
            .bearer_auth(&created.host_token),
        app.http.get(format!("{base}/ws/e/{code}")),
        app.http
            .post(format!("{base}/api/events/{code}/messages"))
            .body("not json"),
    ];
    for request in requests {
        let request = request.build().expect("request");
        let url = request.url().to_string();
        let response = app.http.execute(request).await.expect("response");
        assert_eq!(
            response
                .headers()
                .get("x-content-type-options")
                .and_then(|v| v.to_str().ok()),
            Some("nosniff"),
            "{url} ({})",
            response.status()
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_folder_and_database_files_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    use tokio::io::AsyncBufReadExt;
    if crate::helpers::on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("data").join("joinup");
    let database = folder.join("joinup.db");
    // umask 000: left to the defaults, the folder would be 0777 and the files 0666 or 0644.
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" serve --addr 127.0.0.1:0 --database \"$1\"")
        .arg(env!("CARGO_BIN_EXE_joinup-under-test"))
        .arg(format!("sqlite://{}", database.display()))
        .env("JOINUP_ORGANISER_KEY", ORGANISER_KEY)
        .env("JOINUP_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start joinup");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let addr = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.expect("stdout") {
            if let Some(url) = line.strip_prefix(crate::helpers::LISTENING) {
                return url.trim().to_owned();
            }
        }
        panic!("joinup exited before listening");
    })
    .await
    .expect("listening in time");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    // A write, so the write-ahead log and its index are in use.
    let http = reqwest::Client::new();
    crate::helpers::create_event(&http, &format!("http://{addr}"), &fixture_2026()).await;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&folder), 0o700, "the data folder");
    for suffix in ["", "-wal", "-shm"] {
        let path = std::path::PathBuf::from(format!("{}{suffix}", database.display()));
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    let _ = child.start_kill();
    let _ = child.wait().await;
}

#[tokio::test]
async fn behind_a_proxy_one_guesser_does_not_lock_out_the_audience() {
    // Requests from loopback stand for a reverse proxy on the same machine, which names
    // each client in X-Forwarded-For.
    let app = TestApp::spawn().await;
    let created = app.create_event(&fixture_2026()).await;
    let get = |path: String, client: &'static str| {
        app.http
            .get(format!("{}{path}", app.base))
            .header("x-forwarded-for", client)
            .send()
    };
    let mut refused = false;
    for n in 0..400usize {
        let code = format!("QQ{:04}", n % 10_000)
            .replace('0', "Q")
            .replace('1', "R");
        let response = get(format!("/api/events/{code}"), "203.0.113.5")
            .await
            .expect("GET");
        if response.status().as_u16() == 429 {
            refused = true;
            break;
        }
    }
    assert!(refused, "the guesser was never limited");
    let status = |r: reqwest::Response| r.status().as_u16();
    let guesser = get(format!("/api/events/{}", created.code), "203.0.113.5")
        .await
        .expect("GET");
    assert_eq!(status(guesser), 429);
    // Another person behind the same proxy joins as usual.
    let neighbour = get(format!("/api/events/{}", created.code), "203.0.113.6")
        .await
        .expect("GET");
    assert_eq!(status(neighbour), 200);
}
