//! Storage: the only place SQL appears.
//!
//! [`Storage`] is the seam the hub and the HTTP layer see. Reads go through a connection pool;
//! every write of the live hub goes through one writer task ([`writer`]) that commits in
//! groups and only then reports success, so an `ack` always means "on disk". The SQL for
//! SQLite (the default) lives in [`sqlite`], the SQL for PostgreSQL in [`postgres`]; the URL
//! picks one, and the hub sees the same methods either way.
//! The reads both run word for word are `shared/`; the rows they hand back, and the pure
//! steps applied to them, are `rows.rs`, re-exported here.

pub mod lease;
pub mod postgres;
mod rows;
mod shared;
pub mod sqlite;
#[cfg(test)]
pub(crate) mod tests;
pub mod writer;

use std::sync::Arc;

use thiserror::Error;
use tokio::sync::mpsc;

use crate::domain::EventCode;
use crate::domain::link::RoleLink;
pub use rows::{AnswerRow, AttendeeRow, CardRow, EventRow, LiveRows, QuestionRow, StoredEvent};
use rows::{distinct_receipts, latest_answers, latest_not_rehearsal, role_link};
pub use writer::{Committed, Fence, Ticket, Write, WriterHandle};

#[derive(Debug, Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DATABASE")]
    UnsupportedUrl(String),
    #[error("could not create the data folder {path}: {source}")]
    DataFolder {
        path: String,
        source: std::io::Error,
    },
    #[error("could not open the writer's connection: {0}")]
    Writer(rusqlite::Error),
    #[error("the storage writer has stopped")]
    WriterGone,
    #[error("the database did not answer within {0:?}")]
    TimedOut(std::time::Duration),
    #[error("could not start the storage writer's thread: {0}")]
    Thread(std::io::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// The hot writes' multi-row statements, built once per process: one per kind (of
/// `KINDS`) and per power-of-two row count up to `2^(SIZES - 1)`. Only a few distinct
/// statements exist, so each also stays prepared in the connection's cache.
struct StatementCache<const SIZES: usize> {
    cells: [[std::sync::OnceLock<String>; SIZES]; KINDS],
}

/// Attendees, answers, receipts and votes.
const KINDS: usize = 4;

impl<const SIZES: usize> StatementCache<SIZES> {
    const fn new() -> Self {
        StatementCache {
            cells: [const { [const { std::sync::OnceLock::new() }; SIZES] }; KINDS],
        }
    }

    /// The statement of kind `kind` for `rows` rows (a power of two), built by `build` the
    /// first time.
    fn get(
        &'static self,
        kind: usize,
        rows: usize,
        build: impl FnOnce() -> String,
    ) -> &'static str {
        debug_assert!(rows.is_power_of_two() && rows < 1 << SIZES);
        self.cells[kind][rows.trailing_zeros() as usize].get_or_init(build)
    }
}

/// The sizes of the statements that carry `rows` rows: full chunks of `most` (a power of
/// two), then the binary digits of the remainder, largest first.
fn chunk_sizes(mut rows: usize, most: usize) -> impl Iterator<Item = usize> {
    debug_assert!(most.is_power_of_two());
    std::iter::from_fn(move || {
        if rows == 0 {
            return None;
        }
        let take = if rows >= most {
            most
        } else {
            1 << (usize::BITS - 1 - rows.leading_zeros())
        };
        rows -= take;
        Some(take)
    })
}

/// The database behind the seam.
#[derive(Clone)]
enum Backend {
    Sqlite(Arc<sqlite::SqliteBackend>),
    Postgres(Arc<postgres::PgBackend>),
}

/// Calls the same method on whichever backend is open.
macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.backend {
            Backend::Sqlite(b) => b.$method($($arg),*).await,
            Backend::Postgres(b) => b.$method($($arg),*).await,
        }
    };
}

/// The storage seam. Cheap to clone.
#[derive(Clone)]
pub struct Storage {
    backend: Backend,
    writer: WriterHandle,
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Storage {
    /// Opens the database at `url` and applies migrations: `sqlite://PATH` (created if
    /// needed) or `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (which must exist).
    pub async fn open(url: &str) -> Result<Storage, StorageError> {
        if is_postgres_url(url) {
            let backend = Arc::new(postgres::PgBackend::open(url).await?);
            let writer = writer::spawn(backend.clone()).await?;
            Ok(Storage {
                backend: Backend::Postgres(backend),
                writer,
            })
        } else {
            let backend = Arc::new(sqlite::SqliteBackend::open(url).await?);
            let writer = writer::spawn(backend.clone()).await?;
            Ok(Storage {
                backend: Backend::Sqlite(backend),
                writer,
            })
        }
    }

    /// The folder the database lives in, where a generated organiser key is kept; `None`
    /// for an in-memory SQLite database and for PostgreSQL.
    pub fn data_folder(&self) -> Option<std::path::PathBuf> {
        match &self.backend {
            Backend::Sqlite(b) => b.data_folder(),
            Backend::Postgres(_) => None,
        }
    }

    pub fn writer(&self) -> &WriterHandle {
        &self.writer
    }

    /// The same storage, with every write through its writer fenced by `fence`: for the
    /// actor of an event this node runs under a lease, in a cluster.
    pub fn fenced(&self, fence: Fence) -> Storage {
        Storage {
            backend: self.backend.clone(),
            writer: self.writer.fenced(fence),
        }
    }

    /// Stops the writer after it has committed everything already submitted.
    pub async fn close(&self) {
        self.writer.shutdown().await;
        match &self.backend {
            Backend::Sqlite(b) => b.close().await,
            Backend::Postgres(b) => b.close().await,
        }
    }

    pub async fn insert_event(
        &self,
        event: &StoredEvent,
        title: &str,
        series: Option<&str>,
        starts_at: Option<&str>,
    ) -> Result<bool, StorageError> {
        dispatch!(self.insert_event(event, title, series, starts_at))
    }

    pub async fn presence(
        &self,
        code: EventCode,
    ) -> Result<Vec<(String, i64, i64, i64)>, StorageError> {
        dispatch!(self.presence(code))
    }

    pub async fn previous_in_series(
        &self,
        code: EventCode,
        series: &str,
    ) -> Result<Option<EventCode>, StorageError> {
        dispatch!(self.previous_in_series(code, series))
    }

    pub async fn ended_by(&self, cutoff: &str) -> Result<Vec<EventCode>, StorageError> {
        dispatch!(self.ended_by(cutoff))
    }

    pub async fn kept_summary(
        &self,
        code: EventCode,
    ) -> Result<Option<(String, String)>, StorageError> {
        dispatch!(self.kept_summary(code))
    }

    pub async fn purge(
        &self,
        code: EventCode,
        summary: &str,
        at: &str,
    ) -> Result<(), StorageError> {
        dispatch!(self.purge(code, summary, at))
    }

    /// The host's names for the report's themes: (theme id, name), by theme id.
    pub async fn theme_names(
        &self,
        code: EventCode,
    ) -> Result<Vec<(String, String)>, StorageError> {
        dispatch!(self.theme_names(code))
    }

    /// Replaces the host's names for the report's themes with `names`, in one transaction.
    pub async fn set_theme_names(
        &self,
        code: EventCode,
        names: &[(String, String)],
    ) -> Result<(), StorageError> {
        dispatch!(self.set_theme_names(code, names))
    }

    pub async fn event(&self, code: EventCode) -> Result<Option<StoredEvent>, StorageError> {
        dispatch!(self.event(code))
    }

    pub async fn live_rows(&self, code: EventCode) -> Result<LiveRows, StorageError> {
        dispatch!(self.live_rows(code))
    }

    pub async fn set_tokens(
        &self,
        code: EventCode,
        host_hash: &str,
        presenter_hash: &str,
    ) -> Result<(), StorageError> {
        dispatch!(self.set_tokens(code, host_hash, presenter_hash))
    }

    /// Every event, the latest (by start, else creation) first.
    pub async fn list_events(&self) -> Result<Vec<EventRow>, StorageError> {
        dispatch!(self.list_events())
    }

    /// Replaces the event's spec, and the columns read from it, if it is still `expected`:
    /// `false` when another change landed first (or there is no such event).
    pub async fn replace_spec(
        &self,
        code: EventCode,
        expected: &str,
        spec: &str,
        title: &str,
        series: Option<&str>,
        starts_at: Option<&str>,
    ) -> Result<bool, StorageError> {
        dispatch!(self.replace_spec(code, expected, spec, title, series, starts_at))
    }

    /// The keys of the event's activities that have at least one stored answer, or have been
    /// opened (and so may get one at any moment).
    pub async fn answered_activities(&self, code: EventCode) -> Result<Vec<String>, StorageError> {
        dispatch!(self.answered_activities(code))
    }

    /// Deletes everything attendees and hosts did in the event (attendees, answers,
    /// receipts, questions, votes, cards, attendance, activity states and focus) and makes it
    /// live again, keeping its spec and tokens. One transaction.
    pub async fn reset_event(&self, code: EventCode) -> Result<(), StorageError> {
        dispatch!(self.reset_event(code))
    }

    /// Stores a new role link of the event; only the hash of its secret is kept.
    pub async fn insert_role_link(
        &self,
        code: EventCode,
        link: &RoleLink,
        secret_hash: &str,
    ) -> Result<(), StorageError> {
        dispatch!(self.insert_role_link(code, link, secret_hash))
    }

    /// The event's role links, the oldest first, revoked ones included.
    pub async fn role_links(&self, code: EventCode) -> Result<Vec<RoleLink>, StorageError> {
        dispatch!(self.role_links(code))
    }

    /// The event's role link with the secret that hashes to `secret_hash`, revoked or not.
    pub async fn role_link_by_secret(
        &self,
        code: EventCode,
        secret_hash: &str,
    ) -> Result<Option<RoleLink>, StorageError> {
        dispatch!(self.role_link_by_secret(code, secret_hash))
    }

    /// Marks the event's role link `id` revoked (an earlier revocation keeps its time): the
    /// link as it now stands, `None` when the event has no such link.
    pub async fn revoke_role_link(
        &self,
        code: EventCode,
        id: &str,
        at: &str,
    ) -> Result<Option<RoleLink>, StorageError> {
        dispatch!(self.revoke_role_link(code, id, at))
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>, StorageError> {
        dispatch!(self.setting(key))
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StorageError> {
        dispatch!(self.set_setting(key, value))
    }
}

/// Where the writer reports commits for one event's actor.
pub type CommitSender = mpsc::UnboundedSender<Committed>;
