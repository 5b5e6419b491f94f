//! The audit log on PostgreSQL.

use async_trait::async_trait;

use atrium_core::ids::OrgId;
use atrium_core::model::AuditEntry;

use super::{PgStore, rows};
use crate::audit_filter::action_match;
use crate::columns::audit_columns;
use crate::store::{AuditFilter, AuditStore, Page, Paged, StoreResult};
use crate::{millis, sql_error};

/// The filter, shared by the page query and the count; each optional filter is off when NULL.
macro_rules! audit_where {
    () => {
        " FROM audit_log WHERE org_id = $1 \
          AND ($2::uuid IS NULL OR actor_id = $2) \
          AND ($3::text IS NULL OR action = $3) \
          AND ($4::text IS NULL OR starts_with(action, $4)) \
          AND ($5::timestamptz IS NULL OR at >= $5) \
          AND ($6::timestamptz IS NULL OR at < $6)"
    };
}

#[async_trait]
impl AuditStore for PgStore {
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<i64> {
        sqlx::query_scalar(
            "INSERT INTO audit_log (org_id, actor_id, action, target, detail, at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(entry.org_id.as_uuid())
        .bind(entry.actor_id.map(|a| a.as_uuid()))
        .bind(&entry.action)
        .bind(entry.target.as_deref())
        .bind(&entry.detail)
        .bind(millis::truncate(entry.at))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| sql_error::write(e, "audit entry", &[]))
    }

    async fn list_audit(
        &self,
        org: OrgId,
        filter: &AuditFilter,
        page: Page,
    ) -> StoreResult<Paged<AuditEntry>> {
        let action = action_match(filter);
        let actor = filter.actor_id.map(|a| a.as_uuid());
        let since = filter.since.map(millis::truncate);
        let until = filter.until.map(millis::truncate);

        let rows = sqlx::query(concat!(
            "SELECT ",
            audit_columns!(),
            audit_where!(),
            " ORDER BY at DESC, id DESC LIMIT $7 OFFSET $8"
        ))
        .bind(org.as_uuid())
        .bind(actor)
        .bind(action.exact)
        .bind(action.prefix)
        .bind(since)
        .bind(until)
        .bind(i64::from(page.limit))
        .bind(i64::from(page.offset))
        .fetch_all(&self.pool)
        .await
        .map_err(sql_error::db)?;

        let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*)", audit_where!()))
            .bind(org.as_uuid())
            .bind(actor)
            .bind(action.exact)
            .bind(action.prefix)
            .bind(since)
            .bind(until)
            .fetch_one(&self.pool)
            .await
            .map_err(sql_error::db)?;

        Ok(Paged {
            items: rows.iter().map(rows::audit).collect::<StoreResult<_>>()?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}
