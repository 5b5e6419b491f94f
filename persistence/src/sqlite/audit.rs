//! The audit log on SQLite.

use async_trait::async_trait;

use atrium_core::ids::OrgId;
use atrium_core::model::AuditEntry;

use super::{SqliteStore, rows};
use crate::audit_filter::action_match;
use crate::columns::audit_columns;
use crate::store::{AuditFilter, AuditStore, Page, Paged, StoreError, StoreResult};
use crate::{millis, sql_error};

/// The filter, shared by the page query and the count; each optional filter is off when NULL.
macro_rules! audit_where {
    () => {
        " FROM audit_log WHERE org_id = ?1 \
          AND (?2 IS NULL OR actor_id = ?2) \
          AND (?3 IS NULL OR action = ?3) \
          AND (?4 IS NULL OR substr(action, 1, length(?4)) = ?4) \
          AND (?5 IS NULL OR at >= ?5) \
          AND (?6 IS NULL OR at < ?6)"
    };
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<i64> {
        let detail = serde_json::to_string(&entry.detail)
            .map_err(|e| StoreError::Database(format!("audit detail: {e}")))?;
        sqlx::query_scalar(
            "INSERT INTO audit_log (org_id, actor_id, action, target, detail, at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(entry.org_id.as_uuid())
        .bind(entry.actor_id.map(|a| a.as_uuid()))
        .bind(&entry.action)
        .bind(entry.target.as_deref())
        .bind(detail)
        .bind(millis::to_millis(entry.at))
        .fetch_one(&self.writer)
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
        let since = filter.since.map(millis::to_millis);
        let until = filter.until.map(millis::to_millis);

        let rows = sqlx::query(concat!(
            "SELECT ",
            audit_columns!(),
            audit_where!(),
            " ORDER BY at DESC, id DESC LIMIT ?7 OFFSET ?8"
        ))
        .bind(org.as_uuid())
        .bind(actor)
        .bind(action.exact)
        .bind(action.prefix)
        .bind(since)
        .bind(until)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.reader)
        .await
        .map_err(sql_error::db)?;

        let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*)", audit_where!()))
            .bind(org.as_uuid())
            .bind(actor)
            .bind(action.exact)
            .bind(action.prefix)
            .bind(since)
            .bind(until)
            .fetch_one(&self.reader)
            .await
            .map_err(sql_error::db)?;

        Ok(Paged {
            items: rows.iter().map(rows::audit).collect::<StoreResult<_>>()?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}
