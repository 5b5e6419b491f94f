//! Frames a client sends to the server.
//!
//! Every client frame is a request: it carries a client-chosen `rid` (request id) and gets exactly
//! one reply that echoes it (`ok`, `err`, or `welcome`/`pong` for `hello`/`ping`). The field names
//! are the wire names; see `docs/protocol.md` for the normative description of each frame.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ai::Temperature;
use crate::ids::{ChannelId, ConversationId, MessageId, RoomId, StreamId, TicketId};

/// A client → server frame: a MessagePack map whose `t` field names the variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t")]
pub enum ClientFrame {
    /// Must be the first frame of a session: authenticates and optionally resumes channels.
    #[serde(rename = "hello")]
    Hello {
        rid: u32,
        /// The access token (JWT) obtained from the HTTP control plane.
        token: String,
        /// Free-form client name and version, for logs and metrics (`"atrium-web/1.2"`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client: Option<String>,
        /// Per channel, the last `seq` this client saw: the server re-subscribes each channel
        /// and replays every message after that seq before continuing live.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        resume: BTreeMap<ChannelId, i64>,
    },
    /// Liveness probe; answered by `pong`.
    #[serde(rename = "ping")]
    Ping { rid: u32 },
    /// Replaces the session's access token before it expires.
    #[serde(rename = "auth.refresh")]
    AuthRefresh { rid: u32, token: String },
    /// Start receiving pushes of a channel the user is a member of.
    #[serde(rename = "sub")]
    Sub { rid: u32, ch: ChannelId },
    /// Stop receiving pushes of a channel.
    #[serde(rename = "unsub")]
    Unsub { rid: u32, ch: ChannelId },
    /// Post a message; the `ok` reply carries its `{id, seq}` once it is committed.
    #[serde(rename = "msg.send")]
    MsgSend {
        rid: u32,
        ch: ChannelId,
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<MessageId>,
        /// Idempotency key chosen by the client: resending the same nonce returns the original
        /// `{id, seq}` instead of posting twice.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<String>,
    },
    /// Replace the body of one's own message.
    #[serde(rename = "msg.edit")]
    MsgEdit {
        rid: u32,
        ch: ChannelId,
        id: MessageId,
        body: String,
    },
    /// Soft-delete a message (one's own, or any as channel owner/admin/moderator).
    #[serde(rename = "msg.delete")]
    MsgDelete {
        rid: u32,
        ch: ChannelId,
        id: MessageId,
    },
    /// Add (`on: true`) or remove (`on: false`) a reaction.
    #[serde(rename = "react")]
    React {
        rid: u32,
        ch: ChannelId,
        id: MessageId,
        emoji: String,
        on: bool,
    },
    /// A page of messages strictly older than `before_seq` (newest page when absent).
    #[serde(rename = "history")]
    History {
        rid: u32,
        ch: ChannelId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before_seq: Option<i64>,
        /// Page size; the server default applies when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// The user started (`on: true`) or stopped typing in a channel.
    #[serde(rename = "typing")]
    Typing { rid: u32, ch: ChannelId, on: bool },
    /// The user has read the channel up to and including `seq`.
    #[serde(rename = "read")]
    Read { rid: u32, ch: ChannelId, seq: i64 },
    /// Enter a virtual room (leaving any other). The `ok` reply carries the room, the caller's
    /// avatar and a first full snapshot.
    #[serde(rename = "room.join")]
    RoomJoin { rid: u32, room: RoomId },
    /// Leave the current room.
    #[serde(rename = "room.leave")]
    RoomLeave { rid: u32 },
    /// Move the caller's avatar onto a seat or spawn point (`ok` = queued for the next tick).
    #[serde(rename = "room.teleport")]
    RoomTeleport { rid: u32, to: [f32; 3] },
    /// The avatar's pose, many times a second. Never answered with `ok`; refused ones get `err`.
    #[serde(rename = "pos")]
    Pos {
        rid: u32,
        /// Position, metres.
        p: [f32; 3],
        /// Facing, radians.
        yaw: f32,
        /// Velocity, metres per second (zero when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        v: Option<[f32; 3]>,
        /// Acknowledges the snapshot of this tick (as `room.ack` does).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ack: Option<u64>,
    },
    /// The client holds every part of the snapshot of `tick`. Never answered with `ok`.
    #[serde(rename = "room.ack")]
    RoomAck { rid: u32, tick: u64 },
    /// Ask the conversation's assistant: stores `content` as a user message and starts a
    /// generation; the `ok` reply carries its `stream` id, then `llm.*` pushes follow.
    #[serde(rename = "llm.start")]
    LlmStart {
        rid: u32,
        conversation: ConversationId,
        content: String,
        /// Overrides the conversation's, the assistant's and the default model.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
        /// Overrides the conversation's, the assistant's and the model's temperature.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        temperature: Option<Temperature>,
        /// Overrides the conversation's and the assistant's system prompt for this request.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        system: Option<String>,
    },
    /// Stop a running generation; what was streamed so far is kept.
    #[serde(rename = "llm.cancel")]
    LlmCancel { rid: u32, stream: StreamId },
    /// Start receiving pushes of one ticket (`id`), or of the organization's whole ticket queue
    /// (no `id`; agents only).
    #[serde(rename = "ticket.sub")]
    TicketSub {
        rid: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<TicketId>,
    },
    /// Stop receiving pushes of a ticket, or of the queue (no `id`).
    #[serde(rename = "ticket.unsub")]
    TicketUnsub {
        rid: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<TicketId>,
    },
}

impl ClientFrame {
    /// Every wire tag (`t`) of a client frame, in specification order.
    pub const KINDS: [&'static str; 21] = [
        "hello",
        "ping",
        "auth.refresh",
        "sub",
        "unsub",
        "msg.send",
        "msg.edit",
        "msg.delete",
        "react",
        "history",
        "typing",
        "read",
        "room.join",
        "room.leave",
        "room.teleport",
        "pos",
        "room.ack",
        "llm.start",
        "llm.cancel",
        "ticket.sub",
        "ticket.unsub",
    ];

    /// The request id the reply must echo.
    pub fn rid(&self) -> u32 {
        match self {
            ClientFrame::Hello { rid, .. }
            | ClientFrame::Ping { rid }
            | ClientFrame::AuthRefresh { rid, .. }
            | ClientFrame::Sub { rid, .. }
            | ClientFrame::Unsub { rid, .. }
            | ClientFrame::MsgSend { rid, .. }
            | ClientFrame::MsgEdit { rid, .. }
            | ClientFrame::MsgDelete { rid, .. }
            | ClientFrame::React { rid, .. }
            | ClientFrame::History { rid, .. }
            | ClientFrame::Typing { rid, .. }
            | ClientFrame::Read { rid, .. }
            | ClientFrame::RoomJoin { rid, .. }
            | ClientFrame::RoomLeave { rid }
            | ClientFrame::RoomTeleport { rid, .. }
            | ClientFrame::Pos { rid, .. }
            | ClientFrame::RoomAck { rid, .. }
            | ClientFrame::LlmStart { rid, .. }
            | ClientFrame::LlmCancel { rid, .. } => *rid,
            ClientFrame::TicketSub { rid, .. } | ClientFrame::TicketUnsub { rid, .. } => *rid,
        }
    }

    /// The wire tag (`t`) of this frame, for logs and metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientFrame::Hello { .. } => "hello",
            ClientFrame::Ping { .. } => "ping",
            ClientFrame::AuthRefresh { .. } => "auth.refresh",
            ClientFrame::Sub { .. } => "sub",
            ClientFrame::Unsub { .. } => "unsub",
            ClientFrame::MsgSend { .. } => "msg.send",
            ClientFrame::MsgEdit { .. } => "msg.edit",
            ClientFrame::MsgDelete { .. } => "msg.delete",
            ClientFrame::React { .. } => "react",
            ClientFrame::History { .. } => "history",
            ClientFrame::Typing { .. } => "typing",
            ClientFrame::Read { .. } => "read",
            ClientFrame::RoomJoin { .. } => "room.join",
            ClientFrame::RoomLeave { .. } => "room.leave",
            ClientFrame::RoomTeleport { .. } => "room.teleport",
            ClientFrame::Pos { .. } => "pos",
            ClientFrame::RoomAck { .. } => "room.ack",
            ClientFrame::LlmStart { .. } => "llm.start",
            ClientFrame::LlmCancel { .. } => "llm.cancel",
            ClientFrame::TicketSub { .. } => "ticket.sub",
            ClientFrame::TicketUnsub { .. } => "ticket.unsub",
        }
    }

    /// Whether this frame is answered only when refused (`pos`, `room.ack`: high-rate state that
    /// an `ok` per frame would double).
    pub fn is_unacknowledged(&self) -> bool {
        matches!(self, ClientFrame::Pos { .. } | ClientFrame::RoomAck { .. })
    }

    /// The channel this request is about, if any (`hello`, `ping`, `auth.refresh`, the room
    /// frames and the `llm.*` requests have none).
    pub fn channel(&self) -> Option<ChannelId> {
        match self {
            ClientFrame::Hello { .. }
            | ClientFrame::Ping { .. }
            | ClientFrame::AuthRefresh { .. }
            | ClientFrame::RoomJoin { .. }
            | ClientFrame::RoomLeave { .. }
            | ClientFrame::RoomTeleport { .. }
            | ClientFrame::Pos { .. }
            | ClientFrame::RoomAck { .. }
            | ClientFrame::LlmStart { .. }
            | ClientFrame::LlmCancel { .. } => None,
            ClientFrame::TicketSub { .. } | ClientFrame::TicketUnsub { .. } => None,
            ClientFrame::Sub { ch, .. }
            | ClientFrame::Unsub { ch, .. }
            | ClientFrame::MsgSend { ch, .. }
            | ClientFrame::MsgEdit { ch, .. }
            | ClientFrame::MsgDelete { ch, .. }
            | ClientFrame::React { ch, .. }
            | ClientFrame::History { ch, .. }
            | ClientFrame::Typing { ch, .. }
            | ClientFrame::Read { ch, .. } => Some(*ch),
        }
    }
}
