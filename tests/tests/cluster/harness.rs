//! The cluster under test: a private `nats-server`, a fresh PostgreSQL database and three
//! `joinup serve --nats` processes, each killable on its own. Everything is stopped when the
//! [`Cluster`] is dropped; if the test is failing, the last lines each process logged are
//! printed, so a failure report can say what the servers thought was happening.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use crate::helpers::{
    Client, Created, LISTENING, PgDatabase, WAIT, create_event, fixture_2026, serve_command,
};
use crate::host::View;
use crate::pg_proxy::PgProxy;

/// Where the test PostgreSQL server listens (`HOST:PORT`, see [`crate::services`]).
fn postgres_addr() -> String {
    crate::services::postgres_addr().unwrap_or_else(|| crate::helpers::skipped())
}

/// The `nats-server` program (see [`crate::services`]).
fn nats_program() -> &'static std::path::Path {
    crate::services::nats_server().unwrap_or_else(|| crate::helpers::skipped())
}

/// How long a process may take to start listening on a busy two-core machine.
const START_WAIT: Duration = Duration::from_secs(30);

/// A port nobody listens on right now (bound and released at once).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .expect("local addr")
        .port()
}

/// The last lines a child process wrote, kept to print when a test fails.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<VecDeque<String>>>);

impl Log {
    const KEEP: usize = 1000;

    fn push(&self, line: String) {
        let mut lines = self.0.lock().expect("log lock");
        if lines.len() == Self::KEEP {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    fn tail(&self) -> String {
        let lines = self.0.lock().expect("log lock");
        lines.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// The kept lines that contain `needle`.
    fn lines_with(&self, needle: &str) -> Vec<String> {
        let lines = self.0.lock().expect("log lock");
        lines
            .iter()
            .filter(|l| l.contains(needle))
            .cloned()
            .collect()
    }

    /// Prints the last lines of `process` if the test is failing, or always when
    /// `JOINUP_TEST_LOG` is set (called on drop).
    fn print_if_failing(&self, process: &str) {
        if std::thread::panicking() || std::env::var("JOINUP_TEST_LOG").is_ok() {
            eprintln!("--- {process}, last log lines ---\n{}", self.tail());
        }
    }

    /// Reads `from` line by line into the log until it ends; `found` gets the first line
    /// that starts with `marker`, minus the marker.
    fn capture(
        &self,
        from: impl AsyncRead + Unpin + Send + 'static,
        marker: Option<(&'static str, oneshot::Sender<String>)>,
    ) {
        let log = self.clone();
        tokio::spawn(async move {
            let mut marker = marker;
            let mut lines = BufReader::new(from).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some((prefix, _)) = &marker
                    && let Some(rest) = line.strip_prefix(*prefix)
                {
                    let rest = rest.trim().to_owned();
                    if let Some((_, tx)) = marker.take() {
                        let _ = tx.send(rest);
                    }
                }
                log.push(line);
            }
        });
    }
}

/// A private NATS server on a port of its own; killable and restartable on the same port.
pub struct Nats {
    pub port: u16,
    child: Option<Child>,
    log: Log,
}

impl Nats {
    pub async fn start() -> Nats {
        let mut nats = Nats {
            port: free_port(),
            child: None,
            log: Log::default(),
        };
        nats.spawn().await;
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    async fn spawn(&mut self) {
        let mut child = Command::new(nats_program())
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start nats-server");
        self.log
            .capture(child.stderr.take().expect("nats stderr"), None);
        self.child = Some(child);
        // Ready when it greets a client with its INFO line.
        let port = self.port;
        let ready = tokio::time::timeout(START_WAIT, async move {
            loop {
                if let Ok(stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                    let mut line = String::new();
                    let mut reader = BufReader::new(stream);
                    if reader.read_line(&mut line).await.is_ok() && line.starts_with("INFO") {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        assert!(
            ready.is_ok(),
            "nats-server on port {port} not ready within {START_WAIT:?}:\n{}",
            self.log.tail()
        );
    }

    /// SIGKILL, and wait until it is gone.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(WAIT, child.wait()).await;
        }
    }

    /// A new nats-server on the same port (it holds no state: it is a message bus).
    pub async fn restart(&mut self) {
        self.kill().await;
        self.spawn().await;
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let process = format!("nats-server (port {})", self.port);
        self.log.print_if_failing(&process);
    }
}

/// One `joinup serve --nats` process.
pub struct Node {
    pub index: usize,
    pub addr: SocketAddr,
    child: Child,
    log: Log,
}

impl Node {
    /// Starts a node on `addr` (`127.0.0.1:0` for a port of its own) and waits until it
    /// says it is listening and answers `/healthz`.
    pub async fn start(index: usize, addr: &str, database: &str, nats: &str) -> Node {
        let args = ["--addr", addr, "--database", database, "--nats", nats];
        let mut child = serve_command(&args, &[])
            .stderr(Stdio::piped())
            .spawn()
            .expect("start joinup");
        let log = Log::default();
        let (tx, rx) = oneshot::channel();
        log.capture(child.stdout.take().expect("stdout"), Some((LISTENING, tx)));
        log.capture(child.stderr.take().expect("stderr"), None);
        let listening = tokio::time::timeout(START_WAIT, rx).await;
        let addr: SocketAddr = match listening {
            Ok(Ok(url)) => url.parse().expect("listening address"),
            _ => panic!(
                "node {index} (--addr {addr}) did not say it was listening within {START_WAIT:?}; exit: {:?}; log:\n{}",
                child.try_wait(),
                log.tail()
            ),
        };
        let node = Node {
            index,
            addr,
            child,
            log,
        };
        node.wait_healthy().await;
        node
    }

    /// The lines of this node's log (the last [`Log::KEEP`]) that contain `needle`.
    pub fn logged(&self, needle: &str) -> Vec<String> {
        self.log.lines_with(needle)
    }

    async fn wait_healthy(&self) {
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + START_WAIT;
        while tokio::time::Instant::now() < deadline {
            if let Ok(r) = http.get(format!("{}/healthz", self.base())).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "node {} on {} never answered /healthz; log:\n{}",
            self.index,
            self.addr,
            self.log.tail()
        );
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM (a graceful stop: in-flight writes finish, clients are closed with 1012,
    /// the other nodes are told it is leaving), and wait until the process is gone.
    pub async fn stop(&mut self) {
        let pid = self.child.id().expect("pid");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success(), "kill -TERM {pid}");
        let exit = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("a stopped node exits")
            .expect("wait");
        assert!(exit.success(), "node {} exited with {exit}", self.index);
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("a running node has a pid")
    }

    /// SIGSTOP: the process stops where it is, as a process paused by a debugger, a VM
    /// paused or a machine swapping hard. Its kernel keeps its sockets open: TCP keepalives
    /// are answered, the listening socket still accepts.
    pub fn freeze(&self) {
        signal("-STOP", self.pid());
    }

    /// SIGCONT: it carries on from where it stopped.
    pub fn thaw(&self) {
        signal("-CONT", self.pid());
    }

    /// SIGKILL, and wait until the process is gone.
    pub async fn kill_9(&mut self) {
        self.child.start_kill().expect("SIGKILL");
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("a killed node exits")
            .expect("wait");
    }
}

fn signal(which: &str, pid: u32) {
    let status = std::process::Command::new("kill")
        .args([which, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill {which} {pid}");
}

impl Drop for Node {
    fn drop(&mut self) {
        let process = format!("node {} ({})", self.index, self.addr);
        self.log.print_if_failing(&process);
    }
}

/// How the nodes reach PostgreSQL.
#[derive(Clone, Copy)]
enum Proxied {
    No,
    /// All through one relay.
    Shared,
    /// Each through a relay of its own.
    Each,
    /// Each reaches NATS (not PostgreSQL) through a relay of its own.
    NatsEach,
}

/// Three (or more) nodes, one database, one NATS server.
pub struct Cluster {
    /// Declared first so the nodes stop before NATS and before the database is dropped.
    pub nodes: Vec<Node>,
    pub nats: Nats,
    /// The database, reached directly (the test's own checks never go through the relay).
    pub database: String,
    pub http: reqwest::Client,
    /// Set when the nodes reach PostgreSQL through a relay the test can cut.
    pub pg_proxy: Option<PgProxy>,
    /// Set when each node reaches PostgreSQL through a relay of its own, in node order.
    pub node_proxies: Vec<PgProxy>,
    /// Set when each node reaches NATS through a relay of its own, in node order.
    pub nats_proxies: Vec<PgProxy>,
    /// The database URL each node was started with, in node order.
    node_databases: Vec<String>,
    /// The NATS URL each node was started with, in node order.
    node_nats: Vec<String>,
    _db: PgDatabase,
}

impl Cluster {
    /// `n` nodes, each on a port of its own, so the test decides which node a client uses.
    pub async fn start(n: usize) -> Cluster {
        Cluster::start_on(&vec!["127.0.0.1:0".to_owned(); n]).await
    }

    /// One node per address (the same address several times: SO_REUSEPORT).
    pub async fn start_on(addrs: &[String]) -> Cluster {
        Cluster::launch(addrs, Proxied::No).await
    }

    /// `n` nodes that reach PostgreSQL through [`PgProxy`], so the test can take the
    /// database away from them.
    pub async fn start_behind_pg_proxy(n: usize) -> Cluster {
        Cluster::launch(&vec!["127.0.0.1:0".to_owned(); n], Proxied::Shared).await
    }

    /// `n` nodes that each reach PostgreSQL through a [`PgProxy`] of their own
    /// ([`Cluster::node_proxies`]), so the test can take the database away from one.
    pub async fn start_behind_a_pg_proxy_each(n: usize) -> Cluster {
        Cluster::launch(&vec!["127.0.0.1:0".to_owned(); n], Proxied::Each).await
    }

    /// `n` nodes that each reach NATS through a relay of its own ([`Cluster::nats_proxies`]),
    /// so the test can cut one node off from NATS.
    pub async fn start_behind_a_nats_proxy_each(n: usize) -> Cluster {
        Cluster::launch(&vec!["127.0.0.1:0".to_owned(); n], Proxied::NatsEach).await
    }

    async fn launch(addrs: &[String], proxied: Proxied) -> Cluster {
        // Both services are looked for first: a missing one ends the suite with one line
        // saying what to install, before anything is started.
        nats_program();
        let postgres = postgres_addr();
        let db = PgDatabase::create().unwrap_or_else(|| crate::helpers::skipped());
        let database = db.url();
        let through =
            |proxy: &PgProxy| database.replace(&postgres, &format!("127.0.0.1:{}", proxy.port));
        let mut pg_proxy = None;
        let mut node_proxies = Vec::new();
        let node_databases: Vec<String> = match proxied {
            Proxied::No | Proxied::NatsEach => vec![database.clone(); addrs.len()],
            Proxied::Shared => {
                let proxy = PgProxy::start(&postgres).await;
                let url = through(&proxy);
                pg_proxy = Some(proxy);
                vec![url; addrs.len()]
            }
            Proxied::Each => {
                for _ in addrs {
                    node_proxies.push(PgProxy::start(&postgres).await);
                }
                node_proxies.iter().map(through).collect()
            }
        };
        let nats = Nats::start().await;
        let mut nats_proxies = Vec::new();
        let node_nats: Vec<String> = match proxied {
            Proxied::NatsEach => {
                for _ in addrs {
                    nats_proxies.push(PgProxy::start(&format!("127.0.0.1:{}", nats.port)).await);
                }
                nats_proxies
                    .iter()
                    .map(|proxy| format!("nats://127.0.0.1:{}", proxy.port))
                    .collect()
            }
            _ => vec![nats.url(); addrs.len()],
        };
        let mut nodes = Vec::new();
        for (index, addr) in addrs.iter().enumerate() {
            let (database, nats) = (&node_databases[index], &node_nats[index]);
            nodes.push(Node::start(index, addr, database, nats).await);
        }
        // No settling time: a node finds an event's owner by asking when it needs it.
        Cluster {
            nodes,
            nats,
            database,
            http: reqwest::Client::new(),
            pg_proxy,
            node_proxies,
            nats_proxies,
            node_databases,
            node_nats,
            _db: db,
        }
    }

    /// Kills every node (SIGKILL) and starts them all again, each on a port of its own, on
    /// the same database and NATS: whatever they show now comes from the database alone.
    pub async fn cold_restart(&mut self) {
        for node in &mut self.nodes {
            node.kill_9().await;
        }
        let mut nodes = Vec::new();
        for (index, database) in self.node_databases.iter().enumerate() {
            let nats = &self.node_nats[index];
            nodes.push(Node::start(index, "127.0.0.1:0", database, nats).await);
        }
        self.nodes = nodes;
    }

    /// The attendee WebSocket URL of the event on every node, in node order.
    pub fn attendee_urls(&self, code: &str) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| n.ws_url(&format!("/ws/e/{code}")))
            .collect()
    }

    /// The host WebSocket URL of the event on every node, in node order.
    pub fn host_urls(&self, code: &str) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| n.ws_url(&format!("/ws/host/{code}")))
            .collect()
    }

    /// `POST /api/events` on one node.
    pub async fn create_event(&self, node: usize, spec: &Value) -> Created {
        create_event(&self.http, &self.nodes[node].base(), spec).await
    }

    /// The 2026 fixture as an event created on node 0, and a host on node 0 who has opened
    /// `keys`: the spec, the event, the host's socket.
    pub async fn open_event(&self, keys: &[&str]) -> (Value, Created, Client) {
        let spec = fixture_2026();
        let created = self.create_event(0, &spec).await;
        let (mut host, _) = self.host(0, &created).await;
        commands(&mut host, 0, &activity_commands("open", keys)).await;
        (spec, created, host)
    }

    /// GET a JSON document from one node: its status and body.
    pub async fn get_json(&self, node: usize, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.nodes[node].base()))
            .send()
            .await
            .expect("GET");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The node that runs the (only) live event, by each node's `/metrics`: the owner runs
    /// the event (`joinup_live_events 1`), the others only relay to it. `None` unless
    /// exactly one node says so.
    pub async fn owner(&self) -> Option<usize> {
        let mut owners = Vec::new();
        for node in &self.nodes {
            let Ok(response) = self
                .http
                .get(format!("{}/metrics", node.base()))
                .send()
                .await
            else {
                continue;
            };
            let text = response.text().await.unwrap_or_default();
            let live = text
                .lines()
                .find_map(|l| l.strip_prefix("joinup_live_events "))
                .and_then(|n| n.trim().parse::<u64>().ok())
                .unwrap_or(0);
            if live > 0 {
                owners.push(node.index);
            }
        }
        (owners.len() == 1).then(|| owners[0])
    }

    /// After a fault: a fresh host snapshot on each of `nodes` equals the ground truth of
    /// what `phones` sent to `keys`, and PostgreSQL holds exactly their last answers.
    pub async fn assert_settled(
        &self,
        nodes: &[usize],
        created: &Created,
        spec: &Value,
        phones: &[crate::phone::Phone],
        keys: &[&str],
        after: &str,
    ) {
        let (expected, _) = crate::phone::truth(spec, phones, keys, &[]);
        for &node in nodes {
            let view = self.host_view(node, created).await;
            assert!(
                view.differences(&expected, false).is_empty(),
                "after {after}, a fresh host snapshot on node {node} differs from the truth:{}",
                view.explain(&expected, false, None)
            );
        }
        let wrong = crate::stored::differences(&self.database, &created.code, spec, phones).await;
        assert!(
            wrong.is_empty(),
            "after {after}, the database differs from what was sent:\n{}",
            wrong.join("\n")
        );
    }

    /// A host socket on one node, authorised, with its first snapshot.
    pub async fn host(&self, node: usize, created: &Created) -> (Client, Value) {
        let path = format!("/ws/host/{}", created.code);
        self.authorised(node, &path, &created.host_token).await
    }

    /// What a host that connects now on one node sees in its first snapshot.
    pub async fn host_view(&self, node: usize, created: &Created) -> View {
        let (_host, snapshot) = self.host(node, created).await;
        View::of_snapshot(&snapshot)
    }

    /// A presenter socket on one node, authorised, with its first snapshot.
    pub async fn presenter(&self, node: usize, created: &Created) -> (Client, Value) {
        let path = format!("/ws/present/{}", created.code);
        self.authorised(node, &path, &created.presenter_token).await
    }

    async fn authorised(&self, node: usize, path: &str, token: &str) -> (Client, Value) {
        let mut client = Client::auth(&self.nodes[node].ws_url(path), token).await;
        let snapshot = client.recv_type("snapshot").await;
        (client, snapshot)
    }
}

/// The host command `kind` (`open`, `close`) for each of `keys`.
pub fn activity_commands(kind: &str, keys: &[&str]) -> Vec<Value> {
    keys.iter()
        .map(|key| json!({"type": kind, "activity": key}))
        .collect()
}

/// Sends host commands one by one, each of which must be `ok`.
pub async fn commands(host: &mut Client, node: usize, commands: &[Value]) {
    for command in commands {
        let id = NEXT_COMMAND.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let reply = host.command(command.clone(), id).await;
        assert_eq!(
            reply["type"], "ok",
            "host on node {node}: {command} got {reply}"
        );
    }
}

static NEXT_COMMAND: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
