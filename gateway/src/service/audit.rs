//! The audit log: who did what to which target.
//!
//! Entries name actors and targets by id and carry small structured details (old and new role,
//! a failure reason). They never contain passwords, tokens or message bodies.

use atrium_core::ids::{OrgId, UserId};
use atrium_core::model::AuditEntry;
use atrium_persistence::store::{AuditFilter, Page, Paged, Store};
use serde_json::Value;

use super::{Caller, ServiceResult, clock};

/// The actions we record. A filter may name one exactly or a prefix such as `auth.*`.
pub mod actions {
    pub const REGISTER: &str = "auth.register";
    pub const LOGIN: &str = "auth.login";
    pub const LOGIN_FAILED: &str = "auth.login_failed";
    pub const REFRESH_REUSE: &str = "auth.refresh_reuse";
    pub const LOGOUT: &str = "auth.logout";
    pub const USER_CREATE: &str = "user.create";
    pub const USER_ACTIVATE: &str = "user.activate";
    pub const USER_DEACTIVATE: &str = "user.deactivate";
    pub const USER_ROLE: &str = "user.role_change";
    pub const CHANNEL_CREATE: &str = "channel.create";
    pub const MEMBER_ADD: &str = "channel.member_add";
    pub const MEMBER_REMOVE: &str = "channel.member_remove";
    pub const AUTH_REFRESH: &str = "auth.refresh";
    pub const AI_CONVERSATION_CREATE: &str = "ai.conversation_create";
    pub const AI_CONVERSATION_DELETE: &str = "ai.conversation_delete";
    pub const AI_ASSISTANT_CREATE: &str = "ai.assistant_create";
    pub const AI_ASSISTANT_UPDATE: &str = "ai.assistant_update";
    pub const AI_ASSISTANT_DELETE: &str = "ai.assistant_delete";
    pub const AI_TEMPLATE_CREATE: &str = "ai.template_create";
    pub const AI_TEMPLATE_UPDATE: &str = "ai.template_update";
    pub const AI_TEMPLATE_DELETE: &str = "ai.template_delete";
    pub const AI_MODEL_CREATE: &str = "admin.model_create";
    pub const AI_MODEL_UPDATE: &str = "admin.model_update";
    pub const AI_MODEL_DELETE: &str = "admin.model_delete";
    pub const AI_PROVIDER_PUT: &str = "admin.provider_put";
    pub const AI_PROVIDER_DELETE: &str = "admin.provider_delete";
    pub const AI_PROVIDER_TEST: &str = "admin.provider_test";
    pub const AI_BUDGET_PUT: &str = "admin.budget_put";
    pub const AI_BUDGET_DELETE: &str = "admin.budget_delete";
}

/// One thing that happened, about to be written.
pub struct AuditEvent<'a> {
    pub org: OrgId,
    pub actor: Option<UserId>,
    pub action: &'a str,
    pub target: Option<String>,
    pub detail: Value,
}

/// Appends an entry. A failure to write is logged, not returned: the action it describes has
/// already happened, and failing the request afterwards would only hide that from the client.
pub async fn record(store: &dyn Store, event: AuditEvent<'_>) {
    let entry = AuditEntry {
        id: 0,
        org_id: event.org,
        actor_id: event.actor,
        action: event.action.to_owned(),
        target: event.target,
        detail: event.detail,
        at: clock::now(),
    };
    if let Err(e) = store.append_audit(&entry).await {
        tracing::error!(action = %entry.action, error = %e, "could not write audit entry");
    }
}

/// The caller's organization's audit log, newest first.
pub async fn list(
    store: &dyn Store,
    caller: &Caller,
    filter: &AuditFilter,
    page: Page,
) -> ServiceResult<Paged<AuditEntry>> {
    caller.require("audit.read")?;
    Ok(store.list_audit(caller.org(), filter, page).await?)
}
