//! Stored notifications: something a user should hear about even when they are not watching
//! (an SLA breach of a ticket they handle). Only the record lives here; delivering it (pushes,
//! mail, a notification centre) is the notifications subsystem's job, which reads these rows.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{NotificationId, OrgId, UserId};

/// The kind of an SLA breach notification; `payload` is `{ticket_id, number, target, deadline}`.
pub const KIND_TICKET_SLA_BREACH: &str = "ticket.sla_breach";

/// One notification for one user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub id: NotificationId,
    pub org_id: OrgId,
    pub user_id: UserId,
    /// Dotted kind, e.g. [`KIND_TICKET_SLA_BREACH`].
    pub kind: String,
    /// Kind-specific detail. Never secrets, never message or comment bodies.
    pub payload: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the user read it; `None` while unread.
    #[serde(with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
}
