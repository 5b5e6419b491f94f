//! What the connection reports to the application besides replies.

use std::collections::BTreeMap;

use atrium_core::ids::{ChannelId, SessionId, UserId};
use atrium_core::protocol::{ErrorCode, ServerFrame};

/// The server's greeting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Welcome {
    pub session: SessionId,
    pub user: UserId,
    pub heartbeat_ms: u32,
    pub unread: BTreeMap<ChannelId, u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A push (`msg`, `typing`, `presence`, `room.snapshot`, …), a rid-less `err`, or the `err`
    /// answering an unacknowledged frame (`pos`, `room.ack`).
    Push(ServerFrame),
    /// The connection dropped (with the server's `bye` reason when it sent one); the client
    /// is reconnecting.
    Disconnected { reason: Option<ErrorCode> },
    /// Reconnected; the channels subscribed before were resumed from their last seen seq.
    Reconnected(Welcome),
    /// The client stopped for good (closed, reconnect disabled, or the server refused the
    /// credentials); no more events follow.
    Closed { reason: Option<ErrorCode> },
}
