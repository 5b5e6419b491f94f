//! The AI hub store on SQLite: the shared statements of `ai_sql.rs` over the writer and reader
//! pools, with times as unix milliseconds.

use sqlx::{Sqlite, SqlitePool, Transaction};
use time::OffsetDateTime;

use super::SqliteStore;
use crate::millis;
use crate::store::StoreResult;

fn db_time(t: OffsetDateTime) -> i64 {
    millis::to_millis(t)
}

impl SqliteStore {
    fn ai_read(&self) -> &SqlitePool {
        &self.reader
    }

    fn ai_write(&self) -> &SqlitePool {
        &self.writer
    }

    async fn ai_tx(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.begin_write().await
    }
}

crate::ai_sql::impl_ai_store!(SqliteStore, Sqlite);
