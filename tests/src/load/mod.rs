//! `joinup-load`: plays thousands of attendees, a host and a probe against a running Joinup
//! (or the bare baseline) and reports the figures of BENCHMARKS.md.
//!
//! `run` orchestrates: it starts or finds the server (or a cluster of servers), creates the
//! event, spawns `worker` processes of this same binary (each plays a share of the attendees
//! over several 127.0.0.x source addresses), drives them phase by phase over stdin/stdout
//! JSON lines, runs the host and the probe itself, reads the server's RSS and CPU from /proc,
//! checks correctness and prints a JSON result and a markdown table.

mod check;
mod cluster;
mod hist;
mod host;
mod net;
mod run;
mod scenario;
mod sys;
mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "joinup-load",
    about = "Load generator and benchmark for Joinup"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run every phase against a server and print the figures.
    Run(Box<RunArgs>),
    /// A worker process (started by `run`).
    Worker(WorkerArgs),
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Start this `joinup` binary on a fresh database and measure it.
    #[arg(long)]
    pub spawn_server: Option<PathBuf>,
    /// Start --spawn-server as a cluster of this many nodes sharing one address
    /// (SO_REUSEPORT), on a fresh database on --postgres and a NATS server, and measure the
    /// nodes together.
    #[arg(long, requires = "spawn_server")]
    pub spawn_cluster: Option<usize>,
    /// The PostgreSQL server a cluster's database is created on (postgres://USER@HOST:PORT,
    /// no database name); the database is dropped at the end unless --keep-dir.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    pub postgres: String,
    /// The NATS server a cluster uses (nats://HOST:PORT); by default a private `nats-server`
    /// (from PATH) is started for the run, and its memory and CPU are reported.
    #[arg(long, requires = "spawn_cluster")]
    pub nats: Option<String>,
    /// Also start this `joinup-baseline` binary and measure it the same way.
    #[arg(long)]
    pub spawn_baseline: Option<PathBuf>,
    /// A Joinup server already running, http://127.0.0.x:PORT.
    #[arg(long)]
    pub url: Option<String>,
    /// Its process id, for RSS and CPU; a cluster's several, comma-separated, are summed.
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// Its database (sqlite://PATH or postgres://USER@HOST/DATABASE), read for the
    /// correctness check.
    #[arg(long)]
    pub database: Option<String>,
    #[arg(long, env = "JOINUP_ORGANISER_KEY", hide_env_values = true)]
    pub organiser_key: Option<String>,
    /// An existing event instead of a new one (the tally check is then skipped).
    #[arg(long)]
    pub code: Option<String>,
    #[arg(long)]
    pub host_token: Option<String>,
    #[arg(long, default_value_t = 1000)]
    pub attendees: usize,
    /// Worker processes (each may hold at most ~19,000 sockets).
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Source addresses, 127.0.0.2 onwards (the server limits joins per address).
    #[arg(long, default_value_t = 16)]
    pub sources: usize,
    /// Answers a second in total; 0 runs closed loop with --window answers in flight.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// Seconds of answering.
    #[arg(long, default_value_t = 10.0)]
    pub secs: f64,
    /// Answers in flight in closed loop (split over workers).
    #[arg(long, default_value_t = 4000)]
    pub window: u64,
    /// Joins in flight per worker.
    #[arg(long, default_value_t = 500)]
    pub join_concurrency: usize,
    /// Milliseconds between probe answers (four probe activities take turns).
    #[arg(long, default_value_t = 100)]
    pub probe_ms: u64,
    #[arg(long, default_value = "role")]
    pub reveal_activity: String,
    #[arg(long)]
    pub no_reveal: bool,
    #[arg(long)]
    pub no_reconnect: bool,
    #[arg(long)]
    pub no_check: bool,
    #[arg(long)]
    pub json_out: Option<PathBuf>,
    #[arg(long)]
    pub markdown_out: Option<PathBuf>,
    /// Keep the temporary folder (database and server logs), and a cluster's database.
    #[arg(long)]
    pub keep_dir: bool,
}

#[derive(Debug, Args)]
struct WorkerArgs {
    #[arg(long)]
    server: SocketAddr,
    #[arg(long)]
    code: String,
    #[arg(long)]
    worker: usize,
    #[arg(long)]
    first: usize,
    #[arg(long)]
    count: usize,
    #[arg(long)]
    sources: usize,
    #[arg(long)]
    join_concurrency: usize,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Run(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build();
            match runtime
                .map_err(anyhow::Error::from)
                .and_then(|r| r.block_on(run::run(*args)))
            {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(e) => {
                    eprintln!("joinup-load: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
        Cmd::Worker(args) => {
            sys::raise_nofile();
            let setup = match net::loopback(args.server) {
                Ok(server) => worker::Setup {
                    server,
                    code: args.code,
                    worker: args.worker,
                    first: args.first,
                    count: args.count,
                    sources: net::sources(args.sources),
                    join_concurrency: args.join_concurrency,
                },
                Err(e) => {
                    eprintln!("joinup-load worker: {e}");
                    return ExitCode::from(2);
                }
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime
                .map_err(anyhow::Error::from)
                .and_then(|r| r.block_on(worker::run(setup)))
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("joinup-load worker: {e:#}");
                    ExitCode::from(1)
                }
            }
        }
    }
}
