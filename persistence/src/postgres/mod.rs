//! The PostgreSQL store: for several nodes sharing one database.
//!
//! Unlike SQLite, many writers (this node's group-commit writer, other nodes', HTTP handlers) run
//! truly concurrently here, so correctness rests on the database: row locks on `channels` order
//! seq assignment, unique indexes arbitrate nonces, and conditional UPDATEs arbitrate token
//! rotation.

mod accounts;
mod ai;
mod audit;
mod channels;
mod commit;
mod messages;
mod nodelay;
mod rooms;
mod rows;
mod tickets;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::sql_error;
use crate::store::{Store, StoreError, StoreResult};

/// Connections per node. Two cores serve the node and, often, the database itself: more
/// connections than this only queue inside PostgreSQL instead of in the pool.
pub const POOL_SIZE: u32 = 8;
/// How long a caller waits for a free connection before the call fails.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// A [`Store`] over a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db?options=-c%20search_path%3Dx`).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError::Database(format!("invalid PostgreSQL URL: {e}")))?;
        Self::connect_with(options).await
    }

    /// Connects with explicit options (e.g. a `search_path` set through
    /// [`PgConnectOptions::options`]).
    pub async fn connect_with(options: PgConnectOptions) -> StoreResult<Self> {
        let server = match options.get_socket() {
            Some(_) => Arc::new(Vec::new()),
            None => {
                Arc::new(nodelay::server_addresses(options.get_host(), options.get_port()).await)
            }
        };
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |_conn, _meta| {
                let server = server.clone();
                Box::pin(async move {
                    // Scanning descriptors is blocking work; keep it off the async workers.
                    let scan = tokio::task::spawn_blocking(move || nodelay::disable_nagle(&server));
                    if let Err(e) = scan.await {
                        tracing::debug!(error = %e, "TCP_NODELAY scan did not finish");
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Database(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> StoreResult<()> {
        // sqlx takes an advisory lock, so nodes starting together migrate one at a time.
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Database(format!("PostgreSQL migration failed: {e}")))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(sql_error::db)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
