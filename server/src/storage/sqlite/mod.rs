//! SQLite: the embedded default. WAL with `synchronous=FULL`, so a commit is on disk when it
//! returns; one writer connection (owned by the writer task) and a small read pool.
//!
//! # Layout
//!
//! - `mod.rs` (here): the backend: the data folder's permissions, the read pool and its
//!   checkpointer, the writer's connection and its settings, one group commit
//!   ([`WriteBackend::commit_once`]), checkpoints between commits, and which failures are
//!   retried.
//! - `batch.rs`: the hot writes (attendees, answers, receipts, votes) sent as multi-row
//!   statements, then the rest of the batch in order.
//! - `apply.rs`: every other write, one statement each.
//!
//! The reads both backends run word for word are `storage/shared/`, not here; the
//! PostgreSQL backend (`storage/postgres/`) is laid out the same way.

mod apply;
mod batch;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::writer::{Job, WriteBackend};
use super::{LiveRows, StorageError, StoredEvent};
use crate::domain::EventCode;
use batch::{ROWS_PER_STATEMENT, apply_all};

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct SqliteBackend {
    options: SqliteConnectOptions,
    pool: SqlitePool,
    folder: Option<PathBuf>,
    /// When the writer last checkpointed the write-ahead log.
    checkpointed: Arc<std::sync::Mutex<std::time::Instant>>,
}

/// How often the writer copies the write-ahead log back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// A checkpoint that never waits for readers or blocks the writer.
const CHECKPOINT: &str = "PRAGMA wal_checkpoint(PASSIVE)";

/// Makes the data folder (when it does not exist yet) readable by its owner only (0700), and
/// the database file 0600, whatever the umask: answers, profiles and token hashes are no
/// one else's to read. SQLite creates the `-wal` and `-shm` files with the database file's
/// mode, and those that already exist are set to 0600 too.
#[cfg(unix)]
fn private_files(folder: &Path, database: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let private = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    };
    if !folder.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)?;
        private(folder, 0o700)?;
    }
    if !database.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(database)?;
    }
    private(database, 0o600)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        let path = PathBuf::from(name);
        if path.exists() {
            private(&path, 0o600)?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_files(folder: &Path, _database: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)
}

impl SqliteBackend {
    pub async fn open(url: &str) -> Result<SqliteBackend, StorageError> {
        let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        else {
            return Err(StorageError::UnsupportedUrl(url.to_owned()));
        };
        let path = path.split('?').next().unwrap_or(path);
        let folder = if path.is_empty() || path == ":memory:" {
            None
        } else {
            let parent = Path::new(path)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let parent = if parent.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                parent
            };
            private_files(&parent, Path::new(path)).map_err(|source| StorageError::DataFolder {
                path: parent.display().to_string(),
                source,
            })?;
            Some(parent)
        };
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // Reads of a large event come straight from the page cache, not via pread copies.
            .pragma("mmap_size", "268435456");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        // The writer never checkpoints inside a commit (that stalled the commit that crossed
        // the threshold): it checkpoints between commits (`after_commit`), and while it is
        // idle a passive checkpoint from the pool finishes the job.
        let checkpointed = Arc::new(std::sync::Mutex::new(std::time::Instant::now()));
        let checkpointer = pool.clone();
        let writer_checkpointed = checkpointed.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(CHECKPOINT_EVERY);
            loop {
                every.tick().await;
                if checkpointer.is_closed() {
                    break;
                }
                let writer_busy = writer_checkpointed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .elapsed()
                    < 2 * CHECKPOINT_EVERY;
                if !writer_busy {
                    let _ = sqlx::query(CHECKPOINT).execute(&checkpointer).await;
                }
            }
        });
        Ok(SqliteBackend {
            options,
            pool,
            folder,
            checkpointed,
        })
    }

    pub fn data_folder(&self) -> Option<PathBuf> {
        self.folder.clone()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    super::shared::shared_queries!();

    /// Reads one event's live state in a single read transaction, so it is consistent.
    pub async fn live_rows(&self, code: EventCode) -> Result<LiveRows, StorageError> {
        let code = code.as_str().to_owned();
        let mut tx = self.pool.begin().await?;
        let mut rows = super::shared::read_live_rows!(tx, code);
        tx.commit().await?;
        rows.answers = super::latest_answers(std::mem::take(&mut rows.answers));
        rows.receipts = super::distinct_receipts(std::mem::take(&mut rows.receipts));
        Ok(rows)
    }
}

/// The writer's connection: SQLite called directly on the writer's own thread. sqlx runs
/// each SQLite connection on a worker thread of its own, so every statement of a commit
/// (`BEGIN`, each multi-row insert, `COMMIT`) was a round trip between two threads, and
/// every bound string was copied twice on its way; here a commit is a chain of plain
/// calls, and SQLite copies each string once. Reads keep sqlx's pool.
pub struct WriterConnection(rusqlite::Connection);

impl WriteBackend for SqliteBackend {
    type Conn = WriterConnection;
    type Error = rusqlite::Error;

    /// Opens the database file the pool uses, with the same settings, plus the writer's own:
    /// no automatic checkpoints (see [`WriteBackend::after_commit`]), a log cut back to
    /// 64 MB when it starts over, an 8 MB page cache.
    async fn connect(&self) -> Result<WriterConnection, StorageError> {
        use rusqlite::OpenFlags;
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if self.folder.is_none() {
            // sqlx names an in-memory database as a shared-cache URI; open that one.
            flags |= OpenFlags::SQLITE_OPEN_MEMORY | OpenFlags::SQLITE_OPEN_SHARED_CACHE;
        }
        let open = || -> rusqlite::Result<rusqlite::Connection> {
            let conn = rusqlite::Connection::open_with_flags(self.options.get_filename(), flags)?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            conn.execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA mmap_size = 268435456;
                 PRAGMA wal_autocheckpoint = 0;
                 PRAGMA journal_size_limit = 67108864;
                 PRAGMA cache_size = -8192;",
            )?;
            // Every statement the writer uses stays prepared: the multi-row inserts in
            // each of their sizes, and the one-row statements.
            conn.set_prepared_statement_cache_capacity(PREPARED);
            Ok(conn)
        };
        open().map(WriterConnection).map_err(StorageError::Writer)
    }

    /// One transaction over `jobs`. Plain `BEGIN IMMEDIATE` / `COMMIT` statements, not a
    /// transaction guard: when a `COMMIT` fails (a full disk), SQLite may leave the
    /// transaction open, and a guard that believes it is still inside one would turn the
    /// next `BEGIN` into a savepoint whose "commit" never reaches the disk. Here a failure
    /// always ends in an explicit `ROLLBACK`, and the writer reconnects, so every success is
    /// a real commit.
    async fn commit_once(
        &self,
        conn: &mut WriterConnection,
        jobs: &[Job],
    ) -> Result<(), rusqlite::Error> {
        let conn = &conn.0;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = apply_all(conn, jobs.iter().flat_map(|job| job.writes.iter()))
            .and_then(|()| conn.execute_batch("COMMIT"));
        if result.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        result
    }

    fn is_retryable(&self, error: &rusqlite::Error) -> bool {
        is_busy(error)
    }

    /// A busy database is waited out on the same connection.
    fn reconnect_before_retry(&self, _error: &rusqlite::Error) -> bool {
        false
    }

    async fn close(conn: WriterConnection) {
        if let Err((_, e)) = conn.0.close() {
            tracing::debug!(error = %e, "closing the writer's connection");
        }
    }

    /// Checkpoints from the writer's own connection, between two commits. A checkpoint
    /// from another connection runs while the writer keeps appending, so under steady load
    /// it never catches up with the end of the log, SQLite never starts the log again from
    /// its beginning, and the file grows without bound (about 120 MB/s at 20,000 answers/s
    /// before answers became append-only), every append landing on fresh pages the kernel
    /// first zero-fills. Here no commit can run meanwhile, so the whole log is copied back
    /// (unless a reader still needs an old snapshot) and the next commit starts it over.
    async fn after_commit(&self, conn: &mut WriterConnection) {
        {
            let mut last = self
                .checkpointed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.elapsed() < CHECKPOINT_EVERY {
                return;
            }
            *last = std::time::Instant::now();
        }
        // The pragma answers with a row (busy, log pages, pages copied), which is not needed.
        let started = std::time::Instant::now();
        match conn.0.query_row(CHECKPOINT, [], |_| Ok(())) {
            Ok(()) => crate::metrics::METRICS.record_checkpoint(started.elapsed()),
            Err(e) => tracing::debug!(error = %e, "checkpoint skipped"),
        }
    }
}

/// How long a statement waits for a lock held by another connection before it reports the
/// database busy (and the writer retries: see [`super::writer::BUSY_RETRY_FOR`]).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Statements the writer keeps prepared: each hot kind in each of its sizes, and the rest.
const PREPARED: usize = 4 * (ROWS_PER_STATEMENT.trailing_zeros() as usize + 1) + 16;

/// Whether an error is the database being busy or locked: worth retrying, never dropping.
pub fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}
