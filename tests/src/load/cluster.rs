//! A cluster under test: a fresh PostgreSQL database, a NATS server (a private `nats-server`
//! unless one is given) and N `joinup serve --nats` processes sharing one address through
//! SO_REUSEPORT, so the kernel spreads the attendees' connections over them.

use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::{Connection, PgConnection};

use super::sys::{self, Spawned};

/// Nodes heartbeat every second: two beats for them to see each other before the first
/// attendee joins, as in a deployment whose nodes are up well before the doors open.
const SETTLE: Duration = Duration::from_millis(2500);

/// A database of its own on a PostgreSQL server, made for one run.
pub struct Database {
    /// The server, postgres://USER@HOST:PORT, without a database name.
    server: String,
    pub name: String,
}

impl Database {
    /// `CREATE DATABASE joinup_load_<random>` on `server`.
    async fn create(server: &str) -> anyhow::Result<Database> {
        let random = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
        let database = Database {
            server: server.trim_end_matches('/').to_owned(),
            name: format!("joinup_load_{random:016x}"),
        };
        database
            .admin(format!("CREATE DATABASE {}", database.name))
            .await?;
        Ok(database)
    }

    pub fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }

    /// Drops it, ending the sessions of any node still connected.
    async fn remove(self) -> anyhow::Result<()> {
        self.admin(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .await
    }

    /// Runs one statement on the server's `postgres` database.
    async fn admin(&self, sql: String) -> anyhow::Result<()> {
        let url = format!("{}/postgres", self.server);
        let mut admin = PgConnection::connect(&url)
            .await
            .with_context(|| format!("connecting to {url}"))?;
        let done = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut admin)
            .await;
        let _ = admin.close().await;
        done.with_context(|| sql)?;
        Ok(())
    }
}

pub struct Cluster {
    /// The address every node listens on.
    pub addr: SocketAddr,
    pub nodes: Vec<Spawned>,
    pub nats_url: String,
    /// The NATS server this run started, if it was not given one.
    pub nats: Option<Spawned>,
    pub database: Database,
}

impl Cluster {
    /// Starts `n` nodes of `binary` on one free address, a fresh database on `postgres` and
    /// `nats` (None: a private `nats-server`), logging into `dir`. Nodes start one after the
    /// other, so only the first applies the migrations.
    pub async fn start(
        binary: &Path,
        n: usize,
        dir: &Path,
        key: &str,
        postgres: &str,
        nats: Option<&str>,
    ) -> anyhow::Result<Cluster> {
        let (nats_url, private) = match nats {
            Some(url) => (url.to_owned(), None),
            None => {
                let server = Spawned::nats(dir).await?;
                (format!("nats://{}", server.addr), Some(server))
            }
        };
        let mut cluster = Cluster {
            addr: sys::free_addr()?,
            nodes: Vec::with_capacity(n),
            nats_url,
            nats: private,
            database: Database::create(postgres).await?,
        };
        match cluster.start_nodes(binary, n, dir, key).await {
            Ok(()) => Ok(cluster),
            Err(e) => {
                let _ = cluster.stop(false).await;
                Err(e)
            }
        }
    }

    async fn start_nodes(
        &mut self,
        binary: &Path,
        n: usize,
        dir: &Path,
        key: &str,
    ) -> anyhow::Result<()> {
        let database = self.database.url();
        for index in 0..n {
            let node = Spawned::node(
                binary,
                dir,
                index,
                self.addr,
                &database,
                &self.nats_url,
                key,
            )
            .await?;
            self.nodes.push(node);
        }
        tokio::time::sleep(SETTLE).await;
        let gone: Vec<usize> = (0..n).filter(|&i| !self.nodes[i].running()).collect();
        if !gone.is_empty() {
            bail!("nodes {gone:?} exited after starting; see their node-N.log");
        }
        eprintln!(
            "[load] cluster of {n} nodes on {}, NATS {}, database {}",
            self.addr, self.nats_url, self.database.name
        );
        Ok(())
    }

    pub fn pids(&self) -> Vec<u32> {
        self.nodes.iter().map(|node| node.pid).collect()
    }

    /// Stops every node at once (SIGTERM, SIGKILL after 15 s), then the private NATS server,
    /// and drops the database unless `keep`. Ok(true) when every node exited by itself.
    pub async fn stop(self, keep: bool) -> anyhow::Result<bool> {
        let stopped =
            futures_util::future::join_all(self.nodes.into_iter().map(Spawned::stop)).await;
        let mut clean = true;
        for (index, stopped) in stopped.into_iter().enumerate() {
            clean &= matches!(stopped, Ok(true));
            match stopped {
                Ok(true) => {}
                Ok(false) => eprintln!("[load] node {index} did not stop cleanly on SIGTERM"),
                Err(e) => eprintln!("[load] stopping node {index}: {e:#}"),
            }
        }
        if let Some(nats) = self.nats
            && let Err(e) = nats.stop().await
        {
            eprintln!("[load] stopping nats-server: {e:#}");
        }
        if keep {
            eprintln!("[load] kept the database {}", self.database.url());
        } else {
            self.database.remove().await?;
        }
        Ok(clean)
    }
}
