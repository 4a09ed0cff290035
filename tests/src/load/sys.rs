//! What the operating system says about a process and its sockets, and starting the servers
//! under test.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// What a `joinup serve` prints on stdout once it listens.
const LISTENING: &str = "Joinup is listening on http://";

/// Clock ticks per second in /proc/PID/stat (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

/// User plus system CPU time of `pid`, all threads, in seconds.
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS)
}

pub fn self_cpu_secs() -> f64 {
    cpu_secs(std::process::id()).unwrap_or(0.0)
}

/// Resident set size of `pid` in bytes (VmRSS).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// `read` summed over `pids` (a cluster's nodes); None when there is no pid or one cannot
/// be read.
pub fn summed<T: std::iter::Sum>(pids: &[u32], read: impl Fn(u32) -> Option<T>) -> Option<T> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&pid| read(pid)).sum()
}

/// `ss -H ... state established sport = :PORT` with `flags` and further `filter` words.
fn established(flags: &str, port: u16, filter: &[&str]) -> Option<String> {
    let out = std::process::Command::new("ss")
        .args([
            flags,
            "state",
            "established",
            "sport",
            "=",
            &format!(":{port}"),
        ])
        .args(filter)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Memory the kernel charges to the server's established sockets on `port` (skmem: receive
/// and send queues, forward allocation, options, backlog), summed over sockets.
pub fn server_socket_bytes(port: u16) -> Option<u64> {
    let text = established("-tmnH", port, &[])?;
    let mut total = 0u64;
    for part in text.split("skmem:(").skip(1) {
        let inner = part.split(')').next().unwrap_or("");
        for field in inner.split(',') {
            let digits = field.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            let name = &field[..field.len() - digits.len()];
            if matches!(name, "r" | "t" | "f" | "w" | "o" | "bl")
                && let Ok(n) = digits.parse::<u64>()
            {
                total += n;
            }
        }
    }
    Some(total)
}

/// The server's established sockets on `port` from the attendees' source addresses: all
/// but those from 127.0.0.1, the host's, the probe's and this tool's HTTP requests.
pub fn attendee_sockets(port: u16) -> Option<u64> {
    let text = established("-tnH", port, &["and", "not", "dst", "127.0.0.1"])?;
    Some(text.lines().count() as u64)
}

/// Bytes held in the slab caches a TCP connection uses (socket, inode, file, dentry, epoll);
/// None when /proc/slabinfo cannot be read.
pub fn socket_slab_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/slabinfo").ok()?;
    let caches = [
        "TCP",
        "sock_inode_cache",
        "filp",
        "dentry",
        "eventpoll_epi",
        "eventpoll_pwq",
    ];
    let mut total = 0;
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let Some(name) = f.next() else { continue };
        if caches.contains(&name) {
            let active: u64 = f.next()?.parse().ok()?;
            let _num: u64 = f.next()?.parse().ok()?;
            let size: u64 = f.next()?.parse().ok()?;
            total += active * size;
        }
    }
    Some(total)
}

/// Raises this process's open-file soft limit to its hard limit.
pub fn raise_nofile() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0)
}

/// A free port on 127.0.0.1.
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// 127.0.0.1 on a free port.
pub fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(SocketAddr::from(([127, 0, 0, 1], free_port()?)))
}

/// `joinup serve` on `addr` and `database`, quiet but for warnings.
fn serve(binary: &Path, addr: SocketAddr, database: &str, key: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .args(["serve", "--addr", &addr.to_string(), "--database", database])
        .args(["--organiser-key", key])
        .env("RUST_LOG", "warn");
    command
}

/// Starts `command` with its output in the file `log` in `dir`.
fn logged(command: &mut Command, dir: &Path, log: &str) -> anyhow::Result<Child> {
    let log = std::fs::File::create(dir.join(log))?;
    let program = Path::new(command.as_std().get_program())
        .display()
        .to_string();
    command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {program}"))
}

/// A server this tool started; stopped with SIGTERM (then SIGKILL) when dropped or stopped.
pub struct Spawned {
    pub child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
}

impl Spawned {
    /// `joinup serve` on a fresh database in `dir`.
    pub async fn joinup(binary: &Path, dir: &Path, key: &str) -> anyhow::Result<Spawned> {
        let addr = free_addr()?;
        let database = format!("sqlite://{}", dir.join("joinup.db").display());
        let child = logged(&mut serve(binary, addr, &database, key), dir, "server.log")?;
        Spawned::ready(child, addr).await
    }

    /// Node `index` of a cluster: `joinup serve --nats` on the `addr` its other nodes share
    /// (SO_REUSEPORT), logging to node-INDEX.log in `dir`. Since a connection to the shared
    /// port may reach any node, the node is ready when it says on stdout that it listens.
    pub async fn node(
        binary: &Path,
        dir: &Path,
        index: usize,
        addr: SocketAddr,
        database: &str,
        nats: &str,
        key: &str,
    ) -> anyhow::Result<Spawned> {
        let log = std::fs::File::create(dir.join(format!("node-{index}.log")))?;
        let mut child = serve(binary, addr, database, key)
            .args(["--nats", nats])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log.try_clone()?)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id().context("child pid")?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let mut log = tokio::fs::File::from_std(log);
        let listening = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await? {
                log.write_all(format!("{line}\n").as_bytes()).await?;
                if line.starts_with(LISTENING) {
                    return Ok(true);
                }
            }
            anyhow::Ok(false)
        })
        .await;
        match listening {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => bail!(
                "node {index} exited at start ({:?}); see node-{index}.log",
                child.wait().await?
            ),
            Ok(Err(e)) => return Err(e.context(format!("reading node {index}'s stdout"))),
            Err(_) => bail!("node {index} did not say it was listening within 30 s"),
        }
        // The rest of its stdout goes to its log too, so it never blocks on a full pipe.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = log.write_all(format!("{line}\n").as_bytes()).await;
            }
        });
        Ok(Spawned { child, pid, addr })
    }

    /// A private `nats-server` for a cluster, logging to nats.log in `dir`.
    pub async fn nats(dir: &Path) -> anyhow::Result<Spawned> {
        let addr = free_addr()?;
        let mut command = Command::new("nats-server");
        command.args(["-a", &addr.ip().to_string(), "-p", &addr.port().to_string()]);
        let child = logged(&mut command, dir, "nats.log")?;
        Spawned::ready(child, addr).await
    }

    /// The bare baseline server.
    pub async fn baseline(binary: &Path, dir: &Path) -> anyhow::Result<Spawned> {
        let addr = free_addr()?;
        let mut command = Command::new(binary);
        command.args(["--addr", &addr.to_string()]);
        let child = logged(&mut command, dir, "baseline.log")?;
        Spawned::ready(child, addr).await
    }

    async fn ready(mut child: Child, addr: SocketAddr) -> anyhow::Result<Spawned> {
        let pid = child.id().context("child pid")?;
        for _ in 0..400 {
            if let Some(status) = child.try_wait()? {
                bail!("the server exited at start: {status}");
            }
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(Spawned { child, pid, addr });
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        bail!("the server did not listen on {addr} within 10 s")
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then wait up to 15 s (SIGKILL after). Ok(true) when it exited by itself.
    pub async fn stop(mut self) -> anyhow::Result<bool> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        match tokio::time::timeout(Duration::from_secs(15), self.child.wait()).await {
            Ok(status) => Ok(status?.success()),
            Err(_) => {
                self.child.kill().await?;
                Ok(false)
            }
        }
    }
}
