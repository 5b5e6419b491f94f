//! The AI hub store on PostgreSQL: the shared statements of `ai_sql.rs` over the pool, with
//! times as `timestamptz` cut to the millisecond.

use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;

use super::PgStore;
use crate::millis;
use crate::store::StoreResult;

fn db_time(t: OffsetDateTime) -> OffsetDateTime {
    millis::truncate(t)
}

impl PgStore {
    fn ai_read(&self) -> &PgPool {
        &self.pool
    }

    fn ai_write(&self) -> &PgPool {
        &self.pool
    }

    async fn ai_tx(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(crate::sql_error::db)
    }
}

crate::ai_sql::impl_ai_store!(PgStore, Postgres);
