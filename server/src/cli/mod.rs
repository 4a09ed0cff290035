//! The `joinup` command line (docs/protocol.md, "Command line").
//!
//! Exit status: 0 success; 2 bad usage or bad input, with one line on stderr naming the file,
//! field or value at fault; 1 anything else.
//!
//! # Layout
//! - `mod.rs`: `main`, the runtime, dispatching a parsed command, and what every command
//!   shares: the exit status ([`Failure`]), reading an event code, opening the database.
//! - [`args`]: the clap types, every command's flags and their help; no behaviour.
//! - [`serve`]: `serve` and `demo`: binding the listener, the shutdown signal.
//! - [`event`]: the `event` commands (create, list, export, update, copy, rehearse, reset,
//!   links): reading spec files and printing what was done; the work is `crate::admin`'s.
//! - [`report`]: `report` and `purge`.

mod args;
mod event;
mod report;
mod serve;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use self::args::{Command, EventCommand};
use self::event::{copy, create, export, link, link_failure, links, list, reset, revoke, update};
use self::report::{purge, report};
use self::serve::serve;
use crate::config;
use crate::domain::EventCode;
use crate::storage::Storage;

pub use self::args::Cli;

/// A failure, sorted by exit status.
pub(super) enum Failure {
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

pub(super) fn parse_code(code: &str) -> Result<EventCode, Failure> {
    EventCode::parse(code).ok_or_else(|| {
        Failure::Input(format!(
            "{code:?} is not an event code: six letters and digits, such as K7QX2M"
        ))
    })
}

pub(super) async fn open(database: &str) -> Result<Storage, Failure> {
    Ok(Storage::open(database)
        .await
        .with_context(|| format!("opening the database {}", config::redact_url(database)))?)
}
