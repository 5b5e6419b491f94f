//! `/api/v1/admin/audit-log`: who did what, filterable.

use atrium_core::ids::{OrgId, UserId};
use atrium_core::model::AuditEntry;
use atrium_persistence::store::AuditFilter;
use axum::routing::get;
use axum::{Json, Router, extract::State};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::bearer::Authenticated;
use super::error::{ApiError, ErrorBody};
use super::extract::QueryParams;
use super::views::Pagination;
use crate::AppState;
use crate::service::audit;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/admin/audit-log", get(audit_log))
}

#[derive(OpenApi)]
#[openapi(paths(audit_log))]
pub struct AuditApi;

/// Filters and paging for the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries by this user.
    #[param(value_type = Option<uuid::Uuid>)]
    pub actor: Option<UserId>,
    /// An exact action (`auth.login`) or a prefix ending in `.*` (`auth.*`).
    pub action: Option<String>,
    /// Only entries at or after this instant (RFC 3339).
    pub since: Option<String>,
    /// Only entries before this instant (RFC 3339).
    pub until: Option<String>,
    /// 1–200 (default 50).
    pub limit: Option<u32>,
    /// Entries to skip (default 0).
    pub offset: Option<u32>,
}

/// One audit entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryView {
    pub id: i64,
    #[schema(value_type = uuid::Uuid)]
    pub organization_id: OrgId,
    /// Who did it (absent for anonymous attempts and the CLI).
    #[schema(value_type = Option<uuid::Uuid>)]
    pub actor_id: Option<UserId>,
    #[schema(example = "channel.create")]
    pub action: String,
    /// What was acted on (an id), if anything.
    pub target: Option<String>,
    /// Structured detail; never secrets or message bodies.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            organization_id: e.org_id,
            actor_id: e.actor_id,
            action: e.action,
            target: e.target,
            detail: e.detail,
            at: e.at,
        }
    }
}

/// A page of the audit log, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntryView>,
    /// Entries matching the filters.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

fn instant(field: &str, value: Option<&str>) -> Result<Option<OffsetDateTime>, ApiError> {
    value
        .map(|v| {
            OffsetDateTime::parse(v, &Rfc3339).map_err(|_| {
                ApiError::invalid(format!(
                    "{field}: expected an RFC 3339 time such as 2026-01-31T12:00:00Z, got {v:?}"
                ))
            })
        })
        .transpose()
}

/// Your organization's audit log (admins only).
#[utoipa::path(
    get, path = "/api/v1/admin/audit-log", tag = "admin",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 400, description = "Bad filter", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub async fn audit_log(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    QueryParams(q): QueryParams<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let page = Pagination {
        limit: q.limit,
        offset: q.offset,
    }
    .page()?;
    let filter = AuditFilter {
        actor_id: q.actor,
        action: q.action.filter(|a| !a.trim().is_empty()),
        since: instant("since", q.since.as_deref())?,
        until: instant("until", q.until.as_deref())?,
    };
    let found = audit::list(state.store.as_ref(), &caller, &filter, page).await?;
    Ok(Json(AuditPage {
        items: found.items.into_iter().map(AuditEntryView::from).collect(),
        total: found.total,
        limit: page.limit,
        offset: page.offset,
    }))
}
