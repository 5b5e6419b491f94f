//! The SQLite store: Atrium's zero-setup default.
//!
//! SQLite allows one writer at a time, so the store keeps two pools over the same file: a
//! single-connection *writer* pool that every mutation goes through (writes queue in-process
//! instead of spinning on `SQLITE_BUSY`), and a small *reader* pool that WAL mode lets run
//! alongside the writer. An in-memory database (tests, experiments) uses one pool for both,
//! since separate connections would each see their own empty database.

mod accounts;
mod ai;
mod audit;
mod channels;
mod commit;
mod messages;
mod rooms;
mod rows;
mod tickets;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::sql_error;
use crate::store::{Store, StoreError, StoreResult};

/// Connections serving reads next to the single writer (2 cores: more only adds contention).
pub const READ_POOL_SIZE: u32 = 4;
/// How long a statement waits for a lock held by another process before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a caller waits for a free connection before the call fails.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// WAL pages after which a commit copies the log back into the database (SQLite's default is
/// 1,000). A checkpoint costs a sync and rewrites every page touched since the last one; with a
/// group-commit batch dirtying a few hundred pages, the default checkpointed every few commits
/// and cost a third of the commit rate. 10,000 pages is a WAL of about 40 MiB.
pub const WAL_CHECKPOINT_PAGES: u32 = 10_000;
/// The size the WAL file is cut back to after a checkpoint, so one burst does not keep it large.
pub const WAL_SIZE_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// A [`Store`] over one SQLite database file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing, with its parent directory) the database at `url`:
    /// `sqlite://./data/atrium.db`, `sqlite:atrium.db`, `sqlite::memory:`.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Database(format!("invalid SQLite URL: {e}")))?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        Self::connect_with(options, in_memory).await
    }

    /// Opens (creating if missing, with its parent directory) the database file at `path`.
    pub async fn open_path(path: impl AsRef<Path>) -> StoreResult<Self> {
        Self::connect_with(SqliteConnectOptions::new().filename(path), false).await
    }

    async fn connect_with(options: SqliteConnectOptions, in_memory: bool) -> StoreResult<Self> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL is durable against application crashes and loses at most the
            // last transactions on power loss, for a large gain in commit rate.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("wal_autocheckpoint", WAL_CHECKPOINT_PAGES.to_string())
            .pragma("journal_size_limit", WAL_SIZE_LIMIT_BYTES.to_string())
            // Statement journals (each multi-row INSERT inside a transaction keeps one so it can
            // be undone alone) and sort spills stay in memory instead of temporary files.
            .pragma("temp_store", "MEMORY");

        if !in_memory {
            create_parent_dir(options.get_filename())?;
        }

        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // An in-memory database lives only while a connection to it is open.
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::Database(format!("cannot open SQLite database: {e}")))?;

        let reader = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(READ_POOL_SIZE)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(|e| StoreError::Database(format!("cannot open SQLite database: {e}")))?
        };

        Ok(Self { writer, reader })
    }

    /// A write transaction that takes the database write lock up front, so a transaction that
    /// starts with a read can never fail half-way when it upgrades to a write.
    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(sql_error::db)
    }
}

fn create_parent_dir(file: &Path) -> StoreResult<()> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Database(format!(
                "cannot create database directory {}: {e}",
                dir.display()
            ))
        }),
        _ => Ok(()),
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR
            .run(&self.writer)
            .await
            .map_err(|e| StoreError::Database(format!("SQLite migration failed: {e}")))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map(|_| ())
            .map_err(sql_error::db)
    }

    async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}
