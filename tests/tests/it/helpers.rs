//! The test harness: a real server on 127.0.0.1:0 with a temporary database, in this
//! process or as a child process, and real WebSocket clients.
//!
//! The database is a temporary SQLite file, or, with `JOINUP_TEST_DATABASE=postgres`, a
//! fresh database on the local PostgreSQL server ([`POSTGRES_SERVER`]), dropped afterwards.

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
        let response = self
            .http
            .post(format!("{}/api/events", self.base))
            .bearer_auth(ORGANISER_KEY)
            .json(spec)
            .send()
            .await
            .expect("POST /api/events");
        assert_eq!(response.status().as_u16(), 201, "create event");
        let body: Value = response.json().await.expect("json");
        Created {
            code: body["code"].as_str().expect("code").to_owned(),
            host_token: body["host_token"].as_str().expect("host_token").to_owned(),
            presenter_token: body["presenter_token"]
                .as_str()
                .expect("presenter_token")
                .to_owned(),
        }
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
        let mut client = Client::connect(&self.ws_url(&format!("/ws/host/{}", created.code))).await;
        client
            .send(&json!({"type": "auth", "token": created.host_token}))
            .await;
        let snapshot = client.recv_type("snapshot").await;
        (client, snapshot)
    }

    pub async fn presenter(&self, created: &Created) -> (Client, Value) {
        let mut client =
            Client::connect(&self.ws_url(&format!("/ws/present/{}", created.code))).await;
        client
            .send(&json!({"type": "auth", "token": created.presenter_token}))
            .await;
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
        self.send(&json!({"type": "answer", "id": id, "activity": activity, "value": value}))
            .await;
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
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_joinup-under-test"))
            .args(["serve", "--addr", "127.0.0.1:0", "--database", database])
            .envs(env.iter().copied())
            .env("JOINUP_ORGANISER_KEY", ORGANISER_KEY)
            .env("JOINUP_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start joinup");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(WAIT, async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if let Some(url) = line.strip_prefix("Joinup is listening on http://") {
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

/// The local PostgreSQL server the tests create their databases on (trust auth).
pub const POSTGRES_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// Keeps a temporary database alive: a temporary folder (SQLite) or a database on the
/// PostgreSQL server, dropped (best effort) with this guard.
pub struct TempData {
    _dir: Option<tempfile::TempDir>,
    _postgres: Option<PgDatabase>,
}

/// A temporary database shared by several server runs, and its URL.
pub fn temp_database() -> (TempData, String) {
    if on_postgres() {
        let db = PgDatabase::create();
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

/// A uniquely named database on [`POSTGRES_SERVER`], dropped when this is dropped.
pub struct PgDatabase {
    name: String,
}

impl PgDatabase {
    /// `CREATE DATABASE joinup_test_<random>`. Blocking (on a thread of its own), so it can
    /// be called from sync and async code alike.
    pub fn create() -> PgDatabase {
        let name = format!("joinup_test_{:016x}", unique());
        let sql = format!("CREATE DATABASE {name}");
        on_admin_connection(sql).unwrap_or_else(|e| {
            panic!(
                "JOINUP_TEST_DATABASE=postgres: could not create {name} on {POSTGRES_SERVER}: {e}"
            )
        });
        PgDatabase { name }
    }

    pub fn url(&self) -> String {
        format!("{POSTGRES_SERVER}/{}", self.name)
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
            let url = format!("{POSTGRES_SERVER}/postgres");
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
