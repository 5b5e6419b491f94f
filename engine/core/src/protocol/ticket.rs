//! Payloads of the ticket pushes (`ticket.comment`). `ticket.created` and `ticket.updated`
//! carry the whole ticket as it is after the change, so a client never merges partial updates.

use serde::{Deserialize, Serialize};

use crate::ids::{TicketCommentId, UserId};

/// A comment as pushed. Internal notes are only ever pushed to agents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentPush {
    pub id: TicketCommentId,
    /// `None` for automatic comments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<UserId>,
    pub body: String,
    pub internal: bool,
    /// Unix milliseconds.
    pub ts: i64,
}
