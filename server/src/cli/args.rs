//! The command line's shape: every command, its flags and their help, as clap types, and
//! the server's `Config` built from `serve`'s flags. No command runs here; `mod.rs`
//! dispatches them.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config};

#[derive(Debug, Parser)]
#[command(
    name = "joinup",
    version,
    about = "Live engagement for conferences: polls, word clouds, Q&A, pledges and a report"
)]
pub struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
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
pub(super) enum EventCommand {
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
pub(super) struct DatabaseArgs {
    /// Where the data lives: sqlite://PATH (created on first start), or
    /// postgres://USER@HOST/DATABASE (the database must exist; migrations are applied).
    #[arg(long, env = "JOINUP_DATABASE_URL", default_value = config::DEFAULT_DATABASE)]
    pub(super) database: String,
}

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
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
    pub(super) worker_threads: Option<usize>,
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
    pub(super) fn config(self) -> Config {
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
