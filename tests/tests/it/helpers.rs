//! The test harness: a real server on 127.0.0.1:0 with a temporary database, in this
//! process or as a child process, and real WebSocket clients.
//!
//! The database is a temporary SQLite file, or, with `JOINUP_TEST_DATABASE=postgres`, a
//! fresh database on the PostgreSQL server [`crate::services::postgres_server`] finds or
//! starts, dropped afterwards.
//!
//! Also the ground truth a test computes on its own ([`tally`], [`Attendance`]), shared by
//! `scenario` and the cluster tests (which include this file).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// How long a test waits for any one expected message before it fails.
pub const WAIT: Duration = Duration::from_secs(10);

pub const ORGANISER_KEY: &str = "test-organiser-key-0123456789abcdef";

pub fn fixture_2026() -> Value {
    serde_json::from_str(include_str!(
        "../../../server/fixtures/dual-diagnosis-2026.json"
    ))
    .expect("fixture")
}

pub fn fixture_2025() -> Value {
    serde_json::from_str(include_str!(
        "../../../server/fixtures/dual-diagnosis-2025.json"
    ))
    .expect("fixture")
}

/// A server running inside the test process.
pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub database: String,
    pub http: reqwest::Client,
    data: Option<TempData>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// What `POST /api/events` returned.
#[derive(Debug, Clone)]
pub struct Created {
    pub code: String,
    pub host_token: String,
    pub presenter_token: String,
}

/// `POST /api/events` with the organiser key on the server at `base` (`http://…`), which
/// must answer 201.
pub async fn create_event(http: &reqwest::Client, base: &str, spec: &Value) -> Created {
    let response = http
        .post(format!("{base}/api/events"))
        .bearer_auth(ORGANISER_KEY)
        .json(spec)
        .send()
        .await
        .expect("POST /api/events");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 201, "create event on {base}: {body}");
    Created::of(&body)
}

impl Created {
    /// The event and its tokens from the answer that created it (`POST /api/events`, a copy,
    /// a rehearsal).
    pub fn of(body: &Value) -> Created {
        let text = |field: &str| {
            body[field]
                .as_str()
                .unwrap_or_else(|| panic!("no {field} in {body}"))
                .to_owned()
        };
        Created {
            code: text("code"),
            host_token: text("host_token"),
            presenter_token: text("presenter_token"),
        }
    }
}

/// Sends `request`: the status, and the JSON body (`null` when there is none).
pub async fn status_json(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `GET /api/events/{code}/spec` with the organiser key on the server at `base`, which must
/// answer 200: the spec as stored (its text, to compare exports) and its `ETag`.
pub async fn export_spec(http: &reqwest::Client, base: &str, code: &str) -> (String, String) {
    let response = http
        .get(format!("{base}/api/events/{code}/spec"))
        .bearer_auth(ORGANISER_KEY)
        .send()
        .await
        .expect("GET spec");
    assert_eq!(response.status().as_u16(), 200, "export {code} from {base}");
    let etag = response
        .headers()
        .get(reqwest::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned();
    (response.text().await.expect("body"), etag)
}

/// `PUT /api/events/{code}/spec` with the organiser key, naming the version it replaces
/// (`If-Match`) when `if_match` is given: the status and the JSON body.
pub async fn put_spec(
    http: &reqwest::Client,
    base: &str,
    code: &str,
    if_match: Option<&str>,
    spec: &Value,
) -> (u16, Value) {
    let mut request = http
        .put(format!("{base}/api/events/{code}/spec"))
        .bearer_auth(ORGANISER_KEY)
        .json(spec);
    if let Some(tag) = if_match {
        request = request.header(reqwest::header::IF_MATCH, tag);
    }
    status_json(request).await
}

/// `POST /api/events/{code}/links` with the organiser key: the status and the JSON body.
pub async fn issue_link(
    http: &reqwest::Client,
    base: &str,
    code: &str,
    body: &Value,
) -> (u16, Value) {
    let request = http
        .post(format!("{base}/api/events/{code}/links"))
        .bearer_auth(ORGANISER_KEY)
        .json(body);
    status_json(request).await
}

/// The secret an issued role link carries in its URL's fragment.
pub fn link_secret(link: &Value) -> String {
    link["url"]
        .as_str()
        .and_then(|url| url.split_once('#'))
        .map(|(_, secret)| secret.to_owned())
        .unwrap_or_else(|| panic!("no url with a secret in {link}"))
}

/// The code a command that creates an event (`event copy`, `event rehearse`) printed first.
pub fn printed_code(out: &str) -> String {
    out.lines()
        .next()
        .and_then(|l| l.strip_prefix("code: "))
        .unwrap_or_else(|| panic!("no code in {out:?}"))
        .to_owned()
}

impl TestApp {
    /// A server on a fresh temporary database, SQLite or PostgreSQL ([`on_postgres`]).
    pub async fn spawn() -> TestApp {
        let (data, database) = temp_database();
        let mut app = TestApp::spawn_on(database).await;
        app.data = Some(data);
        app
    }

    /// A server on an existing database (to restart on the same data).
    pub async fn spawn_on(database: String) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut config = joinup::Config::new(addr, database.clone());
        config.organiser_key = Some(ORGANISER_KEY.to_owned());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(joinup::run(config, listener, async move {
            let _ = rx.await;
        }));
        let app = TestApp {
            addr,
            base: format!("http://{addr}"),
            database,
            http: reqwest::Client::new(),
            data: None,
            shutdown: Some(tx),
            task: Some(task),
        };
        app.wait_healthy().await;
        app
    }

    async fn wait_healthy(&self) {
        for _ in 0..200 {
            if let Ok(r) = self.http.get(format!("{}/healthz", self.base)).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("server did not become healthy");
    }

    /// Graceful stop, as on SIGTERM; keeps the temporary database (until the returned guard
    /// is dropped) for a restart.
    pub async fn stop(&mut self) -> Option<TempData> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(15), task)
                .await
                .expect("server stops within 15 s")
                .expect("server task")
                .expect("server ran cleanly");
        }
        self.data.take()
    }

    pub async fn create_event(&self, spec: &Value) -> Created {
        create_event(&self.http, &self.base, spec).await
    }

    /// The 2026 fixture as a new event, with its host socket (first snapshot read) after it
    /// opened each of `keys`.
    pub async fn open_event(&self, keys: &[&str]) -> (Created, Client) {
        let created = self.create_event(&fixture_2026()).await;
        let (mut host, _) = self.host(&created).await;
        for (id, key) in (1..).zip(keys) {
            let reply = host
                .command(json!({"type": "open", "activity": key}), id)
                .await;
            assert_eq!(reply["type"], "ok", "open {key}: {reply}");
        }
        (created, host)
    }

    /// The spec of `code` as the organiser exports it, as JSON, and its `ETag`.
    pub async fn export(&self, code: &str) -> (Value, String) {
        let (text, etag) = export_spec(&self.http, &self.base, code).await;
        (serde_json::from_str(&text).expect("the spec is JSON"), etag)
    }

    /// The spec of `code` as the organiser exports it, as text, and its `ETag`.
    pub async fn export_text(&self, code: &str) -> (String, String) {
        export_spec(&self.http, &self.base, code).await
    }

    /// [`put_spec`] on this server.
    pub async fn put_spec(&self, code: &str, if_match: Option<&str>, spec: &Value) -> (u16, Value) {
        put_spec(&self.http, &self.base, code, if_match, spec).await
    }

    /// [`issue_link`] on this server.
    pub async fn issue_link(&self, code: &str, body: &Value) -> (u16, Value) {
        issue_link(&self.http, &self.base, code, body).await
    }

    /// The public facts of an event, `GET /api/events/{code}`.
    pub async fn facts(&self, code: &str) -> Value {
        self.get_json(format!("{}/api/events/{code}", self.base), None)
            .await
    }

    /// GET a JSON document, optionally with a Bearer token.
    pub async fn get_json(&self, url: impl reqwest::IntoUrl, bearer: Option<&str>) -> Value {
        let mut request = self.http.get(url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// An attendee socket, not yet joined.
    pub async fn connect(&self, code: &str) -> Client {
        Client::connect(&self.ws_url(&format!("/ws/e/{code}"))).await
    }

    /// An attendee that has sent hello and received its welcome.
    pub async fn attendee(&self, code: &str, hello: Value) -> (Client, Value) {
        let mut client = self.connect(code).await;
        let mut hello = hello;
        hello["type"] = json!("hello");
        if hello.get("attendee").is_none() {
            hello["attendee"] = Value::Null;
        }
        client.send(&hello).await;
        let welcome = client.recv_type("welcome").await;
        (client, welcome)
    }

    /// A host socket, authorised, with its first snapshot.
    pub async fn host(&self, created: &Created) -> (Client, Value) {
        let url = self.ws_url(&format!("/ws/host/{}", created.code));
        let mut client = Client::auth(&url, &created.host_token).await;
        let snapshot = client.recv_type("snapshot").await;
        (client, snapshot)
    }

    pub async fn presenter(&self, created: &Created) -> (Client, Value) {
        let url = self.ws_url(&format!("/ws/present/{}", created.code));
        let mut client = Client::auth(&url, &created.presenter_token).await;
        let snapshot = client.recv_type("snapshot").await;
        (client, snapshot)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A real WebSocket client.
pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Messages passed over while waiting for another: later waits look here first, so a
    /// test never depends on the order in which independent messages arrive.
    backlog: std::collections::VecDeque<Value>,
}

/// How a socket ended.
#[derive(Debug, PartialEq)]
pub enum Closed {
    Code(u16),
    Dropped,
}

impl Client {
    pub async fn connect(url: &str) -> Client {
        let (ws, _) = tokio::time::timeout(WAIT, connect_async(url))
            .await
            .expect("connect in time")
            .expect("connect");
        Client {
            ws,
            backlog: Default::default(),
        }
    }

    /// A host's or presenter's socket on `url` that has sent `auth` with `token`; what the
    /// server answers is for the caller to read.
    pub async fn auth(url: &str, token: &str) -> Client {
        let mut client = Client::connect(url).await;
        client.send(&json!({"type": "auth", "token": token})).await;
        client
    }

    pub async fn send(&mut self, value: &Value) {
        self.send_text(&value.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    /// The next JSON message within `wait`, or `None`.
    pub async fn try_recv(&mut self, wait: Duration) -> Option<Value> {
        if let Some(message) = self.backlog.pop_front() {
            return Some(message);
        }
        self.read(wait).await
    }

    /// The next message from the socket itself.
    async fn read(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()??;
            match next {
                Ok(Message::Text(text)) => {
                    return Some(serde_json::from_str(&text).expect("server sends JSON"));
                }
                Ok(Message::Close(frame)) => {
                    panic!("socket closed while waiting for a message: {frame:?}")
                }
                Ok(_) => continue,
                Err(e) => panic!("socket error while waiting for a message: {e}"),
            }
        }
    }

    /// Skips messages until one of `type`.
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        self.recv_where(|m| m["type"] == kind).await
    }

    /// Skips messages until one that satisfies `predicate`.
    pub async fn recv_where(&mut self, predicate: impl Fn(&Value) -> bool) -> Value {
        if let Some(at) = self.backlog.iter().position(&predicate) {
            return self.backlog.remove(at).expect("present");
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(message) = self.read(left).await else {
                panic!(
                    "no matching message within {WAIT:?}; passed over: {:?}",
                    self.backlog
                );
            };
            if predicate(&message) {
                return message;
            }
            self.backlog.push_back(message);
        }
    }

    /// Everything that arrives within `wait`.
    pub async fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(message) = self.try_recv(wait).await {
            out.push(message);
        }
        out
    }

    /// Sends an answer and waits for its ack (or returns the error).
    pub async fn answer(&mut self, id: &str, activity: &str, value: Value) -> Value {
        let answer = json!({"type": "answer", "activity": activity, "value": value});
        self.request(answer, id).await
    }

    /// Sends an attendee's `message` with `id` and waits for its `ack` (or returns the
    /// `error`).
    pub async fn request(&mut self, mut message: Value, id: &str) -> Value {
        message["id"] = json!(id);
        self.send(&message).await;
        self.recv_where(|m| m["id"] == id && (m["type"] == "ack" || m["type"] == "error"))
            .await
    }

    /// A host command with an id; returns its `ok` or `error`.
    pub async fn command(&mut self, mut command: Value, id: u64) -> Value {
        command["id"] = json!(id);
        self.send(&command).await;
        self.recv_where(|m| m["id"] == id && (m["type"] == "ok" || m["type"] == "error"))
            .await
    }

    /// Waits for the socket to close; its close code.
    pub async fn closed(&mut self) -> Closed {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("close in time")
            {
                Some(Ok(Message::Close(Some(frame)))) => return Closed::Code(frame.code.into()),
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return Closed::Dropped,
                Some(Ok(_)) => continue,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    /// Closes from this side and waits for the server's answering close frame (RFC 6455
    /// section 5.5.1): `true` when it came.
    pub async fn close_handshake(mut self) -> bool {
        if self.ws.close(None).await.is_err() {
            return false;
        }
        loop {
            match tokio::time::timeout(WAIT, self.ws.next()).await {
                Ok(Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
                _ => return false,
            }
        }
    }
}

/// What `joinup serve` prints on stdout once it listens, followed by its address.
pub const LISTENING: &str = "Joinup is listening on http://";

/// `joinup serve` with `args` as a child process, not yet spawned: with `env`, the test
/// organiser key and warn-level logs, or the filter in `JOINUP_TEST_LOG` (`env` cannot
/// override those two), stdout piped (it says there where it listens, after
/// [`LISTENING`]), killed when dropped. Stderr is left to the caller.
pub fn serve_command(args: &[&str], env: &[(&str, &str)]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_joinup-under-test"));
    command
        .arg("serve")
        .args(args)
        .envs(env.iter().copied())
        .env("JOINUP_ORGANISER_KEY", ORGANISER_KEY)
        .env(
            "JOINUP_LOG",
            std::env::var("JOINUP_TEST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Runs the `joinup` command line on `database`: exit code, stdout, stderr.
pub fn joinup(database: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_joinup-under-test"))
        .args(args)
        .args(["--database", database])
        .output()
        .expect("run joinup");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The `joinup` binary as a child process, to be stopped with SIGTERM or SIGKILL.
pub struct ServerProcess {
    pub addr: SocketAddr,
    child: tokio::process::Child,
}

impl ServerProcess {
    pub async fn start(database: &str) -> ServerProcess {
        ServerProcess::start_with(database, &[]).await
    }

    /// With extra environment variables, such as `JOINUP_IDLE_UNLOAD_SECS`.
    pub async fn start_with(database: &str, env: &[(&str, &str)]) -> ServerProcess {
        let mut child = serve_command(&["--addr", "127.0.0.1:0", "--database", database], env)
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start joinup");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(WAIT, async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if let Some(url) = line.strip_prefix(LISTENING) {
                    return url.trim().parse::<SocketAddr>().expect("address");
                }
            }
            panic!("joinup exited before listening");
        })
        .await
        .expect("joinup listens in time");
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        ServerProcess { addr, child }
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    pub fn kill_9(&mut self) {
        self.child.start_kill().expect("SIGKILL");
    }

    pub async fn wait(&mut self) -> std::process::ExitStatus {
        tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .expect("exit in time")
            .expect("wait")
    }

    pub fn sigterm(&self) {
        let pid = self.child.id().expect("pid");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
    }
}

/// Whether the tests run against PostgreSQL: `JOINUP_TEST_DATABASE=postgres`.
pub fn on_postgres() -> bool {
    std::env::var("JOINUP_TEST_DATABASE").is_ok_and(|v| v.eq_ignore_ascii_case("postgres"))
}

/// The PostgreSQL server the tests create their databases on (trust auth): see
/// [`crate::services`]. A missing server ends the test process with one line saying what to
/// install, or, with `JOINUP_TEST_SKIP_MISSING=1`, skips the test (see [`PgDatabase::create`]).
fn postgres_server() -> &'static str {
    crate::services::postgres_server().unwrap_or(crate::services::LOCAL_POSTGRES)
}

/// Keeps a temporary database alive: a temporary folder (SQLite) or a database on the
/// PostgreSQL server, dropped (best effort) with this guard.
pub struct TempData {
    _dir: Option<tempfile::TempDir>,
    _postgres: Option<PgDatabase>,
}

/// A temporary database shared by several server runs, and its URL.
pub fn temp_database() -> (TempData, String) {
    if on_postgres() {
        let Some(db) = PgDatabase::create() else {
            skipped()
        };
        let url = db.url();
        let data = TempData {
            _dir: None,
            _postgres: Some(db),
        };
        return (data, url);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path: PathBuf = dir.path().join("joinup.db");
    let url = format!("sqlite://{}", path.display());
    let data = TempData {
        _dir: Some(dir),
        _postgres: None,
    };
    (data, url)
}

/// With `JOINUP_TEST_SKIP_MISSING=1`, a suite whose tests need a missing service (the
/// cluster suite, the suite on PostgreSQL) stops here with status 0, after the note
/// [`crate::services`] printed: none of its tests could run.
pub fn skipped() -> ! {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "note: this test suite is skipped (JOINUP_TEST_SKIP_MISSING is set)"
    );
    std::process::exit(0)
}

/// A uniquely named database on the test PostgreSQL server, dropped when this is dropped.
pub struct PgDatabase {
    name: String,
}

impl PgDatabase {
    /// `CREATE DATABASE joinup_test_<random>`. Blocking (on a thread of its own), so it can
    /// be called from sync and async code alike.
    /// `None` when there is no server and the tests that need one are skipped.
    pub fn create() -> Option<PgDatabase> {
        // Found (or started) on a thread of its own: it blocks.
        let server = std::thread::spawn(crate::services::postgres_server)
            .join()
            .expect("finding the PostgreSQL server")?;
        let name = format!("joinup_test_{:016x}", unique());
        let sql = format!("CREATE DATABASE {name}");
        on_admin_connection(sql)
            .unwrap_or_else(|e| panic!("could not create {name} on {server}: {e}"));
        Some(PgDatabase { name })
    }

    pub fn url(&self) -> String {
        format!("{}/{}", postgres_server(), self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // FORCE ends the sessions of a server that may still be running.
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = on_admin_connection(sql) {
            eprintln!("note: could not drop the test database {}: {e}", self.name);
        }
    }
}

/// Runs one statement on the server's `postgres` database, on a thread and runtime of its
/// own, so it works in `Drop` and in sync code inside or outside a runtime.
fn on_admin_connection(sql: String) -> Result<(), String> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async move {
            use sqlx::Connection;
            let url = format!("{}/postgres", postgres_server());
            let mut admin = sqlx::postgres::PgConnection::connect(&url)
                .await
                .map_err(|e| e.to_string())?;
            let done = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut admin)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string());
            let _ = admin.close().await;
            done
        })
    })
    .join()
    .map_err(|_| "the admin thread panicked".to_owned())?
}

/// A number no other test (in this process or another) has: a per-process random key
/// hashed with the process id, the time and a counter.
fn unique() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static KEYS: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    let mut hasher = KEYS.get_or_init(Default::default).build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

/// A direct connection to a test database, SQLite or PostgreSQL by its URL, to look at
/// rows the way an operator would.
pub enum Db {
    Sqlite(sqlx::sqlite::SqliteConnection),
    Postgres(sqlx::postgres::PgConnection),
}

impl Db {
    pub async fn connect(url: &str) -> Db {
        use sqlx::Connection;
        if joinup::storage::is_postgres_url(url) {
            Db::Postgres(
                sqlx::postgres::PgConnection::connect(url)
                    .await
                    .expect("connect to PostgreSQL"),
            )
        } else {
            Db::Sqlite(
                sqlx::sqlite::SqliteConnection::connect(url)
                    .await
                    .expect("open the SQLite file"),
            )
        }
    }

    /// How many rows of `table` belong to the event `code`.
    pub async fn count(&mut self, table: &str, code: &str) -> i64 {
        match self {
            Db::Sqlite(conn) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM {table} WHERE event = ?"
                )))
                .bind(code.to_owned())
                .fetch_one(conn)
                .await
            }
            Db::Postgres(conn) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM {table} WHERE event = $1"
                )))
                .bind(code.to_owned())
                .fetch_one(conn)
                .await
            }
        }
        .expect("count rows")
    }
}

impl Client {
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws.send(Message::binary(bytes)).await.expect("send");
    }

    /// Sends a ping or pong frame, or any other frame as it is; `false` if the socket is
    /// already gone.
    pub async fn send_message(&mut self, message: Message) -> bool {
        self.ws.send(message).await.is_ok()
    }
}

impl Client {
    /// The next JSON message, or `None` if the socket closes, fails or stays silent.
    pub async fn try_recv_or_closed(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()??
            {
                Ok(Message::Text(text)) => return serde_json::from_str(&text).ok(),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }
}

impl Client {
    /// Sends a text frame; `false` if the socket is already gone.
    pub async fn try_send_text(&mut self, text: &str) -> bool {
        self.ws.send(Message::text(text)).await.is_ok()
    }
}

impl Client {
    /// The next message or close within `wait`; `None` if nothing came.
    pub async fn recv_or_close_within(&mut self, wait: Duration) -> Option<Result<Value, Closed>> {
        if let Some(message) = self.backlog.pop_front() {
            return Some(Ok(message));
        }
        loop {
            match tokio::time::timeout(wait, self.ws.next()).await.ok()? {
                Some(Ok(Message::Text(text))) => {
                    return Some(Ok(serde_json::from_str(&text).expect("JSON")));
                }
                Some(Ok(Message::Close(Some(frame)))) => {
                    return Some(Err(Closed::Code(frame.code.into())));
                }
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => {
                    return Some(Err(Closed::Dropped));
                }
                Some(Ok(_)) => continue,
            }
        }
    }
}

// The ground truth: what the server should report, computed by a test from what its
// attendees sent and the event spec alone (the tally shapes as `docs/protocol.md` states
// them), never from anything the server said. Shared by `scenario` and the cluster tests.

/// What the truth needs of one attendee: its organisation and sector as the server should
/// hold them (registered names), and its current answers.
#[derive(Debug, Clone, Default)]
pub struct Person {
    pub organisation: Option<String>,
    pub sector: Option<String>,
    pub answers: BTreeMap<String, Value>,
}

/// How attendance counts an attendee without an organisation or a sector.
pub const NOT_GIVEN: &str = "Not given";

/// A small deterministic generator, so a failure can be replayed.
pub struct Rng(u64);

impl Rng {
    pub fn seeded(seed: u64) -> Rng {
        Rng(0x9E37_79B9_7F4A_7C15 ^ (seed.wrapping_add(1).wrapping_mul(0x1000_0001)))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// One of the [`TYPED_WORDS`].
    pub fn typed_word(&mut self) -> &'static str {
        TYPED_WORDS[self.below(TYPED_WORDS.len() as u64) as usize]
    }
}

/// Word-cloud entries as people type them: some the same word with other spacing or case.
pub const TYPED_WORDS: &[&str] = &[
    "Trust",
    " waiting  lists",
    "FUNDING",
    "stigma",
    "Waiting Lists ",
    "thresholds",
    "silos",
];

/// An activity's definition in a spec, or in an event as `welcome`, `snapshot` and `event`
/// send it.
pub fn activity<'a>(spec: &'a Value, key: &str) -> &'a Value {
    spec["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .flat_map(|s| s["activities"].as_array().expect("activities"))
        .find(|a| a["key"] == key)
        .unwrap_or_else(|| panic!("no activity {key} in the spec"))
}

/// A scale activity's lowest and highest value.
pub fn scale_range(def: &Value) -> (i64, i64) {
    (
        def["min"].as_i64().expect("min"),
        def["max"].as_i64().expect("max"),
    )
}

/// Word entries as the server keeps them: trimmed, inner whitespace collapsed, lower case,
/// each once.
pub fn normalise_words(value: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in value.as_array().expect("words") {
        let word = word
            .as_str()
            .expect("word")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if !out.contains(&word) {
            out.push(word);
        }
    }
    out
}

/// The tally of one activity over `people`, by its kind in the spec, without a breakdown.
pub fn tally(spec: &Value, key: &str, people: &[&Person]) -> Value {
    let def = activity(spec, key);
    let answers: Vec<(&Person, &Value)> = people
        .iter()
        .filter_map(|p| p.answers.get(key).map(|v| (*p, v)))
        .collect();
    let total = answers.len();
    match def["kind"].as_str().expect("kind") {
        "choice" => {
            let mut counts = vec![0u64; def["options"].as_array().expect("options").len()];
            for (_, value) in &answers {
                for i in value.as_array().expect("indexes") {
                    counts[i.as_u64().expect("index") as usize] += 1;
                }
            }
            json!({"total": total, "counts": counts})
        }
        "scale" => {
            let (min, max) = scale_range(def);
            let mut counts = vec![0u64; (max - min + 1) as usize];
            let mut sum = 0i64;
            for (_, value) in &answers {
                let n = value.as_i64().expect("scale value");
                counts[(n - min) as usize] += 1;
                sum += n;
            }
            let mean = if total == 0 {
                Value::Null
            } else {
                json!(sum as f64 / total as f64)
            };
            json!({"total": total, "counts": counts, "mean": mean})
        }
        "words" => {
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            for (_, value) in &answers {
                for word in normalise_words(value) {
                    *counts.entry(word).or_insert(0) += 1;
                }
            }
            let mut top: Vec<(String, u64)> = counts.into_iter().collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            top.truncate(50);
            json!({"total": total, "top": top})
        }
        "text" => json!({"total": total}),
        "pledge" => {
            let mut signatures: BTreeMap<&str, u64> = BTreeMap::new();
            for (person, _) in &answers {
                let organisation = person
                    .organisation
                    .as_deref()
                    .expect("signers have an organisation");
                *signatures.entry(organisation).or_insert(0) += 1;
            }
            json!({"total": total, "organisations": signatures.keys().collect::<Vec<_>>(), "signatures": signatures})
        }
        other => panic!("no tally for kind {other}"),
    }
}

/// Attendance as the host should see it once every attendee is connected.
#[derive(Debug, Clone)]
pub struct Attendance {
    pub present: usize,
    pub joined: usize,
    pub by_organisation: BTreeMap<String, u64>,
    pub by_sector: BTreeMap<String, u64>,
}

impl Attendance {
    /// Everyone in `people` joined and is connected.
    pub fn all_present(people: &[&Person]) -> Attendance {
        let mut by_organisation = BTreeMap::new();
        let mut by_sector = BTreeMap::new();
        for person in people {
            let organisation = person.organisation.as_deref().unwrap_or(NOT_GIVEN);
            *by_organisation.entry(organisation.to_owned()).or_insert(0) += 1;
            let sector = person.sector.as_deref().unwrap_or(NOT_GIVEN);
            *by_sector.entry(sector.to_owned()).or_insert(0) += 1;
        }
        Attendance {
            present: people.len(),
            joined: people.len(),
            by_organisation,
            by_sector,
        }
    }

    /// Whether an `attendance` message (or a snapshot's attendance) says this.
    pub fn matches(&self, seen: &Value) -> bool {
        seen["present"] == self.present
            && seen["joined"] == self.joined
            && seen["by_organisation"] == json!(self.by_organisation)
            && seen["by_sector"] == json!(self.by_sector)
    }
}
