//! The outside services some tests need, found or started once per test process: a
//! PostgreSQL server (the storage and lease tests, the suites on PostgreSQL, the cluster
//! tests) and `nats-server` (the cluster tests). Shared by the server's unit tests and the
//! `it` and `cluster` suites (included by `#[path]`); std only.
//!
//! PostgreSQL, in this order: `JOINUP_TEST_POSTGRES` (a server URL without a database,
//! `postgres://USER@HOST:PORT`, trust auth; or `private`); else the server at
//! 127.0.0.1:5432 if one answers; else a private server this process starts from `initdb`
//! (found on the PATH or under `/usr/lib/postgresql/*/bin`) in a temporary folder on a
//! free port, stopped and removed once the process has ended. `nats-server`:
//! `JOINUP_TEST_NATS_SERVER`, else the PATH, else `/usr/sbin/nats-server`.
//!
//! A service that cannot be had ends the test process with one line saying what to
//! install (exit status 1), not a panic inside a test. With `JOINUP_TEST_SKIP_MISSING=1`
//! the line is printed once as a note and the tests that need the service pass without
//! running: for a laptop; CI installs both and runs them all.

#![allow(dead_code)]

use std::io::Write;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The PostgreSQL server used when `JOINUP_TEST_POSTGRES` is not set and it answers.
pub const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432";

const SKIP: &str = "JOINUP_TEST_SKIP_MISSING";
const SKIP_HINT: &str = "or set JOINUP_TEST_SKIP_MISSING=1 to skip the tests that need it";

/// How long a private PostgreSQL may take to accept connections.
const START_WAIT: Duration = Duration::from_secs(60);

/// The PostgreSQL server's URL without a database (`postgres://USER@HOST:PORT`), or `None`
/// when there is none and `JOINUP_TEST_SKIP_MISSING` is set (the caller's test then passes
/// without running). Without that, a missing server ends the process with one line.
pub fn postgres_server() -> Option<&'static str> {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    match SERVER.get_or_init(find_postgres) {
        Ok(url) => Some(url.as_str()),
        Err(line) => missing(line),
    }
}

/// `HOST:PORT` of [`postgres_server`].
pub fn postgres_addr() -> Option<String> {
    postgres_server().map(|url| host_port(url).to_owned())
}

/// The `nats-server` program, or `None` as [`postgres_server`].
pub fn nats_server() -> Option<&'static Path> {
    static PROGRAM: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PROGRAM.get_or_init(find_nats) {
        Ok(program) => Some(program.as_path()),
        Err(line) => missing(line),
    }
}

/// Prints `line` once, directly on stderr (the test harness captures `eprintln!`), and
/// either ends the process (status 1) or, when skipping, returns `None`.
fn missing<T>(line: &str) -> Option<T> {
    static NOTED: OnceLock<()> = OnceLock::new();
    let skip = std::env::var(SKIP).is_ok_and(|v| !v.is_empty() && v != "0");
    let mut stderr = std::io::stderr().lock();
    if !skip {
        let _ = writeln!(stderr, "\nerror: {line}, {SKIP_HINT}");
        let _ = stderr.flush();
        std::process::exit(1);
    }
    if NOTED.set(()).is_ok() {
        let _ = writeln!(stderr, "\nnote: skipping the tests that need it: {line}");
    }
    None
}

fn find_nats() -> Result<PathBuf, String> {
    if let Some(program) = std::env::var_os("JOINUP_TEST_NATS_SERVER") {
        let program = PathBuf::from(program);
        return if program.is_file() {
            Ok(program)
        } else {
            Err(format!(
                "JOINUP_TEST_NATS_SERVER={} is not a file: the cluster tests need nats-server (Debian: apt install nats-server)",
                program.display()
            ))
        };
    }
    on_path("nats-server")
        .or_else(|| Some(PathBuf::from("/usr/sbin/nats-server")).filter(|p| p.is_file()))
        .ok_or_else(|| {
            "the cluster tests need nats-server on the PATH (Debian: apt install nats-server)"
                .to_owned()
        })
}

fn find_postgres() -> Result<String, String> {
    match std::env::var("JOINUP_TEST_POSTGRES") {
        Ok(value) if value == "private" => start_private(),
        Ok(url) => {
            let mut url = url.trim_end_matches('/').to_owned();
            if !host_port(&url).contains(':') {
                url.push_str(":5432");
            }
            if answers(host_port(&url)) {
                Ok(url)
            } else {
                Err(format!(
                    "JOINUP_TEST_POSTGRES={url}: no PostgreSQL answers there; start it, or unset JOINUP_TEST_POSTGRES to use 127.0.0.1:5432 or a private server from initdb"
                ))
            }
        }
        Err(_) if answers(host_port(LOCAL_POSTGRES)) => Ok(LOCAL_POSTGRES.to_owned()),
        Err(_) => start_private(),
    }
}

/// `HOST:PORT` of `postgres://USER@HOST:PORT[/DATABASE]` (port 5432 if none is given).
fn host_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

fn answers(host_port: &str) -> bool {
    let with_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    let addrs: Vec<SocketAddr> = with_port
        .to_socket_addrs()
        .map(Iterator::collect)
        .unwrap_or_default();
    addrs
        .iter()
        .any(|addr| TcpStream::connect_timeout(addr, Duration::from_secs(2)).is_ok())
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// The folder holding `initdb` and `postgres`: the PATH's, else the newest
/// `/usr/lib/postgresql/*/bin` (Debian installs them there, off the PATH).
fn postgres_bin() -> Option<PathBuf> {
    if let Some(initdb) = on_path("initdb")
        && let Some(dir) = initdb.parent()
        && dir.join("postgres").is_file()
    {
        return Some(dir.to_owned());
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("postgres").is_file())
                .then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Starts a PostgreSQL server of this process's own (trust auth, user `postgres`) in a
/// temporary folder on a free port. A watcher shell stops it and removes the folder once
/// this process has ended.
fn start_private() -> Result<String, String> {
    let Some(bin) = postgres_bin() else {
        return Err("no PostgreSQL answers at 127.0.0.1:5432 and initdb was not found (on the PATH or under /usr/lib/postgresql/*/bin) to start one: the PostgreSQL tests need PostgreSQL (Debian: apt install postgresql), or JOINUP_TEST_POSTGRES=postgres://USER@HOST:PORT naming a server with trust auth".to_owned());
    };
    let fail = |what: &str, detail: String| {
        format!(
            "could not start a private PostgreSQL from {}: {what}: {detail}",
            bin.display()
        )
    };
    let dir = std::env::temp_dir().join(format!("joinup-test-postgres-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| fail("create its folder", e.to_string()))?;
    let data = dir.join("data");
    let log = dir.join("postgres.log");
    // PostgreSQL refuses to run as root: then it runs as the `postgres` user.
    let as_root = std::fs::metadata("/proc/self").is_ok_and(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    });
    let run_as = |program: &Path| -> Command {
        if as_root {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    };
    if as_root {
        let chown = Command::new("chown")
            .arg("postgres:")
            .arg(&dir)
            .status()
            .map_err(|e| e.to_string());
        if !chown.as_ref().is_ok_and(|s| s.success()) {
            return Err(fail(
                "running as root, and the folder could not be given to the postgres user",
                format!("{chown:?}"),
            ));
        }
    }
    let initdb = run_as(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| fail("initdb", e.to_string()))?;
    if !initdb.status.success() {
        return Err(fail(
            "initdb",
            String::from_utf8_lossy(&initdb.stderr).trim().to_owned(),
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| fail("find a free port", e.to_string()))?
        .port();
    let postgres = format!(
        "{} -D {} -p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off -c max_connections=300",
        bin.join("postgres").display(),
        data.display(),
        dir.display()
    );
    let postgres = if as_root {
        format!("runuser -u postgres -- {postgres}")
    } else {
        postgres
    };
    // The watcher: runs the server until this process is gone, then stops it (SIGINT, a
    // fast shutdown) and removes the folder.
    let watcher = format!(
        "{postgres} >{log} 2>&1 </dev/null & \
         while kill -0 {parent} 2>/dev/null && kill -0 $! 2>/dev/null; do sleep 1; done; \
         pid=$(head -n 1 {data}/postmaster.pid 2>/dev/null); \
         [ -n \"$pid\" ] && kill -INT \"$pid\" 2>/dev/null; wait; rm -rf {dir}",
        log = log.display(),
        parent = std::process::id(),
        data = data.display(),
        dir = dir.display(),
    );
    Command::new("sh")
        .args(["-c", &watcher])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| fail("sh", e.to_string()))?;
    let url = format!("postgres://postgres@127.0.0.1:{port}");
    let deadline = Instant::now() + START_WAIT;
    // Ready once postmaster.pid says so (its 8th line, since PostgreSQL 10) and it answers:
    // a server still starting up refuses connections.
    let pid_file = data.join("postmaster.pid");
    while Instant::now() < deadline {
        let status = std::fs::read_to_string(&pid_file).unwrap_or_default();
        if status.lines().nth(7).is_some_and(|l| l.trim() == "ready")
            && answers(&format!("127.0.0.1:{port}"))
        {
            return Ok(started(url, &bin));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let last = logged.lines().last().unwrap_or("nothing logged").to_owned();
    Err(fail(
        &format!("not ready within {START_WAIT:?}"),
        format!("{last} (log: {})", log.display()),
    ))
}

/// Says (once, on stderr) that the tests run on a private server, and passes its URL on.
fn started(url: String, bin: &Path) -> String {
    let _ = writeln!(
        std::io::stderr(),
        "\nnote: the tests started a private PostgreSQL at {url} (from {}); it stops when they end",
        bin.display()
    );
    url
}
