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
