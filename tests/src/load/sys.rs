//! What the operating system says about a process and its sockets, and starting the servers
//! under test.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

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

/// Memory the kernel charges to the server's established sockets on `port` (skmem: receive
/// and send queues, forward allocation, options, backlog), summed over sockets, and how
/// many sockets that was.
pub fn server_socket_bytes(port: u16) -> Option<(u64, u64)> {
    let out = std::process::Command::new("ss")
        .args([
            "-tmnH",
            "state",
            "established",
            "sport",
            "=",
            &format!(":{port}"),
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut total = 0u64;
    let mut sockets = 0u64;
    for part in text.split("skmem:(").skip(1) {
        sockets += 1;
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
    Some((total, sockets))
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

/// A server this tool started; stopped with SIGTERM (then SIGKILL) when dropped or stopped.
pub struct Spawned {
    pub child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
}

impl Spawned {
    /// `joinup serve` on a fresh database in `dir`.
    pub async fn joinup(binary: &Path, dir: &Path, key: &str) -> anyhow::Result<Spawned> {
        let port = free_port()?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let database = format!("sqlite://{}", dir.join("joinup.db").display());
        let log = std::fs::File::create(dir.join("server.log"))?;
        let child = Command::new(binary)
            .args([
                "serve",
                "--addr",
                &addr.to_string(),
                "--database",
                &database,
            ])
            .args(["--organiser-key", key])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        Spawned::ready(child, addr).await
    }

    /// The bare baseline server.
    pub async fn baseline(binary: &Path, dir: &Path) -> anyhow::Result<Spawned> {
        let port = free_port()?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let log = std::fs::File::create(dir.join("baseline.log"))?;
        let child = Command::new(binary)
            .args(["--addr", &addr.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
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
