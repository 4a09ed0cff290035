//! The `joinup` command line (docs/protocol.md, "Command line").
//!
//! Exit status: 0 success; 2 bad usage or bad input, with one line on stderr naming the file,
//! field or value at fault; 1 anything else.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::{self, Config};
use crate::domain::EventCode;
use crate::domain::phase::EventPhase;
use crate::domain::spec::{SpecFormat, parse_spec};
use crate::storage::Storage;

#[derive(Debug, Parser)]
#[command(
    name = "joinup",
    version,
    about = "Live engagement for conferences: polls, word clouds, Q&A, pledges and a report"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Run the server with the bundled demo event (the annual dual diagnosis conference).
    Demo(ServeArgs),
    /// Manage events.
    Event {
        #[command(subcommand)]
        command: EventCommand,
    },
    /// Write an event's report (report.html, report.pdf, answers.csv, summary.json) into a
    /// folder, straight from the database; no server needs to run.
    Report {
        /// The event's code.
        code: String,
        /// The folder to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Delete an ended event's raw answers and attendee tokens, keeping the aggregates its
    /// reports are built from.
    Purge {
        /// The event's code.
        code: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
enum EventCommand {
    /// Create an event from a spec file (.json or .toml); prints its code, host token and URLs.
    Create {
        /// The event spec file.
        file: PathBuf,
        #[command(flatten)]
        db: DatabaseArgs,
        /// The URL people reach the server at, for the printed links.
        #[arg(long, env = "JOINUP_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// List every event: code, phase, start, attendees joined and title.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Print an event's spec as JSON (its ETag on stderr), for editing and `event update`.
    Export {
        /// The event's code.
        code: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Replace an event's spec with a file (.json or .toml), refusing any change that would
    /// misread its stored answers. A running server that has the event loaded applies it
    /// within a few seconds, as an edit on the organiser page (which also checks it against
    /// what the live event holds in memory, and applies it at once).
    Update {
        /// The event's code.
        code: String,
        /// The new spec file.
        file: PathBuf,
        /// Only if the stored spec still has this ETag (as `event export` printed it).
        #[arg(long)]
        if_match: Option<String>,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Create the next edition of an event: its spec, a new title and start, a new code.
    Copy {
        /// The event to copy.
        code: String,
        /// The new edition's title (default: the same).
        #[arg(long)]
        title: Option<String>,
        /// The new edition's start, such as 2027-11-22T09:30:00Z.
        #[arg(long)]
        starts_at: Option<String>,
        #[command(flatten)]
        db: DatabaseArgs,
        /// The URL people reach the server at, for the printed links.
        #[arg(long, env = "JOINUP_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Create a practice copy of an event, never compared with other editions.
    Rehearse {
        /// The event to rehearse.
        code: String,
        #[command(flatten)]
        db: DatabaseArgs,
        /// The URL people reach the server at, for the printed links.
        #[arg(long, env = "JOINUP_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Clear a rehearsal's attendees, answers, questions, cards and activity states, so it
    /// can be run again; a real event is refused. A rehearsal not yet closed may be running
    /// on a server, whose memory this cannot reach: reset it on the organiser page or over
    /// the API (which stop the live event first), or say `--offline`.
    Reset {
        /// The rehearsal's code.
        code: String,
        /// No server is running on this database: reset a rehearsal that is not closed.
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List an event's role links: id, role, label, room, when issued and revoked.
    Links {
        /// The event's code.
        code: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Issue a revocable role link (host, moderator or presenter) with a label; prints its
    /// URL, shown this once.
    Link {
        /// The event's code.
        code: String,
        /// host, moderator (moderates and presents; cannot end the event or download raw
        /// answers) or presenter.
        #[arg(long)]
        role: String,
        /// Whose link it is, such as "Room B moderator" (1 to 80 characters).
        #[arg(long)]
        label: String,
        /// For a presenter link: the break-out room whose screen it opens.
        #[arg(long)]
        room: Option<String>,
        #[command(flatten)]
        db: DatabaseArgs,
        /// The URL people reach the server at, for the printed link.
        #[arg(long, env = "JOINUP_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Revoke a role link: it opens nothing from now on, and a running server closes the
    /// sockets it opened (4001) at their next check, within 25 seconds.
    Revoke {
        /// The event's code.
        code: String,
        /// The link's id (as `event links` lists it).
        id: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Args)]
struct DatabaseArgs {
    /// Where the data lives: sqlite://PATH (created on first start), or
    /// postgres://USER@HOST/DATABASE (the database must exist; migrations are applied).
    #[arg(long, env = "JOINUP_DATABASE_URL", default_value = config::DEFAULT_DATABASE)]
    database: String,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "JOINUP_ADDR", default_value = config::DEFAULT_ADDR)]
    addr: SocketAddr,
    #[command(flatten)]
    db: DatabaseArgs,
    /// The URL people reach the server at (for links and the QR code); default http://ADDR.
    #[arg(long, env = "JOINUP_PUBLIC_URL")]
    public_url: Option<String>,
    /// The key that may create events over HTTP; generated and kept in the data folder if unset.
    #[arg(long, env = "JOINUP_ORGANISER_KEY", hide_env_values = true)]
    organiser_key: Option<String>,
    /// Browser origins allowed to connect besides the server's own, comma-separated.
    #[arg(long, env = "JOINUP_ALLOWED_ORIGINS", value_delimiter = ',')]
    allowed_origins: Vec<String>,
    /// Addresses of reverse proxies whose `X-Forwarded-For` names the client for the
    /// per-address limits, comma-separated (loopback is always trusted).
    #[arg(long, env = "JOINUP_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Purge events automatically this many days after they end (raw answers and attendee
    /// tokens deleted, report aggregates kept). Unset: keep until `joinup purge`.
    #[arg(long, env = "JOINUP_RETENTION_DAYS")]
    retention_days: Option<u32>,
    /// A NATS server (nats://HOST:4222) tying several `joinup serve` processes into one
    /// cluster; needs a PostgreSQL database. The port is then opened with SO_REUSEPORT, so
    /// processes on one machine can share it.
    #[arg(long, env = "JOINUP_NATS_URL")]
    nats: Option<String>,
    /// Threads running connections and events (default: one per core). Several processes
    /// of a cluster on one machine share its cores: one or two each is usually best.
    #[arg(long, env = "JOINUP_WORKER_THREADS")]
    worker_threads: Option<usize>,
    /// Seconds an event with nobody connected stays in memory (for tests and tuning).
    #[arg(
        long,
        env = "JOINUP_IDLE_UNLOAD_SECS",
        default_value_t = 600,
        hide = true
    )]
    idle_unload_secs: u64,
    /// Seconds a write may wait for a client that reads nothing before its connection is
    /// closed (for tests and tuning).
    #[arg(
        long,
        env = "JOINUP_WRITE_STALL_SECS",
        default_value_t = 75,
        hide = true
    )]
    write_stall_secs: u64,
}

impl ServeArgs {
    fn config(self) -> Config {
        Config {
            addr: self.addr,
            database: self.db.database,
            public_url: self.public_url,
            organiser_key: self.organiser_key,
            allowed_origins: self.allowed_origins,
            trusted_proxies: self.trusted_proxies,
            retention_days: self.retention_days,
            idle_unload: std::time::Duration::from_secs(self.idle_unload_secs),
            nats: self.nats,
            write_stall: std::time::Duration::from_secs(self.write_stall_secs.max(1)),
        }
    }
}

/// A failure, sorted by exit status.
enum Failure {
    /// Bad input: exit 2, one line.
    Input(String),
    /// Anything else: exit 1.
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::Other(e)
    }
}

/// The async runtime for `threads` workers (by default one per core the process may use).
///
/// On one core (`--worker-threads 1`, or a process confined to one core by `taskset` or a
/// container's CPU limit) everything runs on one thread: a multi-threaded runtime would add
/// a second thread to hand tasks to, and atomic work-stealing queues, for nothing.
pub fn runtime(threads: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    let threads = threads
        .filter(|&n| n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1);
    let mut builder = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    builder.enable_all().build()
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let threads = match &cli.command {
        Command::Serve(args) | Command::Demo(args) => args.worker_threads,
        _ => None,
    };
    let runtime = match runtime(threads) {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(line)) => {
            eprintln!("{line}");
            ExitCode::from(2)
        }
        Err(Failure::Other(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("JOINUP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

async fn dispatch(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Serve(args) => serve(args.config(), false).await,
        Command::Demo(args) => serve(args.config(), true).await,
        Command::Event {
            command:
                EventCommand::Create {
                    file,
                    db,
                    public_url,
                },
        } => create(&file, &db.database, public_url).await,
        Command::Event {
            command: EventCommand::List { db },
        } => list(&db.database).await,
        Command::Event {
            command: EventCommand::Export { code, db },
        } => export(&code, &db.database).await,
        Command::Event {
            command:
                EventCommand::Update {
                    code,
                    file,
                    if_match,
                    db,
                },
        } => update(&code, &file, if_match.as_deref(), &db.database).await,
        Command::Event {
            command:
                EventCommand::Copy {
                    code,
                    title,
                    starts_at,
                    db,
                    public_url,
                },
        } => {
            let changes = crate::admin::CopyChanges { title, starts_at };
            copy(&code, Some(changes), &db.database, public_url).await
        }
        Command::Event {
            command:
                EventCommand::Rehearse {
                    code,
                    db,
                    public_url,
                },
        } => copy(&code, None, &db.database, public_url).await,
        Command::Event {
            command: EventCommand::Reset { code, offline, db },
        } => reset(&code, offline, &db.database).await,
        Command::Event {
            command: EventCommand::Links { code, db },
        } => links(&code, &db.database).await,
        Command::Event {
            command:
                EventCommand::Link {
                    code,
                    role,
                    label,
                    room,
                    db,
                    public_url,
                },
        } => {
            let request = crate::admin::LinkRequest::parse(&role, &label, room.as_deref())
                .map_err(link_failure)?;
            link(&code, request, &db.database, public_url).await
        }
        Command::Event {
            command: EventCommand::Revoke { code, id, db },
        } => revoke(&code, &id, &db.database).await,
        Command::Report { code, out, db } => report(&code, &out, &db.database).await,
        Command::Purge { code, db } => purge(&code, &db.database).await,
    }
}

async fn serve(config: Config, demo: bool) -> Result<(), Failure> {
    if config.nats.is_some() && !config.database.starts_with("postgres") {
        return Err(Failure::Input(
            "--nats: a cluster needs a PostgreSQL database (--database postgres://...)".into(),
        ));
    }
    let listener = listen(config.addr, config.nats.is_some())
        .with_context(|| format!("listening on {}", config.addr))?;
    let bound = listener.local_addr().context("reading the bound address")?;
    let storage = Storage::open(&config.database).await.with_context(|| {
        format!(
            "opening the database {}",
            config::redact_url(&config.database)
        )
    })?;
    if demo {
        let created = crate::admin::ensure_demo(&storage, &config.public_url(bound))
            .await
            .context("creating the demo event")?;
        println!("Joinup demo: Dual Diagnosis Network Annual Conference 2026");
        println!("  code:      {}", created.code);
        println!("  attendees: {}", created.attend_url);
        println!("  host:      {}", created.host_url);
        println!("  presenter: {}", created.present_url);
    }
    println!("Joinup is listening on {}", config.public_url(bound));
    crate::serve(config, listener, storage, shutdown_signal()).await?;
    Ok(())
}

/// SIGTERM or Ctrl-C. Shutdown then has [`crate::SHUTDOWN_GRACE`] before the process exits
/// regardless.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tokio::spawn(async {
        tokio::time::sleep(crate::SHUTDOWN_GRACE).await;
        eprintln!("shutdown is taking too long; exiting");
        std::process::exit(1);
    });
}

/// Reads and validates a spec file (.json or .toml).
fn read_spec(file: &Path) -> Result<crate::domain::Event, Failure> {
    let name = file.display();
    let format = match file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("json") => SpecFormat::Json,
        Some("toml") => SpecFormat::Toml,
        _ => {
            return Err(Failure::Input(format!(
                "{name}: a spec file ends in .json or .toml"
            )));
        }
    };
    let text = std::fs::read_to_string(file).map_err(|e| Failure::Input(format!("{name}: {e}")))?;
    parse_spec(&text, format).map_err(|e| Failure::Input(format!("{name}: {e}")))
}

fn public_url_or_default(public_url: Option<String>) -> String {
    public_url
        .map(|u| u.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| format!("http://{}", config::DEFAULT_ADDR))
}

async fn create(file: &Path, database: &str, public_url: Option<String>) -> Result<(), Failure> {
    let event = read_spec(file)?;
    let storage = open(database).await?;
    let created = crate::admin::create_event(&storage, &event, &public_url_or_default(public_url))
        .await
        .context("storing the event")?;
    storage.close().await;
    print_created(&created);
    Ok(())
}

fn print_created(created: &crate::admin::Created) {
    println!("code: {}", created.code);
    println!("host token: {}", created.host_token);
    println!("presenter token: {}", created.presenter_token);
    println!("attendees: {}", created.attend_url);
    println!("host: {}", created.host_url);
    println!("presenter: {}", created.present_url);
}

/// An edit that was not made, as one line naming what is wrong.
fn edit_failure(e: crate::admin::EditError, what: &str) -> Failure {
    use crate::admin::EditError;
    match e {
        EditError::Storage(e) => Failure::Other(anyhow::Error::new(e).context("the database")),
        EditError::Refused(e) => Failure::Input(format!("{what}: {e}")),
        e @ EditError::Unsafe(_) => Failure::Input(format!("{what}: {e}")),
        EditError::Stale(current) => Failure::Input(format!(
            "the event was changed since it was exported: its ETag is now {current}; export it again"
        )),
        other => Failure::Input(other.to_string()),
    }
}

async fn list(database: &str) -> Result<(), Failure> {
    let storage = open(database).await?;
    let rows = storage.list_events().await.context("listing events")?;
    storage.close().await;
    for row in rows {
        let spec: serde_json::Value = serde_json::from_str(&row.spec).unwrap_or_default();
        let rehearsal = if spec["rehearsal"] == serde_json::Value::Bool(true) {
            " (rehearsal)"
        } else {
            ""
        };
        println!(
            "{}\t{}{rehearsal}\t{}\t{} joined\t{}",
            row.code,
            row.phase().as_str(),
            spec["starts_at"].as_str().unwrap_or("-"),
            row.joined,
            spec["title"].as_str().unwrap_or(""),
        );
    }
    Ok(())
}

async fn export(code: &str, database: &str) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    let exported = crate::admin::export(&storage, code)
        .await
        .map_err(|e| edit_failure(e, code.as_str()))?;
    storage.close().await;
    let event = parse_spec(&exported.spec, SpecFormat::Json)
        .map_err(|e| Failure::Other(anyhow::anyhow!("event {code}'s stored spec: {e}")))?;
    let pretty = serde_json::to_string_pretty(&event.spec).context("writing the spec")?;
    println!("{pretty}");
    eprintln!("etag: {}", exported.etag);
    Ok(())
}

async fn update(
    code: &str,
    file: &Path,
    if_match: Option<&str>,
    database: &str,
) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let event = read_spec(file)?;
    let storage = open(database).await?;
    let updated = crate::admin::update(&storage, code, if_match, &event, &Default::default())
        .await
        .map_err(|e| edit_failure(e, &file.display().to_string()))?;
    storage.close().await;
    if updated.changed {
        println!("event {code} updated; etag: {}", updated.etag);
    } else {
        println!("event {code} already has this spec; etag: {}", updated.etag);
    }
    Ok(())
}

/// A copy (`changes`), or with `None` a rehearsal, of an event.
async fn copy(
    code: &str,
    changes: Option<crate::admin::CopyChanges>,
    database: &str,
    public_url: Option<String>,
) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    let public_url = public_url_or_default(public_url);
    let created = match changes {
        Some(changes) => crate::admin::copy(&storage, code, changes, &public_url).await,
        None => crate::admin::rehearse(&storage, code, &public_url).await,
    }
    .map_err(|e| edit_failure(e, code.as_str()))?;
    storage.close().await;
    print_created(&created);
    Ok(())
}

async fn reset(code: &str, offline: bool, database: &str) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    // A running server may hold a rehearsal that is not closed, with people connected, and
    // this command cannot reach its memory: unless told no server runs, only a closed one
    // is reset here (a server that still holds it unloads it when it sees the reset). A
    // real event is refused by `admin::reset`.
    let stored = storage.event(code).await.context("the database")?;
    if let Some(stored) = stored.filter(|_| !offline) {
        let event = parse_spec(&stored.spec, SpecFormat::Json)
            .map_err(|e| Failure::Other(anyhow::anyhow!("event {code}'s stored spec: {e}")))?;
        let phase = stored.phase(&event.times);
        if event.spec.rehearsal && phase != EventPhase::Closed {
            storage.close().await;
            return Err(Failure::Input(format!(
                "rehearsal {code} is {} and may be running on a server: reset it on the /organise page or with POST /api/events/{code}/reset, which stop it first (or, with no server running, add --offline)",
                phase.as_str()
            )));
        }
    }
    crate::admin::reset(&storage, code)
        .await
        .map_err(|e| edit_failure(e, code.as_str()))?;
    storage.close().await;
    println!("rehearsal {code} reset: no attendees, answers or questions; live again");
    Ok(())
}

/// A link that was not issued or revoked, as one line naming what is wrong.
fn link_failure(e: crate::admin::LinkError) -> Failure {
    use crate::admin::LinkError;
    match e {
        LinkError::Storage(e) => Failure::Other(anyhow::Error::new(e).context("the database")),
        LinkError::Invalid { message, .. } => Failure::Input(format!("--{message}")),
        other => Failure::Input(other.to_string()),
    }
}

fn print_link(link: &crate::admin::Link) {
    println!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        link.id,
        link.role,
        link.label,
        link.room.as_deref().unwrap_or("-"),
        link.created_at,
        link.revoked_at
            .as_deref()
            .map_or("active".to_owned(), |at| format!("revoked {at}")),
    );
}

async fn links(code: &str, database: &str) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    let links = crate::admin::links(&storage, code)
        .await
        .map_err(link_failure)?;
    storage.close().await;
    links.iter().for_each(print_link);
    Ok(())
}

async fn link(
    code: &str,
    request: crate::admin::LinkRequest,
    database: &str,
    public_url: Option<String>,
) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    let link =
        crate::admin::issue_link(&storage, code, request, &public_url_or_default(public_url))
            .await
            .map_err(link_failure)?;
    storage.close().await;
    print_link(&link);
    if let Some(url) = &link.url {
        println!("url: {url}");
    }
    Ok(())
}

async fn revoke(code: &str, id: &str, database: &str) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    let link = crate::admin::revoke_link(&storage, code, id)
        .await
        .map_err(link_failure)?;
    storage.close().await;
    print_link(&link);
    Ok(())
}

fn parse_code(code: &str) -> Result<EventCode, Failure> {
    EventCode::parse(code).ok_or_else(|| {
        Failure::Input(format!(
            "{code:?} is not an event code: six letters and digits, such as K7QX2M"
        ))
    })
}

async fn open(database: &str) -> Result<Storage, Failure> {
    Ok(Storage::open(database)
        .await
        .with_context(|| format!("opening the database {}", config::redact_url(database)))?)
}

async fn report(code: &str, out: &Path, database: &str) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    let data = crate::report::load(&storage, code)
        .await
        .context("reading the event")?
        .ok_or_else(|| Failure::Input(format!("there is no event {code} in this database")))?;
    storage.close().await;
    std::fs::create_dir_all(out).map_err(|e| Failure::Input(format!("{}: {e}", out.display())))?;
    for name in crate::report::DOCUMENTS {
        let (bytes, _) = crate::report::document(&data, name)
            .with_context(|| format!("building {name}"))?
            .with_context(|| format!("no document {name}"))?;
        let path = out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}

async fn purge(code: &str, database: &str) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    let Some(stored) = storage.event(code).await.context("reading the event")? else {
        return Err(Failure::Input(format!(
            "there is no event {code} in this database"
        )));
    };
    let times = serde_json::from_str::<crate::domain::EventSpec>(&stored.spec)
        .map(|spec| crate::domain::phase::Times::of(&spec))
        .unwrap_or_default();
    if stored.phase(&times) != crate::domain::phase::EventPhase::Closed {
        return Err(Failure::Input(format!(
            "event {code} is still live: end it first (the host's End button, or POST /api/events/{code}/end)"
        )));
    }
    if stored.purged_at.is_some() {
        println!("event {code} was already purged; nothing to do");
        return Ok(());
    }
    crate::report::purge(&storage, code)
        .await
        .context("purging")?;
    storage.close().await;
    println!(
        "event {code}: raw answers and attendee tokens deleted; the report's aggregates are kept"
    );
    Ok(())
}

/// Binds with a deep accept queue: a join storm of thousands of phones must not overflow
/// it (an overflow costs each refused phone a one-second SYN retry).
/// `shared`: several processes of a cluster may listen on the same port (SO_REUSEPORT); the
/// kernel spreads new connections over them.
fn listen(addr: SocketAddr, shared: bool) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    #[cfg(unix)]
    if shared {
        socket.set_reuseport(true)?;
    }
    #[cfg(not(unix))]
    let _ = shared;
    socket.bind(addr)?;
    socket.listen(8192)
}
